/* `planbok audit repair`, run as the real program on a two-node data
 * directory with SoftHSM tokens: a torn last line blocks every command
 * with the exact repair command in the message; the repair cuts exactly
 * the torn bytes, keeps them in <segment>.torn, records itself in the
 * chain under a checkpoint, and does nothing the second time; anything
 * but a torn tail (an edited record, a log behind the token's checkpoint)
 * is left untouched with exit 6. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/record.h"
#include "support/audit_fixture.h"
#include "support/cli_runner.h"
#include "support/engine_fixture.h"

static pb_test_engine t;
static char seg1[400]; /* node 1's only segment */

/* Two nodes, one standard wallet (its creation is in both logs), engine closed. */
static void setup(void)
{
    pb_test_engine_make(&t);
    pb_wallet_info info;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", "w", NULL, &info, code), PB_OK, "%s",
                 pb_last_error());
    pb_engine_close(t.e);
    t.e = NULL;
    snprintf(seg1, sizeof seg1, "%s/audit/node1/audit-000001.jsonl", t.home);
}

static void teardown(void) { pb_test_engine_remove(&t); }

TestSuite(audit_repair, .init = setup, .fini = teardown);

/* The whole file, or NULL if it does not exist. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    FILE *m = open_memstream(&buf, &cap);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    *len = cap;
    return buf;
}

static void append_bytes(const char *path, const char *bytes)
{
    FILE *f = fopen(path, "ab");
    cr_assert_not_null(f);
    fputs(bytes, f);
    fclose(f);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static unsigned long long json_number(const char *json, const char *key)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(json, pattern);
    cr_assert_not_null(p, "no %s in %s", key, json);
    return strtoull(p + strlen(pattern), NULL, 10);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

Test(audit_repair, torn_tail_is_cut_kept_recorded_and_signed)
{
    /* Half a record, as a writer killed mid-append leaves it. */
    const char *torn = "{\"seq\":3,\"time\":\"2026-12-06T02:4";
    size_t before_len;
    char *before = read_all(seg1, &before_len);
    append_bytes(seg1, torn);

    pb_test_cli r;
    pb_test_cli_run(t.home, "wallet list", &r);
    cr_assert_eq(r.code, 6, "%s%s", r.out, r.err);
    cr_assert_not_null(strstr(r.err, "torn tail"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "run 'planbok audit repair --node 1'"), "%s", r.err);
    pb_test_cli_free(&r);

    pb_test_cli_run(t.home, "audit repair --node 1", &r);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    cr_assert_eq(count_lines(r.out), 1, "one object for the one node asked: %s", r.out);
    cr_assert(strncmp(r.out, "{\"node\":1,\"repaired\":true,", 26) == 0, "%s", r.out);
    cr_assert_eq(json_number(r.out, "cut_bytes"), strlen(torn), "%s", r.out);
    cr_assert_eq(json_number(r.out, "offset"), before_len, "%s", r.out);
    unsigned long long record_seq = json_number(r.out, "record_seq");
    unsigned long long checkpoint_seq = json_number(r.out, "checkpoint_seq");
    cr_assert_eq(record_seq, 3, "%s", r.out);
    cr_assert_eq(checkpoint_seq, record_seq + 1, "the repair record is signed at once");
    char kept_path[450], expect[500];
    snprintf(kept_path, sizeof kept_path, "%s.torn", seg1);
    snprintf(expect, sizeof expect, "\"kept_in\":\"%s\"", kept_path);
    cr_assert_not_null(strstr(r.out, expect), "%s", r.out);
    pb_test_cli_free(&r);

    /* The side file holds exactly the cut bytes; the segment is what it
     * was, plus the repair record and its checkpoint. */
    size_t kept_len, after_len;
    char *kept = read_all(kept_path, &kept_len);
    cr_assert_not_null(kept);
    cr_assert_eq(kept_len, strlen(torn));
    cr_assert_eq(memcmp(kept, torn, kept_len), 0);
    char *after = read_all(seg1, &after_len);
    cr_assert_gt(after_len, before_len);
    cr_assert_eq(memcmp(after, before, before_len), 0, "a whole record was changed");
    pb_test_lines l;
    pb_test_lines_read(seg1, &l);
    pb_audit_record rec, cp;
    pb_test_lines_decode(&l, l.count - 2, &rec);
    pb_test_lines_decode(&l, l.count - 1, &cp);
    pb_test_lines_free(&l);
    cr_assert_str_eq(rec.event, PB_AUDIT_EVENT_REPAIR);
    cr_assert_eq(rec.seq, record_seq);
    snprintf(expect, sizeof expect, "cut a torn tail of %zu bytes at offset %zu", strlen(torn),
             before_len);
    cr_assert_not_null(strstr(rec.detail, expect), "%s", rec.detail);
    cr_assert(pb_audit_record_is_checkpoint(&cp));
    cr_assert_eq(cp.head_seq, record_seq);
    free(kept);
    free(before);
    free(after);

    /* The chain verifies against the token's key and checkpoint, which now
     * is the one over the repair. */
    pb_test_cli_run(t.home, "audit verify --node 1", &r);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    cr_assert_not_null(strstr(r.out, "\"ok\":true"), "%s", r.out);
    cr_assert_eq(json_number(r.out, "last_checkpoint_seq"), checkpoint_seq);
    cr_assert_eq(json_number(r.out, "unsigned_tail"), 0);
    cr_assert_not_null(strstr(r.out, "\"found_in_log\":true"), "%s", r.out);
    pb_test_cli_free(&r);
    pb_test_cli_run(t.home, "audit export --node 1 --format jsonl --event log.repair", &r);
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_eq(count_lines(r.out), 1, "%s", r.out);
    pb_test_cli_free(&r);

    /* Nothing left to repair, on either node; the other commands work again. */
    pb_test_cli_run(t.home, "audit repair", &r);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    cr_assert_str_eq(r.out, "{\"node\":1,\"repaired\":false}\n{\"node\":2,\"repaired\":false}\n");
    pb_test_cli_free(&r);
    pb_test_cli_run(t.home, "wallet list", &r);
    cr_assert_eq(r.code, 0, "%s", r.err);
    pb_test_cli_free(&r);
    kept = read_all(kept_path, &kept_len);
    cr_assert_eq(kept_len, strlen(torn), "a repair with nothing torn touched the side file");
    free(kept);
}

Test(audit_repair, both_nodes_are_repaired_without_node)
{
    char seg2[400];
    snprintf(seg2, sizeof seg2, "%s/audit/node2/audit-000001.jsonl", t.home);
    append_bytes(seg1, "{\"seq\":3,");
    append_bytes(seg2, "{\"se");
    pb_test_cli r;
    pb_test_cli_run(t.home, "audit repair", &r);
    cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
    cr_assert_eq(count_lines(r.out), 2, "%s", r.out);
    const char *second = strchr(r.out, '\n') + 1;
    cr_assert(strncmp(r.out, "{\"node\":1,\"repaired\":true,", 26) == 0, "%s", r.out);
    cr_assert(strncmp(second, "{\"node\":2,\"repaired\":true,", 26) == 0, "%s", r.out);
    cr_assert_eq(json_number(r.out, "cut_bytes"), 9);
    cr_assert_eq(json_number(second, "cut_bytes"), 4);
    pb_test_cli_free(&r);
    for (int node = 1; node <= 2; node++) {
        char args[64];
        snprintf(args, sizeof args, "audit verify --node %d", node);
        pb_test_cli_run(t.home, args, &r);
        cr_assert_eq(r.code, 0, "node %d: %s%s", node, r.out, r.err);
        pb_test_cli_free(&r);
    }
}

/* The refusals: exit 6, the reason, the verify command, and no byte changed. */
static void assert_not_repaired(const char *seg, const char *reason)
{
    size_t before_len, after_len;
    char *before = read_all(seg, &before_len);
    pb_test_cli r;
    pb_test_cli_run(t.home, "audit repair --node 1", &r);
    cr_assert_eq(r.code, 6, "%s%s", r.out, r.err);
    cr_assert_str_eq(r.out, "", "nothing is reported as repaired");
    cr_assert_not_null(strstr(r.err, "not repaired"), "%s", r.err);
    cr_assert_not_null(strstr(r.err, reason), "%s", r.err);
    cr_assert_not_null(strstr(r.err, "planbok audit verify --node 1"), "%s", r.err);
    pb_test_cli_free(&r);
    char *after = read_all(seg, &after_len);
    cr_assert_eq(after_len, before_len);
    cr_assert_eq(memcmp(after, before, before_len), 0);
    char kept_path[450];
    snprintf(kept_path, sizeof kept_path, "%s.torn", seg);
    cr_assert_not(file_exists(kept_path), "a refused repair wrote a side file");
    free(before);
    free(after);
}

Test(audit_repair, an_edited_record_is_not_repaired)
{
    pb_test_lines l;
    pb_test_lines_read(seg1, &l);
    char *w = strstr(l.line[0], "\"wallet\":\"w");
    cr_assert_not_null(w);
    w[10] = w[10] == 'x' ? 'y' : 'x';
    pb_test_lines_write(seg1, &l);
    pb_test_lines_free(&l);
    assert_not_repaired(seg1, "hash_mismatch");
    /* Also with a torn tail behind the edit: the tail is not cut either. */
    append_bytes(seg1, "{\"seq\":3,");
    assert_not_repaired(seg1, "hash_mismatch");
}

Test(audit_repair, a_log_behind_the_token_checkpoint_is_not_repaired)
{
    /* The wallet.create record and its checkpoint are gone, then a torn line. */
    pb_test_lines l;
    pb_test_lines_read(seg1, &l);
    pb_test_lines_remove(&l, l.count - 1);
    pb_test_lines_write(seg1, &l);
    pb_test_lines_free(&l);
    append_bytes(seg1, "{\"seq\":2,\"ti");
    assert_not_repaired(seg1, "truncated");
}

Test(audit_repair, a_log_with_a_missing_segment_is_not_repaired)
{
    /* Segment 1 is gone; the records now in segment 2 end in a torn line. */
    char seg2[400];
    snprintf(seg2, sizeof seg2, "%s/audit/node1/audit-000002.jsonl", t.home);
    cr_assert_eq(rename(seg1, seg2), 0);
    append_bytes(seg2, "{\"seq\":3,");
    assert_not_repaired(seg2, "segment 1 is missing");
}

Test(audit_repair, usage)
{
    pb_test_cli r;
    pb_test_cli_run(t.home, "audit repair --node 3", &r);
    cr_assert_eq(r.code, 2);
    pb_test_cli_free(&r);
    pb_test_cli_run(t.home, "audit repair --log /tmp", &r);
    cr_assert_eq(r.code, 2);
    pb_test_cli_free(&r);
    pb_test_cli_run(t.home, "audit frobnicate", &r);
    cr_assert_eq(r.code, 2);
    cr_assert_not_null(strstr(r.err, "repair [--node 1|2]"), "usage lists repair: %s", r.err);
    pb_test_cli_free(&r);
}
