/* zk_fac_impl.h - the layout of a Pi^fac proof, its challenge and the
 * prover core taking the factors explicitly; shared by zk_fac.c and the suites
 * that forge or tamper with proofs (a cheating prover runs the core on the
 * factors of a malformed modulus).
 *
 * Owns nothing at run time. Protocol code must use zk_fac.h only.
 */
#ifndef PB_CRYPTO_ZK_FAC_IMPL_H
#define PB_CRYPTO_ZK_FAC_IMPL_H

#include "crypto/zk_fac.h"

#define PB_ZK_FAC_FIELDS 11

struct pb_zk_fac_proof {
    /* First message, all units mod N^ (commitments under the verifier's s, t). */
    BIGNUM *p_com; /* P = s^p t^mu */
    BIGNUM *q_com; /* Q = s^q t^nu */
    BIGNUM *a_com; /* A = s^alpha t^x */
    BIGNUM *b_com; /* B = s^beta t^y */
    BIGNUM *t_com; /* T = Q^alpha t^r */
    BIGNUM *sigma; /* R = s^N0 t^sigma is formed by the verifier */
    /* Answers to the challenge e in [-q, q]. */
    BIGNUM *z1;    /* alpha + e p, |z1| <= sqrt(N0) 2^(l+eps) */
    BIGNUM *z2;    /* beta + e q, same bound */
    BIGNUM *w1;    /* x + e mu */
    BIGNUM *w2;    /* y + e nu */
    BIGNUM *v;     /* r + e (sigma - nu p) */
};

/* A proof with every field allocated (zero). */
pb_zk_fac_proof *pb_zk_fac_alloc(void);
/* The proof's fields in encoding order (PB_ZK_FAC_FIELDS of them). */
void pb_zk_fac_fields(pb_zk_fac_proof *proof, BIGNUM *fields[PB_ZK_FAC_FIELDS]);
/* e in [-q, q] (q the secp256k1 order), bound to the caller's transcript, N0,
 * the verifier's parameters and the first message. */
pb_status pb_zk_fac_challenge(const pb_transcript *t, const BIGNUM *n0,
                              const pb_rped_public *rp, const pb_zk_fac_proof *proof,
                              BIGNUM *e);
/* The prover for N0 = p*q with the factors given (any sizes). */
pb_status pb_zk_fac_prove_factors(const pb_transcript *t, const BIGNUM *n0, const BIGNUM *p,
                                  const BIGNUM *q, const pb_rped_public *rp,
                                  pb_zk_fac_proof **out);

#endif
