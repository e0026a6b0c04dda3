/* msg.c - message envelope, session ids and session bookkeeping (see msg.h). */
#include "mpc/msg.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/fail.h"

static const uint8_t ZERO_SID[PB_SESSION_ID_BYTES];

PB_API void pb_mpc_bytes_free(uint8_t *bytes, size_t len) { pb_bytes_free(bytes, len); }

void pb_msg_begin(pb_writer *w, uint8_t protocol, uint8_t type, uint8_t sender,
                  const uint8_t sid[PB_SESSION_ID_BYTES])
{
    const uint8_t magic[4] = {PB_MSG_MAGIC_0, PB_MSG_MAGIC_1, PB_MSG_MAGIC_2, PB_MSG_MAGIC_3};
    pb_writer_raw(w, magic, sizeof magic);
    pb_writer_u8(w, PB_MSG_VERSION);
    pb_writer_u8(w, protocol);
    pb_writer_u8(w, type);
    pb_writer_u8(w, sender);
    pb_writer_raw(w, sid ? sid : ZERO_SID, PB_SESSION_ID_BYTES);
}

static const char *protocol_name(uint8_t p)
{
    switch (p) {
    case PB_PROTO_DKG: return "dkg";
    case PB_PROTO_SIGN: return "sign";
    case PB_PROTO_REFRESH: return "refresh";
    default: return "unknown protocol";
    }
}

pb_status pb_msg_open(pb_reader *r, const uint8_t *in, size_t in_len, uint8_t protocol,
                      uint8_t type, uint8_t sender, uint8_t sid_out[PB_SESSION_ID_BYTES])
{
    if (in == NULL && in_len != 0)
        return pb_fail(PB_ERR_ARGUMENT, "message: NULL buffer");
    if (in_len > PB_MPC_MESSAGE_MAX)
        return pb_fail(PB_ERR_PARSE, "message: %zu bytes exceeds the %u-byte limit", in_len,
                       PB_MPC_MESSAGE_MAX);
    if (in_len < PB_MSG_HEADER_BYTES)
        return pb_fail(PB_ERR_PARSE, "message: %zu bytes is shorter than the header", in_len);
    pb_reader_init(r, in, in_len);
    const uint8_t *magic = pb_reader_raw(r, 4);
    if (magic[0] != PB_MSG_MAGIC_0 || magic[1] != PB_MSG_MAGIC_1 ||
        magic[2] != PB_MSG_MAGIC_2 || magic[3] != PB_MSG_MAGIC_3)
        return pb_fail(PB_ERR_PARSE, "message: bad magic (not a planbok mpc message)");
    uint8_t version = pb_reader_u8(r);
    if (version != PB_MSG_VERSION)
        return pb_fail(PB_ERR_PARSE, "message: unsupported version %u", version);
    uint8_t got_protocol = pb_reader_u8(r);
    uint8_t got_type = pb_reader_u8(r);
    uint8_t got_sender = pb_reader_u8(r);
    memcpy(sid_out, pb_reader_raw(r, PB_SESSION_ID_BYTES), PB_SESSION_ID_BYTES);
    if (got_sender != PB_ROLE_P1 && got_sender != PB_ROLE_P2)
        return pb_fail(PB_ERR_PARSE, "message: sender role %u is neither P1 nor P2",
                       got_sender);
    if (got_protocol != protocol || got_type != type || got_sender != sender)
        return pb_fail(PB_ERR_STATE,
                       "message: expected %s message %u from P%u, got %s message %u from P%u",
                       protocol_name(protocol), type, sender, protocol_name(got_protocol),
                       got_type, got_sender);
    return PB_OK;
}

pb_status pb_msg_check_sid(const uint8_t got[PB_SESSION_ID_BYTES],
                           const uint8_t want[PB_SESSION_ID_BYTES], const char *what)
{
    if (memcmp(got, want ? want : ZERO_SID, PB_SESSION_ID_BYTES) != 0)
        return pb_fail(PB_ERR_STATE, "%s: %s", what,
                       want ? "message belongs to another session"
                            : "first message must carry an all-zero session id");
    return PB_OK;
}

static void hash_parts(uint8_t out[32], const char *tag, uint8_t protocol, const uint8_t *a,
                       const uint8_t *b)
{
    uint8_t len[4];
    size_t n = strlen(tag);
    len[0] = (uint8_t)(n >> 24);
    len[1] = (uint8_t)(n >> 16);
    len[2] = (uint8_t)(n >> 8);
    len[3] = (uint8_t)n;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int out_len = 0;
    int ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(c, len, 4) && EVP_DigestUpdate(c, tag, n) &&
             EVP_DigestUpdate(c, &protocol, 1) && EVP_DigestUpdate(c, a, PB_NONCE_BYTES) &&
             (b == NULL || EVP_DigestUpdate(c, b, PB_NONCE_BYTES)) &&
             EVP_DigestFinal_ex(c, out, &out_len) && out_len == 32;
    EVP_MD_CTX_free(c);
    /* A hash failure must not yield a predictable id: random ids simply make
     * the run fail at the peer, which is the safe outcome. */
    if (!ok)
        (void)RAND_bytes(out, 32);
}

void pb_msg_session_id(uint8_t sid[PB_SESSION_ID_BYTES], uint8_t protocol,
                       const uint8_t n1[PB_NONCE_BYTES], const uint8_t n2[PB_NONCE_BYTES])
{
    hash_parts(sid, "planbok/mpc/sid/v1", protocol, n1, n2);
}

void pb_msg_pre_id(uint8_t out[PB_SESSION_ID_BYTES], uint8_t protocol,
                   const uint8_t n1[PB_NONCE_BYTES])
{
    hash_parts(out, "planbok/mpc/pre-sid/v1", protocol, n1, NULL);
}

pb_status pb_msg_random(uint8_t *out, size_t n)
{
    if (RAND_bytes(out, (int)n) != 1)
        return pb_fail(PB_ERR_CRYPTO, "random bytes: RNG failed");
    return PB_OK;
}

pb_status pb_msg_get_bytes(pb_reader *r, uint8_t *out, size_t n, const char *what)
{
    const uint8_t *b = pb_reader_raw(r, n);
    if (!b)
        return pb_fail(PB_ERR_PARSE, "message truncated at %s", what);
    memcpy(out, b, n);
    return PB_OK;
}

pb_status pb_msg_get_point(pb_reader *r, pb_point *out, const char *what)
{
    const uint8_t *b = pb_reader_raw(r, PB_POINT_BYTES);
    if (!b)
        return pb_fail(PB_ERR_PARSE, "message truncated at %s", what);
    pb_status st = pb_point_parse(out, b);
    return st == PB_OK ? st : pb_fail_context(st, "%s", what);
}

pb_status pb_msg_get_scalar(pb_reader *r, pb_scalar *out, const char *what)
{
    const uint8_t *b = pb_reader_raw(r, PB_SCALAR_BYTES);
    if (!b)
        return pb_fail(PB_ERR_PARSE, "message truncated at %s", what);
    pb_status st = pb_scalar_parse(out, b);
    return st == PB_OK ? st : pb_fail_context(st, "%s", what);
}

void pb_msg_put_point(pb_writer *w, const pb_point *p)
{
    uint8_t b[PB_POINT_BYTES];
    pb_point_serialize(b, p);
    pb_writer_raw(w, b, sizeof b);
}

pb_status pb_msg_finish(pb_writer *w, uint8_t **out, size_t *out_len)
{
    if (w->len > PB_MPC_MESSAGE_MAX) {
        pb_writer_free(w);
        return pb_fail(PB_ERR_ARGUMENT, "message: would exceed the %u-byte limit",
                       PB_MPC_MESSAGE_MAX);
    }
    return pb_writer_finish(w, out, out_len);
}

void pb_mpc_transcript(pb_transcript *t, uint8_t protocol, const char *what,
                       const uint8_t id[PB_SESSION_ID_BYTES], uint8_t role,
                       const uint8_t *context, size_t context_len)
{
    char tag[96];
    (void)snprintf(tag, sizeof tag, "planbok/mpc/%s/v1/%s", protocol_name(protocol), what);
    pb_transcript_init(t, tag, id, role);
    if (context_len > 0)
        pb_transcript_append(t, "context", context, context_len);
}

void pb_session_core_init(pb_session_core *c, const char *name, uint8_t protocol, uint8_t role)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->protocol = protocol;
    c->role = role;
    c->next = 1;
}

pb_status pb_session_expect(const pb_session_core *c, int n)
{
    if (c->failed)
        return pb_fail(PB_ERR_STATE, "%s: session aborted by an earlier failure", c->name);
    if (c->next != n)
        return pb_fail(PB_ERR_STATE, "%s: out of order (at step %d, asked for step %d)",
                       c->name, c->next, n);
    return PB_OK;
}

pb_status pb_session_reject(const pb_session_core *c, int last)
{
    if (c->failed)
        return pb_fail(PB_ERR_STATE, "%s: session aborted by an earlier failure", c->name);
    if (c->next > last)
        return pb_fail(PB_ERR_STATE, "%s: session complete; no further message is accepted",
                       c->name);
    return pb_fail(PB_ERR_STATE, "%s: no message is expected now (at step %d)", c->name,
                   c->next);
}

pb_status pb_session_settle(pb_session_core *c, pb_status st)
{
    if (st == PB_OK)
        return PB_OK;
    c->failed = 1;
    return pb_fail_context(st, "%s", c->name);
}

void pb_session_set_sid(pb_session_core *c)
{
    pb_msg_session_id(c->sid, c->protocol, c->n1, c->n2);
    c->have_sid = 1;
}
