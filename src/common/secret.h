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

#include "planbok/error.h"

/* Idempotent; safe to call from any thread before first use. */
void pb_secure_heap_ensure(void);
/* Zeroed secret buffer, or NULL. n may be 0 (returns a valid pointer). */
unsigned char *pb_secret_alloc(size_t n);
/* Wipes n bytes and frees; NULL is fine. */
void pb_secret_free(void *p, size_t n);
/* Reads a whole small file (PIN, secret, recovery code) into secret memory,
 * dropping one trailing "\n" or "\r\n"; the caller frees *out with
 * pb_secret_free(*out, *out_len). The file must be private (PB_FILE_SECRET
 * in common/file_check.h: no symbolic link, owned by the effective user, no
 * access for group or others), checked on the opened descriptor. Failures
 * record "<what> <path>: ..." and return PB_ERR_STORAGE for a file that
 * breaks those rules, or `io_status` for one that cannot be opened or read
 * or is over max_len bytes; errno is then set (ENOENT, EFBIG for too long),
 * so a caller may word those its own way. The content is never echoed. */
pb_status pb_secret_read_file(const char *path, const char *what, size_t max_len,
                              pb_status io_status, unsigned char **out, size_t *out_len);

#endif
