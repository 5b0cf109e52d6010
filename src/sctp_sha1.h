/*
 * sctp_sha1: usrsctp's SHA-1 (the hash of SCTP-AUTH's HMAC) from OpenSSL's
 * libcrypto, in place of usrsctp's own.
 *
 * Start here if SCTP-AUTH costs too much CPU. With SCTP-AUTH on (docs/
 * SECURITY.md, "Packets: SCTP-AUTH") usrsctp computes HMAC-SHA1 over every
 * packet that carries DATA or a SACK, sent and received, with a portable
 * C SHA-1: in a bulk transfer that was half of each gateway's CPU samples
 * (perf, bench/profile.sh) and halved the throughput. Debian ships usrsctp
 * as a static archive whose SHA-1 lives alone in one member (sctp_sha1.o)
 * exporting exactly sctp_sha1_init, sctp_sha1_update and sctp_sha1_final;
 * sctp_sha1.c defines those three with the same meaning over OpenSSL's
 * SHA-1 (SHA-NI or AVX2 where the CPU has them), so the linker takes them
 * from there and never pulls that member in (as crc32c.c does for the
 * checksum). The caller's context is usrsctp's struct sctp_sha1_context
 * (436 bytes in 0.9.5, 4-byte aligned); OpenSSL's SHA_CTX (96 bytes,
 * 4-byte aligned) is kept inside it.
 */
#ifndef SCTPGW_SCTP_SHA1_H
#define SCTPGW_SCTP_SHA1_H

/* usrsctp's context: opaque here; at least USRSCTP_SHA1_CTX_SIZE bytes. */
struct sctp_sha1_context;
#define USRSCTP_SHA1_CTX_SIZE 436

void sctp_sha1_init(struct sctp_sha1_context *ctx);
void sctp_sha1_update(struct sctp_sha1_context *ctx, const unsigned char *ptr, unsigned int siz);
void sctp_sha1_final(unsigned char *digest, struct sctp_sha1_context *ctx);

#endif
