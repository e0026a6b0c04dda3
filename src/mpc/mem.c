/* mem.c - secret-holding allocations for src/mpc (see mem.h). */
#include "mpc/mem.h"

#include <openssl/crypto.h>

#include "crypto/bn.h"

void *pb_mpc_secret_zalloc(size_t n)
{
    pb_secure_heap_init();
    void *p = OPENSSL_secure_zalloc(n);
    return p ? p : OPENSSL_zalloc(n);
}

void pb_mpc_secret_free(void *p, size_t n)
{
    /* Handles both heaps: a pointer the secure heap does not own is
     * cleansed and returned to the normal heap. */
    if (p)
        OPENSSL_secure_clear_free(p, n);
}
