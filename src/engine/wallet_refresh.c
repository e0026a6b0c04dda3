/* wallet_refresh.c - share refresh: x1' = x1 + d, x2' = x2 - d, a fresh
 * Paillier key, same public key. Crash-safe order: node 2 stores the new
 * record as pending; P1 replaces its record; node 2 promotes pending to
 * current. Until P1 has replaced its record the old pair signs; after, the
 * pending record matches P1's and signing promotes it. */
#include <string.h>

#include "common/fail.h"
#include "common/fault.h"
#include "engine/engine_internal.h"
#include "engine/storage_space.h"
#include "engine/wallet_lock.h"

pb_status pb_p2_load_matching(pb_engine *e, const char *wallet_id, const pb_share_p1 *p1,
                              pb_share_p2 **p2)
{
    uint8_t want[PB_MPC_SHARE_ID_BYTES], have[PB_MPC_SHARE_ID_BYTES];
    pb_share_p1_id(p1, want);
    pb_blob_kind kinds[2] = {PB_BLOB_SHARE, PB_BLOB_SHARE_PENDING};
    for (int i = 0; i < 2; i++) {
        pb_status st = pb_p2_load(e, wallet_id, kinds[i], p2);
        if (st == PB_ERR_NOT_FOUND)
            continue;
        if (st != PB_OK)
            return st;
        pb_share_p2_id(*p2, have);
        if (memcmp(want, have, sizeof want) == 0)
            return PB_OK;
        pb_share_p2_free(*p2);
        *p2 = NULL;
    }
    return pb_fail(PB_ERR_INTEGRITY, "node 2 holds no record matching P1's for wallet %s",
                   wallet_id);
}

pb_status pb_refresh_and_store(pb_engine *e, pb_p1_access *store_as, const pb_share_p1 *p1,
                               const pb_share_p2 *p2)
{
    const char *id = store_as->wallet_id;
    pb_cosigner_params *params = NULL;
    pb_share_p1 *new1 = NULL;
    pb_share_p2 *new2 = NULL;
    pb_status st = pb_cosigner_load(e, &params);
    if (st == PB_OK)
        st = pb_run_refresh(e, p1, p2, params, &new1, &new2);
    pb_fault_point("refresh.after_protocol");
    if (st == PB_OK)
        st = pb_p2_store(e, id, PB_BLOB_SHARE_PENDING, new2);
    pb_fault_point("refresh.after_p2_pending");
    if (st == PB_OK)
        st = pb_p1_store(e, store_as, new1);
    pb_fault_point("refresh.after_p1_store");
    if (st == PB_OK)
        st = pb_wallet_db_set_generation(pb_node1(e)->db, id, pb_share_p1_generation(new1));
    pb_fault_point("refresh.after_p1_row");
    if (st == PB_OK)
        st = pb_p2_store(e, id, PB_BLOB_SHARE, new2);
    pb_fault_point("refresh.after_p2_promote");
    if (st == PB_OK) {
        pb_blob_ref pending = {id, 2, PB_BLOB_SHARE_PENDING};
        (void)pb_keystore_delete(pb_node2(e)->ks, &pending);
        st = pb_wallet_db_set_generation(pb_node2(e)->db, id, pb_share_p2_generation(new2));
    }
    pb_share_p1_free(new1);
    pb_share_p2_free(new2);
    pb_cosigner_params_free(params);
    return st;
}

/* A wallet that a global abort (or a crash in P1's decryption) locked is
 * refreshed only through pb_engine_wallet_unlock: the operator's decision. */
static pb_status refuse_if_locked(const pb_wallet_row *row)
{
    if (!strcmp(row->state, PB_WALLET_STATE_LOCKED) || row->in_doubt)
        return pb_fail(PB_ERR_REFUSED,
                       "wallet %s is locked (%s); a refresh does not unlock it: an operator "
                       "must run 'planbok wallet unlock'",
                       row->id, row->lock_reason[0] ? row->lock_reason : PB_WALLET_LOCK_IN_DOUBT);
    return PB_OK;
}

/* Refresh with the wallet's maintenance lock held. */
static pb_status refresh_locked(pb_engine *e, const char *wallet_id, pb_custody_mode mode,
                                const pb_secrets *secrets)
{
    pb_p1_access access;
    pb_p1_access_init(&access, mode, wallet_id, secrets);
    pb_share_p1 *p1 = NULL;
    pb_share_p2 *p2 = NULL;
    pb_status st = pb_p1_load(e, &access, &p1);
    if (st == PB_OK)
        st = pb_p2_load_matching(e, wallet_id, p1, &p2);
    if (st == PB_OK)
        st = pb_refresh_and_store(e, &access, p1, p2);
    pb_share_p1_free(p1);
    pb_share_p2_free(p2);
    pb_p1_access_wipe(&access);
    return st;
}

/* Reads node 1's row under the maintenance lock, so the state checked is
 * the state the operation runs on. */
static pb_status begin_maintenance(pb_engine *e, const char *wallet_id, pb_wallet_lock *lock,
                                   pb_wallet_row *row, pb_custody_mode *mode)
{
    pb_status st = pb_storage_check(&e->cfg);
    if (st == PB_OK)
        st = pb_wallet_db_get(pb_node1(e)->db, wallet_id, row);
    if (st == PB_OK)
        st = pb_wallet_lock_take(e->cfg.home, wallet_id, PB_WALLET_LOCK_MAINTAIN, lock);
    if (st == PB_OK)
        st = pb_wallet_db_get(pb_node1(e)->db, wallet_id, row);
    if (st == PB_OK)
        st = pb_custody_mode_parse(row->mode, mode);
    return st;
}

static pb_status require_locked(const pb_wallet_row *row)
{
    if (strcmp(row->state, PB_WALLET_STATE_LOCKED) != 0 && !row->in_doubt)
        return pb_fail(PB_ERR_ARGUMENT, "wallet %s is not locked (state %s)", row->id,
                       row->state);
    return PB_OK;
}

/* A refresh, or the operator's unlock: a refresh of a locked wallet with
 * the decision on record (write-ahead) before anything changes. The
 * refresh makes whatever a probing cosigner learnt about the old shares
 * useless and clears the record's lock flag. */
static pb_status refresh_wallet(pb_engine *e, const char *wallet_id, const pb_secrets *secrets,
                                int unlock)
{
    pb_status st = pb_engine_require_writable(e, unlock ? "wallet unlock" : "wallet refresh");
    if (st != PB_OK)
        return st;
    pb_wallet_row row;
    pb_custody_mode mode;
    pb_wallet_lock lock = {-1};
    memset(&row, 0, sizeof row);
    pthread_rwlock_rdlock(&e->maintenance);
    st = begin_maintenance(e, wallet_id, &lock, &row, &mode);
    if (st == PB_OK)
        st = unlock ? require_locked(&row) : refuse_if_locked(&row);
    if (st == PB_OK && unlock)
        st = pb_engine_audit(e, 1, "wallet.unlock.request", wallet_id, NULL, PB_OK, 0);
    if (st == PB_OK)
        st = refresh_locked(e, wallet_id, mode, secrets);
    if (st == PB_OK && unlock)
        st = pb_wallet_db_set_lock(pb_node1(e)->db, wallet_id, NULL);
    pb_wallet_lock_release(&lock);
    pthread_rwlock_unlock(&e->maintenance);
    if (st == PB_ERR_NOT_FOUND && row.id[0] == '\0')
        return st;
    return pb_engine_audit_result(e, unlock ? "wallet.unlock" : "refresh", wallet_id, NULL, st,
                                  PB_AUDIT_BOTH);
}

pb_status pb_engine_refresh(pb_engine *e, const char *wallet_id, const pb_secrets *secrets)
{
    return refresh_wallet(e, wallet_id, secrets, 0);
}

pb_status pb_engine_wallet_unlock(pb_engine *e, const char *wallet_id, const pb_secrets *secrets)
{
    return refresh_wallet(e, wallet_id, secrets, 1);
}
