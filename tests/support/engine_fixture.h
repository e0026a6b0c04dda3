/* engine_fixture.h - a whole two-node installation for one test: a data
 * directory with real SoftHSM tokens (planbok-node1, planbok-node2), KEKs,
 * audit keys, 2048-bit Paillier, and node 2's cached ring-Pedersen
 * parameters. */
#ifndef PB_TEST_ENGINE_FIXTURE_H
#define PB_TEST_ENGINE_FIXTURE_H

#include "planbok/engine.h"

typedef struct pb_test_engine {
    char home[256];
    char device[300];
    pb_engine *e;
} pb_test_engine;

void pb_test_engine_make(pb_test_engine *t);
/* Closes and re-opens the engine (as a new process would). */
void pb_test_engine_reopen(pb_test_engine *t);
void pb_test_engine_remove(pb_test_engine *t);
/* Writes `text` into <home>/<name> and returns the path (static buffer per call slot). */
const char *pb_test_write_file(pb_test_engine *t, const char *name, const char *text);

/* Signs with the wallet and checks the signature with libsecp256k1 and OpenSSL. */
void pb_test_assert_signs(pb_test_engine *t, const char *id, const pb_secrets *s);

/* Corrupts node 2's c_key (Enc(x1) -> Enc(x1 + 1)), as a faulty or hostile
 * cosigner would, so that every signature fails P1's verification. The
 * sealed record as it was goes to *saved (free it) so a test can put it back. */
void pb_test_corrupt_cosigner(pb_test_engine *t, const char *id, uint8_t **saved,
                              size_t *saved_len);

#endif
