/* guard_files.h - the small file operations the SoftHSM token guard needs:
 * reading a whole small file, and replacing one atomically.
 *
 * Owns: the atomic-replace rule planbok applies to every file whose loss
 * would cost data: write a temporary file beside the target, fsync it,
 * rename it over the target, fsync the directory; a crash leaves the old
 * file or the new one, never a cut one. Buffers read here may hold secrets
 * (token records): they are wiped when freed.
 */
#ifndef PB_PKCS11_GUARD_FILES_H
#define PB_PKCS11_GUARD_FILES_H

#include <stddef.h>
#include <stdint.h>

/* Reads up to `max` bytes of `path`. Returns 0, or -1 with errno (EFBIG
 * when the file is larger than max). *buf must be freed with
 * pb_guard_file_free. */
int pb_guard_file_read(const char *path, size_t max, uint8_t **buf, size_t *len);
void pb_guard_file_free(uint8_t *buf, size_t len);

/* Replaces dir/name with `len` bytes, mode 0600, atomically. The temporary
 * file is dir/name.pb-tmp (never ending in ".object", which SoftHSM would
 * index). Returns 0, or -1 with errno. */
int pb_guard_file_replace(const char *dir, const char *name, const uint8_t *data, size_t len);

#endif
