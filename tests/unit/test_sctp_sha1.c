/* Unit tests for sctp_sha1: usrsctp's SHA-1 entry points over OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sctp_sha1.h"

/* usrsctp's context: USRSCTP_SHA1_CTX_SIZE bytes, 4-byte aligned. */
struct ctx_space {
	uint32_t words[USRSCTP_SHA1_CTX_SIZE / 4];
};

static void hash_in_pieces(const char *text, size_t piece, uint8_t out[20])
{
	struct ctx_space c;
	memset(&c, 0xa5, sizeof c); /* whatever the caller's stack held */
	struct sctp_sha1_context *ctx = (struct sctp_sha1_context *)&c;
	sctp_sha1_init(ctx);
	size_t n = strlen(text);
	for (size_t i = 0; i < n; i += piece)
		sctp_sha1_update(ctx, (const unsigned char *)text + i,
		                 (unsigned)(n - i < piece ? n - i : piece));
	sctp_sha1_final(out, ctx);
}

static void sctp_sha1__fips180_vectors__match_whole_and_in_pieces(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint8_t digest[20];
	} v[] = {
	    {"abc", {0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
	             0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d}},
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	     {0x84, 0x98, 0x3e, 0x44, 0x1c, 0x3b, 0xd2, 0x6e, 0xba, 0xae,
	      0x4a, 0xa1, 0xf9, 0x51, 0x29, 0xe5, 0xe5, 0x46, 0x70, 0xf1}},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		for (size_t piece = 1; piece <= 64; piece *= 4) {
			uint8_t out[20];
			hash_in_pieces(v[i].text, piece, out);
			assert_memory_equal(out, v[i].digest, 20);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sctp_sha1__fips180_vectors__match_whole_and_in_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
