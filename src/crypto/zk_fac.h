/* zk_fac.h - Pi^fac: N has no small factor (CGGMP21 Fig. 28).
 *
 * Proves N = p*q with p, q > 2^l (equivalently both below
 * sqrt(N)*2^(l+eps)) against the verifier's ring-Pedersen parameters.
 * Parameters l and eps are in docs/protocol.md (PB_ZK_L, PB_ZK_EPS).
 */
#ifndef PB_CRYPTO_ZK_FAC_H
#define PB_CRYPTO_ZK_FAC_H

#include "common/bytes.h"
#include "crypto/paillier.h"
#include "crypto/ring_pedersen.h"
#include "crypto/transcript.h"
#include "crypto/zk_params.h"

typedef struct pb_zk_fac_proof pb_zk_fac_proof;

pb_status pb_zk_fac_prove(const pb_transcript *t, const pb_paillier_private *sk,
                          const pb_rped_public *verifier_rp, pb_zk_fac_proof **out);
pb_status pb_zk_fac_verify(const pb_transcript *t, const pb_paillier_public *pk,
                           const pb_rped_public *verifier_rp, const pb_zk_fac_proof *proof);
void pb_zk_fac_free(pb_zk_fac_proof *proof);
void pb_zk_fac_encode(pb_writer *w, const pb_zk_fac_proof *proof);
pb_status pb_zk_fac_decode(pb_reader *r, const pb_paillier_public *pk,
                           const pb_rped_public *verifier_rp, pb_zk_fac_proof **out);

#endif
