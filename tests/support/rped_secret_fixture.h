/* rped_secret_fixture.h - REAL ring-Pedersen parameters (safe primes, with
 * the secret) for the suites that need the prover's side (Pi^prm) or a
 * genuine N^. Generating them takes seconds to a minute, so they are made
 * once per machine and cached in $TMPDIR (else /tmp) as
 * planbok-test-rped-v1-<bits>.bin, created atomically under a lock so
 * concurrent test processes generate only once.
 */
#ifndef PB_TEST_RPED_SECRET_FIXTURE_H
#define PB_TEST_RPED_SECRET_FIXTURE_H

#include "crypto/ring_pedersen.h"

/* bits: |N^|. Free with pb_rped_secret_free. Aborts the test on failure. */
pb_rped_secret *fx_rped_secret(int bits);

#endif
