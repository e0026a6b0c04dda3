/* engine.c - opening a data directory's two nodes (read-write, or read-only
 * for the queries), node set-up, and the read-only wallet queries (see
 * planbok/engine.h). */
#include "engine/engine_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "common/fail.h"
#include "common/file_write.h"
#include "common/secret.h"
#include "engine/audit_wiring.h"
#include "engine/wallet_lock.h"
#include "engine/wallet_seal.h"

void pb_hex_encode(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void pb_engine_now(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void pb_engine_info_from_row(pb_wallet_info *info, const pb_wallet_row *row)
{
    memset(info, 0, sizeof *info);
    snprintf(info->id, sizeof info->id, "%s", row->id);
    snprintf(info->name, sizeof info->name, "%s", row->name);
    snprintf(info->mode, sizeof info->mode, "%s", row->mode);
    snprintf(info->public_key, sizeof info->public_key, "%s", row->public_key);
    snprintf(info->xpub, sizeof info->xpub, "%s", row->xpub);
    snprintf(info->state, sizeof info->state, "%s", row->state);
    snprintf(info->lock_reason, sizeof info->lock_reason, "%s", row->lock_reason);
    snprintf(info->created, sizeof info->created, "%s", row->created);
    info->exported = row->exported;
    info->generation = row->generation;
    info->pin_failures = row->pin_failures;
    info->pin_max = row->pin_max;
}

static pb_status open_node(pb_engine *e, int number)
{
    pb_engine_node *node = &e->node[number - 1];
    node->number = number;
    char dir[600], db_path[700];
    snprintf(dir, sizeof dir, "%s/node%d", e->cfg.home, number);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return pb_fail(PB_ERR_STORAGE, "cannot create '%s': %s", dir, strerror(errno));
    snprintf(db_path, sizeof db_path, "%s/wallets.db", dir);
    pb_status st = pb_wallet_db_open(db_path, &node->db);
    if (st != PB_OK)
        return st;
    st = pb_keystore_open(&e->cfg.node[number - 1], 0, &node->ks);
    if (st == PB_OK) {
        /* From here every row read is checked against the token. */
        pb_wallet_db_sealer sealer;
        pb_wallet_sealer_for(&sealer, node->ks, number);
        st = pb_wallet_db_set_sealer(node->db, &sealer);
    }
    if (st == PB_OK)
        st = pb_node_audit_open(&e->cfg, number, node->ks, &node->audit);
    /* The library prints nothing: the fix is told to the audit trail. */
    if (st == PB_OK && pb_wallet_db_tightened(node->db))
        st = pb_engine_audit(e, number, "storage.tightened", NULL, NULL, PB_OK, 0);
    return st == PB_OK ? PB_OK : pb_fail_context(st, "node %d", number);
}

/* A read-only node: its database read-only, its audit log only checked,
 * its token in read-only sessions: a row is shown only once its seal and
 * anchor in the token check out. */
static pb_status open_node_read_only(pb_engine *e, int number)
{
    pb_engine_node *node = &e->node[number - 1];
    node->number = number;
    char db_path[700];
    snprintf(db_path, sizeof db_path, "%s/node%d/wallets.db", e->cfg.home, number);
    pb_status st = pb_wallet_db_open_read_only(db_path, &node->db);
    if (st == PB_OK)
        st = pb_keystore_open(&e->cfg.node[number - 1], PB_KEYSTORE_READ_ONLY, &node->ks);
    if (st == PB_OK) {
        pb_wallet_db_sealer sealer;
        pb_wallet_sealer_for(&sealer, node->ks, number);
        st = pb_wallet_db_set_sealer(node->db, &sealer);
    }
    if (st == PB_OK)
        st = pb_node_audit_check(&e->cfg, number);
    return st == PB_OK ? PB_OK : pb_fail_context(st, "node %d", number);
}

/* Said up front: otherwise the first failure would be some file deep inside. */
static pb_status check_writable(const char *home)
{
    struct statvfs vfs;
    if (statvfs(home, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
        return pb_fail(PB_ERR_STORAGE,
                       "the data directory '%s' is on a read-only file system: only reading "
                       "works there (wallet list/show, audit verify/show/export)", home);
    return PB_OK;
}

static pb_status engine_open(const char *home, int read_only, pb_engine **out)
{
    *out = NULL;
    pb_engine *e = calloc(1, sizeof *e);
    if (!e)
        return pb_fail(PB_ERR_NOMEM, "out of memory opening the engine");
    snprintf(e->cfg.home, sizeof e->cfg.home, "%s", home);
    snprintf(e->actor, sizeof e->actor, "local");
    e->read_only = read_only;
    char path[600];
    pb_config_path(home, path, sizeof path);
    pb_status st = pb_config_load(path, &e->cfg);
    pthread_rwlock_init(&e->maintenance, NULL);
    if (st == PB_OK && !read_only)
        st = check_writable(home);
    for (int n = 1; st == PB_OK && n <= 2; n++)
        st = read_only ? open_node_read_only(e, n) : open_node(e, n);
    if (st == PB_OK && !read_only)
        st = pb_engine_settle_unfinished(e);
    if (st != PB_OK) {
        pb_engine_close(e);
        return st;
    }
    *out = e;
    return PB_OK;
}

pb_status pb_engine_open(const char *home, pb_engine **out)
{
    return engine_open(home, 0, out);
}

pb_status pb_engine_open_read_only(const char *home, pb_engine **out)
{
    return engine_open(home, 1, out);
}

pb_status pb_engine_require_writable(const pb_engine *e, const char *what)
{
    if (!e->read_only)
        return PB_OK;
    return pb_fail(PB_ERR_ARGUMENT, "%s: the engine was opened read-only", what);
}

void pb_engine_close(pb_engine *e)
{
    if (!e)
        return;
    for (int i = 0; i < 2; i++) {
        pb_audit_close(e->node[i].audit);
        pb_keystore_close(e->node[i].ks);
        pb_wallet_db_close(e->node[i].db);
    }
    pthread_rwlock_destroy(&e->maintenance);
    free(e);
}

static void cosigner_public_path(const pb_engine *e, char *out, size_t n)
{
    snprintf(out, n, "%s/node1/cosigner-public.bin", e->cfg.home);
}

pb_status pb_cosigner_load(pb_engine *e, pb_cosigner_params **params)
{
    pb_blob_ref ref = {PB_COSIGNER_WALLET_ID, 2, PB_BLOB_NODE_SECRET};
    uint8_t *plain = NULL;
    size_t len = 0;
    pb_status st = pb_keystore_get(pb_node2(e)->ks, &ref, &plain, &len);
    if (st == PB_ERR_NOT_FOUND)
        return pb_fail(PB_ERR_NOT_FOUND, "node 2 has no cosigner parameters; run 'planbok init'");
    if (st != PB_OK)
        return st;
    st = pb_cosigner_params_parse(params, plain, len);
    pb_secret_free(plain, len);
    return st;
}

pb_status pb_cosigner_public_load(pb_engine *e, pb_cosigner_public **pub)
{
    char path[700];
    cosigner_public_path(e, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return pb_fail(PB_ERR_NOT_FOUND, "node 1 has no cosigner parameters at '%s'; run 'planbok init'",
                       path);
    uint8_t *buf = malloc(PB_MPC_MESSAGE_MAX);
    size_t len = buf ? fread(buf, 1, PB_MPC_MESSAGE_MAX, f) : 0;
    fclose(f);
    if (!buf)
        return pb_fail(PB_ERR_NOMEM, "out of memory");
    /* Verifies Pi^prm: node 1 never trusts the file blindly. */
    pb_status st = pb_cosigner_public_parse(pub, buf, len);
    free(buf);
    return st == PB_OK ? PB_OK : pb_fail_context(st, "cosigner parameters '%s'", path);
}

pb_status pb_engine_setup_with(pb_engine *e, const pb_cosigner_params *params)
{
    pb_status guard = pb_engine_require_writable(e, "node set-up");
    if (guard != PB_OK)
        return guard;
    uint8_t *secret = NULL, *pub = NULL;
    size_t secret_len = 0, pub_len = 0;
    pb_blob_ref ref = {PB_COSIGNER_WALLET_ID, 2, PB_BLOB_NODE_SECRET};
    char path[700];
    cosigner_public_path(e, path, sizeof path);
    pb_status st = pb_cosigner_params_serialize(params, &secret, &secret_len);
    if (st == PB_OK)
        st = pb_keystore_put(pb_node2(e)->ks, &ref, secret, secret_len);
    /* In a two-machine deployment node 1 receives this export from node 2. */
    if (st == PB_OK)
        st = pb_cosigner_params_export(params, &pub, &pub_len);
    if (st == PB_OK)
        st = pb_file_write_atomic(path, pub, pub_len, NULL); /* 0600, fsync'd */
    pb_mpc_bytes_free(secret, secret_len);
    pb_mpc_bytes_free(pub, pub_len);
    return st;
}

pb_status pb_engine_setup_nodes(pb_engine *e, pb_engine_progress_fn progress, void *ctx)
{
    pb_status guard = pb_engine_require_writable(e, "node set-up");
    if (guard != PB_OK)
        return guard;
    pb_cosigner_params *params = NULL;
    pb_cosigner_public *pub = NULL;
    pb_status st = pb_cosigner_load(e, &params);
    if (st == PB_OK && pb_cosigner_public_load(e, &pub) == PB_OK) {
        pb_cosigner_public_free(pub);
        pb_cosigner_params_free(params);
        return PB_OK; /* both nodes are set up */
    }
    if (st == PB_ERR_NOT_FOUND)
        st = pb_cosigner_params_generate(&params, e->cfg.paillier_bits, progress, ctx);
    if (st == PB_OK)
        st = pb_engine_setup_with(e, params);
    pb_cosigner_params_free(params);
    return st;
}

pb_status pb_engine_wallet_show(pb_engine *e, const char *wallet_id, pb_wallet_info *info)
{
    pb_wallet_row row1, row2;
    pb_status st = pb_wallet_db_get(pb_node1(e)->db, wallet_id, &row1);
    if (st != PB_OK)
        return st;
    pb_engine_info_from_row(info, &row1);
    /* A mark nobody holds the critical lock for was left by a crash: the
     * next signing session will lock the wallet, so show it locked now. */
    pb_wallet_lock probe;
    if (row1.in_doubt &&
        pb_wallet_lock_try(e->cfg.home, wallet_id, PB_WALLET_LOCK_CRITICAL, &probe) == PB_OK) {
        pb_wallet_lock_release(&probe);
        snprintf(info->state, sizeof info->state, "%s", PB_WALLET_STATE_LOCKED);
        snprintf(info->lock_reason, sizeof info->lock_reason, "%s", PB_WALLET_LOCK_IN_DOUBT);
    }
    /* The cosigner's counters and lock-out live at node 2; a row node 2
     * does not have (a create cut short) is not an error here, a row that
     * fails its seal is. */
    st = pb_wallet_db_get(pb_node2(e)->db, wallet_id, &row2);
    if (st == PB_OK) {
        info->pin_failures = row2.pin_failures;
        info->pin_max = row2.pin_max;
        if (strcmp(row2.state, PB_WALLET_STATE_ACTIVE) != 0)
            snprintf(info->state, sizeof info->state, "%s", row2.state);
    }
    return st == PB_ERR_NOT_FOUND ? PB_OK : st;
}

pb_status pb_engine_wallet_list(pb_engine *e, pb_wallet_info **infos, size_t *n)
{
    pb_wallet_row *rows = NULL;
    size_t count = 0;
    *infos = NULL;
    *n = 0;
    pb_status st = pb_wallet_db_list(pb_node1(e)->db, &rows, &count);
    if (st != PB_OK)
        return st;
    pb_wallet_info *out = calloc(count ? count : 1, sizeof *out);
    if (!out) {
        free(rows);
        return pb_fail(PB_ERR_NOMEM, "out of memory listing wallets");
    }
    for (size_t i = 0; i < count && st == PB_OK; i++)
        st = pb_engine_wallet_show(e, rows[i].id, &out[i]);
    free(rows);
    if (st != PB_OK) {
        free(out);
        return st;
    }
    *infos = out;
    *n = count;
    return PB_OK;
}
