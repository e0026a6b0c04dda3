/* wallet_db.c - wallet metadata in SQLite (see wallet_db.h). Every change
 * is a read-verify-modify-seal-write transaction: the row is checked
 * against its seal and anchor first (so an edit is never laundered into a
 * fresh seal), the anchor goes to the token before the commit. */
#include "engine/wallet_db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "common/bytes.h"
#include "common/fail.h"
#include "common/file_check.h"
#include "common/secret.h"
#include "engine/sqlite_read_only.h"
#include "engine/wallet_seal.h"

struct pb_wallet_db {
    /* One connection, shared by the engine's threads: a transaction belongs
     * to the connection, so every use of it is one at a time. Processes
     * exclude each other through SQLite's own locks. */
    pthread_mutex_t mu;
    sqlite3 *db;
    pb_wallet_db_sealer sealer; /* seal == NULL: rows are not sealed (no token) */
    int tightened; /* open found a file open to others and made it 0600 */
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS wallets("
    " id TEXT PRIMARY KEY,"
    " name TEXT NOT NULL DEFAULT '',"
    " mode TEXT NOT NULL,"
    " public_key TEXT NOT NULL,"
    " xpub TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " created TEXT NOT NULL,"
    " exported INTEGER NOT NULL DEFAULT 0,"
    " generation INTEGER NOT NULL DEFAULT 0,"
    " pin_failures INTEGER NOT NULL DEFAULT 0,"
    " pin_max INTEGER NOT NULL DEFAULT 5,"
    " verifier BLOB,"
    " recovery_pub BLOB,"
    " seq INTEGER NOT NULL DEFAULT 0,"
    " in_doubt INTEGER NOT NULL DEFAULT 0,"
    " lock_reason TEXT NOT NULL DEFAULT '',"
    " version INTEGER NOT NULL DEFAULT 0,"
    " seal BLOB,"
    " verifier_next BLOB);";

/* Columns added after the first release, for databases made before them. */
static const char *const added_columns[] = {
    "ALTER TABLE wallets ADD COLUMN in_doubt INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE wallets ADD COLUMN lock_reason TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE wallets ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE wallets ADD COLUMN seal BLOB",
    "ALTER TABLE wallets ADD COLUMN verifier_next BLOB",
};

static int has_column(sqlite3 *db, const char *name)
{
    sqlite3_stmt *s = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('wallets') WHERE name=?", -1, &s,
                           NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
}

static int upgrade_schema(sqlite3 *db)
{
    static const char *const names[] = {"in_doubt", "lock_reason", "version", "seal",
                                        "verifier_next"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!has_column(db, names[i]) &&
            sqlite3_exec(db, added_columns[i], NULL, NULL, NULL) != SQLITE_OK)
            return -1;
    }
    return 0;
}

static pb_status db_fail(pb_wallet_db *db, const char *what)
{
    return pb_fail(PB_ERR_STORAGE, "wallet database: %s: %s%s", what,
                   sqlite3_errcode(db->db) == SQLITE_FULL ? "storage full: " : "",
                   sqlite3_errmsg(db->db));
}

/* SQLite creates files with mode 0644 (less the umask), and its -wal and
 * -shm files take the database file's mode. So the database file is
 * created 0600 before SQLite opens it, and files an older planbok left
 * open to others are tightened (they are ours; refusing them would lock
 * out an installation we set up). A file owned by someone else is refused. */
static pb_status make_private(const char *path, int *tightened)
{
    char side[1100];
    pb_status st = pb_file_keep_private(path, "wallet database", 1, tightened);
    static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; st == PB_OK && i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(side, sizeof side, "%s%s", path, suffixes[i]);
        st = pb_file_keep_private(side, "wallet database", 0, tightened);
    }
    return st;
}

pb_status pb_wallet_db_open(const char *path, pb_wallet_db **out)
{
    *out = NULL;
    pb_wallet_db *db = calloc(1, sizeof *db);
    if (!db)
        return pb_fail(PB_ERR_NOMEM, "out of memory opening the wallet database");
    pb_status pst = make_private(path, &db->tightened);
    if (pst != PB_OK) {
        free(db);
        return pst;
    }
    pthread_mutex_init(&db->mu, NULL);
    int rc = sqlite3_open_v2(path, &db->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        pb_status st = pb_fail(PB_ERR_STORAGE, "cannot open wallet database '%s': %s", path,
                               db->db ? sqlite3_errmsg(db->db) : "out of memory");
        sqlite3_close(db->db);
        free(db);
        return st;
    }
    /* Other processes (a second CLI call) may hold the write lock briefly. */
    sqlite3_busy_timeout(db->db, 10000);
    char *err = NULL;
    if (sqlite3_exec(db->db, schema, NULL, NULL, &err) != SQLITE_OK || upgrade_schema(db->db)) {
        pb_status st = pb_fail(PB_ERR_STORAGE, "wallet database '%s': %s", path,
                               err ? err : "schema failed");
        sqlite3_free(err);
        sqlite3_close(db->db);
        free(db);
        return st;
    }
    *out = db;
    return PB_OK;
}

int pb_wallet_db_tightened(const pb_wallet_db *db) { return db->tightened; }

pb_status pb_wallet_db_open_read_only(const char *path, pb_wallet_db **out)
{
    *out = NULL;
    pb_wallet_db *db = calloc(1, sizeof *db);
    if (!db)
        return pb_fail(PB_ERR_NOMEM, "out of memory opening the wallet database");
    pb_status st = pb_sqlite_open_read_only(path, "SELECT count(*) FROM wallets", &db->db);
    if (st != PB_OK) {
        free(db);
        return pb_fail_context(st, "wallet database");
    }
    pthread_mutex_init(&db->mu, NULL);
    *out = db;
    return PB_OK;
}

void pb_wallet_db_close(pb_wallet_db *db)
{
    if (!db)
        return;
    sqlite3_close(db->db);
    if (db->sealer.release)
        db->sealer.release(db->sealer.ctx);
    pthread_mutex_destroy(&db->mu);
    free(db);
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static void copy_column(sqlite3_stmt *s, int col, char *dst, size_t cap)
{
    const unsigned char *v = sqlite3_column_text(s, col);
    snprintf(dst, cap, "%s", v ? (const char *)v : "");
}

#define ROW_COLUMNS                                                                            \
    "id,name,mode,public_key,xpub,state,created,exported,generation,pin_failures,pin_max,"      \
    "verifier,recovery_pub,in_doubt,lock_reason,version,seal,verifier_next"

/* A row as stored, with its seal (NULL when there is none). */
typedef struct stored_row {
    pb_wallet_row row;
    uint8_t *seal;
    size_t seal_len;
} stored_row;

static void stored_free(stored_row *r)
{
    free(r->seal);
    r->seal = NULL;
}

static pb_status read_row(sqlite3_stmt *s, stored_row *out)
{
    pb_wallet_row *row = &out->row;
    memset(out, 0, sizeof *out);
    copy_column(s, 0, row->id, sizeof row->id);
    copy_column(s, 1, row->name, sizeof row->name);
    copy_column(s, 2, row->mode, sizeof row->mode);
    copy_column(s, 3, row->public_key, sizeof row->public_key);
    copy_column(s, 4, row->xpub, sizeof row->xpub);
    copy_column(s, 5, row->state, sizeof row->state);
    copy_column(s, 6, row->created, sizeof row->created);
    row->exported = sqlite3_column_int(s, 7);
    row->generation = (uint32_t)sqlite3_column_int64(s, 8);
    row->pin_failures = sqlite3_column_int(s, 9);
    row->pin_max = sqlite3_column_int(s, 10);
    if (sqlite3_column_bytes(s, 11) == 32) {
        memcpy(row->verifier, sqlite3_column_blob(s, 11), 32);
        row->has_verifier = 1;
    }
    if (sqlite3_column_bytes(s, 12) == 33) {
        memcpy(row->recovery_pub, sqlite3_column_blob(s, 12), 33);
        row->has_recovery_pub = 1;
    }
    row->in_doubt = sqlite3_column_int(s, 13);
    copy_column(s, 14, row->lock_reason, sizeof row->lock_reason);
    row->version = (uint64_t)sqlite3_column_int64(s, 15);
    if (sqlite3_column_bytes(s, 17) == 32) {
        memcpy(row->verifier_next, sqlite3_column_blob(s, 17), 32);
        row->has_verifier_next = 1;
    }
    int n = sqlite3_column_bytes(s, 16);
    if (n > 0) {
        out->seal = malloc((size_t)n);
        if (!out->seal)
            return pb_fail(PB_ERR_NOMEM, "out of memory reading a wallet row");
        memcpy(out->seal, sqlite3_column_blob(s, 16), (size_t)n);
        out->seal_len = (size_t)n;
    }
    return PB_OK;
}

static pb_status select_row(pb_wallet_db *db, const char *id, stored_row *out)
{
    sqlite3_stmt *s = NULL;
    memset(out, 0, sizeof *out);
    if (sqlite3_prepare_v2(db->db, "SELECT " ROW_COLUMNS " FROM wallets WHERE id=?", -1, &s,
                           NULL) != SQLITE_OK)
        return db_fail(db, "select");
    bind_text(s, 1, id);
    int rc = sqlite3_step(s);
    pb_status st = rc == SQLITE_ROW ? read_row(s, out) : PB_OK;
    sqlite3_finalize(s);
    if (st != PB_OK || rc == SQLITE_ROW)
        return st;
    if (rc == SQLITE_DONE)
        return pb_fail(PB_ERR_NOT_FOUND, "no wallet %s", id);
    return db_fail(db, "select");
}

/* A missing row whose anchor exists was deleted outside planbok. */
static pb_status missing_row(pb_wallet_db *db, const char *id)
{
    uint64_t v;
    if (db->sealer.seal && db->sealer.anchor_get(db->sealer.ctx, id, &v) == PB_OK)
        return pb_fail(PB_ERR_INTEGRITY,
                       "wallet %s: its database row is missing but the token anchors it "
                       "(deleted outside planbok)", id);
    return pb_fail(PB_ERR_NOT_FOUND, "no wallet %s", id);
}

/* The row as read must be the row its seal holds. */
static pb_status check_seal(pb_wallet_db *db, const stored_row *r)
{
    pb_wallet_db_sealer *z = &db->sealer;
    const char *id = r->row.id;
    if (!r->seal)
        return pb_fail(PB_ERR_INTEGRITY,
                       "wallet %s: its database row has no seal (written or edited outside "
                       "planbok)", id);
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    pb_wallet_row sealed;
    pb_status st = z->open(z->ctx, id, r->seal, r->seal_len, &plain, &plain_len);
    if (st == PB_OK)
        st = pb_wallet_row_decode(plain, plain_len, &sealed);
    pb_secret_free(plain, plain_len); /* the key store unseals into secret memory */
    if (st != PB_OK)
        return pb_fail_context(PB_ERR_INTEGRITY, "wallet %s: database row", id);
    const char *diff = pb_wallet_row_diff(&r->row, &sealed);
    if (diff)
        return pb_fail(PB_ERR_INTEGRITY,
                       "wallet %s: column '%s' of its database row was changed outside planbok",
                       id, diff);
    return PB_OK;
}

static pb_status rolled_back(const char *id, uint64_t version, uint64_t anchored)
{
    return pb_fail(PB_ERR_INTEGRITY,
                   "wallet %s: its database row is at version %llu but the token's anchor is at "
                   "%llu: the database (or this row) was rolled back or replaced",
                   id, (unsigned long long)version, (unsigned long long)anchored);
}

/* The row must be the row its seal holds, at the version its anchor holds
 * or one below (a writer puts the anchor before it commits, holding the
 * database's write lock, so a crash in between leaves the anchor one
 * ahead). Another process may commit between this process's read of the
 * row and its read of the anchor: a row that looks older than the anchor is
 * read once more, now after the anchor, and then must be at most one
 * behind it (it may be ahead: more changes landed meanwhile). */
static pb_status verify(pb_wallet_db *db, stored_row *r)
{
    pb_wallet_db_sealer *z = &db->sealer;
    if (!z->seal)
        return PB_OK;
    char id[sizeof r->row.id];
    snprintf(id, sizeof id, "%s", r->row.id);
    pb_status st = check_seal(db, r);
    uint64_t anchored = 0;
    if (st == PB_OK)
        st = z->anchor_get(z->ctx, id, &anchored);
    /* SoftHSM's file store can briefly show another process's replacement
     * of the anchor object as neither the old nor the new object (seen 2
     * times in 2,000 signatures under 8 processes): look again for a
     * moment before calling the anchor missing. */
    for (int wait_ms = 5; st == PB_ERR_NOT_FOUND && wait_ms <= 80; wait_ms *= 2) {
        struct timespec pause = {0, wait_ms * 1000000L};
        nanosleep(&pause, NULL);
        st = z->anchor_get(z->ctx, id, &anchored);
    }
    if (st == PB_ERR_NOT_FOUND) {
        /* Gone from the database too by now: another process deleted it. */
        stored_row again;
        if (select_row(db, id, &again) == PB_ERR_NOT_FOUND)
            return pb_fail(PB_ERR_NOT_FOUND, "no wallet %s", id);
        stored_free(&again);
        return pb_fail(PB_ERR_INTEGRITY, "wallet %s: its row has no anchor in the token", id);
    }
    if (st != PB_OK)
        return st;
    if (anchored < r->row.version)
        return rolled_back(id, r->row.version, anchored); /* the token went back */
    if (anchored > r->row.version + 1) {
        stored_row again;
        st = select_row(db, id, &again);
        if (st == PB_ERR_NOT_FOUND)
            return missing_row(db, id);
        if (st == PB_OK)
            st = check_seal(db, &again);
        if (st == PB_OK && again.row.version + 1 < anchored)
            st = rolled_back(id, again.row.version, anchored);
        if (st != PB_OK) {
            stored_free(&again);
            return st;
        }
        stored_free(r);
        *r = again;
    }
    /* The next change must land above the anchor. */
    if (anchored > r->row.version)
        r->row.version = anchored;
    return PB_OK;
}


static pb_status get_locked(pb_wallet_db *db, const char *id, pb_wallet_row *row)
{
    stored_row r;
    pb_status st = select_row(db, id, &r);
    if (st == PB_ERR_NOT_FOUND)
        return missing_row(db, id);
    if (st == PB_OK)
        st = verify(db, &r);
    if (st == PB_OK)
        *row = r.row;
    stored_free(&r);
    return st;
}

pb_status pb_wallet_db_get(pb_wallet_db *db, const char *id, pb_wallet_row *row)
{
    pthread_mutex_lock(&db->mu);
    pb_status st = get_locked(db, id, row);
    pthread_mutex_unlock(&db->mu);
    return st;
}

static pb_status count_rows(pb_wallet_db *db, uint64_t *n)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db->db, "SELECT COUNT(*) FROM wallets", -1, &s, NULL) != SQLITE_OK)
        return db_fail(db, "count");
    int rc = sqlite3_step(s);
    *n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? PB_OK : db_fail(db, "count");
}

/* The token counts the rows too: fewer rows than counted were deleted.
 * The rows are counted after the count is read: an insert commits before
 * it raises the count, so another process's insert can only make the rows
 * outnumber the count, never the reverse. */
static pb_status check_count(pb_wallet_db *db)
{
    uint64_t counted = 0, have = 0;
    if (!db->sealer.seal)
        return PB_OK;
    pb_status st = db->sealer.anchor_get(db->sealer.ctx, PB_WALLET_ROWS_MARKER, &counted);
    if (st != PB_OK)
        return st == PB_ERR_NOT_FOUND
                   ? pb_fail(PB_ERR_INTEGRITY, "the token does not count this database's rows")
                   : st;
    st = count_rows(db, &have);
    if (st != PB_OK)
        return st;
    if (have < counted)
        return pb_fail(PB_ERR_INTEGRITY,
                       "the wallet database holds %llu rows but the token counts %llu: rows were "
                       "deleted or the database replaced outside planbok",
                       (unsigned long long)have, (unsigned long long)counted);
    return PB_OK;
}

/* Every row as stored, read in one statement. */
static pb_status read_all(pb_wallet_db *db, stored_row **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db->db, "SELECT " ROW_COLUMNS " FROM wallets ORDER BY seq", -1, &s,
                           NULL) != SQLITE_OK)
        return db_fail(db, "list");
    size_t cap = 0;
    int rc;
    pb_status st = PB_OK;
    while (st == PB_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            stored_row *grown = realloc(*out, cap * sizeof **out);
            if (!grown) {
                st = pb_fail(PB_ERR_NOMEM, "out of memory listing wallets");
                break;
            }
            *out = grown;
        }
        st = read_row(s, &(*out)[*n]);
        (*n)++;
    }
    sqlite3_finalize(s);
    if (st == PB_OK && rc != SQLITE_DONE)
        st = db_fail(db, "list");
    return st;
}

/* The rows are verified after the reading statement has ended, so that a
 * row found behind its anchor is read again from the database as it is
 * now, not from the statement's snapshot. */
static pb_status list_locked(pb_wallet_db *db, pb_wallet_row **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    stored_row *all = NULL;
    size_t count = 0;
    pb_status st = read_all(db, &all, &count);
    if (st == PB_OK && count > 0 && !(*rows = calloc(count, sizeof **rows)))
        st = pb_fail(PB_ERR_NOMEM, "out of memory listing wallets");
    for (size_t i = 0; i < count && st == PB_OK; i++) {
        st = verify(db, &all[i]);
        if (st == PB_ERR_NOT_FOUND)
            st = PB_OK; /* deleted by another process since the statement */
        else if (st == PB_OK)
            (*rows)[(*n)++] = all[i].row;
    }
    for (size_t i = 0; i < count; i++)
        stored_free(&all[i]);
    free(all);
    if (st == PB_OK)
        st = check_count(db);
    if (st != PB_OK) {
        free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return st;
}

pb_status pb_wallet_db_list(pb_wallet_db *db, pb_wallet_row **rows, size_t *n)
{
    pthread_mutex_lock(&db->mu);
    pb_status st = list_locked(db, rows, n);
    pthread_mutex_unlock(&db->mu);
    return st;
}

/* --- writing ------------------------------------------------------------------ */

static pb_status exec_sql(pb_wallet_db *db, const char *sql)
{
    return sqlite3_exec(db->db, sql, NULL, NULL, NULL) == SQLITE_OK ? PB_OK : db_fail(db, sql);
}

/* BEGIN IMMEDIATE: the write lock from the first read, so the row verified
 * is the row changed. */
static pb_status begin(pb_wallet_db *db) { return exec_sql(db, "BEGIN IMMEDIATE"); }

static pb_status end(pb_wallet_db *db, pb_status st)
{
    if (st == PB_OK)
        return exec_sql(db, "COMMIT");
    sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* Seals the row at version + 1, anchors it, and writes every column. */
static pb_status store(pb_wallet_db *db, pb_wallet_row *row, int replace)
{
    uint8_t *bytes = NULL, *seal = NULL;
    size_t len = 0, seal_len = 0;
    pb_status st = PB_OK;
    row->version++;
    pb_wallet_db_sealer *z = &db->sealer;
    if (z->seal) {
        st = pb_wallet_row_encode(row, &bytes, &len);
        if (st == PB_OK)
            st = z->seal(z->ctx, row->id, bytes, len, &seal, &seal_len);
        if (st == PB_OK)
            st = z->anchor_put(z->ctx, row->id, row->version);
    }
    sqlite3_stmt *s = NULL;
    const char *sql = replace ?
        "INSERT OR REPLACE INTO wallets(id,name,mode,public_key,xpub,state,created,exported,"
        "generation,pin_failures,pin_max,verifier,recovery_pub,in_doubt,lock_reason,version,seal,"
        "verifier_next,seq) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
        "IFNULL((SELECT seq FROM wallets WHERE id=?1),(SELECT IFNULL(MAX(seq),0)+1 FROM wallets)))" :
        "INSERT INTO wallets(id,name,mode,public_key,xpub,state,created,exported,generation,"
        "pin_failures,pin_max,verifier,recovery_pub,in_doubt,lock_reason,version,seal,"
        "verifier_next,seq) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
        "(SELECT IFNULL(MAX(seq),0)+1 FROM wallets))";
    if (st == PB_OK && sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK)
        st = db_fail(db, "write");
    if (st == PB_OK) {
        bind_text(s, 1, row->id);
        bind_text(s, 2, row->name);
        bind_text(s, 3, row->mode);
        bind_text(s, 4, row->public_key);
        bind_text(s, 5, row->xpub);
        bind_text(s, 6, row->state);
        bind_text(s, 7, row->created);
        sqlite3_bind_int(s, 8, row->exported);
        sqlite3_bind_int64(s, 9, row->generation);
        sqlite3_bind_int(s, 10, row->pin_failures);
        sqlite3_bind_int(s, 11, row->pin_max);
        if (row->has_verifier)
            sqlite3_bind_blob(s, 12, row->verifier, 32, SQLITE_TRANSIENT);
        if (row->has_recovery_pub)
            sqlite3_bind_blob(s, 13, row->recovery_pub, 33, SQLITE_TRANSIENT);
        sqlite3_bind_int(s, 14, row->in_doubt);
        bind_text(s, 15, row->lock_reason);
        sqlite3_bind_int64(s, 16, (sqlite3_int64)row->version);
        if (seal)
            sqlite3_bind_blob(s, 17, seal, (int)seal_len, SQLITE_TRANSIENT);
        if (row->has_verifier_next)
            sqlite3_bind_blob(s, 18, row->verifier_next, 32, SQLITE_TRANSIENT);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_CONSTRAINT)
            st = pb_fail(PB_ERR_ARGUMENT, "a wallet with id %s already exists", row->id);
        else if (rc != SQLITE_DONE)
            st = db_fail(db, "write");
    }
    sqlite3_finalize(s);
    pb_bytes_free(bytes, len);
    free(seal);
    return st;
}

/* After rows were added: the token's count follows (a crash before this
 * leaves more rows than counted, which is harmless: each row is sealed). */
static pb_status recount(pb_wallet_db *db)
{
    uint64_t n = 0;
    if (!db->sealer.seal)
        return PB_OK;
    pb_status st = count_rows(db, &n);
    return st == PB_OK ? db->sealer.anchor_put(db->sealer.ctx, PB_WALLET_ROWS_MARKER, n) : st;
}

static pb_status insert_locked(pb_wallet_db *db, const pb_wallet_row *given, int replace)
{
    pb_wallet_row row = *given;
    uint64_t anchored = 0;
    /* A replaced row (restore) continues above whatever the token anchored. */
    row.version = 0;
    if (db->sealer.seal &&
        db->sealer.anchor_get(db->sealer.ctx, row.id, &anchored) == PB_OK)
        row.version = anchored;
    pb_status st = begin(db);
    if (st != PB_OK)
        return st;
    st = end(db, store(db, &row, replace));
    return st == PB_OK ? recount(db) : st;
}

static pb_status insert(pb_wallet_db *db, const pb_wallet_row *row, int replace)
{
    pthread_mutex_lock(&db->mu);
    pb_status st = insert_locked(db, row, replace);
    pthread_mutex_unlock(&db->mu);
    return st;
}

pb_status pb_wallet_db_insert(pb_wallet_db *db, const pb_wallet_row *row)
{
    return insert(db, row, 0);
}

pb_status pb_wallet_db_put(pb_wallet_db *db, const pb_wallet_row *row)
{
    return insert(db, row, 1);
}

typedef pb_status (*row_change)(pb_wallet_row *row, const void *arg);

/* Read, verify, change, seal and write one row in one transaction. */
static pb_status change_locked(pb_wallet_db *db, const char *id, row_change fn,
                               const void *arg, pb_wallet_row *after)
{
    pb_status st = begin(db);
    if (st != PB_OK)
        return st;
    stored_row r;
    st = select_row(db, id, &r);
    if (st == PB_ERR_NOT_FOUND)
        st = missing_row(db, id);
    else if (st == PB_OK)
        st = verify(db, &r);
    if (st == PB_OK)
        st = fn(&r.row, arg);
    if (st == PB_OK)
        st = store(db, &r.row, 1);
    st = end(db, st);
    if (st == PB_OK && after)
        *after = r.row;
    stored_free(&r);
    return st;
}

static pb_status change(pb_wallet_db *db, const char *id, row_change fn, const void *arg,
                        pb_wallet_row *after)
{
    pthread_mutex_lock(&db->mu);
    pb_status st = change_locked(db, id, fn, arg, after);
    pthread_mutex_unlock(&db->mu);
    return st;
}

static pb_status delete_locked(pb_wallet_db *db, const char *id)
{
    pb_status st = begin(db);
    if (st != PB_OK)
        return st;
    stored_row r;
    uint64_t n = 0;
    st = select_row(db, id, &r);
    if (st == PB_OK)
        st = verify(db, &r);
    stored_free(&r);
    sqlite3_stmt *s = NULL;
    if (st == PB_OK && sqlite3_prepare_v2(db->db, "DELETE FROM wallets WHERE id=?", -1, &s,
                                          NULL) != SQLITE_OK)
        st = db_fail(db, "delete");
    if (st == PB_OK) {
        bind_text(s, 1, id);
        if (sqlite3_step(s) != SQLITE_DONE)
            st = db_fail(db, "delete");
    }
    sqlite3_finalize(s);
    /* The count goes down before the commit: a crash in between leaves
     * more rows than counted, which is harmless. */
    if (st == PB_OK)
        st = count_rows(db, &n);
    if (st == PB_OK && db->sealer.seal)
        st = db->sealer.anchor_put(db->sealer.ctx, PB_WALLET_ROWS_MARKER, n);
    st = end(db, st);
    if (st == PB_OK && db->sealer.seal)
        st = db->sealer.anchor_drop(db->sealer.ctx, id);
    return st;
}

pb_status pb_wallet_db_delete(pb_wallet_db *db, const char *id)
{
    pthread_mutex_lock(&db->mu);
    pb_status st = delete_locked(db, id);
    pthread_mutex_unlock(&db->mu);
    return st;
}

static pb_status set_state_fn(pb_wallet_row *row, const void *arg)
{
    snprintf(row->state, sizeof row->state, "%s", (const char *)arg);
    return PB_OK;
}

pb_status pb_wallet_db_set_state(pb_wallet_db *db, const char *id, const char *state)
{
    return change(db, id, set_state_fn, state, NULL);
}

static pb_status set_exported_fn(pb_wallet_row *row, const void *arg)
{
    (void)arg;
    row->exported = 1;
    return PB_OK;
}

pb_status pb_wallet_db_set_exported(pb_wallet_db *db, const char *id)
{
    return change(db, id, set_exported_fn, NULL, NULL);
}

static pb_status set_generation_fn(pb_wallet_row *row, const void *arg)
{
    row->generation = *(const uint32_t *)arg;
    return PB_OK;
}

pb_status pb_wallet_db_set_generation(pb_wallet_db *db, const char *id, uint32_t generation)
{
    return change(db, id, set_generation_fn, &generation, NULL);
}

static pb_status pin_failure_fn(pb_wallet_row *row, const void *arg)
{
    (void)arg;
    row->pin_failures++;
    if (row->pin_failures >= row->pin_max)
        snprintf(row->state, sizeof row->state, "%s", PB_WALLET_STATE_LOCKED_OUT);
    return PB_OK;
}

pb_status pb_wallet_db_pin_failure(pb_wallet_db *db, const char *id, int *failures,
                                   int *locked_out)
{
    /* One transaction: the increment and the lock-out decision cannot interleave. */
    pb_wallet_row after;
    pb_status st = change(db, id, pin_failure_fn, NULL, &after);
    if (st == PB_OK) {
        *failures = after.pin_failures;
        *locked_out = strcmp(after.state, PB_WALLET_STATE_LOCKED_OUT) == 0;
    }
    return st;
}

static pb_status pin_success_fn(pb_wallet_row *row, const void *arg)
{
    (void)arg;
    row->pin_failures = 0;
    return PB_OK;
}

pb_status pb_wallet_db_pin_success(pb_wallet_db *db, const char *id)
{
    return change(db, id, pin_success_fn, NULL, NULL);
}

static pb_status set_verifier_next_fn(pb_wallet_row *row, const void *arg)
{
    memcpy(row->verifier_next, arg, sizeof row->verifier_next);
    row->has_verifier_next = 1;
    return PB_OK;
}

pb_status pb_wallet_db_set_verifier_next(pb_wallet_db *db, const char *id,
                                         const uint8_t verifier[32])
{
    return change(db, id, set_verifier_next_fn, verifier, NULL);
}

static pb_status set_verifier_fn(pb_wallet_row *row, const void *arg)
{
    memcpy(row->verifier, arg, sizeof row->verifier);
    row->has_verifier = 1;
    memset(row->verifier_next, 0, sizeof row->verifier_next);
    row->has_verifier_next = 0;
    row->pin_failures = 0;
    snprintf(row->state, sizeof row->state, "%s", PB_WALLET_STATE_ACTIVE);
    return PB_OK;
}

pb_status pb_wallet_db_set_pin_verifier(pb_wallet_db *db, const char *id,
                                        const uint8_t verifier[32])
{
    return change(db, id, set_verifier_fn, verifier, NULL);
}

static pb_status set_in_doubt_fn(pb_wallet_row *row, const void *arg)
{
    row->in_doubt = *(const int *)arg;
    return PB_OK;
}

pb_status pb_wallet_db_set_in_doubt(pb_wallet_db *db, const char *id, int in_doubt)
{
    return change(db, id, set_in_doubt_fn, &in_doubt, NULL);
}

static pb_status set_lock_fn(pb_wallet_row *row, const void *arg)
{
    /* The lock and the end of the in-doubt mark land together. */
    const char *reason = arg;
    snprintf(row->state, sizeof row->state, "%s",
             reason ? PB_WALLET_STATE_LOCKED : PB_WALLET_STATE_ACTIVE);
    snprintf(row->lock_reason, sizeof row->lock_reason, "%s", reason ? reason : "");
    row->in_doubt = 0;
    return PB_OK;
}

pb_status pb_wallet_db_set_lock(pb_wallet_db *db, const char *id, const char *reason)
{
    return change(db, id, set_lock_fn, reason, NULL);
}

/* --- sealing rows written before seals existed -------------------------------- */

static pb_status seal_legacy_rows(pb_wallet_db *db)
{
    pb_wallet_row *rows = NULL;
    size_t n = 0;
    pb_wallet_db_sealer saved = db->sealer;
    /* List without verification (they have no seals yet), then seal each. */
    db->sealer.seal = NULL;
    pb_status st = list_locked(db, &rows, &n);
    db->sealer = saved;
    for (size_t i = 0; st == PB_OK && i < n; i++) {
        rows[i].version = 0;
        st = store(db, &rows[i], 1);
    }
    free(rows);
    return st == PB_OK ? recount(db) : st;
}

static pb_status set_sealer_locked(pb_wallet_db *db, const pb_wallet_db_sealer *sealer)
{
    if (db->sealer.release)
        db->sealer.release(db->sealer.ctx);
    db->sealer = *sealer;
    if (!sealer->seal)
        return pb_fail(PB_ERR_NOMEM, "out of memory setting up the row seals");
    uint64_t counted;
    pb_status st = sealer->anchor_get(sealer->ctx, PB_WALLET_ROWS_MARKER, &counted);
    if (st != PB_ERR_NOT_FOUND)
        return st;
    /* First use with a token: every row there is gets its seal, once. A
     * database that was never opened read-write since seals exist can't
     * be sealed read-only: its rows are shown as they are until then. */
    if (sqlite3_db_readonly(db->db, "main") == 1) {
        if (db->sealer.release)
            db->sealer.release(db->sealer.ctx);
        memset(&db->sealer, 0, sizeof db->sealer);
        return PB_OK;
    }
    st = begin(db);
    if (st == PB_OK)
        st = end(db, seal_legacy_rows(db));
    return st;
}

pb_status pb_wallet_db_set_sealer(pb_wallet_db *db, const pb_wallet_db_sealer *sealer)
{
    pthread_mutex_lock(&db->mu);
    pb_status st = set_sealer_locked(db, sealer);
    pthread_mutex_unlock(&db->mu);
    return st;
}
