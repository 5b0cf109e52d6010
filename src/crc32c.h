/*
 * crc32c: the SCTP checksum (CRC32c, RFC 9260 appendix A) with the CPU's
 * crc32 instruction where there is one, in place of usrsctp's own.
 *
 * usrsctp 0.9.5 computes the checksum of every packet sent and received
 * with a slice-by-8 table walk: in a bulk transfer through a gateway pair
 * that was 55-61% of each gateway's user-space instructions (callgrind,
 * docs/PERFORMANCE.md). Debian ships usrsctp as a static archive, and its
 * checksum lives alone in one member (sctp_crc32.o) that exports exactly
 * calculate_crc32c, sctp_finalize_crc32c and sctp_calculate_cksum. This
 * file defines those three symbols with the same meaning, so the linker
 * takes them from here and never pulls that member in; usrsctp's callers
 * are unchanged. On x86-64 CPUs with SSE4.2 the crc32 instruction does the
 * work; elsewhere a slice-by-8 walk like usrsctp's own.
 *
 * crc32c_update and crc32c_finalize are the same functions under our own
 * names, for the unit tests and for anyone who wants a CRC32c.
 */
#ifndef SCTPGW_CRC32C_H
#define SCTPGW_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue CRC (start with 0xffffffff) over LEN bytes of BUF. */
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);

/* The value that goes into the SCTP common header: ~CRC, in network byte
 * order when stored as a host-order uint32_t (usrsctp's convention). */
uint32_t crc32c_finalize(uint32_t crc);

/* crc32c_update without the crc32 instruction (what other CPUs run). */
uint32_t crc32c_update_portable(uint32_t crc, const void *buf, size_t len);

/* Whether crc32c_update uses the CPU's crc32 instruction. */
int crc32c_hardware(void);

/* The three functions usrsctp calls, as its sctp_crc32.o defines them. Only
 * the head of usrsctp's struct mbuf (user_mbuf.h, struct m_hdr: the BSD
 * mbuf header, unchanged since 4.4BSD) is read, through this view of it. */
struct usr_mbuf_head {
	struct usr_mbuf_head *next;
	void *nextpkt;
	uint8_t *data;
	int len;
};
uint32_t calculate_crc32c(uint32_t crc, const unsigned char *buf, unsigned int len);
uint32_t sctp_finalize_crc32c(uint32_t crc);
/* The checksum of the packet in the chain M, from OFFSET to the end. */
uint32_t sctp_calculate_cksum(struct usr_mbuf_head *m, uint32_t offset);

#endif
