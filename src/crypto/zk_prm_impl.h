/* zk_prm_impl.h - the layout of a Pi^prm proof and its challenge, shared by
 * zk_prm.c and the suites that forge or tamper with proofs.
 *
 * Owns nothing at run time. Protocol code must use zk_prm.h only.
 */
#ifndef PB_CRYPTO_ZK_PRM_IMPL_H
#define PB_CRYPTO_ZK_PRM_IMPL_H

#include <stdint.h>

#include "crypto/zk_params.h"
#include "crypto/zk_prm.h"

/* Round i: A_i = t^(a_i) mod N^, e_i from the transcript, z_i = a_i + e_i*lambda
 * over the integers with a_i < 2^(|N^| + PB_ZK_STAT), so 0 <= z_i < 2^PB_ZK_PRM_Z_BITS. */
#define PB_ZK_PRM_Z_BITS(nbits) ((nbits) + PB_ZK_STAT + 1)

struct pb_zk_prm_proof {
    BIGNUM *a[PB_ZK_PRM_ROUNDS]; /* A_i, in Z_N^* */
    BIGNUM *z[PB_ZK_PRM_ROUNDS];
};

/* A proof with every field allocated (zero). */
pb_zk_prm_proof *pb_zk_prm_alloc(void);
/* e_i in {0, 1}, bound to the caller's transcript, (N^, s, t) and every A_i. */
void pb_zk_prm_challenge(const pb_transcript *t, const pb_rped_public *pub,
                         const pb_zk_prm_proof *proof, uint8_t e[PB_ZK_PRM_ROUNDS]);

#endif
