/* wallet_export.c - export per the custody matrix: Standard is refused;
 * Trustless needs the Organization Secret and Customer the PIN (proved by
 * unsealing P1's record). The exported key x1 + x2 is checked against the
 * wallet's public key before it is handed out, and the export is recorded
 * in both nodes' wallet state. */
#include <string.h>

#include "common/fail.h"
#include "engine/engine_internal.h"
#include "engine/wallet_lock.h"
#include "mpc/share.h"

pb_status pb_engine_export(pb_engine *e, const char *wallet_id, const pb_secrets *secrets,
                           uint8_t private_key[32], uint8_t public_key[33])
{
    memset(private_key, 0, 32);
    pb_status guard = pb_engine_require_writable(e, "wallet export");
    if (guard != PB_OK)
        return guard;
    pb_wallet_row row;
    pb_custody_mode mode;
    pb_status st = pb_wallet_db_get(pb_node1(e)->db, wallet_id, &row);
    if (st == PB_OK)
        st = pb_custody_mode_parse(row.mode, &mode);
    if (st == PB_OK && (st = pb_export_allowed(mode)) != PB_OK)
        return pb_engine_audit_result(e, "export.refused", wallet_id, NULL, st, PB_AUDIT_BOTH);
    if (st != PB_OK)
        return st;
    pthread_rwlock_rdlock(&e->maintenance);
    pb_wallet_lock lock;
    pb_p1_access access;
    pb_p1_access_init(&access, mode, wallet_id, secrets);
    pb_share_p1 *p1 = NULL;
    pb_share_p2 *p2 = NULL;
    pb_scalar x;
    pb_point q;
    st = pb_wallet_lock_take(e->cfg.home, wallet_id, PB_WALLET_LOCK_SIGN, &lock);
    if (st == PB_OK)
        st = pb_p1_load(e, &access, &p1);
    if (st == PB_OK)
        st = pb_p2_load_matching(e, wallet_id, p1, &p2);
    if (st == PB_OK) {
        pb_scalar_add(&x, &p1->x1, &p2->x2);
        st = pb_point_mul_base(&q, &x);
    }
    if (st == PB_OK && !pb_point_equal(&q, &p1->q))
        st = pb_fail(PB_ERR_INTEGRITY, "the shares of wallet %s do not add up to its key",
                     wallet_id);
    if (st == PB_OK)
        st = pb_wallet_db_set_exported(pb_node1(e)->db, wallet_id);
    if (st == PB_OK)
        st = pb_wallet_db_set_exported(pb_node2(e)->db, wallet_id);
    st = pb_engine_audit_result(e, st == PB_OK ? "export" : "export.refused", wallet_id, NULL, st,
                                PB_AUDIT_BOTH);
    if (st == PB_OK) {
        memcpy(private_key, x.b, 32);
        pb_point_serialize(public_key, &q);
    }
    pb_scalar_wipe(&x);
    pb_share_p1_free(p1);
    pb_share_p2_free(p2);
    pb_p1_access_wipe(&access);
    pb_wallet_lock_release(&lock);
    pthread_rwlock_unlock(&e->maintenance);
    return st;
}
