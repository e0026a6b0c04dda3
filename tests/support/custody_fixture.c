/* custody_fixture.c - helpers for the custody suites (see the header). */
#include "support/support.h"
#include "support/custody_fixture.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>

#include "common/secret.h"

void cx_tmpdir(char *dir, size_t n)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    cr_assert_lt((size_t)snprintf(dir, n, "%s/pb-custody-XXXXXX", base), n);
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

void cx_rmtree(const char *dir) { pb_test_rmtree(dir); }

void cx_write(const char *dir, const char *name, const void *p, size_t n, char *path, size_t cap)
{
    cr_assert_lt((size_t)snprintf(path, cap, "%s/%s", dir, name), cap);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, p, n), (ssize_t)n);
    close(fd);
}

void cx_fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 131u + i * 29u + (i >> 8) + 1u);
}

static void call_expect(cx_open_fn open_fn, void *ctx, const uint8_t *in, size_t in_len,
                        pb_status expect, const char *what, size_t at)
{
    uint8_t *plain = (uint8_t *)1;
    size_t plain_len = 99;
    pb_status st = open_fn(ctx, in, in_len, &plain, &plain_len);
    cr_assert_eq(st, expect, "%s at %zu gave %s (%s)", what, at, pb_status_name(st),
                 pb_last_error());
    cr_assert_null(plain, "%s at %zu left an output", what, at);
    cr_assert_eq(plain_len, 0);
}

void cx_assert_tamper_fails(cx_open_fn open_fn, void *ctx, const uint8_t *blob, size_t blob_len,
                            pb_status expect)
{
    uint8_t *copy = malloc(blob_len + 1);
    cr_assert_not_null(copy);
    memcpy(copy, blob, blob_len);
    for (size_t i = 0; i < blob_len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            copy[i] ^= (uint8_t)(1u << bit);
            call_expect(open_fn, ctx, copy, blob_len, expect, "bit flip", i);
            copy[i] ^= (uint8_t)(1u << bit);
        }
    }
    for (size_t cut = 0; cut < blob_len; cut++)
        call_expect(open_fn, ctx, copy, cut, expect, "truncation", cut);
    copy[blob_len] = 0;
    call_expect(open_fn, ctx, copy, blob_len + 1, expect, "trailing byte", blob_len);
    /* And the untouched copy still opens, so the failures above are due to
     * the edits and not to a broken harness. */
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    cr_assert_eq(open_fn(ctx, copy, blob_len, &plain, &plain_len), PB_OK, "%s",
                 pb_last_error());
    pb_secret_free(plain, plain_len);
    free(copy);
}

/* <build dir>/test-fixtures from ctest's environment, else from the
 * executable's location (<build dir>/bin/test_x). */
static void cache_dir(char *out, size_t n)
{
    const char *env = getenv("PB_BINARY_DIR");
    if (env && *env) {
        cr_assert_lt((size_t)snprintf(out, n, "%s/test-fixtures", env), n);
    } else {
        char exe[PATH_MAX];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        cr_assert_gt(len, 0);
        exe[len] = '\0';
        for (int up = 0; up < 2; up++) {
            char *slash = strrchr(exe, '/');
            cr_assert_not_null(slash);
            *slash = '\0';
        }
        cr_assert_lt((size_t)snprintf(out, n, "%s/test-fixtures", exe), n);
    }
    cr_assert(mkdir(out, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", out, strerror(errno));
}

static EVP_PKEY *read_private(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return key;
}

/* Private keys are written 0600: planbok refuses a recovery private key
 * that others may read. */
static void write_key(const char *path, EVP_PKEY *key, int private_part)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, private_part ? 0600 : 0644);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    cr_assert_eq(fchmod(fd, private_part ? 0600 : 0644), 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f, "fdopen %s: %s", path, strerror(errno));
    int ok = private_part ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                          : PEM_write_PUBKEY(f, key);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(ok, 1, "writing %s", path);
}

void cx_rsa_key_paths(int bits, int slot, const char *dir, char *pub_path, char *priv_path,
                      size_t cap)
{
    char cache[PATH_MAX];
    cache_dir(cache, sizeof cache);
    cr_assert_lt((size_t)snprintf(priv_path, cap, "%s/custody-rsa-%d-%d.pem", cache, bits, slot),
                 cap);
    /* A cache written by an older fixture may be 0644. */
    (void)chmod(priv_path, 0600);
    EVP_PKEY *key = read_private(priv_path);
    if (!key) {
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
        cr_assert_not_null(key, "RSA-%d key generation", bits);
        char tmp[PATH_MAX];
        cr_assert_lt((size_t)snprintf(tmp, sizeof tmp, "%s.%ld.tmp", priv_path, (long)getpid()),
                     sizeof tmp);
        write_key(tmp, key, 1);
        /* link, not rename: the first process to finish wins and nobody
         * replaces a key another test has already used. */
        cr_assert(link(tmp, priv_path) == 0 || errno == EEXIST, "link: %s", strerror(errno));
        unlink(tmp);
        EVP_PKEY_free(key);
        key = read_private(priv_path);
        cr_assert_not_null(key, "reading %s", priv_path);
    }
    cr_assert_lt((size_t)snprintf(pub_path, cap, "%s/rsa-%d-%d.pub.pem", dir, bits, slot), cap);
    write_key(pub_path, key, 0);
    EVP_PKEY_free(key);
}

void cx_ec_key_paths(const char *dir, char *pub_path, char *priv_path, size_t cap)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    cr_assert_not_null(key);
    cr_assert_lt((size_t)snprintf(pub_path, cap, "%s/ec.pub.pem", dir), cap);
    cr_assert_lt((size_t)snprintf(priv_path, cap, "%s/ec.pem", dir), cap);
    write_key(pub_path, key, 0);
    write_key(priv_path, key, 1);
    EVP_PKEY_free(key);
}

void cx_assert_error_hides(const void *secret, size_t n, int hex)
{
    const char *msg = pb_last_error();
    if (n == 0)
        return;
    cr_assert_null(memmem(msg, strlen(msg), secret, n), "error message contains the secret: %s",
                   msg);
    if (hex) {
        char *h = malloc(2 * n + 1);
        cr_assert_not_null(h);
        for (size_t i = 0; i < n; i++)
            snprintf(h + 2 * i, 3, "%02x", ((const uint8_t *)secret)[i]);
        cr_assert_null(strcasestr(msg, h), "error message contains the secret in hex: %s", msg);
        /* Not even a fragment: any 8 hex characters of it. */
        for (size_t i = 0; i + 8 <= 2 * n; i += 2) {
            char frag[9];
            memcpy(frag, h + i, 8);
            frag[8] = '\0';
            cr_assert_null(strcasestr(msg, frag), "error message contains a secret fragment: %s",
                           msg);
        }
        free(h);
    }
}

int cx_envelope_open_independent(const char magic[4], size_t params_len, const char *hkdf_salt,
                                 const uint8_t *ikm, size_t ikm_len, const char *wallet_id,
                                 const uint8_t *blob, size_t blob_len, uint8_t *plain)
{
    uint8_t key[32];
    size_t key_len = sizeof key;
    EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    cr_assert_not_null(kctx);
    cr_assert_eq(EVP_PKEY_derive_init(kctx), 1);
    cr_assert_eq(EVP_PKEY_CTX_set_hkdf_md(kctx, EVP_sha256()), 1);
    cr_assert_eq(EVP_PKEY_CTX_set1_hkdf_salt(kctx, (const unsigned char *)hkdf_salt,
                                             (int)strlen(hkdf_salt)), 1);
    cr_assert_eq(EVP_PKEY_CTX_set1_hkdf_key(kctx, ikm, (int)ikm_len), 1);
    cr_assert_eq(EVP_PKEY_CTX_add1_hkdf_info(kctx, (const unsigned char *)wallet_id,
                                             (int)strlen(wallet_id)), 1);
    cr_assert_eq(EVP_PKEY_derive(kctx, key, &key_len), 1);
    EVP_PKEY_CTX_free(kctx);

    size_t id_len = strlen(wallet_id);
    size_t aad_len = 4 + 1 + params_len + 1 + id_len;
    cr_assert_eq(memcmp(blob, magic, 4), 0);
    cr_assert_eq(blob[4], 1, "version 1");
    cr_assert_eq(blob[5 + params_len], id_len);
    cr_assert_eq(memcmp(blob + 6 + params_len, wallet_id, id_len), 0);
    const uint8_t *iv = blob + aad_len + 16; /* after the key-check value */
    const uint8_t *lenp = iv + 12;
    size_t ct_len = ((size_t)lenp[0] << 24) | ((size_t)lenp[1] << 16) | ((size_t)lenp[2] << 8) |
                    lenp[3];
    const uint8_t *ct = lenp + 4;
    cr_assert_eq((size_t)(ct + ct_len - blob), blob_len);
    uint8_t tag[16];
    memcpy(tag, ct + ct_len - 16, 16);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0;
    int ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv) == 1 &&
             EVP_DecryptUpdate(c, NULL, &len, blob, (int)aad_len) == 1 &&
             (ct_len == 16 || EVP_DecryptUpdate(c, plain, &len, ct, (int)ct_len - 16) == 1) &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
             EVP_DecryptFinal_ex(c, plain + (ct_len - 16), &len) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok;
}
