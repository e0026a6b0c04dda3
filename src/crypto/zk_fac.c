/* zk_fac.c - Pi^fac, CGGMP21 (ePrint 2021/060) Fig. 28: N0 = p*q with both
 * factors of absolute value at most sqrt(N0) 2^(l+eps), hence both above
 * sqrt(N0) / 2^(l+eps) ("no small factor"). Commitments are made under the
 * verifier's ring-Pedersen parameters (N^, s, t); the challenge e in [-q, q]
 * comes from the caller's transcript. l = PB_ZK_L, eps = PB_ZK_EPS.
 *
 * Sampling ranges are the figure's: alpha, beta in +-2^(l+eps) sqrt(N0) (with
 * 2^floor((|N0|-1)/2) <= sqrt(N0) standing for sqrt(N0)), mu, nu in
 * +-2^l N^, sigma in +-2^l N0 N^, r in +-2^(l+eps) N0 N^, x, y in
 * +-2^(l+eps) N^. The verifier recomputes R = s^N0 t^sigma from the sent
 * sigma and checks z1, z2 against sqrt(N0) 2^(l+eps) exactly (by squaring).
 *
 * Owns the proof's encoding. Must never reveal p, q or any mask; secret
 * exponents go through pb_zku_pow_secret only.
 */
#include "crypto/zk_fac.h"

#include <stdlib.h>
#include <string.h>

#include "common/fail.h"
#include "crypto/bn.h"
#include "crypto/ec.h"
#include "crypto/zk_fac_impl.h"
#include "crypto/zk_util.h"

/* Bit bounds (|value| <= 2^bits) of the answers, from the sampling ranges;
 * with eps > |q| + 1 each is met by every honest proof. */
static int sigma_bits(int n0_bits, int nhat_bits) { return PB_ZK_L + n0_bits + nhat_bits; }
static int w_bits(int nhat_bits) { return PB_ZK_L + PB_ZK_EPS + nhat_bits + 1; }
static int v_bits(int n0_bits, int nhat_bits)
{
    return PB_ZK_L + PB_ZK_EPS + n0_bits + nhat_bits + 1;
}
/* Only a decoding bound: the verifier's check on z is exact. */
static int z_bits(int n0_bits) { return PB_ZK_L + PB_ZK_EPS + n0_bits / 2 + 1; }

pb_zk_fac_proof *pb_zk_fac_alloc(void)
{
    pb_zk_fac_proof *proof = calloc(1, sizeof *proof);
    if (proof == NULL)
        return NULL;
    BIGNUM **slots[PB_ZK_FAC_FIELDS] = {&proof->p_com, &proof->q_com, &proof->a_com,
                                        &proof->b_com, &proof->t_com, &proof->sigma,
                                        &proof->z1,    &proof->z2,    &proof->w1,
                                        &proof->w2,    &proof->v};
    for (int i = 0; i < PB_ZK_FAC_FIELDS; i++) {
        if ((*slots[i] = BN_new()) == NULL) {
            pb_zk_fac_free(proof);
            return NULL;
        }
    }
    return proof;
}

void pb_zk_fac_fields(pb_zk_fac_proof *proof, BIGNUM *fields[PB_ZK_FAC_FIELDS])
{
    BIGNUM *all[PB_ZK_FAC_FIELDS] = {proof->p_com, proof->q_com, proof->a_com, proof->b_com,
                                     proof->t_com, proof->sigma, proof->z1,    proof->z2,
                                     proof->w1,    proof->w2,    proof->v};
    memcpy(fields, all, sizeof all);
}

void pb_zk_fac_free(pb_zk_fac_proof *proof)
{
    if (proof == NULL)
        return;
    BIGNUM *fields[PB_ZK_FAC_FIELDS];
    pb_zk_fac_fields(proof, fields);
    for (int i = 0; i < PB_ZK_FAC_FIELDS; i++)
        BN_free(fields[i]);
    free(proof);
}

pb_status pb_zk_fac_challenge(const pb_transcript *t, const BIGNUM *n0,
                              const pb_rped_public *rp, const pb_zk_fac_proof *proof,
                              BIGNUM *e)
{
    pb_transcript tr = *t;
    pb_transcript_append(&tr, "proof", "pi-fac", 6);
    pb_transcript_append_bn(&tr, "fac.N0", n0);
    pb_transcript_append_bn(&tr, "fac.Nhat", rp->n_hat);
    pb_transcript_append_bn(&tr, "fac.s", rp->s);
    pb_transcript_append_bn(&tr, "fac.t", rp->t);
    pb_transcript_append_bn(&tr, "fac.P", proof->p_com);
    pb_transcript_append_bn(&tr, "fac.Q", proof->q_com);
    pb_transcript_append_bn(&tr, "fac.A", proof->a_com);
    pb_transcript_append_bn(&tr, "fac.B", proof->b_com);
    pb_transcript_append_bn(&tr, "fac.T", proof->t_com);
    pb_transcript_append_bn(&tr, "fac.sigma", proof->sigma);
    return pb_transcript_challenge_signed(&tr, "fac.e", pb_ec_order(), e);
}

/* --- prover ------------------------------------------------------------------ */

/* out = b1^e1 * b2^e2 mod N^ for secret exponents. */
static pb_status commit2(BIGNUM *out, const BIGNUM *b1, const BIGNUM *e1, const BIGNUM *b2,
                         const BIGNUM *e2, const pb_rped_public *rp, BN_MONT_CTX *mont,
                         BN_CTX *ctx)
{
    pb_status st = PB_OK;
    BN_CTX_start(ctx);
    BIGNUM *u = BN_CTX_get(ctx);
    BIGNUM *v = BN_CTX_get(ctx);
    if (v == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "fac proof: allocation failed");
        goto done;
    }
    BN_set_flags(u, BN_FLG_CONSTTIME);
    BN_set_flags(v, BN_FLG_CONSTTIME);
    if ((st = pb_zku_pow_secret(u, b1, e1, rp->n_hat, mont, ctx)) != PB_OK ||
        (st = pb_zku_pow_secret(v, b2, e2, rp->n_hat, mont, ctx)) != PB_OK)
        goto done;
    /* u and v are secret powers; only their product is published. */
    st = pb_bn_mod_mul_ct(out, u, v, rp->n_hat, ctx);
done:
    BN_CTX_end(ctx);
    return st;
}

/* The prover's secret samples, all in the secure heap. */
enum { S_ALPHA, S_BETA, S_MU, S_NU, S_SIGMA, S_R, S_X, S_Y, S_TMP, S_TMP2, S_COUNT };

pb_status pb_zk_fac_prove_factors(const pb_transcript *t, const BIGNUM *n0, const BIGNUM *p,
                                  const BIGNUM *q, const pb_rped_public *rp,
                                  pb_zk_fac_proof **out)
{
    *out = NULL;
    pb_status st = pb_rped_public_check(rp, rp ? rp->bits : 0);
    if (st != PB_OK)
        return pb_fail_context(st, "fac proof");
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "fac proof: no BN_CTX");
    pb_zk_fac_proof *proof = pb_zk_fac_alloc();
    BIGNUM *sv[S_COUNT] = {0};
    BIGNUM *bound = BN_new(), *e = BN_new();
    BN_MONT_CTX *mont = BN_MONT_CTX_new();
    int ok = proof && bound && e && mont;
    for (int i = 0; ok && i < S_COUNT; i++)
        ok = (sv[i] = pb_bn_secure_new()) != NULL;
    if (!ok || !BN_MONT_CTX_set(mont, rp->n_hat, ctx)) {
        st = pb_fail(PB_ERR_NOMEM, "fac proof: allocation failed");
        goto done;
    }
    int n0_bits = BN_num_bits(n0);
    int half = (n0_bits - 1) / 2;
    /* alpha, beta in +-2^(l+eps+half); the rest in +-2^k * (N^ or N0 N^). */
    if ((st = pb_bn_random_signed(PB_ZK_L + PB_ZK_EPS + half, sv[S_ALPHA])) != PB_OK ||
        (st = pb_bn_random_signed(PB_ZK_L + PB_ZK_EPS + half, sv[S_BETA])) != PB_OK)
        goto done;
    if (!BN_lshift(bound, rp->n_hat, PB_ZK_L) ||
        (st = pb_zku_random_symmetric(bound, sv[S_MU])) != PB_OK ||
        (st = pb_zku_random_symmetric(bound, sv[S_NU])) != PB_OK ||
        !BN_lshift(bound, rp->n_hat, PB_ZK_L + PB_ZK_EPS) ||
        (st = pb_zku_random_symmetric(bound, sv[S_X])) != PB_OK ||
        (st = pb_zku_random_symmetric(bound, sv[S_Y])) != PB_OK || !BN_mul(bound, bound, n0, ctx) ||
        (st = pb_zku_random_symmetric(bound, sv[S_R])) != PB_OK ||
        !BN_rshift(bound, bound, PB_ZK_EPS) ||
        (st = pb_zku_random_symmetric(bound, sv[S_SIGMA])) != PB_OK) {
        if (st == PB_OK)
            st = pb_fail(PB_ERR_CRYPTO, "fac proof: sampling failed");
        goto done;
    }
    const BIGNUM *s = rp->s, *tt = rp->t;
    if ((st = commit2(proof->p_com, s, p, tt, sv[S_MU], rp, mont, ctx)) != PB_OK ||
        (st = commit2(proof->q_com, s, q, tt, sv[S_NU], rp, mont, ctx)) != PB_OK ||
        (st = commit2(proof->a_com, s, sv[S_ALPHA], tt, sv[S_X], rp, mont, ctx)) != PB_OK ||
        (st = commit2(proof->b_com, s, sv[S_BETA], tt, sv[S_Y], rp, mont, ctx)) != PB_OK ||
        (st = commit2(proof->t_com, proof->q_com, sv[S_ALPHA], tt, sv[S_R], rp, mont, ctx)) !=
            PB_OK)
        goto done;
    /* sigma is published: it is independent of every secret. */
    if (BN_copy(proof->sigma, sv[S_SIGMA]) == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "fac proof: allocation failed");
        goto done;
    }
    if ((st = pb_zk_fac_challenge(t, n0, rp, proof, e)) != PB_OK)
        goto done;
    BIGNUM *tmp = sv[S_TMP], *tmp2 = sv[S_TMP2];
    /* e*p and e*q at fixed width (the factors are the witness). The signed
     * masks below go through BN_mul, which for these unequal lengths is the
     * schoolbook product, and BN_add, which branches on the operands' signs:
     * see docs/protocol.md 13. */
    if ((st = pb_zku_mul_challenge(tmp, e, p, BN_num_bits(p))) != PB_OK ||
        !BN_add(proof->z1, sv[S_ALPHA], tmp) ||
        (st = pb_zku_mul_challenge(tmp, e, q, BN_num_bits(q))) != PB_OK ||
        !BN_add(proof->z2, sv[S_BETA], tmp)) {
        if (st == PB_OK)
            st = pb_fail(PB_ERR_CRYPTO, "fac proof: arithmetic failed");
        goto done;
    }
    if (!BN_mul(tmp, e, sv[S_MU], ctx) || !BN_add(proof->w1, sv[S_X], tmp) ||
        !BN_mul(tmp, e, sv[S_NU], ctx) || !BN_add(proof->w2, sv[S_Y], tmp) ||
        /* v = r + e (sigma - nu p) */
        !BN_mul(tmp, sv[S_NU], p, ctx) || !BN_sub(tmp2, sv[S_SIGMA], tmp) ||
        !BN_mul(tmp, e, tmp2, ctx) || !BN_add(proof->v, sv[S_R], tmp)) {
        st = pb_fail(PB_ERR_CRYPTO, "fac proof: arithmetic failed");
        goto done;
    }
    *out = proof;
    proof = NULL;
done:
    pb_zk_fac_free(proof);
    for (int i = 0; i < S_COUNT; i++)
        BN_clear_free(sv[i]);
    BN_free(bound);
    BN_free(e);
    BN_MONT_CTX_free(mont);
    return st;
}

pb_status pb_zk_fac_prove(const pb_transcript *t, const pb_paillier_private *sk,
                          const pb_rped_public *verifier_rp, pb_zk_fac_proof **out)
{
    return pb_zk_fac_prove_factors(t, pb_paillier_n(pb_paillier_public_of(sk)),
                                   pb_paillier_private_p(sk), pb_paillier_private_q(sk),
                                   verifier_rp, out);
}

/* --- verifier ------------------------------------------------------------------ */

/* |z| <= sqrt(N0) 2^(l+eps), i.e. z^2 <= N0 2^(2(l+eps)). */
static int z_in_range(const BIGNUM *z, const BIGNUM *n0, BN_CTX *ctx)
{
    BN_CTX_start(ctx);
    BIGNUM *zz = BN_CTX_get(ctx);
    BIGNUM *lim = BN_CTX_get(ctx);
    int ok = lim != NULL && BN_sqr(zz, z, ctx) && BN_lshift(lim, n0, 2 * (PB_ZK_L + PB_ZK_EPS)) &&
             BN_cmp(zz, lim) <= 0;
    BN_CTX_end(ctx);
    return ok;
}

/* out = b1^e1 * b2^e2 mod N^ for public exponents of either sign. */
static pb_status pub2(BIGNUM *out, const BIGNUM *b1, const BIGNUM *e1, const BIGNUM *b2,
                      const BIGNUM *e2, const pb_rped_public *rp, BN_MONT_CTX *mont,
                      BN_CTX *ctx)
{
    pb_status st = PB_OK;
    BN_CTX_start(ctx);
    BIGNUM *u = BN_CTX_get(ctx);
    BIGNUM *v = BN_CTX_get(ctx);
    if (v == NULL)
        st = pb_fail(PB_ERR_NOMEM, "fac proof: allocation failed");
    else if ((st = pb_zku_pow_public(u, b1, e1, rp->n_hat, mont, ctx)) == PB_OK &&
             (st = pb_zku_pow_public(v, b2, e2, rp->n_hat, mont, ctx)) == PB_OK &&
             !BN_mod_mul(out, u, v, rp->n_hat, ctx))
        st = pb_fail(PB_ERR_CRYPTO, "fac proof: arithmetic failed");
    BN_CTX_end(ctx);
    return st;
}

/* lhs = b1^e1 b2^e2 must equal c * d^e (mod N^). */
static pb_status check_eq(const char *which, const BIGNUM *b1, const BIGNUM *e1,
                          const BIGNUM *b2, const BIGNUM *e2, const BIGNUM *c, const BIGNUM *d,
                          const BIGNUM *e, const pb_rped_public *rp, BN_MONT_CTX *mont,
                          BN_CTX *ctx)
{
    pb_status st = PB_OK;
    BN_CTX_start(ctx);
    BIGNUM *lhs = BN_CTX_get(ctx);
    BIGNUM *rhs = BN_CTX_get(ctx);
    if (rhs == NULL)
        st = pb_fail(PB_ERR_NOMEM, "fac proof: allocation failed");
    else if ((st = pub2(lhs, b1, e1, b2, e2, rp, mont, ctx)) == PB_OK &&
             (st = pb_zku_pow_public(rhs, d, e, rp->n_hat, mont, ctx)) == PB_OK) {
        if (!BN_mod_mul(rhs, rhs, c, rp->n_hat, ctx))
            st = pb_fail(PB_ERR_CRYPTO, "fac proof: arithmetic failed");
        else if (BN_cmp(lhs, rhs) != 0)
            st = pb_fail(PB_ERR_PROOF, "fac proof: %s equation does not hold", which);
    }
    BN_CTX_end(ctx);
    return st;
}

pb_status pb_zk_fac_verify(const pb_transcript *t, const pb_paillier_public *pk,
                           const pb_rped_public *verifier_rp, const pb_zk_fac_proof *proof)
{
    if (pk == NULL || proof == NULL)
        return pb_fail(PB_ERR_ARGUMENT, "fac proof: missing key or proof");
    const pb_rped_public *rp = verifier_rp;
    pb_status st = pb_rped_public_check(rp, rp ? rp->bits : 0);
    if (st != PB_OK)
        return pb_fail_context(st, "fac proof");
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "fac proof: no BN_CTX");
    const BIGNUM *n0 = pb_paillier_n(pk);
    int n0_bits = BN_num_bits(n0);
    const BIGNUM *coms[5] = {proof->p_com, proof->q_com, proof->a_com, proof->b_com,
                             proof->t_com};
    for (int i = 0; i < 5; i++)
        if (!pb_zku_is_unit(coms[i], rp->n_hat, ctx))
            return pb_fail(PB_ERR_PROOF, "fac proof: commitment %d is not a unit mod N^", i);
    if (!pb_bn_in_signed_range(proof->sigma, sigma_bits(n0_bits, rp->bits)) ||
        !pb_bn_in_signed_range(proof->w1, w_bits(rp->bits)) ||
        !pb_bn_in_signed_range(proof->w2, w_bits(rp->bits)) ||
        !pb_bn_in_signed_range(proof->v, v_bits(n0_bits, rp->bits)))
        return pb_fail(PB_ERR_PROOF, "fac proof: an answer exceeds its range");
    if (!z_in_range(proof->z1, n0, ctx) || !z_in_range(proof->z2, n0, ctx))
        return pb_fail(PB_ERR_PROOF, "fac proof: z1 or z2 outside +-sqrt(N0) 2^(l+eps)");

    BIGNUM *e = BN_new(), *r = BN_new();
    BN_MONT_CTX *mont = BN_MONT_CTX_new();
    if (e == NULL || r == NULL || mont == NULL || !BN_MONT_CTX_set(mont, rp->n_hat, ctx)) {
        st = pb_fail(PB_ERR_NOMEM, "fac proof: allocation failed");
        goto done;
    }
    if ((st = pb_zk_fac_challenge(t, n0, rp, proof, e)) != PB_OK)
        goto done;
    /* R = s^N0 t^sigma */
    if ((st = pub2(r, rp->s, n0, rp->t, proof->sigma, rp, mont, ctx)) != PB_OK)
        goto done;
    if ((st = check_eq("first", rp->s, proof->z1, rp->t, proof->w1, proof->a_com, proof->p_com,
                       e, rp, mont, ctx)) != PB_OK ||
        (st = check_eq("second", rp->s, proof->z2, rp->t, proof->w2, proof->b_com, proof->q_com,
                       e, rp, mont, ctx)) != PB_OK ||
        (st = check_eq("third", proof->q_com, proof->z1, rp->t, proof->v, proof->t_com, r, e, rp,
                       mont, ctx)) != PB_OK)
        goto done;
done:
    BN_free(e);
    BN_free(r);
    BN_MONT_CTX_free(mont);
    return st;
}

/* --- encoding ------------------------------------------------------------------ */

void pb_zk_fac_encode(pb_writer *w, const pb_zk_fac_proof *proof)
{
    const BIGNUM *all[PB_ZK_FAC_FIELDS] = {proof->p_com, proof->q_com, proof->a_com,
                                           proof->b_com, proof->t_com, proof->sigma,
                                           proof->z1,    proof->z2,    proof->w1,
                                           proof->w2,    proof->v};
    for (int i = 0; i < PB_ZK_FAC_FIELDS; i++)
        pb_bn_encode(w, all[i]);
}

pb_status pb_zk_fac_decode(pb_reader *r, const pb_paillier_public *pk,
                           const pb_rped_public *verifier_rp, pb_zk_fac_proof **out)
{
    *out = NULL;
    pb_zk_fac_proof *proof = pb_zk_fac_alloc();
    if (proof == NULL)
        return pb_fail(PB_ERR_NOMEM, "fac proof: allocation failed");
    int n0_bits = BN_num_bits(pb_paillier_n(pk));
    int nh_bits = verifier_rp->bits;
    BIGNUM *fields[PB_ZK_FAC_FIELDS];
    pb_zk_fac_fields(proof, fields);
    pb_status st = PB_OK;
    for (int i = 0; st == PB_OK && i < 5; i++)
        st = pb_bn_decode_mod(r, verifier_rp->n_hat, fields[i]);
    const int bits[PB_ZK_FAC_FIELDS - 5] = {sigma_bits(n0_bits, nh_bits), z_bits(n0_bits),
                                            z_bits(n0_bits), w_bits(nh_bits), w_bits(nh_bits),
                                            v_bits(n0_bits, nh_bits)};
    for (int i = 5; st == PB_OK && i < PB_ZK_FAC_FIELDS; i++) {
        st = pb_bn_decode(r, pb_zku_bytes_for_bits(bits[i - 5] + 1), fields[i]);
        if (st == PB_OK && !pb_bn_in_signed_range(fields[i], bits[i - 5]))
            st = pb_fail(PB_ERR_PARSE, "answer %d out of range", i);
    }
    if (st != PB_OK) {
        pb_zk_fac_free(proof);
        return pb_fail_context(st, "fac proof");
    }
    *out = proof;
    return PB_OK;
}
