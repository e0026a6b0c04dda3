/* paillier.c - Paillier keys in memory and the cryptosystem's operations:
 * encryption with g = N + 1, CRT decryption, homomorphic addition and
 * scalar multiplication, ciphertext and modulus validation.
 *
 * Owns the construction of keys from their parts (generation and decoding
 * call in here) and the cached Montgomery contexts. Must never expose p, q
 * or any CRT value through an error message, and must never exponentiate
 * with a secret exponent or modulus other than by BN_mod_exp_mont_consttime.
 * See paillier_internal.h for the thread-safety contract.
 */
#include "crypto/paillier.h"

#include <stdlib.h>

#include <openssl/crypto.h>

#include "common/fail.h"
#include "crypto/paillier_internal.h"

int pb_paillier_supported_bits(int bits)
{
    return bits == 2048 || bits == 3072;
}

/* --- public keys ------------------------------------------------------------ */

void pb_paillier_public_clear(pb_paillier_public *pub)
{
    BN_free(pub->n);
    BN_free(pub->n2);
    BN_MONT_CTX_free(pub->mont_n2);
    pub->n = pub->n2 = NULL;
    pub->mont_n2 = NULL;
    pub->bits = 0;
}

pb_status pb_paillier_public_init(pb_paillier_public *pub, BIGNUM *n)
{
    pub->n = n;
    pub->n2 = BN_new();
    pub->mont_n2 = BN_MONT_CTX_new();
    pub->bits = BN_num_bits(n);
    BN_CTX *ctx = pb_bn_ctx();
    if (pub->n2 == NULL || pub->mont_n2 == NULL || ctx == NULL || !BN_sqr(pub->n2, n, ctx) ||
        !BN_MONT_CTX_set(pub->mont_n2, pub->n2, ctx)) {
        pb_paillier_public_clear(pub);
        return pb_fail(PB_ERR_NOMEM, "paillier public key: allocation failed");
    }
    return PB_OK;
}

pb_status pb_paillier_public_from_n(const BIGNUM *n, int expected_bits, pb_paillier_public **out)
{
    *out = NULL;
    if (!pb_paillier_supported_bits(expected_bits))
        return pb_fail(PB_ERR_ARGUMENT, "paillier modulus: unsupported size %d", expected_bits);
    if (BN_is_negative(n) || BN_num_bits(n) != expected_bits)
        return pb_fail(PB_ERR_PARSE, "paillier modulus: %d bits, expected %d", BN_num_bits(n),
                       expected_bits);
    if (!BN_is_odd(n))
        return pb_fail(PB_ERR_PARSE, "paillier modulus: even");
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "paillier modulus: no BN_CTX");
    int prime = BN_check_prime(n, ctx, NULL);
    if (prime < 0)
        return pb_fail(PB_ERR_CRYPTO, "paillier modulus: primality test failed");
    if (prime)
        return pb_fail(PB_ERR_PARSE, "paillier modulus: prime");
    pb_paillier_public *pk = calloc(1, sizeof *pk);
    BIGNUM *copy = BN_dup(n);
    if (pk == NULL || copy == NULL) {
        free(pk);
        BN_free(copy);
        return pb_fail(PB_ERR_NOMEM, "paillier modulus: allocation failed");
    }
    pb_status st = pb_paillier_public_init(pk, copy);
    if (st != PB_OK) {
        free(pk);
        return st;
    }
    *out = pk;
    return PB_OK;
}

pb_paillier_public *pb_paillier_public_dup(const pb_paillier_public *pk)
{
    pb_paillier_public *d = calloc(1, sizeof *d);
    BIGNUM *n = BN_dup(pk->n);
    if (d == NULL || n == NULL) {
        free(d);
        BN_free(n);
        return NULL;
    }
    if (pb_paillier_public_init(d, n) != PB_OK) {
        free(d);
        return NULL;
    }
    return d;
}

void pb_paillier_public_free(pb_paillier_public *pk)
{
    if (pk == NULL)
        return;
    pb_paillier_public_clear(pk);
    free(pk);
}

const BIGNUM *pb_paillier_n(const pb_paillier_public *pk)
{
    return pk->n;
}

const BIGNUM *pb_paillier_n2(const pb_paillier_public *pk)
{
    return pk->n2;
}

int pb_paillier_bits(const pb_paillier_public *pk)
{
    return pk->bits;
}

/* --- private keys ----------------------------------------------------------- */

void pb_paillier_private_free(pb_paillier_private *sk)
{
    if (sk == NULL)
        return;
    pb_paillier_public_clear(&sk->pub);
    BIGNUM *secrets[] = {sk->p,  sk->q,  sk->phi,     sk->p_minus_1, sk->q_minus_1,
                         sk->p2, sk->q2, sk->hp_mont, sk->hq_mont,   sk->qinv_mont};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        BN_clear_free(secrets[i]);
    BN_MONT_CTX_free(sk->mont_p);
    BN_MONT_CTX_free(sk->mont_q);
    BN_MONT_CTX_free(sk->mont_p2);
    BN_MONT_CTX_free(sk->mont_q2);
    OPENSSL_cleanse(sk, sizeof *sk);
    free(sk);
}

const pb_paillier_public *pb_paillier_public_of(const pb_paillier_private *sk)
{
    return &sk->pub;
}

const BIGNUM *pb_paillier_private_p(const pb_paillier_private *sk)
{
    return sk->p;
}

const BIGNUM *pb_paillier_private_q(const pb_paillier_private *sk)
{
    return sk->q;
}

const BIGNUM *pb_paillier_private_phi(const pb_paillier_private *sk)
{
    return sk->phi;
}

static BN_MONT_CTX *mont_of(const BIGNUM *m, BN_CTX *ctx)
{
    BN_MONT_CTX *mont = BN_MONT_CTX_new();
    if (mont != NULL && !BN_MONT_CTX_set(mont, m, ctx)) {
        BN_MONT_CTX_free(mont);
        mont = NULL;
    }
    return mont;
}

/* out = Montgomery form of v^-1 mod m, negated first if `negate`. */
static int inverse_mont(BIGNUM *out, const BIGNUM *v, const BIGNUM *m, int negate,
                        BN_MONT_CTX *mont, BN_CTX *ctx)
{
    /* v is secret: BN_FLG_CONSTTIME on v and m selects OpenSSL's
     * branch-free inversion. */
    if (BN_mod_inverse(out, v, m, ctx) == NULL)
        return 0;
    if (negate && !BN_sub(out, m, out))
        return 0;
    return BN_to_montgomery(out, out, mont, ctx);
}

pb_status pb_paillier_private_from_pq(BIGNUM *p, BIGNUM *q, pb_paillier_private **out)
{
    *out = NULL;
    pb_paillier_private *sk = calloc(1, sizeof *sk);
    BN_CTX *ctx = pb_bn_ctx();
    if (sk == NULL || ctx == NULL) {
        free(sk);
        BN_clear_free(p);
        BN_clear_free(q);
        return pb_fail(PB_ERR_NOMEM, "paillier private key: allocation failed");
    }
    sk->p = p;
    sk->q = q;
    BN_set_flags(p, BN_FLG_CONSTTIME);
    BN_set_flags(q, BN_FLG_CONSTTIME);
    BIGNUM **secrets[] = {&sk->phi, &sk->p_minus_1, &sk->q_minus_1, &sk->p2,
                          &sk->q2,  &sk->hp_mont,   &sk->hq_mont,   &sk->qinv_mont};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if ((*secrets[i] = pb_bn_secure_new()) == NULL)
            goto nomem;
    BIGNUM *n = BN_new();
    if (n == NULL || !BN_mul(n, p, q, ctx)) {
        BN_free(n);
        goto nomem;
    }
    if (pb_paillier_public_init(&sk->pub, n) != PB_OK)
        goto nomem;
    if (BN_copy(sk->p_minus_1, p) == NULL || !BN_sub_word(sk->p_minus_1, 1) ||
        BN_copy(sk->q_minus_1, q) == NULL || !BN_sub_word(sk->q_minus_1, 1) ||
        !BN_mul(sk->phi, sk->p_minus_1, sk->q_minus_1, ctx) || !BN_sqr(sk->p2, p, ctx) ||
        !BN_sqr(sk->q2, q, ctx))
        goto nomem;
    if ((sk->mont_p = mont_of(p, ctx)) == NULL || (sk->mont_q = mont_of(q, ctx)) == NULL ||
        (sk->mont_p2 = mont_of(sk->p2, ctx)) == NULL ||
        (sk->mont_q2 = mont_of(sk->q2, ctx)) == NULL)
        goto nomem;
    /* L_p(g^(p-1) mod p^2) = (p-1)q = -q mod p for g = N + 1, so
     * hp = (-q)^-1 mod p; likewise hq = (-p)^-1 mod q. */
    if (!inverse_mont(sk->hp_mont, q, p, 1, sk->mont_p, ctx) ||
        !inverse_mont(sk->hq_mont, p, q, 1, sk->mont_q, ctx) ||
        !inverse_mont(sk->qinv_mont, q, p, 0, sk->mont_p, ctx)) {
        pb_paillier_private_free(sk);
        return pb_fail(PB_ERR_CRYPTO, "paillier private key: CRT constants failed");
    }
    *out = sk;
    return PB_OK;
nomem:
    pb_paillier_private_free(sk);
    return pb_fail(PB_ERR_NOMEM, "paillier private key: allocation failed");
}

/* --- validation ------------------------------------------------------------- */

static int in_open_range(const BIGNUM *c, const BIGNUM *n2)
{
    return !BN_is_negative(c) && !BN_is_zero(c) && BN_cmp(c, n2) < 0;
}

pb_status pb_paillier_check_ciphertext(const pb_paillier_public *pk, const BIGNUM *c)
{
    if (!in_open_range(c, pk->n2))
        return pb_fail(PB_ERR_PARSE, "paillier ciphertext: outside (0, N^2)");
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "paillier ciphertext: no BN_CTX");
    /* c is public (it comes from the peer), so a variable-time test is fine:
     * the Kronecker symbol (c/N) is 0 exactly when gcd(c, N) > 1. On a
     * 2|N|-bit c it is 10-18x faster than the constant-time BN_gcd, which
     * cost as much as the CRT decryption in P1's last signing step. */
    int k = BN_kronecker(c, pk->n, ctx);
    if (k == -2)
        return pb_fail(PB_ERR_CRYPTO, "paillier ciphertext: Jacobi symbol failed");
    if (k == 0)
        return pb_fail(PB_ERR_PARSE, "paillier ciphertext: shares a factor with N");
    return PB_OK;
}

/* --- encryption ------------------------------------------------------------- */

/* c = (1 + (m mod N)·N) · rn mod N^2 */
static pb_status finish_encrypt(const pb_paillier_public *pk, const BIGNUM *m, const BIGNUM *rn,
                                BIGNUM *c_out, BN_CTX *ctx)
{
    BN_CTX_start(ctx);
    BIGNUM *gm = BN_CTX_get(ctx);
    pb_status st = PB_OK;
    if (gm == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "paillier encrypt: allocation failed");
        goto done;
    }
    BN_set_flags(gm, BN_FLG_CONSTTIME);
    /* m is a secret or a masked secret, r^N the mask of the ciphertext: both
     * products are taken at fixed width (see pb_bn_mul_ct). */
    int nbits = BN_num_bits(pk->n);
    if (BN_copy(gm, m) == NULL || !BN_nnmod(gm, gm, pk->n, ctx)) {
        st = pb_fail(PB_ERR_CRYPTO, "paillier encrypt: arithmetic failed");
        goto clear;
    }
    if ((st = pb_bn_mul_ct(gm, gm, nbits, pk->n, nbits)) != PB_OK)
        goto clear;
    if (!BN_add_word(gm, 1)) {
        st = pb_fail(PB_ERR_CRYPTO, "paillier encrypt: arithmetic failed");
        goto clear;
    }
    st = pb_bn_mod_mul_ct(c_out, gm, rn, pk->n2, ctx);
clear:
    BN_clear(gm);
done:
    BN_CTX_end(ctx);
    return st;
}

static pb_status rn_of(const pb_paillier_public *pk, const BIGNUM *r, BIGNUM *rn, BN_CTX *ctx)
{
    /* The exponent N is public but r is not; the fixed-window ladder costs
     * under 10% more than the sliding window here. */
    if (!BN_mod_exp_mont_consttime(rn, r, pk->n, pk->n2, ctx, pk->mont_n2))
        return pb_fail(PB_ERR_CRYPTO, "paillier encrypt: exponentiation failed");
    return PB_OK;
}

pb_status pb_paillier_encrypt_with(const pb_paillier_public *pk, const BIGNUM *m,
                                   const BIGNUM *r, BIGNUM *c_out)
{
    if (BN_is_negative(r) || BN_is_zero(r) || BN_cmp(r, pk->n) >= 0)
        return pb_fail(PB_ERR_ARGUMENT, "paillier encrypt: randomness outside (0, N)");
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "paillier encrypt: no BN_CTX");
    BN_CTX_start(ctx);
    BIGNUM *rn = BN_CTX_get(ctx);
    pb_status st;
    if (rn == NULL)
        st = pb_fail(PB_ERR_NOMEM, "paillier encrypt: allocation failed");
    else if ((st = rn_of(pk, r, rn, ctx)) == PB_OK)
        st = finish_encrypt(pk, m, rn, c_out, ctx);
    if (rn != NULL)
        BN_clear(rn);
    BN_CTX_end(ctx);
    return st;
}

pb_status pb_paillier_encrypt(const pb_paillier_public *pk, const BIGNUM *m, BIGNUM *c_out,
                              BIGNUM *r_out)
{
    BIGNUM *r = pb_bn_secure_new();
    if (r == NULL)
        return pb_fail(PB_ERR_NOMEM, "paillier encrypt: allocation failed");
    pb_status st = pb_bn_random_unit(pk->n, r);
    if (st == PB_OK)
        st = pb_paillier_encrypt_with(pk, m, r, c_out);
    if (st == PB_OK && r_out != NULL && BN_copy(r_out, r) == NULL)
        st = pb_fail(PB_ERR_NOMEM, "paillier encrypt: copying randomness failed");
    BN_clear_free(r);
    return st;
}

pb_status pb_paillier_precompute_rn(const pb_paillier_public *pk, BIGNUM *rn_out)
{
    BN_CTX *ctx = pb_bn_ctx();
    BIGNUM *r = pb_bn_secure_new();
    if (r == NULL || ctx == NULL) {
        BN_free(r);
        return pb_fail(PB_ERR_NOMEM, "paillier precompute: allocation failed");
    }
    pb_status st = pb_bn_random_unit(pk->n, r);
    if (st == PB_OK)
        st = rn_of(pk, r, rn_out, ctx);
    BN_clear_free(r);
    return st;
}

pb_status pb_paillier_encrypt_precomputed(const pb_paillier_public *pk, const BIGNUM *m,
                                          const BIGNUM *rn, BIGNUM *c_out)
{
    if (!in_open_range(rn, pk->n2))
        return pb_fail(PB_ERR_ARGUMENT, "paillier encrypt: precomputed r^N outside (0, N^2)");
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "paillier encrypt: no BN_CTX");
    return finish_encrypt(pk, m, rn, c_out, ctx);
}

/* --- decryption ------------------------------------------------------------- */

/* m_p = L_p(c^(p-1) mod p^2) · hp mod p, everything constant-time. */
static int decrypt_half(BIGNUM *out, const BIGNUM *c, const BIGNUM *prime, const BIGNUM *pm1,
                        const BIGNUM *prime2, BN_MONT_CTX *mont2, const BIGNUM *h_mont,
                        BN_MONT_CTX *mont, BN_CTX *ctx)
{
    BN_CTX_start(ctx);
    BIGNUM *x = BN_CTX_get(ctx);
    BIGNUM *l = BN_CTX_get(ctx);
    int ok = l != NULL;
    if (ok) {
        BN_set_flags(x, BN_FLG_CONSTTIME);
        BN_set_flags(l, BN_FLG_CONSTTIME);
        ok = BN_nnmod(x, c, prime2, ctx) &&
             BN_mod_exp_mont_consttime(x, x, pm1, prime2, ctx, mont2) && BN_sub_word(x, 1) &&
             BN_div(l, NULL, x, prime, ctx) &&
             /* l*h at fixed width, then out of Montgomery form (h is kept in it). */
             pb_bn_mod_mul_ct(out, l, h_mont, prime, ctx) == PB_OK &&
             BN_from_montgomery(out, out, mont, ctx);
        BN_clear(x);
        BN_clear(l);
    }
    BN_CTX_end(ctx);
    return ok;
}

pb_status pb_paillier_decrypt(const pb_paillier_private *sk, const BIGNUM *c, BIGNUM *m_out)
{
    if (!in_open_range(c, sk->pub.n2))
        return pb_fail(PB_ERR_PARSE, "paillier decrypt: ciphertext outside (0, N^2)");
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL)
        return pb_fail(PB_ERR_NOMEM, "paillier decrypt: no BN_CTX");
    BN_CTX_start(ctx);
    BIGNUM *mp = BN_CTX_get(ctx);
    BIGNUM *mq = BN_CTX_get(ctx);
    BIGNUM *t = BN_CTX_get(ctx);
    pb_status st = PB_OK;
    if (t == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "paillier decrypt: allocation failed");
        goto done;
    }
    BN_set_flags(mp, BN_FLG_CONSTTIME);
    BN_set_flags(mq, BN_FLG_CONSTTIME);
    BN_set_flags(t, BN_FLG_CONSTTIME);
    /* Garner: m = mq + q·((mp - mq)·q^-1 mod p). The halves are secret:
     * mp + p - mq stays positive (mq < q < p), so no reduction depends on a
     * sign; the products are fixed-width (pb_bn_mul_ct), and multiplying by
     * q^-1 in Montgomery form then leaving it (constant-time in OpenSSL)
     * gives the plain product. */
    int pbits = BN_num_bits(sk->p), qbits = BN_num_bits(sk->q);
    if (!decrypt_half(mp, c, sk->p, sk->p_minus_1, sk->p2, sk->mont_p2, sk->hp_mont,
                      sk->mont_p, ctx) ||
        !decrypt_half(mq, c, sk->q, sk->q_minus_1, sk->q2, sk->mont_q2, sk->hq_mont,
                      sk->mont_q, ctx) ||
        !BN_add(t, mp, sk->p) || !BN_sub(t, t, mq) || !BN_nnmod(t, t, sk->p, ctx)) {
        st = pb_fail(PB_ERR_CRYPTO, "paillier decrypt: arithmetic failed");
        goto clear;
    }
    if ((st = pb_bn_mod_mul_ct(t, t, sk->qinv_mont, sk->p, ctx)) != PB_OK)
        goto clear;
    if (!BN_from_montgomery(t, t, sk->mont_p, ctx)) {
        st = pb_fail(PB_ERR_CRYPTO, "paillier decrypt: arithmetic failed");
        goto clear;
    }
    if ((st = pb_bn_mul_ct(t, t, pbits, sk->q, qbits)) != PB_OK)
        goto clear;
    if (!BN_add(m_out, t, mq))
        st = pb_fail(PB_ERR_CRYPTO, "paillier decrypt: arithmetic failed");
clear:
    BN_clear(mp);
    BN_clear(mq);
    BN_clear(t);
done:
    BN_CTX_end(ctx);
    return st;
}

/* --- homomorphic operations ------------------------------------------------- */

pb_status pb_paillier_add(const pb_paillier_public *pk, const BIGNUM *c1, const BIGNUM *c2,
                          BIGNUM *out)
{
    if (!in_open_range(c1, pk->n2) || !in_open_range(c2, pk->n2))
        return pb_fail(PB_ERR_ARGUMENT, "paillier add: ciphertext outside (0, N^2)");
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL || !BN_mod_mul(out, c1, c2, pk->n2, ctx))
        return pb_fail(PB_ERR_CRYPTO, "paillier add: multiplication failed");
    return PB_OK;
}

pb_status pb_paillier_mul_scalar(const pb_paillier_public *pk, const BIGNUM *c, const BIGNUM *k,
                                 BIGNUM *out)
{
    if (!in_open_range(c, pk->n2))
        return pb_fail(PB_ERR_ARGUMENT, "paillier scalar multiply: ciphertext outside (0, N^2)");
    if (BN_is_negative(k))
        return pb_fail(PB_ERR_ARGUMENT, "paillier scalar multiply: negative scalar");
    BN_CTX *ctx = pb_bn_ctx();
    if (ctx == NULL || !BN_mod_exp_mont_consttime(out, c, k, pk->n2, ctx, pk->mont_n2))
        return pb_fail(PB_ERR_CRYPTO, "paillier scalar multiply: exponentiation failed");
    return PB_OK;
}
