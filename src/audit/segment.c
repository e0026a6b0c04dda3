/* segment.c - segment files and the line reader (see segment.h). */
#include "audit/segment.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/record.h"
#include "common/fail.h"

#define READ_CHUNK 65536

void pb_audit_segment_name(unsigned index, char out[PB_AUDIT_SEGMENT_NAME_MAX])
{
    snprintf(out, PB_AUDIT_SEGMENT_NAME_MAX, "audit-%06u.jsonl", index);
}

int pb_audit_segment_parse_name(const char *name, unsigned *index)
{
    /* audit-NNNNNN.jsonl, six or more digits (past 999999 the name grows). */
    if (strncmp(name, "audit-", 6) != 0)
        return -1;
    const char *d = name + 6;
    size_t digits = 0;
    unsigned long v = 0;
    while (d[digits] >= '0' && d[digits] <= '9') {
        v = v * 10 + (unsigned long)(d[digits] - '0');
        if (v > 99999999ul)
            return -1;
        digits++;
    }
    if (digits < 6 || strcmp(d + digits, ".jsonl") != 0 || v == 0)
        return -1;
    char canonical[PB_AUDIT_SEGMENT_NAME_MAX];
    pb_audit_segment_name((unsigned)v, canonical);
    if (strcmp(canonical, name) != 0)
        return -1;
    *index = (unsigned)v;
    return 0;
}

static int compare_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

pb_status pb_audit_segments_list(const char *path, pb_audit_segments *out)
{
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return pb_fail(PB_ERR_NOT_FOUND, "audit log '%s': %s", path, strerror(errno));
    if (S_ISREG(sb.st_mode)) {
        if (strlen(path) >= sizeof out->single)
            return pb_fail(PB_ERR_ARGUMENT, "audit log path too long");
        snprintf(out->single, sizeof out->single, "%s", path);
        out->index = malloc(sizeof *out->index);
        if (!out->index)
            return pb_fail(PB_ERR_NOMEM, "out of memory");
        const char *base = strrchr(path, '/');
        if (pb_audit_segment_parse_name(base ? base + 1 : path, &out->index[0]) != 0)
            out->index[0] = 1;
        out->count = 1;
        return PB_OK;
    }
    if (!S_ISDIR(sb.st_mode))
        return pb_fail(PB_ERR_ARGUMENT, "audit log '%s' is neither a file nor a directory", path);
    if (strlen(path) >= sizeof out->dir - PB_AUDIT_SEGMENT_NAME_MAX - 2)
        return pb_fail(PB_ERR_ARGUMENT, "audit log path too long");
    snprintf(out->dir, sizeof out->dir, "%s", path);
    DIR *d = opendir(path);
    if (!d)
        return pb_fail(PB_ERR_STORAGE, "audit log '%s': %s", path, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        unsigned index;
        if (pb_audit_segment_parse_name(e->d_name, &index) != 0)
            continue;
        if (out->count == cap) {
            cap = cap ? cap * 2 : 16;
            unsigned *grown = realloc(out->index, cap * sizeof *grown);
            if (!grown) {
                closedir(d);
                pb_audit_segments_free(out);
                return pb_fail(PB_ERR_NOMEM, "out of memory");
            }
            out->index = grown;
        }
        out->index[out->count++] = index;
    }
    closedir(d);
    if (out->count)
        qsort(out->index, out->count, sizeof *out->index, compare_unsigned);
    return PB_OK;
}

void pb_audit_segments_free(pb_audit_segments *s)
{
    free(s->index);
    s->index = NULL;
    s->count = 0;
}

void pb_audit_segments_path(const pb_audit_segments *s, size_t i, char *out, size_t n)
{
    if (s->single[0]) {
        snprintf(out, n, "%s", s->single);
        return;
    }
    char name[PB_AUDIT_SEGMENT_NAME_MAX];
    pb_audit_segment_name(s->index[i], name);
    snprintf(out, n, "%s/%s", s->dir, name);
}

pb_status pb_audit_cursor_open(const char *path, pb_audit_cursor *c)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    pb_status st = pb_audit_segments_list(path, &c->segs);
    if (st != PB_OK)
        return st;
    c->buf = malloc(READ_CHUNK);
    c->line = malloc(PB_AUDIT_LINE_MAX + 1);
    if (!c->buf || !c->line) {
        pb_audit_cursor_close(c);
        return pb_fail(PB_ERR_NOMEM, "out of memory");
    }
    return PB_OK;
}

void pb_audit_cursor_close(pb_audit_cursor *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    free(c->line);
    c->buf = c->line = NULL;
    pb_audit_segments_free(&c->segs);
}

/* 1 filled, 0 end of file, or a failure status (negated). */
static pb_status refill(pb_audit_cursor *c, int *eof)
{
    c->buf_offset += (off_t)c->buf_len;
    c->buf_len = c->buf_pos = 0;
    for (;;) {
        ssize_t n = read(c->fd, c->buf, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pb_fail(PB_ERR_STORAGE, "reading the audit log: %s", strerror(errno));
        c->buf_len = (size_t)n;
        *eof = n == 0;
        return PB_OK;
    }
}

pb_status pb_audit_cursor_next(pb_audit_cursor *c, pb_audit_line *out, int *have)
{
    *have = 0;
    for (;;) {
        if (c->fd < 0) {
            if (c->seg >= c->segs.count)
                return PB_OK;
            char path[PATH_MAX + PB_AUDIT_SEGMENT_NAME_MAX];
            pb_audit_segments_path(&c->segs, c->seg, path, sizeof path);
            c->fd = open(path, O_RDONLY | O_CLOEXEC);
            if (c->fd < 0)
                return pb_fail(PB_ERR_STORAGE, "opening '%s': %s", path, strerror(errno));
            c->buf_len = c->buf_pos = 0;
            c->buf_offset = 0;
            c->line_no = 0;
        }
        size_t len = 0;
        int too_long = 0, started = 0;
        off_t start = c->buf_offset + (off_t)c->buf_pos;
        for (;;) {
            if (c->buf_pos == c->buf_len) {
                int eof = 0;
                pb_status st = refill(c, &eof);
                if (st != PB_OK)
                    return st;
                if (!started)
                    start = c->buf_offset;
                if (eof)
                    break;
            }
            started = 1;
            const char *from = c->buf + c->buf_pos;
            size_t avail = c->buf_len - c->buf_pos;
            const char *nl = memchr(from, '\n', avail);
            size_t chunk = nl ? (size_t)(nl - from) : avail;
            size_t room = PB_AUDIT_LINE_MAX - len;
            size_t copy = chunk < room ? chunk : room;
            memcpy(c->line + len, from, copy);
            len += copy;
            if (chunk > room)
                too_long = 1;
            c->buf_pos += chunk;
            if (nl) {
                c->buf_pos += 1;
                c->line[len] = '\0';
                *out = (pb_audit_line){c->line, len, 1, too_long, c->seg, ++c->line_no, start};
                *have = 1;
                return PB_OK;
            }
        }
        if (len > 0 || too_long) { /* bytes after the last newline */
            c->line[len] = '\0';
            *out = (pb_audit_line){c->line, len, 0, too_long, c->seg, ++c->line_no, start};
            *have = 1;
            close(c->fd);
            c->fd = -1;
            c->seg++;
            return PB_OK;
        }
        close(c->fd);
        c->fd = -1;
        c->seg++;
    }
}
