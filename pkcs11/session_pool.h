/* session_pool.h - a fixed pool of logged-in PKCS#11 sessions on one token.
 *
 * Owns: opening sessions, logging in (PIN read from its file or environment
 * variable at that moment and wiped at once; never cached), lending a
 * session to one thread at a time, and rebuilding every session after the
 * token dropped them. A generation counter makes recovery happen once even
 * when several threads see the failure together. Never logs a PIN.
 */
#ifndef PB_PKCS11_SESSION_POOL_H
#define PB_PKCS11_SESSION_POOL_H

#include <pthread.h>

#include "pkcs11/hsm_config.h"
#include "pkcs11/p11_module.h"

typedef struct pb_session_pool {
    pb_p11_module *mod;
    const pb_hsm_config *cfg;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    CK_SESSION_HANDLE *handles;
    unsigned char *busy;
    int size;
    int read_only; /* sessions without CKF_RW_SESSION: token objects cannot change */
    unsigned long generation;
} pb_session_pool;

typedef struct pb_session {
    CK_SESSION_HANDLE handle;
    int index;
    unsigned long generation;
} pb_session;

/* read_only: every session is a PKCS#11 read-only session (the login is
 * the same; the token refuses to create, change or destroy its objects). */
pb_status pb_pool_open(pb_session_pool *pool, pb_p11_module *mod, const pb_hsm_config *cfg,
                       int read_only);
void pb_pool_close(pb_session_pool *pool);
/* Blocks until a session is free. */
void pb_pool_acquire(pb_session_pool *pool, pb_session *s);
void pb_pool_release(pb_session_pool *pool, const pb_session *s);
/* Re-opens and re-logs-in every session unless another thread already did
 * since `seen_generation`. Waits for borrowed sessions to come back first. */
pb_status pb_pool_recover(pb_session_pool *pool, unsigned long seen_generation);
/* CK_RVs after which a fresh session may succeed. */
int pb_p11_rv_is_recoverable(CK_RV rv);

/* Logs the token's user in on `session` (CKR_USER_ALREADY_LOGGED_IN is success).
 * Calls no C_Login when the session already shows the user logged in. */
pb_status pb_p11_login(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE session, const pb_hsm_config *cfg);
/* How many C_Login calls this process made (tests: one per token). */
unsigned long pb_p11_login_calls(void);

#endif
