/* crypto: see crypto.h. */
#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PSK_FILE_MAX 4096 /* a key file is a few lines */

int crypto_random(void *buf, size_t len)
{
	return len <= INT_MAX && RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

int crypto_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!ctx)
		return -EIO;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len),
	    OSSL_PARAM_construct_end(),
	};
	int ok = EVP_KDF_derive(ctx, out, out_len, params);
	EVP_KDF_CTX_free(ctx);
	return ok == 1 ? 0 : -EIO;
}

int crypto_hmac(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t len,
                uint8_t out[CRYPTO_MAC_LEN])
{
	unsigned n = 0;
	if (key_len > INT_MAX || !HMAC(EVP_sha256(), key, (int)key_len, msg, len, out, &n) ||
	    n != CRYPTO_MAC_LEN)
		return -EIO;
	return 0;
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void crypto_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

struct crypto_aead {
	EVP_CIPHER_CTX *ctx;
	bool sealing;
};

struct crypto_aead *crypto_aead_new(const uint8_t key[CRYPTO_KEY_LEN], bool sealing)
{
	struct crypto_aead *x = calloc(1, sizeof *x);
	if (!x || !(x->ctx = EVP_CIPHER_CTX_new())) {
		free(x);
		return NULL;
	}
	x->sealing = sealing;
	/* The key schedule runs once here; each message only sets its IV. */
	if (EVP_CipherInit_ex(x->ctx, EVP_aes_256_gcm(), NULL, key, NULL, sealing) != 1 ||
	    EVP_CIPHER_CTX_ctrl(x->ctx, EVP_CTRL_GCM_SET_IVLEN, CRYPTO_IV_LEN, NULL) != 1) {
		crypto_aead_free(x);
		return NULL;
	}
	return x;
}

void crypto_aead_free(struct crypto_aead *x)
{
	if (!x)
		return;
	EVP_CIPHER_CTX_free(x->ctx); /* cleanses the key schedule */
	free(x);
}

int crypto_aead_seal(struct crypto_aead *x, const uint8_t iv[CRYPTO_IV_LEN], const uint8_t *ad,
                     size_t ad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
	int n;
	if (!x->sealing || ad_len > INT_MAX || in_len > INT_MAX ||
	    EVP_EncryptInit_ex(x->ctx, NULL, NULL, NULL, iv) != 1 ||
	    (ad_len && EVP_EncryptUpdate(x->ctx, NULL, &n, ad, (int)ad_len) != 1) ||
	    (in_len && EVP_EncryptUpdate(x->ctx, out, &n, in, (int)in_len) != 1) ||
	    EVP_EncryptFinal_ex(x->ctx, out + in_len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(x->ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG_LEN, out + in_len) != 1)
		return -EIO;
	return 0;
}

int crypto_aead_open(struct crypto_aead *x, const uint8_t iv[CRYPTO_IV_LEN], const uint8_t *ad,
                     size_t ad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
	int n;
	if (x->sealing || in_len < CRYPTO_TAG_LEN || ad_len > INT_MAX || in_len > INT_MAX)
		return -EBADMSG;
	size_t clen = in_len - CRYPTO_TAG_LEN;
	if (EVP_DecryptInit_ex(x->ctx, NULL, NULL, NULL, iv) != 1 ||
	    (ad_len && EVP_DecryptUpdate(x->ctx, NULL, &n, ad, (int)ad_len) != 1) ||
	    (clen && EVP_DecryptUpdate(x->ctx, out, &n, in, (int)clen) != 1) ||
	    EVP_CIPHER_CTX_ctrl(x->ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG_LEN,
	                        (void *)(in + clen)) != 1 ||
	    EVP_DecryptFinal_ex(x->ctx, out + clen, &n) != 1)
		return -EBADMSG;
	return 0;
}

/* ---- the key file ------------------------------------------------------ */

static const char keyid_label[] = "sctpgw key id";

/* Decode one line of base64 (no whitespace inside) into OUT; the length or
 * -1. EVP_DecodeBlock counts padding as zero bytes: those are taken off. */
static int base64_line(const char *s, size_t len, uint8_t *out, size_t cap)
{
	if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap || len > INT_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		bool pad_ok = ch == '=' && i >= len - 2 && (i == len - 1 || s[len - 1] == '=');
		if (!(ch >= 'A' && ch <= 'Z') && !(ch >= 'a' && ch <= 'z') &&
		    !(ch >= '0' && ch <= '9') && ch != '+' && ch != '/' && !pad_ok)
			return -1;
	}
	int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (n < 0)
		return -1;
	n -= (s[len - 1] == '=') + (s[len - 2] == '=');
	return n;
}

/* A key made of few distinct byte values is not random: 32 random bytes
 * have about 30 distinct values, and fewer than 16 happens with odds
 * below 2^-40. This catches "aaaa...", zeros and short repeated words. */
static bool looks_random(const uint8_t *k, size_t len)
{
	bool seen[256] = {false};
	size_t distinct = 0;
	for (size_t i = 0; i < len; i++)
		if (!seen[k[i]]) {
			seen[k[i]] = true;
			distinct++;
		}
	return distinct >= 16;
}

int crypto_psk_parse(const char *text, size_t len, struct crypto_psk out[CRYPTO_PSK_KEYS],
                     char *err, size_t errlen)
{
	int n = 0;
	unsigned line = 0;
	const char *p = text, *end = text + len;
	uint8_t buf[CRYPTO_PSK_MAX_LEN + 3];

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		line++;
		const char *b = p;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		const char *t = e;
		while (t > b && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r'))
			t--;
		p = nl ? nl + 1 : end;
		if (b == t || *b == '#')
			continue;
		if (n == CRYPTO_PSK_KEYS) {
			snprintf(err, errlen,
			         "line %u: a third key; expected at most %d (the current key, then "
			         "the next one)",
			         line, CRYPTO_PSK_KEYS);
			return -EINVAL;
		}
		int k = base64_line(b, (size_t)(t - b), buf, sizeof buf);
		if (k < 0) {
			snprintf(
			    err, errlen,
			    "line %u: not a base64 key of at most %d bytes; expected one key a "
			    "line, as `sctpgw --gen-psk` prints",
			    line, CRYPTO_PSK_MAX_LEN);
			return -EINVAL;
		}
		if (k < CRYPTO_PSK_MIN || k > CRYPTO_PSK_MAX_LEN) {
			snprintf(err, errlen,
			         "line %u: the key has %d bytes; expected %d to %d random bytes "
			         "(`sctpgw --gen-psk`, or `head -c 32 /dev/urandom | base64`)",
			         line, k, CRYPTO_PSK_MIN, CRYPTO_PSK_MAX_LEN);
			crypto_wipe(buf, sizeof buf);
			return -EINVAL;
		}
		if (!looks_random(buf, (size_t)k)) {
			snprintf(
			    err, errlen,
			    "line %u: the key is not random (too few distinct bytes); expected "
			    "random bytes (`sctpgw --gen-psk`)",
			    line);
			crypto_wipe(buf, sizeof buf);
			return -EINVAL;
		}
		struct crypto_psk *o = &out[n++];
		memcpy(o->key, buf, (size_t)k);
		o->len = (size_t)k;
		uint8_t mac[CRYPTO_MAC_LEN];
		if (crypto_hmac(o->key, o->len, (const uint8_t *)keyid_label,
		                sizeof keyid_label - 1, mac) < 0) {
			snprintf(err, errlen, "cannot compute the key id");
			return -EINVAL;
		}
		memcpy(o->id, mac, CRYPTO_KEYID_LEN);
		for (int i = 0; i < n - 1; i++)
			if (crypto_equal(out[i].id, o->id, CRYPTO_KEYID_LEN)) {
				snprintf(err, errlen,
				         "line %u: the same key twice; expected two "
				         "different keys",
				         line);
				return -EINVAL;
			}
	}
	crypto_wipe(buf, sizeof buf);
	if (n == 0) {
		snprintf(err, errlen,
		         "no key; expected one line with the base64 of %d random bytes "
		         "(`sctpgw --gen-psk`)",
		         CRYPTO_PSK_MIN);
		return -EINVAL;
	}
	return n;
}

int crypto_psk_load(const char *path, struct crypto_psk out[CRYPTO_PSK_KEYS], char *err,
                    size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ELOOP)
		fd =
		    open(path, O_RDONLY | O_CLOEXEC); /* a symlink is fine; its target is checked */
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot read: %s", strerror(e));
		return -e;
	}
	struct stat st;
	char text[PSK_FILE_MAX];
	ssize_t n = 0;
	int rc = -EINVAL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
	} else if ((st.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) ||
	           ((st.st_mode & S_IRGRP) && st.st_gid != getegid())) {
		snprintf(err, errlen,
		         "mode %04o lets group or others use the key; expected 0600 or 0400 "
		         "(chmod 600 %s), or 0440 with the gateway's own group",
		         (unsigned)(st.st_mode & 07777), path);
	} else if ((n = read(fd, text, sizeof text)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read: %s", strerror(-rc));
	} else if ((size_t)n == sizeof text) {
		snprintf(err, errlen, "over %d bytes; expected one or two lines of base64",
		         PSK_FILE_MAX - 1);
	} else {
		rc = crypto_psk_parse(text, (size_t)n, out, err, errlen);
	}
	crypto_wipe(text, sizeof text);
	close(fd);
	return rc;
}

int crypto_psk_generate(char *out, size_t len)
{
	uint8_t key[32];
	if (len < 46 || crypto_random(key, sizeof key) < 0)
		return -EIO;
	int n = EVP_EncodeBlock((unsigned char *)out, key, sizeof key);
	crypto_wipe(key, sizeof key);
	out[n] = '\n';
	out[n + 1] = '\0';
	return 0;
}
