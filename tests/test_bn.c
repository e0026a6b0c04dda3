/* BIGNUM helpers: the signed encoding is canonical (one encoding per value,
 * everything else refused), the samplers stay in their ranges, and the
 * constant-time products agree with OpenSSL's. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/bn.h>

#include "crypto/bn.h"

static uint8_t *encode(const BIGNUM *v, size_t *len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_bn_encode(&w, v);
    uint8_t *buf;
    cr_assert_eq(pb_writer_finish(&w, &buf, len), PB_OK);
    return buf;
}

static pb_status decode(const uint8_t *p, size_t n, size_t max, BIGNUM *out)
{
    pb_reader r;
    pb_reader_init(&r, p, n);
    pb_status st = pb_bn_decode(&r, max, out);
    if (st == PB_OK)
        st = pb_reader_finish(&r, "bn");
    return st;
}

Test(bn, round_trip_of_positive_negative_zero_and_large_values)
{
    BIGNUM *v = BN_new(), *back = BN_new();
    for (int i = 0; i < 40; i++) {
        if (i == 0)
            BN_zero(v);
        else
            BN_rand(v, i * 97, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY);
        BN_set_negative(v, i % 3 == 1);
        size_t n;
        uint8_t *buf = encode(v, &n);
        cr_assert_eq(n, 5 + (size_t)BN_num_bytes(v));
        cr_assert_eq(decode(buf, n, 1024, back), PB_OK);
        cr_assert_eq(BN_cmp(v, back), 0);
        pb_bytes_free(buf, n);
    }
    BN_free(v);
    BN_free(back);
}

Test(bn, zero_is_the_empty_magnitude_and_never_negative)
{
    BIGNUM *v = BN_new();
    BN_zero(v);
    BN_set_negative(v, 1); /* OpenSSL ignores this for zero; encoder must too */
    size_t n;
    uint8_t *buf = encode(v, &n);
    const uint8_t want[] = {0, 0, 0, 0, 0};
    cr_assert_eq(n, sizeof want);
    cr_assert(memcmp(buf, want, n) == 0);
    pb_bytes_free(buf, n);
    BN_free(v);
}

Test(bn, non_canonical_encodings_are_refused)
{
    BIGNUM *v = BN_new();
    const uint8_t neg_zero[] = {1, 0, 0, 0, 0};
    const uint8_t bad_sign[] = {2, 0, 0, 0, 1, 5};
    const uint8_t lead_zero[] = {0, 0, 0, 0, 2, 0, 5};
    const uint8_t ok[] = {1, 0, 0, 0, 2, 1, 5};
    cr_assert_eq(decode(neg_zero, sizeof neg_zero, 16, v), PB_ERR_PARSE);
    cr_assert_eq(decode(bad_sign, sizeof bad_sign, 16, v), PB_ERR_PARSE);
    cr_assert_eq(decode(lead_zero, sizeof lead_zero, 16, v), PB_ERR_PARSE);
    cr_assert_eq(decode(ok, sizeof ok, 16, v), PB_OK);
    cr_assert(BN_is_negative(v) && BN_abs_is_word(v, 0x105));
    cr_assert_eq(decode(ok, sizeof ok, 1, v), PB_ERR_PARSE, "over max_bytes accepted");
    for (size_t cut = 0; cut < sizeof ok; cut++)
        cr_assert_eq(decode(ok, cut, 16, v), PB_ERR_PARSE, "truncation at %zu accepted", cut);
    BN_free(v);
}

Test(bn, decode_mod_enforces_zero_to_bound)
{
    BIGNUM *bound = BN_new(), *v = BN_new();
    BN_set_word(bound, 1000);
    const uint8_t inside[] = {0, 0, 0, 0, 2, 0x03, 0xe7};  /* 999 */
    const uint8_t at[] = {0, 0, 0, 0, 2, 0x03, 0xe8};      /* 1000 */
    const uint8_t negative[] = {1, 0, 0, 0, 1, 0x01};      /* -1 */
    pb_reader r;
    pb_reader_init(&r, inside, sizeof inside);
    cr_assert_eq(pb_bn_decode_mod(&r, bound, v), PB_OK);
    cr_assert(BN_is_word(v, 999));
    pb_reader_init(&r, at, sizeof at);
    cr_assert_eq(pb_bn_decode_mod(&r, bound, v), PB_ERR_PARSE);
    pb_reader_init(&r, negative, sizeof negative);
    cr_assert_eq(pb_bn_decode_mod(&r, bound, v), PB_ERR_PARSE);
    BN_free(bound);
    BN_free(v);
}

Test(bn, signed_range_test_is_inclusive_at_two_to_the_bits)
{
    BIGNUM *v = BN_new();
    BN_set_bit(v, 100);
    cr_assert(pb_bn_in_signed_range(v, 100));
    BN_set_negative(v, 1);
    cr_assert(pb_bn_in_signed_range(v, 100));
    BN_set_negative(v, 0);
    BN_add_word(v, 1);
    cr_assert(!pb_bn_in_signed_range(v, 100));
    BN_set_negative(v, 1);
    cr_assert(!pb_bn_in_signed_range(v, 100));
    BN_zero(v);
    cr_assert(pb_bn_in_signed_range(v, 0));
    BN_set_word(v, 2);
    cr_assert(!pb_bn_in_signed_range(v, 0));
    BN_free(v);
}

Test(bn, random_signed_stays_in_range_and_takes_both_signs)
{
    BIGNUM *v = BN_new();
    int neg = 0, seen[5] = {0};
    for (int i = 0; i < 500; i++) {
        cr_assert_eq(pb_bn_random_signed(1, v), PB_OK);
        cr_assert(pb_bn_in_signed_range(v, 1));
        long x = (long)BN_get_word(v) * (BN_is_negative(v) ? -1 : 1);
        seen[x + 2]++;
    }
    for (int i = 0; i < 5; i++)
        cr_assert_gt(seen[i], 40, "value %d drawn %d times", i - 2, seen[i]);
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(pb_bn_random_signed(300, v), PB_OK);
        cr_assert(pb_bn_in_signed_range(v, 300));
        neg += BN_is_negative(v);
    }
    cr_assert(neg > 50 && neg < 150);
    BN_free(v);
}

Test(bn, random_unit_is_coprime_to_the_modulus)
{
    BIGNUM *n = BN_new(), *v = BN_new(), *g = BN_new();
    BN_CTX *ctx = BN_CTX_new();
    BN_set_word(n, 2 * 3 * 5 * 7 * 11 * 13);
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(pb_bn_random_unit(n, v), PB_OK);
        BN_gcd(g, v, n, ctx);
        cr_assert(BN_is_one(g));
        cr_assert(!BN_is_negative(v) && BN_cmp(v, n) < 0);
    }
    BN_one(n);
    cr_assert_eq(pb_bn_random_unit(n, v), PB_ERR_ARGUMENT);
    BN_free(n);
    BN_free(v);
    BN_free(g);
    BN_CTX_free(ctx);
}

Test(bn, secure_bignums_are_constant_time_and_in_the_secure_heap)
{
    BIGNUM *s = pb_bn_secure_new();
    cr_assert_not_null(s);
    cr_assert(BN_get_flags(s, BN_FLG_CONSTTIME));
    cr_assert(BN_get_flags(s, BN_FLG_SECURE));
    BN_set_word(s, 12345);
    BN_clear_free(s);
    cr_assert_not_null(pb_bn_ctx());
    cr_assert_eq(pb_bn_ctx(), pb_bn_ctx());
}

Test(bn, constant_time_products_equal_bn_mul_at_every_width_and_edge)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *a = BN_new(), *b = BN_new(), *want = BN_new(), *got = BN_new(), *m = BN_new();
    cr_assert(ctx && a && b && want && got && m);
    /* Widths on and off limb boundaries, up to a Paillier N^2. */
    const int widths[][2] = {{1, 1}, {31, 33}, {256, 1152}, {1024, 1024}, {2048, 2048},
                             {4096, 4096}, {1153, 257}};
    for (size_t k = 0; k < sizeof widths / sizeof widths[0]; k++) {
        int wa = widths[k][0], wb = widths[k][1];
        for (int trial = 0; trial < 6; trial++) {
            /* Trial 0: zero; 1: all ones at full width; then random. */
            if (trial == 0) {
                BN_zero(a);
                cr_assert(BN_rand(b, wb, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY));
            } else if (trial == 1) {
                cr_assert(BN_set_word(a, 1) && BN_lshift(a, a, wa) && BN_sub_word(a, 1));
                cr_assert(BN_set_word(b, 1) && BN_lshift(b, b, wb) && BN_sub_word(b, 1));
            } else {
                cr_assert(BN_rand(a, wa, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY));
                cr_assert(BN_rand(b, wb, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY));
            }
            cr_assert(BN_mul(want, a, b, ctx));
            cr_assert_eq(pb_bn_mul_ct(got, a, wa, b, wb), PB_OK, "%s", pb_last_error());
            cr_assert_eq(BN_cmp(got, want), 0, "widths %d x %d, trial %d", wa, wb, trial);
            cr_assert(BN_get_flags(got, BN_FLG_CONSTTIME));
        }
    }
    /* Modular: odd and even moduli, the result aliasing an operand. */
    for (int bits = 64; bits <= 4096; bits *= 4) {
        for (int odd = 0; odd < 2; odd++) {
            cr_assert(BN_rand(m, bits, BN_RAND_TOP_ONE, odd ? BN_RAND_BOTTOM_ODD
                                                          : BN_RAND_BOTTOM_ANY));
            cr_assert(BN_rand_range(a, m) && BN_rand_range(b, m));
            cr_assert(BN_mod_mul(want, a, b, m, ctx));
            cr_assert_eq(pb_bn_mod_mul_ct(a, a, b, m, ctx), PB_OK, "%s", pb_last_error());
            cr_assert_eq(BN_cmp(a, want), 0, "%d-bit modulus", bits);
        }
    }
    /* Refused: a negative operand, one wider than declared, no width. */
    cr_assert(BN_set_word(a, 5) && BN_set_word(b, 7));
    BN_set_negative(a, 1);
    cr_assert_eq(pb_bn_mul_ct(got, a, 8, b, 8), PB_ERR_ARGUMENT);
    BN_set_negative(a, 0);
    cr_assert(BN_lshift(a, a, 40));
    cr_assert_eq(pb_bn_mul_ct(got, a, 32, b, 8), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_bn_mul_ct(got, a, 0, b, 8), PB_ERR_ARGUMENT);
    BN_free(a);
    BN_free(b);
    BN_free(want);
    BN_free(got);
    BN_free(m);
    BN_CTX_free(ctx);
}
