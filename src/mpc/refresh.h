/* refresh.h - the share-refresh messages, for the state machines in
 * refresh.c and for tests that play a dishonest party.
 *
 * Owns: the four message layouts with strict decoders and the commitment to
 * P1's half of the coin toss. Decoders check syntax and ranges only.
 *   m1 P1->P2: n1, old share id, com = Commit(d1 || old share id)  [pre_id(n1)]
 *   m2 P2->P1: n2, d2                                               [sid = H(n1, n2)]
 *   m3 P1->P2: d1, opening, key bundle for x1' = x1 + d1 + d2 under a new N
 *   m4 P2->P1: share id of the new record P2 stored
 */
#ifndef PB_MPC_REFRESH_H
#define PB_MPC_REFRESH_H

#include <stdint.h>

#include "crypto/ec.h"
#include "mpc/commit.h"
#include "mpc/keyproof.h"
#include "mpc/msg.h"

typedef struct pb_refresh_m1 {
    uint8_t n1[PB_NONCE_BYTES];
    uint8_t share_id[PB_MPC_SHARE_ID_BYTES];
    uint8_t com[PB_COMMIT_BYTES];
} pb_refresh_m1;

typedef struct pb_refresh_m2 {
    uint8_t sid[PB_SESSION_ID_BYTES];
    uint8_t n2[PB_NONCE_BYTES];
    pb_scalar d2;
} pb_refresh_m2;

typedef struct pb_refresh_m3 {
    uint8_t sid[PB_SESSION_ID_BYTES];
    pb_scalar d1;
    uint8_t opening[PB_COMMIT_OPENING_BYTES];
    pb_key_bundle key;
} pb_refresh_m3;

typedef struct pb_refresh_m4 {
    uint8_t sid[PB_SESSION_ID_BYTES];
    uint8_t share_id[PB_MPC_SHARE_ID_BYTES];
} pb_refresh_m4;

pb_status pb_refresh_m1_encode(const pb_refresh_m1 *m, uint8_t **out, size_t *out_len);
pb_status pb_refresh_m1_decode(pb_refresh_m1 *m, const uint8_t *in, size_t in_len);
pb_status pb_refresh_m2_encode(const pb_refresh_m2 *m, uint8_t **out, size_t *out_len);
pb_status pb_refresh_m2_decode(pb_refresh_m2 *m, const uint8_t *in, size_t in_len);
pb_status pb_refresh_m3_encode(const pb_refresh_m3 *m, uint8_t **out, size_t *out_len);
/* bits: the exact size of the new Paillier modulus; rp: P2's own
 * parameters. On failure m holds nothing to free. */
pb_status pb_refresh_m3_decode(pb_refresh_m3 *m, const uint8_t *in, size_t in_len, int bits,
                               const pb_rped_public *rp);
void pb_refresh_m3_clear(pb_refresh_m3 *m);
pb_status pb_refresh_m4_encode(const pb_refresh_m4 *m, uint8_t **out, size_t *out_len);
pb_status pb_refresh_m4_decode(pb_refresh_m4 *m, const uint8_t *in, size_t in_len);

void pb_refresh_commit(uint8_t com[PB_COMMIT_BYTES], const uint8_t n1[PB_NONCE_BYTES],
                       const pb_scalar *d1, const uint8_t share_id[PB_MPC_SHARE_ID_BYTES],
                       const uint8_t opening[PB_COMMIT_OPENING_BYTES]);
pb_status pb_refresh_commit_check(const uint8_t com[PB_COMMIT_BYTES],
                                  const uint8_t n1[PB_NONCE_BYTES], const pb_scalar *d1,
                                  const uint8_t share_id[PB_MPC_SHARE_ID_BYTES],
                                  const uint8_t opening[PB_COMMIT_OPENING_BYTES]);
/* Key bundle binding: session id and the old share id. */
void pb_refresh_bundle_ctx(pb_key_bundle_ctx *ctx, const uint8_t sid[PB_SESSION_ID_BYTES],
                           const uint8_t old_share_id[PB_MPC_SHARE_ID_BYTES]);

#endif
