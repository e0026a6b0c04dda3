/* token_objects.c - sealed blobs as CKO_DATA token objects.
 *
 * Each blob is a private data object (application "planbok", label
 * "<wallet>/p<role>/<kind>", CKA_OBJECT_ID = the store sequence number as
 * the DER OID 2.25.<seq>, since data objects have no CKA_ID). A put looks
 * up the label's objects afresh, creates the new object above the highest
 * sequence number there, reads it back and compares it, and only then
 * destroys the ones it found (a module out of space may claim an object it
 * did not keep; the old one then stays). A crash in between leaves two
 * objects with one label: readers take the higher sequence number, the
 * next put removes the other. Handles are cached so a lookup never scans
 * the token; a miss or a handle another process destroyed falls back to a
 * search by label, because other processes change the token too. The blob
 * is already sealed: nothing here is secret.
 */
#include <stdlib.h>
#include <string.h>

#include "common/fail.h"
#include "pkcs11/keystore_internal.h"

#define SEQ_OID_MAX 12 /* 06 len 0x69 + up to 9 base-128 bytes of a u64 */

/* DER OBJECT IDENTIFIER 2.25.<seq>: arc 2.25 takes any integer. */
static size_t seq_encode(uint64_t seq, uint8_t out[SEQ_OID_MAX])
{
    uint8_t digits[10];
    size_t n = 0;
    do {
        digits[n++] = (uint8_t)(seq & 0x7f);
        seq >>= 7;
    } while (seq);
    out[0] = 0x06;
    out[1] = (uint8_t)(n + 1);
    out[2] = 0x69; /* 2*40 + 25 */
    for (size_t i = 0; i < n; i++)
        out[3 + i] = (uint8_t)(digits[n - 1 - i] | (i + 1 < n ? 0x80 : 0));
    return 3 + n;
}

/* Returns 0 and the sequence number, or -1 for anything not of our form. */
static int seq_decode(const uint8_t *in, size_t len, uint64_t *seq)
{
    if (len < 4 || len > SEQ_OID_MAX || in[0] != 0x06 || in[1] != len - 2 || in[2] != 0x69)
        return -1;
    uint64_t v = 0;
    for (size_t i = 3; i < len; i++) {
        if (v >> 57)
            return -1;
        v = (v << 7) | (in[i] & 0x7f);
        if ((i + 1 < len) != !!(in[i] & 0x80))
            return -1;
    }
    *seq = v;
    return 0;
}

#define SCAN_BATCH 256

pb_status pb_ks_scan_blobs(pb_keystore *ks, CK_SESSION_HANDLE session)
{
    CK_FUNCTION_LIST *fn = ks->mod.fn;
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_APPLICATION, PB_P11_APPLICATION, sizeof PB_P11_APPLICATION - 1},
    };
    pb_handle_cache_clear(&ks->blobs);
    CK_RV rv = fn->C_FindObjectsInit(session, tmpl, 2);
    if (rv != CKR_OK)
        return pb_p11_fail(rv, "C_FindObjectsInit (sealed blobs)");
    CK_OBJECT_HANDLE *all = NULL;
    size_t n_all = 0;
    for (;;) {
        CK_OBJECT_HANDLE batch[SCAN_BATCH];
        CK_ULONG got = 0;
        rv = fn->C_FindObjects(session, batch, SCAN_BATCH, &got);
        if (rv != CKR_OK || got == 0)
            break;
        CK_OBJECT_HANDLE *grown = realloc(all, (n_all + got) * sizeof *all);
        if (!grown) {
            rv = CKR_HOST_MEMORY;
            break;
        }
        all = grown;
        memcpy(all + n_all, batch, got * sizeof *all);
        n_all += got;
    }
    fn->C_FindObjectsFinal(session);
    if (rv != CKR_OK) {
        free(all);
        return pb_p11_fail(rv, "C_FindObjects (sealed blobs)");
    }

    pb_status st = PB_OK;
    for (size_t i = 0; i < n_all && st == PB_OK; i++) {
        char label[PB_BLOB_LABEL_MAX + 1];
        uint8_t oid[SEQ_OID_MAX];
        CK_ATTRIBUTE attrs[] = {
            {CKA_LABEL, label, PB_BLOB_LABEL_MAX},
            {CKA_OBJECT_ID, oid, sizeof oid},
        };
        uint64_t seq;
        rv = fn->C_GetAttributeValue(session, all[i], attrs, 2);
        if (rv != CKR_OK || attrs[0].ulValueLen == (CK_ULONG)-1 ||
            seq_decode(oid, attrs[1].ulValueLen, &seq) != 0)
            continue; /* not one of ours in the expected shape: leave it alone */
        label[attrs[0].ulValueLen] = '\0';
        if (seq >= ks->next_seq)
            ks->next_seq = seq + 1;
        /* The lower of two copies is left for the label's next put to
         * remove: it may be another process's put in flight. */
        const pb_handle_entry *have = pb_handle_cache_find(&ks->blobs, label);
        unsigned long replaced = 0;
        if ((!have || have->seq < seq) &&
            pb_handle_cache_put(&ks->blobs, label, all[i], seq, &replaced) != 0)
            st = pb_fail(PB_ERR_NOMEM, "out of memory caching object handles");
    }
    free(all);
    return st;
}

/* The objects of one label as the token holds them now. More than a few
 * copies cannot arise (each put removes what it found), so a fixed array
 * is enough; any beyond it are removed by a later put. */
#define LABEL_COPIES_MAX 8

typedef struct label_search {
    const char *label;
    CK_OBJECT_HANDLE found[LABEL_COPIES_MAX];
    size_t n;
    CK_OBJECT_HANDLE newest; /* CK_INVALID_HANDLE: none */
    uint64_t newest_seq;
} label_search;

static CK_RV search_label(pb_keystore *ks, CK_SESSION_HANDLE session, label_search *out)
{
    CK_FUNCTION_LIST *fn = ks->mod.fn;
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_APPLICATION, PB_P11_APPLICATION, sizeof PB_P11_APPLICATION - 1},
        {CKA_LABEL, (void *)(uintptr_t)out->label, strlen(out->label)},
    };
    out->n = 0;
    out->newest = CK_INVALID_HANDLE;
    out->newest_seq = 0;
    CK_ULONG got = 0;
    CK_RV rv = fn->C_FindObjectsInit(session, tmpl, 3);
    if (rv != CKR_OK)
        return rv;
    rv = fn->C_FindObjects(session, out->found, LABEL_COPIES_MAX, &got);
    fn->C_FindObjectsFinal(session);
    if (rv != CKR_OK)
        return rv;
    out->n = got;
    for (size_t i = 0; i < out->n; i++) {
        uint8_t oid[SEQ_OID_MAX];
        CK_ATTRIBUTE attr = {CKA_OBJECT_ID, oid, sizeof oid};
        uint64_t seq;
        if (fn->C_GetAttributeValue(session, out->found[i], &attr, 1) != CKR_OK ||
            seq_decode(oid, attr.ulValueLen, &seq) != 0)
            continue; /* being destroyed by another process, or not ours */
        if (out->newest == CK_INVALID_HANDLE || seq > out->newest_seq) {
            out->newest = out->found[i];
            out->newest_seq = seq;
        }
    }
    return CKR_OK;
}

static CK_RV search_op(pb_keystore *ks, CK_SESSION_HANDLE session, void *ctx)
{
    return search_label(ks, session, ctx);
}

/* Remembers `handle` as the label's current object (none: forgets it). */
static pb_status remember(pb_keystore *ks, const char *label, CK_OBJECT_HANDLE handle,
                          uint64_t seq)
{
    unsigned long replaced = 0;
    int rc = 0;
    pthread_rwlock_wrlock(&ks->lock);
    if (handle == CK_INVALID_HANDLE)
        pb_handle_cache_remove(&ks->blobs, label);
    else
        rc = pb_handle_cache_put(&ks->blobs, label, handle, seq, &replaced);
    if (seq >= ks->next_seq)
        ks->next_seq = seq + 1;
    pthread_rwlock_unlock(&ks->lock);
    return rc == 0 ? PB_OK : pb_fail(PB_ERR_NOMEM, "out of memory caching an object handle");
}

typedef struct create_job {
    const char *label;
    const uint8_t *blob;
    size_t len;
    uint64_t seq;
    CK_OBJECT_HANDLE created;
} create_job;

static CK_RV create_op(pb_keystore *ks, CK_SESSION_HANDLE session, void *ctx)
{
    create_job *job = ctx;
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL yes = CK_TRUE;
    uint8_t oid[SEQ_OID_MAX];
    size_t oid_len = seq_encode(job->seq, oid);
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_APPLICATION, PB_P11_APPLICATION, sizeof PB_P11_APPLICATION - 1},
        {CKA_LABEL, (void *)(uintptr_t)job->label, strlen(job->label)},
        {CKA_OBJECT_ID, oid, oid_len},
        {CKA_VALUE, (void *)(uintptr_t)job->blob, job->len},
    };
    return ks->mod.fn->C_CreateObject(session, tmpl, sizeof tmpl / sizeof tmpl[0],
                                      &job->created);
}

typedef struct handle_job {
    CK_OBJECT_HANDLE handle;
    const char *label;
    uint8_t *value;
    CK_ULONG len;
} handle_job;

/* An object already gone (another process's put or delete) is not an
 * error: gone is what was wanted. */
static CK_RV destroy_op(pb_keystore *ks, CK_SESSION_HANDLE session, void *ctx)
{
    handle_job *job = ctx;
    CK_RV rv = ks->mod.fn->C_DestroyObject(session, job->handle);
    return rv == CKR_OBJECT_HANDLE_INVALID ? CKR_OK : rv;
}

/* Reads CKA_VALUE of job->handle into job->value (malloc'd). */
static CK_RV read_handle_op(pb_keystore *ks, CK_SESSION_HANDLE session, void *ctx)
{
    handle_job *job = ctx;
    free(job->value);
    job->value = NULL;
    CK_ATTRIBUTE attr = {CKA_VALUE, NULL, 0};
    CK_RV rv = ks->mod.fn->C_GetAttributeValue(session, job->handle, &attr, 1);
    if (rv != CKR_OK)
        return rv;
    if (attr.ulValueLen == (CK_ULONG)-1 || attr.ulValueLen > 2 * PB_SEALED_PLAINTEXT_MAX)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    job->value = malloc(attr.ulValueLen ? attr.ulValueLen : 1);
    if (!job->value)
        return CKR_HOST_MEMORY;
    attr.pValue = job->value;
    rv = ks->mod.fn->C_GetAttributeValue(session, job->handle, &attr, 1);
    job->len = attr.ulValueLen;
    return rv;
}

/* Destroys what a search found, except `keep`. A failure leaves a lower
 * copy that readers pass over and the next put removes. */
static void destroy_found(pb_keystore *ks, const label_search *found, CK_OBJECT_HANDLE keep)
{
    for (size_t i = 0; i < found->n; i++) {
        if (found->found[i] == keep)
            continue;
        handle_job del = {.handle = found->found[i]};
        (void)pb_ks_run(ks, destroy_op, &del, NULL);
    }
}

pb_status pb_token_blob_put(pb_keystore *ks, const pb_blob_ref *ref, const uint8_t *blob,
                            size_t len)
{
    char label[PB_BLOB_LABEL_MAX];
    pb_ks_blob_label(ref, label);
    /* Another process may have put this label since this one looked: the
     * new object must land above whatever the token holds now. */
    label_search before = {.label = label};
    pb_status st = pb_ks_run(ks, search_op, &before, NULL);
    if (st != PB_OK)
        return pb_fail_context(st, "looking up sealed blob '%s' in the token", label);
    create_job job = {.label = label, .blob = blob, .len = len};
    pthread_rwlock_wrlock(&ks->lock);
    if (before.newest != CK_INVALID_HANDLE && before.newest_seq >= ks->next_seq)
        ks->next_seq = before.newest_seq + 1;
    job.seq = ks->next_seq++;
    pthread_rwlock_unlock(&ks->lock);
    st = pb_ks_run(ks, create_op, &job, NULL);
    if (st != PB_OK)
        return pb_fail_context(st, "storing sealed blob '%s' in the token", label);
    /* Write, read back, compare, and only then let the old object go: a
     * module that ran out of space may report success for an object it did
     * not keep. */
    handle_job check = {.handle = job.created};
    st = pb_ks_run(ks, read_handle_op, &check, NULL);
    if (st != PB_OK || check.len != len || memcmp(check.value, blob, len) != 0) {
        handle_job del = {.handle = job.created};
        (void)pb_ks_run(ks, destroy_op, &del, NULL);
        free(check.value);
        return pb_fail(PB_ERR_STORAGE,
                       "the token did not keep sealed blob '%s' (storage full?); the previous "
                       "one is kept", label);
    }
    free(check.value);
    st = remember(ks, label, job.created, job.seq);
    if (st != PB_OK)
        return st;
    destroy_found(ks, &before, job.created);
    return PB_OK;
}

/* Reads the label's object through the cached handle; a miss, or a handle
 * that another process's put or delete has destroyed, is searched for by
 * label in the same session. */
static CK_RV read_value_op(pb_keystore *ks, CK_SESSION_HANDLE session, void *ctx)
{
    handle_job *job = ctx;
    pthread_rwlock_rdlock(&ks->lock);
    const pb_handle_entry *e = pb_handle_cache_find(&ks->blobs, job->label);
    job->handle = e ? e->handle : CK_INVALID_HANDLE;
    pthread_rwlock_unlock(&ks->lock);
    if (job->handle != CK_INVALID_HANDLE) {
        CK_RV rv = read_handle_op(ks, session, ctx);
        if (rv != CKR_OBJECT_HANDLE_INVALID)
            return rv;
    }
    label_search now = {.label = job->label};
    CK_RV rv = search_label(ks, session, &now);
    if (rv != CKR_OK)
        return rv;
    if (remember(ks, job->label, now.newest, now.newest_seq) != PB_OK)
        return CKR_HOST_MEMORY;
    job->handle = now.newest;
    if (job->handle == CK_INVALID_HANDLE)
        return CKR_OK; /* absent; reported by the caller */
    return read_handle_op(ks, session, ctx);
}

pb_status pb_token_blob_get(pb_keystore *ks, const pb_blob_ref *ref, uint8_t **blob,
                            size_t *len)
{
    char label[PB_BLOB_LABEL_MAX];
    pb_ks_blob_label(ref, label);
    handle_job job = {.label = label};
    pb_status st = pb_ks_run(ks, read_value_op, &job, NULL);
    if (st != PB_OK) {
        free(job.value);
        return pb_fail_context(st, "reading sealed blob '%s' from the token", label);
    }
    if (job.handle == CK_INVALID_HANDLE)
        return pb_fail(PB_ERR_NOT_FOUND, "no sealed blob '%s' in the token", label);
    *blob = job.value;
    *len = job.len;
    return PB_OK;
}

pb_status pb_token_blob_delete(pb_keystore *ks, const pb_blob_ref *ref)
{
    char label[PB_BLOB_LABEL_MAX];
    pb_ks_blob_label(ref, label);
    label_search now = {.label = label};
    pb_status st = pb_ks_run(ks, search_op, &now, NULL);
    if (st != PB_OK)
        return pb_fail_context(st, "looking up sealed blob '%s' in the token", label);
    pthread_rwlock_wrlock(&ks->lock);
    pb_handle_cache_remove(&ks->blobs, label);
    pthread_rwlock_unlock(&ks->lock);
    if (now.n == 0)
        return pb_fail(PB_ERR_NOT_FOUND, "no sealed blob '%s' in the token", label);
    for (size_t i = 0; i < now.n; i++) {
        handle_job job = {.handle = now.found[i]};
        st = pb_ks_run(ks, destroy_op, &job, NULL);
        if (st != PB_OK)
            return pb_fail_context(st, "deleting sealed blob '%s'", label);
    }
    return PB_OK;
}
