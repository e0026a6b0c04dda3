/* recovery_seal.c - ECIES to the recovery code's public key (see
 * recovery_seal.h). Layout: u8 version=1 | 33-byte ephemeral point | 12-byte
 * IV | ciphertext || 16-byte tag. */
#include "custody/recovery_seal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/fail.h"
#include "common/secret.h"
#include "custody/aead.h"

#define RECOVERY_SEAL_VERSION 1
#define HEADER_BYTES (1 + PB_POINT_BYTES + PB_AEAD_IV_BYTES)

pb_status pb_recovery_keypair(const char *code, pb_scalar *priv, pb_point *pub)
{
    static const char salt[] = "planbok-recovery-key-v1";
    uint8_t wide[48];
    /* The code carries >= 128 bits of entropy: no slow KDF is needed. */
    pb_status st = pb_hkdf_sha256((const uint8_t *)code, strlen(code), salt, sizeof salt - 1,
                                  "secp256k1", 9, wide, sizeof wide);
    if (st != PB_OK)
        return st;
    BIGNUM *bn = BN_secure_new();
    if (!bn || !BN_bin2bn(wide, sizeof wide, bn)) {
        BN_clear_free(bn);
        OPENSSL_cleanse(wide, sizeof wide);
        return pb_fail(PB_ERR_CRYPTO, "recovery key derivation failed");
    }
    OPENSSL_cleanse(wide, sizeof wide);
    st = pb_scalar_from_bn(priv, bn);
    BN_clear_free(bn);
    if (st == PB_OK)
        st = pb_point_mul_base(pub, priv);
    return st;
}

/* AES key from the ECDH point and both public points. */
static pb_status derive_key(const pb_point *shared, const pb_point *eph, const char *wallet_id,
                            uint8_t key[32])
{
    uint8_t ikm[2 * PB_POINT_BYTES];
    pb_point_serialize(ikm, shared);
    pb_point_serialize(ikm + PB_POINT_BYTES, eph);
    pb_status st = pb_hkdf_sha256(ikm, sizeof ikm, "planbok-recovery-seal-v1", 24, wallet_id,
                                  strlen(wallet_id), key, 32);
    OPENSSL_cleanse(ikm, sizeof ikm);
    return st;
}

pb_status pb_recovery_seal(const pb_point *pub, const char *wallet_id, const uint8_t *plain,
                           size_t plain_len, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    pb_scalar k;
    pb_point eph, shared;
    uint8_t key[32];
    pb_status st = pb_scalar_random(&k);
    if (st == PB_OK)
        st = pb_point_mul_base(&eph, &k);
    if (st == PB_OK)
        st = pb_point_mul(&shared, pub, &k);
    pb_scalar_wipe(&k);
    if (st == PB_OK)
        st = derive_key(&shared, &eph, wallet_id, key);
    if (st != PB_OK)
        return st;
    size_t len = HEADER_BYTES + plain_len + PB_AEAD_TAG_BYTES;
    uint8_t *buf = malloc(len);
    if (!buf) {
        OPENSSL_cleanse(key, sizeof key);
        return pb_fail(PB_ERR_NOMEM, "out of memory");
    }
    buf[0] = RECOVERY_SEAL_VERSION;
    pb_point_serialize(buf + 1, &eph);
    uint8_t *iv = buf + 1 + PB_POINT_BYTES;
    if (RAND_bytes(iv, PB_AEAD_IV_BYTES) != 1) {
        st = pb_fail(PB_ERR_CRYPTO, "random IV failed");
    } else {
        /* The header is authenticated too, so no field can be swapped. */
        st = pb_aead_seal(key, iv, buf, 1 + PB_POINT_BYTES, plain, plain_len,
                          buf + HEADER_BYTES);
    }
    OPENSSL_cleanse(key, sizeof key);
    if (st != PB_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    *out_len = len;
    return PB_OK;
}

pb_status pb_recovery_open(const pb_scalar *priv, const char *wallet_id, const uint8_t *in,
                           size_t in_len, uint8_t **plain, size_t *plain_len)
{
    *plain = NULL;
    *plain_len = 0;
    if (in_len < HEADER_BYTES + PB_AEAD_TAG_BYTES || in[0] != RECOVERY_SEAL_VERSION)
        return pb_fail(PB_ERR_INTEGRITY, "recovery copy: malformed or unknown version");
    pb_point eph, shared;
    uint8_t key[32];
    pb_status st = pb_point_parse(&eph, in + 1);
    if (st == PB_OK)
        st = pb_point_mul(&shared, &eph, priv);
    if (st == PB_OK)
        st = derive_key(&shared, &eph, wallet_id, key);
    if (st != PB_OK)
        return pb_fail(PB_ERR_INTEGRITY, "recovery copy: bad ephemeral key");
    size_t ct_len = in_len - HEADER_BYTES;
    uint8_t *out = pb_secret_alloc(ct_len - PB_AEAD_TAG_BYTES);
    if (!out) {
        OPENSSL_cleanse(key, sizeof key);
        return pb_fail(PB_ERR_NOMEM, "out of memory");
    }
    int ok = pb_aead_open(key, in + 1 + PB_POINT_BYTES, in, 1 + PB_POINT_BYTES,
                          in + HEADER_BYTES, ct_len, out);
    OPENSSL_cleanse(key, sizeof key);
    if (ok != 1) {
        pb_secret_free(out, ct_len - PB_AEAD_TAG_BYTES);
        return ok == 0 ? pb_fail(PB_ERR_AUTH, "the recovery code does not open this wallet")
                       : PB_ERR_CRYPTO;
    }
    *plain = out;
    *plain_len = ct_len - PB_AEAD_TAG_BYTES;
    return PB_OK;
}
