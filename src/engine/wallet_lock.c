/* wallet_lock.c - per-wallet locks across threads and processes (see
 * wallet_lock.h). */
#include "engine/wallet_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fail.h"
#include "pkcs11/keystore.h"

/* Byte offsets of the two locks inside a wallet's lock file. */
enum { MAINTENANCE_BYTE = 0, CRITICAL_BYTE = 1 };

static pb_status open_lock_file(const char *home, const char *wallet_id, int *fd)
{
    if (pb_wallet_id_check(wallet_id) != 0)
        return pb_fail(PB_ERR_ARGUMENT, "malformed wallet id");
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/node1/locks", home);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return pb_fail(PB_ERR_STORAGE, "cannot create '%s': %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/%s.lock", dir, wallet_id);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (*fd < 0)
        return pb_fail(PB_ERR_STORAGE, "cannot open the wallet lock '%s': %s", path,
                       strerror(errno));
    return PB_OK;
}

static pb_status lock(const char *home, const char *wallet_id, pb_wallet_lock_kind kind,
                      int wait, pb_wallet_lock *out)
{
    out->fd = -1;
    int fd;
    pb_status st = open_lock_file(home, wallet_id, &fd);
    if (st != PB_OK)
        return st;
    struct flock fl;
    memset(&fl, 0, sizeof fl); /* l_pid must be 0 for OFD locks */
    fl.l_type = kind == PB_WALLET_LOCK_SIGN ? F_RDLCK : F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = kind == PB_WALLET_LOCK_CRITICAL ? CRITICAL_BYTE : MAINTENANCE_BYTE;
    fl.l_len = 1;
    int rc;
    while ((rc = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl)) != 0 && errno == EINTR)
        ;
    if (rc != 0) {
        int saved = errno;
        close(fd);
        if (!wait && (saved == EAGAIN || saved == EACCES))
            return pb_fail(PB_ERR_REFUSED, "wallet %s is busy", wallet_id);
        return pb_fail(PB_ERR_STORAGE, "cannot lock wallet %s: %s", wallet_id, strerror(saved));
    }
    out->fd = fd;
    return PB_OK;
}

pb_status pb_wallet_lock_take(const char *home, const char *wallet_id, pb_wallet_lock_kind kind,
                              pb_wallet_lock *out)
{
    return lock(home, wallet_id, kind, 1, out);
}

pb_status pb_wallet_lock_try(const char *home, const char *wallet_id, pb_wallet_lock_kind kind,
                             pb_wallet_lock *out)
{
    return lock(home, wallet_id, kind, 0, out);
}

void pb_wallet_lock_release(pb_wallet_lock *l)
{
    if (l->fd >= 0)
        close(l->fd); /* closing the description drops its OFD locks */
    l->fd = -1;
}
