/* rped_fixture.h - expensive key material for the proof suites, made once
 * per build directory and cached on disk (Criterion runs every test in its
 * own process, so an in-memory cache would not survive).
 *
 * fx_rped_public gives INSECURE ring-Pedersen parameters (N^ from two random,
 * not safe, primes): well formed for the algebra of the range proofs, never
 * fit for anything but tests.
 */
#ifndef PB_TEST_RPED_FIXTURE_H
#define PB_TEST_RPED_FIXTURE_H

#include "crypto/paillier.h"
#include "crypto/ring_pedersen.h"

/* bits: |N^| (2048 or 3072); slot picks one of several independent sets.
 * Free with fx_rped_free. Aborts the test on failure. */
pb_rped_public *fx_rped_public(int bits, int slot);
void fx_rped_free(pb_rped_public *rp);

/* A Paillier key of `bits`, one per slot, cached. Free with
 * pb_paillier_private_free. Aborts the test on failure. */
pb_paillier_private *fx_paillier(int bits, int slot);

#endif
