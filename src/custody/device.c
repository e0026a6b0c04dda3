/* device.c - the customer's device directory (see device.h). */
#include "custody/device.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/fail.h"
#include "common/file_write.h"
#include "custody/hex_ct.h"

#define ID_FILE "device.id"
#define SALT_FILE "salt"
#define STAGED_FILE "salt.next"
#define LOCK_FILE ".lock"
#define ID_BYTES (PB_DEVICE_ID_CHARS / 2)

static pb_status join(const char *dir, const char *name, char out[PATH_MAX])
{
    if ((size_t)snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
        return pb_fail(PB_ERR_ARGUMENT, "device directory: path too long");
    return PB_OK;
}

/* The directory must be ours and closed to other users: the salt is half
 * of what protects the customer's share. */
static pb_status check_dir(const char *dir, int create)
{
    if (!dir || !*dir)
        return pb_fail(PB_ERR_ARGUMENT, "device directory: no path given");
    if (create) {
        if (mkdir(dir, 0700) == 0)
            (void)chmod(dir, 0700); /* whatever the umask left */
        else if (errno != EEXIST)
            return pb_fail(PB_ERR_STORAGE, "device directory %s: %s", dir, strerror(errno));
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return pb_fail(PB_ERR_NOT_FOUND, "device directory %s does not exist", dir);
        return pb_fail(PB_ERR_STORAGE, "device directory %s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return pb_fail(PB_ERR_STORAGE, "device directory %s is not a directory", dir);
    if (st.st_uid != geteuid())
        return pb_fail(PB_ERR_STORAGE, "device directory %s belongs to another user", dir);
    if (st.st_mode & 077)
        return pb_fail(PB_ERR_STORAGE,
                       "device directory %s is open to other users (mode %03o); chmod 700 it",
                       dir, (unsigned)(st.st_mode & 0777));
    return PB_OK;
}

/* Serializes creation and salt changes between processes sharing a device
 * directory. Returns the descriptor to pass to unlock_dir, or -1. */
static int lock_dir(const char *dir)
{
    char path[PATH_MAX];
    if (join(dir, LOCK_FILE, path) != PB_OK)
        return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        pb_fail(PB_ERR_STORAGE, "device directory %s: lock: %s", dir, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            pb_fail(PB_ERR_STORAGE, "device directory %s: lock: %s", dir, strerror(errno));
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void unlock_dir(int fd) { close(fd); /* releases the flock */ }

static pb_status fsync_dir(const char *dir)
{
    pb_status st = pb_file_fsync_dir(dir);
    return st == PB_OK ? PB_OK : pb_fail_context(st, "device directory %s", dir);
}

/* Writes `n` bytes as 2n hex characters and a newline to dir/name through a
 * temporary file, fsync and rename (mode 0600). */
static pb_status write_hex_atomic(const char *dir, const char *name, const uint8_t *bytes,
                                  size_t n)
{
    char text[2 * 32 + 2];
    char final[PATH_MAX];
    if (2 * n + 2 > sizeof text)
        return pb_fail(PB_ERR_ARGUMENT, "device file %s: too long", name);
    pb_status st = join(dir, name, final);
    if (st != PB_OK)
        return st;
    pb_hex_encode_ct(bytes, n, text);
    text[2 * n] = '\n';
    st = pb_file_write_atomic(final, text, 2 * n + 1, NULL);
    OPENSSL_cleanse(text, sizeof text);
    return st == PB_OK ? PB_OK : pb_fail_context(st, "device file %s", name);
}

/* Reads dir/name holding exactly 2n hex characters and an optional newline.
 * A missing file is PB_ERR_NOT_FOUND; a file open to other users is
 * refused when `private_file` is set. */
static pb_status read_hex(const char *dir, const char *name, int private_file, uint8_t *out,
                          size_t n)
{
    char path[PATH_MAX];
    char text[2 * 32 + 2];
    pb_status st = join(dir, name, path);
    if (st != PB_OK)
        return st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return pb_fail(PB_ERR_NOT_FOUND, "device file %s/%s does not exist", dir, name);
        return pb_fail(PB_ERR_STORAGE, "device file %s/%s: %s", dir, name, strerror(errno));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return pb_fail(PB_ERR_STORAGE, "device file %s/%s is not a regular file", dir, name);
    }
    if (private_file && (sb.st_mode & 077)) {
        close(fd);
        return pb_fail(PB_ERR_STORAGE,
                       "device file %s/%s is open to other users (mode %03o); chmod 600 it", dir,
                       name, (unsigned)(sb.st_mode & 0777));
    }
    size_t len = 0;
    for (;;) {
        ssize_t got = read(fd, text + len, sizeof text - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
        if (len == sizeof text)
            break;
    }
    close(fd);
    if (len == 2 * n + 1 && text[2 * n] == '\n')
        len--;
    if (len != 2 * n || pb_hex_decode_ct(text, len, out) != 0)
        st = pb_fail(PB_ERR_INTEGRITY, "device file %s/%s is malformed", dir, name);
    OPENSSL_cleanse(text, sizeof text);
    return st;
}

static pb_status load(const char *dir, pb_device *out)
{
    uint8_t id[ID_BYTES];
    pb_status st = read_hex(dir, ID_FILE, 0, id, sizeof id);
    if (st != PB_OK)
        return st;
    pb_hex_encode_ct(id, sizeof id, out->device_id);
    st = read_hex(dir, SALT_FILE, 1, out->salt, sizeof out->salt);
    if (st == PB_ERR_NOT_FOUND)
        return pb_fail(PB_ERR_INTEGRITY, "device directory %s has an id but no salt", dir);
    return st;
}

/* Salt first, id last: the id's presence marks a complete device, so a
 * crash in between leaves a directory that is simply created again. */
static pb_status create(const char *dir, pb_device *out)
{
    uint8_t id[ID_BYTES];
    if (RAND_bytes(id, sizeof id) != 1 || RAND_priv_bytes(out->salt, sizeof out->salt) != 1)
        return pb_fail(PB_ERR_CRYPTO, "device: random generator failed");
    pb_status st = write_hex_atomic(dir, SALT_FILE, out->salt, sizeof out->salt);
    if (st == PB_OK)
        st = write_hex_atomic(dir, ID_FILE, id, sizeof id);
    if (st == PB_OK)
        pb_hex_encode_ct(id, sizeof id, out->device_id);
    return st;
}

pb_status pb_device_open(const char *dir, int create_missing, pb_device *out)
{
    memset(out, 0, sizeof *out);
    pb_status st = check_dir(dir, create_missing);
    if (st != PB_OK)
        return st;
    st = load(dir, out);
    if (st != PB_ERR_NOT_FOUND || !create_missing) {
        if (st == PB_ERR_NOT_FOUND)
            st = pb_fail(PB_ERR_NOT_FOUND, "no device in %s", dir);
        if (st != PB_OK)
            OPENSSL_cleanse(out, sizeof *out);
        return st;
    }
    int lock = lock_dir(dir);
    if (lock < 0)
        return PB_ERR_STORAGE;
    /* Another process may have created it while we waited. */
    st = load(dir, out);
    if (st == PB_ERR_NOT_FOUND)
        st = create(dir, out);
    unlock_dir(lock);
    if (st != PB_OK)
        OPENSSL_cleanse(out, sizeof *out);
    return st;
}

pb_status pb_device_stage_salt(const char *dir, uint8_t new_salt[PB_DEVICE_SALT_BYTES])
{
    pb_device dev;
    pb_status st = pb_device_open(dir, 0, &dev);
    OPENSSL_cleanse(&dev, sizeof dev);
    if (st != PB_OK)
        return st;
    if (RAND_priv_bytes(new_salt, PB_DEVICE_SALT_BYTES) != 1)
        return pb_fail(PB_ERR_CRYPTO, "device: random generator failed");
    int lock = lock_dir(dir);
    if (lock < 0)
        return PB_ERR_STORAGE;
    st = write_hex_atomic(dir, STAGED_FILE, new_salt, PB_DEVICE_SALT_BYTES);
    unlock_dir(lock);
    if (st != PB_OK)
        OPENSSL_cleanse(new_salt, PB_DEVICE_SALT_BYTES);
    return st;
}

pb_status pb_device_staged_salt(const char *dir, uint8_t salt[PB_DEVICE_SALT_BYTES])
{
    pb_status st = check_dir(dir, 0);
    if (st == PB_OK)
        st = read_hex(dir, STAGED_FILE, 1, salt, PB_DEVICE_SALT_BYTES);
    if (st != PB_OK)
        OPENSSL_cleanse(salt, PB_DEVICE_SALT_BYTES);
    return st;
}

pb_status pb_device_commit_salt(const char *dir, pb_device *dev)
{
    pb_status st = check_dir(dir, 0);
    if (st != PB_OK)
        return st;
    char staged[PATH_MAX], final[PATH_MAX];
    st = join(dir, STAGED_FILE, staged);
    if (st == PB_OK)
        st = join(dir, SALT_FILE, final);
    if (st != PB_OK)
        return st;
    int lock = lock_dir(dir);
    if (lock < 0)
        return PB_ERR_STORAGE;
    uint8_t salt[PB_DEVICE_SALT_BYTES];
    st = read_hex(dir, STAGED_FILE, 1, salt, sizeof salt);
    if (st == PB_ERR_NOT_FOUND)
        st = pb_fail(PB_ERR_NOT_FOUND, "device directory %s has no staged salt to commit", dir);
    if (st == PB_OK && rename(staged, final) != 0)
        st = pb_fail(PB_ERR_STORAGE, "device directory %s: commit salt: %s", dir,
                     strerror(errno));
    if (st == PB_OK)
        st = fsync_dir(dir);
    unlock_dir(lock);
    if (st == PB_OK)
        memcpy(dev->salt, salt, sizeof salt);
    OPENSSL_cleanse(salt, sizeof salt);
    return st;
}

pb_status pb_device_discard_staged_salt(const char *dir)
{
    pb_status st = check_dir(dir, 0);
    if (st != PB_OK)
        return st;
    char staged[PATH_MAX];
    if ((st = join(dir, STAGED_FILE, staged)) != PB_OK)
        return st;
    if (unlink(staged) != 0 && errno != ENOENT)
        return pb_fail(PB_ERR_STORAGE, "device directory %s: discard salt: %s", dir,
                       strerror(errno));
    return fsync_dir(dir);
}

pb_status pb_device_new_salt(const char *dir, pb_device *dev)
{
    uint8_t salt[PB_DEVICE_SALT_BYTES];
    pb_status st = pb_device_stage_salt(dir, salt);
    OPENSSL_cleanse(salt, sizeof salt);
    if (st == PB_OK)
        st = pb_device_commit_salt(dir, dev);
    return st;
}
