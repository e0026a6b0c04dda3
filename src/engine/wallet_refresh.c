/* wallet_refresh.c - share refresh: x1' = x1 + d, x2' = x2 - d, a fresh
 * Paillier key, same public key. Crash-safe order: node 2 stores the new
 * record as pending; P1 replaces its record; node 2 promotes pending to
 * current. Until P1 has replaced its record the old pair signs; after, the
 * pending record matches P1's and signing promotes it. */
#include <string.h>

#include "common/fail.h"
#include "common/fault.h"
#include "engine/engine_internal.h"

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
    if (st == PB_OK)
        st = pb_wallet_db_set_state(pb_node1(e)->db, id, PB_WALLET_STATE_ACTIVE);
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

pb_status pb_engine_refresh(pb_engine *e, const char *wallet_id, const pb_secrets *secrets)
{
    pb_status guard = pb_engine_require_writable(e, "wallet refresh");
    if (guard != PB_OK)
        return guard;
    pb_wallet_row row;
    pb_custody_mode mode;
    pb_status st = pb_wallet_db_get(pb_node1(e)->db, wallet_id, &row);
    if (st == PB_OK)
        st = pb_custody_mode_parse(row.mode, &mode);
    if (st != PB_OK)
        return st;
    pthread_rwlock_wrlock(&e->maintenance);
    pb_p1_access access;
    pb_p1_access_init(&access, mode, wallet_id, secrets);
    pb_share_p1 *p1 = NULL;
    pb_share_p2 *p2 = NULL;
    st = pb_p1_load(e, &access, &p1);
    if (st == PB_OK)
        st = pb_p2_load_matching(e, wallet_id, p1, &p2);
    if (st == PB_OK)
        st = pb_refresh_and_store(e, &access, p1, p2);
    st = pb_engine_audit_result(e, "refresh", wallet_id, NULL, st, PB_AUDIT_BOTH);
    pb_share_p1_free(p1);
    pb_share_p2_free(p2);
    pb_p1_access_wipe(&access);
    pthread_rwlock_unlock(&e->maintenance);
    return st;
}
