/* Pi^log* (CGGMP21 Fig. 25, g = G): honest proofs verify at 2048 and 3072
 * bits; a test-side prover written directly from the figure shows that the
 * range check on z1 is what rejects an out-of-range witness even when every
 * equation holds; statement, session, role and domain are bound; every field
 * is checked; the wire form is strict. At 2048 bits the verifier's
 * ring-Pedersen parameters are real (safe primes, cached per machine); the
 * second 2048-bit set and the 3072-bit set come from the cheap insecure
 * fixture (random primes), which is enough for the algebra. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>

#include "common/bytes.h"
#include "crypto/bn.h"
#include "crypto/ec.h"
#include "crypto/paillier.h"
#include "crypto/transcript.h"
#include "crypto/zk_logstar.h"
#include "support/rped_fixture.h"
#include "support/rped_secret_fixture.h"

static const char DOMAIN[] = "planbok/test/zk-logstar";

/* ---- statement and helpers ----------------------------------------------- */

typedef struct stmt {
    pb_paillier_private *sk;
    const pb_paillier_public *pk;
    pb_rped_public *rp;
    int rp_real; /* rp from the real fixture: freed by pb_rped_public_free */
    BIGNUM *x, *rho, *c;
    pb_point X;
} stmt;

static void session(pb_transcript *t, const char *domain, uint8_t sid_byte, uint8_t role)
{
    uint8_t sid[PB_SESSION_ID_BYTES];
    memset(sid, sid_byte, sizeof sid);
    pb_transcript_init(t, domain, sid, role);
}

static void point_of(pb_point *out, const BIGNUM *x)
{
    pb_scalar s;
    cr_assert_eq(pb_scalar_from_bn(&s, x), PB_OK);
    cr_assert_eq(pb_point_mul_base(out, &s), PB_OK);
}

/* C = Enc(x; rho), X = x*G for the given x (taken mod q for X). */
static void stmt_set_witness(stmt *st, const BIGNUM *x)
{
    cr_assert(BN_copy(st->x, x));
    cr_assert_eq(pb_paillier_encrypt(st->pk, st->x, st->c, st->rho), PB_OK, "%s",
                 pb_last_error());
    point_of(&st->X, st->x);
}

static void stmt_init(stmt *st, int bits, int slot)
{
    st->sk = fx_paillier(bits, slot);
    st->pk = pb_paillier_public_of(st->sk);
    if (bits == 2048 && slot == 0) {
        pb_rped_secret *sec = fx_rped_secret(bits);
        st->rp = pb_rped_public_dup(pb_rped_public_of(sec));
        cr_assert_not_null(st->rp);
        st->rp_real = 1;
        pb_rped_secret_free(sec);
    } else {
        st->rp = fx_rped_public(bits, slot);
        st->rp_real = 0;
    }
    st->x = BN_new();
    st->rho = BN_new();
    st->c = BN_new();
    cr_assert(st->x && st->rho && st->c);
    BIGNUM *x = BN_new();
    cr_assert(x && BN_rand(x, PB_ZK_L, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY));
    stmt_set_witness(st, x);
    BN_free(x);
}

static void stmt_free(stmt *st)
{
    pb_paillier_private_free(st->sk);
    if (st->rp_real)
        pb_rped_public_free(st->rp);
    else
        fx_rped_free(st->rp);
    BN_free(st->x);
    BN_free(st->rho);
    BN_free(st->c);
}

static pb_zk_logstar_proof *prove(const pb_transcript *t, const stmt *st)
{
    pb_zk_logstar_proof *proof = NULL;
    cr_assert_eq(pb_zk_logstar_prove(t, st->pk, st->rp, st->c, &st->X, st->x, st->rho, &proof),
                 PB_OK, "prove: %s", pb_last_error());
    return proof;
}

static pb_status verify(const pb_transcript *t, const stmt *st, const pb_zk_logstar_proof *p)
{
    return pb_zk_logstar_verify(t, st->pk, st->rp, st->c, &st->X, p);
}

static void encode(const pb_zk_logstar_proof *p, uint8_t **buf, size_t *len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_zk_logstar_encode(&w, p);
    cr_assert_eq(pb_writer_finish(&w, buf, len), PB_OK);
}

/* Decode then verify; PB_OK only if both pass with nothing left over. */
static pb_status decode_verify(const pb_transcript *t, const stmt *st, const uint8_t *buf,
                               size_t len)
{
    pb_reader r;
    pb_zk_logstar_proof *p = NULL;
    pb_reader_init(&r, buf, len);
    pb_status s = pb_zk_logstar_decode(&r, st->pk, st->rp, &p);
    if (s == PB_OK)
        s = pb_reader_finish(&r, "proof");
    if (s == PB_OK)
        s = verify(t, st, p);
    pb_zk_logstar_free(p);
    return s;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- a test-side view of the wire form ---------------------------------- */

typedef struct raw_proof {
    BIGNUM *s, *a, *d, *z1, *z2, *z3;
    uint8_t y[PB_POINT_BYTES];
} raw_proof;

static void raw_init(raw_proof *r)
{
    r->s = BN_new();
    r->a = BN_new();
    r->d = BN_new();
    r->z1 = BN_new();
    r->z2 = BN_new();
    r->z3 = BN_new();
    cr_assert(r->s && r->a && r->d && r->z1 && r->z2 && r->z3);
}

static void raw_free(raw_proof *r)
{
    BN_free(r->s);
    BN_free(r->a);
    BN_free(r->d);
    BN_free(r->z1);
    BN_free(r->z2);
    BN_free(r->z3);
}

static void raw_parse(raw_proof *r, const uint8_t *buf, size_t len)
{
    pb_reader rd;
    pb_reader_init(&rd, buf, len);
    cr_assert_eq(pb_bn_decode(&rd, 4096, r->s), PB_OK);
    cr_assert_eq(pb_bn_decode(&rd, 4096, r->a), PB_OK);
    const uint8_t *y = pb_reader_raw(&rd, PB_POINT_BYTES);
    cr_assert_not_null(y);
    memcpy(r->y, y, PB_POINT_BYTES);
    cr_assert_eq(pb_bn_decode(&rd, 4096, r->d), PB_OK);
    cr_assert_eq(pb_bn_decode(&rd, 4096, r->z1), PB_OK);
    cr_assert_eq(pb_bn_decode(&rd, 4096, r->z2), PB_OK);
    cr_assert_eq(pb_bn_decode(&rd, 4096, r->z3), PB_OK);
    cr_assert_eq(pb_reader_finish(&rd, "raw proof"), PB_OK);
}

static void raw_encode(const raw_proof *r, uint8_t **buf, size_t *len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_bn_encode(&w, r->s);
    pb_bn_encode(&w, r->a);
    pb_writer_raw(&w, r->y, PB_POINT_BYTES);
    pb_bn_encode(&w, r->d);
    pb_bn_encode(&w, r->z1);
    pb_bn_encode(&w, r->z2);
    pb_bn_encode(&w, r->z3);
    cr_assert_eq(pb_writer_finish(&w, buf, len), PB_OK);
}

/* The Fiat-Shamir challenge as the protocol document specifies it. */
static void raw_challenge(const pb_transcript *t, const stmt *st, const raw_proof *r, BIGNUM *e)
{
    pb_point y;
    cr_assert_eq(pb_point_parse(&y, r->y), PB_OK);
    pb_transcript tt = *t;
    pb_transcript_append(&tt, "proof", "pi-log*", 7);
    pb_transcript_append_bn(&tt, "logstar.N0", pb_paillier_n(st->pk));
    pb_transcript_append_bn(&tt, "logstar.Nhat", st->rp->n_hat);
    pb_transcript_append_bn(&tt, "logstar.s", st->rp->s);
    pb_transcript_append_bn(&tt, "logstar.t", st->rp->t);
    pb_transcript_append_bn(&tt, "logstar.C", st->c);
    pb_transcript_append_point(&tt, "logstar.X", &st->X);
    pb_transcript_append_bn(&tt, "logstar.S", r->s);
    pb_transcript_append_bn(&tt, "logstar.A", r->a);
    pb_transcript_append_point(&tt, "logstar.Y", &y);
    pb_transcript_append_bn(&tt, "logstar.D", r->d);
    cr_assert_eq(pb_transcript_challenge_signed(&tt, "logstar.e", pb_ec_order(), e), PB_OK);
}

/* b^e mod m for any integer e, by plain BN_mod_exp on |e| and an inverse. */
static void pow_signed(BIGNUM *out, const BIGNUM *b, const BIGNUM *e, const BIGNUM *m,
                       BN_CTX *ctx)
{
    BIGNUM *mag = BN_dup(e);
    cr_assert_not_null(mag);
    BN_set_negative(mag, 0);
    cr_assert(BN_mod_exp(out, b, mag, m, ctx));
    if (BN_is_negative(e))
        cr_assert_not_null(BN_mod_inverse(out, out, m, ctx));
    BN_free(mag);
}

/* The three verification equations of Fig. 25, written out independently
 * of the library (real exponentiation of 1+N0, OpenSSL for everything).
 * Returns 1 iff all hold; ignores the range of z1 on purpose. */
static int raw_algebra_holds(const pb_transcript *t, const stmt *st, const raw_proof *r)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *e = BN_new(), *l = BN_new(), *u = BN_new(), *g = BN_new(), *rhs = BN_new();
    cr_assert(ctx && e && l && u && g && rhs);
    raw_challenge(t, st, r, e);
    const BIGNUM *n0 = pb_paillier_n(st->pk), *n0sq = pb_paillier_n2(st->pk);
    const BIGNUM *nh = st->rp->n_hat;

    cr_assert(BN_copy(g, n0) && BN_add_word(g, 1));
    pow_signed(l, g, r->z1, n0sq, ctx);
    cr_assert(BN_mod_exp(u, r->z2, n0, n0sq, ctx) && BN_mod_mul(l, l, u, n0sq, ctx));
    pow_signed(u, st->c, e, n0sq, ctx);
    cr_assert(BN_mod_mul(rhs, r->a, u, n0sq, ctx));
    int ok = BN_cmp(l, rhs) == 0;

    pow_signed(l, st->rp->s, r->z1, nh, ctx);
    pow_signed(u, st->rp->t, r->z3, nh, ctx);
    cr_assert(BN_mod_mul(l, l, u, nh, ctx));
    pow_signed(u, r->s, e, nh, ctx);
    cr_assert(BN_mod_mul(rhs, r->d, u, nh, ctx));
    ok = ok && BN_cmp(l, rhs) == 0;

    /* z1*G == Y + e*X, z1 and e reduced mod q. */
    pb_point y, lhs_p, ex_p, rhs_p;
    cr_assert_eq(pb_point_parse(&y, r->y), PB_OK);
    point_of(&lhs_p, r->z1);
    pb_scalar es;
    cr_assert_eq(pb_scalar_from_bn(&es, e), PB_OK);
    cr_assert_eq(pb_point_mul(&ex_p, &st->X, &es), PB_OK);
    cr_assert_eq(pb_point_add(&rhs_p, &y, &ex_p), PB_OK);
    ok = ok && pb_point_equal(&lhs_p, &rhs_p);

    BN_free(e);
    BN_free(l);
    BN_free(u);
    BN_free(g);
    BN_free(rhs);
    BN_CTX_free(ctx);
    return ok;
}

/* Uniform in [-2^bits * m, 2^bits * m] (m = 1 for plain powers of two). */
static void sample(BIGNUM *out, int bits, const BIGNUM *m)
{
    BIGNUM *half = BN_new(), *range = BN_new();
    cr_assert(half && range);
    if (m)
        cr_assert(BN_lshift(half, m, bits));
    else
        cr_assert(BN_set_word(half, 1) && BN_lshift(half, half, bits));
    cr_assert(BN_lshift1(range, half) && BN_add_word(range, 1));
    cr_assert(BN_rand_range(out, range) && BN_sub(out, out, half));
    BN_free(half);
    BN_free(range);
}

/* A prover written straight from Fig. 25 with no range check on x: the
 * honest algorithm when x is in range, a cheater when it is not. Returns
 * the proof's wire bytes. */
static void forge(const pb_transcript *t, const stmt *st, uint8_t **buf, size_t *len)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *alpha = BN_new(), *mu = BN_new(), *r = BN_new(), *gamma = BN_new();
    BIGNUM *e = BN_new(), *u = BN_new(), *v = BN_new(), *g = BN_new();
    cr_assert(ctx && alpha && mu && r && gamma && e && u && v && g);
    const BIGNUM *n0 = pb_paillier_n(st->pk), *n0sq = pb_paillier_n2(st->pk);
    const BIGNUM *nh = st->rp->n_hat;
    raw_proof p;
    raw_init(&p);

    sample(alpha, PB_ZK_L + PB_ZK_EPS, NULL);
    sample(mu, PB_ZK_L, nh);
    sample(gamma, PB_ZK_L + PB_ZK_EPS, nh);
    cr_assert_eq(pb_bn_random_unit(n0, r), PB_OK);

    pow_signed(u, st->rp->s, st->x, nh, ctx);
    pow_signed(v, st->rp->t, mu, nh, ctx);
    cr_assert(BN_mod_mul(p.s, u, v, nh, ctx));
    cr_assert(BN_copy(g, n0) && BN_add_word(g, 1));
    pow_signed(u, g, alpha, n0sq, ctx);
    cr_assert(BN_mod_exp(v, r, n0, n0sq, ctx) && BN_mod_mul(p.a, u, v, n0sq, ctx));
    pb_point y;
    point_of(&y, alpha);
    pb_point_serialize(p.y, &y);
    pow_signed(u, st->rp->s, alpha, nh, ctx);
    pow_signed(v, st->rp->t, gamma, nh, ctx);
    cr_assert(BN_mod_mul(p.d, u, v, nh, ctx));

    raw_challenge(t, st, &p, e);
    cr_assert(BN_mul(u, e, st->x, ctx) && BN_add(p.z1, alpha, u));
    pow_signed(u, st->rho, e, n0, ctx);
    cr_assert(BN_mod_mul(p.z2, r, u, n0, ctx));
    cr_assert(BN_mul(u, e, mu, ctx) && BN_add(p.z3, gamma, u));

    raw_encode(&p, buf, len);
    raw_free(&p);
    BN_free(alpha);
    BN_free(mu);
    BN_free(r);
    BN_free(gamma);
    BN_free(e);
    BN_free(u);
    BN_free(v);
    BN_free(g);
    BN_CTX_free(ctx);
}

/* ---- honest proofs -------------------------------------------------------- */

static void honest_rounds(int bits, int rounds)
{
    stmt st;
    stmt_init(&st, bits, 0);
    pb_transcript t;
    session(&t, DOMAIN, 1, PB_ROLE_P1);
    double tp[32], tv[32];
    cr_assert(rounds <= 32);

    /* Edge witnesses first: 1, q - 1, q + 5 (>= q), 2^l - 1; then random. */
    BIGNUM *x = BN_new();
    cr_assert(x);
    for (int i = 0; i < rounds; i++) {
        switch (i) {
        case 0: cr_assert(BN_one(x)); break;
        case 1: cr_assert(BN_copy(x, pb_ec_order()) && BN_sub_word(x, 1)); break;
        case 2: cr_assert(BN_copy(x, pb_ec_order()) && BN_add_word(x, 5)); break;
        case 3:
            cr_assert(BN_set_word(x, 1) && BN_lshift(x, x, PB_ZK_L) && BN_sub_word(x, 1));
            break;
        default: cr_assert(BN_rand(x, PB_ZK_L, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)); break;
        }
        stmt_set_witness(&st, x);
        double t0 = now_ms();
        pb_zk_logstar_proof *p = prove(&t, &st);
        double t1 = now_ms();
        cr_assert_eq(verify(&t, &st, p), PB_OK, "witness %d: %s", i, pb_last_error());
        double t2 = now_ms();
        tp[i] = t1 - t0;
        tv[i] = t2 - t1;

        /* The library's proof also satisfies the equations as written
         * independently here. */
        uint8_t *buf;
        size_t len;
        encode(p, &buf, &len);
        raw_proof raw;
        raw_init(&raw);
        raw_parse(&raw, buf, len);
        cr_assert(raw_algebra_holds(&t, &st, &raw), "witness %d", i);
        cr_assert(pb_bn_in_signed_range(raw.z1, PB_ZK_L + PB_ZK_EPS));
        raw_free(&raw);
        pb_bytes_free(buf, len);
        pb_zk_logstar_free(p);
    }
    qsort(tp, (size_t)rounds, sizeof tp[0], cmp_double);
    qsort(tv, (size_t)rounds, sizeof tv[0], cmp_double);
    cr_log_info("pi-log* %d-bit: prove median %.1f ms, verify median %.1f ms (%d runs)", bits,
                tp[rounds / 2], tv[rounds / 2], rounds);
    BN_free(x);
    stmt_free(&st);
}

Test(zk_logstar, honest_proofs_verify_2048)
{
    honest_rounds(2048, 16);
}

Test(zk_logstar, honest_proofs_verify_3072)
{
    honest_rounds(3072, 3);
}

Test(zk_logstar, caller_transcript_is_left_untouched)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t, before;
    session(&t, DOMAIN, 2, PB_ROLE_P1);
    before = t;
    pb_zk_logstar_proof *p = prove(&t, &st);
    cr_assert(memcmp(&t, &before, sizeof t) == 0);
    cr_assert_eq(verify(&t, &st, p), PB_OK);
    cr_assert(memcmp(&t, &before, sizeof t) == 0);
    pb_zk_logstar_free(p);
    stmt_free(&st);
}

/* ---- wrong statements ----------------------------------------------------- */

Test(zk_logstar, proof_fails_for_another_point)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t;
    session(&t, DOMAIN, 3, PB_ROLE_P1);
    pb_zk_logstar_proof *p = prove(&t, &st);
    pb_scalar one;
    memset(&one, 0, sizeof one);
    one.b[31] = 1;
    cr_assert_eq(pb_point_add_base_mul(&st.X, &st.X, &one), PB_OK);
    cr_assert_eq(verify(&t, &st, p), PB_ERR_PROOF);
    pb_zk_logstar_free(p);
    stmt_free(&st);
}

Test(zk_logstar, proof_fails_for_another_encryption_of_the_same_value)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t;
    session(&t, DOMAIN, 4, PB_ROLE_P1);
    pb_zk_logstar_proof *p = prove(&t, &st);
    cr_assert_eq(pb_paillier_encrypt(st.pk, st.x, st.c, NULL), PB_OK);
    cr_assert_eq(verify(&t, &st, p), PB_ERR_PROOF);
    pb_zk_logstar_free(p);
    stmt_free(&st);
}

Test(zk_logstar, ciphertext_of_x_plus_one_is_not_proven)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t;
    session(&t, DOMAIN, 5, PB_ROLE_P1);
    /* C encrypts x + 1 under rho while X = x*G: the prover is handed the
     * inconsistent statement and its proof must not verify. */
    BIGNUM *x1 = BN_dup(st.x);
    cr_assert(x1 && BN_add_word(x1, 1));
    cr_assert_eq(pb_paillier_encrypt_with(st.pk, x1, st.rho, st.c), PB_OK);
    pb_zk_logstar_proof *p = NULL;
    pb_status s = pb_zk_logstar_prove(&t, st.pk, st.rp, st.c, &st.X, st.x, st.rho, &p);
    if (s == PB_OK)
        cr_assert_eq(verify(&t, &st, p), PB_ERR_PROOF);
    else
        cr_assert_eq(s, PB_ERR_ARGUMENT);
    pb_zk_logstar_free(p);
    /* And the witness x + 1 (consistent with C) does not match X. */
    cr_assert_eq(pb_zk_logstar_prove(&t, st.pk, st.rp, st.c, &st.X, x1, st.rho, &p),
                 PB_ERR_ARGUMENT);
    BN_free(x1);
    stmt_free(&st);
}

Test(zk_logstar, proof_fails_under_another_paillier_key_or_pedersen_parameters)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t;
    session(&t, DOMAIN, 6, PB_ROLE_P1);
    pb_zk_logstar_proof *p = prove(&t, &st);
    uint8_t *buf;
    size_t len;
    encode(p, &buf, &len);

    /* Another verifier's ring-Pedersen parameters. */
    pb_rped_public *mine = st.rp;
    st.rp = fx_rped_public(2048, 1);
    cr_assert_neq(decode_verify(&t, &st, buf, len), PB_OK);
    cr_assert_eq(verify(&t, &st, p), PB_ERR_PROOF);
    fx_rped_free(st.rp);
    st.rp = mine;

    /* The same ciphertext value read under another prover's key. */
    pb_paillier_private *other = fx_paillier(2048, 1);
    const pb_paillier_public *pk = st.pk;
    st.pk = pb_paillier_public_of(other);
    cr_assert_neq(decode_verify(&t, &st, buf, len), PB_OK);
    st.pk = pk;
    pb_paillier_private_free(other);

    cr_assert_eq(decode_verify(&t, &st, buf, len), PB_OK);
    pb_bytes_free(buf, len);
    pb_zk_logstar_free(p);
    stmt_free(&st);
}

Test(zk_logstar, proof_is_bound_to_session_role_and_domain)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t, sid, role, dom;
    session(&t, DOMAIN, 7, PB_ROLE_P1);
    session(&sid, DOMAIN, 8, PB_ROLE_P1);
    session(&role, DOMAIN, 7, PB_ROLE_P2);
    session(&dom, "planbok/test/zk-logstar-other", 7, PB_ROLE_P1);
    pb_zk_logstar_proof *p = prove(&t, &st);
    cr_assert_eq(verify(&t, &st, p), PB_OK);
    cr_assert_eq(verify(&sid, &st, p), PB_ERR_PROOF);
    cr_assert_eq(verify(&role, &st, p), PB_ERR_PROOF);
    cr_assert_eq(verify(&dom, &st, p), PB_ERR_PROOF);
    pb_zk_logstar_free(p);
    stmt_free(&st);
}

Test(zk_logstar, prover_refuses_bad_witnesses)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t;
    session(&t, DOMAIN, 9, PB_ROLE_P1);
    pb_zk_logstar_proof *p = NULL;
    BIGNUM *big = BN_new(), *neg = BN_dup(st.x), *zero = BN_new();
    cr_assert(big && neg && zero && BN_set_word(big, 1) && BN_lshift(big, big, PB_ZK_L));
    BN_set_negative(neg, 1);
    BN_zero(zero);
    cr_assert_eq(pb_zk_logstar_prove(&t, st.pk, st.rp, st.c, &st.X, big, st.rho, &p),
                 PB_ERR_ARGUMENT);
    cr_assert_eq(pb_zk_logstar_prove(&t, st.pk, st.rp, st.c, &st.X, neg, st.rho, &p),
                 PB_ERR_ARGUMENT);
    cr_assert_eq(pb_zk_logstar_prove(&t, st.pk, st.rp, st.c, &st.X, st.x, zero, &p),
                 PB_ERR_ARGUMENT);
    cr_assert_eq(pb_zk_logstar_prove(&t, st.pk, st.rp, st.c, &st.X, st.x,
                                     pb_paillier_n(st.pk), &p),
                 PB_ERR_ARGUMENT);
    cr_assert_null(p);
    BN_free(big);
    BN_free(neg);
    BN_free(zero);
    stmt_free(&st);
}

Test(zk_logstar, verifier_refuses_a_statement_ciphertext_out_of_range)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t;
    session(&t, DOMAIN, 10, PB_ROLE_P1);
    pb_zk_logstar_proof *p = prove(&t, &st);
    BIGNUM *c = st.c;
    BIGNUM *bad = BN_new();
    cr_assert(bad);
    st.c = bad;
    BN_zero(bad);
    cr_assert_neq(verify(&t, &st, p), PB_OK);
    cr_assert(BN_copy(bad, pb_paillier_n2(st.pk)));
    cr_assert_neq(verify(&t, &st, p), PB_OK);
    cr_assert(BN_copy(bad, pb_paillier_n(st.pk)));
    cr_assert_neq(verify(&t, &st, p), PB_OK);
    st.c = c;
    cr_assert_eq(verify(&t, &st, p), PB_OK);
    BN_free(bad);
    pb_zk_logstar_free(p);
    stmt_free(&st);
}

/* ---- the range is enforced ------------------------------------------------ */

Test(zk_logstar, test_side_prover_is_accepted_for_an_in_range_witness)
{
    /* Control for the next test: the hand-written prover is correct. */
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t;
    session(&t, DOMAIN, 11, PB_ROLE_P2);
    uint8_t *buf;
    size_t len;
    forge(&t, &st, &buf, &len);
    cr_assert_eq(decode_verify(&t, &st, buf, len), PB_OK, "%s", pb_last_error());
    pb_bytes_free(buf, len);
    stmt_free(&st);
}

Test(zk_logstar, z1_out_of_range_is_rejected_even_when_the_algebra_holds)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t;
    session(&t, DOMAIN, 12, PB_ROLE_P2);
    /* x of magnitude 2^(l+eps+1): C, X and every equation are consistent,
     * only |z1| <= 2^(l+eps) fails. */
    BIGNUM *x = BN_new();
    cr_assert(x && BN_rand(x, PB_ZK_L + PB_ZK_EPS + 2, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY));
    stmt_set_witness(&st, x);
    for (int i = 0; i < 2; i++) {
        uint8_t *buf;
        size_t len;
        forge(&t, &st, &buf, &len);
        raw_proof raw;
        raw_init(&raw);
        raw_parse(&raw, buf, len);
        cr_assert(raw_algebra_holds(&t, &st, &raw), "the cheating proof must be consistent");
        cr_assert(!pb_bn_in_signed_range(raw.z1, PB_ZK_L + PB_ZK_EPS));
        cr_assert_eq(decode_verify(&t, &st, buf, len), PB_ERR_PROOF);
        cr_assert(strstr(pb_last_error(), "z1") != NULL, "rejected for: %s", pb_last_error());
        raw_free(&raw);
        pb_bytes_free(buf, len);
    }
    BN_free(x);
    stmt_free(&st);
}

/* ---- each field is checked ------------------------------------------------ */

enum { F_S, F_A, F_Y, F_D, F_Z1, F_Z2, F_Z3, F_COUNT };
static const char *const FIELD[F_COUNT] = {"S", "A", "Y", "D", "z1", "z2", "z3"};

/* Changes one field to another valid-looking element of its group. */
static void tamper(raw_proof *r, int field, const stmt *st)
{
    BN_CTX *ctx = BN_CTX_new();
    cr_assert(ctx);
    const BIGNUM *nh = st->rp->n_hat, *n0 = pb_paillier_n(st->pk);
    const BIGNUM *n0sq = pb_paillier_n2(st->pk);
    BIGNUM *g = BN_dup(n0);
    cr_assert(g && BN_add_word(g, 1));
    switch (field) {
    case F_S: cr_assert(BN_mod_mul(r->s, r->s, st->rp->t, nh, ctx)); break;
    case F_A: cr_assert(BN_mod_mul(r->a, r->a, g, n0sq, ctx)); break;
    case F_Y: {
        pb_point y;
        pb_scalar one;
        memset(&one, 0, sizeof one);
        one.b[31] = 1;
        cr_assert_eq(pb_point_parse(&y, r->y), PB_OK);
        cr_assert_eq(pb_point_add_base_mul(&y, &y, &one), PB_OK);
        pb_point_serialize(r->y, &y);
        break;
    }
    case F_D: cr_assert(BN_mod_mul(r->d, r->d, st->rp->s, nh, ctx)); break;
    case F_Z1: cr_assert(BN_sub_word(r->z1, 1)); break;
    case F_Z2: cr_assert(BN_mod_add(r->z2, r->z2, BN_value_one(), n0, ctx)); break;
    case F_Z3: cr_assert(BN_add_word(r->z3, 1)); break;
    default: cr_assert_fail("field");
    }
    BN_free(g);
    BN_CTX_free(ctx);
}

Test(zk_logstar, tampering_with_any_field_fails)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t;
    session(&t, DOMAIN, 13, PB_ROLE_P1);
    pb_zk_logstar_proof *p = prove(&t, &st);
    uint8_t *buf;
    size_t len;
    encode(p, &buf, &len);
    for (int f = 0; f < F_COUNT; f++) {
        raw_proof raw;
        raw_init(&raw);
        raw_parse(&raw, buf, len);
        tamper(&raw, f, &st);
        uint8_t *bad;
        size_t bad_len;
        raw_encode(&raw, &bad, &bad_len);
        cr_assert_eq(decode_verify(&t, &st, bad, bad_len), PB_ERR_PROOF, "field %s: %s",
                     FIELD[f], pb_last_error());
        pb_bytes_free(bad, bad_len);
        raw_free(&raw);
    }
    cr_assert_eq(decode_verify(&t, &st, buf, len), PB_OK);
    pb_bytes_free(buf, len);
    pb_zk_logstar_free(p);
    stmt_free(&st);
}

/* ---- wire form ------------------------------------------------------------ */

Test(zk_logstar, encode_decode_round_trip)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t;
    session(&t, DOMAIN, 14, PB_ROLE_P1);
    pb_zk_logstar_proof *p = prove(&t, &st);
    uint8_t *buf, *again;
    size_t len, again_len;
    encode(p, &buf, &len);
    pb_reader r;
    pb_zk_logstar_proof *d = NULL;
    pb_reader_init(&r, buf, len);
    cr_assert_eq(pb_zk_logstar_decode(&r, st.pk, st.rp, &d), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_reader_finish(&r, "proof"), PB_OK);
    cr_assert_eq(verify(&t, &st, d), PB_OK);
    encode(d, &again, &again_len);
    cr_assert_eq(again_len, len);
    cr_assert(memcmp(buf, again, len) == 0);
    pb_bytes_free(buf, len);
    pb_bytes_free(again, again_len);
    pb_zk_logstar_free(d);
    pb_zk_logstar_free(p);
    stmt_free(&st);
}

Test(zk_logstar, decode_rejects_every_truncation_and_trailing_bytes)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t;
    session(&t, DOMAIN, 15, PB_ROLE_P1);
    pb_zk_logstar_proof *p = prove(&t, &st);
    uint8_t *buf;
    size_t len;
    encode(p, &buf, &len);
    for (size_t cut = 0; cut < len; cut++) {
        pb_reader r;
        pb_zk_logstar_proof *d = NULL;
        pb_reader_init(&r, buf, cut);
        cr_assert_eq(pb_zk_logstar_decode(&r, st.pk, st.rp, &d), PB_ERR_PARSE,
                     "cut at %zu of %zu accepted", cut, len);
        cr_assert_null(d);
    }
    uint8_t *longer = malloc(len + 1);
    cr_assert_not_null(longer);
    memcpy(longer, buf, len);
    longer[len] = 0;
    cr_assert_eq(decode_verify(&t, &st, longer, len + 1), PB_ERR_PARSE);
    free(longer);
    pb_bytes_free(buf, len);
    pb_zk_logstar_free(p);
    stmt_free(&st);
}

/* Re-encodes the proof with one field replaced by `value`. */
static pb_status decode_with(const stmt *st, const uint8_t *buf, size_t len, int field,
                             const BIGNUM *value)
{
    raw_proof raw;
    raw_init(&raw);
    raw_parse(&raw, buf, len);
    BIGNUM *slot[F_COUNT] = {raw.s, raw.a, NULL, raw.d, raw.z1, raw.z2, raw.z3};
    cr_assert_not_null(slot[field]);
    cr_assert(BN_copy(slot[field], value));
    uint8_t *bad;
    size_t bad_len;
    raw_encode(&raw, &bad, &bad_len);
    pb_reader r;
    pb_zk_logstar_proof *d = NULL;
    pb_reader_init(&r, bad, bad_len);
    pb_status s = pb_zk_logstar_decode(&r, st->pk, st->rp, &d);
    pb_zk_logstar_free(d);
    pb_bytes_free(bad, bad_len);
    raw_free(&raw);
    return s;
}

Test(zk_logstar, decode_rejects_elements_out_of_their_groups)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t;
    session(&t, DOMAIN, 16, PB_ROLE_P1);
    pb_zk_logstar_proof *p = prove(&t, &st);
    uint8_t *buf;
    size_t len;
    encode(p, &buf, &len);
    const BIGNUM *nh = st.rp->n_hat, *n0 = pb_paillier_n(st.pk), *n0sq = pb_paillier_n2(st.pk);
    BIGNUM *v = BN_new();
    cr_assert(v);

    struct { int field; const BIGNUM *base; long add; int negate; } cases[] = {
        {F_S, NULL, 0, 0}, {F_S, nh, 0, 0}, {F_S, nh, 1, 0}, {F_S, NULL, 1, 1},
        {F_D, NULL, 0, 0}, {F_D, nh, 0, 0},
        {F_A, NULL, 0, 0}, {F_A, n0sq, 0, 0}, {F_A, n0, 0, 0}, {F_A, NULL, 1, 1},
        {F_Z2, NULL, 0, 0}, {F_Z2, n0, 0, 0}, {F_Z2, NULL, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].base)
            cr_assert(BN_copy(v, cases[i].base));
        else
            BN_zero(v);
        cr_assert(BN_add_word(v, (BN_ULONG)cases[i].add));
        BN_set_negative(v, cases[i].negate);
        cr_assert_eq(decode_with(&st, buf, len, cases[i].field, v), PB_ERR_PARSE,
                     "case %zu (field %s) accepted", i, FIELD[cases[i].field]);
    }
    /* In range but not a unit: a multiple of N0 for A. */
    cr_assert(BN_lshift1(v, n0));
    cr_assert_eq(decode_with(&st, buf, len, F_A, v), PB_ERR_PARSE);

    /* Oversized integers: z1 longer than N0, z3 longer than its bound. */
    cr_assert(BN_set_word(v, 1) && BN_lshift(v, v, BN_num_bits(n0) + 8));
    cr_assert_eq(decode_with(&st, buf, len, F_Z1, v), PB_ERR_PARSE);
    cr_assert(BN_set_word(v, 1) &&
              BN_lshift(v, v, BN_num_bits(nh) + PB_ZK_L + PB_ZK_EPS + 16));
    cr_assert_eq(decode_with(&st, buf, len, F_Z3, v), PB_ERR_PARSE);

    BN_free(v);
    pb_bytes_free(buf, len);
    pb_zk_logstar_free(p);
    stmt_free(&st);
}

Test(zk_logstar, decode_rejects_a_bad_point_and_huge_length_prefixes)
{
    stmt st;
    stmt_init(&st, 2048, 0);
    pb_transcript t;
    session(&t, DOMAIN, 17, PB_ROLE_P1);
    pb_zk_logstar_proof *p = prove(&t, &st);
    uint8_t *buf;
    size_t len;
    encode(p, &buf, &len);

    /* Y sits after S and A: sign byte + u32 length + magnitude each. */
    size_t s_len = ((size_t)buf[1] << 24) | ((size_t)buf[2] << 16) | ((size_t)buf[3] << 8) | buf[4];
    size_t a_off = 5 + s_len;
    size_t a_len = ((size_t)buf[a_off + 1] << 24) | ((size_t)buf[a_off + 2] << 16) |
                   ((size_t)buf[a_off + 3] << 8) | buf[a_off + 4];
    size_t y_off = a_off + 5 + a_len;
    uint8_t *bad = malloc(len);
    cr_assert_not_null(bad);
    pb_reader r;
    pb_zk_logstar_proof *d = NULL;

    const uint8_t prefixes[] = {0x00, 0x04, 0x07};
    for (size_t i = 0; i < sizeof prefixes; i++) {
        memcpy(bad, buf, len);
        bad[y_off] = prefixes[i];
        pb_reader_init(&r, bad, len);
        cr_assert_eq(pb_zk_logstar_decode(&r, st.pk, st.rp, &d), PB_ERR_PARSE);
    }
    memcpy(bad, buf, len);
    memset(bad + y_off + 1, 0, 32);
    bad[y_off + 32] = 5; /* 5^3 + 7 is not a square mod p */
    pb_reader_init(&r, bad, len);
    cr_assert_eq(pb_zk_logstar_decode(&r, st.pk, st.rp, &d), PB_ERR_PARSE);

    /* A length prefix far beyond the buffer and the field's bound. */
    memcpy(bad, buf, len);
    memset(bad + 1, 0xff, 4);
    pb_reader_init(&r, bad, len);
    cr_assert_eq(pb_zk_logstar_decode(&r, st.pk, st.rp, &d), PB_ERR_PARSE);
    /* A sign byte other than 0/1. */
    memcpy(bad, buf, len);
    bad[0] = 2;
    pb_reader_init(&r, bad, len);
    cr_assert_eq(pb_zk_logstar_decode(&r, st.pk, st.rp, &d), PB_ERR_PARSE);
    cr_assert_null(d);

    memcpy(bad, buf, len);
    cr_assert_eq(decode_verify(&t, &st, bad, len), PB_OK);
    free(bad);
    pb_bytes_free(buf, len);
    pb_zk_logstar_free(p);
    stmt_free(&st);
}
