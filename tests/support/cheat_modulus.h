/* cheat_modulus.h - malformed Paillier moduli and dishonest provers that
 * try their best to pass Pi^mod and Pi^fac for them, so the suites can show
 * that the verifiers (with pb_paillier_public_from_n) reject each kind.
 *
 * A cheating prover knows the full factorisation of its modulus and follows
 * the honest algorithm wherever the algebra allows, substituting its best
 * guess where it does not.
 */
#ifndef PB_TEST_CHEAT_MODULUS_H
#define PB_TEST_CHEAT_MODULUS_H

#include <openssl/bn.h>

#include "crypto/ring_pedersen.h"
#include "crypto/transcript.h"
#include "crypto/zk_fac.h"
#include "crypto/zk_mod.h"

#define CHEAT_MAX_PRIMES 3

/* n = prod primes[i]^exps[i] */
typedef struct cheat_modulus {
    BIGNUM *n;
    BIGNUM *primes[CHEAT_MAX_PRIMES];
    int exps[CHEAT_MAX_PRIMES];
    int count;
} cheat_modulus;

/* Each makes a modulus of exactly `bits` bits (aborting the test on failure). */
void cheat_modulus_small_factor(int bits, cheat_modulus *m); /* r*P, r a 16-bit prime */
void cheat_modulus_square_factor(int bits, cheat_modulus *m); /* p^2 * q */
void cheat_modulus_one_mod_4(int bits, cheat_modulus *m); /* p*q, p = 1 mod 4 */
void cheat_modulus_prime(int bits, cheat_modulus *m); /* a prime */
void cheat_modulus_blum(int bits, cheat_modulus *m); /* honest shape p*q, p = q = 3 mod 4 */
void cheat_modulus_free(cheat_modulus *m);

/* Best-effort Pi^mod for m->n under t. Never fails; the proof may be wrong. */
pb_zk_mod_proof *cheat_zk_mod_prove(const pb_transcript *t, const cheat_modulus *m);
/* Pi^fac run honestly on the most balanced split of m->n into two factors. */
pb_zk_fac_proof *cheat_zk_fac_prove(const pb_transcript *t, const cheat_modulus *m,
                                    const pb_rped_public *rp);

#endif
