/* log.c - the audit log writer (see log.h): opening, appending durably,
 * rotating segments, checkpoints, and the locks that make concurrent
 * writers, threads or processes, produce one chain. */
#include "audit/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/log_internal.h"
#include "common/fail.h"

int64_t pb_audit_clock_realtime(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Cost meter for the stats, never a record's time. */
static uint64_t meter_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static pb_status lock_files(pb_audit_log *log)
{
    while (flock(log->lock_fd, LOCK_EX) != 0) {
        if (errno != EINTR)
            return pb_fail(PB_ERR_STORAGE, "locking the audit log: %s", strerror(errno));
    }
    return PB_OK;
}

static void unlock_files(pb_audit_log *log) { flock(log->lock_fd, LOCK_UN); }

/* Takes both locks and brings the state up to date with the files. */
static pb_status enter(pb_audit_log *log)
{
    pthread_mutex_lock(&log->mu);
    if (log->broken) {
        pthread_mutex_unlock(&log->mu);
        return pb_fail(PB_ERR_STORAGE, "audit log: an earlier write failed; reopen the log");
    }
    pb_status st = lock_files(log);
    if (st == PB_OK && !pb_audit_state_current(log)) {
        pb_audit_repair_info info;
        st = pb_audit_sync_state(log, 0, &info);
        if (st != PB_OK)
            unlock_files(log);
    }
    if (st != PB_OK)
        pthread_mutex_unlock(&log->mu);
    return st;
}

static void leave(pb_audit_log *log)
{
    unlock_files(log);
    pthread_mutex_unlock(&log->mu);
}

static pb_status sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return pb_fail(PB_ERR_STORAGE, "opening %s: %s", dir, strerror(errno));
    int ok = fsync(fd) == 0;
    close(fd);
    return ok ? PB_OK : pb_fail(PB_ERR_STORAGE, "fsync of %s failed", dir);
}

/* A new segment is created empty and its directory entry made durable
 * before the first record goes in. */
static pb_status start_segment(pb_audit_log *log, unsigned index)
{
    char path[PATH_MAX + PB_AUDIT_SEGMENT_NAME_MAX];
    pb_audit_segment_file(log, index, path, sizeof path);
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return pb_fail(PB_ERR_STORAGE, "creating %s: %s", path, strerror(errno));
    pb_status st = sync_dir(log->dir);
    if (st != PB_OK) {
        close(fd);
        return st;
    }
    if (log->fd >= 0)
        close(log->fd);
    log->fd = fd;
    log->seg_index = index;
    log->seg_size = 0;
    return PB_OK;
}

static pb_status write_all(int fd, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return pb_fail(PB_ERR_STORAGE, "writing the audit log: %s%s",
                           w < 0 && (errno == ENOSPC || errno == EDQUOT) ? "storage full: " : "",
                           w < 0 ? strerror(errno) : "no progress");
        done += (size_t)w;
    }
    return PB_OK;
}

/* A record placed in the chain and encoded, waiting to be written. */
typedef struct placed {
    pb_audit_record rec;
    char line[PB_AUDIT_LINE_MAX + 2]; /* the line and its '\n' */
    size_t len;                       /* with the '\n' */
} placed;

/* Gives p->rec the place after (after_seq, after_hash) and encodes it. */
static pb_status place(const pb_audit_log *log, placed *p, uint64_t after_seq,
                       const uint8_t after_hash[32])
{
    p->rec.seq = after_seq + 1;
    p->rec.node = log->node;
    memcpy(p->rec.prev, after_hash, 32);
    size_t len;
    pb_status st = pb_audit_record_encode(&p->rec, p->line, PB_AUDIT_LINE_MAX + 1, &len);
    if (st != PB_OK)
        return st;
    p->line[len] = '\n';
    p->len = len + 1;
    return PB_OK;
}

/* Writes placed records (one or two) with one write(2) into one segment
 * and one fdatasync, then advances the chain state. */
static pb_status write_batch(pb_audit_log *log, placed *const *batch, size_t count)
{
    uint64_t t0 = meter_ns();
    char buf[2 * (PB_AUDIT_LINE_MAX + 2)];
    size_t n = 0;
    for (size_t i = 0; i < count && i < 2; i++) {
        memcpy(buf + n, batch[i]->line, batch[i]->len);
        n += batch[i]->len;
    }
    pb_status st = PB_OK;
    if (log->fd >= 0 && log->seg_size > 0 && (size_t)log->seg_size + n > log->segment_bytes)
        st = start_segment(log, log->seg_index + 1);
    else if (log->fd < 0)
        st = start_segment(log, log->seg_index ? log->seg_index : 1);
    if (st == PB_OK)
        st = write_all(log->fd, buf, n);
    if (st != PB_OK) {
        /* Take back a partial line so the file ends on a whole record. */
        if (log->fd >= 0 && ftruncate(log->fd, log->seg_size) != 0)
            log->broken = 1;
        return st;
    }
    uint64_t t1 = meter_ns();
    if (fdatasync(log->fd) != 0) {
        /* After a failed fsync the page cache may no longer say what is on
         * disk: stop writing until someone reopens (and verifies) the log. */
        log->broken = 1;
        return pb_fail(PB_ERR_STORAGE, "fdatasync of the audit log failed: %s", strerror(errno));
    }
    uint64_t t2 = meter_ns();
    log->seg_size += (off_t)n;
    for (size_t i = 0; i < count; i++) {
        const pb_audit_record *r = &batch[i]->rec;
        log->last_seq = r->seq;
        memcpy(log->last_hash, r->hash, 32);
        log->last_is_checkpoint = pb_audit_record_is_checkpoint(r);
        if (log->last_is_checkpoint) {
            log->pending = 0;
            log->last_checkpoint_seq = r->seq;
        } else {
            log->pending++;
        }
    }
    log->stats.appends += count;
    log->stats.last_write_ns = t1 - t0;
    log->stats.last_fsync_ns = t2 - t1;
    log->stats.total_append_ns += t2 - t0;
    return PB_OK;
}

static pb_status write_one(pb_audit_log *log, placed *p)
{
    pb_status st = place(log, p, log->last_seq, log->last_hash);
    if (st != PB_OK)
        return st;
    placed *batch[1] = {p};
    return write_batch(log, batch, 1);
}

static int copy_field(char *dst, size_t cap, const char *src)
{
    if (!src)
        src = "";
    size_t n = strlen(src);
    if (n >= cap)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

static pb_status record_from_event(const pb_audit_event *ev, pb_audit_record *r)
{
    memset(r, 0, sizeof *r);
    if (!ev || !ev->event || !ev->actor || !ev->outcome)
        return pb_fail(PB_ERR_ARGUMENT, "audit event: event, actor and outcome are required");
    if (!strcmp(ev->event, PB_AUDIT_EVENT_CHECKPOINT) || !strcmp(ev->event, PB_AUDIT_EVENT_REPAIR))
        return pb_fail(PB_ERR_ARGUMENT, "audit event: '%s' is written by the log itself",
                       ev->event);
    if (copy_field(r->event, sizeof r->event, ev->event) ||
        copy_field(r->wallet, sizeof r->wallet, ev->wallet) ||
        copy_field(r->actor, sizeof r->actor, ev->actor) ||
        copy_field(r->outcome, sizeof r->outcome, ev->outcome) ||
        copy_field(r->detail, sizeof r->detail, ev->detail))
        return pb_fail(PB_ERR_ARGUMENT, "audit event: a field is too long");
    if (ev->digest_len > PB_AUDIT_DIGEST_MAX || (ev->digest_len && !ev->digest))
        return pb_fail(PB_ERR_ARGUMENT, "audit event: digest of more than %d bytes",
                       PB_AUDIT_DIGEST_MAX);
    if (ev->digest_len)
        memcpy(r->digest, ev->digest, ev->digest_len);
    r->digest_len = ev->digest_len;
    return PB_OK;
}

/* Fills cp as the signed checkpoint of (head_seq, head). */
static pb_status sign_checkpoint(pb_audit_log *log, pb_audit_record *cp, uint64_t head_seq,
                                 const uint8_t head[32])
{
    memset(cp, 0, sizeof *cp);
    snprintf(cp->event, sizeof cp->event, "%s", PB_AUDIT_EVENT_CHECKPOINT);
    snprintf(cp->actor, sizeof cp->actor, "audit");
    snprintf(cp->outcome, sizeof cp->outcome, "ok");
    cp->node = log->node;
    cp->time_ms = log->clock(log->clock_ctx);
    cp->head_seq = head_seq;
    memcpy(cp->head, head, 32);
    pb_status st = pb_audit_checkpoint_sign(log->signer.sign, log->signer.ctx, cp);
    if (st == PB_OK && log->public_key && pb_audit_checkpoint_verify(log->public_key, cp) != PB_OK)
        st = pb_fail(PB_ERR_HSM, "audit checkpoint: the signer's key is not the configured "
                                 "audit public key");
    return st;
}

/* The background saver (PB_AUDIT_STORE_ASYNC): saves whatever line is
 * latest, so a burst of checkpoints costs one save, not one each. */
static void *store_thread_main(void *arg)
{
    pb_audit_log *log = arg;
    pthread_mutex_lock(&log->store_mu);
    for (;;) {
        while (!log->store_line && !log->store_stop)
            pthread_cond_wait(&log->store_cv, &log->store_mu);
        if (!log->store_line)
            break;
        char *line = log->store_line;
        size_t len = log->store_len;
        log->store_line = NULL;
        log->store_busy = 1;
        pthread_mutex_unlock(&log->store_mu);
        uint64_t t0 = meter_ns();
        pb_status st = log->store.save(log->store.ctx, line, len);
        uint64_t t1 = meter_ns();
        free(line);
        pthread_mutex_lock(&log->store_mu);
        log->store_busy = 0;
        log->store_status = st;
        log->store_last_ns = t1 - t0;
        if (st != PB_OK)
            log->store_errors++;
        pthread_cond_broadcast(&log->store_cv);
    }
    pthread_mutex_unlock(&log->store_mu);
    return NULL;
}

static pb_status post_to_store_thread(pb_audit_log *log, const placed *cp)
{
    char *copy = malloc(cp->len);
    if (!copy)
        return pb_fail(PB_ERR_NOMEM, "out of memory");
    memcpy(copy, cp->line, cp->len - 1);
    copy[cp->len - 1] = '\0';
    pthread_mutex_lock(&log->store_mu);
    free(log->store_line); /* superseded before it was saved */
    log->store_line = copy;
    log->store_len = cp->len - 1;
    pthread_cond_broadcast(&log->store_cv);
    pthread_mutex_unlock(&log->store_mu);
    return PB_OK;
}

pb_status pb_audit_flush_store(pb_audit_log *log)
{
    if (!log->store_thread_running)
        return PB_OK;
    pthread_mutex_lock(&log->store_mu);
    while (log->store_line || log->store_busy)
        pthread_cond_wait(&log->store_cv, &log->store_mu);
    pb_status st = log->store_status;
    pthread_mutex_unlock(&log->store_mu);
    if (st != PB_OK)
        return pb_fail(st, "audit: the last checkpoint could not be stored outside the log");
    return PB_OK;
}

/* Hands a written checkpoint to the store; its failure is reported but
 * the checkpoint stays in the log (the next one stores again). */
static pb_status store_checkpoint(pb_audit_log *log, const placed *cp, uint64_t t0,
                                  uint64_t t_signed)
{
    uint64_t t2 = meter_ns();
    pb_status st = PB_OK;
    if (log->store_thread_running) {
        st = post_to_store_thread(log, cp);
    } else if (log->store.save) {
        st = log->store.save(log->store.ctx, cp->line, cp->len - 1);
        if (st != PB_OK) {
            log->stats.checkpoint_errors++;
            log->stats.store_errors++;
            st = pb_fail_context(st, "audit checkpoint %llu is in the log but was not stored",
                                 (unsigned long long)cp->rec.seq);
        }
    }
    uint64_t t3 = meter_ns();
    log->stats.checkpoints++;
    log->stats.last_sign_ns = t_signed - t0;
    log->stats.last_store_ns = t3 - t2;
    log->stats.last_checkpoint_ns = t3 - t0;
    log->stats.total_checkpoint_ns += t3 - t0;
    return st;
}

static pb_status checkpoint_locked(pb_audit_log *log, uint64_t *seq)
{
    if (seq)
        *seq = log->last_checkpoint_seq;
    if (log->last_seq == 0 || log->last_is_checkpoint)
        return PB_OK;
    uint64_t t0 = meter_ns();
    placed cp;
    pb_status st = sign_checkpoint(log, &cp.rec, log->last_seq, log->last_hash);
    uint64_t t1 = meter_ns();
    if (st == PB_OK)
        st = write_one(log, &cp);
    if (st != PB_OK) {
        log->stats.checkpoint_errors++;
        return st;
    }
    if (seq)
        *seq = cp.rec.seq;
    return store_checkpoint(log, &cp, t0, t1);
}

static pb_status append_locked(pb_audit_log *log, const pb_audit_event *ev, uint64_t *seq)
{
    placed p;
    pb_status st = record_from_event(ev, &p.rec);
    if (st != PB_OK)
        return st;
    p.rec.time_ms = log->clock(log->clock_ctx);
    st = write_one(log, &p);
    if (st == PB_OK && seq)
        *seq = p.rec.seq;
    return st;
}

pb_status pb_audit_append(pb_audit_log *log, const pb_audit_event *ev, uint64_t *seq)
{
    pb_status st = enter(log);
    if (st != PB_OK)
        return st;
    st = append_locked(log, ev, seq);
    if (st == PB_OK && log->checkpoint_every && log->pending >= log->checkpoint_every)
        (void)checkpoint_locked(log, NULL); /* counted in stats; retried next time */
    leave(log);
    return st;
}

pb_status pb_audit_checkpoint(pb_audit_log *log, uint64_t *seq)
{
    pb_status st = enter(log);
    if (st != PB_OK)
        return st;
    st = checkpoint_locked(log, seq);
    leave(log);
    return st;
}

/* The record and the checkpoint over it go out in one write and one
 * fdatasync: half the disk flushes of appending them one by one. If the
 * signer fails, the record is still written (alone) and the error
 * returned: an operation's outcome is never dropped for want of a
 * signature. */
static pb_status append_checkpoint_locked(pb_audit_log *log, const pb_audit_event *ev,
                                          uint64_t *seq)
{
    placed rec, cp;
    pb_status st = record_from_event(ev, &rec.rec);
    if (st != PB_OK)
        return st;
    rec.rec.time_ms = log->clock(log->clock_ctx);
    st = place(log, &rec, log->last_seq, log->last_hash);
    if (st != PB_OK)
        return st;
    uint64_t t0 = meter_ns();
    pb_status signed_st = sign_checkpoint(log, &cp.rec, rec.rec.seq, rec.rec.hash);
    uint64_t t1 = meter_ns();
    if (signed_st == PB_OK)
        signed_st = place(log, &cp, rec.rec.seq, rec.rec.hash);
    placed *batch[2] = {&rec, &cp};
    st = write_batch(log, batch, signed_st == PB_OK ? 2 : 1);
    if (st != PB_OK)
        return st;
    if (seq)
        *seq = rec.rec.seq;
    if (signed_st != PB_OK) {
        log->stats.checkpoint_errors++;
        return signed_st;
    }
    return store_checkpoint(log, &cp, t0, t1);
}

pb_status pb_audit_append_checkpoint(pb_audit_log *log, const pb_audit_event *ev, uint64_t *seq)
{
    pb_status st = enter(log);
    if (st != PB_OK)
        return st;
    st = append_checkpoint_locked(log, ev, seq);
    leave(log);
    return st;
}

void pb_audit_stats_get(pb_audit_log *log, pb_audit_stats *out)
{
    pthread_mutex_lock(&log->mu);
    *out = log->stats;
    out->last_seq = log->last_seq;
    out->last_checkpoint_seq = log->last_checkpoint_seq;
    if (log->store_thread_running) {
        pthread_mutex_lock(&log->store_mu);
        out->store_errors = log->store_errors;
        out->last_store_ns = log->store_last_ns;
        pthread_mutex_unlock(&log->store_mu);
    }
    pthread_mutex_unlock(&log->mu);
}

/* --- opening ---------------------------------------------------------------- */

/* The log must not be shorter than (or different from) the checkpoint
 * kept outside it: appending would fork the chain past a signed head. */
static pb_status check_external(pb_audit_log *log)
{
    if (!log->store.load)
        return PB_OK;
    char *line = NULL;
    size_t len = 0;
    pb_status st = log->store.load(log->store.ctx, &line, &len);
    if (st == PB_ERR_NOT_FOUND)
        return PB_OK;
    if (st != PB_OK)
        return pb_fail_context(st, "loading the audit checkpoint kept outside the log");
    pb_audit_record cp;
    int hash_ok = 0;
    st = pb_audit_record_decode(line, len, &cp, &hash_ok);
    free(line);
    if (st != PB_OK || !hash_ok || !pb_audit_record_is_checkpoint(&cp) || cp.node != log->node)
        return pb_fail(PB_ERR_INTEGRITY, "the audit checkpoint kept outside the log is not a "
                                         "valid checkpoint of node %u", log->node);
    if (cp.seq > log->last_seq)
        return pb_fail(PB_ERR_INTEGRITY,
                       "audit log ends at seq %llu but its signed checkpoint kept outside the log "
                       "is at seq %llu: the log was cut short; restore it before writing",
                       (unsigned long long)log->last_seq, (unsigned long long)cp.seq);
    if (cp.seq == log->last_seq && memcmp(cp.hash, log->last_hash, 32) != 0)
        return pb_fail(PB_ERR_INTEGRITY, "audit log record %llu differs from the checkpoint kept "
                                         "outside the log", (unsigned long long)cp.seq);
    return PB_OK;
}

static pb_status write_repair_record(pb_audit_log *log, const pb_audit_repair_info *info)
{
    pb_audit_record r;
    memset(&r, 0, sizeof r);
    char name[PB_AUDIT_SEGMENT_NAME_MAX];
    pb_audit_segment_name(info->segment, name);
    snprintf(r.event, sizeof r.event, "%s", PB_AUDIT_EVENT_REPAIR);
    snprintf(r.actor, sizeof r.actor, "audit");
    snprintf(r.outcome, sizeof r.outcome, "ok");
    snprintf(r.detail, sizeof r.detail,
             "cut a torn tail of %zu bytes at offset %lld of %s (kept in %s.torn)", info->bytes,
             (long long)info->offset, name, name);
    r.time_ms = log->clock(log->clock_ctx);
    placed p;
    p.rec = r;
    pb_status st = write_one(log, &p);
    if (st != PB_OK)
        return st;
    log->stats.repairs++;
    pb_audit_repair_report *rep = &log->repair;
    rep->repaired = 1;
    pb_audit_segment_file(log, info->segment, rep->segment, sizeof rep->segment);
    snprintf(rep->kept_in, sizeof rep->kept_in, "%.*s.torn", (int)sizeof rep->kept_in - 6,
             rep->segment);
    rep->offset = (uint64_t)info->offset;
    rep->cut_bytes = info->bytes;
    rep->record_seq = p.rec.seq;
    return PB_OK;
}

void pb_audit_repair_get(pb_audit_log *log, pb_audit_repair_report *out)
{
    pthread_mutex_lock(&log->mu);
    *out = log->repair;
    pthread_mutex_unlock(&log->mu);
}

static pb_status open_files(pb_audit_log *log, const pb_audit_options *opt)
{
    if (mkdir(log->dir, 0700) != 0 && errno != EEXIST)
        return pb_fail(PB_ERR_STORAGE, "creating %s: %s", log->dir, strerror(errno));
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", log->dir, PB_AUDIT_LOCK_NAME);
    log->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (log->lock_fd < 0)
        return pb_fail(PB_ERR_STORAGE, "opening %s: %s", path, strerror(errno));
    pb_status st = lock_files(log);
    if (st != PB_OK)
        return st;
    pb_audit_repair_info info;
    st = pb_audit_sync_state(log, (opt->flags & PB_AUDIT_REPAIR) != 0, &info);
    /* A log behind the token's checkpoint is not repaired, not even its
     * torn tail: whoever investigates gets the files as they were. */
    if (st == PB_OK)
        st = check_external(log);
    if (st == PB_OK && info.found)
        st = pb_audit_cut_torn(log, &info);
    if (st == PB_OK && info.done)
        st = write_repair_record(log, &info);
    unlock_files(log);
    return st;
}

pb_status pb_audit_open(const pb_audit_options *opt, pb_audit_log **out)
{
    *out = NULL;
    if (!opt)
        return pb_fail(PB_ERR_ARGUMENT, "audit log: no options");
    pb_status st = PB_OK;
    pb_audit_log *log = NULL;
    if (!opt->dir || !*opt->dir || opt->node < 1 || opt->node > PB_AUDIT_NODE_MAX)
        st = pb_fail(PB_ERR_ARGUMENT, "audit log: a directory and a node 1-%d are required",
                     PB_AUDIT_NODE_MAX);
    else if (strlen(opt->dir) >= PATH_MAX - PB_AUDIT_SEGMENT_NAME_MAX - 16)
        st = pb_fail(PB_ERR_ARGUMENT, "audit log: directory path too long");
    else if (!(log = calloc(1, sizeof *log)))
        st = pb_fail(PB_ERR_NOMEM, "out of memory");
    if (st != PB_OK) {
        if (opt->store.release) /* the log owns the store context from here on */
            opt->store.release(opt->store.ctx);
        return st;
    }
    pthread_mutex_init(&log->mu, NULL);
    pthread_mutex_init(&log->store_mu, NULL);
    pthread_cond_init(&log->store_cv, NULL);
    log->fd = log->lock_fd = -1;
    snprintf(log->dir, sizeof log->dir, "%s", opt->dir);
    log->node = opt->node;
    log->segment_bytes = opt->segment_bytes ? opt->segment_bytes : PB_AUDIT_SEGMENT_DEFAULT_BYTES;
    log->checkpoint_every = opt->checkpoint_every;
    log->flags = opt->flags;
    log->clock = opt->clock ? opt->clock : pb_audit_clock_realtime;
    log->clock_ctx = opt->clock_ctx;
    log->signer = opt->signer;
    log->store = opt->store;
    if (opt->repair_hint)
        snprintf(log->repair_hint, sizeof log->repair_hint, "%s", opt->repair_hint);
    if (opt->public_key_pem)
        st = pb_audit_public_key_load(opt->public_key_pem, strlen(opt->public_key_pem),
                                      &log->public_key);
    if (st == PB_OK)
        st = open_files(log, opt);
    if (st == PB_OK && (opt->flags & PB_AUDIT_STORE_ASYNC) && log->store.save) {
        if (pthread_create(&log->store_thread, NULL, store_thread_main, log) != 0)
            st = pb_fail(PB_ERR_NOMEM, "audit: cannot start the checkpoint store thread");
        else
            log->store_thread_running = 1;
    }
    if (st != PB_OK) {
        pb_audit_close(log);
        return st;
    }
    *out = log;
    return PB_OK;
}

void pb_audit_close(pb_audit_log *log)
{
    if (!log)
        return;
    if (log->store_thread_running) {
        (void)pb_audit_flush_store(log); /* its status is in the stats */
        pthread_mutex_lock(&log->store_mu);
        log->store_stop = 1;
        pthread_cond_broadcast(&log->store_cv);
        pthread_mutex_unlock(&log->store_mu);
        pthread_join(log->store_thread, NULL);
    }
    free(log->store_line);
    if (log->fd >= 0)
        close(log->fd);
    if (log->lock_fd >= 0)
        close(log->lock_fd);
    EVP_PKEY_free(log->public_key);
    if (log->store.release)
        log->store.release(log->store.ctx);
    pthread_cond_destroy(&log->store_cv);
    pthread_mutex_destroy(&log->store_mu);
    pthread_mutex_destroy(&log->mu);
    free(log);
}
