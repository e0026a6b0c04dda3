/* softhsm_guard.h - keeps planbok's developer SoftHSM tokens whole when a
 * process dies during start-up.
 *
 * SoftHSM 2.6's file backend rewrites tokens/<uuid>/token.object in place
 * (truncate, then write; no temporary file, no fsync) on every C_Login, and
 * C_Initialize reads it. A process killed inside that rewrite leaves an empty
 * file: the token, and every sealed blob in it, can no longer be found. A
 * process that initializes during another's rewrite sees a broken token.
 *
 * Owns: an exclusive flock on every token directory of the configuration,
 * taken by every planbok process before C_Initialize and held until its
 * C_Login is done, so no planbok process loads a token while another one
 * rewrites it; a verified copy of each provisioned token's token.object
 * (<softhsm dir>/guard/<label>.token-object, mode 0600, as sensitive as the
 * token itself) with the name of its directory (<label>.token-dir); and
 * putting that copy back atomically (temporary file, fsync, rename, fsync of
 * the directory) over a token.object that is missing, empty, cut or
 * unparsable.
 *
 * Must never: act on a module planbok did not provision (no softhsm_conf,
 * or not the file backend: every call is then a no-op); restore over a
 * token.object that parses whole (one that differs only in its flags is the
 * token's current state); take a copy of a record that does not parse
 * whole; create or initialize a token; print or log the files' bytes (they
 * hold the PIN-derived key blobs).
 */
#ifndef PB_PKCS11_SOFTHSM_GUARD_H
#define PB_PKCS11_SOFTHSM_GUARD_H

#include <pthread.h>
#include <stddef.h>

#include "planbok/error.h"

typedef struct pb_softhsm_guard {
    int active;          /* 0: not a planbok SoftHSM file-backend configuration */
    char tokendir[512];  /* SoftHSM's directories.tokendir */
    char keepdir[512];   /* where the copies are kept */
    int *fds;            /* exclusively locked token directories, while held */
    size_t n_fds;
    unsigned restored;   /* token.object files put back by the last lock */
    /* The shared side: every thread of the process that is inside a token
     * call counts here; the first takes a shared flock, the last drops it.
     * The directories stay open between calls (closed by teardown). */
    pthread_mutex_t share_mutex;
    int share_count;
    int *share_fds;
    size_t n_share_fds;
} pb_softhsm_guard;

/* Reads the SoftHSM configuration planbok wrote. An empty path, an
 * unreadable file or another backend leaves the guard inactive. Pair with
 * pb_softhsm_guard_teardown. */
void pb_softhsm_guard_setup(pb_softhsm_guard *g, const char *softhsm_conf);
/* Drops every lock and descriptor. */
void pb_softhsm_guard_teardown(pb_softhsm_guard *g);

/* Around every token call after start-up: SoftHSM re-reads a token's
 * record whenever another process rewrote it, so a process must not be
 * inside a call while another one logs in. Shared with the other processes'
 * calls, excluded by a start-up's exclusive lock. Take it before borrowing
 * a session and never while holding the exclusive lock; it nests. */
pb_status pb_softhsm_guard_share(pb_softhsm_guard *g);
void pb_softhsm_guard_unshare(pb_softhsm_guard *g);

/* Locks every token directory (in name order, so two processes cannot
 * deadlock), then restores each kept token whose token.object is damaged.
 * Blocks while another planbok process holds the lock. */
pb_status pb_softhsm_guard_lock(pb_softhsm_guard *g);

/* Under the lock: if the token labelled `label` has a token.object that
 * parses whole, makes it the kept copy (written only when it changed).
 * Call after a successful C_Login or C_InitPIN, never after a failure. */
pb_status pb_softhsm_guard_keep(pb_softhsm_guard *g, const char *label);

/* 1 when a copy is kept for `label`: the token existed and was whole once. */
int pb_softhsm_guard_knows(const pb_softhsm_guard *g, const char *label);

void pb_softhsm_guard_unlock(pb_softhsm_guard *g);

#endif
