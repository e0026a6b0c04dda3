/* Secret files (PIN, new PIN, Organization Secret, recovery code) are read
 * only when they are private: a regular file, not a symbolic link, owned by
 * the user running planbok, with no access for group or others. Each refusal
 * is PB_ERR_STORAGE (exit code 5) with a message that names the file and the
 * fix and never its content. Tests run as root; "another user" is nobody
 * (uid 65534). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/secret.h"
#include "custody/backup.h"
#include "custody/org_secret.h"
#include "custody/pin.h"
#include "custody/recovery_code.h"
#include "support/custody_fixture.h"

#define NOBODY 65534

typedef pb_status (*reader_fn)(const char *path);

static pb_status read_pin(const char *path)
{
    uint8_t *pin = NULL;
    size_t n = 0;
    pb_status st = pb_pin_read_file(path, &pin, &n);
    pb_secret_free(pin, n);
    return st;
}

static pb_status read_org(const char *path)
{
    uint8_t s[PB_ORG_SECRET_BYTES];
    return pb_org_secret_read_file(path, s);
}

static pb_status read_code(const char *path)
{
    char code[PB_RECOVERY_CODE_MAX];
    return pb_recovery_code_read_file(path, code);
}

typedef struct secret_case {
    const char *name;
    reader_fn read;
    char content[128];
} secret_case;

static void cases(secret_case out[3])
{
    memset(out, 0, 3 * sizeof *out);
    out[0] = (secret_case){"PIN", read_pin, "482913\n"};
    out[1].name = "organization secret";
    out[1].read = read_org;
    memset(out[1].content, 'a', PB_ORG_SECRET_HEX_CHARS);
    out[1].content[PB_ORG_SECRET_HEX_CHARS] = '\n';
    out[2].name = "recovery code";
    out[2].read = read_code;
    char code[PB_RECOVERY_CODE_MAX];
    cr_assert_eq(pb_recovery_code_new(code), PB_OK);
    snprintf(out[2].content, sizeof out[2].content, "%s\n", code);
}

/* Writes the case's file 0600 and asserts it is accepted, so that each
 * refusal below is caused by the one property the test changes. */
static void write_good(const char *dir, const secret_case *c, char *path, size_t cap)
{
    char old[512];
    snprintf(old, sizeof old, "%s/secret", dir);
    unlink(old); /* a fresh file: owner and mode from this test alone */
    cx_write(dir, "secret", c->content, strlen(c->content), path, cap);
    cr_assert_eq(c->read(path), PB_OK, "%s file 0600: %s", c->name, pb_last_error());
}

static void assert_refused(const secret_case *c, const char *path, const char *why)
{
    pb_status st = c->read(path);
    cr_assert_eq(st, PB_ERR_STORAGE, "%s file (%s): got %s: %s", c->name, why,
                 pb_status_name(st), pb_last_error());
    cr_assert_not_null(strstr(pb_last_error(), path), "%s", pb_last_error());
    cr_assert_null(strstr(pb_last_error(), "4829"), "the content leaked: %s", pb_last_error());
    cr_assert_null(strstr(pb_last_error(), "aaaa"), "the content leaked: %s", pb_last_error());
}

Test(custody_secret_files, group_or_world_readable_secret_files_are_refused)
{
    char dir[256], path[512];
    cx_tmpdir(dir, sizeof dir);
    secret_case c[3];
    cases(c);
    static const mode_t open_modes[] = {0644, 0640, 0604, 0620, 0602, 0610, 0601};
    for (int i = 0; i < 3; i++) {
        write_good(dir, &c[i], path, sizeof path);
        for (size_t m = 0; m < sizeof open_modes / sizeof open_modes[0]; m++) {
            cr_assert_eq(chmod(path, open_modes[m]), 0);
            assert_refused(&c[i], path, "open mode");
            cr_assert_not_null(strstr(pb_last_error(), "chmod 600"), "%s", pb_last_error());
        }
        cr_assert_eq(chmod(path, 0400), 0);
        cr_assert_eq(c[i].read(path), PB_OK, "%s file 0400: %s", c[i].name, pb_last_error());
    }
    cx_rmtree(dir);
}

Test(custody_secret_files, symlinked_secret_files_are_refused)
{
    char dir[256], path[512], link_path[600];
    cx_tmpdir(dir, sizeof dir);
    secret_case c[3];
    cases(c);
    snprintf(link_path, sizeof link_path, "%s/link", dir);
    for (int i = 0; i < 3; i++) {
        write_good(dir, &c[i], path, sizeof path);
        unlink(link_path);
        cr_assert_eq(symlink(path, link_path), 0);
        assert_refused(&c[i], link_path, "symbolic link");
        cr_assert_not_null(strstr(pb_last_error(), "symbolic link"), "%s", pb_last_error());
    }
    cx_rmtree(dir);
}

Test(custody_secret_files, secret_files_of_another_user_are_refused)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to chown a file to another user");
    char dir[256], path[512];
    cx_tmpdir(dir, sizeof dir);
    secret_case c[3];
    cases(c);
    for (int i = 0; i < 3; i++) {
        write_good(dir, &c[i], path, sizeof path);
        cr_assert_eq(chown(path, NOBODY, NOBODY), 0);
        assert_refused(&c[i], path, "owned by nobody");
        cr_assert_not_null(strstr(pb_last_error(), "belongs to uid 65534"), "%s",
                           pb_last_error());
    }
    cx_rmtree(dir);
}

Test(custody_secret_files, a_directory_or_fifo_in_place_of_a_secret_file_is_refused)
{
    char dir[256], sub[400], fifo[400];
    cx_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    secret_case c[3];
    cases(c);
    for (int i = 0; i < 3; i++) {
        assert_refused(&c[i], sub, "directory");
        assert_refused(&c[i], fifo, "fifo (the open must not hang)");
    }
    cx_rmtree(dir);
}

Test(custody_secret_files, a_missing_secret_file_keeps_its_argument_error)
{
    char dir[256], path[512];
    cx_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/none", dir);
    secret_case c[3];
    cases(c);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(c[i].read(path), PB_ERR_ARGUMENT, "%s", c[i].name);
    cx_rmtree(dir);
}

/* The recovery private key opens every backup of a node: the same rules. */
Test(custody_secret_files, a_recovery_private_key_others_may_read_or_a_symlink_is_refused)
{
    char dir[256], pub[400], priv[400], copy[600], link_path[600];
    cx_tmpdir(dir, sizeof dir);
    cx_rsa_key_paths(3072, 0, dir, pub, priv, sizeof pub);
    uint8_t *blob = NULL, *back = NULL;
    size_t blob_len = 0, back_len = 0;
    cr_assert_eq(pb_backup_seal(pub, (const uint8_t *)"data", 4, &blob, &blob_len), PB_OK, "%s",
                 pb_last_error());
    /* A private copy in the test's directory, so the shared cache is untouched. */
    size_t pem_len = 0;
    FILE *f = fopen(priv, "rb");
    cr_assert_not_null(f);
    char pem[8192];
    pem_len = fread(pem, 1, sizeof pem, f);
    fclose(f);
    cx_write(dir, "recovery.pem", pem, pem_len, copy, sizeof copy);
    cr_assert_eq(pb_backup_open(copy, blob, blob_len, &back, &back_len), PB_OK, "%s",
                 pb_last_error());
    pb_secret_free(back, back_len);
    cr_assert_eq(chmod(copy, 0640), 0);
    cr_assert_eq(pb_backup_open(copy, blob, blob_len, &back, &back_len), PB_ERR_STORAGE);
    cr_assert_not_null(strstr(pb_last_error(), "open to group or others"), "%s",
                       pb_last_error());
    cr_assert_null(back);
    cr_assert_eq(chmod(copy, 0600), 0);
    snprintf(link_path, sizeof link_path, "%s/link.pem", dir);
    cr_assert_eq(symlink(copy, link_path), 0);
    cr_assert_eq(pb_backup_open(link_path, blob, blob_len, &back, &back_len), PB_ERR_STORAGE);
    cr_assert_not_null(strstr(pb_last_error(), "symbolic link"), "%s", pb_last_error());
    pb_bytes_free(blob, blob_len);
    cx_rmtree(dir);
}
