/* The token side of the key store: the KEK's protection, clear errors for
 * a wrong PIN, a missing token or module, and the audit key. */
#include <criterion/criterion.h>
#include <sys/stat.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/secret.h"
#include "pkcs11/softhsm_dev.h"
#include "support/token_fixture.h"

Test(keystore_token, kek_is_sensitive_not_extractable_and_its_value_is_refused)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    pb_keystore *ks = pb_test_token_open(&t);
    pb_keystore_status st;
    cr_assert_eq(pb_keystore_status_get(ks, &st), PB_OK, "%s", pb_last_error());
    cr_assert(st.kek_present && st.kek_sensitive && !st.kek_extractable);
    cr_assert(st.kek_always_sensitive && st.kek_never_extractable);

    pb_keystore_raw raw;
    pb_keystore_raw_access(ks, &raw);
    CK_FUNCTION_LIST *fn = raw.function_list;
    CK_SESSION_HANDLE session;
    cr_assert_eq(fn->C_OpenSession(raw.slot, CKF_SERIAL_SESSION, NULL, NULL, &session), CKR_OK);
    uint8_t value[64];
    CK_ATTRIBUTE attr = {CKA_VALUE, value, sizeof value};
    CK_RV rv = fn->C_GetAttributeValue(session, raw.kek_handle, &attr, 1);
    cr_assert_eq(rv, CKR_ATTRIBUTE_SENSITIVE, "reading CKA_VALUE of the KEK returned 0x%lx", rv);
    cr_assert_eq(attr.ulValueLen, (CK_ULONG)-1);
    /* Nor can it be wrapped out: the KEK is not extractable. */
    CK_MECHANISM wrap = {CKM_AES_KEY_WRAP, NULL, 0};
    CK_ULONG wrapped_len = sizeof value;
    rv = fn->C_WrapKey(session, &wrap, raw.kek_handle, raw.kek_handle, value, &wrapped_len);
    cr_assert_neq(rv, CKR_OK, "the KEK could be wrapped");
    fn->C_CloseSession(session);
    pb_keystore_close(ks);
    pb_test_token_remove(&t);
}

Test(keystore_token, init_is_idempotent_and_reuses_the_same_kek)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    pb_keystore *ks = pb_test_token_open(&t);
    uint8_t plain[] = "record sealed before a second init";
    pb_blob_ref ref = {"wallet-idem", 2, PB_BLOB_SHARE};
    cr_assert_eq(pb_keystore_put(ks, &ref, plain, sizeof plain), PB_OK);
    pb_keystore_close(ks);
    const char *labels[] = {"pb-test", "pb-other"};
    cr_assert_eq(pb_softhsm_dev_provision(PB_SOFTHSM_MODULE_DEFAULT, t.dir, labels, 2), PB_OK);
    ks = pb_test_token_open(&t);
    uint8_t *back;
    size_t back_len;
    cr_assert_eq(pb_keystore_get(ks, &ref, &back, &back_len), PB_OK, "%s", pb_last_error());
    cr_assert_eq(back_len, sizeof plain);
    pb_secret_free(back, back_len);
    pb_keystore_status st;
    cr_assert_eq(pb_keystore_status_get(ks, &st), PB_OK);
    cr_assert_eq(st.sealed_blobs, 1);
    pb_keystore_close(ks);
    pb_test_token_remove(&t);
}

Test(keystore_token, wrong_pin_is_an_authentication_error)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    char wrong[300];
    snprintf(wrong, sizeof wrong, "%s/wrong.pin", t.dir);
    FILE *f = fopen(wrong, "w");
    fputs("not-the-pin\n", f);
    fclose(f);
    chmod(wrong, 0600); /* a PIN file others may read is refused before login */
    snprintf(t.cfg.pin_file, sizeof t.cfg.pin_file, "%s", wrong);
    pb_keystore *ks = NULL;
    pb_status st = pb_keystore_open(&t.cfg, PB_KEYSTORE_CREATE, &ks);
    cr_assert_eq(st, PB_ERR_AUTH, "got %s: %s", pb_status_name(st), pb_last_error());
    cr_assert_null(ks);
    cr_assert(strstr(pb_last_error(), "PIN") != NULL, "message: %s", pb_last_error());
    cr_assert(strstr(pb_last_error(), "not-the-pin") == NULL, "the PIN leaked into the message");
    pb_test_token_remove(&t);
}

Test(keystore_token, pin_from_environment_variable_works_and_unset_is_clear)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    FILE *f = fopen(t.cfg.pin_file, "r");
    char pin[128] = {0};
    cr_assert_not_null(fgets(pin, sizeof pin, f));
    fclose(f);
    pin[strcspn(pin, "\n")] = '\0';
    t.cfg.pin_file[0] = '\0';
    snprintf(t.cfg.pin_env, sizeof t.cfg.pin_env, "PB_TEST_TOKEN_PIN");
    pb_keystore *ks = NULL;
    unsetenv("PB_TEST_TOKEN_PIN");
    cr_assert_eq(pb_keystore_open(&t.cfg, PB_KEYSTORE_CREATE, &ks), PB_ERR_AUTH);
    cr_assert(strstr(pb_last_error(), "PB_TEST_TOKEN_PIN") != NULL);
    setenv("PB_TEST_TOKEN_PIN", pin, 1);
    cr_assert_eq(pb_keystore_open(&t.cfg, PB_KEYSTORE_CREATE, &ks), PB_OK, "%s", pb_last_error());
    pb_keystore_close(ks);
    pb_test_token_remove(&t);
}

Test(keystore_token, missing_token_is_a_clear_hsm_error)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    snprintf(t.cfg.token_label, sizeof t.cfg.token_label, "no-such-token");
    pb_keystore *ks = NULL;
    pb_status st = pb_keystore_open(&t.cfg, PB_KEYSTORE_CREATE, &ks);
    cr_assert_eq(st, PB_ERR_HSM);
    cr_assert(strstr(pb_last_error(), "no-such-token") != NULL, "message: %s", pb_last_error());
    pb_test_token_remove(&t);
}

Test(keystore_token, token_selected_by_rfc7512_uri)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    t.cfg.token_label[0] = '\0';
    snprintf(t.cfg.token_uri, sizeof t.cfg.token_uri, "pkcs11:token=pb-test;manufacturer=SoftHSM%%20project");
    pb_keystore *ks = NULL;
    cr_assert_eq(pb_keystore_open(&t.cfg, PB_KEYSTORE_CREATE, &ks), PB_OK, "%s", pb_last_error());
    pb_keystore_status st;
    cr_assert_eq(pb_keystore_status_get(ks, &st), PB_OK);
    cr_assert_str_eq(st.token_label, "pb-test");
    pb_keystore_close(ks);
    snprintf(t.cfg.token_uri, sizeof t.cfg.token_uri, "pkcs11:token=pb-test;pin-value=1234");
    cr_assert_eq(pb_keystore_open(&t.cfg, PB_KEYSTORE_CREATE, &ks), PB_ERR_ARGUMENT,
                 "a PIN inside the URI must be refused");
    snprintf(t.cfg.token_uri, sizeof t.cfg.token_uri, "not a uri");
    cr_assert_eq(pb_keystore_open(&t.cfg, PB_KEYSTORE_CREATE, &ks), PB_ERR_ARGUMENT);
    pb_test_token_remove(&t);
}

Test(keystore_token, missing_module_is_a_clear_hsm_error)
{
    pb_hsm_config cfg;
    pb_hsm_config_defaults(&cfg);
    snprintf(cfg.module, sizeof cfg.module, "/nonexistent/libnothing.so");
    snprintf(cfg.token_label, sizeof cfg.token_label, "pb-test");
    snprintf(cfg.pin_env, sizeof cfg.pin_env, "UNUSED");
    pb_keystore *ks = NULL;
    cr_assert_eq(pb_keystore_open(&cfg, 0, &ks), PB_ERR_HSM);
    cr_assert(strstr(pb_last_error(), "/nonexistent/libnothing.so") != NULL, "%s",
              pb_last_error());
    snprintf(cfg.module, sizeof cfg.module, "no-such-registered-module");
    cr_assert_eq(pb_keystore_open(&cfg, 0, &ks), PB_ERR_HSM);
    cr_assert(strstr(pb_last_error(), "no-such-registered-module") != NULL, "%s",
              pb_last_error());
}

Test(keystore_token, opening_without_init_names_the_missing_kek)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    pb_keystore *ks = NULL;
    cr_assert_eq(pb_keystore_open(&t.cfg, 0, &ks), PB_ERR_HSM);
    cr_assert(strstr(pb_last_error(), "planbok init") != NULL, "%s", pb_last_error());
    pb_test_token_remove(&t);
}

Test(keystore_token, audit_signature_verifies_with_openssl_under_the_exported_pem)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    pb_keystore *ks = pb_test_token_open(&t);
    char *pem = NULL;
    cr_assert_eq(pb_keystore_audit_public_pem(ks, &pem), PB_OK, "%s", pb_last_error());
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    cr_assert_not_null(pkey);
    uint8_t digest[32], sig[64];
    RAND_bytes(digest, sizeof digest);
    cr_assert_eq(pb_keystore_audit_sign(ks, digest, sig), PB_OK, "%s", pb_last_error());
    /* r||s to DER for OpenSSL. */
    ECDSA_SIG *es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
    unsigned char *der = NULL;
    int der_len = i2d_ECDSA_SIG(es, &der);
    EVP_PKEY_CTX *vctx = EVP_PKEY_CTX_new(pkey, NULL);
    cr_assert_eq(EVP_PKEY_verify_init(vctx), 1);
    cr_assert_eq(EVP_PKEY_verify(vctx, der, (size_t)der_len, digest, sizeof digest), 1);
    digest[0] ^= 1;
    cr_assert_neq(EVP_PKEY_verify(vctx, der, (size_t)der_len, digest, sizeof digest), 1,
                  "a signature verified for another digest");
    EVP_PKEY_CTX_free(vctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    free(pem);
    pb_keystore_close(ks);
    pb_test_token_remove(&t);
}

/* Read-only key stores (the audit commands): they read, unseal and sign,
 * and refuse to store or delete, in either placement, before touching it. */
static void read_only_store_reads_but_never_writes(pb_placement placement)
{
    pb_test_token t;
    pb_test_token_make(&t, placement);
    pb_keystore *ks = pb_test_token_open(&t);
    uint8_t plain[] = "sealed before the read-only open";
    pb_blob_ref ref = {"wallet-ro", 1, PB_BLOB_SHARE};
    cr_assert_eq(pb_keystore_put(ks, &ref, plain, sizeof plain), PB_OK, "%s", pb_last_error());
    pb_keystore_close(ks);

    cr_assert_eq(pb_keystore_open(&t.cfg, PB_KEYSTORE_CREATE | PB_KEYSTORE_READ_ONLY, &ks),
                 PB_ERR_ARGUMENT);
    cr_assert_eq(pb_keystore_open(&t.cfg, PB_KEYSTORE_READ_ONLY, &ks), PB_OK, "%s",
                 pb_last_error());
    uint8_t *back;
    size_t back_len;
    cr_assert_eq(pb_keystore_get(ks, &ref, &back, &back_len), PB_OK, "%s", pb_last_error());
    cr_assert_eq(back_len, sizeof plain);
    cr_assert_eq(memcmp(back, plain, back_len), 0);
    pb_secret_free(back, back_len);
    uint8_t digest[32] = {7}, sig[64];
    cr_assert_eq(pb_keystore_audit_sign(ks, digest, sig), PB_OK, "%s", pb_last_error());
    pb_blob_ref other = {"wallet-ro2", 1, PB_BLOB_SHARE};
    cr_assert_eq(pb_keystore_put(ks, &other, plain, sizeof plain), PB_ERR_ARGUMENT);
    cr_assert_not_null(strstr(pb_last_error(), "opened read-only"), "%s", pb_last_error());
    cr_assert_eq(pb_keystore_delete(ks, &ref), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_keystore_blob_count(ks), 1);
    pb_keystore_close(ks);

    ks = pb_test_token_open(&t);
    cr_assert_eq(pb_keystore_get(ks, &other, &back, &back_len), PB_ERR_NOT_FOUND);
    cr_assert_eq(pb_keystore_get(ks, &ref, &back, &back_len), PB_OK, "the blob was deleted");
    pb_secret_free(back, back_len);
    pb_keystore_close(ks);
    pb_test_token_remove(&t);
}

Test(keystore_token, read_only_store_in_the_token_reads_but_never_writes)
{
    read_only_store_reads_but_never_writes(PB_PLACEMENT_TOKEN);
}

Test(keystore_token, read_only_store_in_a_directory_reads_but_never_writes)
{
    read_only_store_reads_but_never_writes(PB_PLACEMENT_DIRECTORY);
}
