/* checkpoint.c - checkpoint signatures (see checkpoint.h, docs/audit.md). */
#include "audit/checkpoint.h"

#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "common/fail.h"

pb_status pb_audit_statement_digest(unsigned node, uint64_t head_seq, const uint8_t head[32],
                                    int64_t time_ms, uint8_t digest[32])
{
    char statement[256];
    size_t len;
    pb_status st = pb_audit_statement(node, head_seq, head, time_ms, statement, sizeof statement,
                                      &len);
    if (st != PB_OK)
        return st;
    unsigned int out_len = 32;
    if (!EVP_Digest(statement, len, digest, &out_len, EVP_sha256(), NULL))
        return pb_fail(PB_ERR_CRYPTO, "SHA-256 of the checkpoint statement failed");
    return PB_OK;
}

/* The P-256 group order and its half, for range and low-S checks; made
 * once per process (public constants, kept for the process lifetime). */
typedef struct order_pair {
    const BIGNUM *n;
    const BIGNUM *half;
} order_pair;

static EC_GROUP *p256_group;
static BIGNUM *p256_half;
static pthread_once_t p256_once = PTHREAD_ONCE_INIT;

static void p256_init(void)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *half = BN_new();
    if (!g || !half || !BN_rshift1(half, EC_GROUP_get0_order(g))) {
        EC_GROUP_free(g);
        BN_free(half);
        return;
    }
    p256_group = g;
    p256_half = half;
}

static int order_load(order_pair *o)
{
    pthread_once(&p256_once, p256_init);
    if (!p256_group)
        return 0;
    o->n = EC_GROUP_get0_order(p256_group);
    o->half = p256_half;
    return 1;
}

static void order_free(order_pair *o) { (void)o; }

pb_status pb_audit_checkpoint_sign(pb_audit_sign_fn sign, void *ctx, pb_audit_record *cp)
{
    if (!sign)
        return pb_fail(PB_ERR_ARGUMENT, "audit checkpoint: no signer configured");
    uint8_t digest[32], rs[64];
    pb_status st = pb_audit_statement_digest(cp->node, cp->head_seq, cp->head, cp->time_ms, digest);
    if (st != PB_OK)
        return st;
    st = sign(ctx, digest, rs);
    if (st != PB_OK)
        return pb_fail_context(st, "audit checkpoint");

    st = pb_fail(PB_ERR_CRYPTO, "audit checkpoint: cannot encode the signature");
    order_pair o = {0};
    BIGNUM *r = BN_bin2bn(rs, 32, NULL), *s = BN_bin2bn(rs + 32, 32, NULL);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    unsigned char *der = NULL;
    if (!r || !s || !sig || !order_load(&o))
        goto done;
    const BIGNUM *n = o.n;
    if (BN_is_zero(r) || BN_is_zero(s) || BN_cmp(r, n) >= 0 || BN_cmp(s, n) >= 0) {
        st = pb_fail(PB_ERR_HSM, "audit checkpoint: the signer returned r or s out of range");
        goto done;
    }
    /* (r, n - s) is the same signature; keep only the low one so the
     * record has exactly one valid form. */
    if (BN_cmp(s, o.half) > 0 && !BN_sub(s, n, s))
        goto done;
    if (!ECDSA_SIG_set0(sig, r, s))
        goto done;
    r = s = NULL;
    int len = i2d_ECDSA_SIG(sig, &der);
    if (len <= 0 || (size_t)len > sizeof cp->sig)
        goto done;
    memcpy(cp->sig, der, (size_t)len);
    cp->sig_len = (size_t)len;
    st = PB_OK;
done:
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    BN_free(r);
    BN_free(s);
    order_free(&o);
    return st;
}

pb_status pb_audit_public_key_load(const char *pem, size_t len, EVP_PKEY **out)
{
    *out = NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!key) {
        ERR_clear_error();
        return pb_fail(PB_ERR_PARSE, "audit public key: not a PEM public key");
    }
    char group[64] = "";
    if (!EVP_PKEY_is_a(key, "EC") ||
        !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        NULL) ||
        strcmp(group, "prime256v1") != 0) {
        EVP_PKEY_free(key);
        return pb_fail(PB_ERR_PARSE, "audit public key: not an EC P-256 key");
    }
    *out = key;
    return PB_OK;
}

/* Strict DER and low-S: the only form the writer produces. */
static pb_status signature_canonical(const pb_audit_record *cp)
{
    const unsigned char *p = cp->sig;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)cp->sig_len);
    if (!sig || (size_t)(p - cp->sig) != cp->sig_len) {
        ECDSA_SIG_free(sig);
        ERR_clear_error();
        return pb_fail(PB_ERR_INTEGRITY, "checkpoint signature is not a DER ECDSA signature");
    }
    pb_status st = pb_fail(PB_ERR_INTEGRITY, "checkpoint signature is not in canonical DER form");
    unsigned char *der = NULL;
    order_pair o = {0};
    int len = i2d_ECDSA_SIG(sig, &der);
    if (len <= 0 || (size_t)len != cp->sig_len || memcmp(der, cp->sig, cp->sig_len) != 0)
        goto done;
    if (!order_load(&o)) {
        st = pb_fail(PB_ERR_CRYPTO, "cannot load the P-256 group");
        goto done;
    }
    if (BN_cmp(ECDSA_SIG_get0_s(sig), o.half) > 0) {
        st = pb_fail(PB_ERR_INTEGRITY, "checkpoint signature has a high s (not canonical)");
        goto done;
    }
    st = PB_OK;
done:
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    order_free(&o);
    return st;
}

pb_status pb_audit_checkpoint_verify(EVP_PKEY *key, const pb_audit_record *cp)
{
    if (!pb_audit_record_is_checkpoint(cp))
        return pb_fail(PB_ERR_INTEGRITY, "record %llu is not a checkpoint",
                       (unsigned long long)cp->seq);
    pb_status st = signature_canonical(cp);
    if (st != PB_OK)
        return st;
    uint8_t digest[32];
    st = pb_audit_statement_digest(cp->node, cp->head_seq, cp->head, cp->time_ms, digest);
    if (st != PB_OK)
        return st;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    int ok = ctx && EVP_PKEY_verify_init(ctx) > 0 &&
             EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0 &&
             EVP_PKEY_verify(ctx, cp->sig, cp->sig_len, digest, sizeof digest) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error(); /* a failed check is an answer, not a library fault */
        return pb_fail(PB_ERR_INTEGRITY, "checkpoint signature does not verify");
    }
    return PB_OK;
}
