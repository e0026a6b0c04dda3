/* log_internal.h - the writer's state, shared by log.c (appending,
 * checkpoints) and log_tail.c (recovering the chain state from disk).
 * Everything here is touched only with `mu` held and the flock taken. */
#ifndef PB_AUDIT_LOG_INTERNAL_H
#define PB_AUDIT_LOG_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <sys/types.h>

#include "audit/log.h"
#include "audit/segment.h"

struct pb_audit_log {
    pthread_mutex_t mu;
    char dir[PATH_MAX];
    unsigned node;
    size_t segment_bytes;
    unsigned checkpoint_every;
    unsigned flags;
    pb_audit_clock_fn clock;
    void *clock_ctx;
    pb_audit_signer signer;
    pb_audit_checkpoint_store store;
    EVP_PKEY *public_key;
    char repair_hint[160];
    pb_audit_repair_report repair; /* what the repair at open did */
    int lock_fd;
    int fd;             /* active segment (read-write, O_APPEND), -1 before the first */
    unsigned seg_index; /* index of fd's segment, or of the one to create */
    off_t seg_size;     /* its size as we left it */
    uint64_t last_seq;
    uint8_t last_hash[32];
    int last_is_checkpoint;
    uint64_t last_checkpoint_seq; /* 0 when not known */
    unsigned pending;   /* records since the last checkpoint (>= 1 if any) */
    int broken;         /* a failed write or fsync left the file in doubt */
    pb_audit_stats stats;
    /* PB_AUDIT_STORE_ASYNC: the latest checkpoint line waiting for the
     * store thread, under store_mu (never taken while holding mu's files). */
    pthread_mutex_t store_mu;
    pthread_cond_t store_cv;
    pthread_t store_thread;
    int store_thread_running;
    int store_stop, store_busy;
    char *store_line;
    size_t store_len;
    pb_status store_status;
    uint64_t store_errors, store_last_ns;
};

/* A torn tail found at open: planned (found) and, once cut, done. */
typedef struct pb_audit_repair_info {
    int found;
    int done;
    unsigned segment;
    off_t offset;
    size_t bytes;
} pb_audit_repair_info;

void pb_audit_segment_file(const pb_audit_log *log, unsigned index, char *out, size_t n);
/* Re-reads the chain state from the files. With repair set, a torn tail is
 * only described in *info (found), for pb_audit_cut_torn once the rest of
 * the open checked out; without, it is an integrity error. */
pb_status pb_audit_sync_state(pb_audit_log *log, int repair, pb_audit_repair_info *info);
/* Saves the torn tail described in *info to <segment>.torn, cuts it off
 * and sets info->done. */
pb_status pb_audit_cut_torn(pb_audit_log *log, pb_audit_repair_info *info);
/* 1 iff the files are as this writer left them (nobody else appended). */
int pb_audit_state_current(const pb_audit_log *log);

#endif
