/* verify.h - the offline verifier: everything an auditor runs with only
 * the log files and the node's audit public key (PEM).
 *
 * Owns: walking every segment in order and checking canonical form, seq
 * continuity, prev links, record hashes, checkpoint heads and signatures,
 * and (when given) the latest checkpoint kept outside the log; naming the
 * first bad record and why. Must never trust anything in the log that a
 * signature does not cover: records after the last checkpoint are counted
 * as unsigned, never as signed.
 */
#ifndef PB_AUDIT_VERIFY_H
#define PB_AUDIT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

typedef enum pb_audit_reason {
    PB_AUDIT_OK = 0,
    PB_AUDIT_MALFORMED,          /* not a canonical record (bad JSON, order, escape, too long) */
    PB_AUDIT_HASH_MISMATCH,      /* a field was edited: the hash does not match the record */
    PB_AUDIT_PREV_MISMATCH,      /* the record does not link to the one before it */
    PB_AUDIT_DELETED,            /* records (or a segment) are missing */
    PB_AUDIT_INSERTED,           /* a record that is not part of the chain was added */
    PB_AUDIT_REORDERED,          /* records are out of order */
    PB_AUDIT_NODE_MISMATCH,      /* a record of another node */
    PB_AUDIT_HEAD_MISMATCH,      /* a checkpoint's head is not the hash at its seq */
    PB_AUDIT_BAD_SIGNATURE,      /* forged, swapped or altered checkpoint signature */
    PB_AUDIT_WRONG_PUBLIC_KEY,   /* no checkpoint verifies under the given key */
    PB_AUDIT_TRUNCATED,          /* the log ends before the checkpoint kept outside it */
    PB_AUDIT_CHECKPOINT_MISMATCH,/* the log's record differs from the checkpoint kept outside */
    PB_AUDIT_BAD_EXTERNAL,       /* the checkpoint kept outside the log is not valid */
    PB_AUDIT_TORN_TAIL           /* the last line is incomplete (a writer died mid-append) */
} pb_audit_reason;

/* Stable snake_case names, e.g. "hash_mismatch". */
const char *pb_audit_reason_name(pb_audit_reason reason);

typedef struct pb_audit_verify_options {
    const char *path;           /* log directory, or one segment file */
    const char *public_key_pem; /* required */
    const char *checkpoint;     /* optional: the checkpoint line kept outside the log */
    unsigned node;              /* 0: whatever the first record says */
} pb_audit_verify_options;

typedef struct pb_audit_summary {
    /* Over the records that verified (all of them when ok). */
    uint64_t records, checkpoints, first_seq, last_seq, last_checkpoint_seq, unsigned_tail;
    unsigned node;
    size_t segments;
    int external_checked;  /* a checkpoint kept outside was given and found in the log */
    uint64_t external_seq;
    uint64_t torn_bytes;
    /* The first defect, when not ok. */
    pb_audit_reason reason;
    uint64_t bad_seq;
    char where[160];   /* segment file and line */
    char message[320];
} pb_audit_summary;

/* PB_OK: the log verified. PB_ERR_INTEGRITY: a defect, described in *out.
 * Other statuses: the log or key could not be read. */
pb_status pb_audit_verify(const pb_audit_verify_options *opt, pb_audit_summary *out);

#endif
