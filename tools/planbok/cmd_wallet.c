/* cmd_wallet.c - `planbok wallet create|list|show|refresh|export`,
 * `planbok sign` and `planbok org-secret new`. Output is JSON on stdout;
 * errors are one line on stderr with the documented exit codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "cli_secrets.h"
#include "engine/engine_internal.h"

static void print_info(const pb_wallet_info *w)
{
    int first = 1;
    printf("{");
    pb_json_key(stdout, "wallet_id", &first);
    pb_json_string(stdout, w->id);
    pb_json_key(stdout, "name", &first);
    pb_json_string(stdout, w->name);
    pb_json_key(stdout, "mode", &first);
    pb_json_string(stdout, w->mode);
    pb_json_key(stdout, "public_key", &first);
    pb_json_string(stdout, w->public_key);
    pb_json_key(stdout, "xpub", &first);
    pb_json_string(stdout, w->xpub);
    pb_json_key(stdout, "state", &first);
    pb_json_string(stdout, w->state);
    if (w->lock_reason[0]) {
        pb_json_key(stdout, "lock_reason", &first);
        pb_json_string(stdout, w->lock_reason);
    }
    pb_json_key(stdout, "exported", &first);
    printf("%s", w->exported ? "true" : "false");
    pb_json_key(stdout, "generation", &first);
    printf("%u", w->generation);
    pb_json_key(stdout, "created", &first);
    pb_json_string(stdout, w->created);
    if (!strcmp(w->mode, "customer")) {
        pb_json_key(stdout, "pin_failures", &first);
        printf("%d", w->pin_failures);
        pb_json_key(stdout, "pin_max", &first);
        printf("%d", w->pin_max);
    }
    printf("}");
}

static int open_engine(pb_cli *cli, pb_engine **e)
{
    pb_status st = pb_engine_open(cli->home, e);
    return st == PB_OK ? 0 : pb_cli_error(st);
}

/* Queries need no secret: read-only token sessions (to check each row's
 * seal), nothing written, so they also work on a read-only data directory. */
static int open_engine_read_only(pb_cli *cli, pb_engine **e)
{
    pb_status st = pb_engine_open_read_only(cli->home, e);
    return st == PB_OK ? 0 : pb_cli_error(st);
}

static int wallet_create(pb_cli *cli, int argc, char **argv)
{
    const char *mode = NULL, *name = NULL;
    pb_cli_secrets sec;
    memset(&sec, 0, sizeof sec);
    for (int i = 0; i < argc; i++) {
        if (pb_cli_secret_option(&sec, argc, argv, &i))
            continue;
        if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            mode = argv[++i];
        else if (!strcmp(argv[i], "--name") && i + 1 < argc)
            name = argv[++i];
        else
            return pb_cli_usage("wallet create: unknown option");
    }
    if (!mode)
        return pb_cli_usage("wallet create: --mode standard|trustless|customer is required");
    pb_engine *e = NULL;
    int rc = open_engine(cli, &e);
    if (rc)
        return rc;
    pb_wallet_info info;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    pb_status st = pb_cli_secrets_load(&sec);
    if (st == PB_OK)
        st = pb_engine_wallet_create(e, mode, name, &sec.view, &info, code);
    pb_cli_secrets_release(&sec);
    pb_engine_close(e);
    if (st != PB_OK)
        return pb_cli_error(st);
    printf("{\"wallet_id\":");
    pb_json_string(stdout, info.id);
    printf(",\"mode\":");
    pb_json_string(stdout, info.mode);
    printf(",\"public_key\":");
    pb_json_string(stdout, info.public_key);
    printf(",\"xpub\":");
    pb_json_string(stdout, info.xpub);
    if (code[0]) {
        /* Shown once, to the customer; never stored by the service. */
        printf(",\"recovery_code\":");
        pb_json_string(stdout, code);
        OPENSSL_cleanse(code, sizeof code);
    }
    printf("}\n");
    return PB_EXIT_OK;
}

static int wallet_list(pb_cli *cli)
{
    pb_engine *e = NULL;
    int rc = open_engine_read_only(cli, &e);
    if (rc)
        return rc;
    pb_wallet_info *infos = NULL;
    size_t n = 0;
    pb_status st = pb_engine_wallet_list(e, &infos, &n);
    pb_engine_close(e);
    if (st != PB_OK)
        return pb_cli_error(st);
    printf("[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            printf(",");
        print_info(&infos[i]);
    }
    printf("]\n");
    free(infos);
    return PB_EXIT_OK;
}

static int wallet_show(pb_cli *cli, const char *id)
{
    pb_engine *e = NULL;
    int rc = open_engine_read_only(cli, &e);
    if (rc)
        return rc;
    pb_wallet_info info;
    pb_status st = pb_engine_wallet_show(e, id, &info);
    pb_engine_close(e);
    if (st != PB_OK)
        return pb_cli_error(st);
    print_info(&info);
    printf("\n");
    return PB_EXIT_OK;
}

typedef enum { OP_REFRESH, OP_EXPORT, OP_UNLOCK } wallet_op;

/* refresh, export and unlock: ID then secret options. */
static int wallet_with_secrets(pb_cli *cli, int argc, char **argv, wallet_op op)
{
    static const char *const usage[] = {"wallet refresh ID", "wallet export ID",
                                        "wallet unlock ID"};
    int export = op == OP_EXPORT;
    if (argc < 1)
        return pb_cli_usage(usage[op]);
    const char *id = argv[0];
    pb_cli_secrets sec;
    memset(&sec, 0, sizeof sec);
    for (int i = 1; i < argc; i++) {
        if (!pb_cli_secret_option(&sec, argc, argv, &i))
            return pb_cli_usage("unknown option");
    }
    pb_engine *e = NULL;
    int rc = open_engine(cli, &e);
    if (rc)
        return rc;
    uint8_t priv[32], pub[33];
    pb_status st = pb_cli_secrets_load(&sec);
    if (st == PB_OK)
        st = export ? pb_engine_export(e, id, &sec.view, priv, pub)
             : op == OP_UNLOCK ? pb_engine_wallet_unlock(e, id, &sec.view)
                               : pb_engine_refresh(e, id, &sec.view);
    pb_cli_secrets_release(&sec);
    pb_wallet_info info;
    if (st == PB_OK && !export)
        st = pb_engine_wallet_show(e, id, &info);
    pb_engine_close(e);
    if (st != PB_OK)
        return pb_cli_error(st);
    if (export) {
        char hex[2 * 33 + 1];
        pb_hex_encode(hex, priv, 32);
        printf("{\"private_key\":\"%s\",", hex);
        pb_hex_encode(hex, pub, 33);
        printf("\"public_key\":\"%s\"}\n", hex);
        OPENSSL_cleanse(hex, sizeof hex);
        OPENSSL_cleanse(priv, sizeof priv);
    } else {
        print_info(&info);
        printf("\n");
    }
    return PB_EXIT_OK;
}

int pb_cmd_wallet(pb_cli *cli, int argc, char **argv)
{
    if (argc < 1)
        return pb_cli_usage("wallet: expected create|list|show|refresh|export|unlock");
    if (!strcmp(argv[0], "create"))
        return wallet_create(cli, argc - 1, argv + 1);
    if (!strcmp(argv[0], "list") && argc == 1)
        return wallet_list(cli);
    if (!strcmp(argv[0], "show") && argc == 2)
        return wallet_show(cli, argv[1]);
    if (!strcmp(argv[0], "refresh"))
        return wallet_with_secrets(cli, argc - 1, argv + 1, OP_REFRESH);
    if (!strcmp(argv[0], "export"))
        return wallet_with_secrets(cli, argc - 1, argv + 1, OP_EXPORT);
    if (!strcmp(argv[0], "unlock"))
        return wallet_with_secrets(cli, argc - 1, argv + 1, OP_UNLOCK);
    return pb_cli_usage("wallet: expected create|list|show ID|refresh ID|export ID|unlock ID");
}

static int parse_digest(const char *hex, uint8_t out[32])
{
    if (strlen(hex) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", hex[2 * i]) ||
            !strchr("0123456789abcdefABCDEF", hex[2 * i + 1]))
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

int pb_cmd_sign(pb_cli *cli, int argc, char **argv)
{
    const char *id = NULL, *digest_hex = NULL, *path = NULL;
    pb_cli_secrets sec;
    memset(&sec, 0, sizeof sec);
    for (int i = 0; i < argc; i++) {
        if (pb_cli_secret_option(&sec, argc, argv, &i))
            continue;
        if (!strcmp(argv[i], "--wallet") && i + 1 < argc)
            id = argv[++i];
        else if (!strcmp(argv[i], "--digest") && i + 1 < argc)
            digest_hex = argv[++i];
        else if (!strcmp(argv[i], "--path") && i + 1 < argc)
            path = argv[++i];
        else
            return pb_cli_usage("sign: unknown option");
    }
    uint8_t digest[32];
    if (!id || !digest_hex)
        return pb_cli_usage("sign: --wallet ID and --digest HEX64 are required");
    if (parse_digest(digest_hex, digest) != 0)
        return pb_cli_usage("sign: --digest must be 64 hex characters (32 bytes)");
    pb_engine *e = NULL;
    int rc = open_engine(cli, &e);
    if (rc)
        return rc;
    pb_signature_result res;
    pb_status st = pb_cli_secrets_load(&sec);
    if (st == PB_OK)
        st = pb_engine_sign(e, id, digest, path, &sec.view, &res);
    pb_cli_secrets_release(&sec);
    pb_engine_close(e);
    if (st != PB_OK)
        return pb_cli_error(st);
    char r[65], s[65], der[2 * 72 + 1], pub[67];
    pb_hex_encode(r, res.sig, 32);
    pb_hex_encode(s, res.sig + 32, 32);
    pb_hex_encode(der, res.der, res.der_len);
    pb_hex_encode(pub, res.public_key, 33);
    printf("{\"r\":\"%s\",\"s\":\"%s\",\"v\":%d,\"der\":\"%s\",\"public_key\":\"%s\"}\n", r, s,
           res.recovery_id, der, pub);
    return PB_EXIT_OK;
}

int pb_cmd_org_secret(pb_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (argc != 1 || strcmp(argv[0], "new") != 0)
        return pb_cli_usage("org-secret: expected 'org-secret new'");
    uint8_t secret[PB_ORG_SECRET_BYTES];
    char hex[2 * PB_ORG_SECRET_BYTES + 1];
    pb_status st = pb_org_secret_generate(secret);
    if (st != PB_OK)
        return pb_cli_error(st);
    pb_hex_encode(hex, secret, sizeof secret);
    /* The organization keeps it; the service never stores it. */
    printf("%s\n", hex);
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(hex, sizeof hex);
    return PB_EXIT_OK;
}
