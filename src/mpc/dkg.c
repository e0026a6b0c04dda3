/* dkg.c - distributed key generation state machines (P1 owns Paillier).
 *
 *   P1 start:   x1, Q1, c1, Paillier key; m1 = (n1, Commit(Q1 || c1))
 *   P2 m1:      x2, Q2, c2, sid = H(n1, n2); m2 = (n2, Q2, c2, Pi^sch(x2))
 *   P1 m2:      check Pi^sch(x2); Q = Q1 + Q2; chain = H(sid, c1, c2);
 *               m3 = (Q1, c1, opening, Pi^sch(x1), N, c_key = Enc(x1),
 *               Pi^mod, Pi^fac, Pi^log*(c_key, Q1))
 *   P2 m3:      opening, every proof, sizes and ranges; builds its record;
 *               m4 = (share id)   -- the caller stores the record, then sends m4
 *   P1 m4:      share ids match; P1's record is handed over.
 *
 * Owns the order of checks and what each party keeps. Neither party can
 * bias Q or the chain code: Q1 and c1 are committed before Q2 and c2 are
 * seen, and Q2, c2 are fixed before Q1, c1 are opened. Any failure aborts
 * the session for good. Must never send or keep x_i beyond the record.
 */
#include <string.h>

#include "common/fail.h"
#include "mpc/cosigner.h"
#include "mpc/dkg.h"
#include "mpc/mem.h"
#include "mpc/share.h"

struct pb_dkg_p1 {
    pb_session_core core;
    int bits;
    pb_rped_public *cosigner;
    pb_scalar x1; /* secret */
    pb_point q1;
    uint8_t c1[PB_BIP32_CHAIN_BYTES];
    uint8_t opening[PB_COMMIT_OPENING_BYTES];
    pb_paillier_private *sk; /* moves into the record */
    pb_share_p1 *result;     /* built at m2, handed over after m4 */
};

struct pb_dkg_p2 {
    pb_session_core core;
    int bits;
    pb_rped_public *rp; /* this node's own parameters (public part) */
    uint8_t com[PB_COMMIT_BYTES];
    pb_scalar x2; /* secret */
    pb_point q2;
    uint8_t c2[PB_BIP32_CHAIN_BYTES];
    pb_share_p2 *result;
};

static void clear_out(uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
}

/* --- P1 ------------------------------------------------------------------- */

PB_API pb_status pb_dkg_p1_new(pb_dkg_p1 **out, const pb_cosigner_public *cosigner,
                               int paillier_bits)
{
    *out = NULL;
    if (!pb_share_bits_allowed(paillier_bits))
        return pb_fail(PB_ERR_ARGUMENT, "dkg p1: Paillier size %d is not 2048 or 3072",
                       paillier_bits);
    /* The proofs against N^ are only as strong as N^ is hard to factor. */
    if (cosigner->pub->bits < paillier_bits)
        return pb_fail(PB_ERR_ARGUMENT,
                       "dkg p1: cosigner parameters of %d bits are weaker than a %d-bit key",
                       cosigner->pub->bits, paillier_bits);
    pb_dkg_p1 *s = pb_mpc_secret_zalloc(sizeof *s);
    if (!s)
        return pb_fail(PB_ERR_NOMEM, "dkg p1: allocation failed");
    pb_session_core_init(&s->core, "dkg p1", PB_PROTO_DKG, PB_ROLE_P1);
    s->bits = paillier_bits;
    if ((s->cosigner = pb_rped_public_dup(cosigner->pub)) == NULL) {
        pb_dkg_p1_free(s);
        return pb_fail(PB_ERR_NOMEM, "dkg p1: allocation failed");
    }
    *out = s;
    return PB_OK;
}

PB_API void pb_dkg_p1_free(pb_dkg_p1 *s)
{
    if (!s)
        return;
    pb_rped_public_free(s->cosigner);
    pb_paillier_private_free(s->sk);
    pb_share_p1_free(s->result);
    pb_mpc_secret_free(s, sizeof *s);
}

static pb_status p1_start(pb_dkg_p1 *s, uint8_t **out, size_t *out_len)
{
    pb_status st = pb_session_expect(&s->core, 1);
    if (st != PB_OK)
        return st;
    pb_dkg_m1 m;
    if ((st = pb_msg_random(s->core.n1, PB_NONCE_BYTES)) != PB_OK ||
        (st = pb_msg_random(s->c1, sizeof s->c1)) != PB_OK ||
        (st = pb_msg_random(s->opening, sizeof s->opening)) != PB_OK ||
        (st = pb_scalar_random(&s->x1)) != PB_OK ||
        (st = pb_point_mul_base(&s->q1, &s->x1)) != PB_OK)
        return st;
    if ((st = pb_paillier_generate(s->bits, &s->sk)) != PB_OK)
        return pb_fail_context(st, "generating the Paillier key");
    memcpy(m.n1, s->core.n1, sizeof m.n1);
    pb_dkg_commit(m.com, s->core.n1, &s->q1, s->c1, s->opening);
    if ((st = pb_dkg_m1_encode(&m, out, out_len)) != PB_OK)
        return st;
    s->core.next = 2;
    return PB_OK;
}

PB_API pb_status pb_dkg_p1_start(pb_dkg_p1 *s, uint8_t **out, size_t *out_len)
{
    clear_out(out, out_len);
    return pb_session_settle(&s->core, p1_start(s, out, out_len));
}

static pb_status p1_on_m2(pb_dkg_p1 *s, const uint8_t *in, size_t in_len, uint8_t **out,
                          size_t *out_len)
{
    pb_dkg_m2 m2;
    pb_status st = pb_dkg_m2_decode(&m2, in, in_len);
    if (st != PB_OK)
        return st;
    memcpy(s->core.n2, m2.n2, PB_NONCE_BYTES);
    pb_session_set_sid(&s->core);
    if ((st = pb_msg_check_sid(m2.sid, s->core.sid, "dkg message 2")) != PB_OK)
        return st;
    pb_transcript t;
    pb_dkg_sch_transcript(&t, s->core.sid, PB_ROLE_P2, m2.c2);
    if ((st = pb_zk_sch_verify(&t, &m2.q2, &m2.sch)) != PB_OK)
        return pb_fail_context(st, "dkg message 2 (proof of x2)");

    pb_share_p1 *rec = pb_share_p1_alloc();
    if (!rec)
        return pb_fail(PB_ERR_NOMEM, "allocation failed");
    s->result = rec;
    rec->generation = 0;
    rec->x1 = s->x1;
    rec->q1 = s->q1;
    rec->q2 = m2.q2;
    if ((st = pb_point_add(&rec->q, &s->q1, &m2.q2)) != PB_OK)
        return pb_fail(PB_ERR_PROOF, "dkg message 2: Q1 + Q2 is the identity");
    pb_dkg_chain_code(rec->chain, s->core.sid, s->c1, m2.c2);
    if ((rec->cosigner = pb_rped_public_dup(s->cosigner)) == NULL)
        return pb_fail(PB_ERR_NOMEM, "allocation failed");

    pb_dkg_m3 m3;
    memset(&m3, 0, sizeof m3);
    memcpy(m3.sid, s->core.sid, PB_SESSION_ID_BYTES);
    m3.q1 = s->q1;
    memcpy(m3.c1, s->c1, sizeof m3.c1);
    memcpy(m3.opening, s->opening, sizeof m3.opening);
    pb_dkg_sch_transcript(&t, s->core.sid, PB_ROLE_P1, s->c1);
    if ((st = pb_zk_sch_prove(&t, &s->q1, &s->x1, &m3.sch)) != PB_OK)
        return st;
    pb_key_bundle_ctx kctx;
    pb_dkg_bundle_ctx(&kctx, s->core.sid);
    if ((st = pb_key_bundle_make(&m3.key, &kctx, s->sk, s->cosigner, &s->x1, &s->q1)) !=
        PB_OK)
        return st;
    st = pb_dkg_m3_encode(&m3, out, out_len);
    pb_dkg_m3_clear(&m3);
    if (st != PB_OK)
        return st;
    rec->paillier = s->sk;
    s->sk = NULL;
    pb_scalar_wipe(&s->x1);
    s->core.next = 4;
    return PB_OK;
}

static pb_status p1_on_m4(pb_dkg_p1 *s, const uint8_t *in, size_t in_len)
{
    pb_dkg_m4 m4;
    pb_status st = pb_dkg_m4_decode(&m4, in, in_len);
    if (st != PB_OK)
        return st;
    if ((st = pb_msg_check_sid(m4.sid, s->core.sid, "dkg message 4")) != PB_OK)
        return st;
    uint8_t id[PB_MPC_SHARE_ID_BYTES];
    pb_share_p1_id(s->result, id);
    if (memcmp(id, m4.share_id, sizeof id) != 0)
        return pb_fail(PB_ERR_INTEGRITY, "dkg message 4: P2 stored a different wallet");
    s->core.next = 5;
    return PB_OK;
}

PB_API pb_status pb_dkg_p1_step(pb_dkg_p1 *s, const uint8_t *in, size_t in_len, uint8_t **out,
                                size_t *out_len)
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

PB_API pb_status pb_dkg_p1_take_share(pb_dkg_p1 *s, pb_share_p1 **out)
{
    *out = NULL;
    if (s->core.failed || s->core.next != 5 || !s->result)
        return pb_fail(PB_ERR_STATE, "dkg p1: no completed share to take");
    *out = s->result;
    s->result = NULL;
    return PB_OK;
}

/* --- P2 ------------------------------------------------------------------- */

PB_API pb_status pb_dkg_p2_new(pb_dkg_p2 **out, const pb_cosigner_params *params,
                               int paillier_bits)
{
    *out = NULL;
    if (!pb_share_bits_allowed(paillier_bits))
        return pb_fail(PB_ERR_ARGUMENT, "dkg p2: Paillier size %d is not 2048 or 3072",
                       paillier_bits);
    if (pb_rped_public_of(params->sec)->bits < paillier_bits)
        return pb_fail(PB_ERR_ARGUMENT,
                       "dkg p2: cosigner parameters of %d bits are weaker than a %d-bit key",
                       pb_rped_public_of(params->sec)->bits, paillier_bits);
    pb_dkg_p2 *s = pb_mpc_secret_zalloc(sizeof *s);
    if (!s)
        return pb_fail(PB_ERR_NOMEM, "dkg p2: allocation failed");
    pb_session_core_init(&s->core, "dkg p2", PB_PROTO_DKG, PB_ROLE_P2);
    s->bits = paillier_bits;
    if ((s->rp = pb_rped_public_dup(pb_rped_public_of(params->sec))) == NULL) {
        pb_dkg_p2_free(s);
        return pb_fail(PB_ERR_NOMEM, "dkg p2: allocation failed");
    }
    *out = s;
    return PB_OK;
}

PB_API void pb_dkg_p2_free(pb_dkg_p2 *s)
{
    if (!s)
        return;
    pb_rped_public_free(s->rp);
    pb_share_p2_free(s->result);
    pb_mpc_secret_free(s, sizeof *s);
}

static pb_status p2_on_m1(pb_dkg_p2 *s, const uint8_t *in, size_t in_len, uint8_t **out,
                          size_t *out_len)
{
    pb_dkg_m1 m1;
    pb_status st = pb_dkg_m1_decode(&m1, in, in_len);
    if (st != PB_OK)
        return st;
    memcpy(s->core.n1, m1.n1, PB_NONCE_BYTES);
    memcpy(s->com, m1.com, sizeof s->com);
    pb_dkg_m2 m2;
    if ((st = pb_msg_random(s->core.n2, PB_NONCE_BYTES)) != PB_OK ||
        (st = pb_msg_random(s->c2, sizeof s->c2)) != PB_OK ||
        (st = pb_scalar_random(&s->x2)) != PB_OK ||
        (st = pb_point_mul_base(&s->q2, &s->x2)) != PB_OK)
        return st;
    pb_session_set_sid(&s->core);
    memcpy(m2.sid, s->core.sid, PB_SESSION_ID_BYTES);
    memcpy(m2.n2, s->core.n2, PB_NONCE_BYTES);
    m2.q2 = s->q2;
    memcpy(m2.c2, s->c2, sizeof m2.c2);
    pb_transcript t;
    pb_dkg_sch_transcript(&t, s->core.sid, PB_ROLE_P2, s->c2);
    if ((st = pb_zk_sch_prove(&t, &s->q2, &s->x2, &m2.sch)) != PB_OK)
        return st;
    if ((st = pb_dkg_m2_encode(&m2, out, out_len)) != PB_OK)
        return st;
    s->core.next = 3;
    return PB_OK;
}

static pb_status p2_on_m3(pb_dkg_p2 *s, const uint8_t *in, size_t in_len, uint8_t **out,
                          size_t *out_len)
{
    pb_dkg_m3 m3;
    pb_status st = pb_dkg_m3_decode(&m3, in, in_len, s->bits, s->rp);
    if (st != PB_OK)
        return st;
    pb_share_p2 *rec = NULL;
    if ((st = pb_msg_check_sid(m3.sid, s->core.sid, "dkg message 3")) != PB_OK)
        goto done;
    /* Cheap checks first: the opening and the proof of x1. */
    if ((st = pb_dkg_commit_check(s->com, s->core.n1, &m3.q1, m3.c1, m3.opening)) != PB_OK)
        goto done;
    pb_transcript t;
    pb_dkg_sch_transcript(&t, s->core.sid, PB_ROLE_P1, m3.c1);
    if ((st = pb_zk_sch_verify(&t, &m3.q1, &m3.sch)) != PB_OK) {
        st = pb_fail_context(st, "dkg message 3 (proof of x1)");
        goto done;
    }
    pb_key_bundle_ctx kctx;
    pb_dkg_bundle_ctx(&kctx, s->core.sid);
    if ((st = pb_key_bundle_verify(&m3.key, &kctx, s->rp, &m3.q1)) != PB_OK) {
        st = pb_fail_context(st, "dkg message 3");
        goto done;
    }
    if ((rec = pb_share_p2_alloc()) == NULL) {
        st = pb_fail(PB_ERR_NOMEM, "allocation failed");
        goto done;
    }
    rec->generation = 0;
    rec->x2 = s->x2;
    rec->q1 = m3.q1;
    rec->q2 = s->q2;
    if (pb_point_add(&rec->q, &m3.q1, &s->q2) != PB_OK) {
        st = pb_fail(PB_ERR_PROOF, "dkg message 3: Q1 + Q2 is the identity");
        goto done;
    }
    pb_dkg_chain_code(rec->chain, s->core.sid, m3.c1, s->c2);
    rec->paillier = m3.key.pk;
    rec->c_key = m3.key.c_key;
    m3.key.pk = NULL;
    m3.key.c_key = NULL;

    pb_dkg_m4 m4;
    memcpy(m4.sid, s->core.sid, PB_SESSION_ID_BYTES);
    pb_share_p2_id(rec, m4.share_id);
    if ((st = pb_dkg_m4_encode(&m4, out, out_len)) != PB_OK)
        goto done;
    s->result = rec;
    rec = NULL;
    pb_scalar_wipe(&s->x2);
    s->core.next = 5;
done:
    pb_share_p2_free(rec);
    pb_dkg_m3_clear(&m3);
    return st;
}

PB_API pb_status pb_dkg_p2_step(pb_dkg_p2 *s, const uint8_t *in, size_t in_len, uint8_t **out,
                                size_t *out_len)
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

PB_API pb_status pb_dkg_p2_take_share(pb_dkg_p2 *s, pb_share_p2 **out)
{
    *out = NULL;
    if (s->core.failed || s->core.next != 5 || !s->result)
        return pb_fail(PB_ERR_STATE, "dkg p2: no completed share to take");
    *out = s->result;
    s->result = NULL;
    return PB_OK;
}
