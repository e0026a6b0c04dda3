/* engine_internal.h - the engine's state, shared by the engine's .c files only.
 *
 * A pb_engine holds, per node, the key store (its token) and the wallet
 * database. Per-wallet operations take the wallet's locks (wallet_lock.h),
 * which hold across threads and processes: maintenance (refresh, unlock,
 * PIN change or reset) exclusively, signing and export shared, so a refresh
 * never swaps records under a signing session of any process. The
 * `maintenance` rwlock is for whole-node operations (backup, restore): they
 * take it exclusively, everything else shared.
 */
#ifndef PB_ENGINE_INTERNAL_H
#define PB_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "audit/log.h"
#include "custody/export_rules.h"
#include "engine/config.h"
#include "engine/wallet_db.h"
#include "pkcs11/keystore.h"
#include "planbok/engine.h"
#include "planbok/mpc.h"

#define PB_COSIGNER_WALLET_ID "cosigner"

typedef struct pb_engine_node {
    int number; /* 1 or 2 */
    pb_keystore *ks;
    pb_wallet_db *db;
    pb_audit_log *audit;
} pb_engine_node;

struct pb_engine {
    pb_config cfg;
    pb_engine_node node[2];
    pthread_rwlock_t maintenance;
    char actor[64];
    /* P1 decryptions attempted (each under the wallet's critical lock):
     * what the concurrent global-abort tests count. */
    atomic_uint p1_final_steps;
    int read_only; /* pb_engine_open_read_only: read-only token sessions, no audit writers */
};

static inline pb_engine_node *pb_node1(pb_engine *e) { return &e->node[0]; }
static inline pb_engine_node *pb_node2(pb_engine *e) { return &e->node[1]; }

/* P1's material per custody mode (p1_material.c). The context carries what
 * was derived from the caller's secrets for the length of one operation. */
typedef struct pb_p1_access {
    pb_custody_mode mode;
    const char *wallet_id;
    const pb_secrets *secrets;
    int keys_ready;
    uint8_t sealing_key[32]; /* customer: from Argon2id(PIN, salt) */
    uint8_t access_key[32];
} pb_p1_access;

void pb_p1_access_init(pb_p1_access *a, pb_custody_mode mode, const char *wallet_id,
                       const pb_secrets *secrets);
void pb_p1_access_wipe(pb_p1_access *a);
/* Checks the caller's secret (customer: the PIN against node 2's verifier,
 * counting failures) and unseals P1's record. */
pb_status pb_p1_load(pb_engine *e, pb_p1_access *a, pb_share_p1 **share);
/* Seals and stores P1's record (customer: also the recovery copy). */
pb_status pb_p1_store(pb_engine *e, pb_p1_access *a, const pb_share_p1 *share);

/* P2's record (p2_material.c): kind PB_BLOB_SHARE or PB_BLOB_SHARE_PENDING. */
pb_status pb_p2_load(pb_engine *e, const char *wallet_id, pb_blob_kind kind,
                     pb_share_p2 **share);
pb_status pb_p2_store(pb_engine *e, const char *wallet_id, pb_blob_kind kind,
                      const pb_share_p2 *share);
/* Node 2's ring-Pedersen secret and the public part node 1 verified. */
pb_status pb_cosigner_load(pb_engine *e, pb_cosigner_params **params);
pb_status pb_cosigner_public_load(pb_engine *e, pb_cosigner_public **pub);

/* Stores node 2's parameters (sealed) and their export for node 1. */
pb_status pb_engine_setup_with(pb_engine *e, const pb_cosigner_params *params);

/* Running the protocols with both parties in this process (protocol_run.c). */
pb_status pb_run_dkg(pb_engine *e, const pb_cosigner_public *pub,
                     const pb_cosigner_params *params, const char *wallet_id,
                     pb_share_p1 **p1, pb_share_p2 **p2);
pb_status pb_run_refresh(pb_engine *e, const pb_share_p1 *old1, const pb_share_p2 *old2,
                         const pb_cosigner_params *params, pb_share_p1 **p1,
                         pb_share_p2 **p2);

/* P2's record matching P1's generation: the current one, or the pending
 * one left by a refresh that P1 completed (wallet_refresh.c). */
pb_status pb_p2_load_matching(pb_engine *e, const char *wallet_id, const pb_share_p1 *p1,
                              pb_share_p2 **p2);
/* Refresh with both records in hand and store the results in the crash-safe
 * order; `store_as` says how P1's new record is sealed (it may carry new
 * PIN keys). Clears a global-abort lock. */
pb_status pb_refresh_and_store(pb_engine *e, pb_p1_access *store_as, const pb_share_p1 *p1,
                               const pb_share_p2 *p2);

/* Creation journal and half-made wallets (wallet_unfinished.c). */
pb_status pb_create_journal_begin(pb_engine *e, const char *wallet_id);
void pb_create_journal_end(pb_engine *e, const char *wallet_id);
/* Removes what a creation that failed or was cut short stored. */
pb_status pb_create_abandon(pb_engine *e, const char *wallet_id);
/* At start-up: settles every journal entry no running process holds. */
pb_status pb_engine_settle_unfinished(pb_engine *e);

/* Audit (engine_audit.c). nodes: bit 0 = node 1, bit 1 = node 2. */
#define PB_AUDIT_NODE1 1
#define PB_AUDIT_NODE2 2
#define PB_AUDIT_BOTH 3
pb_status pb_engine_audit(pb_engine *e, int node, const char *event, const char *wallet_id,
                          const uint8_t *digest, pb_status result, int checkpoint);
/* Records the result (with a checkpoint) on the given nodes and returns
 * `result`, or the audit failure if the operation itself succeeded. */
pb_status pb_engine_audit_result(pb_engine *e, const char *event, const char *wallet_id,
                                 const uint8_t *digest, pb_status result, int nodes);

/* PB_OK, or PB_ERR_ARGUMENT naming `what` when e was opened read-only:
 * the first line of every operation that writes or needs a token. */
pb_status pb_engine_require_writable(const pb_engine *e, const char *what);

void pb_engine_info_from_row(pb_wallet_info *info, const pb_wallet_row *row);
void pb_engine_now(char out[32]);
void pb_hex_encode(char *out, const uint8_t *in, size_t n);

#endif
