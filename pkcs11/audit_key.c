/* audit_key.c - signing audit checkpoints with the token's EC P-256 key and
 * exporting its public half as PEM for auditors (see keystore.h).
 * The private key never leaves the token; only digests go in.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "common/fail.h"
#include "pkcs11/keystore_internal.h"

typedef struct sign_job {
    const uint8_t *digest;
    uint8_t sig[64];
    CK_ULONG sig_len;
} sign_job;

static CK_RV sign_op(pb_keystore *ks, CK_SESSION_HANDLE session, void *ctx)
{
    sign_job *job = ctx;
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    pthread_rwlock_rdlock(&ks->lock);
    CK_OBJECT_HANDLE key = ks->audit_private;
    pthread_rwlock_unlock(&ks->lock);
    CK_RV rv = ks->mod.fn->C_SignInit(session, &mech, key);
    if (rv != CKR_OK)
        return rv;
    job->sig_len = sizeof job->sig;
    return ks->mod.fn->C_Sign(session, (CK_BYTE_PTR)(uintptr_t)job->digest, 32, job->sig,
                              &job->sig_len);
}

pb_status pb_keystore_audit_sign(pb_keystore *ks, const uint8_t digest[32], uint8_t sig[64])
{
    sign_job job = {.digest = digest};
    pb_status st = pb_ks_run(ks, sign_op, &job, NULL);
    if (st != PB_OK)
        return pb_fail_context(st, "signing with the audit key (CKM_ECDSA)");
    if (job.sig_len != 64)
        return pb_fail(PB_ERR_HSM, "audit signature of %lu bytes, expected 64",
                       (unsigned long)job.sig_len);
    memcpy(sig, job.sig, 64);
    return PB_OK;
}

typedef struct point_job {
    uint8_t point[80];
    CK_ULONG len;
} point_job;

static CK_RV point_op(pb_keystore *ks, CK_SESSION_HANDLE session, void *ctx)
{
    point_job *job = ctx;
    pthread_rwlock_rdlock(&ks->lock);
    CK_OBJECT_HANDLE key = ks->audit_public;
    pthread_rwlock_unlock(&ks->lock);
    CK_ATTRIBUTE attr = {CKA_EC_POINT, job->point, sizeof job->point};
    CK_RV rv = ks->mod.fn->C_GetAttributeValue(session, key, &attr, 1);
    job->len = attr.ulValueLen;
    return rv;
}

/* CKA_EC_POINT is a DER OCTET STRING by the standard; a few modules return
 * the bare point. Accept both, nothing else. */
static const uint8_t *bare_point(const point_job *job)
{
    if (job->len == 67 && job->point[0] == 0x04 && job->point[1] == 65 && job->point[2] == 0x04)
        return job->point + 2;
    if (job->len == 65 && job->point[0] == 0x04)
        return job->point;
    return NULL;
}

pb_status pb_keystore_audit_public_pem(pb_keystore *ks, char **pem)
{
    *pem = NULL;
    point_job job;
    memset(&job, 0, sizeof job);
    pb_status st = pb_ks_run(ks, point_op, &job, NULL);
    if (st != PB_OK)
        return pb_fail_context(st, "reading the audit public key");
    const uint8_t *point = bare_point(&job);
    if (!point)
        return pb_fail(PB_ERR_HSM, "audit public key has an unexpected CKA_EC_POINT encoding");

    st = pb_fail(PB_ERR_CRYPTO, "cannot encode the audit public key as PEM");
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    BIO *bio = NULL;
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 65) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) ||
        !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ||
        EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0 ||
        !(bio = BIO_new(BIO_s_mem())) || !PEM_write_bio_PUBKEY(bio, pkey))
        goto done;
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    if (len <= 0 || !(*pem = malloc((size_t)len + 1)))
        goto done;
    memcpy(*pem, data, (size_t)len);
    (*pem)[len] = '\0';
    st = PB_OK;
done:
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return st;
}
