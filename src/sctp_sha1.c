/* sctp_sha1: see sctp_sha1.h. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA1_Init & co.: no allocation per packet */
#include "sctp_sha1.h"

#include <openssl/sha.h>

_Static_assert(sizeof(SHA_CTX) <= USRSCTP_SHA1_CTX_SIZE, "SHA_CTX fits usrsctp's context");
_Static_assert(_Alignof(SHA_CTX) <= 4, "usrsctp's context is 4-byte aligned");

void sctp_sha1_init(struct sctp_sha1_context *ctx)
{
	SHA1_Init((SHA_CTX *)ctx);
}

void sctp_sha1_update(struct sctp_sha1_context *ctx, const unsigned char *ptr, unsigned int siz)
{
	SHA1_Update((SHA_CTX *)ctx, ptr, siz);
}

void sctp_sha1_final(unsigned char *digest, struct sctp_sha1_context *ctx)
{
	SHA1_Final(digest, (SHA_CTX *)ctx);
}
