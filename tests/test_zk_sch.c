/* Pi^sch (CGGMP21 Fig. 22): honest proofs verify, the algebra agrees with
 * OpenSSL's independent secp256k1, and every binding (statement, session id,
 * role, domain, each proof field, the wire form) is enforced. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "common/bytes.h"
#include "crypto/ec.h"
#include "crypto/transcript.h"
#include "crypto/zk_sch.h"

static const char DOMAIN[] = "planbok/test/zk-sch";

static void session(pb_transcript *t, const char *domain, uint8_t sid_byte, uint8_t role)
{
    uint8_t sid[PB_SESSION_ID_BYTES];
    memset(sid, sid_byte, sizeof sid);
    pb_transcript_init(t, domain, sid, role);
}

static void keypair(pb_scalar *x, pb_point *x_pub)
{
    cr_assert_eq(pb_scalar_random(x), PB_OK);
    cr_assert_eq(pb_point_mul_base(x_pub, x), PB_OK);
}

static void encode(const pb_zk_sch_proof *proof, uint8_t out[PB_ZK_SCH_BYTES])
{
    pb_writer w;
    pb_writer_init(&w);
    pb_zk_sch_encode(&w, proof);
    uint8_t *buf;
    size_t len;
    cr_assert_eq(pb_writer_finish(&w, &buf, &len), PB_OK);
    cr_assert_eq(len, PB_ZK_SCH_BYTES);
    memcpy(out, buf, len);
    pb_bytes_free(buf, len);
}

Test(zk_sch, honest_proofs_for_random_witnesses_verify)
{
    pb_transcript t;
    session(&t, DOMAIN, 1, PB_ROLE_P1);
    for (int i = 0; i < 64; i++) {
        pb_scalar x;
        pb_point X;
        pb_zk_sch_proof proof;
        keypair(&x, &X);
        cr_assert_eq(pb_zk_sch_prove(&t, &X, &x, &proof), PB_OK, "%s", pb_last_error());
        cr_assert_eq(pb_zk_sch_verify(&t, &X, &proof), PB_OK, "witness %d: %s", i,
                     pb_last_error());
    }
}

/* Recompute the challenge with the documented labels and check
 * z*G == A + e*X with OpenSSL's EC code instead of libsecp256k1. */
Test(zk_sch, proof_satisfies_the_schnorr_equation_in_openssl)
{
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_secp256k1);
    BN_CTX *ctx = BN_CTX_new();
    cr_assert(group && ctx);
    pb_transcript t;
    session(&t, DOMAIN, 2, PB_ROLE_P2);
    for (int i = 0; i < 8; i++) {
        pb_scalar x, e;
        pb_point X;
        pb_zk_sch_proof proof;
        keypair(&x, &X);
        cr_assert_eq(pb_zk_sch_prove(&t, &X, &x, &proof), PB_OK);

        pb_transcript tt = t;
        pb_transcript_append(&tt, "proof", "pi-sch", 6);
        pb_transcript_append_point(&tt, "sch.X", &X);
        pb_transcript_append_point(&tt, "sch.A", &proof.a);
        pb_transcript_challenge_scalar(&tt, "sch.e", &e);

        uint8_t xb[PB_POINT_BYTES], ab[PB_POINT_BYTES];
        pb_point_serialize(xb, &X);
        pb_point_serialize(ab, &proof.a);
        EC_POINT *px = EC_POINT_new(group), *pa = EC_POINT_new(group);
        EC_POINT *lhs = EC_POINT_new(group), *rhs = EC_POINT_new(group);
        BIGNUM *z = BN_bin2bn(proof.z.b, 32, NULL), *eb = BN_bin2bn(e.b, 32, NULL);
        cr_assert(px && pa && lhs && rhs && z && eb);
        cr_assert(EC_POINT_oct2point(group, px, xb, sizeof xb, ctx));
        cr_assert(EC_POINT_oct2point(group, pa, ab, sizeof ab, ctx));
        cr_assert(EC_POINT_mul(group, lhs, z, NULL, NULL, ctx));
        cr_assert(EC_POINT_mul(group, rhs, NULL, px, eb, ctx));
        cr_assert(EC_POINT_add(group, rhs, rhs, pa, ctx));
        cr_assert_eq(EC_POINT_cmp(group, lhs, rhs, ctx), 0);
        EC_POINT_free(px);
        EC_POINT_free(pa);
        EC_POINT_free(lhs);
        EC_POINT_free(rhs);
        BN_free(z);
        BN_free(eb);
    }
    BN_CTX_free(ctx);
    EC_GROUP_free(group);
}

Test(zk_sch, caller_transcript_is_left_untouched)
{
    pb_transcript t, before;
    session(&t, DOMAIN, 3, PB_ROLE_P1);
    before = t;
    pb_scalar x;
    pb_point X;
    pb_zk_sch_proof proof;
    keypair(&x, &X);
    cr_assert_eq(pb_zk_sch_prove(&t, &X, &x, &proof), PB_OK);
    cr_assert(memcmp(&t, &before, sizeof t) == 0);
    cr_assert_eq(pb_zk_sch_verify(&t, &X, &proof), PB_OK);
    cr_assert(memcmp(&t, &before, sizeof t) == 0);
}

Test(zk_sch, commit_then_respond_verifies_and_nonce_is_single_use)
{
    pb_transcript t;
    session(&t, DOMAIN, 4, PB_ROLE_P1);
    pb_scalar x;
    pb_point X;
    keypair(&x, &X);
    pb_zk_sch_nonce nonce;
    pb_zk_sch_proof proof, again;
    cr_assert_eq(pb_zk_sch_commit(&nonce), PB_OK);
    pb_point committed = nonce.a;
    cr_assert_eq(pb_zk_sch_respond(&t, &X, &x, &nonce, &proof), PB_OK);
    cr_assert(pb_point_equal(&proof.a, &committed), "respond must use the committed A");
    cr_assert_eq(pb_zk_sch_verify(&t, &X, &proof), PB_OK);
    /* A second answer with the same alpha would reveal x. */
    cr_assert_eq(pb_zk_sch_respond(&t, &X, &x, &nonce, &again), PB_ERR_STATE);

    pb_zk_sch_nonce fresh;
    memset(&fresh, 0, sizeof fresh);
    cr_assert_eq(pb_zk_sch_respond(&t, &X, &x, &fresh, &again), PB_ERR_STATE);

    cr_assert_eq(pb_zk_sch_commit(&nonce), PB_OK);
    pb_zk_sch_nonce_wipe(&nonce);
    cr_assert_eq(pb_zk_sch_respond(&t, &X, &x, &nonce, &again), PB_ERR_STATE);
}

Test(zk_sch, prover_refuses_a_witness_that_does_not_match_x)
{
    pb_transcript t;
    session(&t, DOMAIN, 5, PB_ROLE_P1);
    pb_scalar x, other;
    pb_point X, unused;
    pb_zk_sch_proof proof;
    keypair(&x, &X);
    keypair(&other, &unused);
    cr_assert_eq(pb_zk_sch_prove(&t, &X, &other, &proof), PB_ERR_ARGUMENT);
}

Test(zk_sch, proof_for_one_statement_fails_for_another)
{
    pb_transcript t;
    session(&t, DOMAIN, 6, PB_ROLE_P1);
    pb_scalar x, y;
    pb_point X, Y;
    pb_zk_sch_proof proof;
    keypair(&x, &X);
    keypair(&y, &Y);
    cr_assert_eq(pb_zk_sch_prove(&t, &X, &x, &proof), PB_OK);
    cr_assert_eq(pb_zk_sch_verify(&t, &Y, &proof), PB_ERR_PROOF);
    pb_point negx;
    cr_assert_eq(pb_point_negate(&negx, &X), PB_OK);
    cr_assert_eq(pb_zk_sch_verify(&t, &negx, &proof), PB_ERR_PROOF);
}

Test(zk_sch, proof_is_bound_to_session_role_and_domain)
{
    pb_transcript t, other_sid, other_role, other_domain;
    session(&t, DOMAIN, 7, PB_ROLE_P1);
    session(&other_sid, DOMAIN, 8, PB_ROLE_P1);
    session(&other_role, DOMAIN, 7, PB_ROLE_P2);
    session(&other_domain, "planbok/test/zk-sch-other", 7, PB_ROLE_P1);
    pb_scalar x;
    pb_point X;
    pb_zk_sch_proof proof;
    keypair(&x, &X);
    cr_assert_eq(pb_zk_sch_prove(&t, &X, &x, &proof), PB_OK);
    cr_assert_eq(pb_zk_sch_verify(&t, &X, &proof), PB_OK);
    cr_assert_eq(pb_zk_sch_verify(&other_sid, &X, &proof), PB_ERR_PROOF);
    cr_assert_eq(pb_zk_sch_verify(&other_role, &X, &proof), PB_ERR_PROOF);
    cr_assert_eq(pb_zk_sch_verify(&other_domain, &X, &proof), PB_ERR_PROOF);
    /* Items absorbed before the proof are bound too. */
    pb_transcript extended = t;
    pb_transcript_append(&extended, "context", "x", 1);
    cr_assert_eq(pb_zk_sch_verify(&extended, &X, &proof), PB_ERR_PROOF);
}

Test(zk_sch, tampering_with_either_field_fails)
{
    pb_transcript t;
    session(&t, DOMAIN, 9, PB_ROLE_P2);
    pb_scalar x, one;
    pb_point X;
    pb_zk_sch_proof proof, bad;
    keypair(&x, &X);
    cr_assert_eq(pb_zk_sch_prove(&t, &X, &x, &proof), PB_OK);
    memset(&one, 0, sizeof one);
    one.b[31] = 1;

    bad = proof;
    cr_assert_eq(pb_point_add_base_mul(&bad.a, &proof.a, &one), PB_OK);
    cr_assert_eq(pb_zk_sch_verify(&t, &X, &bad), PB_ERR_PROOF);

    bad = proof;
    pb_scalar_add(&bad.z, &proof.z, &one);
    cr_assert_eq(pb_zk_sch_verify(&t, &X, &bad), PB_ERR_PROOF);

    bad = proof;
    memset(&bad.z, 0, sizeof bad.z);
    cr_assert_eq(pb_zk_sch_verify(&t, &X, &bad), PB_ERR_PROOF);

    /* Every single-bit flip of the wire form is refused somewhere. */
    uint8_t wire[PB_ZK_SCH_BYTES];
    encode(&proof, wire);
    for (size_t bit = 0; bit < 8 * sizeof wire; bit++) {
        uint8_t flipped[PB_ZK_SCH_BYTES];
        memcpy(flipped, wire, sizeof wire);
        flipped[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        pb_reader r;
        pb_reader_init(&r, flipped, sizeof flipped);
        pb_zk_sch_proof decoded;
        if (pb_zk_sch_decode(&r, &decoded) != PB_OK)
            continue;
        cr_assert_eq(pb_zk_sch_verify(&t, &X, &decoded), PB_ERR_PROOF, "bit %zu accepted", bit);
    }
}

Test(zk_sch, encode_decode_round_trip)
{
    pb_transcript t;
    session(&t, DOMAIN, 10, PB_ROLE_P1);
    pb_scalar x;
    pb_point X;
    pb_zk_sch_proof proof, decoded;
    keypair(&x, &X);
    cr_assert_eq(pb_zk_sch_prove(&t, &X, &x, &proof), PB_OK);
    uint8_t wire[PB_ZK_SCH_BYTES], again[PB_ZK_SCH_BYTES];
    encode(&proof, wire);
    pb_reader r;
    pb_reader_init(&r, wire, sizeof wire);
    cr_assert_eq(pb_zk_sch_decode(&r, &decoded), PB_OK);
    cr_assert_eq(pb_reader_finish(&r, "proof"), PB_OK);
    cr_assert(pb_point_equal(&decoded.a, &proof.a));
    cr_assert(pb_scalar_equal(&decoded.z, &proof.z));
    encode(&decoded, again);
    cr_assert(memcmp(wire, again, sizeof wire) == 0);
    cr_assert_eq(pb_zk_sch_verify(&t, &X, &decoded), PB_OK);
}

Test(zk_sch, decode_rejects_truncation_and_trailing_bytes)
{
    pb_transcript t;
    session(&t, DOMAIN, 11, PB_ROLE_P1);
    pb_scalar x;
    pb_point X;
    pb_zk_sch_proof proof, decoded;
    keypair(&x, &X);
    cr_assert_eq(pb_zk_sch_prove(&t, &X, &x, &proof), PB_OK);
    uint8_t wire[PB_ZK_SCH_BYTES + 1];
    encode(&proof, wire);
    for (size_t cut = 0; cut < PB_ZK_SCH_BYTES; cut++) {
        pb_reader r;
        pb_reader_init(&r, wire, cut);
        cr_assert_eq(pb_zk_sch_decode(&r, &decoded), PB_ERR_PARSE, "cut at %zu accepted", cut);
    }
    wire[PB_ZK_SCH_BYTES] = 0;
    pb_reader r;
    pb_reader_init(&r, wire, sizeof wire);
    cr_assert_eq(pb_zk_sch_decode(&r, &decoded), PB_OK);
    cr_assert_eq(pb_reader_finish(&r, "proof"), PB_ERR_PARSE);
}

Test(zk_sch, decode_rejects_bad_point_and_out_of_range_scalar)
{
    pb_transcript t;
    session(&t, DOMAIN, 12, PB_ROLE_P1);
    pb_scalar x;
    pb_point X;
    pb_zk_sch_proof proof, decoded;
    keypair(&x, &X);
    cr_assert_eq(pb_zk_sch_prove(&t, &X, &x, &proof), PB_OK);
    uint8_t wire[PB_ZK_SCH_BYTES], bad[PB_ZK_SCH_BYTES];
    encode(&proof, wire);
    pb_reader r;

    /* Uncompressed-prefix and infinity-prefix points. */
    const uint8_t prefixes[] = {0x00, 0x04, 0x05, 0x06, 0xff};
    for (size_t i = 0; i < sizeof prefixes; i++) {
        memcpy(bad, wire, sizeof bad);
        bad[0] = prefixes[i];
        pb_reader_init(&r, bad, sizeof bad);
        cr_assert_eq(pb_zk_sch_decode(&r, &decoded), PB_ERR_PARSE, "prefix %02x", prefixes[i]);
    }
    /* An x coordinate >= p (here 2^256 - 1) is refused. */
    memcpy(bad, wire, sizeof bad);
    memset(bad + 1, 0xff, 32);
    pb_reader_init(&r, bad, sizeof bad);
    cr_assert_eq(pb_zk_sch_decode(&r, &decoded), PB_ERR_PARSE);
    /* x = 5 is not the x coordinate of a secp256k1 point (5^3 + 7 = 132 is
     * not a square mod p). */
    memcpy(bad, wire, sizeof bad);
    memset(bad + 1, 0, 32);
    bad[32] = 5;
    pb_reader_init(&r, bad, sizeof bad);
    cr_assert_eq(pb_zk_sch_decode(&r, &decoded), PB_ERR_PARSE);

    /* z = q and z = 2^256 - 1 are out of range. */
    static const uint8_t q_bytes[32] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
        0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    memcpy(bad, wire, sizeof bad);
    memcpy(bad + PB_POINT_BYTES, q_bytes, 32);
    pb_reader_init(&r, bad, sizeof bad);
    cr_assert_eq(pb_zk_sch_decode(&r, &decoded), PB_ERR_PARSE);
    memset(bad + PB_POINT_BYTES, 0xff, 32);
    pb_reader_init(&r, bad, sizeof bad);
    cr_assert_eq(pb_zk_sch_decode(&r, &decoded), PB_ERR_PARSE);
}
