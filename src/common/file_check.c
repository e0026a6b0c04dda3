/* file_check.c - checked opening of secret and configuration files (see
 * file_check.h). */
#include "common/file_check.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fail.h"

/* Who may own a file of this kind: the effective user, and root for the
 * configuration (a root-owned, root-writable file is how /etc works). */
static int owner_ok(pb_file_kind kind, uid_t uid)
{
    return uid == geteuid() || (kind == PB_FILE_CONFIG && uid == 0);
}

static pb_status refuse_owner(const char *what, const char *path, uid_t uid)
{
    return pb_fail(PB_ERR_STORAGE,
                   "%s %s belongs to uid %u, not to the user running planbok (uid %u); "
                   "refusing it (chown it)",
                   what, path, (unsigned)uid, (unsigned)geteuid());
}

/* The directory holding the configuration: whoever may write it may put
 * another planbok.conf in its place. */
static pb_status check_config_dir(const char *what, const char *path)
{
    char copy[PATH_MAX];
    if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
        return pb_fail(PB_ERR_ARGUMENT, "%s %s: path too long", what, path);
    const char *dir = dirname(copy);
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return pb_fail(PB_ERR_STORAGE, "%s %s: directory %s: %s", what, path, dir,
                       strerror(errno));
    if (!owner_ok(PB_FILE_CONFIG, sb.st_uid))
        return pb_fail(PB_ERR_STORAGE,
                       "%s %s: its directory %s belongs to uid %u, not to the user running "
                       "planbok (uid %u) or root; refusing it",
                       what, path, dir, (unsigned)sb.st_uid, (unsigned)geteuid());
    if (sb.st_mode & 022)
        return pb_fail(PB_ERR_STORAGE,
                       "%s %s: its directory %s is writable by group or others (mode %03o); "
                       "refusing it (chmod go-w %s)",
                       what, path, dir, (unsigned)(sb.st_mode & 07777), dir);
    return PB_OK;
}

static pb_status check_opened(int fd, const char *path, const char *what, pb_file_kind kind)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return pb_fail(PB_ERR_STORAGE, "%s %s: %s", what, path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return pb_fail(PB_ERR_STORAGE, "%s %s is not a regular file; refusing it", what, path);
    if (!owner_ok(kind, sb.st_uid))
        return refuse_owner(what, path, sb.st_uid);
    if (kind == PB_FILE_SECRET && (sb.st_mode & 077))
        return pb_fail(PB_ERR_STORAGE,
                       "%s %s is open to group or others (mode %03o); refusing it "
                       "(chmod 600 it)",
                       what, path, (unsigned)(sb.st_mode & 07777));
    if (kind == PB_FILE_CONFIG && (sb.st_mode & 022))
        return pb_fail(PB_ERR_STORAGE,
                       "%s %s is writable by group or others (mode %03o); it names the "
                       "PKCS#11 module planbok loads, so refusing it (chmod go-w it)",
                       what, path, (unsigned)(sb.st_mode & 07777));
    return kind == PB_FILE_CONFIG ? check_config_dir(what, path) : PB_OK;
}

/* open(2) reports a final symbolic link under O_NOFOLLOW as ELOOP, which
 * also means "too many links" in a directory part: look before saying so. */
static int is_symlink(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode);
}

pb_status pb_file_open_checked(const char *path, const char *what, pb_file_kind kind,
                               pb_status io_status, int *fd)
{
    *fd = -1;
    /* O_NONBLOCK: a FIFO put in the file's place must not hang the open. */
    int f = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) {
        int saved = errno;
        if (saved == ELOOP && is_symlink(path)) {
            pb_fail(PB_ERR_STORAGE,
                    "%s %s is a symbolic link; refusing it (name the file itself)", what, path);
            errno = EPERM;
            return PB_ERR_STORAGE;
        }
        pb_status st = pb_fail(io_status, "%s %s: %s", what, path, strerror(saved));
        errno = saved;
        return st;
    }
    pb_status st = check_opened(f, path, what, kind);
    if (st != PB_OK) {
        close(f);
        errno = EPERM;
        return st;
    }
    *fd = f;
    return PB_OK;
}

pb_status pb_file_keep_private(const char *path, const char *what, int create, int *tightened)
{
    int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (create ? O_CREAT : 0);
    /* 0600 whatever the umask: a umask can only clear bits. */
    int fd = open(path, flags, 0600);
    if (fd < 0) {
        if (errno == ENOENT && !create)
            return PB_OK;
        if (errno == ELOOP && is_symlink(path))
            return pb_fail(PB_ERR_STORAGE, "%s %s is a symbolic link; refusing it", what, path);
        return pb_fail(PB_ERR_STORAGE, "%s %s: %s", what, path, strerror(errno));
    }
    struct stat sb;
    pb_status st = PB_OK;
    if (fstat(fd, &sb) != 0)
        st = pb_fail(PB_ERR_STORAGE, "%s %s: %s", what, path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = pb_fail(PB_ERR_STORAGE, "%s %s is not a regular file; refusing it", what, path);
    else if (sb.st_uid != geteuid())
        st = refuse_owner(what, path, sb.st_uid);
    else if (sb.st_mode & 077) {
        /* Ours, made by an older planbok (or a umask) that left it 0644:
         * close it rather than refuse an installation we set up ourselves. */
        if (fchmod(fd, 0600) != 0)
            st = pb_fail(PB_ERR_STORAGE, "%s %s is open to group or others (mode %03o) and "
                         "cannot be tightened: %s", what, path,
                         (unsigned)(sb.st_mode & 07777), strerror(errno));
        else if (tightened)
            *tightened = 1;
    }
    close(fd);
    return st;
}
