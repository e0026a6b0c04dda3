/* Forged state is refused (issue 9, item 6): every column of every row of
 * both nodes' wallet databases is edited in turn, outside planbok, and the
 * engine must report an integrity failure (the CLI's exit 6) or the edit
 * must be provably harmless (shown unchanged). Rolling the database back to
 * an older, authentic copy must not reset a PIN counter or unlock a wallet,
 * and an emptied or truncated database must not list as "no wallets". */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine_internal.h"
#include "engine/wallet_seal.h"
#include "support/engine_fixture.h"
#include "support/mpc_runner.h"
#include "support/support.h"

static const uint8_t pin[] = "123456", wrong_pin[] = "654321";

typedef struct fixture {
    pb_test_engine t;
    pb_secrets customer;
    pb_secrets wrong;
    pb_wallet_info standard, cust;
} fixture;

static void make(fixture *f)
{
    pb_test_engine_make(&f->t);
    f->customer = (pb_secrets){.pin = pin, .pin_len = 6, .device_dir = f->t.device};
    f->wrong = (pb_secrets){.pin = wrong_pin, .pin_len = 6, .device_dir = f->t.device};
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(f->t.e, "standard", "treasury", NULL, &f->standard, code),
                 PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_engine_wallet_create(f->t.e, "customer", "alice", &f->customer, &f->cust,
                                         code),
                 PB_OK, "%s", pb_last_error());
}

static void db_path(const fixture *f, int node, char *out, size_t n)
{
    snprintf(out, n, "%s/node%d/wallets.db", f->t.home, node);
}

/* Runs one SQL statement on a node's database, as an intruder would. */
static void edit(fixture *f, int node, const char *sql, const char *wallet_id)
{
    char path[600];
    db_path(f, node, path, sizeof path);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *s = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    if (sqlite3_bind_parameter_count(s) > 0)
        sqlite3_bind_text(s, 1, wallet_id, -1, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(s), SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_changes(db), 1, "%s changed no row", sql);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

typedef struct column_edit {
    const char *column;
    const char *sql; /* ?1 = wallet id */
    int harmless;    /* 1: must show unchanged instead */
} column_edit;

static const column_edit edits[] = {
    {"id", "UPDATE wallets SET id=id||'x' WHERE id=?1", 0},
    {"name", "UPDATE wallets SET name=name||'x' WHERE id=?1", 0},
    {"mode", "UPDATE wallets SET mode=CASE mode WHEN 'standard' THEN 'trustless' "
             "ELSE 'standard' END WHERE id=?1", 0},
    {"public_key", "UPDATE wallets SET public_key=substr(public_key,1,64)||"
                   "CASE substr(public_key,65,2) WHEN '00' THEN '01' ELSE '00' END WHERE id=?1", 0},
    {"xpub", "UPDATE wallets SET xpub=substr(xpub,1,50)||CASE substr(xpub,51,1) WHEN 'Z' "
             "THEN 'Y' ELSE 'Z' END||substr(xpub,52) WHERE id=?1", 0},
    {"state", "UPDATE wallets SET state=CASE state WHEN 'active' THEN 'locked' ELSE 'active' END "
              "WHERE id=?1", 0},
    {"created", "UPDATE wallets SET created='2020-01-01T00:00:00Z' WHERE id=?1", 0},
    {"exported", "UPDATE wallets SET exported=1-exported WHERE id=?1", 0},
    {"generation", "UPDATE wallets SET generation=generation+1 WHERE id=?1", 0},
    {"pin_failures", "UPDATE wallets SET pin_failures=pin_failures+1 WHERE id=?1", 0},
    {"pin_max", "UPDATE wallets SET pin_max=pin_max+100 WHERE id=?1", 0},
    {"verifier", "UPDATE wallets SET verifier=randomblob(32) WHERE id=?1", 0},
    {"recovery_pub", "UPDATE wallets SET recovery_pub=randomblob(33) WHERE id=?1", 0},
    {"verifier_next", "UPDATE wallets SET verifier_next=randomblob(32) WHERE id=?1", 0},
    {"in_doubt", "UPDATE wallets SET in_doubt=1-in_doubt WHERE id=?1", 0},
    {"lock_reason", "UPDATE wallets SET lock_reason='abort' WHERE id=?1", 0},
    {"version", "UPDATE wallets SET version=version+1 WHERE id=?1", 0},
    {"seal (removed)", "UPDATE wallets SET seal=NULL WHERE id=?1", 0},
    {"seal (replaced)", "UPDATE wallets SET seal=randomblob(length(seal)) WHERE id=?1", 0},
    {"seal (another wallet's)", "UPDATE wallets SET seal=(SELECT seal FROM wallets w2 "
                                "WHERE w2.id<>?1 LIMIT 1) WHERE id=?1", 0},
    /* seq only orders the listing. */
    {"seq", "UPDATE wallets SET seq=seq+100 WHERE id=?1", 1},
};

static int same_info(const pb_wallet_info *a, const pb_wallet_info *b)
{
    return !strcmp(a->id, b->id) && !strcmp(a->public_key, b->public_key) &&
           !strcmp(a->xpub, b->xpub) && !strcmp(a->mode, b->mode) &&
           !strcmp(a->state, b->state) && a->pin_failures == b->pin_failures &&
           a->generation == b->generation && a->exported == b->exported;
}

/* Copies a node's database aside (engine closed) or puts the copy back.
 * The tamper sweep edits one copy per case: a fresh installation each time
 * would cost a DKG per wallet. */
static void keep_copy(fixture *f, int node, const char *name, int restore)
{
    char path[600], copy[700], cmd[4096];
    db_path(f, node, path, sizeof path);
    snprintf(copy, sizeof copy, "%s/%s", f->t.home, name);
    if (restore)
        snprintf(cmd, sizeof cmd, "cp '%s' '%s' && rm -f '%s-wal' '%s-shm'", copy, path, path,
                 path);
    else
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, copy);
    cr_assert_eq(system(cmd), 0);
}

static void close_engine(fixture *f)
{
    /* The last connection's close folds the WAL into the file. */
    pb_engine_close(f->t.e);
    f->t.e = NULL;
}

Test(engine_db_tamper, every_column_of_both_nodes_is_detected_or_harmless)
{
    fixture f;
    make(&f);
    close_engine(&f);
    int checked = 0;
    for (int node = 1; node <= 2; node++) {
        char pristine[32];
        snprintf(pristine, sizeof pristine, "node%d-pristine.db", node);
        keep_copy(&f, node, pristine, 0);
        for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
            for (int w = 0; w < 2; w++) {
                const pb_wallet_info *target = w ? &f.cust : &f.standard;
                /* Node 1 keeps no PIN verifier or recovery key: nothing to edit. */
                if (node == 1 && (!strcmp(edits[i].column, "verifier") ||
                                  !strcmp(edits[i].column, "recovery_pub") ||
                                  !strcmp(edits[i].column, "verifier_next")) && w)
                    continue;
                edit(&f, node, edits[i].sql, target->id);
                cr_assert_eq(pb_engine_open(f.t.home, &f.t.e), PB_OK, "%s", pb_last_error());
                pb_wallet_info shown;
                pb_status st = pb_engine_wallet_show(f.t.e, target->id, &shown);
                pb_wallet_info *all = NULL;
                size_t n = 0;
                pb_status listed = pb_engine_wallet_list(f.t.e, &all, &n);
                if (edits[i].harmless) {
                    cr_assert_eq(st, PB_OK, "node %d %s: %s", node, edits[i].column,
                                 pb_last_error());
                    cr_assert(same_info(&shown, target), "node %d %s changed what is shown",
                              node, edits[i].column);
                    cr_assert_eq(listed, PB_OK);
                } else {
                    cr_assert_eq(st, PB_ERR_INTEGRITY,
                                 "node %d, wallet %d, column %s: show returned %s", node, w,
                                 edits[i].column, pb_status_name(st));
                    cr_assert_eq(listed, PB_ERR_INTEGRITY,
                                 "node %d, column %s: list returned %s", node, edits[i].column,
                                 pb_status_name(listed));
                    /* And the wallet does not sign with it. */
                    uint8_t digest[32] = {1};
                    pb_signature_result res;
                    pb_status signed_st = pb_engine_sign(f.t.e, target->id, digest, NULL,
                                                         w ? &f.customer : NULL, &res);
                    cr_assert_neq(signed_st, PB_OK, "node %d %s: signed", node, edits[i].column);
                }
                free(all);
                close_engine(&f);
                keep_copy(&f, node, pristine, 1);
                checked++;
            }
        }
    }
    cr_assert_geq(checked, 70);
    /* Put back, everything is as before. */
    cr_assert_eq(pb_engine_open(f.t.home, &f.t.e), PB_OK, "%s", pb_last_error());
    pb_test_assert_signs(&f.t, f.standard.id, NULL);
    pb_test_assert_signs(&f.t, f.cust.id, &f.customer);
    pb_test_engine_remove(&f.t);
}

Test(engine_db_tamper, the_cli_exits_6_with_a_clear_message)
{
    fixture f;
    make(&f);
    close_engine(&f);
    /* The other parity: the same x, a different key, an address that is not ours. */
    edit(&f, 1,
         "UPDATE wallets SET public_key=CASE substr(public_key,1,2) WHEN '02' THEN '03' "
         "ELSE '02' END||substr(public_key,3) WHERE id=?1",
         f.standard.id);
    const char *bin = getenv("PB_BINARY_DIR");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s/bin/planbok' --home '%s' wallet show %s 2>&1 >/dev/null",
             bin && *bin ? bin : ".", f.t.home, f.standard.id);
    FILE *p = popen(cmd, "r");
    char message[1024] = "";
    size_t got = fread(message, 1, sizeof message - 1, p);
    message[got] = '\0';
    int status = pclose(p);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 6, "exit status 0x%x: %s", status,
              message);
    cr_assert(strstr(message, "public_key") && strstr(message, "changed outside planbok"),
              "unclear message: %s", message);
    pb_test_engine_remove(&f.t);
}

Test(engine_db_tamper, rolling_back_to_an_authentic_copy_resets_no_counter_and_no_lock)
{
    fixture f;
    make(&f);
    close_engine(&f);
    keep_copy(&f, 2, "node2-before.db", 0);
    keep_copy(&f, 1, "node1-before.db", 0);
    pb_test_engine_reopen(&f.t);
    uint8_t digest[32] = {8};
    pb_signature_result res;
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pb_engine_sign(f.t.e, f.cust.id, digest, NULL, &f.wrong, &res), PB_ERR_AUTH);
    /* A global abort on the standard wallet. */
    uint8_t *good;
    size_t good_len;
    pb_test_corrupt_cosigner(&f.t, f.standard.id, &good, &good_len);
    cr_assert_eq(pb_engine_sign(f.t.e, f.standard.id, digest, NULL, NULL, &res), PB_ERR_ABORTED);
    pb_blob_ref ref = {f.standard.id, 2, PB_BLOB_SHARE};
    cr_assert_eq(pb_keystore_put_sealed(f.t.e->node[1].ks, &ref, good, good_len), PB_OK);
    free(good);
    close_engine(&f);

    /* The PIN counter: node 2's database from before the four failures. */
    keep_copy(&f, 2, "node2-before.db", 1);
    cr_assert_eq(pb_engine_open(f.t.home, &f.t.e), PB_OK, "%s", pb_last_error());
    pb_status st = pb_engine_sign(f.t.e, f.cust.id, digest, NULL, &f.wrong, &res);
    cr_assert_eq(st, PB_ERR_INTEGRITY, "PIN guessing re-opened by a rollback: %s",
                 pb_status_name(st));
    pb_wallet_info shown;
    cr_assert_eq(pb_engine_wallet_show(f.t.e, f.cust.id, &shown), PB_ERR_INTEGRITY);
    close_engine(&f);

    /* The lock: node 1's database from before the abort. */
    keep_copy(&f, 1, "node1-before.db", 1);
    cr_assert_eq(pb_engine_open(f.t.home, &f.t.e), PB_OK, "%s", pb_last_error());
    st = pb_engine_sign(f.t.e, f.standard.id, digest, NULL, NULL, &res);
    cr_assert_eq(st, PB_ERR_INTEGRITY, "a rollback unlocked the wallet: %s", pb_status_name(st));
    pb_test_engine_remove(&f.t);
}

Test(engine_db_tamper, an_emptied_or_missing_database_is_not_an_empty_node)
{
    fixture f;
    make(&f);
    close_engine(&f);
    char path[600], cmd[4096];
    db_path(&f, 1, path, sizeof path);
    /* A 0-byte file. */
    snprintf(cmd, sizeof cmd, ": > '%s' && rm -f '%s-wal' '%s-shm'", path, path, path);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(pb_engine_open(f.t.home, &f.t.e), PB_OK, "%s", pb_last_error());
    pb_wallet_info *all = NULL;
    size_t n = 0;
    cr_assert_eq(pb_engine_wallet_list(f.t.e, &all, &n), PB_ERR_INTEGRITY,
                 "an emptied database listed %zu wallets", n);
    free(all);
    pb_wallet_info shown;
    cr_assert_eq(pb_engine_wallet_show(f.t.e, f.standard.id, &shown), PB_ERR_INTEGRITY);
    close_engine(&f);
    /* One row deleted from node 2. */
    pb_test_engine_remove(&f.t);
    make(&f);
    close_engine(&f);
    edit(&f, 2, "DELETE FROM wallets WHERE id=?1", f.cust.id);
    cr_assert_eq(pb_engine_open(f.t.home, &f.t.e), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_engine_wallet_show(f.t.e, f.cust.id, &shown), PB_ERR_INTEGRITY);
    cr_assert_eq(pb_engine_wallet_list(f.t.e, &all, &n), PB_ERR_INTEGRITY);
    free(all);
    pb_test_engine_remove(&f.t);
}

/* Another process commits between this one's read of a row and its read of
 * the row's anchor: the anchor is then ahead by more than one. That is not
 * a rollback, and must not raise the integrity alarm (issue 9, item 11). */
typedef struct racing_sealer {
    pb_wallet_db_sealer real;
    pb_wallet_db *other_process;
    const char *wallet_id;
    int commits_between; /* done once, at the first anchor read */
    int last_in_doubt;   /* the value the last of those commits leaves */
} racing_sealer;

static pb_status racing_seal(void *ctx, const char *id, const uint8_t *in, size_t len,
                             uint8_t **out, size_t *out_len)
{
    racing_sealer *r = ctx;
    return r->real.seal(r->real.ctx, id, in, len, out, out_len);
}

static pb_status racing_open(void *ctx, const char *id, const uint8_t *in, size_t len,
                             uint8_t **out, size_t *out_len)
{
    racing_sealer *r = ctx;
    return r->real.open(r->real.ctx, id, in, len, out, out_len);
}

static pb_status racing_anchor_get(void *ctx, const char *id, uint64_t *version)
{
    racing_sealer *r = ctx;
    if (r->commits_between > 0 && !strcmp(id, r->wallet_id)) {
        for (int i = 0; i < r->commits_between; i++)
            cr_assert_eq(pb_wallet_db_set_in_doubt(r->other_process, id,
                                                   (r->commits_between - 1 - i) % 2 == 0
                                                       ? r->last_in_doubt
                                                       : !r->last_in_doubt),
                         PB_OK, "%s", pb_last_error());
        r->commits_between = 0;
    }
    return r->real.anchor_get(r->real.ctx, id, version);
}

static pb_status racing_anchor_put(void *ctx, const char *id, uint64_t version)
{
    racing_sealer *r = ctx;
    return r->real.anchor_put(r->real.ctx, id, version);
}

static pb_status racing_anchor_drop(void *ctx, const char *id)
{
    racing_sealer *r = ctx;
    return r->real.anchor_drop(r->real.ctx, id);
}

static void keep(void *ctx) { (void)ctx; }

Test(engine_db_tamper, a_commit_between_reading_a_row_and_its_anchor_is_not_a_rollback)
{
    fixture f;
    make(&f);
    pb_engine_node *node1 = pb_node1(f.t.e);
    pb_wallet_row before;
    cr_assert_eq(pb_wallet_db_get(node1->db, f.standard.id, &before), PB_OK);

    char path[600];
    db_path(&f, 1, path, sizeof path);
    pb_wallet_db *reader = NULL;
    cr_assert_eq(pb_wallet_db_open(path, &reader), PB_OK, "%s", pb_last_error());
    racing_sealer race = {.other_process = node1->db, .wallet_id = f.standard.id};
    pb_wallet_sealer_for(&race.real, node1->ks, 1);
    pb_wallet_db_sealer wrapped = {&race,        racing_seal,       racing_open, racing_anchor_get,
                                   racing_anchor_put, racing_anchor_drop, keep};
    cr_assert_eq(pb_wallet_db_set_sealer(reader, &wrapped), PB_OK, "%s", pb_last_error());

    /* Three commits (in doubt, clear, in doubt): the anchor is three
     * versions ahead of the row this reader has just read. */
    race.commits_between = 3;
    race.last_in_doubt = 1;
    pb_wallet_row row;
    cr_assert_eq(pb_wallet_db_get(reader, f.standard.id, &row), PB_OK,
                 "a concurrent commit read as a rollback: %s", pb_last_error());
    cr_assert_eq(race.commits_between, 0, "the race was not staged");
    cr_assert_eq(row.version, before.version + 3);
    cr_assert_eq(row.in_doubt, 1, "the reader returned the row it read before the commits");

    /* The same through a listing (clear, in doubt, clear). */
    race.commits_between = 3;
    race.last_in_doubt = 0;
    pb_wallet_row *rows = NULL;
    size_t n = 0;
    cr_assert_eq(pb_wallet_db_list(reader, &rows, &n), PB_OK, "%s", pb_last_error());
    cr_assert_eq(race.commits_between, 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(rows[0].in_doubt, 0, "the listing returned the row it read before the commits");
    free(rows);

    pb_wallet_db_close(reader);
    race.real.release(race.real.ctx);
    pb_test_engine_remove(&f.t);
}
