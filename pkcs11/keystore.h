/* keystore.h - a node's key store: everything the node keeps secret lives
 * sealed under a KEK that never leaves its PKCS#11 token.
 *
 * Owns: the module, the session pool, the KEK, the audit key, sealing and
 * unsealing (AES-256-GCM in the token), and where sealed blobs are placed
 * (token data objects or a store directory). Unsealed bytes are handed to
 * the caller in secret memory and must be freed with pb_secret_free; the key
 * store itself caches nothing secret, only object handles.
 * Must never: store a slot id, log or return a PIN, accept a blob sealed for
 * another wallet, role or kind, or create a KEK that is extractable.
 */
#ifndef PB_PKCS11_KEYSTORE_H
#define PB_PKCS11_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "pkcs11/hsm_config.h"
#include "planbok/error.h"

typedef struct pb_keystore pb_keystore;

/* What a sealed blob is; bound into the seal's AAD. */
typedef enum pb_blob_kind {
    PB_BLOB_SHARE = 1,          /* a party's share record */
    PB_BLOB_SHARE_PENDING = 2,  /* the new record during a refresh */
    PB_BLOB_WRAPPED_SECRET = 3, /* customer P1 record kept at node 2 */
    PB_BLOB_RECOVERY = 4,       /* P1 record under the customer's recovery code */
    PB_BLOB_NODE_SECRET = 5,    /* node-level secrets (ring-Pedersen) */
    PB_BLOB_AUDIT_CHECKPOINT = 6, /* latest signed audit checkpoint, kept outside the log */
    PB_BLOB_WALLET_ROW = 7,     /* seal over a wallet database row (no data kept) */
    PB_BLOB_WALLET_ANCHOR = 8,  /* a row's version, where a copy of the database can't rewind it */
    PB_BLOB_KIND_MAX = 8
} pb_blob_kind;

#define PB_WALLET_ID_MAX 64
#define PB_SEALED_PLAINTEXT_MAX (1u << 20)

typedef struct pb_blob_ref {
    const char *wallet_id; /* [A-Za-z0-9._-]{1,64} */
    uint8_t role;          /* 1 or 2 */
    pb_blob_kind kind;
} pb_blob_ref;

enum {
    PB_KEYSTORE_CREATE = 1,   /* create the KEK and audit key when missing (init) */
    /* Read-only PKCS#11 sessions: reading, unsealing and signing work;
     * storing or deleting a blob fails with PB_ERR_ARGUMENT (and the token
     * would refuse to change its objects anyway). For the commands that
     * only look (audit verify, public-key, checkpoint). */
    PB_KEYSTORE_READ_ONLY = 2
};

pb_status pb_keystore_open(const pb_hsm_config *cfg, unsigned flags, pb_keystore **out);
void pb_keystore_close(pb_keystore *ks);

/* Seal to / unseal from a self-describing blob (no placement involved). */
pb_status pb_keystore_seal(pb_keystore *ks, const pb_blob_ref *ref, const uint8_t *plain,
                           size_t plain_len, uint8_t **blob, size_t *blob_len);
pb_status pb_keystore_unseal(pb_keystore *ks, const pb_blob_ref *ref, const uint8_t *blob,
                             size_t blob_len, uint8_t **plain, size_t *plain_len);

/* Seal and store (replacing any blob under the same reference). */
pb_status pb_keystore_put(pb_keystore *ks, const pb_blob_ref *ref, const uint8_t *plain,
                          size_t plain_len);
/* Load and unseal; PB_ERR_NOT_FOUND if absent. *plain is secret memory. */
pb_status pb_keystore_get(pb_keystore *ks, const pb_blob_ref *ref, uint8_t **plain,
                          size_t *plain_len);
/* The stored sealed bytes, as they are (for backup and tests). */
pb_status pb_keystore_get_sealed(pb_keystore *ks, const pb_blob_ref *ref, uint8_t **blob,
                                 size_t *blob_len);
/* Store already-sealed bytes (restore, tests); they are checked on unseal. */
pb_status pb_keystore_put_sealed(pb_keystore *ks, const pb_blob_ref *ref, const uint8_t *blob,
                                 size_t blob_len);
pb_status pb_keystore_delete(pb_keystore *ks, const pb_blob_ref *ref);
size_t pb_keystore_blob_count(pb_keystore *ks);

/* ECDSA P-256 over a SHA-256 digest with the token's audit key; sig = r||s. */
pb_status pb_keystore_audit_sign(pb_keystore *ks, const uint8_t digest[32], uint8_t sig[64]);
/* PEM SubjectPublicKeyInfo of the audit key (malloc'd, NUL-terminated). */
pb_status pb_keystore_audit_public_pem(pb_keystore *ks, char **pem);

typedef struct pb_keystore_status {
    char module[80];
    char token_label[33];
    char manufacturer[33];
    char model[17];
    char serial[17];
    int has_aes_gcm;
    int has_ecdsa;
    int has_ec_keygen;
    int kek_present;
    int kek_sensitive;
    int kek_extractable;
    int kek_always_sensitive;
    int kek_never_extractable;
    int audit_key_present;
    unsigned long token_objects; /* every object the user can see */
    unsigned long sealed_blobs;  /* planbok blobs in the placement */
    const char *placement;
} pb_keystore_status;

pb_status pb_keystore_status_get(pb_keystore *ks, pb_keystore_status *st);

/* For tests that must hit the token directly (e.g. close every session
 * under the pool, or try to read the KEK's value). */
typedef struct pb_keystore_raw {
    void *function_list; /* CK_FUNCTION_LIST * */
    unsigned long slot;
    unsigned long kek_handle;
} pb_keystore_raw;
void pb_keystore_raw_access(pb_keystore *ks, pb_keystore_raw *raw);

const char *pb_blob_kind_name(pb_blob_kind kind);
/* 0 iff the wallet id is of the allowed form. */
int pb_wallet_id_check(const char *wallet_id);

#endif
