/* cmd_audit_repair.c - `planbok audit repair [--node 1|2]`: cuts a torn
 * last line (a writer died mid-append) off a node's audit log, keeps the
 * cut bytes in <segment>.torn, and leaves the repair as a record in the
 * chain, signed by a checkpoint. Prints one JSON object per node.
 *
 * Must never repair anything but a torn tail: the whole log is verified
 * first (with the token's public key and checkpoint), and any other defect
 * (an edited record, a missing segment, a log behind the token's
 * checkpoint) is left as it is for a human, with exit 6. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/verify.h"
#include "cli.h"
#include "common/fail.h"
#include "engine/audit_wiring.h"
#include "pkcs11/keystore.h"

static pb_status not_repaired(int node, const char *why)
{
    char copy[600];
    snprintf(copy, sizeof copy, "%s", why); /* why may be pb_last_error()'s buffer */
    return pb_fail(PB_ERR_INTEGRITY,
                   "node %d: the audit log is not repaired: %s; only a torn last line is ever "
                   "cut. Run 'planbok audit verify --node %d' and have the files examined",
                   node, copy, node);
}

/* Verifies the node's log as `audit verify --node N` does. *torn is set
 * when the only defect is a torn tail; any other defect is an error. */
static pb_status verify_before(pb_keystore *ks, int node, const char *dir, int *torn)
{
    *torn = 0;
    char *pem = NULL, *checkpoint = NULL;
    size_t len = 0;
    pb_status st = pb_keystore_audit_public_pem(ks, &pem);
    if (st == PB_OK) {
        st = pb_node_audit_checkpoint_load(ks, node, &checkpoint, &len);
        if (st == PB_ERR_NOT_FOUND)
            st = PB_OK; /* no checkpoint yet */
    }
    if (st != PB_OK) {
        free(pem);
        return st; /* e.g. the sealed checkpoint did not unseal: not the log's defect */
    }
    pb_audit_summary sum;
    pb_audit_verify_options o = {dir, pem, checkpoint, (unsigned)node};
    st = pb_audit_verify(&o, &sum);
    free(pem);
    free(checkpoint);
    if (st == PB_ERR_INTEGRITY && sum.reason == PB_AUDIT_TORN_TAIL) {
        *torn = 1;
        return PB_OK;
    }
    if (st == PB_ERR_INTEGRITY) {
        char why[512];
        snprintf(why, sizeof why, "%s at seq %llu (%s)", pb_audit_reason_name(sum.reason),
                 (unsigned long long)sum.bad_seq, sum.message);
        return not_repaired(node, why);
    }
    return st;
}

static void print_repaired(int node, const pb_audit_repair_report *r, uint64_t checkpoint_seq)
{
    printf("{\"node\":%d,\"repaired\":true,\"cut_bytes\":%llu,\"offset\":%llu,\"segment\":", node,
           (unsigned long long)r->cut_bytes, (unsigned long long)r->offset);
    pb_json_string(stdout, r->segment);
    printf(",\"kept_in\":");
    pb_json_string(stdout, r->kept_in);
    printf(",\"record_seq\":%llu,\"checkpoint_seq\":%llu}\n", (unsigned long long)r->record_seq,
           (unsigned long long)checkpoint_seq);
}

/* Opens the log with repair and signs the repair record at once, so the
 * token's checkpoint covers it. */
static pb_status repair(const pb_config *cfg, pb_keystore *ks, int node)
{
    pb_node_audit_settings settings;
    memset(&settings, 0, sizeof settings);
    settings.flags = PB_AUDIT_REPAIR;
    settings.sync_store = 1;
    pb_audit_log *log = NULL;
    pb_status st = pb_node_audit_open_with(cfg, node, ks, &settings, &log);
    /* What the verifier does not judge (segment numbering) the writer does. */
    if (st == PB_ERR_INTEGRITY)
        return not_repaired(node, pb_last_error());
    if (st != PB_OK)
        return pb_fail_context(st, "node %d", node);
    pb_audit_repair_report rep;
    pb_audit_repair_get(log, &rep);
    uint64_t checkpoint_seq = 0;
    if (rep.repaired)
        st = pb_audit_checkpoint(log, &checkpoint_seq);
    pb_audit_close(log);
    if (rep.repaired)
        print_repaired(node, &rep, checkpoint_seq);
    else /* another process repaired it in between */
        printf("{\"node\":%d,\"repaired\":false}\n", node);
    fflush(stdout);
    return st == PB_OK ? PB_OK : pb_fail_context(st, "node %d: the repair is done but not signed",
                                                 node);
}

static int repair_node(const pb_config *cfg, int node)
{
    char dir[700];
    pb_node_audit_dir(cfg, node, dir, sizeof dir);
    struct stat sb;
    if (stat(dir, &sb) != 0 && errno == ENOENT) {
        printf("{\"node\":%d,\"repaired\":false}\n", node); /* no log yet */
        return PB_EXIT_OK;
    }
    pb_keystore *ks = NULL;
    int torn = 0;
    pb_status st = pb_keystore_open(&cfg->node[node - 1], 0, &ks);
    if (st == PB_OK)
        st = verify_before(ks, node, dir, &torn);
    if (st == PB_OK && !torn)
        printf("{\"node\":%d,\"repaired\":false}\n", node);
    else if (st == PB_OK)
        st = repair(cfg, ks, node);
    pb_keystore_close(ks);
    fflush(stdout);
    return st == PB_OK ? PB_EXIT_OK : pb_cli_error(st);
}

int pb_cmd_audit_repair(pb_cli *cli, int node)
{
    pb_config cfg;
    pb_status st = pb_cli_load_config(cli, &cfg);
    if (st != PB_OK)
        return pb_cli_error(st);
    int rc = PB_EXIT_OK;
    for (int n = 1; n <= PB_NODES; n++) {
        if (node && n != node)
            continue;
        int r = repair_node(&cfg, n);
        if (rc == PB_EXIT_OK)
            rc = r; /* the other node is still repaired; the first failure is the exit code */
    }
    return rc;
}
