/* p1_material.c - where P1's record lives in each custody mode, and the
 * checks that guard it:
 *   standard:  node 1's key store, sealed by node 1's KEK;
 *   trustless: node 1's key store, sealed by node 1's KEK over an AES-GCM
 *              layer keyed by HKDF(Organization Secret, wallet id);
 *   customer:  node 2's key store as the wrappedSecret (AES-GCM under a key
 *              from Argon2id(PIN, device salt)), plus a recovery copy sealed
 *              to the recovery code's public key. Node 2 releases the
 *              wrappedSecret only after the access key matches its verifier,
 *              and counts consecutive failures.
 * The unsealed bytes are wiped as soon as they are parsed.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "common/bytes.h"
#include "common/fail.h"
#include "common/secret.h"
#include "custody/org_secret.h"
#include "custody/device.h"
#include "custody/pin.h"
#include "custody/recovery_seal.h"
#include "engine/engine_internal.h"

void pb_p1_access_init(pb_p1_access *a, pb_custody_mode mode, const char *wallet_id,
                       const pb_secrets *secrets)
{
    memset(a, 0, sizeof *a);
    a->mode = mode;
    a->wallet_id = wallet_id;
    a->secrets = secrets;
}

void pb_p1_access_wipe(pb_p1_access *a)
{
    OPENSSL_cleanse(a->sealing_key, sizeof a->sealing_key);
    OPENSSL_cleanse(a->access_key, sizeof a->access_key);
    a->keys_ready = 0;
}

static pb_status need_org_secret(const pb_p1_access *a)
{
    if (!a->secrets || !a->secrets->org_secret)
        return pb_fail(PB_ERR_AUTH, "wallet %s is trustless: the Organization Secret is required",
                       a->wallet_id);
    return PB_OK;
}

static pb_status need_pin(const pb_p1_access *a)
{
    if (!a->secrets || !a->secrets->pin || !a->secrets->device_dir)
        return pb_fail(PB_ERR_AUTH,
                       "wallet %s is a customer wallet: the PIN and the device directory are "
                       "required",
                       a->wallet_id);
    return PB_OK;
}

/* Customer: the keys from the PIN and a salt. */
static pb_status derive_with_salt(pb_p1_access *a, const uint8_t salt[PB_DEVICE_SALT_BYTES],
                                  const pb_kdf_params *kdf)
{
    pb_status st = pb_pin_derive(a->secrets->pin, a->secrets->pin_len, salt, kdf, a->sealing_key,
                                 a->access_key);
    a->keys_ready = st == PB_OK;
    return st;
}

/* Which of node 2's verifiers the derived access key matches: 1 the
 * current one, 2 the one a PIN change or reset in flight added, 0 none. */
static int verifier_match(const pb_wallet_row *row, const pb_p1_access *a)
{
    if (pb_pin_verifier_matches(row->verifier, a->access_key, a->wallet_id))
        return 1;
    if (row->has_verifier_next &&
        pb_pin_verifier_matches(row->verifier_next, a->access_key, a->wallet_id))
        return 2;
    return 0;
}

/* A PIN change or reset that stored the new wrappedSecret but was cut short
 * before its end is finished here, by the first use of the new PIN: the new
 * verifier becomes the only one and the device commits the staged salt. */
static pb_status roll_forward(pb_engine *e, pb_p1_access *a, const pb_wallet_row *row, int which,
                              pb_device *dev)
{
    pb_status st = PB_OK;
    if (which == 2)
        st = pb_wallet_db_set_pin_verifier(pb_node2(e)->db, a->wallet_id, row->verifier_next);
    if (st == PB_OK)
        st = pb_device_commit_salt(a->secrets->device_dir, dev);
    return st;
}

static pb_status count_failure(pb_engine *e, pb_p1_access *a, const pb_wallet_row *row)
{
    int failures = 0, locked_out = 0;
    pb_status st = pb_wallet_db_pin_failure(pb_node2(e)->db, a->wallet_id, &failures, &locked_out);
    if (st == PB_OK)
        st = pb_engine_audit(e, 2, "pin.fail", a->wallet_id, NULL, PB_ERR_AUTH, !locked_out);
    if (st == PB_OK && locked_out)
        st = pb_engine_audit(e, 2, "pin.locked_out", a->wallet_id, NULL, PB_ERR_REFUSED, 1);
    if (st != PB_OK)
        return st;
    return pb_fail(PB_ERR_AUTH, "wrong PIN for wallet %s (%d of %d attempts used%s)",
                   a->wallet_id, failures, row->pin_max,
                   locked_out ? "; the wallet is now locked out" : "");
}

/* Node 2's gate and P1's unwrap. The PIN is tried with the device's salt
 * and, while a PIN change or reset is in flight, with its staged salt; the
 * access key must match node 2's verifier (or the in-flight new one), and
 * the wrappedSecret must open with the matching sealing key. After a crash
 * at any step of a change exactly one of the old and the new PIN does both.
 * A miss on every verifier counts once; a match that does not open (the new
 * PIN before its record was stored) is not a wrong guess and is not
 * counted. */
static pb_status open_at_node2(pb_engine *e, pb_p1_access *a, const pb_kdf_params *kdf,
                               const uint8_t *sealed, size_t sealed_len, uint8_t **plain,
                               size_t *plain_len)
{
    pb_wallet_row row;
    pb_device dev;
    uint8_t salts[2][PB_DEVICE_SALT_BYTES];
    pb_status st = pb_wallet_db_get(pb_node2(e)->db, a->wallet_id, &row);
    if (st != PB_OK)
        return st;
    if (!strcmp(row.state, PB_WALLET_STATE_LOCKED_OUT))
        return pb_fail(PB_ERR_REFUSED,
                       "wallet %s is locked out after %d failed PIN attempts; run the PIN reset",
                       a->wallet_id, row.pin_failures);
    if (!row.has_verifier)
        return pb_fail(PB_ERR_INTEGRITY, "wallet %s has no PIN verifier at node 2", a->wallet_id);
    st = pb_device_open(a->secrets->device_dir, 0, &dev);
    if (st != PB_OK)
        return pb_fail_context(st == PB_ERR_NOT_FOUND ? PB_ERR_AUTH : st, "device directory");
    memcpy(salts[0], dev.salt, sizeof salts[0]);
    int n_salts = 1 + (pb_device_staged_salt(a->secrets->device_dir, salts[1]) == PB_OK);
    int matched = 0, opened = 0;
    for (int i = 0; st == PB_OK && !opened && i < n_salts; i++) {
        st = derive_with_salt(a, salts[i], kdf);
        int which = st == PB_OK ? verifier_match(&row, a) : 0;
        if (!which)
            continue;
        matched = 1;
        if (pb_pin_unwrap(a->sealing_key, a->wallet_id, sealed, sealed_len, plain,
                          plain_len) != PB_OK)
            continue;
        opened = 1;
        if (i == 1)
            st = roll_forward(e, a, &row, which, &dev);
    }
    OPENSSL_cleanse(salts, sizeof salts);
    OPENSSL_cleanse(&dev, sizeof dev);
    if (st == PB_OK && opened)
        st = pb_wallet_db_pin_success(pb_node2(e)->db, a->wallet_id);
    if (st != PB_OK || opened) {
        if (st != PB_OK) {
            pb_secret_free(*plain, *plain_len);
            *plain = NULL;
            *plain_len = 0;
        }
        return st;
    }
    if (matched)
        return pb_fail(PB_ERR_AUTH,
                       "wallet %s: a PIN change or reset was cut short before the new PIN took "
                       "effect; use the previous PIN (or the recovery code)",
                       a->wallet_id);
    return count_failure(e, a, &row);
}

pb_status pb_p1_load(pb_engine *e, pb_p1_access *a, pb_share_p1 **share)
{
    *share = NULL;
    uint8_t *sealed = NULL, *plain = NULL;
    size_t sealed_len = 0, plain_len = 0;
    pb_status st;
    if (a->mode == PB_MODE_CUSTOMER) {
        if ((st = need_pin(a)) != PB_OK)
            return st;
        pb_blob_ref ref = {a->wallet_id, 1, PB_BLOB_WRAPPED_SECRET};
        st = pb_keystore_get(pb_node2(e)->ks, &ref, &sealed, &sealed_len);
        pb_kdf_params kdf;
        if (st == PB_OK)
            st = pb_pin_wrapped_kdf(sealed, sealed_len, &kdf);
        if (st == PB_OK)
            st = open_at_node2(e, a, &kdf, sealed, sealed_len, &plain, &plain_len);
        pb_secret_free(sealed, sealed_len);
    } else {
        pb_blob_ref ref = {a->wallet_id, 1, PB_BLOB_SHARE};
        if (a->mode == PB_MODE_TRUSTLESS && (st = need_org_secret(a)) != PB_OK)
            return st;
        st = pb_keystore_get(pb_node1(e)->ks, &ref, &sealed, &sealed_len);
        if (st == PB_OK && a->mode == PB_MODE_TRUSTLESS) {
            st = pb_org_unwrap(a->secrets->org_secret, a->wallet_id, sealed, sealed_len, &plain,
                               &plain_len);
            pb_secret_free(sealed, sealed_len);
        } else if (st == PB_OK) {
            plain = sealed;
            plain_len = sealed_len;
        }
    }
    if (st == PB_OK) {
        st = pb_share_p1_parse(share, plain, plain_len);
        if (st != PB_OK)
            st = pb_fail_context(st, "P1 record of wallet %s", a->wallet_id);
    }
    pb_secret_free(plain, plain_len);
    return st;
}

static pb_status store_customer(pb_engine *e, pb_p1_access *a, const uint8_t *plain,
                                size_t plain_len)
{
    pb_kdf_params kdf;
    pb_kdf_params_default(&kdf);
    pb_status st = PB_OK;
    if (!a->keys_ready) {
        pb_device dev;
        st = pb_device_open(a->secrets->device_dir, 0, &dev);
        if (st == PB_OK)
            st = derive_with_salt(a, dev.salt, &kdf);
        OPENSSL_cleanse(&dev, sizeof dev);
    }
    uint8_t *wrapped = NULL, *recovery = NULL;
    size_t wrapped_len = 0, recovery_len = 0;
    pb_wallet_row row;
    pb_point recovery_pub;
    if (st == PB_OK)
        st = pb_pin_wrap(a->sealing_key, &kdf, a->wallet_id, plain, plain_len, &wrapped,
                         &wrapped_len);
    if (st == PB_OK)
        st = pb_wallet_db_get(pb_node2(e)->db, a->wallet_id, &row);
    if (st == PB_OK && !row.has_recovery_pub)
        st = pb_fail(PB_ERR_INTEGRITY, "wallet %s has no recovery key at node 2", a->wallet_id);
    if (st == PB_OK)
        st = pb_point_parse(&recovery_pub, row.recovery_pub);
    if (st == PB_OK)
        st = pb_recovery_seal(&recovery_pub, a->wallet_id, plain, plain_len, &recovery,
                              &recovery_len);
    /* Recovery copy first: a crash in between leaves a wrappedSecret that
     * still opens, and a recovery copy of the newest record. */
    pb_blob_ref rec_ref = {a->wallet_id, 1, PB_BLOB_RECOVERY};
    pb_blob_ref wrap_ref = {a->wallet_id, 1, PB_BLOB_WRAPPED_SECRET};
    if (st == PB_OK)
        st = pb_keystore_put(pb_node2(e)->ks, &rec_ref, recovery, recovery_len);
    if (st == PB_OK)
        st = pb_keystore_put(pb_node2(e)->ks, &wrap_ref, wrapped, wrapped_len);
    pb_bytes_free(wrapped, wrapped_len);
    pb_bytes_free(recovery, recovery_len);
    return st;
}

pb_status pb_p1_store(pb_engine *e, pb_p1_access *a, const pb_share_p1 *share)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    pb_status st = pb_share_p1_serialize(share, &plain, &plain_len);
    if (st != PB_OK)
        return st;
    if (a->mode == PB_MODE_CUSTOMER) {
        st = need_pin(a);
        if (st == PB_OK)
            st = store_customer(e, a, plain, plain_len);
    } else {
        pb_blob_ref ref = {a->wallet_id, 1, PB_BLOB_SHARE};
        if (a->mode == PB_MODE_TRUSTLESS) {
            uint8_t *wrapped = NULL;
            size_t wrapped_len = 0;
            st = need_org_secret(a);
            if (st == PB_OK)
                st = pb_org_wrap(a->secrets->org_secret, a->wallet_id, plain, plain_len, &wrapped,
                                 &wrapped_len);
            if (st == PB_OK)
                st = pb_keystore_put(pb_node1(e)->ks, &ref, wrapped, wrapped_len);
            pb_bytes_free(wrapped, wrapped_len);
        } else {
            st = pb_keystore_put(pb_node1(e)->ks, &ref, plain, plain_len);
        }
    }
    pb_mpc_bytes_free(plain, plain_len);
    return st;
}
