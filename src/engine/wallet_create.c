/* wallet_create.c - a new wallet by DKG between node 1 (or the customer's
 * device) and node 2. Storage order makes a crash harmless: node 2 stores
 * its record and row first, then P1's record is stored, and the wallet
 * exists only once node 1's row is written, which is last. A creation
 * journal entry covers the whole run: a failure removes the partial
 * records at once, a crash leaves them to the next start
 * (wallet_unfinished.c), which removes them and audits it. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/fail.h"
#include "common/fault.h"
#include "custody/pin.h"
#include "custody/recovery_code.h"
#include "custody/recovery_seal.h"
#include "engine/engine_internal.h"
#include "engine/wallet_lock.h"
#include "engine/storage_space.h"

static pb_status new_wallet_id(char id[PB_ENGINE_ID_SIZE])
{
    uint8_t raw[12];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return pb_fail(PB_ERR_CRYPTO, "random wallet id failed");
    id[0] = 'w';
    pb_hex_encode(id + 1, raw, sizeof raw);
    return PB_OK;
}

static pb_status fill_row(pb_wallet_row *row, const char *id, const char *name,
                          pb_custody_mode mode, const pb_share_p1 *p1)
{
    memset(row, 0, sizeof *row);
    snprintf(row->id, sizeof row->id, "%s", id);
    snprintf(row->name, sizeof row->name, "%s", name ? name : "");
    snprintf(row->mode, sizeof row->mode, "%s", pb_custody_mode_name(mode));
    uint8_t pub[PB_MPC_PUBKEY_BYTES];
    pb_share_p1_public_key(p1, pub);
    pb_hex_encode(row->public_key, pub, sizeof pub);
    pb_status st = pb_share_p1_xpub(p1, row->xpub);
    snprintf(row->state, sizeof row->state, PB_WALLET_STATE_ACTIVE);
    pb_engine_now(row->created);
    row->generation = pb_share_p1_generation(p1);
    row->pin_max = 5;
    return st;
}

/* Customer: the device's keys, node 2's verifier and the recovery key. */
static pb_status customer_setup(pb_p1_access *a, pb_wallet_row *row2,
                                char recovery_code[PB_ENGINE_RECOVERY_CODE_SIZE])
{
    pb_device dev;
    pb_kdf_params kdf;
    pb_kdf_params_default(&kdf);
    pb_status st = pb_device_open(a->secrets->device_dir, 1, &dev);
    if (st == PB_OK)
        st = pb_pin_derive(a->secrets->pin, a->secrets->pin_len, dev.salt, &kdf, a->sealing_key,
                           a->access_key);
    OPENSSL_cleanse(&dev, sizeof dev);
    if (st != PB_OK)
        return st;
    a->keys_ready = 1;
    pb_pin_verifier(a->access_key, a->wallet_id, row2->verifier);
    row2->has_verifier = 1;
    pb_scalar priv;
    pb_point pub;
    st = pb_recovery_code_new(recovery_code);
    if (st == PB_OK)
        st = pb_recovery_keypair(recovery_code, &priv, &pub);
    pb_scalar_wipe(&priv);
    if (st == PB_OK) {
        pb_point_serialize(row2->recovery_pub, &pub);
        row2->has_recovery_pub = 1;
    }
    return st;
}

static pb_status check_secrets(pb_custody_mode mode, const pb_secrets *s)
{
    if (mode == PB_MODE_TRUSTLESS && (!s || !s->org_secret))
        return pb_fail(PB_ERR_ARGUMENT, "a trustless wallet needs the Organization Secret");
    if (mode == PB_MODE_CUSTOMER && (!s || !s->pin || !s->device_dir))
        return pb_fail(PB_ERR_ARGUMENT, "a customer wallet needs a PIN and a device directory");
    return PB_OK;
}

pb_status pb_engine_wallet_create(pb_engine *e, const char *mode_name, const char *name,
                                  const pb_secrets *secrets, pb_wallet_info *info,
                                  char recovery_code[PB_ENGINE_RECOVERY_CODE_SIZE])
{
    recovery_code[0] = '\0';
    pb_status guard = pb_engine_require_writable(e, "wallet create");
    if (guard != PB_OK)
        return guard;
    pb_custody_mode mode;
    char id[PB_ENGINE_ID_SIZE];
    pb_status st = pb_custody_mode_parse(mode_name, &mode);
    if (st == PB_OK)
        st = check_secrets(mode, secrets);
    if (st == PB_OK && name && strlen(name) > 64)
        st = pb_fail(PB_ERR_ARGUMENT, "wallet name longer than 64 characters");
    if (st == PB_OK)
        st = pb_storage_check(&e->cfg);
    if (st == PB_OK)
        st = new_wallet_id(id);
    if (st != PB_OK)
        return st;

    pb_cosigner_params *params = NULL;
    pb_cosigner_public *pub = NULL;
    pb_share_p1 *p1 = NULL;
    pb_share_p2 *p2 = NULL;
    pb_p1_access access;
    pb_p1_access_init(&access, mode, id, secrets);
    pb_wallet_row row1, row2;
    memset(&row1, 0, sizeof row1);
    pb_wallet_lock lock;
    int journaled = 0;

    /* The journal entry is durable before the first record: a crash from
     * here on leaves a wallet the next start removes (wallet_unfinished.c). */
    st = pb_wallet_lock_take(e->cfg.home, id, PB_WALLET_LOCK_MAINTAIN, &lock);
    if (st == PB_OK)
        st = pb_create_journal_begin(e, id);
    journaled = st == PB_OK;
    if (st == PB_OK)
        st = pb_cosigner_load(e, &params);
    if (st == PB_OK)
        st = pb_cosigner_public_load(e, &pub);
    if (st == PB_OK)
        st = pb_run_dkg(e, pub, params, id, &p1, &p2);
    if (st == PB_OK)
        st = fill_row(&row1, id, name, mode, p1);
    row2 = row1;
    if (st == PB_OK && mode == PB_MODE_CUSTOMER)
        st = customer_setup(&access, &row2, recovery_code);
    if (st == PB_OK)
        st = pb_p2_store(e, id, PB_BLOB_SHARE, p2);
    pb_fault_point("create.after_p2_record");
    if (st == PB_OK)
        st = pb_wallet_db_insert(pb_node2(e)->db, &row2);
    pb_fault_point("create.after_p2_row");
    if (st == PB_OK)
        st = pb_p1_store(e, &access, p1);
    pb_fault_point("create.after_p1_record");
    if (st == PB_OK)
        st = pb_wallet_db_insert(pb_node1(e)->db, &row1);
    pb_fault_point("create.after_p1_row");
    if (st != PB_OK && journaled && pb_create_abandon(e, id) != PB_OK)
        journaled = 0; /* keep the journal: the next start removes the rest */
    st = pb_engine_audit_result(e, "wallet.create", id, NULL, st, PB_AUDIT_BOTH);
    if (journaled)
        pb_create_journal_end(e, id);
    pb_wallet_lock_release(&lock);
    if (st == PB_OK)
        pb_engine_info_from_row(info, &row1);
    else
        OPENSSL_cleanse(recovery_code, PB_ENGINE_RECOVERY_CODE_SIZE);
    pb_p1_access_wipe(&access);
    pb_share_p1_free(p1);
    pb_share_p2_free(p2);
    pb_cosigner_public_free(pub);
    pb_cosigner_params_free(params);
    return st;
}
