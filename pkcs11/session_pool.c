/* session_pool.c - logged-in session pool with recovery (see session_pool.h). */
#include "pkcs11/session_pool.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/fail.h"
#include "common/secret.h"

#define PB_PIN_MAX 256

int pb_p11_rv_is_recoverable(CK_RV rv)
{
    return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
           rv == CKR_DEVICE_ERROR || rv == CKR_TOKEN_NOT_PRESENT ||
           rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_OBJECT_HANDLE_INVALID ||
           rv == CKR_KEY_HANDLE_INVALID;
}

static pb_status read_pin(const pb_hsm_config *cfg, unsigned char **pin, size_t *pin_len)
{
    if (cfg->pin_file[0] != '\0') {
        /* A PIN file others can read gives them the token: refused
         * (PB_ERR_STORAGE), like any secret file. */
        return pb_secret_read_file(cfg->pin_file, "token PIN file", PB_PIN_MAX, PB_ERR_AUTH, pin,
                                   pin_len);
    }
    if (cfg->pin_env[0] != '\0') {
        const char *value = secure_getenv(cfg->pin_env);
        if (!value)
            return pb_fail(PB_ERR_AUTH, "the token PIN variable %s is not set", cfg->pin_env);
        size_t n = strnlen(value, PB_PIN_MAX + 1);
        if (n > PB_PIN_MAX)
            return pb_fail(PB_ERR_AUTH, "the token PIN in %s is too long", cfg->pin_env);
        *pin = pb_secret_alloc(n);
        if (!*pin)
            return pb_fail(PB_ERR_NOMEM, "out of memory reading the token PIN");
        memcpy(*pin, value, n);
        *pin_len = n;
        return PB_OK;
    }
    return pb_fail(PB_ERR_ARGUMENT, "no token PIN source configured (pin_file or pin_env)");
}

static atomic_ulong login_calls;

unsigned long pb_p11_login_calls(void) { return atomic_load(&login_calls); }

pb_status pb_p11_login(CK_FUNCTION_LIST *fn, CK_SESSION_HANDLE session, const pb_hsm_config *cfg)
{
    /* Each C_Login may rewrite the token's own record (SoftHSM does, every
     * time), and a crash during a rewrite can cost the token: never log in
     * when this application already is (login is per application and token). */
    CK_SESSION_INFO info;
    if (fn->C_GetSessionInfo(session, &info) == CKR_OK &&
        (info.state == CKS_RW_USER_FUNCTIONS || info.state == CKS_RO_USER_FUNCTIONS))
        return PB_OK;
    unsigned char *pin = NULL;
    size_t pin_len = 0;
    pb_status st = read_pin(cfg, &pin, &pin_len);
    if (st != PB_OK)
        return st;
    atomic_fetch_add(&login_calls, 1);
    CK_RV rv = fn->C_Login(session, CKU_USER, pin, (CK_ULONG)pin_len);
    pb_secret_free(pin, pin_len);
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
        return PB_OK;
    if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE)
        return pb_fail(PB_ERR_AUTH, "token login refused: the configured PIN is wrong (%s)",
                       pb_p11_rv_name(rv));
    if (rv == CKR_PIN_LOCKED)
        return pb_fail(PB_ERR_AUTH, "token login refused: the user PIN is locked");
    if (rv == CKR_USER_PIN_NOT_INITIALIZED)
        return pb_fail(PB_ERR_HSM,
                       "C_Login: the token has no user PIN (CKR_USER_PIN_NOT_INITIALIZED); "
                       "a SoftHSM token whose file was read while being rewritten looks like "
                       "this: see docs/hsm.md");
    return pb_p11_fail(rv, "C_Login");
}

static pb_status open_all(pb_session_pool *pool)
{
    CK_FUNCTION_LIST *fn = pool->mod->fn;
    for (int i = 0; i < pool->size; i++) {
        CK_FLAGS flags = CKF_SERIAL_SESSION | (pool->read_only ? 0 : CKF_RW_SESSION);
        CK_RV rv = fn->C_OpenSession(pool->mod->slot, flags, NULL, NULL, &pool->handles[i]);
        if (rv != CKR_OK) {
            for (int j = 0; j < i; j++)
                fn->C_CloseSession(pool->handles[j]);
            return pb_p11_fail(rv, "C_OpenSession");
        }
    }
    /* Login state is per application and token: one login covers all. */
    pb_status st = pb_p11_login(fn, pool->handles[0], pool->cfg);
    if (st != PB_OK) {
        for (int i = 0; i < pool->size; i++)
            fn->C_CloseSession(pool->handles[i]);
    }
    return st;
}

pb_status pb_pool_open(pb_session_pool *pool, pb_p11_module *mod, const pb_hsm_config *cfg,
                       int read_only)
{
    memset(pool, 0, sizeof *pool);
    pool->mod = mod;
    pool->cfg = cfg;
    pool->read_only = read_only;
    pool->size = cfg->pool_size > 0 ? cfg->pool_size : 4;
    pool->handles = calloc((size_t)pool->size, sizeof *pool->handles);
    pool->busy = calloc((size_t)pool->size, 1);
    if (!pool->handles || !pool->busy) {
        free(pool->handles);
        free(pool->busy);
        return pb_fail(PB_ERR_NOMEM, "out of memory for the session pool");
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->freed, NULL);
    pb_status st = open_all(pool);
    if (st != PB_OK) {
        pthread_mutex_destroy(&pool->lock);
        pthread_cond_destroy(&pool->freed);
        free(pool->handles);
        free(pool->busy);
        memset(pool, 0, sizeof *pool);
    }
    return st;
}

void pb_pool_close(pb_session_pool *pool)
{
    if (!pool->handles)
        return;
    for (int i = 0; i < pool->size; i++)
        pool->mod->fn->C_CloseSession(pool->handles[i]);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->freed);
    free(pool->handles);
    free(pool->busy);
    memset(pool, 0, sizeof *pool);
}

void pb_pool_acquire(pb_session_pool *pool, pb_session *s)
{
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        for (int i = 0; i < pool->size; i++) {
            if (!pool->busy[i]) {
                pool->busy[i] = 1;
                s->index = i;
                s->handle = pool->handles[i];
                s->generation = pool->generation;
                pthread_mutex_unlock(&pool->lock);
                return;
            }
        }
        pthread_cond_wait(&pool->freed, &pool->lock);
    }
}

void pb_pool_release(pb_session_pool *pool, const pb_session *s)
{
    pthread_mutex_lock(&pool->lock);
    pool->busy[s->index] = 0;
    pthread_cond_broadcast(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
}

pb_status pb_pool_recover(pb_session_pool *pool, unsigned long seen_generation)
{
    pb_status st = PB_OK;
    pthread_mutex_lock(&pool->lock);
    if (pool->generation == seen_generation) {
        /* Take every session so no thread uses a handle while we swap them. */
        for (;;) {
            int any_busy = 0;
            for (int i = 0; i < pool->size; i++)
                any_busy |= pool->busy[i];
            if (!any_busy)
                break;
            pthread_cond_wait(&pool->freed, &pool->lock);
        }
        for (int i = 0; i < pool->size; i++)
            (void)pool->mod->fn->C_CloseSession(pool->handles[i]);
        st = open_all(pool);
        pool->generation++;
    }
    pthread_mutex_unlock(&pool->lock);
    return st;
}
