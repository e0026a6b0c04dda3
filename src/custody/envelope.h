/* envelope.h - the shared layout of the symmetric custody wraps
 * (Organization Secret, PIN `wrappedSecret`, recovery-code blob).
 *
 * Owns: the byte layout, its AAD, the per-wallet key derivation and the
 * decision between "wrong key" (PB_ERR_AUTH) and "altered data"
 * (PB_ERR_INTEGRITY). Must never put key material or plaintext in a message.
 *
 * Layout, version 1 (big-endian, see common/bytes.h):
 *   magic[4] | u8 version | params[kind->params_len] | u8 id_len | wallet id
 *   | check[16] | iv[12] | u32 len | AES-256-GCM ciphertext || tag[16]
 * AAD = every byte before `check` (magic, version, params, wallet id), so a
 * header edit breaks the tag. Keys: HKDF-SHA256(IKM = the caller's key
 * material, salt = kind->hkdf_salt, info = wallet id) expanded to 48 bytes;
 * bytes 0..31 are the AES key (exactly the 32-byte HKDF output, as HKDF
 * output is prefix-stable), bytes 32..47 are the key-check value.
 *
 * Why a key-check value: with GCM alone a wrong key and a flipped ciphertext
 * byte look the same. The check value (a PRF output, it reveals nothing of the
 * key or plaintext that the tag does not already) lets us tell a wrong
 * secret (check and tag both fail) from stored data that was altered (one of
 * the two passes), so a corrupt blob is never reported as a wrong PIN.
 */
#ifndef PB_CUSTODY_ENVELOPE_H
#define PB_CUSTODY_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

#define PB_ENVELOPE_CHECK_BYTES 16
#define PB_CUSTODY_WALLET_ID_MAX 128
/* Custody wraps hold one party's record (a few KiB); the bound keeps a
 * corrupt length from asking for a huge allocation. */
#define PB_CUSTODY_PLAIN_MAX (16u << 20)

typedef struct pb_envelope_kind {
    uint8_t magic[4];
    uint8_t version;
    size_t params_len;     /* fixed number of format-specific header bytes */
    const char *hkdf_salt; /* domain separation of the key derivation */
    const char *what;      /* names the blob in messages */
    const char *wrong_key; /* the PB_ERR_AUTH message */
} pb_envelope_kind;

/* 0 when the id is 1..PB_CUSTODY_WALLET_ID_MAX printable ASCII characters
 * without spaces, -1 otherwise. */
int pb_custody_wallet_id_check(const char *wallet_id);

/* params: kind->params_len bytes (may be NULL when that is 0). *out is
 * freed with pb_bytes_free. */
pb_status pb_envelope_wrap(const pb_envelope_kind *kind, const uint8_t *params,
                           const uint8_t *ikm, size_t ikm_len, const char *wallet_id,
                           const uint8_t *plain, size_t plain_len, uint8_t **out,
                           size_t *out_len);

/* Checks the whole structure (magic, version, lengths, no trailing bytes)
 * and points *params into `in`. Malformed input is PB_ERR_INTEGRITY. */
pb_status pb_envelope_params(const pb_envelope_kind *kind, const uint8_t *in, size_t in_len,
                             const uint8_t **params);

/* *plain is secret memory: free with pb_secret_free(*plain, *plain_len).
 * Wrong key: PB_ERR_AUTH with kind->wrong_key. Anything else that fails to
 * verify, or a blob of another wallet: PB_ERR_INTEGRITY. */
pb_status pb_envelope_unwrap(const pb_envelope_kind *kind, const uint8_t *ikm, size_t ikm_len,
                             const char *wallet_id, const uint8_t *in, size_t in_len,
                             uint8_t **plain, size_t *plain_len);

#endif
