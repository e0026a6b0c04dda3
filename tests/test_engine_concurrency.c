/* Many threads on one engine: signatures on one wallet and on several, and
 * wrong PINs racing, lose no update of the counters. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "engine/engine_internal.h"
#include "support/engine_fixture.h"
#include "support/mpc_runner.h"

typedef struct job {
    pb_engine *e;
    const char *wallet_id;
    const pb_secrets *secrets;
    int rounds;
    int seed;
    int ok;
    pb_status last;
} job;

static void *signer(void *arg)
{
    job *j = arg;
    for (int i = 0; i < j->rounds; i++) {
        uint8_t digest[32];
        memset(digest, j->seed * 31 + i, sizeof digest);
        pb_signature_result res;
        j->last = pb_engine_sign(j->e, j->wallet_id, digest, "m/0", j->secrets, &res);
        if (j->last == PB_OK) {
            mpc_check_signature(res.public_key, digest, res.sig, res.recovery_id);
            j->ok++;
        }
    }
    return NULL;
}

Test(engine_concurrency, threads_sign_one_wallet_and_several_wallets)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    pb_wallet_info w[2];
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &w[i], code), PB_OK);
    pthread_t th[4];
    job jobs[4];
    for (int i = 0; i < 4; i++) {
        /* Threads 0-2 share wallet 0; thread 3 signs with wallet 1. */
        jobs[i] = (job){t.e, w[i == 3].id, NULL, 3, i, 0, PB_OK};
        pthread_create(&th[i], NULL, signer, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(jobs[i].ok, 3, "thread %d: %d of 3 signatures (%s)", i, jobs[i].ok,
                     pb_status_name(jobs[i].last));
    }
    pb_test_engine_remove(&t);
}

Test(engine_concurrency, racing_wrong_pins_are_all_counted)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    static const uint8_t pin[] = "2468", wrong_pin[] = "1357";
    pb_secrets right = {.pin = pin, .pin_len = 4, .device_dir = t.device};
    pb_secrets wrong = {.pin = wrong_pin, .pin_len = 4, .device_dir = t.device};
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "customer", NULL, &right, &w, code), PB_OK, "%s",
                 pb_last_error());
    pthread_t th[3];
    job jobs[3];
    for (int i = 0; i < 3; i++) {
        jobs[i] = (job){t.e, w.id, &wrong, 1, i, 0, PB_OK};
        pthread_create(&th[i], NULL, signer, &jobs[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(jobs[i].last, PB_ERR_AUTH);
    }
    pb_wallet_info s;
    cr_assert_eq(pb_engine_wallet_show(t.e, w.id, &s), PB_OK);
    cr_assert_eq(s.pin_failures, 3, "lost an update: %d failures counted of 3", s.pin_failures);
    pb_test_engine_remove(&t);
}
