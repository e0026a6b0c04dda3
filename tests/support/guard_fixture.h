/* guard_fixture.h - a developer token holding a KEK, an audit key and a few
 * sealed blobs, the paths of its SoftHSM files, and the check that it is
 * whole: found by its label, login works, the KEK and every blob are there
 * and unseal to what was stored. Real SoftHSM, no mocks. */
#ifndef PB_TEST_GUARD_FIXTURE_H
#define PB_TEST_GUARD_FIXTURE_H

#include <stddef.h>
#include <sys/types.h>

#include "support/token_fixture.h"

#define PB_GUARD_FX_BLOBS 4

/* Makes the token and stores the blobs; closes the key store again. */
void pb_guard_fx_make(pb_test_token *t);
/* tokens/<uuid>/token.object of token "pb-test" (found by its label). */
void pb_guard_fx_token_file(const pb_test_token *t, char *out, size_t n);
/* Size of a file, or -1. */
long pb_guard_fx_file_size(const char *path);
/* Cuts the file to `len` bytes. */
void pb_guard_fx_truncate(const char *path, long len);
/* Opens the key store (no create) and checks everything; returns 0 when the
 * token is whole, else -1 with the reason in `why`. Closes it again. */
int pb_guard_fx_check(pb_test_token *t, char *why, size_t n);
/* Child body: what a planbok process does at start-up (load, C_Initialize,
 * sessions, C_Login, find objects), writing one byte to `ready_fd` when
 * done; never returns. */
void pb_guard_fx_startup_child(pb_test_token *t, int ready_fd) __attribute__((noreturn));

#endif
