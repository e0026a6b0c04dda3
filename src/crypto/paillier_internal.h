/* paillier_internal.h - key layouts shared by paillier.c, paillier_keygen.c
 * and paillier_codec.c. Nothing outside those three files may include it.
 *
 * Thread-safety: a key is written only while it is being built (generate,
 * decode, public_from_n, dup) and is read-only afterwards. Every operation
 * takes the key as const and only reads its BIGNUMs and BN_MONT_CTXs
 * (OpenSSL's exponentiation and Montgomery multiplication never write to the
 * BN_MONT_CTX they are given), and temporaries come from the calling thread's
 * BN_CTX, so any number of threads may use one key at the same time.
 *
 * Secrets: p, q, phi and every CRT value are secure-heap BIGNUMs with
 * BN_FLG_CONSTTIME, cleared on free. The cached Montgomery contexts for p, q,
 * p^2 and q^2 necessarily hold their modulus in OpenSSL's ordinary heap (it
 * offers no secure BN_MONT_CTX); BN_MONT_CTX_free clears them.
 */
#ifndef PB_CRYPTO_PAILLIER_INTERNAL_H
#define PB_CRYPTO_PAILLIER_INTERNAL_H

#include <openssl/bn.h>

#include "crypto/paillier.h"

struct pb_paillier_public {
    BIGNUM *n;
    BIGNUM *n2;
    BN_MONT_CTX *mont_n2;
    int bits;
};

struct pb_paillier_private {
    pb_paillier_public pub; /* handed out by pb_paillier_public_of */
    BIGNUM *p, *q;          /* p > q */
    BIGNUM *phi;
    BIGNUM *p_minus_1, *q_minus_1;
    BIGNUM *p2, *q2;
    /* Montgomery forms (mod p / mod q) of the CRT constants:
     * hp = (-q)^-1 mod p, hq = (-p)^-1 mod q, qinv = q^-1 mod p. */
    BIGNUM *hp_mont, *hq_mont, *qinv_mont;
    BN_MONT_CTX *mont_p, *mont_q, *mont_p2, *mont_q2;
};

/* 1 for the modulus sizes this build supports (2048 and 3072). */
int pb_paillier_supported_bits(int bits);

/* Fills pub from a modulus already checked by the caller; takes n. */
pb_status pb_paillier_public_init(pb_paillier_public *pub, BIGNUM *n);
void pb_paillier_public_clear(pb_paillier_public *pub);

/* Builds a private key from primes p > q already checked by the caller;
 * takes ownership of p and q (secure BIGNUMs) in every case. */
pb_status pb_paillier_private_from_pq(BIGNUM *p, BIGNUM *q, pb_paillier_private **out);

/* Miller-Rabin with `rounds` random bases for w = 3 mod 4 (so w - 1 = 2m
 * with m odd and one exponentiation decides each round). 1 probably prime,
 * 0 composite, -1 error. Constant-time exponentiation: w is secret. */
int pb_paillier_mr_3mod4(const BIGNUM *w, int rounds, BN_CTX *ctx);

/* Checks a candidate prime pair for a modulus of `bits`: p > q, both
 * bits/2 long, = 3 mod 4, |p - q| > 2^(bits/2 - 100), and if check_gcd,
 * gcd(N, phi) = 1. For distinct odd primes of equal length that gcd is 1
 * anyway (q < p < 2q, so neither divides the other's predecessor), which is
 * why the decoder may skip the 3072-bit gcd. Primality is the caller's
 * business. */
pb_status pb_paillier_check_pair(const BIGNUM *p, const BIGNUM *q, int bits, int check_gcd,
                                 BN_CTX *ctx);

#endif
