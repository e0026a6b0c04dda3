/* aead.c - AES-256-GCM and HKDF-SHA256 through OpenSSL EVP (see aead.h). */
#include "custody/aead.h"

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "common/fail.h"

/* EVP lengths are int: refuse anything that would not fit rather than
 * silently truncating. */
static int fits_int(size_t n) { return n <= (size_t)INT_MAX; }

pb_status pb_aead_seal(const uint8_t key[PB_AEAD_KEY_BYTES], const uint8_t iv[PB_AEAD_IV_BYTES],
                       const uint8_t *aad, size_t aad_len, const uint8_t *plain,
                       size_t plain_len, uint8_t *ct)
{
    if (!fits_int(aad_len) || !fits_int(plain_len))
        return pb_fail(PB_ERR_ARGUMENT, "AES-GCM: input too large");
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return pb_fail(PB_ERR_NOMEM, "AES-GCM: out of memory");
    int len = 0, ok = 1;
    ok = ok && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, PB_AEAD_IV_BYTES, NULL) == 1;
    ok = ok && EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv) == 1;
    if (ok && aad_len > 0)
        ok = EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1;
    if (ok && plain_len > 0)
        ok = EVP_EncryptUpdate(ctx, ct, &len, plain, (int)plain_len) == 1 &&
             (size_t)len == plain_len;
    ok = ok && EVP_EncryptFinal_ex(ctx, ct + plain_len, &len) == 1 && len == 0;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, PB_AEAD_TAG_BYTES,
                                   ct + plain_len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        OPENSSL_cleanse(ct, plain_len + PB_AEAD_TAG_BYTES);
        return pb_fail(PB_ERR_CRYPTO, "AES-GCM: encryption failed");
    }
    return PB_OK;
}

int pb_aead_open(const uint8_t key[PB_AEAD_KEY_BYTES], const uint8_t iv[PB_AEAD_IV_BYTES],
                 const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                 uint8_t *plain)
{
    if (ct_len < PB_AEAD_TAG_BYTES || !fits_int(aad_len) || !fits_int(ct_len)) {
        pb_fail(PB_ERR_ARGUMENT, "AES-GCM: ciphertext length out of range");
        return -1;
    }
    size_t plain_len = ct_len - PB_AEAD_TAG_BYTES;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx) {
        pb_fail(PB_ERR_NOMEM, "AES-GCM: out of memory");
        return -1;
    }
    /* The tag is copied because OpenSSL's ctrl takes a non-const pointer. */
    uint8_t tag[PB_AEAD_TAG_BYTES];
    memcpy(tag, ct + plain_len, sizeof tag);
    int len = 0, ok = 1;
    ok = ok && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, PB_AEAD_IV_BYTES, NULL) == 1;
    ok = ok && EVP_DecryptInit_ex(ctx, NULL, NULL, key, iv) == 1;
    if (ok && aad_len > 0)
        ok = EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1;
    if (ok && plain_len > 0)
        ok = EVP_DecryptUpdate(ctx, plain, &len, ct, (int)plain_len) == 1 &&
             (size_t)len == plain_len;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, PB_AEAD_TAG_BYTES, tag) == 1;
    if (!ok) {
        EVP_CIPHER_CTX_free(ctx);
        OPENSSL_cleanse(plain, plain_len);
        pb_fail(PB_ERR_CRYPTO, "AES-GCM: decryption failed");
        return -1;
    }
    /* DecryptFinal is where the tag is checked; its only failure mode once
     * the context is set up is a tag mismatch. */
    int verified = EVP_DecryptFinal_ex(ctx, plain + plain_len, &len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!verified) {
        OPENSSL_cleanse(plain, plain_len);
        return 0;
    }
    return 1;
}

pb_status pb_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const void *salt, size_t salt_len,
                         const void *info, size_t info_len, uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (!ctx)
        return pb_fail(PB_ERR_CRYPTO, "HKDF-SHA256: not available");
    /* OSSL_PARAM wants non-const pointers; the KDF only reads them. */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)(uintptr_t) "SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)ikm, ikm_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)(uintptr_t)salt, salt_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)info, info_len),
        OSSL_PARAM_construct_end(),
    };
    int ok = EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    if (!ok) {
        OPENSSL_cleanse(out, out_len);
        return pb_fail(PB_ERR_CRYPTO, "HKDF-SHA256: derivation failed");
    }
    return PB_OK;
}
