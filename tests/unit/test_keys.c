/* test_keys: see test_keys.h. */
#include "test_keys.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

struct crypto_psk test_key(int which)
{
	static struct crypto_psk k[TEST_KEYS];
	static bool made;
	if (!made) {
		for (int i = 0; i < TEST_KEYS; i++) {
			char line[64], err[128];
			assert_int_equal(crypto_psk_generate(line, sizeof line), 0);
			assert_int_equal(
			    crypto_psk_parse(line, strlen(line), &k[i], err, sizeof err), 1);
		}
		made = true;
	}
	assert_true(which >= 0 && which < TEST_KEYS);
	return k[which];
}
