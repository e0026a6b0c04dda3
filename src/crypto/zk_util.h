/* zk_util.h - arithmetic shared by the modulus and ring-Pedersen proofs.
 *
 * Owns: running a proof's independent rounds on both cores, exponentiation
 * with signed exponents (constant-time for secret ones, including the sign),
 * sampling in a symmetric range, and CRT recombination. Must never branch on
 * or log a secret value; public-exponent variants are only for verifiers.
 */
#ifndef PB_CRYPTO_ZK_UTIL_H
#define PB_CRYPTO_ZK_UTIL_H

#include <stddef.h>

#include <openssl/bn.h>

#include "planbok/error.h"

/* One unit of work; `ctx` is a BN_CTX owned by the calling thread. */
typedef pb_status (*pb_zku_item_fn)(void *arg, size_t index, BN_CTX *ctx);

/* Runs fn for every index in [0, n) on the caller's thread and one worker
 * thread (serially if a thread cannot be started). Stops early on the first
 * failure and returns it, with the failing thread's message. */
pb_status pb_zku_parallel(size_t n, pb_zku_item_fn fn, void *arg);

/* out = base^e mod m for a SECRET e of either sign: constant-time in e's
 * magnitude (BN_mod_exp_mont_consttime) and in its sign (both the power and
 * its inverse are computed, then one is selected without branching).
 * base must be a unit mod m (odd m); mont (read only, may be shared
 * between threads) may be NULL. */
pb_status pb_zku_pow_secret(BIGNUM *out, const BIGNUM *base, const BIGNUM *e, const BIGNUM *m,
                            BN_MONT_CTX *mont, BN_CTX *ctx);
/* Same for a PUBLIC e (variable time); fails if e < 0 and base is not a unit. */
pb_status pb_zku_pow_public(BIGNUM *out, const BIGNUM *base, const BIGNUM *e, const BIGNUM *m,
                            BN_MONT_CTX *mont, BN_CTX *ctx);

/* out = e * x for a PUBLIC e of either sign (a challenge) and a SECRET
 * x in [0, 2^xbits): the product is fixed-width (pb_bn_mul_ct); only e's
 * sign is branched on. */
pb_status pb_zku_mul_challenge(BIGNUM *out, const BIGNUM *e, const BIGNUM *x, int xbits);

/* Uniform in [-bound, bound] (bound >= 0), from the private RNG. */
pb_status pb_zku_random_symmetric(const BIGNUM *bound, BIGNUM *out);

/* out = the x in [0, p*q) with x = xp mod p, x = xq mod q, given
 * qinv = q^-1 mod p; xp, xq reduced. Secret inputs stay in constant-time BIGNUMs. */
pb_status pb_zku_crt(BIGNUM *out, const BIGNUM *xp, const BIGNUM *xq, const BIGNUM *p,
                     const BIGNUM *q, const BIGNUM *qinv, BN_CTX *ctx);

/* 1 iff a is in [1, n) with gcd(a, n) = 1. Variable time: a and n must be
 * public. */
int pb_zku_is_unit(const BIGNUM *a, const BIGNUM *n, BN_CTX *ctx);

/* Bytes needed for a magnitude of up to `bits` bits (decode bounds). */
size_t pb_zku_bytes_for_bits(int bits);

#endif
