/* wallet_sign.c - one signature: unseal both records just in time, run the
 * four-message protocol, wipe. P1 verifies the signature before releasing
 * it. The global abort (Lindell17 section 3, BitForge) is serialized per
 * wallet across threads and processes: P1's decryption runs under the
 * wallet's critical lock after a durable "in doubt" mark, so once one
 * verification fails, no other session of the wallet decrypts, and the lock
 * survives a crash or a failed write at any point. */
#include <string.h>

#include <secp256k1.h>

#include "common/fail.h"
#include "common/fault.h"
#include "crypto/ec.h"
#include "engine/engine_internal.h"
#include "engine/storage_space.h"
#include "engine/wallet_lock.h"

#define PATH_MAX_DEPTH 32

typedef struct sign_run {
    pb_engine *e;
    const char *wallet_id;
    pb_share_p1 *p1;
    pb_share_p2 *p2;
    int p2_is_pending;
    pb_sign_p1 *a;
    pb_sign_p2 *b;
    uint8_t pubkey[PB_MPC_PUBKEY_BYTES];
} sign_run;

/* Node 2 checks its own row (sealed, anchored: never node 1's word for the
 * wallet's state), then picks the record generation P1 named in m1 (old
 * or pending). */
static pb_status p2_pick_record(sign_run *run, const uint8_t *m1, size_t m1_len)
{
    uint8_t want[PB_MPC_SHARE_ID_BYTES], have[PB_MPC_SHARE_ID_BYTES];
    pb_wallet_row row2;
    pb_status st = pb_wallet_db_get(pb_node2(run->e)->db, run->wallet_id, &row2);
    if (st == PB_OK && strcmp(row2.state, PB_WALLET_STATE_ACTIVE) != 0)
        st = pb_fail(PB_ERR_REFUSED, "node 2 refuses wallet %s: it is %s", run->wallet_id,
                     row2.state);
    if (st == PB_OK)
        st = pb_sign_message_share_id(m1, m1_len, want);
    if (st != PB_OK)
        return st;
    st = pb_p2_load(run->e, run->wallet_id, PB_BLOB_SHARE, &run->p2);
    if (st != PB_OK)
        return st;
    pb_share_p2_id(run->p2, have);
    if (memcmp(want, have, sizeof want) == 0)
        return PB_OK;
    pb_share_p2_free(run->p2);
    run->p2 = NULL;
    st = pb_p2_load(run->e, run->wallet_id, PB_BLOB_SHARE_PENDING, &run->p2);
    if (st == PB_OK) {
        pb_share_p2_id(run->p2, have);
        if (memcmp(want, have, sizeof want) == 0) {
            run->p2_is_pending = 1;
            return PB_OK;
        }
    }
    return pb_fail(PB_ERR_INTEGRITY, "node 2 holds no record matching the share P1 signs with");
}

/* Messages 1 to 4; P1's last step (the decryption) is left to
 * critical_step, which gets m4. */
static pb_status exchange(sign_run *run, uint8_t **m4, size_t *m4_len)
{
    uint8_t *m = NULL, *r = NULL;
    size_t m_len = 0, r_len = 0;
    pb_status st = pb_sign_p1_start(run->a, &m, &m_len);
    if (st == PB_OK)
        st = p2_pick_record(run, m, m_len);
    if (st == PB_OK)
        st = pb_sign_p2_new(&run->b, run->p2);
    if (st == PB_OK)
        st = pb_sign_p2_step(run->b, m, m_len, &r, &r_len); /* m1: the request */
    pb_mpc_bytes_free(m, m_len);
    m = NULL, m_len = 0;
    uint8_t digest[PB_MPC_DIGEST_BYTES];
    uint32_t path[PATH_MAX_DEPTH];
    size_t path_len = 0;
    if (st == PB_OK)
        st = pb_sign_p2_request(run->b, digest, path, PATH_MAX_DEPTH, &path_len, run->pubkey);
    /* Node 2's security rules would judge the request here (policy issue).
     * Write-ahead: node 2 contributes only once its record is durable. */
    if (st == PB_OK)
        st = pb_engine_audit(run->e, 2, "sign.request", run->wallet_id, digest, PB_OK, 0);
    if (st == PB_OK)
        st = pb_sign_p2_approve(run->b, &r, &r_len);
    if (st == PB_OK)
        st = pb_sign_p1_step(run->a, r, r_len, &m, &m_len); /* m2 -> m3 */
    pb_mpc_bytes_free(r, r_len);
    r = NULL, r_len = 0;
    pb_fault_point("sign.before_m4");
    if (st == PB_OK)
        st = pb_sign_p2_step(run->b, m, m_len, &r, &r_len); /* m3 -> m4 */
    pb_fault_point("sign.after_m4");
    pb_mpc_bytes_free(m, m_len);
    if (st != PB_OK) {
        pb_mpc_bytes_free(r, r_len);
        return st;
    }
    *m4 = r;
    *m4_len = r_len;
    return PB_OK;
}

/* Global abort: the wallet row is locked (which also ends the in-doubt
 * mark), then P1's record is stored with its lock flag. The row alone is
 * enough to refuse later sessions; the record keeps the lock if the
 * database is edited. */
static pb_status persist_abort(pb_engine *e, pb_p1_access *access, const pb_share_p1 *p1)
{
    pb_status st = pb_wallet_db_set_lock(pb_node1(e)->db, access->wallet_id,
                                         PB_WALLET_LOCK_ABORT);
    pb_status st2 = pb_p1_store(e, access, p1);
    if (st != PB_OK)
        return st;
    if (st2 != PB_OK)
        return st2;
    return pb_fail(PB_ERR_ABORTED,
                   "signature failed P1's verification: wallet %s is locked (global abort); "
                   "an operator must run 'planbok wallet unlock'",
                   access->wallet_id);
}

/* The state the critical step finds and what it means. */
static pb_status check_durable_state(pb_engine *e, const char *wallet_id)
{
    pb_wallet_row row;
    pb_status st = pb_wallet_db_get(pb_node1(e)->db, wallet_id, &row);
    if (st != PB_OK)
        return st;
    if (!strcmp(row.state, PB_WALLET_STATE_LOCKED))
        return pb_fail(PB_ERR_REFUSED,
                       "wallet %s was locked while this signature was made; P1 does not "
                       "decrypt it",
                       wallet_id);
    if (!row.in_doubt)
        return PB_OK;
    /* Whoever set the mark died holding the critical lock: its outcome is
     * unknown, so the wallet is treated as if that signature had failed. */
    st = pb_wallet_db_set_lock(pb_node1(e)->db, wallet_id, PB_WALLET_LOCK_IN_DOUBT);
    st = pb_engine_audit_result(e, "wallet.locked", wallet_id, NULL,
                                st == PB_OK ? PB_ERR_REFUSED : st, PB_AUDIT_NODE1);
    return st == PB_ERR_REFUSED
               ? pb_fail(PB_ERR_REFUSED,
                         "wallet %s is locked: a signing session died during P1's decryption; "
                         "an operator must run 'planbok wallet unlock'",
                         wallet_id)
               : st;
}

/* P1's decryption of m4, one session of the wallet at a time across threads
 * and processes. The durable state is read under the lock; the in-doubt
 * mark is durable before P1 decrypts; the outcome (mark cleared, or the
 * wallet locked) is durable before the lock is released and before any
 * result leaves. A crash anywhere in between leaves the mark, which the next
 * session turns into a lock. */
static pb_status critical_step(sign_run *run, pb_p1_access *access, const uint8_t *m4,
                               size_t m4_len)
{
    pb_wallet_lock lock;
    pb_status st = pb_wallet_lock_take(run->e->cfg.home, run->wallet_id,
                                       PB_WALLET_LOCK_CRITICAL, &lock);
    if (st != PB_OK)
        return st;
    st = check_durable_state(run->e, run->wallet_id);
    if (st == PB_OK)
        st = pb_wallet_db_set_in_doubt(pb_node1(run->e)->db, run->wallet_id, 1);
    pb_fault_point("sign.in_doubt");
    if (st == PB_OK) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        atomic_fetch_add(&run->e->p1_final_steps, 1);
        st = pb_sign_p1_step(run->a, m4, m4_len, &out, &out_len); /* m4 -> signature */
        pb_mpc_bytes_free(out, out_len);
        pb_fault_point("sign.after_decrypt");
        if (st == PB_ERR_ABORTED && pb_share_p1_is_locked(run->p1)) {
            st = persist_abort(run->e, access, run->p1);
        } else {
            pb_status cleared = pb_wallet_db_set_in_doubt(pb_node1(run->e)->db, run->wallet_id, 0);
            if (st == PB_OK)
                st = cleared;
        }
    }
    pb_wallet_lock_release(&lock);
    return st;
}

static pb_status finish(sign_run *run, pb_signature_result *out)
{
    pb_status st = pb_sign_p1_signature(run->a, out->sig, &out->recovery_id);
    if (st != PB_OK)
        return st;
    memcpy(out->public_key, run->pubkey, sizeof out->public_key);
    secp256k1_ecdsa_signature sig;
    size_t der_len = sizeof out->der;
    if (!secp256k1_ecdsa_signature_parse_compact(pb_secp256k1(), &sig, out->sig) ||
        !secp256k1_ecdsa_signature_serialize_der(pb_secp256k1(), out->der, &der_len, &sig))
        return pb_fail(PB_ERR_CRYPTO, "DER encoding of the signature failed");
    out->der_len = der_len;
    if (run->p2_is_pending) {
        /* P1 already signs with the new generation: finish node 2's refresh. */
        st = pb_p2_store(run->e, run->wallet_id, PB_BLOB_SHARE, run->p2);
        if (st == PB_OK) {
            pb_blob_ref ref = {run->wallet_id, 2, PB_BLOB_SHARE_PENDING};
            (void)pb_keystore_delete(pb_node2(run->e)->ks, &ref);
        }
    }
    return st;
}

pb_status pb_engine_sign(pb_engine *e, const char *wallet_id, const uint8_t digest[32],
                         const char *path, const pb_secrets *secrets, pb_signature_result *out)
{
    memset(out, 0, sizeof *out);
    pb_status guard = pb_engine_require_writable(e, "sign");
    if (guard != PB_OK)
        return guard;
    pb_wallet_row row;
    pb_custody_mode mode;
    uint32_t indices[PATH_MAX_DEPTH];
    size_t n_indices = 0;
    pb_status st = pb_wallet_db_get(pb_node1(e)->db, wallet_id, &row);
    if (st == PB_OK)
        st = pb_custody_mode_parse(row.mode, &mode);
    if (st == PB_OK && !strcmp(row.state, PB_WALLET_STATE_LOCKED))
        st = pb_fail(PB_ERR_REFUSED,
                     "wallet %s is locked (%s); an operator must run 'planbok wallet unlock'",
                     wallet_id, row.lock_reason[0] ? row.lock_reason : "global abort");
    if (st == PB_OK && path && *path)
        st = pb_bip32_parse_path(path, indices, PATH_MAX_DEPTH, &n_indices);
    if (st == PB_OK)
        st = pb_storage_check(&e->cfg);
    if (st != PB_OK)
        return pb_engine_audit_result(e, "sign.complete", wallet_id, digest, st, PB_AUDIT_NODE1);

    pthread_rwlock_rdlock(&e->maintenance);
    sign_run run = {.e = e, .wallet_id = wallet_id};
    pb_p1_access access;
    pb_p1_access_init(&access, mode, wallet_id, secrets);
    pb_wallet_lock sign_lock;
    uint8_t *m4 = NULL;
    size_t m4_len = 0;
    st = pb_wallet_lock_take(e->cfg.home, wallet_id, PB_WALLET_LOCK_SIGN, &sign_lock);
    if (st == PB_OK)
        st = pb_p1_load(e, &access, &run.p1);
    if (st == PB_OK)
        st = pb_sign_p1_new(&run.a, run.p1, digest, indices, n_indices);
    if (st == PB_OK)
        st = exchange(&run, &m4, &m4_len);
    if (st == PB_OK)
        st = critical_step(&run, &access, m4, m4_len);
    pb_mpc_bytes_free(m4, m4_len);
    if (run.p1 && pb_share_p1_is_locked(run.p1)) {
        /* A record locked before this session (the database had been edited
         * to "active") relocks the row; a fresh abort was persisted already
         * (or, if that write failed, its in-doubt mark stands in for it). */
        if (!run.a)
            st = persist_abort(e, &access, run.p1);
        (void)pb_engine_audit_result(e, "sign.abort", wallet_id, digest, st, PB_AUDIT_BOTH);
        st = pb_engine_audit_result(e, "wallet.locked", wallet_id, NULL, st, PB_AUDIT_NODE1);
    } else {
        if (st == PB_OK)
            st = finish(&run, out);
        /* Node 1's record is durable before the signature is handed out
         * (it is wiped below if the record cannot be written). */
        st = pb_engine_audit_result(e, "sign.complete", wallet_id, digest, st, PB_AUDIT_BOTH);
    }
    if (st != PB_OK)
        memset(out, 0, sizeof *out);
    pb_sign_p1_free(run.a);
    pb_sign_p2_free(run.b);
    pb_share_p1_free(run.p1);
    pb_share_p2_free(run.p2);
    pb_p1_access_wipe(&access);
    pb_wallet_lock_release(&sign_lock);
    pthread_rwlock_unlock(&e->maintenance);
    return st;
}
