/* keyproof.h - P1's Paillier key statement, shared by DKG and refresh.
 *
 * Owns: the bundle P1 sends with a (new) Paillier key: N, c_key = Enc_N(x1),
 * Pi^mod(N), Pi^fac(N) and Pi^log*(c_key, Q1), the last two against P2's
 * ring-Pedersen parameters; its encoding, its decoding with every range
 * check, and its verification. Proof transcripts are bound to the protocol,
 * session id, role P1 and a caller context. Must never keep x1 or the
 * encryption randomness after proving.
 */
#ifndef PB_MPC_KEYPROOF_H
#define PB_MPC_KEYPROOF_H

#include <openssl/bn.h>

#include "common/bytes.h"
#include "crypto/ec.h"
#include "crypto/paillier.h"
#include "crypto/ring_pedersen.h"
#include "crypto/zk_fac.h"
#include "crypto/zk_logstar.h"
#include "crypto/zk_mod.h"

typedef struct pb_key_bundle {
    pb_paillier_public *pk;
    BIGNUM *c_key;
    pb_zk_mod_proof *mod;
    pb_zk_fac_proof *fac;
    pb_zk_logstar_proof *logstar;
} pb_key_bundle;

/* Binds the proofs: protocol id, session id and context (may be empty). */
typedef struct pb_key_bundle_ctx {
    uint8_t protocol;
    const uint8_t *sid;
    const uint8_t *context;
    size_t context_len;
} pb_key_bundle_ctx;

/* Encrypts x1 under sk's key and proves everything. */
pb_status pb_key_bundle_make(pb_key_bundle *b, const pb_key_bundle_ctx *ctx,
                             const pb_paillier_private *sk, const pb_rped_public *verifier_rp,
                             const pb_scalar *x1, const pb_point *q1);
/* The proofs alone, for a given (possibly dishonest) c_key and witness:
 * lets tests build a malicious P1. x may be any BIGNUM the prover accepts. */
pb_status pb_key_bundle_prove(pb_key_bundle *b, const pb_key_bundle_ctx *ctx,
                              const pb_paillier_private *sk, const pb_rped_public *verifier_rp,
                              const BIGNUM *x, const BIGNUM *rho, const pb_point *q1);
void pb_key_bundle_encode(pb_writer *w, const pb_key_bundle *b);
/* N must have exactly `bits` bits; c_key in (0, N^2) with gcd(c_key, N) = 1. */
pb_status pb_key_bundle_decode(pb_reader *r, pb_key_bundle *b, int bits,
                               const pb_rped_public *verifier_rp);
/* Pi^mod, Pi^fac, then Pi^log* for (c_key, q1). */
pb_status pb_key_bundle_verify(const pb_key_bundle *b, const pb_key_bundle_ctx *ctx,
                               const pb_rped_public *verifier_rp, const pb_point *q1);
void pb_key_bundle_clear(pb_key_bundle *b);

#endif
