/* `planbok backup` replaces its output atomically: a backup killed
 * (SIGKILL) half-way through writing, or after writing but before the
 * rename, leaves the previous backup byte for byte, and that backup still
 * restores; a full disk is reported as "storage full" and also leaves the
 * previous backup whole. Real tokens and a real RSA recovery key. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/custody_fixture.h"
#include "support/engine_fixture.h"
#include "support/mpc_runner.h"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_gt(n, 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Backs up node 1 in a child that dies at `point`; the engine is closed in
 * the parent first (PKCS#11 is initialized after fork, never before). */
static void backup_killed_at(pb_test_engine *t, const char *point, const char *pub,
                             const char *file)
{
    pb_engine_close(t->e);
    t->e = NULL;
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        setenv("PB_FAULT_POINT", point, 1);
        pb_engine *e = NULL;
        size_t records = 0;
        if (pb_engine_open(t->home, &e) != PB_OK)
            _exit(3);
        pb_status st = pb_engine_backup(e, 1, pub, file, &records);
        _exit(st == PB_OK ? 0 : 4); /* reached only if the point was never hit */
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "the backup was not killed at %s (status 0x%x)", point, status);
    pb_test_engine_reopen(t);
}

static void sign_ok(pb_test_engine *t, const char *id)
{
    uint8_t digest[32] = {0x3c};
    pb_signature_result res;
    cr_assert_eq(pb_engine_sign(t->e, id, digest, NULL, NULL, &res), PB_OK, "%s", pb_last_error());
    mpc_check_signature(res.public_key, digest, res.sig, res.recovery_id);
}

static void killed_backup_keeps_the_previous_one(const char *point)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    char pub[400], priv[400], file[400];
    cx_rsa_key_paths(3072, 0, t.home, pub, priv, sizeof pub);
    snprintf(file, sizeof file, "%s/node1.backup", t.home);
    pb_wallet_info a, b;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    size_t records = 0, old_len, now_len;
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &a, code), PB_OK);
    cr_assert_eq(pb_engine_backup(t.e, 1, pub, file, &records), PB_OK, "%s", pb_last_error());
    cr_assert_eq(records, 1);
    uint8_t *old = slurp(file, &old_len);
    /* A second wallet makes the next backup differ from the first. */
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &b, code), PB_OK);

    backup_killed_at(&t, point, pub, file);
    uint8_t *now = slurp(file, &now_len);
    cr_assert(now_len == old_len && memcmp(now, old, old_len) == 0,
              "the previous backup changed when a backup died at %s", point);
    struct stat sb;
    cr_assert_eq(stat(file, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600);
    /* And it still restores: one wallet's record, and that wallet signs. */
    cr_assert_eq(pb_engine_restore(t.e, 1, priv, file, &records), PB_OK, "%s", pb_last_error());
    cr_assert_eq(records, 1, "the surviving backup is the first one");
    sign_ok(&t, a.id);
    /* A backup that is not interrupted replaces it with both wallets. */
    cr_assert_eq(pb_engine_backup(t.e, 1, pub, file, &records), PB_OK, "%s", pb_last_error());
    cr_assert_eq(records, 2);
    free(old);
    free(now);
    pb_test_engine_remove(&t);
}

Test(engine_backup_atomic, backup_killed_with_half_the_temporary_file_written_keeps_the_old_one)
{
    killed_backup_keeps_the_previous_one("backup.mid_temp");
}

Test(engine_backup_atomic, backup_killed_before_the_rename_keeps_the_old_one)
{
    killed_backup_keeps_the_previous_one("backup.after_temp");
}

/* --- a full disk ------------------------------------------------------------ */

static char full_mount[300];

static void unmount_full(void)
{
    if (full_mount[0])
        (void)umount2(full_mount, MNT_DETACH);
}

Test(engine_backup_atomic, backup_onto_a_full_disk_says_storage_full_and_keeps_the_old_one,
     .fini = unmount_full)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    snprintf(full_mount, sizeof full_mount, "%s/small", t.home);
    cr_assert_eq(mkdir(full_mount, 0700), 0);
    if (mount("tmpfs", full_mount, "tmpfs", 0, "size=64k,mode=0700") != 0) {
        full_mount[0] = '\0';
        pb_test_engine_remove(&t);
        cr_skip_test("cannot mount a small tmpfs here (%s)", strerror(errno));
    }
    char pub[400], priv[400], file[400], filler[400];
    cx_rsa_key_paths(3072, 0, t.home, pub, priv, sizeof pub);
    snprintf(file, sizeof file, "%s/node1.backup", full_mount);
    snprintf(filler, sizeof filler, "%s/filler", full_mount);
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    size_t records = 0, old_len, now_len;
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &w, code), PB_OK);
    cr_assert_eq(pb_engine_backup(t.e, 1, pub, file, &records), PB_OK, "%s", pb_last_error());
    uint8_t *old = slurp(file, &old_len);
    /* Fill what is left. */
    FILE *f = fopen(filler, "wb");
    cr_assert_not_null(f);
    static const uint8_t block[512];
    while (fwrite(block, 1, sizeof block, f) == sizeof block && fflush(f) == 0)
        ;
    fclose(f);
    pb_status st = pb_engine_backup(t.e, 1, pub, file, &records);
    cr_assert_eq(st, PB_ERR_STORAGE, "got %s: %s", pb_status_name(st), pb_last_error());
    cr_assert_not_null(strstr(pb_last_error(), "storage full"), "%s", pb_last_error());
    uint8_t *now = slurp(file, &now_len);
    cr_assert(now_len == old_len && memcmp(now, old, old_len) == 0,
              "the previous backup changed on a full disk");
    free(old);
    free(now);
    unmount_full();
    full_mount[0] = '\0';
    pb_test_engine_remove(&t);
}
