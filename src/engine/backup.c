/* backup.c - admin-led recovery of one node: every record it seals, its
 * node secret and its wallet rows, sealed to an offline RSA-OAEP-SHA256
 * recovery key (custody/backup.h), and the way back into a fresh token.
 *
 * Bundle (inside the RSA-OAEP envelope):
 *   "PBBK" | u8 version=1 | u8 node | u32 rows, rows | u32 blobs, blobs
 *   row:  the public wallet facts and counters (see wallet_db.h)
 *   blob: var wallet id | u8 role | u8 kind | var unsealed record
 * Trustless and customer records are backed up as the node holds them:
 * still under the Organization Secret or the PIN. The bundle is secret
 * (it holds unsealed shares) and is wiped as soon as it is sealed/used.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/fail.h"
#include "common/file_write.h"
#include "common/secret.h"
#include "custody/backup.h"
#include "engine/engine_internal.h"
#include "engine/storage_space.h"

#define BUNDLE_VERSION 1
static const uint8_t bundle_magic[4] = {'P', 'B', 'B', 'K'};

static void put_row(pb_writer *w, const pb_wallet_row *r)
{
    const char *texts[] = {r->id, r->name, r->mode, r->public_key, r->xpub, r->state, r->created};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        pb_writer_var(w, texts[i], strlen(texts[i]));
    pb_writer_u8(w, (uint8_t)r->exported);
    pb_writer_u32(w, r->generation);
    pb_writer_u32(w, (uint32_t)r->pin_failures);
    pb_writer_u32(w, (uint32_t)r->pin_max);
    pb_writer_u8(w, (uint8_t)r->has_verifier);
    pb_writer_raw(w, r->verifier, sizeof r->verifier);
    pb_writer_u8(w, (uint8_t)r->has_recovery_pub);
    pb_writer_raw(w, r->recovery_pub, sizeof r->recovery_pub);
}

static int get_row(pb_reader *rd, pb_wallet_row *r)
{
    memset(r, 0, sizeof *r);
    if (pb_reader_text(rd, r->id, sizeof r->id) || pb_reader_text(rd, r->name, sizeof r->name) ||
        pb_reader_text(rd, r->mode, sizeof r->mode) ||
        pb_reader_text(rd, r->public_key, sizeof r->public_key) ||
        pb_reader_text(rd, r->xpub, sizeof r->xpub) || pb_reader_text(rd, r->state, sizeof r->state) ||
        pb_reader_text(rd, r->created, sizeof r->created))
        return -1;
    r->exported = pb_reader_u8(rd);
    r->generation = pb_reader_u32(rd);
    r->pin_failures = (int)pb_reader_u32(rd);
    r->pin_max = (int)pb_reader_u32(rd);
    r->has_verifier = pb_reader_u8(rd);
    const uint8_t *v = pb_reader_raw(rd, sizeof r->verifier);
    r->has_recovery_pub = pb_reader_u8(rd);
    const uint8_t *k = pb_reader_raw(rd, sizeof r->recovery_pub);
    if (!v || !k || r->exported > 1 || r->has_verifier > 1 || r->has_recovery_pub > 1 ||
        pb_wallet_id_check(r->id) != 0)
        return -1;
    memcpy(r->verifier, v, sizeof r->verifier);
    memcpy(r->recovery_pub, k, sizeof r->recovery_pub);
    return 0;
}

/* Appends one blob if the node holds it. */
static pb_status put_blob(pb_writer *w, pb_keystore *ks, const char *wallet_id, uint8_t role,
                          pb_blob_kind kind, uint32_t *count)
{
    pb_blob_ref ref = {wallet_id, role, kind};
    uint8_t *plain = NULL;
    size_t len = 0;
    pb_status st = pb_keystore_get(ks, &ref, &plain, &len);
    if (st == PB_ERR_NOT_FOUND)
        return PB_OK;
    if (st != PB_OK)
        return st;
    pb_writer_var(w, wallet_id, strlen(wallet_id));
    pb_writer_u8(w, role);
    pb_writer_u8(w, (uint8_t)kind);
    pb_writer_var(w, plain, len);
    pb_secret_free(plain, len);
    (*count)++;
    return PB_OK;
}

static pb_status build_bundle(pb_engine *e, int node, pb_writer *w, size_t *records)
{
    pb_engine_node *n = &e->node[node - 1];
    pb_wallet_row *rows = NULL;
    size_t n_rows = 0;
    pb_status st = pb_wallet_db_list(n->db, &rows, &n_rows);
    if (st != PB_OK)
        return st;
    pb_writer_raw(w, bundle_magic, sizeof bundle_magic);
    pb_writer_u8(w, BUNDLE_VERSION);
    pb_writer_u8(w, (uint8_t)node);
    pb_writer_u32(w, (uint32_t)n_rows);
    for (size_t i = 0; i < n_rows; i++)
        put_row(w, &rows[i]);
    /* The blob count goes last so blobs can be streamed into the writer. */
    pb_writer blobs;
    pb_writer_init(&blobs);
    uint32_t count = 0;
    static const pb_blob_kind kinds[] = {PB_BLOB_SHARE, PB_BLOB_SHARE_PENDING,
                                         PB_BLOB_WRAPPED_SECRET, PB_BLOB_RECOVERY};
    for (size_t i = 0; i < n_rows && st == PB_OK; i++)
        for (uint8_t role = 1; role <= 2 && st == PB_OK; role++)
            for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && st == PB_OK; k++)
                st = put_blob(&blobs, n->ks, rows[i].id, role, kinds[k], &count);
    if (st == PB_OK && node == 2)
        st = put_blob(&blobs, n->ks, PB_COSIGNER_WALLET_ID, 2, PB_BLOB_NODE_SECRET, &count);
    free(rows);
    pb_writer_u32(w, count);
    pb_writer_raw(w, blobs.data, blobs.len);
    pb_writer_free(&blobs);
    *records = count;
    return st;
}

pb_status pb_engine_backup(pb_engine *e, int node, const char *public_key_pem,
                           const char *out_path, size_t *records)
{
    *records = 0;
    pb_status guard = pb_engine_require_writable(e, "backup");
    if (guard != PB_OK)
        return guard;
    if (node != 1 && node != 2)
        return pb_fail(PB_ERR_ARGUMENT, "node must be 1 or 2");
    pb_status space = pb_storage_check(&e->cfg);
    if (space != PB_OK)
        return space;
    pb_writer w;
    pb_writer_init(&w);
    uint8_t *bundle = NULL, *sealed = NULL;
    size_t bundle_len = 0, sealed_len = 0;
    pthread_rwlock_wrlock(&e->maintenance);
    pb_status st = build_bundle(e, node, &w, records);
    pthread_rwlock_unlock(&e->maintenance);
    if (st != PB_OK) {
        pb_writer_free(&w);
        return st;
    }
    st = pb_writer_finish(&w, &bundle, &bundle_len);
    if (st == PB_OK)
        st = pb_backup_seal(public_key_pem, bundle, bundle_len, &sealed, &sealed_len);
    pb_bytes_free(bundle, bundle_len);
    if (st == PB_OK)
        /* Atomic: a crash or a full disk mid-write keeps the previous
         * backup at out_path whole (fault points "backup.*"). */
        st = pb_file_write_atomic(out_path, sealed, sealed_len, "backup");
    pb_bytes_free(sealed, sealed_len);
    return pb_engine_audit_result(e, "backup", NULL, NULL, st, node == 1 ? PB_AUDIT_NODE1 : PB_AUDIT_NODE2);
}

static pb_status read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return pb_fail(PB_ERR_STORAGE, "cannot read '%s': %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *grown = cap < (256u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return pb_fail(PB_ERR_STORAGE, "'%s' is too large or memory ran out", path);
    *data = buf;
    *len = n;
    return PB_OK;
}

static pb_status apply_bundle(pb_engine *e, int node, const uint8_t *bundle, size_t len,
                              size_t *records)
{
    pb_engine_node *n = &e->node[node - 1];
    pb_reader rd;
    pb_reader_init(&rd, bundle, len);
    const uint8_t *magic = pb_reader_raw(&rd, sizeof bundle_magic);
    uint8_t version = pb_reader_u8(&rd), from = pb_reader_u8(&rd);
    if (!magic || memcmp(magic, bundle_magic, sizeof bundle_magic) || version != BUNDLE_VERSION)
        return pb_fail(PB_ERR_INTEGRITY, "not a planbok node backup (version %u)", version);
    if (from != node)
        return pb_fail(PB_ERR_ARGUMENT, "this backup is of node %u, not node %d", from, node);
    uint32_t n_rows = pb_reader_u32(&rd);
    pb_status st = PB_OK;
    for (uint32_t i = 0; i < n_rows && st == PB_OK; i++) {
        pb_wallet_row row;
        st = get_row(&rd, &row) == 0 ? pb_wallet_db_put(n->db, &row)
                                     : pb_fail(PB_ERR_INTEGRITY, "backup: malformed wallet row");
    }
    uint32_t n_blobs = pb_reader_u32(&rd);
    for (uint32_t i = 0; i < n_blobs && st == PB_OK; i++) {
        char id[PB_WALLET_ID_MAX + 1];
        size_t plain_len;
        int bad = pb_reader_text(&rd, id, sizeof id);
        uint8_t role = pb_reader_u8(&rd), kind = pb_reader_u8(&rd);
        const uint8_t *plain = pb_reader_var(&rd, PB_SEALED_PLAINTEXT_MAX, &plain_len);
        pb_blob_ref ref = {id, role, (pb_blob_kind)kind};
        if (bad || !plain)
            st = pb_fail(PB_ERR_INTEGRITY, "backup: malformed record entry");
        else
            st = pb_keystore_put(n->ks, &ref, plain, plain_len);
        if (st == PB_OK)
            (*records)++;
    }
    if (st == PB_OK)
        st = pb_reader_finish(&rd, "backup bundle");
    return st;
}

pb_status pb_engine_restore(pb_engine *e, int node, const char *private_key_pem,
                            const char *in_path, size_t *records)
{
    *records = 0;
    pb_status guard = pb_engine_require_writable(e, "restore");
    if (guard != PB_OK)
        return guard;
    if (node != 1 && node != 2)
        return pb_fail(PB_ERR_ARGUMENT, "node must be 1 or 2");
    uint8_t *sealed = NULL, *bundle = NULL;
    size_t sealed_len = 0, bundle_len = 0;
    pb_status st = pb_storage_check(&e->cfg);
    if (st == PB_OK)
        st = read_file(in_path, &sealed, &sealed_len);
    if (st == PB_OK)
        st = pb_backup_open(private_key_pem, sealed, sealed_len, &bundle, &bundle_len);
    free(sealed);
    if (st != PB_OK)
        return st;
    pthread_rwlock_wrlock(&e->maintenance);
    st = apply_bundle(e, node, bundle, bundle_len, records);
    pthread_rwlock_unlock(&e->maintenance);
    pb_secret_free(bundle, bundle_len);
    return pb_engine_audit_result(e, "restore", NULL, NULL, st, node == 1 ? PB_AUDIT_NODE1 : PB_AUDIT_NODE2);
}
