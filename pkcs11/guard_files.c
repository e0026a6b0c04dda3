/* guard_files.c - whole-file reads and atomic replacement (see guard_files.h). */
#include "pkcs11/guard_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

void pb_guard_file_free(uint8_t *buf, size_t len)
{
    if (!buf)
        return;
    OPENSSL_cleanse(buf, len);
    free(buf);
}

int pb_guard_file_read(const char *path, size_t max, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    struct stat sb;
    int bad = fstat(fd, &sb) != 0 ? errno : (!S_ISREG(sb.st_mode) ? EINVAL : 0);
    if (bad) {
        int saved = bad;
        close(fd);
        errno = saved;
        return -1;
    }
    if ((uint64_t)sb.st_size > max) {
        close(fd);
        errno = EFBIG;
        return -1;
    }
    /* Read to the end rather than trusting st_size: the file may change. */
    size_t n = 0;
    uint8_t *p = malloc(max + 1);
    if (!p) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    while (n <= max) {
        ssize_t r = read(fd, p + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int saved = errno;
            pb_guard_file_free(p, n);
            close(fd);
            errno = saved;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max) {
        pb_guard_file_free(p, n);
        close(fd);
        errno = EFBIG;
        return -1;
    }
    close(fd);
    *buf = p;
    *len = n;
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int pb_guard_file_replace(const char *dir, const char *name, const uint8_t *data, size_t len)
{
    char path[1200], tmp[1300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.pb-tmp", path);
    /* A temporary file left by a process killed here is simply overwritten:
     * callers hold the guard's exclusive lock, so no one else writes it. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    if (fchmod(fd, 0600) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        unlink(tmp);
        errno = saved;
        return -1;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int rc = fsync(dfd);
    close(dfd);
    return rc;
}
