/* Crash safety by fault injection: a child process is killed (SIGKILL) at
 * each named step of create, refresh, sign and PIN reset; the parent then
 * re-opens the installation and checks that every wallet is usable or
 * cleanly absent and that no share was lost. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine_internal.h"
#include "support/engine_fixture.h"
#include "support/mpc_runner.h"

static const uint8_t pin_a[] = "112233", pin_b[] = "445566";

typedef enum { OP_CREATE, OP_REFRESH, OP_SIGN, OP_PIN_RESET, OP_PIN_CHANGE } op_kind;

typedef struct crash_case {
    op_kind op;
    const char *point;
    const char *mode;
} crash_case;

/* Runs one operation in a child that dies at `point`; the engine must be
 * closed in the parent first (PKCS#11 is initialized after fork, never before). */
static void run_child(pb_test_engine *t, const crash_case *c, const char *wallet_id,
                      const char *code)
{
    pb_engine_close(t->e);
    t->e = NULL;
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        setenv("PB_FAULT_POINT", c->point, 1);
        pb_engine *e = NULL;
        if (pb_engine_open(t->home, &e) != PB_OK)
            _exit(3);
        pb_secrets s = {.pin = pin_a, .pin_len = 6, .device_dir = t->device};
        const pb_secrets *secrets = !strcmp(c->mode, "customer") ? &s : NULL;
        pb_wallet_info w;
        char rc[PB_ENGINE_RECOVERY_CODE_SIZE];
        uint8_t digest[32] = {42};
        pb_signature_result res;
        pb_status st = PB_OK;
        switch (c->op) {
        case OP_CREATE: st = pb_engine_wallet_create(e, c->mode, NULL, secrets, &w, rc); break;
        case OP_REFRESH: st = pb_engine_refresh(e, wallet_id, secrets); break;
        case OP_SIGN: st = pb_engine_sign(e, wallet_id, digest, NULL, secrets, &res); break;
        case OP_PIN_RESET:
            st = pb_engine_pin_reset(e, wallet_id, t->device, code, pin_b, 6);
            break;
        case OP_PIN_CHANGE:
            st = pb_engine_pin_change(e, wallet_id, t->device, pin_a, 6, pin_b, 6);
            break;
        }
        _exit(st == PB_OK ? 0 : 4); /* reached only if the point was never hit */
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "the child was not killed at %s (status 0x%x)", c->point, status);
    pb_test_engine_reopen(t);
}

static void assert_signs(pb_test_engine *t, const char *wallet_id, const pb_secrets *s)
{
    pb_wallet_info w;
    cr_assert_eq(pb_engine_wallet_show(t->e, wallet_id, &w), PB_OK);
    uint8_t digest[32] = {7}, expected[33];
    for (int i = 0; i < 33; i++) {
        unsigned v;
        sscanf(w.public_key + 2 * i, "%2x", &v);
        expected[i] = (uint8_t)v;
    }
    pb_signature_result res;
    cr_assert_eq(pb_engine_sign(t->e, wallet_id, digest, NULL, s, &res), PB_OK,
                 "wallet %s no longer signs: %s", wallet_id, pb_last_error());
    cr_assert(memcmp(res.public_key, expected, 33) == 0, "the public key changed");
    mpc_check_signature(expected, digest, res.sig, res.recovery_id);
}

static void crash_and_check(const crash_case *c)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    pb_secrets s = {.pin = pin_a, .pin_len = 6, .device_dir = t.device};
    const pb_secrets *secrets = !strcmp(c->mode, "customer") ? &s : NULL;
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE] = "";
    if (c->op != OP_CREATE)
        cr_assert_eq(pb_engine_wallet_create(t.e, c->mode, NULL, secrets, &w, code), PB_OK, "%s",
                     pb_last_error());
    run_child(&t, c, c->op == OP_CREATE ? NULL : w.id, code);

    pb_wallet_info *all = NULL;
    size_t n = 0;
    cr_assert_eq(pb_engine_wallet_list(t.e, &all, &n), PB_OK);
    if (c->op == OP_CREATE) {
        /* Cleanly absent, or present and signing; nothing half made is
         * left at node 2 (the start-up removed it, or finished it). */
        for (size_t i = 0; i < n; i++)
            assert_signs(&t, all[i].id, secrets);
        pb_wallet_row *rows2 = NULL;
        size_t n2 = 0;
        cr_assert_eq(pb_wallet_db_list(t.e->node[1].db, &rows2, &n2), PB_OK, "%s",
                     pb_last_error());
        free(rows2);
        cr_assert_eq(n2, n, "after a crash at %s node 2 keeps %zu rows for %zu wallets", c->point,
                     n2, n);
        char journal[600];
        snprintf(journal, sizeof journal, "%s/node1/creating", t.home);
        DIR *d = opendir(journal);
        struct dirent *ent;
        int left = 0;
        while (d && (ent = readdir(d)) != NULL)
            left += ent->d_name[0] != '.';
        if (d)
            closedir(d);
        cr_assert_eq(left, 0, "the creation journal still holds %d entries", left);
    } else {
        cr_assert_eq(n, 1, "a wallet was lost at %s", c->point);
        if (c->op == OP_PIN_RESET || c->op == OP_PIN_CHANGE) {
            /* The old or the new PIN signs, whatever step the crash hit... */
            pb_secrets old_pin = {.pin = pin_a, .pin_len = 6, .device_dir = t.device};
            pb_secrets new_pin = {.pin = pin_b, .pin_len = 6, .device_dir = t.device};
            uint8_t digest[32] = {11};
            pb_signature_result res;
            pb_status with_new = pb_engine_sign(t.e, w.id, digest, NULL, &new_pin, &res);
            pb_status with_old =
                with_new == PB_OK ? PB_OK : pb_engine_sign(t.e, w.id, digest, NULL, &old_pin, &res);
            cr_assert(with_new == PB_OK || with_old == PB_OK,
                      "after a crash at %s neither PIN signs (new: %s, old: %s)", c->point,
                      pb_status_name(with_new), pb_status_name(with_old));
            /* ... and the recovery code always finishes the job. */
            cr_assert_eq(pb_engine_pin_reset(t.e, w.id, t.device, code, pin_b, 6), PB_OK,
                         "recovery after a crash at %s: %s", c->point, pb_last_error());
            pb_secrets renewed = {.pin = pin_b, .pin_len = 6, .device_dir = t.device};
            assert_signs(&t, w.id, &renewed);
        } else {
            assert_signs(&t, w.id, secrets);
            /* And a refresh after the crash completes. */
            cr_assert_eq(pb_engine_refresh(t.e, w.id, secrets), PB_OK, "%s", pb_last_error());
            assert_signs(&t, w.id, secrets);
        }
    }
    free(all);
    pb_test_engine_remove(&t);
}

#define CRASH_TEST(name, op, point, mode)                                                       \
    Test(engine_crash, name)                                                   \
    {                                                                                          \
        crash_case c = {op, point, mode};                                                      \
        crash_and_check(&c);                                                                   \
    }

CRASH_TEST(create_after_p2_record, OP_CREATE, "create.after_p2_record", "standard")
CRASH_TEST(create_after_p2_row, OP_CREATE, "create.after_p2_row", "customer")
CRASH_TEST(create_after_p1_record, OP_CREATE, "create.after_p1_record", "standard")
CRASH_TEST(create_after_p1_record_customer, OP_CREATE, "create.after_p1_record", "customer")
CRASH_TEST(create_after_p1_row, OP_CREATE, "create.after_p1_row", "customer")
CRASH_TEST(refresh_after_protocol, OP_REFRESH, "refresh.after_protocol", "standard")
CRASH_TEST(refresh_after_p2_pending, OP_REFRESH, "refresh.after_p2_pending", "standard")
CRASH_TEST(refresh_after_p1_store, OP_REFRESH, "refresh.after_p1_store", "standard")
CRASH_TEST(refresh_after_p1_row, OP_REFRESH, "refresh.after_p1_row", "customer")
CRASH_TEST(refresh_after_p2_promote, OP_REFRESH, "refresh.after_p2_promote", "standard")
CRASH_TEST(sign_before_m4, OP_SIGN, "sign.before_m4", "standard")
CRASH_TEST(sign_after_m4, OP_SIGN, "sign.after_m4", "customer")
CRASH_TEST(pin_reset_after_stage, OP_PIN_RESET, "pin.after_stage", "customer")
CRASH_TEST(pin_reset_after_store, OP_PIN_RESET, "pin.after_store", "customer")
CRASH_TEST(pin_reset_after_verifier, OP_PIN_RESET, "pin.after_verifier", "customer")

/* A PIN change cut short at every step, and the PIN reset at the steps of
 * its refresh. */
CRASH_TEST(pin_change_after_stage, OP_PIN_CHANGE, "pin.after_stage", "customer")
CRASH_TEST(pin_change_after_next_verifier, OP_PIN_CHANGE, "pin.after_next_verifier", "customer")
CRASH_TEST(pin_change_refresh_after_protocol, OP_PIN_CHANGE, "refresh.after_protocol", "customer")
CRASH_TEST(pin_change_refresh_after_p2_pending, OP_PIN_CHANGE, "refresh.after_p2_pending",
           "customer")
CRASH_TEST(pin_change_refresh_after_p1_store, OP_PIN_CHANGE, "refresh.after_p1_store", "customer")
CRASH_TEST(pin_change_refresh_after_p1_row, OP_PIN_CHANGE, "refresh.after_p1_row", "customer")
CRASH_TEST(pin_change_refresh_after_p2_promote, OP_PIN_CHANGE, "refresh.after_p2_promote",
           "customer")
CRASH_TEST(pin_change_after_store, OP_PIN_CHANGE, "pin.after_store", "customer")
CRASH_TEST(pin_change_after_verifier, OP_PIN_CHANGE, "pin.after_verifier", "customer")
CRASH_TEST(pin_reset_after_next_verifier, OP_PIN_RESET, "pin.after_next_verifier", "customer")
CRASH_TEST(pin_reset_refresh_after_p1_store, OP_PIN_RESET, "refresh.after_p1_store", "customer")
CRASH_TEST(pin_reset_refresh_after_p2_promote, OP_PIN_RESET, "refresh.after_p2_promote",
           "customer")
