/* A malicious P1 against an honest cosigner (2048-bit Paillier).
 *
 * DKG: the test plays P1 through the message encoders, honestly except for
 * one thing at a time -- a Paillier modulus with a 16-bit prime factor, of
 * the form p^2*q, prime, or of the wrong size (each with the best proofs a
 * prover who knows the factors can make: support/cheat_modulus.h); a c_key
 * that encrypts x1 + 1 or a value far outside Pi^log*'s range; Q1 that is
 * not a point, or that cancels Q2; proofs lifted from another session.
 * P2 must refuse message 3 with the specific status and check, and hold no
 * record afterwards.
 *
 * Sign: R1 that is not a curve point (the identity has no encoding), a
 * commitment that does not open, a proof of k1 that does not verify, and a
 * replayed first message. P2 must refuse before it computes c3.
 *
 * Pi^log* is forged here from the algebra of CGGMP21 Fig. 25 (forge_logstar),
 * without the prover's witness range check; a control test shows P2 accepts
 * it for the honest plaintext, so a refusal is due to the one change.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "crypto/bn.h"
#include "crypto/zk_util.h"
#include "mpc/cosigner.h"
#include "mpc/dkg.h"
#include "mpc/sign.h"
#include "support/cheat_modulus.h"
#include "support/mpc_runner.h"

typedef struct fx {
    pb_cosigner_params *params;
    pb_cosigner_public *pub;
    const pb_rped_public *rp; /* P2's parameters, as P1 verified them */
} fx;

static fx open_fx(void)
{
    fx f;
    f.params = mpc_fx_cosigner(2048);
    f.pub = mpc_fx_cosigner_public(2048);
    f.rp = f.pub->pub;
    return f;
}

static void close_fx(fx *f)
{
    pb_cosigner_params_free(f->params);
    pb_cosigner_public_free(f->pub);
}

static BIGNUM *bn_new(void)
{
    BIGNUM *b = BN_new();
    cr_assert_not_null(b);
    return b;
}

/* --- a forged Pi^log* ------------------------------------------------------------ */

typedef struct raw_logstar {
    BIGNUM *s, *a, *d, *z1, *z2, *z3;
    pb_point y;
} raw_logstar;

static BIGNUM *pow_public(const BIGNUM *base, const BIGNUM *e, const BIGNUM *m)
{
    BIGNUM *out = bn_new();
    cr_assert_eq(pb_zku_pow_public(out, base, e, m, NULL, pb_bn_ctx()), PB_OK);
    return out;
}

/* b1^e1 * b2^e2 mod m (signed public exponents). */
static BIGNUM *pow2(const BIGNUM *b1, const BIGNUM *e1, const BIGNUM *b2, const BIGNUM *e2,
                    const BIGNUM *m)
{
    BIGNUM *u = pow_public(b1, e1, m), *v = pow_public(b2, e2, m);
    cr_assert(BN_mod_mul(u, u, v, m, pb_bn_ctx()));
    BN_free(v);
    return u;
}

/* Pi^log* for C = (1+N)^x rho^N and X, for any integer x >= 0 (the real
 * prover refuses x outside [0, 2^l)). Same transcript items as the
 * verifier: "proof", N0, N^, s, t, C, X, S, A, Y, D, then e in [-q, q]. */
static void forge_logstar(raw_logstar *p, const pb_transcript *t, const BIGNUM *n,
                          const pb_rped_public *rp, const BIGNUM *c, const pb_point *x_pub,
                          const BIGNUM *x, const BIGNUM *rho)
{
    BN_CTX *ctx = pb_bn_ctx();
    BIGNUM *n2 = bn_new(), *alpha = bn_new(), *mu = bn_new(), *r = bn_new(), *gamma = bn_new();
    BIGNUM *bound = bn_new(), *e = bn_new(), *tmp = bn_new(), *g = bn_new();
    cr_assert(BN_sqr(n2, n, ctx));
    cr_assert_eq(pb_bn_random_signed(PB_ZK_L + PB_ZK_EPS, alpha), PB_OK);
    cr_assert(BN_lshift(bound, rp->n_hat, PB_ZK_L));
    cr_assert_eq(pb_zku_random_symmetric(bound, mu), PB_OK);
    cr_assert(BN_lshift(bound, rp->n_hat, PB_ZK_L + PB_ZK_EPS));
    cr_assert_eq(pb_zku_random_symmetric(bound, gamma), PB_OK);
    cr_assert_eq(pb_bn_random_unit(n, r), PB_OK);

    p->s = pow2(rp->s, x, rp->t, mu, rp->n_hat);
    /* A = (1+N)^alpha r^N = (1 + (alpha mod N) N) r^N mod N^2 */
    cr_assert(BN_nnmod(tmp, alpha, n, ctx) && BN_mul(tmp, tmp, n, ctx) && BN_add_word(tmp, 1));
    BIGNUM *rn = pow_public(r, n, n2);
    p->a = bn_new();
    cr_assert(BN_mod_mul(p->a, tmp, rn, n2, ctx));
    BN_free(rn);
    pb_scalar aq;
    cr_assert_eq(pb_scalar_from_bn(&aq, alpha), PB_OK);
    cr_assert_eq(pb_point_mul_base(&p->y, &aq), PB_OK);
    p->d = pow2(rp->s, alpha, rp->t, gamma, rp->n_hat);

    pb_transcript tt = *t;
    pb_transcript_append(&tt, "proof", "pi-log*", 7);
    pb_transcript_append_bn(&tt, "logstar.N0", n);
    pb_transcript_append_bn(&tt, "logstar.Nhat", rp->n_hat);
    pb_transcript_append_bn(&tt, "logstar.s", rp->s);
    pb_transcript_append_bn(&tt, "logstar.t", rp->t);
    pb_transcript_append_bn(&tt, "logstar.C", c);
    pb_transcript_append_point(&tt, "logstar.X", x_pub);
    pb_transcript_append_bn(&tt, "logstar.S", p->s);
    pb_transcript_append_bn(&tt, "logstar.A", p->a);
    pb_transcript_append_point(&tt, "logstar.Y", &p->y);
    pb_transcript_append_bn(&tt, "logstar.D", p->d);
    cr_assert_eq(pb_transcript_challenge_signed(&tt, "logstar.e", pb_ec_order(), e), PB_OK);

    p->z1 = bn_new();
    cr_assert(BN_mul(p->z1, e, x, ctx) && BN_add(p->z1, p->z1, alpha));
    BIGNUM *re = pow_public(rho, e, n);
    p->z2 = bn_new();
    cr_assert(BN_mod_mul(p->z2, r, re, n, ctx));
    BN_free(re);
    p->z3 = bn_new();
    cr_assert(BN_mul(p->z3, e, mu, ctx) && BN_add(p->z3, p->z3, gamma));
    BN_free(n2);
    BN_free(alpha);
    BN_free(mu);
    BN_free(r);
    BN_free(gamma);
    BN_free(bound);
    BN_free(e);
    BN_free(tmp);
    BN_free(g);
}

static void raw_logstar_encode(pb_writer *w, const raw_logstar *p)
{
    uint8_t y[PB_POINT_BYTES];
    pb_bn_encode(w, p->s);
    pb_bn_encode(w, p->a);
    pb_point_serialize(y, &p->y);
    pb_writer_raw(w, y, sizeof y);
    pb_bn_encode(w, p->d);
    pb_bn_encode(w, p->z1);
    pb_bn_encode(w, p->z2);
    pb_bn_encode(w, p->z3);
}

static void raw_logstar_free(raw_logstar *p)
{
    BN_free(p->s);
    BN_free(p->a);
    BN_free(p->d);
    BN_free(p->z1);
    BN_free(p->z2);
    BN_free(p->z3);
}

/* --- a scripted P1 at DKG --------------------------------------------------------- */

typedef struct evil {
    const fx *f;
    pb_dkg_p2 *p2;
    pb_scalar x1;
    pb_point q1;
    uint8_t q1_bytes[PB_POINT_BYTES]; /* what m3 carries (and m1 commits to) */
    uint8_t c1[32], opening[32], n1[32], sid[32];
    pb_point q2;
    pb_writer w; /* message 3 */
} evil;

/* Message 1 committing to q1_bytes (x1 random unless given), message 2
 * from P2, and the start of message 3 up to the key bundle, with an honest
 * proof of x1 unless `sch` is given. */
static void evil_begin(evil *e, const fx *f, const pb_scalar *x1, const uint8_t *q1_bytes,
                       const pb_zk_sch_proof *sch)
{
    memset(e, 0, sizeof *e);
    e->f = f;
    if (x1)
        e->x1 = *x1;
    else
        cr_assert_eq(pb_scalar_random(&e->x1), PB_OK);
    cr_assert_eq(pb_point_mul_base(&e->q1, &e->x1), PB_OK);
    if (q1_bytes)
        memcpy(e->q1_bytes, q1_bytes, PB_POINT_BYTES);
    else
        pb_point_serialize(e->q1_bytes, &e->q1);
    cr_assert_eq(RAND_bytes(e->c1, 32), 1);
    cr_assert_eq(RAND_bytes(e->opening, 32), 1);
    cr_assert_eq(RAND_bytes(e->n1, 32), 1);

    pb_dkg_m1 m1;
    memcpy(m1.n1, e->n1, 32);
    uint8_t pre[32], payload[PB_POINT_BYTES + 32];
    pb_msg_pre_id(pre, PB_PROTO_DKG, e->n1);
    memcpy(payload, e->q1_bytes, PB_POINT_BYTES);
    memcpy(payload + PB_POINT_BYTES, e->c1, 32);
    pb_commit_compute(m1.com, "dkg/q1-chain", pre, PB_ROLE_P1, payload, sizeof payload,
                      e->opening);
    uint8_t *b1, *b2;
    size_t l1, l2;
    cr_assert_eq(pb_dkg_m1_encode(&m1, &b1, &l1), PB_OK);
    cr_assert_eq(pb_dkg_p2_new(&e->p2, f->params, 2048), PB_OK);
    cr_assert_eq(pb_dkg_p2_step(e->p2, b1, l1, &b2, &l2), PB_OK, "%s", pb_last_error());
    pb_dkg_m2 m2;
    cr_assert_eq(pb_dkg_m2_decode(&m2, b2, l2), PB_OK);
    e->q2 = m2.q2;
    pb_msg_session_id(e->sid, PB_PROTO_DKG, e->n1, m2.n2);
    pb_mpc_bytes_free(b1, l1);
    pb_mpc_bytes_free(b2, l2);

    pb_writer_init(&e->w);
    pb_msg_begin(&e->w, PB_PROTO_DKG, 3, PB_ROLE_P1, e->sid);
    pb_writer_raw(&e->w, e->q1_bytes, PB_POINT_BYTES);
    pb_writer_raw(&e->w, e->c1, 32);
    pb_writer_raw(&e->w, e->opening, 32);
    pb_zk_sch_proof proof;
    if (sch) {
        proof = *sch;
    } else {
        pb_transcript t;
        pb_dkg_sch_transcript(&t, e->sid, PB_ROLE_P1, e->c1);
        cr_assert_eq(pb_zk_sch_prove(&t, &e->q1, &e->x1, &proof), PB_OK);
    }
    pb_zk_sch_encode(&e->w, &proof);
}

/* The transcript of one proof of the key bundle in this session. */
static void bundle_transcript(pb_transcript *t, const uint8_t sid[32], const char *what)
{
    pb_mpc_transcript(t, PB_PROTO_DKG, what, sid, PB_ROLE_P1, NULL, 0);
}

/* Delivers message 3 and asserts P2's refusal: status, a word of the
 * error, no answer and no record. */
static void evil_expect(evil *e, pb_status want, const char *needle, const char *what)
{
    uint8_t *b3, *b4;
    size_t l3, l4;
    cr_assert_eq(pb_writer_finish(&e->w, &b3, &l3), PB_OK);
    pb_status st = pb_dkg_p2_step(e->p2, b3, l3, &b4, &l4);
    char err[512];
    snprintf(err, sizeof err, "%s", pb_last_error());
    cr_assert_eq(st, want, "%s: P2 answered %s: %s", what, pb_status_name(st), err);
    if (want == PB_OK) {
        cr_assert_not_null(b4);
        pb_mpc_bytes_free(b4, l4);
        pb_share_p2 *s2;
        cr_assert_eq(pb_dkg_p2_take_share(e->p2, &s2), PB_OK);
        pb_share_p2_free(s2);
    } else {
        cr_assert(strstr(err, needle) != NULL, "%s: \"%s\" does not name \"%s\"", what, err,
                  needle);
        cr_assert_null(b4, "%s: P2 answered", what);
        pb_share_p2 *s2;
        cr_assert_eq(pb_dkg_p2_take_share(e->p2, &s2), PB_ERR_STATE, "%s: P2 kept a record",
                     what);
        cr_assert_null(s2);
    }
    pb_mpc_bytes_free(b3, l3);
    pb_dkg_p2_free(e->p2);
    e->p2 = NULL;
}

/* A key bundle for a modulus P1 chose (knowing its factors): c_key = Enc(x1)
 * with a Pi^log* forged for it, and the best Pi^mod and Pi^fac the factors
 * allow. Written field by field, since a prime N has no key object. */
static void bundle_for_modulus(evil *e, const cheat_modulus *m)
{
    BN_CTX *ctx = pb_bn_ctx();
    BIGNUM *x = bn_new(), *rho = bn_new(), *c = bn_new(), *n2 = bn_new();
    cr_assert_eq(pb_scalar_to_bn(&e->x1, x), PB_OK);
    cr_assert_eq(pb_bn_random_unit(m->n, rho), PB_OK);
    cr_assert(BN_sqr(n2, m->n, ctx));
    /* c = (1 + x N) rho^N mod N^2, computed without a key object (which a
     * prime N could not have). */
    BIGNUM *rn = pow_public(rho, m->n, n2);
    cr_assert(BN_mul(c, x, m->n, ctx) && BN_add_word(c, 1) && BN_mod_mul(c, c, rn, n2, ctx));
    BN_free(rn);

    uint8_t nb[512];
    int nlen = BN_bn2bin(m->n, nb);
    pb_writer_var(&e->w, nb, (size_t)nlen);
    pb_bn_encode(&e->w, c);
    pb_transcript t;
    bundle_transcript(&t, e->sid, "paillier-mod");
    pb_zk_mod_proof *mod = cheat_zk_mod_prove(&t, m);
    pb_zk_mod_encode(&e->w, mod);
    bundle_transcript(&t, e->sid, "paillier-fac");
    pb_zk_fac_proof *fac = cheat_zk_fac_prove(&t, m, e->f->rp);
    pb_zk_fac_encode(&e->w, fac);
    bundle_transcript(&t, e->sid, "c-key-logstar");
    raw_logstar ls;
    forge_logstar(&ls, &t, m->n, e->f->rp, c, &e->q1, x, rho);
    raw_logstar_encode(&e->w, &ls);
    raw_logstar_free(&ls);
    pb_zk_mod_free(mod);
    pb_zk_fac_free(fac);
    BN_free(x);
    BN_free(rho);
    BN_free(c);
    BN_free(n2);
}

/* An honest Paillier key, and c_key encrypting `plain` (any integer in
 * [0, N)) with Pi^log* forged for (c_key, Q1) -- or made by the real prover
 * for (c_key, plain*G) if `honest_prover` (the statement is then about
 * another point than Q1). */
static void bundle_for_plaintext(evil *e, const BIGNUM *plain, int honest_prover)
{
    pb_paillier_private *sk;
    cr_assert_eq(pb_paillier_generate(2048, &sk), PB_OK);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    BIGNUM *c = bn_new(), *rho = bn_new();
    cr_assert_eq(pb_paillier_encrypt(pk, plain, c, rho), PB_OK);
    pb_paillier_public_encode(&e->w, pk);
    pb_bn_encode(&e->w, c);
    pb_transcript t;
    pb_zk_mod_proof *mod;
    pb_zk_fac_proof *fac;
    bundle_transcript(&t, e->sid, "paillier-mod");
    cr_assert_eq(pb_zk_mod_prove(&t, sk, &mod), PB_OK);
    pb_zk_mod_encode(&e->w, mod);
    bundle_transcript(&t, e->sid, "paillier-fac");
    cr_assert_eq(pb_zk_fac_prove(&t, sk, e->f->rp, &fac), PB_OK);
    pb_zk_fac_encode(&e->w, fac);
    bundle_transcript(&t, e->sid, "c-key-logstar");
    if (honest_prover) {
        pb_scalar xs;
        pb_point xp;
        pb_zk_logstar_proof *ls;
        cr_assert_eq(pb_scalar_from_bn(&xs, plain), PB_OK);
        cr_assert_eq(pb_point_mul_base(&xp, &xs), PB_OK);
        cr_assert_eq(pb_zk_logstar_prove(&t, pk, e->f->rp, c, &xp, plain, rho, &ls), PB_OK,
                     "%s", pb_last_error());
        pb_zk_logstar_encode(&e->w, ls);
        pb_zk_logstar_free(ls);
    } else {
        raw_logstar ls;
        forge_logstar(&ls, &t, pb_paillier_n(pk), e->f->rp, c, &e->q1, plain, rho);
        raw_logstar_encode(&e->w, &ls);
        raw_logstar_free(&ls);
    }
    pb_zk_mod_free(mod);
    pb_zk_fac_free(fac);
    BN_free(c);
    BN_free(rho);
    pb_paillier_private_free(sk);
}

/* x1 + k*q as an integer (same discrete log, another plaintext). */
static BIGNUM *x1_plus_multiple_of_q(const evil *e, int shift)
{
    BIGNUM *x = bn_new(), *k = bn_new();
    cr_assert_eq(pb_scalar_to_bn(&e->x1, x), PB_OK);
    cr_assert(BN_lshift(k, pb_ec_order(), shift) && BN_add(x, x, k));
    BN_free(k);
    return x;
}

/* --- DKG ---------------------------------------------------------------------------- */

/* Control for the rest: the scripted P1 with the forged Pi^log* is
 * accepted for the honest plaintext x1, and also for x1 + q -- inside the
 * slack Pi^log* allows (|x'| <= 2^(l+eps)), which the mask of c3 is sized
 * for (docs/protocol.md section 10). */
Test(mpc_malicious_p1, scripted_p1_with_a_forged_proof_for_x1_is_accepted)
{
    fx f = open_fx();
    evil e;
    evil_begin(&e, &f, NULL, NULL, NULL);
    BIGNUM *x = bn_new();
    cr_assert_eq(pb_scalar_to_bn(&e.x1, x), PB_OK);
    bundle_for_plaintext(&e, x, 0);
    evil_expect(&e, PB_OK, NULL, "forged proof for x1");
    BN_free(x);

    evil_begin(&e, &f, NULL, NULL, NULL);
    x = x1_plus_multiple_of_q(&e, 0);
    bundle_for_plaintext(&e, x, 0);
    evil_expect(&e, PB_OK, NULL, "forged proof for x1 + q");
    BN_free(x);
    close_fx(&f);
}

Test(mpc_malicious_p1, modulus_with_a_16_bit_prime_factor_is_refused)
{
    fx f = open_fx();
    cheat_modulus m;
    cheat_modulus_small_factor(2048, &m);
    evil e;
    evil_begin(&e, &f, NULL, NULL, NULL);
    bundle_for_modulus(&e, &m);
    /* r*P with r, P = 3 mod 4 is a Blum integer: Pi^mod would pass. Pi^fac's
     * answers z = alpha + e*P carry the 2032-bit factor: far longer than
     * the sqrt(N)*2^(l+eps) bound allows, which the decoder already
     * enforces on their length. */
    evil_expect(&e, PB_ERR_PARSE, "fac proof", "16-bit factor");
    cheat_modulus_free(&m);
    close_fx(&f);
}

Test(mpc_malicious_p1, modulus_with_a_square_factor_is_refused)
{
    fx f = open_fx();
    cheat_modulus m;
    cheat_modulus_square_factor(2048, &m);
    evil e;
    evil_begin(&e, &f, NULL, NULL, NULL);
    bundle_for_modulus(&e, &m);
    evil_expect(&e, PB_ERR_PROOF, "Paillier modulus proof", "N = p^2 q");
    cheat_modulus_free(&m);
    close_fx(&f);
}

Test(mpc_malicious_p1, prime_modulus_is_refused)
{
    fx f = open_fx();
    cheat_modulus m;
    cheat_modulus_prime(2048, &m);
    evil e;
    evil_begin(&e, &f, NULL, NULL, NULL);
    bundle_for_modulus(&e, &m);
    evil_expect(&e, PB_ERR_PARSE, "paillier modulus: prime", "N prime");
    cheat_modulus_free(&m);
    close_fx(&f);
}

Test(mpc_malicious_p1, modulus_of_the_wrong_size_is_refused)
{
    fx f = open_fx();
    static const int sizes[] = {2040, 2056};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        cheat_modulus m;
        cheat_modulus_blum(sizes[i], &m);
        evil e;
        evil_begin(&e, &f, NULL, NULL, NULL);
        bundle_for_modulus(&e, &m);
        char what[64];
        snprintf(what, sizeof what, "%d-bit N", sizes[i]);
        /* Longer than 256 bytes is refused by the length bound, shorter by
         * the exact size check. */
        evil_expect(&e, PB_ERR_PARSE, "paillier", what);
        cheat_modulus_free(&m);
    }
    close_fx(&f);
}

/* An honest bundle whose modulus then has its lowest bit flipped: even, of
 * the right size, refused before anything is computed with it. */
Test(mpc_malicious_p1, even_modulus_is_refused)
{
    fx f = open_fx();
    evil e;
    evil_begin(&e, &f, NULL, NULL, NULL);
    size_t at = e.w.len; /* the bundle starts with u32 length || N */
    BIGNUM *x = bn_new();
    cr_assert_eq(pb_scalar_to_bn(&e.x1, x), PB_OK);
    bundle_for_plaintext(&e, x, 1);
    const uint8_t *lp = e.w.data + at;
    cr_assert_eq(((size_t)lp[0] << 24) | ((size_t)lp[1] << 16) | ((size_t)lp[2] << 8) | lp[3],
                 2048 / 8, "the bundle does not start with N");
    e.w.data[at + 4 + 2048 / 8 - 1] ^= 1;
    evil_expect(&e, PB_ERR_PARSE, "paillier modulus: even", "N even");
    BN_free(x);
    close_fx(&f);
}

/* c_key = Enc(x1 + 1) with a Pi^log* that the real prover computed
 * honestly for its own statement (c_key, (x1+1)*G): P2 checks it against
 * the Q1 P1 committed to. A forged proof against Q1 itself fails too. */
Test(mpc_malicious_p1, c_key_encrypting_x1_plus_1_is_refused)
{
    fx f = open_fx();
    for (int honest_prover = 1; honest_prover >= 0; honest_prover--) {
        evil e;
        evil_begin(&e, &f, NULL, NULL, NULL);
        BIGNUM *x = bn_new();
        cr_assert_eq(pb_scalar_to_bn(&e.x1, x), PB_OK);
        cr_assert(BN_add_word(x, 1));
        bundle_for_plaintext(&e, x, honest_prover);
        evil_expect(&e, PB_ERR_PROOF, "c_key proof",
                    honest_prover ? "x1 + 1, proof for its own point" : "x1 + 1, forged for Q1");
        BN_free(x);
    }
    close_fx(&f);
}

/* c_key = Enc(x1 + q*2^600): the same discrete log (so every equation of
 * the forged Pi^log* holds), but about 2^856, beyond the 2^(l+eps) = 2^768
 * the proof allows. Accepting it would let P1 break the mask of c3. */
Test(mpc_malicious_p1, c_key_plaintext_outside_the_proven_range_is_refused)
{
    fx f = open_fx();
    evil e;
    evil_begin(&e, &f, NULL, NULL, NULL);
    BIGNUM *x = x1_plus_multiple_of_q(&e, 600);
    cr_assert_gt(BN_num_bits(x), PB_ZK_L + PB_ZK_EPS + 64);
    bundle_for_plaintext(&e, x, 0);
    evil_expect(&e, PB_ERR_PROOF, "z1", "x1 + q*2^600");
    BN_free(x);
    close_fx(&f);
}

/* Q1 with no valid encoding: the usual spellings of the point at infinity,
 * another prefix, an x with no point and x >= p. The commitment opens
 * (it covers these very bytes): the point check refuses them. */
Test(mpc_malicious_p1, q1_that_is_not_a_curve_point_is_refused)
{
    fx f = open_fx();
    uint8_t bad[5][PB_POINT_BYTES];
    memset(bad, 0, sizeof bad);   /* 0: 33 zero bytes (infinity) */
    bad[1][0] = 0x00;             /* 1: 0x00 prefix, x = 1 */
    bad[1][32] = 1;
    bad[2][0] = 0x04;             /* 2: uncompressed prefix */
    bad[2][32] = 1;
    bad[3][0] = 0x02;             /* 3: x = 5 has no point (5^3 + 7 is not a square) */
    bad[3][32] = 5;
    bad[4][0] = 0x03;             /* 4: x = 2^256 - 1 >= p */
    memset(bad[4] + 1, 0xff, 32);
    pb_point probe;
    cr_assert_neq(pb_point_parse(&probe, bad[3]), PB_OK, "x = 5 must not be on the curve");
    for (int i = 0; i < 5; i++) {
        evil e;
        evil_begin(&e, &f, NULL, bad[i], NULL);
        BIGNUM *x = bn_new();
        cr_assert_eq(pb_scalar_to_bn(&e.x1, x), PB_OK);
        bundle_for_plaintext(&e, x, 1);
        char what[48];
        snprintf(what, sizeof what, "Q1 encoding %d", i);
        evil_expect(&e, PB_ERR_PARSE, "Q1", what);
        BN_free(x);
    }
    close_fx(&f);
}

/* Q1 = -Q2 would make Q the identity, but P1 committed to Q1 before it saw
 * Q2: opening the commitment to -Q2 fails (and P1 could not prove x1). */
Test(mpc_malicious_p1, q1_cancelling_q2_is_refused)
{
    fx f = open_fx();
    evil e;
    evil_begin(&e, &f, NULL, NULL, NULL);
    pb_writer_free(&e.w);
    pb_point neg;
    cr_assert_eq(pb_point_negate(&neg, &e.q2), PB_OK);
    uint8_t nb[PB_POINT_BYTES];
    pb_point_serialize(nb, &neg);
    pb_writer_init(&e.w);
    pb_msg_begin(&e.w, PB_PROTO_DKG, 3, PB_ROLE_P1, e.sid);
    pb_writer_raw(&e.w, nb, sizeof nb);
    pb_writer_raw(&e.w, e.c1, 32);
    pb_writer_raw(&e.w, e.opening, 32);
    pb_zk_sch_proof junk;
    junk.a = e.q1;
    memset(&junk.z, 0, sizeof junk.z);
    junk.z.b[31] = 1;
    pb_zk_sch_encode(&e.w, &junk);
    BIGNUM *x = bn_new();
    cr_assert_eq(pb_scalar_to_bn(&e.x1, x), PB_OK);
    bundle_for_plaintext(&e, x, 1);
    evil_expect(&e, PB_ERR_PROOF, "commitment does not open", "Q1 = -Q2");
    BN_free(x);
    close_fx(&f);
}

/* P1 ran session A honestly, then reuses A's proofs in session B with the
 * same x1, Q1 and Paillier key: each proof is bound to A's session id.
 * `which`: 0 the whole key bundle, 1 only Pi^log*, 2 only the proof of x1. */
static void proofs_from_another_session(int which, const char *needle)
{
    fx f = open_fx();
    pb_paillier_private *sk;
    cr_assert_eq(pb_paillier_generate(2048, &sk), PB_OK);
    evil a;
    evil_begin(&a, &f, NULL, NULL, NULL);
    pb_writer_free(&a.w);
    pb_key_bundle_ctx kctx;
    pb_dkg_bundle_ctx(&kctx, a.sid);
    pb_key_bundle old;
    cr_assert_eq(pb_key_bundle_make(&old, &kctx, sk, f.rp, &a.x1, &a.q1), PB_OK, "%s",
                 pb_last_error());
    pb_transcript t;
    pb_zk_sch_proof old_sch;
    pb_dkg_sch_transcript(&t, a.sid, PB_ROLE_P1, a.c1);
    cr_assert_eq(pb_zk_sch_prove(&t, &a.q1, &a.x1, &old_sch), PB_OK);
    pb_dkg_p2_free(a.p2);

    evil b;
    evil_begin(&b, &f, &a.x1, NULL, which == 2 ? &old_sch : NULL);
    if (which == 0) {
        pb_key_bundle_encode(&b.w, &old);
    } else {
        pb_key_bundle fresh;
        pb_dkg_bundle_ctx(&kctx, b.sid);
        cr_assert_eq(pb_key_bundle_make(&fresh, &kctx, sk, f.rp, &b.x1, &b.q1), PB_OK);
        if (which == 1) {
            /* B's own Pi^mod and Pi^fac, A's c_key and Pi^log*. */
            pb_zk_logstar_proof *ls = fresh.logstar;
            BIGNUM *c = fresh.c_key;
            fresh.logstar = old.logstar;
            fresh.c_key = old.c_key;
            old.logstar = ls;
            old.c_key = c;
        }
        pb_key_bundle_encode(&b.w, &fresh);
        pb_key_bundle_clear(&fresh);
    }
    static const char *const what[] = {"key bundle of session A", "Pi^log* of session A",
                                       "proof of x1 of session A"};
    evil_expect(&b, PB_ERR_PROOF, needle, what[which]);
    pb_key_bundle_clear(&old);
    pb_paillier_private_free(sk);
    close_fx(&f);
}

Test(mpc_malicious_p1, key_bundle_from_another_session_is_refused)
{
    proofs_from_another_session(0, "Paillier modulus proof");
}

Test(mpc_malicious_p1, c_key_proof_from_another_session_is_refused)
{
    proofs_from_another_session(1, "c_key proof");
}

Test(mpc_malicious_p1, proof_of_x1_from_another_session_is_refused)
{
    proofs_from_another_session(2, "proof of x1");
}

/* --- sign ----------------------------------------------------------------------------- */

static const uint8_t DIGEST[32] = {0xba, 0xd1};

typedef struct evil_sign {
    pb_sign_p2 *p2;
    pb_sign_request req;
    uint8_t n1[32], sid[32], opening[32];
    pb_scalar k1;
    pb_point r1;
    pb_zk_sch_proof sch;
    uint8_t *m1;
    size_t l1;
} evil_sign;

/* Message 1 committing to r1_bytes || sch (honest R1 = k1*G and proof unless
 * given), delivered to a fresh P2 session on s2, approved: returns m2. */
static void evil_sign_begin(evil_sign *e, const pb_share_p1 *s1, const pb_share_p2 *s2,
                            const uint8_t *r1_bytes, uint8_t **m2, size_t *l2)
{
    memset(e, 0, sizeof *e);
    pb_share_p1_id(s1, e->req.share_id);
    memcpy(e->req.digest, DIGEST, 32);
    cr_assert_eq(RAND_bytes(e->n1, 32), 1);
    cr_assert_eq(RAND_bytes(e->opening, 32), 1);
    cr_assert_eq(pb_scalar_random(&e->k1), PB_OK);
    cr_assert_eq(pb_point_mul_base(&e->r1, &e->k1), PB_OK);
    pb_transcript t;
    pb_sign_k1_transcript(&t, e->n1, &e->req);
    cr_assert_eq(pb_zk_sch_prove(&t, &e->r1, &e->k1, &e->sch), PB_OK);
    uint8_t payload[PB_POINT_BYTES + PB_ZK_SCH_BYTES], pre[32];
    if (r1_bytes)
        memcpy(payload, r1_bytes, PB_POINT_BYTES);
    else
        pb_point_serialize(payload, &e->r1);
    pb_point_serialize(payload + PB_POINT_BYTES, &e->sch.a);
    memcpy(payload + 2 * PB_POINT_BYTES, e->sch.z.b, 32);
    pb_msg_pre_id(pre, PB_PROTO_SIGN, e->n1);
    pb_sign_m1 m1;
    memcpy(m1.n1, e->n1, 32);
    m1.req = e->req;
    pb_commit_compute(m1.com, "sign/r1-proof", pre, PB_ROLE_P1, payload, sizeof payload,
                      e->opening);
    cr_assert_eq(pb_sign_m1_encode(&m1, &e->m1, &e->l1), PB_OK);
    uint8_t *none;
    size_t lnone;
    cr_assert_eq(pb_sign_p2_new(&e->p2, s2), PB_OK);
    cr_assert_eq(pb_sign_p2_step(e->p2, e->m1, e->l1, &none, &lnone), PB_OK, "%s",
                 pb_last_error());
    cr_assert_eq(pb_sign_p2_approve(e->p2, m2, l2), PB_OK);
    pb_sign_m2 d;
    cr_assert_eq(pb_sign_m2_decode(&d, *m2, *l2), PB_OK);
    memcpy(e->sid, d.sid, 32);
}

/* Message 3 with the given R1 bytes, proof and opening. */
static void evil_sign_m3(const evil_sign *e, const uint8_t *r1_bytes, const pb_zk_sch_proof *sch,
                         const uint8_t *opening, uint8_t **out, size_t *len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_msg_begin(&w, PB_PROTO_SIGN, 3, PB_ROLE_P1, e->sid);
    pb_writer_raw(&w, r1_bytes, PB_POINT_BYTES);
    pb_zk_sch_encode(&w, sch);
    pb_writer_raw(&w, opening, 32);
    cr_assert_eq(pb_writer_finish(&w, out, len), PB_OK);
}

/* P2 refuses message 3 with `want` naming `needle`, computes no c3 and
 * answers nothing afterwards. */
static void sign_expect(evil_sign *e, const uint8_t *m3, size_t l3, pb_status want,
                        const char *needle, const char *what)
{
    uint8_t *m4;
    size_t l4;
    pb_status st = pb_sign_p2_step(e->p2, m3, l3, &m4, &l4);
    cr_assert_eq(st, want, "%s: %s: %s", what, pb_status_name(st), pb_last_error());
    cr_assert(strstr(pb_last_error(), needle) != NULL, "%s: \"%s\" does not name \"%s\"", what,
              pb_last_error(), needle);
    cr_assert_null(m4, "%s: P2 sent c3", what);
    cr_assert_eq(pb_sign_p2_step(e->p2, m3, l3, &m4, &l4), PB_ERR_STATE);
    cr_assert_null(m4);
}

static void evil_sign_end(evil_sign *e)
{
    pb_sign_p2_free(e->p2);
    pb_mpc_bytes_free(e->m1, e->l1);
}

/* R1 with no valid encoding (P1 committed to exactly these bytes, so the
 * commitment would open): refused as malformed before any use of k2. */
Test(mpc_malicious_p1, r1_that_is_not_a_curve_point_is_refused)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 0, &s1, &s2);
    uint8_t bad[4][PB_POINT_BYTES];
    memset(bad, 0, sizeof bad); /* 0: 33 zero bytes (infinity) */
    bad[1][0] = 0x02;           /* 1: x = 5, no point */
    bad[1][32] = 5;
    bad[2][0] = 0x06;           /* 2: hybrid prefix */
    bad[2][32] = 1;
    bad[3][0] = 0x02;           /* 3: x = 2^256 - 1 >= p */
    memset(bad[3] + 1, 0xff, 32);
    for (int i = 0; i < 4; i++) {
        evil_sign e;
        uint8_t *m2, *m3;
        size_t l2, l3;
        evil_sign_begin(&e, s1, s2, bad[i], &m2, &l2);
        evil_sign_m3(&e, bad[i], &e.sch, e.opening, &m3, &l3);
        char what[48];
        snprintf(what, sizeof what, "R1 encoding %d", i);
        sign_expect(&e, m3, l3, PB_ERR_PARSE, "R1", what);
        pb_mpc_bytes_free(m2, l2);
        pb_mpc_bytes_free(m3, l3);
        evil_sign_end(&e);
    }
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

/* P1 opens with another R1 (with a valid proof for it) than it committed
 * to: it would choose R after seeing R2. */
Test(mpc_malicious_p1, sign_commitment_that_does_not_open_is_refused)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 0, &s1, &s2);
    evil_sign e;
    uint8_t *m2, *m3;
    size_t l2, l3;
    evil_sign_begin(&e, s1, s2, NULL, &m2, &l2);
    pb_scalar k;
    pb_point r;
    pb_zk_sch_proof sch;
    cr_assert_eq(pb_scalar_random(&k), PB_OK);
    cr_assert_eq(pb_point_mul_base(&r, &k), PB_OK);
    pb_transcript t;
    pb_sign_k1_transcript(&t, e.n1, &e.req);
    cr_assert_eq(pb_zk_sch_prove(&t, &r, &k, &sch), PB_OK);
    uint8_t rb[PB_POINT_BYTES];
    pb_point_serialize(rb, &r);
    evil_sign_m3(&e, rb, &sch, e.opening, &m3, &l3);
    sign_expect(&e, m3, l3, PB_ERR_PROOF, "commitment does not open", "another R1");
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    evil_sign_end(&e);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

/* The commitment opens, but to a proof of k1 that does not verify. */
Test(mpc_malicious_p1, sign_proof_of_k1_that_does_not_verify_is_refused)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 0, &s1, &s2);
    evil_sign e;
    uint8_t *m2, *m3;
    size_t l2, l3;
    /* Commit to R1 with a proof whose z is off by one. */
    memset(&e, 0, sizeof e);
    pb_share_p1_id(s1, e.req.share_id);
    memcpy(e.req.digest, DIGEST, 32);
    cr_assert_eq(RAND_bytes(e.n1, 32), 1);
    cr_assert_eq(RAND_bytes(e.opening, 32), 1);
    cr_assert_eq(pb_scalar_random(&e.k1), PB_OK);
    cr_assert_eq(pb_point_mul_base(&e.r1, &e.k1), PB_OK);
    pb_transcript t;
    pb_sign_k1_transcript(&t, e.n1, &e.req);
    cr_assert_eq(pb_zk_sch_prove(&t, &e.r1, &e.k1, &e.sch), PB_OK);
    pb_scalar one;
    memset(&one, 0, sizeof one);
    one.b[31] = 1;
    pb_scalar_add(&e.sch.z, &e.sch.z, &one);
    pb_sign_m1 m1;
    memcpy(m1.n1, e.n1, 32);
    m1.req = e.req;
    pb_sign_commit(m1.com, e.n1, &e.r1, &e.sch, e.opening);
    cr_assert_eq(pb_sign_m1_encode(&m1, &e.m1, &e.l1), PB_OK);
    uint8_t *none;
    size_t lnone;
    cr_assert_eq(pb_sign_p2_new(&e.p2, s2), PB_OK);
    cr_assert_eq(pb_sign_p2_step(e.p2, e.m1, e.l1, &none, &lnone), PB_OK);
    cr_assert_eq(pb_sign_p2_approve(e.p2, &m2, &l2), PB_OK);
    pb_sign_m2 d;
    cr_assert_eq(pb_sign_m2_decode(&d, m2, l2), PB_OK);
    memcpy(e.sid, d.sid, 32);
    uint8_t rb[PB_POINT_BYTES];
    pb_point_serialize(rb, &e.r1);
    evil_sign_m3(&e, rb, &e.sch, e.opening, &m3, &l3);
    sign_expect(&e, m3, l3, PB_ERR_PROOF, "proof of k1", "bad proof of k1");
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    evil_sign_end(&e);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

/* P1 replays the first message of a finished signing session. P2 cannot
 * tell it from a new request (it carries no session id); it answers with a
 * fresh nonce k2 and a new session id, so the old third message is refused
 * and no c3 for the old R is ever computed again. A replay into the session
 * that already has its first message is refused outright. */
Test(mpc_malicious_p1, replayed_first_sign_message_gets_a_fresh_session)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 0, &s1, &s2);
    pb_sign_p1 *p1;
    pb_sign_p2 *p2;
    uint8_t *m1, *m2, *m3, *m4, *none;
    size_t l1, l2, l3, l4, lnone;
    cr_assert_eq(pb_sign_p1_new(&p1, s1, DIGEST, NULL, 0), PB_OK);
    cr_assert_eq(pb_sign_p2_new(&p2, s2), PB_OK);
    cr_assert_eq(pb_sign_p1_start(p1, &m1, &l1), PB_OK);
    cr_assert_eq(pb_sign_p2_step(p2, m1, l1, &none, &lnone), PB_OK);
    /* Replayed into the same session before approval. */
    cr_assert_eq(pb_sign_p2_step(p2, m1, l1, &none, &lnone), PB_ERR_STATE);
    cr_assert_null(none);
    pb_sign_p2_free(p2);
    cr_assert_eq(pb_sign_p2_new(&p2, s2), PB_OK);
    cr_assert_eq(pb_sign_p2_step(p2, m1, l1, &none, &lnone), PB_OK);
    cr_assert_eq(pb_sign_p2_approve(p2, &m2, &l2), PB_OK);
    cr_assert_eq(pb_sign_p1_step(p1, m2, l2, &m3, &l3), PB_OK);
    cr_assert_eq(pb_sign_p2_step(p2, m3, l3, &m4, &l4), PB_OK);
    cr_assert_eq(pb_sign_p1_step(p1, m4, l4, &none, &lnone), PB_OK, "%s", pb_last_error());
    uint8_t old_sid[32];
    cr_assert_eq(pb_sign_p2_session_id(p2, old_sid), PB_OK);
    pb_sign_m2 old2;
    cr_assert_eq(pb_sign_m2_decode(&old2, m2, l2), PB_OK);

    /* The replay: a new P2 session takes it as a new request. */
    pb_sign_p2 *again;
    uint8_t *n2, *n4;
    size_t ln2, ln4;
    cr_assert_eq(pb_sign_p2_new(&again, s2), PB_OK);
    cr_assert_eq(pb_sign_p2_step(again, m1, l1, &none, &lnone), PB_OK);
    cr_assert_eq(pb_sign_p2_approve(again, &n2, &ln2), PB_OK);
    uint8_t new_sid[32];
    cr_assert_eq(pb_sign_p2_session_id(again, new_sid), PB_OK);
    cr_assert(memcmp(new_sid, old_sid, 32) != 0, "the replay reused the session id");
    pb_sign_m2 new2;
    cr_assert_eq(pb_sign_m2_decode(&new2, n2, ln2), PB_OK);
    cr_assert_not(pb_point_equal(&new2.r2, &old2.r2), "the replay reused R2");
    cr_assert_eq(pb_sign_p2_step(again, m3, l3, &n4, &ln4), PB_ERR_STATE);
    cr_assert(strstr(pb_last_error(), "another session") != NULL, "%s", pb_last_error());
    cr_assert_null(n4, "c3 computed for a replayed session");
    pb_sign_p2_free(again);
    pb_mpc_bytes_free(n2, ln2);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    pb_mpc_bytes_free(m4, l4);
    pb_sign_p1_free(p1);
    pb_sign_p2_free(p2);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}
