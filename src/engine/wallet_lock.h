/* wallet_lock.h - per-wallet locks that hold across threads *and* processes.
 *
 * Owns: one lock file per wallet under <home>/node1/locks/ and two locks in
 * it, taken as Linux open-file-description locks (F_OFD_SETLKW) on separate
 * bytes, so that two threads of one process exclude each other exactly as
 * two processes do:
 *   - maintenance: shared by signing and export, exclusive for refresh,
 *     unlock and PIN change or reset, so no operation ever sees a record
 *     swapped under it by another process;
 *   - critical: exclusive around P1's global-abort step (decrypt, verify,
 *     persist the outcome), so after the first failed verification no other
 *     session of the wallet decrypts.
 * The kernel drops a lock when its holder dies, so a crash never leaves a
 * wallet stuck. Must never be taken in the other order (critical, then
 * maintenance) or held across a call that waits for the user.
 */
#ifndef PB_ENGINE_WALLET_LOCK_H
#define PB_ENGINE_WALLET_LOCK_H

#include "planbok/error.h"

typedef enum pb_wallet_lock_kind {
    PB_WALLET_LOCK_SIGN,     /* maintenance, shared */
    PB_WALLET_LOCK_MAINTAIN, /* maintenance, exclusive */
    PB_WALLET_LOCK_CRITICAL  /* critical, exclusive */
} pb_wallet_lock_kind;

typedef struct pb_wallet_lock {
    int fd; /* -1 when not held */
} pb_wallet_lock;

/* Waits for the lock. `home` is the data directory. */
pb_status pb_wallet_lock_take(const char *home, const char *wallet_id, pb_wallet_lock_kind kind,
                              pb_wallet_lock *out);
/* PB_OK and the lock if free now; PB_ERR_REFUSED if someone holds it. */
pb_status pb_wallet_lock_try(const char *home, const char *wallet_id, pb_wallet_lock_kind kind,
                             pb_wallet_lock *out);
/* Releases a held lock (idempotent). */
void pb_wallet_lock_release(pb_wallet_lock *lock);

#endif
