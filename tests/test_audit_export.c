/* What auditors read: filters by wallet, event and time select exactly the
 * matching records; CSV follows RFC 4180 (checked by parsing it back with
 * an independent reader); the table cannot drive a terminal; JSONL export
 * is the records' own lines. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/export.h"
#include "audit/log.h"
#include "audit/text.h"
#include "support/audit_fixture.h"

static char *csv_of(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    pb_audit_csv_field(f, s);
    fclose(f);
    return buf;
}

Test(audit_export, csv_fields_are_quoted_only_when_rfc4180_requires)
{
    struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"", ""},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"line\nbreak", "\"line\nbreak\""},
        {"cr\rhere", "\"cr\rhere\""},
        {" padded", "\" padded\""},
        {"\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = csv_of(cases[i].in);
        cr_assert_str_eq(got, cases[i].out, "case %zu", i);
        free(got);
    }
}

/* An independent RFC 4180 reader: splits one record (CRLF-terminated). */
static size_t csv_parse_row(const char *s, char fields[][600], size_t max, const char **next)
{
    size_t n = 0;
    for (;;) {
        char *out = fields[n];
        size_t o = 0;
        if (*s == '"') {
            s++;
            for (;;) {
                if (*s == '"' && s[1] == '"') {
                    out[o++] = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    cr_assert_neq(*s, '\0', "unterminated quoted field");
                    out[o++] = *s++;
                }
            }
        } else {
            while (*s && *s != ',' && *s != '\r')
                out[o++] = *s++;
        }
        out[o] = '\0';
        n++;
        cr_assert_leq(n, max);
        if (*s == ',') {
            s++;
            continue;
        }
        cr_assert(s[0] == '\r' && s[1] == '\n', "row not ended by CRLF");
        *next = s + 2;
        return n;
    }
}

Test(audit_export, csv_rows_parse_back_to_the_record_fields)
{
    pb_audit_record r;
    memset(&r, 0, sizeof r);
    r.seq = 7;
    r.time_ms = 1714566605123LL;
    r.node = 2;
    snprintf(r.event, sizeof r.event, "policy.deny");
    snprintf(r.wallet, sizeof r.wallet, "w-1");
    snprintf(r.actor, sizeof r.actor, "api:\"bob\", ops");
    snprintf(r.outcome, sizeof r.outcome, "refused");
    snprintf(r.detail, sizeof r.detail, "limit 5,000 exceeded\r\nsecond line");
    r.digest_len = 2;
    r.digest[0] = 0xab;
    r.digest[1] = 0x01;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    pb_audit_csv_header(f);
    pb_audit_csv_row(f, &r);
    fclose(f);
    static char fields[20][600];
    const char *next;
    size_t n = csv_parse_row(buf, fields, 20, &next);
    cr_assert_eq(n, 14);
    cr_assert_str_eq(fields[0], "seq");
    cr_assert_str_eq(fields[8], "detail");
    n = csv_parse_row(next, fields, 20, &next);
    cr_assert_eq(n, 14);
    cr_assert_str_eq(fields[0], "7");
    cr_assert_str_eq(fields[1], "2024-05-01T12:30:05.123Z");
    cr_assert_str_eq(fields[2], "2");
    cr_assert_str_eq(fields[3], "policy.deny");
    cr_assert_str_eq(fields[4], "w-1");
    cr_assert_str_eq(fields[5], r.actor);
    cr_assert_str_eq(fields[6], "ab01");
    cr_assert_str_eq(fields[7], "refused");
    cr_assert_str_eq(fields[8], r.detail);
    cr_assert_str_eq(fields[9], "");
    cr_assert_eq(*next, '\0');
    free(buf);
}

typedef struct collect {
    int n;
    uint64_t seqs[64];
    FILE *out;
} collect;

static pb_status collect_fn(void *ctx, const pb_audit_record *r, const char *line, size_t len)
{
    collect *c = ctx;
    if (c->n < 64)
        c->seqs[c->n] = r->seq;
    c->n++;
    if (c->out) {
        fwrite(line, 1, len, c->out);
        fputc('\n', c->out);
    }
    return PB_OK;
}

typedef struct log_env {
    char dir[256];
    pb_test_signer signer;
} log_env;

/* 12 events, one per minute from 2024-05-01T00:00:00Z, wallets w0/w1/w2 in
 * turn, events wallet.create/sign.request/sign.complete/policy.deny/
 * export.refused in turn; no checkpoints (they would take clock ticks). */
static void build_log(log_env *e)
{
    pb_test_tmpdir(e->dir, sizeof e->dir);
    pb_test_signer_make(&e->signer);
    pb_test_clock clock = {1714521600000LL, 60000};
    pb_audit_options o = {0};
    o.dir = e->dir;
    o.node = 1;
    o.clock = pb_test_clock_tick;
    o.clock_ctx = &clock;
    o.signer = (pb_audit_signer){pb_test_signer_sign, &e->signer};
    pb_audit_log *log;
    cr_assert_eq(pb_audit_open(&o, &log), PB_OK);
    pb_test_audit_fill(log, 12, 0);
    pb_audit_close(log);
}

static void free_log(log_env *e)
{
    pb_test_rmtree(e->dir);
    pb_test_signer_free(&e->signer);
}

static collect scan(const char *dir, const pb_audit_filter *f)
{
    collect c;
    memset(&c, 0, sizeof c);
    cr_assert_eq(pb_audit_scan(dir, f, collect_fn, &c, NULL), PB_OK, "%s", pb_last_error());
    return c;
}

Test(audit_export, filters_select_by_wallet_event_and_time)
{
    log_env e;
    build_log(&e);
    collect all = scan(e.dir, NULL);
    cr_assert_eq(all.n, 12);

    pb_audit_filter by_wallet = {.wallet = "w1"};
    collect c = scan(e.dir, &by_wallet);
    cr_assert_eq(c.n, 4);
    for (int i = 0; i < c.n; i++)
        cr_assert_eq((c.seqs[i] - 1) % 3, 1);

    pb_audit_filter by_event = {.event = "sign.complete"};
    c = scan(e.dir, &by_event);
    cr_assert_eq(c.n, 2);
    cr_assert_eq(c.seqs[0], 3);
    cr_assert_eq(c.seqs[1], 8);

    pb_audit_filter both = {.wallet = "w1", .event = "sign.request"};
    c = scan(e.dir, &both);
    cr_assert_eq(c.n, 1); /* seq 2: w1, sign.request; seq 7 is w0 */
    cr_assert_eq(c.seqs[0], 2);

    pb_audit_filter window = {.has_since = 1, .has_until = 1};
    cr_assert_eq(pb_audit_time_parse_loose("2024-05-01T00:03:00Z", &window.since_ms), 0);
    cr_assert_eq(pb_audit_time_parse_loose("2024-05-01T00:06:00Z", &window.until_ms), 0);
    c = scan(e.dir, &window); /* minutes 3, 4, 5: seqs 4, 5, 6 (until is exclusive) */
    cr_assert_eq(c.n, 3);
    cr_assert_eq(c.seqs[0], 4);
    cr_assert_eq(c.seqs[2], 6);

    pb_audit_filter none = {.wallet = "nobody"};
    c = scan(e.dir, &none);
    cr_assert_eq(c.n, 0);
    free_log(&e);
}

Test(audit_export, jsonl_export_is_the_records_own_lines)
{
    log_env e;
    build_log(&e);
    char *buf = NULL;
    size_t len = 0;
    collect c;
    memset(&c, 0, sizeof c);
    c.out = open_memstream(&buf, &len);
    pb_audit_filter f = {.wallet = "w2"};
    cr_assert_eq(pb_audit_scan(e.dir, &f, collect_fn, &c, NULL), PB_OK);
    fclose(c.out);
    char seg[320];
    snprintf(seg, sizeof seg, "%s/audit-000001.jsonl", e.dir);
    pb_test_lines l;
    pb_test_lines_read(seg, &l);
    char *expect = NULL;
    size_t expect_len = 0;
    FILE *x = open_memstream(&expect, &expect_len);
    for (size_t i = 2; i < l.count; i += 3)
        fprintf(x, "%s\n", l.line[i]);
    fclose(x);
    cr_assert_str_eq(buf, expect);
    pb_test_lines_free(&l);
    free(buf);
    free(expect);
    free_log(&e);
}

Test(audit_export, scan_skips_a_torn_tail_and_refuses_a_corrupt_line)
{
    log_env e;
    build_log(&e);
    char seg[320];
    snprintf(seg, sizeof seg, "%s/audit-000001.jsonl", e.dir);
    FILE *f = fopen(seg, "a");
    fputs("{\"seq\":13,", f);
    fclose(f);
    collect c;
    memset(&c, 0, sizeof c);
    uint64_t torn = 0;
    cr_assert_eq(pb_audit_scan(e.dir, NULL, collect_fn, &c, &torn), PB_OK);
    cr_assert_eq(c.n, 12);
    cr_assert_eq(torn, 10);
    f = fopen(seg, "a");
    fputs("\nnot a record\n", f);
    fclose(f);
    memset(&c, 0, sizeof c);
    cr_assert_eq(pb_audit_scan(e.dir, NULL, collect_fn, &c, NULL), PB_ERR_INTEGRITY);
    free_log(&e);
}

Test(audit_export, table_rows_cannot_carry_terminal_control_bytes)
{
    pb_audit_record r;
    memset(&r, 0, sizeof r);
    r.seq = 1;
    r.node = 1;
    snprintf(r.event, sizeof r.event, "sign.request");
    snprintf(r.actor, sizeof r.actor, "\x1b[2J\x1b]0;pwned\x07");
    snprintf(r.outcome, sizeof r.outcome, "ok");
    snprintf(r.detail, sizeof r.detail, "x\ry\x1b[1A");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    pb_audit_table_header(f);
    pb_audit_table_row(f, &r);
    fclose(f);
    for (size_t i = 0; i < len; i++)
        cr_assert(buf[i] == '\n' || ((unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f),
                  "control byte 0x%02x at %zu", (unsigned char)buf[i], i);
    cr_assert_not_null(strstr(buf, "sign.request"));
    free(buf);
}
