/* ring_pedersen.c - generation, checks and encodings of a node's
 * ring-Pedersen parameters (N^, s, t) (see ring_pedersen.h).
 *
 * Owns the safe-prime search (one prime per core, progress reported on the
 * caller's thread) and the secret (p^, q^, lambda, phi(N^)), which lives in
 * the secure heap with BN_FLG_CONSTTIME. Must never log or return the
 * factors or lambda except through pb_rped_secret_encode (for sealing).
 */
#include "crypto/ring_pedersen.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fail.h"
#include "crypto/bn.h"
#include "crypto/zk_util.h"

#define RPED_BITS_MIN 2048
#define RPED_BITS_MAX 4096
#define PROGRESS_INTERVAL_MS 200

struct pb_rped_secret {
    pb_rped_public pub;
    BIGNUM *p;      /* safe prime p^ */
    BIGNUM *q;      /* safe prime q^ */
    BIGNUM *lambda; /* s = t^lambda, in [0, phi/4) */
    BIGNUM *phi;    /* (p^-1)(q^-1) */
};

static int bits_supported(int bits)
{
    return bits >= RPED_BITS_MIN && bits <= RPED_BITS_MAX && bits % 2 == 0;
}

static pb_rped_secret *secret_new(void)
{
    pb_rped_secret *sec = calloc(1, sizeof *sec);
    if (sec == NULL)
        return NULL;
    sec->pub.n_hat = BN_new();
    sec->pub.s = BN_new();
    sec->pub.t = BN_new();
    sec->p = pb_bn_secure_new();
    sec->q = pb_bn_secure_new();
    sec->lambda = pb_bn_secure_new();
    sec->phi = pb_bn_secure_new();
    if (!sec->pub.n_hat || !sec->pub.s || !sec->pub.t || !sec->p || !sec->q || !sec->lambda ||
        !sec->phi) {
        pb_rped_secret_free(sec);
        return NULL;
    }
    return sec;
}

void pb_rped_secret_free(pb_rped_secret *sec)
{
    if (sec == NULL)
        return;
    BN_free(sec->pub.n_hat);
    BN_free(sec->pub.s);
    BN_free(sec->pub.t);
    BN_clear_free(sec->p);
    BN_clear_free(sec->q);
    BN_clear_free(sec->lambda);
    BN_clear_free(sec->phi);
    free(sec);
}

const pb_rped_public *pb_rped_public_of(const pb_rped_secret *sec) { return &sec->pub; }
const BIGNUM *pb_rped_lambda(const pb_rped_secret *sec) { return sec->lambda; }
const BIGNUM *pb_rped_phi(const pb_rped_secret *sec) { return sec->phi; }
const BIGNUM *pb_rped_p(const pb_rped_secret *sec) { return sec->p; }
const BIGNUM *pb_rped_q(const pb_rped_secret *sec) { return sec->q; }

/* --- safe-prime search -------------------------------------------------------- */

typedef struct prime_job {
    const char *what;
    int bits;
    BIGNUM *out;
    atomic_int candidates;
    atomic_int *cancel;
    int ok;
    /* Set only when the search runs on the caller's thread. */
    pb_progress_fn inline_progress;
    void *inline_ctx;
    /* Completion signalling to the caller's thread. */
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
    int *done;
} prime_job;

static int prime_cb(int stage, int n, BN_GENCB *cb)
{
    prime_job *job = BN_GENCB_get_arg(cb);
    if (stage == 0) {
        atomic_store(&job->candidates, n + 1);
        if (job->inline_progress)
            job->inline_progress(job->inline_ctx, job->what, n + 1);
    }
    /* Returning 0 aborts this search once the other one failed. */
    return !atomic_load(job->cancel);
}

static void prime_search(prime_job *job)
{
    BN_GENCB *cb = BN_GENCB_new();
    BN_CTX *ctx = BN_CTX_secure_new();
    job->ok = 0;
    if (cb != NULL && ctx != NULL) {
        BN_GENCB_set(cb, prime_cb, job);
        job->ok = BN_generate_prime_ex2(job->out, job->bits, 1, NULL, NULL, cb, ctx);
    }
    if (!job->ok)
        atomic_store(job->cancel, 1);
    BN_GENCB_free(cb);
    BN_CTX_free(ctx);
}

static void *prime_thread(void *p)
{
    prime_job *job = p;
    prime_search(job);
    pthread_mutex_lock(job->lock);
    (*job->done)++;
    pthread_cond_signal(job->cond);
    pthread_mutex_unlock(job->lock);
    return NULL;
}

/* Two safe primes of `half` bits each, searched concurrently. */
static pb_status two_safe_primes(int half, BIGNUM *p, BIGNUM *q, pb_progress_fn progress,
                                 void *progress_ctx)
{
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond;
    pthread_condattr_t cattr;
    int done = 0;
    atomic_int cancel;
    atomic_init(&cancel, 0);
    prime_job jobs[2];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 2; i++) {
        jobs[i].what = i == 0 ? "p" : "q";
        jobs[i].bits = half;
        jobs[i].out = i == 0 ? p : q;
        atomic_init(&jobs[i].candidates, 0);
        jobs[i].cancel = &cancel;
        jobs[i].lock = &lock;
        jobs[i].cond = &cond;
        jobs[i].done = &done;
    }
    if (pthread_condattr_init(&cattr) != 0)
        return pb_fail(PB_ERR_NOMEM, "ring-Pedersen: condition variable");
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    int cond_ok = pthread_cond_init(&cond, &cattr) == 0;
    pthread_condattr_destroy(&cattr);
    if (!cond_ok)
        return pb_fail(PB_ERR_NOMEM, "ring-Pedersen: condition variable");

    pthread_t tids[2];
    int started[2] = {0, 0};
    for (int i = 0; i < 2; i++)
        started[i] = pthread_create(&tids[i], NULL, prime_thread, &jobs[i]) == 0;

    if (started[0] && started[1]) {
        int last[2] = {0, 0};
        pthread_mutex_lock(&lock);
        while (done < 2) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_nsec += PROGRESS_INTERVAL_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec += 1;
                until.tv_nsec -= 1000000000L;
            }
            (void)pthread_cond_timedwait(&cond, &lock, &until);
            if (progress == NULL)
                continue;
            /* Report outside the lock, on the caller's thread only. */
            pthread_mutex_unlock(&lock);
            for (int i = 0; i < 2; i++) {
                int c = atomic_load(&jobs[i].candidates);
                if (c != last[i]) {
                    last[i] = c;
                    progress(progress_ctx, jobs[i].what, c);
                }
            }
            pthread_mutex_lock(&lock);
        }
        pthread_mutex_unlock(&lock);
        /* The final counts, so even a quick search is reported once. */
        for (int i = 0; progress != NULL && i < 2; i++) {
            int c = atomic_load(&jobs[i].candidates);
            if (c != last[i])
                progress(progress_ctx, jobs[i].what, c);
        }
    } else {
        /* No second core available: finish whatever was not started here. */
        for (int i = 0; i < 2; i++) {
            if (started[i])
                continue;
            jobs[i].inline_progress = progress;
            jobs[i].inline_ctx = progress_ctx;
            prime_search(&jobs[i]);
        }
    }
    for (int i = 0; i < 2; i++)
        if (started[i])
            (void)pthread_join(tids[i], NULL);
    pthread_cond_destroy(&cond);
    pthread_mutex_destroy(&lock);
    if (!jobs[0].ok || !jobs[1].ok)
        return pb_fail(PB_ERR_CRYPTO, "ring-Pedersen: safe prime generation failed");
    return PB_OK;
}

/* --- derived values ------------------------------------------------------------ */

/* From p, q, t and lambda set in sec: N^, phi, s, and the structural checks. */
static pb_status secret_complete(pb_rped_secret *sec, BN_CTX *ctx)
{
    pb_status st = PB_OK;
    BN_CTX_start(ctx);
    BIGNUM *pm1 = BN_CTX_get(ctx);
    BIGNUM *qm1 = BN_CTX_get(ctx);
    BIGNUM *quarter = BN_CTX_get(ctx);
    if (quarter == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "ring-Pedersen: allocation failed");
        goto done;
    }
    BN_set_flags(pm1, BN_FLG_CONSTTIME);
    BN_set_flags(qm1, BN_FLG_CONSTTIME);
    BN_set_flags(quarter, BN_FLG_CONSTTIME);
    if (!BN_mul(sec->pub.n_hat, sec->p, sec->q, ctx) || !BN_sub(pm1, sec->p, BN_value_one()) ||
        !BN_sub(qm1, sec->q, BN_value_one()) || !BN_mul(sec->phi, pm1, qm1, ctx) ||
        !BN_rshift(quarter, sec->phi, 2)) {
        st = pb_fail(PB_ERR_CRYPTO, "ring-Pedersen: arithmetic failed");
        goto done;
    }
    sec->pub.bits = BN_num_bits(sec->pub.n_hat);
    if (BN_is_negative(sec->lambda) || BN_cmp(sec->lambda, quarter) >= 0) {
        st = pb_fail(PB_ERR_PARSE, "ring-Pedersen: lambda out of range");
        goto done;
    }
    if (!BN_mod_exp_mont_consttime(sec->pub.s, sec->pub.t, sec->lambda, sec->pub.n_hat, ctx,
                                   NULL)) {
        st = pb_fail(PB_ERR_CRYPTO, "ring-Pedersen: exponentiation failed");
        goto done;
    }
    st = pb_rped_public_check(&sec->pub, sec->pub.bits);
done:
    BN_CTX_end(ctx);
    return st;
}

/* t = tau^2 with t - 1 a unit too, so t generates the whole group of
 * squares (order p'q') rather than a subgroup of order p' or q'. */
static pb_status choose_t(pb_rped_secret *sec, BN_CTX *ctx)
{
    pb_status st = PB_OK;
    BN_CTX_start(ctx);
    BIGNUM *tau = BN_CTX_get(ctx);
    BIGNUM *tm1 = BN_CTX_get(ctx);
    if (tm1 == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "ring-Pedersen: allocation failed");
        goto done;
    }
    for (int tries = 0;; tries++) {
        if (tries == 64) {
            st = pb_fail(PB_ERR_CRYPTO, "ring-Pedersen: no generator found");
            goto done;
        }
        st = pb_bn_random_unit(sec->pub.n_hat, tau);
        if (st != PB_OK)
            goto done;
        if (!BN_mod_sqr(sec->pub.t, tau, sec->pub.n_hat, ctx) ||
            !BN_sub(tm1, sec->pub.t, BN_value_one())) {
            st = pb_fail(PB_ERR_CRYPTO, "ring-Pedersen: arithmetic failed");
            goto done;
        }
        if (!BN_is_zero(tm1) && pb_zku_is_unit(tm1, sec->pub.n_hat, ctx))
            break;
    }
done:
    BN_clear(tau);
    BN_CTX_end(ctx);
    return st;
}

pb_status pb_rped_generate(int bits, pb_progress_fn progress, void *progress_ctx,
                           pb_rped_secret **out)
{
    *out = NULL;
    if (!bits_supported(bits))
        return pb_fail(PB_ERR_ARGUMENT, "ring-Pedersen: unsupported size %d bits", bits);
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "ring-Pedersen: no BN_CTX");
    pb_rped_secret *sec = secret_new();
    if (sec == NULL)
        return pb_fail(PB_ERR_NOMEM, "ring-Pedersen: allocation failed");
    pb_status st = PB_OK;
    for (;;) {
        st = two_safe_primes(bits / 2, sec->p, sec->q, progress, progress_ctx);
        if (st != PB_OK)
            goto fail;
        if (!BN_mul(sec->pub.n_hat, sec->p, sec->q, ctx)) {
            st = pb_fail(PB_ERR_CRYPTO, "ring-Pedersen: arithmetic failed");
            goto fail;
        }
        /* Equal primes are astronomically unlikely but would be fatal. */
        if (BN_num_bits(sec->pub.n_hat) == bits && BN_cmp(sec->p, sec->q) != 0)
            break;
    }
    st = choose_t(sec, ctx);
    if (st != PB_OK)
        goto fail;
    BN_CTX_start(ctx);
    BIGNUM *quarter = BN_CTX_get(ctx);
    BIGNUM *pm1 = BN_CTX_get(ctx);
    BIGNUM *qm1 = BN_CTX_get(ctx);
    int ok = qm1 != NULL;
    if (ok) {
        BN_set_flags(quarter, BN_FLG_CONSTTIME);
        ok = BN_sub(pm1, sec->p, BN_value_one()) && BN_sub(qm1, sec->q, BN_value_one()) &&
             BN_mul(quarter, pm1, qm1, ctx) && BN_rshift(quarter, quarter, 2);
    }
    /* lambda in [2, phi/4): 0 and 1 would make s equal 1 or t. */
    for (int tries = 0; ok && tries < 64; tries++) {
        ok = BN_priv_rand_range(sec->lambda, quarter);
        if (ok && BN_cmp(sec->lambda, BN_value_one()) > 0)
            break;
    }
    BN_clear(quarter);
    BN_CTX_end(ctx);
    if (!ok) {
        st = pb_fail(PB_ERR_CRYPTO, "ring-Pedersen: sampling lambda failed");
        goto fail;
    }
    st = secret_complete(sec, ctx);
    if (st != PB_OK)
        goto fail;
    *out = sec;
    return PB_OK;
fail:
    pb_rped_secret_free(sec);
    return st;
}

/* --- public parameters --------------------------------------------------------- */

pb_rped_public *pb_rped_public_dup(const pb_rped_public *pub)
{
    pb_rped_public *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->n_hat = BN_dup(pub->n_hat);
    d->s = BN_dup(pub->s);
    d->t = BN_dup(pub->t);
    d->bits = pub->bits;
    if (!d->n_hat || !d->s || !d->t) {
        pb_rped_public_free(d);
        return NULL;
    }
    return d;
}

void pb_rped_public_free(pb_rped_public *pub)
{
    if (pub == NULL)
        return;
    BN_free(pub->n_hat);
    BN_free(pub->s);
    BN_free(pub->t);
    free(pub);
}

pb_status pb_rped_public_check(const pb_rped_public *pub, int expected_bits)
{
    if (pub == NULL || pub->n_hat == NULL || pub->s == NULL || pub->t == NULL)
        return pb_fail(PB_ERR_ARGUMENT, "ring-Pedersen: missing parameters");
    if (!bits_supported(expected_bits))
        return pb_fail(PB_ERR_ARGUMENT, "ring-Pedersen: unsupported size %d bits",
                       expected_bits);
    if (BN_is_negative(pub->n_hat) || BN_num_bits(pub->n_hat) != expected_bits ||
        pub->bits != expected_bits)
        return pb_fail(PB_ERR_PROOF, "ring-Pedersen: N^ is not %d bits", expected_bits);
    if (!BN_is_odd(pub->n_hat))
        return pb_fail(PB_ERR_PROOF, "ring-Pedersen: N^ is even");
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "ring-Pedersen: no BN_CTX");
    if (!pb_zku_is_unit(pub->s, pub->n_hat, ctx) || !pb_zku_is_unit(pub->t, pub->n_hat, ctx))
        return pb_fail(PB_ERR_PROOF, "ring-Pedersen: s or t is not a unit mod N^");
    if (BN_is_one(pub->t) || BN_is_one(pub->s) || BN_cmp(pub->s, pub->t) == 0)
        return pb_fail(PB_ERR_PROOF, "ring-Pedersen: degenerate s or t");
    /* t = -1 generates only {1, -1}. */
    BN_CTX_start(ctx);
    BIGNUM *minus_one = BN_CTX_get(ctx);
    int degenerate = minus_one == NULL || !BN_sub(minus_one, pub->n_hat, BN_value_one()) ||
                     BN_cmp(pub->t, minus_one) == 0 || BN_cmp(pub->s, minus_one) == 0;
    BN_CTX_end(ctx);
    if (degenerate)
        return pb_fail(PB_ERR_PROOF, "ring-Pedersen: degenerate s or t");
    return PB_OK;
}

void pb_rped_public_encode(pb_writer *w, const pb_rped_public *pub)
{
    pb_bn_encode(w, pub->n_hat);
    pb_bn_encode(w, pub->s);
    pb_bn_encode(w, pub->t);
}

pb_status pb_rped_public_decode(pb_reader *r, int expected_bits, pb_rped_public **out)
{
    *out = NULL;
    if (!bits_supported(expected_bits))
        return pb_fail(PB_ERR_ARGUMENT, "ring-Pedersen: unsupported size %d bits",
                       expected_bits);
    pb_rped_public *pub = calloc(1, sizeof *pub);
    if (pub == NULL)
        return pb_fail(PB_ERR_NOMEM, "ring-Pedersen: allocation failed");
    pub->n_hat = BN_new();
    pub->s = BN_new();
    pub->t = BN_new();
    pb_status st = PB_OK;
    if (!pub->n_hat || !pub->s || !pub->t) {
        st = pb_fail(PB_ERR_NOMEM, "ring-Pedersen: allocation failed");
        goto fail;
    }
    st = pb_bn_decode(r, pb_zku_bytes_for_bits(expected_bits), pub->n_hat);
    if (st != PB_OK)
        goto fail;
    if (BN_is_negative(pub->n_hat) || BN_num_bits(pub->n_hat) != expected_bits) {
        st = pb_fail(PB_ERR_PARSE, "ring-Pedersen: N^ is not %d bits", expected_bits);
        goto fail;
    }
    pub->bits = expected_bits;
    if ((st = pb_bn_decode_mod(r, pub->n_hat, pub->s)) != PB_OK ||
        (st = pb_bn_decode_mod(r, pub->n_hat, pub->t)) != PB_OK)
        goto fail;
    st = pb_rped_public_check(pub, expected_bits);
    if (st != PB_OK)
        goto fail;
    *out = pub;
    return PB_OK;
fail:
    pb_rped_public_free(pub);
    return pb_fail_context(st, "ring-Pedersen parameters");
}

/* --- secret -------------------------------------------------------------------- */

void pb_rped_secret_encode(pb_writer *w, const pb_rped_secret *sec)
{
    pb_bn_encode(w, sec->p);
    pb_bn_encode(w, sec->q);
    pb_bn_encode(w, sec->pub.t);
    pb_bn_encode(w, sec->lambda);
}

pb_status pb_rped_secret_decode(pb_reader *r, pb_rped_secret **out)
{
    *out = NULL;
    pb_rped_secret *sec = secret_new();
    if (sec == NULL)
        return pb_fail(PB_ERR_NOMEM, "ring-Pedersen: allocation failed");
    BN_CTX *ctx = pb_bn_ctx();
    pb_status st = PB_OK;
    if (ctx == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "ring-Pedersen: no BN_CTX");
        goto fail;
    }
    size_t half_bytes = pb_zku_bytes_for_bits(RPED_BITS_MAX / 2);
    if ((st = pb_bn_decode(r, half_bytes, sec->p)) != PB_OK ||
        (st = pb_bn_decode(r, half_bytes, sec->q)) != PB_OK)
        goto fail;
    int half = BN_num_bits(sec->p);
    /* Safe primes are 3 mod 4; primality itself is not re-tested (the record
     * is sealed), only the shape that the proofs rely on. */
    if (BN_is_negative(sec->p) || BN_is_negative(sec->q) || BN_num_bits(sec->q) != half ||
        !bits_supported(2 * half) || BN_mod_word(sec->p, 4) != 3 || BN_mod_word(sec->q, 4) != 3 ||
        BN_cmp(sec->p, sec->q) == 0) {
        st = pb_fail(PB_ERR_PARSE, "ring-Pedersen secret: malformed factors");
        goto fail;
    }
    if (!BN_mul(sec->pub.n_hat, sec->p, sec->q, ctx)) {
        st = pb_fail(PB_ERR_CRYPTO, "ring-Pedersen: arithmetic failed");
        goto fail;
    }
    if (BN_num_bits(sec->pub.n_hat) != 2 * half) {
        st = pb_fail(PB_ERR_PARSE, "ring-Pedersen secret: N^ has the wrong size");
        goto fail;
    }
    if ((st = pb_bn_decode_mod(r, sec->pub.n_hat, sec->pub.t)) != PB_OK ||
        (st = pb_bn_decode(r, pb_zku_bytes_for_bits(2 * half), sec->lambda)) != PB_OK)
        goto fail;
    st = secret_complete(sec, ctx);
    if (st != PB_OK)
        goto fail;
    *out = sec;
    return PB_OK;
fail:
    pb_rped_secret_free(sec);
    return pb_fail_context(st, "ring-Pedersen secret");
}
