/* protocol_run.c - running DKG and refresh with both parties in this
 * process: the messages are handed from one state machine to the other
 * exactly as a network transport would. Storage is the caller's job, in the
 * order the protocols require (P2 first, then P1). */
#include "engine/engine_internal.h"

#include "common/fail.h"

/* One hop: feed `in` to a step function, free `in`, keep the reply. */
#define HOP(call, in, in_len, out, out_len)                                                    \
    do {                                                                                       \
        st = (call);                                                                           \
        pb_mpc_bytes_free(in, in_len);                                                         \
        in = NULL;                                                                             \
        in_len = 0;                                                                            \
    } while (0)

pb_status pb_run_dkg(pb_engine *e, const pb_cosigner_public *pub,
                     const pb_cosigner_params *params, const char *wallet_id,
                     pb_share_p1 **p1, pb_share_p2 **p2)
{
    (void)wallet_id;
    *p1 = NULL;
    *p2 = NULL;
    pb_dkg_p1 *a = NULL;
    pb_dkg_p2 *b = NULL;
    uint8_t *m = NULL, *r = NULL;
    size_t m_len = 0, r_len = 0;
    pb_status st = pb_dkg_p1_new(&a, pub, e->cfg.paillier_bits);
    if (st == PB_OK)
        st = pb_dkg_p2_new(&b, params, e->cfg.paillier_bits);
    if (st == PB_OK)
        st = pb_dkg_p1_start(a, &m, &m_len);
    if (st == PB_OK)
        HOP(pb_dkg_p2_step(b, m, m_len, &r, &r_len), m, m_len, r, r_len); /* m1 -> m2 */
    if (st == PB_OK)
        HOP(pb_dkg_p1_step(a, r, r_len, &m, &m_len), r, r_len, m, m_len); /* m2 -> m3 */
    if (st == PB_OK)
        HOP(pb_dkg_p2_step(b, m, m_len, &r, &r_len), m, m_len, r, r_len); /* m3 -> m4 */
    if (st == PB_OK)
        st = pb_dkg_p2_take_share(b, p2);
    if (st == PB_OK)
        HOP(pb_dkg_p1_step(a, r, r_len, &m, &m_len), r, r_len, m, m_len); /* m4 */
    if (st == PB_OK)
        st = pb_dkg_p1_take_share(a, p1);
    pb_mpc_bytes_free(m, m_len);
    pb_mpc_bytes_free(r, r_len);
    pb_dkg_p1_free(a);
    pb_dkg_p2_free(b);
    if (st != PB_OK) {
        pb_share_p1_free(*p1);
        pb_share_p2_free(*p2);
        *p1 = NULL;
        *p2 = NULL;
    }
    return st;
}

pb_status pb_run_refresh(pb_engine *e, const pb_share_p1 *old1, const pb_share_p2 *old2,
                         const pb_cosigner_params *params, pb_share_p1 **p1,
                         pb_share_p2 **p2)
{
    *p1 = NULL;
    *p2 = NULL;
    pb_refresh_p1 *a = NULL;
    pb_refresh_p2 *b = NULL;
    uint8_t *m = NULL, *r = NULL;
    size_t m_len = 0, r_len = 0;
    pb_status st = pb_refresh_p1_new(&a, old1, NULL, e->cfg.paillier_bits);
    if (st == PB_OK)
        st = pb_refresh_p2_new(&b, old2, params, e->cfg.paillier_bits);
    if (st == PB_OK)
        st = pb_refresh_p1_start(a, &m, &m_len);
    if (st == PB_OK)
        HOP(pb_refresh_p2_step(b, m, m_len, &r, &r_len), m, m_len, r, r_len);
    if (st == PB_OK)
        HOP(pb_refresh_p1_step(a, r, r_len, &m, &m_len), r, r_len, m, m_len);
    if (st == PB_OK)
        HOP(pb_refresh_p2_step(b, m, m_len, &r, &r_len), m, m_len, r, r_len);
    if (st == PB_OK)
        st = pb_refresh_p2_take_share(b, p2);
    if (st == PB_OK)
        HOP(pb_refresh_p1_step(a, r, r_len, &m, &m_len), r, r_len, m, m_len);
    if (st == PB_OK)
        st = pb_refresh_p1_take_share(a, p1);
    pb_mpc_bytes_free(m, m_len);
    pb_mpc_bytes_free(r, r_len);
    pb_refresh_p1_free(a);
    pb_refresh_p2_free(b);
    if (st != PB_OK) {
        pb_share_p1_free(*p1);
        pb_share_p2_free(*p2);
        *p1 = NULL;
        *p2 = NULL;
    }
    return st;
}
