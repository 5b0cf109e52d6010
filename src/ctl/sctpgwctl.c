/*
 * sctpgwctl: ask a running sctpgw, through its admin endpoint, how it is,
 * and tell it to reload or drain (sctpgwctl(8)).
 *
 * Start here: main() picks the endpoint (-a ADDR:PORT, else [gateway]
 * admin of the config file, -c, default /etc/sctpgw/sctpgw.ini), sends one
 * HTTP/1.0 request (http_request) and turns the answer into text and an
 * exit status a script can use:
 *   0 healthy, 1 degraded (a path not reachable, or not ready: draining),
 *   2 down (no association), 3 cannot reach the gateway (or a bad answer).
 * "alive" and "ready" are probes for orchestrators that cannot reach a
 * loopback endpoint with HTTP (a kubelet's httpGet goes to the pod's
 * address): /healthz and /readyz, exit 0 on 200, 1 otherwise, 3 unreachable.
 *
 * Why a hand-written HTTP client: it talks only to our own server (admin.c),
 * one request per connection, HTTP/1.0 so the server closes after the
 * answer and no chunked encoding or keep-alive needs handling; fewer than
 * 100 lines against a dependency (libcurl) the gateway does not need.
 * Why /status?format=lines and not JSON: every field of that form is one
 * space-free word (status.h), so sscanf reads it safely; a JSON parser
 * would be another dependency or hand-written parsing of untrusted nesting.
 *
 * Why iniparser here and not config_load(): config_load validates the
 * whole file and reads psk_file, which an operator's shell usually may not
 * read; only [gateway] admin is needed.
 */
#include <errno.h>
#include <getopt.h>
#include <iniparser/iniparser.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"

#define CTL_DEFAULT_CONF "/etc/sctpgw/sctpgw.ini"
#define CTL_TIMEOUT_MS   5000
#define CTL_MAX_ANSWER   (8u << 20)

enum ctl_exit {
	CTL_HEALTHY = 0,
	CTL_DEGRADED = 1,
	CTL_DOWN = 2,
	CTL_UNREACHABLE = 3,
};

struct answer {
	int code;   /* HTTP status */
	char *body; /* NUL-terminated */
	char *raw;  /* the whole answer (body points into it) */
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for EVENTS on FD until DEADLINE (ms, monotonic): 0 or -ETIMEDOUT. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* One request to ADDR; 0 with *A filled, or -errno (WHY says what failed). */
static int http_request(const struct sockaddr_storage *addr, const char *method, const char *path,
                        struct answer *a, const char **why)
{
	long long deadline = now_ms() + CTL_TIMEOUT_MS;
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc = 0;
	*why = "connect";
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)addr, addr_len(addr)) < 0) {
		if (errno != EINPROGRESS) {
			rc = -errno;
			goto out;
		}
		int err = 0;
		socklen_t len = sizeof err;
		if ((rc = wait_fd(fd, POLLOUT, deadline)) < 0)
			goto out;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			rc = -err;
			goto out;
		}
	}
	char req[256];
	int n = snprintf(req, sizeof req,
	                 "%s %s HTTP/1.0\r\nHost: sctpgw\r\nUser-Agent: sctpgwctl/%s\r\n"
	                 "Content-Length: 0\r\n\r\n",
	                 method, path, SCTPGW_VERSION);
	*why = "send";
	for (int off = 0; off < n;) {
		ssize_t w = send(fd, req + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((rc = wait_fd(fd, POLLOUT, deadline)) < 0)
				goto out;
			continue;
		}
		if (w < 0) {
			rc = -errno;
			goto out;
		}
		off += (int)w;
	}
	*why = "read";
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= CTL_MAX_ANSWER) {
				rc = -EMSGSIZE;
				break;
			}
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = recv(fd, buf + len, cap - len, 0);
		if (r > 0) {
			len += (size_t)r;
			continue;
		}
		if (r == 0)
			break;
		if (errno == EAGAIN || errno == EINTR) {
			if ((rc = wait_fd(fd, POLLIN, deadline)) < 0)
				break;
			continue;
		}
		rc = -errno;
		break;
	}
	buf[len] = '\0';
	*why = "parse the answer";
	char *body = strstr(buf, "\r\n\r\n");
	if (rc == 0 && (sscanf(buf, "HTTP/1.%*d %d", &a->code) != 1 || !body))
		rc = -EPROTO;
	if (rc < 0) {
		free(buf);
		goto out;
	}
	a->raw = buf;
	a->body = body + 4;
out:
	close(fd);
	return rc;
}

/* The admin endpoint from the config file FILE: 0, or 1 after printing why. */
static int endpoint_from_config(const char *file, struct sockaddr_storage *out)
{
	if (access(file, R_OK) != 0) {
		fprintf(stderr, "sctpgwctl: cannot read %s: %s (give -a ADDR:PORT)\n", file,
		        strerror(errno));
		return 1;
	}
	dictionary *ini = iniparser_load(file);
	if (!ini) {
		fprintf(stderr, "sctpgwctl: cannot parse %s\n", file);
		return 1;
	}
	const char *v = iniparser_getstring(ini, "gateway:admin", NULL);
	int rc = 0;
	if (!v || !*v) {
		fprintf(stderr,
		        "sctpgwctl: %s: [gateway] admin is not set: the gateway serves no "
		        "admin endpoint\n",
		        file);
		rc = 1;
	} else if (addr_parse_endpoint(v, out) != 0) {
		fprintf(stderr, "sctpgwctl: %s: [gateway] admin = \"%s\" is not host:port\n", file,
		        v);
		rc = 1;
	}
	iniparser_freedict(ini);
	return rc;
}

/* "status": print the lines form as tables; the exit status from it. */
static int show_status(char *body)
{
	char gw[64] = "?", ver[32] = "?", engine[32] = "?", transport[16] = "?", role[16] = "?";
	char state[32] = "?", peer[64] = "-";
	int established = 0, draining = 0, ready = 0;
	unsigned in_use = 0, limit = 0;
	bool degraded = false, have_assoc = false;
	char paths[4096] = "", fwds[4096] = "";
	size_t pn = 0, fn = 0;

	for (char *save = NULL, *line = strtok_r(body, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64], local[64], remote[64], pstate[32], rtt[16];
		int primary;
		unsigned long long fo, active, acc, ref, up, down;
		if (sscanf(line, "gateway %63s %31s %31s %15s %15s", gw, ver, engine, transport,
		           role) == 5)
			continue;
		if (sscanf(line, "association %31s %63s %d %d %d", state, peer, &established,
		           &draining, &ready) == 5) {
			have_assoc = true;
			continue;
		}
		if (sscanf(line, "streams %u %u", &in_use, &limit) == 2)
			continue;
		if (sscanf(line, "path %63s %63s %63s %31s %15s %d %llu", name, local, remote,
		           pstate, rtt, &primary, &fo) == 7) {
			if (strcmp(pstate, "reachable") != 0)
				degraded = true;
			if (pn < sizeof paths)
				pn += (size_t)snprintf(paths + pn, sizeof paths - pn,
				                       "  %-12s %-22s %-22s %-12s %8s %-7s %llu\n",
				                       name, local, remote, pstate,
				                       strcmp(rtt, "-") ? rtt : "-",
				                       primary ? "yes" : "no", fo);
			continue;
		}
		if (sscanf(line, "forward %63s %llu %llu %llu %llu %llu", name, &active, &acc, &ref,
		           &up, &down) == 6 &&
		    fn < sizeof fwds)
			fn += (size_t)snprintf(fwds + fn, sizeof fwds - fn,
			                       "  %-12s %8llu %10llu %9llu %16llu %16llu\n", name,
			                       active, acc, ref, up, down);
	}
	if (!have_assoc) {
		fprintf(stderr,
		        "sctpgwctl: the gateway's /status answer has no association line\n");
		return CTL_UNREACHABLE;
	}
	printf("gateway %s: sctpgw %s, engine %s, transport %s, role %s\n", gw, ver, engine,
	       transport, role);
	printf("association: %s, peer %s, streams %u of %u, %s%s\n", state, peer, in_use, limit,
	       ready ? "ready" : "NOT ready", draining ? " (draining)" : "");
	printf("paths:\n  %-12s %-22s %-22s %-12s %8s %-7s %s\n%s", "NAME", "LOCAL", "REMOTE",
	       "STATE", "RTT_MS", "PRIMARY", "FAILOVERS", paths);
	if (fn)
		printf("forwards:\n  %-12s %8s %10s %9s %16s %16s\n%s", "NAME", "ACTIVE",
		       "ACCEPTED", "REFUSED", "BYTES_TO_TARGET", "BYTES_TO_CLIENT", fwds);
	if (!established)
		return CTL_DOWN;
	return degraded || !ready ? CTL_DEGRADED : CTL_HEALTHY;
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: sctpgwctl [-a ADDR:PORT | -c FILE] status|metrics|reload|drain|alive|ready\n"
	       "  -a ADDR:PORT  the gateway's admin endpoint\n"
	       "  -c FILE       read [gateway] admin from FILE (default " CTL_DEFAULT_CONF ")\n"
	       "exit status: 0 healthy, 1 degraded, 2 down, 3 cannot reach the gateway\n");
}

int main(int argc, char **argv)
{
	const char *addr_text = NULL, *conf = CTL_DEFAULT_CONF;
	static const struct option longopts[] = {{"address", required_argument, NULL, 'a'},
	                                         {"config", required_argument, NULL, 'c'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {"version", no_argument, NULL, 'V'},
	                                         {NULL, 0, NULL, 0}};
	int opt;
	while ((opt = getopt_long(argc, argv, "a:c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			addr_text = optarg;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sctpgwctl %s\n", SCTPGW_VERSION);
			return 0;
		default:
			usage(stderr);
			return CTL_UNREACHABLE;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return CTL_UNREACHABLE;
	}
	const char *cmd = argv[optind];
	const char *method = "GET", *path;
	if (strcmp(cmd, "status") == 0)
		path = "/status?format=lines";
	else if (strcmp(cmd, "metrics") == 0)
		path = "/metrics";
	else if (strcmp(cmd, "alive") == 0)
		path = "/healthz";
	else if (strcmp(cmd, "ready") == 0)
		path = "/readyz";
	else if (strcmp(cmd, "reload") == 0 || strcmp(cmd, "drain") == 0)
		method = "POST", path = strcmp(cmd, "reload") == 0 ? "/reload" : "/drain";
	else {
		fprintf(stderr, "sctpgwctl: unknown command \"%s\"\n", cmd);
		usage(stderr);
		return CTL_UNREACHABLE;
	}

	struct sockaddr_storage addr;
	if (addr_text) {
		if (addr_parse_endpoint(addr_text, &addr) != 0) {
			fprintf(stderr, "sctpgwctl: -a %s: expected ADDR:PORT ([IPv6]:PORT)\n",
			        addr_text);
			return CTL_UNREACHABLE;
		}
	} else if (endpoint_from_config(conf, &addr) != 0) {
		return CTL_UNREACHABLE;
	}
	char text[ADDR_STRLEN];
	addr_format(&addr, text, sizeof text);

	struct answer a = {0};
	const char *why = "";
	int rc = http_request(&addr, method, path, &a, &why);
	if (rc < 0) {
		fprintf(stderr, "sctpgwctl: cannot %s the gateway's admin endpoint at %s: %s\n",
		        why, text, strerror(-rc));
		return CTL_UNREACHABLE;
	}
	int status;
	if (strcmp(cmd, "status") == 0) {
		status = a.code == 200 ? show_status(a.body) : CTL_UNREACHABLE;
		if (a.code != 200)
			fprintf(stderr, "sctpgwctl: %s answered %d: %s", text, a.code, a.body);
	} else if (strcmp(cmd, "alive") == 0 || strcmp(cmd, "ready") == 0) {
		/* Probes (Kubernetes exec, HEALTHCHECK): 0 yes, 1 no. */
		fputs(a.body, stdout);
		status = a.code == 200 ? 0 : 1;
	} else {
		fputs(a.body, a.code / 100 == 2 ? stdout : stderr);
		/* metrics: the endpoint answered; reload/drain: done (2xx) or
		 * refused (a broken file, draining), which is not "unreachable". */
		status = a.code / 100 == 2 ? 0 : strcmp(cmd, "metrics") == 0 ? CTL_UNREACHABLE : 1;
	}
	free(a.raw);
	return status;
}
