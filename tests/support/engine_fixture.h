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

#endif
