/* crc32c: see crc32c.h. */
#include "crc32c.h"

#include <endian.h>
#include <string.h>

#define CRC32C_POLY 0x82f63b78u /* Castagnoli, bit-reflected */

/* table[k][b]: the CRC of byte b followed by k zero bytes. */
static uint32_t table[8][256];
static int use_hw;

/* Filled before main: usrsctp's threads call the checksum concurrently. */
__attribute__((constructor)) static void crc32c_init(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;
		for (int i = 0; i < 8; i++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		table[0][b] = c;
	}
	for (uint32_t b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++)
			table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xff];
#if defined(__x86_64__)
	__builtin_cpu_init();
	use_hw = __builtin_cpu_supports("sse4.2") != 0;
#endif
}

uint32_t crc32c_update_portable(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		w = le64toh(w) ^ crc;
		crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
		      table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^
		      table[2][(w >> 40) & 0xff] ^ table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p,
                                                            size_t len)
{
	uint64_t c = crc;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}
#endif

uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
#if defined(__x86_64__)
	if (use_hw)
		return crc32c_hw(crc, buf, len);
#endif
	return crc32c_update_portable(crc, buf, len);
}

uint32_t crc32c_finalize(uint32_t crc)
{
#if __BYTE_ORDER == __BIG_ENDIAN
	crc = __builtin_bswap32(crc);
#endif
	return ~crc;
}

int crc32c_hardware(void)
{
	return use_hw;
}

/* --- the three symbols of usrsctp's sctp_crc32.o ---------------------- */

uint32_t calculate_crc32c(uint32_t crc, const unsigned char *buf, unsigned int len)
{
	return crc32c_update(crc, buf, len);
}

uint32_t sctp_finalize_crc32c(uint32_t crc)
{
	return crc32c_finalize(crc);
}

uint32_t sctp_calculate_cksum(struct usr_mbuf_head *m, uint32_t offset)
{
	uint32_t crc = 0xffffffffu;
	for (; m; m = m->next) {
		uint32_t len = m->len > 0 ? (uint32_t)m->len : 0;
		if (offset >= len) {
			offset -= len;
			continue;
		}
		crc = crc32c_update(crc, m->data + offset, len - offset);
		offset = 0;
	}
	return crc32c_finalize(crc);
}
