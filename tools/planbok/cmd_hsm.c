/* cmd_hsm.c - `planbok hsm status`: per node, the module, token, the
 * mechanisms we rely on, KEK protection attributes and object counts (JSON). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pkcs11/keystore.h"

static const char *yes_no(int v) { return v ? "true" : "false"; }

static void print_status(int node, const pb_hsm_config *h, const pb_keystore_status *s)
{
    int first = 1;
    printf("{");
    pb_json_key(stdout, "node", &first);
    printf("%d", node);
    pb_json_key(stdout, "module", &first);
    pb_json_string(stdout, h->module);
    pb_json_key(stdout, "library", &first);
    pb_json_string(stdout, s->module);
    pb_json_key(stdout, "token", &first);
    pb_json_string(stdout, s->token_label);
    pb_json_key(stdout, "manufacturer", &first);
    pb_json_string(stdout, s->manufacturer);
    pb_json_key(stdout, "model", &first);
    pb_json_string(stdout, s->model);
    pb_json_key(stdout, "serial", &first);
    pb_json_string(stdout, s->serial);
    pb_json_key(stdout, "mechanisms", &first);
    printf("{\"CKM_AES_GCM\":%s,\"CKM_ECDSA\":%s,\"CKM_EC_KEY_PAIR_GEN\":%s}", yes_no(s->has_aes_gcm),
           yes_no(s->has_ecdsa), yes_no(s->has_ec_keygen));
    pb_json_key(stdout, "kek", &first);
    printf("{\"label\":");
    pb_json_string(stdout, h->kek_label);
    printf(",\"present\":%s,\"sensitive\":%s,\"extractable\":%s,\"always_sensitive\":%s,"
           "\"never_extractable\":%s}",
           yes_no(s->kek_present), yes_no(s->kek_sensitive), yes_no(s->kek_extractable),
           yes_no(s->kek_always_sensitive), yes_no(s->kek_never_extractable));
    pb_json_key(stdout, "audit_key", &first);
    printf("{\"label\":");
    pb_json_string(stdout, h->audit_key_label);
    printf(",\"present\":%s}", yes_no(s->audit_key_present));
    pb_json_key(stdout, "placement", &first);
    pb_json_string(stdout, s->placement);
    pb_json_key(stdout, "token_objects", &first);
    printf("%lu", s->token_objects);
    pb_json_key(stdout, "sealed_blobs", &first);
    printf("%lu", s->sealed_blobs);
    printf("}");
}

int pb_cmd_hsm(pb_cli *cli, int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "status") != 0)
        return pb_cli_usage("hsm: expected 'hsm status'");
    pb_config cfg;
    pb_status st = pb_cli_load_config(cli, &cfg);
    if (st != PB_OK)
        return pb_cli_error(st);
    printf("{\"nodes\":[");
    for (int n = 0; n < PB_NODES; n++) {
        pb_keystore *ks = NULL;
        pb_keystore_status s;
        st = pb_keystore_open(&cfg.node[n], 0, &ks);
        if (st == PB_OK) {
            st = pb_keystore_status_get(ks, &s);
            pb_keystore_close(ks);
        }
        if (st != PB_OK) {
            printf("]}\n");
            return pb_cli_error(st);
        }
        if (n)
            printf(",");
        print_status(n + 1, &cfg.node[n], &s);
    }
    printf("]}\n");
    return PB_EXIT_OK;
}
