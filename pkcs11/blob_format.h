/* blob_format.h - the versioned, self-describing sealed-blob format.
 *
 * Owns: the byte layout of a sealed blob and of its AAD. Layout v1:
 *   "PBSB" | u8 version=1 | u8 algorithm (1 = AES-256-GCM by a PKCS#11 KEK)
 *   | u8 kind | u8 role | u8 len, wallet id | u8 len, KEK label
 *   | 12-byte IV | u32 len, ciphertext with its 16-byte tag
 * The AAD is "planbok-seal" | version | kind | role | u8 len, wallet id, so a
 * blob copied to another wallet, role or kind fails authentication even if
 * its header is edited to match. The KEK label is recorded so a blob can be
 * rewrapped when the keys move to another HSM. Holds nothing secret.
 */
#ifndef PB_PKCS11_BLOB_FORMAT_H
#define PB_PKCS11_BLOB_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "pkcs11/keystore.h"

#define PB_BLOB_VERSION 1
#define PB_BLOB_ALG_AES256_GCM_P11 1
#define PB_GCM_IV_BYTES 12
#define PB_GCM_TAG_BYTES 16
#define PB_BLOB_AAD_MAX (12 + 3 + 1 + PB_WALLET_ID_MAX)

typedef struct pb_blob_header {
    uint8_t version;
    uint8_t algorithm;
    uint8_t kind;
    uint8_t role;
    char wallet_id[PB_WALLET_ID_MAX + 1];
    char kek_label[65];
    uint8_t iv[PB_GCM_IV_BYTES];
    const uint8_t *ciphertext; /* points into the parsed blob */
    size_t ciphertext_len;     /* includes the tag */
} pb_blob_header;

/* AAD for a reference; returns its length. */
size_t pb_blob_aad(const pb_blob_ref *ref, uint8_t aad[PB_BLOB_AAD_MAX]);
pb_status pb_blob_encode(const pb_blob_ref *ref, const char *kek_label,
                         const uint8_t iv[PB_GCM_IV_BYTES], const uint8_t *ct, size_t ct_len,
                         uint8_t **blob, size_t *blob_len);
/* Parses and checks the header against `expect`: a mismatch is PB_ERR_INTEGRITY. */
pb_status pb_blob_decode(const uint8_t *blob, size_t blob_len, const pb_blob_ref *expect,
                         pb_blob_header *out);

#endif
