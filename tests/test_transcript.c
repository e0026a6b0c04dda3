/* Fiat-Shamir transcripts: every bound input changes the challenge, item
 * boundaries are unambiguous, and challenges stay in their stated ranges. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/bn.h>

#include "crypto/ec.h"
#include "crypto/transcript.h"

static const uint8_t SID_A[PB_SESSION_ID_BYTES] = {1, 2, 3};
static const uint8_t SID_B[PB_SESSION_ID_BYTES] = {1, 2, 4};

static void challenge(pb_transcript *t, uint8_t out[32])
{
    pb_transcript_challenge_bytes(t, "c", out, 32);
}

static void base(pb_transcript *t)
{
    pb_transcript_init(t, "planbok/test", SID_A, PB_ROLE_P1);
}

static int same_challenge(pb_transcript *a, pb_transcript *b)
{
    uint8_t ca[32], cb[32];
    challenge(a, ca);
    challenge(b, cb);
    return memcmp(ca, cb, 32) == 0;
}

Test(transcript, identical_inputs_give_identical_challenges)
{
    pb_transcript a, b;
    base(&a);
    base(&b);
    pb_transcript_append(&a, "x", "abc", 3);
    pb_transcript_append(&b, "x", "abc", 3);
    cr_assert(same_challenge(&a, &b));
    cr_assert(same_challenge(&a, &b), "a second challenge must also agree");
}

Test(transcript, domain_session_and_role_are_bound)
{
    pb_transcript a, b;
    base(&a);
    pb_transcript_init(&b, "planbok/other", SID_A, PB_ROLE_P1);
    cr_assert(!same_challenge(&a, &b), "domain tag not bound");
    base(&a);
    pb_transcript_init(&b, "planbok/test", SID_B, PB_ROLE_P1);
    cr_assert(!same_challenge(&a, &b), "session id not bound");
    base(&a);
    pb_transcript_init(&b, "planbok/test", SID_A, PB_ROLE_P2);
    cr_assert(!same_challenge(&a, &b), "role not bound");
}

Test(transcript, labels_and_data_are_bound)
{
    pb_transcript a, b;
    base(&a);
    base(&b);
    pb_transcript_append(&a, "x", "abc", 3);
    pb_transcript_append(&b, "y", "abc", 3);
    cr_assert(!same_challenge(&a, &b), "label not bound");
    base(&a);
    base(&b);
    pb_transcript_append(&a, "x", "abc", 3);
    pb_transcript_append(&b, "x", "abd", 3);
    cr_assert(!same_challenge(&a, &b), "data not bound");
    base(&a);
    base(&b);
    pb_transcript_append(&a, "x", "abc", 3);
    pb_transcript_append(&b, "x", "abc\0", 4);
    cr_assert(!same_challenge(&a, &b), "length not bound");
}

Test(transcript, ambiguous_concatenations_differ)
{
    pb_transcript a, b;
    /* Data boundary between two items. */
    base(&a);
    base(&b);
    pb_transcript_append(&a, "x", "ab", 2);
    pb_transcript_append(&a, "x", "c", 1);
    pb_transcript_append(&b, "x", "a", 1);
    pb_transcript_append(&b, "x", "bc", 2);
    cr_assert(!same_challenge(&a, &b));
    /* Boundary between label and data. */
    base(&a);
    base(&b);
    pb_transcript_append(&a, "ab", "c", 1);
    pb_transcript_append(&b, "a", "bc", 2);
    cr_assert(!same_challenge(&a, &b));
    /* Two items versus one concatenated item. */
    base(&a);
    base(&b);
    pb_transcript_append(&a, "x", "ab", 2);
    pb_transcript_append(&a, "x", "", 0);
    pb_transcript_append(&b, "x", "ab", 2);
    cr_assert(!same_challenge(&a, &b));
    /* Domain tag running into the session id. */
    uint8_t sid2[PB_SESSION_ID_BYTES] = {'t', 1, 2};
    pb_transcript_init(&a, "planbok/tes", sid2, PB_ROLE_P1);
    uint8_t sid3[PB_SESSION_ID_BYTES] = {1, 2, 0};
    pb_transcript_init(&b, "planbok/test", sid3, PB_ROLE_P1);
    cr_assert(!same_challenge(&a, &b));
}

Test(transcript, integer_sign_and_width_are_bound)
{
    pb_transcript a, b;
    BIGNUM *x = BN_new(), *y = BN_new();
    BN_set_word(x, 5);
    BN_set_word(y, 5);
    BN_set_negative(y, 1);
    base(&a);
    base(&b);
    pb_transcript_append_bn(&a, "n", x);
    pb_transcript_append_bn(&b, "n", y);
    cr_assert(!same_challenge(&a, &b), "sign not bound");
    /* A u64 and a BIGNUM of equal value are different items. */
    base(&a);
    base(&b);
    pb_transcript_append_u64(&a, "n", 5);
    pb_transcript_append_bn(&b, "n", x);
    cr_assert(!same_challenge(&a, &b));
    /* Zero and the empty byte string are different items. */
    BN_zero(x);
    base(&a);
    base(&b);
    pb_transcript_append_bn(&a, "n", x);
    pb_transcript_append(&b, "n", "", 0);
    cr_assert(!same_challenge(&a, &b));
    BN_free(x);
    BN_free(y);
}

Test(transcript, points_are_bound)
{
    pb_scalar s1, s2;
    pb_point p1, p2;
    cr_assert_eq(pb_scalar_random(&s1), PB_OK);
    cr_assert_eq(pb_scalar_random(&s2), PB_OK);
    cr_assert_eq(pb_point_mul_base(&p1, &s1), PB_OK);
    cr_assert_eq(pb_point_mul_base(&p2, &s2), PB_OK);
    pb_transcript a, b;
    base(&a);
    base(&b);
    pb_transcript_append_point(&a, "P", &p1);
    pb_transcript_append_point(&b, "P", &p2);
    cr_assert(!same_challenge(&a, &b));
}

Test(transcript, successive_challenges_differ_and_depend_on_label_and_length)
{
    pb_transcript a, b;
    uint8_t c1[32], c2[32];
    base(&a);
    challenge(&a, c1);
    challenge(&a, c2);
    cr_assert(memcmp(c1, c2, 32) != 0);
    base(&a);
    base(&b);
    pb_transcript_challenge_bytes(&a, "e1", c1, 32);
    pb_transcript_challenge_bytes(&b, "e2", c2, 32);
    cr_assert(memcmp(c1, c2, 32) != 0, "challenge label not bound");
    /* A shorter challenge is not a prefix of a longer one. */
    uint8_t longer[100];
    base(&a);
    base(&b);
    pb_transcript_challenge_bytes(&a, "e", c1, 16);
    pb_transcript_challenge_bytes(&b, "e", longer, sizeof longer);
    cr_assert(memcmp(c1, longer, 16) != 0);
    /* Counter-mode blocks of a long challenge are distinct. */
    cr_assert(memcmp(longer, longer + 32, 32) != 0);
    cr_assert(memcmp(longer + 32, longer + 64, 32) != 0);
    /* Having drawn a challenge changes what follows. */
    base(&a);
    base(&b);
    challenge(&a, c1);
    pb_transcript_append(&a, "x", "1", 1);
    pb_transcript_append(&b, "x", "1", 1);
    cr_assert(!same_challenge(&a, &b));
}

Test(transcript, scalar_challenges_are_below_q)
{
    pb_transcript t;
    base(&t);
    for (int i = 0; i < 500; i++) {
        pb_scalar s;
        pb_transcript_challenge_scalar(&t, "e", &s);
        pb_scalar check;
        cr_assert_eq(pb_scalar_parse(&check, s.b), PB_OK);
    }
}

Test(transcript, mod_challenges_cover_and_respect_the_range)
{
    pb_transcript t;
    base(&t);
    BIGNUM *mod = BN_new(), *v = BN_new();
    BN_set_word(mod, 7);
    int seen[7] = {0};
    for (int i = 0; i < 700; i++) {
        cr_assert_eq(pb_transcript_challenge_mod(&t, "e", mod, v), PB_OK);
        cr_assert(!BN_is_negative(v) && BN_cmp(v, mod) < 0);
        seen[BN_get_word(v)]++;
    }
    for (int i = 0; i < 7; i++)
        cr_assert_gt(seen[i], 40, "residue %d drawn only %d times", i, seen[i]);
    /* A large modulus. */
    BN_rand(mod, 3072, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD);
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(pb_transcript_challenge_mod(&t, "e", mod, v), PB_OK);
        cr_assert(!BN_is_negative(v) && BN_cmp(v, mod) < 0);
    }
    BN_zero(mod);
    cr_assert_eq(pb_transcript_challenge_mod(&t, "e", mod, v), PB_ERR_ARGUMENT);
    BN_free(mod);
    BN_free(v);
}

Test(transcript, signed_challenges_respect_the_bound_and_take_both_signs)
{
    pb_transcript t;
    base(&t);
    BIGNUM *bound = BN_new(), *v = BN_new(), *mag = BN_new();
    BN_set_word(bound, 3);
    int seen[7] = {0};
    for (int i = 0; i < 700; i++) {
        cr_assert_eq(pb_transcript_challenge_signed(&t, "e", bound, v), PB_OK);
        BN_copy(mag, v);
        BN_set_negative(mag, 0);
        cr_assert(BN_cmp(mag, bound) <= 0);
        int val = (int)BN_get_word(mag) * (BN_is_negative(v) ? -1 : 1);
        seen[val + 3]++;
    }
    for (int i = 0; i < 7; i++)
        cr_assert_gt(seen[i], 40, "value %d drawn only %d times", i - 3, seen[i]);
    BN_set_bit(bound, 256);
    int neg = 0;
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(pb_transcript_challenge_signed(&t, "e", bound, v), PB_OK);
        BN_copy(mag, v);
        BN_set_negative(mag, 0);
        cr_assert(BN_cmp(mag, bound) <= 0);
        neg += BN_is_negative(v);
    }
    cr_assert(neg > 50 && neg < 150);
    BN_free(bound);
    BN_free(v);
    BN_free(mag);
}
