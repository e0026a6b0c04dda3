/* sign.c - two-party ECDSA signing state machines (Lindell 2017, Protocol
 * 3.2, additive shares) with P1's global abort.
 *
 *   P1 start:  k1, R1 = k1*G, Pi^sch(k1) (bound to pre_id(n1) and the
 *              request); m1 = (n1, request, Commit(R1 || proof))
 *   P2 m1:     share id and path checked; waits for the caller's approval
 *   P2 approve: k2, R2, sid = H(n1, n2); m2 = (n2, R2, Pi^sch(k2))
 *   P1 m2:     Pi^sch(k2) (bound to sid and the request); R = k1*R2, r != 0;
 *              m3 = opening (R1, Pi^sch(k1), u)
 *   P2 m3:     opening, Pi^sch(k1); R = k2*R1, r != 0;
 *              m4 = c3 = Enc(rho*q + k2^-1(m + r*x2')) (+) c_key^(k2^-1 r)
 *   P1 m4:     s = k1^-1 * Dec(c3) mod q, low-s, recovery id, and the
 *              signature is VERIFIED before it is released.
 *
 * Global abort (Lindell 2017 section 3; BitForge, CVE-2023-33242): whether
 * a signature built from P2's c3 verifies may depend on P1's secrets when
 * P2 cheats, so the first failure after decryption locks P1's record (the
 * caller persists it) and no locked record ever signs again. Failures
 * before decryption depend on public data only and just abort the session.
 * With a derived key, P2 uses x2' = x2 + tweak and both verify against
 * Q' = Q + tweak*G; P1's x1 is unchanged.
 *
 * Owns the order of checks and the lock. Must never release an unverified
 * signature or keep k1, k2 after the session.
 */
#include <string.h>

#include <secp256k1.h>

#include "common/fail.h"
#include "crypto/bn.h"
#include "mpc/mem.h"
#include "mpc/share.h"
#include "mpc/sign.h"

struct pb_sign_p1 {
    pb_session_core core;
    pb_share_p1 *share;
    pb_sign_request req;
    pb_point derived; /* Q' that must verify */
    pb_scalar k1;     /* secret */
    pb_point r1;
    pb_zk_sch_proof sch1;
    uint8_t opening[PB_COMMIT_OPENING_BYTES];
    pb_point r;       /* R = k1*R2 */
    pb_scalar r_x;    /* r = R.x mod q */
    int recid_base;   /* (R.y odd) | (R.x >= q) << 1 */
    uint8_t sig[PB_MPC_SIGNATURE_BYTES];
    int recid;
    int have_sig;
};

struct pb_sign_p2 {
    pb_session_core core;
    const pb_share_p2 *share;
    pb_sign_request req;
    pb_scalar tweak;
    pb_point derived;
    uint8_t com[PB_COMMIT_BYTES];
    pb_scalar k2; /* secret */
    pb_point r2;
    BIGNUM *rn;   /* optional precomputed r^N mod N^2, used once */
};

static void clear_out(uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
}

/* --- P1 ------------------------------------------------------------------- */

PB_API pb_status pb_sign_p1_new(pb_sign_p1 **out, pb_share_p1 *share,
                                const uint8_t digest[PB_MPC_DIGEST_BYTES],
                                const uint32_t *path, size_t path_len)
{
    *out = NULL;
    if (atomic_load(&share->locked))
        return pb_fail(PB_ERR_ABORTED,
                       "sign p1: wallet is locked after a failed signature (global abort); "
                       "only a refresh can unlock it");
    if (path_len > PB_BIP32_MAX_DEPTH)
        return pb_fail(PB_ERR_ARGUMENT, "sign p1: path of %zu indices is too long", path_len);
    pb_sign_p1 *s = pb_mpc_secret_zalloc(sizeof *s);
    if (!s)
        return pb_fail(PB_ERR_NOMEM, "sign p1: allocation failed");
    pb_session_core_init(&s->core, "sign p1", PB_PROTO_SIGN, PB_ROLE_P1);
    s->share = share;
    pb_share_p1_id(share, s->req.share_id);
    memcpy(s->req.digest, digest, PB_MPC_DIGEST_BYTES);
    if (path_len)
        memcpy(s->req.path, path, path_len * sizeof *path);
    s->req.path_len = path_len;
    pb_scalar tweak;
    pb_status st = pb_sign_derive(&share->q, share->chain, path, path_len, &tweak, &s->derived);
    if (st != PB_OK) {
        pb_sign_p1_free(s);
        return pb_fail_context(st, "sign p1");
    }
    *out = s;
    return PB_OK;
}

PB_API void pb_sign_p1_free(pb_sign_p1 *s)
{
    if (s)
        pb_mpc_secret_free(s, sizeof *s);
}

static pb_status p1_start(pb_sign_p1 *s, uint8_t **out, size_t *out_len)
{
    pb_status st = pb_session_expect(&s->core, 1);
    if (st != PB_OK)
        return st;
    if ((st = pb_msg_random(s->core.n1, PB_NONCE_BYTES)) != PB_OK ||
        (st = pb_msg_random(s->opening, sizeof s->opening)) != PB_OK ||
        (st = pb_scalar_random(&s->k1)) != PB_OK ||
        (st = pb_point_mul_base(&s->r1, &s->k1)) != PB_OK)
        return st;
    pb_transcript t;
    pb_sign_k1_transcript(&t, s->core.n1, &s->req);
    if ((st = pb_zk_sch_prove(&t, &s->r1, &s->k1, &s->sch1)) != PB_OK)
        return st;
    pb_sign_m1 m1;
    memcpy(m1.n1, s->core.n1, PB_NONCE_BYTES);
    m1.req = s->req;
    pb_sign_commit(m1.com, s->core.n1, &s->r1, &s->sch1, s->opening);
    if ((st = pb_sign_m1_encode(&m1, out, out_len)) != PB_OK)
        return st;
    s->core.next = 2;
    return PB_OK;
}

PB_API pb_status pb_sign_p1_start(pb_sign_p1 *s, uint8_t **out, size_t *out_len)
{
    clear_out(out, out_len);
    return pb_session_settle(&s->core, p1_start(s, out, out_len));
}

static pb_status p1_on_m2(pb_sign_p1 *s, const uint8_t *in, size_t in_len, uint8_t **out,
                          size_t *out_len)
{
    pb_sign_m2 m2;
    pb_status st = pb_sign_m2_decode(&m2, in, in_len);
    if (st != PB_OK)
        return st;
    memcpy(s->core.n2, m2.n2, PB_NONCE_BYTES);
    pb_session_set_sid(&s->core);
    if ((st = pb_msg_check_sid(m2.sid, s->core.sid, "sign message 2")) != PB_OK)
        return st;
    pb_transcript t;
    pb_sign_k2_transcript(&t, s->core.sid, &s->req);
    if ((st = pb_zk_sch_verify(&t, &m2.r2, &m2.sch)) != PB_OK)
        return pb_fail_context(st, "sign message 2 (proof of k2)");
    if ((st = pb_point_mul(&s->r, &m2.r2, &s->k1)) != PB_OK)
        return st;
    int odd = 0, overflow = 0;
    pb_point_x_mod_q(&s->r_x, &odd, &overflow, &s->r);
    if (pb_scalar_is_zero(&s->r_x))
        return pb_fail(PB_ERR_PROOF, "sign message 2: r = 0");
    s->recid_base = odd | (overflow << 1);

    pb_sign_m3 m3;
    memcpy(m3.sid, s->core.sid, PB_SESSION_ID_BYTES);
    m3.r1 = s->r1;
    m3.sch = s->sch1;
    memcpy(m3.opening, s->opening, sizeof m3.opening);
    if ((st = pb_sign_m3_encode(&m3, out, out_len)) != PB_OK)
        return st;
    s->core.next = 4;
    return PB_OK;
}

/* Global abort: set the lock (visible to every session using this record)
 * and report. Nothing about why is returned beyond "did not verify". */
static pb_status p1_lock(pb_sign_p1 *s)
{
    atomic_store(&s->share->locked, 1);
    return pb_fail(PB_ERR_ABORTED,
                   "sign p1: the signature built from the cosigner's answer did not verify; "
                   "the wallet is now locked (global abort) and the share must be persisted");
}

static pb_status p1_on_m4(pb_sign_p1 *s, const uint8_t *in, size_t in_len)
{
    const pb_paillier_public *pk = pb_paillier_public_of(s->share->paillier);
    pb_sign_m4 m4;
    pb_status st = pb_sign_m4_decode(&m4, in, in_len, pk);
    if (st != PB_OK)
        return st;
    BIGNUM *plain = pb_bn_secure_new();
    pb_scalar s_prime, k1inv, sv, m;
    memset(&s_prime, 0, sizeof s_prime);
    memset(&k1inv, 0, sizeof k1inv);
    if ((st = pb_msg_check_sid(m4.sid, s->core.sid, "sign message 4")) != PB_OK)
        goto done;
    if (!plain) {
        st = pb_fail(PB_ERR_NOMEM, "sign p1: allocation failed");
        goto done;
    }
    /* A concurrent session may have locked the record: never decrypt then. */
    if (atomic_load(&s->share->locked)) {
        st = pb_fail(PB_ERR_ABORTED, "sign p1: wallet was locked by another session");
        goto done;
    }
    if ((st = pb_sign_digest_scalar(&m, s->req.digest)) != PB_OK)
        goto done;
    /* From here on the outcome may depend on x1 and on the Paillier key if
     * P2 cheated: every failure locks. */
    if (pb_paillier_decrypt(s->share->paillier, m4.c3, plain) != PB_OK ||
        pb_scalar_from_bn(&s_prime, plain) != PB_OK ||
        pb_scalar_inverse(&k1inv, &s->k1) != PB_OK) {
        st = p1_lock(s);
        goto done;
    }
    pb_scalar_mul(&sv, &k1inv, &s_prime);
    if (pb_scalar_is_zero(&sv)) {
        st = p1_lock(s);
        goto done;
    }
    const secp256k1_context *ctx = pb_secp256k1();
    uint8_t compact[PB_MPC_SIGNATURE_BYTES];
    memcpy(compact, s->r_x.b, 32);
    memcpy(compact + 32, sv.b, 32);
    secp256k1_ecdsa_signature sig, low;
    int recid = s->recid_base;
    if (!secp256k1_ecdsa_signature_parse_compact(ctx, &sig, compact)) {
        st = p1_lock(s);
        goto done;
    }
    /* normalize returns 1 when s was high: s -> q - s flips R's y parity. */
    if (secp256k1_ecdsa_signature_normalize(ctx, &low, &sig))
        recid ^= 1;
    if (!secp256k1_ecdsa_verify(ctx, &low, s->req.digest, &s->derived.p)) {
        st = p1_lock(s);
        goto done;
    }
    if (atomic_load(&s->share->locked)) {
        st = pb_fail(PB_ERR_ABORTED, "sign p1: wallet was locked by another session");
        goto done;
    }
    (void)secp256k1_ecdsa_signature_serialize_compact(ctx, s->sig, &low);
    s->recid = recid;
    s->have_sig = 1;
    s->core.next = 5;
done:
    pb_scalar_wipe(&s->k1);
    pb_scalar_wipe(&k1inv);
    pb_scalar_wipe(&s_prime);
    BN_clear_free(plain);
    pb_sign_m4_clear(&m4);
    return st;
}

PB_API pb_status pb_sign_p1_step(pb_sign_p1 *s, const uint8_t *in, size_t in_len, uint8_t **out,
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
    if (st != PB_OK)
        pb_scalar_wipe(&s->k1);
    return pb_session_settle(&s->core, st);
}

PB_API pb_status pb_sign_p1_signature(const pb_sign_p1 *s, uint8_t sig[PB_MPC_SIGNATURE_BYTES],
                                      int *recovery_id)
{
    if (!s->have_sig)
        return pb_fail(PB_ERR_STATE, "sign p1: no verified signature");
    memcpy(sig, s->sig, PB_MPC_SIGNATURE_BYTES);
    if (recovery_id)
        *recovery_id = s->recid;
    return PB_OK;
}

PB_API pb_status pb_sign_p1_session_id(const pb_sign_p1 *s,
                                       uint8_t sid[PB_MPC_SESSION_ID_BYTES])
{
    if (!s->core.have_sid)
        return pb_fail(PB_ERR_STATE, "sign p1: no session id before message 2");
    memcpy(sid, s->core.sid, PB_MPC_SESSION_ID_BYTES);
    return PB_OK;
}

/* --- P2 ------------------------------------------------------------------- */

PB_API pb_status pb_sign_p2_new(pb_sign_p2 **out, const pb_share_p2 *share)
{
    *out = NULL;
    pb_sign_p2 *s = pb_mpc_secret_zalloc(sizeof *s);
    if (!s)
        return pb_fail(PB_ERR_NOMEM, "sign p2: allocation failed");
    pb_session_core_init(&s->core, "sign p2", PB_PROTO_SIGN, PB_ROLE_P2);
    s->share = share;
    *out = s;
    return PB_OK;
}

PB_API void pb_sign_p2_free(pb_sign_p2 *s)
{
    if (!s)
        return;
    BN_clear_free(s->rn);
    pb_mpc_secret_free(s, sizeof *s);
}

static pb_status p2_on_m1(pb_sign_p2 *s, const uint8_t *in, size_t in_len)
{
    pb_sign_m1 m1;
    pb_status st = pb_sign_m1_decode(&m1, in, in_len);
    if (st != PB_OK)
        return st;
    uint8_t id[PB_MPC_SHARE_ID_BYTES];
    pb_share_p2_id(s->share, id);
    if (memcmp(id, m1.req.share_id, sizeof id) != 0)
        return pb_fail(PB_ERR_STATE,
                       "sign message 1: names another share generation than this record");
    if ((st = pb_sign_derive(&s->share->q, s->share->chain, m1.req.path, m1.req.path_len,
                             &s->tweak, &s->derived)) != PB_OK)
        return pb_fail_context(st, "sign message 1");
    memcpy(s->core.n1, m1.n1, PB_NONCE_BYTES);
    memcpy(s->com, m1.com, sizeof s->com);
    s->req = m1.req;
    s->core.next = 2;
    return PB_OK;
}

static pb_status p2_approve(pb_sign_p2 *s, uint8_t **out, size_t *out_len)
{
    pb_status st = pb_session_expect(&s->core, 2);
    if (st != PB_OK)
        return st;
    if ((st = pb_msg_random(s->core.n2, PB_NONCE_BYTES)) != PB_OK ||
        (st = pb_scalar_random(&s->k2)) != PB_OK ||
        (st = pb_point_mul_base(&s->r2, &s->k2)) != PB_OK)
        return st;
    pb_session_set_sid(&s->core);
    pb_sign_m2 m2;
    memcpy(m2.sid, s->core.sid, PB_SESSION_ID_BYTES);
    memcpy(m2.n2, s->core.n2, PB_NONCE_BYTES);
    m2.r2 = s->r2;
    pb_transcript t;
    pb_sign_k2_transcript(&t, s->core.sid, &s->req);
    if ((st = pb_zk_sch_prove(&t, &s->r2, &s->k2, &m2.sch)) != PB_OK)
        return st;
    if ((st = pb_sign_m2_encode(&m2, out, out_len)) != PB_OK)
        return st;
    s->core.next = 3;
    return PB_OK;
}

PB_API pb_status pb_sign_p2_approve(pb_sign_p2 *s, uint8_t **out, size_t *out_len)
{
    clear_out(out, out_len);
    return pb_session_settle(&s->core, p2_approve(s, out, out_len));
}

static pb_status p2_on_m3(pb_sign_p2 *s, const uint8_t *in, size_t in_len, uint8_t **out,
                          size_t *out_len)
{
    pb_sign_m3 m3;
    pb_status st = pb_sign_m3_decode(&m3, in, in_len);
    if (st != PB_OK)
        return st;
    if ((st = pb_msg_check_sid(m3.sid, s->core.sid, "sign message 3")) != PB_OK ||
        (st = pb_sign_commit_check(s->com, s->core.n1, &m3.r1, &m3.sch, m3.opening)) != PB_OK)
        return st;
    pb_transcript t;
    pb_sign_k1_transcript(&t, s->core.n1, &s->req);
    if ((st = pb_zk_sch_verify(&t, &m3.r1, &m3.sch)) != PB_OK)
        return pb_fail_context(st, "sign message 3 (proof of k1)");

    pb_point r;
    pb_scalar r_x, m, x2d;
    if ((st = pb_point_mul(&r, &m3.r1, &s->k2)) != PB_OK)
        return st;
    pb_point_x_mod_q(&r_x, NULL, NULL, &r);
    if (pb_scalar_is_zero(&r_x))
        return pb_fail(PB_ERR_PROOF, "sign message 3: r = 0");
    if ((st = pb_sign_digest_scalar(&m, s->req.digest)) != PB_OK)
        return st;
    pb_scalar_add(&x2d, &s->share->x2, &s->tweak);
    pb_sign_m4 m4;
    memcpy(m4.sid, s->core.sid, PB_SESSION_ID_BYTES);
    if ((m4.c3 = BN_new()) == NULL)
        st = pb_fail(PB_ERR_NOMEM, "sign p2: allocation failed");
    else
        st = pb_sign_compute_c3(s->share->paillier, s->share->c_key, &s->k2, &r_x, &m, &x2d,
                                s->rn, m4.c3);
    pb_scalar_wipe(&x2d);
    /* The precomputed randomness is single use, whatever happened. */
    BN_clear_free(s->rn);
    s->rn = NULL;
    if (st == PB_OK)
        st = pb_sign_m4_encode(&m4, out, out_len);
    pb_sign_m4_clear(&m4);
    if (st != PB_OK)
        return st;
    pb_scalar_wipe(&s->k2);
    s->core.next = 5;
    return PB_OK;
}

PB_API pb_status pb_sign_p2_step(pb_sign_p2 *s, const uint8_t *in, size_t in_len, uint8_t **out,
                                 size_t *out_len)
{
    clear_out(out, out_len);
    pb_status st;
    if (!s->core.failed && s->core.next == 2)
        st = pb_fail(PB_ERR_STATE, "sign p2: the request awaits approval; no message expected");
    else if (s->core.failed || (s->core.next != 1 && s->core.next != 3))
        st = pb_session_reject(&s->core, 4);
    else if (s->core.next == 1)
        st = p2_on_m1(s, in, in_len);
    else
        st = p2_on_m3(s, in, in_len, out, out_len);
    if (st != PB_OK)
        pb_scalar_wipe(&s->k2);
    return pb_session_settle(&s->core, st);
}

PB_API pb_status pb_sign_p2_request(const pb_sign_p2 *s, uint8_t digest[PB_MPC_DIGEST_BYTES],
                                    uint32_t *path, size_t path_max, size_t *path_len,
                                    uint8_t pubkey[PB_MPC_PUBKEY_BYTES])
{
    if (s->core.failed || s->core.next < 2)
        return pb_fail(PB_ERR_STATE, "sign p2: no request received");
    if (s->req.path_len > path_max)
        return pb_fail(PB_ERR_ARGUMENT, "sign p2: the path has %zu indices, room for %zu",
                       s->req.path_len, path_max);
    memcpy(digest, s->req.digest, PB_MPC_DIGEST_BYTES);
    if (s->req.path_len)
        memcpy(path, s->req.path, s->req.path_len * sizeof *path);
    *path_len = s->req.path_len;
    pb_point_serialize(pubkey, &s->derived);
    return PB_OK;
}

PB_API pb_status pb_sign_p2_precompute(pb_sign_p2 *s)
{
    if (s->core.failed || s->core.next > 3)
        return pb_fail(PB_ERR_STATE, "sign p2: too late to precompute");
    if (s->rn)
        return PB_OK;
    BIGNUM *rn = pb_bn_secure_new();
    if (!rn)
        return pb_fail(PB_ERR_NOMEM, "sign p2: allocation failed");
    pb_status st = pb_paillier_precompute_rn(s->share->paillier, rn);
    if (st != PB_OK) {
        BN_clear_free(rn);
        return st;
    }
    s->rn = rn;
    return PB_OK;
}

PB_API pb_status pb_sign_p2_session_id(const pb_sign_p2 *s,
                                       uint8_t sid[PB_MPC_SESSION_ID_BYTES])
{
    if (!s->core.have_sid)
        return pb_fail(PB_ERR_STATE, "sign p2: no session id before approval");
    memcpy(sid, s->core.sid, PB_MPC_SESSION_ID_BYTES);
    return PB_OK;
}

PB_API pb_status pb_sign_message_share_id(const uint8_t *m1, size_t m1_len,
                                          uint8_t id[PB_MPC_SHARE_ID_BYTES])
{
    pb_sign_m1 m;
    pb_status st = pb_sign_m1_decode(&m, m1, m1_len);
    if (st == PB_OK)
        memcpy(id, m.req.share_id, PB_MPC_SHARE_ID_BYTES);
    return st;
}
