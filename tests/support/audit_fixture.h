/* audit_fixture.h - helpers for the audit suites: a software P-256 signer
 * (OpenSSL, for the fast tampering tests; the end-to-end suites use a real
 * SoftHSM token), a stepping clock, an in-memory checkpoint store, scratch
 * directories, and line-level editing of a log the way an attacker with
 * file access (but without the audit key) would do it. */
#ifndef PB_TEST_AUDIT_FIXTURE_H
#define PB_TEST_AUDIT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "support/support.h"
#include "audit/log.h"
#include "audit/verify.h"

typedef struct pb_test_signer {
    EVP_PKEY *key;
    char *pem; /* public key, PEM */
} pb_test_signer;

void pb_test_signer_make(pb_test_signer *s);
void pb_test_signer_free(pb_test_signer *s);
/* pb_audit_sign_fn over a pb_test_signer: raw r||s, s not normalized. */
pb_status pb_test_signer_sign(void *ctx, const uint8_t digest[32], uint8_t sig[64]);

typedef struct pb_test_clock {
    int64_t now_ms;
    int64_t step_ms;
} pb_test_clock;
int64_t pb_test_clock_tick(void *ctx);

typedef struct pb_test_store {
    char *line;
    size_t len;
    int saves;
} pb_test_store;
pb_audit_checkpoint_store pb_test_store_callbacks(pb_test_store *s);
void pb_test_store_free(pb_test_store *s);

void pb_test_tmpdir(char *out, size_t n);

/* A log's lines held in memory for editing (without their '\n'). */
typedef struct pb_test_lines {
    char **line;
    size_t count;
} pb_test_lines;

void pb_test_lines_read(const char *file, pb_test_lines *l);
void pb_test_lines_write(const char *file, const pb_test_lines *l);
void pb_test_lines_free(pb_test_lines *l);
void pb_test_lines_remove(pb_test_lines *l, size_t i);
void pb_test_lines_insert(pb_test_lines *l, size_t i, const char *text);
void pb_test_lines_swap(pb_test_lines *l, size_t i, size_t j);
/* Re-encodes line i after `edit` changed its fields (new hash, same prev). */
void pb_test_lines_edit(pb_test_lines *l, size_t i, void (*edit)(pb_audit_record *r, void *ctx),
                        void *ctx);
/* Recomputes prev and hash of lines from..end so the hash chain is
 * consistent again (what an attacker without the key can do). */
void pb_test_lines_rechain(pb_test_lines *l, size_t from);
/* Index of the line whose record has this seq (aborts if none). */
size_t pb_test_lines_find(const pb_test_lines *l, uint64_t seq);
void pb_test_lines_decode(const pb_test_lines *l, size_t i, pb_audit_record *r);

/* Appends n plain events (wallet "w<k%3>", event from a fixed list). */
void pb_test_audit_fill(pb_audit_log *log, int n, int checkpoint_each);
/* Verifies dir with the signer's key (and an external checkpoint or NULL). */
pb_status pb_test_audit_verify(const char *path, const char *pem, const char *checkpoint,
                               pb_audit_summary *sum);

#endif
