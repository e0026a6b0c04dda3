/* wallet_db.c - wallet metadata in SQLite (see wallet_db.h). */
#include "engine/wallet_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/fail.h"
#include "engine/sqlite_read_only.h"

struct pb_wallet_db {
    sqlite3 *db;
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
    " seq INTEGER NOT NULL DEFAULT 0);";

static pb_status db_fail(pb_wallet_db *db, const char *what)
{
    return pb_fail(PB_ERR_STORAGE, "wallet database: %s: %s", what, sqlite3_errmsg(db->db));
}

pb_status pb_wallet_db_open(const char *path, pb_wallet_db **out)
{
    *out = NULL;
    pb_wallet_db *db = calloc(1, sizeof *db);
    if (!db)
        return pb_fail(PB_ERR_NOMEM, "out of memory opening the wallet database");
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
    if (sqlite3_exec(db->db, schema, NULL, NULL, &err) != SQLITE_OK) {
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
    *out = db;
    return PB_OK;
}

void pb_wallet_db_close(pb_wallet_db *db)
{
    if (!db)
        return;
    sqlite3_close(db->db);
    free(db);
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static pb_status write_row(pb_wallet_db *db, const pb_wallet_row *row, int replace)
{
    sqlite3_stmt *s = NULL;
    const char *sql = replace ?
        "INSERT OR REPLACE INTO wallets(id,name,mode,public_key,xpub,state,created,exported,"
        "generation,pin_failures,pin_max,verifier,recovery_pub,seq)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,(SELECT IFNULL(MAX(seq),0)+1 FROM wallets))" :
        "INSERT INTO wallets(id,name,mode,public_key,xpub,state,created,exported,generation,"
        "pin_failures,pin_max,verifier,recovery_pub,seq)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,(SELECT IFNULL(MAX(seq),0)+1 FROM wallets))";
    if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_fail(db, "insert");
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
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc == SQLITE_CONSTRAINT)
        return pb_fail(PB_ERR_ARGUMENT, "a wallet with id %s already exists", row->id);
    return rc == SQLITE_DONE ? PB_OK : db_fail(db, "insert");
}

pb_status pb_wallet_db_insert(pb_wallet_db *db, const pb_wallet_row *row)
{
    return write_row(db, row, 0);
}

pb_status pb_wallet_db_put(pb_wallet_db *db, const pb_wallet_row *row)
{
    return write_row(db, row, 1);
}

static void copy_column(sqlite3_stmt *s, int col, char *dst, size_t cap)
{
    const unsigned char *v = sqlite3_column_text(s, col);
    snprintf(dst, cap, "%s", v ? (const char *)v : "");
}

static void read_row(sqlite3_stmt *s, pb_wallet_row *row)
{
    memset(row, 0, sizeof *row);
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
}

#define ROW_COLUMNS                                                                            \
    "id,name,mode,public_key,xpub,state,created,exported,generation,pin_failures,pin_max,"      \
    "verifier,recovery_pub"

pb_status pb_wallet_db_get(pb_wallet_db *db, const char *id, pb_wallet_row *row)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db->db, "SELECT " ROW_COLUMNS " FROM wallets WHERE id=?", -1, &s,
                           NULL) != SQLITE_OK)
        return db_fail(db, "select");
    bind_text(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_row(s, row);
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW)
        return PB_OK;
    if (rc == SQLITE_DONE)
        return pb_fail(PB_ERR_NOT_FOUND, "no wallet %s", id);
    return db_fail(db, "select");
}

pb_status pb_wallet_db_list(pb_wallet_db *db, pb_wallet_row **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db->db, "SELECT " ROW_COLUMNS " FROM wallets ORDER BY seq", -1, &s,
                           NULL) != SQLITE_OK)
        return db_fail(db, "list");
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            pb_wallet_row *grown = realloc(*rows, cap * sizeof **rows);
            if (!grown) {
                sqlite3_finalize(s);
                free(*rows);
                *rows = NULL;
                *n = 0;
                return pb_fail(PB_ERR_NOMEM, "out of memory listing wallets");
            }
            *rows = grown;
        }
        read_row(s, &(*rows)[(*n)++]);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? PB_OK : db_fail(db, "list");
}

/* Runs an UPDATE/DELETE with the wallet id as the last parameter. */
static pb_status exec_for_wallet(pb_wallet_db *db, const char *sql, const char *text_arg,
                                 const char *id, const char *what)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_fail(db, what);
    int i = 1;
    if (text_arg)
        bind_text(s, i++, text_arg);
    bind_text(s, i, id);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return db_fail(db, what);
    if (sqlite3_changes(db->db) == 0)
        return pb_fail(PB_ERR_NOT_FOUND, "no wallet %s", id);
    return PB_OK;
}

pb_status pb_wallet_db_delete(pb_wallet_db *db, const char *id)
{
    return exec_for_wallet(db, "DELETE FROM wallets WHERE id=?", NULL, id, "delete");
}

pb_status pb_wallet_db_set_state(pb_wallet_db *db, const char *id, const char *state)
{
    return exec_for_wallet(db, "UPDATE wallets SET state=? WHERE id=?", state, id, "set state");
}

pb_status pb_wallet_db_set_exported(pb_wallet_db *db, const char *id)
{
    return exec_for_wallet(db, "UPDATE wallets SET exported=1 WHERE id=?", NULL, id,
                           "set exported");
}

pb_status pb_wallet_db_set_generation(pb_wallet_db *db, const char *id, uint32_t generation)
{
    char gen[16];
    snprintf(gen, sizeof gen, "%u", generation);
    return exec_for_wallet(db, "UPDATE wallets SET generation=CAST(? AS INTEGER) WHERE id=?", gen,
                           id, "set generation");
}

pb_status pb_wallet_db_pin_failure(pb_wallet_db *db, const char *id, int *failures,
                                   int *locked_out)
{
    /* One statement: the increment and the lock-out decision cannot interleave. */
    sqlite3_stmt *s = NULL;
    const char *sql = "UPDATE wallets SET pin_failures=pin_failures+1,"
                      " state=CASE WHEN pin_failures+1>=pin_max THEN 'locked_out' ELSE state END"
                      " WHERE id=? RETURNING pin_failures, state";
    if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_fail(db, "count PIN failure");
    bind_text(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *failures = sqlite3_column_int(s, 0);
        const unsigned char *state = sqlite3_column_text(s, 1);
        *locked_out = state && strcmp((const char *)state, PB_WALLET_STATE_LOCKED_OUT) == 0;
        rc = sqlite3_step(s);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return db_fail(db, "count PIN failure");
    return PB_OK;
}

pb_status pb_wallet_db_pin_success(pb_wallet_db *db, const char *id)
{
    return exec_for_wallet(db, "UPDATE wallets SET pin_failures=0 WHERE id=?", NULL, id,
                           "reset PIN failures");
}

pb_status pb_wallet_db_set_pin_verifier(pb_wallet_db *db, const char *id,
                                        const uint8_t verifier[32])
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db->db,
                           "UPDATE wallets SET verifier=?, pin_failures=0, state='active'"
                           " WHERE id=?",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(db, "set verifier");
    sqlite3_bind_blob(s, 1, verifier, 32, SQLITE_TRANSIENT);
    bind_text(s, 2, id);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return db_fail(db, "set verifier");
    return sqlite3_changes(db->db) ? PB_OK : pb_fail(PB_ERR_NOT_FOUND, "no wallet %s", id);
}
