/* bench_hsm.c - `planbok bench hsm`: median unseal (load + C_Decrypt) time
 * with 10 and with 2,000 sealed blobs in a SoftHSM token, and with 2,000 in
 * a store directory. The lookup must not grow with the object count: the
 * handle cache answers without scanning the token. Runs on a scratch token
 * in a temporary directory, never on the node's own tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "common/secret.h"
#include "pkcs11/keystore.h"
#include "pkcs11/softhsm_dev.h"

#define SAMPLES 2000
#define RECORD_BYTES 1200 /* about a 3072-bit P2 share record */

static pb_status fill(pb_keystore *ks, int from, int to)
{
    static uint8_t record[RECORD_BYTES];
    for (int i = from; i < to; i++) {
        char id[32];
        snprintf(id, sizeof id, "bench-%05d", i);
        pb_blob_ref ref = {id, 2, PB_BLOB_SHARE};
        record[0] = (uint8_t)i;
        pb_status st = pb_keystore_put(ks, &ref, record, sizeof record);
        if (st != PB_OK)
            return st;
    }
    return PB_OK;
}

/* Median microseconds of SAMPLES gets spread over `objects` blobs, measured
 * on a freshly opened store (so the cache comes from the start-up scan). */
static pb_status measure(const pb_hsm_config *cfg, int objects, double *median_us)
{
    pb_keystore *ks;
    pb_status st = pb_keystore_open(cfg, 0, &ks);
    if (st != PB_OK)
        return st;
    double *samples = calloc(SAMPLES, sizeof *samples);
    for (int k = 0; k < SAMPLES && st == PB_OK; k++) {
        char id[32];
        snprintf(id, sizeof id, "bench-%05d", (k * 7919) % objects);
        pb_blob_ref ref = {id, 2, PB_BLOB_SHARE};
        uint8_t *plain;
        size_t len;
        double t0 = pb_bench_now_us();
        st = pb_keystore_get(ks, &ref, &plain, &len);
        pb_secret_free(plain, len);
        samples[k] = pb_bench_now_us() - t0;
    }
    *median_us = pb_bench_median(samples, SAMPLES);
    free(samples);
    pb_keystore_close(ks);
    return st;
}

int pb_bench_hsm(int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return pb_cli_usage("bench hsm takes no options");
    char dir[] = "/tmp/planbok-bench-XXXXXX";
    if (!mkdtemp(dir))
        return pb_cli_usage("cannot create a temporary directory");
    const char *labels[] = {"bench"};
    pb_hsm_config cfg;
    pb_hsm_config_defaults(&cfg);
    snprintf(cfg.module, sizeof cfg.module, "%s", PB_SOFTHSM_MODULE_DEFAULT);
    snprintf(cfg.token_label, sizeof cfg.token_label, "bench");
    pb_softhsm_dev_pin_path(dir, "bench", cfg.pin_file, sizeof cfg.pin_file);
    pb_softhsm_dev_conf_path(dir, cfg.softhsm_conf, sizeof cfg.softhsm_conf);
    snprintf(cfg.store_dir, sizeof cfg.store_dir, "%s/store", dir);

    double t10 = 0, t2000 = 0, tdir = 0;
    pb_keystore *ks = NULL;
    pb_status st = pb_softhsm_dev_provision(PB_SOFTHSM_MODULE_DEFAULT, dir, labels, 1);
    if (st == PB_OK)
        st = pb_keystore_open(&cfg, PB_KEYSTORE_CREATE, &ks);
    if (st == PB_OK)
        st = fill(ks, 0, 10);
    pb_keystore_close(ks);
    ks = NULL;
    if (st == PB_OK)
        st = measure(&cfg, 10, &t10);
    if (st == PB_OK)
        printf("token placement,   10 objects: median unseal %8.1f us\n", t10);
    if (st == PB_OK && (st = pb_keystore_open(&cfg, 0, &ks)) == PB_OK) {
        st = fill(ks, 10, 2000);
        pb_keystore_close(ks);
    }
    if (st == PB_OK)
        st = measure(&cfg, 2000, &t2000);
    if (st == PB_OK)
        printf("token placement, 2000 objects: median unseal %8.1f us\n", t2000);
    cfg.placement = PB_PLACEMENT_DIRECTORY;
    if (st == PB_OK && (st = pb_keystore_open(&cfg, 0, &ks)) == PB_OK) {
        st = fill(ks, 0, 2000);
        pb_keystore_close(ks);
    }
    if (st == PB_OK)
        st = measure(&cfg, 2000, &tdir);
    pb_cli_remove_tree(dir);
    if (st != PB_OK)
        return pb_cli_error(st);
    printf("store directory, 2000 blobs:   median unseal %8.1f us\n", tdir);
    printf("lookup growth 2000:10 objects = %.2f (target <= 1.5)\n", t2000 / t10);
    printf("{\"bench\":\"hsm\",\"unseal_us_10\":%.1f,\"unseal_us_2000\":%.1f,"
           "\"unseal_us_dir_2000\":%.1f,\"ratio_2000_10\":%.3f}\n",
           t10, t2000, tdir, t2000 / t10);
    return PB_EXIT_OK;
}
