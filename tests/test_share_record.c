/* Share records: canonical round trips, and every malformed, truncated,
 * extended or inconsistent encoding is refused. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mpc/share.h"
#include "support/mpc_runner.h"

/* Offsets in the encodings (see src/mpc/share.c). */
enum {
    HDR = 10,          /* magic, version, kind, generation */
    P1_LOCK = HDR,
    P1_X = HDR + 1,
    P1_Q = P1_X + 32,
    P1_Q1 = P1_Q + 33,
    P1_Q2 = P1_Q1 + 33,
    P1_CHAIN = P1_Q2 + 33,
    P1_BITS = P1_CHAIN + 32,
    P1_PAILLIER = P1_BITS + 2, /* u32 length of p */
    P2_X = HDR,
    P2_Q = P2_X + 32,
    P2_Q1 = P2_Q + 33,
    P2_Q2 = P2_Q1 + 33,
    P2_CHAIN = P2_Q2 + 33,
    P2_BITS = P2_CHAIN + 32,
    P2_N = P2_BITS + 2, /* u32 length of N */
};

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;

static blob ser1(const pb_share_p1 *s)
{
    blob b;
    cr_assert_eq(pb_share_p1_serialize(s, &b.p, &b.n), PB_OK);
    return b;
}

static blob ser2(const pb_share_p2 *s)
{
    blob b;
    cr_assert_eq(pb_share_p2_serialize(s, &b.p, &b.n), PB_OK);
    return b;
}

static blob copy(blob b)
{
    blob c = {malloc(b.n + 1), b.n};
    cr_assert_not_null(c.p);
    memcpy(c.p, b.p, b.n);
    return c;
}

static void put_be32(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static pb_status parse1(blob b)
{
    pb_share_p1 *s = NULL;
    pb_status st = pb_share_p1_parse(&s, b.p, b.n);
    cr_assert((st == PB_OK) == (s != NULL));
    pb_share_p1_free(s);
    return st;
}

static pb_status parse2(blob b)
{
    pb_share_p2 *s = NULL;
    pb_status st = pb_share_p2_parse(&s, b.p, b.n);
    cr_assert((st == PB_OK) == (s != NULL));
    pb_share_p2_free(s);
    return st;
}

/* Parses a modified copy, expects `want` (-1: any failure), frees it. */
static void check1(blob t, int want, int line)
{
    pb_status st = parse1(t);
    if (want < 0)
        cr_assert_neq(st, PB_OK, "line %d: accepted", line);
    else
        cr_assert_eq(st, (pb_status)want, "line %d: got %d (%s)", line, st, pb_last_error());
    free(t.p);
}

static void check2(blob t, int want, int line)
{
    pb_status st = parse2(t);
    if (want < 0)
        cr_assert_neq(st, PB_OK, "line %d: accepted", line);
    else
        cr_assert_eq(st, (pb_status)want, "line %d: got %d (%s)", line, st, pb_last_error());
    free(t.p);
}

Test(share_record, round_trip_is_canonical_and_keeps_public_data)
{
    pb_share_p1 *s1, *r1;
    pb_share_p2 *s2, *r2;
    mpc_fx_wallet(2048, 0, &s1, &s2);
    blob a = ser1(s1), b = ser2(s2);
    cr_assert_eq(pb_share_p1_parse(&r1, a.p, a.n), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_share_p2_parse(&r2, b.p, b.n), PB_OK, "%s", pb_last_error());
    blob a2 = ser1(r1), b2 = ser2(r2);
    cr_assert(a.n == a2.n && memcmp(a.p, a2.p, a.n) == 0, "P1 encoding not canonical");
    cr_assert(b.n == b2.n && memcmp(b.p, b2.p, b.n) == 0, "P2 encoding not canonical");

    uint8_t k1[33], k2[33], id1[32], id2[32];
    char x1[PB_MPC_XPUB_SIZE], x2[PB_MPC_XPUB_SIZE];
    pb_share_p1_public_key(r1, k1);
    pb_share_p2_public_key(r2, k2);
    cr_assert(memcmp(k1, k2, 33) == 0);
    cr_assert_eq(pb_share_p1_xpub(r1, x1), PB_OK);
    cr_assert_eq(pb_share_p2_xpub(r2, x2), PB_OK);
    cr_assert_str_eq(x1, x2);
    pb_share_p1_id(r1, id1);
    pb_share_p2_id(r2, id2);
    cr_assert(memcmp(id1, id2, 32) == 0, "matching records have different share ids");
    cr_assert_eq(pb_share_p1_generation(r1), 0);
    cr_assert_eq(pb_share_p2_generation(r2), 0);
    cr_assert_not(pb_share_p1_is_locked(r1));

    pb_mpc_bytes_free(a.p, a.n);
    pb_mpc_bytes_free(b.p, b.n);
    pb_mpc_bytes_free(a2.p, a2.n);
    pb_mpc_bytes_free(b2.p, b2.n);
    pb_share_p1_free(s1);
    pb_share_p1_free(r1);
    pb_share_p2_free(s2);
    pb_share_p2_free(r2);
}

Test(share_record, every_truncation_and_any_trailing_byte_is_refused)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 0, &s1, &s2);
    blob a = ser1(s1), b = ser2(s2);
    for (size_t cut = 0; cut < a.n; cut++) {
        blob t = {a.p, cut};
        cr_assert_eq(parse1(t), PB_ERR_PARSE, "P1 record cut at %zu accepted", cut);
    }
    for (size_t cut = 0; cut < b.n; cut++) {
        blob t = {b.p, cut};
        cr_assert_eq(parse2(t), PB_ERR_PARSE, "P2 record cut at %zu accepted", cut);
    }
    blob ea = copy(a), eb = copy(b);
    ea.p[ea.n++] = 0;
    eb.p[eb.n++] = 0;
    cr_assert_eq(parse1(ea), PB_ERR_PARSE);
    cr_assert(strstr(pb_last_error(), "trailing") != NULL, "%s", pb_last_error());
    cr_assert_eq(parse2(eb), PB_ERR_PARSE);
    cr_assert(strstr(pb_last_error(), "trailing") != NULL, "%s", pb_last_error());
    free(ea.p);
    free(eb.p);
    pb_mpc_bytes_free(a.p, a.n);
    pb_mpc_bytes_free(b.p, b.n);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

Test(share_record, malformed_and_non_canonical_fields_are_refused)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 0, &s1, &s2);
    blob a = ser1(s1), b = ser2(s2);
    blob t;

    /* Header: magic, version, kind (a P2 record is not a P1 record). */
    t = copy(a);
    t.p[0] ^= 0x20;
    check1(t, PB_ERR_PARSE, __LINE__);
    t = copy(a);
    t.p[4] = 2;
    check1(t, PB_ERR_PARSE, __LINE__);
    cr_assert_eq(parse1(b), PB_ERR_PARSE);
    cr_assert_eq(parse2(a), PB_ERR_PARSE);

    /* Lock flag other than 0/1. */
    t = copy(a);
    t.p[P1_LOCK] = 2;
    check1(t, PB_ERR_PARSE, __LINE__);

    /* A share equal to q (not reduced), and all-ones. */
    static const uint8_t Q_BYTES[32] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
        0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    t = copy(a);
    memcpy(t.p + P1_X, Q_BYTES, 32);
    check1(t, PB_ERR_PARSE, __LINE__);
    t = copy(b);
    memset(t.p + P2_X, 0xff, 32);
    check2(t, PB_ERR_PARSE, __LINE__);

    /* Points: uncompressed prefix, x not on the curve. */
    t = copy(a);
    t.p[P1_Q] = 0x04;
    check1(t, PB_ERR_PARSE, __LINE__);
    t = copy(b);
    memset(t.p + P2_Q1 + 1, 0xff, 32);
    check2(t, PB_ERR_PARSE, __LINE__);

    /* Key sizes other than 2048/3072, and a size that disagrees with N. */
    t = copy(a); /* 1024 */
    t.p[P1_BITS] = 0x04;
    t.p[P1_BITS + 1] = 0x00;
    check1(t, PB_ERR_PARSE, __LINE__);
    t = copy(b); /* 3072, but N has 2048 bits */
    t.p[P2_BITS] = 0x0c;
    t.p[P2_BITS + 1] = 0x00;
    check2(t, -1, __LINE__);

    /* Oversized length prefixes: Paillier p, N. */
    t = copy(a);
    memset(t.p + P1_PAILLIER, 0xff, 4);
    check1(t, PB_ERR_PARSE, __LINE__);
    t = copy(b);
    memset(t.p + P2_N, 0xff, 4);
    check2(t, PB_ERR_PARSE, __LINE__);

    /* c_key: negative sign byte, a leading zero byte, zero, >= N^2. */
    size_t ck = P2_N + 4 + 256; /* sign byte of c_key */
    t = copy(b);
    t.p[ck] = 1;
    check2(t, PB_ERR_PARSE, __LINE__);
    t = copy(b);
    t.p[ck] = 2;
    check2(t, PB_ERR_PARSE, __LINE__);
    {
        /* Re-encode c_key with one extra leading zero byte. */
        size_t mag = ((size_t)b.p[ck + 1] << 24) | ((size_t)b.p[ck + 2] << 16) |
                     ((size_t)b.p[ck + 3] << 8) | b.p[ck + 4];
        cr_assert_eq(ck + 5 + mag, b.n);
        blob z = {malloc(b.n + 1), b.n + 1};
        memcpy(z.p, b.p, ck + 1);
        size_t m1 = mag + 1;
        put_be32(z.p + ck + 1, m1);
        z.p[ck + 5] = 0;
        memcpy(z.p + ck + 6, b.p + ck + 5, mag);
        cr_assert_eq(parse2(z), PB_ERR_PARSE, "leading zero byte accepted");
        /* c_key = 0 (empty magnitude). */
        z.n = ck + 5;
        memset(z.p + ck + 1, 0, 4);
        cr_assert_neq(parse2(z), PB_OK, "c_key = 0 accepted");
        /* c_key = N^2 + something: 2*|N| bytes of 0xff. */
        free(z.p);
        z.n = ck + 5 + mag + 1;
        z.p = malloc(z.n);
        memcpy(z.p, b.p, ck + 1);
        m1 = mag + 1;
        put_be32(z.p + ck + 1, m1);
        memset(z.p + ck + 5, 0xff, m1);
        cr_assert_eq(parse2(z), PB_ERR_PARSE, "c_key >= N^2 accepted");
        free(z.p);
    }
    pb_mpc_bytes_free(a.p, a.n);
    pb_mpc_bytes_free(b.p, b.n);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

/* Flips a field through the internal record and checks the re-encoding is
 * refused as inconsistent. */
Test(share_record, inconsistent_shares_and_points_are_refused)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 0, &s1, &s2);
    pb_scalar one;
    memset(&one, 0, sizeof one);
    one.b[31] = 1;
    blob t;

    pb_scalar saved = s1->x1;
    pb_scalar_add(&s1->x1, &s1->x1, &one); /* x1*G != Q1 */
    t = ser1(s1);
    cr_assert_eq(parse1(t), PB_ERR_INTEGRITY, "%s", pb_last_error());
    pb_mpc_bytes_free(t.p, t.n);
    s1->x1 = saved;

    pb_point q = s1->q;
    s1->q = s1->q1; /* Q1 + Q2 != Q */
    t = ser1(s1);
    cr_assert_eq(parse1(t), PB_ERR_INTEGRITY);
    pb_mpc_bytes_free(t.p, t.n);
    s1->q = q;

    saved = s2->x2;
    pb_scalar_add(&s2->x2, &s2->x2, &one);
    t = ser2(s2);
    cr_assert_eq(parse2(t), PB_ERR_INTEGRITY);
    pb_mpc_bytes_free(t.p, t.n);
    s2->x2 = saved;

    pb_point q1 = s2->q1;
    s2->q1 = s2->q2; /* Q1 replaced: Q1 + Q2 != Q */
    t = ser2(s2);
    cr_assert_eq(parse2(t), PB_ERR_INTEGRITY);
    pb_mpc_bytes_free(t.p, t.n);
    s2->q1 = q1;

    /* c_key not a unit mod N: c_key = N. */
    BIGNUM *saved_c = s2->c_key;
    s2->c_key = BN_dup(pb_paillier_n(s2->paillier));
    t = ser2(s2);
    cr_assert_neq(parse2(t), PB_OK, "c_key = N accepted");
    pb_mpc_bytes_free(t.p, t.n);
    BN_free(s2->c_key);
    s2->c_key = saved_c;

    /* Untouched records still parse: the checks above were the cause. */
    t = ser1(s1);
    cr_assert_eq(parse1(t), PB_OK);
    pb_mpc_bytes_free(t.p, t.n);
    t = ser2(s2);
    cr_assert_eq(parse2(t), PB_OK);
    pb_mpc_bytes_free(t.p, t.n);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

Test(share_record, lock_flag_survives_encoding_and_refuses_signing)
{
    pb_share_p1 *s1, *r1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 0, &s1, &s2);
    atomic_store(&s1->locked, 1);
    cr_assert(pb_share_p1_is_locked(s1));
    blob a = ser1(s1);
    cr_assert_eq(a.p[P1_LOCK], 1);
    cr_assert_eq(pb_share_p1_parse(&r1, a.p, a.n), PB_OK);
    cr_assert(pb_share_p1_is_locked(r1));
    uint8_t digest[32] = {1};
    pb_sign_p1 *sp;
    cr_assert_eq(pb_sign_p1_new(&sp, r1, digest, NULL, 0), PB_ERR_ABORTED);
    cr_assert_null(sp);
    pb_mpc_bytes_free(a.p, a.n);
    pb_share_p1_free(s1);
    pb_share_p1_free(r1);
    pb_share_p2_free(s2);
}
