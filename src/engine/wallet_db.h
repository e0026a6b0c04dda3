/* wallet_db.h - one node's wallet metadata (SQLite, WAL, synchronous=FULL).
 *
 * Owns: the public facts about each wallet as this node sees them (id, mode,
 * public key, xpub, state, generation) and the counters the service keeps
 * (consecutive PIN failures and their limit), with the customer's PIN
 * verifier and recovery public key at node 2. Updates of a counter or a state
 * are single transactions, so concurrent threads and processes lose none.
 * Must never hold a secret: shares, PINs, keys and secrets live sealed in the
 * key store, and the verifier reveals nothing that unseals a share.
 */
#ifndef PB_ENGINE_WALLET_DB_H
#define PB_ENGINE_WALLET_DB_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

typedef struct pb_wallet_db pb_wallet_db;

#define PB_WALLET_STATE_ACTIVE "active"
#define PB_WALLET_STATE_LOCKED "locked"         /* global abort: only 'wallet unlock' clears it */
#define PB_WALLET_LOCK_ABORT "abort"            /* a signature failed P1's verification */
#define PB_WALLET_LOCK_IN_DOUBT "in_doubt"      /* a P1 decryption's outcome was lost in a crash */
#define PB_WALLET_STATE_LOCKED_OUT "locked_out" /* too many PIN failures: reset clears it */

typedef struct pb_wallet_row {
    char id[65];
    char name[65];
    char mode[16];
    char public_key[67]; /* 33-byte compressed, hex */
    char xpub[112];
    char state[16];
    char created[32];    /* RFC 3339 UTC */
    int exported;
    uint32_t generation;
    int pin_failures;
    int pin_max;
    int has_verifier;
    uint8_t verifier[32];
    int has_recovery_pub;
    uint8_t recovery_pub[33];
    int in_doubt;         /* node 1: a P1 decryption was under way (see wallet_sign.c) */
    char lock_reason[16]; /* "" | "abort" | "in_doubt" while state is locked */
    uint64_t version;     /* +1 per change; anchored in the token (wallet_seal.h) */
    int has_verifier_next; /* node 2, during a PIN change or reset: the new PIN's */
    uint8_t verifier_next[32];
} pb_wallet_row;

/* How rows are sealed and anchored (the engine passes its node's token; see
 * wallet_seal.h). seal/open turn the canonical row bytes into a seal and
 * back; anchor_get returns PB_ERR_NOT_FOUND when the id has no anchor. */
typedef struct pb_wallet_db_sealer {
    void *ctx;
    pb_status (*seal)(void *ctx, const char *id, const uint8_t *row, size_t len, uint8_t **out,
                      size_t *out_len);
    pb_status (*open)(void *ctx, const char *id, const uint8_t *sealed, size_t len,
                      uint8_t **row, size_t *row_len);
    pb_status (*anchor_get)(void *ctx, const char *id, uint64_t *version);
    pb_status (*anchor_put)(void *ctx, const char *id, uint64_t version);
    pb_status (*anchor_drop)(void *ctx, const char *id);
    void (*release)(void *ctx);
} pb_wallet_db_sealer;

pb_status pb_wallet_db_open(const char *path, pb_wallet_db **out);
/* 1 when open found the database (or its -wal/-shm) open to group or
 * others, as versions before 0600 files left it, and tightened it to 0600;
 * the engine records that in the node's audit log. */
int pb_wallet_db_tightened(const pb_wallet_db *db);
/* Read-only (also on a read-only file system): nothing is created, and
 * every write fails (SQLITE_READONLY). PB_ERR_NOT_FOUND if the file is
 * missing. */
pb_status pb_wallet_db_open_read_only(const char *path, pb_wallet_db **out);
void pb_wallet_db_close(pb_wallet_db *db);

/* From here on every row read is checked against its seal and anchor
 * (PB_ERR_INTEGRITY on any difference) and every write seals and anchors.
 * Rows written before seals existed are sealed once, here, the first time;
 * after that an unsealed row is an integrity failure. The database owns
 * the sealer's context from this call on. */
pb_status pb_wallet_db_set_sealer(pb_wallet_db *db, const pb_wallet_db_sealer *sealer);

pb_status pb_wallet_db_insert(pb_wallet_db *db, const pb_wallet_row *row);
/* PB_ERR_NOT_FOUND if absent. */
pb_status pb_wallet_db_get(pb_wallet_db *db, const char *id, pb_wallet_row *row);
/* All rows ordered by creation; caller frees *rows with free(). */
pb_status pb_wallet_db_list(pb_wallet_db *db, pb_wallet_row **rows, size_t *n);
/* Insert, or replace the row with the same id (restore). */
pb_status pb_wallet_db_put(pb_wallet_db *db, const pb_wallet_row *row);

/* Removes a row (a wallet whose creation never finished); the token's
 * count and the row's anchor follow. */
pb_status pb_wallet_db_delete(pb_wallet_db *db, const char *id);

pb_status pb_wallet_db_set_state(pb_wallet_db *db, const char *id, const char *state);
pb_status pb_wallet_db_set_exported(pb_wallet_db *db, const char *id);
pb_status pb_wallet_db_set_generation(pb_wallet_db *db, const char *id, uint32_t generation);

/* Node 1's global-abort marks. in_doubt is set, durably, before P1
 * decrypts and cleared after a verified signature; set_lock(reason) locks
 * the wallet and clears the mark in one statement; set_lock(NULL) is the
 * operator's unlock (state active, no reason, no mark). */
pb_status pb_wallet_db_set_in_doubt(pb_wallet_db *db, const char *id, int in_doubt);
pb_status pb_wallet_db_set_lock(pb_wallet_db *db, const char *id, const char *reason);

/* One more consecutive PIN failure, atomically; at pin_max the state
 * becomes locked_out. Reports the new count and whether it locked out. */
pb_status pb_wallet_db_pin_failure(pb_wallet_db *db, const char *id, int *failures,
                                   int *locked_out);
pb_status pb_wallet_db_pin_success(pb_wallet_db *db, const char *id);
/* A PIN change or reset in flight: the new PIN's verifier is accepted
 * beside the old one until set_pin_verifier makes it the only one. */
pb_status pb_wallet_db_set_verifier_next(pb_wallet_db *db, const char *id,
                                         const uint8_t verifier[32]);
/* New verifier (PIN change or reset): failures to zero, state active, no
 * next verifier. */
pb_status pb_wallet_db_set_pin_verifier(pb_wallet_db *db, const char *id,
                                        const uint8_t verifier[32]);

#endif
