/* wallet_sign.c - one signature: unseal both records just in time, run the
 * four-message protocol, wipe. P1 verifies the signature before releasing
 * it; on failure the global abort persists the lock (database state first,
 * then the locked record) before returning, and a signature finished by a
 * concurrent session is withheld once the wallet is locked. */
#include <string.h>

#include <secp256k1.h>

#include "common/fail.h"
#include "common/fault.h"
#include "crypto/ec.h"
#include "engine/engine_internal.h"

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

/* Node 2 picks the record generation P1 named in m1 (old or pending). */
static pb_status p2_pick_record(sign_run *run, const uint8_t *m1, size_t m1_len)
{
    uint8_t want[PB_MPC_SHARE_ID_BYTES], have[PB_MPC_SHARE_ID_BYTES];
    pb_status st = pb_sign_message_share_id(m1, m1_len, want);
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

static pb_status exchange(sign_run *run)
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
    m = NULL, m_len = 0;
    if (st == PB_OK)
        st = pb_sign_p1_step(run->a, r, r_len, &m, &m_len); /* m4 -> signature */
    pb_mpc_bytes_free(r, r_len);
    pb_mpc_bytes_free(m, m_len);
    return st;
}

/* Global abort: durable lock first, then the locked record. */
static pb_status persist_abort(pb_engine *e, pb_p1_access *access, const pb_share_p1 *p1)
{
    pb_status st = pb_wallet_db_set_state(pb_node1(e)->db, access->wallet_id,
                                          PB_WALLET_STATE_LOCKED);
    pb_status st2 = pb_p1_store(e, access, p1);
    if (st != PB_OK)
        return st;
    if (st2 != PB_OK)
        return st2;
    return pb_fail(PB_ERR_ABORTED,
                   "signature failed P1's verification: wallet %s is locked (global abort); "
                   "only a refresh or recovery unlocks it",
                   access->wallet_id);
}

static pb_status finish(sign_run *run, pb_signature_result *out)
{
    pb_wallet_row row;
    pb_status st = pb_wallet_db_get(pb_node1(run->e)->db, run->wallet_id, &row);
    if (st != PB_OK)
        return st;
    if (!strcmp(row.state, PB_WALLET_STATE_LOCKED))
        return pb_fail(PB_ERR_REFUSED, "wallet %s was locked while this signature was made; "
                                       "it is withheld", run->wallet_id);
    st = pb_sign_p1_signature(run->a, out->sig, &out->recovery_id);
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
                     "wallet %s is locked (global abort); only a refresh or recovery unlocks it",
                     wallet_id);
    if (st == PB_OK && path && *path)
        st = pb_bip32_parse_path(path, indices, PATH_MAX_DEPTH, &n_indices);
    if (st != PB_OK)
        return pb_engine_audit_result(e, "sign.complete", wallet_id, digest, st, PB_AUDIT_NODE1);

    pthread_rwlock_rdlock(&e->maintenance);
    sign_run run = {.e = e, .wallet_id = wallet_id};
    pb_p1_access access;
    pb_p1_access_init(&access, mode, wallet_id, secrets);
    st = pb_p1_load(e, &access, &run.p1);
    if (st == PB_OK)
        st = pb_sign_p1_new(&run.a, run.p1, digest, indices, n_indices);
    if (st == PB_OK)
        st = exchange(&run);
    if (st == PB_ERR_ABORTED && run.p1 && pb_share_p1_is_locked(run.p1)) {
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
    pthread_rwlock_unlock(&e->maintenance);
    return st;
}
