/* refresh.c - share refresh state machines.
 *
 *   P1 start: d1, new Paillier key; m1 = (n1, old share id, Commit(d1))
 *   P2 m1:    old share id matches; d2; sid = H(n1, n2); m2 = (n2, d2)
 *   P1 m2:    d = d1 + d2; x1' = x1 + d; Q1' = Q1 + d*G; Q2' = Q2 - d*G;
 *             m3 = (d1, opening, N', c_key' = Enc(x1'), Pi^mod, Pi^fac,
 *             Pi^log*(c_key', Q1'))
 *   P2 m3:    opening; Q1' computed by P2 itself; every proof; new record
 *             x2' = x2 - d, generation + 1; m4 = (new share id)
 *   P1 m4:    share ids match; P1's new record (lock cleared) is handed over.
 *
 * The coin toss is commit-reveal: d1 is fixed before d2 is seen and d2
 * before d1 is opened, so neither party chooses d. The public key and chain
 * code never change. Old records are only read: until both sides hold the
 * new ones the old ones keep signing, whatever message the run stops at.
 * Must never modify the old records, keep x_i' beyond the new record, or
 * keep the offset d (or d1, d2) past the step that uses it.
 */
#include <string.h>

#include "common/fail.h"
#include "mpc/cosigner.h"
#include "mpc/mem.h"
#include "mpc/refresh.h"
#include "mpc/share.h"

struct pb_refresh_p1 {
    pb_session_core core;
    const pb_share_p1 *old;
    uint8_t old_id[PB_MPC_SHARE_ID_BYTES];
    pb_rped_public *cosigner;
    int bits;
    pb_scalar d1;
    uint8_t opening[PB_COMMIT_OPENING_BYTES];
    pb_paillier_private *sk; /* the new key; moves into the record */
    pb_share_p1 *result;
};

struct pb_refresh_p2 {
    pb_session_core core;
    const pb_share_p2 *old;
    uint8_t old_id[PB_MPC_SHARE_ID_BYTES];
    pb_rped_public *rp;
    int bits;
    uint8_t com[PB_COMMIT_BYTES];
    pb_scalar d2;
    pb_share_p2 *result;
};

static void clear_out(uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
}

/* The new public shares for offset d: Q1' = Q1 + d*G, Q2' = Q2 - d*G. */
static pb_status shift_points(const pb_point *q1, const pb_point *q2, const pb_scalar *d,
                              pb_point *q1n, pb_point *q2n)
{
    pb_scalar neg;
    pb_scalar_negate(&neg, d);
    int ok = pb_point_add_base_mul(q1n, q1, d) == PB_OK &&
             pb_point_add_base_mul(q2n, q2, &neg) == PB_OK;
    pb_scalar_wipe(&neg);
    if (!ok)
        return pb_fail(PB_ERR_PROOF, "refresh: a new public share is the identity");
    return PB_OK;
}

/* --- P1 ------------------------------------------------------------------- */

PB_API pb_status pb_refresh_p1_new(pb_refresh_p1 **out, const pb_share_p1 *share,
                                   const pb_cosigner_public *cosigner, int paillier_bits)
{
    *out = NULL;
    if (!pb_share_bits_allowed(paillier_bits))
        return pb_fail(PB_ERR_ARGUMENT, "refresh p1: Paillier size %d is not 2048 or 3072",
                       paillier_bits);
    const pb_rped_public *rp = cosigner ? cosigner->pub : share->cosigner;
    if (rp->bits < paillier_bits)
        return pb_fail(PB_ERR_ARGUMENT,
                       "refresh p1: cosigner parameters of %d bits are weaker than a %d-bit key",
                       rp->bits, paillier_bits);
    pb_refresh_p1 *s = pb_mpc_secret_zalloc(sizeof *s);
    if (!s)
        return pb_fail(PB_ERR_NOMEM, "refresh p1: allocation failed");
    pb_session_core_init(&s->core, "refresh p1", PB_PROTO_REFRESH, PB_ROLE_P1);
    s->old = share;
    s->bits = paillier_bits;
    pb_share_p1_id(share, s->old_id);
    s->cosigner = pb_rped_public_dup(rp);
    if (!s->cosigner) {
        pb_refresh_p1_free(s);
        return pb_fail(PB_ERR_NOMEM, "refresh p1: allocation failed");
    }
    *out = s;
    return PB_OK;
}

PB_API void pb_refresh_p1_free(pb_refresh_p1 *s)
{
    if (!s)
        return;
    pb_rped_public_free(s->cosigner);
    pb_paillier_private_free(s->sk);
    pb_share_p1_free(s->result);
    pb_mpc_secret_free(s, sizeof *s);
}

static pb_status p1_start(pb_refresh_p1 *s, uint8_t **out, size_t *out_len)
{
    pb_status st = pb_session_expect(&s->core, 1);
    if (st != PB_OK)
        return st;
    if ((st = pb_msg_random(s->core.n1, PB_NONCE_BYTES)) != PB_OK ||
        (st = pb_msg_random(s->opening, sizeof s->opening)) != PB_OK ||
        (st = pb_scalar_random(&s->d1)) != PB_OK)
        return st;
    if ((st = pb_paillier_generate(s->bits, &s->sk)) != PB_OK)
        return pb_fail_context(st, "generating the new Paillier key");
    pb_refresh_m1 m1;
    memcpy(m1.n1, s->core.n1, PB_NONCE_BYTES);
    memcpy(m1.share_id, s->old_id, sizeof m1.share_id);
    pb_refresh_commit(m1.com, s->core.n1, &s->d1, s->old_id, s->opening);
    if ((st = pb_refresh_m1_encode(&m1, out, out_len)) != PB_OK)
        return st;
    s->core.next = 2;
    return PB_OK;
}

PB_API pb_status pb_refresh_p1_start(pb_refresh_p1 *s, uint8_t **out, size_t *out_len)
{
    clear_out(out, out_len);
    return pb_session_settle(&s->core, p1_start(s, out, out_len));
}

static pb_status p1_on_m2(pb_refresh_p1 *s, const uint8_t *in, size_t in_len, uint8_t **out,
                          size_t *out_len)
{
    pb_refresh_m2 m2;
    pb_status st = pb_refresh_m2_decode(&m2, in, in_len);
    if (st != PB_OK)
        return st;
    memcpy(s->core.n2, m2.n2, PB_NONCE_BYTES);
    pb_session_set_sid(&s->core);
    if ((st = pb_msg_check_sid(m2.sid, s->core.sid, "refresh message 2")) != PB_OK)
        return st;
    /* d is the gap between the old and the new shares: whoever holds it and
     * one old share has the matching new one. It lives only on this stack
     * frame and in the session's d1, and both are wiped on every way out. */
    pb_scalar d;
    pb_scalar_add(&d, &s->d1, &m2.d2);
    pb_scalar_wipe(&m2.d2);
    pb_refresh_m3 m3;
    memset(&m3, 0, sizeof m3);

    pb_share_p1 *rec = pb_share_p1_alloc();
    if (!rec) {
        st = pb_fail(PB_ERR_NOMEM, "allocation failed");
        goto done;
    }
    s->result = rec;
    rec->generation = s->old->generation + 1;
    if (rec->generation == 0) {
        st = pb_fail(PB_ERR_ARGUMENT, "refresh: generation counter exhausted");
        goto done;
    }
    rec->q = s->old->q;
    memcpy(rec->chain, s->old->chain, sizeof rec->chain);
    pb_scalar_add(&rec->x1, &s->old->x1, &d);
    if (pb_scalar_is_zero(&rec->x1)) {
        st = pb_fail(PB_ERR_PROOF, "refresh: the new share is zero");
        goto done;
    }
    if ((st = shift_points(&s->old->q1, &s->old->q2, &d, &rec->q1, &rec->q2)) != PB_OK)
        goto done;
    if ((rec->cosigner = pb_rped_public_dup(s->cosigner)) == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "allocation failed");
        goto done;
    }

    memcpy(m3.sid, s->core.sid, PB_SESSION_ID_BYTES);
    m3.d1 = s->d1;
    memcpy(m3.opening, s->opening, sizeof m3.opening);
    pb_key_bundle_ctx kctx;
    pb_refresh_bundle_ctx(&kctx, s->core.sid, s->old_id);
    if ((st = pb_key_bundle_make(&m3.key, &kctx, s->sk, s->cosigner, &rec->x1, &rec->q1)) !=
            PB_OK ||
        (st = pb_refresh_m3_encode(&m3, out, out_len)) != PB_OK)
        goto done;
    rec->paillier = s->sk;
    s->sk = NULL;
    s->core.next = 4;
done:
    /* d1 is not needed after m3, and a failed session never sends it. */
    pb_scalar_wipe(&d);
    pb_scalar_wipe(&m3.d1);
    pb_scalar_wipe(&s->d1);
    pb_refresh_m3_clear(&m3);
    return st;
}

static pb_status p1_on_m4(pb_refresh_p1 *s, const uint8_t *in, size_t in_len)
{
    pb_refresh_m4 m4;
    pb_status st = pb_refresh_m4_decode(&m4, in, in_len);
    if (st != PB_OK)
        return st;
    if ((st = pb_msg_check_sid(m4.sid, s->core.sid, "refresh message 4")) != PB_OK)
        return st;
    uint8_t id[PB_MPC_SHARE_ID_BYTES];
    pb_share_p1_id(s->result, id);
    if (memcmp(id, m4.share_id, sizeof id) != 0)
        return pb_fail(PB_ERR_INTEGRITY, "refresh message 4: P2 stored different shares");
    s->core.next = 5;
    return PB_OK;
}

PB_API pb_status pb_refresh_p1_step(pb_refresh_p1 *s, const uint8_t *in, size_t in_len,
                                    uint8_t **out, size_t *out_len)
{
    clear_out(out, out_len);
    pb_status st;
    if (s->core.failed || (s->core.next != 2 && s->core.next != 4))
        st = pb_session_reject(&s->core, 4);
    else if (s->core.next == 2)
        st = p1_on_m2(s, in, in_len, out, out_len);
    else
        st = p1_on_m4(s, in, in_len);
    return pb_session_settle(&s->core, st);
}

PB_API pb_status pb_refresh_p1_take_share(pb_refresh_p1 *s, pb_share_p1 **out)
{
    *out = NULL;
    if (s->core.failed || s->core.next != 5 || !s->result)
        return pb_fail(PB_ERR_STATE, "refresh p1: no completed share to take");
    *out = s->result;
    s->result = NULL;
    return PB_OK;
}

/* --- P2 ------------------------------------------------------------------- */

PB_API pb_status pb_refresh_p2_new(pb_refresh_p2 **out, const pb_share_p2 *share,
                                   const pb_cosigner_params *params, int paillier_bits)
{
    *out = NULL;
    if (!pb_share_bits_allowed(paillier_bits))
        return pb_fail(PB_ERR_ARGUMENT, "refresh p2: Paillier size %d is not 2048 or 3072",
                       paillier_bits);
    if (pb_rped_public_of(params->sec)->bits < paillier_bits)
        return pb_fail(PB_ERR_ARGUMENT,
                       "refresh p2: cosigner parameters of %d bits are weaker than a %d-bit key",
                       pb_rped_public_of(params->sec)->bits, paillier_bits);
    pb_refresh_p2 *s = pb_mpc_secret_zalloc(sizeof *s);
    if (!s)
        return pb_fail(PB_ERR_NOMEM, "refresh p2: allocation failed");
    pb_session_core_init(&s->core, "refresh p2", PB_PROTO_REFRESH, PB_ROLE_P2);
    s->old = share;
    s->bits = paillier_bits;
    pb_share_p2_id(share, s->old_id);
    if ((s->rp = pb_rped_public_dup(pb_rped_public_of(params->sec))) == NULL) {
        pb_refresh_p2_free(s);
        return pb_fail(PB_ERR_NOMEM, "refresh p2: allocation failed");
    }
    *out = s;
    return PB_OK;
}

PB_API void pb_refresh_p2_free(pb_refresh_p2 *s)
{
    if (!s)
        return;
    pb_rped_public_free(s->rp);
    pb_share_p2_free(s->result);
    pb_mpc_secret_free(s, sizeof *s);
}

static pb_status p2_on_m1(pb_refresh_p2 *s, const uint8_t *in, size_t in_len, uint8_t **out,
                          size_t *out_len)
{
    pb_refresh_m1 m1;
    pb_status st = pb_refresh_m1_decode(&m1, in, in_len);
    if (st != PB_OK)
        return st;
    if (memcmp(m1.share_id, s->old_id, sizeof s->old_id) != 0)
        return pb_fail(PB_ERR_STATE,
                       "refresh message 1: names another share generation than this record");
    memcpy(s->core.n1, m1.n1, PB_NONCE_BYTES);
    memcpy(s->com, m1.com, sizeof s->com);
    if ((st = pb_msg_random(s->core.n2, PB_NONCE_BYTES)) != PB_OK ||
        (st = pb_scalar_random(&s->d2)) != PB_OK)
        return st;
    pb_session_set_sid(&s->core);
    pb_refresh_m2 m2;
    memcpy(m2.sid, s->core.sid, PB_SESSION_ID_BYTES);
    memcpy(m2.n2, s->core.n2, PB_NONCE_BYTES);
    m2.d2 = s->d2;
    st = pb_refresh_m2_encode(&m2, out, out_len);
    pb_scalar_wipe(&m2.d2);
    if (st != PB_OK)
        return st;
    s->core.next = 3;
    return PB_OK;
}

static pb_status p2_on_m3(pb_refresh_p2 *s, const uint8_t *in, size_t in_len, uint8_t **out,
                          size_t *out_len)
{
    /* d (and the session's d2 it came from) is wiped on every way out, as in
     * p1_on_m2: P2 learns it, but nothing needs it once x2' is made. */
    pb_scalar d;
    memset(&d, 0, sizeof d);
    pb_refresh_m3 m3;
    pb_status st = pb_refresh_m3_decode(&m3, in, in_len, s->bits, s->rp);
    if (st != PB_OK) {
        pb_scalar_wipe(&m3.d1);
        pb_scalar_wipe(&s->d2);
        return st;
    }
    pb_share_p2 *rec = NULL;
    if ((st = pb_msg_check_sid(m3.sid, s->core.sid, "refresh message 3")) != PB_OK ||
        (st = pb_refresh_commit_check(s->com, s->core.n1, &m3.d1, s->old_id, m3.opening)) !=
            PB_OK)
        goto done;
    if ((rec = pb_share_p2_alloc()) == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "allocation failed");
        goto done;
    }
    pb_scalar_add(&d, &m3.d1, &s->d2);
    rec->generation = s->old->generation + 1;
    if (rec->generation == 0) {
        st = pb_fail(PB_ERR_ARGUMENT, "refresh: generation counter exhausted");
        goto done;
    }
    rec->q = s->old->q;
    memcpy(rec->chain, s->old->chain, sizeof rec->chain);
    pb_scalar_sub(&rec->x2, &s->old->x2, &d);
    if (pb_scalar_is_zero(&rec->x2)) {
        st = pb_fail(PB_ERR_PROOF, "refresh: the new share is zero");
        goto done;
    }
    if ((st = shift_points(&s->old->q1, &s->old->q2, &d, &rec->q1, &rec->q2)) != PB_OK)
        goto done;
    pb_key_bundle_ctx kctx;
    pb_refresh_bundle_ctx(&kctx, s->core.sid, s->old_id);
    if ((st = pb_key_bundle_verify(&m3.key, &kctx, s->rp, &rec->q1)) != PB_OK) {
        st = pb_fail_context(st, "refresh message 3");
        goto done;
    }
    rec->paillier = m3.key.pk;
    rec->c_key = m3.key.c_key;
    m3.key.pk = NULL;
    m3.key.c_key = NULL;
    pb_refresh_m4 m4;
    memcpy(m4.sid, s->core.sid, PB_SESSION_ID_BYTES);
    pb_share_p2_id(rec, m4.share_id);
    if ((st = pb_refresh_m4_encode(&m4, out, out_len)) != PB_OK)
        goto done;
    s->result = rec;
    rec = NULL;
    s->core.next = 5;
done:
    pb_scalar_wipe(&d);
    pb_scalar_wipe(&s->d2);
    pb_scalar_wipe(&m3.d1);
    pb_share_p2_free(rec);
    pb_refresh_m3_clear(&m3);
    return st;
}

PB_API pb_status pb_refresh_p2_step(pb_refresh_p2 *s, const uint8_t *in, size_t in_len,
                                    uint8_t **out, size_t *out_len)
{
    clear_out(out, out_len);
    pb_status st;
    if (s->core.failed || (s->core.next != 1 && s->core.next != 3))
        st = pb_session_reject(&s->core, 4);
    else if (s->core.next == 1)
        st = p2_on_m1(s, in, in_len, out, out_len);
    else
        st = p2_on_m3(s, in, in_len, out, out_len);
    return pb_session_settle(&s->core, st);
}

PB_API pb_status pb_refresh_p2_take_share(pb_refresh_p2 *s, pb_share_p2 **out)
{
    *out = NULL;
    if (s->core.failed || s->core.next != 5 || !s->result)
        return pb_fail(PB_ERR_STATE, "refresh p2: no completed share to take");
    *out = s->result;
    s->result = NULL;
    return PB_OK;
}
