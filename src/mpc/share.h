/* share.h - each party's per-wallet share record and its canonical encoding.
 *
 * Owns: the record layouts (the thing the engine seals under the node's
 * HSM key), their versioned, canonical, length-checked encoding, the
 * consistency checks on decode (x_i*G = Q_i, Q1 + Q2 = Q, key sizes,
 * ciphertext range) and the share id that tells matching generations apart.
 * Records live in secure memory and are wiped on free. Must never log or
 * expose x_i or the Paillier factors except through the sealed encoding.
 */
#ifndef PB_MPC_SHARE_H
#define PB_MPC_SHARE_H

#include <stdatomic.h>
#include <stdint.h>

#include <openssl/bn.h>

#include "common/bytes.h"
#include "crypto/ec.h"
#include "crypto/paillier.h"
#include "crypto/ring_pedersen.h"
#include "mpc/bip32.h"
#include "planbok/mpc.h"

#define PB_SHARE_FORMAT_VERSION 1
#define PB_SHARE_KIND_P1 1
#define PB_SHARE_KIND_P2 2

struct pb_share_p1 {
    atomic_int locked;          /* global abort: set once, cleared only by refresh */
    uint32_t generation;
    pb_scalar x1;               /* secret */
    pb_point q, q1, q2;
    uint8_t chain[PB_BIP32_CHAIN_BYTES];
    pb_paillier_private *paillier; /* secret */
    pb_rped_public *cosigner;   /* P2's ring-Pedersen parameters, Pi^prm verified at DKG */
};

struct pb_share_p2 {
    uint32_t generation;
    pb_scalar x2;               /* secret */
    pb_point q, q1, q2;
    uint8_t chain[PB_BIP32_CHAIN_BYTES];
    pb_paillier_public *paillier; /* P1's */
    BIGNUM *c_key;              /* Enc_N(x1) */
};

/* Zeroed records in secure memory (NULL on allocation failure). */
pb_share_p1 *pb_share_p1_alloc(void);
pb_share_p2 *pb_share_p2_alloc(void);

/* Encoding into an open writer (used by the public serializers). */
void pb_share_p1_encode(pb_writer *w, const pb_share_p1 *s);
void pb_share_p2_encode(pb_writer *w, const pb_share_p2 *s);

/* x_i*G = Q_i and Q1 + Q2 = Q; PB_ERR_INTEGRITY otherwise. */
pb_status pb_share_check_points(const pb_scalar *x, const pb_point *qi, const pb_point *q1,
                                const pb_point *q2, const pb_point *q);

/* The share id (see pb_share_p1_id) from its parts. */
void pb_share_id_compute(uint8_t id[PB_MPC_SHARE_ID_BYTES], uint32_t generation,
                         const pb_point *q, const pb_point *q1, const pb_point *q2,
                         const uint8_t chain[PB_BIP32_CHAIN_BYTES], const BIGNUM *paillier_n);

/* 1 iff bits is a Paillier / ring-Pedersen size this build accepts. */
int pb_share_bits_allowed(int bits);

#endif
