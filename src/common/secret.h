/* secret.h - memory for secret bytes (unsealed records, PINs, keys).
 *
 * Owns: allocation from OpenSSL's secure heap (locked, excluded from core
 * dumps) with a fallback to the normal heap when it is exhausted, and
 * wiping on free. Must never be used for data that is not secret (it is a
 * small heap).
 */
#ifndef PB_COMMON_SECRET_H
#define PB_COMMON_SECRET_H

#include <stddef.h>

/* Idempotent; safe to call from any thread before first use. */
void pb_secure_heap_ensure(void);
/* Zeroed secret buffer, or NULL. n may be 0 (returns a valid pointer). */
unsigned char *pb_secret_alloc(size_t n);
/* Wipes n bytes and frees; NULL is fine. */
void pb_secret_free(void *p, size_t n);
/* Reads a whole small file (PIN, secret) into secret memory, dropping one
 * trailing newline. Fails on a file over max_len bytes. Returns 0 or -1
 * with errno set. */
int pb_secret_read_file(const char *path, size_t max_len, unsigned char **out, size_t *out_len);

#endif
