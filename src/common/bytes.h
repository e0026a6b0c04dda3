/* bytes.h - canonical, length-checked byte encoding used by every wire
 * format and sealed record in planbok.
 *
 * Owns: a growable writer and a bounds-checked reader. Integers are
 * big-endian; variable-length fields carry an explicit u32 length prefix.
 * The reader never reads past its end and reports trailing bytes; it must
 * never allocate based on an unchecked length. A writer that holds secret
 * bytes is wiped by pb_writer_free.
 */
#ifndef PB_COMMON_BYTES_H
#define PB_COMMON_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

typedef struct pb_writer {
    uint8_t *data;
    size_t len;
    size_t cap;
    int failed; /* sticky: set on allocation failure, checked by pb_writer_finish */
} pb_writer;

void pb_writer_init(pb_writer *w);
void pb_writer_u8(pb_writer *w, uint8_t v);
void pb_writer_u16(pb_writer *w, uint16_t v);
void pb_writer_u32(pb_writer *w, uint32_t v);
void pb_writer_u64(pb_writer *w, uint64_t v);
void pb_writer_raw(pb_writer *w, const void *p, size_t n);
/* u32 length prefix, then the bytes. */
void pb_writer_var(pb_writer *w, const void *p, size_t n);
/* Hands the buffer to the caller (free with pb_bytes_free) or fails. */
pb_status pb_writer_finish(pb_writer *w, uint8_t **out, size_t *out_len);
/* Wipes and frees whatever the writer holds. */
void pb_writer_free(pb_writer *w);

/* Wipes then frees a buffer returned by the library. */
void pb_bytes_free(uint8_t *p, size_t n);

typedef struct pb_reader {
    const uint8_t *p;
    size_t left;
    int failed; /* sticky: any short read sets it; values read after are zero */
} pb_reader;

void pb_reader_init(pb_reader *r, const uint8_t *p, size_t n);
uint8_t pb_reader_u8(pb_reader *r);
uint16_t pb_reader_u16(pb_reader *r);
uint32_t pb_reader_u32(pb_reader *r);
uint64_t pb_reader_u64(pb_reader *r);
/* Points at the next n bytes (no copy); NULL and failed on a short buffer. */
const uint8_t *pb_reader_raw(pb_reader *r, size_t n);
/* u32 length prefix checked against max_len and against what is left. */
const uint8_t *pb_reader_var(pb_reader *r, size_t max_len, size_t *out_len);
/* A var field into a NUL-terminated string of at most cap - 1 bytes; 0, or
 * -1 (and dst undefined) if it is too long, short or holds a NUL. */
int pb_reader_text(pb_reader *r, char *dst, size_t cap);
/* PB_OK iff nothing failed and no byte is left over; otherwise sets a
 * message naming `what`. */
pb_status pb_reader_finish(const pb_reader *r, const char *what);

#endif
