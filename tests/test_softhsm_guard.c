/* The SoftHSM token guard (issue 9, item 1): SoftHSM rewrites token.object
 * in place on every C_Login, so a process killed then used to leave an empty
 * file and a lost token. Here processes are SIGKILLed at random points of
 * start-up, token files are emptied and cut by hand, and eight processes
 * start at once; every time the token must be whole at the next open.
 * Real SoftHSM, real processes, no mocks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pkcs11/session_pool.h"
#include "pkcs11/softhsm_dev.h"
#include "pkcs11/softhsm_guard.h"
#include "pkcs11/softhsm_token_file.h"
#include "support/guard_fixture.h"
#include "support/support.h"

#define KILLS_WANTED 100
#define RUNS_MAX 400

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    uint8_t *buf = malloc(65536);
    *len = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

static void write_all(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(buf, 1, len, f), len);
    fclose(f);
}

/* Starts one start-up child; returns its pid and the read end of its pipe. */
static pid_t start_child(pb_test_token *t, int *ready_rd)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(p[0]);
        pb_guard_fx_startup_child(t, p[1]);
    }
    close(p[1]);
    *ready_rd = p[0];
    return pid;
}

/* The slowest of three undisturbed start-ups, in ms: kills are drawn below it. */
static double startup_ms(pb_test_token *t)
{
    double worst = 0;
    for (int i = 0; i < 3; i++) {
        int rd;
        double t0 = now_ms();
        pid_t pid = start_child(t, &rd);
        char b;
        cr_assert_eq(read(rd, &b, 1), 1, "an undisturbed start-up failed");
        double dt = now_ms() - t0;
        int status;
        waitpid(pid, &status, 0);
        close(rd);
        worst = dt > worst ? dt : worst;
    }
    return worst;
}

Test(softhsm_guard, sigkill_during_startup_never_loses_the_token)
{
    pb_test_token t;
    pb_guard_fx_make(&t);
    char file[700];
    pb_guard_fx_token_file(&t, file, sizeof file);
    size_t pristine_len;
    uint8_t *pristine = read_all(file, &pristine_len);
    double window = startup_ms(&t);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());

    int runs = 0, mid_startup = 0, cut_by_kill = 0, damaged = 0;
    while (mid_startup < KILLS_WANTED && runs < RUNS_MAX) {
        int rd;
        pid_t pid = start_child(&t, &rd);
        sleep_us(rand() % (long)(window * 1000 + 1));
        kill(pid, SIGKILL);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        char b;
        ssize_t got = read(rd, &b, 1);
        close(rd);
        runs++;
        /* Killed, and before its start-up was done: the case that matters. */
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && got == 0)
            mid_startup++;
        if (pb_guard_fx_file_size(file) != (long)pristine_len)
            cut_by_kill++;
        char why[512];
        if (pb_guard_fx_check(&t, why, sizeof why) != 0) {
            damaged++;
            cr_log_error("run %d: token damaged: %s", runs, why);
            /* Put it back by hand so the count goes on (measurement only). */
            write_all(file, pristine, pristine_len);
        }
    }
    fprintf(stderr,
            "kill loop: %d runs, %d killed mid-start-up (window %.1f ms), token.object left "
            "empty or cut by %d kills, %d damaged tokens at the next open\n",
            runs, mid_startup, window, cut_by_kill, damaged);
    cr_assert_geq(mid_startup, KILLS_WANTED, "only %d kills landed in start-up", mid_startup);
    cr_assert_eq(damaged, 0, "%d of %d kills destroyed the token", damaged, runs);
    free(pristine);
    pb_test_token_remove(&t);
}

static void assert_restored_after_cut(long keep_bytes_of, int half)
{
    pb_test_token t;
    pb_guard_fx_make(&t);
    char file[700], why[512];
    pb_guard_fx_token_file(&t, file, sizeof file);
    long whole = pb_guard_fx_file_size(file);
    pb_guard_fx_truncate(file, half ? whole / 2 : keep_bytes_of);
    cr_assert_eq(pb_guard_fx_check(&t, why, sizeof why), 0, "%s", why);
    cr_assert_eq(pb_guard_fx_file_size(file), whole, "token.object was not put back whole");
    pb_test_token_remove(&t);
}

Test(softhsm_guard, empty_token_file_is_restored_at_next_open)
{
    assert_restored_after_cut(0, 0);
}

Test(softhsm_guard, half_token_file_is_restored_at_next_open)
{
    assert_restored_after_cut(0, 1);
}

Test(softhsm_guard, token_file_cut_at_a_record_boundary_is_restored)
{
    /* The longest prefix that still parses as a token record (it has lost
     * its last attribute, the user PIN): parsing alone would call it whole. */
    pb_test_token t;
    pb_guard_fx_make(&t);
    char file[700];
    pb_guard_fx_token_file(&t, file, sizeof file);
    size_t len;
    uint8_t *bytes = read_all(file, &len);
    size_t cut = len - 1;
    pb_sh_token_record rec;
    while (cut > 8 && pb_sh_token_parse(bytes, cut, &rec) != 0)
        cut--;
    free(bytes);
    pb_test_token_remove(&t);
    cr_assert_gt(cut, 8, "no shorter prefix parses");
    assert_restored_after_cut((long)cut, 0);
}

Test(softhsm_guard, whole_file_differing_only_in_flags_is_left_alone)
{
    pb_test_token t;
    pb_guard_fx_make(&t);
    char file[700];
    pb_guard_fx_token_file(&t, file, sizeof file);
    size_t len;
    uint8_t *bytes = read_all(file, &len);
    /* The flags record: type 0x8000534b, kind 2 (number), then the value. */
    static const uint8_t flags_type[8] = {0, 0, 0, 0, 0x80, 0x00, 0x53, 0x4b};
    uint8_t *at = memmem(bytes, len, flags_type, sizeof flags_type);
    cr_assert_not_null(at);
    at[16 + 5] ^= 0x01; /* CKF_USER_PIN_COUNT_LOW (0x10000) flipped */
    write_all(file, bytes, len);

    pb_softhsm_guard g;
    pb_softhsm_guard_setup(&g, t.cfg.softhsm_conf);
    cr_assert(g.active);
    cr_assert_eq(pb_softhsm_guard_lock(&g), PB_OK, "%s", pb_last_error());
    cr_assert_eq(g.restored, 0, "a whole token file was overwritten");
    pb_softhsm_guard_teardown(&g);
    size_t after_len;
    uint8_t *after = read_all(file, &after_len);
    cr_assert(after_len == len && memcmp(after, bytes, len) == 0, "token.object was changed");
    free(after);
    free(bytes);
    pb_test_token_remove(&t);
}

Test(softhsm_guard, damaged_token_without_a_copy_is_named_and_never_replaced)
{
    pb_test_token t;
    pb_guard_fx_make(&t);
    char file[700], guard_dir[400], pin_before[128] = {0}, pin_after[128] = {0};
    pb_guard_fx_token_file(&t, file, sizeof file);
    snprintf(guard_dir, sizeof guard_dir, "%s/guard", t.dir);
    pb_test_rmtree(guard_dir); /* a home from before the guard, say */
    pb_guard_fx_truncate(file, 0);
    FILE *f = fopen(t.cfg.pin_file, "r");
    cr_assert(fgets(pin_before, sizeof pin_before, f));
    fclose(f);

    pb_keystore *ks = NULL;
    cr_assert_eq(pb_keystore_open(&t.cfg, 0, &ks), PB_ERR_HSM);
    cr_assert(strstr(pb_last_error(), "token 'pb-test' not found") &&
                  strstr(pb_last_error(), "may be damaged") && strstr(pb_last_error(), "docs/hsm.md"),
              "message: %s", pb_last_error());
    cr_assert(strstr(pb_last_error(), pin_before) == NULL);

    /* init again must refuse, not make a fresh empty token and new PINs. */
    const char *labels[] = {"pb-test", "pb-other"};
    cr_assert_eq(pb_softhsm_dev_provision(PB_SOFTHSM_MODULE_DEFAULT, t.dir, labels, 2), PB_ERR_HSM);
    cr_assert(strstr(pb_last_error(), "refusing"), "message: %s", pb_last_error());
    f = fopen(t.cfg.pin_file, "r");
    cr_assert(fgets(pin_after, sizeof pin_after, f));
    fclose(f);
    cr_assert_str_eq(pin_before, pin_after, "the PIN file was replaced");
    cr_assert_eq(pb_guard_fx_file_size(file), 0, "the damaged token was written over");
    pb_test_token_remove(&t);
}

Test(softhsm_guard, provisioning_restores_a_damaged_token_it_kept)
{
    pb_test_token t;
    pb_guard_fx_make(&t);
    char file[700], why[512];
    pb_guard_fx_token_file(&t, file, sizeof file);
    pb_guard_fx_truncate(file, 0);
    const char *labels[] = {"pb-test", "pb-other"};
    cr_assert_eq(pb_softhsm_dev_provision(PB_SOFTHSM_MODULE_DEFAULT, t.dir, labels, 2), PB_OK,
                 "%s", pb_last_error());
    cr_assert_eq(pb_guard_fx_check(&t, why, sizeof why), 0, "%s", why);
    pb_test_token_remove(&t);
}

Test(softhsm_guard, eight_processes_starting_at_once_twenty_rounds)
{
    pb_test_token t;
    pb_guard_fx_make(&t);
    int failures = 0;
    for (int round = 0; round < 20; round++) {
        int gate[2];
        cr_assert_eq(pipe(gate), 0);
        pid_t pids[8];
        for (int i = 0; i < 8; i++) {
            pids[i] = fork();
            cr_assert_neq(pids[i], -1);
            if (pids[i] == 0) {
                close(gate[1]);
                char b;
                if (read(gate[0], &b, 1) < 0) /* returns 0 when the parent closes the gate */
                    _exit(2);
                char why[512];
                int rc = pb_guard_fx_check(&t, why, sizeof why);
                if (rc != 0)
                    fprintf(stderr, "round %d, process %d: %s\n", round, i, why);
                _exit(rc == 0 ? 0 : 1);
            }
        }
        close(gate[0]);
        close(gate[1]); /* all eight start now */
        for (int i = 0; i < 8; i++) {
            int status;
            cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                failures++;
        }
    }
    cr_assert_eq(failures, 0, "%d of 160 concurrent start-ups failed", failures);
    pb_test_token_remove(&t);
}

Test(softhsm_guard, one_login_per_process_per_token)
{
    pb_test_token t;
    pb_guard_fx_make(&t);
    unsigned long before = pb_p11_login_calls();
    pb_keystore *a = NULL, *b = NULL, *other = NULL;
    cr_assert_eq(pb_keystore_open(&t.cfg, 0, &a), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_keystore_open(&t.cfg, 0, &b), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_p11_login_calls() - before, 1, "the same token was logged in twice");
    pb_hsm_config other_cfg = t.cfg;
    snprintf(other_cfg.token_label, sizeof other_cfg.token_label, "pb-other");
    pb_softhsm_dev_pin_path(t.dir, "pb-other", other_cfg.pin_file, sizeof other_cfg.pin_file);
    cr_assert_eq(pb_keystore_open(&other_cfg, PB_KEYSTORE_CREATE, &other), PB_OK, "%s",
                 pb_last_error());
    cr_assert_eq(pb_p11_login_calls() - before, 2, "one login per token expected");
    pb_keystore_close(other);
    pb_keystore_close(b);
    pb_keystore_close(a);
    pb_test_token_remove(&t);
}

Test(softhsm_guard, other_modules_and_the_db_backend_are_left_alone)
{
    pb_softhsm_guard g;
    pb_softhsm_guard_setup(&g, "");
    cr_assert_not(g.active);
    cr_assert_eq(pb_softhsm_guard_lock(&g), PB_OK);
    cr_assert_null(g.fds);
    pb_softhsm_guard_teardown(&g);

    const char *tmp = getenv("TMPDIR");
    char dir[300], conf[400];
    snprintf(dir, sizeof dir, "%s/planbok-guard-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(conf, sizeof conf, "%s/softhsm2.conf", dir);
    FILE *f = fopen(conf, "w");
    fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = db\n", dir);
    fclose(f);
    pb_softhsm_guard_setup(&g, conf);
    cr_assert_not(g.active, "the transactional db backend needs no guard");
    pb_softhsm_guard_teardown(&g);
    pb_test_rmtree(dir);
}
