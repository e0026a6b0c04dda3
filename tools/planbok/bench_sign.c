/* bench_sign.c - `planbok bench sign [--bits 2048|3072] [--samples N]`:
 * median end-to-end signing time per custody mode through the engine
 * (unseal + protocol + wipe + audit), on a scratch two-node installation in
 * a temporary directory. Reports, from the same run: the key store's share
 * (unsealing both records), Argon2id apart (the customer's figure excludes
 * it), and the audit trail's cost per signature (node 2's write-ahead
 * record, both nodes' results with signed checkpoints). Last line: one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "common/secret.h"
#include "custody/pin.h"
#include "engine/engine_internal.h"
#include "pkcs11/softhsm_dev.h"

static void progress(void *ctx, const char *what, int candidates)
{
    (void)ctx;
    fprintf(stderr, "\rnode 2: safe prime %s, %d candidates   ", what, candidates);
}

static pb_status make_home(const char *home, int bits, pb_engine **e)
{
    pb_config cfg;
    char path[600], softhsm[600];
    pb_config_dev_defaults(&cfg, home);
    cfg.paillier_bits = bits;
    pb_config_path(home, path, sizeof path);
    pb_config_softhsm_dir(&cfg, softhsm, sizeof softhsm);
    const char *labels[] = {"planbok-node1", "planbok-node2"};
    pb_status st = pb_config_write(path, &cfg);
    if (st == PB_OK)
        st = pb_softhsm_dev_provision(cfg.node[0].module, softhsm, labels, 2);
    for (int n = 0; n < 2 && st == PB_OK; n++) {
        pb_keystore *ks = NULL;
        st = pb_keystore_open(&cfg.node[n], PB_KEYSTORE_CREATE, &ks);
        pb_keystore_close(ks);
    }
    if (st == PB_OK)
        st = pb_engine_open(home, e);
    if (st == PB_OK)
        st = pb_engine_setup_nodes(*e, progress, NULL);
    fprintf(stderr, "\n");
    return st;
}

/* With `argon2` set, each sample also times one Argon2id derivation just
 * before the signature and subtracts it: the customer's sign runs exactly
 * one, and interleaving keeps machine noise out of the difference. */
static pb_status time_signs(pb_engine *e, const char *id, const pb_secrets *s, int n,
                            int argon2, double *ms)
{
    double *t = calloc((size_t)n, sizeof *t);
    pb_kdf_params kdf;
    pb_kdf_params_default(&kdf);
    pb_status st = PB_OK;
    for (int i = 0; i < n && st == PB_OK; i++) {
        uint8_t digest[32], salt[16] = {1}, k1[32], k2[32];
        memset(digest, i + 1, sizeof digest);
        pb_signature_result res;
        double kdf_ms = 0;
        if (argon2) {
            double k0 = pb_bench_now_us();
            st = pb_pin_derive(s->pin, s->pin_len, salt, &kdf, k1, k2);
            kdf_ms = (pb_bench_now_us() - k0) / 1000.0;
        }
        double t0 = pb_bench_now_us();
        if (st == PB_OK)
            st = pb_engine_sign(e, id, digest, NULL, s, &res);
        t[i] = (pb_bench_now_us() - t0) / 1000.0 - kdf_ms;
    }
    *ms = pb_bench_median(t, (size_t)n);
    free(t);
    return st;
}

/* Unsealing both records of a standard wallet (and wiping them). */
static pb_status time_unseal(pb_engine *e, const char *id, int n, double *ms)
{
    double *t = calloc((size_t)n, sizeof *t);
    pb_status st = PB_OK;
    for (int i = 0; i < n && st == PB_OK; i++) {
        pb_blob_ref r1 = {id, 1, PB_BLOB_SHARE}, r2 = {id, 2, PB_BLOB_SHARE};
        uint8_t *a = NULL, *b = NULL;
        size_t al = 0, bl = 0;
        double t0 = pb_bench_now_us();
        st = pb_keystore_get(pb_node1(e)->ks, &r1, &a, &al);
        if (st == PB_OK)
            st = pb_keystore_get(pb_node2(e)->ks, &r2, &b, &bl);
        pb_secret_free(a, al);
        pb_secret_free(b, bl);
        t[i] = (pb_bench_now_us() - t0) / 1000.0;
    }
    *ms = pb_bench_median(t, (size_t)n);
    free(t);
    return st;
}

static pb_status time_argon2(int n, double *ms)
{
    double *t = calloc((size_t)n, sizeof *t);
    pb_kdf_params kdf;
    pb_kdf_params_default(&kdf);
    uint8_t salt[16] = {1}, k1[32], k2[32];
    pb_status st = PB_OK;
    for (int i = 0; i < n && st == PB_OK; i++) {
        double t0 = pb_bench_now_us();
        st = pb_pin_derive((const uint8_t *)"246810", 6, salt, &kdf, k1, k2);
        t[i] = (pb_bench_now_us() - t0) / 1000.0;
    }
    *ms = pb_bench_median(t, (size_t)n);
    free(t);
    return st;
}

/* The audit work one signature adds: node 2's write-ahead record and
 * a result with a signed checkpoint at each node. */
static pb_status time_audit(pb_engine *e, const char *id, int n, double *ms)
{
    double *t = calloc((size_t)n, sizeof *t);
    uint8_t digest[32] = {9};
    pb_status st = PB_OK;
    for (int i = 0; i < n && st == PB_OK; i++) {
        double t0 = pb_bench_now_us();
        st = pb_engine_audit(e, 2, "sign.request", id, digest, PB_OK, 0);
        if (st == PB_OK)
            st = pb_engine_audit_result(e, "sign.complete", id, digest, PB_OK, PB_AUDIT_BOTH);
        t[i] = (pb_bench_now_us() - t0) / 1000.0;
    }
    *ms = pb_bench_median(t, (size_t)n);
    free(t);
    return st;
}

int pb_bench_sign(int argc, char **argv)
{
    int bits = 3072, samples = 15;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--bits") && i + 1 < argc)
            bits = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--samples") && i + 1 < argc)
            samples = atoi(argv[++i]);
        else
            return pb_cli_usage("bench sign [--bits 2048|3072] [--samples N]");
    }
    if ((bits != 2048 && bits != 3072) || samples < 3 || samples > 1000)
        return pb_cli_usage("bench sign: --bits 2048|3072, --samples 3..1000");
    char home[] = "/tmp/planbok-bench-sign-XXXXXX";
    if (!mkdtemp(home))
        return pb_cli_usage("cannot create a temporary directory");
    char device[100];
    snprintf(device, sizeof device, "%s/device", home);
    static const uint8_t pin[] = "246810";
    uint8_t secret[32] = {0x42, 1, 2, 3};
    pb_secrets org = {.org_secret = secret};
    pb_secrets cust = {.pin = pin, .pin_len = 6, .device_dir = device};
    pb_engine *e = NULL;
    pb_wallet_info ws, wt, wc;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    double std_ms = 0, tl_ms = 0, cust_ms = 0, unseal_ms = 0, argon_ms = 0, audit_ms = 0;
    fprintf(stderr, "setting up a scratch installation at %d bits in %s\n", bits, home);
    pb_status st = make_home(home, bits, &e);
    if (st == PB_OK)
        st = pb_engine_wallet_create(e, "standard", NULL, NULL, &ws, code);
    if (st == PB_OK)
        st = pb_engine_wallet_create(e, "trustless", NULL, &org, &wt, code);
    if (st == PB_OK)
        st = pb_engine_wallet_create(e, "customer", NULL, &cust, &wc, code);
    if (st == PB_OK)
        st = time_signs(e, ws.id, NULL, samples, 0, &std_ms);
    if (st == PB_OK)
        st = time_signs(e, wt.id, &org, samples, 0, &tl_ms);
    if (st == PB_OK)
        st = time_signs(e, wc.id, &cust, samples, 1, &cust_ms);
    if (st == PB_OK)
        st = time_unseal(e, ws.id, samples * 4, &unseal_ms);
    if (st == PB_OK)
        st = time_argon2(samples < 7 ? samples : 7, &argon_ms);
    if (st == PB_OK)
        st = time_audit(e, ws.id, samples, &audit_ms);
    pb_engine_close(e);
    pb_cli_remove_tree(home);
    if (st != PB_OK)
        return pb_cli_error(st);
    printf("Paillier %d bits, median of %d signatures per mode (unseal + protocol + wipe + audit)\n",
           bits, samples);
    printf("  standard   %8.2f ms\n", std_ms);
    printf("  trustless  %8.2f ms\n", tl_ms);
    printf("  customer   %8.2f ms (Argon2id excluded)\n", cust_ms);
    printf("  Argon2id t=3 m=64MiB p=1: %.2f ms\n", argon_ms);
    printf("  unseal of both records + wipe: %.3f ms = %.1f%% of standard (target <= 5%%)\n",
           unseal_ms, 100.0 * unseal_ms / std_ms);
    printf("  audit per signature (node 2's write-ahead record, both results + signed checkpoints): "
           "%.2f ms = %.1f%% of standard (target <= 10%%)\n",
           audit_ms, 100.0 * audit_ms / std_ms);
    printf("{\"bench\":\"sign\",\"bits\":%d,\"sign_ms_standard\":%.2f,\"sign_ms_trustless\":%.2f,"
           "\"sign_ms_customer\":%.2f,\"argon2_ms\":%.2f,\"unseal_ms\":%.3f,"
           "\"unseal_fraction\":%.4f,\"audit_ms\":%.2f,\"audit_fraction\":%.4f}\n",
           bits, std_ms, tl_ms, cust_ms, argon_ms, unseal_ms, unseal_ms / std_ms, audit_ms,
           audit_ms / std_ms);
    return PB_EXIT_OK;
}
