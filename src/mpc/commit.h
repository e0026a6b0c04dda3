/* commit.h - hash commitments for the commit-then-open steps.
 *
 * Owns: com = SHA-256 over length-prefixed ("planbok/mpc/commit/v1", label,
 * binding id, committer role, payload, 32-byte opening). Binding by
 * collision resistance; hiding in the random-oracle model because the
 * opening is 256 random bits. The binding id ties a commitment to one run
 * (the pre-session id derived from the committer's nonce). Opening checks
 * compare in constant time. Must never be used without a fresh opening.
 */
#ifndef PB_MPC_COMMIT_H
#define PB_MPC_COMMIT_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

#define PB_COMMIT_BYTES 32
#define PB_COMMIT_OPENING_BYTES 32

void pb_commit_compute(uint8_t out[PB_COMMIT_BYTES], const char *label,
                       const uint8_t bind_id[32], uint8_t role, const uint8_t *payload,
                       size_t payload_len, const uint8_t opening[PB_COMMIT_OPENING_BYTES]);

/* PB_OK iff the opening matches, else PB_ERR_PROOF naming `what`. */
pb_status pb_commit_check(const uint8_t com[PB_COMMIT_BYTES], const char *label,
                          const uint8_t bind_id[32], uint8_t role, const uint8_t *payload,
                          size_t payload_len, const uint8_t opening[PB_COMMIT_OPENING_BYTES],
                          const char *what);

#endif
