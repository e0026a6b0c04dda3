/* file_write.c - atomic, durable file replacement (see file_write.h). */
#include "common/file_write.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fail.h"
#include "common/fault.h"

pb_status pb_file_fail(int err, const char *action, const char *path)
{
    if (err == ENOSPC || err == EDQUOT)
        return pb_fail(PB_ERR_STORAGE, "cannot %s '%s': storage full (%s)", action, path,
                       strerror(err));
    return pb_fail(PB_ERR_STORAGE, "cannot %s '%s': %s", action, path, strerror(err));
}

pb_status pb_file_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return pb_file_fail(errno, "open directory", dir);
    if (fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        return pb_file_fail(saved, "fsync directory", dir);
    }
    close(fd);
    return PB_OK;
}

/* Returns 0 or an errno value. */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        if (w == 0)
            return EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void fault_at(const char *fault, const char *step)
{
    if (!fault)
        return;
    char name[128];
    snprintf(name, sizeof name, "%s.%s", fault, step);
    pb_fault_point(name);
}

pb_status pb_file_write_atomic(const char *path, const void *data, size_t len, const char *fault)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp ||
        snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return pb_fail(PB_ERR_ARGUMENT, "cannot write '%s': path too long", path);
    /* mkostemp: O_CREAT | O_EXCL, mode 0600 regardless of the umask. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return pb_file_fail(errno, "create a temporary file for", path);
    const unsigned char *p = data;
    size_t half = len / 2;
    int err = write_all(fd, p, half);
    if (!err)
        fault_at(fault, "mid_temp");
    if (!err)
        err = write_all(fd, p + half, len - half);
    if (!err && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err)
        fault_at(fault, "after_temp");
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err) {
        unlink(tmp);
        return pb_file_fail(err, "write", path);
    }
    return pb_file_fsync_dir(dirname(dir));
}
