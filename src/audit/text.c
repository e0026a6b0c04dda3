/* text.c - canonical text pieces of audit records (see text.h). */
#include "audit/text.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char hex_digits[] = "0123456789abcdef";

#define PB_AUDIT_TIME_MAX_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z */

void pb_audit_buf_init(pb_audit_buf *b, char *storage, size_t cap)
{
    b->p = storage;
    b->len = 0;
    b->cap = cap;
    b->failed = cap == 0;
    if (cap)
        storage[0] = '\0';
}

void pb_audit_buf_raw(pb_audit_buf *b, const char *s, size_t n)
{
    if (b->failed || n >= b->cap - b->len) {
        b->failed = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void pb_audit_buf_str(pb_audit_buf *b, const char *s) { pb_audit_buf_raw(b, s, strlen(s)); }

void pb_audit_buf_u64(pb_audit_buf *b, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    pb_audit_buf_raw(b, tmp, (size_t)n);
}

void pb_audit_buf_hex(pb_audit_buf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char two[2] = {hex_digits[p[i] >> 4], hex_digits[p[i] & 15]};
        pb_audit_buf_raw(b, two, 2);
    }
}

static int needs_unicode_escape(unsigned char c) { return c < 0x20 || c == 0x7f; }

void pb_audit_buf_json_string(pb_audit_buf *b, const char *s)
{
    pb_audit_buf_raw(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char two[2] = {'\\', (char)c};
            pb_audit_buf_raw(b, two, 2);
        } else if (needs_unicode_escape(c)) {
            char six[6] = {'\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 15]};
            pb_audit_buf_raw(b, six, 6);
        } else {
            pb_audit_buf_raw(b, (const char *)&c, 1);
        }
    }
    pb_audit_buf_raw(b, "\"", 1);
}

int pb_audit_utf8_check(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        size_t extra;
        unsigned min, cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1, min = 0x80, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2, min = 0x800, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return -1;
        }
        if (n - i <= extra)
            return -1;
        for (size_t k = 1; k <= extra; k++) {
            if ((u[i + k] & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (u[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        i += extra + 1;
    }
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

size_t pb_audit_json_string_parse(const char *in, size_t n, char *out, size_t cap)
{
    if (n < 2 || in[0] != '"' || cap == 0)
        return 0;
    size_t o = 0;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        char decoded;
        if (c == '"') {
            out[o] = '\0';
            return pb_audit_utf8_check(out, o) == 0 ? i + 1 : 0;
        }
        if (c == '\\') {
            if (i + 1 >= n)
                return 0;
            char e = in[i + 1];
            if (e == '"' || e == '\\') {
                decoded = e;
                i += 1;
            } else if (e == 'u' && i + 5 < n && in[i + 2] == '0' && in[i + 3] == '0') {
                int hi = hex_value(in[i + 4]), lo = hex_value(in[i + 5]);
                if (hi < 0 || lo < 0)
                    return 0;
                unsigned char v = (unsigned char)(hi * 16 + lo);
                /* Only the bytes the escaper writes this way, and never NUL. */
                if (!needs_unicode_escape(v) || v == 0)
                    return 0;
                decoded = (char)v;
                i += 5;
            } else {
                return 0;
            }
        } else if (needs_unicode_escape(c)) {
            return 0;
        } else {
            decoded = (char)c;
        }
        if (o + 1 >= cap)
            return 0;
        out[o++] = decoded;
    }
    return 0;
}

int pb_audit_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_len)
{
    if (hex_len != 2 * out_len)
        return -1;
    for (size_t i = 0; i < out_len; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi * 16 + lo);
    }
    return 0;
}

void pb_audit_time_format(int64_t ms, char out[PB_AUDIT_TIME_LEN + 1])
{
    if (ms < 0)
        ms = 0;
    if (ms > PB_AUDIT_TIME_MAX_MS)
        ms = PB_AUDIT_TIME_MAX_MS;
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char wide[64]; /* the compiler cannot see that every field fits */
    snprintf(wide, sizeof wide, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    memcpy(out, wide, PB_AUDIT_TIME_LEN);
    out[PB_AUDIT_TIME_LEN] = '\0';
}

/* Reads exactly `digits` decimal digits. */
static int read_digits(const char *s, int digits, int *v)
{
    int x = 0;
    for (int i = 0; i < digits; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

/* Builds the time from calendar fields and rejects out-of-range fields by
 * formatting it back (timegm would silently normalize 31 April). */
static int time_from_fields(int y, int mo, int d, int h, int mi, int sec, int milli, int64_t *ms)
{
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    struct tm back;
    gmtime_r(&t, &back);
    if (back.tm_mday != d || back.tm_mon != mo - 1)
        return -1;
    *ms = (int64_t)t * 1000 + milli;
    return 0;
}

int pb_audit_time_parse(const char *s, size_t n, int64_t *ms)
{
    int y, mo, d, h, mi, sec, milli;
    if (n != PB_AUDIT_TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != '.' || s[23] != 'Z')
        return -1;
    if (read_digits(s, 4, &y) || read_digits(s + 5, 2, &mo) || read_digits(s + 8, 2, &d) ||
        read_digits(s + 11, 2, &h) || read_digits(s + 14, 2, &mi) ||
        read_digits(s + 17, 2, &sec) || read_digits(s + 20, 3, &milli))
        return -1;
    return time_from_fields(y, mo, d, h, mi, sec, milli, ms);
}

int pb_audit_time_parse_loose(const char *s, int64_t *ms)
{
    size_t n = strlen(s);
    int y, mo, d, h = 0, mi = 0, sec = 0, milli = 0;
    if (n < 10 || s[4] != '-' || s[7] != '-' || read_digits(s, 4, &y) ||
        read_digits(s + 5, 2, &mo) || read_digits(s + 8, 2, &d))
        return -1;
    if (n == 10)
        return time_from_fields(y, mo, d, 0, 0, 0, 0, ms);
    if (s[10] != 'T' || n < 20 || s[13] != ':' || s[16] != ':' || read_digits(s + 11, 2, &h) ||
        read_digits(s + 14, 2, &mi) || read_digits(s + 17, 2, &sec))
        return -1;
    if (n == 20 && s[19] == 'Z')
        return time_from_fields(y, mo, d, h, mi, sec, 0, ms);
    if (n == 24 && s[19] == '.' && s[23] == 'Z' && read_digits(s + 20, 3, &milli) == 0)
        return time_from_fields(y, mo, d, h, mi, sec, milli, ms);
    return -1;
}
