/* base58.h - Bitcoin base58 and base58check, for extended public keys.
 *
 * Owns: the alphabet, the checksum (first 4 bytes of SHA-256(SHA-256(x)))
 * and strict decoding (a decoded string re-encodes to itself). Only ever
 * handles public data; not constant-time.
 */
#ifndef PB_MPC_BASE58_H
#define PB_MPC_BASE58_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

/* Upper bound on the characters base58 needs for n bytes (without NUL). */
#define PB_BASE58_MAX_CHARS(n) ((n) * 138 / 100 + 1)

/* Encodes payload || checksum into out (NUL-terminated); payload_len <= 128. */
pb_status pb_base58check_encode(const uint8_t *payload, size_t payload_len, char *out,
                                size_t out_size);
/* Decodes exactly `payload_len` bytes and checks the checksum. Rejects any
 * character outside the alphabet, a wrong length and a bad checksum. */
pb_status pb_base58check_decode(const char *in, uint8_t *payload, size_t payload_len);

#endif
