/* refresh_msg.c - refresh message encoders and strict decoders (see refresh.h). */
#include <string.h>

#include "common/fail.h"
#include "mpc/refresh.h"

pb_status pb_refresh_m1_encode(const pb_refresh_m1 *m, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_msg_begin(&w, PB_PROTO_REFRESH, 1, PB_ROLE_P1, NULL);
    pb_writer_raw(&w, m->n1, sizeof m->n1);
    pb_writer_raw(&w, m->share_id, sizeof m->share_id);
    pb_writer_raw(&w, m->com, sizeof m->com);
    return pb_msg_finish(&w, out, out_len);
}

pb_status pb_refresh_m1_decode(pb_refresh_m1 *m, const uint8_t *in, size_t in_len)
{
    pb_reader r;
    uint8_t sid[PB_SESSION_ID_BYTES];
    pb_status st = pb_msg_open(&r, in, in_len, PB_PROTO_REFRESH, 1, PB_ROLE_P1, sid);
    if (st == PB_OK)
        st = pb_msg_check_sid(sid, NULL, "refresh message 1");
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->n1, sizeof m->n1, "n1");
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->share_id, sizeof m->share_id, "share id");
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->com, sizeof m->com, "commitment");
    if (st == PB_OK)
        st = pb_reader_finish(&r, "refresh message 1");
    return st;
}

pb_status pb_refresh_m2_encode(const pb_refresh_m2 *m, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_msg_begin(&w, PB_PROTO_REFRESH, 2, PB_ROLE_P2, m->sid);
    pb_writer_raw(&w, m->n2, sizeof m->n2);
    pb_writer_raw(&w, m->d2.b, PB_SCALAR_BYTES);
    return pb_msg_finish(&w, out, out_len);
}

pb_status pb_refresh_m2_decode(pb_refresh_m2 *m, const uint8_t *in, size_t in_len)
{
    pb_reader r;
    pb_status st = pb_msg_open(&r, in, in_len, PB_PROTO_REFRESH, 2, PB_ROLE_P2, m->sid);
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->n2, sizeof m->n2, "n2");
    if (st == PB_OK)
        st = pb_msg_get_scalar(&r, &m->d2, "d2");
    if (st == PB_OK)
        st = pb_reader_finish(&r, "refresh message 2");
    return st;
}

pb_status pb_refresh_m3_encode(const pb_refresh_m3 *m, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_msg_begin(&w, PB_PROTO_REFRESH, 3, PB_ROLE_P1, m->sid);
    pb_writer_raw(&w, m->d1.b, PB_SCALAR_BYTES);
    pb_writer_raw(&w, m->opening, sizeof m->opening);
    pb_key_bundle_encode(&w, &m->key);
    return pb_msg_finish(&w, out, out_len);
}

pb_status pb_refresh_m3_decode(pb_refresh_m3 *m, const uint8_t *in, size_t in_len, int bits,
                               const pb_rped_public *rp)
{
    memset(&m->key, 0, sizeof m->key);
    pb_reader r;
    pb_status st = pb_msg_open(&r, in, in_len, PB_PROTO_REFRESH, 3, PB_ROLE_P1, m->sid);
    if (st == PB_OK)
        st = pb_msg_get_scalar(&r, &m->d1, "d1");
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->opening, sizeof m->opening, "commitment opening");
    if (st == PB_OK)
        st = pb_key_bundle_decode(&r, &m->key, bits, rp);
    if (st == PB_OK && (st = pb_reader_finish(&r, "refresh message 3")) != PB_OK)
        pb_key_bundle_clear(&m->key);
    return st;
}

void pb_refresh_m3_clear(pb_refresh_m3 *m) { pb_key_bundle_clear(&m->key); }

pb_status pb_refresh_m4_encode(const pb_refresh_m4 *m, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_msg_begin(&w, PB_PROTO_REFRESH, 4, PB_ROLE_P2, m->sid);
    pb_writer_raw(&w, m->share_id, sizeof m->share_id);
    return pb_msg_finish(&w, out, out_len);
}

pb_status pb_refresh_m4_decode(pb_refresh_m4 *m, const uint8_t *in, size_t in_len)
{
    pb_reader r;
    pb_status st = pb_msg_open(&r, in, in_len, PB_PROTO_REFRESH, 4, PB_ROLE_P2, m->sid);
    if (st == PB_OK)
        st = pb_msg_get_bytes(&r, m->share_id, sizeof m->share_id, "share id");
    if (st == PB_OK)
        st = pb_reader_finish(&r, "refresh message 4");
    return st;
}

static void commit_payload(uint8_t out[PB_SCALAR_BYTES + PB_MPC_SHARE_ID_BYTES],
                           const pb_scalar *d1, const uint8_t share_id[PB_MPC_SHARE_ID_BYTES])
{
    memcpy(out, d1->b, PB_SCALAR_BYTES);
    memcpy(out + PB_SCALAR_BYTES, share_id, PB_MPC_SHARE_ID_BYTES);
}

void pb_refresh_commit(uint8_t com[PB_COMMIT_BYTES], const uint8_t n1[PB_NONCE_BYTES],
                       const pb_scalar *d1, const uint8_t share_id[PB_MPC_SHARE_ID_BYTES],
                       const uint8_t opening[PB_COMMIT_OPENING_BYTES])
{
    uint8_t pre[PB_SESSION_ID_BYTES], payload[PB_SCALAR_BYTES + PB_MPC_SHARE_ID_BYTES];
    pb_msg_pre_id(pre, PB_PROTO_REFRESH, n1);
    commit_payload(payload, d1, share_id);
    pb_commit_compute(com, "refresh/d1", pre, PB_ROLE_P1, payload, sizeof payload, opening);
}

pb_status pb_refresh_commit_check(const uint8_t com[PB_COMMIT_BYTES],
                                  const uint8_t n1[PB_NONCE_BYTES], const pb_scalar *d1,
                                  const uint8_t share_id[PB_MPC_SHARE_ID_BYTES],
                                  const uint8_t opening[PB_COMMIT_OPENING_BYTES])
{
    uint8_t pre[PB_SESSION_ID_BYTES], payload[PB_SCALAR_BYTES + PB_MPC_SHARE_ID_BYTES];
    pb_msg_pre_id(pre, PB_PROTO_REFRESH, n1);
    commit_payload(payload, d1, share_id);
    return pb_commit_check(com, "refresh/d1", pre, PB_ROLE_P1, payload, sizeof payload, opening,
                           "refresh message 3 (d1)");
}

void pb_refresh_bundle_ctx(pb_key_bundle_ctx *ctx, const uint8_t sid[PB_SESSION_ID_BYTES],
                           const uint8_t old_share_id[PB_MPC_SHARE_ID_BYTES])
{
    ctx->protocol = PB_PROTO_REFRESH;
    ctx->sid = sid;
    ctx->context = old_share_id;
    ctx->context_len = PB_MPC_SHARE_ID_BYTES;
}
