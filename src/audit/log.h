/* log.h - the audit log writer: one node's append-only, hash-chained,
 * checkpointed log of JSON Lines (format in docs/audit.md).
 *
 * Owns: appending records durably (write + fdatasync before returning
 * PB_OK: callers rely on "returned PB_OK => on disk"), the chain state
 * (seq, prev), segment rotation, serializing writers (a mutex for threads,
 * flock on <dir>/audit.lock for processes), torn-tail detection and the
 * explicit repair, and signed checkpoints through an injected signer and
 * checkpoint store. Must never: include anything from pkcs11/ (the engine
 * injects the token), rewrite or reorder a whole record, append after a
 * torn tail unless asked to repair, or append to a log that is shorter
 * than the checkpoint kept outside it.
 */
#ifndef PB_AUDIT_LOG_H
#define PB_AUDIT_LOG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/checkpoint.h"
#include "audit/record.h"
#include "planbok/error.h"

typedef struct pb_audit_log pb_audit_log;

/* Milliseconds since the Unix epoch (UTC). */
typedef int64_t (*pb_audit_clock_fn)(void *ctx);
/* The default clock: CLOCK_REALTIME. */
int64_t pb_audit_clock_realtime(void *ctx);

typedef struct pb_audit_signer {
    pb_audit_sign_fn sign; /* NULL: checkpoints are refused */
    void *ctx;
} pb_audit_signer;

/* Where the latest checkpoint is kept outside the log (the engine seals it
 * into the node's token). The line is the checkpoint record's canonical
 * line without '\n'. load returns malloc'd, NUL-terminated bytes, or
 * PB_ERR_NOT_FOUND when nothing is stored yet. */
typedef struct pb_audit_checkpoint_store {
    pb_status (*save)(void *ctx, const char *line, size_t len);
    pb_status (*load)(void *ctx, char **line, size_t *len);
    void *ctx;
    void (*release)(void *ctx); /* optional: called once by pb_audit_close (or a failed open) */
} pb_audit_checkpoint_store;

enum {
    /* At open, cut a torn last line (a writer killed mid-append), keep its
     * bytes in <segment>.torn, and append a "log.repair" record. Nothing
     * else is ever cut: the cut happens only after the rest of the open
     * (segments contiguous, last whole record intact, the checkpoint kept
     * outside not ahead of it) succeeded. */
    PB_AUDIT_REPAIR = 1,
    /* Hand checkpoints to the store from a background thread instead of
     * inside pb_audit_checkpoint: a slow store (a token object write can
     * take tens of ms) then costs the operation nothing. The store lags the
     * log by at most the save in progress; saves are latest-wins; close
     * (or pb_audit_flush_store) waits for the last one. */
    PB_AUDIT_STORE_ASYNC = 2
};

typedef struct pb_audit_options {
    const char *dir;            /* created (one level, mode 0700) if missing */
    unsigned node;              /* 1..255, written into every record */
    size_t segment_bytes;       /* rotate before a segment would exceed this; 0: 8 MiB */
    unsigned checkpoint_every;  /* also checkpoint after this many records; 0: only on request */
    unsigned flags;             /* PB_AUDIT_REPAIR, PB_AUDIT_STORE_ASYNC */
    pb_audit_clock_fn clock;    /* NULL: pb_audit_clock_realtime */
    void *clock_ctx;
    pb_audit_signer signer;
    pb_audit_checkpoint_store store; /* save/load may be NULL: nothing kept outside */
    /* Optional PEM of the signer's public key: every new checkpoint is
     * verified against it before it is written (catches a wrong token). */
    const char *public_key_pem;
    /* Optional: what the torn-tail error tells the operator to do, e.g.
     * the command that repairs (the log knows no commands). NULL: "open
     * with repair to cut it". */
    const char *repair_hint;
} pb_audit_options;

/* What the caller records; strings as in record.h. */
typedef struct pb_audit_event {
    const char *event;   /* e.g. "sign.request" */
    const char *wallet;  /* NULL or "" when not about one wallet */
    const char *actor;   /* who asked, e.g. "cli", "api:alice" */
    const uint8_t *digest; /* request digest, or NULL */
    size_t digest_len;
    const char *outcome; /* "ok", "refused", "failed", ... */
    const char *detail;  /* NULL or short public text; never a secret */
} pb_audit_event;

pb_status pb_audit_open(const pb_audit_options *opt, pb_audit_log **out);
/* Waits for a pending asynchronous store, then frees everything. */
void pb_audit_close(pb_audit_log *log);

/* Appends one record and returns once it is on disk; *seq (may be NULL)
 * gets its sequence number. With checkpoint_every set, a due checkpoint
 * follows; its failure is counted in the stats (checkpoint_errors) and
 * retried later, it does not fail the append (the record is durable). */
pb_status pb_audit_append(pb_audit_log *log, const pb_audit_event *ev, uint64_t *seq);

/* Signs the chain head into a checkpoint record, appends it, then hands it
 * to the checkpoint store. No-op (PB_OK) when the last record already is a
 * checkpoint or the log is empty. *seq (may be NULL) gets the checkpoint's
 * seq (0 if none). A store failure is returned after the checkpoint is in
 * the log; the next checkpoint stores again. */
pb_status pb_audit_checkpoint(pb_audit_log *log, uint64_t *seq);

/* The usual end of an operation: its final record and the checkpoint over
 * it, written together with one write and one fdatasync (half the flushes
 * of append + checkpoint). If signing fails the record is written alone
 * and the signing error returned; *seq gets the record's seq whenever the
 * record was written. */
pb_status pb_audit_append_checkpoint(pb_audit_log *log, const pb_audit_event *ev,
                                     uint64_t *seq);

/* Waits until the latest checkpoint has been handed to the store and
 * returns the status of the last save (PB_OK with nothing to store). With
 * a synchronous store it returns at once. */
pb_status pb_audit_flush_store(pb_audit_log *log);

/* Costs of the last append and checkpoint in nanoseconds, and totals. */
typedef struct pb_audit_stats {
    uint64_t appends, checkpoints, checkpoint_errors, repairs;
    uint64_t last_write_ns;      /* encode + hash + write(2) of the last write */
    uint64_t last_fsync_ns;      /* its fdatasync */
    /* appends counts records written, checkpoint records included */
    uint64_t last_sign_ns;       /* signer call of the last checkpoint */
    uint64_t last_store_ns;      /* checkpoint store save of the last checkpoint */
    uint64_t last_checkpoint_ns; /* the whole last checkpoint (sign + append + store if
                                    synchronous) */
    uint64_t store_errors;       /* failed saves (also counted in checkpoint_errors when
                                    synchronous) */
    uint64_t total_append_ns, total_checkpoint_ns;
    uint64_t last_seq, last_checkpoint_seq;
} pb_audit_stats;

void pb_audit_stats_get(pb_audit_log *log, pb_audit_stats *out);

/* What the repair at open did (PB_AUDIT_REPAIR); repaired = 0 when the
 * log had no torn tail. */
typedef struct pb_audit_repair_report {
    int repaired;
    char segment[PATH_MAX];  /* the segment that was cut */
    char kept_in[PATH_MAX];  /* the side file the cut bytes were appended to */
    uint64_t offset;         /* where the cut was: the segment's new size */
    uint64_t cut_bytes;
    uint64_t record_seq;     /* the log.repair record */
} pb_audit_repair_report;

void pb_audit_repair_get(pb_audit_log *log, pb_audit_repair_report *out);

/* Checks what a writer checks at open (segments 1..n without a gap, the
 * last whole record decodes and matches its hash, no torn tail) without
 * writing, creating or locking anything: for a read-only data directory.
 * PB_OK also when there is no log yet. PB_ERR_INTEGRITY with the same
 * message a writer gives (repair_hint as in pb_audit_options). It does not
 * consult the checkpoint kept outside the log. */
pb_status pb_audit_check_tail(const char *dir, const char *repair_hint);

#endif
