/* bn.c - BIGNUM helpers: canonical signed encoding, secure-heap allocation,
 * sampling and the per-thread BN_CTX.
 *
 * Owns the process-wide secure-heap setup. Must never log or print a value,
 * and must never hand out a secret temporary that is not cleared on free.
 */
#include "crypto/bn.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/fail.h"

/* Enough for every secret of hundreds of live Paillier keys plus the
 * per-thread BN_CTX pools; mlock failure is tolerated by OpenSSL (the heap
 * still works, only unlocked). */
#define PB_SECURE_HEAP_BYTES (4u << 20)
#define PB_SECURE_HEAP_MIN 32

static pthread_once_t heap_once = PTHREAD_ONCE_INIT;

static void heap_setup(void)
{
    if (!CRYPTO_secure_malloc_initialized())
        (void)CRYPTO_secure_malloc_init(PB_SECURE_HEAP_BYTES, PB_SECURE_HEAP_MIN);
}

void pb_secure_heap_init(void)
{
    (void)pthread_once(&heap_once, heap_setup);
}

BIGNUM *pb_bn_secure_new(void)
{
    pb_secure_heap_init();
    BIGNUM *bn = BN_secure_new();
    if (bn != NULL)
        BN_set_flags(bn, BN_FLG_CONSTTIME);
    return bn;
}

/* --- per-thread BN_CTX ------------------------------------------------------ */

static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;
static int ctx_key_ok;

static void ctx_destroy(void *p)
{
    BN_CTX_free(p);
}

static void ctx_key_setup(void)
{
    ctx_key_ok = pthread_key_create(&ctx_key, ctx_destroy) == 0;
}

BN_CTX *pb_bn_ctx(void)
{
    (void)pthread_once(&ctx_once, ctx_key_setup);
    if (!ctx_key_ok)
        return NULL;
    BN_CTX *ctx = pthread_getspecific(ctx_key);
    if (ctx != NULL)
        return ctx;
    pb_secure_heap_init();
    ctx = BN_CTX_secure_new();
    if (ctx == NULL)
        return NULL;
    if (pthread_setspecific(ctx_key, ctx) != 0) {
        BN_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* --- canonical encoding ---------------------------------------------------- */

void pb_bn_encode(pb_writer *w, const BIGNUM *bn)
{
    int n = BN_num_bytes(bn);
    uint8_t small[512];
    uint8_t *buf = small;
    if ((size_t)n > sizeof small) {
        buf = malloc((size_t)n);
        if (buf == NULL) {
            w->failed = 1;
            return;
        }
    }
    /* BN_num_bytes is 0 for zero, so zero is the empty magnitude. */
    int len = BN_bn2bin(bn, buf);
    pb_writer_u8(w, (BN_is_negative(bn) && !BN_is_zero(bn)) ? 1 : 0);
    pb_writer_var(w, buf, (size_t)len);
    /* The value may be a secret (private-key encoding). */
    OPENSSL_cleanse(buf, (size_t)n);
    if (buf != small)
        free(buf);
}

pb_status pb_bn_decode(pb_reader *r, size_t max_bytes, BIGNUM *out)
{
    uint8_t sign = pb_reader_u8(r);
    size_t n = 0;
    const uint8_t *p = pb_reader_var(r, max_bytes, &n);
    if (r->failed)
        return pb_fail(PB_ERR_PARSE, "integer: truncated or longer than %zu bytes", max_bytes);
    if (sign > 1)
        return pb_fail(PB_ERR_PARSE, "integer: sign byte %u", (unsigned)sign);
    if (n > 0 && p[0] == 0)
        return pb_fail(PB_ERR_PARSE, "integer: leading zero byte");
    if (n == 0 && sign == 1)
        return pb_fail(PB_ERR_PARSE, "integer: negative zero");
    if (n > (size_t)INT32_MAX || BN_bin2bn(p, (int)n, out) == NULL)
        return pb_fail(PB_ERR_NOMEM, "integer: allocation failed");
    BN_set_negative(out, sign);
    return PB_OK;
}

pb_status pb_bn_decode_mod(pb_reader *r, const BIGNUM *bound, BIGNUM *out)
{
    pb_status st = pb_bn_decode(r, (size_t)BN_num_bytes(bound), out);
    if (st != PB_OK)
        return st;
    if (BN_is_negative(out) || BN_cmp(out, bound) >= 0)
        return pb_fail(PB_ERR_PARSE, "integer: outside [0, bound)");
    return PB_OK;
}

/* --- sampling -------------------------------------------------------------- */

pb_status pb_bn_random_unit(const BIGNUM *n, BIGNUM *out)
{
    if (BN_is_negative(n) || BN_cmp(n, BN_value_one()) <= 0)
        return pb_fail(PB_ERR_ARGUMENT, "random unit: modulus must exceed 1");
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "random unit: no BN_CTX");
    BN_CTX_start(ctx);
    BIGNUM *g = BN_CTX_get(ctx);
    pb_status st = PB_ERR_CRYPTO;
    if (g == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "random unit: allocation failed");
        goto done;
    }
    /* For the moduli used here a non-unit is found with negligible
     * probability; the bound only stops a degenerate modulus looping forever. */
    for (int tries = 0; tries < 256; tries++) {
        if (!BN_priv_rand_range(out, n)) {
            st = pb_fail(PB_ERR_CRYPTO, "random unit: RNG failed");
            goto done;
        }
        if (BN_is_zero(out))
            continue;
        if (!BN_gcd(g, out, n, ctx)) {
            st = pb_fail(PB_ERR_CRYPTO, "random unit: gcd failed");
            goto done;
        }
        if (BN_is_one(g)) {
            st = PB_OK;
            goto done;
        }
    }
    st = pb_fail(PB_ERR_ARGUMENT, "random unit: no unit found (modulus has small factors)");
done:
    BN_CTX_end(ctx);
    return st;
}

pb_status pb_bn_random_signed(int bits, BIGNUM *out)
{
    if (bits < 0 || bits > (1 << 20))
        return pb_fail(PB_ERR_ARGUMENT, "random signed: bad bit count %d", bits);
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "random signed: no BN_CTX");
    BN_CTX_start(ctx);
    BIGNUM *half = BN_CTX_get(ctx);
    BIGNUM *range = BN_CTX_get(ctx);
    pb_status st = PB_OK;
    /* Uniform in [0, 2^(bits+1)], shifted down by 2^bits. */
    if (range == NULL || !BN_set_word(half, 0) || !BN_set_bit(half, bits) ||
        !BN_lshift1(range, half) || !BN_add_word(range, 1) ||
        !BN_priv_rand_range(out, range) || !BN_sub(out, out, half))
        st = pb_fail(PB_ERR_CRYPTO, "random signed: sampling failed");
    BN_CTX_end(ctx);
    return st;
}

int pb_bn_in_signed_range(const BIGNUM *a, int bits)
{
    if (bits < 0)
        return 0;
    int nb = BN_num_bits(a);
    if (nb <= bits)
        return 1;
    if (nb > bits + 1)
        return 0;
    /* |a| has exactly bits+1 bits: in range only if it is 2^bits itself. */
    for (int i = 0; i < bits; i++)
        if (BN_is_bit_set(a, i))
            return 0;
    return 1;
}

/* --- constant-time multiplication ------------------------------------------- */

/* Little-endian 32-bit limbs of a value below 2^(32*n), through the
 * fixed-width (constant-time) byte conversion. */
static int to_limbs(const BIGNUM *a, uint32_t *limbs, size_t n, uint8_t *scratch)
{
    if (BN_bn2lebinpad(a, scratch, (int)(4 * n)) < 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        limbs[i] = (uint32_t)scratch[4 * i] | (uint32_t)scratch[4 * i + 1] << 8 |
                   (uint32_t)scratch[4 * i + 2] << 16 | (uint32_t)scratch[4 * i + 3] << 24;
    return 1;
}

pb_status pb_bn_mul_ct(BIGNUM *r, const BIGNUM *a, int abits, const BIGNUM *b, int bbits)
{
    if (abits <= 0 || bbits <= 0 || abits > (1 << 16) || bbits > (1 << 16))
        return pb_fail(PB_ERR_ARGUMENT, "constant-time multiply: bad widths");
    if (BN_is_negative(a) || BN_is_negative(b))
        return pb_fail(PB_ERR_ARGUMENT, "constant-time multiply: negative operand");
    size_t na = ((size_t)abits + 31) / 32, nb = ((size_t)bbits + 31) / 32, nr = na + nb;
    /* Limbs of a, b and the product, then the byte scratch (as large as
     * the product). All of it holds secrets: secure heap, cleansed. */
    size_t words = na + nb + nr, total = 4 * words + 4 * nr;
    pb_secure_heap_init();
    uint8_t *mem = OPENSSL_secure_zalloc(total);
    if (mem == NULL)
        return pb_fail(PB_ERR_NOMEM, "constant-time multiply: allocation failed");
    uint32_t *la = (uint32_t *)(void *)mem, *lb = la + na, *lr = lb + nb;
    uint8_t *scratch = mem + 4 * words;
    pb_status st = PB_OK;
    if (!to_limbs(a, la, na, scratch) || !to_limbs(b, lb, nb, scratch)) {
        st = pb_fail(PB_ERR_ARGUMENT, "constant-time multiply: operand wider than declared");
        goto done;
    }
    for (size_t i = 0; i < na; i++) {
        uint64_t carry = 0;
        for (size_t j = 0; j < nb; j++) {
            uint64_t t = (uint64_t)la[i] * lb[j] + lr[i + j] + carry;
            lr[i + j] = (uint32_t)t;
            carry = t >> 32;
        }
        lr[i + nb] = (uint32_t)carry;
    }
    for (size_t i = 0; i < nr; i++) {
        scratch[4 * i] = (uint8_t)lr[i];
        scratch[4 * i + 1] = (uint8_t)(lr[i] >> 8);
        scratch[4 * i + 2] = (uint8_t)(lr[i] >> 16);
        scratch[4 * i + 3] = (uint8_t)(lr[i] >> 24);
    }
    BN_set_flags(r, BN_FLG_CONSTTIME);
    if (BN_lebin2bn(scratch, (int)(4 * nr), r) == NULL)
        st = pb_fail(PB_ERR_CRYPTO, "constant-time multiply: conversion failed");
done:
    OPENSSL_secure_clear_free(mem, total);
    return st;
}

pb_status pb_bn_mod_mul_ct(BIGNUM *r, const BIGNUM *a, const BIGNUM *b, const BIGNUM *m,
                           BN_CTX *ctx)
{
    int bits = BN_num_bits(m);
    BN_CTX_start(ctx);
    BIGNUM *prod = BN_CTX_get(ctx);
    pb_status st = PB_OK;
    if (prod == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "constant-time multiply: allocation failed");
        goto done;
    }
    if ((st = pb_bn_mul_ct(prod, a, bits, b, bits)) != PB_OK)
        goto done;
    BN_set_flags(r, BN_FLG_CONSTTIME);
    if (!BN_nnmod(r, prod, m, ctx))
        st = pb_fail(PB_ERR_CRYPTO, "constant-time multiply: reduction failed");
    BN_clear(prod);
done:
    BN_CTX_end(ctx);
    return st;
}
