/* rped_secret_fixture.c - disk-cached real ring-Pedersen secrets for tests
 * (see the header). The cache is read back through pb_rped_secret_decode,
 * so a stale or damaged file is regenerated rather than trusted. Must never
 * be linked into the library.
 */
#include "support/rped_secret_fixture.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "planbok/error.h"

static pb_rped_secret *load(const char *path, int bits)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    uint8_t buf[4096];
    size_t len = 0;
    for (;;) {
        ssize_t got = read(fd, buf + len, sizeof buf - len);
        if (got <= 0)
            break;
        len += (size_t)got;
        if (len == sizeof buf)
            break;
    }
    close(fd);
    pb_reader r;
    pb_reader_init(&r, buf, len);
    pb_rped_secret *sec = NULL;
    if (pb_rped_secret_decode(&r, &sec) != PB_OK || pb_reader_finish(&r, "fixture") != PB_OK ||
        pb_rped_public_of(sec)->bits != bits) {
        pb_rped_secret_free(sec);
        sec = NULL;
    }
    return sec;
}

static void store(const char *path, const pb_rped_secret *sec)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_rped_secret_encode(&w, sec);
    uint8_t *out;
    size_t out_len;
    cr_assert_eq(pb_writer_finish(&w, &out, &out_len), PB_OK);
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        int ok = write(fd, out, out_len) == (ssize_t)out_len;
        ok = fsync(fd) == 0 && ok;
        ok = close(fd) == 0 && ok;
        if (!ok || rename(tmp, path) != 0)
            unlink(tmp);
    }
    pb_bytes_free(out, out_len);
}

pb_rped_secret *fx_rped_secret(int bits)
{
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    char path[PATH_MAX], lock_path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/planbok-test-rped-v1-%d.bin", dir, bits);
    snprintf(lock_path, sizeof lock_path, "%s.lock", path);

    pb_rped_secret *sec = load(path, bits);
    if (sec != NULL)
        return sec;
    /* Cold cache: one process generates, the others wait for its file. */
    int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock >= 0)
        (void)flock(lock, LOCK_EX);
    sec = load(path, bits);
    if (sec == NULL) {
        cr_assert_eq(pb_rped_generate(bits, NULL, NULL, &sec), PB_OK, "rped fixture: %s",
                     pb_last_error());
        store(path, sec);
    }
    if (lock >= 0)
        close(lock);
    return sec;
}
