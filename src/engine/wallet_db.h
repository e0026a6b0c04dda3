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
#define PB_WALLET_STATE_LOCKED "locked"         /* global abort: refresh clears it */
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
} pb_wallet_row;

pb_status pb_wallet_db_open(const char *path, pb_wallet_db **out);
/* Read-only (also on a read-only file system): nothing is created, and
 * every write fails (SQLITE_READONLY). PB_ERR_NOT_FOUND if the file is
 * missing. */
pb_status pb_wallet_db_open_read_only(const char *path, pb_wallet_db **out);
void pb_wallet_db_close(pb_wallet_db *db);

pb_status pb_wallet_db_insert(pb_wallet_db *db, const pb_wallet_row *row);
/* PB_ERR_NOT_FOUND if absent. */
pb_status pb_wallet_db_get(pb_wallet_db *db, const char *id, pb_wallet_row *row);
/* All rows ordered by creation; caller frees *rows with free(). */
pb_status pb_wallet_db_list(pb_wallet_db *db, pb_wallet_row **rows, size_t *n);
/* Insert, or replace the row with the same id (restore). */
pb_status pb_wallet_db_put(pb_wallet_db *db, const pb_wallet_row *row);
pb_status pb_wallet_db_delete(pb_wallet_db *db, const char *id);

pb_status pb_wallet_db_set_state(pb_wallet_db *db, const char *id, const char *state);
pb_status pb_wallet_db_set_exported(pb_wallet_db *db, const char *id);
pb_status pb_wallet_db_set_generation(pb_wallet_db *db, const char *id, uint32_t generation);

/* One more consecutive PIN failure, atomically; at pin_max the state
 * becomes locked_out. Reports the new count and whether it locked out. */
pb_status pb_wallet_db_pin_failure(pb_wallet_db *db, const char *id, int *failures,
                                   int *locked_out);
pb_status pb_wallet_db_pin_success(pb_wallet_db *db, const char *id);
/* New verifier (PIN change or reset): failures to zero, state active. */
pb_status pb_wallet_db_set_pin_verifier(pb_wallet_db *db, const char *id,
                                        const uint8_t verifier[32]);

#endif
