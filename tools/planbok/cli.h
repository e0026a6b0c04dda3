/* cli.h - what the planbok command's subcommands share: the data directory,
 * exit codes, and a minimal JSON writer for their output. */
#ifndef PB_TOOLS_CLI_H
#define PB_TOOLS_CLI_H

#include <stdio.h>

#include "engine/config.h"
#include "planbok/error.h"

/* Exit codes scripts depend on (see README and docs). */
enum {
    PB_EXIT_OK = 0,
    PB_EXIT_FAILURE = 1,
    PB_EXIT_USAGE = 2,
    PB_EXIT_AUTH = 3,
    PB_EXIT_REFUSED = 4,
    PB_EXIT_HSM = 5,
    PB_EXIT_INTEGRITY = 6
};

typedef struct pb_cli {
    char home[512]; /* absolute once resolved */
} pb_cli;

/* Maps a status to an exit code and prints "planbok: <message>" on stderr. */
int pb_cli_error(pb_status st);
int pb_cli_usage(const char *message);
/* Loads <home>/planbok.conf. */
pb_status pb_cli_load_config(const pb_cli *cli, pb_config *cfg);

/* Removes a benchmark's scratch directory and everything under it. */
void pb_cli_remove_tree(const char *dir);

/* Tiny JSON writer: strings are escaped; callers supply the structure. */
void pb_json_string(FILE *f, const char *s);
void pb_json_key(FILE *f, const char *key, int *first);

int pb_cmd_init(pb_cli *cli, int argc, char **argv);
int pb_cmd_hsm(pb_cli *cli, int argc, char **argv);
int pb_cmd_bench(pb_cli *cli, int argc, char **argv);
int pb_cmd_wallet(pb_cli *cli, int argc, char **argv);
int pb_cmd_sign(pb_cli *cli, int argc, char **argv);
int pb_cmd_org_secret(pb_cli *cli, int argc, char **argv);
int pb_cmd_pin(pb_cli *cli, int argc, char **argv);
/* restore = 0: backup; 1: restore. */
int pb_cmd_backup(pb_cli *cli, int argc, char **argv, int restore);
int pb_bench_hsm(int argc, char **argv);
int pb_cmd_audit(pb_cli *cli, int argc, char **argv);
/* node 0: both nodes. */
int pb_cmd_audit_repair(pb_cli *cli, int node);
int pb_bench_audit(int argc, char **argv);

#endif
