/* record.h - one audit record: its fields, its canonical JSON line, its
 * hash, and the statement a checkpoint signs (definitions in docs/audit.md).
 *
 * Owns: the byte-exact encoding (fixed key order, no whitespace, canonical
 * escaping) and the strict decoder that accepts nothing else. Must never
 * hold secret material: the engine puts only public facts into records,
 * and this module bounds every field so nothing bulky can be smuggled in.
 */
#ifndef PB_AUDIT_RECORD_H
#define PB_AUDIT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

#define PB_AUDIT_EVENT_MAX 48   /* [a-z0-9._-], starts with a letter */
#define PB_AUDIT_OUTCOME_MAX 32 /* [a-z0-9._-] */
#define PB_AUDIT_WALLET_MAX 64  /* "" or a wallet id [A-Za-z0-9._-], not starting with '.' */
#define PB_AUDIT_ACTOR_MAX 128  /* UTF-8 text, not empty */
#define PB_AUDIT_DETAIL_MAX 512 /* UTF-8 text, may be empty */
#define PB_AUDIT_DIGEST_MAX 64  /* bytes */
#define PB_AUDIT_SIG_MAX 72     /* DER ECDSA-Sig-Value for P-256 */
#define PB_AUDIT_NODE_MAX 255
/* Longest canonical line (detail and actor fully escaped), without '\n'. */
#define PB_AUDIT_LINE_MAX 8192

#define PB_AUDIT_EVENT_CHECKPOINT "checkpoint"
#define PB_AUDIT_EVENT_REPAIR "log.repair"
#define PB_AUDIT_STATEMENT_DOMAIN "planbok-audit-checkpoint-v1"

typedef struct pb_audit_record {
    uint64_t seq;
    int64_t time_ms; /* milliseconds since the Unix epoch, UTC */
    unsigned node;
    char event[PB_AUDIT_EVENT_MAX + 1];
    char wallet[PB_AUDIT_WALLET_MAX + 1];
    char actor[PB_AUDIT_ACTOR_MAX + 1];
    uint8_t digest[PB_AUDIT_DIGEST_MAX];
    size_t digest_len; /* 0: no digest field */
    char outcome[PB_AUDIT_OUTCOME_MAX + 1];
    char detail[PB_AUDIT_DETAIL_MAX + 1]; /* "": no detail field */
    /* Checkpoint records only (event "checkpoint"). */
    uint64_t head_seq;
    uint8_t head[32];
    uint8_t sig[PB_AUDIT_SIG_MAX];
    size_t sig_len;
    uint8_t prev[32];
    uint8_t hash[32];
} pb_audit_record;

int pb_audit_record_is_checkpoint(const pb_audit_record *r);

/* Checks every field against the rules above (PB_ERR_ARGUMENT). */
pb_status pb_audit_record_check(const pb_audit_record *r);

/* Checks, computes r->hash, and writes the canonical line (no '\n',
 * NUL-terminated) into line[0..cap). */
pb_status pb_audit_record_encode(pb_audit_record *r, char *line, size_t cap, size_t *len);

/* Strict decode of one line (without its '\n'). PB_ERR_PARSE with a
 * message for anything not canonical. *hash_ok tells whether the stored
 * hash is the hash of the rest of the line. */
pb_status pb_audit_record_decode(const char *line, size_t len, pb_audit_record *r, int *hash_ok);

/* The statement a checkpoint signs, e.g.
 * {"domain":"planbok-audit-checkpoint-v1","node":1,"seq":41,"head":"<hex>","time":"..."}
 * (NUL-terminated, no newline). */
pb_status pb_audit_statement(unsigned node, uint64_t head_seq, const uint8_t head[32],
                             int64_t time_ms, char *out, size_t cap, size_t *len);

#endif
