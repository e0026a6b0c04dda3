/* rped_fixture.c - disk-cached test keys for the proof suites (see the
 * header). Writes go to a temporary name and are renamed into place, so two
 * test processes racing on a cold cache both end with a whole file. Must
 * never be linked into the library: the ring-Pedersen parameters made here
 * are insecure on purpose (cheap random primes instead of safe primes).
 */
#include "support/rped_fixture.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>

#include "common/bytes.h"
#include "crypto/bn.h"

/* <build dir>/test-fixtures: from ctest's environment, else from the
 * executable's location (<build dir>/bin/test_x). Empty: no cache. */
static void cache_dir(char *out, size_t n)
{
    out[0] = '\0';
    const char *env = getenv("PB_BINARY_DIR");
    char exe[PATH_MAX];
    if (env && *env) {
        if ((size_t)snprintf(out, n, "%s/test-fixtures", env) >= n)
            out[0] = '\0';
    } else {
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (len <= 0)
            return;
        exe[len] = '\0';
        for (int up = 0; up < 2; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash)
                return;
            *slash = '\0';
        }
        if ((size_t)snprintf(out, n, "%s/test-fixtures", exe) >= n)
            out[0] = '\0';
    }
    if (mkdir(out, 0700) != 0 && errno != EEXIST)
        out[0] = '\0';
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    uint8_t *b = NULL;
    size_t cap = 0, used = 0;
    for (;;) {
        if (used == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(b, ncap);
            if (!nb) {
                free(b);
                fclose(f);
                return 0;
            }
            b = nb;
            cap = ncap;
        }
        size_t got = fread(b + used, 1, cap - used, f);
        used += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *buf = b;
    *len = used;
    return 1;
}

static void write_file_atomic(const char *path, const uint8_t *buf, size_t len)
{
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return;
    int ok = fwrite(buf, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
}

static void cache_path(char *out, size_t n, const char *name)
{
    char dir[PATH_MAX];
    cache_dir(dir, sizeof dir);
    if (!dir[0])
        out[0] = '\0';
    else if ((size_t)snprintf(out, n, "%s/%s", dir, name) >= n)
        out[0] = '\0';
}

static pb_rped_public *rped_alloc(void)
{
    pb_rped_public *rp = calloc(1, sizeof *rp);
    cr_assert_not_null(rp);
    rp->n_hat = BN_new();
    rp->s = BN_new();
    rp->t = BN_new();
    cr_assert(rp->n_hat && rp->s && rp->t);
    return rp;
}

void fx_rped_free(pb_rped_public *rp)
{
    if (!rp)
        return;
    BN_free(rp->n_hat);
    BN_free(rp->s);
    BN_free(rp->t);
    free(rp);
}

/* N^ = p*q from two random primes of bits/2 (top two bits set, so |N^| is
 * exact); t = tau^2, s = t^lambda for a random lambda. */
static pb_rped_public *rped_make(int bits)
{
    pb_rped_public *rp = rped_alloc();
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = BN_new(), *q = BN_new(), *phi = BN_new(), *tau = BN_new(),
           *lambda = BN_new();
    cr_assert(ctx && p && q && phi && tau && lambda);
    do {
        cr_assert(BN_generate_prime_ex(p, bits / 2, 0, NULL, NULL, NULL));
        cr_assert(BN_generate_prime_ex(q, bits / 2, 0, NULL, NULL, NULL));
        cr_assert(BN_mul(rp->n_hat, p, q, ctx));
    } while (BN_cmp(p, q) == 0 || BN_num_bits(rp->n_hat) != bits);
    cr_assert(BN_sub_word(p, 1) && BN_sub_word(q, 1) && BN_mul(phi, p, q, ctx));
    cr_assert_eq(pb_bn_random_unit(rp->n_hat, tau), PB_OK);
    cr_assert(BN_mod_sqr(rp->t, tau, rp->n_hat, ctx));
    cr_assert(BN_rand_range(lambda, phi));
    cr_assert(BN_mod_exp(rp->s, rp->t, lambda, rp->n_hat, ctx));
    rp->bits = bits;
    BN_free(p);
    BN_free(q);
    BN_free(phi);
    BN_free(tau);
    BN_clear_free(lambda);
    BN_CTX_free(ctx);
    return rp;
}

static pb_rped_public *rped_load(const char *path, int bits)
{
    uint8_t *buf;
    size_t len;
    if (!path[0] || !read_file(path, &buf, &len))
        return NULL;
    pb_rped_public *rp = rped_alloc();
    pb_reader r;
    pb_reader_init(&r, buf, len);
    size_t max = (size_t)bits / 8;
    int ok = pb_bn_decode(&r, max, rp->n_hat) == PB_OK && pb_bn_decode(&r, max, rp->s) == PB_OK &&
             pb_bn_decode(&r, max, rp->t) == PB_OK && pb_reader_finish(&r, "fixture") == PB_OK &&
             BN_num_bits(rp->n_hat) == bits;
    free(buf);
    if (!ok) {
        fx_rped_free(rp);
        return NULL;
    }
    rp->bits = bits;
    return rp;
}

pb_rped_public *fx_rped_public(int bits, int slot)
{
    char name[64], path[PATH_MAX + 80];
    snprintf(name, sizeof name, "rped-insecure-%d-%d.bin", bits, slot);
    cache_path(path, sizeof path, name);
    pb_rped_public *rp = rped_load(path, bits);
    if (rp)
        return rp;
    rp = rped_make(bits);
    if (path[0]) {
        pb_writer w;
        pb_writer_init(&w);
        pb_bn_encode(&w, rp->n_hat);
        pb_bn_encode(&w, rp->s);
        pb_bn_encode(&w, rp->t);
        uint8_t *out;
        size_t out_len;
        cr_assert_eq(pb_writer_finish(&w, &out, &out_len), PB_OK);
        write_file_atomic(path, out, out_len);
        pb_bytes_free(out, out_len);
    }
    return rp;
}

pb_paillier_private *fx_paillier(int bits, int slot)
{
    char name[64], path[PATH_MAX + 80];
    snprintf(name, sizeof name, "paillier-%d-%d.bin", bits, slot);
    cache_path(path, sizeof path, name);
    uint8_t *buf;
    size_t len;
    pb_paillier_private *sk = NULL;
    if (path[0] && read_file(path, &buf, &len)) {
        pb_reader r;
        pb_reader_init(&r, buf, len);
        if (pb_paillier_private_decode(&r, &sk) != PB_OK ||
            pb_reader_finish(&r, "fixture") != PB_OK ||
            pb_paillier_bits(pb_paillier_public_of(sk)) != bits) {
            pb_paillier_private_free(sk);
            sk = NULL;
        }
        pb_bytes_free(buf, len);
    }
    if (sk)
        return sk;
    cr_assert_eq(pb_paillier_generate(bits, &sk), PB_OK, "paillier fixture: %s",
                 pb_last_error());
    if (path[0]) {
        pb_writer w;
        pb_writer_init(&w);
        pb_paillier_private_encode(&w, sk);
        uint8_t *out;
        size_t out_len;
        cr_assert_eq(pb_writer_finish(&w, &out, &out_len), PB_OK);
        write_file_atomic(path, out, out_len);
        pb_bytes_free(out, out_len);
    }
    return sk;
}
