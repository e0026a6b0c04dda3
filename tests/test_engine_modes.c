/* The custody models of DESIGN.md section 2, each property proven against a
 * real two-node installation (SoftHSM tokens, sealed records). */
#include <criterion/criterion.h>
#include <secp256k1.h>
#include <stdio.h>
#include <string.h>

#include "common/secret.h"
#include "crypto/ec.h"
#include "custody/org_secret.h"
#include "engine/engine_internal.h"
#include "support/engine_fixture.h"
#include "support/mpc_runner.h"

static const uint8_t pin_a[] = "123456";
static const uint8_t pin_b[] = "654321";

static void digest_of(uint8_t d[32], unsigned seed)
{
    for (int i = 0; i < 32; i++)
        d[i] = (uint8_t)(seed * 13 + i * 7 + 1);
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* Signs and checks the signature independently (libsecp256k1 and OpenSSL). */
static pb_status sign_and_check(pb_engine *e, const pb_wallet_info *w, const pb_secrets *s,
                                const char *path, unsigned seed)
{
    uint8_t digest[32];
    digest_of(digest, seed);
    pb_signature_result res;
    pb_status st = pb_engine_sign(e, w->id, digest, path, s, &res);
    if (st != PB_OK)
        return st;
    uint8_t expected[33];
    if (path) {
        uint32_t idx[16];
        size_t n;
        char child[PB_MPC_XPUB_SIZE];
        cr_assert_eq(pb_bip32_parse_path(path, idx, 16, &n), PB_OK);
        cr_assert_eq(pb_bip32_xpub_derive(w->xpub, idx, n, child), PB_OK);
        cr_assert_eq(pb_bip32_xpub_public_key(child, expected), PB_OK);
    } else {
        hex_to_bytes(w->public_key, expected, 33);
    }
    cr_assert(memcmp(res.public_key, expected, 33) == 0, "signed under another key");
    mpc_check_signature(expected, digest, res.sig, res.recovery_id);
    return PB_OK;
}

Test(engine_modes, standard_signs_on_root_and_derived_paths_and_refuses_export)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", "treasury", NULL, &w, code), PB_OK, "%s",
                 pb_last_error());
    cr_assert_str_empty(code);
    cr_assert_str_eq(w.mode, "standard");
    cr_assert_eq(sign_and_check(t.e, &w, NULL, NULL, 1), PB_OK, "%s", pb_last_error());
    cr_assert_eq(sign_and_check(t.e, &w, NULL, "m/44/60/0/0/7", 2), PB_OK, "%s", pb_last_error());
    uint8_t priv[32], pub[33];
    cr_assert_eq(pb_engine_export(t.e, w.id, NULL, priv, pub), PB_ERR_REFUSED);
    uint8_t digest[32] = {1};
    pb_signature_result res;
    cr_assert_eq(pb_engine_sign(t.e, w.id, digest, "m/44'/60", NULL, &res), PB_ERR_ARGUMENT,
                 "a hardened path must be refused");
    pb_test_engine_remove(&t);
}

Test(engine_modes, standard_needs_both_nodes_records)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &w, code), PB_OK);
    for (int node = 1; node <= 2; node++) {
        pb_engine_node *n = &t.e->node[node - 1];
        pb_blob_ref ref = {w.id, (uint8_t)node, PB_BLOB_SHARE};
        uint8_t *sealed;
        size_t len;
        cr_assert_eq(pb_keystore_get_sealed(n->ks, &ref, &sealed, &len), PB_OK);
        cr_assert_eq(pb_keystore_delete(n->ks, &ref), PB_OK);
        uint8_t digest[32] = {9};
        pb_signature_result res;
        pb_status st = pb_engine_sign(t.e, w.id, digest, NULL, NULL, &res);
        cr_assert_eq(st, PB_ERR_NOT_FOUND, "node %d's data alone signed (%s)", 3 - node,
                     pb_status_name(st));
        cr_assert_eq(pb_keystore_put_sealed(n->ks, &ref, sealed, len), PB_OK);
        free(sealed);
        cr_assert_eq(sign_and_check(t.e, &w, NULL, NULL, 3), PB_OK, "%s", pb_last_error());
    }
    pb_test_engine_remove(&t);
}

Test(engine_modes, trustless_needs_the_organization_secret_for_everything)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    uint8_t secret[32], wrong[32];
    cr_assert_eq(pb_org_secret_generate(secret), PB_OK);
    memcpy(wrong, secret, 32);
    wrong[31] ^= 1;
    pb_secrets right = {.org_secret = secret}, bad = {.org_secret = wrong};
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "trustless", NULL, NULL, &w, code), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_engine_wallet_create(t.e, "trustless", NULL, &right, &w, code), PB_OK, "%s",
                 pb_last_error());
    uint8_t digest[32] = {5}, priv[32], pub[33];
    pb_signature_result res;
    /* Everything the service holds, but no secret or a wrong one. */
    cr_assert_eq(pb_engine_sign(t.e, w.id, digest, NULL, NULL, &res), PB_ERR_AUTH);
    cr_assert_eq(pb_engine_sign(t.e, w.id, digest, NULL, &bad, &res), PB_ERR_AUTH);
    cr_assert(strstr(pb_last_error(), "organization secret") != NULL ||
                  strstr(pb_last_error(), "Organization Secret") != NULL,
              "unclear error: %s", pb_last_error());
    cr_assert_eq(pb_engine_export(t.e, w.id, NULL, priv, pub), PB_ERR_AUTH);
    cr_assert_eq(pb_engine_export(t.e, w.id, &bad, priv, pub), PB_ERR_AUTH);
    cr_assert_eq(pb_engine_refresh(t.e, w.id, &bad), PB_ERR_AUTH);
    /* What node 1's KEK unseals is still ciphertext under the secret. */
    pb_blob_ref ref = {w.id, 1, PB_BLOB_SHARE};
    uint8_t *inner;
    size_t inner_len;
    cr_assert_eq(pb_keystore_get(t.e->node[0].ks, &ref, &inner, &inner_len), PB_OK);
    pb_share_p1 *p1 = NULL;
    cr_assert_neq(pb_share_p1_parse(&p1, inner, inner_len), PB_OK,
                  "node 1's KEK alone revealed P1's record");
    pb_secret_free(inner, inner_len);
    /* With the secret: sign, export, refresh. */
    cr_assert_eq(sign_and_check(t.e, &w, &right, "m/0/1", 4), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_engine_export(t.e, w.id, &right, priv, pub), PB_OK, "%s", pb_last_error());
    secp256k1_pubkey pk;
    uint8_t ser[33];
    size_t ser_len = 33;
    cr_assert(secp256k1_ec_pubkey_create(pb_secp256k1(), &pk, priv));
    secp256k1_ec_pubkey_serialize(pb_secp256k1(), ser, &ser_len, &pk, SECP256K1_EC_COMPRESSED);
    uint8_t expected[33];
    hex_to_bytes(w.public_key, expected, 33);
    cr_assert(memcmp(ser, expected, 33) == 0, "exported key is not the wallet's");
    cr_assert(memcmp(pub, expected, 33) == 0);
    pb_wallet_info after;
    cr_assert_eq(pb_engine_wallet_show(t.e, w.id, &after), PB_OK);
    cr_assert(after.exported, "the export is not marked");
    pb_test_engine_remove(&t);
}

Test(engine_modes, customer_pin_and_device_both_needed_and_lockout_after_five)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    pb_secrets right = {.pin = pin_a, .pin_len = 6, .device_dir = t.device};
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "customer", "alice", &right, &w, code), PB_OK, "%s",
                 pb_last_error());
    cr_assert(strlen(code) >= 26, "recovery code too short for 128 bits: %s", code);
    cr_assert_eq(sign_and_check(t.e, &w, &right, NULL, 7), PB_OK, "%s", pb_last_error());

    uint8_t digest[32] = {3};
    pb_signature_result res;
    char other_device[320];
    snprintf(other_device, sizeof other_device, "%s/other-device", t.home);
    pb_secrets no_device = {.pin = pin_a, .pin_len = 6};
    pb_secrets wrong_device = {.pin = pin_a, .pin_len = 6, .device_dir = other_device};
    cr_assert_eq(pb_engine_sign(t.e, w.id, digest, NULL, &no_device, &res), PB_ERR_AUTH);
    cr_assert_neq(pb_engine_sign(t.e, w.id, digest, NULL, &wrong_device, &res), PB_OK,
                  "the PIN without the device's salt signed");
    /* That attempt did not count: the device does not exist. Reset counters by a success. */
    cr_assert_eq(sign_and_check(t.e, &w, &right, NULL, 8), PB_OK, "%s", pb_last_error());

    pb_secrets wrong = {.pin = pin_b, .pin_len = 6, .device_dir = t.device};
    for (int i = 1; i <= 5; i++) {
        cr_assert_eq(pb_engine_sign(t.e, w.id, digest, NULL, &wrong, &res), PB_ERR_AUTH,
                     "wrong PIN %d", i);
        cr_assert(strstr(pb_last_error(), "654321") == NULL, "the PIN leaked into the error");
        pb_wallet_info s;
        cr_assert_eq(pb_engine_wallet_show(t.e, w.id, &s), PB_OK);
        cr_assert_eq(s.pin_failures, i);
        cr_assert_str_eq(s.state, i < 5 ? "active" : "locked_out");
    }
    cr_assert_eq(pb_engine_sign(t.e, w.id, digest, NULL, &right, &res), PB_ERR_REFUSED,
                 "a locked-out wallet signed with the right PIN");
    uint8_t priv[32], pub[33];
    cr_assert_eq(pb_engine_export(t.e, w.id, &right, priv, pub), PB_ERR_REFUSED);

    /* PIN reset with the recovery code: new PIN works, old PIN does not. */
    cr_assert_eq(pb_engine_pin_reset(t.e, w.id, t.device, "AAAA-BBBB", pin_b, 6), PB_ERR_ARGUMENT,
                 "a malformed code must be refused");
    cr_assert_eq(pb_engine_pin_reset(t.e, w.id, t.device, code, pin_b, 6), PB_OK, "%s",
                 pb_last_error());
    pb_wallet_info s;
    cr_assert_eq(pb_engine_wallet_show(t.e, w.id, &s), PB_OK);
    cr_assert_str_eq(s.state, "active");
    cr_assert_eq(s.pin_failures, 0);
    cr_assert_eq(s.generation, 1, "the reset must refresh the shares");
    pb_secrets renewed = {.pin = pin_b, .pin_len = 6, .device_dir = t.device};
    cr_assert_eq(sign_and_check(t.e, &w, &renewed, "m/1", 9), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_engine_sign(t.e, w.id, digest, NULL, &right, &res), PB_ERR_AUTH);
    pb_test_engine_remove(&t);
}

Test(engine_modes, pin_reset_makes_the_old_wrapped_secret_useless)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    pb_secrets right = {.pin = pin_a, .pin_len = 6, .device_dir = t.device};
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "customer", NULL, &right, &w, code), PB_OK);
    /* Everything the old PIN opened: the wrappedSecret, the salt and the verifier. */
    pb_blob_ref ref = {w.id, 1, PB_BLOB_WRAPPED_SECRET};
    uint8_t *old_wrapped;
    size_t old_len;
    cr_assert_eq(pb_keystore_get_sealed(t.e->node[1].ks, &ref, &old_wrapped, &old_len), PB_OK);
    char salt_path[400], saved_salt[400];
    snprintf(salt_path, sizeof salt_path, "%s/salt", t.device);
    snprintf(saved_salt, sizeof saved_salt, "%s/salt.before", t.home);
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", salt_path, saved_salt);
    cr_assert_eq(system(cmd), 0);
    pb_wallet_row row;
    cr_assert_eq(pb_wallet_db_get(t.e->node[1].db, w.id, &row), PB_OK);

    cr_assert_eq(pb_engine_pin_reset(t.e, w.id, t.device, code, pin_b, 6), PB_OK, "%s",
                 pb_last_error());
    /* Put the old wrappedSecret, salt and verifier back: the old PIN opens
     * an old record that no longer pairs with node 2's share. */
    cr_assert_eq(pb_keystore_put_sealed(t.e->node[1].ks, &ref, old_wrapped, old_len), PB_OK);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", saved_salt, salt_path);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(pb_wallet_db_set_pin_verifier(t.e->node[1].db, w.id, row.verifier), PB_OK);
    uint8_t digest[32] = {4};
    pb_signature_result res;
    pb_status st = pb_engine_sign(t.e, w.id, digest, NULL, &right, &res);
    cr_assert_eq(st, PB_ERR_INTEGRITY, "old wrappedSecret still signs (%s: %s)",
                 pb_status_name(st), pb_last_error());
    free(old_wrapped);
    pb_test_engine_remove(&t);
}

Test(engine_modes, pin_change_then_old_pin_fails_new_pin_signs)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    pb_secrets old = {.pin = pin_a, .pin_len = 6, .device_dir = t.device};
    pb_secrets renewed = {.pin = pin_b, .pin_len = 6, .device_dir = t.device};
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "customer", NULL, &old, &w, code), PB_OK);
    cr_assert_eq(pb_engine_pin_change(t.e, w.id, t.device, pin_b, 6, pin_a, 6), PB_ERR_AUTH,
                 "a change with the wrong old PIN went through");
    cr_assert_eq(pb_engine_pin_change(t.e, w.id, t.device, pin_a, 6, pin_b, 6), PB_OK, "%s",
                 pb_last_error());
    uint8_t digest[32] = {6};
    pb_signature_result res;
    cr_assert_eq(pb_engine_sign(t.e, w.id, digest, NULL, &old, &res), PB_ERR_AUTH);
    cr_assert_eq(sign_and_check(t.e, &w, &renewed, NULL, 10), PB_OK, "%s", pb_last_error());
    /* Export with the PIN gives the key of the wallet. */
    uint8_t priv[32], pub[33], expected[33];
    cr_assert_eq(pb_engine_export(t.e, w.id, &renewed, priv, pub), PB_OK, "%s", pb_last_error());
    hex_to_bytes(w.public_key, expected, 33);
    cr_assert(memcmp(pub, expected, 33) == 0);
    pb_test_engine_remove(&t);
}
