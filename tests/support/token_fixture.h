/* token_fixture.h - a real SoftHSM token made for one test in a temporary
 * directory (no mocks), with its KEK and audit key, and its removal. */
#ifndef PB_TEST_TOKEN_FIXTURE_H
#define PB_TEST_TOKEN_FIXTURE_H

#include "pkcs11/hsm_config.h"
#include "pkcs11/keystore.h"

typedef struct pb_test_token {
    char dir[256];
    pb_hsm_config cfg;
} pb_test_token;

/* Provisions token "pb-test" (and "pb-other" for cross-token tests) and
 * fills cfg for it with the given placement. Aborts the test on failure. */
void pb_test_token_make(pb_test_token *t, pb_placement placement);
/* Opens the key store, creating the KEK and audit key. Aborts on failure. */
pb_keystore *pb_test_token_open(pb_test_token *t);
void pb_test_token_remove(pb_test_token *t);

#endif
