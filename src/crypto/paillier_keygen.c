/* paillier_keygen.c - Paillier-Blum key generation: N = p·q with
 * p = q = 3 mod 4, both exactly bits/2 long with the top two bits set (so N
 * has exactly `bits` bits), |p - q| > 2^(bits/2 - 100), gcd(N, phi) = 1.
 *
 * Owns the prime search. Two threads (the caller and one helper) draw
 * windows of candidates x + 4j from fresh random starts, sieve them by the
 * odd primes below 2^16, and run Miller-Rabin on survivors; the first two
 * primes found by either thread become p and q. Pooling the finds rather
 * than giving each thread its own prime avoids waiting for the slower of two
 * searches. Each window contributes at most one prime, so p and q never come
 * from the same neighbourhood. Must never log or print a candidate.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/fail.h"
#include "crypto/paillier.h"
#include "crypto/paillier_internal.h"

/* Damgård-Landrock-Pomerance bound this many rounds far beneath 2^-128 for
 * random candidates of 1024 and 1536 bits (4-6 rounds would do). */
#define KEYGEN_MR_ROUNDS 16
#define SIEVE_LIMIT 65536
#define WINDOW 4096 /* candidates x + 4j, 0 <= j < WINDOW */

static uint16_t small_primes[6542];
static uint16_t inv4[6542]; /* 4^-1 mod small_primes[i] */
static size_t small_count;
static pthread_once_t primes_once = PTHREAD_ONCE_INIT;

static void primes_setup(void)
{
    static uint8_t composite[SIEVE_LIMIT];
    for (uint32_t i = 2; i < SIEVE_LIMIT; i++) {
        if (composite[i])
            continue;
        for (uint32_t j = i * i; j < SIEVE_LIMIT; j += i)
            composite[j] = 1;
        if (i == 2 || small_count == sizeof small_primes / sizeof small_primes[0])
            continue;
        uint32_t half = (i + 1) / 2; /* 2^-1 mod i */
        small_primes[small_count] = (uint16_t)i;
        inv4[small_count] = (uint16_t)(half * half % i);
        small_count++;
    }
}

int pb_paillier_mr_3mod4(const BIGNUM *w, int rounds, BN_CTX *ctx)
{
    if (BN_is_negative(w) || BN_num_bits(w) < 3 || !BN_is_bit_set(w, 0) || !BN_is_bit_set(w, 1))
        return 0;
    BN_CTX_start(ctx);
    BIGNUM *m = BN_CTX_get(ctx);
    BIGNUM *wm1 = BN_CTX_get(ctx);
    BIGNUM *range = BN_CTX_get(ctx);
    BIGNUM *b = BN_CTX_get(ctx);
    BIGNUM *z = BN_CTX_get(ctx);
    BN_MONT_CTX *mont = BN_MONT_CTX_new();
    int result = -1;
    if (z == NULL || mont == NULL)
        goto done;
    BN_set_flags(m, BN_FLG_CONSTTIME);
    BN_set_flags(b, BN_FLG_CONSTTIME);
    BN_set_flags(z, BN_FLG_CONSTTIME);
    /* w - 1 = 2m with m odd; bases from [2, w - 2]. */
    if (!BN_MONT_CTX_set(mont, w, ctx) || BN_copy(wm1, w) == NULL || !BN_sub_word(wm1, 1) ||
        !BN_rshift1(m, wm1) || BN_copy(range, w) == NULL || !BN_sub_word(range, 3))
        goto done;
    result = 1;
    for (int i = 0; i < rounds && result == 1; i++) {
        if (!BN_priv_rand_range(b, range) || !BN_add_word(b, 2) ||
            !BN_mod_exp_mont_consttime(z, b, m, w, ctx, mont)) {
            result = -1;
            break;
        }
        if (!BN_is_one(z) && BN_cmp(z, wm1) != 0)
            result = 0;
    }
    BN_clear(m);
    BN_clear(wm1);
    BN_clear(b);
    BN_clear(z);
done:
    BN_MONT_CTX_free(mont);
    BN_CTX_end(ctx);
    return result;
}

typedef struct search {
    pthread_mutex_t mu;
    atomic_int done; /* two primes found, or an error */
    int found;
    BIGNUM *primes[2];
    int half_bits;
    pb_status err;
} search;

static void search_stop(search *s, pb_status err)
{
    pthread_mutex_lock(&s->mu);
    if (s->err == PB_OK)
        s->err = err;
    atomic_store(&s->done, 1);
    pthread_mutex_unlock(&s->mu);
}

static void search_deposit(search *s, BIGNUM *prime)
{
    pthread_mutex_lock(&s->mu);
    if (s->found < 2) {
        s->primes[s->found++] = prime;
        prime = NULL;
        if (s->found == 2)
            atomic_store(&s->done, 1);
    }
    pthread_mutex_unlock(&s->mu);
    BN_clear_free(prime);
}

/* Sieves one window: marks[j] = 1 iff x + 4j has a factor below 2^16. */
static int sieve_window(const BIGNUM *x, uint8_t *marks)
{
    memset(marks, 0, WINDOW);
    for (size_t i = 0; i < small_count; i++) {
        uint32_t sp = small_primes[i];
        BN_ULONG r = BN_mod_word(x, sp);
        if (r == (BN_ULONG)-1)
            return 0;
        /* x + 4j = 0 mod sp  <=>  j = -x·4^-1 mod sp */
        uint32_t j = (uint32_t)(((sp - r) % sp) * inv4[i] % sp);
        for (; j < WINDOW; j += sp)
            marks[j] = 1;
    }
    return 1;
}

static void *search_run(void *arg)
{
    search *s = arg;
    BN_CTX *ctx = BN_CTX_secure_new();
    BIGNUM *x = pb_bn_secure_new();
    BIGNUM *cand = pb_bn_secure_new();
    uint8_t *marks = malloc(WINDOW);
    if (ctx == NULL || x == NULL || cand == NULL || marks == NULL) {
        search_stop(s, PB_ERR_NOMEM);
        goto out;
    }
    while (!atomic_load(&s->done)) {
        /* Top two bits set so that p·q has exactly 2·half_bits bits. */
        if (!BN_priv_rand_ex(x, s->half_bits, BN_RAND_TOP_TWO, BN_RAND_BOTTOM_ODD, 0, ctx) ||
            !BN_set_bit(x, 1) || !sieve_window(x, marks)) {
            search_stop(s, PB_ERR_CRYPTO);
            break;
        }
        for (uint32_t j = 0; j < WINDOW && !atomic_load(&s->done); j++) {
            if (marks[j])
                continue;
            if (BN_copy(cand, x) == NULL || !BN_add_word(cand, 4 * j)) {
                search_stop(s, PB_ERR_CRYPTO);
                break;
            }
            if (BN_num_bits(cand) != s->half_bits)
                break;
            int prime = pb_paillier_mr_3mod4(cand, KEYGEN_MR_ROUNDS, ctx);
            if (prime < 0) {
                search_stop(s, PB_ERR_CRYPTO);
                break;
            }
            if (prime) {
                BIGNUM *keep = pb_bn_secure_new();
                if (keep == NULL || BN_copy(keep, cand) == NULL) {
                    BN_clear_free(keep);
                    search_stop(s, PB_ERR_NOMEM);
                    break;
                }
                search_deposit(s, keep);
                break; /* one prime per window */
            }
        }
    }
out:
    if (marks != NULL) {
        OPENSSL_cleanse(marks, WINDOW);
        free(marks);
    }
    BN_clear_free(x);
    BN_clear_free(cand);
    BN_CTX_free(ctx);
    return NULL;
}

/* Finds two primes; on success *a and *b are secure BIGNUMs owned by the caller. */
static pb_status find_two_primes(int half_bits, BIGNUM **a, BIGNUM **b)
{
    search s;
    memset(&s, 0, sizeof s);
    if (pthread_mutex_init(&s.mu, NULL) != 0)
        return pb_fail(PB_ERR_NOMEM, "paillier keygen: mutex init failed");
    atomic_init(&s.done, 0);
    s.half_bits = half_bits;
    s.err = PB_OK;
    pthread_t helper;
    /* Without a helper thread the caller alone finds both primes. */
    int have_helper = pthread_create(&helper, NULL, search_run, &s) == 0;
    search_run(&s);
    if (have_helper)
        pthread_join(helper, NULL);
    pthread_mutex_destroy(&s.mu);
    if (s.err != PB_OK || s.found != 2) {
        BN_clear_free(s.primes[0]);
        BN_clear_free(s.primes[1]);
        return pb_fail(s.err != PB_OK ? s.err : PB_ERR_CRYPTO,
                       "paillier keygen: prime search failed");
    }
    *a = s.primes[0];
    *b = s.primes[1];
    return PB_OK;
}

pb_status pb_paillier_check_pair(const BIGNUM *p, const BIGNUM *q, int bits, int check_gcd,
                                 BN_CTX *ctx)
{
    int half = bits / 2;
    if (BN_num_bits(p) != half || BN_num_bits(q) != half)
        return pb_fail(PB_ERR_PARSE, "paillier primes: not %d bits each", half);
    if (BN_is_negative(p) || BN_is_negative(q) || BN_mod_word(p, 4) != 3 ||
        BN_mod_word(q, 4) != 3)
        return pb_fail(PB_ERR_PARSE, "paillier primes: not 3 mod 4");
    if (BN_cmp(p, q) <= 0)
        return pb_fail(PB_ERR_PARSE, "paillier primes: p must exceed q");
    BN_CTX_start(ctx);
    BIGNUM *d = BN_CTX_get(ctx);
    BIGNUM *n = BN_CTX_get(ctx);
    BIGNUM *phi = BN_CTX_get(ctx);
    BIGNUM *t = BN_CTX_get(ctx);
    pb_status st = PB_OK;
    if (t == NULL || !BN_sub(d, p, q) || !BN_mul(n, p, q, ctx) || BN_copy(phi, p) == NULL ||
        !BN_sub_word(phi, 1) || BN_copy(t, q) == NULL || !BN_sub_word(t, 1) ||
        !BN_mul(phi, phi, t, ctx)) {
        st = pb_fail(PB_ERR_CRYPTO, "paillier primes: arithmetic failed");
        goto done;
    }
    /* FIPS 186-5 A.1.3 distance rule: p - q > 2^(half - 100). */
    if (BN_num_bits(d) <= half - 100) {
        st = pb_fail(PB_ERR_PARSE, "paillier primes: too close together");
        goto done;
    }
    if (BN_num_bits(n) != bits) {
        st = pb_fail(PB_ERR_PARSE, "paillier primes: product is not %d bits", bits);
        goto done;
    }
    if (!check_gcd)
        goto done;
    if (!BN_gcd(t, n, phi, ctx)) {
        st = pb_fail(PB_ERR_CRYPTO, "paillier primes: gcd failed");
        goto done;
    }
    if (!BN_is_one(t))
        st = pb_fail(PB_ERR_PARSE, "paillier primes: gcd(N, phi) != 1");
done:
    if (t != NULL) {
        BN_clear(d);
        BN_clear(phi);
        BN_clear(t);
    }
    BN_CTX_end(ctx);
    return st;
}

pb_status pb_paillier_generate(int bits, pb_paillier_private **out)
{
    *out = NULL;
    if (!pb_paillier_supported_bits(bits))
        return pb_fail(PB_ERR_ARGUMENT, "paillier keygen: unsupported size %d", bits);
    pthread_once(&primes_once, primes_setup);
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "paillier keygen: no BN_CTX");
    /* The pair checks fail with negligible probability; retry rather than
     * weaken them. */
    for (int attempt = 0; attempt < 8; attempt++) {
        BIGNUM *p = NULL, *q = NULL;
        pb_status st = find_two_primes(bits / 2, &p, &q);
        if (st != PB_OK)
            return st;
        if (BN_cmp(p, q) < 0) {
            BIGNUM *tmp = p;
            p = q;
            q = tmp;
        }
        if (pb_paillier_check_pair(p, q, bits, 1, ctx) != PB_OK) {
            BN_clear_free(p);
            BN_clear_free(q);
            continue;
        }
        return pb_paillier_private_from_pq(p, q, out);
    }
    return pb_fail(PB_ERR_CRYPTO, "paillier keygen: no acceptable prime pair");
}
