/* Customer custody: the device directory (id and Argon2id salt) — creation
 * with private permissions, reloading, atomic salt changes including the
 * two-phase change a crash-safe PIN reset uses, and refusal of directories
 * or salt files that other users can reach. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "custody/pin.h"
#include "support/custody_fixture.h"

static void sub(const char *dir, const char *name, char *out, size_t cap)
{
    cr_assert_lt((size_t)snprintf(out, cap, "%s/%s", dir, name), cap);
}

static unsigned mode_of(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s", path);
    return (unsigned)(st.st_mode & 0777);
}

static void read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", s[i]) || s[i] == '\0')
            return 0;
    return 1;
}

/* Only the files the device is meant to hold, no temporaries left over. */
static void assert_only_files(const char *dir, const char *const *names, size_t count)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".lock"))
            continue;
        int known = 0;
        for (size_t i = 0; i < count; i++)
            known |= strcmp(e->d_name, names[i]) == 0;
        cr_assert(known, "unexpected file %s in the device directory", e->d_name);
    }
    closedir(d);
}

Test(custody_device, create_makes_a_private_directory_with_id_and_salt_files)
{
    char base[256], dir[300], path[400], text[100];
    cx_tmpdir(base, sizeof base);
    sub(base, "device", dir, sizeof dir);
    pb_device dev;
    cr_assert_eq(pb_device_open(dir, 1, &dev), PB_OK, "%s", pb_last_error());
    cr_assert_eq(mode_of(dir), 0700);
    cr_assert_eq(strlen(dev.device_id), 32);
    cr_assert(is_lower_hex(dev.device_id, 32));

    sub(dir, "device.id", path, sizeof path);
    cr_assert_eq(mode_of(path), 0600);
    read_text(path, text, sizeof text);
    cr_assert_eq(strlen(text), 33);
    cr_assert_eq(memcmp(text, dev.device_id, 32), 0);
    cr_assert_eq(text[32], '\n');

    sub(dir, "salt", path, sizeof path);
    cr_assert_eq(mode_of(path), 0600);
    read_text(path, text, sizeof text);
    cr_assert_eq(strlen(text), 33);
    for (size_t i = 0; i < 16; i++) {
        unsigned byte;
        cr_assert_eq(sscanf(text + 2 * i, "%2x", &byte), 1);
        cr_assert_eq(byte, dev.salt[i], "salt byte %zu", i);
    }
    const char *names[] = {"device.id", "salt"};
    assert_only_files(dir, names, 2);
    cx_rmtree(base);
}

Test(custody_device, reopening_loads_the_same_device_and_two_devices_differ)
{
    char base[256], d1[300], d2[300];
    cx_tmpdir(base, sizeof base);
    sub(base, "one", d1, sizeof d1);
    sub(base, "two", d2, sizeof d2);
    pb_device a, again, b;
    cr_assert_eq(pb_device_open(d1, 1, &a), PB_OK);
    cr_assert_eq(pb_device_open(d1, 0, &again), PB_OK, "%s", pb_last_error());
    cr_assert_str_eq(again.device_id, a.device_id);
    cr_assert_eq(memcmp(again.salt, a.salt, 16), 0);
    cr_assert_eq(pb_device_open(d1, 1, &again), PB_OK, "create on an existing device loads it");
    cr_assert_eq(memcmp(again.salt, a.salt, 16), 0);
    cr_assert_eq(pb_device_open(d2, 1, &b), PB_OK);
    cr_assert_str_neq(a.device_id, b.device_id);
    cr_assert_neq(memcmp(a.salt, b.salt, 16), 0);
    cx_rmtree(base);
}

Test(custody_device, opening_without_create_finds_nothing_in_an_empty_or_missing_directory)
{
    char base[256], dir[300];
    cx_tmpdir(base, sizeof base);
    pb_device dev;
    cr_assert_eq(pb_device_open(base, 0, &dev), PB_ERR_NOT_FOUND, "empty directory");
    sub(base, "absent", dir, sizeof dir);
    cr_assert_eq(pb_device_open(dir, 0, &dev), PB_ERR_NOT_FOUND, "missing directory");
    cr_assert_eq(access(dir, F_OK), -1, "open without create makes nothing");
    cx_rmtree(base);
}

Test(custody_device, new_salt_replaces_the_salt_keeps_the_id_and_persists)
{
    char base[256];
    cx_tmpdir(base, sizeof base);
    pb_device dev, before, reread;
    cr_assert_eq(pb_device_open(base, 1, &dev), PB_OK);
    before = dev;
    cr_assert_eq(pb_device_new_salt(base, &dev), PB_OK, "%s", pb_last_error());
    cr_assert_neq(memcmp(dev.salt, before.salt, 16), 0);
    cr_assert_str_eq(dev.device_id, before.device_id);
    cr_assert_eq(pb_device_open(base, 0, &reread), PB_OK);
    cr_assert_eq(memcmp(reread.salt, dev.salt, 16), 0);
    const char *names[] = {"device.id", "salt"};
    assert_only_files(base, names, 2);
    cx_rmtree(base);
}

Test(custody_device, a_staged_salt_is_not_in_force_until_committed)
{
    char base[256];
    cx_tmpdir(base, sizeof base);
    pb_device dev, reread;
    uint8_t staged[16], found[16];
    cr_assert_eq(pb_device_open(base, 1, &dev), PB_OK);
    cr_assert_eq(pb_device_staged_salt(base, found), PB_ERR_NOT_FOUND);
    cr_assert_eq(pb_device_commit_salt(base, &dev), PB_ERR_NOT_FOUND, "nothing to commit");

    cr_assert_eq(pb_device_stage_salt(base, staged), PB_OK, "%s", pb_last_error());
    cr_assert_neq(memcmp(staged, dev.salt, 16), 0);
    /* As after a crash here: the old salt is still the salt. */
    cr_assert_eq(pb_device_open(base, 0, &reread), PB_OK);
    cr_assert_eq(memcmp(reread.salt, dev.salt, 16), 0);
    cr_assert_eq(pb_device_staged_salt(base, found), PB_OK);
    cr_assert_eq(memcmp(found, staged, 16), 0);

    cr_assert_eq(pb_device_commit_salt(base, &dev), PB_OK, "%s", pb_last_error());
    cr_assert_eq(memcmp(dev.salt, staged, 16), 0);
    cr_assert_eq(pb_device_open(base, 0, &reread), PB_OK);
    cr_assert_eq(memcmp(reread.salt, staged, 16), 0);
    cr_assert_eq(pb_device_staged_salt(base, found), PB_ERR_NOT_FOUND, "consumed by commit");

    cr_assert_eq(pb_device_stage_salt(base, staged), PB_OK);
    cr_assert_eq(pb_device_discard_staged_salt(base), PB_OK);
    cr_assert_eq(pb_device_staged_salt(base, found), PB_ERR_NOT_FOUND);
    cr_assert_eq(pb_device_open(base, 0, &reread), PB_OK);
    cr_assert_eq(memcmp(reread.salt, dev.salt, 16), 0, "discard leaves the salt alone");
    cr_assert_eq(pb_device_discard_staged_salt(base), PB_OK, "discarding nothing is fine");
    cx_rmtree(base);
}

Test(custody_device, directories_and_salt_files_open_to_other_users_are_refused)
{
    char base[256], path[400];
    cx_tmpdir(base, sizeof base);
    pb_device dev;
    cr_assert_eq(pb_device_open(base, 1, &dev), PB_OK);
    cr_assert_eq(chmod(base, 0755), 0);
    cr_assert_eq(pb_device_open(base, 0, &dev), PB_ERR_STORAGE);
    cr_assert_eq(pb_device_open(base, 1, &dev), PB_ERR_STORAGE,
                 "create does not loosen or silently fix an existing directory");
    cr_assert_eq(chmod(base, 0700), 0);
    sub(base, "salt", path, sizeof path);
    cr_assert_eq(chmod(path, 0640), 0);
    cr_assert_eq(pb_device_open(base, 0, &dev), PB_ERR_STORAGE);
    cr_assert_eq(chmod(path, 0600), 0);
    cr_assert_eq(pb_device_open(base, 0, &dev), PB_OK);
    cx_rmtree(base);
}

Test(custody_device, malformed_or_incomplete_devices_are_integrity_errors)
{
    char base[256], path[400];
    cx_tmpdir(base, sizeof base);
    pb_device dev;
    cr_assert_eq(pb_device_open(base, 1, &dev), PB_OK);
    const char *bad[] = {"", "00112233", "00112233445566778899aabbccddeeffaa\n",
                         "00112233445566778899aabbccddeefg\n",
                         "00112233445566778899aabbccddeeff\n\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cx_write(base, "salt", bad[i], strlen(bad[i]), path, sizeof path);
        cr_assert_eq(pb_device_open(base, 0, &dev), PB_ERR_INTEGRITY, "salt case %zu", i);
    }
    cx_write(base, "salt", "00112233445566778899AABBCCDDEEFF", 32, path, sizeof path);
    cr_assert_eq(pb_device_open(base, 0, &dev), PB_OK, "uppercase hex and no newline are fine");
    cr_assert_eq(dev.salt[15], 0xff);
    cr_assert_eq(unlink(path), 0);
    cr_assert_eq(pb_device_open(base, 0, &dev), PB_ERR_INTEGRITY, "an id without a salt");
    cr_assert_eq(pb_device_open(base, 1, &dev), PB_ERR_INTEGRITY,
                 "create never replaces the salt of an existing device");
    cx_rmtree(base);
}

Test(custody_device, a_salt_left_without_an_id_by_a_crash_is_simply_created_again)
{
    char base[256], path[400];
    cx_tmpdir(base, sizeof base);
    cx_write(base, "salt", "00112233445566778899aabbccddeeff\n", 33, path, sizeof path);
    pb_device dev;
    cr_assert_eq(pb_device_open(base, 0, &dev), PB_ERR_NOT_FOUND);
    cr_assert_eq(pb_device_open(base, 1, &dev), PB_OK, "%s", pb_last_error());
    const uint8_t leftover[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    cr_assert_neq(memcmp(dev.salt, leftover, 16), 0, "a fresh salt, not the leftover");
    pb_device again;
    cr_assert_eq(pb_device_open(base, 0, &again), PB_OK);
    cr_assert_eq(memcmp(again.salt, dev.salt, 16), 0);
    cx_rmtree(base);
}
