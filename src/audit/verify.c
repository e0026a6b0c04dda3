/* verify.c - the offline verifier (see verify.h, docs/audit.md). One
 * streaming pass finds the first defect; only then does a second pass look
 * ahead to tell a deletion from a reordering or an insertion, and a forged
 * signature from a wrong public key. */
#include "audit/verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/checkpoint.h"
#include "audit/record.h"
#include "audit/segment.h"
#include "common/fail.h"

const char *pb_audit_reason_name(pb_audit_reason reason)
{
    switch (reason) {
    case PB_AUDIT_OK: return "ok";
    case PB_AUDIT_MALFORMED: return "malformed";
    case PB_AUDIT_HASH_MISMATCH: return "hash_mismatch";
    case PB_AUDIT_PREV_MISMATCH: return "prev_mismatch";
    case PB_AUDIT_DELETED: return "deleted";
    case PB_AUDIT_INSERTED: return "inserted";
    case PB_AUDIT_REORDERED: return "reordered";
    case PB_AUDIT_NODE_MISMATCH: return "node_mismatch";
    case PB_AUDIT_HEAD_MISMATCH: return "checkpoint_head_mismatch";
    case PB_AUDIT_BAD_SIGNATURE: return "bad_signature";
    case PB_AUDIT_WRONG_PUBLIC_KEY: return "wrong_public_key";
    case PB_AUDIT_TRUNCATED: return "truncated";
    case PB_AUDIT_CHECKPOINT_MISMATCH: return "checkpoint_mismatch";
    case PB_AUDIT_BAD_EXTERNAL: return "bad_external_checkpoint";
    case PB_AUDIT_TORN_TAIL: return "torn_tail";
    }
    return "unknown";
}

typedef struct walker {
    const pb_audit_verify_options *opt;
    EVP_PKEY *key;
    pb_audit_summary *sum;
    uint64_t expect;
    uint8_t prev[32];
    uint64_t lines;     /* lines consumed, the current one included */
    uint64_t sigs_ok;
    int failed;
    int torn;
    /* the checkpoint kept outside the log */
    int have_ext, ext_valid, ext_sig_ok, ext_matched;
    pb_audit_reason ext_reason;
    char ext_message[200];
    pb_audit_record ext;
    const char *ext_line;
    size_t ext_len;
} walker;

static void where(walker *w, const pb_audit_cursor *c, const pb_audit_line *l)
{
    char path[PATH_MAX + PB_AUDIT_SEGMENT_NAME_MAX];
    pb_audit_segments_path(&c->segs, l->segment, path, sizeof path);
    const char *base = strrchr(path, '/');
    snprintf(w->sum->where, sizeof w->sum->where, "%.100s:%llu", base ? base + 1 : path,
             (unsigned long long)l->line_no);
}

__attribute__((format(printf, 4, 5)))
static void fail(walker *w, pb_audit_reason reason, uint64_t seq, const char *fmt, ...)
{
    if (w->failed)
        return;
    w->failed = 1;
    w->sum->reason = reason;
    w->sum->bad_seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->sum->message, sizeof w->sum->message, fmt, ap);
    va_end(ap);
}

/* --- look-ahead passes (only after a defect) ---------------------------------- */

typedef int (*line_fn)(void *ctx, const pb_audit_record *r, int hash_ok);

/* Decodes every line after the first `skip` and hands it to fn until fn
 * returns nonzero. Undecodable lines are passed as NULL. */
static pb_status for_each_after(const char *path, uint64_t skip, line_fn fn, void *ctx)
{
    pb_audit_cursor c;
    pb_status st = pb_audit_cursor_open(path, &c);
    uint64_t n = 0;
    while (st == PB_OK) {
        pb_audit_line l;
        int have;
        st = pb_audit_cursor_next(&c, &l, &have);
        if (st != PB_OK || !have)
            break;
        if (++n <= skip)
            continue;
        pb_audit_record r;
        int hash_ok = 0;
        int ok = l.terminated && !l.too_long &&
                 pb_audit_record_decode(l.text, l.len, &r, &hash_ok) == PB_OK;
        if (fn(ctx, ok ? &r : NULL, hash_ok))
            break;
    }
    pb_audit_cursor_close(&c);
    return st;
}

typedef struct gap_scan {
    uint64_t want, missing;
    uint8_t chain_prev[32];
    int continues, missing_found;
} gap_scan;

static int gap_step(void *ctx, const pb_audit_record *r, int hash_ok)
{
    gap_scan *g = ctx;
    if (r && r->seq == g->missing)
        g->missing_found = 1;
    if (g->continues) {
        if (r && hash_ok && r->seq == g->want && !memcmp(r->prev, g->chain_prev, 32)) {
            g->want++;
            memcpy(g->chain_prev, r->hash, 32);
        } else {
            g->continues = 0;
        }
    }
    return 0;
}

/* The record on line w->lines claims seq `got` where `w->expect` belongs. */
static pb_status classify_gap(walker *w, uint64_t got)
{
    uint64_t e = w->expect;
    if (got < e) {
        fail(w, PB_AUDIT_INSERTED, got,
             "seq %llu appears twice: a record that is not part of the chain was inserted",
             (unsigned long long)got);
        return PB_OK;
    }
    gap_scan g = {.want = e, .missing = e, .continues = 1};
    memcpy(g.chain_prev, w->prev, 32);
    pb_status st = for_each_after(w->opt->path, w->lines, gap_step, &g);
    if (st != PB_OK)
        return st;
    if (!g.missing_found)
        fail(w, PB_AUDIT_DELETED, e, "record %llu%s is missing (the next record is %llu)",
             (unsigned long long)e, got > e + 1 ? " and following" : "",
             (unsigned long long)got);
    else if (g.continues)
        fail(w, PB_AUDIT_INSERTED, got,
             "a record claiming seq %llu was inserted after seq %llu; the chain continues "
             "without it", (unsigned long long)got, (unsigned long long)(e - 1));
    else
        fail(w, PB_AUDIT_REORDERED, e,
             "record %llu is out of place: record %llu stands where it belongs and it comes "
             "later", (unsigned long long)e, (unsigned long long)got);
    return PB_OK;
}

typedef struct key_scan {
    EVP_PKEY *key;
    uint64_t after;
    int verified;
} key_scan;

static int key_step(void *ctx, const pb_audit_record *r, int hash_ok)
{
    key_scan *k = ctx;
    (void)hash_ok;
    if (r && r->seq > k->after && pb_audit_record_is_checkpoint(r) &&
        pb_audit_checkpoint_verify(k->key, r) == PB_OK)
        k->verified = 1;
    return k->verified;
}

/* A checkpoint failed: forged, or the auditor holds the wrong key? If no
 * checkpoint at all (nor the external one) verifies, it is the key. */
static pb_status classify_signature(walker *w, const pb_audit_record *r, const char *why)
{
    int key_works = w->sigs_ok > 0 || w->ext_sig_ok;
    if (!key_works) {
        key_scan k = {w->key, r->seq, 0};
        pb_status st = for_each_after(w->opt->path, w->lines, key_step, &k);
        if (st != PB_OK)
            return st;
        key_works = k.verified;
    }
    if (key_works)
        fail(w, PB_AUDIT_BAD_SIGNATURE, r->seq, "checkpoint %llu: %s (forged, swapped or "
             "altered); records %llu and earlier are not covered",
             (unsigned long long)r->seq, why, (unsigned long long)r->head_seq);
    else
        fail(w, PB_AUDIT_WRONG_PUBLIC_KEY, r->seq,
             "no checkpoint verifies under the given public key: it is not this log's "
             "audit key");
    return PB_OK;
}

/* --- the main pass ------------------------------------------------------------ */

static pb_status check_record(walker *w, const pb_audit_cursor *c, const pb_audit_line *l)
{
    pb_audit_summary *sum = w->sum;
    if (l->too_long) {
        where(w, c, l);
        fail(w, PB_AUDIT_MALFORMED, w->expect, "line longer than %d bytes", PB_AUDIT_LINE_MAX);
        return PB_OK;
    }
    if (!l->terminated) {
        if (l->segment + 1 == c->segs.count) {
            w->torn = 1;
            sum->torn_bytes = l->len;
            where(w, c, l);
            return PB_OK;
        }
        where(w, c, l);
        fail(w, PB_AUDIT_MALFORMED, w->expect, "segment ends without a newline");
        return PB_OK;
    }
    pb_audit_record r;
    int hash_ok = 0;
    if (pb_audit_record_decode(l->text, l->len, &r, &hash_ok) != PB_OK) {
        where(w, c, l);
        fail(w, PB_AUDIT_MALFORMED, w->expect, "%s", pb_last_error());
        return PB_OK;
    }
    if (!hash_ok) {
        where(w, c, l);
        fail(w, PB_AUDIT_HASH_MISMATCH, w->expect,
             "the record (claiming seq %llu) does not match its hash: a field was edited",
             (unsigned long long)r.seq);
        return PB_OK;
    }
    unsigned node = w->opt->node ? w->opt->node : (sum->node ? sum->node : r.node);
    if (r.node != node) {
        where(w, c, l);
        fail(w, PB_AUDIT_NODE_MISMATCH, r.seq, "record of node %u in the log of node %u", r.node,
             node);
        return PB_OK;
    }
    sum->node = node;
    if (r.seq != w->expect) {
        where(w, c, l);
        return classify_gap(w, r.seq);
    }
    if (memcmp(r.prev, w->prev, 32) != 0) {
        where(w, c, l);
        fail(w, PB_AUDIT_PREV_MISMATCH, r.seq, "record %llu does not link to record %llu",
             (unsigned long long)r.seq, (unsigned long long)(r.seq - 1));
        return PB_OK;
    }
    if (pb_audit_record_is_checkpoint(&r)) {
        if (r.head_seq + 1 != r.seq || memcmp(r.head, w->prev, 32) != 0) {
            where(w, c, l);
            fail(w, PB_AUDIT_HEAD_MISMATCH, r.seq,
                 "checkpoint %llu signs head %llu, which is not the hash of record %llu",
                 (unsigned long long)r.seq, (unsigned long long)r.head_seq,
                 (unsigned long long)(r.seq - 1));
            return PB_OK;
        }
        if (pb_audit_checkpoint_verify(w->key, &r) != PB_OK) {
            char why[200];
            snprintf(why, sizeof why, "%s", pb_last_error());
            where(w, c, l);
            return classify_signature(w, &r, why);
        }
        w->sigs_ok++;
    }
    if (w->have_ext && w->ext_valid && r.seq == w->ext.seq) {
        if (l->len != w->ext_len || memcmp(l->text, w->ext_line, l->len) != 0) {
            where(w, c, l);
            fail(w, PB_AUDIT_CHECKPOINT_MISMATCH, r.seq,
                 "record %llu is not the checkpoint kept outside the log: the log was rewritten",
                 (unsigned long long)r.seq);
            return PB_OK;
        }
        w->ext_matched = 1;
    }
    if (!sum->records)
        sum->first_seq = r.seq;
    sum->records++;
    sum->last_seq = r.seq;
    if (pb_audit_record_is_checkpoint(&r)) {
        sum->checkpoints++;
        sum->last_checkpoint_seq = r.seq;
    }
    memcpy(w->prev, r.hash, 32);
    w->expect++;
    return PB_OK;
}

/* Decodes and checks the checkpoint kept outside the log, before the walk. */
static void check_external(walker *w)
{
    const char *line = w->opt->checkpoint;
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    w->have_ext = 1;
    w->ext_line = line;
    w->ext_len = len;
    int hash_ok = 0;
    pb_status st = pb_audit_record_decode(line, len, &w->ext, &hash_ok);
    const char *problem = NULL;
    if (st != PB_OK)
        problem = "it is not a canonical record";
    else if (!hash_ok)
        problem = "its hash does not match";
    else if (!pb_audit_record_is_checkpoint(&w->ext) || w->ext.head_seq + 1 != w->ext.seq)
        problem = "it is not a checkpoint";
    else if (w->opt->node && w->ext.node != w->opt->node)
        problem = "it belongs to another node";
    if (problem) {
        w->ext_reason = PB_AUDIT_BAD_EXTERNAL;
        snprintf(w->ext_message, sizeof w->ext_message,
                 "the checkpoint kept outside the log is not valid: %s", problem);
        return;
    }
    w->ext_valid = 1;
    w->ext_sig_ok = pb_audit_checkpoint_verify(w->key, &w->ext) == PB_OK;
    if (!w->ext_sig_ok) {
        w->ext_valid = 0;
        w->ext_reason = PB_AUDIT_BAD_EXTERNAL;
        snprintf(w->ext_message, sizeof w->ext_message,
                 "the checkpoint kept outside the log (seq %llu) does not verify under the "
                 "given public key", (unsigned long long)w->ext.seq);
    }
}

static pb_status walk(walker *w)
{
    pb_audit_cursor c;
    pb_status st = pb_audit_cursor_open(w->opt->path, &c);
    if (st != PB_OK)
        return st;
    w->sum->segments = c.segs.count;
    while (st == PB_OK && !w->failed && !w->torn) {
        pb_audit_line l;
        int have;
        st = pb_audit_cursor_next(&c, &l, &have);
        if (st != PB_OK || !have)
            break;
        w->lines++;
        st = check_record(w, &c, &l);
    }
    pb_audit_cursor_close(&c);
    return st;
}

static void finish(walker *w)
{
    pb_audit_summary *sum = w->sum;
    sum->unsigned_tail = sum->last_seq - sum->last_checkpoint_seq;
    sum->external_checked = w->ext_matched;
    if (w->have_ext && w->ext_valid)
        sum->external_seq = w->ext.seq;
    if (w->failed)
        return;
    /* A wrong key would have failed at the log's first checkpoint already. */
    if (w->have_ext && !w->ext_valid) {
        fail(w, w->ext_reason, w->ext.seq, "%s", w->ext_message);
        return;
    }
    if (w->have_ext && !w->ext_matched) {
        sum->where[0] = '\0';
        fail(w, PB_AUDIT_TRUNCATED, w->expect,
             "the log ends at seq %llu but its latest signed checkpoint (kept outside the log) "
             "is at seq %llu: records were cut off the end",
             (unsigned long long)sum->last_seq, (unsigned long long)w->ext.seq);
        return;
    }
    if (w->torn)
        fail(w, PB_AUDIT_TORN_TAIL, w->expect,
             "%llu bytes after the last whole record are an incomplete line (a writer died "
             "mid-append); records up to %llu verify",
             (unsigned long long)sum->torn_bytes, (unsigned long long)sum->last_seq);
}

pb_status pb_audit_verify(const pb_audit_verify_options *opt, pb_audit_summary *out)
{
    memset(out, 0, sizeof *out);
    if (!opt || !opt->path || !opt->public_key_pem)
        return pb_fail(PB_ERR_ARGUMENT, "audit verify: a log path and a public key are required");
    walker w;
    memset(&w, 0, sizeof w);
    w.opt = opt;
    w.sum = out;
    w.expect = 1;
    pb_status st = pb_audit_public_key_load(opt->public_key_pem, strlen(opt->public_key_pem),
                                            &w.key);
    if (st != PB_OK)
        return st;
    if (opt->checkpoint)
        check_external(&w);
    st = walk(&w);
    if (st == PB_OK)
        finish(&w);
    EVP_PKEY_free(w.key);
    if (st != PB_OK)
        return st;
    if (w.failed)
        return pb_fail(PB_ERR_INTEGRITY, "audit log: %s at seq %llu: %s",
                       pb_audit_reason_name(out->reason), (unsigned long long)out->bad_seq,
                       out->message);
    return PB_OK;
}
