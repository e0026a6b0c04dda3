/* Kill anywhere (issue 9): the `planbok` command is SIGKILLed at random
 * moments of start-up, sign, create, refresh, PIN change, PIN reset and
 * backup, hundreds of times, on one installation with real SoftHSM tokens.
 * After every kill the installation must still open (after `audit repair`
 * where a record was cut mid-line); every so often, and at the end, every
 * wallet must sign with its old or its new credentials (a wallet a kill
 * left in doubt inside P1's decryption is unlocked by the operator's
 * `wallet unlock`, and counted), and both audit logs must verify.
 * PB_KILLS sets the number of kills (default 200; 40 under the sanitizers),
 * PB_KILL_SEED the random seed (printed on failure). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/custody_fixture.h"
#include "support/engine_fixture.h"

#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_KILLS 40
#define SLOWDOWN 4
#else
#define DEFAULT_KILLS 200
#define SLOWDOWN 1
#endif

static char planbok[600];
static pb_test_engine t;
static char pin_file[3][400], code_file[400], pub_pem[400], backup_out[400];
static char standard_id[65], customer_id[65];
static int current_pin; /* which of pin_file[] the customer wallet takes now */
static unsigned seed, first_seed; /* rand_r's state; the seed to reproduce a run */

typedef struct tally {
    int kills, finished_first, unlocked, repaired, created, resets;
} tally;

static void write_secret(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* Starts planbok with the words of `line` as arguments. */
static pid_t start(const char *line)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", line);
    char *argv[32];
    int argc = 0;
    argv[argc++] = planbok;
    argv[argc++] = "--home";
    argv[argc++] = t.home;
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && argc < 31;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        execv(planbok, argv);
        _exit(127);
    }
    return pid;
}

/* Runs to the end; returns the exit code. */
static int run(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    int status = 0;
    pid_t pid = start(line);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Starts a command and SIGKILLs it after up to budget_ms. */
static void run_killed(tally *k, int budget_ms, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    long delay_us = (long)(rand_r(&seed) % (unsigned)(budget_ms * SLOWDOWN * 1000 + 1));
    pid_t pid = start(line);
    struct timespec ts = {delay_us / 1000000, (delay_us % 1000000) * 1000};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        k->kills++;
    else
        k->finished_first++;
}

/* The installation opens again; a record cut mid-line is repaired. */
static void reopen_ok(tally *k)
{
    int rc = run("wallet list");
    if (rc == 6) {
        cr_assert_eq(run("audit repair"), 0, "PB_KILL_SEED=%u: audit repair failed", first_seed);
        k->repaired++;
        rc = run("wallet list");
    }
    cr_assert_eq(rc, 0, "PB_KILL_SEED=%u: the installation does not open after a kill (exit %d)", first_seed,
                 rc);
}

static int sign_customer(int pin)
{
    return run("sign --wallet %s --digest %064x --pin-file %s --device %s", customer_id, 7,
               pin_file[pin], t.device);
}

/* After a killed PIN operation the old or the new PIN is in force. */
static void settle_pin(int next)
{
    if (sign_customer(next) == 0)
        current_pin = next;
}

/* The wallet's state as `wallet show` prints it. */
static void shown_state(const char *id, char *out, size_t n)
{
    char cmd[1400], buf[4096] = "";
    snprintf(cmd, sizeof cmd, "'%s' --home '%s' wallet show %s 2>&1", planbok, t.home, id);
    FILE *p = popen(cmd, "r");
    size_t got = p ? fread(buf, 1, sizeof buf - 1, p) : 0;
    buf[got] = '\0';
    if (p)
        pclose(p);
    const char *state = strstr(buf, "\"state\":\"");
    snprintf(out, n, "%.*s", state ? (int)strcspn(state + 9, "\"") : 0, state ? state + 9 : "");
}

/* Signs with the wallet. A wallet refused by a rule is brought back the way
 * an operator or a customer would: a lock (a kill in doubt inside P1's
 * decryption) by `wallet unlock`, a lock-out (wrong PINs counted while
 * finding out which PIN a killed change left) by the PIN reset. */
static void assert_signs_cli(tally *k, const char *id, int customer)
{
    char secrets[900] = "";
    if (customer)
        snprintf(secrets, sizeof secrets, " --pin-file %s --device %s", pin_file[current_pin],
                 t.device);
    int rc = run("sign --wallet %s --digest %064x%s", id, 9, secrets);
    if (rc == 4) {
        char state[32];
        shown_state(id, state, sizeof state);
        if (customer && !strcmp(state, "locked_out")) {
            int next = (current_pin + 1) % 3;
            cr_assert_eq(run("pin reset --wallet %s --device %s --recovery-code-file %s "
                             "--new-pin-file %s", id, t.device, code_file, pin_file[next]),
                         0, "PB_KILL_SEED=%u: wallet %s is locked out and the PIN reset fails", first_seed, id);
            current_pin = next;
            k->resets++;
            snprintf(secrets, sizeof secrets, " --pin-file %s --device %s",
                     pin_file[current_pin], t.device);
        } else {
            cr_assert_eq(run("wallet unlock %s%s", id, secrets), 0,
                         "PB_KILL_SEED=%u: wallet %s is refused (state '%s') and does not unlock", first_seed,
                         id, state);
            k->unlocked++;
        }
        rc = run("sign --wallet %s --digest %064x%s", id, 9, secrets);
    }
    cr_assert_eq(rc, 0, "PB_KILL_SEED=%u: wallet %s no longer signs (exit %d)", first_seed, id, rc);
}

static void full_check(tally *k)
{
    reopen_ok(k);
    assert_signs_cli(k, standard_id, 0);
    assert_signs_cli(k, customer_id, 1);
    cr_assert_eq(run("audit verify --node 1"), 0, "PB_KILL_SEED=%u: node 1's audit log", first_seed);
    cr_assert_eq(run("audit verify --node 2"), 0, "PB_KILL_SEED=%u: node 2's audit log", first_seed);
}

Test(kill_anywhere, hundreds_of_kills_lose_nothing)
{
    const char *bin = getenv("PB_BINARY_DIR");
    snprintf(planbok, sizeof planbok, "%s/bin/planbok", bin && *bin ? bin : ".");
    const char *s = getenv("PB_KILL_SEED");
    seed = s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL);
    first_seed = seed;
    const char *n = getenv("PB_KILLS");
    int kills = n ? atoi(n) : DEFAULT_KILLS;

    pb_test_engine_make(&t);
    static const char *pins[3] = {"111111", "222222", "333333"};
    for (int i = 0; i < 3; i++) {
        snprintf(pin_file[i], sizeof pin_file[i], "%s/pin%d", t.home, i);
        write_secret(pin_file[i], pins[i]);
    }
    pb_secrets cust = {.pin = (const uint8_t *)pins[0], .pin_len = 6, .device_dir = t.device};
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &w, code), PB_OK);
    snprintf(standard_id, sizeof standard_id, "%s", w.id);
    cr_assert_eq(pb_engine_wallet_create(t.e, "customer", NULL, &cust, &w, code), PB_OK);
    snprintf(customer_id, sizeof customer_id, "%s", w.id);
    snprintf(code_file, sizeof code_file, "%s/recovery-code", t.home);
    write_secret(code_file, code);
    char priv_pem[400];
    cx_rsa_key_paths(3072, 0, t.home, pub_pem, priv_pem, sizeof pub_pem);
    snprintf(backup_out, sizeof backup_out, "%s/node2.backup", t.home);
    pb_engine_close(t.e); /* from here on only the command runs */
    t.e = NULL;

    tally k = {0};
    int iteration = 0;
    while (k.kills < kills) {
        int op = (int)(rand_r(&seed) % 8);
        int next = (current_pin + 1) % 3;
        switch (op) {
        case 0: run_killed(&k, 80, "wallet list"); break;
        case 1: run_killed(&k, 150, "sign --wallet %s --digest %064x", standard_id, iteration); break;
        case 2:
            run_killed(&k, 900, "sign --wallet %s --digest %064x --pin-file %s --device %s",
                       customer_id, iteration, pin_file[current_pin], t.device);
            break;
        case 3: run_killed(&k, 900, "wallet refresh %s", standard_id); break;
        case 4:
            run_killed(&k, 2500, "pin change --wallet %s --device %s --pin-file %s --new-pin-file %s",
                       customer_id, t.device, pin_file[current_pin], pin_file[next]);
            break;
        case 5:
            run_killed(&k, 2500,
                       "pin reset --wallet %s --device %s --recovery-code-file %s --new-pin-file %s",
                       customer_id, t.device, code_file, pin_file[next]);
            break;
        case 6:
            if (k.created < 10) {
                run_killed(&k, 900, "wallet create --mode standard");
                k.created++;
            }
            break;
        case 7:
            run_killed(&k, 200, "backup --node 2 --recovery-key %s --out %s", pub_pem, backup_out);
            break;
        }
        reopen_ok(&k);
        if (op == 4 || op == 5)
            settle_pin(next);
        if (++iteration % 40 == 0)
            full_check(&k);
    }
    full_check(&k);
    /* Every wallet, the ones created between kills included. */
    cr_assert_eq(pb_engine_open(t.home, &t.e), PB_OK, "%s", pb_last_error());
    pb_wallet_info *all = NULL;
    size_t count = 0;
    cr_assert_eq(pb_engine_wallet_list(t.e, &all, &count), PB_OK, "%s", pb_last_error());
    for (size_t i = 0; i < count; i++) {
        if (strcmp(all[i].mode, "standard") != 0)
            continue;
        if (!strcmp(all[i].state, "locked")) {
            cr_assert_eq(pb_engine_wallet_unlock(t.e, all[i].id, NULL), PB_OK, "%s",
                         pb_last_error());
            k.unlocked++;
        }
        pb_test_assert_signs(&t, all[i].id, NULL);
    }
    free(all);
    cr_log_info("kill_anywhere: seed %u, %d kills, %d commands finished before their kill, "
                "%d unlocks after a kill in doubt, %d PIN resets after a lock-out, %d audit repairs, "
                "%zu wallets",
                first_seed, k.kills, k.finished_first, k.unlocked, k.resets, k.repaired, count);
    fprintf(stderr, "kill_anywhere: seed %u, %d kills, %d finished first, %d unlocked, "
                    "%d repaired, %zu wallets all sign\n",
            first_seed, k.kills, k.finished_first, k.unlocked, k.repaired, count);
    pb_test_engine_remove(&t);
}
