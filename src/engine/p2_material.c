/* p2_material.c - P2's record at node 2, sealed by node 2's KEK. During a
 * refresh the new record waits under PB_BLOB_SHARE_PENDING until P1 holds
 * its new record too. */
#include "common/fail.h"
#include "common/secret.h"
#include "engine/engine_internal.h"

pb_status pb_p2_load(pb_engine *e, const char *wallet_id, pb_blob_kind kind,
                     pb_share_p2 **share)
{
    *share = NULL;
    pb_blob_ref ref = {wallet_id, 2, kind};
    uint8_t *plain = NULL;
    size_t len = 0;
    pb_status st = pb_keystore_get(pb_node2(e)->ks, &ref, &plain, &len);
    if (st != PB_OK)
        return st;
    st = pb_share_p2_parse(share, plain, len);
    pb_secret_free(plain, len);
    return st == PB_OK ? PB_OK : pb_fail_context(st, "P2 record of wallet %s", wallet_id);
}

pb_status pb_p2_store(pb_engine *e, const char *wallet_id, pb_blob_kind kind,
                      const pb_share_p2 *share)
{
    uint8_t *plain = NULL;
    size_t len = 0;
    pb_status st = pb_share_p2_serialize(share, &plain, &len);
    if (st != PB_OK)
        return st;
    pb_blob_ref ref = {wallet_id, 2, kind};
    st = pb_keystore_put(pb_node2(e)->ks, &ref, plain, len);
    pb_mpc_bytes_free(plain, len);
    return st;
}
