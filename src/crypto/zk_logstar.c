/* zk_logstar.c - Pi^log*: the Paillier plaintext of C is the discrete log of
 * X = x*G and |x| <= 2^(l+eps) (CGGMP21 ePrint 2021/060, Fig. 25, g = G),
 * made non-interactive by Fiat-Shamir.
 *
 * Owns: the prover, the verifier, the proof object and its wire form
 * (S, A, Y, D, z1, z2, z3 in that order; integers as in bn.h, Y compressed).
 * The challenge e in [-q, q] is drawn from a copy of the caller's transcript
 * after absorbing N0, (N^, s, t), C, X and the first message (S, A, Y, D).
 * Secret values (x, rho, alpha, mu, r, gamma) live in the secure heap and
 * every exponentiation with a secret exponent is constant-time, including
 * its sign. Must never absorb or reveal a witness or a mask.
 */
#include "crypto/zk_logstar.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/fail.h"
#include "crypto/zk_sch.h"
#include "crypto/zk_util.h"

struct pb_zk_logstar_proof {
    BIGNUM *s;  /* S = s^x t^mu mod N^ */
    BIGNUM *a;  /* A = (1+N0)^alpha r^N0 mod N0^2 */
    pb_point y; /* Y = alpha*G */
    BIGNUM *d;  /* D = s^alpha t^gamma mod N^ */
    BIGNUM *z1; /* alpha + e*x, checked in +-2^(l+eps) */
    BIGNUM *z2; /* r * rho^e mod N0 */
    BIGNUM *z3; /* gamma + e*mu */
};

static const char PROOF_NAME[] = "pi-log*";

/* Honest z3 is below 2^(l+eps+1) * N^ in magnitude; a little headroom, then
 * anything longer is refused before it can cost an exponentiation. */
static size_t z3_max_bytes(const pb_rped_public *rp)
{
    return pb_zku_bytes_for_bits(BN_num_bits(rp->n_hat) + PB_ZK_L + PB_ZK_EPS + 2);
}

static pb_zk_logstar_proof *proof_new(void)
{
    pb_zk_logstar_proof *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->s = BN_new();
    p->a = BN_new();
    p->d = BN_new();
    p->z1 = BN_new();
    p->z2 = BN_new();
    p->z3 = BN_new();
    if (!p->s || !p->a || !p->d || !p->z1 || !p->z2 || !p->z3) {
        pb_zk_logstar_free(p);
        return NULL;
    }
    return p;
}

void pb_zk_logstar_free(pb_zk_logstar_proof *proof)
{
    if (!proof)
        return;
    BN_free(proof->s);
    BN_free(proof->a);
    BN_free(proof->d);
    BN_free(proof->z1);
    BN_free(proof->z2);
    BN_free(proof->z3);
    free(proof);
}

static pb_status logstar_challenge(const pb_transcript *t, const pb_paillier_public *pk,
                                   const pb_rped_public *rp, const BIGNUM *c,
                                   const pb_point *x_pub, const pb_zk_logstar_proof *p,
                                   BIGNUM *e)
{
    pb_transcript tt = *t;
    pb_transcript_append(&tt, "proof", PROOF_NAME, sizeof PROOF_NAME - 1);
    pb_transcript_append_bn(&tt, "logstar.N0", pb_paillier_n(pk));
    pb_transcript_append_bn(&tt, "logstar.Nhat", rp->n_hat);
    pb_transcript_append_bn(&tt, "logstar.s", rp->s);
    pb_transcript_append_bn(&tt, "logstar.t", rp->t);
    pb_transcript_append_bn(&tt, "logstar.C", c);
    pb_transcript_append_point(&tt, "logstar.X", x_pub);
    pb_transcript_append_bn(&tt, "logstar.S", p->s);
    pb_transcript_append_bn(&tt, "logstar.A", p->a);
    pb_transcript_append_point(&tt, "logstar.Y", &p->y);
    pb_transcript_append_bn(&tt, "logstar.D", p->d);
    pb_status st = pb_transcript_challenge_signed(&tt, "logstar.e", pb_ec_order(), e);
    OPENSSL_cleanse(&tt, sizeof tt);
    return st;
}

/* Every received element in its group: S, D in Z*_N^, A in Z*_{N0^2},
 * z2 in Z*_N0. Y is a valid point by construction (parsed strictly). */
static pb_status check_elements(const pb_paillier_public *pk, const pb_rped_public *rp,
                                const pb_zk_logstar_proof *p)
{
    BN_CTX *ctx = BN_CTX_new();
    if (!ctx)
        return pb_fail(PB_ERR_NOMEM, "pi-log*: BN_CTX");
    pb_status st = PB_OK;
    if (!pb_zku_is_unit(p->s, rp->n_hat, ctx))
        st = pb_fail(PB_ERR_PROOF, "pi-log*: S not in Z*_N^");
    else if (!pb_zku_is_unit(p->d, rp->n_hat, ctx))
        st = pb_fail(PB_ERR_PROOF, "pi-log*: D not in Z*_N^");
    else if (pb_paillier_check_ciphertext(pk, p->a) != PB_OK)
        st = pb_fail_context(PB_ERR_PROOF, "pi-log*: A");
    else if (!pb_zku_is_unit(p->z2, pb_paillier_n(pk), ctx))
        st = pb_fail(PB_ERR_PROOF, "pi-log*: z2 not in Z*_N0");
    BN_CTX_free(ctx);
    return st;
}

/* a^e1 * b^e2 mod m with secret signed exponents. */
static int exp2_secret_signed(BIGNUM *out, const BIGNUM *a, const BIGNUM *e1, const BIGNUM *b,
                              const BIGNUM *e2, const BIGNUM *m, BN_MONT_CTX *mont, BN_CTX *ctx)
{
    BIGNUM *u = pb_bn_secure_new();
    BIGNUM *v = pb_bn_secure_new();
    int ok = u && v && pb_zku_pow_secret(u, a, e1, m, mont, ctx) == PB_OK &&
             pb_zku_pow_secret(v, b, e2, m, mont, ctx) == PB_OK &&
             pb_bn_mod_mul_ct(out, u, v, m, ctx) == PB_OK;
    BN_clear_free(u);
    BN_clear_free(v);
    return ok;
}

/* Uniform in [-2^bits * n, 2^bits * n]. */
static int sample_signed_times(BIGNUM *out, int bits, const BIGNUM *n, BN_CTX *ctx)
{
    BN_CTX_start(ctx);
    BIGNUM *bound = BN_CTX_get(ctx);
    int ok = bound && BN_lshift(bound, n, bits) && pb_zku_random_symmetric(bound, out) == PB_OK;
    BN_CTX_end(ctx);
    return ok;
}

pb_status pb_zk_logstar_prove(const pb_transcript *t, const pb_paillier_public *pk,
                              const pb_rped_public *verifier_rp, const BIGNUM *c,
                              const pb_point *x_pub, const BIGNUM *x, const BIGNUM *rho,
                              pb_zk_logstar_proof **out)
{
    if (!t || !pk || !verifier_rp || !c || !x_pub || !x || !rho || !out)
        return pb_fail(PB_ERR_ARGUMENT, "pi-log* prove: missing argument");
    *out = NULL;
    const BIGNUM *n0 = pb_paillier_n(pk);
    const pb_rped_public *rp = verifier_rp;

    /* The verifier only accepts |z1| <= 2^(l+eps); a witness outside
     * [0, 2^l) would either fail there or weaken the hiding of alpha. */
    if (BN_is_negative(x) || BN_num_bits(x) > PB_ZK_L)
        return pb_fail(PB_ERR_ARGUMENT, "pi-log* prove: witness outside [0, 2^l)");
    if (BN_is_negative(rho) || BN_is_zero(rho) || BN_cmp(rho, n0) >= 0)
        return pb_fail(PB_ERR_ARGUMENT, "pi-log* prove: rho outside (0, N0)");

    pb_status st = PB_ERR_CRYPTO;
    pb_zk_logstar_proof *p = proof_new();
    BN_CTX *ctx = BN_CTX_secure_new();
    BN_MONT_CTX *mont = BN_MONT_CTX_new();
    BIGNUM *alpha = pb_bn_secure_new();
    BIGNUM *mu = pb_bn_secure_new();
    BIGNUM *r = pb_bn_secure_new();
    BIGNUM *gamma = pb_bn_secure_new();
    BIGNUM *xs = pb_bn_secure_new();
    BIGNUM *rhos = pb_bn_secure_new();
    BIGNUM *tmp = pb_bn_secure_new();
    BIGNUM *e = BN_new();
    BIGNUM *e_abs = BN_new();
    pb_scalar xq, aq;
    memset(&xq, 0, sizeof xq);
    memset(&aq, 0, sizeof aq);
    if (!p || !ctx || !mont || !alpha || !mu || !r || !gamma || !xs || !rhos || !tmp || !e ||
        !e_abs) {
        st = pb_fail(PB_ERR_NOMEM, "pi-log* prove: allocation");
        goto done;
    }
    /* Work on flagged secure copies so every library path sees the
     * constant-time flag whatever the caller's BIGNUMs carry. */
    if (!BN_copy(xs, x) || !BN_copy(rhos, rho)) {
        st = pb_fail(PB_ERR_NOMEM, "pi-log* prove: copy");
        goto done;
    }
    BN_set_flags(xs, BN_FLG_CONSTTIME);
    BN_set_flags(rhos, BN_FLG_CONSTTIME);

    /* Catch a mismatched witness locally: cheap for X (C would cost an
     * encryption, and a wrong rho only makes the peer reject). */
    pb_point check;
    if (pb_scalar_from_bn(&xq, xs) != PB_OK || pb_point_mul_base(&check, &xq) != PB_OK ||
        !pb_point_equal(&check, x_pub)) {
        st = pb_fail(PB_ERR_ARGUMENT, "pi-log* prove: witness does not match X");
        goto done;
    }

    st = pb_bn_random_signed(PB_ZK_L + PB_ZK_EPS, alpha);
    if (st == PB_OK)
        st = pb_bn_random_unit(n0, r);
    if (st != PB_OK) {
        pb_fail_context(st, "pi-log* prove: sampling");
        goto done;
    }
    if (!sample_signed_times(mu, PB_ZK_L, rp->n_hat, ctx) ||
        !sample_signed_times(gamma, PB_ZK_L + PB_ZK_EPS, rp->n_hat, ctx)) {
        st = pb_fail(PB_ERR_CRYPTO, "pi-log* prove: sampling masks");
        goto done;
    }

    /* First message. */
    if (!BN_MONT_CTX_set(mont, rp->n_hat, ctx) ||
        !exp2_secret_signed(p->s, rp->s, xs, rp->t, mu, rp->n_hat, mont, ctx) ||
        !exp2_secret_signed(p->d, rp->s, alpha, rp->t, gamma, rp->n_hat, mont, ctx)) {
        st = pb_fail(PB_ERR_CRYPTO, "pi-log* prove: ring-Pedersen commitments");
        goto done;
    }
    st = pb_paillier_encrypt_with(pk, alpha, r, p->a);
    if (st != PB_OK) {
        pb_fail_context(st, "pi-log* prove: A");
        goto done;
    }
    st = pb_scalar_from_bn(&aq, alpha);
    if (st == PB_OK)
        st = pb_point_mul_base(&p->y, &aq);
    if (st != PB_OK) {
        pb_fail_context(st, "pi-log* prove: Y");
        goto done;
    }

    st = logstar_challenge(t, pk, rp, c, x_pub, p, e);
    if (st != PB_OK) {
        pb_fail_context(st, "pi-log* prove: challenge");
        goto done;
    }

    /* Second message. e is public, so branching on its sign is fine; e*x
     * is fixed-width (x < 2^l was checked above). */
    st = pb_zku_mul_challenge(tmp, e, xs, PB_ZK_L);
    if (st != PB_OK) {
        pb_fail_context(st, "pi-log* prove: z1");
        goto done;
    }
    st = PB_ERR_CRYPTO;
    if (!BN_add(p->z1, alpha, tmp) || !BN_mul(tmp, e, mu, ctx) || !BN_add(p->z3, gamma, tmp)) {
        pb_fail(PB_ERR_CRYPTO, "pi-log* prove: z1, z3");
        goto done;
    }
    if (!BN_copy(e_abs, e)) {
        pb_fail(PB_ERR_NOMEM, "pi-log* prove: copy");
        goto done;
    }
    BN_set_negative(e_abs, 0);
    if (!BN_mod_exp_mont_consttime(tmp, rhos, e_abs, n0, ctx, NULL)) {
        pb_fail(PB_ERR_CRYPTO, "pi-log* prove: rho^e");
        goto done;
    }
    BN_set_flags(tmp, BN_FLG_CONSTTIME);
    if (BN_is_negative(e)) {
        if (!BN_mod_inverse(rhos, tmp, n0, ctx)) {
            pb_fail(PB_ERR_CRYPTO, "pi-log* prove: rho not invertible mod N0");
            goto done;
        }
        if (!BN_copy(tmp, rhos)) {
            pb_fail(PB_ERR_NOMEM, "pi-log* prove: copy");
            goto done;
        }
    }
    /* r and rho^e are secret (only their product is published). */
    if (pb_bn_mod_mul_ct(p->z2, r, tmp, n0, ctx) != PB_OK) {
        pb_fail_context(PB_ERR_CRYPTO, "pi-log* prove: z2");
        goto done;
    }
    st = PB_OK;
    *out = p;
    p = NULL;
done:
    pb_zk_logstar_free(p);
    BN_CTX_free(ctx);
    BN_MONT_CTX_free(mont);
    BN_clear_free(alpha);
    BN_clear_free(mu);
    BN_clear_free(r);
    BN_clear_free(gamma);
    BN_clear_free(xs);
    BN_clear_free(rhos);
    BN_clear_free(tmp);
    BN_free(e);
    BN_free(e_abs);
    pb_scalar_wipe(&xq);
    pb_scalar_wipe(&aq);
    return st;
}

pb_status pb_zk_logstar_verify(const pb_transcript *t, const pb_paillier_public *pk,
                               const pb_rped_public *verifier_rp, const BIGNUM *c,
                               const pb_point *x_pub, const pb_zk_logstar_proof *proof)
{
    if (!t || !pk || !verifier_rp || !c || !x_pub || !proof)
        return pb_fail(PB_ERR_ARGUMENT, "pi-log* verify: missing argument");
    const pb_zk_logstar_proof *p = proof;
    const pb_rped_public *rp = verifier_rp;
    const BIGNUM *n0 = pb_paillier_n(pk);
    const BIGNUM *n0sq = pb_paillier_n2(pk);

    pb_status st = pb_paillier_check_ciphertext(pk, c);
    if (st != PB_OK)
        return pb_fail_context(PB_ERR_PROOF, "pi-log*: statement C");
    st = check_elements(pk, rp, p);
    if (st != PB_OK)
        return st;
    /* The range is the point of the proof: checked before any algebra. */
    if (!pb_bn_in_signed_range(p->z1, PB_ZK_L + PB_ZK_EPS))
        return pb_fail(PB_ERR_PROOF, "pi-log*: z1 outside +-2^(l+eps)");

    BN_CTX *ctx = BN_CTX_new();
    BN_MONT_CTX *mont = BN_MONT_CTX_new();
    BIGNUM *e = BN_new();
    BIGNUM *lhs = BN_new();
    BIGNUM *rhs = BN_new();
    BIGNUM *u = BN_new();
    if (!ctx || !mont || !e || !lhs || !rhs || !u) {
        st = pb_fail(PB_ERR_NOMEM, "pi-log* verify: allocation");
        goto done;
    }
    st = logstar_challenge(t, pk, rp, c, x_pub, p, e);
    if (st != PB_OK) {
        pb_fail_context(st, "pi-log* verify: challenge");
        goto done;
    }

    /* z1*G == Y + e*X, with z1 and e taken mod q. */
    pb_scalar z1q, eq;
    if (pb_scalar_from_bn(&z1q, p->z1) != PB_OK || pb_scalar_from_bn(&eq, e) != PB_OK) {
        st = pb_fail(PB_ERR_CRYPTO, "pi-log* verify: reduction mod q");
        goto done;
    }
    if (!pb_zk_sch_equation_holds(&p->y, &z1q, &eq, x_pub)) {
        st = pb_fail(PB_ERR_PROOF, "pi-log*: z1*G != Y + e*X");
        goto done;
    }

    /* (1+N0)^z1 * z2^N0 == A * C^e mod N0^2; (1+N0)^z1 = 1 + z1*N0. */
    st = PB_ERR_CRYPTO;
    if (!BN_mul(u, p->z1, n0, ctx) || !BN_add_word(u, 1) || !BN_nnmod(lhs, u, n0sq, ctx) ||
        !BN_mod_exp(u, p->z2, n0, n0sq, ctx) || !BN_mod_mul(lhs, lhs, u, n0sq, ctx) ||
        !BN_MONT_CTX_set(mont, n0sq, ctx) || pb_zku_pow_public(u, c, e, n0sq, mont, ctx) != PB_OK ||
        !BN_mod_mul(rhs, p->a, u, n0sq, ctx)) {
        pb_fail(PB_ERR_CRYPTO, "pi-log* verify: Paillier equation");
        goto done;
    }
    if (BN_cmp(lhs, rhs) != 0) {
        st = pb_fail(PB_ERR_PROOF, "pi-log*: (1+N0)^z1 z2^N0 != A C^e");
        goto done;
    }

    /* s^z1 t^z3 == D S^e mod N^. */
    if (!BN_MONT_CTX_set(mont, rp->n_hat, ctx) ||
        pb_zku_pow_public(lhs, rp->s, p->z1, rp->n_hat, mont, ctx) != PB_OK ||
        pb_zku_pow_public(u, rp->t, p->z3, rp->n_hat, mont, ctx) != PB_OK ||
        !BN_mod_mul(lhs, lhs, u, rp->n_hat, ctx) ||
        pb_zku_pow_public(u, p->s, e, rp->n_hat, mont, ctx) != PB_OK ||
        !BN_mod_mul(rhs, p->d, u, rp->n_hat, ctx)) {
        pb_fail(PB_ERR_CRYPTO, "pi-log* verify: ring-Pedersen equation");
        goto done;
    }
    if (BN_cmp(lhs, rhs) != 0) {
        st = pb_fail(PB_ERR_PROOF, "pi-log*: s^z1 t^z3 != D S^e");
        goto done;
    }
    st = PB_OK;
done:
    BN_CTX_free(ctx);
    BN_MONT_CTX_free(mont);
    BN_free(e);
    BN_free(lhs);
    BN_free(rhs);
    BN_free(u);
    return st;
}

void pb_zk_logstar_encode(pb_writer *w, const pb_zk_logstar_proof *proof)
{
    uint8_t y[PB_POINT_BYTES];
    pb_bn_encode(w, proof->s);
    pb_bn_encode(w, proof->a);
    pb_point_serialize(y, &proof->y);
    pb_writer_raw(w, y, sizeof y);
    pb_bn_encode(w, proof->d);
    pb_bn_encode(w, proof->z1);
    pb_bn_encode(w, proof->z2);
    pb_bn_encode(w, proof->z3);
}

pb_status pb_zk_logstar_decode(pb_reader *r, const pb_paillier_public *pk,
                               const pb_rped_public *verifier_rp, pb_zk_logstar_proof **out)
{
    if (!r || !pk || !verifier_rp || !out)
        return pb_fail(PB_ERR_ARGUMENT, "pi-log* decode: missing argument");
    *out = NULL;
    pb_zk_logstar_proof *p = proof_new();
    if (!p)
        return pb_fail(PB_ERR_NOMEM, "pi-log* decode: allocation");
    const pb_rped_public *rp = verifier_rp;
    pb_status st;
    const uint8_t *y;
    /* z1 is range-checked by the verifier; here it only has to be no longer
     * than N0, the largest exponent that could mean anything. */
    if ((st = pb_bn_decode_mod(r, rp->n_hat, p->s)) != PB_OK) {
        pb_fail_context(st, "pi-log*: S");
    } else if ((st = pb_bn_decode_mod(r, pb_paillier_n2(pk), p->a)) != PB_OK) {
        pb_fail_context(st, "pi-log*: A");
    } else if (!(y = pb_reader_raw(r, PB_POINT_BYTES))) {
        st = pb_fail(PB_ERR_PARSE, "pi-log*: truncated Y");
    } else if ((st = pb_point_parse(&p->y, y)) != PB_OK) {
        pb_fail_context(st, "pi-log*: Y");
    } else if ((st = pb_bn_decode_mod(r, rp->n_hat, p->d)) != PB_OK) {
        pb_fail_context(st, "pi-log*: D");
    } else if ((st = pb_bn_decode(r, (size_t)BN_num_bytes(pb_paillier_n(pk)), p->z1)) != PB_OK) {
        pb_fail_context(st, "pi-log*: z1");
    } else if ((st = pb_bn_decode_mod(r, pb_paillier_n(pk), p->z2)) != PB_OK) {
        pb_fail_context(st, "pi-log*: z2");
    } else if ((st = pb_bn_decode(r, z3_max_bytes(rp), p->z3)) != PB_OK) {
        pb_fail_context(st, "pi-log*: z3");
    } else if ((st = check_elements(pk, rp, p)) != PB_OK) {
        st = PB_ERR_PARSE;
    }
    if (st != PB_OK) {
        pb_zk_logstar_free(p);
        return st == PB_ERR_NOMEM ? st : PB_ERR_PARSE;
    }
    *out = p;
    return PB_OK;
}
