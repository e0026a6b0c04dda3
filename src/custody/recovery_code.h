/* recovery_code.h - the PIN Reset Protocol's recovery code and the
 * recovery blob of P1's record sealed under it.
 *
 * Owns: making the code (160 random bits), its printed form and checksum,
 * parsing what a customer types back, and the versioned AES-256-GCM wrap
 * keyed by HKDF-SHA256(IKM = the 20 code bytes,
 * salt = "planbok-recovery-code-v1", info = wallet id). The code is shown
 * once at creation; this module must never store it, log it, or put any of
 * it in a message.
 *
 * Printed form: 36 Crockford base32 symbols (alphabet 0-9 A-Z without
 * I L O U) in nine groups of four joined by '-': 32 symbols carry the 160
 * bits, the last 4 are a 20-bit checksum, the code's value as a 160-bit
 * integer modulo the prime 1048573. Because 32 and 31 are invertible modulo
 * that prime, every single-symbol substitution and every swap of two
 * adjacent symbols changes the checksum, so such typos are always caught;
 * a random garble passes with probability about 2^-20.
 *
 * Blob format: custody/envelope.h with magic "PBRC", version 1, no extra
 * parameters.
 */
#ifndef PB_CUSTODY_RECOVERY_CODE_H
#define PB_CUSTODY_RECOVERY_CODE_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

#define PB_RECOVERY_CODE_MAX 64
#define PB_RECOVERY_CODE_BYTES 20   /* 160 bits of entropy */
#define PB_RECOVERY_CODE_SYMBOLS 36 /* 32 data + 4 checksum */
#define PB_RECOVERY_CODE_CHARS 44   /* with the 8 separators */

/* A new code in printed form (NUL-terminated). The caller shows it once
 * and wipes the buffer (OPENSSL_cleanse). */
pb_status pb_recovery_code_new(char code[PB_RECOVERY_CODE_MAX]);

/* Normalizes typed text into the printed form: case is ignored, '-' and
 * spaces are ignored, and I/L read as 1 and O as 0 (Crockford). Wrong
 * length, a character outside the alphabet or a checksum mismatch is
 * PB_ERR_ARGUMENT with a message that never echoes the text. */
pb_status pb_recovery_code_parse(const char *text, char code[PB_RECOVERY_CODE_MAX]);

/* Reads a file holding the code (one trailing newline allowed) and
 * normalizes it as pb_recovery_code_parse does. */
pb_status pb_recovery_code_read_file(const char *path, char code[PB_RECOVERY_CODE_MAX]);

/* `code` in any form pb_recovery_code_parse accepts; a malformed code is
 * PB_ERR_ARGUMENT. *out is not secret (pb_bytes_free). */
pb_status pb_recovery_wrap(const char *code, const char *wallet_id, const uint8_t *plain,
                           size_t plain_len, uint8_t **out, size_t *out_len);

/* A well-formed but wrong code is PB_ERR_AUTH; altered data or another
 * wallet's blob is PB_ERR_INTEGRITY. *plain is secret memory:
 * pb_secret_free(*plain, *plain_len). */
pb_status pb_recovery_unwrap(const char *code, const char *wallet_id, const uint8_t *in,
                             size_t in_len, uint8_t **plain, size_t *plain_len);

#endif
