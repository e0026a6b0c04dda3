/* zk_logstar.h - Pi^log*: the Paillier plaintext of C equals the discrete
 * log of X = x*G, and x lies in +-2^(l+eps) (CGGMP21 Fig. 25, with g = G).
 *
 * Statement: prover's Paillier key N0, ciphertext C = Enc(x; rho), point X.
 * Proven against the verifier's ring-Pedersen parameters. The witness x is
 * taken in [0, 2^l); the verifier learns only |x| <= 2^(l+eps).
 */
#ifndef PB_CRYPTO_ZK_LOGSTAR_H
#define PB_CRYPTO_ZK_LOGSTAR_H

#include "common/bytes.h"
#include "crypto/ec.h"
#include "crypto/paillier.h"
#include "crypto/ring_pedersen.h"
#include "crypto/transcript.h"
#include "crypto/zk_params.h"

typedef struct pb_zk_logstar_proof pb_zk_logstar_proof;

pb_status pb_zk_logstar_prove(const pb_transcript *t, const pb_paillier_public *pk,
                              const pb_rped_public *verifier_rp, const BIGNUM *c,
                              const pb_point *x_pub, const BIGNUM *x, const BIGNUM *rho,
                              pb_zk_logstar_proof **out);
pb_status pb_zk_logstar_verify(const pb_transcript *t, const pb_paillier_public *pk,
                               const pb_rped_public *verifier_rp, const BIGNUM *c,
                               const pb_point *x_pub, const pb_zk_logstar_proof *proof);
void pb_zk_logstar_free(pb_zk_logstar_proof *proof);
void pb_zk_logstar_encode(pb_writer *w, const pb_zk_logstar_proof *proof);
pb_status pb_zk_logstar_decode(pb_reader *r, const pb_paillier_public *pk,
                               const pb_rped_public *verifier_rp, pb_zk_logstar_proof **out);

#endif
