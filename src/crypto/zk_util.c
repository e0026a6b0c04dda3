/* zk_util.c - two-core rounds, signed exponentiation, symmetric sampling
 * and CRT for the modulus and ring-Pedersen proofs (see zk_util.h).
 *
 * Owns no state beyond one call. Must never branch on a secret exponent's
 * bits or sign, and never log a value.
 */
#include "crypto/zk_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/fail.h"
#include "crypto/bn.h"

/* --- two-core rounds --------------------------------------------------------- */

typedef struct par_job {
    size_t n;
    pb_zku_item_fn fn;
    void *arg;
    atomic_size_t next;
    atomic_int stop;
    pb_status worker_status;
    char worker_message[256];
} par_job;

static pb_status par_run(par_job *job)
{
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL) {
        atomic_store(&job->stop, 1);
        return pb_fail(PB_ERR_NOMEM, "parallel rounds: no BN_CTX");
    }
    while (!atomic_load(&job->stop)) {
        size_t i = atomic_fetch_add(&job->next, 1);
        if (i >= job->n)
            break;
        pb_status st = job->fn(job->arg, i, ctx);
        if (st != PB_OK) {
            atomic_store(&job->stop, 1);
            return st;
        }
    }
    return PB_OK;
}

static void *par_worker(void *p)
{
    par_job *job = p;
    job->worker_status = par_run(job);
    if (job->worker_status != PB_OK) {
        /* The message is thread-local: carry it back to the caller. */
        size_t len = strnlen(pb_last_error(), sizeof job->worker_message - 1);
        memcpy(job->worker_message, pb_last_error(), len);
        job->worker_message[len] = '\0';
    }
    return NULL;
}

pb_status pb_zku_parallel(size_t n, pb_zku_item_fn fn, void *arg)
{
    par_job job;
    memset(&job, 0, sizeof job);
    job.n = n;
    job.fn = fn;
    job.arg = arg;
    atomic_init(&job.next, 0);
    atomic_init(&job.stop, 0);
    job.worker_status = PB_OK;

    pthread_t tid;
    int started = n > 1 && pthread_create(&tid, NULL, par_worker, &job) == 0;
    pb_status st = par_run(&job);
    if (started)
        (void)pthread_join(tid, NULL);
    if (st != PB_OK)
        return st;
    if (job.worker_status != PB_OK)
        return pb_fail(job.worker_status, "%s", job.worker_message);
    return PB_OK;
}

/* --- signed exponentiation --------------------------------------------------- */

#define SELECT_MAX_BYTES 1024 /* moduli up to 8192 bits */

/* out = choose ? b : a, without a branch on `choose`; a, b in [0, m). */
static int ct_select(BIGNUM *out, unsigned choose, const BIGNUM *a, const BIGNUM *b, int len)
{
    uint8_t ba[SELECT_MAX_BYTES], bb[SELECT_MAX_BYTES];
    int ok = BN_bn2binpad(a, ba, len) == len && BN_bn2binpad(b, bb, len) == len;
    if (ok) {
        uint8_t mask = (uint8_t)(0u - (choose & 1u));
        for (int i = 0; i < len; i++)
            ba[i] = (uint8_t)(ba[i] ^ (mask & (ba[i] ^ bb[i])));
        ok = BN_bin2bn(ba, len, out) != NULL;
    }
    OPENSSL_cleanse(ba, sizeof ba);
    OPENSSL_cleanse(bb, sizeof bb);
    return ok;
}

pb_status pb_zku_pow_secret(BIGNUM *out, const BIGNUM *base, const BIGNUM *e, const BIGNUM *m,
                            BN_MONT_CTX *mont, BN_CTX *ctx)
{
    int len = BN_num_bytes(m);
    if (!BN_is_odd(m) || len > SELECT_MAX_BYTES)
        return pb_fail(PB_ERR_ARGUMENT, "secret power: modulus must be odd and at most %d bytes",
                       SELECT_MAX_BYTES);
    BN_CTX_start(ctx);
    BIGNUM *mag = BN_CTX_get(ctx);
    BIGNUM *pos = BN_CTX_get(ctx);
    BIGNUM *neg = BN_CTX_get(ctx);
    pb_status st = PB_OK;
    if (neg == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "secret power: allocation failed");
        goto done;
    }
    BN_set_flags(mag, BN_FLG_CONSTTIME);
    BN_set_flags(pos, BN_FLG_CONSTTIME);
    BN_set_flags(neg, BN_FLG_CONSTTIME);
    unsigned negative = BN_is_negative(e) ? 1u : 0u;
    if (BN_copy(mag, e) == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "secret power: allocation failed");
        goto done;
    }
    BN_set_negative(mag, 0);
    if (!BN_mod_exp_mont_consttime(pos, base, mag, m, ctx, mont)) {
        st = pb_fail(PB_ERR_CRYPTO, "secret power: exponentiation failed");
        goto done;
    }
    /* The inverse is computed whatever the sign, so timing does not tell it. */
    if (BN_mod_inverse(neg, pos, m, ctx) == NULL) {
        st = pb_fail(PB_ERR_ARGUMENT, "secret power: base is not a unit");
        goto done;
    }
    if (!ct_select(out, negative, pos, neg, len))
        st = pb_fail(PB_ERR_CRYPTO, "secret power: select failed");
done:
    BN_CTX_end(ctx);
    return st;
}

pb_status pb_zku_pow_public(BIGNUM *out, const BIGNUM *base, const BIGNUM *e, const BIGNUM *m,
                            BN_MONT_CTX *mont, BN_CTX *ctx)
{
    if (!BN_is_odd(m))
        return pb_fail(PB_ERR_ARGUMENT, "power: modulus must be odd");
    BN_CTX_start(ctx);
    BIGNUM *mag = BN_CTX_get(ctx);
    BIGNUM *tmp = BN_CTX_get(ctx);
    pb_status st = PB_OK;
    if (tmp == NULL || BN_copy(mag, e) == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "power: allocation failed");
        goto done;
    }
    BN_set_negative(mag, 0);
    if (!BN_mod_exp_mont(tmp, base, mag, m, ctx, mont)) {
        st = pb_fail(PB_ERR_CRYPTO, "power: exponentiation failed");
        goto done;
    }
    if (BN_is_negative(e)) {
        if (BN_mod_inverse(out, tmp, m, ctx) == NULL)
            st = pb_fail(PB_ERR_PROOF, "power: base is not a unit");
    } else if (BN_copy(out, tmp) == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "power: allocation failed");
    }
done:
    BN_CTX_end(ctx);
    return st;
}

/* --- sampling and helpers ---------------------------------------------------- */

pb_status pb_zku_random_symmetric(const BIGNUM *bound, BIGNUM *out)
{
    if (BN_is_negative(bound))
        return pb_fail(PB_ERR_ARGUMENT, "random: negative bound");
    BIGNUM *width = BN_new();
    pb_status st = PB_OK;
    if (width == NULL || !BN_lshift1(width, bound) || !BN_add_word(width, 1) ||
        !BN_priv_rand_range(out, width) || !BN_sub(out, out, bound))
        st = pb_fail(PB_ERR_CRYPTO, "random: sampling failed");
    BN_free(width);
    return st;
}

pb_status pb_zku_mul_challenge(BIGNUM *out, const BIGNUM *e, const BIGNUM *x, int xbits)
{
    BIGNUM *e_abs = BN_dup(e);
    if (e_abs == NULL)
        return pb_fail(PB_ERR_NOMEM, "challenge product: allocation failed");
    BN_set_negative(e_abs, 0);
    int ebits = BN_num_bits(e_abs);
    pb_status st = pb_bn_mul_ct(out, x, xbits, e_abs, ebits > 0 ? ebits : 1);
    if (st == PB_OK)
        BN_set_negative(out, BN_is_negative(e));
    BN_free(e_abs);
    return st;
}

pb_status pb_zku_crt(BIGNUM *out, const BIGNUM *xp, const BIGNUM *xq, const BIGNUM *p,
                     const BIGNUM *q, const BIGNUM *qinv, BN_CTX *ctx)
{
    BN_CTX_start(ctx);
    BIGNUM *h = BN_CTX_get(ctx);
    BIGNUM *xq_p = BN_CTX_get(ctx);
    pb_status st = PB_OK;
    if (xq_p == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "CRT: allocation failed");
        goto done;
    }
    BN_set_flags(h, BN_FLG_CONSTTIME);
    BN_set_flags(xq_p, BN_FLG_CONSTTIME);
    /* out = xq + q * ((xp - xq) * qinv mod p). Every value is secret: the
     * difference is taken as xp + p - (xq mod p), which is never negative
     * (a reduction of a negative number branches on its sign), and both
     * products are fixed-width (pb_bn_mul_ct). */
    if (!BN_nnmod(xq_p, xq, p, ctx) || !BN_add(h, xp, p) || !BN_sub(h, h, xq_p) ||
        !BN_nnmod(h, h, p, ctx)) {
        st = pb_fail(PB_ERR_CRYPTO, "CRT: arithmetic failed");
        goto done;
    }
    if ((st = pb_bn_mod_mul_ct(h, h, qinv, p, ctx)) != PB_OK ||
        (st = pb_bn_mul_ct(h, h, BN_num_bits(p), q, BN_num_bits(q))) != PB_OK)
        goto done;
    if (!BN_add(out, h, xq))
        st = pb_fail(PB_ERR_CRYPTO, "CRT: arithmetic failed");
done:
    BN_CTX_end(ctx);
    return st;
}

int pb_zku_is_unit(const BIGNUM *a, const BIGNUM *n, BN_CTX *ctx)
{
    if (BN_is_negative(a) || BN_is_zero(a) || BN_cmp(a, n) >= 0)
        return 0;
    /* Every caller passes public values (challenges, proof elements,
     * published parameters), so a variable-time test is fine: the Kronecker
     * symbol (a/n) is 0 exactly when gcd(a, n) > 1, and OpenSSL's
     * Euclid-style recursion for it is about 4x faster than its
     * constant-time BN_gcd at 2048 bits. Pi^mod makes 80 such checks on
     * each side of every DKG and refresh. */
    int k = BN_kronecker(a, n, ctx);
    return k == 1 || k == -1;
}

size_t pb_zku_bytes_for_bits(int bits)
{
    return bits <= 0 ? 0 : ((size_t)bits + 7) / 8;
}
