/*
 * Unit tests for config: each test writes an INI file under /tmp, loads it
 * and checks either every field or the exact messages a user would read.
 * In expected messages "@" stands for the temporary file's name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "crypto.h"

/* Enough for a valid file: the two things that are required. */
#define MINIMAL                                                                                    \
	"[association]\n"                                                                          \
	"role = connect\n"                                                                         \
	"[path.a]\n"                                                                               \
	"local = 198.18.1.1\n"                                                                     \
	"remote = 198.18.1.2\n"

struct fixture {
	char path[64];
	char *out; /* what config_load wrote to its error stream */
	size_t out_len;
	struct config *c;
};

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	if (f->path[0])
		unlink(f->path);
	free(f->out);
	config_free(f->c);
	free(f);
	return 0;
}

/* For a test that loads a second file. */
static void fixture_reset(struct fixture *f)
{
	if (f->path[0])
		unlink(f->path);
	f->path[0] = '\0';
	free(f->out);
	f->out = NULL;
	config_free(f->c);
	f->c = NULL;
}

static void write_raw(struct fixture *f, const char *text)
{
	snprintf(f->path, sizeof f->path, "/tmp/sctpgw-test-XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void write_ini_bytes(struct fixture *f, const char *bytes, size_t len)
{
	snprintf(f->path, sizeof f->path, "/tmp/sctpgw-test-XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	close(fd);
}

/* Line of the "insecure = yes" write_ini() added (0: none). */
static unsigned inserted_line;

/* Most tests are about other keys: a file with an [association] role gets
 * "insecure = yes" on the line after the role, so it needs no key file;
 * assert_errors() moves the expected line numbers past it. The psk tests
 * use write_raw(). */
static void write_ini(struct fixture *f, const char *text)
{
	const char *role = strcasestr(text, "\nrole = ");
	inserted_line = 0;
	if (!role || strcasestr(text, "insecure") || strcasestr(text, "psk_file")) {
		write_raw(f, text);
		return;
	}
	const char *eol = strchr(role + 1, '\n');
	assert_non_null(eol);
	size_t head = (size_t)(eol + 1 - text);
	char *t = malloc(strlen(text) + 32);
	assert_non_null(t);
	memcpy(t, text, head);
	strcpy(t + head, "insecure = yes\n");
	strcat(t, text + head);
	for (size_t i = 0; i < head; i++)
		if (text[i] == '\n')
			inserted_line++;
	inserted_line++;
	write_raw(f, t);
	free(t);
}

/* Loads F's file; the error output lands in f->out. */
static struct config *load(struct fixture *f, const char *file)
{
	FILE *err = open_memstream(&f->out, &f->out_len);
	assert_non_null(err);
	f->c = config_load(file, err);
	fclose(err);
	return f->c;
}

static struct config *load_text(struct fixture *f, const char *text)
{
	write_ini(f, text);
	return load(f, f->path);
}

/* Replaces every "@" in WANT by the file name and compares with the output. */
static void assert_errors(struct fixture *f, const char *want)
{
	char buf[8192];
	size_t n = 0;
	for (const char *p = want; *p && n + sizeof f->path < sizeof buf; p++) {
		bool at_line = (p > want && p[-1] == ':' && p - want >= 2 && p[-2] == '@') ||
		               (p - want >= 5 && strncmp(p - 5, "line ", 5) == 0);
		char *end;
		unsigned long v = at_line && isdigit((unsigned char)*p) ? strtoul(p, &end, 10) : 0;
		if (v > 0 && inserted_line && v >= inserted_line) {
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%lu", v + 1);
			p = end - 1;
		} else if (*p == '@') {
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", f->path);
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
	assert_string_equal(f->out, buf);
}

/* TEXT must fail to load with exactly the messages WANT. */
static void expect_errors(struct fixture *f, const char *text, const char *want)
{
	assert_null(load_text(f, text));
	assert_errors(f, want);
}

static void assert_addr(const struct sockaddr_storage *a, const char *want)
{
	char buf[ADDR_STRLEN];
	assert_string_equal(addr_format(a, buf, sizeof buf), want);
}

static void config_load__full_file__sets_every_field(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, "[gateway]\n"
	                                "name = site-b.example_1\n"
	                                "engine = userspace\n"
	                                "udp_encap_port = 19899\n"
	                                "log_level = debug\n"
	                                "connect_timeout_ms = 1500\n"
	                                "drain_timeout_ms = 0\n"
	                                "conn_window = 65536\n"
	                                "memory_limit = 65536\n"
	                                "max_connections = 5000\n"
	                                "idle_timeout_s = 600\n"
	                                "[association]\n"
	                                "role = accept\n"
	                                "port = 6000\n"
	                                "remote_udp_encap_port = 29899\n"
	                                "max_streams = 100\n"
	                                "[sctp]\n"
	                                "heartbeat_interval_ms = 250\n"
	                                "rto_initial_ms = 300\n"
	                                "rto_min_ms = 100\n"
	                                "rto_max_ms = 900\n"
	                                "path_max_retrans = 5\n"
	                                "pf_threshold = 0\n"
	                                "assoc_max_retrans = 20\n"
	                                "failback_hold_ms = 3000\n"
	                                "sndbuf = 2097152\n"
	                                "rcvbuf = 4194304\n"
	                                "[path.wan1]\n"
	                                "local = 198.18.1.1\n"
	                                "remote = 198.18.1.2\n"
	                                "priority = 20\n"
	                                "[path.wan2]\n"
	                                "local = 2001:2::1\n"
	                                "remote = 2001:2::2\n"
	                                "priority = 0\n"
	                                "[forward.web]\n"
	                                "listen = 127.0.0.1:8080\n"
	                                "protocol = tcp\n"
	                                "target = 192.0.2.10:80\n"
	                                "max_connections = 1000\n"
	                                "[forward.tls6]\n"
	                                "listen = [::1]:8443\n"
	                                "target = [2001:db8::10]:443\n");
	assert_non_null(c);
	assert_string_equal(f->out, "");
	assert_string_equal(c->file, f->path);
	assert_string_equal(c->name, "site-b.example_1");
	assert_int_equal(c->engine, CONFIG_ENGINE_USERSPACE);
	assert_int_equal(c->udp_encap_port, 19899);
	assert_int_equal(c->log_level, LOG_DEBUG);
	assert_int_equal(c->connect_timeout_ms, 1500);
	assert_int_equal(c->drain_timeout_ms, 0);
	assert_int_equal(c->conn_window, 65536);
	assert_int_equal(c->memory_limit, 65536);
	assert_int_equal(c->max_connections, 5000);
	assert_int_equal(c->idle_timeout_s, 600);
	assert_int_equal(c->forwards[0].max_connections, 1000);
	assert_int_equal(c->forwards[1].max_connections, 0);
	assert_int_equal(c->role, CONFIG_ROLE_ACCEPT);
	assert_int_equal(c->port, 6000);
	assert_int_equal(c->remote_udp_encap_port, 29899);
	assert_int_equal(c->max_streams, 100);
	assert_int_equal(c->heartbeat_interval_ms, 250);
	assert_int_equal(c->rto_initial_ms, 300);
	assert_int_equal(c->rto_min_ms, 100);
	assert_int_equal(c->rto_max_ms, 900);
	assert_int_equal(c->path_max_retrans, 5);
	assert_int_equal(c->pf_threshold, 0);
	assert_int_equal(c->assoc_max_retrans, 20);
	assert_int_equal(c->failback_hold_ms, 3000);
	assert_int_equal(c->sndbuf, 2097152);
	assert_int_equal(c->rcvbuf, 4194304);

	assert_int_equal(c->n_paths, 2);
	assert_string_equal(c->paths[0].name, "wan1");
	assert_addr(&c->paths[0].local, "198.18.1.1");
	assert_addr(&c->paths[0].remote, "198.18.1.2");
	assert_int_equal(c->paths[0].priority, 20);
	assert_string_equal(c->paths[1].name, "wan2");
	assert_addr(&c->paths[1].local, "2001:2::1");
	assert_addr(&c->paths[1].remote, "2001:2::2");
	assert_int_equal(c->paths[1].priority, 0);

	assert_int_equal(c->n_forwards, 2);
	assert_string_equal(c->forwards[0].name, "web");
	assert_int_equal(c->forwards[0].protocol, CONFIG_PROTO_TCP);
	assert_addr(&c->forwards[0].listen, "127.0.0.1:8080");
	assert_addr(&c->forwards[0].target, "192.0.2.10:80");
	assert_string_equal(c->forwards[1].name, "tls6");
	assert_int_equal(c->forwards[1].protocol, CONFIG_PROTO_TCP);
	assert_addr(&c->forwards[1].listen, "[::1]:8443");
	assert_addr(&c->forwards[1].target, "[2001:db8::10]:443");
}

static void config_load__minimal_file__uses_every_default(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, MINIMAL "[forward.x]\n"
	                                        "listen = 127.0.0.1:1\n"
	                                        "target = 192.0.2.1:2\n");
	assert_non_null(c);
	assert_string_equal(f->out, "");
	assert_string_equal(c->name, "sctpgw");
	assert_int_equal(c->engine, CONFIG_ENGINE_AUTO);
	assert_int_equal(c->transport, CONFIG_TRANSPORT_UDP);
	assert_int_equal(c->udp_encap_port, 9899);
	assert_int_equal(c->log_connections, 0);
	assert_int_equal(c->tcp_keepalive, 1);
	assert_int_equal(c->tcp_keepalive_idle_s, 60);
	assert_int_equal(c->tcp_keepalive_interval_s, 10);
	assert_int_equal(c->tcp_keepalive_count, 6);
	assert_int_equal(c->log_level, LOG_INFO);
	assert_int_equal(c->connect_timeout_ms, 5000);
	assert_int_equal(c->drain_timeout_ms, 5000);
	assert_int_equal(c->conn_window, 256 * 1024);
	assert_int_equal(c->conn_window_max, 16 * 1024 * 1024);
	assert_int_equal(c->delayed_sack_ms, 40);
	assert_int_equal(c->congestion_control, CONFIG_CC_RFC4960);
	assert_int_equal(c->memory_limit, 1024 * 1024 * 1024);
	assert_int_equal(c->max_connections, 0);
	assert_int_equal(c->idle_timeout_s, 0);
	assert_int_equal(c->role, CONFIG_ROLE_CONNECT);
	assert_int_equal(c->port, 5757);
	assert_int_equal(c->remote_udp_encap_port, 9899);
	assert_int_equal(c->max_streams, 4096);
	assert_int_equal(c->heartbeat_interval_ms, 1000);
	assert_int_equal(c->rto_initial_ms, 1000);
	assert_int_equal(c->rto_min_ms, 1000);
	assert_int_equal(c->rto_max_ms, 3000);
	assert_int_equal(c->path_max_retrans, 3);
	assert_int_equal(c->pf_threshold, 1);
	assert_int_equal(c->assoc_max_retrans, 10);
	assert_int_equal(c->failback_hold_ms, 5000);
	assert_int_equal(c->sndbuf, 2097152);
	assert_int_equal(c->rcvbuf, 2097152);
	assert_int_equal(c->n_paths, 1);
	assert_int_equal(c->paths[0].priority, 10);
	assert_int_equal(c->n_forwards, 1);
	assert_int_equal(c->forwards[0].protocol, CONFIG_PROTO_TCP);
}

static void config_defaults__matches_a_file_without_optional_keys(void **state)
{
	struct fixture *f = *state;
	struct config d;
	struct config *c = load_text(f, MINIMAL);
	assert_non_null(c);
	config_defaults(&d);
	/* Only what the file sets may differ. */
	snprintf(d.file, sizeof d.file, "%s", c->file);
	d.role = c->role;
	d.insecure = c->insecure;
	d.n_paths = c->n_paths;
	memcpy(d.paths, c->paths, sizeof d.paths);
	assert_memory_equal(&d, c, sizeof d);
	assert_int_equal(c->n_forwards, 0);
}

/* Writes a fresh key into DIR/NAME with MODE. */
static void write_key(const char *dir, const char *name, mode_t mode)
{
	char path[512], key[64];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(crypto_psk_generate(key, sizeof key), 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, key, strlen(key)), (ssize_t)strlen(key));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

/* systemd's LoadCredential=psk:... puts the key in $CREDENTIALS_DIRECTORY:
 * a relative psk_file is looked up there first, then next to the file. */
static void config_load__credentials_directory__holds_the_relative_psk_file(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/sctpgw-creds-XXXXXX", creds[64], ini[64], cmd[128], want[1024];
	assert_non_null(mkdtemp(dir));
	snprintf(creds, sizeof creds, "%s/creds", dir);
	assert_int_equal(mkdir(creds, 0700), 0);
	snprintf(ini, sizeof ini, "%s/gw.ini", dir);
	FILE *fp = fopen(ini, "w");
	assert_non_null(fp);
	fputs("[association]\n"
	      "role = accept\n"
	      "psk_file = psk\n"
	      "[path.a]\n"
	      "local = 198.18.1.1\n"
	      "remote = 198.18.1.2\n",
	      fp);
	fclose(fp);

	/* Only in the credentials directory (a root-only /etc/sctpgw/psk the
	 * service user cannot see): found there. */
	write_key(creds, "psk", 0400);
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	if (!load(f, ini))
		fail_msg("%s", f->out);
	assert_int_equal(f->c->n_psk, 1);
	fixture_reset(f);

	/* Both: the credential wins; a bad one is reported with its path and
	 * the config's file:line, not silently replaced by the other. */
	write_key(dir, "psk", 0600);
	write_key(creds, "psk", 0644);
	assert_null(load(f, ini));
	snprintf(want, sizeof want,
	         "%s:3: [association] psk_file: %s/psk: mode 0644 lets group or others use "
	         "the key; expected 0600 or 0400 (chmod 600 %s/psk), or 0440 with the "
	         "gateway's own group\n",
	         ini, creds, creds);
	assert_string_equal(f->out, want);
	fixture_reset(f);

	/* Not a credential of this service: next to the config file. */
	snprintf(cmd, sizeof cmd, "%s/psk", creds);
	assert_int_equal(unlink(cmd), 0);
	if (!load(f, ini))
		fail_msg("%s", f->out);
	assert_int_equal(f->c->n_psk, 1);
	fixture_reset(f);

	/* Without a service manager the credentials directory is not used. */
	write_key(creds, "psk", 0644);
	unsetenv("CREDENTIALS_DIRECTORY");
	if (!load(f, ini))
		fail_msg("%s", f->out);
	fixture_reset(f);
	snprintf(cmd, sizeof cmd, "rm -r %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void config_load__example_file__is_valid(void **state)
{
	struct fixture *f = *state;
	const char *src = getenv("SCTPGW_SRC");
	char path[4096], cmd[8300], dir[] = "/tmp/sctpgw-example-XXXXXX";
	/* Its psk_file is "psk", next to the file: a copy with a new key. */
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof cmd,
	         "cp '%s/conf/sctpgw.ini' %s/ && umask 077 && head -c 32 /dev/urandom | base64 "
	         "> %s/psk",
	         src ? src : ".", dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof path, "%s/sctpgw.ini", dir);
	struct config *c = load(f, path);
	snprintf(cmd, sizeof cmd, "rm -r %s", dir);
	assert_int_equal(system(cmd), 0);
	if (!c)
		fail_msg("%s", f->out);
	assert_int_equal(c->n_psk, 1);
	assert_int_equal(c->encrypt, 1);
	assert_int_equal(c->packet_auth, 1);
	assert_int_equal(c->role, CONFIG_ROLE_CONNECT);
	assert_int_equal(c->n_paths, 1);
	assert_addr(&c->paths[0].local, "198.18.1.1");
	assert_addr(&c->paths[0].remote, "198.18.1.2");
	assert_int_equal(c->n_forwards, 1);
	assert_addr(&c->forwards[0].listen, "127.0.0.1:8080");
	assert_addr(&c->forwards[0].target, "192.0.2.10:80");
}

static void config_load__bad_numbers__are_all_reported(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[gateway]\n"
	                      "udp_encap_port = 12abc\n"
	                      "connect_timeout_ms =\n"
	                      "drain_timeout_ms = -1\n"
	                      "conn_window = 99999999999999999999999\n"
	                      "[sctp]\n"
	                      "rto_min_ms = 0x10\n"
	                      "rto_max_ms = 1e3\n"
	                      "path_max_retrans = +3\n"
	                      "assoc_max_retrans = 1 0\n",
	              "@:7: [gateway] udp_encap_port: \"12abc\" is not a number; expected an "
	              "integer from 1 to 65535\n"
	              "@:8: [gateway] connect_timeout_ms: empty value; expected an integer from "
	              "100 to 600000\n"
	              "@:9: [gateway] drain_timeout_ms: \"-1\" is not a number; expected an "
	              "integer from 0 to 600000\n"
	              "@:10: [gateway] conn_window: \"99999999999999999999999\" is out of range; "
	              "expected a size from 4096 to 67108864 bytes (suffix k, m or g for KiB, MiB "
	              "or GiB)\n"
	              "@:12: [sctp] rto_min_ms: \"0x10\" is not a number; expected an integer from "
	              "10 to 600000\n"
	              "@:13: [sctp] rto_max_ms: \"1e3\" is not a number; expected an integer from "
	              "10 to 600000\n"
	              "@:14: [sctp] path_max_retrans: \"+3\" is not a number; expected an integer "
	              "from 1 to 100\n"
	              "@:15: [sctp] assoc_max_retrans: \"1 0\" is not a number; expected an "
	              "integer from 1 to 1000\n");
}

static void config_load__values_out_of_range__give_the_range(void **state)
{
	struct fixture *f = *state;
	expect_errors(
	    f,
	    MINIMAL "[gateway]\n"
	            "udp_encap_port = 0\n"
	            "connect_timeout_ms = 99\n"
	            "drain_timeout_ms = 600001\n"
	            "[association]\n"
	            "port = 65536\n"
	            "max_streams = 2\n"
	            "[path.b]\n"
	            "local = 198.18.2.1\n"
	            "remote = 198.18.2.2\n"
	            "priority = 65536\n",
	    "@:7: [gateway] udp_encap_port: \"0\" is out of range; expected an integer from 1 to "
	    "65535\n"
	    "@:8: [gateway] connect_timeout_ms: \"99\" is out of range; expected an integer from "
	    "100 to 600000\n"
	    "@:9: [gateway] drain_timeout_ms: \"600001\" is out of range; expected an integer from "
	    "0 to 600000\n"
	    "@:10: [association]: duplicate section (first on line 1); expected each section once\n"
	    "@:11: [association] port: \"65536\" is out of range; expected an integer from 1 to "
	    "65535\n"
	    "@:12: [association] max_streams: \"2\" is out of range; expected an integer from 3 to "
	    "65535\n"
	    "@:16: [path.b] priority: \"65536\" is out of range; expected an integer from 0 to "
	    "65535\n");
}

/* path_mtu: the IP packet, UDP included; 1280 (IPv6's minimum, every
 * path) by default, up to a 9000-byte jumbo frame. */
static void config_load__path_mtu__1280_to_9000_and_bad_values_named(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, MINIMAL);
	assert_non_null(c);
	assert_int_equal(c->path_mtu, 1280);
	fixture_reset(f);
	c = load_text(f, MINIMAL "[sctp]\npath_mtu = 1500\n");
	assert_non_null(c);
	assert_string_equal(f->out, "");
	assert_int_equal(c->path_mtu, 1500);
	fixture_reset(f);
	c = load_text(f, MINIMAL "[sctp]\npath_mtu = 9000\n");
	assert_non_null(c);
	assert_int_equal(c->path_mtu, 9000);
	static const char range[] = "expected an integer from 1280 to 9000\n";
	static const struct {
		const char *value, *what;
	} bad[] = {
	    {"1279", "\"1279\" is out of range"}, {"576", "\"576\" is out of range"},
	    {"9001", "\"9001\" is out of range"}, {"1500 bytes", "\"1500 bytes\" is not a number"},
	    {"1.5k", "\"1.5k\" is not a number"}, {"", "empty value"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char text[256], want[256];
		snprintf(text, sizeof text, MINIMAL "[sctp]\npath_mtu = %s\n", bad[i].value);
		snprintf(want, sizeof want, "@:7: [sctp] path_mtu: %s; %s", bad[i].what, range);
		fixture_reset(f);
		expect_errors(f, text, want);
	}
}

static void config_load__size_suffixes__mean_kibibytes_mebibytes_and_gibibytes(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, MINIMAL "[gateway]\n"
	                                        "conn_window = 64k\n"
	                                        "memory_limit = 16G\n"
	                                        "[sctp]\n"
	                                        "sndbuf = 2M\n"
	                                        "rcvbuf = 512K\n");
	assert_non_null(c);
	assert_int_equal(c->conn_window, 64 * 1024);
	assert_int_equal(c->memory_limit, 16ull * 1024 * 1024 * 1024);
	assert_int_equal(c->sndbuf, 2 * 1024 * 1024);
	assert_int_equal(c->rcvbuf, 512 * 1024);
}

static void config_load__bad_size_suffixes__are_rejected(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[sctp]\n"
	                      "sndbuf = 1t\n"
	                      "rcvbuf = 64kb\n"
	                      "[gateway]\n"
	                      "conn_window = 65m\n"
	                      "udp_encap_port = 1k\n",
	              "@:7: [sctp] sndbuf: \"1t\" is not a number; expected a size from 65536 to "
	              "268435456 bytes (suffix k, m or g for KiB, MiB or GiB)\n"
	              "@:8: [sctp] rcvbuf: \"64kb\" is not a number; expected a size from 65536 to "
	              "268435456 bytes (suffix k, m or g for KiB, MiB or GiB)\n"
	              "@:10: [gateway] conn_window: \"65m\" is out of range; expected a size from "
	              "4096 to 67108864 bytes (suffix k, m or g for KiB, MiB or GiB)\n"
	              "@:11: [gateway] udp_encap_port: \"1k\" is not a number; expected an integer "
	              "from 1 to 65535\n");
}

static void config_load__bad_words__list_the_choices(void **state)
{
	struct fixture *f = *state;
	expect_errors(
	    f,
	    "[association]\n"
	    "role = listen\n"
	    "packet_auth = maybe\n"
	    "[path.a]\n"
	    "local = 198.18.1.1\n"
	    "remote = 198.18.1.2\n"
	    "[gateway]\n"
	    "engine = dpdk\n"
	    "log_level = verbose\n",
	    "@:2: [association] role: \"listen\" is not valid; expected connect or accept\n"
	    "@:3: [association] packet_auth: \"maybe\" is not valid; expected no or yes\n"
	    "@:8: [gateway] engine: \"dpdk\" is not valid; expected auto, kernel or userspace\n"
	    "@:9: [gateway] log_level: \"verbose\" is not valid; expected error, warn, info or "
	    "debug\n");
}

#define PATH_A                                                                                     \
	"[path.a]\n"                                                                               \
	"local = 198.18.1.1\n"                                                                     \
	"remote = 198.18.1.2\n"

static void config_load__transport__udp_by_default_sctp_with_the_kernel(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, "[association]\n"
	                                "role = connect\n"
	                                "transport = sctp\n" PATH_A "[gateway]\n"
	                                "engine = kernel\n");
	assert_non_null(c);
	assert_string_equal(f->out, "");
	assert_int_equal(c->transport, CONFIG_TRANSPORT_SCTP);
	fixture_reset(f);
	c = load_text(f, "[association]\n"
	                 "role = connect\n"
	                 "transport = sctp\n" PATH_A);
	assert_non_null(c); /* engine = auto: the kernel's, or a start-up error */
	assert_int_equal(c->transport, CONFIG_TRANSPORT_SCTP);
	fixture_reset(f);
	c = load_text(f, "[association]\n"
	                 "role = connect\n"
	                 "transport = UDP\n" PATH_A "[gateway]\n"
	                 "engine = userspace\n");
	assert_non_null(c);
	assert_int_equal(c->transport, CONFIG_TRANSPORT_UDP);
}

static void config_load__transport_sctp_with_userspace__is_a_contradiction(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              "[association]\n"
	              "role = connect\n"
	              "transport = sctp\n" PATH_A "[gateway]\n"
	              "engine = userspace\n",
	              "@:3: [association] transport: sctp (plain SCTP, IP protocol 132) needs the "
	              "kernel engine, and [gateway] engine = userspace (line 8) is usrsctp, which "
	              "speaks SCTP over UDP only; expected transport = udp, or engine = kernel or "
	              "auto\n");
}

static void config_load__bad_transport__lists_the_choices(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              "[association]\n"
	              "role = connect\n"
	              "transport = tcp\n" PATH_A,
	              "@:3: [association] transport: \"tcp\" is not valid; expected udp or "
	              "sctp\n");
}

static void config_load__udp_encap__says_transport_replaced_it(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[gateway]\n"
	                      "engine = kernel\n"
	                      "udp_encap = on\n",
	              "@:8: [gateway] udp_encap: udp_encap was replaced by [association] "
	              "transport = udp|sctp (udp, the default, is SCTP over UDP with either "
	              "engine; sctp is plain IP protocol 132, kernel engine only); remove "
	              "udp_encap\n");
}

static void config_load__words_and_names__ignore_case(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, "[Association]\n"
	                                "ROLE = Accept\n"
	                                "[PATH.Wan1]\n"
	                                "Local = 198.18.1.1\n"
	                                "Remote = 198.18.1.2\n"
	                                "[Gateway]\n"
	                                "Engine = KERNEL\n"
	                                "Log_Level = Warn\n"
	                                "Name = Site-A\n");
	assert_non_null(c);
	assert_int_equal(c->role, CONFIG_ROLE_ACCEPT);
	assert_int_equal(c->engine, CONFIG_ENGINE_KERNEL);
	assert_int_equal(c->log_level, LOG_WARN);
	/* Values keep their case; iniparser lowercases section names. */
	assert_string_equal(c->name, "Site-A");
	assert_string_equal(c->paths[0].name, "wan1");
}

static void config_load__bad_gateway_name__is_rejected(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[gateway]\n"
	                      "name = site a\n",
	              "@:7: [gateway] name: \"site a\" is not a valid name; expected 1 to 63 "
	              "characters of A-Z a-z 0-9 . _ -\n");
	fixture_reset(f);
	expect_errors(
	    f,
	    MINIMAL "[gateway]\n"
	            "name = "
	            "a123456789a123456789a123456789a123456789a123456789a123456789abcd\n",
	    "@:7: [gateway] name: "
	    "\"a123456789a123456789a123456789a123456789a123456789a123456789abcd\" is not a "
	    "valid name; expected 1 to 63 characters of A-Z a-z 0-9 . _ -\n");
}

static void config_load__unknown_section__lists_the_valid_ones(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[bogus]\n"
	                      "x = 1\n"
	                      "[path]\n"
	                      "[forward]\n",
	              "@:6: [bogus]: unknown section; expected gateway, association, sctp, "
	              "path.NAME, forward.NAME or egress\n"
	              "@:8: [path]: unknown section; expected gateway, association, sctp, "
	              "path.NAME, forward.NAME or egress\n"
	              "@:9: [forward]: unknown section; expected gateway, association, sctp, "
	              "path.NAME, forward.NAME or egress\n");
}

static void config_load__unknown_key__names_section_and_key(void **state)
{
	struct fixture *f = *state;
	expect_errors(
	    f,
	    MINIMAL "[gateway]\n"
	            "colour = blue\n"
	            "[sctp]\n"
	            "rto = 1\n"
	            "[forward.web]\n"
	            "listen = 127.0.0.1:8080\n"
	            "target = 192.0.2.10:80\n"
	            "transparent = yes\n",
	    "@:7: [gateway] colour: unknown key; expected one of name, engine, udp_encap_port, "
	    "log_level, connect_timeout_ms, drain_timeout_ms, conn_window, conn_window_max, "
	    "memory_limit, max_connections, idle_timeout_s, log_connections, tcp_keepalive, "
	    "tcp_keepalive_idle_s, tcp_keepalive_interval_s, tcp_keepalive_count, admin, "
	    "udp_lifetime_ms, "
	    "udp_idle_timeout_ms, udp_max_flows\n"
	    "@:9: [sctp] rto: unknown key; expected one of heartbeat_interval_ms, rto_initial_ms, "
	    "rto_min_ms, rto_max_ms, path_max_retrans, pf_threshold, assoc_max_retrans, "
	    "failback_hold_ms, delayed_sack_ms, congestion_control, sndbuf, rcvbuf, buffer_max, "
	    "path_mtu\n"
	    "@:13: [forward.web] transparent: unknown key; expected one of listen, protocol, "
	    "target, max_connections, capture\n");
}

static void config_load__missing_required_keys__point_at_the_section_header(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "\n"
	                      "[forward.web]\n"
	                      "listen = 127.0.0.1:8080\n"
	                      "[path.b]\n"
	                      "priority = 3\n",
	              "@:7: [forward.web] target: missing; expected address:port, host name:port "
	              "or original\n"
	              "@:9: [path.b] local: missing; expected an IPv4 or IPv6 address\n"
	              "@:9: [path.b] remote: missing; expected an IPv4 or IPv6 address\n");
}

static void config_load__missing_association__reports_role_for_the_file(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              "[path.a]\n"
	              "local = 198.18.1.1\n"
	              "remote = 198.18.1.2\n"
	              "[association]\n"
	              "port = 1\n",
	              "@:4: [association] role: missing; expected connect or accept\n"
	              "@:4: [association] psk_file: missing; expected the file with the key both "
	              "gateways share (make one with `sctpgw --gen-psk`), or insecure = yes to run "
	              "without authentication or encryption\n");
	fixture_reset(f);
	expect_errors(f,
	              "[path.a]\n"
	              "local = 198.18.1.1\n"
	              "remote = 198.18.1.2\n",
	              "@:0: [association] role: missing; expected connect or accept\n");
}

static void config_load__no_path__asks_for_at_least_one(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              "[gateway]\n"
	              "name = x\n"
	              "[association]\n"
	              "role = accept\n",
	              "@:0: [path.NAME]: missing; expected at least one [path.NAME] section\n");
}

static void config_load__empty_file__reports_every_missing_thing(void **state)
{
	struct fixture *f = *state;
	expect_errors(f, "",
	              "@:0: [association] role: missing; expected connect or accept\n"
	              "@:0: [path.NAME]: missing; expected at least one [path.NAME] section\n");
}

static void config_load__duplicate_key__names_both_lines(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[gateway]\n"
	                      "name = a\n"
	                      "; a comment\n"
	                      "name = b\n",
	              "@:9: [gateway] name: duplicate key (first on line 7); expected each key "
	              "once per section\n");
}

static void config_load__duplicate_section__names_both_lines(void **state)
{
	struct fixture *f = *state;
	expect_errors(
	    f,
	    MINIMAL "[path.a]\n"
	            "priority = 5\n",
	    "@:6: [path.a]: duplicate section (first on line 3); expected each section once\n");
}

static void config_load__key_before_any_section__is_rejected(void **state)
{
	struct fixture *f = *state;
	expect_errors(
	    f, "name = x\n" MINIMAL,
	    "@:1: name: key outside any section; expected a [section] header before it\n");
}

static void config_load__syntax_errors__give_their_lines(void **state)
{
	struct fixture *f = *state;
	expect_errors(
	    f,
	    MINIMAL "[gateway]\n"
	            "name site-a\n"
	            "[sctp] ; timers\n"
	            "rto_min_ms = 100\n",
	    "@:7: syntax error: \"name site-a\"; expected [section], key = value or a comment\n");
}

static void config_load__continued_line__counts_every_physical_line(void **state)
{
	struct fixture *f = *state;
	expect_errors(
	    f,
	    MINIMAL "[gateway]\n"
	            "name = a\\\n"
	            "b\n"
	            "engine = \\\n"
	            "  bogus\n",
	    "@:9: [gateway] engine: \"bogus\" is not valid; expected auto, kernel or userspace\n");
	/* And a value joined from two lines is one value. */
	fixture_reset(f);
	struct config *c = load_text(f, MINIMAL "[gateway]\n"
	                                        "name = site\\\n"
	                                        "-a\n");
	assert_non_null(c);
	assert_string_equal(c->name, "site-a");
}

static void config_load__line_too_long__is_reported(void **state)
{
	struct fixture *f = *state;
	char text[2048];
	int n = snprintf(text, sizeof text, MINIMAL "[gateway]\nname = ");
	memset(text + n, 'a', 1100);
	snprintf(text + n + 1100, sizeof text - (size_t)n - 1100, "\n");
	expect_errors(f, text, "@:7: line too long; expected at most 1022 characters\n");
}

static void config_load__quotes_and_comments__are_stripped(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, "# a comment\n"
	                                "; another\n" MINIMAL "[gateway]\n"
	                                "name = \"quoted\" ; trailing comment\n"
	                                "engine = kernel # hash comment\n"
	                                "log_level = 'warn'\n");
	assert_non_null(c);
	assert_string_equal(c->name, "quoted");
	assert_int_equal(c->engine, CONFIG_ENGINE_KERNEL);
	assert_int_equal(c->log_level, LOG_WARN);
}

static void config_load__empty_quotes__are_an_empty_value(void **state)
{
	struct fixture *f = *state;
	expect_errors(
	    f,
	    MINIMAL "[gateway]\n"
	            "name = \"\"\n",
	    "@:7: [gateway] name: empty value; expected 1 to 63 characters of A-Z a-z 0-9 . _ -\n");
}

static void config_load__conn_window_over_its_max__names_both_keys(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[gateway]\n"
	                      "conn_window_max = 128k\n",
	              "@:7: [gateway] conn_window_max: 131072 is less than conn_window (262144, "
	              "default); expected conn_window <= conn_window_max (a window starts at "
	              "conn_window and grows up to conn_window_max)\n");
}

static void config_load__buffer_max_below_a_buffer__names_both_keys(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[sctp]\n"
	                      "rcvbuf = 8m\n"
	                      "buffer_max = 4m\n",
	              "@:8: [sctp] buffer_max: 4194304 is less than rcvbuf (8388608, line 7); "
	              "expected sndbuf <= buffer_max and rcvbuf <= buffer_max (the buffers start "
	              "at sndbuf/rcvbuf and grow up to buffer_max)\n");
	/* The default: 32 MiB; equal to the start is fine (no growth). */
	fixture_reset(f);
	struct config *c = load_text(f, MINIMAL "[sctp]\n");
	assert_non_null(c);
	assert_int_equal(c->buffer_max, 32 * 1024 * 1024);
	fixture_reset(f);
	c = load_text(f, MINIMAL "[sctp]\n"
	                         "buffer_max = 2m\n");
	assert_non_null(c);
	assert_int_equal(c->buffer_max, 2 * 1024 * 1024);
	/* A config from before buffer_max with larger fixed buffers still
	 * loads: unset, the max is the larger buffer (no growth beyond). */
	fixture_reset(f);
	c = load_text(f, MINIMAL "[sctp]\n"
	                         "sndbuf = 64m\n"
	                         "rcvbuf = 48m\n");
	assert_non_null(c);
	assert_int_equal(c->buffer_max, 64 * 1024 * 1024);
}

static void config_load__delayed_sack_over_half_rto_min__names_both_keys(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[sctp]\n"
	                      "rto_min_ms = 700\n"
	                      "delayed_sack_ms = 400\n",
	              "@:8: [sctp] delayed_sack_ms: 400 is more than half of rto_min_ms (700, "
	              "line 7); expected delayed_sack_ms <= rto_min_ms / 2 (a SACK held longer "
	              "makes retransmission timeouts expire on a clean path)\n");
	fixture_reset(f);
	expect_errors(
	    f,
	    MINIMAL "[sctp]\n"
	            "delayed_sack_ms = 60\n"
	            "rto_initial_ms = 100\n"
	            "rto_min_ms = 100\n",
	    "@:9: [sctp] rto_min_ms: 100 is less than twice delayed_sack_ms (60, line 7); "
	    "expected rto_min_ms >= 2 x delayed_sack_ms (a shorter floor makes "
	    "retransmission timeouts expire on a clean path)\n");
	/* Exactly half is fine, and 0 (no delay) always is. */
	fixture_reset(f);
	struct config *c = load_text(f, MINIMAL "[sctp]\n"
	                                        "delayed_sack_ms = 100\n"
	                                        "congestion_control = htcp\n");
	assert_non_null(c);
	assert_int_equal(c->delayed_sack_ms, 100);
	assert_int_equal(c->congestion_control, CONFIG_CC_HTCP);
	fixture_reset(f);
	c = load_text(f, MINIMAL "[sctp]\n"
	                         "delayed_sack_ms = 0\n"
	                         "rto_initial_ms = 10\n"
	                         "rto_min_ms = 10\n");
	assert_non_null(c);
	assert_int_equal(c->delayed_sack_ms, 0);
}

static void config_load__rto_out_of_order__names_both_keys(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[sctp]\n"
	                      "rto_min_ms = 2000\n",
	              "@:7: [sctp] rto_min_ms: 2000 is greater than rto_initial_ms (1000, "
	              "default); expected rto_min_ms <= rto_initial_ms <= rto_max_ms\n");
	fixture_reset(f);
	expect_errors(f,
	              MINIMAL "[sctp]\n"
	                      "rto_max_ms = 5000\n"
	                      "rto_initial_ms = 6000\n"
	                      "rto_min_ms = 7000\n",
	              "@:8: [sctp] rto_initial_ms: 6000 is greater than rto_max_ms (5000, line 7); "
	              "expected rto_min_ms <= rto_initial_ms <= rto_max_ms\n"
	              "@:9: [sctp] rto_min_ms: 7000 is greater than rto_initial_ms (6000, line 8); "
	              "expected rto_min_ms <= rto_initial_ms <= rto_max_ms\n");
	fixture_reset(f);
	expect_errors(f,
	              MINIMAL "[sctp]\n"
	                      "rto_max_ms = 500\n",
	              "@:7: [sctp] rto_max_ms: 500 is less than rto_initial_ms (1000, default); "
	              "expected rto_min_ms <= rto_initial_ms <= rto_max_ms\n");
}

static void config_load__memory_limit_below_conn_window__names_both_keys(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[gateway]\n"
	                      "memory_limit = 128k\n",
	              "@:7: [gateway] memory_limit: 131072 is less than conn_window (262144, "
	              "default); expected memory_limit >= conn_window (each open connection "
	              "reserves conn_window bytes of memory_limit)\n");
	fixture_reset(f);
	expect_errors(f,
	              MINIMAL "[gateway]\n"
	                      "memory_limit = 1m\n"
	                      "conn_window = 2m\n",
	              "@:8: [gateway] conn_window: 2097152 is greater than memory_limit (1048576, "
	              "line 7); expected memory_limit >= conn_window (each open connection "
	              "reserves conn_window bytes of memory_limit)\n");
	fixture_reset(f);
	/* Equal is fine: room for exactly one connection. */
	struct config *c = load_text(f, MINIMAL "[gateway]\n"
	                                        "memory_limit = 256k\n");
	assert_non_null(c);
	assert_int_equal(c->memory_limit, c->conn_window);
}

static void config_load__conn_buffer__says_it_was_replaced_by_conn_window(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[gateway]\n"
	                      "conn_buffer = 256k\n",
	              "@:7: [gateway] conn_buffer: replaced by conn_window in sctpgw 0.2 (a "
	              "per-connection credit window instead of a buffer limit that paused the "
	              "whole association); expected conn_window\n");
}

static void config_load__rto_with_a_bad_value__is_not_compared(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[sctp]\n"
	                      "rto_max_ms = soon\n"
	                      "rto_initial_ms = 5000\n",
	              "@:7: [sctp] rto_max_ms: \"soon\" is not a number; expected an integer from "
	              "10 to 600000\n");
}

static void config_load__pf_threshold_not_below_path_max_retrans__names_both_keys(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[sctp]\n"
	                      "path_max_retrans = 2\n"
	                      "pf_threshold = 3\n",
	              "@:8: [sctp] pf_threshold: 3 is greater than path_max_retrans (2, line 7); "
	              "expected pf_threshold < path_max_retrans (otherwise a path is never "
	              "potentially failed and data stays on a dead path until it is declared "
	              "unreachable)\n");
	/* Equal was allowed once; the stacks then never enter the state. */
	fixture_reset(f);
	expect_errors(f,
	              MINIMAL "[sctp]\n"
	                      "pf_threshold = 2\n"
	                      "path_max_retrans = 2\n",
	              "@:8: [sctp] path_max_retrans: 2 is equal to pf_threshold (2, line 7); "
	              "expected pf_threshold < path_max_retrans (otherwise a path is never "
	              "potentially failed and data stays on a dead path until it is declared "
	              "unreachable)\n");
	fixture_reset(f);
	expect_errors(f,
	              MINIMAL "[sctp]\n"
	                      "path_max_retrans = 1\n",
	              "@:7: [sctp] path_max_retrans: 1 is equal to pf_threshold (1, default); "
	              "expected pf_threshold < path_max_retrans (otherwise a path is never "
	              "potentially failed and data stays on a dead path until it is declared "
	              "unreachable)\n");
	fixture_reset(f);
	struct config *c = load_text(f, MINIMAL "[sctp]\n"
	                                        "path_max_retrans = 1\n"
	                                        "pf_threshold = 0\n");
	assert_non_null(c);
}

#define TWO_PATHS                                                                                  \
	MINIMAL "[path.b]\n"                                                                       \
	        "local = 198.18.2.1\n"                                                             \
	        "remote = 198.18.2.2\n"

static const char amr_rule[] =
    "expected assoc_max_retrans > path_max_retrans with 2 or more paths (every timeout on a "
    "path also counts for the association, which would give up no later than a dead path is "
    "declared unreachable)\n";

static void config_load__assoc_max_retrans_not_above_path_max_retrans__names_both_keys(void **state)
{
	struct fixture *f = *state;
	char want[1024];
	snprintf(want, sizeof want,
	         "@:10: [sctp] assoc_max_retrans: 3 is equal to path_max_retrans (3, default); %s",
	         amr_rule);
	expect_errors(f,
	              TWO_PATHS "[sctp]\n"
	                        "assoc_max_retrans = 3\n",
	              want);
	/* The paths may come after [sctp]; the line is still the later key. */
	fixture_reset(f);
	snprintf(want, sizeof want,
	         "@:4: [sctp] path_max_retrans: 5 is greater than assoc_max_retrans (4, line 3); "
	         "%s",
	         amr_rule);
	expect_errors(f,
	              "[sctp]\n"
	              "pf_threshold = 1\n"
	              "assoc_max_retrans = 4\n"
	              "path_max_retrans = 5\n" TWO_PATHS,
	              want);
	fixture_reset(f);
	struct config *c = load_text(f, TWO_PATHS "[sctp]\n"
	                                          "path_max_retrans = 3\n"
	                                          "assoc_max_retrans = 4\n");
	assert_non_null(c);
}

static void config_load__assoc_max_retrans_with_one_path__may_be_small(void **state)
{
	struct fixture *f = *state;
	/* With a single path there is nothing to fail over to. */
	struct config *c = load_text(f, MINIMAL "[sctp]\n"
	                                        "path_max_retrans = 5\n"
	                                        "assoc_max_retrans = 2\n");
	assert_non_null(c);
	assert_int_equal(c->assoc_max_retrans, 2);
}

static void config_load__assoc_max_retrans_with_a_bad_value__is_not_compared(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              TWO_PATHS "[sctp]\n"
	                        "path_max_retrans = 20\n"
	                        "assoc_max_retrans = many\n",
	              "@:11: [sctp] assoc_max_retrans: \"many\" is not a number; expected an "
	              "integer from 1 to 1000\n");
}

static void config_load__failback_hold_below_heartbeat_interval__names_both_keys(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[sctp]\n"
	                      "failback_hold_ms = 500\n",
	              "@:7: [sctp] failback_hold_ms: 500 is less than heartbeat_interval_ms (1000, "
	              "default); expected failback_hold_ms >= heartbeat_interval_ms, or 0 for no "
	              "hold (a shorter hold ends before the returning path has answered another "
	              "heartbeat)\n");
	fixture_reset(f);
	expect_errors(
	    f,
	    MINIMAL "[sctp]\n"
	            "failback_hold_ms = 1000\n"
	            "heartbeat_interval_ms = 2000\n",
	    "@:8: [sctp] heartbeat_interval_ms: 2000 is greater than failback_hold_ms "
	    "(1000, line 7); expected failback_hold_ms >= heartbeat_interval_ms, or 0 for "
	    "no hold (a shorter hold ends before the returning path has answered another "
	    "heartbeat)\n");
	fixture_reset(f);
	expect_errors(f,
	              MINIMAL "[sctp]\n"
	                      "failback_hold_ms = 600001\n",
	              "@:7: [sctp] failback_hold_ms: \"600001\" is out of range; expected an "
	              "integer from 0 to 600000\n");
}

static void config_load__failback_hold_zero_or_one_heartbeat__is_accepted(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, MINIMAL "[sctp]\n"
	                                        "heartbeat_interval_ms = 2000\n"
	                                        "failback_hold_ms = 0\n");
	assert_non_null(c);
	assert_int_equal(c->failback_hold_ms, 0);
	fixture_reset(f);
	c = load_text(f, MINIMAL "[sctp]\n"
	                         "heartbeat_interval_ms = 2000\n"
	                         "failback_hold_ms = 2000\n");
	assert_non_null(c);
	assert_int_equal(c->failback_hold_ms, 2000);
}

/* docs/FAILOVER.md recommends it; it must stay valid. */
static void config_load__fast_profile__is_valid(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, TWO_PATHS "[sctp]\n"
	                                          "heartbeat_interval_ms = 200\n"
	                                          "rto_initial_ms = 200\n"
	                                          "rto_min_ms = 100\n"
	                                          "rto_max_ms = 400\n"
	                                          "path_max_retrans = 2\n"
	                                          "pf_threshold = 0\n"
	                                          "assoc_max_retrans = 10\n"
	                                          "failback_hold_ms = 2000\n");
	if (!c)
		fail_msg("%s", f->out);
	assert_int_equal(c->n_paths, 2);
	assert_int_equal(c->failback_hold_ms, 2000);
}

static void config_load__same_path_address_twice__names_both_paths(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[path.b]\n"
	                      "local = 198.18.1.1\n"
	                      "remote = 198.18.2.2\n"
	                      "[path.c]\n"
	                      "remote = 198.18.1.2\n"
	                      "local = 198.18.3.1\n",
	              "@:7: [path.b] local: 198.18.1.1 is already the local address of [path.a] "
	              "(line 4); expected a different local address for each path\n"
	              "@:10: [path.c] remote: 198.18.1.2 is already the remote address of [path.a] "
	              "(line 5); expected a different remote address for each path\n");
	/* An IPv4-mapped IPv6 address is the same host. */
	fixture_reset(f);
	expect_errors(f,
	              MINIMAL "[path.b]\n"
	                      "local = ::ffff:198.18.1.1\n"
	                      "remote = ::ffff:198.18.9.2\n",
	              "@:7: [path.b] local: ::ffff:198.18.1.1 is already the local address of "
	              "[path.a] (line 4); expected a different local address for each path\n");
	/* A path's remote may equal another path's local: different sides. */
	fixture_reset(f);
	struct config *c = load_text(f, MINIMAL "[path.b]\n"
	                                        "local = 198.18.1.2\n"
	                                        "remote = 198.18.1.1\n");
	assert_non_null(c);
}

static void config_load__eight_mixed_family_paths__are_accepted(void **state)
{
	struct fixture *f = *state;
	char text[4096];
	size_t n = (size_t)snprintf(text, sizeof text, "[association]\nrole = connect\n");
	for (int i = 0; i < CONFIG_MAX_PATHS; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
		                      i % 2 ? "[path.p%d]\nlocal = 2001:db8:%d::1\nremote = "
		                              "2001:db8:%d::2\npriority = %d\n"
		                            : "[path.p%d]\nlocal = 10.0.%d.1\nremote = "
		                              "10.0.%d.2\npriority = %d\n",
		                      i, i, i, 10 * i);
	struct config *c = load_text(f, text);
	if (!c)
		fail_msg("%s", f->out);
	assert_int_equal(c->n_paths, CONFIG_MAX_PATHS);
	assert_int_equal(c->paths[2].local.ss_family, AF_INET);
	assert_int_equal(c->paths[3].local.ss_family, AF_INET6);
	assert_addr(&c->paths[3].remote, "2001:db8:3::2");
	assert_int_equal(c->paths[7].priority, 70);
}

static void config_load__path_family_mismatch__names_both_keys(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[path.b]\n"
	                      "local = 198.18.2.1\n"
	                      "remote = 2001:2::2\n",
	              "@:8: [path.b] remote: 2001:2::2 is IPv6 but local 198.18.2.1 (line 7) is "
	              "IPv4; expected local and remote of the same family\n");
}

static void config_load__bad_addresses__say_what_is_wrong(void **state)
{
	struct fixture *f = *state;
	expect_errors(
	    f,
	    MINIMAL "[path.b]\n"
	            "local = 198.18.2.1:80\n"
	            "remote = gw.example\n"
	            "[forward.a]\n"
	            "listen = 2001:db8::1:80\n"
	            "target = 192.0.2.1\n"
	            "[forward.b]\n"
	            "listen = 127.0.0.1:0\n"
	            "target = web.example:80\n",
	    "@:7: [path.b] local: \"198.18.2.1:80\" is not an IP address (no port, no brackets, no "
	    "names); expected an IPv4 or IPv6 address\n"
	    "@:8: [path.b] remote: \"gw.example\" is not an IP address (no port, no brackets, no "
	    "names); expected an IPv4 or IPv6 address\n"
	    "@:10: [forward.a] listen: \"2001:db8::1:80\" is not a valid address (IPv6 needs "
	    "brackets: [addr]:port); expected host:port\n"
	    "@:11: [forward.a] target: \"192.0.2.1\" has no port; expected address:port, host "
	    "name:port or original\n"
	    "@:13: [forward.b] listen: \"127.0.0.1:0\" is not a valid address (an IP address and a "
	    "port from 1 to 65535; names are not resolved); expected host:port\n");
}

/* [egress]: the list and the resolver land in the config; no section is
 * no egress at all (the gateway still loads). */
static void config_load__egress_section__fills_the_allow_list(void **state)
{
	struct fixture *f = *state;
	struct config *c =
	    load_text(f, MINIMAL "[forward.db]\n"
	                         "listen = 127.0.0.1:5432\n"
	                         "target = db.internal:5432\n"
	                         "[egress]\n"
	                         "allow = 10.0.0.0/8, 192.0.2.10:443 [2001:db8::]/32:53\n"
	                         "resolver = 198.18.20.2\n");
	assert_non_null(c);
	assert_true(c->has_egress);
	assert_int_equal(c->egress_allow.n, 3);
	assert_int_equal(c->egress_allow.rule[2].family, AF_INET6);
	assert_int_equal(c->egress_allow.rule[2].port, 53);
	assert_string_equal(c->resolver, "198.18.20.2:53");
	assert_int_equal(c->forwards[0].target.ss_family, AF_UNSPEC);
	assert_string_equal(c->forwards[0].target_host, "db.internal");
	assert_int_equal(c->forwards[0].target_port, 5432);
	config_free(c);
	f->c = NULL;
	free(f->out);
	f->out = NULL;
	c = load_text(f, MINIMAL);
	assert_non_null(c);
	assert_false(c->has_egress);
	assert_int_equal(c->egress_allow.n, 0);
	assert_string_equal(c->resolver, "");
}

static void config_load__bad_egress_values__name_file_line_and_key(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[egress]\n"
	                      "allow = 10.0.0.0/8, 10.1.2.3/8:22\n"
	                      "resolver = dns.example\n"
	                      "deny = 10.0.0.0/8\n"
	                      "[forward.x]\n"
	                      "listen = 127.0.0.1:1\n"
	                      "target = -db.internal:5432\n",
	              "@:7: [egress] allow: \"10.1.2.3/8:22\" has bits set past its /8 prefix; "
	              "expected 10.0.0.0/8:22\n"
	              "@:8: [egress] resolver: \"dns.example\" is not a DNS server address; "
	              "expected IP addresses with an optional port, like 198.18.0.53, "
	              "192.0.2.1:5353, [2001:db8::53]:53\n"
	              "@:9: [egress] deny: unknown key; expected one of allow, resolver\n"
	              "@:12: [forward.x] target: \"-db.internal:5432\" is neither an IP address "
	              "nor a host name (RFC 1123: labels of letters, digits and hyphens, "
	              "separated by dots, no final dot)\n");
}

static void config_load__ipv6_everywhere__is_accepted(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, "[association]\n"
	                                "role = accept\n"
	                                "[path.v6]\n"
	                                "local = 2001:db8:1::1\n"
	                                "remote = 2001:db8:1::2\n"
	                                "[path.mapped]\n"
	                                "local = ::ffff:198.18.1.1\n"
	                                "remote = ::ffff:198.18.1.2\n"
	                                "[forward.v6]\n"
	                                "listen = [::]:8080\n"
	                                "target = [2001:db8::10]:80\n");
	assert_non_null(c);
	assert_int_equal(c->paths[0].local.ss_family, AF_INET6);
	assert_addr(&c->paths[0].remote, "2001:db8:1::2");
	assert_addr(&c->paths[1].local, "::ffff:198.18.1.1");
	assert_addr(&c->forwards[0].listen, "[::]:8080");
	assert_addr(&c->forwards[0].target, "[2001:db8::10]:80");
}

/* MISSION.md's own example writes a comment after a section header. */
static void config_load__comment_after_section_header__is_accepted(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, "[association]   ; who connects\n"
	                                "role = accept\n"
	                                "[sctp]          # timers\n"
	                                "rto_min_ms = 100\n"
	                                "[path.wan1]     ; preferred\n"
	                                "local = 198.18.1.1\n"
	                                "remote = 198.18.1.2\n");
	assert_non_null(c);
	assert_int_equal(c->role, CONFIG_ROLE_ACCEPT);
	assert_int_equal(c->rto_min_ms, 100);
	assert_string_equal(c->paths[0].name, "wan1");
}

static void config_load__udp_forward__is_accepted_and_other_protocols_are_not(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[forward.dns]\n"
	                      "listen = 127.0.0.1:53\n"
	                      "protocol = udp\n"
	                      "target = 192.0.2.53:53\n"
	                      "[forward.x]\n"
	                      "listen = 127.0.0.1:54\n"
	                      "protocol = sctp\n"
	                      "target = 192.0.2.53:53\n",
	              "@:12: [forward.x] protocol: \"sctp\" is not valid; expected tcp or udp\n");
}

static void config_load__capture__tproxy_for_udp_with_target_original_only(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, MINIMAL "[forward.cap]\n"
	                                        "listen = 0.0.0.0:5353\n"
	                                        "protocol = udp\n"
	                                        "capture = tproxy\n"
	                                        "target = original\n");
	assert_non_null(c);
	assert_int_equal(c->forwards[0].capture, CONFIG_CAPTURE_TPROXY);
	assert_int_equal(c->forwards[0].target.ss_family, AF_UNSPEC);
	config_free(c);
	f->c = NULL;
	free(f->out);
	f->out = NULL;
	expect_errors(f,
	              MINIMAL "[forward.a]\n"
	                      "listen = 127.0.0.1:1\n"
	                      "protocol = udp\n"
	                      "capture = redirect\n"
	                      "target = original\n"
	                      "[forward.b]\n"
	                      "listen = 127.0.0.1:2\n"
	                      "protocol = udp\n"
	                      "capture = tproxy\n"
	                      "target = 192.0.2.1:53\n"
	                      "[forward.c]\n"
	                      "listen = 127.0.0.1:3\n"
	                      "protocol = udp\n"
	                      "target = original\n",
	              "@:9: [forward.a] capture: redirect gives UDP no original destination; "
	              "expected none or tproxy for protocol = udp\n"
	              "@:15: [forward.b] target: a captured UDP forward carries each datagram's "
	              "original destination; expected target = original\n"
	              "@:19: [forward.c] target: original needs a captured connection; expected "
	              "capture = redirect or tproxy in this section, or a host:port target\n");
}

static void config_load__udp_keys__defaults_and_values(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, MINIMAL "[forward.dns]\n"
	                                        "listen = 127.0.0.1:53\n"
	                                        "protocol = UDP\n"
	                                        "target = 192.0.2.53:53\n");
	assert_non_null(c);
	assert_int_equal(c->forwards[0].protocol, CONFIG_PROTO_UDP);
	assert_int_equal(c->udp_lifetime_ms, 150);
	assert_int_equal(c->udp_idle_timeout_ms, 30000);
	assert_int_equal(c->udp_max_flows, 4096);
	config_free(c);
	f->c = NULL;
	free(f->out);
	f->out = NULL;
	expect_errors(f,
	              "[gateway]\nudp_lifetime_ms = 0\nudp_idle_timeout_ms = 10\n"
	              "udp_max_flows = 0\n" MINIMAL,
	              "@:2: [gateway] udp_lifetime_ms: \"0\" is out of range; expected an "
	              "integer from 1 to 60000\n"
	              "@:3: [gateway] udp_idle_timeout_ms: \"10\" is out of range; expected an "
	              "integer from 100 to 86400000\n"
	              "@:4: [gateway] udp_max_flows: \"0\" is out of range; expected an integer "
	              "from 1 to 1000000\n");
}

static void config_load__same_listen_twice__names_both_forwards(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[forward.a]\n"
	                      "target = 192.0.2.1:80\n"
	                      "listen = [::1]:8080\n"
	                      "[forward.b]\n"
	                      "listen = [0::1]:8080\n"
	                      "target = 192.0.2.2:80\n",
	              "@:10: [forward.b] listen: [::1]:8080 is already used by [forward.a] (line "
	              "8); expected a different listen address for each forward\n");
}

static void config_load__too_many_paths__is_rejected(void **state)
{
	struct fixture *f = *state;
	char text[4096];
	size_t n = (size_t)snprintf(text, sizeof text, "[association]\nrole = connect\n");
	for (int i = 0; i <= CONFIG_MAX_PATHS; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
		                      "[path.p%d]\nlocal = 10.0.%d.1\nremote = 10.0.%d.2\n", i, i,
		                      i);
	char want[256];
	snprintf(want, sizeof want,
	         "@:%d: [path.p%d]: too many paths; expected at most %d [path.NAME] sections\n",
	         3 + 3 * CONFIG_MAX_PATHS, CONFIG_MAX_PATHS, CONFIG_MAX_PATHS);
	expect_errors(f, text, want);
}

static void config_load__bad_section_names__are_rejected(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[path.]\n"
	                      "local = 198.18.2.1\n"
	                      "remote = 198.18.2.2\n"
	                      "[forward.a.b]\n"
	                      "listen = 127.0.0.1:1\n"
	                      "target = 192.0.2.1:1\n",
	              "@:6: [path.]: \"\" is not a valid name; expected 1 to 63 characters of a-z "
	              "0-9 _ - after \"path.\"\n"
	              "@:9: [forward.a.b]: \"a.b\" is not a valid name; expected 1 to 63 "
	              "characters of a-z 0-9 _ - after \"forward.\"\n");
}

static void config_load__unreadable_file__says_cannot_read(void **state)
{
	struct fixture *f = *state;
	assert_null(load(f, "/nonexistent/sctpgw.ini"));
	assert_string_equal(f->out,
	                    "/nonexistent/sctpgw.ini: cannot read: No such file or directory\n");
	fixture_reset(f);
	assert_null(load(f, "/tmp"));
	assert_string_equal(f->out, "/tmp: cannot read: Is a directory\n");
}

static void config_names__match_the_file_words(void **state)
{
	(void)state;
	assert_string_equal(config_engine_name(CONFIG_ENGINE_AUTO), "auto");
	assert_string_equal(config_engine_name(CONFIG_ENGINE_KERNEL), "kernel");
	assert_string_equal(config_engine_name(CONFIG_ENGINE_USERSPACE), "userspace");
	assert_string_equal(config_role_name(CONFIG_ROLE_CONNECT), "connect");
	assert_string_equal(config_role_name(CONFIG_ROLE_ACCEPT), "accept");
}

#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

/* Issue 12, item 8: iniparser's fgets stops at the NUL and the next line
 * vanished: this file loaded as role = connect. */
static void config_load__nul_byte_in_a_comment__is_an_error_naming_the_line(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "[association]\n"
	                           "; comment\0\n"
	                           "role = accept\n"
	                           "insecure = yes\n"
	                           "[path.a]\n"
	                           "local = 198.18.1.1\n"
	                           "remote = 198.18.1.2\n";
	write_ini_bytes(f, text, sizeof text - 1);
	assert_null(load(f, f->path));
	assert_errors(f, "@:2: a NUL byte in column 10; expected UTF-8 text (the loader cannot "
	                 "represent it)\n");
}

static void config_load__control_characters__are_errors_but_tab_and_crlf_are_not(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[gateway]\n"
	                      "name = a\x1b[31mb\n"
	                      "; bell \x07\n",
	              "@:7: a control character (only tab is allowed) in column 9; expected UTF-8 "
	              "text (the loader cannot represent it)\n"
	              "@:7: [gateway] name: \"a\x1b[31mb\" is not a valid name; expected 1 to 63 "
	              "characters of A-Z a-z 0-9 . _ -\n"
	              "@:8: a control character (only tab is allowed) in column 8; expected UTF-8 "
	              "text (the loader cannot represent it)\n");
	fixture_reset(f);
	assert_non_null(load_text(f, "[association]\r\n"
	                             "role\t= accept\r\n"
	                             "insecure = yes\r\n"
	                             "[path.a]\r\n"
	                             "local = 198.18.1.1\r\n"
	                             "remote = 198.18.1.2\r\n"));
	assert_int_equal(f->c->role, CONFIG_ROLE_ACCEPT);
}

static void config_load__invalid_utf8__is_an_error_and_valid_utf8_is_fine(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "; caf\xe9 (Latin-1)\n"
	                      "; overlong \xc0\xaf\n",
	              "@:6: a byte that is not UTF-8 in column 6; expected UTF-8 text (the loader "
	              "cannot represent it)\n"
	              "@:7: a byte that is not UTF-8 in column 12; expected UTF-8 text (the loader "
	              "cannot represent it)\n");
	fixture_reset(f);
	assert_non_null(load_text(f, MINIMAL "; caf\xc3\xa9, \xe2\x82\xac, \xf0\x9f\x99\x82\n"));
}

/* Issue 9: capture and target = original. */
static void config_load__capture_and_target_original__are_read(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, MINIMAL "[forward.r]\n"
	                                        "listen = 0.0.0.0:15001\n"
	                                        "target = original\n"
	                                        "capture = redirect\n"
	                                        "[forward.t]\n"
	                                        "listen = [::]:15002\n"
	                                        "target = ORIGINAL\n"
	                                        "capture = TProxy\n"
	                                        "[forward.fixed]\n"
	                                        "listen = 127.0.0.1:15003\n"
	                                        "target = 192.0.2.10:80\n"
	                                        "capture = tproxy\n"
	                                        "[forward.plain]\n"
	                                        "listen = 127.0.0.1:15004\n"
	                                        "target = 192.0.2.10:80\n");
	assert_non_null(c);
	assert_string_equal(f->out, "");
	assert_int_equal(c->n_forwards, 4);
	assert_int_equal(c->forwards[0].capture, CONFIG_CAPTURE_REDIRECT);
	assert_true(c->forwards[0].target_original);
	assert_int_equal(c->forwards[1].capture, CONFIG_CAPTURE_TPROXY);
	assert_true(c->forwards[1].target_original);
	assert_int_equal(c->forwards[2].capture, CONFIG_CAPTURE_TPROXY);
	assert_false(c->forwards[2].target_original);
	assert_addr(&c->forwards[2].target, "192.0.2.10:80");
	assert_int_equal(c->forwards[3].capture, CONFIG_CAPTURE_NONE);
	assert_false(c->forwards[3].target_original);
	assert_string_equal(config_capture_name(CONFIG_CAPTURE_TPROXY), "tproxy");
}

static void config_load__target_original_without_capture__is_an_error(void **state)
{
	struct fixture *f = *state;
	expect_errors(f,
	              MINIMAL "[forward.a]\n"
	                      "listen = 0.0.0.0:15001\n"
	                      "target = original\n"
	                      "[forward.b]\n"
	                      "capture = none\n"
	                      "target = original\n"
	                      "listen = 0.0.0.0:15002\n"
	                      "[forward.c]\n"
	                      "listen = 0.0.0.0:15003\n"
	                      "target = originals\n"
	                      "capture = nat\n",
	              "@:8: [forward.a] target: original needs a captured connection; expected "
	              "capture = redirect or tproxy in this section, or a host:port target\n"
	              "@:11: [forward.b] target: original needs a captured connection; expected "
	              "capture = redirect or tproxy in this section, or a host:port target\n"
	              "@:15: [forward.c] target: \"originals\" has no port; expected address:port, "
	              "host name:port or original\n"
	              "@:16: [forward.c] capture: \"nat\" is not valid; expected none, redirect or "
	              "tproxy\n");
}

/* [gateway] admin: host:port, or empty for off (the default). */
static void config_load__admin__is_an_endpoint_or_empty_for_off(void **state)
{
	struct fixture *f = *state;
	struct config *c = load_text(f, MINIMAL "[gateway]\nadmin = [::1]:9464\n");
	assert_non_null(c);
	assert_addr(&c->admin, "[::1]:9464");
	fixture_reset(f);
	c = load_text(f, MINIMAL "[gateway]\nadmin =\n");
	assert_non_null(c);
	assert_int_equal(c->admin.ss_family, AF_UNSPEC);
	fixture_reset(f);
	c = load_text(f, MINIMAL);
	assert_non_null(c);
	assert_int_equal(c->admin.ss_family, AF_UNSPEC);
	fixture_reset(f);
	expect_errors(f, MINIMAL "[gateway]\nadmin = localhost:9464\n",
	              "@:7: [gateway] admin: \"localhost:9464\" is not a valid address (an IP "
	              "address and a port from 1 to 65535; names are not resolved); expected "
	              "host:port, or nothing for off\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(config_load__admin__is_an_endpoint_or_empty_for_off),
	    T(config_load__nul_byte_in_a_comment__is_an_error_naming_the_line),
	    T(config_load__control_characters__are_errors_but_tab_and_crlf_are_not),
	    T(config_load__invalid_utf8__is_an_error_and_valid_utf8_is_fine),
	    T(config_load__full_file__sets_every_field),
	    T(config_load__minimal_file__uses_every_default),
	    T(config_defaults__matches_a_file_without_optional_keys),
	    T(config_load__example_file__is_valid),
	    T(config_load__credentials_directory__holds_the_relative_psk_file),
	    T(config_load__credentials_directory__holds_the_relative_psk_file),
	    T(config_load__bad_numbers__are_all_reported),
	    T(config_load__values_out_of_range__give_the_range),
	    T(config_load__path_mtu__1280_to_9000_and_bad_values_named),
	    T(config_load__size_suffixes__mean_kibibytes_mebibytes_and_gibibytes),
	    T(config_load__memory_limit_below_conn_window__names_both_keys),
	    T(config_load__conn_buffer__says_it_was_replaced_by_conn_window),
	    T(config_load__bad_size_suffixes__are_rejected),
	    T(config_load__bad_words__list_the_choices),
	    T(config_load__capture_and_target_original__are_read),
	    T(config_load__target_original_without_capture__is_an_error),
	    T(config_load__transport__udp_by_default_sctp_with_the_kernel),
	    T(config_load__transport_sctp_with_userspace__is_a_contradiction),
	    T(config_load__bad_transport__lists_the_choices),
	    T(config_load__udp_encap__says_transport_replaced_it),
	    T(config_load__words_and_names__ignore_case),
	    T(config_load__bad_gateway_name__is_rejected),
	    T(config_load__unknown_section__lists_the_valid_ones),
	    T(config_load__unknown_key__names_section_and_key),
	    T(config_load__missing_required_keys__point_at_the_section_header),
	    T(config_load__missing_association__reports_role_for_the_file),
	    T(config_load__no_path__asks_for_at_least_one),
	    T(config_load__empty_file__reports_every_missing_thing),
	    T(config_load__duplicate_key__names_both_lines),
	    T(config_load__duplicate_section__names_both_lines),
	    T(config_load__key_before_any_section__is_rejected),
	    T(config_load__syntax_errors__give_their_lines),
	    T(config_load__continued_line__counts_every_physical_line),
	    T(config_load__line_too_long__is_reported),
	    T(config_load__quotes_and_comments__are_stripped),
	    T(config_load__empty_quotes__are_an_empty_value),
	    T(config_load__conn_window_over_its_max__names_both_keys),
	    T(config_load__buffer_max_below_a_buffer__names_both_keys),
	    T(config_load__delayed_sack_over_half_rto_min__names_both_keys),
	    T(config_load__rto_out_of_order__names_both_keys),
	    T(config_load__rto_with_a_bad_value__is_not_compared),
	    T(config_load__pf_threshold_not_below_path_max_retrans__names_both_keys),
	    T(config_load__assoc_max_retrans_not_above_path_max_retrans__names_both_keys),
	    T(config_load__assoc_max_retrans_with_one_path__may_be_small),
	    T(config_load__assoc_max_retrans_with_a_bad_value__is_not_compared),
	    T(config_load__failback_hold_below_heartbeat_interval__names_both_keys),
	    T(config_load__failback_hold_zero_or_one_heartbeat__is_accepted),
	    T(config_load__fast_profile__is_valid),
	    T(config_load__same_path_address_twice__names_both_paths),
	    T(config_load__eight_mixed_family_paths__are_accepted),
	    T(config_load__path_family_mismatch__names_both_keys),
	    T(config_load__bad_addresses__say_what_is_wrong),
	    T(config_load__egress_section__fills_the_allow_list),
	    T(config_load__bad_egress_values__name_file_line_and_key),
	    T(config_load__ipv6_everywhere__is_accepted),
	    T(config_load__comment_after_section_header__is_accepted),
	    T(config_load__udp_forward__is_accepted_and_other_protocols_are_not),
	    T(config_load__udp_keys__defaults_and_values),
	    T(config_load__capture__tproxy_for_udp_with_target_original_only),
	    T(config_load__same_listen_twice__names_both_forwards),
	    T(config_load__too_many_paths__is_rejected),
	    T(config_load__bad_section_names__are_rejected),
	    T(config_load__unreadable_file__says_cannot_read),
	    T(config_names__match_the_file_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
