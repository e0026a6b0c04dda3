/* ec.c - secp256k1 scalars and points on top of libsecp256k1.
 *
 * Owns the process-wide randomized libsecp256k1 context and the group order
 * as a BIGNUM. Scalar arithmetic uses libsecp256k1's constant-time seckey
 * tweaks; those refuse zero, so zero operands and zero results are handled
 * here explicitly (branching only on "is zero", which the protocols treat as
 * public anyway). a·P goes through the ECDH module's constant-time ladder.
 * Must never print or log a scalar.
 */
#include "crypto/ec.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1_ecdh.h>

#include "common/fail.h"
#include "crypto/bn.h"

static pthread_once_t ec_once = PTHREAD_ONCE_INIT;
static secp256k1_context *ec_ctx;
static BIGNUM *ec_order;
static BIGNUM *ec_order_minus_2;

static const uint8_t ORDER_BYTES[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
    0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

static void ec_setup(void)
{
    ec_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (ec_ctx != NULL) {
        /* Blinding of ecmult_gen against side channels. */
        uint8_t seed[32];
        if (RAND_priv_bytes(seed, sizeof seed) != 1 ||
            !secp256k1_context_randomize(ec_ctx, seed)) {
            secp256k1_context_destroy(ec_ctx);
            ec_ctx = NULL;
        }
        OPENSSL_cleanse(seed, sizeof seed);
    }
    ec_order = BN_bin2bn(ORDER_BYTES, 32, NULL);
    ec_order_minus_2 = BN_dup(ec_order);
    if (ec_order_minus_2 != NULL && !BN_sub_word(ec_order_minus_2, 2)) {
        BN_free(ec_order_minus_2);
        ec_order_minus_2 = NULL;
    }
    if (ec_order != NULL)
        BN_set_flags(ec_order, BN_FLG_CONSTTIME);
}

const secp256k1_context *pb_secp256k1(void)
{
    (void)pthread_once(&ec_once, ec_setup);
    /* Without a context nothing in this layer can be trusted. */
    if (ec_ctx == NULL || ec_order == NULL || ec_order_minus_2 == NULL)
        abort();
    return ec_ctx;
}

const BIGNUM *pb_ec_order(void)
{
    (void)pb_secp256k1();
    return ec_order;
}

/* --- scalars --------------------------------------------------------------- */

static const pb_scalar SCALAR_ZERO;

pb_status pb_scalar_random(pb_scalar *out)
{
    const secp256k1_context *ctx = pb_secp256k1();
    for (int tries = 0; tries < 64; tries++) {
        if (RAND_priv_bytes(out->b, PB_SCALAR_BYTES) != 1)
            return pb_fail(PB_ERR_CRYPTO, "random scalar: RNG failed");
        if (secp256k1_ec_seckey_verify(ctx, out->b))
            return PB_OK;
    }
    pb_scalar_wipe(out);
    return pb_fail(PB_ERR_CRYPTO, "random scalar: RNG keeps producing out-of-range values");
}

int pb_scalar_is_zero(const pb_scalar *a)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < PB_SCALAR_BYTES; i++)
        acc |= a->b[i];
    return acc == 0;
}

int pb_scalar_equal(const pb_scalar *a, const pb_scalar *b)
{
    return CRYPTO_memcmp(a->b, b->b, PB_SCALAR_BYTES) == 0;
}

pb_status pb_scalar_parse(pb_scalar *out, const uint8_t in[PB_SCALAR_BYTES])
{
    pb_scalar tmp;
    memcpy(tmp.b, in, PB_SCALAR_BYTES);
    if (!pb_scalar_is_zero(&tmp) && !secp256k1_ec_seckey_verify(pb_secp256k1(), tmp.b)) {
        pb_scalar_wipe(&tmp);
        return pb_fail(PB_ERR_PARSE, "scalar: not below the group order");
    }
    *out = tmp;
    pb_scalar_wipe(&tmp);
    return PB_OK;
}

void pb_scalar_add(pb_scalar *out, const pb_scalar *a, const pb_scalar *b)
{
    pb_scalar t = *a;
    if (pb_scalar_is_zero(&t)) {
        t = *b;
    } else if (!secp256k1_ec_seckey_tweak_add(pb_secp256k1(), t.b, b->b)) {
        /* With a valid non-zero key and a tweak < q the only failure is a
         * zero sum. */
        t = SCALAR_ZERO;
    }
    *out = t;
    pb_scalar_wipe(&t);
}

void pb_scalar_negate(pb_scalar *out, const pb_scalar *a)
{
    pb_scalar t = *a;
    /* Negating a valid non-zero key cannot fail. */
    if (!pb_scalar_is_zero(&t) && !secp256k1_ec_seckey_negate(pb_secp256k1(), t.b))
        t = SCALAR_ZERO;
    *out = t;
    pb_scalar_wipe(&t);
}

void pb_scalar_sub(pb_scalar *out, const pb_scalar *a, const pb_scalar *b)
{
    pb_scalar nb;
    pb_scalar_negate(&nb, b);
    pb_scalar_add(out, a, &nb);
    pb_scalar_wipe(&nb);
}

void pb_scalar_mul(pb_scalar *out, const pb_scalar *a, const pb_scalar *b)
{
    pb_scalar t = *a;
    /* q is prime, so a non-zero product of non-zero factors never fails. */
    if (pb_scalar_is_zero(&t) || pb_scalar_is_zero(b) ||
        !secp256k1_ec_seckey_tweak_mul(pb_secp256k1(), t.b, b->b))
        t = SCALAR_ZERO;
    *out = t;
    pb_scalar_wipe(&t);
}

pb_status pb_scalar_inverse(pb_scalar *out, const pb_scalar *a)
{
    if (pb_scalar_is_zero(a))
        return pb_fail(PB_ERR_ARGUMENT, "scalar inverse: zero has no inverse");
    (void)pb_secp256k1();
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "scalar inverse: no BN_CTX");
    BN_CTX_start(ctx);
    BIGNUM *x = BN_CTX_get(ctx);
    BIGNUM *y = BN_CTX_get(ctx);
    pb_status st = PB_OK;
    if (y == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "scalar inverse: allocation failed");
        goto done;
    }
    BN_set_flags(x, BN_FLG_CONSTTIME);
    BN_set_flags(y, BN_FLG_CONSTTIME);
    /* Fermat: a^(q-2) = a^-1 mod q, with a fixed-window ladder. */
    if (BN_bin2bn(a->b, PB_SCALAR_BYTES, x) == NULL ||
        !BN_mod_exp_mont_consttime(y, x, ec_order_minus_2, ec_order, ctx, NULL) ||
        BN_bn2binpad(y, out->b, PB_SCALAR_BYTES) != PB_SCALAR_BYTES)
        st = pb_fail(PB_ERR_CRYPTO, "scalar inverse: exponentiation failed");
done:
    if (y != NULL) {
        BN_clear(x);
        BN_clear(y);
    }
    BN_CTX_end(ctx);
    return st;
}

pb_status pb_scalar_from_bn(pb_scalar *out, const BIGNUM *bn)
{
    (void)pb_secp256k1();
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "scalar from integer: no BN_CTX");
    BN_CTX_start(ctx);
    BIGNUM *t = BN_CTX_get(ctx);
    pb_status st = PB_OK;
    if (t == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "scalar from integer: allocation failed");
        goto done;
    }
    BN_set_flags(t, BN_FLG_CONSTTIME);
    if (BN_copy(t, bn) == NULL || !BN_nnmod(t, t, ec_order, ctx) ||
        BN_bn2binpad(t, out->b, PB_SCALAR_BYTES) != PB_SCALAR_BYTES)
        st = pb_fail(PB_ERR_CRYPTO, "scalar from integer: reduction failed");
    BN_clear(t);
done:
    BN_CTX_end(ctx);
    return st;
}

pb_status pb_scalar_to_bn(const pb_scalar *a, BIGNUM *out)
{
    if (BN_bin2bn(a->b, PB_SCALAR_BYTES, out) == NULL)
        return pb_fail(PB_ERR_NOMEM, "scalar to integer: allocation failed");
    return PB_OK;
}

void pb_scalar_wipe(pb_scalar *a)
{
    OPENSSL_cleanse(a->b, PB_SCALAR_BYTES);
}

/* --- points ---------------------------------------------------------------- */

pb_status pb_point_mul_base(pb_point *out, const pb_scalar *a)
{
    if (!secp256k1_ec_pubkey_create(pb_secp256k1(), &out->p, a->b))
        return pb_fail(PB_ERR_ARGUMENT, "point multiply: scalar is zero");
    return PB_OK;
}

/* ECDH "hash" that hands back the raw affine coordinates as 04||x||y. */
static int raw_xy(unsigned char *output, const unsigned char *x32, const unsigned char *y32,
                  void *data)
{
    (void)data;
    output[0] = 0x04;
    memcpy(output + 1, x32, 32);
    memcpy(output + 33, y32, 32);
    return 1;
}

pb_status pb_point_mul(pb_point *out, const pb_point *p, const pb_scalar *a)
{
    const secp256k1_context *ctx = pb_secp256k1();
    if (pb_scalar_is_zero(a))
        return pb_fail(PB_ERR_ARGUMENT, "point multiply: scalar is zero");
    uint8_t xy[65];
    pb_point r;
    /* The ECDH ladder is constant-time in the scalar, unlike pubkey_tweak_mul. */
    int ok = secp256k1_ecdh(ctx, xy, &p->p, a->b, raw_xy, NULL) &&
             secp256k1_ec_pubkey_parse(ctx, &r.p, xy, sizeof xy);
    OPENSSL_cleanse(xy, sizeof xy);
    if (!ok)
        return pb_fail(PB_ERR_CRYPTO, "point multiply: ladder failed");
    *out = r;
    return PB_OK;
}

pb_status pb_point_add(pb_point *out, const pb_point *a, const pb_point *b)
{
    const secp256k1_pubkey *ins[2] = {&a->p, &b->p};
    pb_point r;
    if (!secp256k1_ec_pubkey_combine(pb_secp256k1(), &r.p, ins, 2))
        return pb_fail(PB_ERR_ARGUMENT, "point add: sum is the identity");
    *out = r;
    return PB_OK;
}

pb_status pb_point_add_base_mul(pb_point *out, const pb_point *p, const pb_scalar *a)
{
    if (pb_scalar_is_zero(a)) {
        *out = *p;
        return PB_OK;
    }
    /* a·G by the blinded generator table, then a combine: constant-time in
     * a, unlike pubkey_tweak_add. */
    pb_point ag;
    pb_status st = pb_point_mul_base(&ag, a);
    if (st != PB_OK)
        return st;
    return pb_point_add(out, p, &ag);
}

pb_status pb_point_negate(pb_point *out, const pb_point *p)
{
    pb_point r = *p;
    if (!secp256k1_ec_pubkey_negate(pb_secp256k1(), &r.p))
        return pb_fail(PB_ERR_CRYPTO, "point negate failed");
    *out = r;
    return PB_OK;
}

int pb_point_equal(const pb_point *a, const pb_point *b)
{
    return secp256k1_ec_pubkey_cmp(pb_secp256k1(), &a->p, &b->p) == 0;
}

pb_status pb_point_parse(pb_point *out, const uint8_t in[PB_POINT_BYTES])
{
    if (in[0] != 0x02 && in[0] != 0x03)
        return pb_fail(PB_ERR_PARSE, "point: prefix is not 02 or 03");
    /* libsecp256k1 rejects x >= p and x with no curve point. */
    if (!secp256k1_ec_pubkey_parse(pb_secp256k1(), &out->p, in, PB_POINT_BYTES))
        return pb_fail(PB_ERR_PARSE, "point: not a valid curve point");
    return PB_OK;
}

void pb_point_serialize(uint8_t out[PB_POINT_BYTES], const pb_point *p)
{
    size_t len = PB_POINT_BYTES;
    (void)secp256k1_ec_pubkey_serialize(pb_secp256k1(), out, &len, &p->p,
                                        SECP256K1_EC_COMPRESSED);
}

void pb_point_x_mod_q(pb_scalar *out, int *y_is_odd, int *x_overflowed, const pb_point *p)
{
    uint8_t u[65];
    size_t len = sizeof u;
    (void)secp256k1_ec_pubkey_serialize(pb_secp256k1(), u, &len, &p->p,
                                        SECP256K1_EC_UNCOMPRESSED);
    const uint8_t *x = u + 1;
    int ge = memcmp(x, ORDER_BYTES, 32) >= 0;
    /* p < 2q, so one subtraction of q reduces any field element. */
    if (ge) {
        unsigned borrow = 0;
        for (int i = 31; i >= 0; i--) {
            unsigned d = (unsigned)x[i] - ORDER_BYTES[i] - borrow;
            out->b[i] = (uint8_t)d;
            borrow = (d >> 8) & 1;
        }
    } else {
        memcpy(out->b, x, 32);
    }
    if (y_is_odd != NULL)
        *y_is_odd = u[64] & 1;
    if (x_overflowed != NULL)
        *x_overflowed = ge;
}
