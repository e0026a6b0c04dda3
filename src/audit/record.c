/* record.c - canonical audit records (see record.h and docs/audit.md). */
#include "audit/record.h"

#include <string.h>

#include <openssl/evp.h>

#include "audit/text.h"
#include "common/fail.h"

int pb_audit_record_is_checkpoint(const pb_audit_record *r)
{
    return strcmp(r->event, PB_AUDIT_EVENT_CHECKPOINT) == 0;
}

static int token_ok(const char *s, size_t max, int first_letter)
{
    size_t n = strnlen(s, max + 1);
    if (n == 0 || n > max)
        return 0;
    if (first_letter && !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int wallet_ok(const char *s)
{
    size_t n = strnlen(s, PB_AUDIT_WALLET_MAX + 1);
    if (n == 0)
        return 1;
    if (n > PB_AUDIT_WALLET_MAX || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int text_ok(const char *s, size_t max, int may_be_empty)
{
    size_t n = strnlen(s, max + 1);
    if (n > max || (n == 0 && !may_be_empty))
        return 0;
    return pb_audit_utf8_check(s, n) == 0;
}

pb_status pb_audit_record_check(const pb_audit_record *r)
{
    if (r->seq == 0)
        return pb_fail(PB_ERR_ARGUMENT, "audit record: seq starts at 1");
    if (r->time_ms < 0 || r->time_ms > 253402300799999LL)
        return pb_fail(PB_ERR_ARGUMENT, "audit record: time out of range");
    if (r->node < 1 || r->node > PB_AUDIT_NODE_MAX)
        return pb_fail(PB_ERR_ARGUMENT, "audit record: node must be 1-%d", PB_AUDIT_NODE_MAX);
    if (!token_ok(r->event, PB_AUDIT_EVENT_MAX, 1))
        return pb_fail(PB_ERR_ARGUMENT,
                       "audit record: event must be 1-%d of [a-z0-9._-] starting with a letter",
                       PB_AUDIT_EVENT_MAX);
    if (!wallet_ok(r->wallet))
        return pb_fail(PB_ERR_ARGUMENT, "audit record: wallet is not a wallet id");
    if (!text_ok(r->actor, PB_AUDIT_ACTOR_MAX, 0))
        return pb_fail(PB_ERR_ARGUMENT, "audit record: actor must be 1-%d bytes of UTF-8",
                       PB_AUDIT_ACTOR_MAX);
    if (r->digest_len > PB_AUDIT_DIGEST_MAX)
        return pb_fail(PB_ERR_ARGUMENT, "audit record: digest longer than %d bytes",
                       PB_AUDIT_DIGEST_MAX);
    if (!token_ok(r->outcome, PB_AUDIT_OUTCOME_MAX, 0))
        return pb_fail(PB_ERR_ARGUMENT, "audit record: outcome must be 1-%d of [a-z0-9._-]",
                       PB_AUDIT_OUTCOME_MAX);
    if (!text_ok(r->detail, PB_AUDIT_DETAIL_MAX, 1))
        return pb_fail(PB_ERR_ARGUMENT, "audit record: detail must be 0-%d bytes of UTF-8",
                       PB_AUDIT_DETAIL_MAX);
    if (pb_audit_record_is_checkpoint(r) && (r->sig_len < 8 || r->sig_len > PB_AUDIT_SIG_MAX))
        return pb_fail(PB_ERR_ARGUMENT, "audit record: checkpoint without a signature");
    return PB_OK;
}

static void sha256(const void *p, size_t n, uint8_t out[32])
{
    unsigned int len = 32;
    EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

/* The record without its hash field: the bytes the hash is taken over. */
static void encode_body(const pb_audit_record *r, pb_audit_buf *b)
{
    char time[PB_AUDIT_TIME_LEN + 1];
    pb_audit_time_format(r->time_ms, time);
    pb_audit_buf_str(b, "{\"seq\":");
    pb_audit_buf_u64(b, r->seq);
    pb_audit_buf_str(b, ",\"time\":\"");
    pb_audit_buf_str(b, time);
    pb_audit_buf_str(b, "\",\"node\":");
    pb_audit_buf_u64(b, r->node);
    pb_audit_buf_str(b, ",\"event\":");
    pb_audit_buf_json_string(b, r->event);
    pb_audit_buf_str(b, ",\"wallet\":");
    pb_audit_buf_json_string(b, r->wallet);
    pb_audit_buf_str(b, ",\"actor\":");
    pb_audit_buf_json_string(b, r->actor);
    if (r->digest_len) {
        pb_audit_buf_str(b, ",\"digest\":\"");
        pb_audit_buf_hex(b, r->digest, r->digest_len);
        pb_audit_buf_str(b, "\"");
    }
    pb_audit_buf_str(b, ",\"outcome\":");
    pb_audit_buf_json_string(b, r->outcome);
    if (r->detail[0]) {
        pb_audit_buf_str(b, ",\"detail\":");
        pb_audit_buf_json_string(b, r->detail);
    }
    if (pb_audit_record_is_checkpoint(r)) {
        pb_audit_buf_str(b, ",\"head_seq\":");
        pb_audit_buf_u64(b, r->head_seq);
        pb_audit_buf_str(b, ",\"head\":\"");
        pb_audit_buf_hex(b, r->head, 32);
        pb_audit_buf_str(b, "\",\"sig\":\"");
        pb_audit_buf_hex(b, r->sig, r->sig_len);
        pb_audit_buf_str(b, "\"");
    }
    pb_audit_buf_str(b, ",\"prev\":\"");
    pb_audit_buf_hex(b, r->prev, 32);
    pb_audit_buf_str(b, "\"}");
}

pb_status pb_audit_record_encode(pb_audit_record *r, char *line, size_t cap, size_t *len)
{
    pb_status st = pb_audit_record_check(r);
    if (st != PB_OK)
        return st;
    pb_audit_buf b;
    pb_audit_buf_init(&b, line, cap);
    encode_body(r, &b);
    if (b.failed)
        return pb_fail(PB_ERR_ARGUMENT, "audit record longer than %zu bytes", cap);
    sha256(b.p, b.len, r->hash);
    b.len -= 1; /* replace the closing brace by the hash field */
    pb_audit_buf_str(&b, ",\"hash\":\"");
    pb_audit_buf_hex(&b, r->hash, 32);
    pb_audit_buf_str(&b, "\"}");
    if (b.failed)
        return pb_fail(PB_ERR_ARGUMENT, "audit record longer than %zu bytes", cap);
    *len = b.len;
    return PB_OK;
}

/* --- strict decoding ------------------------------------------------------ */

typedef struct cursor {
    const char *p;
    size_t left;
    const char *start;
} cursor;

static pb_status bad(const cursor *c, const char *what)
{
    return pb_fail(PB_ERR_PARSE, "not a canonical audit record: %s at byte %zu", what,
                   (size_t)(c->p - c->start));
}

static int take(cursor *c, const char *lit)
{
    size_t n = strlen(lit);
    if (c->left < n || memcmp(c->p, lit, n) != 0)
        return 0;
    c->p += n;
    c->left -= n;
    return 1;
}

static int take_u64(cursor *c, uint64_t *v)
{
    size_t i = 0;
    uint64_t x = 0;
    while (i < c->left && c->p[i] >= '0' && c->p[i] <= '9') {
        unsigned d = (unsigned)(c->p[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return 0;
        x = x * 10 + d;
        i++;
    }
    if (i == 0 || (i > 1 && c->p[0] == '0'))
        return 0;
    c->p += i;
    c->left -= i;
    *v = x;
    return 1;
}

static int take_string(cursor *c, char *out, size_t cap)
{
    size_t used = pb_audit_json_string_parse(c->p, c->left, out, cap);
    if (!used)
        return 0;
    c->p += used;
    c->left -= used;
    return 1;
}

/* "<hex>" of between min and max bytes. */
static int take_hex(cursor *c, uint8_t *out, size_t min, size_t max, size_t *n)
{
    if (!take(c, "\""))
        return 0;
    const char *end = memchr(c->p, '"', c->left);
    if (!end)
        return 0;
    size_t hex_len = (size_t)(end - c->p);
    if (hex_len % 2 || hex_len / 2 < min || hex_len / 2 > max ||
        pb_audit_hex_decode(c->p, hex_len, out, hex_len / 2) != 0)
        return 0;
    *n = hex_len / 2;
    c->p = end + 1;
    c->left -= hex_len + 1;
    return 1;
}

static int take_hash(cursor *c, uint8_t out[32])
{
    size_t n;
    return take_hex(c, out, 32, 32, &n);
}

static pb_status decode_fields(cursor *c, pb_audit_record *r, const char **hash_at)
{
    uint64_t node;
    char time[PB_AUDIT_TIME_LEN + 2];
    if (!take(c, "{\"seq\":") || !take_u64(c, &r->seq))
        return bad(c, "seq");
    if (!take(c, ",\"time\":") || !take_string(c, time, sizeof time) ||
        pb_audit_time_parse(time, strlen(time), &r->time_ms) != 0)
        return bad(c, "time");
    if (!take(c, ",\"node\":") || !take_u64(c, &node) || node > PB_AUDIT_NODE_MAX)
        return bad(c, "node");
    r->node = (unsigned)node;
    if (!take(c, ",\"event\":") || !take_string(c, r->event, sizeof r->event))
        return bad(c, "event");
    if (!take(c, ",\"wallet\":") || !take_string(c, r->wallet, sizeof r->wallet))
        return bad(c, "wallet");
    if (!take(c, ",\"actor\":") || !take_string(c, r->actor, sizeof r->actor))
        return bad(c, "actor");
    if (take(c, ",\"digest\":") && !take_hex(c, r->digest, 1, PB_AUDIT_DIGEST_MAX, &r->digest_len))
        return bad(c, "digest");
    if (!take(c, ",\"outcome\":") || !take_string(c, r->outcome, sizeof r->outcome))
        return bad(c, "outcome");
    if (take(c, ",\"detail\":") && (!take_string(c, r->detail, sizeof r->detail) || !r->detail[0]))
        return bad(c, "detail");
    if (pb_audit_record_is_checkpoint(r)) {
        if (!take(c, ",\"head_seq\":") || !take_u64(c, &r->head_seq))
            return bad(c, "head_seq");
        if (!take(c, ",\"head\":") || !take_hash(c, r->head))
            return bad(c, "head");
        if (!take(c, ",\"sig\":") || !take_hex(c, r->sig, 8, PB_AUDIT_SIG_MAX, &r->sig_len))
            return bad(c, "sig");
    }
    if (!take(c, ",\"prev\":") || !take_hash(c, r->prev))
        return bad(c, "prev");
    *hash_at = c->p;
    if (!take(c, ",\"hash\":") || !take_hash(c, r->hash))
        return bad(c, "hash");
    if (!take(c, "}") || c->left != 0)
        return bad(c, "end of record");
    return PB_OK;
}

pb_status pb_audit_record_decode(const char *line, size_t len, pb_audit_record *r, int *hash_ok)
{
    memset(r, 0, sizeof *r);
    *hash_ok = 0;
    if (len > PB_AUDIT_LINE_MAX)
        return pb_fail(PB_ERR_PARSE, "audit record longer than %d bytes", PB_AUDIT_LINE_MAX);
    cursor c = {line, len, line};
    const char *hash_at = NULL;
    pb_status st = decode_fields(&c, r, &hash_at);
    if (st != PB_OK)
        return st;
    if (pb_audit_record_check(r) != PB_OK)
        return pb_fail_context(PB_ERR_PARSE, "not a canonical audit record");
    /* The decoder is strict field by field; re-encoding proves the whole
     * line is the one canonical form of these fields. */
    char again[PB_AUDIT_LINE_MAX + 1];
    pb_audit_record copy = *r;
    size_t again_len;
    if (pb_audit_record_encode(&copy, again, sizeof again, &again_len) != PB_OK ||
        memcmp(again, line, (size_t)(hash_at - line)) != 0)
        return pb_fail(PB_ERR_PARSE, "not a canonical audit record: fields re-encode differently");
    *hash_ok = memcmp(copy.hash, r->hash, 32) == 0;
    return PB_OK;
}

pb_status pb_audit_statement(unsigned node, uint64_t head_seq, const uint8_t head[32],
                             int64_t time_ms, char *out, size_t cap, size_t *len)
{
    char time[PB_AUDIT_TIME_LEN + 1];
    pb_audit_time_format(time_ms, time);
    pb_audit_buf b;
    pb_audit_buf_init(&b, out, cap);
    pb_audit_buf_str(&b, "{\"domain\":\"" PB_AUDIT_STATEMENT_DOMAIN "\",\"node\":");
    pb_audit_buf_u64(&b, node);
    pb_audit_buf_str(&b, ",\"seq\":");
    pb_audit_buf_u64(&b, head_seq);
    pb_audit_buf_str(&b, ",\"head\":\"");
    pb_audit_buf_hex(&b, head, 32);
    pb_audit_buf_str(&b, "\",\"time\":\"");
    pb_audit_buf_str(&b, time);
    pb_audit_buf_str(&b, "\"}");
    if (b.failed)
        return pb_fail(PB_ERR_ARGUMENT, "checkpoint statement buffer too small");
    *len = b.len;
    return PB_OK;
}
