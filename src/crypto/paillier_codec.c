/* paillier_codec.c - canonical encodings of Paillier keys.
 *
 * Public key: u32 length, then N big-endian with no leading zero byte.
 * Private key: u32 length + p, then u32 length + q, same rules, p > q.
 * Exactly one encoding per key; decoders refuse everything else, recompute
 * N and every CRT value themselves, and re-check the primes.
 * Must never put p or q into an error message.
 *
 * The private encoding is only ever read back from authenticated (sealed)
 * storage, so its primality check guards against corruption and mix-ups,
 * not against an adversary who chose the numbers; a few Miller-Rabin rounds
 * keep unsealing cheap on the signing path.
 */
#include <openssl/crypto.h>

#include "common/fail.h"
#include "crypto/paillier.h"
#include "crypto/paillier_internal.h"

#define DECODE_MR_ROUNDS 2
#define MAX_MODULUS_BYTES (3072 / 8)

static void put_magnitude(pb_writer *w, const BIGNUM *v)
{
    uint8_t buf[MAX_MODULUS_BYTES];
    int n = BN_num_bytes(v);
    if (n > (int)sizeof buf || BN_is_negative(v)) {
        w->failed = 1;
        return;
    }
    BN_bn2bin(v, buf);
    pb_writer_var(w, buf, (size_t)n);
    OPENSSL_cleanse(buf, sizeof buf);
}

/* A positive integer with no leading zero byte, at most max bytes. */
static pb_status get_magnitude(pb_reader *r, size_t max, BIGNUM *out, const char *what)
{
    size_t n = 0;
    const uint8_t *p = pb_reader_var(r, max, &n);
    if (r->failed)
        return pb_fail(PB_ERR_PARSE, "%s: truncated or oversized", what);
    if (n == 0 || p[0] == 0)
        return pb_fail(PB_ERR_PARSE, "%s: empty or leading zero byte", what);
    if (BN_bin2bn(p, (int)n, out) == NULL)
        return pb_fail(PB_ERR_NOMEM, "%s: allocation failed", what);
    return PB_OK;
}

void pb_paillier_public_encode(pb_writer *w, const pb_paillier_public *pk)
{
    put_magnitude(w, pk->n);
}

pb_status pb_paillier_public_decode(pb_reader *r, int expected_bits, pb_paillier_public **out)
{
    *out = NULL;
    if (!pb_paillier_supported_bits(expected_bits))
        return pb_fail(PB_ERR_ARGUMENT, "paillier public key: unsupported size %d",
                       expected_bits);
    BIGNUM *n = BN_new();
    if (n == NULL)
        return pb_fail(PB_ERR_NOMEM, "paillier public key: allocation failed");
    pb_status st = get_magnitude(r, (size_t)expected_bits / 8, n, "paillier public key");
    if (st == PB_OK)
        st = pb_paillier_public_from_n(n, expected_bits, out);
    BN_free(n);
    return st;
}

void pb_paillier_private_encode(pb_writer *w, const pb_paillier_private *sk)
{
    put_magnitude(w, sk->p);
    put_magnitude(w, sk->q);
}

pb_status pb_paillier_private_decode(pb_reader *r, pb_paillier_private **out)
{
    *out = NULL;
    BN_CTX *ctx = pb_bn_ctx();
    BIGNUM *p = pb_bn_secure_new();
    BIGNUM *q = pb_bn_secure_new();
    pb_status st = PB_OK;
    if (ctx == NULL || p == NULL || q == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "paillier private key: allocation failed");
        goto fail;
    }
    if ((st = get_magnitude(r, MAX_MODULUS_BYTES / 2, p, "paillier private key")) != PB_OK ||
        (st = get_magnitude(r, MAX_MODULUS_BYTES / 2, q, "paillier private key")) != PB_OK)
        goto fail;
    int bits = BN_num_bits(p) * 2;
    if (!pb_paillier_supported_bits(bits)) {
        st = pb_fail(PB_ERR_PARSE, "paillier private key: unsupported prime size");
        goto fail;
    }
    if ((st = pb_paillier_check_pair(p, q, bits, 0, ctx)) != PB_OK) {
        st = pb_fail_context(st, "paillier private key");
        goto fail;
    }
    int pp = pb_paillier_mr_3mod4(p, DECODE_MR_ROUNDS, ctx);
    int qp = pb_paillier_mr_3mod4(q, DECODE_MR_ROUNDS, ctx);
    if (pp < 0 || qp < 0) {
        st = pb_fail(PB_ERR_CRYPTO, "paillier private key: primality test failed");
        goto fail;
    }
    if (!pp || !qp) {
        st = pb_fail(PB_ERR_PARSE, "paillier private key: a factor is not prime");
        goto fail;
    }
    return pb_paillier_private_from_pq(p, q, out);
fail:
    BN_clear_free(p);
    BN_clear_free(q);
    return st;
}
