/* softhsm_token_file.h - telling a whole SoftHSM token record from a
 * damaged one.
 *
 * SoftHSM 2's file backend keeps each token's own attributes (label, serial,
 * flags, the PIN-derived key blobs) in tokens/<uuid>/token.object: an 8-byte
 * big-endian generation, then records of (attribute type, value kind, value)
 * with every number 8 bytes big-endian. This file only walks that layout.
 * Owns: the parse and the "is it whole" rule. Must never print or log the
 * bytes: the PIN attributes are as sensitive as the token itself.
 */
#ifndef PB_PKCS11_SOFTHSM_TOKEN_FILE_H
#define PB_PKCS11_SOFTHSM_TOKEN_FILE_H

#include <stddef.h>
#include <stdint.h>

#define PB_SH_MAX_ATTRS 32

typedef struct pb_sh_token_record {
    char label[33];  /* blank padding removed */
    char serial[17];
    unsigned long flags;
    size_t n_types;  /* attribute types seen, in file order */
    unsigned long types[PB_SH_MAX_ATTRS];
} pb_sh_token_record;

/* 0 when the bytes parse to their end and carry the label, serial, flags and
 * SO PIN a token record always has; -1 for an empty, cut or unknown record. */
int pb_sh_token_parse(const uint8_t *buf, size_t len, pb_sh_token_record *out);

/* 1 when `now` is the same token as `kept` (label and serial) and has every
 * attribute `kept` had: a record that differs only in values (the flags
 * that change on each login) passes; one cut at a record boundary does not. */
int pb_sh_token_covers(const pb_sh_token_record *now, const pb_sh_token_record *kept);

#endif
