/* sign.h - the signing messages and the cosigner's ciphertext, for the state
 * machines in sign.c and for tests that play a dishonest party.
 *
 * Owns: the four message layouts with strict decoders, the signing request
 * (share id, digest, BIP-32 path) and its binding into proofs, the
 * commitment to (R1, Pi^sch(k1)), the size of the mask rho and the
 * computation of c3. Decoders check syntax and ranges only.
 *   m1 P1->P2: n1, request, com = Commit(R1 || Pi^sch(k1)) [proof bound to pre_id(n1)]
 *   m2 P2->P1: n2, R2, Pi^sch(k2)                           [sid = H(n1, n2)]
 *   m3 P1->P2: R1, Pi^sch(k1), opening
 *   m4 P2->P1: c3
 */
#ifndef PB_MPC_SIGN_H
#define PB_MPC_SIGN_H

#include <stdint.h>

#include <openssl/bn.h>

#include "crypto/ec.h"
#include "crypto/paillier.h"
#include "crypto/zk_params.h"
#include "crypto/zk_sch.h"
#include "mpc/commit.h"
#include "mpc/msg.h"

/* Bits of the mask rho in c3 = Enc(rho*q + a) (+) c_key^b. See sign.c for
 * the arithmetic; 2l + eps + stat = 1152 (docs/protocol.md section 10). */
#define PB_SIGN_MASK_BITS (2 * PB_ZK_L + PB_ZK_EPS + PB_ZK_STAT)

/* Largest request encoding: share id, digest, count, indices. */
#define PB_SIGN_REQUEST_MAX (PB_MPC_SHARE_ID_BYTES + PB_MPC_DIGEST_BYTES + 1 + 4 * PB_BIP32_MAX_DEPTH)

typedef struct pb_sign_request {
    uint8_t share_id[PB_MPC_SHARE_ID_BYTES];
    uint8_t digest[PB_MPC_DIGEST_BYTES];
    uint32_t path[PB_BIP32_MAX_DEPTH];
    size_t path_len;
} pb_sign_request;

typedef struct pb_sign_m1 {
    uint8_t n1[PB_NONCE_BYTES];
    pb_sign_request req;
    uint8_t com[PB_COMMIT_BYTES];
} pb_sign_m1;

typedef struct pb_sign_m2 {
    uint8_t sid[PB_SESSION_ID_BYTES];
    uint8_t n2[PB_NONCE_BYTES];
    pb_point r2;
    pb_zk_sch_proof sch;
} pb_sign_m2;

typedef struct pb_sign_m3 {
    uint8_t sid[PB_SESSION_ID_BYTES];
    pb_point r1;
    pb_zk_sch_proof sch;
    uint8_t opening[PB_COMMIT_OPENING_BYTES];
} pb_sign_m3;

typedef struct pb_sign_m4 {
    uint8_t sid[PB_SESSION_ID_BYTES];
    BIGNUM *c3; /* owned; free with pb_sign_m4_clear */
} pb_sign_m4;

pb_status pb_sign_m1_encode(const pb_sign_m1 *m, uint8_t **out, size_t *out_len);
/* Rejects a hardened index or a path longer than PB_BIP32_MAX_DEPTH. */
pb_status pb_sign_m1_decode(pb_sign_m1 *m, const uint8_t *in, size_t in_len);
pb_status pb_sign_m2_encode(const pb_sign_m2 *m, uint8_t **out, size_t *out_len);
pb_status pb_sign_m2_decode(pb_sign_m2 *m, const uint8_t *in, size_t in_len);
pb_status pb_sign_m3_encode(const pb_sign_m3 *m, uint8_t **out, size_t *out_len);
pb_status pb_sign_m3_decode(pb_sign_m3 *m, const uint8_t *in, size_t in_len);
pb_status pb_sign_m4_encode(const pb_sign_m4 *m, uint8_t **out, size_t *out_len);
/* c3 must lie in (0, N^2) with gcd(c3, N) = 1 for P1's key. */
pb_status pb_sign_m4_decode(pb_sign_m4 *m, const uint8_t *in, size_t in_len,
                            const pb_paillier_public *pk);
void pb_sign_m4_clear(pb_sign_m4 *m);

/* The canonical request bytes bound into both Schnorr proofs. */
void pb_sign_request_encode(pb_writer *w, const pb_sign_request *req);

/* Pi^sch(k1): made before n2 exists, so bound to pre_id(n1) and the request. */
void pb_sign_k1_transcript(pb_transcript *t, const uint8_t n1[PB_NONCE_BYTES],
                           const pb_sign_request *req);
/* Pi^sch(k2): bound to the session id and the request. */
void pb_sign_k2_transcript(pb_transcript *t, const uint8_t sid[PB_SESSION_ID_BYTES],
                           const pb_sign_request *req);

/* Commitment to R1 || Pi^sch(k1), bound to pre_id(n1) and role P1. */
void pb_sign_commit(uint8_t com[PB_COMMIT_BYTES], const uint8_t n1[PB_NONCE_BYTES],
                    const pb_point *r1, const pb_zk_sch_proof *sch,
                    const uint8_t opening[PB_COMMIT_OPENING_BYTES]);
pb_status pb_sign_commit_check(const uint8_t com[PB_COMMIT_BYTES],
                               const uint8_t n1[PB_NONCE_BYTES], const pb_point *r1,
                               const pb_zk_sch_proof *sch,
                               const uint8_t opening[PB_COMMIT_OPENING_BYTES]);

/* The digest as an ECDSA scalar (big-endian, reduced mod q). */
pb_status pb_sign_digest_scalar(pb_scalar *m, const uint8_t digest[PB_MPC_DIGEST_BYTES]);

/* The key a request signs with: tweak and Q + tweak*G for the path. */
pb_status pb_sign_derive(const pb_point *q, const uint8_t chain[32], const uint32_t *path,
                         size_t path_len, pb_scalar *tweak, pb_point *derived);

/* c3 = Enc_N(rho*q + a; fresh) (+) c_key^b with a = k2^-1 (m + r*x2) and
 * b = k2^-1 r mod q, rho uniform in [0, 2^PB_SIGN_MASK_BITS). x2 is the
 * (derived) share. rn: a precomputed r^N mod N^2, or NULL for fresh
 * randomness. Refuses a modulus too small for the largest plaintext. */
pb_status pb_sign_compute_c3(const pb_paillier_public *pk, const BIGNUM *c_key,
                             const pb_scalar *k2, const pb_scalar *r, const pb_scalar *m,
                             const pb_scalar *x2, const BIGNUM *rn, BIGNUM *c3);

#endif
