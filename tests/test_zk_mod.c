/* Pi^mod (CGGMP21 Fig. 16): honest proofs verify at 2048 and 3072 bits; a
 * proof is bound to session, role, domain and modulus; every field is
 * checked; a best-effort cheating prover (tests/support/cheat_modulus.c)
 * succeeds on a genuine Paillier-Blum modulus but is refused for N = p^2 q
 * and for p = 1 mod 4; the wire form is strict. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/bn.h>

#include "common/bytes.h"
#include "crypto/bn.h"
#include "crypto/paillier.h"
#include "crypto/transcript.h"
#include "crypto/zk_mod.h"
#include "crypto/zk_mod_impl.h"
#include "support/cheat_modulus.h"
#include "support/rped_fixture.h"

static const char DOMAIN[] = "planbok/test/zk-mod";

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

static pb_zk_mod_proof *prove(const pb_transcript *t, const pb_paillier_private *sk)
{
    pb_zk_mod_proof *proof = NULL;
    cr_assert_eq(pb_zk_mod_prove(t, sk, &proof), PB_OK, "%s", pb_last_error());
    cr_assert_not_null(proof);
    return proof;
}

static void encode(const pb_zk_mod_proof *proof, uint8_t **buf, size_t *len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_zk_mod_encode(&w, proof);
    cr_assert_eq(pb_writer_finish(&w, buf, len), PB_OK);
}

static pb_status decode(const uint8_t *buf, size_t len, const pb_paillier_public *pk,
                        pb_zk_mod_proof **out)
{
    pb_reader r;
    pb_reader_init(&r, buf, len);
    *out = NULL;
    pb_status st = pb_zk_mod_decode(&r, pk, out);
    if (st == PB_OK && (st = pb_reader_finish(&r, "mod proof")) != PB_OK) {
        pb_zk_mod_free(*out);
        *out = NULL;
    }
    return st;
}

static void honest_round_trip(int bits)
{
    pb_paillier_private *sk = fx_paillier(bits, 0);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    pb_transcript t;
    session(&t, DOMAIN, 1, PB_ROLE_P1);
    pb_zk_mod_proof *proof = prove(&t, sk);
    cr_assert_eq(pb_zk_mod_verify(&t, pk, proof), PB_OK, "%s", pb_last_error());
    uint8_t *buf;
    size_t len;
    encode(proof, &buf, &len);
    pb_zk_mod_proof *back;
    cr_assert_eq(decode(buf, len, pk, &back), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_zk_mod_verify(&t, pk, back), PB_OK, "%s", pb_last_error());
    pb_zk_mod_free(back);
    pb_bytes_free(buf, len);
    pb_zk_mod_free(proof);
    pb_paillier_private_free(sk);
}

Test(zk_mod, honest_proof_verifies_at_2048_bits)
{
    honest_round_trip(2048);
}

Test(zk_mod, honest_proof_verifies_at_3072_bits)
{
    honest_round_trip(3072);
}

Test(zk_mod, proof_is_bound_to_session_role_domain_and_modulus)
{
    pb_paillier_private *sk = fx_paillier(2048, 0), *sk2 = fx_paillier(2048, 1);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    pb_transcript t, other;
    session(&t, DOMAIN, 2, PB_ROLE_P1);
    pb_zk_mod_proof *proof = prove(&t, sk);

    session(&other, DOMAIN, 3, PB_ROLE_P1);
    cr_assert_eq(pb_zk_mod_verify(&other, pk, proof), PB_ERR_PROOF, "other session id");
    session(&other, DOMAIN, 2, PB_ROLE_P2);
    cr_assert_eq(pb_zk_mod_verify(&other, pk, proof), PB_ERR_PROOF, "other role");
    session(&other, "planbok/test/other", 2, PB_ROLE_P1);
    cr_assert_eq(pb_zk_mod_verify(&other, pk, proof), PB_ERR_PROOF, "other domain");
    cr_assert_eq(pb_zk_mod_verify(&t, pb_paillier_public_of(sk2), proof), PB_ERR_PROOF,
                 "other modulus");
    pb_zk_mod_free(proof);
    pb_paillier_private_free(sk);
    pb_paillier_private_free(sk2);
}

Test(zk_mod, every_field_is_checked)
{
    pb_paillier_private *sk = fx_paillier(2048, 0);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    const BIGNUM *n = pb_paillier_n(pk);
    pb_transcript t;
    session(&t, DOMAIN, 4, PB_ROLE_P1);
    pb_zk_mod_proof *proof = prove(&t, sk);
    BIGNUM *saved = BN_new();
    cr_assert_not_null(saved);

    /* w: -w keeps the Jacobi symbol but changes every challenge; w^2 has
     * symbol +1; 0 and N are out of range. */
    cr_assert(BN_copy(saved, proof->w));
    cr_assert(BN_sub(proof->w, n, saved));
    cr_assert_eq(BN_kronecker(proof->w, n, ctx()), -1);
    cr_assert_eq(pb_zk_mod_verify(&t, pk, proof), PB_ERR_PROOF, "-w");
    cr_assert(BN_mod_sqr(proof->w, saved, n, ctx()));
    cr_assert_eq(pb_zk_mod_verify(&t, pk, proof), PB_ERR_PROOF, "w^2");
    BN_zero(proof->w);
    cr_assert_eq(pb_zk_mod_verify(&t, pk, proof), PB_ERR_PROOF, "w = 0");
    cr_assert(BN_copy(proof->w, n));
    cr_assert_eq(pb_zk_mod_verify(&t, pk, proof), PB_ERR_PROOF, "w = N");
    cr_assert(BN_copy(proof->w, saved));

    const int rounds[] = {0, 39, PB_ZK_MOD_ROUNDS - 1};
    for (size_t k = 0; k < sizeof rounds / sizeof rounds[0]; k++) {
        int i = rounds[k];
        BIGNUM *fields[2] = {proof->x[i], proof->z[i]};
        for (int f = 0; f < 2; f++) {
            cr_assert(BN_copy(saved, fields[f]));
            cr_assert(BN_add_word(fields[f], 1));
            cr_assert_eq(pb_zk_mod_verify(&t, pk, proof), PB_ERR_PROOF, "field %d+1 round %d",
                         f, i);
            cr_assert(BN_add(fields[f], saved, n));
            cr_assert_eq(pb_zk_mod_verify(&t, pk, proof), PB_ERR_PROOF, "field %d+N round %d",
                         f, i);
            cr_assert(BN_copy(fields[f], saved));
        }
        uint8_t a = proof->a[i], b = proof->b[i];
        proof->a[i] ^= 1;
        cr_assert_eq(pb_zk_mod_verify(&t, pk, proof), PB_ERR_PROOF, "a flipped round %d", i);
        proof->a[i] = a;
        proof->b[i] ^= 1;
        cr_assert_eq(pb_zk_mod_verify(&t, pk, proof), PB_ERR_PROOF, "b flipped round %d", i);
        proof->a[i] ^= 1;
        cr_assert_eq(pb_zk_mod_verify(&t, pk, proof), PB_ERR_PROOF, "both flipped round %d", i);
        proof->b[i] = b;
        proof->a[i] = (uint8_t)(a + 2);
        cr_assert_eq(pb_zk_mod_verify(&t, pk, proof), PB_ERR_PROOF, "a not a bit round %d", i);
        proof->a[i] = a;
        cr_assert_eq(pb_zk_mod_verify(&t, pk, proof), PB_OK, "restored");
    }
    BN_free(saved);
    pb_zk_mod_free(proof);
    pb_paillier_private_free(sk);
}

/* --- dishonest provers ------------------------------------------------------------- */

static pb_status cheat_verify(const cheat_modulus *m, int bits, int sid_byte)
{
    pb_paillier_public *pk = NULL;
    cr_assert_eq(pb_paillier_public_from_n(m->n, bits, &pk), PB_OK,
                 "the key check alone cannot see this modulus: %s", pb_last_error());
    pb_transcript t;
    session(&t, DOMAIN, (uint8_t)sid_byte, PB_ROLE_P1);
    pb_zk_mod_proof *proof = cheat_zk_mod_prove(&t, m);
    /* Through the wire, as a peer would send it. */
    uint8_t *buf;
    size_t len;
    encode(proof, &buf, &len);
    pb_zk_mod_proof *back;
    pb_status st = decode(buf, len, pk, &back);
    if (st == PB_OK)
        st = pb_zk_mod_verify(&t, pk, back);
    pb_zk_mod_free(back);
    pb_bytes_free(buf, len);
    pb_zk_mod_free(proof);
    pb_paillier_public_free(pk);
    return st;
}

Test(zk_mod, cheating_prover_succeeds_on_a_genuine_blum_modulus)
{
    /* Shows the cheater is competent: its failures below are the verifier's
     * doing, not the cheater's. */
    cheat_modulus m;
    cheat_modulus_blum(2048, &m);
    cr_assert_eq(cheat_verify(&m, 2048, 5), PB_OK, "%s", pb_last_error());
    cheat_modulus_free(&m);
}

Test(zk_mod, modulus_with_a_square_factor_is_refused)
{
    cheat_modulus m;
    cheat_modulus_square_factor(2048, &m);
    cr_assert_eq(cheat_verify(&m, 2048, 6), PB_ERR_PROOF);
    cheat_modulus_free(&m);
}

Test(zk_mod, factor_congruent_to_one_mod_four_is_refused)
{
    cheat_modulus m;
    cheat_modulus_one_mod_4(2048, &m);
    cr_assert_eq(cheat_verify(&m, 2048, 7), PB_ERR_PROOF);
    cheat_modulus_free(&m);
}

/* --- wire form --------------------------------------------------------------------- */

Test(zk_mod, decoding_rejects_truncation_trailing_bytes_and_out_of_range_values)
{
    pb_paillier_private *sk = fx_paillier(2048, 0);
    const pb_paillier_public *pk = pb_paillier_public_of(sk);
    const BIGNUM *n = pb_paillier_n(pk);
    pb_transcript t;
    session(&t, DOMAIN, 8, PB_ROLE_P1);
    pb_zk_mod_proof *proof = prove(&t, sk);
    uint8_t *buf;
    size_t len;
    encode(proof, &buf, &len);
    pb_zk_mod_proof *back;

    for (size_t cut = 0; cut < len; cut += (cut + 16 < len ? 7 : 1)) {
        cr_assert_eq(decode(buf, cut, pk, &back), PB_ERR_PARSE, "cut at %zu", cut);
        cr_assert_null(back);
    }
    uint8_t *longer = malloc(len + 1);
    cr_assert_not_null(longer);
    memcpy(longer, buf, len);
    longer[len] = 0x00;
    pb_reader r;
    pb_reader_init(&r, longer, len + 1);
    cr_assert_eq(pb_zk_mod_decode(&r, pk, &back), PB_OK);
    cr_assert_eq(r.left, 1, "the decoder reads exactly the proof");
    pb_zk_mod_free(back);
    cr_assert_eq(decode(longer, len + 1, pk, &back), PB_ERR_PARSE);
    free(longer);

    /* The a/b byte of the last round is the final byte: only 0..3 are legal. */
    uint8_t saved_byte = buf[len - 1];
    for (unsigned v = 4; v < 256; v += 61) {
        buf[len - 1] = (uint8_t)v;
        cr_assert_eq(decode(buf, len, pk, &back), PB_ERR_PARSE, "bits byte %u", v);
    }
    buf[len - 1] = saved_byte;
    cr_assert_eq(decode(buf, len, pk, &back), PB_OK);
    pb_zk_mod_free(back);
    pb_bytes_free(buf, len);

    /* Values the encoder writes but the decoder must refuse. */
    BIGNUM *saved = BN_new();
    cr_assert_not_null(saved);
    BIGNUM *targets[3] = {proof->w, proof->x[5], proof->z[6]};
    for (int k = 0; k < 3; k++) {
        cr_assert(BN_copy(saved, targets[k]));
        cr_assert(BN_copy(targets[k], n));
        encode(proof, &buf, &len);
        cr_assert_eq(decode(buf, len, pk, &back), PB_ERR_PARSE, "field %d = N", k);
        pb_bytes_free(buf, len);
        cr_assert(BN_copy(targets[k], saved));
        BN_set_negative(targets[k], 1);
        encode(proof, &buf, &len);
        cr_assert_eq(decode(buf, len, pk, &back), PB_ERR_PARSE, "field %d negative", k);
        pb_bytes_free(buf, len);
        cr_assert(BN_copy(targets[k], saved));
    }
    BN_free(saved);
    pb_zk_mod_free(proof);
    pb_paillier_private_free(sk);
}
