/* bn.h - BIGNUM helpers shared by Paillier, ring-Pedersen and the proofs.
 *
 * Owns: the canonical wire encoding of (signed) integers, secure-heap
 * allocation of secret BIGNUMs, and sampling. Must never log a value.
 */
#ifndef PB_CRYPTO_BN_H
#define PB_CRYPTO_BN_H

#include <stddef.h>

#include <openssl/bn.h>

#include "common/bytes.h"
#include "planbok/error.h"

/* Canonical integer field: u8 sign (0 = non-negative, 1 = negative; zero is
 * never negative), then a u32-length-prefixed big-endian magnitude with no
 * leading zero byte (zero is the empty magnitude). */
void pb_bn_encode(pb_writer *w, const BIGNUM *bn);
/* Rejects a magnitude over max_bytes, a leading zero byte, "-0", and a sign
 * byte other than 0/1. */
pb_status pb_bn_decode(pb_reader *r, size_t max_bytes, BIGNUM *out);
/* Same, but additionally requires 0 <= value < bound. */
pb_status pb_bn_decode_mod(pb_reader *r, const BIGNUM *bound, BIGNUM *out);

/* r = a*b for 0 <= a < 2^abits and 0 <= b < 2^bbits, where the widths are
 * public. For secrets and masked secrets: BN_mul picks Karatsuba for
 * operands of similar length, and that branches on comparisons of the
 * operands' halves; this is a schoolbook product over limbs of the public
 * widths, with no branch or memory access depending on the values. (The
 * values' lengths in whole bytes still show, as in any BIGNUM.) r gets
 * BN_FLG_CONSTTIME. Fails if an operand is negative or too wide. */
pb_status pb_bn_mul_ct(BIGNUM *r, const BIGNUM *a, int abits, const BIGNUM *b, int bbits);
/* r = a*b mod m for 0 <= a, b < 2^|m|: the product by pb_bn_mul_ct, the
 * reduction by OpenSSL's division with BN_FLG_CONSTTIME (fixed-width, no
 * value-dependent branch). r may alias a or b. */
pb_status pb_bn_mod_mul_ct(BIGNUM *r, const BIGNUM *a, const BIGNUM *b, const BIGNUM *m,
                           BN_CTX *ctx);

/* A BIGNUM in the secure heap with BN_FLG_CONSTTIME set; free with BN_clear_free. */
BIGNUM *pb_bn_secure_new(void);
/* Uniform in Z_n^* (gcd(out, n) = 1). */
pb_status pb_bn_random_unit(const BIGNUM *n, BIGNUM *out);
/* Uniform in [-2^bits, 2^bits]. */
pb_status pb_bn_random_signed(int bits, BIGNUM *out);
/* 1 iff |a| <= 2^bits. */
int pb_bn_in_signed_range(const BIGNUM *a, int bits);
/* Thread-local BN_CTX for short-lived temporaries (BN_CTX_start/end around use).
 * Its temporaries come from the secure heap (they often hold secrets). NULL on
 * allocation failure. */
BN_CTX *pb_bn_ctx(void);
/* Sets up OpenSSL's secure heap once per process; harmless if the application
 * already did (then its size is kept). Called by pb_bn_secure_new. */
void pb_secure_heap_init(void);

#endif
