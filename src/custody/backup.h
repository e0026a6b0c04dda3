/* backup.h - admin-led recovery: a node's material sealed to an offline
 * recovery public key (RSA-OAEP with SHA-256, 3072 bits or more).
 *
 * Owns: the hybrid seal (a fresh AES-256 key per backup encrypts the data
 * with AES-256-GCM; RSA-OAEP-SHA256 with MGF1-SHA256 and the label
 * "planbok-backup-v1" encrypts that key) and its versioned format. Must
 * never write the data key or the plaintext anywhere but the caller's
 * secret buffer, and never accept a recovery key weaker than 3072-bit RSA.
 *
 * Format, version 1 (big-endian):
 *   "PBBK" | u8 version=1 | fingerprint[32] = SHA-256 of the recipient's
 *   SubjectPublicKeyInfo (DER) | u32 len, RSA-OAEP ciphertext of the key
 *   | iv[12] | u32 len, AES-256-GCM ciphertext || tag[16]
 * AAD = every byte before the IV, binding version, recipient and the
 * wrapped key to the data. The fingerprint lets a wrong private key be told
 * apart from an altered backup: a key whose fingerprint differs and cannot
 * unwrap the data key is the wrong key (PB_ERR_AUTH); with the right key,
 * anything that does not verify is tampering (PB_ERR_INTEGRITY).
 */
#ifndef PB_CUSTODY_BACKUP_H
#define PB_CUSTODY_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

#define PB_BACKUP_MIN_RSA_BITS 3072
#define PB_BACKUP_MAX_RSA_BITS 16384

/* The public key is a PEM "PUBLIC KEY" (SubjectPublicKeyInfo). A non-RSA
 * key or one under 3072 bits is PB_ERR_ARGUMENT. *out is not secret
 * (pb_bytes_free). */
pb_status pb_backup_seal(const char *public_key_pem_path, const uint8_t *plain, size_t plain_len,
                         uint8_t **out, size_t *out_len);

/* The private key is an unencrypted PEM private key (PKCS#8 or
 * traditional RSA); an encrypted one is refused (no passphrase prompt).
 * Wrong private key: PB_ERR_AUTH; malformed or tampered: PB_ERR_INTEGRITY.
 * *plain is secret memory: pb_secret_free(*plain, *plain_len). */
pb_status pb_backup_open(const char *private_key_pem_path, const uint8_t *in, size_t in_len,
                         uint8_t **plain, size_t *plain_len);

#endif
