/* keyproof.c - P1's Paillier key bundle (see keyproof.h).
 * Wire: Paillier public key | c_key (signed integer) | Pi^mod | Pi^fac | Pi^log*. */
#include "mpc/keyproof.h"

#include <string.h>

#include "common/fail.h"
#include "crypto/bn.h"
#include "crypto/transcript.h"
#include "mpc/msg.h"

static void bundle_transcript(pb_transcript *t, const pb_key_bundle_ctx *ctx, const char *what)
{
    pb_mpc_transcript(t, ctx->protocol, what, ctx->sid, PB_ROLE_P1, ctx->context,
                      ctx->context_len);
}

void pb_key_bundle_clear(pb_key_bundle *b)
{
    pb_paillier_public_free(b->pk);
    BN_free(b->c_key);
    pb_zk_mod_free(b->mod);
    pb_zk_fac_free(b->fac);
    pb_zk_logstar_free(b->logstar);
    memset(b, 0, sizeof *b);
}

pb_status pb_key_bundle_prove(pb_key_bundle *b, const pb_key_bundle_ctx *ctx,
                              const pb_paillier_private *sk, const pb_rped_public *verifier_rp,
                              const BIGNUM *x, const BIGNUM *rho, const pb_point *q1)
{
    pb_transcript t;
    pb_status st;
    bundle_transcript(&t, ctx, "paillier-mod");
    if ((st = pb_zk_mod_prove(&t, sk, &b->mod)) != PB_OK)
        return pb_fail_context(st, "proving the Paillier modulus");
    bundle_transcript(&t, ctx, "paillier-fac");
    if ((st = pb_zk_fac_prove(&t, sk, verifier_rp, &b->fac)) != PB_OK)
        return pb_fail_context(st, "proving no small factor");
    bundle_transcript(&t, ctx, "c-key-logstar");
    if ((st = pb_zk_logstar_prove(&t, b->pk, verifier_rp, b->c_key, q1, x, rho,
                                  &b->logstar)) != PB_OK)
        return pb_fail_context(st, "proving c_key");
    return PB_OK;
}

pb_status pb_key_bundle_make(pb_key_bundle *b, const pb_key_bundle_ctx *ctx,
                             const pb_paillier_private *sk, const pb_rped_public *verifier_rp,
                             const pb_scalar *x1, const pb_point *q1)
{
    memset(b, 0, sizeof *b);
    BIGNUM *x = pb_bn_secure_new(), *rho = pb_bn_secure_new();
    pb_status st = PB_OK;
    b->pk = pb_paillier_public_dup(pb_paillier_public_of(sk));
    b->c_key = BN_new();
    if (!x || !rho || !b->pk || !b->c_key) {
        st = pb_fail(PB_ERR_NOMEM, "Paillier key bundle: allocation failed");
        goto done;
    }
    if ((st = pb_scalar_to_bn(x1, x)) != PB_OK ||
        (st = pb_paillier_encrypt(b->pk, x, b->c_key, rho)) != PB_OK)
        goto done;
    st = pb_key_bundle_prove(b, ctx, sk, verifier_rp, x, rho, q1);
done:
    BN_clear_free(x);
    BN_clear_free(rho);
    if (st != PB_OK)
        pb_key_bundle_clear(b);
    return st;
}

void pb_key_bundle_encode(pb_writer *w, const pb_key_bundle *b)
{
    pb_paillier_public_encode(w, b->pk);
    pb_bn_encode(w, b->c_key);
    pb_zk_mod_encode(w, b->mod);
    pb_zk_fac_encode(w, b->fac);
    pb_zk_logstar_encode(w, b->logstar);
}

pb_status pb_key_bundle_decode(pb_reader *r, pb_key_bundle *b, int bits,
                               const pb_rped_public *verifier_rp)
{
    memset(b, 0, sizeof *b);
    pb_status st = pb_paillier_public_decode(r, bits, &b->pk);
    if (st != PB_OK)
        goto fail;
    if ((b->c_key = BN_new()) == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "Paillier key bundle: allocation failed");
        goto fail;
    }
    if ((st = pb_bn_decode_mod(r, pb_paillier_n2(b->pk), b->c_key)) != PB_OK ||
        (st = pb_paillier_check_ciphertext(b->pk, b->c_key)) != PB_OK) {
        st = pb_fail_context(st, "c_key");
        goto fail;
    }
    if ((st = pb_zk_mod_decode(r, b->pk, &b->mod)) != PB_OK ||
        (st = pb_zk_fac_decode(r, b->pk, verifier_rp, &b->fac)) != PB_OK ||
        (st = pb_zk_logstar_decode(r, b->pk, verifier_rp, &b->logstar)) != PB_OK)
        goto fail;
    return PB_OK;
fail:
    pb_key_bundle_clear(b);
    return st;
}

pb_status pb_key_bundle_verify(const pb_key_bundle *b, const pb_key_bundle_ctx *ctx,
                               const pb_rped_public *verifier_rp, const pb_point *q1)
{
    pb_transcript t;
    pb_status st;
    bundle_transcript(&t, ctx, "paillier-mod");
    if ((st = pb_zk_mod_verify(&t, b->pk, b->mod)) != PB_OK)
        return pb_fail_context(st, "Paillier modulus proof");
    bundle_transcript(&t, ctx, "paillier-fac");
    if ((st = pb_zk_fac_verify(&t, b->pk, verifier_rp, b->fac)) != PB_OK)
        return pb_fail_context(st, "no-small-factor proof");
    bundle_transcript(&t, ctx, "c-key-logstar");
    if ((st = pb_zk_logstar_verify(&t, b->pk, verifier_rp, b->c_key, q1, b->logstar)) != PB_OK)
        return pb_fail_context(st, "c_key proof");
    return PB_OK;
}
