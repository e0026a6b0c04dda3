/* log_tail.c - recovering the writer's chain state from the segment files:
 * the last whole record gives seq and prev; bytes after the last newline
 * are a torn tail (a writer died mid-append), cut off only on request;
 * and the same checks read-only, for a data directory that cannot be
 * written. Must never modify anything but a torn tail, and only after
 * saving it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/log_internal.h"
#include "common/fail.h"

/* Two maximal lines: enough to hold the last whole line and a torn one. */
#define TAIL_WINDOW (2 * (PB_AUDIT_LINE_MAX + 1))

void pb_audit_segment_file(const pb_audit_log *log, unsigned index, char *out, size_t n)
{
    char name[PB_AUDIT_SEGMENT_NAME_MAX];
    pb_audit_segment_name(index, name);
    snprintf(out, n, "%s/%s", log->dir, name);
}

int pb_audit_state_current(const pb_audit_log *log)
{
    struct stat sb;
    char next[PATH_MAX + PB_AUDIT_SEGMENT_NAME_MAX];
    if (log->fd < 0) {
        pb_audit_segment_file(log, 1, next, sizeof next);
        return stat(next, &sb) != 0 && errno == ENOENT;
    }
    if (fstat(log->fd, &sb) != 0 || sb.st_size != log->seg_size)
        return 0;
    pb_audit_segment_file(log, log->seg_index + 1, next, sizeof next);
    return stat(next, &sb) != 0 && errno == ENOENT;
}

static pb_status read_fully(int fd, char *buf, size_t n, off_t at)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, buf + done, n - done, at + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return pb_fail(PB_ERR_STORAGE, "reading the audit log tail: %s",
                           r < 0 ? strerror(errno) : "file shrank");
        done += (size_t)r;
    }
    return PB_OK;
}

/* Keeps the torn bytes next to the segment for whoever investigates. */
static pb_status save_torn(const char *seg_path, const char *bytes, size_t n)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s.torn", seg_path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return pb_fail(PB_ERR_STORAGE, "saving the torn tail: %s", strerror(errno));
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, bytes + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            close(fd);
            return pb_fail(PB_ERR_STORAGE, "saving the torn tail: %s", strerror(errno));
        }
        done += (size_t)w;
    }
    int ok = fsync(fd) == 0;
    close(fd);
    return ok ? PB_OK : pb_fail(PB_ERR_STORAGE, "saving the torn tail: fsync failed");
}

typedef struct tail_scan {
    int found;        /* a whole last line */
    pb_audit_record last;
    off_t whole_end;  /* offset just after the last '\n' */
    size_t torn;      /* bytes after it */
} tail_scan;

static pb_status scan_tail(int fd, off_t size, const char *name, char *buf, tail_scan *t)
{
    memset(t, 0, sizeof *t);
    size_t n = size < (off_t)TAIL_WINDOW ? (size_t)size : TAIL_WINDOW;
    off_t start = size - (off_t)n;
    pb_status st = read_fully(fd, buf, n, start);
    if (st != PB_OK)
        return st;
    const char *nl = memrchr(buf, '\n', n);
    if (!nl) {
        if (start > 0)
            return pb_fail(PB_ERR_INTEGRITY,
                           "audit log %s ends in %zu bytes without a newline; run audit verify",
                           name, n);
        t->torn = n;
        t->whole_end = 0;
        return PB_OK;
    }
    size_t end = (size_t)(nl - buf);
    t->whole_end = start + (off_t)end + 1;
    t->torn = n - end - 1;
    const char *before = end ? memrchr(buf, '\n', end) : NULL;
    if (!before && start > 0)
        return pb_fail(PB_ERR_INTEGRITY, "audit log %s: last record too long; run audit verify",
                       name);
    size_t line_start = before ? (size_t)(before - buf) + 1 : 0;
    int hash_ok = 0;
    st = pb_audit_record_decode(buf + line_start, end - line_start, &t->last, &hash_ok);
    if (st != PB_OK || !hash_ok)
        return pb_fail(PB_ERR_INTEGRITY,
                       "audit log %s: the last record is corrupt (%s); run audit verify", name,
                       st != PB_OK ? pb_last_error() : "hash mismatch");
    t->found = 1;
    return PB_OK;
}

static void reset_empty(pb_audit_log *log)
{
    log->last_seq = 0;
    memset(log->last_hash, 0, sizeof log->last_hash);
    log->last_is_checkpoint = 0;
    log->last_checkpoint_seq = 0;
    log->pending = 0;
}

static pb_status open_active(pb_audit_log *log, unsigned index)
{
    if (log->fd >= 0 && log->seg_index == index)
        return PB_OK;
    if (log->fd >= 0)
        close(log->fd);
    char path[PATH_MAX + PB_AUDIT_SEGMENT_NAME_MAX];
    pb_audit_segment_file(log, index, path, sizeof path);
    log->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (log->fd < 0)
        return pb_fail(PB_ERR_STORAGE, "opening %s: %s", path, strerror(errno));
    log->seg_index = index;
    return PB_OK;
}

static void torn_hint(const pb_audit_log *log, char *out, size_t n)
{
    snprintf(out, n, "%s", log->repair_hint[0] ? log->repair_hint : "open with repair to cut it");
}

/* Walks back from the last segment to the last whole record. Only the
 * final non-empty segment may have a torn tail; it is only read here (a
 * repair cuts it later, in pb_audit_cut_torn). */
static pb_status find_tail(pb_audit_log *log, const pb_audit_segments *segs, int repair,
                           pb_audit_repair_info *info, char *buf)
{
    int seen_nonempty = 0;
    for (size_t i = segs->count; i-- > 0;) {
        char path[PATH_MAX + PB_AUDIT_SEGMENT_NAME_MAX];
        pb_audit_segment_file(log, segs->index[i], path, sizeof path);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return pb_fail(PB_ERR_STORAGE, "opening %s: %s", path, strerror(errno));
        struct stat sb;
        tail_scan t;
        pb_status st = fstat(fd, &sb) == 0 ? PB_OK : pb_fail(PB_ERR_STORAGE, "stat %s", path);
        if (st == PB_OK && sb.st_size > 0)
            st = scan_tail(fd, sb.st_size, path, buf, &t);
        close(fd);
        if (st != PB_OK)
            return st;
        if (sb.st_size == 0)
            continue;
        if (t.torn && seen_nonempty)
            return pb_fail(PB_ERR_INTEGRITY, "audit log: %s ends without a newline but is not "
                                             "the last segment; run audit verify", path);
        seen_nonempty = 1;
        if (t.torn && !repair) {
            char hint[200];
            torn_hint(log, hint, sizeof hint);
            return pb_fail(PB_ERR_INTEGRITY,
                           "audit log: torn tail of %zu bytes after the last whole record in %s "
                           "(a writer died mid-append); %s",
                           t.torn, path, hint);
        }
        if (t.torn)
            *info = (pb_audit_repair_info){1, 0, segs->index[i], t.whole_end, t.torn};
        if (t.found) {
            log->last_seq = t.last.seq;
            memcpy(log->last_hash, t.last.hash, 32);
            log->last_is_checkpoint = pb_audit_record_is_checkpoint(&t.last);
            log->last_checkpoint_seq = log->last_is_checkpoint ? t.last.seq : 0;
            log->pending = log->last_is_checkpoint ? 0 : 1;
            return PB_OK;
        }
    }
    reset_empty(log);
    return PB_OK;
}

pb_status pb_audit_cut_torn(pb_audit_log *log, pb_audit_repair_info *info)
{
    char path[PATH_MAX + PB_AUDIT_SEGMENT_NAME_MAX];
    pb_audit_segment_file(log, info->segment, path, sizeof path);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return pb_fail(PB_ERR_STORAGE, "opening %s to cut its torn tail: %s", path,
                       strerror(errno));
    struct stat sb;
    pb_status st = PB_OK;
    /* Under the flock nobody appends, but be sure the bytes are the ones found. */
    if (fstat(fd, &sb) != 0 || sb.st_size != info->offset + (off_t)info->bytes)
        st = pb_fail(PB_ERR_STORAGE, "%s changed while repairing its torn tail", path);
    char *torn = st == PB_OK ? malloc(info->bytes) : NULL;
    if (st == PB_OK && !torn)
        st = pb_fail(PB_ERR_NOMEM, "out of memory");
    if (st == PB_OK)
        st = read_fully(fd, torn, info->bytes, info->offset);
    if (st == PB_OK)
        st = save_torn(path, torn, info->bytes);
    free(torn);
    if (st == PB_OK && (ftruncate(fd, info->offset) != 0 || fsync(fd) != 0))
        st = pb_fail(PB_ERR_STORAGE, "cutting the torn tail of %s: %s", path, strerror(errno));
    close(fd);
    if (st != PB_OK)
        return st;
    info->done = 1;
    if (log->fd >= 0 && fstat(log->fd, &sb) == 0)
        log->seg_size = sb.st_size;
    return PB_OK;
}

/* Segments 1..n without a gap, then the last whole record: the chain state. */
static pb_status read_state(pb_audit_log *log, pb_audit_segments *segs, int repair,
                            pb_audit_repair_info *info)
{
    for (size_t i = 0; i < segs->count; i++) {
        if (segs->index[i] != i + 1)
            return pb_fail(PB_ERR_INTEGRITY, "audit log: segment %zu is missing; run audit verify",
                           i + 1);
    }
    if (segs->count == 0) {
        reset_empty(log);
        return PB_OK;
    }
    char *buf = malloc(TAIL_WINDOW);
    if (!buf)
        return pb_fail(PB_ERR_NOMEM, "out of memory");
    pb_status st = find_tail(log, segs, repair, info, buf);
    free(buf);
    return st;
}

pb_status pb_audit_check_tail(const char *dir, const char *repair_hint)
{
    struct stat sb;
    if (stat(dir, &sb) != 0 && errno == ENOENT)
        return PB_OK; /* nothing written yet */
    pb_audit_log *log = calloc(1, sizeof *log);
    if (!log)
        return pb_fail(PB_ERR_NOMEM, "out of memory");
    log->fd = log->lock_fd = -1;
    snprintf(log->dir, sizeof log->dir, "%s", dir);
    snprintf(log->repair_hint, sizeof log->repair_hint, "%s", repair_hint ? repair_hint : "");
    pb_audit_segments segs;
    pb_status st = pb_audit_segments_list(dir, &segs);
    if (st == PB_OK) {
        pb_audit_repair_info info;
        memset(&info, 0, sizeof info);
        st = read_state(log, &segs, 0, &info);
        pb_audit_segments_free(&segs);
    }
    free(log);
    return st;
}

pb_status pb_audit_sync_state(pb_audit_log *log, int repair, pb_audit_repair_info *info)
{
    memset(info, 0, sizeof *info);
    pb_audit_segments segs;
    pb_status st = pb_audit_segments_list(log->dir, &segs);
    if (st != PB_OK)
        return st;
    st = read_state(log, &segs, repair, info);
    if (st == PB_OK && segs.count == 0) {
        if (log->fd >= 0)
            close(log->fd);
        log->fd = -1;
        log->seg_index = 1;
        log->seg_size = 0;
    } else if (st == PB_OK) {
        st = open_active(log, segs.index[segs.count - 1]);
    }
    pb_audit_segments_free(&segs);
    struct stat sb;
    if (st == PB_OK && log->fd >= 0) {
        if (fstat(log->fd, &sb) != 0)
            return pb_fail(PB_ERR_STORAGE, "stat of the active segment: %s", strerror(errno));
        log->seg_size = sb.st_size;
    }
    return st;
}
