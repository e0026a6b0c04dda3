/* The auditor's commands, run as the real `planbok` program against a data
 * directory with SoftHSM tokens: verify (exit 0 + JSON summary, exit 6 +
 * the bad seq and reason), public-key, checkpoint, show, export, and usage
 * errors (exit 2). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "engine/audit_wiring.h"
#include "pkcs11/softhsm_dev.h"
#include "support/audit_fixture.h"

static char home[256];
static char planbok[600];

/* A data directory as `planbok init` makes it, minus the node secrets the
 * audit commands do not use; then node 1 logs 4 operations. */
static void setup(void)
{
    pb_test_tmpdir(home, sizeof home);
    const char *bin = getenv("PB_BINARY_DIR");
    snprintf(planbok, sizeof planbok, "%s/bin/planbok", bin && *bin ? bin : ".");
    pb_config cfg;
    pb_config_dev_defaults(&cfg, home);
    char path[600], softhsm[600], l1[64], l2[64];
    pb_config_path(home, path, sizeof path);
    cr_assert_eq(pb_config_write(path, &cfg), PB_OK, "%s", pb_last_error());
    pb_config_softhsm_dir(&cfg, softhsm, sizeof softhsm);
    pb_config_dev_token_label(1, l1, sizeof l1);
    pb_config_dev_token_label(2, l2, sizeof l2);
    const char *labels[] = {l1, l2};
    cr_assert_eq(pb_softhsm_dev_provision(cfg.node[0].module, softhsm, labels, 2), PB_OK, "%s",
                 pb_last_error());
    pb_keystore *ks;
    cr_assert_eq(pb_keystore_open(&cfg.node[0], PB_KEYSTORE_CREATE, &ks), PB_OK, "%s",
                 pb_last_error());
    pb_audit_log *log;
    cr_assert_eq(pb_node_audit_open(&cfg, 1, ks, &log), PB_OK, "%s", pb_last_error());
    for (int k = 0; k < 4; k++) {
        uint8_t digest[32];
        memset(digest, k, sizeof digest);
        const char *wallet = k % 2 ? "w1" : "w2";
        pb_audit_event req = {"sign.request", wallet, "cli", digest, 32, "ok", NULL};
        pb_audit_event done = {"sign.complete", wallet, "cli", digest, 32, "ok",
                               "amount=1,000 \"ETH\""};
        cr_assert_eq(pb_audit_append(log, &req, NULL), PB_OK);
        cr_assert_eq(pb_audit_append_checkpoint(log, &done, NULL), PB_OK, "%s", pb_last_error());
    }
    pb_audit_close(log);
    pb_keystore_close(ks);
}

static void teardown(void) { pb_test_rmtree(home); }

/* Runs planbok with args; returns the exit code and stdout (malloc'd). */
static int run(const char *args, char **out)
{
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "'%s' --home '%s' %s 2>/dev/null", planbok, home, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(m);
    int status = pclose(p);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

TestSuite(audit_cli, .init = setup, .fini = teardown);

Test(audit_cli, verify_node_prints_the_summary_and_exits_0)
{
    char *out;
    cr_assert_eq(run("audit verify --node 1", &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "\"ok\":true"), "%s", out);
    cr_assert_not_null(strstr(out, "\"records\":12,\"checkpoints\":4,\"first_seq\":1,"
                                   "\"last_seq\":12,\"last_checkpoint_seq\":12,"
                                   "\"unsigned_tail\":0"), "%s", out);
    cr_assert_not_null(strstr(out, "\"external_checkpoint\":{\"seq\":12,\"found_in_log\":true}"),
                       "%s", out);
    free(out);
}

Test(audit_cli, auditor_verifies_with_the_exported_key_and_checkpoint_only)
{
    char *pem, *cp, *out, path[400], args[1500];
    cr_assert_eq(run("audit public-key --node 1", &pem), 0);
    cr_assert(strncmp(pem, "-----BEGIN PUBLIC KEY-----", 26) == 0, "%s", pem);
    cr_assert_eq(run("audit checkpoint --node 1", &cp), 0);
    cr_assert(strncmp(cp, "{\"seq\":12,", 10) == 0, "%s", cp);
    snprintf(path, sizeof path, "%s/pub.pem", home);
    FILE *f = fopen(path, "w");
    fputs(pem, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/cp.txt", home);
    f = fopen(path, "w");
    fputs(cp, f);
    fclose(f);
    snprintf(args, sizeof args,
             "audit verify --log '%s/audit/node1' --public-key '%s/pub.pem' --checkpoint '%s'",
             home, home, path);
    cr_assert_eq(run(args, &out), 0, "%s", out);
    cr_assert_not_null(strstr(out, "\"ok\":true"));
    free(out);
    /* And the log cut by one operation fails against that checkpoint. */
    char seg[400];
    snprintf(seg, sizeof seg, "%s/audit/node1/audit-000001.jsonl", home);
    pb_test_lines l;
    pb_test_lines_read(seg, &l);
    pb_test_lines_remove(&l, l.count - 1);
    pb_test_lines_remove(&l, l.count - 1);
    pb_test_lines_write(seg, &l);
    pb_test_lines_free(&l);
    cr_assert_eq(run(args, &out), 6, "%s", out);
    cr_assert_not_null(strstr(out, "\"ok\":false,"), "%s", out);
    cr_assert_not_null(strstr(out, "\"seq\":11,\"reason\":\"truncated\""), "%s", out);
    free(out);
    free(pem);
    free(cp);
}

Test(audit_cli, edited_record_exits_6_with_its_seq_and_reason)
{
    char seg[400];
    snprintf(seg, sizeof seg, "%s/audit/node1/audit-000001.jsonl", home);
    pb_test_lines l;
    pb_test_lines_read(seg, &l);
    char *w = strstr(l.line[4], "\"wallet\":\"w");
    w[11] = '9';
    pb_test_lines_write(seg, &l);
    pb_test_lines_free(&l);
    char *out;
    cr_assert_eq(run("audit verify --node 1", &out), 6, "%s", out);
    cr_assert_not_null(strstr(out, "\"seq\":5,\"reason\":\"hash_mismatch\""), "%s", out);
    cr_assert_not_null(strstr(out, "\"where\":\"audit-000001.jsonl:5\""), "%s", out);
    cr_assert_not_null(strstr(out, "\"records\":4,"), "%s", out);
    free(out);
}

Test(audit_cli, show_and_export_apply_the_filters)
{
    char *out;
    cr_assert_eq(run("audit show --node 1 --wallet w1", &out), 0);
    cr_assert_eq(count_lines(out), 1 + 4 + 1, "%s", out); /* header, 4 records, count */
    cr_assert_not_null(strstr(out, "(4 records)"));
    free(out);
    cr_assert_eq(run("audit export --format csv --node 1 --event sign.complete", &out), 0);
    cr_assert_eq(count_lines(out), 1 + 4, "%s", out);
    cr_assert_not_null(strstr(out, ",\"amount=1,000 \"\"ETH\"\"\","), "%s", out);
    free(out);
    cr_assert_eq(run("audit export --format jsonl --node 1 --event checkpoint", &out), 0);
    cr_assert_eq(count_lines(out), 4);
    cr_assert(strncmp(out, "{\"seq\":3,", 9) == 0, "%s", out);
    free(out);
    cr_assert_eq(run("audit export --format jsonl --node 1 --until 2000-01-01", &out), 0);
    cr_assert_eq(count_lines(out), 0);
    free(out);
}

Test(audit_cli, usage_errors_exit_2)
{
    char *out;
    cr_assert_eq(run("audit verify --log /nonexistent", &out), 2);
    free(out);
    cr_assert_eq(run("audit export --node 1", &out), 2);
    free(out);
    cr_assert_eq(run("audit export --format xml --node 1", &out), 2);
    free(out);
    cr_assert_eq(run("audit show --since yesterday", &out), 2);
    free(out);
    cr_assert_eq(run("audit verify --node 3", &out), 2);
    free(out);
    cr_assert_eq(run("audit frobnicate", &out), 2);
    free(out);
}
