/* The audit writer: durable appends, one chain from concurrent threads and
 * processes, recovery after a writer is killed, explicit repair of a torn
 * tail, rotation, checkpoints and the checkpoint kept outside the log. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/export.h"
#include "audit/log.h"
#include "audit/verify.h"
#include "support/audit_fixture.h"

typedef struct env {
    char dir[256];
    char seg1[320];
    pb_test_signer signer;
    pb_test_store store;
    pb_audit_options opt;
} env;

static void env_make(env *e)
{
    memset(e, 0, sizeof *e);
    pb_test_tmpdir(e->dir, sizeof e->dir);
    snprintf(e->seg1, sizeof e->seg1, "%s/audit-000001.jsonl", e->dir);
    pb_test_signer_make(&e->signer);
    e->opt.dir = e->dir;
    e->opt.node = 1;
    e->opt.signer = (pb_audit_signer){pb_test_signer_sign, &e->signer};
    e->opt.store = pb_test_store_callbacks(&e->store);
    e->opt.public_key_pem = e->signer.pem;
}

static void env_free(env *e)
{
    pb_test_rmtree(e->dir);
    pb_test_signer_free(&e->signer);
    pb_test_store_free(&e->store);
}

static pb_audit_log *env_open(env *e)
{
    pb_audit_log *log;
    cr_assert_eq(pb_audit_open(&e->opt, &log), PB_OK, "%s", pb_last_error());
    return log;
}

static pb_audit_summary env_verify_ok(env *e)
{
    pb_audit_summary sum;
    pb_status st = pb_test_audit_verify(e->dir, e->signer.pem, e->store.line, &sum);
    cr_assert_eq(st, PB_OK, "%s (%s at %llu)", pb_last_error(), pb_audit_reason_name(sum.reason),
                 (unsigned long long)sum.bad_seq);
    return sum;
}

static pb_status append_one(pb_audit_log *log, const char *actor, uint64_t *seq)
{
    pb_audit_event ev = {"sign.request", "w1", actor, NULL, 0, "ok", NULL};
    return pb_audit_append(log, &ev, seq);
}

typedef struct actor_count {
    char actor[16];
    int n;
} actor_count;

static pb_status count_actor(void *ctx, const pb_audit_record *r, const char *line, size_t len)
{
    (void)line, (void)len;
    actor_count *c = ctx;
    if (!strcmp(r->actor, c->actor))
        c->n++;
    return PB_OK;
}

static int records_by(const char *dir, const char *actor)
{
    actor_count c = {{0}, 0};
    snprintf(c.actor, sizeof c.actor, "%s", actor);
    cr_assert_eq(pb_audit_scan(dir, NULL, count_actor, &c, NULL), PB_OK, "%s", pb_last_error());
    return c.n;
}

Test(audit_writer, appended_record_is_in_the_file_when_append_returns)
{
    env e;
    env_make(&e);
    pb_audit_log *log = env_open(&e);
    uint64_t seq = 0;
    cr_assert_eq(append_one(log, "first", &seq), PB_OK);
    cr_assert_eq(seq, 1);
    pb_test_lines l;
    pb_test_lines_read(e.seg1, &l);
    cr_assert_eq(l.count, 1);
    cr_assert_not_null(strstr(l.line[0], "\"actor\":\"first\""));
    pb_test_lines_free(&l);
    pb_audit_stats st;
    pb_audit_stats_get(log, &st);
    cr_assert_eq(st.appends, 1);
    cr_assert_eq(st.last_seq, 1);
    pb_audit_close(log);
    env_free(&e);
}

Test(audit_writer, reopening_continues_the_chain)
{
    env e;
    env_make(&e);
    for (int round = 0; round < 3; round++) {
        pb_audit_log *log = env_open(&e);
        pb_test_audit_fill(log, 4, round == 1 ? 2 : 0);
        pb_audit_close(log);
    }
    pb_audit_summary sum = env_verify_ok(&e);
    cr_assert_eq(sum.records, 14); /* 12 events and 2 checkpoints */
    cr_assert_eq(sum.last_seq, 14);
    cr_assert_eq(sum.checkpoints, 2);
    env_free(&e);
}

typedef struct thread_arg {
    pb_audit_log *log;
    int index;
    int failures;
} thread_arg;

static void *writer_thread(void *p)
{
    thread_arg *a = p;
    char actor[16];
    snprintf(actor, sizeof actor, "t%d", a->index);
    for (int k = 0; k < 250; k++) {
        if (append_one(a->log, actor, NULL) != PB_OK)
            a->failures++;
        if (k % 50 == 49 && pb_audit_checkpoint(a->log, NULL) != PB_OK)
            a->failures++;
    }
    return NULL;
}

Test(audit_writer, four_threads_appending_produce_one_valid_chain)
{
    env e;
    env_make(&e);
    pb_audit_log *log = env_open(&e);
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){log, i, 0};
        pthread_create(&th[i], NULL, writer_thread, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(args[i].failures, 0);
    }
    cr_assert_eq(pb_audit_checkpoint(log, NULL), PB_OK);
    pb_audit_close(log);
    pb_audit_summary sum = env_verify_ok(&e);
    cr_assert_eq(sum.records - sum.checkpoints, 1000);
    cr_assert_geq(sum.checkpoints, 5);
    cr_assert_eq(sum.unsigned_tail, 0);
    for (int i = 0; i < 4; i++) {
        char actor[8];
        snprintf(actor, sizeof actor, "t%d", i);
        cr_assert_eq(records_by(e.dir, actor), 250, "records of %s", actor);
    }
    env_free(&e);
}

Test(audit_writer, three_processes_appending_produce_one_valid_chain)
{
    env e;
    env_make(&e);
    e.opt.checkpoint_every = 25;
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        cr_assert_neq(kids[i], -1);
        if (kids[i] == 0) {
            pb_audit_log *log;
            if (pb_audit_open(&e.opt, &log) != PB_OK)
                _exit(10);
            char actor[16];
            snprintf(actor, sizeof actor, "p%d", i);
            for (int k = 0; k < 150; k++)
                if (append_one(log, actor, NULL) != PB_OK)
                    _exit(11);
            pb_audit_close(log);
            _exit(0);
        }
    }
    pb_audit_log *log = env_open(&e);
    for (int k = 0; k < 150; k++)
        cr_assert_eq(append_one(log, "parent", NULL), PB_OK, "%s", pb_last_error());
    for (int i = 0; i < 2; i++) {
        int status;
        cr_assert_eq(waitpid(kids[i], &status, 0), kids[i]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed (%d)", i,
                  status);
    }
    cr_assert_eq(pb_audit_checkpoint(log, NULL), PB_OK);
    pb_audit_close(log);
    /* The children's stores are their own copies: verify without. */
    pb_audit_summary sum;
    cr_assert_eq(pb_test_audit_verify(e.dir, e.signer.pem, NULL, &sum), PB_OK, "%s",
                 pb_last_error());
    cr_assert_eq(sum.records - sum.checkpoints, 450);
    cr_assert_eq(records_by(e.dir, "p0"), 150);
    cr_assert_eq(records_by(e.dir, "p1"), 150);
    cr_assert_eq(records_by(e.dir, "parent"), 150);
    env_free(&e);
}

Test(audit_writer, two_handles_in_one_process_share_the_chain)
{
    env e;
    env_make(&e);
    pb_audit_log *a = env_open(&e), *b = env_open(&e);
    uint64_t sa, sb;
    for (int k = 0; k < 10; k++) {
        cr_assert_eq(append_one(a, "a", &sa), PB_OK, "%s", pb_last_error());
        cr_assert_eq(append_one(b, "b", &sb), PB_OK, "%s", pb_last_error());
        cr_assert_eq(sb, sa + 1);
    }
    cr_assert_eq(pb_audit_checkpoint(a, NULL), PB_OK);
    pb_audit_close(a);
    pb_audit_close(b);
    env_verify_ok(&e);
    env_free(&e);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : 0;
}

Test(audit_writer, killed_writer_leaves_a_log_that_verifies_up_to_the_last_whole_record)
{
    env e;
    env_make(&e);
    e.opt.checkpoint_every = 10;
    pid_t kid = fork();
    cr_assert_neq(kid, -1);
    if (kid == 0) {
        pb_audit_log *log;
        if (pb_audit_open(&e.opt, &log) != PB_OK)
            _exit(10);
        for (;;)
            append_one(log, "doomed", NULL);
    }
    /* Let it write a while, then kill it at an arbitrary moment. */
    while (file_size(e.seg1) < 40000)
        usleep(1000);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    usleep((useconds_t)(ts.tv_nsec % 5000));
    kill(kid, SIGKILL);
    int status;
    cr_assert_eq(waitpid(kid, &status, 0), kid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    pb_audit_summary sum;
    pb_status st = pb_test_audit_verify(e.dir, e.signer.pem, NULL, &sum);
    cr_assert(st == PB_OK || (st == PB_ERR_INTEGRITY && sum.reason == PB_AUDIT_TORN_TAIL),
              "%s", pb_last_error());
    cr_assert_geq(sum.records, 40000 / 400);
    cr_assert_geq(sum.checkpoints, 1);
    /* A new writer takes over (repairing a torn tail if there is one). */
    e.opt.flags = st == PB_OK ? 0 : PB_AUDIT_REPAIR;
    e.opt.checkpoint_every = 0;
    pb_audit_log *log = env_open(&e);
    uint64_t seq;
    cr_assert_eq(append_one(log, "survivor", &seq), PB_OK);
    cr_assert_eq(seq, sum.last_seq + 1 + (st == PB_OK ? 0 : 1));
    cr_assert_eq(pb_audit_checkpoint(log, NULL), PB_OK);
    pb_audit_close(log);
    pb_audit_summary after;
    cr_assert_eq(pb_test_audit_verify(e.dir, e.signer.pem, NULL, &after), PB_OK, "%s",
                 pb_last_error());
    env_free(&e);
}

static void write_torn_tail(const char *path, const char *bytes)
{
    FILE *f = fopen(path, "a");
    fputs(bytes, f);
    fclose(f);
}

Test(audit_writer, torn_tail_blocks_appends_until_an_explicit_repair)
{
    env e;
    env_make(&e);
    pb_audit_log *log = env_open(&e);
    pb_test_audit_fill(log, 6, 3);
    pb_audit_close(log);
    const char *torn = "{\"seq\":9,\"time\":\"2024";
    off_t whole = file_size(e.seg1);
    write_torn_tail(e.seg1, torn);

    cr_assert_eq(pb_audit_open(&e.opt, &log), PB_ERR_INTEGRITY);
    cr_assert_not_null(strstr(pb_last_error(), "torn tail"), "%s", pb_last_error());
    cr_assert_eq(file_size(e.seg1), whole + (off_t)strlen(torn), "refusal changed the file");

    e.opt.flags = PB_AUDIT_REPAIR;
    log = env_open(&e);
    pb_audit_stats stats;
    pb_audit_stats_get(log, &stats);
    cr_assert_eq(stats.repairs, 1);
    cr_assert_eq(stats.last_seq, 9);
    pb_audit_close(log);

    /* The cut bytes are kept, and the repair is itself a record. */
    char kept_path[400];
    snprintf(kept_path, sizeof kept_path, "%s.torn", e.seg1);
    FILE *f = fopen(kept_path, "r");
    cr_assert_not_null(f);
    char kept[64] = "";
    cr_assert_not_null(fgets(kept, sizeof kept, f));
    fclose(f);
    cr_assert_str_eq(kept, torn);
    pb_test_lines l;
    pb_test_lines_read(e.seg1, &l);
    pb_audit_record last;
    pb_test_lines_decode(&l, l.count - 1, &last);
    pb_test_lines_free(&l);
    cr_assert_str_eq(last.event, "log.repair");
    cr_assert_eq(last.seq, 9);
    char expect[64];
    snprintf(expect, sizeof expect, "torn tail of %zu bytes at offset %lld", strlen(torn),
             (long long)whole);
    cr_assert_not_null(strstr(last.detail, expect), "%s", last.detail);
    pb_audit_summary sum = env_verify_ok(&e);
    cr_assert_eq(sum.last_seq, 9);
    cr_assert_eq(sum.unsigned_tail, 1);
    env_free(&e);
}

Test(audit_writer, repair_reports_what_it_cut_and_the_hint_names_the_fix)
{
    env e;
    env_make(&e);
    pb_audit_log *log = env_open(&e);
    pb_test_audit_fill(log, 4, 2);
    pb_audit_close(log);
    const char *torn = "{\"seq\":7,\"ti";
    off_t whole = file_size(e.seg1);
    write_torn_tail(e.seg1, torn);

    /* The read-only check sees what a writer sees, with the caller's hint. */
    cr_assert_eq(pb_audit_check_tail(e.dir, "run 'fix it --node 1'"), PB_ERR_INTEGRITY);
    cr_assert_not_null(strstr(pb_last_error(), "torn tail of 12 bytes"), "%s", pb_last_error());
    cr_assert_not_null(strstr(pb_last_error(), "run 'fix it --node 1'"), "%s", pb_last_error());
    e.opt.repair_hint = "run 'fix it --node 1'";
    cr_assert_eq(pb_audit_open(&e.opt, &log), PB_ERR_INTEGRITY);
    cr_assert_not_null(strstr(pb_last_error(), "run 'fix it --node 1'"), "%s", pb_last_error());

    e.opt.flags = PB_AUDIT_REPAIR;
    log = env_open(&e);
    pb_audit_repair_report rep;
    pb_audit_repair_get(log, &rep);
    pb_audit_close(log);
    cr_assert_eq(rep.repaired, 1);
    cr_assert_eq(rep.cut_bytes, strlen(torn));
    cr_assert_eq(rep.offset, (uint64_t)whole);
    cr_assert_eq(rep.record_seq, 7);
    cr_assert_str_eq(rep.segment, e.seg1);
    char kept[400];
    snprintf(kept, sizeof kept, "%s.torn", e.seg1);
    cr_assert_str_eq(rep.kept_in, kept);
    cr_assert_eq(pb_audit_check_tail(e.dir, NULL), PB_OK, "%s", pb_last_error());

    /* Nothing torn: nothing cut, nothing reported. */
    log = env_open(&e);
    pb_audit_repair_get(log, &rep);
    pb_audit_close(log);
    cr_assert_eq(rep.repaired, 0);
    env_free(&e);
}

Test(audit_writer, repair_cuts_nothing_from_a_log_behind_the_kept_checkpoint)
{
    env e;
    env_make(&e);
    pb_audit_log *log = env_open(&e);
    pb_test_audit_fill(log, 6, 2);
    pb_audit_close(log);
    /* Drop the last operation (record + checkpoint), then tear the end. */
    pb_test_lines l;
    pb_test_lines_read(e.seg1, &l);
    pb_test_lines_remove(&l, l.count - 1);
    pb_test_lines_remove(&l, l.count - 1);
    pb_test_lines_write(e.seg1, &l);
    pb_test_lines_free(&l);
    write_torn_tail(e.seg1, "{\"seq\":8,");
    off_t before = file_size(e.seg1);

    e.opt.flags = PB_AUDIT_REPAIR;
    cr_assert_eq(pb_audit_open(&e.opt, &log), PB_ERR_INTEGRITY);
    cr_assert_not_null(strstr(pb_last_error(), "cut short"), "%s", pb_last_error());
    cr_assert_eq(file_size(e.seg1), before, "a refused repair changed the segment");
    char kept[400];
    struct stat sb;
    snprintf(kept, sizeof kept, "%s.torn", e.seg1);
    cr_assert_neq(stat(kept, &sb), 0, "a refused repair wrote a side file");
    env_free(&e);
}

Test(audit_writer, check_tail_accepts_a_missing_or_empty_log_and_refuses_a_gap)
{
    env e;
    env_make(&e);
    char missing[400];
    snprintf(missing, sizeof missing, "%s/none", e.dir);
    cr_assert_eq(pb_audit_check_tail(missing, NULL), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_audit_check_tail(e.dir, NULL), PB_OK, "%s", pb_last_error());
    e.opt.segment_bytes = 1500;
    pb_audit_log *log = env_open(&e);
    pb_test_audit_fill(log, 20, 4);
    pb_audit_close(log);
    cr_assert_eq(pb_audit_check_tail(e.dir, NULL), PB_OK, "%s", pb_last_error());
    char seg2[400];
    snprintf(seg2, sizeof seg2, "%s/audit-000002.jsonl", e.dir);
    cr_assert_eq(unlink(seg2), 0);
    cr_assert_eq(pb_audit_check_tail(e.dir, NULL), PB_ERR_INTEGRITY);
    cr_assert_not_null(strstr(pb_last_error(), "segment 2 is missing"), "%s", pb_last_error());
    env_free(&e);
}

Test(audit_writer, segments_rotate_by_size_and_the_chain_spans_them)
{
    env e;
    env_make(&e);
    e.opt.segment_bytes = 2000;
    pb_audit_log *log = env_open(&e);
    pb_test_audit_fill(log, 60, 7);
    pb_audit_close(log);
    pb_audit_summary sum = env_verify_ok(&e);
    cr_assert_eq(sum.records - sum.checkpoints, 60);
    cr_assert_gt(sum.segments, 10);
    for (size_t i = 1; i <= sum.segments; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/audit-%06zu.jsonl", e.dir, i);
        off_t size = file_size(path);
        cr_assert_gt(size, 0, "segment %zu is empty", i);
        cr_assert_leq(size, 2000, "segment %zu has %lld bytes", i, (long long)size);
    }
    /* Reopening picks up in the last segment. */
    log = env_open(&e);
    uint64_t seq;
    cr_assert_eq(append_one(log, "late", &seq), PB_OK);
    cr_assert_eq(seq, sum.last_seq + 1);
    pb_audit_close(log);
    env_verify_ok(&e);
    env_free(&e);
}

Test(audit_writer, log_shorter_than_its_external_checkpoint_is_not_appended_to)
{
    env e;
    env_make(&e);
    pb_audit_log *log = env_open(&e);
    pb_test_audit_fill(log, 4, 4);
    pb_audit_close(log);
    /* Cut the last record: the checkpoint at seq 5. */
    pb_test_lines l;
    pb_test_lines_read(e.seg1, &l);
    pb_test_lines_remove(&l, l.count - 1);
    pb_test_lines_write(e.seg1, &l);
    pb_test_lines_free(&l);
    cr_assert_eq(pb_audit_open(&e.opt, &log), PB_ERR_INTEGRITY);
    cr_assert_not_null(strstr(pb_last_error(), "cut short"), "%s", pb_last_error());
    env_free(&e);
}

Test(audit_writer, missing_segment_is_not_appended_to)
{
    env e;
    env_make(&e);
    e.opt.segment_bytes = 1500;
    pb_audit_log *log = env_open(&e);
    pb_test_audit_fill(log, 20, 0);
    pb_audit_close(log);
    char path[400];
    snprintf(path, sizeof path, "%s/audit-000002.jsonl", e.dir);
    cr_assert_eq(remove(path), 0);
    cr_assert_eq(pb_audit_open(&e.opt, &log), PB_ERR_INTEGRITY);
    env_free(&e);
}

Test(audit_writer, checkpoint_is_a_no_op_when_nothing_is_unsigned)
{
    env e;
    env_make(&e);
    pb_audit_log *log = env_open(&e);
    uint64_t seq = 99;
    cr_assert_eq(pb_audit_checkpoint(log, &seq), PB_OK);
    cr_assert_eq(seq, 0);
    cr_assert_eq(append_one(log, "x", NULL), PB_OK);
    cr_assert_eq(pb_audit_checkpoint(log, &seq), PB_OK);
    cr_assert_eq(seq, 2);
    cr_assert_eq(pb_audit_checkpoint(log, &seq), PB_OK);
    cr_assert_eq(seq, 2);
    pb_audit_stats st;
    pb_audit_stats_get(log, &st);
    cr_assert_eq(st.checkpoints, 1);
    cr_assert_eq(st.last_seq, 2);
    cr_assert_eq(e.store.saves, 1);
    pb_audit_close(log);
    env_free(&e);
}

Test(audit_writer, interval_checkpoints_follow_every_nth_record)
{
    env e;
    env_make(&e);
    e.opt.checkpoint_every = 3;
    pb_audit_log *log = env_open(&e);
    pb_test_audit_fill(log, 10, 0);
    pb_audit_close(log);
    pb_audit_summary sum = env_verify_ok(&e);
    cr_assert_eq(sum.checkpoints, 3);
    cr_assert_eq(sum.unsigned_tail, 1);
    env_free(&e);
}

Test(audit_writer, append_checkpoint_signs_the_operation_s_last_record)
{
    env e;
    env_make(&e);
    pb_audit_log *log = env_open(&e);
    pb_audit_event ev = {"sign.complete", "w1", "api", NULL, 0, "ok", NULL};
    uint64_t seq;
    cr_assert_eq(pb_audit_append_checkpoint(log, &ev, &seq), PB_OK, "%s", pb_last_error());
    cr_assert_eq(seq, 1);
    pb_audit_stats st;
    pb_audit_stats_get(log, &st);
    cr_assert_eq(st.last_checkpoint_seq, 2);
    pb_audit_close(log);
    pb_audit_summary sum = env_verify_ok(&e);
    cr_assert_eq(sum.unsigned_tail, 0);
    cr_assert_eq(sum.external_seq, 2);
    env_free(&e);
}

Test(audit_writer, reserved_events_and_bad_fields_write_nothing)
{
    env e;
    env_make(&e);
    pb_audit_log *log = env_open(&e);
    pb_audit_event cp = {"checkpoint", "", "x", NULL, 0, "ok", NULL};
    cr_assert_eq(pb_audit_append(log, &cp, NULL), PB_ERR_ARGUMENT);
    pb_audit_event rep = {"log.repair", "", "x", NULL, 0, "ok", NULL};
    cr_assert_eq(pb_audit_append(log, &rep, NULL), PB_ERR_ARGUMENT);
    char big[PB_AUDIT_DETAIL_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    pb_audit_event longer = {"sign.request", "w1", "x", NULL, 0, "ok", big};
    cr_assert_eq(pb_audit_append(log, &longer, NULL), PB_ERR_ARGUMENT);
    pb_audit_event bad_wallet = {"sign.request", "w 1", "x", NULL, 0, "ok", NULL};
    cr_assert_eq(pb_audit_append(log, &bad_wallet, NULL), PB_ERR_ARGUMENT);
    pb_audit_event no_actor = {"sign.request", "w1", NULL, NULL, 0, "ok", NULL};
    cr_assert_eq(pb_audit_append(log, &no_actor, NULL), PB_ERR_ARGUMENT);
    pb_audit_stats st;
    pb_audit_stats_get(log, &st);
    cr_assert_eq(st.appends, 0);
    cr_assert_eq(file_size(e.seg1), 0);
    pb_audit_close(log);
    env_free(&e);
}

Test(audit_writer, signer_with_another_key_than_configured_is_refused)
{
    env e;
    env_make(&e);
    pb_test_signer other;
    pb_test_signer_make(&other);
    e.opt.signer.ctx = &other;
    pb_audit_log *log = env_open(&e);
    cr_assert_eq(append_one(log, "x", NULL), PB_OK);
    cr_assert_eq(pb_audit_checkpoint(log, NULL), PB_ERR_HSM);
    pb_audit_stats st;
    pb_audit_stats_get(log, &st);
    cr_assert_eq(st.last_seq, 1);
    cr_assert_eq(st.checkpoint_errors, 1);
    pb_audit_close(log);
    pb_test_signer_free(&other);
    env_free(&e);
}

static pb_status failing_save(void *ctx, const char *line, size_t len)
{
    (void)ctx, (void)line, (void)len;
    return PB_ERR_HSM;
}

Test(audit_writer, store_failure_is_reported_but_the_checkpoint_is_in_the_log)
{
    env e;
    env_make(&e);
    e.opt.store.save = failing_save;
    pb_audit_log *log = env_open(&e);
    cr_assert_eq(append_one(log, "x", NULL), PB_OK);
    uint64_t seq = 0;
    cr_assert_eq(pb_audit_checkpoint(log, &seq), PB_ERR_HSM);
    cr_assert_eq(seq, 2);
    pb_audit_close(log);
    pb_audit_summary sum;
    cr_assert_eq(pb_test_audit_verify(e.dir, e.signer.pem, NULL, &sum), PB_OK);
    cr_assert_eq(sum.last_checkpoint_seq, 2);
    env_free(&e);
}

Test(audit_writer, record_times_come_from_the_injected_clock)
{
    env e;
    env_make(&e);
    pb_test_clock clock = {1714566605123LL, 1};
    e.opt.clock = pb_test_clock_tick;
    e.opt.clock_ctx = &clock;
    pb_audit_log *log = env_open(&e);
    cr_assert_eq(append_one(log, "x", NULL), PB_OK);
    pb_audit_close(log);
    pb_test_lines l;
    pb_test_lines_read(e.seg1, &l);
    cr_assert_not_null(strstr(l.line[0], "\"time\":\"2024-05-01T12:30:05.123Z\""), "%s",
                       l.line[0]);
    pb_test_lines_free(&l);
    env_free(&e);
}

static pb_status failing_sign(void *ctx, const uint8_t digest[32], uint8_t sig[64])
{
    (void)ctx, (void)digest, (void)sig;
    return PB_ERR_HSM;
}

Test(audit_writer, failed_signing_still_writes_the_operation_s_record)
{
    env e;
    env_make(&e);
    e.opt.signer.sign = failing_sign;
    pb_audit_log *log = env_open(&e);
    pb_audit_event ev = {"sign.complete", "w1", "api", NULL, 0, "ok", NULL};
    uint64_t seq = 0;
    cr_assert_eq(pb_audit_append_checkpoint(log, &ev, &seq), PB_ERR_HSM);
    cr_assert_eq(seq, 1);
    pb_audit_stats st;
    pb_audit_stats_get(log, &st);
    cr_assert_eq(st.last_seq, 1);
    cr_assert_eq(st.checkpoint_errors, 1);
    pb_audit_close(log);
    pb_audit_summary sum;
    cr_assert_eq(pb_test_audit_verify(e.dir, e.signer.pem, NULL, &sum), PB_OK);
    cr_assert_eq(sum.unsigned_tail, 1);
    env_free(&e);
}

typedef struct slow_store {
    pb_test_store inner;
    int delay_us;
    pb_status result;
} slow_store;

static pb_status slow_save(void *ctx, const char *line, size_t len)
{
    slow_store *s = ctx;
    usleep((useconds_t)s->delay_us);
    if (s->result != PB_OK)
        return s->result;
    pb_audit_checkpoint_store inner = pb_test_store_callbacks(&s->inner);
    return inner.save(inner.ctx, line, len);
}

static pb_status slow_load(void *ctx, char **line, size_t *len)
{
    slow_store *s = ctx;
    pb_audit_checkpoint_store inner = pb_test_store_callbacks(&s->inner);
    return inner.load(inner.ctx, line, len);
}

Test(audit_writer, background_store_keeps_the_latest_checkpoint_without_delaying_appends)
{
    env e;
    env_make(&e);
    slow_store slow = {{0}, 30000, PB_OK};
    e.opt.store = (pb_audit_checkpoint_store){slow_save, slow_load, &slow, NULL};
    e.opt.flags = PB_AUDIT_STORE_ASYNC;
    pb_audit_log *log = env_open(&e);
    pb_audit_event ev = {"sign.complete", "w1", "api", NULL, 0, "ok", NULL};
    for (int k = 0; k < 8; k++)
        cr_assert_eq(pb_audit_append_checkpoint(log, &ev, NULL), PB_OK, "%s", pb_last_error());
    pb_audit_stats st;
    pb_audit_stats_get(log, &st);
    /* A 30 ms save inside each checkpoint would show here. */
    cr_assert_lt(st.last_checkpoint_ns, 30000000u, "checkpoint waited for the store");
    cr_assert_eq(pb_audit_flush_store(log), PB_OK);
    cr_assert_not_null(slow.inner.line);
    cr_assert_not_null(strstr(slow.inner.line, "{\"seq\":16,"), "%s", slow.inner.line);
    cr_assert_leq(slow.inner.saves, 8);
    cr_assert_geq(slow.inner.saves, 1);
    pb_audit_close(log);
    pb_audit_summary sum;
    cr_assert_eq(pb_test_audit_verify(e.dir, e.signer.pem, slow.inner.line, &sum), PB_OK);
    cr_assert_eq(sum.external_checked, 1);
    pb_test_store_free(&slow.inner);
    env_free(&e);
}

Test(audit_writer, background_store_is_flushed_by_close_and_its_failure_is_reported)
{
    env e;
    env_make(&e);
    slow_store slow = {{0}, 10000, PB_OK};
    e.opt.store = (pb_audit_checkpoint_store){slow_save, slow_load, &slow, NULL};
    e.opt.flags = PB_AUDIT_STORE_ASYNC;
    pb_audit_log *log = env_open(&e);
    pb_audit_event ev = {"sign.complete", "w1", "api", NULL, 0, "ok", NULL};
    cr_assert_eq(pb_audit_append_checkpoint(log, &ev, NULL), PB_OK);
    pb_audit_close(log);
    cr_assert_not_null(slow.inner.line);
    cr_assert_not_null(strstr(slow.inner.line, "{\"seq\":2,"));

    slow.result = PB_ERR_HSM;
    log = env_open(&e);
    cr_assert_eq(pb_audit_append_checkpoint(log, &ev, NULL), PB_OK);
    cr_assert_eq(pb_audit_flush_store(log), PB_ERR_HSM);
    pb_audit_stats st;
    pb_audit_stats_get(log, &st);
    cr_assert_eq(st.store_errors, 1);
    pb_audit_close(log);
    cr_assert_not_null(strstr(slow.inner.line, "{\"seq\":2,"), "a failed save changed the store");
    pb_test_store_free(&slow.inner);
    env_free(&e);
}
