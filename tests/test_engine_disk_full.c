/* Disk full (issue 9, item 2): an installation on a small tmpfs that runs
 * out of space refuses create, sign, refresh, PIN change, unlock and backup
 * with a message that says "storage full", and loses nothing: once space is
 * freed every wallet signs with its old credentials and both audit logs
 * verify. Needs root (mount); CI runs as root. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine_internal.h"
#include "support/audit_fixture.h"
#include "support/custody_fixture.h"
#include "support/engine_fixture.h"
#include "support/mpc_runner.h"
#include "support/support.h"

static char mountpoint[256];

static void mount_small_fs(void)
{
    pb_test_tmpdir(mountpoint, sizeof mountpoint);
    cr_assert_eq(mount("tmpfs", mountpoint, "tmpfs", 0, "size=48m,mode=0700"), 0,
                 "cannot mount a tmpfs at %s (%s): this suite needs root", mountpoint,
                 strerror(errno));
    /* pb_test_engine_make puts the data directory under TMPDIR. */
    setenv("TMPDIR", mountpoint, 1);
}

static void unmount_small_fs(void)
{
    umount2(mountpoint, MNT_DETACH);
    rmdir(mountpoint);
}

/* Writes until the filesystem is full; returns the filler's path. */
static void fill(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0);
    static char chunk[1 << 16];
    memset(chunk, 0xa5, sizeof chunk);
    size_t size = sizeof chunk;
    while (size > 0) {
        ssize_t w = write(fd, chunk, size);
        if (w < 0 && errno == ENOSPC)
            size /= 2; /* down to the last bytes */
        else
            cr_assert_gt(w, 0, "filling: %s", strerror(errno));
    }
    fsync(fd);
    close(fd);
}

static uint8_t *slurp_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    uint8_t *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void assert_full(pb_status st, const char *what)
{
    cr_assert_eq(st, PB_ERR_STORAGE, "%s on a full disk returned %s: %s", what,
                 pb_status_name(st), pb_last_error());
    cr_assert(strstr(pb_last_error(), "storage full"), "%s: the message does not say so: %s",
              what, pb_last_error());
}

static int cli_audit_verify(const char *home, int node)
{
    const char *bin = getenv("PB_BINARY_DIR");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s/bin/planbok' --home '%s' audit verify --node %d >/dev/null 2>&1",
             bin && *bin ? bin : ".", home, node);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(engine_disk_full, nothing_is_lost_and_the_message_says_storage_full, .init = mount_small_fs,
     .fini = unmount_small_fs)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    static const uint8_t pin[] = "135791", new_pin[] = "246802";
    pb_secrets s = {.pin = pin, .pin_len = 6, .device_dir = t.device};
    pb_wallet_info std_w, cust_w, created;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &std_w, code), PB_OK, "%s",
                 pb_last_error());
    cr_assert_eq(pb_engine_wallet_create(t.e, "customer", NULL, &s, &cust_w, code), PB_OK, "%s",
                 pb_last_error());
    char pub[400], priv[400], filler[400], backup[400];
    (void)priv;
    cx_rsa_key_paths(3072, 0, t.home, pub, priv, sizeof pub);
    snprintf(backup, sizeof backup, "%s/node2.backup", t.home);
    size_t records = 0;
    cr_assert_eq(pb_engine_backup(t.e, 2, pub, backup, &records), PB_OK, "%s", pb_last_error());
    size_t backup_len = 0;
    uint8_t *backup_before = slurp_file(backup, &backup_len);

    snprintf(filler, sizeof filler, "%s/filler", mountpoint);
    fill(filler);
    uint8_t digest[32] = {0x42};
    pb_signature_result res;
    assert_full(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &created, code), "create");
    assert_full(pb_engine_sign(t.e, std_w.id, digest, NULL, NULL, &res), "sign");
    assert_full(pb_engine_sign(t.e, cust_w.id, digest, NULL, &s, &res), "customer sign");
    assert_full(pb_engine_refresh(t.e, std_w.id, NULL), "refresh");
    assert_full(pb_engine_pin_change(t.e, cust_w.id, t.device, pin, 6, new_pin, 6), "PIN change");
    assert_full(pb_engine_backup(t.e, 2, pub, backup, &records), "backup");

    /* Space back: the same wallets, the same credentials, the old backup. */
    cr_assert_eq(unlink(filler), 0);
    pb_test_engine_reopen(&t);
    pb_wallet_info *all = NULL;
    size_t n = 0;
    cr_assert_eq(pb_engine_wallet_list(t.e, &all, &n), PB_OK, "%s", pb_last_error());
    cr_assert_eq(n, 2, "%zu wallets after the disk was full", n);
    cr_assert_str_eq(all[0].public_key, std_w.public_key);
    cr_assert_str_eq(all[1].public_key, cust_w.public_key);
    free(all);
    pb_test_assert_signs(&t, std_w.id, NULL);
    pb_test_assert_signs(&t, cust_w.id, &s);
    cr_assert_eq(pb_engine_refresh(t.e, std_w.id, NULL), PB_OK, "%s", pb_last_error());
    pb_test_assert_signs(&t, std_w.id, NULL);
    pb_engine_close(t.e);
    t.e = NULL;
    cr_assert_eq(cli_audit_verify(t.home, 1), 0, "node 1's audit log does not verify");
    cr_assert_eq(cli_audit_verify(t.home, 2), 0, "node 2's audit log does not verify");
    size_t after_len = 0;
    uint8_t *backup_after = slurp_file(backup, &after_len);
    cr_assert(after_len == backup_len && memcmp(backup_before, backup_after, after_len) == 0,
              "the backup taken before the disk filled up was changed");
    free(backup_before);
    free(backup_after);
    pb_test_engine_remove(&t);
}
