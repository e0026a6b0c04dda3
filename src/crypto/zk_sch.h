/* zk_sch.h - Pi^sch: knowledge of the discrete log x of X = x*G
 * (CGGMP21 Fig. 22, Schnorr), non-interactive by Fiat-Shamir.
 *
 * The caller hands a transcript already bound to (domain, session id,
 * prover role); the proof appends its statement and first message to a copy,
 * so the caller's transcript is untouched. The commitment A may be produced
 * ahead of time (pb_zk_sch_commit) so that it can be committed to first.
 */
#ifndef PB_CRYPTO_ZK_SCH_H
#define PB_CRYPTO_ZK_SCH_H

#include "common/bytes.h"
#include "crypto/ec.h"
#include "crypto/transcript.h"

#define PB_ZK_SCH_BYTES (PB_POINT_BYTES + PB_SCALAR_BYTES)

typedef struct pb_zk_sch_proof {
    pb_point a;   /* A = alpha*G */
    pb_scalar z;  /* z = alpha + e*x */
} pb_zk_sch_proof;

pb_status pb_zk_sch_prove(const pb_transcript *t, const pb_point *x_pub, const pb_scalar *x,
                          pb_zk_sch_proof *out);

/* Two-step form of pb_zk_sch_prove for a prover that must commit to A
 * before the challenge context exists. The nonce is single use: respond
 * wipes it, and refuses a nonce that was already used or never committed
 * (answering two challenges with one alpha would reveal x). */
typedef struct pb_zk_sch_nonce {
    pb_scalar alpha; /* secret */
    pb_point a;      /* A = alpha*G */
    int live;        /* 1 between commit and respond */
} pb_zk_sch_nonce;

pb_status pb_zk_sch_commit(pb_zk_sch_nonce *nonce);
pb_status pb_zk_sch_respond(const pb_transcript *t, const pb_point *x_pub, const pb_scalar *x,
                            pb_zk_sch_nonce *nonce, pb_zk_sch_proof *out);
/* Forgets an unused nonce (e.g. on abort). */
void pb_zk_sch_nonce_wipe(pb_zk_sch_nonce *nonce);

pb_status pb_zk_sch_verify(const pb_transcript *t, const pb_point *x_pub,
                           const pb_zk_sch_proof *proof);
/* 1 iff z*G == Y + e*X, the Schnorr verification equation (also the group
 * part of Pi^log*). Y and X are never the identity; z or e may be zero. */
int pb_zk_sch_equation_holds(const pb_point *y, const pb_scalar *z, const pb_scalar *e,
                             const pb_point *x_pub);

void pb_zk_sch_encode(pb_writer *w, const pb_zk_sch_proof *proof);
pb_status pb_zk_sch_decode(pb_reader *r, pb_zk_sch_proof *out);

#endif
