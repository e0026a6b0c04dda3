/* keystore_internal.h - the key store's state, shared by its files only
 * (keystore.c, seal.c, token_objects.c, dir_store.c, audit_key.c,
 * keystore_status.c). Nothing outside pkcs11/ includes this.
 */
#ifndef PB_PKCS11_KEYSTORE_INTERNAL_H
#define PB_PKCS11_KEYSTORE_INTERNAL_H

#include <pthread.h>

#include "pkcs11/handle_cache.h"
#include "pkcs11/keystore.h"
#include "pkcs11/p11_module.h"
#include "pkcs11/session_pool.h"

#define PB_P11_APPLICATION "planbok"
#define PB_BLOB_LABEL_MAX (PB_WALLET_ID_MAX + 32)

struct pb_keystore {
    pb_hsm_config cfg;
    pb_p11_module mod;
    pb_session_pool pool;
    /* Handles below are re-found after the pool recovers; guarded by lock. */
    pthread_rwlock_t lock;
    CK_OBJECT_HANDLE kek;
    CK_OBJECT_HANDLE audit_private;
    CK_OBJECT_HANDLE audit_public;
    pb_handle_cache blobs; /* token placement only */
    uint64_t next_seq;
};

/* One PKCS#11 operation on a borrowed session. */
typedef CK_RV (*pb_token_op)(pb_keystore *ks, CK_SESSION_HANDLE session, void *ctx);

/* Runs op; after a recoverable CK_RV it re-opens the sessions, logs in,
 * re-finds the handles and runs op once more. *rv_out gets op's last CK_RV.
 * Returns PB_OK iff op returned CKR_OK; on recovery failure, that error. */
pb_status pb_ks_run(pb_keystore *ks, pb_token_op op, void *ctx, CK_RV *rv_out);

/* Finds every planbok data object and fills the handle cache (caller holds
 * the write lock); also removes superseded duplicates left by a crash. */
pb_status pb_ks_scan_blobs(pb_keystore *ks, CK_SESSION_HANDLE session);
/* Finds the single object of this class with this label; 0 if none. */
pb_status pb_ks_find_one(pb_keystore *ks, CK_SESSION_HANDLE session, CK_OBJECT_CLASS cls,
                         const char *label, CK_OBJECT_HANDLE *out);
void pb_ks_blob_label(const pb_blob_ref *ref, char out[PB_BLOB_LABEL_MAX]);
pb_status pb_ks_check_ref(const pb_blob_ref *ref);

pb_status pb_ks_create_kek(pb_keystore *ks, CK_SESSION_HANDLE session);
pb_status pb_ks_create_audit_key(pb_keystore *ks, CK_SESSION_HANDLE session);

/* Placement back-ends. */
pb_status pb_token_blob_put(pb_keystore *ks, const pb_blob_ref *ref, const uint8_t *blob,
                            size_t len);
pb_status pb_token_blob_get(pb_keystore *ks, const pb_blob_ref *ref, uint8_t **blob,
                            size_t *len);
pb_status pb_token_blob_delete(pb_keystore *ks, const pb_blob_ref *ref);
pb_status pb_dir_blob_put(pb_keystore *ks, const pb_blob_ref *ref, const uint8_t *blob,
                          size_t len);
pb_status pb_dir_blob_get(pb_keystore *ks, const pb_blob_ref *ref, uint8_t **blob, size_t *len);
pb_status pb_dir_blob_delete(pb_keystore *ks, const pb_blob_ref *ref);
size_t pb_dir_blob_count(pb_keystore *ks);

#endif
