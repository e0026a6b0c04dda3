/* mpc_runner.c - in-process two-party runs and fixtures (see mpc_runner.h). */
#include "support/mpc_runner.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "mpc/cosigner.h"
#include "mpc/share.h"

/* --- fixtures -------------------------------------------------------------- */

static int fixture_path(char *out, size_t n, const char *name)
{
    char dir[PATH_MAX];
    const char *env = getenv("PB_BINARY_DIR");
    if (env && *env) {
        if ((size_t)snprintf(dir, sizeof dir, "%s/test-fixtures", env) >= sizeof dir)
            return 0;
    } else {
        char exe[PATH_MAX];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (len <= 0)
            return 0;
        exe[len] = '\0';
        for (int up = 0; up < 2; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash)
                return 0;
            *slash = '\0';
        }
        if ((size_t)snprintf(dir, sizeof dir, "%s/test-fixtures", exe) >= sizeof dir)
            return 0;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return 0;
    return (size_t)snprintf(out, n, "%s/%s", dir, name) < n;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *grown = realloc(buf, cap);
            cr_assert_not_null(grown);
            buf = grown;
        }
        size_t got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    return buf;
}

static void spill(const char *path, const uint8_t *buf, size_t len)
{
    char tmp[PATH_MAX + 128];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return;
    int ok = fwrite(buf, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
}

/* Loads or makes one cached blob; make() returns a malloc'd buffer. */
static uint8_t *cached(const char *name, uint8_t *(*make)(int bits, size_t *len), int bits,
                       size_t *len)
{
    char path[PATH_MAX + 64];
    int have_path = fixture_path(path, sizeof path, name);
    uint8_t *buf = have_path ? slurp(path, len) : NULL;
    if (buf && *len > 0)
        return buf;
    free(buf);
    buf = make(bits, len);
    if (have_path)
        spill(path, buf, *len);
    return buf;
}

/* Makes the blob again and overwrites the cache. */
static uint8_t *refresh_cache(const char *name, uint8_t *(*make)(int bits, size_t *len),
                              int bits, size_t *len)
{
    char path[PATH_MAX + 64];
    uint8_t *buf = make(bits, len);
    if (fixture_path(path, sizeof path, name))
        spill(path, buf, *len);
    return buf;
}

static uint8_t *make_params(int bits, size_t *len)
{
    pb_cosigner_params *p;
    uint8_t *enc;
    cr_assert_eq(pb_cosigner_params_generate(&p, bits, NULL, NULL), PB_OK, "%s",
                 pb_last_error());
    cr_assert_eq(pb_cosigner_params_serialize(p, &enc, len), PB_OK);
    pb_cosigner_params_free(p);
    uint8_t *copy = malloc(*len);
    cr_assert_not_null(copy);
    memcpy(copy, enc, *len);
    pb_mpc_bytes_free(enc, *len);
    return copy;
}

pb_cosigner_params *mpc_fx_cosigner(int bits) { return mpc_fx_cosigner_slot(bits, 0); }

pb_cosigner_params *mpc_fx_cosigner_slot(int bits, int slot)
{
    char name[64];
    size_t len;
    if (slot == 0)
        snprintf(name, sizeof name, "mpc-cosigner-%d.bin", bits);
    else
        snprintf(name, sizeof name, "mpc-cosigner-%d-%d.bin", bits, slot);
    uint8_t *buf = cached(name, make_params, bits, &len);
    pb_cosigner_params *p;
    if (pb_cosigner_params_parse(&p, buf, len) != PB_OK) {
        /* A cache written by an older build: make it again. */
        free(buf);
        buf = refresh_cache(name, make_params, bits, &len);
        cr_assert_eq(pb_cosigner_params_parse(&p, buf, len), PB_OK, "cosigner fixture: %s",
                     pb_last_error());
    }
    free(buf);
    return p;
}

/* The export is made fresh from the cached parameters (cheap next to its
 * verification), so it always matches them. */
pb_cosigner_public *mpc_fx_cosigner_public(int bits)
{
    return mpc_fx_cosigner_public_slot(bits, 0);
}

static pb_cosigner_public *public_of(const pb_cosigner_params *p)
{
    uint8_t *enc;
    size_t len;
    cr_assert_eq(pb_cosigner_params_export(p, &enc, &len), PB_OK, "%s", pb_last_error());
    pb_cosigner_public *pub;
    cr_assert_eq(pb_cosigner_public_parse(&pub, enc, len), PB_OK, "cosigner export: %s",
                 pb_last_error());
    pb_mpc_bytes_free(enc, len);
    return pub;
}

pb_cosigner_public *mpc_fx_cosigner_public_slot(int bits, int slot)
{
    pb_cosigner_params *p = mpc_fx_cosigner_slot(bits, slot);
    pb_cosigner_public *pub = public_of(p);
    pb_cosigner_params_free(p);
    return pub;
}

static int wallet_load(const char *name, pb_share_p1 **s1, pb_share_p2 **s2)
{
    char path[PATH_MAX + 64];
    size_t len;
    uint8_t *buf = fixture_path(path, sizeof path, name) ? slurp(path, &len) : NULL;
    if (!buf)
        return 0;
    /* u32 length of P1's record, P1's record, P2's record. */
    int ok = 0;
    if (len > 4) {
        size_t n1 = ((size_t)buf[0] << 24) | ((size_t)buf[1] << 16) | ((size_t)buf[2] << 8) | buf[3];
        ok = n1 < len - 4 && pb_share_p1_parse(s1, buf + 4, n1) == PB_OK &&
             pb_share_p2_parse(s2, buf + 4 + n1, len - 4 - n1) == PB_OK;
        if (!ok) {
            pb_share_p1_free(*s1);
            *s1 = NULL;
        }
    }
    free(buf);
    return ok;
}

/* 1 if P1's record was made against the cosigner parameters cached now. A
 * wallet outlives the parameters when those are made again (a cache from an
 * older build, or two test processes racing on a cold cache, the last
 * rename winning): its records then name a N^ that P2 no longer holds, and
 * every refresh fails Pi^fac. */
static int wallet_matches_cosigner(const pb_share_p1 *s1, const pb_cosigner_params *params)
{
    return BN_cmp(s1->cosigner->n_hat, pb_rped_public_of(params->sec)->n_hat) == 0;
}

void mpc_fx_wallet(int bits, int slot, pb_share_p1 **s1, pb_share_p2 **s2)
{
    char name[64];
    snprintf(name, sizeof name, "mpc-wallet-%d-%d.bin", bits, slot);
    pb_cosigner_params *params = mpc_fx_cosigner(bits);
    if (wallet_load(name, s1, s2)) {
        if (wallet_matches_cosigner(*s1, params)) {
            pb_cosigner_params_free(params);
            return;
        }
        pb_share_p1_free(*s1);
        pb_share_p2_free(*s2);
        *s1 = NULL;
        *s2 = NULL;
    }
    /* The export from these very parameters: the file may be rewritten
     * meanwhile by a process racing on a cold cache. */
    pb_cosigner_public *pub = public_of(params);
    mpc_result r = mpc_run_dkg(params, pub, bits, NULL, s1, s2);
    cr_assert_eq(r.status, PB_OK, "wallet fixture: %s", pb_last_error());
    pb_cosigner_params_free(params);
    pb_cosigner_public_free(pub);
    uint8_t *a, *b;
    size_t alen, blen;
    cr_assert_eq(pb_share_p1_serialize(*s1, &a, &alen), PB_OK);
    cr_assert_eq(pb_share_p2_serialize(*s2, &b, &blen), PB_OK);
    uint8_t *all = malloc(4 + alen + blen);
    cr_assert_not_null(all);
    all[0] = (uint8_t)(alen >> 24);
    all[1] = (uint8_t)(alen >> 16);
    all[2] = (uint8_t)(alen >> 8);
    all[3] = (uint8_t)alen;
    memcpy(all + 4, a, alen);
    memcpy(all + 4 + alen, b, blen);
    char path[PATH_MAX + 64];
    if (fixture_path(path, sizeof path, name))
        spill(path, all, 4 + alen + blen);
    free(all);
    pb_mpc_bytes_free(a, alen);
    pb_mpc_bytes_free(b, blen);
}

int mpc_env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    return (*end == '\0' && n > 0 && n < 1000000) ? (int)n : dflt;
}

/* --- message delivery -------------------------------------------------------- */

/* Runs the hook; 0 if the message was dropped. */
static int deliver(const mpc_opts *opts, int protocol, int msg_no, uint8_t **msg, size_t *len)
{
    if (opts && opts->stop_after && msg_no > opts->stop_after) {
        pb_mpc_bytes_free(*msg, *len);
        *msg = NULL;
        return 0;
    }
    if (opts && opts->hook)
        opts->hook(opts->hook_ctx, protocol, msg_no, msg, len);
    return *msg != NULL;
}

static mpc_result ok_result(void)
{
    mpc_result r = {PB_OK, 0, 0};
    return r;
}

static mpc_result fail_result(pb_status st, int party, int msg_no)
{
    mpc_result r = {st, party, msg_no};
    return r;
}

static mpc_result dropped(int msg_no)
{
    mpc_result r = {PB_ERR_STATE, 0, msg_no};
    return r;
}

/* One hop: `st` is the status of the step that produced msg (number
 * msg_no - 1 is what the step consumed). */
#define STEP(call, party, no)                                                                  \
    do {                                                                                       \
        pb_status st_ = (call);                                                                \
        if (st_ != PB_OK) {                                                                    \
            res = fail_result(st_, party, no);                                                 \
            goto done;                                                                         \
        }                                                                                      \
    } while (0)

#define HOP(protocol, no)                                                                      \
    do {                                                                                       \
        if (!deliver(opts, protocol, no, &msg, &len)) {                                        \
            res = dropped(no);                                                                 \
            goto done;                                                                         \
        }                                                                                      \
    } while (0)

#define RELEASE()                                                                              \
    do {                                                                                       \
        pb_mpc_bytes_free(msg, len);                                                           \
        msg = NULL;                                                                            \
        len = 0;                                                                               \
    } while (0)

mpc_result mpc_run_dkg(const pb_cosigner_params *params, const pb_cosigner_public *pub,
                       int bits, const mpc_opts *opts, pb_share_p1 **s1, pb_share_p2 **s2)
{
    mpc_result res = ok_result();
    pb_dkg_p1 *p1 = NULL;
    pb_dkg_p2 *p2 = NULL;
    uint8_t *msg = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    *s1 = NULL;
    *s2 = NULL;
    STEP(pb_dkg_p1_new(&p1, pub, bits), 1, 0);
    STEP(pb_dkg_p2_new(&p2, params, bits), 2, 0);
    STEP(pb_dkg_p1_start(p1, &msg, &len), 1, 1);
    HOP(1, 1);
    STEP(pb_dkg_p2_step(p2, msg, len, &reply, &reply_len), 2, 1);
    RELEASE();
    msg = reply, len = reply_len, reply = NULL;
    HOP(1, 2);
    STEP(pb_dkg_p1_step(p1, msg, len, &reply, &reply_len), 1, 2);
    RELEASE();
    msg = reply, len = reply_len, reply = NULL;
    HOP(1, 3);
    STEP(pb_dkg_p2_step(p2, msg, len, &reply, &reply_len), 2, 3);
    RELEASE();
    msg = reply, len = reply_len, reply = NULL;
    STEP(pb_dkg_p2_take_share(p2, s2), 2, 3);
    HOP(1, 4);
    STEP(pb_dkg_p1_step(p1, msg, len, &reply, &reply_len), 1, 4);
    cr_assert_null(reply, "dkg p1 answered message 4");
    STEP(pb_dkg_p1_take_share(p1, s1), 1, 4);
done:
    pb_mpc_bytes_free(msg, len);
    pb_mpc_bytes_free(reply, reply_len);
    pb_dkg_p1_free(p1);
    pb_dkg_p2_free(p2);
    if (res.status != PB_OK) {
        pb_share_p1_free(*s1);
        pb_share_p2_free(*s2);
        *s1 = NULL;
        *s2 = NULL;
    }
    return res;
}

mpc_result mpc_run_sign(pb_share_p1 *s1, const pb_share_p2 *s2,
                        const uint8_t digest[PB_MPC_DIGEST_BYTES], const uint32_t *path,
                        size_t path_len, const mpc_opts *opts,
                        uint8_t sig[PB_MPC_SIGNATURE_BYTES], int *recid)
{
    mpc_result res = ok_result();
    pb_sign_p1 *p1 = NULL;
    pb_sign_p2 *p2 = NULL;
    uint8_t *msg = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    STEP(pb_sign_p1_new(&p1, s1, digest, path, path_len), 1, 0);
    STEP(pb_sign_p2_new(&p2, s2), 2, 0);
    STEP(pb_sign_p1_start(p1, &msg, &len), 1, 1);
    HOP(2, 1);
    STEP(pb_sign_p2_step(p2, msg, len, &reply, &reply_len), 2, 1);
    cr_assert_null(reply, "sign p2 answered message 1 before approval");
    RELEASE();
    {
        /* What P2's policy would see is exactly the request P1 made. */
        uint8_t d[PB_MPC_DIGEST_BYTES], pk[PB_MPC_PUBKEY_BYTES], want[PB_MPC_PUBKEY_BYTES];
        uint32_t p[PB_BIP32_MAX_DEPTH];
        size_t n;
        STEP(pb_sign_p2_request(p2, d, p, PB_BIP32_MAX_DEPTH, &n, pk), 2, 1);
        cr_assert(memcmp(d, digest, sizeof d) == 0);
        cr_assert_eq(n, path_len);
        cr_assert(n == 0 || memcmp(p, path, n * sizeof *p) == 0);
        mpc_derived_pubkey(s1, path, path_len, want);
        cr_assert(memcmp(pk, want, sizeof pk) == 0);
    }
    STEP(pb_sign_p2_approve(p2, &msg, &len), 2, 2);
    if (opts && opts->warm)
        STEP(pb_sign_p2_precompute(p2), 2, 2);
    HOP(2, 2);
    STEP(pb_sign_p1_step(p1, msg, len, &reply, &reply_len), 1, 2);
    RELEASE();
    msg = reply, len = reply_len, reply = NULL;
    HOP(2, 3);
    STEP(pb_sign_p2_step(p2, msg, len, &reply, &reply_len), 2, 3);
    RELEASE();
    msg = reply, len = reply_len, reply = NULL;
    HOP(2, 4);
    STEP(pb_sign_p1_step(p1, msg, len, &reply, &reply_len), 1, 4);
    cr_assert_null(reply, "sign p1 answered message 4");
    STEP(pb_sign_p1_signature(p1, sig, recid), 1, 4);
done:
    pb_mpc_bytes_free(msg, len);
    pb_mpc_bytes_free(reply, reply_len);
    pb_sign_p1_free(p1);
    pb_sign_p2_free(p2);
    return res;
}

mpc_result mpc_run_refresh(const pb_share_p1 *s1, const pb_share_p2 *s2,
                           const pb_cosigner_params *params, int bits, const mpc_opts *opts,
                           pb_share_p1 **n1, pb_share_p2 **n2)
{
    mpc_result res = ok_result();
    pb_refresh_p1 *p1 = NULL;
    pb_refresh_p2 *p2 = NULL;
    uint8_t *msg = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    *n1 = NULL;
    *n2 = NULL;
    STEP(pb_refresh_p1_new(&p1, s1, NULL, bits), 1, 0);
    STEP(pb_refresh_p2_new(&p2, s2, params, bits), 2, 0);
    STEP(pb_refresh_p1_start(p1, &msg, &len), 1, 1);
    HOP(3, 1);
    STEP(pb_refresh_p2_step(p2, msg, len, &reply, &reply_len), 2, 1);
    RELEASE();
    msg = reply, len = reply_len, reply = NULL;
    HOP(3, 2);
    STEP(pb_refresh_p1_step(p1, msg, len, &reply, &reply_len), 1, 2);
    RELEASE();
    msg = reply, len = reply_len, reply = NULL;
    HOP(3, 3);
    STEP(pb_refresh_p2_step(p2, msg, len, &reply, &reply_len), 2, 3);
    RELEASE();
    msg = reply, len = reply_len, reply = NULL;
    STEP(pb_refresh_p2_take_share(p2, n2), 2, 3);
    HOP(3, 4);
    STEP(pb_refresh_p1_step(p1, msg, len, &reply, &reply_len), 1, 4);
    cr_assert_null(reply, "refresh p1 answered message 4");
    STEP(pb_refresh_p1_take_share(p1, n1), 1, 4);
done:
    pb_mpc_bytes_free(msg, len);
    pb_mpc_bytes_free(reply, reply_len);
    pb_refresh_p1_free(p1);
    pb_refresh_p2_free(p2);
    if (res.status != PB_OK) {
        pb_share_p1_free(*n1);
        pb_share_p2_free(*n2);
        *n1 = NULL;
        *n2 = NULL;
    }
    return res;
}

/* --- independent checks ------------------------------------------------------- */

void mpc_derived_pubkey(const pb_share_p1 *s1, const uint32_t *path, size_t path_len,
                        uint8_t out[PB_MPC_PUBKEY_BYTES])
{
    char xpub[PB_MPC_XPUB_SIZE], child[PB_MPC_XPUB_SIZE];
    cr_assert_eq(pb_share_p1_xpub(s1, xpub), PB_OK);
    cr_assert_eq(pb_bip32_xpub_derive(xpub, path, path_len, child), PB_OK, "%s",
                 pb_last_error());
    cr_assert_eq(pb_bip32_xpub_public_key(child, out), PB_OK);
}

static const secp256k1_context *verify_ctx(void)
{
    static secp256k1_context *ctx;
    if (!ctx)
        ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    return ctx;
}

/* (q - 1) / 2 */
static const uint8_t HALF_ORDER[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

static void openssl_verify(const uint8_t pubkey[33], const uint8_t digest[32],
                           const uint8_t sig[64])
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    cr_assert_not_null(bld);
    cr_assert(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "secp256k1", 0));
    cr_assert(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pubkey, 33));
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *fctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    cr_assert(params && fctx);
    cr_assert_eq(EVP_PKEY_fromdata_init(fctx), 1);
    cr_assert_eq(EVP_PKEY_fromdata(fctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);

    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    cr_assert(es && r && s && ECDSA_SIG_set0(es, r, s));
    unsigned char *der = NULL;
    int der_len = i2d_ECDSA_SIG(es, &der);
    cr_assert_gt(der_len, 0);

    EVP_PKEY_CTX *vctx = EVP_PKEY_CTX_new(pkey, NULL);
    cr_assert_not_null(vctx);
    cr_assert_eq(EVP_PKEY_verify_init(vctx), 1);
    cr_assert_eq(EVP_PKEY_verify(vctx, der, (size_t)der_len, digest, 32), 1,
                 "OpenSSL EVP rejects the signature");
    EVP_PKEY_CTX_free(vctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(fctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
}

void mpc_check_signature(const uint8_t pubkey[PB_MPC_PUBKEY_BYTES],
                         const uint8_t digest[PB_MPC_DIGEST_BYTES],
                         const uint8_t sig[PB_MPC_SIGNATURE_BYTES], int recid)
{
    const secp256k1_context *ctx = verify_ctx();
    secp256k1_pubkey pk, rec;
    secp256k1_ecdsa_signature es;
    cr_assert(secp256k1_ec_pubkey_parse(ctx, &pk, pubkey, 33));
    cr_assert(secp256k1_ecdsa_signature_parse_compact(ctx, &es, sig));
    /* libsecp256k1 verification accepts low-s only. */
    cr_assert(secp256k1_ecdsa_verify(ctx, &es, digest, &pk), "libsecp256k1 rejects the signature");
    cr_assert(memcmp(sig + 32, HALF_ORDER, 32) <= 0, "s is not low");
    openssl_verify(pubkey, digest, sig);

    cr_assert(recid >= 0 && recid <= 3, "recovery id %d", recid);
    secp256k1_ecdsa_recoverable_signature rs;
    cr_assert(secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, sig, recid));
    cr_assert(secp256k1_ecdsa_recover(ctx, &rec, &rs, digest));
    uint8_t got[33];
    size_t got_len = sizeof got;
    cr_assert(secp256k1_ec_pubkey_serialize(ctx, got, &got_len, &rec, SECP256K1_EC_COMPRESSED));
    cr_assert(memcmp(got, pubkey, 33) == 0, "recovery id %d does not recover the key", recid);
}
