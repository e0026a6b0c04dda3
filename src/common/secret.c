/* secret.c - secure-heap allocation for secrets (see secret.h). */
#include "common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

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

int pb_secret_read_file(const char *path, size_t max_len, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    unsigned char *buf = pb_secret_alloc(max_len + 1);
    if (!buf) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    size_t len = 0;
    for (;;) {
        ssize_t got = read(fd, buf + len, max_len + 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int saved = errno;
            close(fd);
            pb_secret_free(buf, max_len + 1);
            errno = saved;
            return -1;
        }
        if (got == 0)
            break;
        len += (size_t)got;
        if (len > max_len) {
            close(fd);
            pb_secret_free(buf, max_len + 1);
            errno = EFBIG;
            return -1;
        }
    }
    close(fd);
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = 0;
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = 0;
    /* Hand back an exactly sized buffer so the caller frees with out_len. */
    unsigned char *exact = pb_secret_alloc(len);
    if (!exact) {
        pb_secret_free(buf, max_len + 1);
        errno = ENOMEM;
        return -1;
    }
    memcpy(exact, buf, len);
    pb_secret_free(buf, max_len + 1);
    *out = exact;
    *out_len = len;
    return 0;
}
