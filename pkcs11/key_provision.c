/* key_provision.c - creating a node's KEK and audit key in its token (init).
 *
 * The KEK is AES-256, sensitive, never extractable, and allowed only to
 * encrypt and decrypt: it cannot wrap, sign or derive, so a compromised host
 * can ask the token to unseal but can never take the key away. The audit key
 * is an EC P-256 pair whose private half can only sign.
 */
#include <string.h>

#include "common/fail.h"
#include "pkcs11/keystore_internal.h"

/* DER OID 1.2.840.10045.3.1.7 (prime256v1). */
static const uint8_t p256_oid_der[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

pb_status pb_ks_create_kek(pb_keystore *ks, CK_SESSION_HANDLE session)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_AES;
    CK_ULONG value_len = 32;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    const char *label = ks->cfg.kek_label;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_KEY_TYPE, &type, sizeof type},
        {CKA_VALUE_LEN, &value_len, sizeof value_len},
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_SENSITIVE, &yes, sizeof yes},
        {CKA_EXTRACTABLE, &no, sizeof no},
        {CKA_ENCRYPT, &yes, sizeof yes},
        {CKA_DECRYPT, &yes, sizeof yes},
        {CKA_WRAP, &no, sizeof no},
        {CKA_UNWRAP, &no, sizeof no},
        {CKA_SIGN, &no, sizeof no},
        {CKA_VERIFY, &no, sizeof no},
        {CKA_DERIVE, &no, sizeof no},
        {CKA_LABEL, (void *)(uintptr_t)label, strlen(label)},
    };
    CK_MECHANISM mech = {CKM_AES_KEY_GEN, NULL, 0};
    CK_RV rv = ks->mod.fn->C_GenerateKey(session, &mech, tmpl, sizeof tmpl / sizeof tmpl[0],
                                         &ks->kek);
    if (rv != CKR_OK)
        return pb_p11_fail(rv, "creating the KEK (C_GenerateKey, AES-256)");
    return PB_OK;
}

pb_status pb_ks_create_audit_key(pb_keystore *ks, CK_SESSION_HANDLE session)
{
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    const char *label = ks->cfg.audit_key_label;
    CK_ATTRIBUTE pub[] = {
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_VERIFY, &yes, sizeof yes},
        {CKA_EC_PARAMS, (void *)(uintptr_t)p256_oid_der, sizeof p256_oid_der},
        {CKA_LABEL, (void *)(uintptr_t)label, strlen(label)},
    };
    CK_ATTRIBUTE priv[] = {
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_SENSITIVE, &yes, sizeof yes},
        {CKA_EXTRACTABLE, &no, sizeof no},
        {CKA_SIGN, &yes, sizeof yes},
        {CKA_DERIVE, &no, sizeof no},
        {CKA_LABEL, (void *)(uintptr_t)label, strlen(label)},
    };
    CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_RV rv = ks->mod.fn->C_GenerateKeyPair(session, &mech, pub, sizeof pub / sizeof pub[0],
                                             priv, sizeof priv / sizeof priv[0],
                                             &ks->audit_public, &ks->audit_private);
    if (rv != CKR_OK)
        return pb_p11_fail(rv, "creating the audit key (C_GenerateKeyPair, EC P-256)");
    return PB_OK;
}
