/* pin.h - Customer Custody: the PIN, its Argon2id derivation, the access-key
 * verifier the service keeps, and the `wrappedSecret` that holds P1's record.
 *
 * Owns: reading the PIN file, Argon2id(PIN, device salt) into a sealing key
 * and an access key, the verifier of the access key, and the versioned wrap
 * under the sealing key. Must never store, log or put in a message the PIN
 * or either key; both keys live only in the caller's buffers, which the
 * caller wipes.
 *
 * Why two keys from one Argon2id call: node 2 must count failed PIN attempts
 * without holding anything that unseals the share. It keeps
 * verifier = SHA-256(tag, wallet id, access key); the wrappedSecret opens
 * only with the sealing key. The two keys are the two halves of a single
 * 64-byte Argon2id output (one Blake2b-512 of the final memory block, RFC
 * 9106 section 3.3), so knowing one half says nothing of the other; getting
 * either from the verifier or the wrappedSecret still costs one Argon2id
 * evaluation per PIN guess and needs the device salt. No further HKDF split
 * is needed for independence; each key is nevertheless bound to its use and
 * wallet before use (the sealing key through HKDF in the wrap, the access
 * key through the tagged verifier hash), so a key never serves two purposes.
 *
 * wrappedSecret format: custody/envelope.h with magic "PBPW", version 1 and
 * 12 bytes of parameters (u32 t_cost, u32 m_cost_kib, u32 parallelism), so
 * the parameters can be raised for new wraps while old ones still open. The
 * AES key is HKDF-SHA256(sealing key, "planbok-pin-wrap-v1", wallet id); the
 * AAD binds magic, version, parameters and wallet id.
 */
#ifndef PB_CUSTODY_PIN_H
#define PB_CUSTODY_PIN_H

#include <stddef.h>
#include <stdint.h>

#include "custody/device.h"
#include "planbok/error.h"

#define PB_PIN_MIN_DIGITS 4
#define PB_PIN_MAX_DIGITS 64
#define PB_PIN_KEY_BYTES 32
#define PB_PIN_VERIFIER_BYTES 32

/* Argon2id cost: iterations, memory in KiB, lanes. */
typedef struct pb_kdf_params {
    uint32_t t_cost, m_cost_kib, parallelism;
} pb_kdf_params;

/* Lower bounds enforced everywhere (a weaker wrap is refused, also when
 * parsed from a stored wrappedSecret) and upper bounds that keep a corrupt
 * header from asking for absurd work. */
#define PB_KDF_MIN_T 1u
#define PB_KDF_MIN_M_KIB 8192u
#define PB_KDF_MIN_P 1u
#define PB_KDF_MAX_T 64u
#define PB_KDF_MAX_M_KIB (4u << 20) /* 4 GiB */
#define PB_KDF_MAX_P 16u

/* t = 3, m = 65536 KiB (64 MiB), p = 1. */
void pb_kdf_params_default(pb_kdf_params *p);
/* PB_OK within the bounds above, else PB_ERR_ARGUMENT. */
pb_status pb_kdf_params_check(const pb_kdf_params *p);

/* Digits only, PB_PIN_MIN_DIGITS..PB_PIN_MAX_DIGITS of them, one trailing
 * newline allowed. *pin is secret memory: pb_secret_free(*pin, *pin_len).
 * A wrong format is PB_ERR_ARGUMENT; the message never echoes the file. */
pb_status pb_pin_read_file(const char *path, uint8_t **pin, size_t *pin_len);

/* One Argon2id call (64-byte output): sealing key = first half, access key
 * = second half. pin_len must be 1..PB_PIN_MAX_DIGITS. On failure both
 * outputs are wiped. */
pb_status pb_pin_derive(const uint8_t *pin, size_t pin_len,
                        const uint8_t salt[PB_DEVICE_SALT_BYTES], const pb_kdf_params *kdf,
                        uint8_t sealing_key[PB_PIN_KEY_BYTES],
                        uint8_t access_key[PB_PIN_KEY_BYTES]);

/* SHA-256("planbok-pin-verifier-v1" 0x00 | u8 id_len | wallet id | access
 * key). What node 2 stores to count failed attempts. */
void pb_pin_verifier(const uint8_t access_key[PB_PIN_KEY_BYTES], const char *wallet_id,
                     uint8_t verifier[PB_PIN_VERIFIER_BYTES]);
/* 1 when the access key matches the stored verifier, else 0; the
 * comparison is constant-time (CRYPTO_memcmp). */
int pb_pin_verifier_matches(const uint8_t verifier[PB_PIN_VERIFIER_BYTES],
                            const uint8_t access_key[PB_PIN_KEY_BYTES], const char *wallet_id);

/* The wrappedSecret; *out is not secret (pb_bytes_free). */
pb_status pb_pin_wrap(const uint8_t sealing_key[PB_PIN_KEY_BYTES], const pb_kdf_params *kdf,
                      const char *wallet_id, const uint8_t *plain, size_t plain_len,
                      uint8_t **out, size_t *out_len);
/* Reads the Argon2id parameters a wrappedSecret was made with, so the
 * caller derives with those. Malformed or out of bounds: PB_ERR_INTEGRITY. */
pb_status pb_pin_wrapped_kdf(const uint8_t *in, size_t in_len, pb_kdf_params *kdf);
/* Wrong sealing key (wrong PIN or salt): PB_ERR_AUTH. Altered data or
 * another wallet's: PB_ERR_INTEGRITY. *plain is secret memory:
 * pb_secret_free(*plain, *plain_len). */
pb_status pb_pin_unwrap(const uint8_t sealing_key[PB_PIN_KEY_BYTES], const char *wallet_id,
                        const uint8_t *in, size_t in_len, uint8_t **plain, size_t *plain_len);

#endif
