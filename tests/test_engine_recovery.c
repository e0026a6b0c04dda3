/* Admin-led recovery into a fresh token, and the global abort persisted in
 * the wallet's state until the operator's unlock. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "crypto/paillier.h"
#include "engine/audit_wiring.h"
#include "engine/engine_internal.h"
#include "mpc/share.h"
#include "pkcs11/softhsm_dev.h"
#include "support/custody_fixture.h"
#include "support/engine_fixture.h"
#include "support/mpc_runner.h"

/* Points node 1 at a brand-new token (new KEK) as after losing its HSM. */
static void replace_node1_token(pb_test_engine *t)
{
    pb_engine_close(t->e);
    t->e = NULL;
    pb_config cfg;
    char path[600], softhsm[600];
    snprintf(cfg.home, sizeof cfg.home, "%s", t->home);
    pb_config_path(t->home, path, sizeof path);
    cr_assert_eq(pb_config_load(path, &cfg), PB_OK);
    pb_config_softhsm_dir(&cfg, softhsm, sizeof softhsm);
    const char *label = "planbok-node1-new";
    cr_assert_eq(pb_softhsm_dev_provision(cfg.node[0].module, softhsm, &label, 1), PB_OK);
    snprintf(cfg.node[0].token_label, sizeof cfg.node[0].token_label, "%s", label);
    pb_softhsm_dev_pin_path(softhsm, label, cfg.node[0].pin_file, sizeof cfg.node[0].pin_file);
    cr_assert_eq(pb_config_write(path, &cfg), PB_OK);
    pb_keystore *ks = NULL;
    cr_assert_eq(pb_keystore_open(&cfg.node[0], PB_KEYSTORE_CREATE, &ks), PB_OK, "%s",
                 pb_last_error());
    pb_keystore_close(ks);
    pb_test_engine_reopen(t);
}

Test(engine_recovery, node1_restored_into_a_fresh_token_signs_again)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    char pub[400], priv[400], other_pub[400], other_priv[400], weak_pub[400], weak_priv[400];
    cx_rsa_key_paths(3072, 0, t.home, pub, priv, sizeof pub);
    cx_rsa_key_paths(3072, 1, t.home, other_pub, other_priv, sizeof other_pub);
    cx_rsa_key_paths(2048, 0, t.home, weak_pub, weak_priv, sizeof weak_pub);
    uint8_t secret[32] = {7, 7, 7};
    pb_secrets trustless = {.org_secret = secret};
    pb_wallet_info a, b;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &a, code), PB_OK);
    cr_assert_eq(pb_engine_wallet_create(t.e, "trustless", NULL, &trustless, &b, code), PB_OK);
    char file[400];
    snprintf(file, sizeof file, "%s/node1.backup", t.home);
    size_t records = 0;
    cr_assert_eq(pb_engine_backup(t.e, 1, weak_pub, file, &records), PB_ERR_ARGUMENT,
                 "a 2048-bit recovery key must be refused");
    cr_assert_eq(pb_engine_backup(t.e, 1, pub, file, &records), PB_OK, "%s", pb_last_error());
    cr_assert_eq(records, 2);

    replace_node1_token(&t);
    uint8_t digest[32] = {1};
    pb_signature_result res;
    cr_assert_eq(pb_engine_sign(t.e, a.id, digest, NULL, NULL, &res), PB_ERR_NOT_FOUND,
                 "the fresh token should hold nothing yet");
    cr_assert_eq(pb_engine_restore(t.e, 1, other_priv, file, &records), PB_ERR_AUTH,
                 "another private key opened the backup");
    cr_assert_eq(pb_engine_restore(t.e, 2, priv, file, &records), PB_ERR_ARGUMENT,
                 "a node-1 backup was restored into node 2");
    cr_assert_eq(pb_engine_restore(t.e, 1, priv, file, &records), PB_OK, "%s", pb_last_error());
    cr_assert_eq(records, 2);
    pb_test_assert_signs(&t, a.id, NULL);
    pb_test_assert_signs(&t, b.id, &trustless);
    /* The trustless record came back still under the Organization Secret. */
    cr_assert_eq(pb_engine_sign(t.e, b.id, digest, NULL, NULL, &res), PB_ERR_AUTH);
    pb_test_engine_remove(&t);
}

Test(engine_recovery, global_abort_is_persisted_and_only_an_unlock_clears_it)
{
    pb_test_engine t;
    pb_test_engine_make(&t);
    pb_wallet_info w;
    char code[PB_ENGINE_RECOVERY_CODE_SIZE];
    cr_assert_eq(pb_engine_wallet_create(t.e, "standard", NULL, NULL, &w, code), PB_OK);
    uint8_t *good;
    size_t good_len;
    pb_test_corrupt_cosigner(&t, w.id, &good, &good_len);
    uint8_t digest[32] = {2};
    pb_signature_result res;
    pb_status st = pb_engine_sign(t.e, w.id, digest, NULL, NULL, &res);
    cr_assert_eq(st, PB_ERR_ABORTED, "got %s: %s", pb_status_name(st), pb_last_error());
    static const uint8_t zero[64];
    cr_assert(memcmp(res.sig, zero, 64) == 0, "a signature was released");
    /* Locked in the database and in P1's sealed record, across a restart,
     * and audited at node 1. */
    pb_test_engine_reopen(&t);
    char seg[800], log[1 << 16] = "";
    pb_node_audit_dir(&t.e->cfg, 1, seg, sizeof seg);
    strcat(seg, "/audit-000001.jsonl");
    FILE *f = fopen(seg, "r");
    cr_assert_not_null(f, "no audit log at %s", seg);
    size_t got = fread(log, 1, sizeof log - 1, f);
    fclose(f);
    log[got] = '\0';
    cr_assert(strstr(log, "\"sign.abort\"") && strstr(log, "\"wallet.locked\""),
              "the global abort is not in node 1's audit log");
    pb_wallet_info s;
    cr_assert_eq(pb_engine_wallet_show(t.e, w.id, &s), PB_OK);
    cr_assert_str_eq(s.state, "locked");
    pb_share_p1 *p1 = NULL;
    pb_p1_access access;
    pb_p1_access_init(&access, PB_MODE_STANDARD, w.id, NULL);
    cr_assert_eq(pb_p1_load(t.e, &access, &p1), PB_OK);
    cr_assert(pb_share_p1_is_locked(p1), "the sealed record does not carry the lock");
    pb_share_p1_free(p1);
    /* Even with node 2 repaired, signing stays refused until a refresh. */
    pb_blob_ref ref = {w.id, 2, PB_BLOB_SHARE};
    cr_assert_eq(pb_keystore_put_sealed(t.e->node[1].ks, &ref, good, good_len), PB_OK);
    free(good);
    cr_assert_eq(pb_engine_sign(t.e, w.id, digest, NULL, NULL, &res), PB_ERR_REFUSED);
    /* A database edit alone does not unlock: the record refuses too. */
    cr_assert_eq(pb_wallet_db_set_state(t.e->node[0].db, w.id, "active"), PB_OK);
    cr_assert_eq(pb_engine_sign(t.e, w.id, digest, NULL, NULL, &res), PB_ERR_ABORTED);
    /* A plain refresh is no way out; the operator's unlock is. */
    cr_assert_eq(pb_engine_refresh(t.e, w.id, NULL), PB_ERR_REFUSED);
    cr_assert_eq(pb_engine_wallet_unlock(t.e, w.id, NULL), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_engine_wallet_show(t.e, w.id, &s), PB_OK);
    cr_assert_str_eq(s.state, "active");
    pb_test_assert_signs(&t, w.id, NULL);
    pb_test_engine_remove(&t);
}
