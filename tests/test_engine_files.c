/* Files and permissions of a data directory, as OpenSSH treats its own:
 * everything planbok writes is 0600 (directories 0700) even under umask
 * 000; planbok.conf, which names the PKCS#11 module to load, is refused
 * when others may write it or its directory, when it is a symbolic link or
 * belongs to another user; the token PIN file is refused when others may
 * read it; the wallet database an older version left 0644 is tightened.
 * Refusals are PB_ERR_STORAGE, exit code 5 from the CLI. Real SoftHSM
 * tokens; tests run as root, so "another user" is nobody (uid 65534). */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/config.h"
#include "support/custody_fixture.h"
#include "support/engine_fixture.h"

#define NOBODY 65534

/* --- umask 000 ----------------------------------------------------------- */

static char walk_report[4096];
static int walk_files, walk_dirs, walk_wal;

static int check_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    mode_t mode = sb->st_mode & 07777;
    const char *bad = NULL;
    if (flag == FTW_SL)
        bad = "symbolic link";
    else if (S_ISDIR(sb->st_mode) && mode != 0700)
        bad = "directory not 0700";
    else if (S_ISREG(sb->st_mode) && mode != 0600)
        bad = "file not 0600";
    walk_dirs += S_ISDIR(sb->st_mode);
    walk_files += S_ISREG(sb->st_mode);
    size_t n = strlen(path);
    walk_wal += n > 4 && strcmp(path + n - 4, "-wal") == 0;
    if (bad) {
        size_t used = strlen(walk_report);
        snprintf(walk_report + used, sizeof walk_report - used, "\n  %s: %s (mode %03o)", path,
                 bad, (unsigned)mode);
    }
    return 0;
}

Test(engine_files, under_umask_000_every_file_planbok_writes_is_0600_and_every_directory_0700)
{
    char keys[256], pub[400], priv[400], backup[600];
    cx_tmpdir(keys, sizeof keys); /* the test's own key files stay outside the data directory */
    cx_rsa_key_paths(3072, 0, keys, pub, priv, sizeof pub);
    umask(0);
    pb_test_engine t;
    pb_test_engine_make(&t); /* config, SoftHSM conf, PINs, tokens, keys, cosigner file */
    static const uint8_t pin[] = "482913", org[32] = {9, 9, 9};
    pb_secrets customer = {.pin = pin, .pin_len = 6, .device_dir = t.device};
    pb_secrets trustless = {.org_secret = org};
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &w, code), PB_OK, "%s",
                 pb_last_error());
    cr_assert_eq(pb_engine_wallet_create(t.e, "trustless", NULL, &trustless, &w, code), PB_OK);
    cr_assert_eq(pb_engine_wallet_create(t.e, "customer", NULL, &customer, &w, code), PB_OK, "%s",
                 pb_last_error());
    snprintf(backup, sizeof backup, "%s/node2.backup", t.home);
    size_t records = 0;
    cr_assert_eq(pb_engine_backup(t.e, 2, pub, backup, &records), PB_OK, "%s", pb_last_error());
    /* Walk with the engine open, so SQLite's -wal and -shm exist. */
    pb_test_engine_reopen(&t);
    walk_report[0] = '\0';
    cr_assert_eq(nftw(t.home, check_entry, 16, FTW_PHYS), 0);
    cr_assert_eq(walk_wal, 2, "expected both nodes' wallets.db-wal, saw %d", walk_wal);
    /* Sanity: the walk saw the tree (config, PINs, token objects, wallet
     * databases, audit segments, device, backup ...). */
    cr_assert_geq(walk_files, 15, "only %d files under %s", walk_files, t.home);
    cr_assert_geq(walk_dirs, 8, "only %d directories under %s", walk_dirs, t.home);
    cr_assert_eq(walk_report[0], '\0', "open to others under umask 000:%s", walk_report);
    umask(022);
    pb_test_engine_remove(&t);
    cx_rmtree(keys);
}

/* --- planbok.conf ---------------------------------------------------------- */

static void conf_path(const pb_test_engine *t, char *out, size_t n)
{
    pb_config_path(t->home, out, n);
}

static void assert_open_refused(pb_test_engine *t, const char *needle)
{
    pb_engine *e = NULL;
    pb_status st = pb_engine_open(t->home, &e);
    cr_assert_eq(st, PB_ERR_STORAGE, "got %s: %s", pb_status_name(st), pb_last_error());
    cr_assert_null(e);
    cr_assert_not_null(strstr(pb_last_error(), needle), "message: %s", pb_last_error());
}

static void closed_engine(pb_test_engine *t)
{
    pb_test_engine_make(t);
    pb_engine_close(t->e);
    t->e = NULL;
}

Test(engine_files, configuration_writable_by_group_or_others_is_refused)
{
    pb_test_engine t;
    closed_engine(&t);
    char path[600];
    conf_path(&t, path, sizeof path);
    static const mode_t writable[] = {0664, 0620, 0602, 0666};
    for (size_t i = 0; i < sizeof writable / sizeof writable[0]; i++) {
        cr_assert_eq(chmod(path, writable[i]), 0);
        assert_open_refused(&t, "writable by group or others");
        cr_assert_not_null(strstr(pb_last_error(), "planbok.conf"), "%s", pb_last_error());
    }
    /* Readable by others is fine: it holds no secret. */
    cr_assert_eq(chmod(path, 0644), 0);
    pb_test_engine_reopen(&t);
    pb_test_engine_remove(&t);
}

Test(engine_files, configuration_in_a_directory_others_may_write_is_refused)
{
    pb_test_engine t;
    closed_engine(&t);
    cr_assert_eq(chmod(t.home, 0770), 0);
    assert_open_refused(&t, "its directory");
    cr_assert_eq(chmod(t.home, 0700), 0);
    pb_test_engine_reopen(&t);
    pb_test_engine_remove(&t);
}

Test(engine_files, configuration_that_is_a_symbolic_link_is_refused)
{
    pb_test_engine t;
    closed_engine(&t);
    char path[600], real[700];
    conf_path(&t, path, sizeof path);
    snprintf(real, sizeof real, "%s/real.conf", t.home);
    cr_assert_eq(rename(path, real), 0);
    cr_assert_eq(symlink(real, path), 0);
    assert_open_refused(&t, "symbolic link");
    pb_test_engine_remove(&t);
}

Test(engine_files, configuration_of_another_user_is_refused_and_roots_is_accepted)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to chown a file to another user");
    pb_test_engine t;
    closed_engine(&t);
    char path[600];
    conf_path(&t, path, sizeof path);
    cr_assert_eq(chown(path, NOBODY, NOBODY), 0);
    assert_open_refused(&t, "belongs to uid 65534");
    cr_assert_eq(chown(path, 0, 0), 0);
    pb_test_engine_reopen(&t);
    pb_test_engine_remove(&t);
}

/* --- the token PIN file and the wallet database ---------------------------- */

static void token_pin_path(const pb_test_engine *t, char *out, size_t n)
{
    snprintf(out, n, "%s/softhsm/planbok-node1.pin", t->home);
}

Test(engine_files, token_pin_file_readable_by_others_or_symlinked_is_refused)
{
    pb_test_engine t;
    closed_engine(&t);
    char pin[600], real[700];
    token_pin_path(&t, pin, sizeof pin);
    cr_assert_eq(chmod(pin, 0644), 0);
    assert_open_refused(&t, "open to group or others");
    cr_assert_not_null(strstr(pb_last_error(), "token PIN file"), "%s", pb_last_error());
    cr_assert_eq(chmod(pin, 0600), 0);
    snprintf(real, sizeof real, "%s.real", pin);
    cr_assert_eq(rename(pin, real), 0);
    cr_assert_eq(symlink(real, pin), 0);
    assert_open_refused(&t, "symbolic link");
    cr_assert_eq(unlink(pin), 0);
    cr_assert_eq(rename(real, pin), 0);
    pb_test_engine_reopen(&t);
    pb_test_engine_remove(&t);
}

Test(engine_files, wallet_database_left_open_is_tightened_and_one_of_another_user_refused)
{
    pb_test_engine t;
    closed_engine(&t);
    char db[600];
    snprintf(db, sizeof db, "%s/node1/wallets.db", t.home);
    cr_assert_eq(chmod(db, 0644), 0);
    pb_test_engine_reopen(&t);
    struct stat sb;
    cr_assert_eq(stat(db, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600, "wallets.db left at %03o", sb.st_mode & 0777);
    pb_engine_close(t.e);
    t.e = NULL;
    /* The fix is told to node 1's audit trail (the library prints nothing). */
    char seg[700], log[1 << 16] = "";
    snprintf(seg, sizeof seg, "%s/audit/node1/audit-000001.jsonl", t.home);
    FILE *f = fopen(seg, "r");
    cr_assert_not_null(f, "no audit log at %s", seg);
    log[fread(log, 1, sizeof log - 1, f)] = '\0';
    fclose(f);
    cr_assert_not_null(strstr(log, "\"storage.tightened\""), "not audited: %s", log);
    if (geteuid() == 0) {
        cr_assert_eq(chown(db, NOBODY, NOBODY), 0);
        assert_open_refused(&t, "belongs to uid 65534");
        cr_assert_eq(chown(db, 0, 0), 0);
    }
    pb_test_engine_remove(&t);
}

/* --- the CLI's exit code ------------------------------------------------- */

static int run_cli(const char *home, const char *args, char *err, size_t err_cap)
{
    const char *bin = getenv("PB_BINARY_DIR");
    char errfile[600], cmd[2000];
    snprintf(errfile, sizeof errfile, "%s/cli.err", home);
    snprintf(cmd, sizeof cmd, "'%s/bin/planbok' --home '%s' %s >/dev/null 2>'%s'",
             bin && *bin ? bin : ".", home, args, errfile);
    int status = system(cmd);
    FILE *f = fopen(errfile, "r");
    size_t n = f ? fread(err, 1, err_cap - 1, f) : 0;
    if (f)
        fclose(f);
    err[n] = '\0';
    unlink(errfile);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(engine_files, cli_exits_5_with_the_reason_for_an_unsafe_config_or_pin_file)
{
    pb_test_engine t;
    closed_engine(&t);
    char path[600], err[2048], pin[600], args[1400];
    cr_assert_eq(run_cli(t.home, "wallet list", err, sizeof err), 0, "%s", err);
    conf_path(&t, path, sizeof path);
    cr_assert_eq(chmod(path, 0664), 0);
    cr_assert_eq(run_cli(t.home, "wallet list", err, sizeof err), 5, "%s", err);
    cr_assert_not_null(strstr(err, "writable by group or others"), "%s", err);
    cr_assert_eq(chmod(path, 0600), 0);
    snprintf(pin, sizeof pin, "%s/customer.pin", t.home);
    FILE *f = fopen(pin, "w");
    fputs("482913\n", f);
    fclose(f);
    cr_assert_eq(chmod(pin, 0644), 0);
    snprintf(args, sizeof args, "wallet create --mode customer --pin-file '%s' --device '%s'", pin,
             t.device);
    cr_assert_eq(run_cli(t.home, args, err, sizeof err), 5, "%s", err);
    cr_assert_not_null(strstr(err, "open to group or others"), "%s", err);
    cr_assert_null(strstr(err, "482913"), "the PIN leaked: %s", err);
    pb_test_engine_remove(&t);
}
