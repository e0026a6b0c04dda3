/* sqlite_read_only.c - read-only SQLite opens (see sqlite_read_only.h). */
#include "engine/sqlite_read_only.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fail.h"

/* A file path as an SQLite URI path: anything but unreserved characters
 * and '/' percent-encoded, so '?', '#' and '%' in a path stay literal. */
static int uri_for(const char *path, const char *query, char *out, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = (size_t)snprintf(out, n, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("/-._~", *p);
        if (k + 4 >= n)
            return -1;
        if (plain) {
            out[k++] = (char)*p;
        } else {
            out[k++] = '%';
            out[k++] = hex[*p >> 4];
            out[k++] = hex[*p & 15];
        }
    }
    int w = snprintf(out + k, n - k, "?%s", query);
    return w < 0 || (size_t)w >= n - k ? -1 : 0;
}

/* SQLITE_OK, or the (extended) code of the failed open or probe. */
static int try_open(const char *uri, const char *probe, sqlite3 **db)
{
    *db = NULL;
    int rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
                                          SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(*db, 1);
        sqlite3_busy_timeout(*db, 10000);
        rc = sqlite3_exec(*db, probe, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        sqlite3_close(*db);
        *db = NULL;
    }
    return rc;
}

/* Commits in a WAL that the database file lacks would be invisible to an
 * immutable open. */
static int wal_has_content(const char *path)
{
    char wal[4200];
    struct stat sb;
    snprintf(wal, sizeof wal, "%s-wal", path);
    return stat(wal, &sb) == 0 && sb.st_size > 0;
}

pb_status pb_sqlite_open_read_only(const char *path, const char *probe, sqlite3 **out)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return pb_fail(errno == ENOENT ? PB_ERR_NOT_FOUND : PB_ERR_STORAGE,
                       "cannot open database '%s' read-only: %s", path, strerror(errno));
    char uri[4200];
    if (uri_for(path, "mode=ro", uri, sizeof uri) != 0)
        return pb_fail(PB_ERR_ARGUMENT, "database path too long: '%s'", path);
    int rc = try_open(uri, probe, out);
    if (rc == SQLITE_OK)
        return PB_OK;
    /* A WAL database on a read-only file system: without an -shm file
     * (a clean close removes it) SQLite cannot build the WAL index. */
    int fallback = (rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY;
    if (fallback && wal_has_content(path))
        return pb_fail(PB_ERR_STORAGE,
                       "cannot open database '%s' read-only: its write-ahead log holds commits "
                       "not yet in the database file and the directory cannot be written (%s)",
                       path, sqlite3_errstr(rc));
    if (fallback && uri_for(path, "immutable=1", uri, sizeof uri) == 0) {
        rc = try_open(uri, probe, out);
        if (rc == SQLITE_OK)
            return PB_OK;
    }
    return pb_fail(PB_ERR_STORAGE, "cannot open database '%s' read-only: %s", path,
                   sqlite3_errstr(rc));
}
