/*
 * Unit tests for crypto: that the library calls compute what the RFCs and
 * NIST say (known answers), that tampering is caught, and the key file
 * rules (format, length, randomness, permissions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"

static void hex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sscanf(h + 2 * i, "%2hhx", &out[i]);
}

/* RFC 5869, appendix A.1 (SHA-256). */
static void hkdf__rfc5869_case_1__gives_the_published_okm(void **state)
{
	(void)state;
	uint8_t ikm[22], salt[13], info[10], okm[42], want[42];
	memset(ikm, 0x0b, sizeof ikm);
	for (size_t i = 0; i < sizeof salt; i++)
		salt[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof info; i++)
		info[i] = (uint8_t)(0xf0 + i);
	hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
	    want, sizeof want);
	assert_int_equal(
	    crypto_hkdf(salt, sizeof salt, ikm, sizeof ikm, info, sizeof info, okm, sizeof okm), 0);
	assert_memory_equal(okm, want, sizeof want);
}

/* RFC 4231 test case 2. */
static void hmac__rfc4231_case_2__gives_the_published_mac(void **state)
{
	(void)state;
	uint8_t mac[32], want[32];
	hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want, 32);
	assert_int_equal(crypto_hmac((const uint8_t *)"Jefe", 4,
	                             (const uint8_t *)"what do ya want for nothing?", 28, mac),
	                 0);
	assert_memory_equal(mac, want, 32);
}

/* NIST GCM test vectors, AES-256: zero key and IV, 16 zero bytes. */
static void aead__nist_vector__gives_the_published_ciphertext_and_tag(void **state)
{
	(void)state;
	uint8_t key[32] = {0}, iv[12] = {0}, pt[16] = {0}, out[32], want[32];
	hex("cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919", want, 32);
	struct crypto_aead *s = crypto_aead_new(key, true);
	assert_non_null(s);
	assert_int_equal(crypto_aead_seal(s, iv, NULL, 0, pt, sizeof pt, out), 0);
	assert_memory_equal(out, want, 32);
	crypto_aead_free(s);
}

static void aead__any_flipped_bit__fails_to_open(void **state)
{
	(void)state;
	uint8_t key[32], iv[12] = {1}, ad[8] = "counter", msg[100], sealed[116], back[100];
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)i;
	struct crypto_aead *s = crypto_aead_new(key, true), *o = crypto_aead_new(key, false);
	assert_int_equal(crypto_aead_seal(s, iv, ad, sizeof ad, msg, sizeof msg, sealed), 0);
	assert_int_equal(crypto_aead_open(o, iv, ad, sizeof ad, sealed, sizeof sealed, back), 0);
	assert_memory_equal(back, msg, sizeof msg);
	/* Every byte of ciphertext and tag, then the AD and the IV. */
	for (size_t i = 0; i < sizeof sealed; i++) {
		sealed[i] ^= 0x01;
		assert_int_equal(
		    crypto_aead_open(o, iv, ad, sizeof ad, sealed, sizeof sealed, back), -EBADMSG);
		sealed[i] ^= 0x01;
	}
	ad[0] ^= 1;
	assert_int_equal(crypto_aead_open(o, iv, ad, sizeof ad, sealed, sizeof sealed, back),
	                 -EBADMSG);
	ad[0] ^= 1;
	iv[11] ^= 1;
	assert_int_equal(crypto_aead_open(o, iv, ad, sizeof ad, sealed, sizeof sealed, back),
	                 -EBADMSG);
	/* Empty plaintext: the tag authenticates the AD alone (encrypt = no). */
	uint8_t tag[16];
	assert_int_equal(crypto_aead_seal(s, iv, msg, sizeof msg, NULL, 0, tag), 0);
	assert_int_equal(crypto_aead_open(o, iv, msg, sizeof msg, tag, sizeof tag, NULL), 0);
	msg[50] ^= 4;
	assert_int_equal(crypto_aead_open(o, iv, msg, sizeof msg, tag, sizeof tag, NULL), -EBADMSG);
	crypto_aead_free(s);
	crypto_aead_free(o);
}

static void psk__generated_key__parses_with_32_bytes(void **state)
{
	(void)state;
	char line[64];
	struct crypto_psk k[2];
	char err[256] = "";
	assert_int_equal(crypto_psk_generate(line, sizeof line), 0);
	assert_int_equal(strlen(line), 45); /* 44 base64 characters and a newline */
	assert_int_equal(crypto_psk_parse(line, strlen(line), k, err, sizeof err), 1);
	assert_int_equal(k[0].len, 32);
	/* Two generated keys differ, and so do their ids. */
	char other[64];
	assert_int_equal(crypto_psk_generate(other, sizeof other), 0);
	assert_string_not_equal(line, other);
}

static void psk__two_keys_and_comments__give_current_then_next(void **state)
{
	(void)state;
	char a[64], b[64], text[256];
	struct crypto_psk k[2];
	char err[256] = "";
	crypto_psk_generate(a, sizeof a);
	crypto_psk_generate(b, sizeof b);
	snprintf(text, sizeof text, "# current\n  %s\n# next\n%s", a, b);
	assert_int_equal(crypto_psk_parse(text, strlen(text), k, err, sizeof err), 2);
	assert_memory_not_equal(k[0].id, k[1].id, CRYPTO_KEYID_LEN);
	struct crypto_psk one[2];
	assert_int_equal(crypto_psk_parse(a, strlen(a), one, err, sizeof err), 1);
	assert_memory_equal(one[0].id, k[0].id, CRYPTO_KEYID_LEN);
}

static void expect_bad(const char *text, const char *needle)
{
	struct crypto_psk k[2];
	char err[256] = "";
	assert_int_equal(crypto_psk_parse(text, strlen(text), k, err, sizeof err), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
}

static void psk__bad_keys__are_refused_with_the_reason(void **state)
{
	(void)state;
	expect_bad("", "no key");
	expect_bad("# only a comment\n", "no key");
	/* 16 random-looking bytes: too short. */
	expect_bad("q2bV3xk+Yt1pZ8mR0aWcLg==\n", "line 1: the key has 16 bytes");
	expect_bad("this is not base64!\n", "line 1: not a base64 key");
	/* 33 bytes of 'a': long enough but not random. */
	expect_bad("YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh\n", "not random");
	char a[64], text[256];
	crypto_psk_generate(a, sizeof a);
	snprintf(text, sizeof text, "%s%s", a, a);
	expect_bad(text, "line 2: the same key twice");
	char b[64], c[64];
	crypto_psk_generate(b, sizeof b);
	crypto_psk_generate(c, sizeof c);
	snprintf(text, sizeof text, "%s%s%s", a, b, c);
	expect_bad(text, "line 3: a third key");
}

/* A fresh key in a new file made from the mkstemp template PATH (0600). */
static void new_key_file(char *path)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	char key[64];
	crypto_psk_generate(key, sizeof key);
	assert_int_equal(write(fd, key, strlen(key)), (ssize_t)strlen(key));
	close(fd);
}

static void psk_load__readable_by_others__is_refused(void **state)
{
	(void)state;
	char path[] = "/tmp/sctpgw-test-psk-XXXXXX";
	new_key_file(path);
	struct crypto_psk k[2];
	char err[256] = "";
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(crypto_psk_load(path, k, err, sizeof err), 1);
	assert_int_equal(chmod(path, 0660), 0);
	assert_int_equal(crypto_psk_load(path, k, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "mode 0660 lets group or others use the key"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(crypto_psk_load(path, k, err, sizeof err), -EINVAL);
	unlink(path);
	assert_int_equal(crypto_psk_load(path, k, err, sizeof err), -ENOENT);
}

/* Kubernetes mounts a secret root:fsGroup with the group's read bit: a key
 * readable by the gateway's own (effective) group is accepted, by another
 * group it is not. */
static void psk_load__group_readable__only_by_the_own_group(void **state)
{
	(void)state;
	char path[] = "/tmp/sctpgw-test-psk-XXXXXX";
	new_key_file(path);
	struct crypto_psk k[2];
	char err[256] = "";
	assert_int_equal(chmod(path, 0440), 0);
	assert_int_equal(chown(path, (uid_t)-1, getegid()), 0);
	assert_int_equal(crypto_psk_load(path, k, err, sizeof err), 1);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(crypto_psk_load(path, k, err, sizeof err), 1);
	/* Another group: root can give the file one; others test what they can. */
	gid_t other = getegid() == 65534 ? 65533 : 65534;
	if (chown(path, (uid_t)-1, other) == 0) {
		assert_int_equal(crypto_psk_load(path, k, err, sizeof err), -EINVAL);
		assert_non_null(strstr(err, "mode 0640 lets group or others use the key"));
	} else {
		assert_int_equal(geteuid() == 0, 0); /* root must have been able to */
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hkdf__rfc5869_case_1__gives_the_published_okm),
	    cmocka_unit_test(hmac__rfc4231_case_2__gives_the_published_mac),
	    cmocka_unit_test(aead__nist_vector__gives_the_published_ciphertext_and_tag),
	    cmocka_unit_test(aead__any_flipped_bit__fails_to_open),
	    cmocka_unit_test(psk__generated_key__parses_with_32_bytes),
	    cmocka_unit_test(psk__two_keys_and_comments__give_current_then_next),
	    cmocka_unit_test(psk__bad_keys__are_refused_with_the_reason),
	    cmocka_unit_test(psk_load__group_readable__only_by_the_own_group),
	    cmocka_unit_test(psk_load__readable_by_others__is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
