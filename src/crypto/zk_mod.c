/* zk_mod.c - Pi^mod, CGGMP21 (ePrint 2021/060) Fig. 16: N is a
 * Paillier-Blum modulus, with PB_ZK_MOD_ROUNDS challenges y_i derived from
 * the caller's transcript.
 *
 * The prover answers each y_i with a fourth root x_i of (-1)^a_i w^b_i y_i
 * and z_i = y_i^(N^-1 mod phi(N)), both by CRT over p and q with
 * constant-time exponentiation, one round at a time on both cores. For
 * p = 3 (mod 4), u = y^(((p+1)/4)^2 mod (p-1)) satisfies u^4 = (y/p)*y, so a
 * single exponentiation per prime yields the Legendre symbol (from u^4) and
 * the root; the root of w (computed once) supplies the w^b_i factor. Every
 * CRT result is checked before it leaves (a faulty x_i would reveal a factor).
 *
 * Owns the proof's encoding. Must never reveal p, q or phi(N).
 */
#include "crypto/zk_mod.h"

#include <stdlib.h>
#include <string.h>

#include "common/fail.h"
#include "crypto/bn.h"
#include "crypto/zk_mod_impl.h"
#include "crypto/zk_util.h"

#define MOD_CHALLENGE_TRIES 64

_Static_assert(PB_ZK_MOD_ROUNDS >= 128, "Pi^mod must reach 128-bit soundness");

pb_zk_mod_proof *pb_zk_mod_alloc(void)
{
    pb_zk_mod_proof *proof = calloc(1, sizeof *proof);
    if (proof == NULL)
        return NULL;
    proof->w = BN_new();
    int ok = proof->w != NULL;
    for (int i = 0; ok && i < PB_ZK_MOD_ROUNDS; i++) {
        proof->x[i] = BN_new();
        proof->z[i] = BN_new();
        ok = proof->x[i] != NULL && proof->z[i] != NULL;
    }
    if (!ok) {
        pb_zk_mod_free(proof);
        return NULL;
    }
    return proof;
}

void pb_zk_mod_free(pb_zk_mod_proof *proof)
{
    if (proof == NULL)
        return;
    BN_free(proof->w);
    for (int i = 0; i < PB_ZK_MOD_ROUNDS; i++) {
        BN_free(proof->x[i]);
        BN_free(proof->z[i]);
    }
    free(proof);
}

pb_status pb_zk_mod_challenges(const pb_transcript *t, const BIGNUM *n, const BIGNUM *w,
                               BIGNUM *y[PB_ZK_MOD_ROUNDS])
{
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "mod proof: no BN_CTX");
    pb_transcript tr = *t;
    pb_transcript_append(&tr, "proof", "pi-mod", 6);
    /* The challenges are drawn one after another: without the count, the
     * first rounds of a longer proof would be a shorter proof's. */
    pb_transcript_append_u64(&tr, "mod.rounds", PB_ZK_MOD_ROUNDS);
    pb_transcript_append_bn(&tr, "mod.N", n);
    pb_transcript_append_bn(&tr, "mod.w", w);
    for (int i = 0; i < PB_ZK_MOD_ROUNDS; i++) {
        /* A non-unit appears with negligible probability (it would factor
         * N); both sides skip it the same way. */
        int tries = 0;
        do {
            if (tries++ == MOD_CHALLENGE_TRIES)
                return pb_fail(PB_ERR_PROOF, "mod proof: no challenge in Z_N^*");
            pb_status st = pb_transcript_challenge_mod(&tr, "mod.y", n, y[i]);
            if (st != PB_OK)
                return st;
        } while (!pb_zku_is_unit(y[i], n, ctx));
    }
    return PB_OK;
}

/* --- prover ------------------------------------------------------------------ */

/* Everything the prover derives once from one secret prime. */
typedef struct prime_part {
    const BIGNUM *p;
    BIGNUM *root_exp; /* ((p+1)/4)^2 mod (p-1) */
    BIGNUM *inv_n;    /* N^-1 mod (p-1) */
    BIGNUM *w_root;   /* w^root_exp mod p */
    int w_sign;       /* Legendre symbol (w/p) */
    BN_MONT_CTX *mont;
} prime_part;

typedef struct mod_prover {
    const BIGNUM *n;
    prime_part pp, pq;
    BIGNUM *qinv; /* q^-1 mod p */
    BIGNUM *y[PB_ZK_MOD_ROUNDS];
    pb_zk_mod_proof *proof;
} mod_prover;

static void prime_part_free(prime_part *pp)
{
    BN_clear_free(pp->root_exp);
    BN_clear_free(pp->inv_n);
    BN_clear_free(pp->w_root);
    BN_MONT_CTX_free(pp->mont);
}

/* u = v^root_exp mod p and the sign s with u^4 = s*v (mod p); v reduced mod p. */
static pb_status fourth_root(const prime_part *pp, const BIGNUM *v, BIGNUM *u, int *sign,
                             BN_CTX *ctx)
{
    pb_status st = PB_OK;
    BN_CTX_start(ctx);
    BIGNUM *u4 = BN_CTX_get(ctx);
    BIGNUM *neg = BN_CTX_get(ctx);
    if (neg == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "mod proof: allocation failed");
        goto done;
    }
    BN_set_flags(u4, BN_FLG_CONSTTIME);
    BN_set_flags(neg, BN_FLG_CONSTTIME);
    /* u is the secret root: squared at fixed width (pb_bn_mod_mul_ct). */
    if (!BN_mod_exp_mont_consttime(u, v, pp->root_exp, pp->p, ctx, pp->mont)) {
        st = pb_fail(PB_ERR_CRYPTO, "mod proof: exponentiation failed");
        goto done;
    }
    if ((st = pb_bn_mod_mul_ct(u4, u, u, pp->p, ctx)) != PB_OK ||
        (st = pb_bn_mod_mul_ct(u4, u4, u4, pp->p, ctx)) != PB_OK)
        goto done;
    if (!BN_sub(neg, pp->p, v)) {
        st = pb_fail(PB_ERR_CRYPTO, "mod proof: arithmetic failed");
        goto done;
    }
    /* The sign is public: it is determined by the published a_i, b_i. */
    if (BN_cmp(u4, v) == 0)
        *sign = 1;
    else if (BN_cmp(u4, neg) == 0)
        *sign = -1;
    else
        st = pb_fail(PB_ERR_ARGUMENT, "mod proof: modulus factor is not 3 mod 4 prime");
done:
    BN_CTX_end(ctx);
    return st;
}

static pb_status prime_part_init(prime_part *pp, const BIGNUM *p, const BIGNUM *n,
                                 const BIGNUM *w, BN_CTX *ctx)
{
    pp->p = p;
    pp->root_exp = pb_bn_secure_new();
    pp->inv_n = pb_bn_secure_new();
    pp->w_root = pb_bn_secure_new();
    pp->mont = BN_MONT_CTX_new();
    if (!pp->root_exp || !pp->inv_n || !pp->w_root || !pp->mont)
        return pb_fail(PB_ERR_NOMEM, "mod proof: allocation failed");
    if (BN_mod_word(p, 4) != 3)
        return pb_fail(PB_ERR_ARGUMENT, "mod proof: a factor of N is not 3 mod 4");
    pb_status st = PB_OK;
    BN_CTX_start(ctx);
    BIGNUM *pm1 = BN_CTX_get(ctx);
    BIGNUM *k = BN_CTX_get(ctx);
    BIGNUM *wp = BN_CTX_get(ctx);
    if (wp == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "mod proof: allocation failed");
        goto done;
    }
    BN_set_flags(pm1, BN_FLG_CONSTTIME);
    BN_set_flags(k, BN_FLG_CONSTTIME);
    if (!BN_MONT_CTX_set(pp->mont, p, ctx) || !BN_sub(pm1, p, BN_value_one()) ||
        !BN_add(k, p, BN_value_one()) || !BN_rshift(k, k, 2)) {
        st = pb_fail(PB_ERR_CRYPTO, "mod proof: setup failed");
        goto done;
    }
    if ((st = pb_bn_mod_mul_ct(pp->root_exp, k, k, pm1, ctx)) != PB_OK)
        goto done;
    if (!BN_nnmod(k, n, pm1, ctx)) {
        st = pb_fail(PB_ERR_CRYPTO, "mod proof: setup failed");
        goto done;
    }
    if (BN_mod_inverse(pp->inv_n, k, pm1, ctx) == NULL) {
        st = pb_fail(PB_ERR_ARGUMENT, "mod proof: gcd(N, phi(N)) != 1");
        goto done;
    }
    if (!BN_nnmod(wp, w, p, ctx)) {
        st = pb_fail(PB_ERR_CRYPTO, "mod proof: setup failed");
        goto done;
    }
    st = fourth_root(pp, wp, pp->w_root, &pp->w_sign, ctx);
done:
    BN_CTX_end(ctx);
    return st;
}

/* Per prime: the root x_p of (-1)^a w^b y (given b) and z_p = y^(N^-1). */
static pb_status round_part(const prime_part *pp, const BIGNUM *y, BIGNUM *yp, BIGNUM *x,
                            BIGNUM *z, int *sign, BN_CTX *ctx)
{
    if (!BN_nnmod(yp, y, pp->p, ctx))
        return pb_fail(PB_ERR_CRYPTO, "mod proof: reduction failed");
    pb_status st = fourth_root(pp, yp, x, sign, ctx);
    if (st != PB_OK)
        return st;
    if (!BN_mod_exp_mont_consttime(z, yp, pp->inv_n, pp->p, ctx, pp->mont))
        return pb_fail(PB_ERR_CRYPTO, "mod proof: exponentiation failed");
    return PB_OK;
}

static pb_status mod_prove_round(void *arg, size_t i, BN_CTX *ctx)
{
    mod_prover *pv = arg;
    pb_zk_mod_proof *proof = pv->proof;
    pb_status st = PB_OK;
    BN_CTX_start(ctx);
    BIGNUM *t[8];
    for (int k = 0; k < 8; k++) {
        t[k] = BN_CTX_get(ctx);
        if (t[k] != NULL)
            BN_set_flags(t[k], BN_FLG_CONSTTIME);
    }
    BIGNUM *yp = t[0], *yq = t[1], *xp = t[2], *xq = t[3], *zp = t[4], *zq = t[5];
    BIGNUM *chk = t[6], *want = t[7];
    if (want == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "mod proof: allocation failed");
        goto done;
    }
    int sp = 0, sq = 0;
    if ((st = round_part(&pv->pp, pv->y[i], yp, xp, zp, &sp, ctx)) != PB_OK ||
        (st = round_part(&pv->pq, pv->y[i], yq, xq, zq, &sq, ctx)) != PB_OK)
        goto done;
    /* (-1)^a (w/p)^b (y/p) must be 1 mod both primes, and (w/p)(w/q) = -1,
     * so b = 1 exactly when the symbols of y differ. */
    int b = sp != sq;
    int a = b ? (sp * pv->pp.w_sign == -1) : (sp == -1);
    if (b && ((st = pb_bn_mod_mul_ct(xp, xp, pv->pp.w_root, pv->pp.p, ctx)) != PB_OK ||
              (st = pb_bn_mod_mul_ct(xq, xq, pv->pq.w_root, pv->pq.p, ctx)) != PB_OK))
        goto done;
    if ((st = pb_zku_crt(proof->x[i], xp, xq, pv->pp.p, pv->pq.p, pv->qinv, ctx)) != PB_OK ||
        (st = pb_zku_crt(proof->z[i], zp, zq, pv->pp.p, pv->pq.p, pv->qinv, ctx)) != PB_OK)
        goto done;
    proof->a[i] = (uint8_t)a;
    proof->b[i] = (uint8_t)b;
    /* Fault check before anything is published: x^4 = (-1)^a w^b y mod N,
     * and z agrees with both of its CRT halves. */
    if (BN_copy(want, pv->y[i]) == NULL || (b && !BN_mod_mul(want, want, proof->w, pv->n, ctx)) ||
        (a && !BN_sub(want, pv->n, want)) || !BN_mod_sqr(chk, proof->x[i], pv->n, ctx) ||
        !BN_mod_sqr(chk, chk, pv->n, ctx)) {
        st = pb_fail(PB_ERR_CRYPTO, "mod proof: arithmetic failed");
        goto done;
    }
    if (BN_cmp(chk, want) != 0) {
        st = pb_fail(PB_ERR_CRYPTO, "mod proof: fourth root self-check failed");
        goto done;
    }
    if (!BN_nnmod(chk, proof->z[i], pv->pp.p, ctx) || BN_cmp(chk, zp) != 0 ||
        !BN_nnmod(chk, proof->z[i], pv->pq.p, ctx) || BN_cmp(chk, zq) != 0 ||
        BN_cmp(proof->z[i], pv->n) >= 0 || BN_cmp(proof->x[i], pv->n) >= 0)
        st = pb_fail(PB_ERR_CRYPTO, "mod proof: CRT self-check failed");
done:
    BN_CTX_end(ctx);
    return st;
}

pb_status pb_zk_mod_prove(const pb_transcript *t, const pb_paillier_private *sk,
                          pb_zk_mod_proof **out)
{
    *out = NULL;
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "mod proof: no BN_CTX");
    mod_prover pv;
    memset(&pv, 0, sizeof pv);
    pv.n = pb_paillier_n(pb_paillier_public_of(sk));
    pv.proof = pb_zk_mod_alloc();
    pv.qinv = pb_bn_secure_new();
    int ok = pv.proof != NULL && pv.qinv != NULL;
    for (int i = 0; ok && i < PB_ZK_MOD_ROUNDS; i++)
        ok = (pv.y[i] = BN_new()) != NULL;
    pb_status st = PB_OK;
    if (!ok) {
        st = pb_fail(PB_ERR_NOMEM, "mod proof: allocation failed");
        goto done;
    }
    /* w: any value with Jacobi symbol -1 (public, so a variable-time symbol). */
    for (int tries = 0;; tries++) {
        if (tries == 256 || !BN_rand_range(pv.proof->w, pv.n)) {
            st = pb_fail(PB_ERR_CRYPTO, "mod proof: sampling w failed");
            goto done;
        }
        if (BN_kronecker(pv.proof->w, pv.n, ctx) == -1)
            break;
    }
    const BIGNUM *p = pb_paillier_private_p(sk), *q = pb_paillier_private_q(sk);
    if ((st = prime_part_init(&pv.pp, p, pv.n, pv.proof->w, ctx)) != PB_OK ||
        (st = prime_part_init(&pv.pq, q, pv.n, pv.proof->w, ctx)) != PB_OK)
        goto done;
    if (pv.pp.w_sign * pv.pq.w_sign != -1) {
        st = pb_fail(PB_ERR_CRYPTO, "mod proof: inconsistent Jacobi symbol of w");
        goto done;
    }
    if (BN_mod_inverse(pv.qinv, q, p, ctx) == NULL) {
        st = pb_fail(PB_ERR_ARGUMENT, "mod proof: factors are not coprime");
        goto done;
    }
    if ((st = pb_zk_mod_challenges(t, pv.n, pv.proof->w, pv.y)) != PB_OK)
        goto done;
    if ((st = pb_zku_parallel(PB_ZK_MOD_ROUNDS, mod_prove_round, &pv)) != PB_OK)
        goto done;
    *out = pv.proof;
    pv.proof = NULL;
done:
    pb_zk_mod_free(pv.proof);
    prime_part_free(&pv.pp);
    prime_part_free(&pv.pq);
    BN_clear_free(pv.qinv);
    for (int i = 0; i < PB_ZK_MOD_ROUNDS; i++)
        BN_free(pv.y[i]);
    return st;
}

/* --- verifier ------------------------------------------------------------------ */

typedef struct mod_verifier {
    const BIGNUM *n;
    const pb_zk_mod_proof *proof;
    BIGNUM *y[PB_ZK_MOD_ROUNDS];
    BN_MONT_CTX *mont;
} mod_verifier;

static pb_status mod_check_round(void *arg, size_t i, BN_CTX *ctx)
{
    mod_verifier *vf = arg;
    const pb_zk_mod_proof *proof = vf->proof;
    const BIGNUM *n = vf->n, *x = proof->x[i], *z = proof->z[i];
    if (proof->a[i] > 1 || proof->b[i] > 1)
        return pb_fail(PB_ERR_PROOF, "mod proof: round %zu has a non-bit a or b", i);
    if (BN_is_negative(x) || BN_cmp(x, n) >= 0 || BN_is_negative(z) || BN_cmp(z, n) >= 0)
        return pb_fail(PB_ERR_PROOF, "mod proof: round %zu value outside [0, N)", i);
    pb_status st = PB_OK;
    BN_CTX_start(ctx);
    BIGNUM *lhs = BN_CTX_get(ctx);
    BIGNUM *rhs = BN_CTX_get(ctx);
    if (rhs == NULL || !BN_mod_exp_mont(lhs, z, n, n, ctx, vf->mont)) {
        st = pb_fail(PB_ERR_CRYPTO, "mod proof: arithmetic failed");
        goto done;
    }
    if (BN_cmp(lhs, vf->y[i]) != 0) {
        st = pb_fail(PB_ERR_PROOF, "mod proof: round %zu: z^N != y", i);
        goto done;
    }
    if (!BN_mod_sqr(lhs, x, n, ctx) || !BN_mod_sqr(lhs, lhs, n, ctx) ||
        BN_copy(rhs, vf->y[i]) == NULL ||
        (proof->b[i] && !BN_mod_mul(rhs, rhs, proof->w, n, ctx)) ||
        (proof->a[i] && !BN_is_zero(rhs) && !BN_sub(rhs, n, rhs))) {
        st = pb_fail(PB_ERR_CRYPTO, "mod proof: arithmetic failed");
        goto done;
    }
    if (BN_cmp(lhs, rhs) != 0)
        st = pb_fail(PB_ERR_PROOF, "mod proof: round %zu: x^4 != (-1)^a w^b y", i);
done:
    BN_CTX_end(ctx);
    return st;
}

pb_status pb_zk_mod_verify(const pb_transcript *t, const pb_paillier_public *pk,
                           const pb_zk_mod_proof *proof)
{
    if (pk == NULL || proof == NULL)
        return pb_fail(PB_ERR_ARGUMENT, "mod proof: missing key or proof");
    const BIGNUM *n = pb_paillier_n(pk);
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "mod proof: no BN_CTX");
    /* The figure's own checks on N, repeated here so the proof stands alone. */
    if (BN_is_negative(n) || !BN_is_odd(n) || BN_is_one(n))
        return pb_fail(PB_ERR_PROOF, "mod proof: N is not an odd integer above 1");
    int prime = BN_check_prime(n, ctx, NULL);
    if (prime != 0)
        return pb_fail(PB_ERR_PROOF, "mod proof: N is prime (or the test failed)");
    if (BN_is_negative(proof->w) || BN_cmp(proof->w, n) >= 0 ||
        BN_kronecker(proof->w, n, ctx) != -1)
        return pb_fail(PB_ERR_PROOF, "mod proof: w does not have Jacobi symbol -1");

    mod_verifier vf;
    memset(&vf, 0, sizeof vf);
    vf.n = n;
    vf.proof = proof;
    vf.mont = BN_MONT_CTX_new();
    int ok = vf.mont != NULL && BN_MONT_CTX_set(vf.mont, n, ctx);
    for (int i = 0; ok && i < PB_ZK_MOD_ROUNDS; i++)
        ok = (vf.y[i] = BN_new()) != NULL;
    pb_status st;
    if (!ok)
        st = pb_fail(PB_ERR_NOMEM, "mod proof: allocation failed");
    else if ((st = pb_zk_mod_challenges(t, n, proof->w, vf.y)) == PB_OK)
        st = pb_zku_parallel(PB_ZK_MOD_ROUNDS, mod_check_round, &vf);
    BN_MONT_CTX_free(vf.mont);
    for (int i = 0; i < PB_ZK_MOD_ROUNDS; i++)
        BN_free(vf.y[i]);
    return st;
}

/* --- encoding ------------------------------------------------------------------ */

/* w, then per round x_i, z_i and one byte holding a_i (bit 0) and b_i (bit 1). */
void pb_zk_mod_encode(pb_writer *w, const pb_zk_mod_proof *proof)
{
    pb_bn_encode(w, proof->w);
    for (int i = 0; i < PB_ZK_MOD_ROUNDS; i++) {
        pb_bn_encode(w, proof->x[i]);
        pb_bn_encode(w, proof->z[i]);
        pb_writer_u8(w, (uint8_t)((proof->a[i] & 1) | ((proof->b[i] & 1) << 1)));
    }
}

pb_status pb_zk_mod_decode(pb_reader *r, const pb_paillier_public *pk, pb_zk_mod_proof **out)
{
    *out = NULL;
    const BIGNUM *n = pb_paillier_n(pk);
    pb_zk_mod_proof *proof = pb_zk_mod_alloc();
    if (proof == NULL)
        return pb_fail(PB_ERR_NOMEM, "mod proof: allocation failed");
    pb_status st = pb_bn_decode_mod(r, n, proof->w);
    for (int i = 0; st == PB_OK && i < PB_ZK_MOD_ROUNDS; i++) {
        if ((st = pb_bn_decode_mod(r, n, proof->x[i])) != PB_OK ||
            (st = pb_bn_decode_mod(r, n, proof->z[i])) != PB_OK)
            break;
        uint8_t ab = pb_reader_u8(r);
        if (r->failed) {
            st = pb_fail(PB_ERR_PARSE, "truncated");
            break;
        }
        if (ab > 3) {
            st = pb_fail(PB_ERR_PARSE, "round %d: bits byte %u", i, (unsigned)ab);
            break;
        }
        proof->a[i] = ab & 1;
        proof->b[i] = (uint8_t)(ab >> 1);
    }
    if (st != PB_OK) {
        pb_zk_mod_free(proof);
        return pb_fail_context(st, "mod proof");
    }
    *out = proof;
    return PB_OK;
}
