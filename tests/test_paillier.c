/* Paillier: key generation meets its stated shape, the CRT decryption agrees
 * with the textbook formula, the homomorphisms hold, and every validation
 * and decoder refuses what it must. Keys are generated per test (a 2048-bit
 * key takes tens of milliseconds), one 3072-bit key for the size check. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>

#include "crypto/paillier.h"

static BN_CTX *bctx;

static void setup(void)
{
    bctx = BN_CTX_new();
}

static void teardown(void)
{
    BN_CTX_free(bctx);
}

TestSuite(paillier, .init = setup, .fini = teardown);

static pb_paillier_private *key(int bits)
{
    pb_paillier_private *sk = NULL;
    cr_assert_eq(pb_paillier_generate(bits, &sk), PB_OK);
    cr_assert_not_null(sk);
    return sk;
}

/* Textbook decryption with g = N + 1: m = L(c^phi mod N^2) · phi^-1 mod N. */
static BIGNUM *textbook_decrypt(const pb_paillier_private *sk, const BIGNUM *c)
{
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    const BIGNUM *n = pb_paillier_n(pk), *n2 = pb_paillier_n2(pk);
    BIGNUM *x = BN_new(), *mu = BN_new();
    cr_assert(BN_mod_exp(x, c, pb_paillier_private_phi(sk), n2, bctx));
    BN_sub_word(x, 1);
    BN_div(x, NULL, x, n, bctx);
    cr_assert_not_null(BN_mod_inverse(mu, pb_paillier_private_phi(sk), n, bctx));
    BN_mod_mul(x, x, mu, n, bctx);
    BN_free(mu);
    return x;
}

static void check_shape(const pb_paillier_private *sk, int bits)
{
    const BIGNUM *p = pb_paillier_private_p(sk), *q = pb_paillier_private_q(sk);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    cr_assert_eq(BN_num_bits(pb_paillier_n(pk)), bits);
    cr_assert_eq(pb_paillier_bits(pk), bits);
    cr_assert_eq(BN_num_bits(p), bits / 2);
    cr_assert_eq(BN_num_bits(q), bits / 2);
    cr_assert_eq(BN_mod_word(p, 4), 3);
    cr_assert_eq(BN_mod_word(q, 4), 3);
    cr_assert_neq(BN_cmp(p, q), 0);
    cr_assert_eq(BN_check_prime(p, bctx, NULL), 1, "p is not prime");
    cr_assert_eq(BN_check_prime(q, bctx, NULL), 1, "q is not prime");
    BIGNUM *t = BN_new(), *u = BN_new();
    BN_mul(t, p, q, bctx);
    cr_assert_eq(BN_cmp(t, pb_paillier_n(pk)), 0);
    BN_sqr(t, pb_paillier_n(pk), bctx);
    cr_assert_eq(BN_cmp(t, pb_paillier_n2(pk)), 0);
    BN_sub(t, p, q);
    BN_set_negative(t, 0);
    cr_assert_gt(BN_num_bits(t), bits / 2 - 100, "p and q too close");
    BN_copy(t, p);
    BN_sub_word(t, 1);
    BN_copy(u, q);
    BN_sub_word(u, 1);
    BN_mul(t, t, u, bctx);
    cr_assert_eq(BN_cmp(t, pb_paillier_private_phi(sk)), 0);
    BN_gcd(u, t, pb_paillier_n(pk), bctx);
    cr_assert(BN_is_one(u));
    BN_free(t);
    BN_free(u);
}

Test(paillier, keygen_2048_has_blum_primes_and_exact_size)
{
    for (int i = 0; i < 3; i++) {
        pb_paillier_private *sk = key(2048);
        check_shape(sk, 2048);
        pb_paillier_private_free(sk);
    }
}

Test(paillier, keygen_3072_has_blum_primes_and_exact_size)
{
    pb_paillier_private *sk = key(3072);
    check_shape(sk, 3072);
    /* Decryption at this size too. */
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    BIGNUM *m = BN_new(), *c = BN_new(), *d = BN_new();
    BN_rand_range(m, pb_paillier_n(pk));
    cr_assert_eq(pb_paillier_encrypt(pk, m, c, NULL), PB_OK);
    cr_assert_eq(pb_paillier_decrypt(sk, c, d), PB_OK);
    cr_assert_eq(BN_cmp(m, d), 0);
    BN_free(m);
    BN_free(c);
    BN_free(d);
    pb_paillier_private_free(sk);
}

Test(paillier, keygen_refuses_unsupported_sizes)
{
    pb_paillier_private *sk = (pb_paillier_private *)1;
    cr_assert_eq(pb_paillier_generate(1024, &sk), PB_ERR_ARGUMENT);
    cr_assert_null(sk);
    cr_assert_eq(pb_paillier_generate(2047, &sk), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_paillier_generate(4096, &sk), PB_ERR_ARGUMENT);
}

Test(paillier, round_trip_including_negative_and_boundary_plaintexts)
{
    pb_paillier_private *sk = key(2048);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    const BIGNUM *n = pb_paillier_n(pk);
    BIGNUM *m = BN_new(), *want = BN_new(), *c = BN_new(), *d = BN_new();
    for (int i = 0; i < 10; i++) {
        switch (i) {
        case 0: BN_zero(m); break;
        case 1: BN_one(m); break;
        case 2: BN_copy(m, n); BN_sub_word(m, 1); break;      /* N - 1 */
        case 3: BN_copy(m, n); break;                         /* N = 0 */
        case 4: BN_set_word(m, 1); BN_set_negative(m, 1); break; /* -1 */
        case 5: BN_set_word(m, 5); BN_set_negative(m, 1); break; /* -5 */
        case 6: BN_copy(m, n); BN_set_negative(m, 1); BN_sub_word(m, 7); break; /* -N-7 */
        case 7: BN_lshift(m, n, 3); BN_add_word(m, 11); break; /* 8N + 11 */
        default: BN_rand_range(m, n); break;
        }
        BN_nnmod(want, m, n, bctx);
        BIGNUM *r = BN_new();
        cr_assert_eq(pb_paillier_encrypt(pk, m, c, r), PB_OK);
        cr_assert_eq(pb_paillier_check_ciphertext(pk, c), PB_OK);
        cr_assert_eq(pb_paillier_decrypt(sk, c, d), PB_OK);
        cr_assert_eq(BN_cmp(d, want), 0, "plaintext case %d did not round-trip", i);
        BIGNUM *tb = textbook_decrypt(sk, c);
        cr_assert_eq(BN_cmp(tb, want), 0, "CRT and textbook decryption disagree (case %d)", i);
        BN_free(tb);
        BN_free(r);
    }
    BN_free(m);
    BN_free(want);
    BN_free(c);
    BN_free(d);
    pb_paillier_private_free(sk);
}

Test(paillier, encryption_has_the_form_one_plus_mn_times_r_to_the_n)
{
    pb_paillier_private *sk = key(2048);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    const BIGNUM *n = pb_paillier_n(pk), *n2 = pb_paillier_n2(pk);
    BIGNUM *m = BN_new(), *c = BN_new(), *r = BN_new(), *want = BN_new(), *rn = BN_new(),
           *c2 = BN_new(), *g = BN_new();
    BN_rand_range(m, n);
    cr_assert_eq(pb_paillier_encrypt(pk, m, c, r), PB_OK);
    cr_assert(!BN_is_zero(r) && BN_cmp(r, n) < 0);
    BN_gcd(g, r, n, bctx);
    cr_assert(BN_is_one(g), "randomness not a unit");
    /* Independent: (1 + mN) r^N mod N^2 with the plain BN_mod_exp. */
    BN_mod_exp(rn, r, n, n2, bctx);
    BN_mul(want, m, n, bctx);
    BN_add_word(want, 1);
    BN_mod_mul(want, want, rn, n2, bctx);
    cr_assert_eq(BN_cmp(c, want), 0);
    cr_assert_eq(pb_paillier_encrypt_with(pk, m, r, c2), PB_OK);
    cr_assert_eq(BN_cmp(c2, want), 0);
    cr_assert_eq(pb_paillier_encrypt_precomputed(pk, m, rn, c2), PB_OK);
    cr_assert_eq(BN_cmp(c2, want), 0, "precomputed path differs from fresh path");
    /* Two fresh encryptions of one plaintext differ. */
    cr_assert_eq(pb_paillier_encrypt(pk, m, c2, NULL), PB_OK);
    cr_assert_neq(BN_cmp(c, c2), 0);
    /* Randomness outside (0, N) is refused. */
    BN_zero(r);
    cr_assert_eq(pb_paillier_encrypt_with(pk, m, r, c2), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_paillier_encrypt_with(pk, m, n, c2), PB_ERR_ARGUMENT);
    BN_free(m);
    BN_free(c);
    BN_free(r);
    BN_free(want);
    BN_free(rn);
    BN_free(c2);
    BN_free(g);
    pb_paillier_private_free(sk);
}

Test(paillier, precomputed_randomness_is_an_encryption_of_zero_and_fresh_each_time)
{
    pb_paillier_private *sk = key(2048);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    BIGNUM *rn1 = BN_new(), *rn2 = BN_new(), *d = BN_new(), *m = BN_new(), *c = BN_new(),
           *want = BN_new();
    cr_assert_eq(pb_paillier_precompute_rn(pk, rn1), PB_OK);
    cr_assert_eq(pb_paillier_precompute_rn(pk, rn2), PB_OK);
    cr_assert_neq(BN_cmp(rn1, rn2), 0);
    cr_assert_eq(pb_paillier_check_ciphertext(pk, rn1), PB_OK);
    cr_assert_eq(pb_paillier_decrypt(sk, rn1, d), PB_OK);
    cr_assert(BN_is_zero(d), "r^N does not decrypt to zero");
    BN_set_word(m, 42);
    BN_set_negative(m, 1);
    cr_assert_eq(pb_paillier_encrypt_precomputed(pk, m, rn1, c), PB_OK);
    cr_assert_eq(pb_paillier_decrypt(sk, c, d), PB_OK);
    BN_nnmod(want, m, pb_paillier_n(pk), bctx);
    cr_assert_eq(BN_cmp(d, want), 0);
    BN_zero(rn1);
    cr_assert_eq(pb_paillier_encrypt_precomputed(pk, m, rn1, c), PB_ERR_ARGUMENT);
    BN_free(rn1);
    BN_free(rn2);
    BN_free(d);
    BN_free(m);
    BN_free(c);
    BN_free(want);
    pb_paillier_private_free(sk);
}

Test(paillier, addition_and_scalar_multiplication_are_homomorphic)
{
    pb_paillier_private *sk = key(2048);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    const BIGNUM *n = pb_paillier_n(pk);
    BIGNUM *a = BN_new(), *b = BN_new(), *k = BN_new(), *ca = BN_new(), *cb = BN_new(),
           *out = BN_new(), *d = BN_new(), *want = BN_new();
    for (int i = 0; i < 6; i++) {
        BN_rand_range(a, n);
        BN_rand_range(b, n);
        if (i == 0)
            BN_zero(k);
        else if (i == 1)
            BN_one(k);
        else if (i == 2)
            BN_lshift1(k, n); /* exponent beyond N */
        else
            BN_rand(k, 256, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
        cr_assert_eq(pb_paillier_encrypt(pk, a, ca, NULL), PB_OK);
        cr_assert_eq(pb_paillier_encrypt(pk, b, cb, NULL), PB_OK);
        cr_assert_eq(pb_paillier_add(pk, ca, cb, out), PB_OK);
        cr_assert_eq(pb_paillier_decrypt(sk, out, d), PB_OK);
        BN_mod_add(want, a, b, n, bctx);
        cr_assert_eq(BN_cmp(d, want), 0, "add");
        cr_assert_eq(pb_paillier_mul_scalar(pk, ca, k, out), PB_OK);
        cr_assert_eq(pb_paillier_decrypt(sk, out, d), PB_OK);
        BN_mod_mul(want, a, k, n, bctx);
        cr_assert_eq(BN_cmp(d, want), 0, "scalar multiply case %d", i);
    }
    BN_one(k);
    BN_set_negative(k, 1);
    cr_assert_eq(pb_paillier_mul_scalar(pk, ca, k, out), PB_ERR_ARGUMENT);
    BN_zero(cb);
    cr_assert_eq(pb_paillier_add(pk, ca, cb, out), PB_ERR_ARGUMENT);
    BN_free(a);
    BN_free(b);
    BN_free(k);
    BN_free(ca);
    BN_free(cb);
    BN_free(out);
    BN_free(d);
    BN_free(want);
    pb_paillier_private_free(sk);
}

Test(paillier, ciphertext_check_rejects_out_of_range_and_non_units)
{
    pb_paillier_private *sk = key(2048);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    const BIGNUM *n2 = pb_paillier_n2(pk);
    BIGNUM *c = BN_new();
    BN_one(c);
    cr_assert_eq(pb_paillier_check_ciphertext(pk, c), PB_OK);
    BN_zero(c);
    cr_assert_eq(pb_paillier_check_ciphertext(pk, c), PB_ERR_PARSE, "0 accepted");
    BN_copy(c, n2);
    cr_assert_eq(pb_paillier_check_ciphertext(pk, c), PB_ERR_PARSE, "N^2 accepted");
    BN_add_word(c, 1);
    cr_assert_eq(pb_paillier_check_ciphertext(pk, c), PB_ERR_PARSE, "N^2 + 1 accepted");
    BN_one(c);
    BN_set_negative(c, 1);
    cr_assert_eq(pb_paillier_check_ciphertext(pk, c), PB_ERR_PARSE, "-1 accepted");
    const BIGNUM *factors[] = {pb_paillier_private_p(sk), pb_paillier_private_q(sk),
                               pb_paillier_n(pk)};
    for (int i = 0; i < 3; i++) {
        for (unsigned long mult = 1; mult < 4; mult++) {
            BN_copy(c, factors[i]);
            BN_mul_word(c, mult);
            cr_assert_eq(pb_paillier_check_ciphertext(pk, c), PB_ERR_PARSE,
                         "multiple %lu of factor %d accepted", mult, i);
        }
    }
    BIGNUM *d = BN_new();
    BN_copy(c, n2);
    cr_assert_eq(pb_paillier_decrypt(sk, c, d), PB_ERR_PARSE);
    BN_free(c);
    BN_free(d);
    pb_paillier_private_free(sk);
}

Test(paillier, public_from_n_checks_size_parity_and_primality)
{
    pb_paillier_private *sk = key(2048);
    const BIGNUM *n = pb_paillier_n(pb_paillier_public_of(sk));
    pb_paillier_public *pk = NULL;
    cr_assert_eq(pb_paillier_public_from_n(n, 2048, &pk), PB_OK);
    cr_assert_eq(BN_cmp(pb_paillier_n(pk), n), 0);
    cr_assert_eq(pb_paillier_bits(pk), 2048);
    pb_paillier_public *dup = pb_paillier_public_dup(pk);
    cr_assert_not_null(dup);
    cr_assert_eq(BN_cmp(pb_paillier_n2(dup), pb_paillier_n2(pb_paillier_public_of(sk))), 0);
    pb_paillier_public_free(dup);
    pb_paillier_public_free(pk);

    pb_paillier_public *none = NULL;
    cr_assert_eq(pb_paillier_public_from_n(n, 3072, &none), PB_ERR_PARSE, "wrong size accepted");
    cr_assert_null(none);
    cr_assert_eq(pb_paillier_public_from_n(n, 1024, &none), PB_ERR_ARGUMENT);
    BIGNUM *x = BN_new();
    BN_rshift1(x, n);
    BN_set_bit(x, 0);
    cr_assert_eq(pb_paillier_public_from_n(x, 2048, &none), PB_ERR_PARSE, "2047 bits accepted");
    BN_copy(x, n);
    BN_add_word(x, 1);
    cr_assert_eq(pb_paillier_public_from_n(x, 2048, &none), PB_ERR_PARSE, "even accepted");
    BN_copy(x, n);
    BN_set_negative(x, 1);
    cr_assert_eq(pb_paillier_public_from_n(x, 2048, &none), PB_ERR_PARSE, "negative accepted");
    cr_assert(BN_generate_prime_ex2(x, 2048, 0, NULL, NULL, NULL, bctx));
    cr_assert_eq(pb_paillier_public_from_n(x, 2048, &none), PB_ERR_PARSE, "prime accepted");
    cr_assert_null(none);
    BN_free(x);
    pb_paillier_private_free(sk);
}

static uint8_t *encode_public(const pb_paillier_public *pk, size_t *len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_paillier_public_encode(&w, pk);
    uint8_t *buf;
    cr_assert_eq(pb_writer_finish(&w, &buf, len), PB_OK);
    return buf;
}

static uint8_t *encode_private(const pb_paillier_private *sk, size_t *len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_paillier_private_encode(&w, sk);
    uint8_t *buf;
    cr_assert_eq(pb_writer_finish(&w, &buf, len), PB_OK);
    return buf;
}

static pb_status decode_public(const uint8_t *p, size_t n, pb_paillier_public **out)
{
    pb_reader r;
    pb_reader_init(&r, p, n);
    pb_status st = pb_paillier_public_decode(&r, 2048, out);
    if (st == PB_OK && (st = pb_reader_finish(&r, "pk")) != PB_OK) {
        pb_paillier_public_free(*out);
        *out = NULL;
    }
    return st;
}

static pb_status decode_private(const uint8_t *p, size_t n, pb_paillier_private **out)
{
    pb_reader r;
    pb_reader_init(&r, p, n);
    pb_status st = pb_paillier_private_decode(&r, out);
    if (st == PB_OK && (st = pb_reader_finish(&r, "sk")) != PB_OK) {
        pb_paillier_private_free(*out);
        *out = NULL;
    }
    return st;
}

Test(paillier, public_encoding_round_trips_and_refuses_truncation_and_extension)
{
    pb_paillier_private *sk = key(2048);
    size_t len;
    uint8_t *buf = encode_public(pb_paillier_public_of(sk), &len);
    cr_assert_eq(len, 4 + 256);
    pb_paillier_public *pk = NULL;
    cr_assert_eq(decode_public(buf, len, &pk), PB_OK);
    cr_assert_eq(BN_cmp(pb_paillier_n(pk), pb_paillier_n(pb_paillier_public_of(sk))), 0);
    size_t len2;
    uint8_t *again = encode_public(pk, &len2);
    cr_assert(len2 == len && memcmp(buf, again, len) == 0, "re-encoding differs");
    pb_bytes_free(again, len2);
    pb_paillier_public_free(pk);
    for (size_t cut = 0; cut < len; cut++) {
        pk = NULL;
        cr_assert_neq(decode_public(buf, cut, &pk), PB_OK, "truncation at %zu accepted", cut);
        cr_assert_null(pk);
    }
    uint8_t longer[4 + 257];
    memcpy(longer, buf, len);
    longer[len] = 0;
    cr_assert_neq(decode_public(longer, len + 1, &pk), PB_OK, "trailing byte accepted");
    /* Same value with a leading zero byte inside a longer length. */
    longer[0] = 0, longer[1] = 0, longer[2] = 1, longer[3] = 1;
    longer[4] = 0;
    memcpy(longer + 5, buf + 4, 256);
    cr_assert_neq(decode_public(longer, sizeof longer, &pk), PB_OK, "leading zero accepted");
    pb_bytes_free(buf, len);
    pb_paillier_private_free(sk);
}

Test(paillier, private_encoding_round_trips_and_refuses_truncation_and_extension)
{
    pb_paillier_private *sk = key(2048);
    size_t len;
    uint8_t *buf = encode_private(sk, &len);
    cr_assert_eq(len, 2 * (4 + 128));
    pb_paillier_private *back = NULL;
    cr_assert_eq(decode_private(buf, len, &back), PB_OK);
    cr_assert_eq(BN_cmp(pb_paillier_private_p(back), pb_paillier_private_p(sk)), 0);
    cr_assert_eq(BN_cmp(pb_paillier_private_q(back), pb_paillier_private_q(sk)), 0);
    cr_assert_eq(BN_cmp(pb_paillier_private_phi(back), pb_paillier_private_phi(sk)), 0);
    /* The decoded key decrypts what the original's public key encrypted. */
    BIGNUM *m = BN_new(), *c = BN_new(), *d = BN_new();
    BN_rand_range(m, pb_paillier_n(pb_paillier_public_of(sk)));
    cr_assert_eq(pb_paillier_encrypt(pb_paillier_public_of(sk), m, c, NULL), PB_OK);
    cr_assert_eq(pb_paillier_decrypt(back, c, d), PB_OK);
    cr_assert_eq(BN_cmp(m, d), 0);
    size_t len2;
    uint8_t *again = encode_private(back, &len2);
    cr_assert(len2 == len && memcmp(buf, again, len) == 0, "re-encoding differs");
    pb_bytes_free(again, len2);
    pb_paillier_private_free(back);
    for (size_t cut = 0; cut < len; cut++) {
        back = NULL;
        cr_assert_neq(decode_private(buf, cut, &back), PB_OK, "truncation at %zu accepted", cut);
        cr_assert_null(back);
    }
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0x5a;
    cr_assert_neq(decode_private(longer, len + 1, &back), PB_OK, "trailing byte accepted");
    free(longer);
    BN_free(m);
    BN_free(c);
    BN_free(d);
    pb_bytes_free(buf, len);
    pb_paillier_private_free(sk);
}

/* Writes var(p) var(q) from arbitrary integers. */
static uint8_t *encode_pq(const BIGNUM *p, const BIGNUM *q, size_t *len)
{
    pb_writer w;
    pb_writer_init(&w);
    uint8_t tmp[512];
    int n = BN_bn2bin(p, tmp);
    pb_writer_var(&w, tmp, (size_t)n);
    n = BN_bn2bin(q, tmp);
    pb_writer_var(&w, tmp, (size_t)n);
    uint8_t *buf;
    cr_assert_eq(pb_writer_finish(&w, &buf, len), PB_OK);
    return buf;
}

static void expect_private_rejected(const BIGNUM *p, const BIGNUM *q, const char *what)
{
    size_t len;
    uint8_t *buf = encode_pq(p, q, &len);
    pb_paillier_private *back = NULL;
    cr_assert_eq(decode_private(buf, len, &back), PB_ERR_PARSE, "%s accepted", what);
    cr_assert_null(back);
    pb_bytes_free(buf, len);
}

Test(paillier, private_decode_rejects_tampered_primes)
{
    pb_paillier_private *sk = key(2048);
    const BIGNUM *p = pb_paillier_private_p(sk), *q = pb_paillier_private_q(sk);
    BIGNUM *t = BN_new();
    /* A composite p' = 3 mod 4 of the same size (checked independently). */
    BN_copy(t, p);
    do
        BN_add_word(t, 4);
    while (BN_check_prime(t, bctx, NULL) != 0);
    cr_assert_gt(BN_cmp(t, q), 0);
    expect_private_rejected(t, q, "composite p");
    /* p = 1 mod 4 */
    BN_copy(t, p);
    BN_add_word(t, 2);
    expect_private_rejected(t, q, "p = 1 mod 4");
    /* Wrong order and equal primes. */
    expect_private_rejected(q, p, "q before p");
    expect_private_rejected(p, p, "p == q");
    /* A 1025-bit p. */
    BN_lshift1(t, p);
    BN_add_word(t, 1);
    expect_private_rejected(t, q, "oversized p");
    BN_free(t);
    pb_paillier_private_free(sk);
}

typedef struct worker_arg {
    const pb_paillier_private *sk;
    int ok;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    const pb_paillier_public *pk = pb_paillier_public_of(a->sk);
    BIGNUM *m = BN_new(), *c = BN_new(), *d = BN_new();
    a->ok = 1;
    for (int i = 0; i < 8; i++) {
        BN_rand_range(m, pb_paillier_n(pk));
        if (pb_paillier_encrypt(pk, m, c, NULL) != PB_OK ||
            pb_paillier_decrypt(a->sk, c, d) != PB_OK || BN_cmp(m, d) != 0)
            a->ok = 0;
    }
    BN_free(m);
    BN_free(c);
    BN_free(d);
    return NULL;
}

Test(paillier, one_key_is_usable_from_several_threads_at_once)
{
    pb_paillier_private *sk = key(2048);
    pthread_t th[3];
    worker_arg args[3];
    for (int i = 0; i < 3; i++) {
        args[i].sk = sk;
        cr_assert_eq(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        cr_assert(args[i].ok, "thread %d saw a wrong result", i);
    }
    pb_paillier_private_free(sk);
}
