/* cmd_audit.c - the auditor's commands: `planbok audit verify | public-key |
 * checkpoint | show | export` (and the dispatch of `repair`,
 * cmd_audit_repair.c). verify prints a JSON summary (exit 0) or the
 * first bad record and why (exit 6); show prints a table; export writes
 * CSV (RFC 4180) or JSON Lines. With --node the log, the public key and the
 * checkpoint kept in the token come from the node; with --log an auditor
 * brings the files and the PEM (and optionally the checkpoint line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/export.h"
#include "audit/text.h"
#include "audit/verify.h"
#include "cli.h"
#include "common/fail.h"
#include "engine/audit_wiring.h"
#include "pkcs11/keystore.h"

#define MAX_TEXT_FILE (1u << 20)

typedef struct audit_args {
    int node; /* 0: not given */
    const char *log;
    const char *public_key;
    const char *checkpoint;
    const char *format;
    pb_audit_filter filter;
} audit_args;

static int audit_usage(const char *message)
{
    fprintf(stderr, "planbok: %s\n", message);
    fprintf(stderr,
            "usage: planbok [--home DIR] audit COMMAND\n"
            "  verify [--node 1|2 | --log PATH] [--public-key PEM] [--checkpoint FILE]\n"
            "  public-key [--node 1|2]          the node's audit public key (PEM)\n"
            "  checkpoint [--node 1|2]          the latest checkpoint kept in the node's token\n"
            "  repair [--node 1|2]              cut a torn last line (kept in <segment>.torn);\n"
            "                                   both nodes without --node\n"
            "  show [--node N | --log PATH] [--wallet ID] [--event E] [--since T] [--until T]\n"
            "  export --format csv|jsonl [same selection and filters]\n"
            "T is YYYY-MM-DD or RFC 3339 UTC (…Z); --since is inclusive, --until exclusive.\n");
    return PB_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, audit_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc)
            return audit_usage("audit: option without a value");
        const char *val = argv[++i];
        if (!strcmp(opt, "--node")) {
            if (strcmp(val, "1") && strcmp(val, "2"))
                return audit_usage("audit: --node must be 1 or 2");
            a->node = val[0] - '0';
        } else if (!strcmp(opt, "--log")) {
            a->log = val;
        } else if (!strcmp(opt, "--public-key")) {
            a->public_key = val;
        } else if (!strcmp(opt, "--checkpoint")) {
            a->checkpoint = val;
        } else if (!strcmp(opt, "--format")) {
            a->format = val;
        } else if (!strcmp(opt, "--wallet")) {
            a->filter.wallet = val;
        } else if (!strcmp(opt, "--event")) {
            a->filter.event = val;
        } else if (!strcmp(opt, "--since")) {
            if (pb_audit_time_parse_loose(val, &a->filter.since_ms) != 0)
                return audit_usage("audit: --since must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.mmm]Z");
            a->filter.has_since = 1;
        } else if (!strcmp(opt, "--until")) {
            if (pb_audit_time_parse_loose(val, &a->filter.until_ms) != 0)
                return audit_usage("audit: --until must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.mmm]Z");
            a->filter.has_until = 1;
        } else {
            return audit_usage("audit: unknown option");
        }
    }
    if (a->node && a->log)
        return audit_usage("audit: give --node or --log, not both");
    return 0;
}

/* Reads a small text file (PEM, checkpoint line) whole. */
static pb_status read_text(const char *path, char **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return pb_fail(PB_ERR_NOT_FOUND, "cannot open '%s'", path);
    char *buf = malloc(MAX_TEXT_FILE + 1);
    size_t n = buf ? fread(buf, 1, MAX_TEXT_FILE + 1, f) : 0;
    fclose(f);
    if (!buf)
        return pb_fail(PB_ERR_NOMEM, "out of memory");
    if (n > MAX_TEXT_FILE) {
        free(buf);
        return pb_fail(PB_ERR_ARGUMENT, "'%s' is too large", path);
    }
    buf[n] = '\0';
    *out = buf;
    return PB_OK;
}

/* The audit commands only look: read-only sessions, so not even a bug here
 * could change the token's objects (the login itself still happens). */
static pb_status open_node_keystore(const pb_cli *cli, int node, pb_keystore **ks)
{
    pb_config cfg;
    pb_status st = pb_cli_load_config(cli, &cfg);
    if (st == PB_OK)
        st = pb_keystore_open(&cfg.node[node - 1], PB_KEYSTORE_READ_ONLY, ks);
    return st;
}

static void node_log_dir(const pb_cli *cli, int node, char *out, size_t n)
{
    pb_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.home, sizeof cfg.home, "%s", cli->home);
    pb_node_audit_dir(&cfg, node, out, n);
}

static void print_summary_fields(const pb_audit_summary *s)
{
    printf("\"node\":%u,\"records\":%llu,\"checkpoints\":%llu,\"first_seq\":%llu,"
           "\"last_seq\":%llu,\"last_checkpoint_seq\":%llu,\"unsigned_tail\":%llu,"
           "\"segments\":%zu,\"torn_tail_bytes\":%llu",
           s->node, (unsigned long long)s->records, (unsigned long long)s->checkpoints,
           (unsigned long long)s->first_seq, (unsigned long long)s->last_seq,
           (unsigned long long)s->last_checkpoint_seq, (unsigned long long)s->unsigned_tail,
           s->segments, (unsigned long long)s->torn_bytes);
}

static int cmd_verify(pb_cli *cli, const audit_args *a)
{
    if (a->log && !a->public_key)
        return audit_usage("audit verify --log needs --public-key PEM");
    int node = a->log ? 0 : (a->node ? a->node : 1);
    char dir[700];
    const char *path = a->log;
    if (!path) {
        node_log_dir(cli, node, dir, sizeof dir);
        path = dir;
    }
    char *pem = NULL, *checkpoint = NULL;
    pb_keystore *ks = NULL;
    pb_status st = PB_OK;
    if (a->public_key)
        st = read_text(a->public_key, &pem);
    if (st == PB_OK && a->checkpoint)
        st = read_text(a->checkpoint, &checkpoint);
    if (st == PB_OK && node && (!pem || !a->checkpoint))
        st = open_node_keystore(cli, node, &ks);
    if (st == PB_OK && ks && !pem)
        st = pb_keystore_audit_public_pem(ks, &pem);
    if (st == PB_OK && ks && !a->checkpoint) {
        size_t len;
        st = pb_node_audit_checkpoint_load(ks, node, &checkpoint, &len);
        if (st == PB_ERR_NOT_FOUND)
            st = PB_OK; /* no checkpoint yet */
    }
    pb_keystore_close(ks);
    pb_audit_summary sum;
    if (st == PB_OK) {
        pb_audit_verify_options o = {path, pem, checkpoint, (unsigned)node};
        st = pb_audit_verify(&o, &sum);
    }
    free(pem);
    int had_checkpoint = checkpoint != NULL;
    free(checkpoint);
    if (st != PB_OK && st != PB_ERR_INTEGRITY)
        return pb_cli_error(st);
    printf("{\"ok\":%s,\"log\":", st == PB_OK ? "true" : "false");
    pb_json_string(stdout, path);
    if (st != PB_OK) {
        printf(",\"seq\":%llu,\"reason\":", (unsigned long long)sum.bad_seq);
        pb_json_string(stdout, pb_audit_reason_name(sum.reason));
        printf(",\"where\":");
        pb_json_string(stdout, sum.where);
        printf(",\"message\":");
        pb_json_string(stdout, sum.message);
    }
    printf(",");
    print_summary_fields(&sum);
    if (had_checkpoint)
        printf(",\"external_checkpoint\":{\"seq\":%llu,\"found_in_log\":%s}",
               (unsigned long long)sum.external_seq, sum.external_checked ? "true" : "false");
    else
        printf(",\"external_checkpoint\":null");
    printf("}\n");
    if (st != PB_OK) {
        fprintf(stderr, "planbok: audit log failed verification: %s at seq %llu\n",
                pb_audit_reason_name(sum.reason), (unsigned long long)sum.bad_seq);
        return PB_EXIT_INTEGRITY;
    }
    return PB_EXIT_OK;
}

static int cmd_public_key(pb_cli *cli, const audit_args *a)
{
    if (a->log)
        return audit_usage("audit public-key takes --node, not --log");
    pb_keystore *ks = NULL;
    char *pem = NULL;
    pb_status st = open_node_keystore(cli, a->node ? a->node : 1, &ks);
    if (st == PB_OK)
        st = pb_keystore_audit_public_pem(ks, &pem);
    pb_keystore_close(ks);
    if (st != PB_OK)
        return pb_cli_error(st);
    fputs(pem, stdout);
    free(pem);
    return PB_EXIT_OK;
}

static int cmd_checkpoint(pb_cli *cli, const audit_args *a)
{
    if (a->log)
        return audit_usage("audit checkpoint takes --node, not --log");
    int node = a->node ? a->node : 1;
    pb_keystore *ks = NULL;
    char *line = NULL;
    size_t len;
    pb_status st = open_node_keystore(cli, node, &ks);
    if (st == PB_OK)
        st = pb_node_audit_checkpoint_load(ks, node, &line, &len);
    pb_keystore_close(ks);
    if (st == PB_ERR_NOT_FOUND)
        st = pb_fail(PB_ERR_NOT_FOUND, "node %d has no audit checkpoint yet", node);
    if (st != PB_OK)
        return pb_cli_error(st);
    printf("%s\n", line);
    free(line);
    return PB_EXIT_OK;
}

typedef struct view {
    enum { VIEW_TABLE, VIEW_CSV, VIEW_JSONL } kind;
    unsigned long long shown;
} view;

static pb_status view_row(void *ctx, const pb_audit_record *r, const char *line, size_t len)
{
    view *v = ctx;
    if (v->kind == VIEW_TABLE)
        pb_audit_table_row(stdout, r);
    else if (v->kind == VIEW_CSV)
        pb_audit_csv_row(stdout, r);
    else {
        fwrite(line, 1, len, stdout);
        fputc('\n', stdout);
    }
    v->shown++;
    return PB_OK;
}

static int cmd_view(pb_cli *cli, const audit_args *a, int export)
{
    view v = {VIEW_TABLE, 0};
    if (export) {
        if (!a->format)
            return audit_usage("audit export needs --format csv|jsonl");
        if (!strcmp(a->format, "csv"))
            v.kind = VIEW_CSV;
        else if (!strcmp(a->format, "jsonl"))
            v.kind = VIEW_JSONL;
        else
            return audit_usage("audit export: --format must be csv or jsonl");
    } else if (a->format) {
        return audit_usage("audit show takes no --format (use audit export)");
    }
    if (a->public_key || a->checkpoint)
        return audit_usage("audit show/export take no key or checkpoint (use audit verify)");
    char dir[700];
    const char *path = a->log;
    if (!path) {
        node_log_dir(cli, a->node ? a->node : 1, dir, sizeof dir);
        path = dir;
    }
    if (v.kind == VIEW_TABLE)
        pb_audit_table_header(stdout);
    else if (v.kind == VIEW_CSV)
        pb_audit_csv_header(stdout);
    uint64_t torn = 0;
    pb_status st = pb_audit_scan(path, &a->filter, view_row, &v, &torn);
    fflush(stdout);
    if (st != PB_OK)
        return pb_cli_error(st);
    if (torn)
        fprintf(stderr, "planbok: the log ends in a torn line of %llu bytes (not shown); "
                        "run audit verify\n", (unsigned long long)torn);
    if (v.kind == VIEW_TABLE)
        printf("(%llu records)\n", v.shown);
    return PB_EXIT_OK;
}

int pb_cmd_audit(pb_cli *cli, int argc, char **argv)
{
    if (argc < 1)
        return audit_usage("audit: expected verify, public-key, checkpoint, show, export or repair");
    audit_args a;
    int rc = parse_args(argc - 1, argv + 1, &a);
    if (rc)
        return rc;
    const char *sub = argv[0];
    if (!strcmp(sub, "verify"))
        return cmd_verify(cli, &a);
    if (!strcmp(sub, "public-key"))
        return cmd_public_key(cli, &a);
    if (!strcmp(sub, "checkpoint"))
        return cmd_checkpoint(cli, &a);
    if (!strcmp(sub, "repair")) {
        if (a.log || a.public_key || a.checkpoint || a.format || a.filter.wallet ||
            a.filter.event || a.filter.has_since || a.filter.has_until)
            return audit_usage("audit repair takes only --node 1|2");
        return pb_cmd_audit_repair(cli, a.node);
    }
    if (!strcmp(sub, "show"))
        return cmd_view(cli, &a, 0);
    if (!strcmp(sub, "export"))
        return cmd_view(cli, &a, 1);
    return audit_usage("audit: unknown subcommand");
}
