/* aead.h - the two primitives every custody format is built from:
 * AES-256-GCM with a 96-bit IV and a 128-bit tag, and HKDF-SHA256.
 *
 * Owns: the OpenSSL EVP calls for them and nothing else (no formats, no
 * policy). Must never log or keep key material; output buffers are the
 * caller's, and plaintext is only ever written into memory the caller owns.
 */
#ifndef PB_CUSTODY_AEAD_H
#define PB_CUSTODY_AEAD_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

#define PB_AEAD_KEY_BYTES 32
#define PB_AEAD_IV_BYTES 12
#define PB_AEAD_TAG_BYTES 16

/* Encrypts plain into ct (plain_len bytes) and writes the tag after it, so
 * ct must hold plain_len + PB_AEAD_TAG_BYTES. */
pb_status pb_aead_seal(const uint8_t key[PB_AEAD_KEY_BYTES], const uint8_t iv[PB_AEAD_IV_BYTES],
                       const uint8_t *aad, size_t aad_len, const uint8_t *plain,
                       size_t plain_len, uint8_t *ct);

/* Opens ct (ct_len includes the trailing tag) into plain, which must hold
 * ct_len - PB_AEAD_TAG_BYTES bytes. Returns 1 when the tag verifies, 0 when
 * it does not (plain is then wiped), -1 when OpenSSL itself failed (message
 * recorded). Kept as three outcomes so each format can decide whether a tag
 * failure means "wrong key" or "altered data". */
int pb_aead_open(const uint8_t key[PB_AEAD_KEY_BYTES], const uint8_t iv[PB_AEAD_IV_BYTES],
                 const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                 uint8_t *plain);

/* HKDF-SHA256 (RFC 5869, extract then expand) into out_len bytes. */
pb_status pb_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const void *salt, size_t salt_len,
                         const void *info, size_t info_len, uint8_t *out, size_t out_len);

#endif
