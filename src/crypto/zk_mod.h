/* zk_mod.h - Pi^mod: N is a Paillier-Blum modulus (CGGMP21 Fig. 16).
 *
 * Proves N = p*q with p = q = 3 (mod 4) and gcd(N, phi(N)) = 1, with
 * PB_ZK_MOD_ROUNDS parallel repetitions (soundness 2^-PB_ZK_MOD_ROUNDS).
 * The count is implicit on the wire: a proof has exactly that many rounds.
 * The prover's per-round fourth roots are computed on both cores.
 * Caller's transcript is bound to (domain, session id, prover role).
 */
#ifndef PB_CRYPTO_ZK_MOD_H
#define PB_CRYPTO_ZK_MOD_H

#include "common/bytes.h"
#include "crypto/paillier.h"
#include "crypto/transcript.h"

/* Each round lets a bad modulus through with probability at most 1/2, and
 * under Fiat-Shamir a prover may grind challenges offline: 128 rounds put
 * that at 2^128 hash evaluations, the level of everything else
 * (docs/protocol.md 3.2). */
#define PB_ZK_MOD_ROUNDS 128

typedef struct pb_zk_mod_proof pb_zk_mod_proof;

pb_status pb_zk_mod_prove(const pb_transcript *t, const pb_paillier_private *sk,
                          pb_zk_mod_proof **out);
pb_status pb_zk_mod_verify(const pb_transcript *t, const pb_paillier_public *pk,
                           const pb_zk_mod_proof *proof);
void pb_zk_mod_free(pb_zk_mod_proof *proof);
void pb_zk_mod_encode(pb_writer *w, const pb_zk_mod_proof *proof);
pb_status pb_zk_mod_decode(pb_reader *r, const pb_paillier_public *pk, pb_zk_mod_proof **out);

#endif
