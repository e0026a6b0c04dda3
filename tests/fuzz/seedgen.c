/* seedgen.c - fuzz_seedgen CORPUS [CACHE]: makes the fixture world of the
 * fuzz targets and their seed corpora from honest runs of the code itself.
 *
 *   CORPUS/fixtures/     cosigner parameters and export, one wallet's share
 *                        records, the first message of each protocol, the
 *                        custody keys (see harness.h for the names)
 *   CORPUS/fuzz_<t>/     seeds for target <t>: a control byte (which parser)
 *                        followed by an honest message or record
 *
 * The two slow items, the cosigner's safe primes and the RSA-3072 backup
 * key, are kept in CACHE between runs (they protect nothing); everything
 * else is made fresh, so the seeds always match the current encodings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/bytes.h"
#include "custody/backup.h"
#include "custody/org_secret.h"
#include "custody/pin.h"
#include "custody/recovery_code.h"
#include "harness.h"
#include "pkcs11/blob_format.h"

typedef struct msgs {
    uint8_t *m[5]; /* m[1]..m[4] */
    size_t len[5];
} msgs;

static void msgs_free(msgs *ms)
{
    for (int i = 0; i < 5; i++)
        pb_mpc_bytes_free(ms->m[i], ms->len[i]);
    memset(ms, 0, sizeof *ms);
}

static char corpus[4096];

static void make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "seedgen: cannot create %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

static void put(const char *sub, const char *name, const uint8_t *buf, size_t len)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", corpus, sub);
    make_dir(dir);
    if (fz_write_file(dir, name, buf, len) != 0) {
        fprintf(stderr, "seedgen: cannot write %s/%s\n", dir, name);
        exit(2);
    }
}

/* A seed: the control byte, then the bytes. */
static void seed(const char *target, uint8_t control, const uint8_t *buf, size_t len)
{
    static int counter;
    uint8_t *s = malloc(len + 1);
    if (!s)
        exit(2);
    s[0] = control;
    memcpy(s + 1, buf, len);
    char name[64];
    snprintf(name, sizeof name, "seed-%03d-%02x", counter++, control);
    put(target, name, s, len + 1);
    free(s);
}

static void on_progress(void *ctx, const char *what, int candidates)
{
    (void)ctx;
    if (candidates % 500 == 0)
        fprintf(stderr, "seedgen: safe prime %s, %d candidates\n", what, candidates);
}

static pb_cosigner_params *cosigner(const char *cache)
{
    pb_cosigner_params *params = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/cosigner-%d.params", cache, FZ_BITS);
    FILE *f = fopen(path, "rb");
    if (f) {
        static uint8_t buf[1 << 16];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        if (pb_cosigner_params_parse(&params, buf, len) == PB_OK)
            return params;
    }
    fprintf(stderr, "seedgen: generating %d-bit cosigner parameters (cached in %s)\n",
            FZ_BITS, cache);
    fz_check(pb_cosigner_params_generate(&params, FZ_BITS, on_progress, NULL),
             "generate cosigner parameters");
    uint8_t *enc;
    size_t enc_len;
    fz_check(pb_cosigner_params_serialize(params, &enc, &enc_len), "serialize parameters");
    if (fz_write_file(cache, strrchr(path, '/') + 1, enc, enc_len) != 0)
        fprintf(stderr, "seedgen: warning: cannot cache %s\n", path);
    pb_mpc_bytes_free(enc, enc_len);
    return params;
}

/* RSA-3072 key pair for the backup target, PEM files in the cache. */
static void backup_keys(const char *cache, char *key_path, char *pub_path, size_t cap)
{
    snprintf(key_path, cap, "%s/%s", cache, FZ_BACKUP_KEY);
    snprintf(pub_path, cap, "%s/%s", cache, FZ_BACKUP_PUB);
    FILE *k = fopen(key_path, "r"), *p = fopen(pub_path, "r");
    if (k && p) {
        fclose(k);
        fclose(p);
        return;
    }
    if (k)
        fclose(k);
    if (p)
        fclose(p);
    EVP_PKEY *pkey = EVP_RSA_gen(3072);
    k = pkey ? fopen(key_path, "w") : NULL;
    p = k ? fopen(pub_path, "w") : NULL;
    int ok = p && PEM_write_PrivateKey(k, pkey, NULL, NULL, 0, NULL, NULL) &&
             PEM_write_PUBKEY(p, pkey);
    if (k)
        fclose(k);
    if (p)
        fclose(p);
    EVP_PKEY_free(pkey);
    if (!ok) {
        fprintf(stderr, "seedgen: cannot make the backup key pair\n");
        exit(2);
    }
}

static void copy_file(const char *from, const char *to_name)
{
    FILE *f = fopen(from, "rb");
    static uint8_t buf[1 << 16];
    size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    if (!len) {
        fprintf(stderr, "seedgen: cannot read %s\n", from);
        exit(2);
    }
    put("fixtures", to_name, buf, len);
}

static void run_dkg(const pb_cosigner_params *params, const pb_cosigner_public *pub, msgs *ms,
                    pb_share_p1 **s1, pb_share_p2 **s2)
{
    pb_dkg_p1 *p1;
    pb_dkg_p2 *p2;
    uint8_t *none;
    size_t none_len;
    fz_check(pb_dkg_p1_new(&p1, pub, FZ_BITS), "dkg p1 new");
    fz_check(pb_dkg_p2_new(&p2, params, FZ_BITS), "dkg p2 new");
    fz_check(pb_dkg_p1_start(p1, &ms->m[1], &ms->len[1]), "dkg m1");
    fz_check(pb_dkg_p2_step(p2, ms->m[1], ms->len[1], &ms->m[2], &ms->len[2]), "dkg m2");
    fz_check(pb_dkg_p1_step(p1, ms->m[2], ms->len[2], &ms->m[3], &ms->len[3]), "dkg m3");
    fz_check(pb_dkg_p2_step(p2, ms->m[3], ms->len[3], &ms->m[4], &ms->len[4]), "dkg m4");
    fz_check(pb_dkg_p1_step(p1, ms->m[4], ms->len[4], &none, &none_len), "dkg end");
    fz_check(pb_dkg_p1_take_share(p1, s1), "dkg p1 share");
    fz_check(pb_dkg_p2_take_share(p2, s2), "dkg p2 share");
    pb_dkg_p1_free(p1);
    pb_dkg_p2_free(p2);
}

static void run_sign(pb_share_p1 *s1, const pb_share_p2 *s2, const uint32_t *path,
                     size_t path_len, msgs *ms)
{
    uint8_t digest[PB_MPC_DIGEST_BYTES], sig[PB_MPC_SIGNATURE_BYTES];
    memset(digest, 0x42, sizeof digest);
    pb_sign_p1 *p1;
    pb_sign_p2 *p2;
    uint8_t *none;
    size_t none_len;
    int recid;
    fz_check(pb_sign_p1_new(&p1, s1, digest, path, path_len), "sign p1 new");
    fz_check(pb_sign_p2_new(&p2, s2), "sign p2 new");
    fz_check(pb_sign_p1_start(p1, &ms->m[1], &ms->len[1]), "sign m1");
    fz_check(pb_sign_p2_step(p2, ms->m[1], ms->len[1], &none, &none_len), "sign request");
    fz_check(pb_sign_p2_approve(p2, &ms->m[2], &ms->len[2]), "sign m2");
    fz_check(pb_sign_p1_step(p1, ms->m[2], ms->len[2], &ms->m[3], &ms->len[3]), "sign m3");
    fz_check(pb_sign_p2_step(p2, ms->m[3], ms->len[3], &ms->m[4], &ms->len[4]), "sign m4");
    fz_check(pb_sign_p1_step(p1, ms->m[4], ms->len[4], &none, &none_len), "sign end");
    fz_check(pb_sign_p1_signature(p1, sig, &recid), "signature");
    pb_sign_p1_free(p1);
    pb_sign_p2_free(p2);
}

static void run_refresh(const pb_share_p1 *s1, const pb_share_p2 *s2,
                        const pb_cosigner_params *params, msgs *ms, pb_share_p1 **n1,
                        pb_share_p2 **n2)
{
    pb_refresh_p1 *p1;
    pb_refresh_p2 *p2;
    uint8_t *none;
    size_t none_len;
    fz_check(pb_refresh_p1_new(&p1, s1, NULL, FZ_BITS), "refresh p1 new");
    fz_check(pb_refresh_p2_new(&p2, s2, params, FZ_BITS), "refresh p2 new");
    fz_check(pb_refresh_p1_start(p1, &ms->m[1], &ms->len[1]), "refresh m1");
    fz_check(pb_refresh_p2_step(p2, ms->m[1], ms->len[1], &ms->m[2], &ms->len[2]), "refresh m2");
    fz_check(pb_refresh_p1_step(p1, ms->m[2], ms->len[2], &ms->m[3], &ms->len[3]), "refresh m3");
    fz_check(pb_refresh_p2_step(p2, ms->m[3], ms->len[3], &ms->m[4], &ms->len[4]), "refresh m4");
    fz_check(pb_refresh_p1_step(p1, ms->m[4], ms->len[4], &none, &none_len), "refresh end");
    fz_check(pb_refresh_p1_take_share(p1, n1), "refresh p1 share");
    fz_check(pb_refresh_p2_take_share(p2, n2), "refresh p2 share");
    pb_refresh_p1_free(p1);
    pb_refresh_p2_free(p2);
}

static void share_seeds(const pb_share_p1 *s1, const pb_share_p2 *s2)
{
    uint8_t *b;
    size_t len;
    fz_check(pb_share_p1_serialize(s1, &b, &len), "serialize P1 share");
    seed("fuzz_share", 0, b, len);
    pb_mpc_bytes_free(b, len);
    fz_check(pb_share_p2_serialize(s2, &b, &len), "serialize P2 share");
    seed("fuzz_share", 1, b, len);
    pb_mpc_bytes_free(b, len);
}

static void custody_seeds(const uint8_t *plain, size_t plain_len, const char *key_path,
                          const char *pub_path)
{
    uint8_t *b;
    size_t len;
    uint8_t org[PB_ORG_SECRET_BYTES], pin_key[PB_PIN_KEY_BYTES];
    memset(org, FZ_ORG_SECRET_BYTE, sizeof org);
    memset(pin_key, FZ_PIN_KEY_BYTE, sizeof pin_key);

    fz_check(pb_org_wrap(org, FZ_WALLET_ID, plain, plain_len, &b, &len), "org wrap");
    seed("fuzz_custody", 0, b, len);
    pb_bytes_free(b, len);

    pb_kdf_params kdf;
    pb_kdf_params_default(&kdf);
    fz_check(pb_pin_wrap(pin_key, &kdf, FZ_WALLET_ID, plain, plain_len, &b, &len), "pin wrap");
    seed("fuzz_custody", 1, b, len);
    pb_bytes_free(b, len);

    char code[PB_RECOVERY_CODE_MAX];
    fz_check(pb_recovery_code_new(code), "recovery code");
    put("fixtures", FZ_RECOVERY_CODE, (const uint8_t *)code, strlen(code));
    fz_check(pb_recovery_wrap(code, FZ_WALLET_ID, plain, plain_len, &b, &len), "recovery wrap");
    seed("fuzz_custody", 2, b, len);
    pb_bytes_free(b, len);

    fz_check(pb_backup_seal(pub_path, plain, plain_len, &b, &len), "backup seal");
    seed("fuzz_custody", 4, b, len);
    pb_bytes_free(b, len);
    copy_file(key_path, FZ_BACKUP_KEY);
    copy_file(pub_path, FZ_BACKUP_PUB);

    seed("fuzz_custody", 5, (const uint8_t *)code, strlen(code));
}

static void blob_seeds(const uint8_t *ct, size_t ct_len)
{
    pb_blob_ref ref = {FZ_WALLET_ID, 1, PB_BLOB_SHARE};
    uint8_t iv[PB_GCM_IV_BYTES];
    memset(iv, 7, sizeof iv);
    uint8_t *b;
    size_t len;
    fz_check(pb_blob_encode(&ref, "planbok-kek", iv, ct, ct_len, &b, &len), "blob encode");
    seed("fuzz_blob", 0, b, len);
    seed("fuzz_blob", 1, b, len);
    pb_bytes_free(b, len);
}

static void bip32_seeds(const pb_share_p1 *s1)
{
    char xpub[PB_MPC_XPUB_SIZE];
    fz_check(pb_share_p1_xpub(s1, xpub), "xpub");
    put("fixtures", FZ_XPUB, (const uint8_t *)xpub, strlen(xpub));
    const char *path = "m/44/60/0/0/7";
    seed("fuzz_bip32", 0, (const uint8_t *)path, strlen(path));
    seed("fuzz_bip32", 1, (const uint8_t *)xpub, strlen(xpub));
    seed("fuzz_bip32", 2, (const uint8_t *)xpub, strlen(xpub));
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: fuzz_seedgen CORPUS_DIR [CACHE_DIR]\n");
        return 2;
    }
    snprintf(corpus, sizeof corpus, "%s", argv[1]);
    const char *cache = argc == 3 ? argv[2] : argv[1];
    make_dir(corpus);
    make_dir(cache);

    pb_cosigner_params *params = cosigner(cache);
    uint8_t *b;
    size_t len;
    fz_check(pb_cosigner_params_serialize(params, &b, &len), "serialize parameters");
    put("fixtures", FZ_COSIGNER_PARAMS, b, len);
    seed("fuzz_cosigner", 0, b, len);
    pb_mpc_bytes_free(b, len);
    fz_check(pb_cosigner_params_export(params, &b, &len), "export parameters");
    put("fixtures", FZ_COSIGNER_EXPORT, b, len);
    seed("fuzz_cosigner", 1, b, len);
    pb_cosigner_public *pub;
    fz_check(pb_cosigner_public_parse(&pub, b, len), "parse export");
    pb_mpc_bytes_free(b, len);

    msgs ms = {0};
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    run_dkg(params, pub, &ms, &s1, &s2);
    put("fixtures", FZ_DKG_M1, ms.m[1], ms.len[1]);
    for (int i = 1; i <= 4; i++)
        seed("fuzz_dkg", (uint8_t)(i - 1), ms.m[i], ms.len[i]);
    seed("fuzz_dkg", 4, ms.m[3], ms.len[3]);
    msgs_free(&ms);

    fz_check(pb_share_p1_serialize(s1, &b, &len), "serialize P1 share");
    put("fixtures", FZ_SHARE_P1, b, len);
    pb_mpc_bytes_free(b, len);
    fz_check(pb_share_p2_serialize(s2, &b, &len), "serialize P2 share");
    put("fixtures", FZ_SHARE_P2, b, len);
    blob_seeds(b, len);
    pb_mpc_bytes_free(b, len);
    share_seeds(s1, s2);
    bip32_seeds(s1);

    /* The P2-side sign target replays this m1, and the seed m3 opens its
     * commitment. A derived path exercises the path fields. */
    const uint32_t path[5] = {44, 60, 0, 0, 7};
    run_sign(s1, s2, path, 5, &ms);
    put("fixtures", FZ_SIGN_M1, ms.m[1], ms.len[1]);
    for (int i = 1; i <= 4; i++)
        seed("fuzz_sign", (uint8_t)(i - 1), ms.m[i], ms.len[i]);
    seed("fuzz_sign", 4, ms.m[3], ms.len[3]);
    msgs_free(&ms);

    pb_share_p1 *r1;
    pb_share_p2 *r2;
    run_refresh(s1, s2, params, &ms, &r1, &r2);
    put("fixtures", FZ_REFRESH_M1, ms.m[1], ms.len[1]);
    for (int i = 1; i <= 4; i++)
        seed("fuzz_refresh", (uint8_t)(i - 1), ms.m[i], ms.len[i]);
    msgs_free(&ms);
    share_seeds(r1, r2);

    char key_path[4200], pub_path[4200];
    backup_keys(cache, key_path, pub_path, sizeof key_path);
    fz_check(pb_share_p1_serialize(s1, &b, &len), "serialize P1 share");
    custody_seeds(b, len, key_path, pub_path);
    pb_mpc_bytes_free(b, len);

    pb_share_p1_free(r1);
    pb_share_p2_free(r2);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
    pb_cosigner_public_free(pub);
    pb_cosigner_params_free(params);
    fprintf(stderr, "seedgen: fixtures and seeds written under %s\n", corpus);
    return 0;
}
