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
pb_status pb_zk_sch_verify(const pb_transcript *t, const pb_point *x_pub,
                           const pb_zk_sch_proof *proof);
void pb_zk_sch_encode(pb_writer *w, const pb_zk_sch_proof *proof);
pb_status pb_zk_sch_decode(pb_reader *r, pb_zk_sch_proof *out);

#endif
