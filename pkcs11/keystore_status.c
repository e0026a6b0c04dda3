/* keystore_status.c - what `planbok hsm status` reports about a node's token:
 * the module, the token, the mechanisms we rely on, the KEK's protection
 * attributes and how many objects the token holds. Reads attributes only;
 * never the KEK's value.
 */
#include <stdio.h>
#include <string.h>

#include "common/fail.h"
#include "pkcs11/keystore_internal.h"

static int has_mechanism(CK_FUNCTION_LIST *fn, CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
                         CK_FLAGS needed)
{
    CK_MECHANISM_INFO info;
    if (fn->C_GetMechanismInfo(slot, type, &info) != CKR_OK)
        return 0;
    return (info.flags & needed) == needed;
}

typedef struct status_job {
    pb_keystore_status *st;
} status_job;

static CK_RV status_op(pb_keystore *ks, CK_SESSION_HANDLE session, void *ctx)
{
    pb_keystore_status *st = ((status_job *)ctx)->st;
    CK_FUNCTION_LIST *fn = ks->mod.fn;
    pthread_rwlock_rdlock(&ks->lock);
    CK_OBJECT_HANDLE kek = ks->kek;
    st->audit_key_present = ks->audit_private != CK_INVALID_HANDLE;
    pthread_rwlock_unlock(&ks->lock);

    st->kek_present = kek != CK_INVALID_HANDLE;
    if (st->kek_present) {
        CK_BBOOL sensitive = 0, extractable = 1, always = 0, never = 0;
        CK_ATTRIBUTE attrs[] = {
            {CKA_SENSITIVE, &sensitive, sizeof sensitive},
            {CKA_EXTRACTABLE, &extractable, sizeof extractable},
            {CKA_ALWAYS_SENSITIVE, &always, sizeof always},
            {CKA_NEVER_EXTRACTABLE, &never, sizeof never},
        };
        CK_RV rv = fn->C_GetAttributeValue(session, kek, attrs, 4);
        if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID)
            return rv;
        st->kek_sensitive = sensitive == CK_TRUE;
        st->kek_extractable = extractable == CK_TRUE;
        st->kek_always_sensitive = always == CK_TRUE;
        st->kek_never_extractable = never == CK_TRUE;
    }
    CK_RV rv = fn->C_FindObjectsInit(session, NULL, 0);
    if (rv != CKR_OK)
        return rv;
    st->token_objects = 0;
    for (;;) {
        CK_OBJECT_HANDLE batch[256];
        CK_ULONG got = 0;
        rv = fn->C_FindObjects(session, batch, 256, &got);
        if (rv != CKR_OK || got == 0)
            break;
        st->token_objects += got;
    }
    fn->C_FindObjectsFinal(session);
    return rv;
}

pb_status pb_keystore_status_get(pb_keystore *ks, pb_keystore_status *st)
{
    memset(st, 0, sizeof *st);
    CK_FUNCTION_LIST *fn = ks->mod.fn;
    snprintf(st->module, sizeof st->module, "%s", ks->mod.description);
    CK_TOKEN_INFO info;
    pb_status shared = pb_p11_module_share(&ks->mod);
    if (shared != PB_OK)
        return shared;
    CK_RV rv = fn->C_GetTokenInfo(ks->mod.slot, &info);
    if (rv != CKR_OK) {
        pb_p11_module_unshare(&ks->mod);
        return pb_p11_fail(rv, "C_GetTokenInfo");
    }
    pb_p11_unpad(st->token_label, sizeof st->token_label, info.label, sizeof info.label);
    pb_p11_unpad(st->manufacturer, sizeof st->manufacturer, info.manufacturerID,
                 sizeof info.manufacturerID);
    pb_p11_unpad(st->model, sizeof st->model, info.model, sizeof info.model);
    pb_p11_unpad(st->serial, sizeof st->serial, info.serialNumber, sizeof info.serialNumber);
    st->has_aes_gcm = has_mechanism(fn, ks->mod.slot, CKM_AES_GCM, CKF_ENCRYPT | CKF_DECRYPT);
    st->has_ecdsa = has_mechanism(fn, ks->mod.slot, CKM_ECDSA, CKF_SIGN);
    st->has_ec_keygen = has_mechanism(fn, ks->mod.slot, CKM_EC_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR);
    pb_p11_module_unshare(&ks->mod);
    st->placement = ks->cfg.placement == PB_PLACEMENT_TOKEN ? "token" : "directory";
    status_job job = {st};
    pb_status s = pb_ks_run(ks, status_op, &job, NULL);
    if (s != PB_OK)
        return pb_fail_context(s, "reading token status");
    st->sealed_blobs = pb_keystore_blob_count(ks);
    return PB_OK;
}
