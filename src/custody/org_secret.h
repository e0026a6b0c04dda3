/* org_secret.h - Organizational Trustless custody: the Organization Secret
 * and the wrap of P1's record under it.
 *
 * Owns: generating and reading the 32-byte secret, and the versioned
 * AES-256-GCM wrap keyed by HKDF-SHA256(IKM = secret,
 * salt = "planbok-org-secret-v1", info = wallet id). The service never
 * stores the secret, so this module must never write it anywhere, put it in
 * a message, or keep it after a call returns.
 *
 * Wrapped format: see custody/envelope.h, magic "PBOS", version 1, no
 * extra parameters.
 */
#ifndef PB_CUSTODY_ORG_SECRET_H
#define PB_CUSTODY_ORG_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

#define PB_ORG_SECRET_BYTES 32
#define PB_ORG_SECRET_HEX_CHARS (2 * PB_ORG_SECRET_BYTES)

/* 32 bytes from OpenSSL's private DRBG. */
pb_status pb_org_secret_generate(uint8_t secret[PB_ORG_SECRET_BYTES]);

/* Lowercase hex and a NUL; the caller wipes `hex` after printing it. */
void pb_org_secret_to_hex(const uint8_t secret[PB_ORG_SECRET_BYTES],
                          char hex[PB_ORG_SECRET_HEX_CHARS + 1]);

/* Accepts exactly 64 hex characters (either case; one trailing "\n" or
 * "\r\n" allowed) or exactly 32 raw bytes. Anything else, and an all-zero
 * secret, is PB_ERR_ARGUMENT with a message that never echoes the content.
 * The caller wipes `secret` (OPENSSL_cleanse) when done. */
pb_status pb_org_secret_read_file(const char *path, uint8_t secret[PB_ORG_SECRET_BYTES]);

/* *out is not secret (free with pb_bytes_free). */
pb_status pb_org_wrap(const uint8_t secret[PB_ORG_SECRET_BYTES], const char *wallet_id,
                      const uint8_t *plain, size_t plain_len, uint8_t **out, size_t *out_len);

/* A wrong secret is PB_ERR_AUTH "organization secret does not open this
 * wallet"; malformed, altered or another wallet's data is PB_ERR_INTEGRITY.
 * *plain is secret memory: free with pb_secret_free(*plain, *plain_len). */
pb_status pb_org_unwrap(const uint8_t secret[PB_ORG_SECRET_BYTES], const char *wallet_id,
                        const uint8_t *in, size_t in_len, uint8_t **plain, size_t *plain_len);

#endif
