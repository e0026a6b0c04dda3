/* audit_wiring.h - a node's audit log wired to the node's key store: the
 * token's audit key signs checkpoints, and the latest checkpoint is sealed
 * into the token (blob "audit"/role=node/PB_BLOB_AUDIT_CHECKPOINT) so a log
 * cut short after its last checkpoint is caught.
 *
 * Owns: where a node's log lives (<home>/audit/node<N>/) and the glue
 * between src/audit (which knows no PKCS#11) and pkcs11/. Must never put a
 * secret into a record: callers pass only public facts (ids, digests,
 * outcomes). The key store must outlive the log.
 *
 * The engine's pattern per operation:
 *   pb_audit_append(log, &request_event, &seq);      // write-ahead, durable
 *   ... run the protocol; the signature leaves only after the above ...
 *   pb_audit_append_checkpoint(log, &result_event, &seq); // result + signed checkpoint
 */
#ifndef PB_ENGINE_AUDIT_WIRING_H
#define PB_ENGINE_AUDIT_WIRING_H

#include <stddef.h>

#include "audit/log.h"
#include "engine/config.h"
#include "pkcs11/keystore.h"

#define PB_AUDIT_BLOB_WALLET "audit"

typedef struct pb_node_audit_settings {
    size_t segment_bytes;      /* 0: 8 MiB */
    unsigned checkpoint_every; /* 0: checkpoints only when asked (per operation) */
    unsigned flags;            /* PB_AUDIT_REPAIR */
    int sync_store;            /* 1: seal each checkpoint into the token before the
                                  checkpoint returns; 0 (default): in the background
                                  (PB_AUDIT_STORE_ASYNC), since a token object write
                                  costs far more than the rest of the audit trail */
    pb_audit_clock_fn clock;   /* NULL: real time */
    void *clock_ctx;
} pb_node_audit_settings;

/* <home>/audit/node<N> */
void pb_node_audit_dir(const pb_config *cfg, int node, char *out, size_t n);

/* Opens node `node`'s log (1 or 2) with its key store as signer and
 * checkpoint store; settings may be NULL for the defaults. */
pb_status pb_node_audit_open(const pb_config *cfg, int node, pb_keystore *ks, pb_audit_log **out);
pb_status pb_node_audit_open_with(const pb_config *cfg, int node, pb_keystore *ks,
                                  const pb_node_audit_settings *settings, pb_audit_log **out);

/* Read-only: what opening node `node`'s log would check (no gap between
 * segments, an intact last record, no torn tail), without writing, locking
 * or logging in (the token's checkpoint is not consulted). A torn tail
 * fails with PB_ERR_INTEGRITY naming 'planbok audit repair --node N'. */
pb_status pb_node_audit_check(const pb_config *cfg, int node);

/* The checkpoint line sealed in the token (malloc'd, NUL-terminated);
 * PB_ERR_NOT_FOUND before the first checkpoint. */
pb_status pb_node_audit_checkpoint_load(pb_keystore *ks, int node, char **line, size_t *len);

#endif
