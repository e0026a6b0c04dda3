/* The verifier against an attacker with write access to the log files but
 * not the audit key: each kind of tampering is reported at the right seq
 * with the right reason, and an untouched log verifies with an exact
 * summary. Layout of the log built here (checkpoint after every 5 records):
 *   1-5, cp 6, 7-11, cp 12, 13-17, cp 18, 19-23, cp 24, 25-27 (unsigned). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/log.h"
#include "audit/record.h"
#include "audit/verify.h"
#include "support/audit_fixture.h"

typedef struct fixture {
    char dir[256];
    char seg[320];
    pb_test_signer signer;
    pb_test_store store;
} fixture;

static void build(fixture *f, size_t segment_bytes, unsigned node, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    pb_test_tmpdir(f->dir, sizeof f->dir);
    snprintf(f->seg, sizeof f->seg, "%s/audit-000001.jsonl", f->dir);
    pb_test_signer_make(&f->signer);
    pb_test_clock clock = {1714566605000LL + (int64_t)seed, 1000};
    pb_audit_options o = {0};
    o.dir = f->dir;
    o.node = node;
    o.segment_bytes = segment_bytes;
    o.clock = pb_test_clock_tick;
    o.clock_ctx = &clock;
    o.signer = (pb_audit_signer){pb_test_signer_sign, &f->signer};
    o.store = pb_test_store_callbacks(&f->store);
    o.public_key_pem = f->signer.pem;
    pb_audit_log *log;
    cr_assert_eq(pb_audit_open(&o, &log), PB_OK, "%s", pb_last_error());
    pb_test_audit_fill(log, 23, 5);
    pb_audit_close(log);
}

static void destroy(fixture *f)
{
    pb_test_rmtree(f->dir);
    pb_test_signer_free(&f->signer);
    pb_test_store_free(&f->store);
}

static void expect_bad(fixture *f, const char *checkpoint, pb_audit_reason reason, uint64_t seq)
{
    pb_audit_summary sum;
    pb_status st = pb_test_audit_verify(f->dir, f->signer.pem, checkpoint, &sum);
    cr_assert_eq(st, PB_ERR_INTEGRITY, "verify returned %d (%s)", st, pb_last_error());
    cr_assert_eq(sum.reason, reason, "reason %s, expected %s: %s",
                 pb_audit_reason_name(sum.reason), pb_audit_reason_name(reason), sum.message);
    cr_assert_eq(sum.bad_seq, seq, "bad seq %llu, expected %llu: %s",
                 (unsigned long long)sum.bad_seq, (unsigned long long)seq, sum.message);
}

static void edit_lines(fixture *f, void (*change)(pb_test_lines *l, void *ctx), void *ctx)
{
    pb_test_lines l;
    pb_test_lines_read(f->seg, &l);
    change(&l, ctx);
    pb_test_lines_write(f->seg, &l);
    pb_test_lines_free(&l);
}

Test(audit_tamper, untouched_log_verifies_with_an_exact_summary)
{
    fixture f;
    build(&f, 0, 1, 0);
    pb_audit_summary sum;
    cr_assert_eq(pb_test_audit_verify(f.dir, f.signer.pem, NULL, &sum), PB_OK, "%s",
                 pb_last_error());
    cr_assert_eq(sum.records, 27);
    cr_assert_eq(sum.checkpoints, 4);
    cr_assert_eq(sum.first_seq, 1);
    cr_assert_eq(sum.last_seq, 27);
    cr_assert_eq(sum.last_checkpoint_seq, 24);
    cr_assert_eq(sum.unsigned_tail, 3);
    cr_assert_eq(sum.external_checked, 0);
    cr_assert_eq(f.store.saves, 4);
    cr_assert_eq(pb_test_audit_verify(f.dir, f.signer.pem, f.store.line, &sum), PB_OK, "%s",
                 pb_last_error());
    cr_assert_eq(sum.external_checked, 1);
    cr_assert_eq(sum.external_seq, 24);
    destroy(&f);
}

static void raw_edit_wallet(pb_test_lines *l, void *ctx)
{
    size_t i = pb_test_lines_find(l, *(uint64_t *)ctx);
    char *w = strstr(l->line[i], "\"wallet\":\"w");
    cr_assert_not_null(w);
    w[11] = w[11] == '9' ? '8' : '9'; /* w1 -> w9 */
}

Test(audit_tamper, edited_field_is_a_hash_mismatch_at_its_seq)
{
    fixture f;
    build(&f, 0, 1, 0);
    uint64_t seq = 8;
    edit_lines(&f, raw_edit_wallet, &seq);
    expect_bad(&f, NULL, PB_AUDIT_HASH_MISMATCH, 8);
    destroy(&f);
}

static void raw_edit_seq(pb_test_lines *l, void *ctx)
{
    (void)ctx;
    size_t i = pb_test_lines_find(l, 9);
    memcpy(l->line[i], "{\"seq\":7", 8); /* claims another seq */
}

Test(audit_tamper, edited_seq_is_reported_at_the_position_it_holds)
{
    fixture f;
    build(&f, 0, 1, 0);
    edit_lines(&f, raw_edit_seq, NULL);
    expect_bad(&f, NULL, PB_AUDIT_HASH_MISMATCH, 9);
    destroy(&f);
}

static void set_outcome_refused(pb_audit_record *r, void *ctx)
{
    (void)ctx;
    snprintf(r->outcome, sizeof r->outcome, "refused");
}

static void edit_and_rechain(pb_test_lines *l, void *ctx)
{
    size_t i = pb_test_lines_find(l, *(uint64_t *)ctx);
    pb_test_lines_edit(l, i, set_outcome_refused, NULL);
    pb_test_lines_rechain(l, i);
}

Test(audit_tamper, edit_with_a_recomputed_chain_fails_at_the_next_checkpoint)
{
    fixture f;
    build(&f, 0, 1, 0);
    uint64_t seq = 8;
    edit_lines(&f, edit_and_rechain, &seq);
    expect_bad(&f, NULL, PB_AUDIT_BAD_SIGNATURE, 12);
    destroy(&f);
}

static void delete_seq(pb_test_lines *l, void *ctx)
{
    pb_test_lines_remove(l, pb_test_lines_find(l, *(uint64_t *)ctx));
}

Test(audit_tamper, deleted_record_is_reported_at_its_seq)
{
    fixture f;
    build(&f, 0, 1, 0);
    uint64_t seq = 9;
    edit_lines(&f, delete_seq, &seq);
    expect_bad(&f, NULL, PB_AUDIT_DELETED, 9);
    destroy(&f);
}

Test(audit_tamper, deleted_first_record_is_reported_at_seq_1)
{
    fixture f;
    build(&f, 0, 1, 0);
    uint64_t seq = 1;
    edit_lines(&f, delete_seq, &seq);
    expect_bad(&f, NULL, PB_AUDIT_DELETED, 1);
    destroy(&f);
}

Test(audit_tamper, deleted_checkpoint_record_is_reported_at_its_seq)
{
    fixture f;
    build(&f, 0, 1, 0);
    uint64_t seq = 12;
    edit_lines(&f, delete_seq, &seq);
    expect_bad(&f, NULL, PB_AUDIT_DELETED, 12);
    destroy(&f);
}

static void renumber(pb_audit_record *r, void *ctx)
{
    r->seq = *(uint64_t *)ctx;
    snprintf(r->wallet, sizeof r->wallet, "intruder");
}

/* A well-formed record claiming seq 9 slipped in after 8, linked to 8. */
static void insert_duplicate_seq(pb_test_lines *l, void *ctx)
{
    (void)ctx;
    size_t at = pb_test_lines_find(l, 9);
    pb_test_lines_insert(l, at, l->line[at]);
    uint64_t seq = 9;
    pb_test_lines_edit(l, at, renumber, &seq);
}

Test(audit_tamper, inserted_record_claiming_an_existing_seq_is_reported)
{
    fixture f;
    build(&f, 0, 1, 0);
    edit_lines(&f, insert_duplicate_seq, NULL);
    expect_bad(&f, NULL, PB_AUDIT_INSERTED, 9);
    destroy(&f);
}

static void insert_foreign(pb_test_lines *l, void *ctx)
{
    (void)ctx;
    size_t at = pb_test_lines_find(l, 9);
    pb_test_lines_insert(l, at, l->line[at]);
    uint64_t seq = 99;
    pb_test_lines_edit(l, at, renumber, &seq);
}

Test(audit_tamper, inserted_record_with_a_new_seq_is_reported)
{
    fixture f;
    build(&f, 0, 1, 0);
    edit_lines(&f, insert_foreign, NULL);
    expect_bad(&f, NULL, PB_AUDIT_INSERTED, 99);
    destroy(&f);
}

static void swap_seqs(pb_test_lines *l, void *ctx)
{
    const uint64_t *pair = ctx;
    pb_test_lines_swap(l, pb_test_lines_find(l, pair[0]), pb_test_lines_find(l, pair[1]));
}

Test(audit_tamper, swapped_neighbours_are_reordered_at_the_first)
{
    fixture f;
    build(&f, 0, 1, 0);
    uint64_t pair[2] = {9, 10};
    edit_lines(&f, swap_seqs, pair);
    expect_bad(&f, NULL, PB_AUDIT_REORDERED, 9);
    destroy(&f);
}

Test(audit_tamper, distant_swap_is_reordered_at_the_first_misplaced_seq)
{
    fixture f;
    build(&f, 0, 1, 0);
    uint64_t pair[2] = {3, 20};
    edit_lines(&f, swap_seqs, pair);
    expect_bad(&f, NULL, PB_AUDIT_REORDERED, 3);
    destroy(&f);
}

/* Replaces checkpoint `seq`'s signature by one made with another key over
 * the right statement, and fixes the chain after it. */
static void forge_signature(pb_test_lines *l, void *ctx)
{
    uint64_t seq = *(uint64_t *)ctx;
    size_t i = pb_test_lines_find(l, seq);
    pb_audit_record cp;
    pb_test_lines_decode(l, i, &cp);
    pb_test_signer attacker;
    pb_test_signer_make(&attacker);
    cr_assert_eq(pb_audit_checkpoint_sign(pb_test_signer_sign, &attacker, &cp), PB_OK);
    pb_test_signer_free(&attacker);
    char buf[PB_AUDIT_LINE_MAX + 1];
    size_t len;
    cr_assert_eq(pb_audit_record_encode(&cp, buf, sizeof buf, &len), PB_OK);
    free(l->line[i]);
    l->line[i] = strdup(buf);
    pb_test_lines_rechain(l, i + 1);
}

Test(audit_tamper, forged_checkpoint_signature_is_reported)
{
    fixture f;
    build(&f, 0, 1, 0);
    uint64_t seq = 12;
    edit_lines(&f, forge_signature, &seq);
    expect_bad(&f, NULL, PB_AUDIT_BAD_SIGNATURE, 12);
    destroy(&f);
}

Test(audit_tamper, forged_first_checkpoint_is_a_bad_signature_given_the_external_checkpoint)
{
    fixture f;
    build(&f, 0, 1, 0);
    uint64_t seq = 6;
    edit_lines(&f, forge_signature, &seq);
    /* Every checkpoint after a forged, re-chained one fails too; without
     * other evidence that is what a wrong key looks like. The checkpoint
     * kept in the token is that evidence. */
    expect_bad(&f, NULL, PB_AUDIT_WRONG_PUBLIC_KEY, 6);
    expect_bad(&f, f.store.line, PB_AUDIT_BAD_SIGNATURE, 6);
    destroy(&f);
}

static void swap_signatures(pb_test_lines *l, void *ctx)
{
    (void)ctx;
    size_t a = pb_test_lines_find(l, 6), b = pb_test_lines_find(l, 12);
    pb_audit_record ra, rb;
    pb_test_lines_decode(l, a, &ra);
    pb_test_lines_decode(l, b, &rb);
    char buf[PB_AUDIT_LINE_MAX + 1];
    size_t len;
    pb_audit_record na = ra, nb = rb;
    memcpy(na.sig, rb.sig, rb.sig_len);
    na.sig_len = rb.sig_len;
    memcpy(nb.sig, ra.sig, ra.sig_len);
    nb.sig_len = ra.sig_len;
    cr_assert_eq(pb_audit_record_encode(&na, buf, sizeof buf, &len), PB_OK);
    free(l->line[a]);
    l->line[a] = strdup(buf);
    cr_assert_eq(pb_audit_record_encode(&nb, buf, sizeof buf, &len), PB_OK);
    free(l->line[b]);
    l->line[b] = strdup(buf);
    if (ctx)
        pb_test_lines_rechain(l, a + 1);
}

Test(audit_tamper, swapped_checkpoint_signatures_are_reported_at_the_first)
{
    fixture f;
    build(&f, 0, 1, 0);
    edit_lines(&f, swap_signatures, NULL);
    expect_bad(&f, NULL, PB_AUDIT_BAD_SIGNATURE, 6);
    destroy(&f);
    /* The same with the chain recomputed behind the swap. */
    int rechain = 1;
    build(&f, 0, 1, 0);
    edit_lines(&f, swap_signatures, &rechain);
    expect_bad(&f, f.store.line, PB_AUDIT_BAD_SIGNATURE, 6);
    destroy(&f);
}

Test(audit_tamper, wrong_public_key_is_named_as_such)
{
    fixture f;
    build(&f, 0, 1, 0);
    pb_test_signer other;
    pb_test_signer_make(&other);
    pb_audit_summary sum;
    cr_assert_eq(pb_test_audit_verify(f.dir, other.pem, NULL, &sum), PB_ERR_INTEGRITY);
    cr_assert_eq(sum.reason, PB_AUDIT_WRONG_PUBLIC_KEY, "%s", pb_audit_reason_name(sum.reason));
    cr_assert_eq(sum.bad_seq, 6);
    /* Also when handed the (genuine) external checkpoint: it does not
     * verify under that key either. */
    cr_assert_eq(pb_test_audit_verify(f.dir, other.pem, f.store.line, &sum), PB_ERR_INTEGRITY);
    cr_assert_eq(sum.reason, PB_AUDIT_WRONG_PUBLIC_KEY, "%s", pb_audit_reason_name(sum.reason));
    pb_test_signer_free(&other);
    destroy(&f);
}

static void truncate_from(pb_test_lines *l, void *ctx)
{
    size_t i = pb_test_lines_find(l, *(uint64_t *)ctx);
    while (l->count > i)
        pb_test_lines_remove(l, l->count - 1);
}

Test(audit_tamper, truncation_through_the_last_checkpoint_needs_and_uses_the_external_one)
{
    fixture f;
    build(&f, 0, 1, 0);
    uint64_t seq = 24;
    edit_lines(&f, truncate_from, &seq);
    /* Alone, the cut log is self-consistent; its tail is reported unsigned. */
    pb_audit_summary sum;
    cr_assert_eq(pb_test_audit_verify(f.dir, f.signer.pem, NULL, &sum), PB_OK);
    cr_assert_eq(sum.last_seq, 23);
    cr_assert_eq(sum.last_checkpoint_seq, 18);
    cr_assert_eq(sum.unsigned_tail, 5);
    /* With the checkpoint kept in the token, the cut is found. */
    expect_bad(&f, f.store.line, PB_AUDIT_TRUNCATED, 24);
    destroy(&f);
}

Test(audit_tamper, cutting_only_the_unsigned_tail_leaves_a_verifying_log_with_no_unsigned_tail)
{
    fixture f;
    build(&f, 0, 1, 0);
    uint64_t seq = 25;
    edit_lines(&f, truncate_from, &seq);
    pb_audit_summary sum;
    cr_assert_eq(pb_test_audit_verify(f.dir, f.signer.pem, f.store.line, &sum), PB_OK, "%s",
                 pb_last_error());
    cr_assert_eq(sum.last_seq, 24);
    cr_assert_eq(sum.unsigned_tail, 0);
    cr_assert_eq(sum.external_checked, 1);
    destroy(&f);
}

Test(audit_tamper, external_checkpoint_from_a_diverging_log_is_a_mismatch)
{
    fixture a, b;
    build(&a, 0, 1, 0);
    build(&b, 0, 1, 7); /* same shape, other times: other hashes */
    /* b signed with its own key: re-sign b's last checkpoint under a's key
     * would need a's key, so instead verify a against a checkpoint of a
     * rewritten copy of a signed by a's own signer (a fork). */
    pb_test_lines l;
    pb_test_lines_read(a.seg, &l);
    size_t i = pb_test_lines_find(&l, 20);
    pb_test_lines_edit(&l, i, set_outcome_refused, NULL);
    pb_test_lines_rechain(&l, i);
    size_t c = pb_test_lines_find(&l, 24);
    pb_audit_record cp;
    pb_test_lines_decode(&l, c, &cp);
    cr_assert_eq(pb_audit_checkpoint_sign(pb_test_signer_sign, &a.signer, &cp), PB_OK);
    char fork_line[PB_AUDIT_LINE_MAX + 1];
    size_t len;
    cr_assert_eq(pb_audit_record_encode(&cp, fork_line, sizeof fork_line, &len), PB_OK);
    pb_test_lines_free(&l);
    expect_bad(&a, fork_line, PB_AUDIT_CHECKPOINT_MISMATCH, 24);
    /* And b's checkpoint, signed by another key, is not a valid external one. */
    expect_bad(&a, b.store.line, PB_AUDIT_BAD_EXTERNAL, 24);
    destroy(&a);
    destroy(&b);
}

Test(audit_tamper, edited_external_checkpoint_is_rejected)
{
    fixture f;
    build(&f, 0, 1, 0);
    char *ext = strdup(f.store.line);
    char *t = strstr(ext, "\"time\":\"2");
    t[9] = '3'; /* another year */
    expect_bad(&f, ext, PB_AUDIT_BAD_EXTERNAL, 24);
    free(ext);
    destroy(&f);
}

Test(audit_tamper, torn_tail_is_reported_after_the_last_whole_record)
{
    fixture f;
    build(&f, 0, 1, 0);
    FILE *fp = fopen(f.seg, "a");
    fputs("{\"seq\":28,\"time\":\"2024-05-", fp);
    fclose(fp);
    pb_audit_summary sum;
    cr_assert_eq(pb_test_audit_verify(f.dir, f.signer.pem, f.store.line, &sum), PB_ERR_INTEGRITY);
    cr_assert_eq(sum.reason, PB_AUDIT_TORN_TAIL, "%s", pb_audit_reason_name(sum.reason));
    cr_assert_eq(sum.bad_seq, 28);
    cr_assert_eq(sum.records, 27);
    cr_assert_eq(sum.last_seq, 27);
    cr_assert_eq(sum.torn_bytes, strlen("{\"seq\":28,\"time\":\"2024-05-"));
    destroy(&f);
}

Test(audit_tamper, missing_middle_segment_is_a_deletion)
{
    fixture f;
    build(&f, 1200, 1, 0); /* a few records per segment */
    char path[400];
    snprintf(path, sizeof path, "%s/audit-000003.jsonl", f.dir);
    pb_test_lines l;
    pb_test_lines_read(path, &l);
    pb_audit_record first;
    pb_test_lines_decode(&l, 0, &first);
    pb_test_lines_free(&l);
    cr_assert_eq(remove(path), 0);
    expect_bad(&f, NULL, PB_AUDIT_DELETED, first.seq);
    destroy(&f);
}

Test(audit_tamper, record_of_another_node_is_refused)
{
    fixture f;
    build(&f, 0, 1, 0);
    pb_audit_summary sum;
    pb_audit_verify_options o = {f.dir, f.signer.pem, NULL, 2};
    cr_assert_eq(pb_audit_verify(&o, &sum), PB_ERR_INTEGRITY);
    cr_assert_eq(sum.reason, PB_AUDIT_NODE_MISMATCH);
    cr_assert_eq(sum.bad_seq, 1);
    destroy(&f);
}

static void insert_garbage(pb_test_lines *l, void *ctx)
{
    pb_test_lines_insert(l, pb_test_lines_find(l, 9), (const char *)ctx);
}

Test(audit_tamper, non_canonical_or_blank_lines_are_malformed)
{
    fixture f;
    build(&f, 0, 1, 0);
    edit_lines(&f, insert_garbage, "");
    expect_bad(&f, NULL, PB_AUDIT_MALFORMED, 9);
    destroy(&f);
    build(&f, 0, 1, 0);
    edit_lines(&f, insert_garbage, "{\"seq\": 9}");
    expect_bad(&f, NULL, PB_AUDIT_MALFORMED, 9);
    destroy(&f);
}

static void point_head_elsewhere(pb_audit_record *r, void *ctx)
{
    (void)ctx;
    r->head_seq = 4;
}

static void bad_head(pb_test_lines *l, void *ctx)
{
    (void)ctx;
    size_t i = pb_test_lines_find(l, 12);
    pb_test_lines_edit(l, i, point_head_elsewhere, NULL);
    pb_test_lines_rechain(l, i + 1);
}

Test(audit_tamper, checkpoint_head_not_at_its_seq_is_reported)
{
    fixture f;
    build(&f, 0, 1, 0);
    edit_lines(&f, bad_head, NULL);
    expect_bad(&f, NULL, PB_AUDIT_HEAD_MISMATCH, 12);
    destroy(&f);
}

static void break_link(pb_audit_record *r, void *ctx)
{
    (void)ctx;
    r->prev[0] ^= 0x80;
}

static void relink(pb_test_lines *l, void *ctx)
{
    (void)ctx;
    pb_test_lines_edit(l, pb_test_lines_find(l, 9), break_link, NULL);
}

Test(audit_tamper, broken_prev_link_is_reported)
{
    fixture f;
    build(&f, 0, 1, 0);
    edit_lines(&f, relink, NULL);
    expect_bad(&f, NULL, PB_AUDIT_PREV_MISMATCH, 9);
    destroy(&f);
}
