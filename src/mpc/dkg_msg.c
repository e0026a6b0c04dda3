/* dkg_msg.c - DKG message encoders and strict decoders (see dkg.h). */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/fail.h"
#include "mpc/dkg.h"

pb_status pb_dkg_m1_encode(const pb_dkg_m1 *m, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_msg_begin(&w, PB_PROTO_DKG, 1, PB_ROLE_P1, NULL);
    pb_writer_raw(&w, m->n1, sizeof m->n1);
    pb_writer_raw(&w, m->com, sizeof m->com);
    return pb_msg_finish(&w, out, out_len);
}

pb_status pb_dkg_m1_decode(pb_dkg_m1 *m, const uint8_t *in, size_t in_len)
{
    pb_reader r;
    uint8_t sid[PB_SESSION_ID_BYTES];
    pb_status st = pb_msg_open(&r, in, in_len, PB_PROTO_DKG, 1, PB_ROLE_P1, sid);
    if (st == PB_OK)
        st = pb_msg_check_sid(sid, NULL, "dkg message 1");
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->n1, sizeof m->n1, "n1");
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->com, sizeof m->com, "commitment");
    if (st == PB_OK)
        st = pb_reader_finish(&r, "dkg message 1");
    return st;
}

pb_status pb_dkg_m2_encode(const pb_dkg_m2 *m, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_msg_begin(&w, PB_PROTO_DKG, 2, PB_ROLE_P2, m->sid);
    pb_writer_raw(&w, m->n2, sizeof m->n2);
    pb_msg_put_point(&w, &m->q2);
    pb_writer_raw(&w, m->c2, sizeof m->c2);
    pb_zk_sch_encode(&w, &m->sch);
    return pb_msg_finish(&w, out, out_len);
}

pb_status pb_dkg_m2_decode(pb_dkg_m2 *m, const uint8_t *in, size_t in_len)
{
    pb_reader r;
    pb_status st = pb_msg_open(&r, in, in_len, PB_PROTO_DKG, 2, PB_ROLE_P2, m->sid);
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->n2, sizeof m->n2, "n2");
    if (st == PB_OK)
        st = pb_msg_get_point(&r, &m->q2, "Q2");
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->c2, sizeof m->c2, "chain-code half c2");
    if (st == PB_OK)
        st = pb_zk_sch_decode(&r, &m->sch);
    if (st == PB_OK)
        st = pb_reader_finish(&r, "dkg message 2");
    return st;
}

pb_status pb_dkg_m3_encode(const pb_dkg_m3 *m, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_msg_begin(&w, PB_PROTO_DKG, 3, PB_ROLE_P1, m->sid);
    pb_msg_put_point(&w, &m->q1);
    pb_writer_raw(&w, m->c1, sizeof m->c1);
    pb_writer_raw(&w, m->opening, sizeof m->opening);
    pb_zk_sch_encode(&w, &m->sch);
    pb_key_bundle_encode(&w, &m->key);
    return pb_msg_finish(&w, out, out_len);
}

pb_status pb_dkg_m3_decode(pb_dkg_m3 *m, const uint8_t *in, size_t in_len, int bits,
                           const pb_rped_public *rp)
{
    memset(&m->key, 0, sizeof m->key);
    pb_reader r;
    pb_status st = pb_msg_open(&r, in, in_len, PB_PROTO_DKG, 3, PB_ROLE_P1, m->sid);
    if (st == PB_OK)
        st = pb_msg_get_point(&r, &m->q1, "Q1");
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->c1, sizeof m->c1, "chain-code half c1");
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->opening, sizeof m->opening, "commitment opening");
    if (st == PB_OK)
        st = pb_zk_sch_decode(&r, &m->sch);
    if (st == PB_OK)
        st = pb_key_bundle_decode(&r, &m->key, bits, rp);
    if (st == PB_OK && (st = pb_reader_finish(&r, "dkg message 3")) != PB_OK)
        pb_key_bundle_clear(&m->key);
    return st;
}

void pb_dkg_m3_clear(pb_dkg_m3 *m) { pb_key_bundle_clear(&m->key); }

pb_status pb_dkg_m4_encode(const pb_dkg_m4 *m, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_msg_begin(&w, PB_PROTO_DKG, 4, PB_ROLE_P2, m->sid);
    pb_writer_raw(&w, m->share_id, sizeof m->share_id);
    return pb_msg_finish(&w, out, out_len);
}

pb_status pb_dkg_m4_decode(pb_dkg_m4 *m, const uint8_t *in, size_t in_len)
{
    pb_reader r;
    pb_status st = pb_msg_open(&r, in, in_len, PB_PROTO_DKG, 4, PB_ROLE_P2, m->sid);
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->share_id, sizeof m->share_id, "share id");
    if (st == PB_OK)
        st = pb_reader_finish(&r, "dkg message 4");
    return st;
}

static void commit_payload(uint8_t payload[PB_POINT_BYTES + PB_BIP32_CHAIN_BYTES],
                           const pb_point *q1, const uint8_t c1[PB_BIP32_CHAIN_BYTES])
{
    pb_point_serialize(payload, q1);
    memcpy(payload + PB_POINT_BYTES, c1, PB_BIP32_CHAIN_BYTES);
}

void pb_dkg_commit(uint8_t com[PB_COMMIT_BYTES], const uint8_t n1[PB_NONCE_BYTES],
                   const pb_point *q1, const uint8_t c1[PB_BIP32_CHAIN_BYTES],
                   const uint8_t opening[PB_COMMIT_OPENING_BYTES])
{
    uint8_t pre[PB_SESSION_ID_BYTES], payload[PB_POINT_BYTES + PB_BIP32_CHAIN_BYTES];
    pb_msg_pre_id(pre, PB_PROTO_DKG, n1);
    commit_payload(payload, q1, c1);
    pb_commit_compute(com, "dkg/q1-chain", pre, PB_ROLE_P1, payload, sizeof payload, opening);
}

pb_status pb_dkg_commit_check(const uint8_t com[PB_COMMIT_BYTES],
                              const uint8_t n1[PB_NONCE_BYTES], const pb_point *q1,
                              const uint8_t c1[PB_BIP32_CHAIN_BYTES],
                              const uint8_t opening[PB_COMMIT_OPENING_BYTES])
{
    uint8_t pre[PB_SESSION_ID_BYTES], payload[PB_POINT_BYTES + PB_BIP32_CHAIN_BYTES];
    pb_msg_pre_id(pre, PB_PROTO_DKG, n1);
    commit_payload(payload, q1, c1);
    return pb_commit_check(com, "dkg/q1-chain", pre, PB_ROLE_P1, payload, sizeof payload,
                           opening, "dkg message 3 (Q1, c1)");
}

void pb_dkg_chain_code(uint8_t out[PB_BIP32_CHAIN_BYTES], const uint8_t sid[PB_SESSION_ID_BYTES],
                       const uint8_t c1[PB_BIP32_CHAIN_BYTES],
                       const uint8_t c2[PB_BIP32_CHAIN_BYTES])
{
    static const char tag[] = "planbok/mpc/chain-code/v1";
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(c, tag, sizeof tag - 1) &&
             EVP_DigestUpdate(c, sid, PB_SESSION_ID_BYTES) &&
             EVP_DigestUpdate(c, c1, PB_BIP32_CHAIN_BYTES) &&
             EVP_DigestUpdate(c, c2, PB_BIP32_CHAIN_BYTES) && EVP_DigestFinal_ex(c, out, &len) &&
             len == PB_BIP32_CHAIN_BYTES;
    EVP_MD_CTX_free(c);
    /* Both parties hash the same inputs; a failure on one side gives a
     * mismatching wallet, which the share id in m4 exposes. */
    if (!ok)
        (void)RAND_bytes(out, PB_BIP32_CHAIN_BYTES);
}

void pb_dkg_sch_transcript(pb_transcript *t, const uint8_t sid[PB_SESSION_ID_BYTES],
                           uint8_t role, const uint8_t chain_half[PB_BIP32_CHAIN_BYTES])
{
    pb_mpc_transcript(t, PB_PROTO_DKG, "share-sch", sid, role, chain_half,
                      PB_BIP32_CHAIN_BYTES);
}

void pb_dkg_bundle_ctx(pb_key_bundle_ctx *ctx, const uint8_t sid[PB_SESSION_ID_BYTES])
{
    ctx->protocol = PB_PROTO_DKG;
    ctx->sid = sid;
    ctx->context = NULL;
    ctx->context_len = 0;
}
