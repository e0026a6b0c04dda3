/* keystore.c - opening a node's key store, finding its keys, and running
 * token operations with the session-recovery rule (see keystore.h). */
#include "pkcs11/keystore_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fail.h"
#include "common/secret.h"

pb_status pb_ks_check_ref(const pb_blob_ref *ref)
{
    if (!ref || pb_wallet_id_check(ref->wallet_id) != 0)
        return pb_fail(PB_ERR_ARGUMENT,
                       "wallet id must be 1-64 characters of [A-Za-z0-9._-], not starting with '.'");
    if (ref->role != 1 && ref->role != 2)
        return pb_fail(PB_ERR_ARGUMENT, "role must be 1 or 2");
    if (!pb_blob_kind_name(ref->kind))
        return pb_fail(PB_ERR_ARGUMENT, "unknown blob kind %d", (int)ref->kind);
    return PB_OK;
}

void pb_ks_blob_label(const pb_blob_ref *ref, char out[PB_BLOB_LABEL_MAX])
{
    snprintf(out, PB_BLOB_LABEL_MAX, "%s/p%u/%s", ref->wallet_id, ref->role,
             pb_blob_kind_name(ref->kind));
}

pb_status pb_ks_find_one(pb_keystore *ks, CK_SESSION_HANDLE session, CK_OBJECT_CLASS cls,
                         const char *label, CK_OBJECT_HANDLE *out)
{
    CK_FUNCTION_LIST *fn = ks->mod.fn;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_LABEL, (void *)(uintptr_t)label, strlen(label)},
    };
    CK_OBJECT_HANDLE found[2];
    CK_ULONG count = 0;
    *out = CK_INVALID_HANDLE;
    CK_RV rv = fn->C_FindObjectsInit(session, tmpl, 2);
    if (rv != CKR_OK)
        return pb_p11_fail(rv, "C_FindObjectsInit");
    rv = fn->C_FindObjects(session, found, 2, &count);
    fn->C_FindObjectsFinal(session);
    if (rv != CKR_OK)
        return pb_p11_fail(rv, "C_FindObjects");
    if (count > 1)
        return pb_fail(PB_ERR_HSM, "several token objects are labelled '%s'; remove the extra",
                       label);
    if (count == 1)
        *out = found[0];
    return PB_OK;
}

/* Re-finds every cached handle; caller holds the write lock. */
static pb_status find_handles(pb_keystore *ks, CK_SESSION_HANDLE session)
{
    pb_status st = pb_ks_find_one(ks, session, CKO_SECRET_KEY, ks->cfg.kek_label, &ks->kek);
    if (st == PB_OK)
        st = pb_ks_find_one(ks, session, CKO_PRIVATE_KEY, ks->cfg.audit_key_label,
                            &ks->audit_private);
    if (st == PB_OK)
        st = pb_ks_find_one(ks, session, CKO_PUBLIC_KEY, ks->cfg.audit_key_label,
                            &ks->audit_public);
    if (st == PB_OK && ks->cfg.placement == PB_PLACEMENT_TOKEN)
        st = pb_ks_scan_blobs(ks, session);
    return st;
}

static pb_status recover(pb_keystore *ks, unsigned long seen_generation)
{
    /* The re-login rewrites a developer token's record: under its guard. */
    pb_status st = pb_p11_module_guard_take(&ks->mod);
    if (st == PB_OK) {
        st = pb_pool_recover(&ks->pool, seen_generation);
        pb_status kept = pb_p11_module_guard_release(&ks->mod, st == PB_OK);
        if (st == PB_OK)
            st = kept;
    }
    if (st != PB_OK)
        return pb_fail_context(st, "re-opening token sessions");
    if ((st = pb_p11_module_share(&ks->mod)) != PB_OK)
        return st;
    pb_session s;
    pb_pool_acquire(&ks->pool, &s);
    pthread_rwlock_wrlock(&ks->lock);
    st = find_handles(ks, s.handle);
    pthread_rwlock_unlock(&ks->lock);
    pb_pool_release(&ks->pool, &s);
    pb_p11_module_unshare(&ks->mod);
    return st;
}

pb_status pb_ks_run(pb_keystore *ks, pb_token_op op, void *ctx, CK_RV *rv_out)
{
    CK_RV rv = CKR_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        /* Shared before the session is borrowed: a recovery takes the
         * exclusive side and then waits for every borrowed session. */
        pb_status shared = pb_p11_module_share(&ks->mod);
        if (shared != PB_OK)
            return shared;
        pb_session s;
        pb_pool_acquire(&ks->pool, &s);
        rv = op(ks, s.handle, ctx);
        pb_pool_release(&ks->pool, &s);
        pb_p11_module_unshare(&ks->mod);
        if (rv == CKR_OK || !pb_p11_rv_is_recoverable(rv) || attempt == 1)
            break;
        pb_status st = recover(ks, s.generation);
        if (st != PB_OK) {
            if (rv_out)
                *rv_out = rv;
            return st;
        }
    }
    if (rv_out)
        *rv_out = rv;
    return rv == CKR_OK ? PB_OK : pb_p11_fail(rv, "token operation");
}

static pb_status check_kek_attributes(pb_keystore *ks, CK_SESSION_HANDLE session)
{
    CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE;
    CK_ATTRIBUTE attrs[] = {
        {CKA_SENSITIVE, &sensitive, sizeof sensitive},
        {CKA_EXTRACTABLE, &extractable, sizeof extractable},
    };
    CK_RV rv = ks->mod.fn->C_GetAttributeValue(session, ks->kek, attrs, 2);
    if (rv != CKR_OK)
        return pb_p11_fail(rv, "reading the KEK's attributes");
    if (!sensitive || extractable)
        return pb_fail(PB_ERR_HSM,
                       "KEK '%s' is not sensitive or is extractable; refusing to seal with it",
                       ks->cfg.kek_label);
    return PB_OK;
}

static pb_status prepare_keys(pb_keystore *ks, unsigned flags)
{
    pb_status shared = pb_p11_module_share(&ks->mod);
    if (shared != PB_OK)
        return shared;
    pb_session s;
    pb_pool_acquire(&ks->pool, &s);
    pthread_rwlock_wrlock(&ks->lock);
    pb_status st = find_handles(ks, s.handle);
    if (st == PB_OK && ks->kek == CK_INVALID_HANDLE) {
        st = (flags & PB_KEYSTORE_CREATE)
                 ? pb_ks_create_kek(ks, s.handle)
                 : pb_fail(PB_ERR_HSM, "no KEK labelled '%s' in the token; run 'planbok init'",
                           ks->cfg.kek_label);
    }
    if (st == PB_OK && ks->audit_private == CK_INVALID_HANDLE) {
        st = (flags & PB_KEYSTORE_CREATE)
                 ? pb_ks_create_audit_key(ks, s.handle)
                 : pb_fail(PB_ERR_HSM,
                           "no audit key labelled '%s' in the token; run 'planbok init'",
                           ks->cfg.audit_key_label);
    }
    if (st == PB_OK)
        st = check_kek_attributes(ks, s.handle);
    pthread_rwlock_unlock(&ks->lock);
    pb_pool_release(&ks->pool, &s);
    pb_p11_module_unshare(&ks->mod);
    return st;
}

pb_status pb_keystore_open(const pb_hsm_config *cfg, unsigned flags, pb_keystore **out)
{
    *out = NULL;
    pb_secure_heap_ensure();
    if ((flags & PB_KEYSTORE_CREATE) && (flags & PB_KEYSTORE_READ_ONLY))
        return pb_fail(PB_ERR_ARGUMENT, "a read-only key store cannot create keys");
    if (cfg->placement == PB_PLACEMENT_DIRECTORY && cfg->store_dir[0] == '\0')
        return pb_fail(PB_ERR_ARGUMENT, "placement 'directory' needs store_dir");
    pb_keystore *ks = calloc(1, sizeof *ks);
    if (!ks)
        return pb_fail(PB_ERR_NOMEM, "out of memory opening the key store");
    ks->cfg = *cfg;
    ks->next_seq = 1;
    pb_handle_cache_init(&ks->blobs);
    pthread_rwlock_init(&ks->lock, NULL);

    pb_status st = pb_p11_module_open(&ks->cfg, &ks->mod);
    if (st != PB_OK) {
        pthread_rwlock_destroy(&ks->lock);
        free(ks);
        return st;
    }
    st = pb_pool_open(&ks->pool, &ks->mod, &ks->cfg, (flags & PB_KEYSTORE_READ_ONLY) != 0);
    /* The module was opened under the token guard; C_Login is done now. */
    pb_status kept = pb_p11_module_guard_release(&ks->mod, st == PB_OK);
    if (st == PB_OK)
        st = kept;
    if (st == PB_OK)
        st = prepare_keys(ks, flags);
    if (st != PB_OK) {
        pb_keystore_close(ks);
        return st;
    }
    *out = ks;
    return PB_OK;
}

void pb_keystore_close(pb_keystore *ks)
{
    if (!ks)
        return;
    pb_pool_close(&ks->pool);
    pb_p11_module_close(&ks->mod);
    pb_handle_cache_clear(&ks->blobs);
    pthread_rwlock_destroy(&ks->lock);
    free(ks);
}

void pb_keystore_raw_access(pb_keystore *ks, pb_keystore_raw *raw)
{
    pthread_rwlock_rdlock(&ks->lock);
    raw->function_list = ks->mod.fn;
    raw->slot = ks->mod.slot;
    raw->kek_handle = ks->kek;
    pthread_rwlock_unlock(&ks->lock);
}

pb_status pb_keystore_put(pb_keystore *ks, const pb_blob_ref *ref, const uint8_t *plain,
                          size_t plain_len)
{
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    pb_status st = pb_keystore_seal(ks, ref, plain, plain_len, &blob, &blob_len);
    if (st != PB_OK)
        return st;
    st = pb_keystore_put_sealed(ks, ref, blob, blob_len);
    free(blob);
    return st;
}

pb_status pb_keystore_get(pb_keystore *ks, const pb_blob_ref *ref, uint8_t **plain,
                          size_t *plain_len)
{
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    pb_status st = pb_keystore_get_sealed(ks, ref, &blob, &blob_len);
    if (st != PB_OK)
        return st;
    st = pb_keystore_unseal(ks, ref, blob, blob_len, plain, plain_len);
    free(blob);
    return st;
}

/* Said before the placement is touched: a directory placement would not be
 * stopped by the read-only sessions. */
static pb_status check_writable(const pb_keystore *ks)
{
    return ks->pool.read_only ? pb_fail(PB_ERR_ARGUMENT, "the key store was opened read-only")
                              : PB_OK;
}

pb_status pb_keystore_put_sealed(pb_keystore *ks, const pb_blob_ref *ref, const uint8_t *blob,
                                 size_t blob_len)
{
    pb_status st = check_writable(ks);
    if (st != PB_OK)
        return st;
    st = pb_ks_check_ref(ref);
    if (st != PB_OK)
        return st;
    return ks->cfg.placement == PB_PLACEMENT_TOKEN ? pb_token_blob_put(ks, ref, blob, blob_len)
                                                   : pb_dir_blob_put(ks, ref, blob, blob_len);
}

pb_status pb_keystore_get_sealed(pb_keystore *ks, const pb_blob_ref *ref, uint8_t **blob,
                                 size_t *blob_len)
{
    pb_status st = pb_ks_check_ref(ref);
    if (st != PB_OK)
        return st;
    return ks->cfg.placement == PB_PLACEMENT_TOKEN ? pb_token_blob_get(ks, ref, blob, blob_len)
                                                   : pb_dir_blob_get(ks, ref, blob, blob_len);
}

pb_status pb_keystore_delete(pb_keystore *ks, const pb_blob_ref *ref)
{
    pb_status st = check_writable(ks);
    if (st != PB_OK)
        return st;
    st = pb_ks_check_ref(ref);
    if (st != PB_OK)
        return st;
    return ks->cfg.placement == PB_PLACEMENT_TOKEN ? pb_token_blob_delete(ks, ref)
                                                   : pb_dir_blob_delete(ks, ref);
}

size_t pb_keystore_blob_count(pb_keystore *ks)
{
    if (ks->cfg.placement == PB_PLACEMENT_DIRECTORY)
        return pb_dir_blob_count(ks);
    pthread_rwlock_rdlock(&ks->lock);
    size_t n = ks->blobs.count;
    pthread_rwlock_unlock(&ks->lock);
    return n;
}
