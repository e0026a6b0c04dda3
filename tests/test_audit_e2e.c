/* The audit trail end to end on a real SoftHSM token: the node's audit key
 * signs checkpoints through the key store, the latest checkpoint is sealed
 * into the token and catches a log cut short, and one checkpoint checks
 * out with the plain openssl command line, as docs/auditor-guide.md says. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "audit/record.h"
#include "audit/verify.h"
#include "engine/audit_wiring.h"
#include "support/audit_fixture.h"
#include "support/support.h"
#include "support/token_fixture.h"

typedef struct node_env {
    pb_test_token token;
    pb_keystore *ks;
    pb_config cfg;
    char dir[600];
    char seg[700];
    char *pem;
} node_env;

static void node_env_make(node_env *e, int node)
{
    memset(e, 0, sizeof *e);
    pb_test_token_make(&e->token, PB_PLACEMENT_TOKEN);
    e->ks = pb_test_token_open(&e->token);
    snprintf(e->cfg.home, sizeof e->cfg.home, "%s", e->token.dir);
    pb_node_audit_dir(&e->cfg, node, e->dir, sizeof e->dir);
    snprintf(e->seg, sizeof e->seg, "%s/audit-000001.jsonl", e->dir);
    cr_assert_eq(pb_keystore_audit_public_pem(e->ks, &e->pem), PB_OK, "%s", pb_last_error());
}

static void node_env_free(node_env *e)
{
    free(e->pem);
    pb_keystore_close(e->ks);
    pb_test_token_remove(&e->token);
}

/* n operations the way the engine records them: a write-ahead request,
 * then the result together with a checkpoint. */
static void run_operations(pb_audit_log *log, int n)
{
    for (int k = 0; k < n; k++) {
        uint8_t digest[32];
        memset(digest, 0x30 + k, sizeof digest);
        pb_audit_event req = {"sign.request", "wallet-1", "api:alice", digest, 32, "ok", NULL};
        pb_audit_event done = {"sign.complete", "wallet-1", "api:alice", digest, 32, "ok", NULL};
        cr_assert_eq(pb_audit_append(log, &req, NULL), PB_OK, "%s", pb_last_error());
        cr_assert_eq(pb_audit_append_checkpoint(log, &done, NULL), PB_OK, "%s", pb_last_error());
    }
}

static char *token_checkpoint(node_env *e, int node)
{
    char *line = NULL;
    size_t len = 0;
    cr_assert_eq(pb_node_audit_checkpoint_load(e->ks, node, &line, &len), PB_OK, "%s",
                 pb_last_error());
    cr_assert_eq(strlen(line), len);
    return line;
}

Test(audit_e2e, token_signed_log_verifies_with_the_token_s_public_key_and_checkpoint)
{
    node_env e;
    node_env_make(&e, 1);
    pb_audit_log *log;
    cr_assert_eq(pb_node_audit_open(&e.cfg, 1, e.ks, &log), PB_OK, "%s", pb_last_error());
    run_operations(log, 5);
    pb_audit_close(log);
    char *ext = token_checkpoint(&e, 1);
    pb_audit_summary sum;
    pb_audit_verify_options o = {e.dir, e.pem, ext, 1};
    cr_assert_eq(pb_audit_verify(&o, &sum), PB_OK, "%s", pb_last_error());
    cr_assert_eq(sum.records, 15);
    cr_assert_eq(sum.checkpoints, 5);
    cr_assert_eq(sum.last_checkpoint_seq, 15);
    cr_assert_eq(sum.unsigned_tail, 0);
    cr_assert_eq(sum.external_checked, 1);
    cr_assert_eq(sum.external_seq, 15);
    free(ext);
    node_env_free(&e);
}

Test(audit_e2e, log_cut_after_its_last_checkpoint_is_caught_and_not_written_to)
{
    node_env e;
    node_env_make(&e, 2);
    pb_audit_log *log;
    cr_assert_eq(pb_node_audit_open(&e.cfg, 2, e.ks, &log), PB_OK, "%s", pb_last_error());
    run_operations(log, 3);
    pb_audit_close(log);
    /* Cut the last operation (its result and checkpoint). */
    pb_test_lines l;
    pb_test_lines_read(e.seg, &l);
    pb_test_lines_remove(&l, l.count - 1);
    pb_test_lines_remove(&l, l.count - 1);
    pb_test_lines_write(e.seg, &l);
    pb_test_lines_free(&l);

    char *ext = token_checkpoint(&e, 2);
    pb_audit_summary sum;
    pb_audit_verify_options o = {e.dir, e.pem, NULL, 2};
    cr_assert_eq(pb_audit_verify(&o, &sum), PB_OK, "the cut log alone is self-consistent");
    cr_assert_eq(sum.unsigned_tail, 1);
    o.checkpoint = ext;
    cr_assert_eq(pb_audit_verify(&o, &sum), PB_ERR_INTEGRITY);
    cr_assert_eq(sum.reason, PB_AUDIT_TRUNCATED, "%s", pb_audit_reason_name(sum.reason));
    cr_assert_eq(sum.bad_seq, 8);
    cr_assert_eq(pb_node_audit_open(&e.cfg, 2, e.ks, &log), PB_ERR_INTEGRITY);
    free(ext);
    node_env_free(&e);
}

Test(audit_e2e, each_node_keeps_its_own_checkpoint_in_the_token)
{
    node_env e;
    node_env_make(&e, 1);
    pb_audit_log *one, *two;
    cr_assert_eq(pb_node_audit_open(&e.cfg, 1, e.ks, &one), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_node_audit_open(&e.cfg, 2, e.ks, &two), PB_OK, "%s", pb_last_error());
    run_operations(one, 2);
    run_operations(two, 1);
    pb_audit_close(one);
    pb_audit_close(two);
    char *c1 = token_checkpoint(&e, 1), *c2 = token_checkpoint(&e, 2);
    cr_assert_not_null(strstr(c1, "\"node\":1,"));
    cr_assert_not_null(strstr(c2, "\"node\":2,"));
    cr_assert_not_null(strstr(c1, "{\"seq\":6,"));
    cr_assert_not_null(strstr(c2, "{\"seq\":3,"));
    /* Node 2's checkpoint is no proof for node 1's log. */
    pb_audit_summary sum;
    pb_audit_verify_options o = {e.dir, e.pem, c2, 1};
    cr_assert_eq(pb_audit_verify(&o, &sum), PB_ERR_INTEGRITY);
    cr_assert_eq(sum.reason, PB_AUDIT_BAD_EXTERNAL);
    free(c1);
    free(c2);
    node_env_free(&e);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static int hexval(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

/* A string field's value from a canonical line (no escapes in these). */
static void field(const char *line, const char *key, char *out, size_t cap)
{
    char pat[40];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    cr_assert_not_null(p, "%s", key);
    p += strlen(pat);
    if (*p == '"')
        p++;
    size_t n = strcspn(p, "\",}");
    cr_assert_lt(n, cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

static int run(const char *cmd)
{
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(audit_e2e, a_checkpoint_verifies_with_the_plain_openssl_command_line)
{
    node_env e;
    node_env_make(&e, 1);
    pb_audit_log *log;
    cr_assert_eq(pb_node_audit_open(&e.cfg, 1, e.ks, &log), PB_OK, "%s", pb_last_error());
    run_operations(log, 2);
    pb_audit_close(log);
    /* Build the files from the record as docs/auditor-guide.md describes,
     * without the library's statement code. */
    pb_test_lines l;
    pb_test_lines_read(e.seg, &l);
    const char *cp = l.line[l.count - 1];
    char node[8], seq[24], head[80], time[40], sig[160];
    field(cp, "node", node, sizeof node);
    field(cp, "head_seq", seq, sizeof seq);
    field(cp, "head", head, sizeof head);
    field(cp, "time", time, sizeof time);
    field(cp, "sig", sig, sizeof sig);
    char statement[400];
    int n = snprintf(statement, sizeof statement,
                     "{\"domain\":\"planbok-audit-checkpoint-v1\",\"node\":%s,\"seq\":%s,"
                     "\"head\":\"%s\",\"time\":\"%s\"}", node, seq, head, time);
    uint8_t der[80];
    size_t der_len = strlen(sig) / 2;
    for (size_t i = 0; i < der_len; i++)
        der[i] = (uint8_t)(hexval(sig[2 * i]) * 16 + hexval(sig[2 * i + 1]));
    char p_pem[700], p_sig[700], p_stmt[700], p_bad[700], cmd[3000];
    snprintf(p_pem, sizeof p_pem, "%s/pub.pem", e.token.dir);
    snprintf(p_sig, sizeof p_sig, "%s/sig.der", e.token.dir);
    snprintf(p_stmt, sizeof p_stmt, "%s/statement.bin", e.token.dir);
    snprintf(p_bad, sizeof p_bad, "%s/other.bin", e.token.dir);
    write_file(p_pem, e.pem, strlen(e.pem));
    write_file(p_sig, der, der_len);
    write_file(p_stmt, statement, (size_t)n);
    statement[n - 3] ^= 1; /* one bit of the time */
    write_file(p_bad, statement, (size_t)n);
    snprintf(cmd, sizeof cmd, "openssl dgst -sha256 -verify '%s' -signature '%s' '%s' >/dev/null",
             p_pem, p_sig, p_stmt);
    cr_assert_eq(run(cmd), 0, "openssl rejected the checkpoint: %s", cmd);
    snprintf(cmd, sizeof cmd,
             "openssl dgst -sha256 -verify '%s' -signature '%s' '%s' >/dev/null 2>&1", p_pem,
             p_sig, p_bad);
    cr_assert_neq(run(cmd), 0, "openssl accepted an altered statement");

    /* The guide's script does the same from the log file alone, and also
     * recomputes the head from the covered record. */
    char cp_seq[24];
    field(cp, "seq", cp_seq, sizeof cp_seq);
    snprintf(cmd, sizeof cmd, "sh '%s/tools/audit-check-checkpoint.sh' '%s' %s '%s' >/dev/null",
             pb_test_source_dir(), e.seg, cp_seq, p_pem);
    cr_assert_eq(run(cmd), 0, "the guide's script failed: %s", cmd);
    /* An edit of the covered record is caught by the head check. */
    size_t covered = l.count - 2;
    char *w = strstr(l.line[covered], "\"actor\":\"api:alice\"");
    cr_assert_not_null(w);
    w[13] = 'A';
    pb_test_lines_write(e.seg, &l);
    snprintf(cmd, sizeof cmd,
             "sh '%s/tools/audit-check-checkpoint.sh' '%s' %s '%s' >/dev/null 2>&1",
             pb_test_source_dir(), e.seg, cp_seq, p_pem);
    cr_assert_neq(run(cmd), 0, "the script accepted an edited record");
    pb_test_lines_free(&l);
    node_env_free(&e);
}
