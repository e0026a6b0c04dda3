/* seal.c - AES-256-GCM sealing by the token's KEK (see keystore.h).
 *
 * We choose the 96-bit IV ourselves (random; never all-zero) and then check
 * that the module used it: SoftHSM, for one, silently encrypts under a zero
 * IV when handed none, and IV reuse under GCM loses both confidentiality and
 * integrity. With gcm_iv_source = token the module picks the IV and writes it
 * back; we refuse an all-zero or unchanged one.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/fail.h"
#include "common/secret.h"
#include "pkcs11/blob_format.h"
#include "pkcs11/keystore_internal.h"

/* PKCS#11 v2.40 as first published: no ulIvBits. */
typedef struct gcm_params_no_iv_bits {
    CK_BYTE_PTR pIv;
    CK_ULONG ulIvLen;
    CK_BYTE_PTR pAAD;
    CK_ULONG ulAADLen;
    CK_ULONG ulTagBits;
} gcm_params_no_iv_bits;

typedef struct gcm_mechanism {
    CK_MECHANISM mech;
    CK_GCM_PARAMS with_bits;
    gcm_params_no_iv_bits without_bits;
} gcm_mechanism;

static void gcm_mechanism_init(gcm_mechanism *m, const pb_hsm_config *cfg, uint8_t *iv,
                               uint8_t *aad, size_t aad_len)
{
    memset(m, 0, sizeof *m);
    m->mech.mechanism = CKM_AES_GCM;
    if (cfg->gcm_layout == PB_GCM_LAYOUT_NO_IV_BITS) {
        m->without_bits.pIv = iv;
        m->without_bits.ulIvLen = PB_GCM_IV_BYTES;
        m->without_bits.pAAD = aad;
        m->without_bits.ulAADLen = aad_len;
        m->without_bits.ulTagBits = PB_GCM_TAG_BYTES * 8;
        m->mech.pParameter = &m->without_bits;
        m->mech.ulParameterLen = sizeof m->without_bits;
    } else {
        m->with_bits.pIv = iv;
        m->with_bits.ulIvLen = PB_GCM_IV_BYTES;
        m->with_bits.ulIvBits = cfg->gcm_iv_bits;
        m->with_bits.pAAD = aad;
        m->with_bits.ulAADLen = aad_len;
        m->with_bits.ulTagBits = PB_GCM_TAG_BYTES * 8;
        m->mech.pParameter = &m->with_bits;
        m->mech.ulParameterLen = sizeof m->with_bits;
    }
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

typedef struct crypt_job {
    int encrypt;
    uint8_t iv[PB_GCM_IV_BYTES];
    uint8_t aad[PB_BLOB_AAD_MAX];
    size_t aad_len;
    const uint8_t *in;
    size_t in_len;
    uint8_t *out;
    CK_ULONG out_len;
    size_t out_cap;
} crypt_job;

static CK_RV crypt_op(pb_keystore *ks, CK_SESSION_HANDLE session, void *ctx)
{
    crypt_job *job = ctx;
    CK_FUNCTION_LIST *fn = ks->mod.fn;
    /* Each attempt starts from the IV we chose (a token may overwrite it). */
    uint8_t iv[PB_GCM_IV_BYTES];
    memcpy(iv, job->iv, sizeof iv);
    gcm_mechanism m;
    gcm_mechanism_init(&m, &ks->cfg, iv, job->aad, job->aad_len);

    pthread_rwlock_rdlock(&ks->lock);
    CK_OBJECT_HANDLE kek = ks->kek;
    pthread_rwlock_unlock(&ks->lock);

    static uint8_t empty[1];
    CK_BYTE_PTR in = job->in_len ? (CK_BYTE_PTR)(uintptr_t)job->in : empty;
    job->out_len = job->out_cap;
    CK_RV rv;
    if (job->encrypt) {
        rv = fn->C_EncryptInit(session, &m.mech, kek);
        if (rv == CKR_OK)
            rv = fn->C_Encrypt(session, in, job->in_len, job->out, &job->out_len);
        if (rv == CKR_OK)
            memcpy(job->iv, iv, sizeof iv); /* what the token says it used */
    } else {
        rv = fn->C_DecryptInit(session, &m.mech, kek);
        if (rv == CKR_OK)
            rv = fn->C_Decrypt(session, in, job->in_len, job->out, &job->out_len);
    }
    return rv;
}

pb_status pb_keystore_seal(pb_keystore *ks, const pb_blob_ref *ref, const uint8_t *plain,
                           size_t plain_len, uint8_t **blob, size_t *blob_len)
{
    *blob = NULL;
    *blob_len = 0;
    pb_status st = pb_ks_check_ref(ref);
    if (st != PB_OK)
        return st;
    if (plain_len > PB_SEALED_PLAINTEXT_MAX)
        return pb_fail(PB_ERR_ARGUMENT, "record of %zu bytes is over the %u-byte seal limit",
                       plain_len, PB_SEALED_PLAINTEXT_MAX);
    crypt_job job;
    memset(&job, 0, sizeof job);
    job.encrypt = 1;
    if (ks->cfg.gcm_iv_source == PB_GCM_IV_CALLER) {
        do {
            if (RAND_bytes(job.iv, sizeof job.iv) != 1)
                return pb_fail(PB_ERR_CRYPTO, "random IV generation failed");
        } while (all_zero(job.iv, sizeof job.iv));
    }
    uint8_t chosen_iv[PB_GCM_IV_BYTES];
    memcpy(chosen_iv, job.iv, sizeof chosen_iv);
    job.aad_len = pb_blob_aad(ref, job.aad);
    job.in = plain;
    job.in_len = plain_len;
    /* Room for vendors that append extra bytes; the length is checked below. */
    job.out_cap = plain_len + PB_GCM_TAG_BYTES + 64;
    job.out = malloc(job.out_cap);
    if (!job.out)
        return pb_fail(PB_ERR_NOMEM, "out of memory sealing");
    CK_RV rv;
    st = pb_ks_run(ks, crypt_op, &job, &rv);
    if (st != PB_OK) {
        free(job.out);
        return pb_fail_context(st, "sealing with the KEK (C_Encrypt, AES-GCM)");
    }
    if (job.out_len != plain_len + PB_GCM_TAG_BYTES) {
        free(job.out);
        return pb_fail(PB_ERR_HSM,
                       "token returned %lu bytes for a %zu-byte AES-GCM seal; check gcm_layout",
                       (unsigned long)job.out_len, plain_len);
    }
    if (all_zero(job.iv, sizeof job.iv) ||
        (ks->cfg.gcm_iv_source == PB_GCM_IV_CALLER &&
         memcmp(job.iv, chosen_iv, sizeof chosen_iv) != 0)) {
        free(job.out);
        return pb_fail(PB_ERR_HSM, "token did not use a fresh non-zero GCM IV; check gcm_iv");
    }
    st = pb_blob_encode(ref, ks->cfg.kek_label, job.iv, job.out, job.out_len, blob, blob_len);
    free(job.out);
    return st;
}

pb_status pb_keystore_unseal(pb_keystore *ks, const pb_blob_ref *ref, const uint8_t *blob,
                             size_t blob_len, uint8_t **plain, size_t *plain_len)
{
    *plain = NULL;
    *plain_len = 0;
    pb_status st = pb_ks_check_ref(ref);
    if (st != PB_OK)
        return st;
    pb_blob_header header;
    st = pb_blob_decode(blob, blob_len, ref, &header);
    if (st != PB_OK)
        return st;
    if (strcmp(header.kek_label, ks->cfg.kek_label) != 0)
        return pb_fail(PB_ERR_INTEGRITY,
                       "sealed blob names KEK '%s' but this node's KEK is '%s' (rewrap it first)",
                       header.kek_label, ks->cfg.kek_label);
    crypt_job job;
    memset(&job, 0, sizeof job);
    memcpy(job.iv, header.iv, sizeof job.iv);
    job.aad_len = pb_blob_aad(ref, job.aad);
    job.in = header.ciphertext;
    job.in_len = header.ciphertext_len;
    job.out_cap = header.ciphertext_len;
    job.out = pb_secret_alloc(job.out_cap);
    if (!job.out)
        return pb_fail(PB_ERR_NOMEM, "out of memory unsealing");
    CK_RV rv = CKR_OK;
    st = pb_ks_run(ks, crypt_op, &job, &rv);
    if (st != PB_OK) {
        pb_secret_free(job.out, job.out_cap);
        if (rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE ||
            rv == CKR_FUNCTION_FAILED || rv == CKR_GENERAL_ERROR)
            return pb_fail(PB_ERR_INTEGRITY,
                           "sealed blob failed authentication (tampered, or sealed for another "
                           "wallet, role or key) (%s)", pb_p11_rv_name(rv));
        return pb_fail_context(st, "unsealing with the KEK (C_Decrypt, AES-GCM)");
    }
    if (job.out_len + PB_GCM_TAG_BYTES != header.ciphertext_len) {
        pb_secret_free(job.out, job.out_cap);
        return pb_fail(PB_ERR_HSM, "token returned a plaintext of unexpected length");
    }
    *plain = job.out;
    *plain_len = job.out_len;
    /* The caller frees with the plaintext length; keep the tail wiped too. */
    if (job.out_cap > job.out_len)
        OPENSSL_cleanse(job.out + job.out_len, job.out_cap - job.out_len);
    return PB_OK;
}
