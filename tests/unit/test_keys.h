/*
 * test_keys: pre-shared keys for the unit tests of authentication and key
 * rotation (test_auth.c, test_rekey.c): TEST_KEYS different random keys,
 * made once per test program, as a key file would give them.
 */
#ifndef SCTPGW_TEST_KEYS_H
#define SCTPGW_TEST_KEYS_H

#include "crypto.h"

#define TEST_KEYS 3

/* Key WHICH (0 .. TEST_KEYS-1). */
struct crypto_psk test_key(int which);

#endif
