/* hex_ct.h - hex encoding and decoding of secret bytes without branches or
 * table lookups on the secret values.
 *
 * Owns: the character arithmetic only. Used for the Organization Secret, so
 * its timing must not depend on the digits; must never report which
 * character was bad (that would echo part of a secret).
 */
#ifndef PB_CUSTODY_HEX_CT_H
#define PB_CUSTODY_HEX_CT_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*n lowercase hex characters and a NUL. */
void pb_hex_encode_ct(const uint8_t *in, size_t n, char *out);
/* 0 when c is a hex digit (either case; value in *nibble), 1 when not
 * (*nibble is then 0). */
unsigned pb_hex_nibble_ct(uint8_t c, uint8_t *nibble);
/* Decodes hex_len (even) characters into hex_len/2 bytes: 0 on success,
 * -1 when any character is not a hex digit (out is then wiped). */
int pb_hex_decode_ct(const char *hex, size_t hex_len, uint8_t *out);

#endif
