/* dir_store.c - sealed blobs as files in a store directory, for tokens that
 * refuse data objects or hold few objects.
 *
 * One file per blob, "<wallet>.p<role>.<kind>.blob", written atomically: a
 * temporary file is written and fsync'd, renamed over the target, and the
 * directory fsync'd, so a crash leaves either the old or the new blob. The
 * files hold sealed bytes only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fail.h"
#include "common/file_write.h"
#include "pkcs11/keystore_internal.h"

static const char blob_suffix[] = ".blob";

static void blob_path(const pb_keystore *ks, const pb_blob_ref *ref, char *out, size_t n)
{
    snprintf(out, n, "%s/%s.p%u.%s%s", ks->cfg.store_dir, ref->wallet_id, ref->role,
             pb_blob_kind_name(ref->kind), blob_suffix);
}

pb_status pb_dir_blob_put(pb_keystore *ks, const pb_blob_ref *ref, const uint8_t *blob,
                          size_t len)
{
    char path[1024];
    blob_path(ks, ref, path, sizeof path);
    if (mkdir(ks->cfg.store_dir, 0700) != 0 && errno != EEXIST)
        return pb_fail(PB_ERR_STORAGE, "cannot create store directory '%s': %s",
                       ks->cfg.store_dir, strerror(errno));
    /* The temporary name ("<blob>.tmp-XXXXXX") does not end in ".blob", so
     * a leftover from a crash is never counted or read as a blob. */
    return pb_file_write_atomic(path, blob, len, NULL);
}

pb_status pb_dir_blob_get(pb_keystore *ks, const pb_blob_ref *ref, uint8_t **blob, size_t *len)
{
    char path[1024];
    blob_path(ks, ref, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return pb_fail(PB_ERR_NOT_FOUND, "no sealed blob at '%s'", path);
    if (fd < 0)
        return pb_fail(PB_ERR_STORAGE, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size < 0 ||
        (uint64_t)sb.st_size > 2ull * PB_SEALED_PLAINTEXT_MAX) {
        close(fd);
        return pb_fail(PB_ERR_STORAGE, "'%s' is unreadable or too large", path);
    }
    size_t size = (size_t)sb.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return pb_fail(PB_ERR_NOMEM, "out of memory reading '%s'", path);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        free(buf);
        return pb_fail(PB_ERR_STORAGE, "short read of '%s'", path);
    }
    *blob = buf;
    *len = size;
    return PB_OK;
}

pb_status pb_dir_blob_delete(pb_keystore *ks, const pb_blob_ref *ref)
{
    char path[1024];
    blob_path(ks, ref, path, sizeof path);
    if (unlink(path) != 0) {
        if (errno == ENOENT)
            return pb_fail(PB_ERR_NOT_FOUND, "no sealed blob at '%s'", path);
        return pb_fail(PB_ERR_STORAGE, "cannot delete '%s': %s", path, strerror(errno));
    }
    return pb_file_fsync_dir(ks->cfg.store_dir);
}

size_t pb_dir_blob_count(pb_keystore *ks)
{
    DIR *d = opendir(ks->cfg.store_dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    size_t suffix_len = sizeof blob_suffix - 1;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > suffix_len && strcmp(e->d_name + len - suffix_len, blob_suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}
