/* audit_fixture.c - see audit_fixture.h. */
#include "support/support.h"
#include "support/audit_fixture.h"

#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/record.h"

void pb_test_signer_make(pb_test_signer *s)
{
    s->key = EVP_EC_gen("P-256");
    cr_assert_not_null(s->key, "EC key generation failed");
    BIO *bio = BIO_new(BIO_s_mem());
    cr_assert(PEM_write_bio_PUBKEY(bio, s->key));
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    s->pem = malloc((size_t)len + 1);
    memcpy(s->pem, data, (size_t)len);
    s->pem[len] = '\0';
    BIO_free(bio);
}

void pb_test_signer_free(pb_test_signer *s)
{
    EVP_PKEY_free(s->key);
    free(s->pem);
    s->key = NULL;
    s->pem = NULL;
}

pb_status pb_test_signer_sign(void *ctx, const uint8_t digest[32], uint8_t sig[64])
{
    pb_test_signer *s = ctx;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(s->key, NULL);
    unsigned char der[80];
    size_t der_len = sizeof der;
    int ok = pctx && EVP_PKEY_sign_init(pctx) > 0 &&
             EVP_PKEY_sign(pctx, der, &der_len, digest, 32) > 0;
    EVP_PKEY_CTX_free(pctx);
    if (!ok)
        return PB_ERR_CRYPTO;
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!es)
        return PB_ERR_CRYPTO;
    BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
    ECDSA_SIG_free(es);
    return PB_OK;
}

int64_t pb_test_clock_tick(void *ctx)
{
    pb_test_clock *c = ctx;
    int64_t t = c->now_ms;
    c->now_ms += c->step_ms;
    return t;
}

static pb_status store_save(void *ctx, const char *line, size_t len)
{
    pb_test_store *s = ctx;
    free(s->line);
    s->line = malloc(len + 1);
    memcpy(s->line, line, len);
    s->line[len] = '\0';
    s->len = len;
    s->saves++;
    return PB_OK;
}

static pb_status store_load(void *ctx, char **line, size_t *len)
{
    pb_test_store *s = ctx;
    if (!s->line)
        return PB_ERR_NOT_FOUND;
    *line = strdup(s->line);
    *len = s->len;
    return PB_OK;
}

pb_audit_checkpoint_store pb_test_store_callbacks(pb_test_store *s)
{
    pb_audit_checkpoint_store cs = {store_save, store_load, s, NULL};
    return cs;
}

void pb_test_store_free(pb_test_store *s)
{
    free(s->line);
    s->line = NULL;
}

void pb_test_tmpdir(char *out, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, n, "%s/planbok-audit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(out), "mkdtemp failed");
}


void pb_test_lines_read(const char *file, pb_test_lines *l)
{
    memset(l, 0, sizeof *l);
    FILE *f = fopen(file, "r");
    cr_assert_not_null(f, "cannot open %s", file);
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&buf, &cap, f)) > 0) {
        if (buf[n - 1] == '\n')
            buf[n - 1] = '\0';
        l->line = realloc(l->line, (l->count + 1) * sizeof *l->line);
        l->line[l->count++] = strdup(buf);
    }
    free(buf);
    fclose(f);
}

void pb_test_lines_write(const char *file, const pb_test_lines *l)
{
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    for (size_t i = 0; i < l->count; i++)
        fprintf(f, "%s\n", l->line[i]);
    fclose(f);
}

void pb_test_lines_free(pb_test_lines *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->line[i]);
    free(l->line);
    memset(l, 0, sizeof *l);
}

void pb_test_lines_remove(pb_test_lines *l, size_t i)
{
    cr_assert_lt(i, l->count);
    free(l->line[i]);
    memmove(l->line + i, l->line + i + 1, (l->count - i - 1) * sizeof *l->line);
    l->count--;
}

void pb_test_lines_insert(pb_test_lines *l, size_t i, const char *text)
{
    cr_assert_leq(i, l->count);
    l->line = realloc(l->line, (l->count + 1) * sizeof *l->line);
    memmove(l->line + i + 1, l->line + i, (l->count - i) * sizeof *l->line);
    l->line[i] = strdup(text);
    l->count++;
}

void pb_test_lines_swap(pb_test_lines *l, size_t i, size_t j)
{
    char *t = l->line[i];
    l->line[i] = l->line[j];
    l->line[j] = t;
}

void pb_test_lines_decode(const pb_test_lines *l, size_t i, pb_audit_record *r)
{
    int hash_ok;
    cr_assert_eq(pb_audit_record_decode(l->line[i], strlen(l->line[i]), r, &hash_ok), PB_OK,
                 "line %zu: %s", i, pb_last_error());
}

static void replace_line(pb_test_lines *l, size_t i, pb_audit_record *r)
{
    char buf[PB_AUDIT_LINE_MAX + 1];
    size_t len;
    cr_assert_eq(pb_audit_record_encode(r, buf, sizeof buf, &len), PB_OK, "%s", pb_last_error());
    free(l->line[i]);
    l->line[i] = strdup(buf);
}

void pb_test_lines_edit(pb_test_lines *l, size_t i, void (*edit)(pb_audit_record *r, void *ctx),
                        void *ctx)
{
    pb_audit_record r;
    pb_test_lines_decode(l, i, &r);
    edit(&r, ctx);
    replace_line(l, i, &r);
}

void pb_test_lines_rechain(pb_test_lines *l, size_t from)
{
    uint8_t prev[32] = {0};
    if (from > 0) {
        pb_audit_record before;
        pb_test_lines_decode(l, from - 1, &before);
        memcpy(prev, before.hash, 32);
    }
    for (size_t i = from; i < l->count; i++) {
        pb_audit_record r;
        pb_test_lines_decode(l, i, &r);
        memcpy(r.prev, prev, 32);
        if (pb_audit_record_is_checkpoint(&r))
            memcpy(r.head, prev, 32);
        replace_line(l, i, &r);
        memcpy(prev, r.hash, 32);
    }
}

size_t pb_test_lines_find(const pb_test_lines *l, uint64_t seq)
{
    for (size_t i = 0; i < l->count; i++) {
        pb_audit_record r;
        pb_test_lines_decode(l, i, &r);
        if (r.seq == seq)
            return i;
    }
    cr_assert_fail("no record with seq %llu", (unsigned long long)seq);
    return 0;
}

void pb_test_audit_fill(pb_audit_log *log, int n, int checkpoint_each)
{
    static const char *events[] = {"wallet.create", "sign.request", "sign.complete",
                                   "policy.deny", "export.refused"};
    for (int k = 0; k < n; k++) {
        char wallet[16];
        snprintf(wallet, sizeof wallet, "w%d", k % 3);
        uint8_t digest[32];
        memset(digest, k & 0xff, sizeof digest);
        pb_audit_event ev = {events[k % 5], wallet, "test", digest, sizeof digest, "ok", NULL};
        pb_status st = pb_audit_append(log, &ev, NULL);
        cr_assert_eq(st, PB_OK, "append %d: %s", k, pb_last_error());
        if (checkpoint_each && (k + 1) % checkpoint_each == 0)
            cr_assert_eq(pb_audit_checkpoint(log, NULL), PB_OK, "%s", pb_last_error());
    }
}

pb_status pb_test_audit_verify(const char *path, const char *pem, const char *checkpoint,
                               pb_audit_summary *sum)
{
    pb_audit_verify_options o = {path, pem, checkpoint, 0};
    return pb_audit_verify(&o, sum);
}
