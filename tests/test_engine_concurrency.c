/* Many threads on one engine: signatures on one wallet and on several, and
 * wrong PINs racing, lose no update of the counters. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <secp256k1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine_internal.h"
#include "support/engine_fixture.h"
#include "support/cli_runner.h"
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

/* Hex field `key` of a JSON line into out (n bytes); 0 on success. */
static int json_hex(const char *json, const char *key, uint8_t *out, size_t n)
{
    char pattern[32];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(json, pattern);
    if (!p)
        return -1;
    p += strlen(pattern);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(p + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return p[2 * n] == '"' ? 0 : -1;
}

/* libsecp256k1 checks what the command printed; no Criterion asserts in a
 * forked child, so a failure is a count. */
static int cli_signature_ok(const char *json, const uint8_t digest[32])
{
    uint8_t r_s[64], pub[33];
    if (json_hex(json, "r", r_s, 32) || json_hex(json, "s", r_s + 32, 32) ||
        json_hex(json, "public_key", pub, 33))
        return 0;
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey pk;
    secp256k1_ecdsa_signature sig;
    int ok = secp256k1_ec_pubkey_parse(ctx, &pk, pub, 33) &&
             secp256k1_ecdsa_signature_parse_compact(ctx, &sig, r_s) &&
             secp256k1_ecdsa_verify(ctx, &sig, digest, &pk);
    secp256k1_context_destroy(ctx);
    return ok;
}

/* Scaled down for the suite; PB_STRESS_SIGNERS and PB_STRESS_SIGNATURES
 * (each) run the full size of issue 9 item 11 (8 x 250). */
static int stress_setting(const char *name, int fallback, int max)
{
    const char *v = getenv(name);
    int n = v ? atoi(v) : fallback;
    return n >= 1 && n <= max ? n : fallback;
}

static int signer_process(const char *home, const char *ids[2], int seed, int signatures)
{
    int failures = 0;
    for (int i = 0; i < signatures; i++) {
        uint8_t digest[32];
        for (int b = 0; b < 32; b++)
            digest[b] = (uint8_t)(seed * 97 + i * 13 + b + 1);
        char args[300], hex[65];
        for (int b = 0; b < 32; b++)
            snprintf(hex + 2 * b, 3, "%02x", digest[b]);
        snprintf(args, sizeof args, "sign --wallet %s --digest %s", ids[(seed + i) % 2], hex);
        pb_test_cli r;
        pb_test_cli_run(home, args, &r);
        if (r.code != 0 || !cli_signature_ok(r.out, digest)) {
            fprintf(stderr, "signer %d: exit %d: %s\n", seed, r.code, r.err);
            failures++;
        }
        pb_test_cli_free(&r);
    }
    return failures > 255 ? 255 : failures;
}

/* Refreshes the two wallets in turn until the signers are done (at least
 * twice), so refreshes land in between signatures for the whole run. */
static int refresher_process(const char *home, const char *ids[2], const char *done_flag)
{
    int failures = 0, n = 0;
    while (n < 2 || access(done_flag, F_OK) != 0) {
        char args[200];
        snprintf(args, sizeof args, "wallet refresh %s", ids[n % 2]);
        pb_test_cli r;
        pb_test_cli_run(home, args, &r);
        if (r.code != 0) {
            fprintf(stderr, "refresh: exit %d: %s\n", r.code, r.err);
            failures++;
        }
        pb_test_cli_free(&r);
        n++;
    }
    fprintf(stderr, "refresher: %d refreshes\n", n);
    return failures > 255 ? 255 : failures;
}

/* Separate `planbok` processes racing on one installation: signatures on
 * two wallets from several processes while refreshes run, with no failure
 * and no false integrity alarm (issue 9 item 11). */
Test(engine_concurrency, processes_sign_while_refreshing)
{
    int signers = stress_setting("PB_STRESS_SIGNERS", 6, 64);
    int each = stress_setting("PB_STRESS_SIGNATURES", 4, 100000);
    pb_test_engine t;
    pb_test_engine_make(&t);
    pb_wallet_info w[2];
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &w[i], code), PB_OK);
    const char *ids[2] = {w[0].id, w[1].id};
    pb_engine_close(t.e); /* PKCS#11 is initialized after fork, never before */
    t.e = NULL;
    char done_flag[400];
    snprintf(done_flag, sizeof done_flag, "%s/signers-done", t.home);
    pid_t pids[65];
    for (int i = 0; i <= signers; i++) {
        pids[i] = fork();
        cr_assert_neq(pids[i], -1);
        if (pids[i] == 0)
            _exit(i < signers ? signer_process(t.home, ids, i, each)
                              : refresher_process(t.home, ids, done_flag));
    }
    int failures = 0;
    for (int i = 0; i <= signers; i++) {
        if (i == signers) {
            FILE *f = fopen(done_flag, "w");
            cr_assert(f);
            fclose(f);
        }
        int status = 0;
        cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
        cr_assert(WIFEXITED(status), "process %d died (0x%x)", i, status);
        failures += WEXITSTATUS(status);
    }
    cr_assert_eq(failures, 0, "%d of %d signatures and the refreshes failed", failures,
                 signers * each);
    fprintf(stderr, "%d processes signed %d times each, all checked by libsecp256k1\n",
            signers, each);
    for (int node = 1; node <= 2; node++) {
        char args[64];
        snprintf(args, sizeof args, "audit verify --node %d", node);
        pb_test_cli r;
        pb_test_cli_run(t.home, args, &r);
        cr_assert_eq(r.code, 0, "node %d's audit log: %s", node, r.err);
        pb_test_cli_free(&r);
    }
    pb_test_engine_remove(&t);
}
