/* file_write.h - durable, atomic replacement of small files.
 *
 * Owns: the one way planbok replaces a file it writes (backups, the
 * cosigner's public parameters, planbok.conf, sealed blobs of the directory
 * placement, device files): a temporary file in the same directory, created
 * with O_EXCL and mode 0600 whatever the umask, written, fsync'd, renamed
 * over the target, and the directory fsync'd. A crash leaves the old file or
 * the new one, never a truncated mix. Also the "storage full" wording for
 * ENOSPC and EDQUOT. Must never loosen a mode, follow a caller's data into a
 * message, or leave a partial file under the target's name.
 */
#ifndef PB_COMMON_FILE_WRITE_H
#define PB_COMMON_FILE_WRITE_H

#include <stddef.h>

#include "planbok/error.h"

/* Replaces `path` with the `len` bytes at `data` as described above. When
 * `fault` is not NULL, fault points "<fault>.mid_temp" (half the bytes in
 * the temporary file) and "<fault>.after_temp" (temporary file complete and
 * fsync'd, not yet renamed) are offered to fault-injection tests. On failure
 * the temporary file is removed and the target is untouched (unless the
 * final directory fsync failed, which is reported). */
pb_status pb_file_write_atomic(const char *path, const void *data, size_t len, const char *fault);

/* fsync of a directory, so a rename or unlink in it survives a crash. */
pb_status pb_file_fsync_dir(const char *dir);

/* Records "cannot <action> '<path>': <reason>" with status PB_ERR_STORAGE;
 * the reason reads "storage full (...)" for ENOSPC and EDQUOT. */
pb_status pb_file_fail(int err, const char *action, const char *path);

#endif
