/*
 * fuzz_config: libFuzzer target for the config loader (src/config.c).
 *
 * Start here to fuzz the INI loader. Each input is a whole config file: it
 * is written to a memfd and loaded by name (/proc/self/fd/N), as
 * `sctpgw -c FILE` would load it; a loaded config is freed again. Every
 * error message goes to /dev/null (they are still formatted). LeakSanitizer
 * catches anything the loader forgets to free on either path.
 * docs/FUZZING.md says how to run it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	if (!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	int fd = memfd_create("fuzz-config", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	size_t off = 0;
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);
		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	struct config *c = config_load(path, sink);
	if (c) {
		/* What the loader promises to the rest of the program. */
		if (c->n_paths > CONFIG_MAX_PATHS || c->n_forwards > CONFIG_MAX_FORWARDS)
			abort();
		config_free(c);
	}
	close(fd);
	return 0;
}
