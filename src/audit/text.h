/* text.h - the byte-exact text pieces of canonical audit records: JSON
 * string escaping, UTF-8 validation, lowercase hex and RFC 3339 times.
 *
 * Owns: the one escaping rule (see docs/audit.md) and its strict inverse,
 * which accepts only what the escaper produces, so a parsed record that
 * re-encodes differently cannot exist. Must never accept an escape or a
 * byte the escaper would not write: that is how edits are caught.
 */
#ifndef PB_AUDIT_TEXT_H
#define PB_AUDIT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

/* A growing text buffer with a hard cap; `failed` is sticky. */
typedef struct pb_audit_buf {
    char *p;
    size_t len;
    size_t cap;
    int failed;
} pb_audit_buf;

void pb_audit_buf_init(pb_audit_buf *b, char *storage, size_t cap);
void pb_audit_buf_raw(pb_audit_buf *b, const char *s, size_t n);
void pb_audit_buf_str(pb_audit_buf *b, const char *s);
void pb_audit_buf_u64(pb_audit_buf *b, uint64_t v);
void pb_audit_buf_hex(pb_audit_buf *b, const uint8_t *p, size_t n);
/* A JSON string in canonical form: `"` and `\` backslash-escaped, bytes
 * 0x00-0x1f and 0x7f as \u00xx (lowercase), every other byte literal. */
void pb_audit_buf_json_string(pb_audit_buf *b, const char *s);

/* 0 iff s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
int pb_audit_utf8_check(const char *s, size_t n);

/* Parses the canonical JSON string at in[0..n) starting with '"'. Writes the
 * decoded text (NUL-terminated, at most cap-1 bytes) and returns how many
 * input bytes it consumed, or 0 if the string is not canonical, too long,
 * or not UTF-8. */
size_t pb_audit_json_string_parse(const char *in, size_t n, char *out, size_t cap);

/* Lowercase hex only. Returns 0 on success. */
int pb_audit_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_len);

/* RFC 3339 UTC with milliseconds: "2024-05-01T12:30:05.123Z" (24 chars). */
#define PB_AUDIT_TIME_LEN 24
void pb_audit_time_format(int64_t ms, char out[PB_AUDIT_TIME_LEN + 1]);
/* Exactly the form above, with fields in range; 0 on success. */
int pb_audit_time_parse(const char *s, size_t n, int64_t *ms);
/* For filters: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or with ".mmm"; 0 on success. */
int pb_audit_time_parse_loose(const char *s, int64_t *ms);

#endif
