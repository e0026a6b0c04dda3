/* secret.c - secure-heap allocation for secrets (see secret.h). */
#include "common/secret.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/fail.h"
#include "common/file_check.h"

/* 4 MiB holds every unsealed record and BIGNUM temporaries of a few
 * concurrent 3072-bit operations; beyond it OpenSSL falls back to malloc. */
#define PB_SECURE_HEAP_BYTES (4u << 20)
#define PB_SECURE_HEAP_MIN 32

static pthread_once_t secure_heap_once = PTHREAD_ONCE_INIT;

static void secure_heap_init(void)
{
    if (!CRYPTO_secure_malloc_initialized())
        (void)CRYPTO_secure_malloc_init(PB_SECURE_HEAP_BYTES, PB_SECURE_HEAP_MIN);
}

void pb_secure_heap_ensure(void) { pthread_once(&secure_heap_once, secure_heap_init); }

unsigned char *pb_secret_alloc(size_t n)
{
    pb_secure_heap_ensure();
    return OPENSSL_secure_zalloc(n ? n : 1);
}

void pb_secret_free(void *p, size_t n)
{
    if (!p)
        return;
    OPENSSL_secure_clear_free(p, n ? n : 1);
}

/* Reads fd to its end into buf (capacity max_len + 1). Returns the byte
 * count, or -1 with errno set (EFBIG when more than max_len bytes). */
static ssize_t read_bounded(int fd, unsigned char *buf, size_t max_len)
{
    size_t len = 0;
    for (;;) {
        ssize_t got = read(fd, buf + len, max_len + 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            return (ssize_t)len;
        len += (size_t)got;
        if (len > max_len) {
            errno = EFBIG;
            return -1;
        }
    }
}

pb_status pb_secret_read_file(const char *path, const char *what, size_t max_len,
                              pb_status io_status, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    int fd;
    pb_status st = pb_file_open_checked(path, what, PB_FILE_SECRET, io_status, &fd);
    if (st != PB_OK)
        return st;
    unsigned char *buf = pb_secret_alloc(max_len + 1);
    if (!buf) {
        close(fd);
        return pb_fail(PB_ERR_NOMEM, "%s: out of memory", what);
    }
    ssize_t got = read_bounded(fd, buf, max_len);
    int saved = errno;
    close(fd);
    if (got < 0) {
        pb_secret_free(buf, max_len + 1);
        st = saved == EFBIG ? pb_fail(io_status, "%s %s: longer than %zu bytes", what, path,
                                      max_len)
                            : pb_fail(io_status, "%s %s: %s", what, path, strerror(saved));
        errno = saved;
        return st;
    }
    size_t len = (size_t)got;
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = 0;
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = 0;
    /* Hand back an exactly sized buffer so the caller frees with out_len. */
    unsigned char *exact = pb_secret_alloc(len);
    if (exact)
        memcpy(exact, buf, len);
    pb_secret_free(buf, max_len + 1);
    if (!exact)
        return pb_fail(PB_ERR_NOMEM, "%s: out of memory", what);
    *out = exact;
    *out_len = len;
    return PB_OK;
}
