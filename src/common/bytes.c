/* bytes.c - canonical byte writer and bounds-checked reader (see bytes.h). */
#include "common/bytes.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/fail.h"

void pb_writer_init(pb_writer *w) { memset(w, 0, sizeof *w); }

static int writer_reserve(pb_writer *w, size_t extra)
{
    if (w->failed)
        return 0;
    if (extra > SIZE_MAX - w->len) {
        w->failed = 1;
        return 0;
    }
    if (w->len + extra <= w->cap)
        return 1;
    size_t cap = w->cap ? w->cap : 64;
    while (cap < w->len + extra) {
        if (cap > SIZE_MAX / 2) {
            w->failed = 1;
            return 0;
        }
        cap *= 2;
    }
    /* Not realloc: the old buffer may hold secrets and must be wiped. */
    uint8_t *grown = malloc(cap);
    if (!grown) {
        w->failed = 1;
        return 0;
    }
    if (w->data) {
        memcpy(grown, w->data, w->len);
        OPENSSL_cleanse(w->data, w->cap);
        free(w->data);
    }
    w->data = grown;
    w->cap = cap;
    return 1;
}

void pb_writer_raw(pb_writer *w, const void *p, size_t n)
{
    if (n == 0 || !writer_reserve(w, n))
        return;
    memcpy(w->data + w->len, p, n);
    w->len += n;
}

void pb_writer_u8(pb_writer *w, uint8_t v) { pb_writer_raw(w, &v, 1); }

void pb_writer_u16(pb_writer *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    pb_writer_raw(w, b, sizeof b);
}

void pb_writer_u32(pb_writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    pb_writer_raw(w, b, sizeof b);
}

void pb_writer_u64(pb_writer *w, uint64_t v)
{
    pb_writer_u32(w, (uint32_t)(v >> 32));
    pb_writer_u32(w, (uint32_t)v);
}

void pb_writer_var(pb_writer *w, const void *p, size_t n)
{
    if (n > UINT32_MAX) {
        w->failed = 1;
        return;
    }
    pb_writer_u32(w, (uint32_t)n);
    pb_writer_raw(w, p, n);
}

pb_status pb_writer_finish(pb_writer *w, uint8_t **out, size_t *out_len)
{
    if (w->failed) {
        pb_writer_free(w);
        return pb_fail(PB_ERR_NOMEM, "out of memory while encoding");
    }
    if (!w->data) {
        /* An empty encoding still gets a distinct, freeable pointer. */
        w->data = malloc(1);
        if (!w->data)
            return pb_fail(PB_ERR_NOMEM, "out of memory while encoding");
        w->cap = 1;
    }
    *out = w->data;
    *out_len = w->len;
    memset(w, 0, sizeof *w);
    return PB_OK;
}

void pb_writer_free(pb_writer *w)
{
    if (w->data) {
        OPENSSL_cleanse(w->data, w->cap);
        free(w->data);
    }
    memset(w, 0, sizeof *w);
}

void pb_bytes_free(uint8_t *p, size_t n)
{
    if (!p)
        return;
    OPENSSL_cleanse(p, n);
    free(p);
}

void pb_reader_init(pb_reader *r, const uint8_t *p, size_t n)
{
    r->p = p;
    r->left = p ? n : 0;
    r->failed = 0;
}

const uint8_t *pb_reader_raw(pb_reader *r, size_t n)
{
    if (r->failed || n > r->left) {
        r->failed = 1;
        return NULL;
    }
    const uint8_t *at = r->p;
    r->p += n;
    r->left -= n;
    return at;
}

uint8_t pb_reader_u8(pb_reader *r)
{
    const uint8_t *b = pb_reader_raw(r, 1);
    return b ? b[0] : 0;
}

uint16_t pb_reader_u16(pb_reader *r)
{
    const uint8_t *b = pb_reader_raw(r, 2);
    return b ? (uint16_t)((b[0] << 8) | b[1]) : 0;
}

uint32_t pb_reader_u32(pb_reader *r)
{
    const uint8_t *b = pb_reader_raw(r, 4);
    if (!b)
        return 0;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

uint64_t pb_reader_u64(pb_reader *r)
{
    uint64_t hi = pb_reader_u32(r);
    uint64_t lo = pb_reader_u32(r);
    return (hi << 32) | lo;
}

const uint8_t *pb_reader_var(pb_reader *r, size_t max_len, size_t *out_len)
{
    uint32_t n = pb_reader_u32(r);
    *out_len = 0;
    if (r->failed || n > max_len || n > r->left) {
        r->failed = 1;
        return NULL;
    }
    *out_len = n;
    return pb_reader_raw(r, n);
}

int pb_reader_text(pb_reader *r, char *dst, size_t cap)
{
    size_t n;
    const uint8_t *p = pb_reader_var(r, cap - 1, &n);
    if (!p)
        return -1;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return memchr(dst, '\0', n) ? -1 : 0;
}

pb_status pb_reader_finish(const pb_reader *r, const char *what)
{
    if (r->failed)
        return pb_fail(PB_ERR_PARSE, "%s: truncated or oversized field", what);
    if (r->left != 0)
        return pb_fail(PB_ERR_PARSE, "%s: %zu trailing bytes", what, r->left);
    return PB_OK;
}
