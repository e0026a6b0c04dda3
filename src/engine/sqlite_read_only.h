/* sqlite_read_only.h - opening an SQLite database so that nothing can be
 * written, also on a read-only file system.
 *
 * Owns: the choice between SQLite's read-only mode (mode=ro, which needs
 * the WAL index (-shm) to exist or to be creatable) and, when the file
 * system allows neither, an immutable open (immutable=1). Must never open
 * immutable while a WAL file holds commits the database file lacks (those
 * rows would silently be missing), and never create a file.
 */
#ifndef PB_ENGINE_SQLITE_READ_ONLY_H
#define PB_ENGINE_SQLITE_READ_ONLY_H

#include <sqlite3.h>

#include "planbok/error.h"

/* Opens `path` read-only and runs `probe` (a query that must succeed,
 * e.g. one reading the expected table) to be sure the open works.
 * PB_ERR_NOT_FOUND if the file does not exist. */
pb_status pb_sqlite_open_read_only(const char *path, const char *probe, sqlite3 **out);

#endif
