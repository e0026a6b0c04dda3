/* cli_common.c - error reporting, configuration loading and JSON output
 * shared by the subcommands. Error lines never contain secrets because the
 * library's messages never do. */
#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int pb_cli_error(pb_status st)
{
    fprintf(stderr, "planbok: %s\n", pb_last_error()[0] ? pb_last_error() : pb_status_name(st));
    switch (st) {
    case PB_OK: return PB_EXIT_OK;
    case PB_ERR_ARGUMENT: return PB_EXIT_USAGE;
    case PB_ERR_AUTH: return PB_EXIT_AUTH;
    case PB_ERR_REFUSED:
    case PB_ERR_ABORTED: return PB_EXIT_REFUSED;
    case PB_ERR_HSM:
    case PB_ERR_STORAGE: return PB_EXIT_HSM;
    case PB_ERR_INTEGRITY: return PB_EXIT_INTEGRITY;
    case PB_ERR_NOT_FOUND: return PB_EXIT_USAGE;
    default: return PB_EXIT_FAILURE;
    }
}

int pb_cli_usage(const char *message)
{
    fprintf(stderr, "planbok: %s\n", message);
    fprintf(stderr,
            "usage: planbok [--home DIR] COMMAND\n"
            "  init [--paillier-bits 2048|3072]   create the data directory, tokens and keys\n"
            "  hsm status                         per-node token, mechanisms and KEK attributes\n"
            "  org-secret new                     a new Organization Secret (64 hex chars)\n"
            "  wallet create --mode standard|trustless|customer [--org-secret-file F]\n"
            "                [--pin-file F --device DIR] [--name NAME]\n"
            "  wallet list | wallet show ID | wallet refresh ID | wallet export ID\n"
            "  wallet unlock ID [secret options]  operator's decision after a global abort\n"
            "  sign --wallet ID --digest HEX64 [--path m/44/60/0/0/7] [secret options]\n"
            "  pin change --wallet ID --device DIR --pin-file OLD --new-pin-file NEW\n"
            "  pin reset --wallet ID --device DIR --recovery-code-file F --new-pin-file NEW\n"
            "  backup --node 1|2 --recovery-key PUB.pem --out FILE\n"
            "  restore --node 1|2 --recovery-key-private KEY.pem --in FILE\n"
            "  audit verify|show|export|public-key|checkpoint [--node 1|2]   the audit trail\n"
            "  audit repair [--node 1|2]          cut a torn last record (both nodes by default)\n"
            "  bench hsm|mpc|sign|audit           benchmarks (medians and ratios)\n"
            "DIR also from PLANBOK_HOME; default ./planbok-data\n");
    return PB_EXIT_USAGE;
}

pb_status pb_cli_load_config(const pb_cli *cli, pb_config *cfg)
{
    char path[600];
    snprintf(cfg->home, sizeof cfg->home, "%s", cli->home);
    pb_config_path(cli->home, path, sizeof path);
    return pb_config_load(path, cfg);
}

void pb_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void pb_json_key(FILE *f, const char *key, int *first)
{
    if (!*first)
        fputc(',', f);
    *first = 0;
    pb_json_string(f, key);
    fputc(':', f);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void pb_cli_remove_tree(const char *dir) { nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }
