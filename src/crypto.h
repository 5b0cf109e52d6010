/*
 * crypto: the cryptographic primitives sctpgw uses, and its key file.
 *
 * Start here to see what is trusted. Everything is OpenSSL's libcrypto
 * (Debian libssl-dev); nothing here is home-made cryptography, only calls
 * into the library with fixed choices (docs/SECURITY.md says why these):
 *
 *   HKDF-SHA256 (RFC 5869)   EVP_KDF "HKDF": association keys from the PSK
 *   HMAC-SHA256              key ids and the handshake's proofs
 *   AES-256-GCM              every message after the handshake (EVP AEAD)
 *   RAND_bytes               nonces and new keys
 *
 * The key file (psk_file) holds one or two keys, one a line, each the
 * base64 of at least CRYPTO_PSK_MIN random bytes (`sctpgw --gen-psk`); '#'
 * starts a comment line. The first key is the current one, the second the
 * next one (key rotation, docs/SECURITY.md).
 *
 * No I/O except crypto_psk_load (reads one file); no global state.
 */
#ifndef SCTPGW_CRYPTO_H
#define SCTPGW_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN     32 /* AEAD and HMAC keys */
#define CRYPTO_TAG_LEN     16 /* AES-GCM tag */
#define CRYPTO_IV_LEN      12 /* AES-GCM nonce */
#define CRYPTO_MAC_LEN     32 /* HMAC-SHA256 output */
#define CRYPTO_KEYID_LEN   8  /* a key's public fingerprint */
#define CRYPTO_PSK_MIN     32 /* bytes of key material a key must have */
#define CRYPTO_PSK_MAX_LEN 64 /* longest key kept */
#define CRYPTO_PSK_KEYS    2  /* current and next */

struct crypto_psk {
	uint8_t key[CRYPTO_PSK_MAX_LEN];
	size_t len;
	uint8_t id[CRYPTO_KEYID_LEN]; /* HMAC(key, "sctpgw key id"), truncated */
};

/* LEN random bytes from the library's CSPRNG. 0 or -EIO. */
int crypto_random(void *buf, size_t len);

/* HKDF-SHA256: OUT_LEN bytes from IKM with SALT and INFO. 0 or -EIO. */
int crypto_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/* HMAC-SHA256 of MSG under KEY into OUT. 0 or -EIO. */
int crypto_hmac(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t len,
                uint8_t out[CRYPTO_MAC_LEN]);

/* Constant-time comparison. */
bool crypto_equal(const void *a, const void *b, size_t len);

/* Zero memory the compiler may not optimise away. */
void crypto_wipe(void *p, size_t len);

/* An AES-256-GCM key set up once for many messages in one direction. */
struct crypto_aead;
struct crypto_aead *crypto_aead_new(const uint8_t key[CRYPTO_KEY_LEN], bool sealing);
void crypto_aead_free(struct crypto_aead *x);

/* OUT = ciphertext of IN (IN_LEN bytes, may be 0) followed by the tag;
 * AD is authenticated, not encrypted. OUT may not overlap IN. 0 or -EIO. */
int crypto_aead_seal(struct crypto_aead *x, const uint8_t iv[CRYPTO_IV_LEN], const uint8_t *ad,
                     size_t ad_len, const uint8_t *in, size_t in_len, uint8_t *out);

/* IN is ciphertext and tag (IN_LEN >= CRYPTO_TAG_LEN); OUT gets
 * IN_LEN - CRYPTO_TAG_LEN bytes. 0, or -EBADMSG when the tag does not
 * match (OUT then holds nothing to use). */
int crypto_aead_open(struct crypto_aead *x, const uint8_t iv[CRYPTO_IV_LEN], const uint8_t *ad,
                     size_t ad_len, const uint8_t *in, size_t in_len, uint8_t *out);

/* Parse the text of a key file. Returns the number of keys (1 or 2) or
 * -EINVAL with ERR saying what is wrong and on which line ("line 2: ..."). */
int crypto_psk_parse(const char *text, size_t len, struct crypto_psk out[CRYPTO_PSK_KEYS],
                     char *err, size_t errlen);

/* Read PATH: it must be a regular file that others cannot use and the
 * group can at most read, and only when the file's group is the process's
 * effective group (Kubernetes mounts a secret root:fsGroup 0440). Same
 * returns as crypto_psk_parse (-errno when unreadable). */
int crypto_psk_load(const char *path, struct crypto_psk out[CRYPTO_PSK_KEYS], char *err,
                    size_t errlen);

/* A new key as one line of text (base64 of 32 random bytes and '\n') into
 * OUT (at least 64 bytes). 0 or -EIO. */
int crypto_psk_generate(char *out, size_t len);

#endif
