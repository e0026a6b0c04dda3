/* transcript.h - Fiat-Shamir transcripts for every proof and commitment.
 *
 * Owns: domain separation and the unambiguous encoding of what is hashed.
 * A transcript starts from (domain tag, session id, prover role) and every
 * appended item is (label, length, bytes), so no two different statements
 * hash alike. Challenges are derived from SHA-256 in counter mode over the
 * transcript state; deriving a challenge also absorbs it, so successive
 * challenges differ. Must never be fed a secret witness, only statements and
 * first messages.
 */
#ifndef PB_CRYPTO_TRANSCRIPT_H
#define PB_CRYPTO_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>

#include "crypto/ec.h"
#include "planbok/error.h"

#define PB_SESSION_ID_BYTES 32

/* Party roles as bound into every transcript and message. */
enum { PB_ROLE_P1 = 1, PB_ROLE_P2 = 2 };

typedef struct pb_transcript {
    uint8_t state[32]; /* running SHA-256 chaining value */
    uint64_t items;    /* number of items absorbed (also hashed) */
} pb_transcript;

void pb_transcript_init(pb_transcript *t, const char *domain_tag,
                        const uint8_t session_id[PB_SESSION_ID_BYTES], uint8_t prover_role);
void pb_transcript_append(pb_transcript *t, const char *label, const void *data, size_t len);
/* Sign-and-magnitude big-endian, minimal length; zero is the empty magnitude. */
void pb_transcript_append_bn(pb_transcript *t, const char *label, const BIGNUM *bn);
void pb_transcript_append_point(pb_transcript *t, const char *label, const pb_point *p);
void pb_transcript_append_u64(pb_transcript *t, const char *label, uint64_t v);

/* n pseudo-random bytes bound to everything absorbed so far. */
void pb_transcript_challenge_bytes(pb_transcript *t, const char *label, uint8_t *out, size_t n);
/* Uniform scalar in [0, q) (wide reduction of 48 bytes). */
void pb_transcript_challenge_scalar(pb_transcript *t, const char *label, pb_scalar *out);
/* Uniform-ish in [0, mod): (|mod| + 128)-bit value reduced mod `mod`. */
pb_status pb_transcript_challenge_mod(pb_transcript *t, const char *label, const BIGNUM *mod,
                                      BIGNUM *out);
/* Uniform-ish in [-bound, bound]. */
pb_status pb_transcript_challenge_signed(pb_transcript *t, const char *label,
                                         const BIGNUM *bound, BIGNUM *out);

#endif
