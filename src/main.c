/*
 * sctpgw: carry TCP connections between two sites inside one SCTP
 * association. See README.md and docs/ARCHITECTURE.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "conn_log.h"
#include "crypto.h"
#include "gateway.h"
#include "log.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: sctpgw -c FILE [--check]\n"
	             "       sctpgw --gen-psk\n"
	             "       sctpgw --version\n"
	             "\n"
	             "  -c, --config FILE  the INI file (see sctpgw.ini(5))\n"
	             "  -t, --check        validate FILE and exit: 0 if good, 1 if not\n"
	             "  -g, --gen-psk      print a new pre-shared key (for psk_file) and exit\n"
	             "  -V, --version      print the version and exit\n"
	             "  -h, --help         this text\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 't'},
	    {"version", no_argument, NULL, 'V'},      {"gen-psk", no_argument, NULL, 'g'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const char *file = NULL;
	int check = 0, opt;

	while ((opt = getopt_long(argc, argv, "c:tVgh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			file = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'V':
			printf("sctpgw %s\n", SCTPGW_VERSION);
			return EXIT_SUCCESS;
		case 'g': {
			char key[64];
			if (crypto_psk_generate(key, sizeof key) < 0) {
				fprintf(stderr, "sctpgw: no random bytes for a key\n");
				return EXIT_FAILURE;
			}
			fputs(key, stdout);
			crypto_wipe(key, sizeof key);
			return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
		}
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (!file || optind != argc) {
		usage(stderr);
		return EXIT_FAILURE;
	}

	struct config *c = config_load(file, stderr);
	if (!c)
		return EXIT_FAILURE;
	if (check) {
		printf("%s: OK\n", file);
		config_free(c);
		return EXIT_SUCCESS;
	}

	log_init(c->name, c->log_level);
	conn_log_enable(c->log_connections);
	log_info("sctpgw %s starting with %s", SCTPGW_VERSION, file);
	int status = gateway_run(c);
	config_free(c);
	return status;
}
