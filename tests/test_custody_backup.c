/* Admin-led recovery: hybrid RSA-OAEP-SHA256 + AES-256-GCM backups to an
 * offline recovery key. A 3072-bit key works, a 2048-bit or non-RSA key is
 * refused, the wrong private key is an authentication error, and any edit of
 * a backup is an integrity error. The data key is checked to be RSA-OAEP
 * with SHA-256/MGF1-SHA256 by decrypting it independently. Keys are cached
 * under <build>/test-fixtures (generated on first use). */
#include <criterion/criterion.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/bytes.h"
#include "common/secret.h"
#include "custody/backup.h"
#include "support/custody_fixture.h"

typedef struct keys {
    char dir[256];
    char pub[512], priv[512];
} keys;

static void rsa_keys(keys *k, int bits, int slot)
{
    cx_tmpdir(k->dir, sizeof k->dir);
    cx_rsa_key_paths(bits, slot, k->dir, k->pub, k->priv, sizeof k->pub);
}

static void seal(const keys *k, const uint8_t *plain, size_t n, uint8_t **blob, size_t *len)
{
    cr_assert_eq(pb_backup_seal(k->pub, plain, n, blob, len), PB_OK, "%s", pb_last_error());
}

Test(custody_backup, round_trip_with_a_3072_bit_recovery_key)
{
    keys k;
    rsa_keys(&k, 3072, 0);
    static uint8_t plain[5000];
    size_t sizes[] = {0, 1, 32, 4999, 5000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        cx_fill(plain, sizes[i], (unsigned)i);
        uint8_t *blob, *back;
        size_t blob_len, back_len;
        seal(&k, plain, sizes[i], &blob, &blob_len);
        cr_assert_eq(pb_backup_open(k.priv, blob, blob_len, &back, &back_len), PB_OK, "%s",
                     pb_last_error());
        cr_assert_eq(back_len, sizes[i]);
        cr_assert(sizes[i] == 0 || memcmp(back, plain, sizes[i]) == 0);
        pb_secret_free(back, back_len);
        pb_bytes_free(blob, blob_len);
    }
    cx_rmtree(k.dir);
}

Test(custody_backup, data_key_is_rsa_oaep_sha256_mgf1_sha256_and_data_is_aes_256_gcm)
{
    keys k;
    rsa_keys(&k, 3072, 0);
    uint8_t plain[100];
    cx_fill(plain, sizeof plain, 3);
    uint8_t *blob;
    size_t blob_len;
    seal(&k, plain, sizeof plain, &blob, &blob_len);

    /* Layout from backup.h: "PBBK" | 1 | fp[32] | u32 len, wrapped key |
     * iv[12] | u32 len, ct || tag. */
    cr_assert_eq(memcmp(blob, "PBBK", 4), 0);
    cr_assert_eq(blob[4], 1);
    size_t at = 5 + 32;
    size_t ek_len = (size_t)blob[at] << 24 | (size_t)blob[at + 1] << 16 |
                    (size_t)blob[at + 2] << 8 | blob[at + 3];
    cr_assert_eq(ek_len, 384, "one 3072-bit RSA block");
    const uint8_t *ek = blob + at + 4;
    size_t aad_len = at + 4 + ek_len;
    const uint8_t *iv = blob + aad_len;
    const uint8_t *ct = iv + 12 + 4;
    size_t ct_len = blob_len - (size_t)(ct - blob);
    cr_assert_eq(ct_len, sizeof plain + 16);

    FILE *f = fopen(k.priv, "r");
    cr_assert_not_null(f);
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    cr_assert_not_null(key);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
    uint8_t dk[384];
    size_t dk_len = sizeof dk;
    char *label = OPENSSL_strdup("planbok-backup-v1");
    cr_assert_eq(EVP_PKEY_decrypt_init(ctx), 1);
    cr_assert_eq(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING), 1);
    cr_assert_eq(EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, "SHA256", NULL), 1);
    cr_assert_eq(EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, "SHA256", NULL), 1);
    cr_assert_eq(EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, 17), 1);
    cr_assert_eq(EVP_PKEY_decrypt(ctx, dk, &dk_len, ek, ek_len), 1);
    cr_assert_eq(dk_len, 32, "an AES-256 data key");
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);

    uint8_t back[100], tag[16];
    memcpy(tag, ct + sizeof plain, 16);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len;
    cr_assert_eq(EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, dk, iv), 1);
    cr_assert_eq(EVP_DecryptUpdate(c, NULL, &len, blob, (int)aad_len), 1);
    cr_assert_eq(EVP_DecryptUpdate(c, back, &len, ct, (int)sizeof plain), 1);
    cr_assert_eq(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag), 1);
    cr_assert_eq(EVP_DecryptFinal_ex(c, back + len, &len), 1);
    EVP_CIPHER_CTX_free(c);
    cr_assert_eq(memcmp(back, plain, sizeof plain), 0);
    pb_bytes_free(blob, blob_len);
    cx_rmtree(k.dir);
}

Test(custody_backup, each_backup_uses_a_fresh_data_key_and_iv)
{
    keys k;
    rsa_keys(&k, 3072, 0);
    uint8_t plain[16] = {1};
    uint8_t *a, *b;
    size_t a_len, b_len;
    seal(&k, plain, sizeof plain, &a, &a_len);
    seal(&k, plain, sizeof plain, &b, &b_len);
    cr_assert_eq(a_len, b_len);
    cr_assert_eq(memcmp(a, b, 5 + 32), 0, "same header and recipient");
    cr_assert_neq(memcmp(a + 41, b + 41, 384), 0, "wrapped keys differ");
    cr_assert_neq(memcmp(a + 41 + 384, b + 41 + 384, 12), 0, "IVs differ");
    pb_bytes_free(a, a_len);
    pb_bytes_free(b, b_len);
    cx_rmtree(k.dir);
}

Test(custody_backup, rsa_keys_under_3072_bits_are_refused)
{
    keys k;
    rsa_keys(&k, 2048, 0);
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    cr_assert_eq(pb_backup_seal(k.pub, (const uint8_t *)"x", 1, &blob, &blob_len),
                 PB_ERR_ARGUMENT);
    cr_assert_null(blob);
    cr_assert_not_null(strstr(pb_last_error(), "2048"), "%s", pb_last_error());

    /* Nor does a 2048-bit private key open a (valid) backup. */
    keys good;
    rsa_keys(&good, 3072, 0);
    seal(&good, (const uint8_t *)"x", 1, &blob, &blob_len);
    uint8_t *back = NULL;
    size_t back_len;
    cr_assert_eq(pb_backup_open(k.priv, blob, blob_len, &back, &back_len), PB_ERR_ARGUMENT);
    cr_assert_null(back);
    pb_bytes_free(blob, blob_len);
    cx_rmtree(k.dir);
    cx_rmtree(good.dir);
}

Test(custody_backup, non_rsa_and_unreadable_keys_are_refused)
{
    char dir[256], pub[512], priv[512], path[512];
    cx_tmpdir(dir, sizeof dir);
    cx_ec_key_paths(dir, pub, priv, sizeof pub);
    uint8_t *blob = NULL, *back = NULL;
    size_t blob_len = 0, back_len;
    cr_assert_eq(pb_backup_seal(pub, (const uint8_t *)"x", 1, &blob, &blob_len), PB_ERR_ARGUMENT);
    cr_assert_not_null(strstr(pb_last_error(), "not an RSA key"), "%s", pb_last_error());
    cx_write(dir, "junk.pem", "not a key\n", 10, path, sizeof path);
    cr_assert_eq(pb_backup_seal(path, (const uint8_t *)"x", 1, &blob, &blob_len), PB_ERR_ARGUMENT);
    snprintf(path, sizeof path, "%s/missing.pem", dir);
    cr_assert_eq(pb_backup_seal(path, (const uint8_t *)"x", 1, &blob, &blob_len), PB_ERR_ARGUMENT);
    cr_assert_null(blob);
    /* A private key where the public one belongs is not read either. */
    cr_assert_eq(pb_backup_seal(priv, (const uint8_t *)"x", 1, &blob, &blob_len), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_backup_open(priv, (const uint8_t *)"PBBK", 4, &back, &back_len),
                 PB_ERR_INTEGRITY, "the blob is checked first");
    cx_rmtree(dir);
}

Test(custody_backup, an_encrypted_private_key_is_refused_without_prompting)
{
    keys k;
    rsa_keys(&k, 3072, 0);
    uint8_t *blob, *back = NULL;
    size_t blob_len, back_len;
    seal(&k, (const uint8_t *)"data", 4, &blob, &blob_len);
    FILE *f = fopen(k.priv, "r");
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    char enc[600];
    snprintf(enc, sizeof enc, "%s/enc.pem", k.dir);
    f = fopen(enc, "w");
    cr_assert_eq(PEM_write_PKCS8PrivateKey(f, key, EVP_aes_256_cbc(), NULL, 0, NULL,
                                           (void *)"passphrase"), 1);
    fclose(f);
    cr_assert_eq(chmod(enc, 0600), 0); /* refused for its encryption, not its mode */
    EVP_PKEY_free(key);
    cr_assert_eq(pb_backup_open(enc, blob, blob_len, &back, &back_len), PB_ERR_ARGUMENT);
    cr_assert_null(back);
    pb_bytes_free(blob, blob_len);
    cx_rmtree(k.dir);
}

Test(custody_backup, the_wrong_private_key_is_an_authentication_error)
{
    keys k, other;
    rsa_keys(&k, 3072, 0);
    rsa_keys(&other, 3072, 1);
    uint8_t plain[64];
    cx_fill(plain, sizeof plain, 2);
    uint8_t *blob, *back = NULL;
    size_t blob_len, back_len = 4;
    seal(&k, plain, sizeof plain, &blob, &blob_len);
    cr_assert_eq(pb_backup_open(other.priv, blob, blob_len, &back, &back_len), PB_ERR_AUTH, "%s",
                 pb_last_error());
    cr_assert_null(back);
    cr_assert_eq(back_len, 0);
    cx_assert_error_hides(plain, sizeof plain, 1);
    pb_bytes_free(blob, blob_len);
    cx_rmtree(k.dir);
    cx_rmtree(other.dir);
}

static pb_status open_backup(void *ctx, const uint8_t *in, size_t in_len, uint8_t **plain,
                             size_t *plain_len)
{
    return pb_backup_open(ctx, in, in_len, plain, plain_len);
}

Test(custody_backup, every_flip_truncation_and_extension_is_an_integrity_error)
{
    keys k;
    rsa_keys(&k, 3072, 0);
    uint8_t plain[24];
    cx_fill(plain, sizeof plain, 4);
    uint8_t *blob;
    size_t blob_len;
    seal(&k, plain, sizeof plain, &blob, &blob_len);
    cx_assert_tamper_fails(open_backup, k.priv, blob, blob_len, PB_ERR_INTEGRITY);
    pb_bytes_free(blob, blob_len);
    cx_rmtree(k.dir);
}
