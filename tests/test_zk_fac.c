/* Pi^fac (CGGMP21 Fig. 28): honest proofs verify; a proof is bound to
 * session, role, domain, modulus and the verifier's parameters; every field
 * is checked; the range check on z1, z2 is exactly sqrt(N0) 2^(l+eps); and
 * malformed moduli are refused by the combination the protocol uses
 * (pb_paillier_public_from_n, Pi^mod, Pi^fac) with cheating provers that do
 * their best (tests/support/cheat_modulus.c). */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/bn.h>

#include "common/bytes.h"
#include "crypto/bn.h"
#include "crypto/paillier.h"
#include "crypto/ring_pedersen.h"
#include "crypto/transcript.h"
#include "crypto/zk_fac.h"
#include "crypto/zk_fac_impl.h"
#include "crypto/zk_mod.h"
#include "support/cheat_modulus.h"
#include "support/rped_fixture.h"
#include "support/rped_secret_fixture.h"

static const char DOMAIN[] = "planbok/test/zk-fac";

static BN_CTX *ctx(void)
{
    BN_CTX *c = pb_bn_ctx();
    cr_assert_not_null(c);
    return c;
}

static void session(pb_transcript *t, const char *domain, uint8_t sid_byte, uint8_t role)
{
    uint8_t sid[PB_SESSION_ID_BYTES];
    memset(sid, sid_byte, sizeof sid);
    pb_transcript_init(t, domain, sid, role);
}

static pb_zk_fac_proof *prove(const pb_transcript *t, const pb_paillier_private *sk,
                              const pb_rped_public *rp)
{
    pb_zk_fac_proof *proof = NULL;
    cr_assert_eq(pb_zk_fac_prove(t, sk, rp, &proof), PB_OK, "%s", pb_last_error());
    cr_assert_not_null(proof);
    return proof;
}

static void encode(const pb_zk_fac_proof *proof, uint8_t **buf, size_t *len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_zk_fac_encode(&w, proof);
    cr_assert_eq(pb_writer_finish(&w, buf, len), PB_OK);
}

static pb_status decode(const uint8_t *buf, size_t len, const pb_paillier_public *pk,
                        const pb_rped_public *rp, pb_zk_fac_proof **out)
{
    pb_reader r;
    pb_reader_init(&r, buf, len);
    *out = NULL;
    pb_status st = pb_zk_fac_decode(&r, pk, rp, out);
    if (st == PB_OK && (st = pb_reader_finish(&r, "fac proof")) != PB_OK) {
        pb_zk_fac_free(*out);
        *out = NULL;
    }
    return st;
}

static void honest_round_trip(const pb_paillier_private *sk, const pb_rped_public *rp)
{
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    pb_transcript t;
    session(&t, DOMAIN, 1, PB_ROLE_P1);
    pb_zk_fac_proof *proof = prove(&t, sk, rp);
    cr_assert_eq(pb_zk_fac_verify(&t, pk, rp, proof), PB_OK, "%s", pb_last_error());
    uint8_t *buf;
    size_t len;
    encode(proof, &buf, &len);
    pb_zk_fac_proof *back;
    cr_assert_eq(decode(buf, len, pk, rp, &back), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_zk_fac_verify(&t, pk, rp, back), PB_OK, "%s", pb_last_error());
    pb_zk_fac_free(back);
    pb_bytes_free(buf, len);
    pb_zk_fac_free(proof);
}

Test(zk_fac, honest_proof_verifies_at_2048_bits)
{
    pb_paillier_private *sk = fx_paillier(2048, 0);
    pb_rped_secret *sec = fx_rped_secret(2048);
    honest_round_trip(sk, pb_rped_public_of(sec));
    pb_rped_secret_free(sec);
    pb_paillier_private_free(sk);
}

Test(zk_fac, honest_proof_verifies_at_3072_bits)
{
    /* Insecure but well-formed 3072-bit parameters suffice for the algebra. */
    pb_paillier_private *sk = fx_paillier(3072, 0);
    pb_rped_public *rp = fx_rped_public(3072, 0);
    honest_round_trip(sk, rp);
    fx_rped_free(rp);
    pb_paillier_private_free(sk);
}

Test(zk_fac, proof_is_bound_to_session_role_domain_modulus_and_parameters)
{
    pb_paillier_private *sk = fx_paillier(2048, 0), *sk2 = fx_paillier(2048, 1);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    pb_rped_secret *sec = fx_rped_secret(2048);
    const pb_rped_public *rp = pb_rped_public_of(sec);
    pb_rped_public *rp2 = fx_rped_public(2048, 0);
    pb_transcript t, other;
    session(&t, DOMAIN, 2, PB_ROLE_P1);
    pb_zk_fac_proof *proof = prove(&t, sk, rp);

    session(&other, DOMAIN, 3, PB_ROLE_P1);
    cr_assert_eq(pb_zk_fac_verify(&other, pk, rp, proof), PB_ERR_PROOF, "other session id");
    session(&other, DOMAIN, 2, PB_ROLE_P2);
    cr_assert_eq(pb_zk_fac_verify(&other, pk, rp, proof), PB_ERR_PROOF, "other role");
    session(&other, "planbok/test/other", 2, PB_ROLE_P1);
    cr_assert_eq(pb_zk_fac_verify(&other, pk, rp, proof), PB_ERR_PROOF, "other domain");
    cr_assert_eq(pb_zk_fac_verify(&t, pb_paillier_public_of(sk2), rp, proof), PB_ERR_PROOF,
                 "other modulus");
    cr_assert_eq(pb_zk_fac_verify(&t, pk, rp2, proof), PB_ERR_PROOF, "other parameters");
    pb_zk_fac_free(proof);
    fx_rped_free(rp2);
    pb_rped_secret_free(sec);
    pb_paillier_private_free(sk);
    pb_paillier_private_free(sk2);
}

Test(zk_fac, every_field_is_checked)
{
    pb_paillier_private *sk = fx_paillier(2048, 0);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    pb_rped_secret *sec = fx_rped_secret(2048);
    const pb_rped_public *rp = pb_rped_public_of(sec);
    pb_transcript t;
    session(&t, DOMAIN, 4, PB_ROLE_P1);
    pb_zk_fac_proof *proof = prove(&t, sk, rp);
    BIGNUM *fields[PB_ZK_FAC_FIELDS];
    pb_zk_fac_fields(proof, fields);
    BIGNUM *saved = BN_new();
    cr_assert_not_null(saved);
    for (int f = 0; f < PB_ZK_FAC_FIELDS; f++) {
        cr_assert(BN_copy(saved, fields[f]));
        cr_assert(BN_add_word(fields[f], 1));
        cr_assert_eq(pb_zk_fac_verify(&t, pk, rp, proof), PB_ERR_PROOF, "field %d + 1", f);
        cr_assert(BN_sub(fields[f], saved, BN_value_one()));
        cr_assert_eq(pb_zk_fac_verify(&t, pk, rp, proof), PB_ERR_PROOF, "field %d - 1", f);
        if (f < 5) {
            /* Commitments: zero and N^ are not units. */
            BN_zero(fields[f]);
            cr_assert_eq(pb_zk_fac_verify(&t, pk, rp, proof), PB_ERR_PROOF, "field %d = 0", f);
            cr_assert(BN_copy(fields[f], rp->n_hat));
            cr_assert_eq(pb_zk_fac_verify(&t, pk, rp, proof), PB_ERR_PROOF, "field %d = N^", f);
        } else if (!BN_is_zero(saved)) {
            cr_assert(BN_copy(fields[f], saved));
            BN_set_negative(fields[f], !BN_is_negative(saved));
            cr_assert_eq(pb_zk_fac_verify(&t, pk, rp, proof), PB_ERR_PROOF, "field %d negated",
                         f);
        }
        cr_assert(BN_copy(fields[f], saved));
        cr_assert_eq(pb_zk_fac_verify(&t, pk, rp, proof), PB_OK, "restored %d", f);
    }
    BN_free(saved);
    pb_zk_fac_free(proof);
    pb_rped_secret_free(sec);
    pb_paillier_private_free(sk);
}

/* floor(sqrt(a)) by Newton's iteration from above. */
static void isqrt(BIGNUM *out, const BIGNUM *a)
{
    BIGNUM *x = BN_new(), *y = BN_new();
    cr_assert(x && y);
    cr_assert(BN_lshift(x, BN_value_one(), (BN_num_bits(a) + 1) / 2 + 1));
    for (;;) {
        cr_assert(BN_div(y, NULL, a, x, ctx()) && BN_add(y, y, x) && BN_rshift1(y, y));
        if (BN_cmp(y, x) >= 0)
            break;
        cr_assert(BN_copy(x, y));
    }
    cr_assert(BN_copy(out, x));
    BN_free(x);
    BN_free(y);
}

Test(zk_fac, range_of_z_is_exactly_sqrt_n0_times_two_to_l_plus_eps)
{
    pb_paillier_private *sk = fx_paillier(2048, 0);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    pb_rped_secret *sec = fx_rped_secret(2048);
    const pb_rped_public *rp = pb_rped_public_of(sec);
    pb_transcript t;
    session(&t, DOMAIN, 5, PB_ROLE_P1);
    pb_zk_fac_proof *proof = prove(&t, sk, rp);
    BIGNUM *bound = BN_new(), *saved = BN_new();
    cr_assert(bound && saved);
    /* bound = floor(sqrt(N0 * 2^(2(l+eps)))) = floor(sqrt(N0) 2^(l+eps)). */
    cr_assert(BN_lshift(bound, pb_paillier_n(pk), 2 * (PB_ZK_L + PB_ZK_EPS)));
    isqrt(bound, bound);
    BIGNUM *zs[2] = {proof->z1, proof->z2};
    for (int k = 0; k < 2; k++) {
        cr_assert(BN_copy(saved, zs[k]));
        for (int neg = 0; neg < 2; neg++) {
            /* On the bound: the range check passes, the equations do not. */
            cr_assert(BN_copy(zs[k], bound));
            BN_set_negative(zs[k], neg);
            cr_assert_eq(pb_zk_fac_verify(&t, pk, rp, proof), PB_ERR_PROOF);
            cr_assert(strstr(pb_last_error(), "equation") != NULL, "z%d = %sbound: %s", k + 1,
                         neg ? "-" : "", pb_last_error());
            /* One past it: the range check itself refuses. */
            cr_assert(BN_add_word(bound, 1) && BN_copy(zs[k], bound) && BN_sub_word(bound, 1));
            BN_set_negative(zs[k], neg);
            cr_assert_eq(pb_zk_fac_verify(&t, pk, rp, proof), PB_ERR_PROOF);
            cr_assert(strstr(pb_last_error(), "outside") != NULL, "z%d = %s(bound+1): %s",
                      k + 1, neg ? "-" : "", pb_last_error());
        }
        cr_assert(BN_copy(zs[k], saved));
    }
    cr_assert_eq(pb_zk_fac_verify(&t, pk, rp, proof), PB_OK);
    BN_free(bound);
    BN_free(saved);
    pb_zk_fac_free(proof);
    pb_rped_secret_free(sec);
    pb_paillier_private_free(sk);
}

/* --- malicious moduli against the full check --------------------------------------- */

typedef struct verdict {
    pb_status key, mod, fac;
    char fac_error[256];
} verdict;

/* Runs every check the protocol applies to a peer's modulus, each on its
 * own (a rejection by one does not stop the others), with cheating proofs
 * sent through the wire. */
static verdict judge(const cheat_modulus *m, int bits, const pb_rped_public *rp, int sid)
{
    verdict v = {PB_ERR_PROOF, PB_ERR_PROOF, PB_ERR_PROOF, ""};
    pb_paillier_public *pk = NULL;
    v.key = pb_paillier_public_from_n(m->n, bits, &pk);
    if (v.key != PB_OK) {
        /* Nothing further can be built on a refused key; the proofs are
         * judged against a key of the modulus's own size to show that the
         * size check is what refused it. */
        if (pb_paillier_public_from_n(m->n, BN_num_bits(m->n), &pk) != PB_OK)
            return v;
    }
    pb_transcript t;
    session(&t, DOMAIN, (uint8_t)sid, PB_ROLE_P1);
    uint8_t *buf;
    size_t len;

    pb_zk_mod_proof *mp = cheat_zk_mod_prove(&t, m), *mback = NULL;
    pb_writer w;
    pb_writer_init(&w);
    pb_zk_mod_encode(&w, mp);
    cr_assert_eq(pb_writer_finish(&w, &buf, &len), PB_OK);
    pb_reader r;
    pb_reader_init(&r, buf, len);
    v.mod = pb_zk_mod_decode(&r, pk, &mback);
    if (v.mod == PB_OK)
        v.mod = pb_reader_finish(&r, "mod");
    if (v.mod == PB_OK)
        v.mod = pb_zk_mod_verify(&t, pk, mback);
    pb_zk_mod_free(mback);
    pb_zk_mod_free(mp);
    pb_bytes_free(buf, len);

    /* Pi^fac is judged on the proof object: an honest-looking answer for a
     * huge factor does not even fit the wire bounds, which would hide the
     * range check this suite wants to see. */
    pb_zk_fac_proof *fp = cheat_zk_fac_prove(&t, m, rp);
    v.fac = pb_zk_fac_verify(&t, pk, rp, fp);
    snprintf(v.fac_error, sizeof v.fac_error, "%s", pb_last_error());
    encode(fp, &buf, &len);
    pb_zk_fac_proof *fback = NULL;
    pb_status wire = decode(buf, len, pk, rp, &fback);
    if (wire == PB_OK)
        wire = pb_zk_fac_verify(&t, pk, rp, fback);
    cr_assert(v.fac != PB_OK || wire == PB_OK, "wire and object verdicts agree on success");
    if (v.fac == PB_OK)
        v.fac = wire;
    pb_zk_fac_free(fback);
    pb_zk_fac_free(fp);
    pb_bytes_free(buf, len);
    pb_paillier_public_free(pk);
    return v;
}

static int accepted(const verdict *v)
{
    return v->key == PB_OK && v->mod == PB_OK && v->fac == PB_OK;
}

Test(zk_fac, genuine_modulus_passes_every_check_even_from_the_cheating_provers)
{
    pb_rped_secret *sec = fx_rped_secret(2048);
    cheat_modulus m;
    cheat_modulus_blum(2048, &m);
    verdict v = judge(&m, 2048, pb_rped_public_of(sec), 10);
    cr_assert(accepted(&v), "key %d mod %d fac %d: %s", v.key, v.mod, v.fac, v.fac_error);
    cheat_modulus_free(&m);
    pb_rped_secret_free(sec);
}

Test(zk_fac, modulus_with_a_16_bit_factor_is_refused_by_the_range_check)
{
    pb_rped_secret *sec = fx_rped_secret(2048);
    cheat_modulus m;
    cheat_modulus_small_factor(2048, &m);
    cr_assert_eq(BN_num_bits(m.primes[0]), 16);
    verdict v = judge(&m, 2048, pb_rped_public_of(sec), 11);
    cr_assert(!accepted(&v));
    /* r*P with r, P = 3 mod 4 is a genuine Paillier-Blum modulus: only
     * Pi^fac can refuse it, and it does so on the bound, not by accident. */
    cr_assert_eq(v.key, PB_OK);
    cr_assert_eq(v.mod, PB_OK);
    cr_assert_eq(v.fac, PB_ERR_PROOF);
    cr_assert(strstr(v.fac_error, "outside") != NULL, "%s", v.fac_error);
    cheat_modulus_free(&m);
    pb_rped_secret_free(sec);
}

Test(zk_fac, modulus_with_a_square_factor_is_refused)
{
    pb_rped_secret *sec = fx_rped_secret(2048);
    cheat_modulus m;
    cheat_modulus_square_factor(2048, &m);
    verdict v = judge(&m, 2048, pb_rped_public_of(sec), 12);
    cr_assert(!accepted(&v));
    cr_assert_eq(v.mod, PB_ERR_PROOF, "Pi^mod refuses p^2 q");
    cheat_modulus_free(&m);
    pb_rped_secret_free(sec);
}

Test(zk_fac, modulus_with_a_factor_one_mod_four_is_refused)
{
    pb_rped_secret *sec = fx_rped_secret(2048);
    cheat_modulus m;
    cheat_modulus_one_mod_4(2048, &m);
    verdict v = judge(&m, 2048, pb_rped_public_of(sec), 13);
    cr_assert(!accepted(&v));
    cr_assert_eq(v.mod, PB_ERR_PROOF, "Pi^mod refuses p = 1 mod 4");
    cheat_modulus_free(&m);
    pb_rped_secret_free(sec);
}

Test(zk_fac, prime_modulus_is_refused)
{
    pb_rped_secret *sec = fx_rped_secret(2048);
    cheat_modulus m;
    cheat_modulus_prime(2048, &m);
    verdict v = judge(&m, 2048, pb_rped_public_of(sec), 14);
    cr_assert(!accepted(&v));
    cr_assert_neq(v.key, PB_OK, "a prime is not a Paillier modulus");
    cheat_modulus_free(&m);
    pb_rped_secret_free(sec);
}

Test(zk_fac, modulus_of_the_wrong_size_is_refused)
{
    pb_rped_secret *sec = fx_rped_secret(2048);
    const int sizes[][2] = {{2040, 2048}, {2048, 3072}, {2056, 2048}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        cheat_modulus m;
        cheat_modulus_blum(sizes[i][0], &m);
        verdict v = judge(&m, sizes[i][1], pb_rped_public_of(sec), 15 + (int)i);
        cr_assert(!accepted(&v));
        cr_assert_neq(v.key, PB_OK, "%d-bit N as %d bits", sizes[i][0], sizes[i][1]);
        cheat_modulus_free(&m);
    }
    pb_rped_secret_free(sec);
}

/* --- wire form --------------------------------------------------------------------- */

Test(zk_fac, decoding_rejects_truncation_trailing_bytes_and_out_of_range_values)
{
    pb_paillier_private *sk = fx_paillier(2048, 0);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    pb_rped_secret *sec = fx_rped_secret(2048);
    const pb_rped_public *rp = pb_rped_public_of(sec);
    pb_transcript t;
    session(&t, DOMAIN, 6, PB_ROLE_P1);
    pb_zk_fac_proof *proof = prove(&t, sk, rp);
    uint8_t *buf;
    size_t len;
    encode(proof, &buf, &len);
    pb_zk_fac_proof *back;

    for (size_t cut = 0; cut < len; cut++) {
        cr_assert_eq(decode(buf, cut, pk, rp, &back), PB_ERR_PARSE, "cut at %zu", cut);
        cr_assert_null(back);
    }
    uint8_t *longer = malloc(len + 1);
    cr_assert_not_null(longer);
    memcpy(longer, buf, len);
    longer[len] = 0x00;
    pb_reader r;
    pb_reader_init(&r, longer, len + 1);
    cr_assert_eq(pb_zk_fac_decode(&r, pk, rp, &back), PB_OK);
    cr_assert_eq(r.left, 1, "the decoder reads exactly the proof");
    pb_zk_fac_free(back);
    cr_assert_eq(decode(longer, len + 1, pk, rp, &back), PB_ERR_PARSE);
    free(longer);
    pb_bytes_free(buf, len);

    BIGNUM *fields[PB_ZK_FAC_FIELDS];
    pb_zk_fac_fields(proof, fields);
    BIGNUM *saved = BN_new();
    cr_assert_not_null(saved);
    for (int f = 0; f < PB_ZK_FAC_FIELDS; f++) {
        cr_assert(BN_copy(saved, fields[f]));
        if (f < 5) {
            cr_assert(BN_copy(fields[f], rp->n_hat)); /* commitment = N^ */
        } else {
            /* 2^4096 exceeds every answer's bound at these sizes. */
            cr_assert(BN_lshift(fields[f], BN_value_one(), 2 * 2048 + 1024 + 8));
        }
        encode(proof, &buf, &len);
        cr_assert_eq(decode(buf, len, pk, rp, &back), PB_ERR_PARSE, "field %d", f);
        cr_assert_null(back);
        pb_bytes_free(buf, len);
        cr_assert(BN_copy(fields[f], saved));
    }
    BN_free(saved);
    pb_zk_fac_free(proof);
    pb_rped_secret_free(sec);
    pb_paillier_private_free(sk);
}
