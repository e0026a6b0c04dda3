/* bench_audit.c - `planbok bench audit`: what the audit trail costs per
 * operation on this machine, with a scratch SoftHSM token and logs in a
 * temporary directory (never the node's own). Medians of:
 *   append             encode + hash + write(2) of one record
 *   append+fsync       the same with its fdatasync (what pb_audit_append costs)
 *   result+checkpoint  the engine's end of an operation: record and checkpoint
 *                      in one write and one fdatasync, signed by SoftHSM, the
 *                      token copy sealed in the background (the default)
 *   checkpoint, sync   pb_audit_checkpoint sealing the token copy before it
 *                      returns: sign + write + fsync + token object write
 * and the per-operation total of the engine's pattern (write-ahead request +
 * result with checkpoint). The last line is one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "engine/audit_wiring.h"
#include "pkcs11/keystore.h"
#include "pkcs11/softhsm_dev.h"

#define APPENDS 200
#define OPS 100
#define SYNC_CHECKPOINTS 30

typedef struct results {
    double append, append_fsync, pair, pair_sign, async_store;
    double sync_checkpoint, sync_sign, sync_store, hsm_sign;
} results;

typedef struct samples {
    double *v[9];
} samples;

static const pb_audit_event request = {"sign.request", "bench-wallet", "bench", NULL, 0, "ok",
                                       NULL};

static pb_status measure_default(pb_audit_log *log, samples *s, results *r)
{
    pb_status st = PB_OK;
    pb_audit_stats a;
    for (int k = 0; k < APPENDS && st == PB_OK; k++) {
        st = pb_audit_append(log, &request, NULL);
        pb_audit_stats_get(log, &a);
        s->v[0][k] = (double)a.last_write_ns / 1e3;
        s->v[1][k] = (double)(a.last_write_ns + a.last_fsync_ns) / 1e3;
    }
    for (int k = 0; k < OPS && st == PB_OK; k++) {
        double t0 = pb_bench_now_us();
        st = pb_audit_append_checkpoint(log, &request, NULL);
        s->v[2][k] = pb_bench_now_us() - t0;
        pb_audit_stats_get(log, &a);
        s->v[3][k] = (double)a.last_sign_ns / 1e3;
    }
    if (st == PB_OK)
        st = pb_audit_flush_store(log);
    pb_audit_stats_get(log, &a);
    r->async_store = (double)a.last_store_ns / 1e3;
    if (st == PB_OK) {
        r->append = pb_bench_median(s->v[0], APPENDS);
        r->append_fsync = pb_bench_median(s->v[1], APPENDS);
        r->pair = pb_bench_median(s->v[2], OPS);
        r->pair_sign = pb_bench_median(s->v[3], OPS);
    }
    return st;
}

static pb_status measure_sync(pb_keystore *ks, pb_audit_log *log, samples *s, results *r)
{
    pb_status st = PB_OK;
    pb_audit_stats a;
    for (int k = 0; k < SYNC_CHECKPOINTS && st == PB_OK; k++) {
        st = pb_audit_append(log, &request, NULL);
        if (st == PB_OK)
            st = pb_audit_checkpoint(log, NULL);
        pb_audit_stats_get(log, &a);
        s->v[4][k] = (double)a.last_checkpoint_ns / 1e3;
        s->v[5][k] = (double)a.last_sign_ns / 1e3;
        s->v[6][k] = (double)a.last_store_ns / 1e3;
    }
    uint8_t digest[32] = {1}, sig[64];
    for (int k = 0; k < OPS && st == PB_OK; k++) {
        double t0 = pb_bench_now_us();
        st = pb_keystore_audit_sign(ks, digest, sig);
        s->v[7][k] = pb_bench_now_us() - t0;
    }
    if (st == PB_OK) {
        r->sync_checkpoint = pb_bench_median(s->v[4], SYNC_CHECKPOINTS);
        r->sync_sign = pb_bench_median(s->v[5], SYNC_CHECKPOINTS);
        r->sync_store = pb_bench_median(s->v[6], SYNC_CHECKPOINTS);
        r->hsm_sign = pb_bench_median(s->v[7], OPS);
    }
    return st;
}

int pb_bench_audit(int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return pb_cli_usage("bench audit takes no options");
    char dir[] = "/tmp/planbok-bench-audit-XXXXXX";
    if (!mkdtemp(dir))
        return pb_cli_usage("cannot create a temporary directory");
    const char *labels[] = {"bench-audit"};
    pb_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.home, sizeof cfg.home, "%s", dir);
    pb_hsm_config *h = &cfg.node[0];
    pb_hsm_config_defaults(h);
    snprintf(h->module, sizeof h->module, "%s", PB_SOFTHSM_MODULE_DEFAULT);
    snprintf(h->token_label, sizeof h->token_label, "bench-audit");
    pb_softhsm_dev_pin_path(dir, "bench-audit", h->pin_file, sizeof h->pin_file);
    pb_softhsm_dev_conf_path(dir, h->softhsm_conf, sizeof h->softhsm_conf);

    results r;
    memset(&r, 0, sizeof r);
    samples s;
    pb_status st = PB_OK;
    for (int i = 0; i < 9; i++)
        if (!(s.v[i] = calloc(APPENDS, sizeof(double))))
            st = PB_ERR_NOMEM;
    pb_keystore *ks = NULL;
    pb_audit_log *log = NULL;
    pb_node_audit_settings sync = {.sync_store = 1};
    if (st == PB_OK)
        st = pb_softhsm_dev_provision(PB_SOFTHSM_MODULE_DEFAULT, dir, labels, 1);
    if (st == PB_OK)
        st = pb_keystore_open(h, PB_KEYSTORE_CREATE, &ks);
    if (st == PB_OK)
        st = pb_node_audit_open(&cfg, 1, ks, &log);
    if (st == PB_OK)
        st = measure_default(log, &s, &r);
    pb_audit_close(log);
    log = NULL;
    if (st == PB_OK)
        st = pb_node_audit_open_with(&cfg, 2, ks, &sync, &log);
    if (st == PB_OK)
        st = measure_sync(ks, log, &s, &r);
    pb_audit_close(log);
    pb_keystore_close(ks);
    pb_cli_remove_tree(dir);
    for (int i = 0; i < 9; i++)
        free(s.v[i]);
    if (st != PB_OK)
        return pb_cli_error(st);
    double per_op = r.append_fsync + r.pair;
    printf("append (encode, hash, write)            median %9.1f us\n", r.append);
    printf("append + fdatasync                      median %9.1f us\n", r.append_fsync);
    printf("result + checkpoint, one fdatasync      median %9.1f us  (signing %.1f; token copy "
           "sealed in the background: last save %.1f us)\n", r.pair, r.pair_sign, r.async_store);
    printf("checkpoint with synchronous token copy  median %9.1f us  (signing %.1f, token "
           "object write %.1f)\n", r.sync_checkpoint, r.sync_sign, r.sync_store);
    printf("SoftHSM CKM_ECDSA P-256 alone           median %9.1f us\n", r.hsm_sign);
    printf("audit cost per operation (write-ahead request + result with checkpoint) = %.1f us\n",
           per_op);
    printf("{\"bench\":\"audit\",\"append_us\":%.1f,\"append_fsync_us\":%.1f,"
           "\"result_checkpoint_us\":%.1f,\"checkpoint_sign_us\":%.1f,"
           "\"async_store_us\":%.1f,\"sync_checkpoint_us\":%.1f,\"sync_store_us\":%.1f,"
           "\"hsm_sign_us\":%.1f,\"per_operation_us\":%.1f}\n",
           r.append, r.append_fsync, r.pair, r.pair_sign, r.async_store, r.sync_checkpoint,
           r.sync_store, r.hsm_sign, per_op);
    return PB_EXIT_OK;
}
