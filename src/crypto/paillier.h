/* paillier.h - the Paillier cryptosystem over OpenSSL BIGNUM.
 *
 * Owns: key generation (N = p*q, p = q = 3 mod 4, |N| exactly the requested
 * size, p and q searched on both cores), encryption with g = N + 1,
 * CRT decryption, homomorphic addition and scalar multiplication, ciphertext
 * validation, and the canonical encoding of public and private keys.
 * Secret values (p, q, phi, the CRT pieces) live in OpenSSL's secure heap
 * with BN_FLG_CONSTTIME and are cleared on free; every exponentiation with a
 * secret exponent uses BN_mod_exp_mont_consttime. Must never expose p or q
 * except through pb_paillier_private_encode (for sealing).
 * Plaintexts may be negative: they are taken mod N.
 */
#ifndef PB_CRYPTO_PAILLIER_H
#define PB_CRYPTO_PAILLIER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>

#include "common/bytes.h"
#include "crypto/bn.h"
#include "planbok/error.h"

#define PB_PAILLIER_BITS_DEFAULT 3072
#define PB_PAILLIER_BITS_MIN 2048

typedef struct pb_paillier_public pb_paillier_public;
typedef struct pb_paillier_private pb_paillier_private;

/* bits is 2048 or 3072. Uses up to two threads for the prime search. */
pb_status pb_paillier_generate(int bits, pb_paillier_private **out);
void pb_paillier_private_free(pb_paillier_private *sk);
const pb_paillier_public *pb_paillier_public_of(const pb_paillier_private *sk);
const BIGNUM *pb_paillier_private_p(const pb_paillier_private *sk);
const BIGNUM *pb_paillier_private_q(const pb_paillier_private *sk);
/* phi(N) = (p-1)(q-1), secret. */
const BIGNUM *pb_paillier_private_phi(const pb_paillier_private *sk);

/* Public key from a modulus received from a peer: checks |N| == expected_bits
 * exactly, N odd, N not prime. (The proofs check the rest.) */
pb_status pb_paillier_public_from_n(const BIGNUM *n, int expected_bits, pb_paillier_public **out);
pb_paillier_public *pb_paillier_public_dup(const pb_paillier_public *pk);
void pb_paillier_public_free(pb_paillier_public *pk);
const BIGNUM *pb_paillier_n(const pb_paillier_public *pk);
const BIGNUM *pb_paillier_n2(const pb_paillier_public *pk);
int pb_paillier_bits(const pb_paillier_public *pk);

/* c in (0, N^2) with gcd(c, N) = 1. */
pb_status pb_paillier_check_ciphertext(const pb_paillier_public *pk, const BIGNUM *c);

/* Fresh randomness r in Z_N^*; rn_out (optional) receives r^N mod N^2 and
 * r_out (optional) receives r. */
pb_status pb_paillier_encrypt(const pb_paillier_public *pk, const BIGNUM *m, BIGNUM *c_out,
                              BIGNUM *r_out);
/* Given r (e.g. a proof needs it). */
pb_status pb_paillier_encrypt_with(const pb_paillier_public *pk, const BIGNUM *m,
                                   const BIGNUM *r, BIGNUM *c_out);
/* r^N mod N^2 for a fresh r: the expensive half of an encryption, computed
 * ahead of time ("warm" signing). */
pb_status pb_paillier_precompute_rn(const pb_paillier_public *pk, BIGNUM *rn_out);
/* (1 + m*N) * rn mod N^2. */
pb_status pb_paillier_encrypt_precomputed(const pb_paillier_public *pk, const BIGNUM *m,
                                          const BIGNUM *rn, BIGNUM *c_out);
/* CRT decryption into [0, N). */
pb_status pb_paillier_decrypt(const pb_paillier_private *sk, const BIGNUM *c, BIGNUM *m_out);
/* c1 * c2 mod N^2 */
pb_status pb_paillier_add(const pb_paillier_public *pk, const BIGNUM *c1, const BIGNUM *c2,
                          BIGNUM *out);
/* c^k mod N^2 with k >= 0 treated as secret (constant-time). */
pb_status pb_paillier_mul_scalar(const pb_paillier_public *pk, const BIGNUM *c, const BIGNUM *k,
                                 BIGNUM *out);

/* Canonical encodings (length-prefixed big-endian). The private encoding
 * holds p and q; the decoder recomputes and checks everything else. */
void pb_paillier_public_encode(pb_writer *w, const pb_paillier_public *pk);
pb_status pb_paillier_public_decode(pb_reader *r, int expected_bits, pb_paillier_public **out);
void pb_paillier_private_encode(pb_writer *w, const pb_paillier_private *sk);
pb_status pb_paillier_private_decode(pb_reader *r, pb_paillier_private **out);

#endif
