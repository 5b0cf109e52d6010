/* Unit tests for crc32c: the SCTP checksum that replaces usrsctp's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crc32c.h"

/* Bit by bit, straight from the definition: the reference. */
static uint32_t reference(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;
	while (len--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static uint32_t whole(const void *p, size_t len)
{
	return crc32c_finalize(crc32c_update(0xffffffffu, p, len));
}

static void crc32c__check_string__gives_the_standard_check_value(void **state)
{
	(void)state;
	assert_int_equal(whole("123456789", 9), 0xe3069283u);
}

/* RFC 3720 B.4 lists the CRC as the bytes on the wire: aa 36 91 8a for
 * 32 zero bytes is 0x8a9136aa stored little-endian, as usrsctp stores it. */
static void crc32c__rfc3720_vectors__match(void **state)
{
	(void)state;
	uint8_t b[32];
	memset(b, 0, sizeof b);
	assert_int_equal(whole(b, 32), 0x8a9136aau);
	memset(b, 0xff, sizeof b);
	assert_int_equal(whole(b, 32), 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	assert_int_equal(whole(b, 32), 0x46dd794eu);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	assert_int_equal(whole(b, 32), 0x113fdb5cu);
}

static void crc32c__every_length_and_alignment__matches_the_reference(void **state)
{
	(void)state;
	uint8_t buf[1600];
	srand(7);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)rand();
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= 300; len++) {
			uint32_t want = reference(buf + off, len);
			assert_int_equal(whole(buf + off, len), want);
			assert_int_equal(
			    crc32c_finalize(crc32c_update_portable(0xffffffffu, buf + off, len)),
			    want);
		}
	assert_int_equal(whole(buf + 3, 1500), reference(buf + 3, 1500));
	/* in pieces, as usrsctp walks an mbuf chain */
	uint32_t crc = 0xffffffffu;
	crc = calculate_crc32c(crc, buf, 5);
	crc = calculate_crc32c(crc, buf + 5, 1000);
	crc = calculate_crc32c(crc, buf + 1005, 595);
	assert_int_equal(sctp_finalize_crc32c(crc), reference(buf, 1600));
}

static void sctp_calculate_cksum__mbuf_chain_from_offset__covers_the_rest(void **state)
{
	(void)state;
	uint8_t bytes[1300];
	for (size_t i = 0; i < sizeof bytes; i++)
		bytes[i] = (uint8_t)(i * 7 + 3);
	/* 1300 bytes in mbufs of 20, 0, 500 and 780 */
	struct usr_mbuf_head m[4] = {
	    {&m[1], NULL, bytes, 20},
	    {&m[2], NULL, bytes + 20, 0},
	    {&m[3], NULL, bytes + 20, 500},
	    {NULL, NULL, bytes + 520, 780},
	};
	assert_int_equal(sctp_calculate_cksum(&m[0], 0), reference(bytes, 1300));
	assert_int_equal(sctp_calculate_cksum(&m[0], 8), reference(bytes + 8, 1292));
	assert_int_equal(sctp_calculate_cksum(&m[0], 20), reference(bytes + 20, 1280));
	assert_int_equal(sctp_calculate_cksum(&m[0], 600), reference(bytes + 600, 700));
}

#if defined(__x86_64__)
static void crc32c__x86_64_with_sse42__uses_the_crc32_instruction(void **state)
{
	(void)state;
	__builtin_cpu_init();
	assert_int_equal(crc32c_hardware(), __builtin_cpu_supports("sse4.2") != 0);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32c__check_string__gives_the_standard_check_value),
		cmocka_unit_test(crc32c__rfc3720_vectors__match),
		cmocka_unit_test(crc32c__every_length_and_alignment__matches_the_reference),
		cmocka_unit_test(sctp_calculate_cksum__mbuf_chain_from_offset__covers_the_rest),
#if defined(__x86_64__)
		cmocka_unit_test(crc32c__x86_64_with_sse42__uses_the_crc32_instruction),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
