/* ec.h - secp256k1 scalars and points for the two-party protocols.
 *
 * Owns: the process-wide libsecp256k1 context, scalar arithmetic modulo the
 * group order q, point arithmetic, strict parsing. Scalars are 32-byte
 * big-endian values in [0, q). Every operation whose input is secret is
 * constant-time (libsecp256k1's ecmult_gen / ecmult_const / seckey tweaks;
 * inversion by Fermat with BN_mod_exp_mont_consttime). Must never print or
 * log a scalar. Points are never the identity (libsecp256k1 cannot represent
 * it), so every function that could produce it fails instead.
 */
#ifndef PB_CRYPTO_EC_H
#define PB_CRYPTO_EC_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>
#include <secp256k1.h>

#include "planbok/error.h"

#define PB_SCALAR_BYTES 32
#define PB_POINT_BYTES 33 /* compressed SEC1 */

typedef struct pb_scalar { uint8_t b[PB_SCALAR_BYTES]; } pb_scalar;
typedef struct pb_point { secp256k1_pubkey p; } pb_point;

/* Shared randomized context; thread-safe for all uses below. */
const secp256k1_context *pb_secp256k1(void);
/* The group order q as a BIGNUM (read-only, shared). */
const BIGNUM *pb_ec_order(void);

/* Uniform scalar in [1, q) from the OS CSPRNG. */
pb_status pb_scalar_random(pb_scalar *out);
/* Strict: 32 bytes, value < q (zero allowed). */
pb_status pb_scalar_parse(pb_scalar *out, const uint8_t in[PB_SCALAR_BYTES]);
int pb_scalar_is_zero(const pb_scalar *a);
int pb_scalar_equal(const pb_scalar *a, const pb_scalar *b); /* constant-time */
void pb_scalar_add(pb_scalar *out, const pb_scalar *a, const pb_scalar *b);
void pb_scalar_sub(pb_scalar *out, const pb_scalar *a, const pb_scalar *b);
void pb_scalar_mul(pb_scalar *out, const pb_scalar *a, const pb_scalar *b);
void pb_scalar_negate(pb_scalar *out, const pb_scalar *a);
/* a^-1 mod q; fails on zero. Constant-time. */
pb_status pb_scalar_inverse(pb_scalar *out, const pb_scalar *a);
/* bn mod q (bn may be negative or larger than q). */
pb_status pb_scalar_from_bn(pb_scalar *out, const BIGNUM *bn);
/* Writes the scalar into an existing BIGNUM. */
pb_status pb_scalar_to_bn(const pb_scalar *a, BIGNUM *out);
void pb_scalar_wipe(pb_scalar *a);

/* a·G; fails if a == 0. */
pb_status pb_point_mul_base(pb_point *out, const pb_scalar *a);
/* a·P (constant-time in a); fails if a == 0. */
pb_status pb_point_mul(pb_point *out, const pb_point *p, const pb_scalar *a);
/* P + Q; fails if the sum is the identity. */
pb_status pb_point_add(pb_point *out, const pb_point *a, const pb_point *b);
/* P + a·G; fails if the result is the identity. */
pb_status pb_point_add_base_mul(pb_point *out, const pb_point *p, const pb_scalar *a);
pb_status pb_point_negate(pb_point *out, const pb_point *p);
int pb_point_equal(const pb_point *a, const pb_point *b);
/* Strict: exactly 33 bytes, prefix 02/03, x < p, on the curve. */
pb_status pb_point_parse(pb_point *out, const uint8_t in[PB_POINT_BYTES]);
void pb_point_serialize(uint8_t out[PB_POINT_BYTES], const pb_point *p);
/* x coordinate of P reduced mod q (ECDSA r), and whether y is odd. */
void pb_point_x_mod_q(pb_scalar *out, int *y_is_odd, int *x_overflowed, const pb_point *p);

#endif
