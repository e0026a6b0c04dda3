/* zk_mod_impl.h - the layout of a Pi^mod proof and its challenges, shared by
 * zk_mod.c and the suites that forge or tamper with proofs.
 *
 * Owns nothing at run time. Protocol code must use zk_mod.h only.
 */
#ifndef PB_CRYPTO_ZK_MOD_IMPL_H
#define PB_CRYPTO_ZK_MOD_IMPL_H

#include <stdint.h>

#include "crypto/zk_mod.h"

struct pb_zk_mod_proof {
    BIGNUM *w;                     /* Jacobi symbol (w/N) = -1 */
    BIGNUM *x[PB_ZK_MOD_ROUNDS];   /* x_i^4 = (-1)^a_i * w^b_i * y_i mod N */
    BIGNUM *z[PB_ZK_MOD_ROUNDS];   /* z_i^N = y_i mod N */
    uint8_t a[PB_ZK_MOD_ROUNDS];   /* 0 or 1 */
    uint8_t b[PB_ZK_MOD_ROUNDS];   /* 0 or 1 */
};

/* A proof with every field allocated (zero). */
pb_zk_mod_proof *pb_zk_mod_alloc(void);
/* The challenges y_i in Z_N^*, bound to the caller's transcript, N and w. */
pb_status pb_zk_mod_challenges(const pb_transcript *t, const BIGNUM *n, const BIGNUM *w,
                               BIGNUM *y[PB_ZK_MOD_ROUNDS]);

#endif
