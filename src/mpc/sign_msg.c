/* sign_msg.c - signing messages, request binding, commitment, derivation
 * and the cosigner's ciphertext (see sign.h). */
#include <string.h>

#include <openssl/rand.h>

#include "common/fail.h"
#include "crypto/bn.h"
#include "mpc/bip32.h"
#include "mpc/sign.h"

/* --- messages ---------------------------------------------------------------- */

void pb_sign_request_encode(pb_writer *w, const pb_sign_request *req)
{
    pb_writer_raw(w, req->share_id, sizeof req->share_id);
    pb_writer_raw(w, req->digest, sizeof req->digest);
    pb_writer_u8(w, (uint8_t)req->path_len);
    for (size_t i = 0; i < req->path_len; i++)
        pb_writer_u32(w, req->path[i]);
}

pb_status pb_sign_m1_encode(const pb_sign_m1 *m, uint8_t **out, size_t *out_len)
{
    if (m->req.path_len > PB_BIP32_MAX_DEPTH)
        return pb_fail(PB_ERR_ARGUMENT, "sign message 1: path too long");
    pb_writer w;
    pb_writer_init(&w);
    pb_msg_begin(&w, PB_PROTO_SIGN, 1, PB_ROLE_P1, NULL);
    pb_writer_raw(&w, m->n1, sizeof m->n1);
    pb_sign_request_encode(&w, &m->req);
    pb_writer_raw(&w, m->com, sizeof m->com);
    return pb_msg_finish(&w, out, out_len);
}

pb_status pb_sign_m1_decode(pb_sign_m1 *m, const uint8_t *in, size_t in_len)
{
    pb_reader r;
    uint8_t sid[PB_SESSION_ID_BYTES];
    pb_status st = pb_msg_open(&r, in, in_len, PB_PROTO_SIGN, 1, PB_ROLE_P1, sid);
    if (st == PB_OK)
        st = pb_msg_check_sid(sid, NULL, "sign message 1");
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->n1, sizeof m->n1, "n1");
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->req.share_id, sizeof m->req.share_id, "share id");
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->req.digest, sizeof m->req.digest, "digest");
    if (st != PB_OK)
        return st;
    /* The u8 count cannot exceed PB_BIP32_MAX_DEPTH (255). */
    m->req.path_len = pb_reader_u8(&r);
    for (size_t i = 0; i < m->req.path_len && !r.failed; i++) {
        m->req.path[i] = pb_reader_u32(&r);
        if (m->req.path[i] & PB_BIP32_HARDENED)
            return pb_fail(PB_ERR_PARSE, "sign message 1: path index %zu is hardened", i + 1);
    }
    if (r.failed)
        return pb_fail(PB_ERR_PARSE, "sign message 1: truncated in the path");
    if ((st = pb_msg_get_bytes(&r, m->com, sizeof m->com, "commitment")) != PB_OK)
        return st;
    return pb_reader_finish(&r, "sign message 1");
}

pb_status pb_sign_m2_encode(const pb_sign_m2 *m, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_msg_begin(&w, PB_PROTO_SIGN, 2, PB_ROLE_P2, m->sid);
    pb_writer_raw(&w, m->n2, sizeof m->n2);
    pb_msg_put_point(&w, &m->r2);
    pb_zk_sch_encode(&w, &m->sch);
    return pb_msg_finish(&w, out, out_len);
}

pb_status pb_sign_m2_decode(pb_sign_m2 *m, const uint8_t *in, size_t in_len)
{
    pb_reader r;
    pb_status st = pb_msg_open(&r, in, in_len, PB_PROTO_SIGN, 2, PB_ROLE_P2, m->sid);
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->n2, sizeof m->n2, "n2");
    if (st == PB_OK)
        st = pb_msg_get_point(&r, &m->r2, "R2");
    if (st == PB_OK)
        st = pb_zk_sch_decode(&r, &m->sch);
    if (st == PB_OK)
        st = pb_reader_finish(&r, "sign message 2");
    return st;
}

pb_status pb_sign_m3_encode(const pb_sign_m3 *m, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_msg_begin(&w, PB_PROTO_SIGN, 3, PB_ROLE_P1, m->sid);
    pb_msg_put_point(&w, &m->r1);
    pb_zk_sch_encode(&w, &m->sch);
    pb_writer_raw(&w, m->opening, sizeof m->opening);
    return pb_msg_finish(&w, out, out_len);
}

pb_status pb_sign_m3_decode(pb_sign_m3 *m, const uint8_t *in, size_t in_len)
{
    pb_reader r;
    pb_status st = pb_msg_open(&r, in, in_len, PB_PROTO_SIGN, 3, PB_ROLE_P1, m->sid);
    if (st == PB_OK)
        st = pb_msg_get_point(&r, &m->r1, "R1");
    if (st == PB_OK)
        st = pb_zk_sch_decode(&r, &m->sch);
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->opening, sizeof m->opening, "commitment opening");
    if (st == PB_OK)
        st = pb_reader_finish(&r, "sign message 3");
    return st;
}

pb_status pb_sign_m4_encode(const pb_sign_m4 *m, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_msg_begin(&w, PB_PROTO_SIGN, 4, PB_ROLE_P2, m->sid);
    pb_bn_encode(&w, m->c3);
    return pb_msg_finish(&w, out, out_len);
}

pb_status pb_sign_m4_decode(pb_sign_m4 *m, const uint8_t *in, size_t in_len,
                            const pb_paillier_public *pk)
{
    m->c3 = NULL;
    pb_reader r;
    pb_status st = pb_msg_open(&r, in, in_len, PB_PROTO_SIGN, 4, PB_ROLE_P2, m->sid);
    if (st != PB_OK)
        return st;
    if ((m->c3 = BN_new()) == NULL)
        return pb_fail(PB_ERR_NOMEM, "sign message 4: allocation failed");
    if ((st = pb_bn_decode_mod(&r, pb_paillier_n2(pk), m->c3)) != PB_OK ||
        (st = pb_reader_finish(&r, "sign message 4")) != PB_OK ||
        (st = pb_paillier_check_ciphertext(pk, m->c3)) != PB_OK) {
        pb_sign_m4_clear(m);
        return pb_fail_context(st, "sign message 4 (c3)");
    }
    return PB_OK;
}

void pb_sign_m4_clear(pb_sign_m4 *m)
{
    BN_free(m->c3);
    m->c3 = NULL;
}

/* --- binding ------------------------------------------------------------------ */

static void request_context(const pb_sign_request *req, uint8_t *buf, size_t *len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_sign_request_encode(&w, req);
    uint8_t *p = NULL;
    size_t n = 0;
    *len = 0;
    if (pb_writer_finish(&w, &p, &n) == PB_OK && n <= PB_SIGN_REQUEST_MAX) {
        memcpy(buf, p, n);
        *len = n;
    } else {
        /* Unreachable for a valid request; an unbound proof would then
         * fail at the peer rather than bind to nothing. */
        (void)RAND_bytes(buf, 32);
        *len = 32;
    }
    pb_bytes_free(p, n);
}

void pb_sign_k1_transcript(pb_transcript *t, const uint8_t n1[PB_NONCE_BYTES],
                           const pb_sign_request *req)
{
    uint8_t pre[PB_SESSION_ID_BYTES], ctx[PB_SIGN_REQUEST_MAX];
    size_t len;
    pb_msg_pre_id(pre, PB_PROTO_SIGN, n1);
    request_context(req, ctx, &len);
    pb_mpc_transcript(t, PB_PROTO_SIGN, "nonce-sch-k1", pre, PB_ROLE_P1, ctx, len);
}

void pb_sign_k2_transcript(pb_transcript *t, const uint8_t sid[PB_SESSION_ID_BYTES],
                           const pb_sign_request *req)
{
    uint8_t ctx[PB_SIGN_REQUEST_MAX];
    size_t len;
    request_context(req, ctx, &len);
    pb_mpc_transcript(t, PB_PROTO_SIGN, "nonce-sch-k2", sid, PB_ROLE_P2, ctx, len);
}

static void commit_payload(uint8_t out[PB_POINT_BYTES + PB_ZK_SCH_BYTES], const pb_point *r1,
                           const pb_zk_sch_proof *sch)
{
    pb_point_serialize(out, r1);
    pb_point_serialize(out + PB_POINT_BYTES, &sch->a);
    memcpy(out + 2 * PB_POINT_BYTES, sch->z.b, PB_SCALAR_BYTES);
}

void pb_sign_commit(uint8_t com[PB_COMMIT_BYTES], const uint8_t n1[PB_NONCE_BYTES],
                    const pb_point *r1, const pb_zk_sch_proof *sch,
                    const uint8_t opening[PB_COMMIT_OPENING_BYTES])
{
    uint8_t pre[PB_SESSION_ID_BYTES], payload[PB_POINT_BYTES + PB_ZK_SCH_BYTES];
    pb_msg_pre_id(pre, PB_PROTO_SIGN, n1);
    commit_payload(payload, r1, sch);
    pb_commit_compute(com, "sign/r1-proof", pre, PB_ROLE_P1, payload, sizeof payload, opening);
}

pb_status pb_sign_commit_check(const uint8_t com[PB_COMMIT_BYTES],
                               const uint8_t n1[PB_NONCE_BYTES], const pb_point *r1,
                               const pb_zk_sch_proof *sch,
                               const uint8_t opening[PB_COMMIT_OPENING_BYTES])
{
    uint8_t pre[PB_SESSION_ID_BYTES], payload[PB_POINT_BYTES + PB_ZK_SCH_BYTES];
    pb_msg_pre_id(pre, PB_PROTO_SIGN, n1);
    commit_payload(payload, r1, sch);
    return pb_commit_check(com, "sign/r1-proof", pre, PB_ROLE_P1, payload, sizeof payload,
                           opening, "sign message 3 (R1, proof)");
}

/* --- arithmetic ------------------------------------------------------------------ */

pb_status pb_sign_digest_scalar(pb_scalar *m, const uint8_t digest[PB_MPC_DIGEST_BYTES])
{
    BIGNUM *d = BN_bin2bn(digest, PB_MPC_DIGEST_BYTES, NULL);
    if (!d)
        return pb_fail(PB_ERR_NOMEM, "digest: allocation failed");
    pb_status st = pb_scalar_from_bn(m, d);
    BN_free(d);
    return st;
}

pb_status pb_sign_derive(const pb_point *q, const uint8_t chain[32], const uint32_t *path,
                         size_t path_len, pb_scalar *tweak, pb_point *derived)
{
    pb_bip32_xpub root, child;
    pb_bip32_root(&root, q, chain);
    pb_status st = pb_bip32_derive(&root, path, path_len, &child, tweak);
    if (st == PB_OK)
        *derived = child.key;
    return st;
}

/* The mask rho and the size of N (l = 256, eps = 512, stat = 128, q < 2^l).
 *
 * P1 decrypts M = rho*q + a + b*x1', with a, b in [0, q) and x1' the
 * plaintext of c_key. Pi^log* only guarantees |x1'| <= 2^(l+eps), so a
 * dishonest P1 may have chosen any such x1' to learn about a and b.
 *
 * Hiding: write a + b*x1' = v1*q + v0 with v0 in [0, q); v0 = k1*s mod q is
 * what P1 may learn. |a + b*x1'| < q*(2^(l+eps) + 1), so |v1| <= 2^(l+eps)+1
 * and M = (rho + v1)*q + v0. With rho uniform in [0, 2^B), rho + v1 is
 * within |v1| / 2^B of uniform, so M is within 2^(l+eps+1-B) of a value a
 * simulator makes from v0 alone. 2^-stat needs B >= l + eps + stat + 1 = 897;
 * B = 2l + eps + stat = 1152 leaves 255 bits of margin (and also covers
 * hiding b*x1' itself, |b*x1'| < 2^(2l+eps)).
 *
 * No wrap-around: rho*q < 2^(B+l) and |a + b*x1'| < 2^(2l+eps+1) <= 2^(B+l),
 * so |M| < 2^(B+l+1) = 2^1409, while N/2 >= 2^(|N|-2) >= 2^2046. An honest
 * P1 (x1' in [0, q)) decrypts exactly M, and M mod q = v0.
 */
_Static_assert(PB_SIGN_MASK_BITS >= PB_ZK_L + PB_ZK_EPS + PB_ZK_STAT + 1,
               "the mask must hide b*x1 over the whole range Pi^log* allows");
_Static_assert(PB_SIGN_MASK_BITS + PB_ZK_L + 1 <= PB_PAILLIER_BITS_MIN - 2,
               "N/2 must exceed the largest plaintext of c3");
#define SIGN_MIN_MODULUS_BITS (PB_SIGN_MASK_BITS + PB_ZK_L + 3)

pb_status pb_sign_compute_c3(const pb_paillier_public *pk, const BIGNUM *c_key,
                             const pb_scalar *k2, const pb_scalar *r, const pb_scalar *m,
                             const pb_scalar *x2, const BIGNUM *rn, BIGNUM *c3)
{
    if (pb_paillier_bits(pk) < SIGN_MIN_MODULUS_BITS)
        return pb_fail(PB_ERR_ARGUMENT, "c3: a %d-bit modulus cannot hold the plaintext",
                       pb_paillier_bits(pk));
    pb_scalar k2inv, a, b;
    pb_status st = pb_scalar_inverse(&k2inv, k2);
    if (st != PB_OK)
        return st;
    pb_scalar_mul(&a, r, x2);
    pb_scalar_add(&a, &a, m);
    pb_scalar_mul(&a, &k2inv, &a);
    pb_scalar_mul(&b, &k2inv, r);

    BN_CTX *ctx = pb_bn_ctx();
    BIGNUM *rho = pb_bn_secure_new(), *pt = pb_bn_secure_new(), *abn = pb_bn_secure_new(),
           *bbn = pb_bn_secure_new(), *c1 = BN_new(), *c2 = BN_new();
    if (!ctx || !rho || !pt || !abn || !bbn || !c1 || !c2) {
        st = pb_fail(PB_ERR_NOMEM, "c3: allocation failed");
        goto done;
    }
    if (!BN_priv_rand(rho, PB_SIGN_MASK_BITS, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)) {
        st = pb_fail(PB_ERR_CRYPTO, "c3: sampling the mask failed");
        goto done;
    }
    /* rho*q is the mask itself: multiplied at fixed width, never by BN_mul. */
    if ((st = pb_bn_mul_ct(pt, rho, PB_SIGN_MASK_BITS, pb_ec_order(), PB_ZK_L)) != PB_OK)
        goto done;
    if ((st = pb_scalar_to_bn(&a, abn)) != PB_OK || (st = pb_scalar_to_bn(&b, bbn)) != PB_OK)
        goto done;
    if (!BN_add(pt, pt, abn)) {
        st = pb_fail(PB_ERR_CRYPTO, "c3: arithmetic failed");
        goto done;
    }
    st = rn ? pb_paillier_encrypt_precomputed(pk, pt, rn, c1)
            : pb_paillier_encrypt(pk, pt, c1, NULL);
    if (st == PB_OK)
        st = pb_paillier_mul_scalar(pk, c_key, bbn, c2);
    if (st == PB_OK)
        st = pb_paillier_add(pk, c1, c2, c3);
done:
    pb_scalar_wipe(&k2inv);
    pb_scalar_wipe(&a);
    pb_scalar_wipe(&b);
    BN_clear_free(rho);
    BN_clear_free(pt);
    BN_clear_free(abn);
    BN_clear_free(bbn);
    BN_free(c1);
    BN_free(c2);
    return st;
}
