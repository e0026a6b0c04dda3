/* custody_fixture.h - helpers for the custody suites: temporary directories,
 * small files, a tamper harness, and RSA recovery keys cached on disk
 * (Criterion runs each test in its own process, so a memory cache would not
 * survive). Test-only; never linked into the library. */
#ifndef PB_TEST_CUSTODY_FIXTURE_H
#define PB_TEST_CUSTODY_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

/* mkdtemp under $TMPDIR (or /tmp); aborts the test on failure. */
void cx_tmpdir(char *dir, size_t n);
/* Removes the directory tree. */
void cx_rmtree(const char *dir);
/* Writes a file (mode 0600) with exactly these bytes; aborts on failure.
 * Returns the joined path in `path`. */
void cx_write(const char *dir, const char *name, const void *p, size_t n, char *path, size_t cap);

/* Deterministic non-trivial test bytes. */
void cx_fill(uint8_t *p, size_t n, unsigned seed);

/* Calls `open` on every copy of `blob` with one bit flipped (lowest and
 * highest bit of each byte), on every strict prefix, and on the blob with a
 * trailing byte; asserts each gives `expect` and leaves *plain NULL. `ctx`
 * is handed through. */
typedef pb_status (*cx_open_fn)(void *ctx, const uint8_t *in, size_t in_len, uint8_t **plain,
                                size_t *plain_len);
void cx_assert_tamper_fails(cx_open_fn open, void *ctx, const uint8_t *blob, size_t blob_len,
                            pb_status expect);

/* An RSA key of `bits` (slot picks one of several independent keys): its
 * private PEM is cached under <build dir>/test-fixtures (generated once,
 * renamed into place so racing processes never see half a file); its public
 * PEM is written into `dir`. Aborts the test on failure. */
void cx_rsa_key_paths(int bits, int slot, const char *dir, char *pub_path, char *priv_path,
                      size_t cap);
/* A fresh EC P-256 key pair as PEM files in `dir`, for the "not RSA" refusal. */
void cx_ec_key_paths(const char *dir, char *pub_path, char *priv_path, size_t cap);

/* Opens a custody envelope (layout in src/custody/envelope.h) without the
 * library: HKDF-SHA256 through EVP_PKEY and one-shot AES-256-GCM, from the
 * documented layout. Asserts the header (magic, version 1, wallet id);
 * returns 1 and fills plain when the tag verifies, else 0. */
int cx_envelope_open_independent(const char magic[4], size_t params_len, const char *hkdf_salt,
                                 const uint8_t *ikm, size_t ikm_len, const char *wallet_id,
                                 const uint8_t *blob, size_t blob_len, uint8_t *plain);

/* Asserts that pb_last_error() contains none of these bytes as a substring
 * (as text, and in lowercase hex when hex is set). */
void cx_assert_error_hides(const void *secret, size_t n, int hex);

#endif
