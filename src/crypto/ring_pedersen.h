/* ring_pedersen.h - a node's ring-Pedersen parameters (N^, s, t).
 *
 * Owns: generation from two safe primes (slow: seconds, so a progress
 * callback reports each candidate), the public parameters every proof
 * against this node uses, and their encoding. N^ = p^q^ with p^ = 2p'+1,
 * q^ = 2q'+1 safe; t = tau^2 mod N^ for random tau; s = t^lambda mod N^ for
 * secret lambda in [0, phi(N^)/4). The secret (p^, q^, lambda) is needed
 * only to prove the parameters well formed (Pi^prm) and is kept in the
 * secure heap. Must never reveal lambda or the factors.
 */
#ifndef PB_CRYPTO_RING_PEDERSEN_H
#define PB_CRYPTO_RING_PEDERSEN_H

#include <openssl/bn.h>

#include "common/bytes.h"
#include "planbok/error.h"

typedef struct pb_rped_public {
    BIGNUM *n_hat;
    BIGNUM *s;
    BIGNUM *t;
    int bits; /* |N^| */
} pb_rped_public;

typedef struct pb_rped_secret pb_rped_secret;

/* Called during the safe-prime search; `what` is "p" or "q", `candidates`
 * counts the tries so far. May be NULL. */
typedef void (*pb_progress_fn)(void *ctx, const char *what, int candidates);

pb_status pb_rped_generate(int bits, pb_progress_fn progress, void *progress_ctx,
                           pb_rped_secret **out);
void pb_rped_secret_free(pb_rped_secret *sec);
const pb_rped_public *pb_rped_public_of(const pb_rped_secret *sec);
const BIGNUM *pb_rped_lambda(const pb_rped_secret *sec);
const BIGNUM *pb_rped_phi(const pb_rped_secret *sec);
/* The safe primes p^ and q^ (secret), for the CRT inside Pi^prm. */
const BIGNUM *pb_rped_p(const pb_rped_secret *sec);
const BIGNUM *pb_rped_q(const pb_rped_secret *sec);

pb_rped_public *pb_rped_public_dup(const pb_rped_public *pub);
void pb_rped_public_free(pb_rped_public *pub);
/* s, t in Z_N^*, s != t, t != 1, |N^| == expected_bits, N^ odd. */
pb_status pb_rped_public_check(const pb_rped_public *pub, int expected_bits);

void pb_rped_public_encode(pb_writer *w, const pb_rped_public *pub);
pb_status pb_rped_public_decode(pb_reader *r, int expected_bits, pb_rped_public **out);
void pb_rped_secret_encode(pb_writer *w, const pb_rped_secret *sec);
pb_status pb_rped_secret_decode(pb_reader *r, pb_rped_secret **out);

#endif
