/* wallet_seal.c - row seals and anchors in the node's token (see
 * wallet_seal.h). */
#include "engine/wallet_seal.h"

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/fail.h"
#include "common/secret.h"

#define ROW_ENCODING_VERSION 1
static const uint8_t row_magic[4] = {'P', 'B', 'R', 'W'};

pb_status pb_wallet_row_encode(const pb_wallet_row *r, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_writer_raw(&w, row_magic, sizeof row_magic);
    pb_writer_u8(&w, ROW_ENCODING_VERSION);
    const char *texts[] = {r->id,    r->name,    r->mode,       r->public_key,
                           r->xpub,  r->state,   r->created,    r->lock_reason};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        pb_writer_var(&w, texts[i], strlen(texts[i]));
    pb_writer_u8(&w, (uint8_t)r->exported);
    pb_writer_u32(&w, r->generation);
    pb_writer_u32(&w, (uint32_t)r->pin_failures);
    pb_writer_u32(&w, (uint32_t)r->pin_max);
    pb_writer_u8(&w, (uint8_t)r->in_doubt);
    pb_writer_u8(&w, (uint8_t)r->has_verifier);
    pb_writer_raw(&w, r->verifier, sizeof r->verifier);
    pb_writer_u8(&w, (uint8_t)r->has_recovery_pub);
    pb_writer_raw(&w, r->recovery_pub, sizeof r->recovery_pub);
    pb_writer_u8(&w, (uint8_t)r->has_verifier_next);
    pb_writer_raw(&w, r->verifier_next, sizeof r->verifier_next);
    pb_writer_u64(&w, r->version);
    return pb_writer_finish(&w, out, out_len);
}

pb_status pb_wallet_row_decode(const uint8_t *in, size_t len, pb_wallet_row *r)
{
    memset(r, 0, sizeof *r);
    pb_reader rd;
    pb_reader_init(&rd, in, len);
    const uint8_t *magic = pb_reader_raw(&rd, sizeof row_magic);
    if (!magic || memcmp(magic, row_magic, sizeof row_magic) ||
        pb_reader_u8(&rd) != ROW_ENCODING_VERSION)
        return pb_fail(PB_ERR_INTEGRITY, "wallet row seal: unknown encoding");
    char *texts[] = {r->id,   r->name,  r->mode,    r->public_key,
                     r->xpub, r->state, r->created, r->lock_reason};
    size_t caps[] = {sizeof r->id,   sizeof r->name,  sizeof r->mode,    sizeof r->public_key,
                     sizeof r->xpub, sizeof r->state, sizeof r->created, sizeof r->lock_reason};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (pb_reader_text(&rd, texts[i], caps[i]) != 0)
            return pb_fail(PB_ERR_INTEGRITY, "wallet row seal: malformed text field");
    r->exported = pb_reader_u8(&rd);
    r->generation = pb_reader_u32(&rd);
    r->pin_failures = (int)pb_reader_u32(&rd);
    r->pin_max = (int)pb_reader_u32(&rd);
    r->in_doubt = pb_reader_u8(&rd);
    r->has_verifier = pb_reader_u8(&rd);
    const uint8_t *v = pb_reader_raw(&rd, sizeof r->verifier);
    r->has_recovery_pub = pb_reader_u8(&rd);
    const uint8_t *k = pb_reader_raw(&rd, sizeof r->recovery_pub);
    r->has_verifier_next = pb_reader_u8(&rd);
    const uint8_t *vn = pb_reader_raw(&rd, sizeof r->verifier_next);
    r->version = pb_reader_u64(&rd);
    if (!v || !k || !vn)
        return pb_fail(PB_ERR_INTEGRITY, "wallet row seal: truncated");
    memcpy(r->verifier, v, sizeof r->verifier);
    memcpy(r->recovery_pub, k, sizeof r->recovery_pub);
    memcpy(r->verifier_next, vn, sizeof r->verifier_next);
    return pb_reader_finish(&rd, "wallet row seal");
}

const char *pb_wallet_row_diff(const pb_wallet_row *a, const pb_wallet_row *b)
{
#define TEXT(f) if (strcmp(a->f, b->f)) return #f
#define VALUE(f) if (a->f != b->f) return #f
    TEXT(id); TEXT(name); TEXT(mode); TEXT(public_key); TEXT(xpub); TEXT(state);
    TEXT(created); TEXT(lock_reason);
    VALUE(exported); VALUE(generation); VALUE(pin_failures); VALUE(pin_max); VALUE(in_doubt);
    VALUE(has_verifier); VALUE(has_recovery_pub); VALUE(has_verifier_next); VALUE(version);
    if (memcmp(a->verifier, b->verifier, sizeof a->verifier)) return "verifier";
    if (memcmp(a->recovery_pub, b->recovery_pub, sizeof a->recovery_pub)) return "recovery_pub";
    if (memcmp(a->verifier_next, b->verifier_next, sizeof a->verifier_next)) return "verifier_next";
#undef TEXT
#undef VALUE
    return NULL;
}

/* --- the node's token as sealer ------------------------------------------------ */

typedef struct token_sealer {
    pb_keystore *ks;
    uint8_t node;
} token_sealer;

static pb_status seal_cb(void *ctx, const char *id, const uint8_t *in, size_t len,
                         uint8_t **out, size_t *out_len)
{
    token_sealer *t = ctx;
    pb_blob_ref ref = {id, t->node, PB_BLOB_WALLET_ROW};
    return pb_keystore_seal(t->ks, &ref, in, len, out, out_len);
}

static pb_status open_cb(void *ctx, const char *id, const uint8_t *in, size_t len,
                         uint8_t **out, size_t *out_len)
{
    token_sealer *t = ctx;
    pb_blob_ref ref = {id, t->node, PB_BLOB_WALLET_ROW};
    pb_status st = pb_keystore_unseal(t->ks, &ref, in, len, out, out_len);
    return st == PB_OK ? PB_OK
                       : pb_fail(PB_ERR_INTEGRITY, "the seal of wallet %s's row does not open "
                                                   "(%s)", id, pb_last_error());
}

static pb_status anchor_get_cb(void *ctx, const char *id, uint64_t *version)
{
    token_sealer *t = ctx;
    pb_blob_ref ref = {id, t->node, PB_BLOB_WALLET_ANCHOR};
    uint8_t *plain = NULL;
    size_t len = 0;
    pb_status st = pb_keystore_get(t->ks, &ref, &plain, &len);
    if (st != PB_OK)
        return st;
    pb_reader rd;
    pb_reader_init(&rd, plain, len);
    *version = pb_reader_u64(&rd);
    st = pb_reader_finish(&rd, "wallet anchor");
    pb_secret_free(plain, len);
    return st == PB_OK ? PB_OK : pb_fail(PB_ERR_INTEGRITY, "wallet %s: malformed anchor", id);
}

static pb_status anchor_put_cb(void *ctx, const char *id, uint64_t version)
{
    token_sealer *t = ctx;
    pb_blob_ref ref = {id, t->node, PB_BLOB_WALLET_ANCHOR};
    uint8_t buf[8];
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(version >> (56 - 8 * i));
    return pb_keystore_put(t->ks, &ref, buf, sizeof buf);
}

static pb_status anchor_drop_cb(void *ctx, const char *id)
{
    token_sealer *t = ctx;
    pb_blob_ref ref = {id, t->node, PB_BLOB_WALLET_ANCHOR};
    pb_status st = pb_keystore_delete(t->ks, &ref);
    return st == PB_ERR_NOT_FOUND ? PB_OK : st;
}

void pb_wallet_sealer_for(pb_wallet_db_sealer *sealer, pb_keystore *ks, int node)
{
    token_sealer *ctx = calloc(1, sizeof *ctx);
    memset(sealer, 0, sizeof *sealer);
    if (!ctx)
        return; /* the caller sees seal == NULL and reports it */
    ctx->ks = ks;
    ctx->node = (uint8_t)node;
    sealer->ctx = ctx;
    sealer->seal = seal_cb;
    sealer->open = open_cb;
    sealer->anchor_get = anchor_get_cb;
    sealer->anchor_put = anchor_put_cb;
    sealer->anchor_drop = anchor_drop_cb;
    sealer->release = free;
}
