/* The global abort under concurrency and crashes (issue 9, items 7 and 8):
 * a hostile cosigner makes every signature fail P1's verification while
 * several sessions of the wallet are in flight, in threads and in separate
 * processes; after the first failure no other session decrypts. A crash
 * inside P1's decryption step leaves the wallet locked, not open. Only the
 * operator's audited unlock clears a lock: a refresh or a PIN change or
 * reset is refused. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/audit_wiring.h"
#include "engine/engine_internal.h"
#include "engine/wallet_lock.h"
#include "support/engine_fixture.h"
#include "support/mpc_runner.h"

#define IN_FLIGHT 4

static const char in_flight_refusal[] = "was locked while this signature was made";

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* How many times `needle` occurs in node `node`'s first audit segment. */
static int audit_count(const char *home, int node, const char *needle)
{
    char path[600];
    snprintf(path, sizeof path, "%s/audit/node%d/audit-000001.jsonl", home, node);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* Waits until node 2 has answered `count` more sign requests (each session
 * is then past its first message), then a little longer for m2..m4. */
static void wait_for_requests(const char *home, int before, int count)
{
    for (int i = 0; i < 600 && audit_count(home, 2, "\"sign.request\"") < before + count; i++)
        sleep_ms(100);
    cr_assert_geq(audit_count(home, 2, "\"sign.request\""), before + count,
                  "the sessions never reached node 2");
    sleep_ms(1500);
}

typedef struct session {
    pb_engine *e;
    const char *wallet_id;
    pb_status st;
    char message[512];
    uint8_t sig[64];
} session;

static void *sign_once(void *arg)
{
    session *s = arg;
    uint8_t digest[32] = {0x77};
    pb_signature_result res;
    s->st = pb_engine_sign(s->e, s->wallet_id, digest, NULL, NULL, &res);
    snprintf(s->message, sizeof s->message, "%s", pb_last_error());
    memcpy(s->sig, res.sig, sizeof s->sig);
    return NULL;
}

Test(engine_abort, sessions_in_flight_in_threads_decrypt_once)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &w, code), PB_OK);
    uint8_t *good;
    size_t good_len;
    pb_test_corrupt_cosigner(&t, w.id, &good, &good_len);
    free(good);

    /* Hold the critical step so that every session is in flight (past m4)
     * before the first one may decrypt. */
    pb_wallet_lock gate;
    cr_assert_eq(pb_wallet_lock_take(t.home, w.id, PB_WALLET_LOCK_CRITICAL, &gate), PB_OK);
    int before = audit_count(t.home, 2, "\"sign.request\"");
    unsigned steps_before = atomic_load(&t.e->p1_final_steps);
    pthread_t th[IN_FLIGHT];
    session s[IN_FLIGHT];
    for (int i = 0; i < IN_FLIGHT; i++) {
        s[i] = (session){.e = t.e, .wallet_id = w.id};
        pthread_create(&th[i], NULL, sign_once, &s[i]);
    }
    wait_for_requests(t.home, before, IN_FLIGHT);
    cr_assert_eq(atomic_load(&t.e->p1_final_steps), steps_before,
                 "a session decrypted while the critical step was held");
    pb_wallet_lock_release(&gate);

    int aborted = 0, refused_in_flight = 0;
    static const uint8_t zero[64];
    for (int i = 0; i < IN_FLIGHT; i++) {
        pthread_join(th[i], NULL);
        cr_assert(memcmp(s[i].sig, zero, 64) == 0, "session %d released a signature", i);
        aborted += s[i].st == PB_ERR_ABORTED;
        refused_in_flight += s[i].st == PB_ERR_REFUSED && strstr(s[i].message, in_flight_refusal);
    }
    cr_assert_eq(atomic_load(&t.e->p1_final_steps) - steps_before, 1,
                 "after the first failed verification another session decrypted");
    cr_assert_eq(aborted, 1);
    cr_assert_eq(refused_in_flight, IN_FLIGHT - 1,
                 "the other sessions were not refused at the critical step");
    pb_wallet_info shown;
    cr_assert_eq(pb_engine_wallet_show(t.e, w.id, &shown), PB_OK);
    cr_assert_str_eq(shown.state, "locked");
    cr_assert_str_eq(shown.lock_reason, "abort");
    pb_test_engine_remove(&t);
}

/* A child process: opens the installation, signs once, and reports through
 * its exit code how many P1 decryptions it ran (0 or 1) and whether it got
 * a signature (+2). */
static int child_sign(const char *home, const char *wallet_id)
{
    pb_engine *e = NULL;
    /* Start-ups one at a time: concurrent SoftHSM start-up is another
     * suite's subject (test_softhsm_guard); this one is about signing. */
    char path[600];
    snprintf(path, sizeof path, "%s/test-startup.lock", home);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0)
        return 101;
    pb_status opened = pb_engine_open(home, &e);
    close(fd);
    if (opened != PB_OK)
        return 100;
    uint8_t digest[32] = {0x66};
    pb_signature_result res;
    pb_status st = pb_engine_sign(e, wallet_id, digest, NULL, NULL, &res);
    int code = (int)atomic_load(&e->p1_final_steps) + (st == PB_OK ? 2 : 0);
    if (st == PB_ERR_REFUSED && !strstr(pb_last_error(), in_flight_refusal))
        code += 10; /* refused before being in flight: the test did not test */
    pb_engine_close(e);
    return code;
}

Test(engine_abort, sessions_in_flight_in_processes_decrypt_once)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &w, code), PB_OK);
    uint8_t *good;
    size_t good_len;
    pb_test_corrupt_cosigner(&t, w.id, &good, &good_len);
    free(good);
    int before = audit_count(t.home, 2, "\"sign.request\"");
    /* PKCS#11 is initialized after fork, never before. */
    pb_engine_close(t.e);
    t.e = NULL;
    pb_wallet_lock gate;
    cr_assert_eq(pb_wallet_lock_take(t.home, w.id, PB_WALLET_LOCK_CRITICAL, &gate), PB_OK);
    pid_t pids[IN_FLIGHT];
    for (int i = 0; i < IN_FLIGHT; i++) {
        pids[i] = fork();
        cr_assert_neq(pids[i], -1);
        if (pids[i] == 0) {
            pb_wallet_lock_release(&gate); /* the child's copy of the description */
            _exit(child_sign(t.home, w.id));
        }
    }
    wait_for_requests(t.home, before, IN_FLIGHT);
    pb_wallet_lock_release(&gate);
    int decryptions = 0;
    for (int i = 0; i < IN_FLIGHT; i++) {
        int status = 0;
        cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
        cr_assert(WIFEXITED(status), "child %d died (status 0x%x)", i, status);
        int c = WEXITSTATUS(status);
        cr_assert_lt(c, 2, "child %d: exit %d (a signature, or not in flight)", i, c);
        decryptions += c;
    }
    cr_assert_eq(decryptions, 1, "%d P1 decryptions across processes; exactly one may run",
                 decryptions);
    pb_test_engine_reopen(&t);
    pb_wallet_info shown;
    cr_assert_eq(pb_engine_wallet_show(t.e, w.id, &shown), PB_OK);
    cr_assert_str_eq(shown.state, "locked");
    pb_test_engine_remove(&t);
}

/* Runs one signature in a child killed at `point`. */
static void sign_killed_at(pb_test_engine *t, const char *wallet_id, const char *point)
{
    pb_engine_close(t->e);
    t->e = NULL;
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        setenv("PB_FAULT_POINT", point, 1);
        pb_engine *e = NULL;
        if (pb_engine_open(t->home, &e) != PB_OK)
            _exit(3);
        uint8_t digest[32] = {9};
        pb_signature_result res;
        (void)pb_engine_sign(e, wallet_id, digest, NULL, NULL, &res);
        _exit(4);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "the child was not killed at %s (status 0x%x)", point, status);
    pb_test_engine_reopen(t);
}

static void assert_locked(pb_test_engine *t, const char *id, const char *reason)
{
    pb_wallet_info shown;
    cr_assert_eq(pb_engine_wallet_show(t->e, id, &shown), PB_OK);
    cr_assert_str_eq(shown.state, "locked");
    cr_assert_str_eq(shown.lock_reason, reason);
}

Test(engine_abort, a_crash_inside_the_decryption_step_locks_until_unlocked)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &w, code), PB_OK);
    sign_killed_at(&t, w.id, "sign.in_doubt");
    assert_locked(&t, w.id, "in_doubt");
    uint8_t digest[32] = {3};
    pb_signature_result res;
    unsigned steps = atomic_load(&t.e->p1_final_steps);
    cr_assert_eq(pb_engine_sign(t.e, w.id, digest, NULL, NULL, &res), PB_ERR_REFUSED);
    cr_assert_eq(atomic_load(&t.e->p1_final_steps), steps, "a locked wallet decrypted");
    cr_assert_eq(pb_engine_refresh(t.e, w.id, NULL), PB_ERR_REFUSED);
    cr_assert_gt(audit_count(t.home, 1, "\"wallet.locked\""), 0);
    cr_assert_eq(pb_engine_wallet_unlock(t.e, w.id, NULL), PB_OK, "%s", pb_last_error());
    cr_assert_eq(audit_count(t.home, 1, "\"wallet.unlock\""), 1);
    pb_test_assert_signs(&t, w.id, NULL);
    pb_test_engine_remove(&t);
}

Test(engine_abort, a_crash_after_a_failed_verification_keeps_the_lock)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &w, code), PB_OK);
    uint8_t *good;
    size_t good_len;
    pb_test_corrupt_cosigner(&t, w.id, &good, &good_len);
    /* Killed after P1 decrypted a bad signature, before anything else was
     * written: the lock must survive all the same. */
    sign_killed_at(&t, w.id, "sign.after_decrypt");
    assert_locked(&t, w.id, "in_doubt");
    pb_blob_ref ref = {w.id, 2, PB_BLOB_SHARE};
    cr_assert_eq(pb_keystore_put_sealed(t.e->node[1].ks, &ref, good, good_len), PB_OK);
    free(good);
    uint8_t digest[32] = {4};
    pb_signature_result res;
    cr_assert_eq(pb_engine_sign(t.e, w.id, digest, NULL, NULL, &res), PB_ERR_REFUSED,
                 "a wallet whose last decryption failed signed again without an unlock");
    cr_assert_eq(pb_engine_wallet_unlock(t.e, w.id, NULL), PB_OK, "%s", pb_last_error());
    pb_test_assert_signs(&t, w.id, NULL);
    cr_assert_eq(pb_engine_wallet_unlock(t.e, w.id, NULL), PB_ERR_ARGUMENT,
                 "an active wallet was 'unlocked'");
    pb_test_engine_remove(&t);
}

Test(engine_abort, pin_change_and_reset_refuse_a_globally_locked_wallet)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    static const uint8_t pin[] = "246810", new_pin[] = "135799";
    pb_secrets s = {.pin = pin, .pin_len = 6, .device_dir = t.device};
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "customer", NULL, &s, &w, code), PB_OK, "%s",
                 pb_last_error());
    uint8_t *good;
    size_t good_len;
    pb_test_corrupt_cosigner(&t, w.id, &good, &good_len);
    uint8_t digest[32] = {5};
    pb_signature_result res;
    cr_assert_eq(pb_engine_sign(t.e, w.id, digest, NULL, &s, &res), PB_ERR_ABORTED);
    pb_blob_ref ref = {w.id, 2, PB_BLOB_SHARE};
    cr_assert_eq(pb_keystore_put_sealed(t.e->node[1].ks, &ref, good, good_len), PB_OK);
    free(good);
    cr_assert_eq(pb_engine_pin_change(t.e, w.id, t.device, pin, 6, new_pin, 6), PB_ERR_REFUSED);
    cr_assert(strstr(pb_last_error(), "wallet unlock"), "%s", pb_last_error());
    cr_assert_eq(pb_engine_pin_reset(t.e, w.id, t.device, code, new_pin, 6), PB_ERR_REFUSED);
    assert_locked(&t, w.id, "abort");
    /* The customer's PIN is still needed for the unlock's refresh. */
    cr_assert_eq(pb_engine_wallet_unlock(t.e, w.id, NULL), PB_ERR_AUTH);
    cr_assert_eq(pb_engine_wallet_unlock(t.e, w.id, &s), PB_OK, "%s", pb_last_error());
    pb_test_assert_signs(&t, w.id, &s);
    pb_test_engine_remove(&t);
}

Test(engine_abort, pin_change_refuses_a_locked_out_wallet)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    static const uint8_t pin[] = "112233", wrong[] = "999999", new_pin[] = "445566";
    pb_secrets s = {.pin = pin, .pin_len = 6, .device_dir = t.device};
    pb_secrets bad = {.pin = wrong, .pin_len = 6, .device_dir = t.device};
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "customer", NULL, &s, &w, code), PB_OK);
    uint8_t digest[32] = {6};
    pb_signature_result res;
    for (int i = 0; i < 5; i++)
        cr_assert_eq(pb_engine_sign(t.e, w.id, digest, NULL, &bad, &res), PB_ERR_AUTH);
    cr_assert_eq(pb_engine_pin_change(t.e, w.id, t.device, pin, 6, new_pin, 6), PB_ERR_REFUSED,
                 "a locked-out wallet changed its PIN with the right old PIN");
    cr_assert_eq(pb_engine_pin_reset(t.e, w.id, t.device, code, new_pin, 6), PB_OK, "%s",
                 pb_last_error());
    pb_secrets renewed = {.pin = new_pin, .pin_len = 6, .device_dir = t.device};
    pb_test_assert_signs(&t, w.id, &renewed);
    pb_test_engine_remove(&t);
}
