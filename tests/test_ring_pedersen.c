/* Ring-Pedersen parameters: generation yields N^ = p^q^ from two safe primes
 * with t a square and s = t^lambda, reporting progress; the public check
 * refuses every degenerate (N^, s, t); both encodings are strict. The one
 * expensive generation runs in its own test; the others use the cached
 * fixture (tests/support/rped_secret_fixture.c). */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/bn.h>

#include "common/bytes.h"
#include "crypto/bn.h"
#include "crypto/ring_pedersen.h"
#include "support/rped_secret_fixture.h"

#define BITS 2048

static BN_CTX *ctx(void)
{
    BN_CTX *c = pb_bn_ctx();
    cr_assert_not_null(c);
    return c;
}

/* p = 2p'+1 with p and p' prime. */
static int is_safe_prime(const BIGNUM *p)
{
    BIGNUM *h = BN_new();
    cr_assert(h && BN_rshift1(h, p));
    int ok = BN_check_prime(p, ctx(), NULL) == 1 && BN_check_prime(h, ctx(), NULL) == 1;
    BN_free(h);
    return ok;
}

/* Every property the header promises of a secret, checked from scratch. */
static void assert_well_formed(const pb_rped_secret *sec, int bits)
{
    const pb_rped_public *pub = pb_rped_public_of(sec);
    const BIGNUM *p = pb_rped_p(sec), *q = pb_rped_q(sec);
    BIGNUM *n = BN_new(), *phi = BN_new(), *a = BN_new(), *b = BN_new();
    cr_assert(n && phi && a && b);
    cr_assert_eq(pub->bits, bits);
    cr_assert_eq(BN_num_bits(pub->n_hat), bits);
    cr_assert(BN_mul(n, p, q, ctx()));
    cr_assert_eq(BN_cmp(n, pub->n_hat), 0, "N^ = p^ q^");
    cr_assert_neq(BN_cmp(p, q), 0);
    cr_assert(is_safe_prime(p), "p^ is a safe prime");
    cr_assert(is_safe_prime(q), "q^ is a safe prime");
    cr_assert(BN_sub(a, p, BN_value_one()) && BN_sub(b, q, BN_value_one()) &&
              BN_mul(phi, a, b, ctx()));
    cr_assert_eq(BN_cmp(phi, pb_rped_phi(sec)), 0, "phi(N^)");
    /* t is a square mod both primes, so it lies in the group of squares. */
    cr_assert_eq(BN_kronecker(pub->t, p, ctx()), 1);
    cr_assert_eq(BN_kronecker(pub->t, q, ctx()), 1);
    cr_assert(BN_rshift(a, phi, 2));
    cr_assert(BN_cmp(pb_rped_lambda(sec), a) < 0, "lambda < phi/4");
    cr_assert(BN_mod_exp(b, pub->t, pb_rped_lambda(sec), pub->n_hat, ctx()));
    cr_assert_eq(BN_cmp(b, pub->s), 0, "s = t^lambda");
    cr_assert_eq(pb_rped_public_check(pub, bits), PB_OK, "%s", pb_last_error());
    BN_free(n);
    BN_free(phi);
    BN_free(a);
    BN_free(b);
}

typedef struct progress_log {
    int calls_p, calls_q, last_p, last_q, bad;
} progress_log;

static void on_progress(void *c, const char *what, int candidates)
{
    progress_log *log = c;
    if (strcmp(what, "p") == 0) {
        log->calls_p++;
        log->bad |= candidates < log->last_p;
        log->last_p = candidates;
    } else if (strcmp(what, "q") == 0) {
        log->calls_q++;
        log->bad |= candidates < log->last_q;
        log->last_q = candidates;
    } else {
        log->bad = 1;
    }
}

Test(ring_pedersen, generation_gives_safe_primes_and_reports_progress)
{
    progress_log log = {0};
    pb_rped_secret *sec = NULL;
    cr_assert_eq(pb_rped_generate(BITS, on_progress, &log, &sec), PB_OK, "%s", pb_last_error());
    assert_well_formed(sec, BITS);
    cr_assert(log.calls_p > 0 && log.calls_q > 0, "both searches reported");
    cr_assert(log.last_p > 0 && log.last_q > 0, "candidate counts are positive");
    cr_assert_eq(log.bad, 0, "counts never go back and names are p or q");
    pb_rped_secret_free(sec);
}

Test(ring_pedersen, unsupported_sizes_are_refused)
{
    const int sizes[] = {0, 1024, 2047, 2049, 8192};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        pb_rped_secret *sec = (pb_rped_secret *)1;
        cr_assert_eq(pb_rped_generate(sizes[i], NULL, NULL, &sec), PB_ERR_ARGUMENT);
        cr_assert_null(sec);
    }
}

Test(ring_pedersen, cached_fixture_is_well_formed)
{
    pb_rped_secret *sec = fx_rped_secret(BITS);
    assert_well_formed(sec, BITS);
    pb_rped_secret_free(sec);
}

/* --- public check ------------------------------------------------------------- */

typedef enum { T_ONE, S_ONE, S_EQ_T, T_MINUS_ONE, S_MINUS_ONE, S_NOT_UNIT, T_NOT_UNIT,
               S_ZERO, S_TOO_BIG, N_EVEN, MUTATIONS } mutation;

static void mutate(pb_rped_public *pub, const pb_rped_secret *sec, mutation m)
{
    switch (m) {
    case T_ONE: cr_assert(BN_one(pub->t)); break;
    case S_ONE: cr_assert(BN_one(pub->s)); break;
    case S_EQ_T: cr_assert(BN_copy(pub->s, pub->t)); break;
    case T_MINUS_ONE: cr_assert(BN_sub(pub->t, pub->n_hat, BN_value_one())); break;
    case S_MINUS_ONE: cr_assert(BN_sub(pub->s, pub->n_hat, BN_value_one())); break;
    case S_NOT_UNIT: cr_assert(BN_copy(pub->s, pb_rped_p(sec))); break;
    case T_NOT_UNIT: cr_assert(BN_copy(pub->t, pb_rped_q(sec))); break;
    case S_ZERO: BN_zero(pub->s); break;
    case S_TOO_BIG: cr_assert(BN_add(pub->s, pub->s, pub->n_hat)); break;
    case N_EVEN: cr_assert(BN_add_word(pub->n_hat, 1)); break;
    default: cr_assert_fail("no such mutation");
    }
}

Test(ring_pedersen, public_check_refuses_degenerate_parameters)
{
    pb_rped_secret *sec = fx_rped_secret(BITS);
    const pb_rped_public *good = pb_rped_public_of(sec);
    cr_assert_eq(pb_rped_public_check(good, BITS), PB_OK);
    for (int m = 0; m < MUTATIONS; m++) {
        pb_rped_public *bad = pb_rped_public_dup(good);
        cr_assert_not_null(bad);
        mutate(bad, sec, (mutation)m);
        cr_assert_neq(pb_rped_public_check(bad, BITS), PB_OK, "mutation %d accepted", m);
        pb_rped_public_free(bad);
    }
    cr_assert_neq(pb_rped_public_check(good, 3072), PB_OK, "wrong size");
    cr_assert_neq(pb_rped_public_check(good, 1024), PB_OK, "unsupported size");
    cr_assert_neq(pb_rped_public_check(NULL, BITS), PB_OK);
    pb_rped_secret_free(sec);
}

/* --- encodings ----------------------------------------------------------------- */

static void encode_public(const pb_rped_public *pub, uint8_t **buf, size_t *len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_rped_public_encode(&w, pub);
    cr_assert_eq(pb_writer_finish(&w, buf, len), PB_OK);
}

static pb_status decode_public(const uint8_t *buf, size_t len, int bits, pb_rped_public **out)
{
    pb_reader r;
    pb_reader_init(&r, buf, len);
    pb_status st = pb_rped_public_decode(&r, bits, out);
    if (st == PB_OK && (st = pb_reader_finish(&r, "rped")) != PB_OK) {
        pb_rped_public_free(*out);
        *out = NULL;
    }
    return st;
}

Test(ring_pedersen, public_encoding_round_trips_and_is_strict)
{
    pb_rped_secret *sec = fx_rped_secret(BITS);
    const pb_rped_public *pub = pb_rped_public_of(sec);
    uint8_t *buf;
    size_t len;
    encode_public(pub, &buf, &len);

    pb_rped_public *back = NULL;
    cr_assert_eq(decode_public(buf, len, BITS, &back), PB_OK, "%s", pb_last_error());
    cr_assert_eq(BN_cmp(back->n_hat, pub->n_hat), 0);
    cr_assert_eq(BN_cmp(back->s, pub->s), 0);
    cr_assert_eq(BN_cmp(back->t, pub->t), 0);
    cr_assert_eq(back->bits, BITS);
    pb_rped_public_free(back);

    for (size_t cut = 0; cut < len; cut++) {
        back = NULL;
        cr_assert_neq(decode_public(buf, cut, BITS, &back), PB_OK, "cut at %zu", cut);
        cr_assert_null(back);
    }
    uint8_t *longer = malloc(len + 1);
    cr_assert_not_null(longer);
    memcpy(longer, buf, len);
    longer[len] = 0;
    cr_assert_eq(decode_public(longer, len + 1, BITS, &back), PB_ERR_PARSE, "trailing byte");
    free(longer);
    cr_assert_neq(decode_public(buf, len, 3072, &back), PB_OK, "size is part of the check");
    pb_bytes_free(buf, len);

    /* Encodable but invalid parameters never decode. */
    for (int m = 0; m < MUTATIONS; m++) {
        pb_rped_public *bad = pb_rped_public_dup(pub);
        mutate(bad, sec, (mutation)m);
        encode_public(bad, &buf, &len);
        back = NULL;
        cr_assert_neq(decode_public(buf, len, BITS, &back), PB_OK, "mutation %d decoded", m);
        cr_assert_null(back);
        pb_bytes_free(buf, len);
        pb_rped_public_free(bad);
    }
    pb_rped_secret_free(sec);
}

static void encode_secret_fields(const BIGNUM *p, const BIGNUM *q, const BIGNUM *t,
                                 const BIGNUM *lambda, uint8_t **buf, size_t *len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_bn_encode(&w, p);
    pb_bn_encode(&w, q);
    pb_bn_encode(&w, t);
    pb_bn_encode(&w, lambda);
    cr_assert_eq(pb_writer_finish(&w, buf, len), PB_OK);
}

typedef struct bad_record {
    const char *what;
    const BIGNUM *p, *q, *t, *lambda;
} bad_record;

static pb_status decode_secret(const uint8_t *buf, size_t len, pb_rped_secret **out)
{
    pb_reader r;
    pb_reader_init(&r, buf, len);
    pb_status st = pb_rped_secret_decode(&r, out);
    if (st == PB_OK && (st = pb_reader_finish(&r, "rped secret")) != PB_OK) {
        pb_rped_secret_free(*out);
        *out = NULL;
    }
    return st;
}

Test(ring_pedersen, secret_encoding_round_trips_and_rejects_inconsistent_records)
{
    pb_rped_secret *sec = fx_rped_secret(BITS);
    const pb_rped_public *pub = pb_rped_public_of(sec);
    pb_writer w;
    pb_writer_init(&w);
    pb_rped_secret_encode(&w, sec);
    uint8_t *buf;
    size_t len;
    cr_assert_eq(pb_writer_finish(&w, &buf, &len), PB_OK);

    pb_rped_secret *back = NULL;
    cr_assert_eq(decode_secret(buf, len, &back), PB_OK, "%s", pb_last_error());
    const pb_rped_public *bp = pb_rped_public_of(back);
    cr_assert_eq(BN_cmp(bp->n_hat, pub->n_hat), 0);
    cr_assert_eq(BN_cmp(bp->s, pub->s), 0);
    cr_assert_eq(BN_cmp(bp->t, pub->t), 0);
    cr_assert_eq(BN_cmp(pb_rped_lambda(back), pb_rped_lambda(sec)), 0);
    cr_assert_eq(BN_cmp(pb_rped_phi(back), pb_rped_phi(sec)), 0);
    pb_rped_secret_free(back);
    for (size_t cut = 0; cut < len; cut++) {
        back = NULL;
        cr_assert_neq(decode_secret(buf, cut, &back), PB_OK, "cut at %zu", cut);
        cr_assert_null(back);
    }
    pb_bytes_free(buf, len);

    const BIGNUM *p = pb_rped_p(sec), *q = pb_rped_q(sec), *t = pub->t;
    BIGNUM *x = BN_new(), *one = BN_new(), *q2 = BN_new();
    cr_assert(x && one && q2 && BN_one(one) && BN_copy(q2, q) && BN_add_word(q2, 2));
    /* lambda = phi/4 is one past the range. */
    cr_assert(BN_rshift(x, pb_rped_phi(sec), 2));
    const bad_record bad[5] = {
        {"lambda out of range", p, q, t, x},
        {"equal primes", p, p, t, pb_rped_lambda(sec)},
        {"t = 1", p, q, one, pb_rped_lambda(sec)},
        {"t not a unit", p, q, p, pb_rped_lambda(sec)},
        {"q^ = 1 mod 4", p, q2, t, pb_rped_lambda(sec)},
    };
    for (size_t i = 0; i < 5; i++) {
        encode_secret_fields(bad[i].p, bad[i].q, bad[i].t, bad[i].lambda, &buf, &len);
        back = NULL;
        cr_assert_neq(decode_secret(buf, len, &back), PB_OK, "%s accepted", bad[i].what);
        cr_assert_null(back);
        pb_bytes_free(buf, len);
    }
    BN_free(x);
    BN_free(one);
    BN_free(q2);
    pb_rped_secret_free(sec);
}

Test(ring_pedersen, dup_is_independent_of_the_original)
{
    pb_rped_secret *sec = fx_rped_secret(BITS);
    pb_rped_public *copy = pb_rped_public_dup(pb_rped_public_of(sec));
    cr_assert_not_null(copy);
    BIGNUM *n = BN_dup(copy->n_hat);
    pb_rped_secret_free(sec);
    cr_assert_eq(BN_cmp(copy->n_hat, n), 0);
    cr_assert_eq(pb_rped_public_check(copy, BITS), PB_OK);
    BN_free(n);
    pb_rped_public_free(copy);
}
