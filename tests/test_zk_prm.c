/* Pi^prm (CGGMP21 Fig. 17): an honest proof verifies; it is bound to the
 * session, role, domain and parameters; every field of every round is
 * checked; parameters with s outside <t> are refused whatever the prover
 * does (one that knows a "lambda" with s = -t^lambda, one that guesses the
 * challenge bits); t = 1 is refused; the wire form is strict. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/bn.h>

#include "common/bytes.h"
#include "crypto/bn.h"
#include "crypto/ring_pedersen.h"
#include "crypto/transcript.h"
#include "crypto/zk_prm.h"
#include "crypto/zk_prm_impl.h"
#include "support/rped_secret_fixture.h"

#define BITS 2048
static const char DOMAIN[] = "planbok/test/zk-prm";

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

static pb_zk_prm_proof *prove(const pb_transcript *t, const pb_rped_secret *sec)
{
    pb_zk_prm_proof *proof = NULL;
    cr_assert_eq(pb_zk_prm_prove(t, sec, &proof), PB_OK, "%s", pb_last_error());
    cr_assert_not_null(proof);
    return proof;
}

static void encode(const pb_zk_prm_proof *proof, uint8_t **buf, size_t *len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_zk_prm_encode(&w, proof);
    cr_assert_eq(pb_writer_finish(&w, buf, len), PB_OK);
}

/* Decode exactly as a protocol would: the decoder, then the trailing check. */
static pb_status decode(const uint8_t *buf, size_t len, const pb_rped_public *pub,
                        pb_zk_prm_proof **out)
{
    pb_reader r;
    pb_reader_init(&r, buf, len);
    *out = NULL;
    pb_status st = pb_zk_prm_decode(&r, pub, out);
    if (st == PB_OK && (st = pb_reader_finish(&r, "prm proof")) != PB_OK) {
        pb_zk_prm_free(*out);
        *out = NULL;
    }
    return st;
}

Test(zk_prm, honest_proof_verifies_and_survives_the_wire)
{
    pb_rped_secret *sec = fx_rped_secret(BITS);
    const pb_rped_public *pub = pb_rped_public_of(sec);
    pb_transcript t;
    session(&t, DOMAIN, 1, PB_ROLE_P2);
    pb_zk_prm_proof *proof = prove(&t, sec);
    cr_assert_eq(pb_zk_prm_verify(&t, pub, proof), PB_OK, "%s", pb_last_error());

    uint8_t *buf;
    size_t len;
    encode(proof, &buf, &len);
    pb_zk_prm_proof *back;
    cr_assert_eq(decode(buf, len, pub, &back), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_zk_prm_verify(&t, pub, back), PB_OK, "%s", pb_last_error());
    pb_zk_prm_free(back);
    pb_bytes_free(buf, len);
    pb_zk_prm_free(proof);
    pb_rped_secret_free(sec);
}

Test(zk_prm, proof_is_bound_to_session_role_domain_and_parameters)
{
    pb_rped_secret *sec = fx_rped_secret(BITS);
    const pb_rped_public *pub = pb_rped_public_of(sec);
    pb_transcript t, other;
    session(&t, DOMAIN, 1, PB_ROLE_P2);
    pb_zk_prm_proof *proof = prove(&t, sec);

    session(&other, DOMAIN, 2, PB_ROLE_P2);
    cr_assert_eq(pb_zk_prm_verify(&other, pub, proof), PB_ERR_PROOF, "other session id");
    session(&other, DOMAIN, 1, PB_ROLE_P1);
    cr_assert_eq(pb_zk_prm_verify(&other, pub, proof), PB_ERR_PROOF, "other role");
    session(&other, "planbok/test/other", 1, PB_ROLE_P2);
    cr_assert_eq(pb_zk_prm_verify(&other, pub, proof), PB_ERR_PROOF, "other domain");

    /* Valid parameters, but not the ones proven: s^2 is also in <t>. */
    pb_rped_public *moved = pb_rped_public_dup(pub);
    cr_assert(BN_mod_sqr(moved->s, pub->s, pub->n_hat, ctx()));
    cr_assert_eq(pb_rped_public_check(moved, BITS), PB_OK);
    cr_assert_eq(pb_zk_prm_verify(&t, moved, proof), PB_ERR_PROOF, "other s");
    pb_rped_public_free(moved);

    pb_zk_prm_free(proof);
    pb_rped_secret_free(sec);
}

Test(zk_prm, every_field_of_a_round_is_checked)
{
    pb_rped_secret *sec = fx_rped_secret(BITS);
    const pb_rped_public *pub = pb_rped_public_of(sec);
    pb_transcript t;
    session(&t, DOMAIN, 3, PB_ROLE_P2);
    pb_zk_prm_proof *proof = prove(&t, sec);
    BIGNUM *saved = BN_new();
    cr_assert_not_null(saved);
    const int rounds[] = {0, 1, 41, PB_ZK_PRM_ROUNDS - 1};
    for (size_t k = 0; k < sizeof rounds / sizeof rounds[0]; k++) {
        int i = rounds[k];
        /* A_i: another unit, zero, N^ itself. */
        cr_assert(BN_copy(saved, proof->a[i]));
        cr_assert(BN_mod_mul(proof->a[i], saved, pub->t, pub->n_hat, ctx()));
        cr_assert_eq(pb_zk_prm_verify(&t, pub, proof), PB_ERR_PROOF, "A_%d * t", i);
        BN_zero(proof->a[i]);
        cr_assert_eq(pb_zk_prm_verify(&t, pub, proof), PB_ERR_PROOF, "A_%d = 0", i);
        cr_assert(BN_copy(proof->a[i], pub->n_hat));
        cr_assert_eq(pb_zk_prm_verify(&t, pub, proof), PB_ERR_PROOF, "A_%d = N^", i);
        cr_assert(BN_copy(proof->a[i], saved));
        /* z_i: off by one either way, negated, and too large. */
        cr_assert(BN_copy(saved, proof->z[i]));
        cr_assert(BN_add_word(proof->z[i], 1));
        cr_assert_eq(pb_zk_prm_verify(&t, pub, proof), PB_ERR_PROOF, "z_%d + 1", i);
        cr_assert(BN_sub(proof->z[i], saved, BN_value_one()));
        cr_assert_eq(pb_zk_prm_verify(&t, pub, proof), PB_ERR_PROOF, "z_%d - 1", i);
        BN_set_negative(proof->z[i], 1);
        cr_assert_eq(pb_zk_prm_verify(&t, pub, proof), PB_ERR_PROOF, "-z_%d", i);
        cr_assert(BN_lshift(proof->z[i], BN_value_one(), PB_ZK_PRM_Z_BITS(BITS)));
        cr_assert_eq(pb_zk_prm_verify(&t, pub, proof), PB_ERR_PROOF, "huge z_%d", i);
        cr_assert(BN_copy(proof->z[i], saved));
        cr_assert_eq(pb_zk_prm_verify(&t, pub, proof), PB_OK, "restored");
    }
    BN_free(saved);
    pb_zk_prm_free(proof);
    pb_rped_secret_free(sec);
}

/* --- dishonest parameters -------------------------------------------------------- */

/* A prover for s = -t^lambda (not a square, so not in <t>) that runs the
 * honest algorithm with that lambda. */
static pb_zk_prm_proof *cheat_with_lambda(const pb_transcript *t, const pb_rped_public *pub,
                                          const BIGNUM *lambda)
{
    pb_zk_prm_proof *proof = pb_zk_prm_alloc();
    cr_assert_not_null(proof);
    BIGNUM *a[PB_ZK_PRM_ROUNDS];
    for (int i = 0; i < PB_ZK_PRM_ROUNDS; i++) {
        a[i] = BN_new();
        cr_assert(a[i] && BN_rand(a[i], pub->bits + PB_ZK_STAT, BN_RAND_TOP_ANY,
                                  BN_RAND_BOTTOM_ANY));
        cr_assert(BN_mod_exp(proof->a[i], pub->t, a[i], pub->n_hat, ctx()));
    }
    uint8_t e[PB_ZK_PRM_ROUNDS];
    pb_zk_prm_challenge(t, pub, proof, e);
    for (int i = 0; i < PB_ZK_PRM_ROUNDS; i++) {
        cr_assert(e[i] ? BN_add(proof->z[i], a[i], lambda) : BN_copy(proof->z[i], a[i]) != NULL);
        BN_free(a[i]);
    }
    return proof;
}

/* A prover that knows nothing: it guesses each bit g_i and picks
 * A_i = t^z_i s^-g_i, which passes round i exactly when e_i = g_i. */
static pb_zk_prm_proof *cheat_by_guessing(const pb_transcript *t, const pb_rped_public *pub)
{
    pb_zk_prm_proof *proof = pb_zk_prm_alloc();
    cr_assert_not_null(proof);
    BIGNUM *s_inv = BN_mod_inverse(NULL, pub->s, pub->n_hat, ctx());
    cr_assert_not_null(s_inv);
    uint8_t guess[PB_ZK_PRM_ROUNDS];
    for (int i = 0; i < PB_ZK_PRM_ROUNDS; i++) {
        guess[i] = (uint8_t)(i & 1);
        cr_assert(BN_rand(proof->z[i], pub->bits + PB_ZK_STAT, BN_RAND_TOP_ANY,
                          BN_RAND_BOTTOM_ANY));
        cr_assert(BN_mod_exp(proof->a[i], pub->t, proof->z[i], pub->n_hat, ctx()));
        if (guess[i])
            cr_assert(BN_mod_mul(proof->a[i], proof->a[i], s_inv, pub->n_hat, ctx()));
    }
    uint8_t e[PB_ZK_PRM_ROUNDS];
    pb_zk_prm_challenge(t, pub, proof, e);
    int matches = 0;
    for (int i = 0; i < PB_ZK_PRM_ROUNDS; i++)
        matches += e[i] == guess[i];
    cr_assert_lt(matches, PB_ZK_PRM_ROUNDS, "the challenge cannot equal a fixed pattern");
    BN_free(s_inv);
    return proof;
}

Test(zk_prm, s_outside_the_group_of_t_is_refused)
{
    pb_rped_secret *sec = fx_rped_secret(BITS);
    pb_rped_public *bad = pb_rped_public_dup(pb_rped_public_of(sec));
    /* s = -t^lambda has Jacobi symbol +1 but is not a square mod N^, while
     * everything t generates is: s is outside <t>. The public check alone
     * cannot tell. */
    cr_assert(BN_sub(bad->s, bad->n_hat, bad->s));
    cr_assert_eq(pb_rped_public_check(bad, BITS), PB_OK);
    cr_assert_eq(BN_kronecker(bad->s, pb_rped_p(sec), ctx()), -1);

    pb_transcript t;
    session(&t, DOMAIN, 4, PB_ROLE_P2);
    pb_zk_prm_proof *proof = cheat_with_lambda(&t, bad, pb_rped_lambda(sec));
    cr_assert_eq(pb_zk_prm_verify(&t, bad, proof), PB_ERR_PROOF);
    pb_zk_prm_free(proof);

    proof = cheat_by_guessing(&t, bad);
    cr_assert_eq(pb_zk_prm_verify(&t, bad, proof), PB_ERR_PROOF);
    pb_zk_prm_free(proof);

    /* The same cheat against honest parameters shows the verifier's
     * equation, not a stray check, is what rejects. */
    proof = cheat_with_lambda(&t, pb_rped_public_of(sec), pb_rped_lambda(sec));
    cr_assert_eq(pb_zk_prm_verify(&t, pb_rped_public_of(sec), proof), PB_OK, "%s",
                 pb_last_error());
    pb_zk_prm_free(proof);
    pb_rped_public_free(bad);
    pb_rped_secret_free(sec);
}

Test(zk_prm, t_equal_to_one_is_refused)
{
    pb_rped_secret *sec = fx_rped_secret(BITS);
    pb_rped_public *bad = pb_rped_public_dup(pb_rped_public_of(sec));
    /* t = 1 generates {1}; with s = 1 too every round would balance. */
    cr_assert(BN_one(bad->t));
    cr_assert(BN_one(bad->s));
    pb_transcript t;
    session(&t, DOMAIN, 5, PB_ROLE_P2);
    pb_zk_prm_proof *proof = cheat_with_lambda(&t, bad, pb_rped_lambda(sec));
    cr_assert_neq(pb_rped_public_check(bad, BITS), PB_OK);
    cr_assert_neq(pb_zk_prm_verify(&t, bad, proof), PB_OK);
    pb_zk_prm_free(proof);
    pb_rped_public_free(bad);
    pb_rped_secret_free(sec);
}

/* --- wire form ------------------------------------------------------------------- */

Test(zk_prm, decoding_rejects_truncation_trailing_bytes_and_out_of_range_values)
{
    pb_rped_secret *sec = fx_rped_secret(BITS);
    const pb_rped_public *pub = pb_rped_public_of(sec);
    pb_transcript t;
    session(&t, DOMAIN, 6, PB_ROLE_P2);
    pb_zk_prm_proof *proof = prove(&t, sec);
    uint8_t *buf;
    size_t len;
    encode(proof, &buf, &len);
    pb_zk_prm_proof *back;

    /* Every 7th cut point and the last few bytes. */
    for (size_t cut = 0; cut < len; cut += (cut + 16 < len ? 7 : 1)) {
        cr_assert_eq(decode(buf, cut, pub, &back), PB_ERR_PARSE, "cut at %zu", cut);
        cr_assert_null(back);
    }
    uint8_t *longer = malloc(len + 1);
    cr_assert_not_null(longer);
    memcpy(longer, buf, len);
    longer[len] = 0x00;
    /* The decoder stops at the proof's end; the finish check sees the byte. */
    pb_reader r;
    pb_reader_init(&r, longer, len + 1);
    cr_assert_eq(pb_zk_prm_decode(&r, pub, &back), PB_OK);
    cr_assert_eq(r.left, 1);
    pb_zk_prm_free(back);
    cr_assert_eq(decode(longer, len + 1, pub, &back), PB_ERR_PARSE);
    free(longer);
    pb_bytes_free(buf, len);

    /* Values the encoder will write but the decoder must refuse. */
    BIGNUM *saved = BN_new();
    cr_assert_not_null(saved);
    for (int field = 0; field < 4; field++) {
        int i = 17;
        BIGNUM *target = field < 2 ? proof->a[i] : proof->z[i];
        cr_assert(BN_copy(saved, target));
        switch (field) {
        case 0: cr_assert(BN_copy(target, pub->n_hat)); break;           /* A = N^ */
        case 1: BN_set_negative(target, 1); break;                        /* A < 0 */
        case 2: BN_set_negative(target, 1); break;                        /* z < 0 */
        case 3:
            cr_assert(BN_lshift(target, BN_value_one(), PB_ZK_PRM_Z_BITS(BITS)));
            break; /* z one bit too long */
        }
        encode(proof, &buf, &len);
        cr_assert_eq(decode(buf, len, pub, &back), PB_ERR_PARSE, "field case %d", field);
        cr_assert_null(back);
        pb_bytes_free(buf, len);
        cr_assert(BN_copy(target, saved));
    }
    BN_free(saved);
    pb_zk_prm_free(proof);
    pb_rped_secret_free(sec);
}
