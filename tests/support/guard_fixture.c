/* guard_fixture.c - a token worth losing, and the check that it was not
 * (see guard_fixture.h). */
#include "support/guard_fixture.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/secret.h"
#include "pkcs11/keystore.h"

static void blob_ref(int i, char id[32], pb_blob_ref *ref)
{
    snprintf(id, 32, "guarded-%d", i);
    ref->wallet_id = id;
    ref->role = 2;
    ref->kind = PB_BLOB_SHARE;
}

void pb_guard_fx_make(pb_test_token *t)
{
    pb_test_token_make(t, PB_PLACEMENT_TOKEN);
    pb_keystore *ks = pb_test_token_open(t);
    for (int i = 0; i < PB_GUARD_FX_BLOBS; i++) {
        char id[32];
        pb_blob_ref ref;
        blob_ref(i, id, &ref);
        uint32_t value = 0x5eed0000u + (uint32_t)i;
        cr_assert_eq(pb_keystore_put(ks, &ref, (uint8_t *)&value, sizeof value), PB_OK, "%s",
                     pb_last_error());
    }
    pb_keystore_close(ks);
}

void pb_guard_fx_token_file(const pb_test_token *t, char *out, size_t n)
{
    /* Found without the guard's help: the directory whose token.object
     * carries "pb-test" in its blank-padded label field. Call it while the
     * file is whole. */
    static const char padded[] = "pb-test                         ";
    char tokens[400], path[700];
    snprintf(tokens, sizeof tokens, "%s/tokens", t->dir);
    DIR *d = opendir(tokens);
    cr_assert_not_null(d);
    struct dirent *e;
    out[0] = '\0';
    while ((e = readdir(d)) != NULL && out[0] == '\0') {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s/token.object", tokens, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        char buf[4096];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        if (memmem(buf, len, padded, sizeof padded - 1))
            snprintf(out, n, "%s", path);
    }
    closedir(d);
    cr_assert(out[0] != '\0', "no token.object is labelled pb-test");
}

long pb_guard_fx_file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

void pb_guard_fx_truncate(const char *path, long len)
{
    cr_assert_eq(truncate(path, len), 0, "truncate %s", path);
}

int pb_guard_fx_check(pb_test_token *t, char *why, size_t n)
{
    pb_keystore *ks = NULL;
    pb_status st = pb_keystore_open(&t->cfg, 0, &ks);
    if (st != PB_OK) {
        snprintf(why, n, "open: %s", pb_last_error());
        return -1;
    }
    int rc = 0;
    pb_keystore_status s;
    if (pb_keystore_status_get(ks, &s) != PB_OK || !s.kek_present || !s.audit_key_present) {
        snprintf(why, n, "KEK or audit key missing");
        rc = -1;
    } else if (s.sealed_blobs != PB_GUARD_FX_BLOBS) {
        snprintf(why, n, "%lu sealed blobs, expected %d", s.sealed_blobs, PB_GUARD_FX_BLOBS);
        rc = -1;
    }
    for (int i = 0; i < PB_GUARD_FX_BLOBS && rc == 0; i++) {
        char id[32];
        pb_blob_ref ref;
        blob_ref(i, id, &ref);
        uint8_t *plain = NULL;
        size_t len = 0;
        if (pb_keystore_get(ks, &ref, &plain, &len) != PB_OK) {
            snprintf(why, n, "blob %d: %s", i, pb_last_error());
            rc = -1;
            break;
        }
        uint32_t value = 0;
        if (len == sizeof value)
            memcpy(&value, plain, sizeof value);
        pb_secret_free(plain, len);
        if (value != 0x5eed0000u + (uint32_t)i) {
            snprintf(why, n, "blob %d unsealed to another value", i);
            rc = -1;
        }
    }
    pb_keystore_close(ks);
    return rc;
}

void pb_guard_fx_startup_child(pb_test_token *t, int ready_fd)
{
    pb_keystore *ks = NULL;
    if (pb_keystore_open(&t->cfg, 0, &ks) != PB_OK)
        _exit(3);
    char one = 1;
    int ok = write(ready_fd, &one, 1) == 1;
    pb_keystore_close(ks);
    _exit(ok ? 0 : 4);
}
