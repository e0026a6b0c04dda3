/* BIGNUM helpers: the signed encoding is canonical (one encoding per value,
 * everything else refused) and the samplers stay in their ranges. */
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
