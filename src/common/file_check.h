/* file_check.h - opening files that hold a secret or decide what code runs,
 * with OpenSSH-style ownership and mode rules.
 *
 * Owns: the rules (who may own such a file, which mode bits are refused,
 * no symbolic links, regular files only) and their one implementation, so
 * every reader of a PIN, secret, recovery code or planbok.conf applies the
 * same checks. The checks are made with fstat on the descriptor that is then
 * read (the file is opened with O_NOFOLLOW), so the file cannot be swapped
 * between the check and the read. Must never read or echo the content, and
 * never loosen a mode.
 */
#ifndef PB_COMMON_FILE_CHECK_H
#define PB_COMMON_FILE_CHECK_H

#include "planbok/error.h"

typedef enum pb_file_kind {
    /* A PIN, a secret or a recovery code: owned by the effective user and
     * closed to group and others (no r, w or x bit for them). */
    PB_FILE_SECRET = 0,
    /* planbok.conf: it names the PKCS#11 module the process loads, so
     * whoever may write it may run code as us. Owned by the effective user
     * or root; neither it nor the directory holding it may be writable by
     * group or others. Readable by others is fine (it holds no secret). */
    PB_FILE_CONFIG = 1
} pb_file_kind;

/* Opens `path` read-only under the rules of `kind` and returns the
 * descriptor in *fd. Failures record "<what> <path>: ..." and return
 * PB_ERR_STORAGE for a file that breaks the rules (a symbolic link, not a
 * regular file, wrong owner, too open: the message says how to fix it;
 * errno EPERM), or `io_status` when the file cannot be opened at all
 * (errno as open(2) set it: ENOENT for a missing file). */
pb_status pb_file_open_checked(const char *path, const char *what, pb_file_kind kind,
                               pb_status io_status, int *fd);

/* For files planbok itself creates and keeps (the wallet database and its
 * -wal/-shm): creates `path` empty with mode 0600 when `create` is set and
 * it is missing; an existing file owned by the effective user that is open
 * to group or others is tightened to 0600 (*tightened set to 1); one owned
 * by another user, a symbolic link or a non-regular file is refused
 * (PB_ERR_STORAGE). A missing file with `create` unset is fine. */
pb_status pb_file_keep_private(const char *path, const char *what, int create, int *tightened);

#endif
