/* zk_sch.c - Pi^sch, Schnorr proof of knowledge of a discrete log
 * (CGGMP21 ePrint 2021/060, Fig. 22), made non-interactive by Fiat-Shamir.
 *
 * Owns: the prover (optionally split into commit and respond), the verifier
 * and the 65-byte wire form (A compressed, then z). The challenge is drawn
 * from a copy of the caller's transcript after absorbing the statement X and
 * the first message A, so the caller's domain, session id and prover role
 * are bound. Must never reuse a nonce alpha, never absorb the witness, and
 * never leave alpha or x in memory it owns.
 */
#include "crypto/zk_sch.h"

#include <string.h>

#include <openssl/crypto.h>

#include "common/fail.h"

static const char PROOF_NAME[] = "pi-sch";

static void sch_challenge(const pb_transcript *t, const pb_point *x_pub, const pb_point *a,
                          pb_scalar *e)
{
    pb_transcript tt = *t;
    pb_transcript_append(&tt, "proof", PROOF_NAME, sizeof PROOF_NAME - 1);
    pb_transcript_append_point(&tt, "sch.X", x_pub);
    pb_transcript_append_point(&tt, "sch.A", a);
    pb_transcript_challenge_scalar(&tt, "sch.e", e);
    OPENSSL_cleanse(&tt, sizeof tt);
}

pb_status pb_zk_sch_commit(pb_zk_sch_nonce *nonce)
{
    if (!nonce)
        return pb_fail(PB_ERR_ARGUMENT, "pi-sch commit: missing nonce");
    pb_zk_sch_nonce_wipe(nonce);
    pb_status st = pb_scalar_random(&nonce->alpha);
    if (st == PB_OK)
        st = pb_point_mul_base(&nonce->a, &nonce->alpha);
    if (st != PB_OK) {
        pb_zk_sch_nonce_wipe(nonce);
        return pb_fail_context(st, "pi-sch commit");
    }
    nonce->live = 1;
    return PB_OK;
}

void pb_zk_sch_nonce_wipe(pb_zk_sch_nonce *nonce)
{
    if (nonce)
        OPENSSL_cleanse(nonce, sizeof *nonce);
}

pb_status pb_zk_sch_respond(const pb_transcript *t, const pb_point *x_pub, const pb_scalar *x,
                            pb_zk_sch_nonce *nonce, pb_zk_sch_proof *out)
{
    if (!nonce)
        return pb_fail(PB_ERR_ARGUMENT, "pi-sch respond: missing nonce");
    if (!t || !x_pub || !x || !out) {
        pb_zk_sch_nonce_wipe(nonce);
        return pb_fail(PB_ERR_ARGUMENT, "pi-sch respond: missing argument");
    }
    if (nonce->live != 1) {
        pb_zk_sch_nonce_wipe(nonce);
        return pb_fail(PB_ERR_STATE, "pi-sch respond: nonce already used or never committed");
    }

    /* A proof for the wrong statement would fail at the peer anyway; catching
     * it here turns a confusing remote error into a local one. */
    pb_point check;
    pb_status st = pb_point_mul_base(&check, x);
    if (st != PB_OK || !pb_point_equal(&check, x_pub)) {
        pb_zk_sch_nonce_wipe(nonce);
        return pb_fail(PB_ERR_ARGUMENT, "pi-sch respond: witness does not match X");
    }

    pb_scalar e, ex;
    sch_challenge(t, x_pub, &nonce->a, &e);
    pb_scalar_mul(&ex, &e, x);
    out->a = nonce->a;
    pb_scalar_add(&out->z, &nonce->alpha, &ex);
    pb_scalar_wipe(&ex);
    pb_zk_sch_nonce_wipe(nonce);
    return PB_OK;
}

pb_status pb_zk_sch_prove(const pb_transcript *t, const pb_point *x_pub, const pb_scalar *x,
                          pb_zk_sch_proof *out)
{
    pb_zk_sch_nonce nonce;
    memset(&nonce, 0, sizeof nonce);
    pb_status st = pb_zk_sch_commit(&nonce);
    if (st != PB_OK)
        return st;
    return pb_zk_sch_respond(t, x_pub, x, &nonce, out);
}

int pb_zk_sch_equation_holds(const pb_point *y, const pb_scalar *z, const pb_scalar *e,
                             const pb_point *x_pub)
{
    /* Evaluate z*G - e*X and compare with Y. The identity cannot be
     * represented, but Y is never the identity, so any path that would
     * produce it means the equation fails. */
    pb_point r;
    int z_zero = pb_scalar_is_zero(z);
    if (pb_scalar_is_zero(e)) {
        if (z_zero || pb_point_mul_base(&r, z) != PB_OK)
            return 0;
        return pb_point_equal(&r, y);
    }
    pb_scalar neg_e;
    pb_point t;
    pb_scalar_negate(&neg_e, e);
    if (pb_point_mul(&t, x_pub, &neg_e) != PB_OK)
        return 0;
    if (z_zero)
        return pb_point_equal(&t, y);
    if (pb_point_add_base_mul(&r, &t, z) != PB_OK)
        return 0;
    return pb_point_equal(&r, y);
}

pb_status pb_zk_sch_verify(const pb_transcript *t, const pb_point *x_pub,
                           const pb_zk_sch_proof *proof)
{
    if (!t || !x_pub || !proof)
        return pb_fail(PB_ERR_ARGUMENT, "pi-sch verify: missing argument");
    pb_scalar e;
    sch_challenge(t, x_pub, &proof->a, &e);
    if (!pb_zk_sch_equation_holds(&proof->a, &proof->z, &e, x_pub))
        return pb_fail(PB_ERR_PROOF, "pi-sch: z*G != A + e*X");
    return PB_OK;
}

void pb_zk_sch_encode(pb_writer *w, const pb_zk_sch_proof *proof)
{
    uint8_t a[PB_POINT_BYTES];
    pb_point_serialize(a, &proof->a);
    pb_writer_raw(w, a, sizeof a);
    pb_writer_raw(w, proof->z.b, sizeof proof->z.b);
}

pb_status pb_zk_sch_decode(pb_reader *r, pb_zk_sch_proof *out)
{
    const uint8_t *a = pb_reader_raw(r, PB_POINT_BYTES);
    const uint8_t *z = pb_reader_raw(r, PB_SCALAR_BYTES);
    if (!a || !z)
        return pb_fail(PB_ERR_PARSE, "pi-sch: truncated proof");
    pb_status st = pb_point_parse(&out->a, a);
    if (st != PB_OK)
        return pb_fail_context(PB_ERR_PARSE, "pi-sch: A");
    st = pb_scalar_parse(&out->z, z);
    if (st != PB_OK)
        return pb_fail_context(PB_ERR_PARSE, "pi-sch: z");
    return PB_OK;
}
