/* blob_format.c - sealed-blob layout (see blob_format.h). */
#include "pkcs11/blob_format.h"

#include <string.h>

#include "common/bytes.h"
#include "common/fail.h"

static const uint8_t blob_magic[4] = {'P', 'B', 'S', 'B'};
static const char aad_tag[] = "planbok-seal";

int pb_wallet_id_check(const char *wallet_id)
{
    if (!wallet_id)
        return -1;
    size_t n = strnlen(wallet_id, PB_WALLET_ID_MAX + 1);
    if (n == 0 || n > PB_WALLET_ID_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = wallet_id[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.';
        if (!ok)
            return -1;
    }
    return wallet_id[0] == '.' ? -1 : 0;
}

const char *pb_blob_kind_name(pb_blob_kind kind)
{
    switch (kind) {
    case PB_BLOB_SHARE: return "share";
    case PB_BLOB_SHARE_PENDING: return "share-pending";
    case PB_BLOB_WRAPPED_SECRET: return "wrapped-secret";
    case PB_BLOB_RECOVERY: return "recovery";
    case PB_BLOB_NODE_SECRET: return "node-secret";
    case PB_BLOB_AUDIT_CHECKPOINT: return "audit-checkpoint";
    case PB_BLOB_WALLET_ROW: return "wallet-row";
    case PB_BLOB_WALLET_ANCHOR: return "wallet-anchor";
    }
    return NULL;
}

size_t pb_blob_aad(const pb_blob_ref *ref, uint8_t aad[PB_BLOB_AAD_MAX])
{
    size_t id_len = strlen(ref->wallet_id);
    size_t at = 0;
    memcpy(aad, aad_tag, sizeof aad_tag - 1);
    at += sizeof aad_tag - 1;
    aad[at++] = PB_BLOB_VERSION;
    aad[at++] = (uint8_t)ref->kind;
    aad[at++] = ref->role;
    aad[at++] = (uint8_t)id_len;
    memcpy(aad + at, ref->wallet_id, id_len);
    return at + id_len;
}

pb_status pb_blob_encode(const pb_blob_ref *ref, const char *kek_label,
                         const uint8_t iv[PB_GCM_IV_BYTES], const uint8_t *ct, size_t ct_len,
                         uint8_t **blob, size_t *blob_len)
{
    size_t id_len = strlen(ref->wallet_id);
    size_t label_len = strlen(kek_label);
    if (label_len > 64)
        return pb_fail(PB_ERR_ARGUMENT, "KEK label longer than 64 bytes");
    pb_writer w;
    pb_writer_init(&w);
    pb_writer_raw(&w, blob_magic, sizeof blob_magic);
    pb_writer_u8(&w, PB_BLOB_VERSION);
    pb_writer_u8(&w, PB_BLOB_ALG_AES256_GCM_P11);
    pb_writer_u8(&w, (uint8_t)ref->kind);
    pb_writer_u8(&w, ref->role);
    pb_writer_u8(&w, (uint8_t)id_len);
    pb_writer_raw(&w, ref->wallet_id, id_len);
    pb_writer_u8(&w, (uint8_t)label_len);
    pb_writer_raw(&w, kek_label, label_len);
    pb_writer_raw(&w, iv, PB_GCM_IV_BYTES);
    pb_writer_var(&w, ct, ct_len);
    return pb_writer_finish(&w, blob, blob_len);
}

pb_status pb_blob_decode(const uint8_t *blob, size_t blob_len, const pb_blob_ref *expect,
                         pb_blob_header *out)
{
    memset(out, 0, sizeof *out);
    pb_reader r;
    pb_reader_init(&r, blob, blob_len);
    const uint8_t *magic = pb_reader_raw(&r, sizeof blob_magic);
    if (!magic || memcmp(magic, blob_magic, sizeof blob_magic) != 0)
        return pb_fail(PB_ERR_INTEGRITY, "sealed blob: not a planbok blob (bad magic)");
    out->version = pb_reader_u8(&r);
    out->algorithm = pb_reader_u8(&r);
    out->kind = pb_reader_u8(&r);
    out->role = pb_reader_u8(&r);
    uint8_t id_len = pb_reader_u8(&r);
    const uint8_t *id = id_len <= PB_WALLET_ID_MAX ? pb_reader_raw(&r, id_len) : NULL;
    uint8_t label_len = pb_reader_u8(&r);
    const uint8_t *label = label_len <= 64 ? pb_reader_raw(&r, label_len) : NULL;
    const uint8_t *iv = pb_reader_raw(&r, PB_GCM_IV_BYTES);
    size_t ct_len = 0;
    const uint8_t *ct =
        pb_reader_var(&r, PB_SEALED_PLAINTEXT_MAX + PB_GCM_TAG_BYTES, &ct_len);
    if (!id || !label || !iv || !ct || pb_reader_finish(&r, "sealed blob") != PB_OK ||
        memchr(id, '\0', id_len) || memchr(label, '\0', label_len))
        return pb_fail(PB_ERR_INTEGRITY, "sealed blob: truncated, oversized or trailing bytes");
    if (out->version != PB_BLOB_VERSION)
        return pb_fail(PB_ERR_INTEGRITY, "sealed blob: unsupported format version %u",
                       out->version);
    if (out->algorithm != PB_BLOB_ALG_AES256_GCM_P11)
        return pb_fail(PB_ERR_INTEGRITY, "sealed blob: unsupported algorithm %u", out->algorithm);
    if (ct_len < PB_GCM_TAG_BYTES)
        return pb_fail(PB_ERR_INTEGRITY, "sealed blob: ciphertext shorter than its tag");
    for (size_t i = 0; i < label_len; i++) {
        if (label[i] < 0x20 || label[i] > 0x7e)
            return pb_fail(PB_ERR_INTEGRITY, "sealed blob: KEK label is not printable");
    }
    memcpy(out->wallet_id, id, id_len);
    out->wallet_id[id_len] = '\0';
    memcpy(out->kek_label, label, label_len);
    out->kek_label[label_len] = '\0';
    memcpy(out->iv, iv, PB_GCM_IV_BYTES);
    out->ciphertext = ct;
    out->ciphertext_len = ct_len;
    if (expect && (out->kind != (uint8_t)expect->kind || out->role != expect->role ||
                   strcmp(out->wallet_id, expect->wallet_id) != 0))
        return pb_fail(PB_ERR_INTEGRITY,
                       "sealed blob belongs to another wallet, role or kind than requested");
    return PB_OK;
}
