/* export.c - filters, table and CSV/JSONL output (see export.h). */
#include "audit/export.h"

#include <string.h>

#include "audit/segment.h"
#include "audit/text.h"
#include "common/fail.h"

int pb_audit_filter_match(const pb_audit_filter *f, const pb_audit_record *r)
{
    if (!f)
        return 1;
    if (f->wallet && strcmp(f->wallet, r->wallet) != 0)
        return 0;
    if (f->event && strcmp(f->event, r->event) != 0)
        return 0;
    if (f->has_since && r->time_ms < f->since_ms)
        return 0;
    if (f->has_until && r->time_ms >= f->until_ms)
        return 0;
    return 1;
}

pb_status pb_audit_scan(const char *path, const pb_audit_filter *f, pb_audit_visit_fn fn,
                        void *ctx, uint64_t *torn_bytes)
{
    if (torn_bytes)
        *torn_bytes = 0;
    pb_audit_cursor c;
    pb_status st = pb_audit_cursor_open(path, &c);
    while (st == PB_OK) {
        pb_audit_line l;
        int have;
        st = pb_audit_cursor_next(&c, &l, &have);
        if (st != PB_OK || !have)
            break;
        if (!l.terminated && !l.too_long && l.segment + 1 == c.segs.count) {
            if (torn_bytes)
                *torn_bytes = l.len;
            break;
        }
        pb_audit_record r;
        int hash_ok;
        if (!l.terminated || l.too_long ||
            pb_audit_record_decode(l.text, l.len, &r, &hash_ok) != PB_OK || !hash_ok) {
            char path_buf[PATH_MAX + PB_AUDIT_SEGMENT_NAME_MAX];
            pb_audit_segments_path(&c.segs, l.segment, path_buf, sizeof path_buf);
            st = pb_fail(PB_ERR_INTEGRITY, "%s line %llu is not a valid audit record; run audit "
                                           "verify", path_buf, (unsigned long long)l.line_no);
            break;
        }
        if (pb_audit_filter_match(f, &r))
            st = fn(ctx, &r, l.text, l.len);
    }
    pb_audit_cursor_close(&c);
    return st;
}

void pb_audit_csv_field(FILE *out, const char *s)
{
    size_t n = strlen(s);
    int quote = strpbrk(s, ",\"\r\n") != NULL || (n && (s[0] == ' ' || s[n - 1] == ' '));
    if (!quote) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void hex_text(const uint8_t *p, size_t n, char *out, size_t cap)
{
    pb_audit_buf b;
    pb_audit_buf_init(&b, out, cap);
    pb_audit_buf_hex(&b, p, n);
}

void pb_audit_csv_header(FILE *out)
{
    fputs("seq,time,node,event,wallet,actor,digest,outcome,detail,head_seq,head,sig,prev,hash\r\n",
          out);
}

void pb_audit_csv_row(FILE *out, const pb_audit_record *r)
{
    char time[PB_AUDIT_TIME_LEN + 1], hex[2 * PB_AUDIT_DIGEST_MAX + 1];
    pb_audit_time_format(r->time_ms, time);
    fprintf(out, "%llu,%s,%u,", (unsigned long long)r->seq, time, r->node);
    pb_audit_csv_field(out, r->event);
    fputc(',', out);
    pb_audit_csv_field(out, r->wallet);
    fputc(',', out);
    pb_audit_csv_field(out, r->actor);
    hex_text(r->digest, r->digest_len, hex, sizeof hex);
    fprintf(out, ",%s,", hex);
    pb_audit_csv_field(out, r->outcome);
    fputc(',', out);
    pb_audit_csv_field(out, r->detail);
    fputc(',', out);
    if (pb_audit_record_is_checkpoint(r)) {
        char sig[2 * PB_AUDIT_SIG_MAX + 1];
        hex_text(r->head, 32, hex, sizeof hex);
        hex_text(r->sig, r->sig_len, sig, sizeof sig);
        fprintf(out, "%llu,%s,%s", (unsigned long long)r->head_seq, hex, sig);
    } else {
        fputs(",,", out);
    }
    hex_text(r->prev, 32, hex, sizeof hex);
    fprintf(out, ",%s,", hex);
    hex_text(r->hash, 32, hex, sizeof hex);
    fprintf(out, "%s\r\n", hex);
}

/* Text for a terminal: control bytes become '?', so a record cannot drive
 * the auditor's terminal; cut to width with "..". */
static void cell(FILE *out, const char *s, int width)
{
    char buf[PB_AUDIT_DETAIL_MAX + 4];
    size_t n = 0;
    for (; *s && n < sizeof buf - 1; s++)
        buf[n++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
    buf[n] = '\0';
    if (width > 0 && n > (size_t)width)
        memcpy(buf + width - 2, "..", 3);
    if (width > 0)
        fprintf(out, "%-*s ", width, buf);
    else
        fputs(buf, out);
}

void pb_audit_table_header(FILE *out)
{
    fprintf(out, "%-7s %-24s %-16s %-18s %-14s %-9s %-18s %s\n", "SEQ", "TIME", "EVENT", "WALLET",
            "ACTOR", "OUTCOME", "DIGEST", "DETAIL");
}

void pb_audit_table_row(FILE *out, const pb_audit_record *r)
{
    char time[PB_AUDIT_TIME_LEN + 1], hex[2 * PB_AUDIT_DIGEST_MAX + 1];
    pb_audit_time_format(r->time_ms, time);
    fprintf(out, "%-7llu %-24s ", (unsigned long long)r->seq, time);
    cell(out, r->event, 16);
    cell(out, r->wallet[0] ? r->wallet : "-", 18);
    cell(out, r->actor, 14);
    cell(out, r->outcome, 9);
    hex_text(r->digest, r->digest_len, hex, sizeof hex);
    cell(out, r->digest_len ? hex : "-", 18);
    if (pb_audit_record_is_checkpoint(r)) {
        char detail[64];
        snprintf(detail, sizeof detail, "signs head of seq %llu", (unsigned long long)r->head_seq);
        cell(out, detail, 0);
    } else {
        cell(out, r->detail, 0);
    }
    fputc('\n', out);
}
