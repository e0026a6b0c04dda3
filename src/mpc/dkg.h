/* dkg.h - the DKG messages, for the state machines in dkg.c and for tests
 * that play a dishonest party.
 *
 * Owns: the four message layouts, their encoders and strict decoders, the
 * commitment and chain-code rules. Decoders check syntax and ranges only;
 * the state machines check sessions, commitments and proofs.
 *   m1 P1->P2: n1, com = Commit("dkg/q1-chain", pre_id(n1), P1, Q1 || c1)
 *   m2 P2->P1: n2, Q2, c2, Pi^sch(x2) bound to c2     [sid = H(n1, n2)]
 *   m3 P1->P2: Q1, c1, opening, Pi^sch(x1), key bundle (N, c_key, proofs)
 *   m4 P2->P1: share id of the record P2 stored
 */
#ifndef PB_MPC_DKG_H
#define PB_MPC_DKG_H

#include <stdint.h>

#include "crypto/ec.h"
#include "crypto/zk_sch.h"
#include "mpc/bip32.h"
#include "mpc/commit.h"
#include "mpc/keyproof.h"
#include "mpc/msg.h"

typedef struct pb_dkg_m1 {
    uint8_t n1[PB_NONCE_BYTES];
    uint8_t com[PB_COMMIT_BYTES];
} pb_dkg_m1;

typedef struct pb_dkg_m2 {
    uint8_t sid[PB_SESSION_ID_BYTES];
    uint8_t n2[PB_NONCE_BYTES];
    pb_point q2;
    uint8_t c2[PB_BIP32_CHAIN_BYTES];
    pb_zk_sch_proof sch;
} pb_dkg_m2;

typedef struct pb_dkg_m3 {
    uint8_t sid[PB_SESSION_ID_BYTES];
    pb_point q1;
    uint8_t c1[PB_BIP32_CHAIN_BYTES];
    uint8_t opening[PB_COMMIT_OPENING_BYTES];
    pb_zk_sch_proof sch;
    pb_key_bundle key;
} pb_dkg_m3;

typedef struct pb_dkg_m4 {
    uint8_t sid[PB_SESSION_ID_BYTES];
    uint8_t share_id[PB_MPC_SHARE_ID_BYTES];
} pb_dkg_m4;

pb_status pb_dkg_m1_encode(const pb_dkg_m1 *m, uint8_t **out, size_t *out_len);
pb_status pb_dkg_m1_decode(pb_dkg_m1 *m, const uint8_t *in, size_t in_len);
pb_status pb_dkg_m2_encode(const pb_dkg_m2 *m, uint8_t **out, size_t *out_len);
pb_status pb_dkg_m2_decode(pb_dkg_m2 *m, const uint8_t *in, size_t in_len);
pb_status pb_dkg_m3_encode(const pb_dkg_m3 *m, uint8_t **out, size_t *out_len);
/* bits: the exact Paillier size required; rp: the receiver's (P2's) own
 * ring-Pedersen parameters. On failure m holds nothing to free. */
pb_status pb_dkg_m3_decode(pb_dkg_m3 *m, const uint8_t *in, size_t in_len, int bits,
                           const pb_rped_public *rp);
void pb_dkg_m3_clear(pb_dkg_m3 *m);
pb_status pb_dkg_m4_encode(const pb_dkg_m4 *m, uint8_t **out, size_t *out_len);
pb_status pb_dkg_m4_decode(pb_dkg_m4 *m, const uint8_t *in, size_t in_len);

/* com over Q1 || c1, bound to pre_id(n1) and role P1. */
void pb_dkg_commit(uint8_t com[PB_COMMIT_BYTES], const uint8_t n1[PB_NONCE_BYTES],
                   const pb_point *q1, const uint8_t c1[PB_BIP32_CHAIN_BYTES],
                   const uint8_t opening[PB_COMMIT_OPENING_BYTES]);
pb_status pb_dkg_commit_check(const uint8_t com[PB_COMMIT_BYTES],
                              const uint8_t n1[PB_NONCE_BYTES], const pb_point *q1,
                              const uint8_t c1[PB_BIP32_CHAIN_BYTES],
                              const uint8_t opening[PB_COMMIT_OPENING_BYTES]);
/* chain code = SHA-256("planbok/mpc/chain-code/v1" || sid || c1 || c2). */
void pb_dkg_chain_code(uint8_t out[PB_BIP32_CHAIN_BYTES], const uint8_t sid[PB_SESSION_ID_BYTES],
                       const uint8_t c1[PB_BIP32_CHAIN_BYTES],
                       const uint8_t c2[PB_BIP32_CHAIN_BYTES]);
/* Transcript of Pi^sch for x_role (role P1 or P2) in session sid, bound
 * to the same party's chain-code half. */
void pb_dkg_sch_transcript(pb_transcript *t, const uint8_t sid[PB_SESSION_ID_BYTES],
                           uint8_t role, const uint8_t chain_half[PB_BIP32_CHAIN_BYTES]);
/* Key bundle binding for session sid. */
void pb_dkg_bundle_ctx(pb_key_bundle_ctx *ctx, const uint8_t sid[PB_SESSION_ID_BYTES]);

#endif
