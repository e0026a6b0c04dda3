/* segment.h - where an audit log lives on disk: its segment files
 * (audit-000001.jsonl, audit-000002.jsonl, ...) in one directory, read as
 * one stream of lines.
 *
 * Owns: segment naming and listing, and a bounded line reader over all
 * segments in order. Must never allocate by an unchecked length: a line
 * longer than PB_AUDIT_LINE_MAX is reported, not buffered.
 */
#ifndef PB_AUDIT_SEGMENT_H
#define PB_AUDIT_SEGMENT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "planbok/error.h"

#define PB_AUDIT_SEGMENT_DEFAULT_BYTES (8u << 20)
#define PB_AUDIT_SEGMENT_NAME_MAX 32
#define PB_AUDIT_LOCK_NAME "audit.lock"

/* "audit-%06u.jsonl" */
void pb_audit_segment_name(unsigned index, char out[PB_AUDIT_SEGMENT_NAME_MAX]);
/* 0 and the index iff name is exactly of that form with index >= 1. */
int pb_audit_segment_parse_name(const char *name, unsigned *index);

typedef struct pb_audit_segments {
    char dir[PATH_MAX];
    char single[PATH_MAX]; /* set when the log is one file given by path */
    unsigned *index;       /* ascending */
    size_t count;
} pb_audit_segments;

/* path is a log directory (its segments, none is fine) or one segment file. */
pb_status pb_audit_segments_list(const char *path, pb_audit_segments *out);
void pb_audit_segments_free(pb_audit_segments *s);
void pb_audit_segments_path(const pb_audit_segments *s, size_t i, char *out, size_t n);

typedef struct pb_audit_line {
    const char *text; /* not NUL-terminated when too_long */
    size_t len;
    int terminated; /* followed by '\n' */
    int too_long;   /* longer than PB_AUDIT_LINE_MAX; text holds the start */
    size_t segment; /* position in the segment list */
    uint64_t line_no; /* 1-based within the segment */
    off_t offset;     /* of the line's first byte within the segment */
} pb_audit_line;

typedef struct pb_audit_cursor {
    pb_audit_segments segs;
    size_t seg;
    int fd;
    char *buf;
    size_t buf_len, buf_pos;
    off_t buf_offset; /* file offset of buf[0] */
    char *line;
    uint64_t line_no;
} pb_audit_cursor;

pb_status pb_audit_cursor_open(const char *path, pb_audit_cursor *c);
/* *have = 1 and a line, or *have = 0 at the end of the last segment. */
pb_status pb_audit_cursor_next(pb_audit_cursor *c, pb_audit_line *out, int *have);
void pb_audit_cursor_close(pb_audit_cursor *c);

#endif
