/* The read-only commands on a genuinely read-only data directory (a
 * read-only bind mount; root ignores permission bits, a read-only mount
 * it cannot): wallet list/show and audit verify/show/export give the same
 * output as before, a write command fails with a clear message and changes
 * nothing, and the queries never log in to a token. Mounts are made in a
 * private mount namespace, so a failed test cannot leave one behind; if
 * mounting is impossible the tests fail (they never skip). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine_internal.h"
#include "support/cli_runner.h"
#include "support/engine_fixture.h"

static pb_test_engine t;
static char wallet_id[PB_ENGINE_ID_SIZE];
static int mounted;

static void setup(void)
{
    pb_test_engine_make(&t);
    pb_wallet_info info;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", "ro", NULL, &info, code), PB_OK, "%s",
                 pb_last_error());
    snprintf(wallet_id, sizeof wallet_id, "%s", info.id);
    /* The last read-write connection closes the databases cleanly: no -shm. */
    pb_engine_close(t.e);
    t.e = NULL;
}

static void unmount_home(void)
{
    if (mounted && umount2(t.home, 0) == 0)
        mounted = 0;
}

static void teardown(void)
{
    unmount_home();
    pb_test_engine_remove(&t);
}

TestSuite(audit_read_only, .init = setup, .fini = teardown);

static void mount_home_read_only(void)
{
    cr_assert_eq(unshare(CLONE_NEWNS), 0,
                 "unshare(CLONE_NEWNS): %s: these tests need root and mount namespaces",
                 strerror(errno));
    cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "making / private: %s",
                 strerror(errno));
    cr_assert_eq(mount(t.home, t.home, NULL, MS_BIND, NULL), 0, "bind mount: %s",
                 strerror(errno));
    mounted = 1;
    cr_assert_eq(mount(NULL, t.home, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), 0,
                 "read-only remount: %s", strerror(errno));
    /* Read-only for root too. */
    char probe[400];
    snprintf(probe, sizeof probe, "%s/probe", t.home);
    int fd = open(probe, O_WRONLY | O_CREAT, 0600);
    cr_assert_lt(fd, 0, "root could create a file on the read-only mount");
    cr_assert_eq(errno, EROFS);
}

/* SHA-256 over every file's path, size and bytes: "nothing changed". */
static EVP_MD_CTX *tree_md;
static int hash_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    EVP_DigestUpdate(tree_md, path, strlen(path) + 1);
    if (flag != FTW_F)
        return 0;
    EVP_DigestUpdate(tree_md, &sb->st_size, sizeof sb->st_size);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        EVP_DigestUpdate(tree_md, chunk, n);
    fclose(f);
    return 0;
}

static void tree_digest(uint8_t out[32])
{
    tree_md = EVP_MD_CTX_new();
    cr_assert(EVP_DigestInit_ex(tree_md, EVP_sha256(), NULL));
    cr_assert_eq(nftw(t.home, hash_entry, 16, FTW_PHYS), 0);
    cr_assert(EVP_DigestFinal_ex(tree_md, out, NULL));
    EVP_MD_CTX_free(tree_md);
}

#define N_QUERIES 6
static const char *queries[N_QUERIES] = {
    "wallet list", NULL /* wallet show ID */, "audit verify --node 1", "audit verify --node 2",
    "audit show --node 1", "audit export --node 2 --format csv",
};

static void run_queries(char *outputs[N_QUERIES])
{
    char show[128];
    snprintf(show, sizeof show, "wallet show %s", wallet_id);
    for (int i = 0; i < N_QUERIES; i++) {
        pb_test_cli r;
        pb_test_cli_run(t.home, queries[i] ? queries[i] : show, &r);
        cr_assert_eq(r.code, 0, "'%s' exit %d: %s%s", queries[i] ? queries[i] : show, r.code,
                     r.out, r.err);
        outputs[i] = r.out;
        free(r.err);
    }
}

static void assert_same_outputs(char *before[N_QUERIES], char *after[N_QUERIES])
{
    for (int i = 0; i < N_QUERIES; i++) {
        cr_assert_str_eq(after[i], before[i], "'%s' differs on the read-only mount",
                         queries[i] ? queries[i] : "wallet show");
        free(before[i]);
        free(after[i]);
    }
}

static int wal_index_exists(int node)
{
    char path[400];
    struct stat sb;
    snprintf(path, sizeof path, "%s/node%d/wallets.db-shm", t.home, node);
    return stat(path, &sb) == 0;
}

Test(audit_read_only, queries_work_and_writes_fail_on_a_read_only_mount)
{
    char *before[N_QUERIES], *after[N_QUERIES];
    run_queries(before);
    cr_assert_not_null(strstr(before[0], wallet_id), "%s", before[0]);
    cr_assert_not_null(strstr(before[2], "\"ok\":true"), "%s", before[2]);
    /* A clean close again (the read-only queries may leave SQLite's -shm). */
    pb_test_engine_reopen(&t);
    pb_engine_close(t.e);
    t.e = NULL;
    cr_assert_not(wal_index_exists(1), "the database was not closed cleanly");
    uint8_t digest_before[32], digest_after[32];
    tree_digest(digest_before);

    mount_home_read_only();
    /* Without an -shm file on a read-only file system: the immutable open. */
    run_queries(after);
    assert_same_outputs(before, after);

    pb_test_cli r;
    pb_test_cli_run(t.home, "wallet create --mode standard --name nope", &r);
    cr_assert_neq(r.code, 0);
    cr_assert_eq(r.code, 5, "%s", r.err);
    cr_assert_str_eq(r.out, "");
    cr_assert_not_null(strstr(r.err, "read-only file system"), "%s", r.err);
    pb_test_cli_free(&r);
    pb_test_cli_run(t.home, "sign --wallet x --digest "
                            "0000000000000000000000000000000000000000000000000000000000000000", &r);
    cr_assert_eq(r.code, 5, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "read-only file system"), "%s", r.err);
    pb_test_cli_free(&r);

    /* The library says the same, and the read-only engine still reads. */
    pb_engine *e = NULL;
    cr_assert_eq(pb_engine_open(t.home, &e), PB_ERR_STORAGE);
    cr_assert_not_null(strstr(pb_last_error(), "read-only file system"), "%s", pb_last_error());
    cr_assert_eq(pb_engine_open_read_only(t.home, &e), PB_OK, "%s", pb_last_error());
    pb_wallet_info info;
    cr_assert_eq(pb_engine_wallet_show(e, wallet_id, &info), PB_OK, "%s", pb_last_error());
    cr_assert_str_eq(info.name, "ro");
    pb_engine_close(e);

    unmount_home();
    cr_assert_eq(mounted, 0, "umount: %s", strerror(errno));
    tree_digest(digest_after);
    cr_assert_eq(memcmp(digest_before, digest_after, 32), 0, "the data directory changed");
}

Test(audit_read_only, queries_work_with_the_wal_index_present)
{
    char *before[N_QUERIES], *after[N_QUERIES];
    run_queries(before); /* read-only connections leave -shm behind */
    cr_assert(wal_index_exists(1));
    mount_home_read_only();
    run_queries(after);
    assert_same_outputs(before, after);
}

Test(audit_read_only, a_torn_tail_still_stops_the_queries_on_a_read_only_mount)
{
    char seg[400];
    snprintf(seg, sizeof seg, "%s/audit/node2/audit-000001.jsonl", t.home);
    FILE *f = fopen(seg, "ab");
    fputs("{\"seq\":3", f);
    fclose(f);
    mount_home_read_only();
    pb_test_cli r;
    pb_test_cli_run(t.home, "wallet list", &r);
    cr_assert_eq(r.code, 6, "%s%s", r.out, r.err);
    cr_assert_not_null(strstr(r.err, "run 'planbok audit repair --node 2'"), "%s", r.err);
    pb_test_cli_free(&r);
    /* And the repair cannot write here: it says so, and exits non-zero. */
    pb_test_cli_run(t.home, "audit repair --node 2", &r);
    cr_assert_eq(r.code, 5, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "Read-only file system"), "%s", r.err);
    pb_test_cli_free(&r);
}

Test(audit_read_only, a_read_only_engine_reads_and_refuses_writes)
{
    /* Queries open the tokens in read-only sessions (each row is checked
     * against its seal and anchor in the token) and write nothing. */
    char *outputs[N_QUERIES];
    for (int i = 0; i < N_QUERIES; i++) {
        char show[128];
        snprintf(show, sizeof show, "wallet show %s", wallet_id);
        pb_test_cli r;
        pb_test_cli_run(t.home, queries[i] ? queries[i] : show, &r);
        cr_assert_eq(r.code, 0, "%s", r.err);
        outputs[i] = r.out;
        free(r.err);
        free(outputs[i]);
    }

    pb_engine *e = NULL;
    cr_assert_eq(pb_engine_open_read_only(t.home, &e), PB_OK, "%s", pb_last_error());
    pb_wallet_info *infos = NULL, info;
    size_t n = 0;
    cr_assert_eq(pb_engine_wallet_list(e, &infos, &n), PB_OK, "%s", pb_last_error());
    cr_assert_eq(n, 1);
    free(infos);
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    uint8_t digest[32] = {1}, priv[32], pub[33];
    pb_signature_result sig;
    size_t records;
    cr_assert_eq(pb_engine_wallet_create(e, "standard", "x", NULL, &info, code), PB_ERR_ARGUMENT);
    cr_assert_not_null(strstr(pb_last_error(), "opened read-only"), "%s", pb_last_error());
    cr_assert_eq(pb_engine_sign(e, wallet_id, digest, NULL, NULL, &sig), PB_ERR_ARGUMENT);
    cr_assert_not_null(strstr(pb_last_error(), "opened read-only"), "%s", pb_last_error());
    cr_assert_eq(pb_engine_refresh(e, wallet_id, NULL), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_engine_wallet_unlock(e, wallet_id, NULL), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_engine_export(e, wallet_id, NULL, priv, pub), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_engine_setup_nodes(e, NULL, NULL), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_engine_backup(e, 1, "", "/nonexistent", &records), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_engine_wallet_list(e, &infos, &n), PB_OK);
    cr_assert_eq(n, 1, "a refused create left a wallet");
    free(infos);
    pb_engine_close(e);
}
