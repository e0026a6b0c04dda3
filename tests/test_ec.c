/* secp256k1 helpers, checked against OpenSSL's independent implementation:
 * BIGNUM arithmetic mod q for scalars and EC_POINT for points and ECDSA. */
#define OPENSSL_SUPPRESS_DEPRECATED /* ECDSA_do_verify as the independent verifier */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

#include "crypto/bn.h"
#include "crypto/ec.h"

static EC_GROUP *group;
static BN_CTX *bctx;

static void setup(void)
{
    group = EC_GROUP_new_by_curve_name(NID_secp256k1);
    bctx = BN_CTX_new();
    cr_assert_not_null(group);
    cr_assert_not_null(bctx);
}

static void teardown(void)
{
    EC_GROUP_free(group);
    BN_CTX_free(bctx);
}

TestSuite(ec, .init = setup, .fini = teardown);

static BIGNUM *bn_of(const pb_scalar *s)
{
    return BN_bin2bn(s->b, 32, NULL);
}

static void assert_scalar_is_bn(const pb_scalar *s, const BIGNUM *want, const char *what)
{
    pb_scalar w;
    cr_assert_eq(BN_bn2binpad(want, w.b, 32), 32);
    cr_assert(memcmp(s->b, w.b, 32) == 0, "%s differs from OpenSSL", what);
}

static pb_scalar scalar_of_bn(const BIGNUM *v)
{
    pb_scalar s;
    cr_assert_eq(BN_bn2binpad(v, s.b, 32), 32);
    return s;
}

/* Random scalars plus the edge values 0, 1 and q-1. */
static pb_scalar sample(int i)
{
    pb_scalar s;
    memset(&s, 0, sizeof s);
    if (i == 0)
        return s;
    if (i == 1) {
        s.b[31] = 1;
        return s;
    }
    if (i == 2) {
        BIGNUM *t = BN_dup(pb_ec_order());
        BN_sub_word(t, 1);
        s = scalar_of_bn(t);
        BN_free(t);
        return s;
    }
    cr_assert_eq(pb_scalar_random(&s), PB_OK);
    return s;
}

Test(ec, scalar_add_sub_mul_negate_match_bignum_mod_q)
{
    const BIGNUM *q = pb_ec_order();
    for (int i = 0; i < 12; i++) {
        for (int j = 0; j < 12; j++) {
            pb_scalar a = sample(i), b = sample(j), r;
            BIGNUM *A = bn_of(&a), *B = bn_of(&b), *W = BN_new();
            pb_scalar_add(&r, &a, &b);
            BN_mod_add(W, A, B, q, bctx);
            assert_scalar_is_bn(&r, W, "add");
            pb_scalar_sub(&r, &a, &b);
            BN_mod_sub(W, A, B, q, bctx);
            assert_scalar_is_bn(&r, W, "sub");
            pb_scalar_mul(&r, &a, &b);
            BN_mod_mul(W, A, B, q, bctx);
            assert_scalar_is_bn(&r, W, "mul");
            pb_scalar_negate(&r, &a);
            BN_mod_sub(W, q, A, q, bctx);
            assert_scalar_is_bn(&r, W, "negate");
            BN_free(A);
            BN_free(B);
            BN_free(W);
        }
    }
}

Test(ec, sum_of_a_scalar_and_its_negation_is_zero)
{
    pb_scalar a, n, r;
    cr_assert_eq(pb_scalar_random(&a), PB_OK);
    pb_scalar_negate(&n, &a);
    pb_scalar_add(&r, &a, &n);
    cr_assert(pb_scalar_is_zero(&r));
    pb_scalar_sub(&r, &a, &a);
    cr_assert(pb_scalar_is_zero(&r));
}

Test(ec, inverse_matches_bignum_and_refuses_zero)
{
    const BIGNUM *q = pb_ec_order();
    for (int i = 1; i < 20; i++) {
        pb_scalar a = sample(i), inv, one;
        cr_assert_eq(pb_scalar_inverse(&inv, &a), PB_OK);
        BIGNUM *A = bn_of(&a), *W = BN_mod_inverse(NULL, A, q, bctx);
        assert_scalar_is_bn(&inv, W, "inverse");
        pb_scalar_mul(&one, &a, &inv);
        cr_assert_eq(one.b[31], 1);
        BN_free(A);
        BN_free(W);
    }
    pb_scalar zero = sample(0), out;
    cr_assert_eq(pb_scalar_inverse(&out, &zero), PB_ERR_ARGUMENT);
}

Test(ec, scalar_parse_accepts_below_q_and_rejects_q_and_above)
{
    const BIGNUM *q = pb_ec_order();
    pb_scalar s = sample(2), out;
    cr_assert_eq(pb_scalar_parse(&out, s.b), PB_OK);
    cr_assert(pb_scalar_equal(&out, &s));
    s = sample(0);
    cr_assert_eq(pb_scalar_parse(&out, s.b), PB_OK);
    cr_assert(pb_scalar_is_zero(&out));
    uint8_t raw[32];
    BN_bn2binpad(q, raw, 32);
    cr_assert_eq(pb_scalar_parse(&out, raw), PB_ERR_PARSE);
    memset(raw, 0xff, 32);
    cr_assert_eq(pb_scalar_parse(&out, raw), PB_ERR_PARSE);
}

Test(ec, scalar_from_bn_reduces_negative_and_large_values_mod_q)
{
    const BIGNUM *q = pb_ec_order();
    BIGNUM *v = BN_new(), *W = BN_new();
    for (int i = 0; i < 40; i++) {
        BN_rand(v, 300 + i, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
        BN_set_negative(v, i & 1);
        pb_scalar s;
        cr_assert_eq(pb_scalar_from_bn(&s, v), PB_OK);
        BN_nnmod(W, v, q, bctx);
        assert_scalar_is_bn(&s, W, "from_bn");
        BIGNUM *back = BN_new();
        cr_assert_eq(pb_scalar_to_bn(&s, back), PB_OK);
        cr_assert_eq(BN_cmp(back, W), 0);
        BN_free(back);
    }
    BN_free(v);
    BN_free(W);
}

/* --- points ------------------------------------------------------------ */

static EC_POINT *ossl_point(const pb_point *p)
{
    uint8_t enc[PB_POINT_BYTES];
    pb_point_serialize(enc, p);
    EC_POINT *e = EC_POINT_new(group);
    cr_assert_eq(EC_POINT_oct2point(group, e, enc, sizeof enc, bctx), 1);
    return e;
}

static void assert_point_is(const pb_point *p, const EC_POINT *want, const char *what)
{
    EC_POINT *got = ossl_point(p);
    cr_assert_eq(EC_POINT_cmp(group, got, want, bctx), 0, "%s differs from OpenSSL", what);
    EC_POINT_free(got);
}

static EC_POINT *ossl_mul_base(const pb_scalar *a)
{
    EC_POINT *e = EC_POINT_new(group);
    BIGNUM *A = bn_of(a);
    cr_assert_eq(EC_POINT_mul(group, e, A, NULL, NULL, bctx), 1);
    BN_free(A);
    return e;
}

Test(ec, point_operations_match_openssl)
{
    for (int i = 0; i < 8; i++) {
        pb_scalar a = sample(i + 1), b = sample(i + 3);
        pb_point A, B, r;
        cr_assert_eq(pb_point_mul_base(&A, &a), PB_OK);
        cr_assert_eq(pb_point_mul_base(&B, &b), PB_OK);
        EC_POINT *eA = ossl_mul_base(&a), *eB = ossl_mul_base(&b), *w = EC_POINT_new(group);
        assert_point_is(&A, eA, "mul_base");

        cr_assert_eq(pb_point_mul(&r, &A, &b), PB_OK);
        BIGNUM *Bn = bn_of(&b);
        EC_POINT_mul(group, w, NULL, eA, Bn, bctx);
        assert_point_is(&r, w, "mul");

        cr_assert_eq(pb_point_add(&r, &A, &B), PB_OK);
        EC_POINT_add(group, w, eA, eB, bctx);
        assert_point_is(&r, w, "add");

        cr_assert_eq(pb_point_add_base_mul(&r, &A, &b), PB_OK);
        assert_point_is(&r, w, "add_base_mul");

        cr_assert_eq(pb_point_negate(&r, &A), PB_OK);
        EC_POINT_copy(w, eA);
        EC_POINT_invert(group, w, bctx);
        assert_point_is(&r, w, "negate");

        cr_assert(pb_point_equal(&A, &A));
        cr_assert(!pb_point_equal(&A, &r));
        BN_free(Bn);
        EC_POINT_free(eA);
        EC_POINT_free(eB);
        EC_POINT_free(w);
    }
}

Test(ec, doubling_through_add_matches_openssl)
{
    pb_scalar a = sample(5);
    pb_point A, r;
    cr_assert_eq(pb_point_mul_base(&A, &a), PB_OK);
    cr_assert_eq(pb_point_add(&r, &A, &A), PB_OK);
    EC_POINT *eA = ossl_mul_base(&a), *w = EC_POINT_new(group);
    EC_POINT_dbl(group, w, eA, bctx);
    assert_point_is(&r, w, "double");
    EC_POINT_free(eA);
    EC_POINT_free(w);
}

Test(ec, operations_that_would_give_the_identity_fail)
{
    pb_scalar a = sample(4), zero = sample(0), na;
    pb_point A, nA, r;
    cr_assert_eq(pb_point_mul_base(&A, &a), PB_OK);
    cr_assert_eq(pb_point_mul_base(&r, &zero), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_point_mul(&r, &A, &zero), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_point_negate(&nA, &A), PB_OK);
    cr_assert_neq(pb_point_add(&r, &A, &nA), PB_OK);
    pb_scalar_negate(&na, &a);
    cr_assert_neq(pb_point_add_base_mul(&r, &A, &na), PB_OK);
    /* Adding zero·G is the point itself. */
    cr_assert_eq(pb_point_add_base_mul(&r, &A, &zero), PB_OK);
    cr_assert(pb_point_equal(&r, &A));
}

Test(ec, parse_round_trips_and_accepts_only_02_03)
{
    pb_scalar a = sample(6);
    pb_point A, B;
    cr_assert_eq(pb_point_mul_base(&A, &a), PB_OK);
    uint8_t enc[PB_POINT_BYTES];
    pb_point_serialize(enc, &A);
    cr_assert(enc[0] == 2 || enc[0] == 3);
    cr_assert_eq(pb_point_parse(&B, enc), PB_OK);
    cr_assert(pb_point_equal(&A, &B));
    const uint8_t bad_prefixes[] = {0x00, 0x01, 0x04, 0x05, 0x06, 0x07, 0xff};
    for (size_t i = 0; i < sizeof bad_prefixes; i++) {
        uint8_t t[PB_POINT_BYTES];
        memcpy(t, enc, sizeof t);
        t[0] = bad_prefixes[i];
        cr_assert_eq(pb_point_parse(&B, t), PB_ERR_PARSE, "prefix %02x accepted", t[0]);
    }
}

Test(ec, parse_rejects_x_not_below_the_field_prime)
{
    static const uint8_t field_p[32] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xfc, 0x2f};
    /* x = p + k for small k aliases a valid x = k whenever k is on the curve;
     * libsecp256k1 must still refuse the unreduced encoding. */
    int aliases = 0;
    for (uint8_t k = 0; k < 0x20; k++) {
        uint8_t t[PB_POINT_BYTES] = {0x02};
        memcpy(t + 1, field_p, 32);
        unsigned carry = k;
        for (int i = 32; i >= 1 && carry; i--) {
            unsigned v = t[i] + carry;
            t[i] = (uint8_t)v;
            carry = v >> 8;
        }
        pb_point out;
        cr_assert_eq(pb_point_parse(&out, t), PB_ERR_PARSE);
        uint8_t small[PB_POINT_BYTES] = {0x02};
        small[32] = k;
        if (pb_point_parse(&out, small) == PB_OK)
            aliases++;
    }
    cr_assert_gt(aliases, 0, "test needs at least one small valid x");
}

Test(ec, parse_rejects_x_without_a_curve_point)
{
    /* Find x values OpenSSL says have no point and check we refuse them. */
    EC_POINT *e = EC_POINT_new(group);
    BIGNUM *x = BN_new();
    int refused = 0;
    for (unsigned v = 1; v < 64; v++) {
        BN_set_word(x, v);
        ERR_set_mark();
        int on = EC_POINT_set_compressed_coordinates(group, e, x, 0, bctx);
        ERR_pop_to_mark();
        uint8_t t[PB_POINT_BYTES] = {0x03};
        BN_bn2binpad(x, t + 1, 32);
        pb_point out;
        cr_assert_eq(pb_point_parse(&out, t) == PB_OK, on == 1, "x=%u disagrees with OpenSSL", v);
        refused += on != 1;
    }
    cr_assert_gt(refused, 0);
    EC_POINT_free(e);
    BN_free(x);
}

Test(ec, ecdsa_r_and_signature_verify_under_openssl)
{
    const BIGNUM *q = pb_ec_order();
    for (int i = 0; i < 16; i++) {
        pb_scalar d, k, m, r, s, kinv, t;
        pb_point Q, R;
        cr_assert_eq(pb_scalar_random(&d), PB_OK);
        cr_assert_eq(pb_scalar_random(&k), PB_OK);
        cr_assert_eq(pb_scalar_random(&m), PB_OK);
        cr_assert_eq(pb_point_mul_base(&Q, &d), PB_OK);
        cr_assert_eq(pb_point_mul_base(&R, &k), PB_OK);
        int odd = -1, over = -1;
        pb_point_x_mod_q(&r, &odd, &over, &R);
        cr_assert_eq(over, 0);

        /* r against OpenSSL's affine x. */
        EC_POINT *eR = ossl_mul_base(&k);
        BIGNUM *x = BN_new(), *y = BN_new();
        EC_POINT_get_affine_coordinates(group, eR, x, y, bctx);
        BN_nnmod(x, x, q, bctx);
        assert_scalar_is_bn(&r, x, "r");
        cr_assert_eq(odd, BN_is_odd(y));

        /* s = k^-1 (m + r d); OpenSSL must accept (r, s). */
        cr_assert_eq(pb_scalar_inverse(&kinv, &k), PB_OK);
        pb_scalar_mul(&t, &r, &d);
        pb_scalar_add(&t, &t, &m);
        pb_scalar_mul(&s, &kinv, &t);
        EC_KEY *key = EC_KEY_new_by_curve_name(NID_secp256k1);
        EC_POINT *eQ = ossl_point(&Q);
        EC_KEY_set_public_key(key, eQ);
        ECDSA_SIG *sig = ECDSA_SIG_new();
        ECDSA_SIG_set0(sig, bn_of(&r), bn_of(&s));
        cr_assert_eq(ECDSA_do_verify(m.b, 32, sig, key), 1);
        ECDSA_SIG_free(sig);
        EC_KEY_free(key);
        EC_POINT_free(eQ);
        EC_POINT_free(eR);
        BN_free(x);
        BN_free(y);
    }
}

Test(ec, x_mod_q_reduces_an_x_above_the_order)
{
    const BIGNUM *q = pb_ec_order();
    BIGNUM *x = BN_dup(q);
    EC_POINT *e = EC_POINT_new(group);
    int found = 0;
    for (int i = 0; i < 200 && !found; i++) {
        BN_add_word(x, 1);
        ERR_set_mark();
        found = EC_POINT_set_compressed_coordinates(group, e, x, 1, bctx) == 1;
        ERR_pop_to_mark();
    }
    cr_assert(found);
    uint8_t enc[PB_POINT_BYTES];
    cr_assert_eq(EC_POINT_point2oct(group, e, POINT_CONVERSION_COMPRESSED, enc, sizeof enc, bctx),
                 sizeof enc);
    pb_point P;
    cr_assert_eq(pb_point_parse(&P, enc), PB_OK);
    pb_scalar r;
    int odd = -1, over = -1;
    pb_point_x_mod_q(&r, &odd, &over, &P);
    cr_assert_eq(over, 1);
    cr_assert_eq(odd, 1);
    BN_sub(x, x, q);
    assert_scalar_is_bn(&r, x, "reduced x");
    BN_free(x);
    EC_POINT_free(e);
}

Test(ec, random_scalars_are_nonzero_and_distinct)
{
    pb_scalar a, b;
    cr_assert_eq(pb_scalar_random(&a), PB_OK);
    cr_assert_eq(pb_scalar_random(&b), PB_OK);
    cr_assert(!pb_scalar_is_zero(&a));
    cr_assert(!pb_scalar_equal(&a, &b));
    pb_scalar_wipe(&a);
    cr_assert(pb_scalar_is_zero(&a));
}
