/* cmd_init.c - `planbok init`: data directory, configuration, developer
 * tokens when no HSM is configured, and each node's KEK and audit key.
 * Idempotent: what exists is kept. Prints JSON; never prints a PIN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "planbok/engine.h"
#include "pkcs11/keystore.h"
#include "pkcs11/softhsm_dev.h"

static void show_progress(void *ctx, const char *what, int candidates)
{
    (void)ctx;
    fprintf(stderr, "\rnode 2: searching safe prime %s (%d candidates)   ", what, candidates);
    fflush(stderr);
}

/* Node 2's ring-Pedersen parameters: once per node, seconds to a minute. */
static pb_status setup_nodes(const pb_cli *cli)
{
    pb_engine *e = NULL;
    pb_status st = pb_engine_open(cli->home, &e);
    if (st == PB_OK)
        st = pb_engine_setup_nodes(e, show_progress, NULL);
    pb_engine_close(e);
    return st;
}

static pb_status provision_dev_tokens(const pb_config *cfg)
{
    char dir[600], l1[64], l2[64];
    pb_config_softhsm_dir(cfg, dir, sizeof dir);
    pb_config_dev_token_label(1, l1, sizeof l1);
    pb_config_dev_token_label(2, l2, sizeof l2);
    const char *labels[] = {l1, l2};
    return pb_softhsm_dev_provision(cfg->node[0].module, dir, labels, 2);
}

int pb_cmd_init(pb_cli *cli, int argc, char **argv)
{
    int bits = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--paillier-bits") && i + 1 < argc) {
            bits = atoi(argv[++i]);
            if (bits != 2048 && bits != 3072)
                return pb_cli_usage("--paillier-bits must be 2048 or 3072");
        } else {
            return pb_cli_usage("init: unknown option");
        }
    }
    char path[600];
    pb_config cfg;
    pb_config_path(cli->home, path, sizeof path);
    int existed = access(path, F_OK) == 0;
    pb_status st;
    if (existed) {
        st = pb_cli_load_config(cli, &cfg);
        if (st != PB_OK)
            return pb_cli_error(st);
    } else {
        pb_config_dev_defaults(&cfg, cli->home);
    }
    if (bits)
        cfg.paillier_bits = bits;
    if (!existed || bits) {
        st = pb_config_write(path, &cfg);
        if (st != PB_OK)
            return pb_cli_error(st);
    }
    if (cfg.dev_softhsm && (st = provision_dev_tokens(&cfg)) != PB_OK)
        return pb_cli_error(st);

    printf("{\"home\":");
    pb_json_string(stdout, cli->home);
    printf(",\"config\":");
    pb_json_string(stdout, path);
    printf(",\"config_created\":%s,\"paillier_bits\":%d,\"dev_softhsm\":%s,\"nodes\":[",
           existed ? "false" : "true", cfg.paillier_bits, cfg.dev_softhsm ? "true" : "false");
    /* The key stores stay open through setup_nodes: the engine it opens then
     * shares this process's login instead of logging in to each token again
     * (every SoftHSM login rewrites the token's record). */
    pb_keystore *kss[PB_NODES] = {NULL};
    for (int n = 0; n < PB_NODES; n++) {
        st = pb_keystore_open(&cfg.node[n], PB_KEYSTORE_CREATE, &kss[n]);
        if (st != PB_OK)
            break;
        pb_keystore_status s;
        st = pb_keystore_status_get(kss[n], &s);
        if (st != PB_OK)
            break;
        printf("%s{\"node\":%d,\"token\":", n ? "," : "", n + 1);
        pb_json_string(stdout, s.token_label);
        printf(",\"kek\":");
        pb_json_string(stdout, cfg.node[n].kek_label);
        printf(",\"audit_key\":");
        pb_json_string(stdout, cfg.node[n].audit_key_label);
        printf(",\"ready\":%s}", s.kek_present && s.audit_key_present ? "true" : "false");
    }
    if (st != PB_OK) {
        printf("]}\n");
        for (int n = 0; n < PB_NODES; n++)
            pb_keystore_close(kss[n]);
        return pb_cli_error(st);
    }
    printf("]}\n");
    fflush(stdout);
    st = setup_nodes(cli);
    fprintf(stderr, "\n");
    for (int n = 0; n < PB_NODES; n++)
        pb_keystore_close(kss[n]);
    return st == PB_OK ? PB_EXIT_OK : pb_cli_error(st);
}
