/* pin_ops.c - PIN change (old PIN + new PIN) and the PIN Reset Protocol
 * (recovery code + new PIN). Both end in a refresh so the old wrappedSecret
 * opens a record that no longer pairs with node 2's share; the new record is
 * wrapped under the new PIN's key with a new device salt, node 2 gets the new
 * verifier, and the failure counter and lock-out are cleared.
 * The recovery copy follows every new record (it is sealed to the code's
 * public key), so after a crash at any step the recovery code still resets
 * the PIN; the PIN that matches node 2's verifier keeps working too. */
#include <string.h>

#include <openssl/crypto.h>

#include "common/fail.h"
#include "common/fault.h"
#include "common/secret.h"
#include "custody/device.h"
#include "custody/pin.h"
#include "custody/recovery_code.h"
#include "custody/recovery_seal.h"
#include "engine/engine_internal.h"
#include "engine/storage_space.h"
#include "engine/wallet_lock.h"

static pb_status customer_row(pb_engine *e, const char *wallet_id, pb_wallet_row *row)
{
    pb_status st = pb_wallet_db_get(pb_node2(e)->db, wallet_id, row);
    if (st == PB_OK && strcmp(row->mode, "customer") != 0)
        st = pb_fail(PB_ERR_ARGUMENT, "wallet %s is not a customer wallet", wallet_id);
    return st;
}

/* A new PIN must not be a way around the global abort: its refresh would
 * clear the lock that only the operator's unlock may clear. Checked under
 * the wallet's maintenance lock. */
static pb_status refuse_if_aborted(pb_engine *e, const char *wallet_id)
{
    pb_wallet_row row1;
    pb_status st = pb_wallet_db_get(pb_node1(e)->db, wallet_id, &row1);
    if (st == PB_OK && (!strcmp(row1.state, PB_WALLET_STATE_LOCKED) || row1.in_doubt))
        st = pb_fail(PB_ERR_REFUSED,
                     "wallet %s is locked by the global abort; an operator must run "
                     "'planbok wallet unlock' before the PIN can change",
                     wallet_id);
    return st;
}

/* New salt (staged), new keys, refresh, store, new verifier, then the salt
 * is committed. A crash before the commit leaves the old salt in force and
 * the new one staged; loading tries both (p1_material.c). */
static pb_status rekey(pb_engine *e, const char *wallet_id, const char *device_dir,
                       const uint8_t *new_pin, size_t new_len, const pb_share_p1 *p1)
{
    pb_secrets fresh = {.pin = new_pin, .pin_len = new_len, .device_dir = device_dir};
    pb_p1_access store_as;
    pb_p1_access_init(&store_as, PB_MODE_CUSTOMER, wallet_id, &fresh);
    pb_device dev;
    pb_kdf_params kdf;
    pb_kdf_params_default(&kdf);
    uint8_t salt[PB_DEVICE_SALT_BYTES];
    pb_share_p2 *p2 = NULL;
    pb_status st = pb_device_open(device_dir, 1, &dev);
    if (st == PB_OK)
        st = pb_device_stage_salt(device_dir, salt);
    if (st == PB_OK)
        st = pb_pin_derive(new_pin, new_len, salt, &kdf, store_as.sealing_key,
                           store_as.access_key);
    OPENSSL_cleanse(salt, sizeof salt);
    store_as.keys_ready = st == PB_OK;
    pb_fault_point("pin.after_stage");
    /* Node 2 accepts the new PIN beside the old one before the wrappedSecret
     * changes, so whichever record a crash leaves, its PIN is accepted. */
    uint8_t verifier[32];
    pb_pin_verifier(store_as.access_key, wallet_id, verifier);
    if (st == PB_OK)
        st = pb_wallet_db_set_verifier_next(pb_node2(e)->db, wallet_id, verifier);
    pb_fault_point("pin.after_next_verifier");
    if (st == PB_OK)
        st = pb_p2_load_matching(e, wallet_id, p1, &p2);
    if (st == PB_OK)
        st = pb_refresh_and_store(e, &store_as, p1, p2);
    pb_fault_point("pin.after_store");
    if (st == PB_OK)
        st = pb_wallet_db_set_pin_verifier(pb_node2(e)->db, wallet_id, verifier);
    pb_fault_point("pin.after_verifier");
    if (st == PB_OK)
        st = pb_device_commit_salt(device_dir, &dev);
    OPENSSL_cleanse(&dev, sizeof dev);
    pb_share_p2_free(p2);
    pb_p1_access_wipe(&store_as);
    return st;
}

pb_status pb_engine_pin_change(pb_engine *e, const char *wallet_id, const char *device_dir,
                               const uint8_t *old_pin, size_t old_len, const uint8_t *new_pin,
                               size_t new_len)
{
    pb_status guard = pb_engine_require_writable(e, "pin change");
    if (guard != PB_OK)
        return guard;
    pb_wallet_row row;
    pb_status st = customer_row(e, wallet_id, &row);
    if (st == PB_OK)
        st = pb_storage_check(&e->cfg);
    if (st != PB_OK)
        return st;
    pthread_rwlock_rdlock(&e->maintenance);
    pb_wallet_lock lock;
    pb_secrets old = {.pin = old_pin, .pin_len = old_len, .device_dir = device_dir};
    pb_p1_access access;
    pb_p1_access_init(&access, PB_MODE_CUSTOMER, wallet_id, &old);
    pb_share_p1 *p1 = NULL;
    st = pb_wallet_lock_take(e->cfg.home, wallet_id, PB_WALLET_LOCK_MAINTAIN, &lock);
    if (st == PB_OK)
        st = refuse_if_aborted(e, wallet_id);
    if (st == PB_OK)
        st = pb_p1_load(e, &access, &p1);
    pb_p1_access_wipe(&access);
    if (st == PB_OK)
        st = rekey(e, wallet_id, device_dir, new_pin, new_len, p1);
    pb_share_p1_free(p1);
    pb_wallet_lock_release(&lock);
    pthread_rwlock_unlock(&e->maintenance);
    return pb_engine_audit_result(e, "pin.change", wallet_id, NULL, st, PB_AUDIT_BOTH);
}

pb_status pb_engine_pin_reset(pb_engine *e, const char *wallet_id, const char *device_dir,
                              const char *recovery_code, const uint8_t *new_pin, size_t new_len)
{
    pb_status guard = pb_engine_require_writable(e, "pin reset");
    if (guard != PB_OK)
        return guard;
    pb_wallet_row row;
    pb_status st = customer_row(e, wallet_id, &row);
    if (st == PB_OK)
        st = pb_storage_check(&e->cfg);
    if (st != PB_OK)
        return st;
    pb_scalar priv;
    pb_point pub, stored;
    char code[PB_RECOVERY_CODE_MAX];
    st = pb_recovery_code_parse(recovery_code, code);
    if (st == PB_OK)
        st = pb_recovery_keypair(code, &priv, &pub);
    OPENSSL_cleanse(code, sizeof code);
    if (st == PB_OK && (!row.has_recovery_pub || pb_point_parse(&stored, row.recovery_pub) != PB_OK))
        st = pb_fail(PB_ERR_INTEGRITY, "wallet %s has no recovery key at node 2", wallet_id);
    if (st == PB_OK && !pb_point_equal(&pub, &stored))
        st = pb_fail(PB_ERR_AUTH, "the recovery code does not belong to wallet %s", wallet_id);
    if (st != PB_OK) {
        pb_scalar_wipe(&priv);
        return pb_engine_audit_result(e, "pin.reset", wallet_id, NULL, st, PB_AUDIT_NODE2);
    }
    pthread_rwlock_rdlock(&e->maintenance);
    pb_wallet_lock lock;
    pb_blob_ref ref = {wallet_id, 1, PB_BLOB_RECOVERY};
    uint8_t *sealed = NULL, *plain = NULL;
    size_t sealed_len = 0, plain_len = 0;
    pb_share_p1 *p1 = NULL;
    st = pb_wallet_lock_take(e->cfg.home, wallet_id, PB_WALLET_LOCK_MAINTAIN, &lock);
    if (st == PB_OK)
        st = refuse_if_aborted(e, wallet_id);
    if (st == PB_OK)
        st = pb_keystore_get(pb_node2(e)->ks, &ref, &sealed, &sealed_len);
    if (st == PB_OK)
        st = pb_recovery_open(&priv, wallet_id, sealed, sealed_len, &plain, &plain_len);
    pb_scalar_wipe(&priv);
    pb_secret_free(sealed, sealed_len);
    if (st == PB_OK)
        st = pb_share_p1_parse(&p1, plain, plain_len);
    pb_secret_free(plain, plain_len);
    if (st == PB_OK)
        st = rekey(e, wallet_id, device_dir, new_pin, new_len, p1);
    pb_share_p1_free(p1);
    pb_wallet_lock_release(&lock);
    pthread_rwlock_unlock(&e->maintenance);
    return pb_engine_audit_result(e, "pin.reset", wallet_id, NULL, st, PB_AUDIT_BOTH);
}
