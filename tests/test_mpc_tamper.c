/* Tampering in transit, part 1: every signing message byte by byte, cut and
 * extended; and, for DKG, sign and refresh alike, messages replayed from
 * another (finished) session and messages swapped between two concurrent
 * sessions, messages delivered out of order, and every scalar and
 * ciphertext field set to a value outside its range. The honest receiver
 * refuses with the specific status of the
 * failed check, P1 never releases a signature, and a wallet is locked only
 * when a ciphertext that decrypts was refused after decryption (the global
 * abort), never for a failure on public data.
 *
 * Alterations are delivered in forked children from a snapshot just
 * before the message (support/mpc_tamper.h); the DKG and refresh byte
 * sweeps are in test_mpc_tamper_dkg.c and test_mpc_tamper_refresh.c,
 * duplicates, order and leaks in test_mpc_tamper_session.c. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>

#include "crypto/bn.h"
#include "crypto/ec.h"
#include "crypto/paillier.h"
#include "mpc/share.h"
#include "support/mpc_runner.h"
#include "support/mpc_tamper.h"

static const uint8_t DIGEST[32] = {0xd1, 0x9e, 0x57, 0x01};
static const uint32_t PATH[2] = {44, 60};

typedef struct fx {
    pb_cosigner_params *params;
    pb_cosigner_public *pub;
    pb_share_p1 *s1;
    pb_share_p2 *s2;
} fx;

static fx open_fx(void)
{
    fx f;
    f.params = mpc_fx_cosigner(2048);
    f.pub = mpc_fx_cosigner_public(2048);
    mpc_fx_wallet(2048, 0, &f.s1, &f.s2);
    return f;
}

static void close_fx(fx *f)
{
    /* Children lock their own copies; the parent's record is untouched. */
    cr_assert_not(pb_share_p1_is_locked(f->s1));
    pb_share_p1_free(f->s1);
    pb_share_p2_free(f->s2);
    pb_cosigner_params_free(f->params);
    pb_cosigner_public_free(f->pub);
}

static tp_run *new_run(fx *f, int protocol)
{
    switch (protocol) {
    case 1: return tp_dkg(f->params, f->pub, 2048);
    case 2: return tp_sign(f->s1, f->s2, DIGEST, PATH, 2);
    default: return tp_refresh(f->s1, f->s2, f->params, 2048);
    }
}

/* --- signing messages, byte by byte ------------------------------------------ */

static void sign_flips(int k)
{
    fx f = open_fx();
    tp_run *r = new_run(&f, 2);
    tp_advance(r, k);
    size_t len;
    (void)tp_in_flight(r, &len);
    cr_assert_eq(tp_sweep_flips(r, SIZE_MAX, PB_ZK_MOD_ROUNDS, 0x5160 + (uint64_t)k), len);
    tp_free(r);
    close_fx(&f);
}

/* n1 is caught by P1 (session id of message 2), the digest and path by
 * P1's check of P2's proof of k2, which binds the request P2 saw, and the
 * commitment by P2 when P1 opens it. */
Test(mpc_tamper, every_byte_of_sign_message_1_flipped_is_refused)
{
    sign_flips(1);
}

Test(mpc_tamper, every_byte_of_sign_message_2_flipped_is_refused)
{
    sign_flips(2);
}

/* R1 and the proof of k1 are inside the commitment, which is checked first. */
Test(mpc_tamper, every_byte_of_sign_message_3_flipped_is_refused)
{
    sign_flips(3);
}

/* c3: a flip that leaves a valid ciphertext is decrypted, fails P1's
 * verification and locks (global abort); one that does not is refused as
 * malformed and does not lock. No signature is ever released. */
Test(mpc_tamper, every_byte_of_sign_message_4_flipped_is_refused)
{
    sign_flips(4);
}

Test(mpc_tamper, every_sign_message_truncated_or_extended_is_refused)
{
    fx f = open_fx();
    tp_run *r = new_run(&f, 2);
    for (int k = 1; k <= 4; k++) {
        tp_advance(r, k);
        cr_assert_eq(tp_sweep_cuts(r), 13);
    }
    tp_free(r);
    close_fx(&f);
}

/* --- replays and swaps ----------------------------------------------------------- */

/* Delivers `msg` in place of message k of run r and checks the rejection.
 * A first message carries no session id, so the receiver cannot tell it
 * from a new request: the replay or swap is caught one step later, when P1
 * finds that P2's answer belongs to a session id made from another nonce.
 * Everything later is bound to the session id in its header. */
static void expect_refused(tp_run *r, int k, const uint8_t *msg, size_t len, const char *what)
{
    tp_variant v = {.kind = TP_REPLACE, .bytes = msg, .n = len};
    tp_outcome o;
    tp_try(r, &v, 1, &o);
    tp_check_rejected(&o, k == 1 ? 2 : k, PB_ERR_STATE, "another session", what);
    cr_assert_not(o.out_p2, "%s: P2 produced a record", what);
}

static void replay_and_swap(int protocol)
{
    fx f = open_fx();
    tp_run *old = new_run(&f, protocol);
    tp_advance(old, 5);
    tp_run *a = new_run(&f, protocol), *b = new_run(&f, protocol);
    for (int k = 1; k <= 4; k++) {
        tp_advance(a, k);
        tp_advance(b, k);
        char what[96];
        size_t la, lb, lo;
        const uint8_t *ma = tp_in_flight(a, &la), *mb = tp_in_flight(b, &lb);
        const uint8_t *mo = tp_message(old, k, &lo);
        cr_assert_not_null(mo);
        snprintf(what, sizeof what, "protocol %d message %d replayed from a finished session",
                 protocol, k);
        expect_refused(a, k, mo, lo, what);
        snprintf(what, sizeof what, "protocol %d message %d swapped (a -> b)", protocol, k);
        expect_refused(b, k, ma, la, what);
        snprintf(what, sizeof what, "protocol %d message %d swapped (b -> a)", protocol, k);
        expect_refused(a, k, mb, lb, what);
    }
    /* Neither concurrent session was disturbed: both still complete. */
    tp_advance(a, 5);
    tp_advance(b, 5);
    tp_free(a);
    tp_free(b);
    tp_free(old);
    close_fx(&f);
}

Test(mpc_tamper, dkg_messages_replayed_or_swapped_between_sessions_are_refused)
{
    replay_and_swap(1);
}

/* Including c3 from another session: refused on its session id before any
 * decryption, so it cannot lock the wallet. */
Test(mpc_tamper, sign_messages_replayed_or_swapped_between_sessions_are_refused)
{
    replay_and_swap(2);
}

Test(mpc_tamper, refresh_messages_replayed_or_swapped_between_sessions_are_refused)
{
    replay_and_swap(3);
}

/* A message of one protocol delivered where another protocol's message of
 * the same number is expected (same wallet, so the share ids agree). */
Test(mpc_tamper, messages_of_another_protocol_are_refused)
{
    fx f = open_fx();
    tp_run *donor[3];
    for (int p = 1; p <= 3; p++) {
        donor[p - 1] = new_run(&f, p);
        tp_advance(donor[p - 1], 5);
    }
    for (int p = 1; p <= 3; p++) {
        tp_run *r = new_run(&f, p);
        for (int k = 1; k <= 4; k++) {
            tp_advance(r, k);
            for (int q = 1; q <= 3; q++) {
                if (q == p)
                    continue;
                size_t len;
                const uint8_t *m = tp_message(donor[q - 1], k, &len);
                tp_variant v = {.kind = TP_REPLACE, .bytes = m, .n = len};
                tp_outcome o;
                tp_try(r, &v, 1, &o);
                char what[96];
                snprintf(what, sizeof what, "protocol %d message %d given to protocol %d", q, k,
                         p);
                tp_check_rejected(&o, k, PB_ERR_STATE, "expected", what);
            }
        }
        tp_free(r);
    }
    for (int p = 0; p < 3; p++)
        tp_free(donor[p]);
    close_fx(&f);
}

/* Every other message of the same protocol (from a finished session, both
 * directions) where message k is expected: refused on the header. */
static void out_of_order(int protocol)
{
    fx f = open_fx();
    tp_run *donor = new_run(&f, protocol);
    tp_advance(donor, 5);
    tp_run *r = new_run(&f, protocol);
    for (int k = 1; k <= 4; k++) {
        tp_advance(r, k);
        for (int j = 1; j <= 4; j++) {
            if (j == k)
                continue;
            size_t len;
            const uint8_t *m = tp_message(donor, j, &len);
            tp_variant v = {.kind = TP_REPLACE, .bytes = m, .n = len};
            tp_outcome o;
            tp_try(r, &v, 1, &o);
            char what[96];
            snprintf(what, sizeof what, "protocol %d: message %d where %d is expected", protocol,
                     j, k);
            tp_check_rejected(&o, k, PB_ERR_STATE, "expected", what);
        }
    }
    tp_free(r);
    tp_free(donor);
    close_fx(&f);
}

Test(mpc_tamper, dkg_messages_out_of_order_are_refused) { out_of_order(1); }
Test(mpc_tamper, sign_messages_out_of_order_are_refused) { out_of_order(2); }
Test(mpc_tamper, refresh_messages_out_of_order_are_refused)
{
    out_of_order(3);
}

/* --- values out of range ------------------------------------------------------------ */

/* The message in flight with field `name` (tp_layout) replaced by `with`
 * (wlen bytes, which may differ from the field's length). malloc'd. */
static uint8_t *splice(tp_run *r, const char *name, const uint8_t *with, size_t wlen,
                       size_t *out_len)
{
    size_t len;
    const uint8_t *msg = tp_in_flight(r, &len);
    tp_field *f = calloc(TP_MAX_FIELDS, sizeof *f);
    cr_assert_not_null(f);
    size_t nf = tp_layout(tp_protocol(r), tp_next(r), msg, len, f, TP_MAX_FIELDS);
    const tp_field *hit = NULL;
    for (size_t i = 0; i < nf && !hit; i++)
        if (strcmp(f[i].name, name) == 0)
            hit = &f[i];
    cr_assert_not_null(hit, "no field %s", name);
    *out_len = len - hit->len + wlen;
    uint8_t *b = malloc(*out_len);
    cr_assert_not_null(b);
    memcpy(b, msg, hit->off);
    memcpy(b + hit->off, with, wlen);
    memcpy(b + hit->off + wlen, msg + hit->off + hit->len, len - hit->off - hit->len);
    free(f);
    return b;
}

/* Field `name` of the message in flight set to `with`: the receiver
 * refuses it as malformed, naming `needle`. */
static void expect_out_of_range(tp_run *r, const char *name, const uint8_t *with, size_t wlen,
                                const char *needle, const char *what)
{
    size_t blen;
    uint8_t *b = splice(r, name, with, wlen, &blen);
    tp_variant v = {.kind = TP_REPLACE, .bytes = b, .n = blen};
    tp_outcome o;
    tp_try(r, &v, 1, &o);
    char w[128];
    snprintf(w, sizeof w, "protocol %d message %d: %s", tp_protocol(r), tp_next(r), what);
    tp_check_rejected(&o, tp_next(r), PB_ERR_PARSE, needle, w);
    free(b);
}

/* q and 2^256 - 1 in every scalar field: the proofs' answers z, and the
 * refresh offsets d1, d2. */
static void scalars_at(tp_run *r, const char *field, const char *needle)
{
    uint8_t q[32], ones[32];
    cr_assert_eq(BN_bn2binpad(pb_ec_order(), q, 32), 32);
    memset(ones, 0xff, sizeof ones);
    expect_out_of_range(r, field, q, 32, needle, "scalar = q");
    expect_out_of_range(r, field, ones, 32, needle, "scalar = 2^256 - 1");
}

Test(mpc_tamper, scalars_not_below_q_are_refused)
{
    fx f = open_fx();
    static const struct {
        int protocol, k;
        const char *field, *needle;
    } at[] = {
        {1, 2, "sch(x2) z", "pi-sch: z"}, {1, 3, "sch(x1) z", "pi-sch: z"},
        {2, 2, "sch(k2) z", "pi-sch: z"}, {2, 3, "sch(k1) z", "pi-sch: z"},
        {3, 2, "d2", "d2"},               {3, 3, "d1", "d1"},
    };
    for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
        tp_run *r = new_run(&f, at[i].protocol);
        tp_advance(r, at[i].k);
        scalars_at(r, at[i].field, at[i].needle);
        tp_free(r);
    }
    close_fx(&f);
}

static size_t bn_bytes(const BIGNUM *v, uint8_t *out, size_t max)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_bn_encode(&w, v);
    uint8_t *b;
    size_t n;
    cr_assert_eq(pb_writer_finish(&w, &b, &n), PB_OK);
    cr_assert_leq(n, max);
    memcpy(out, b, n);
    pb_bytes_free(b, n);
    return n;
}

/* 0, N, 2N (not units), N^2 and N^2 + 1 (not below N^2) in place of the
 * ciphertext `name` (its sign, length and magnitude fields together). For
 * c3 the refusal comes before decryption, so nothing locks. */
static void ciphertext_field(tp_run *r, const BIGNUM *n, const char *name, const char *needle)
{
    size_t len;
    const uint8_t *msg = tp_in_flight(r, &len);
    tp_field *f = calloc(TP_MAX_FIELDS, sizeof *f);
    cr_assert_not_null(f);
    size_t nf = tp_layout(tp_protocol(r), tp_next(r), msg, len, f, TP_MAX_FIELDS);
    size_t at = SIZE_MAX;
    char sign_name[64];
    snprintf(sign_name, sizeof sign_name, "%s sign", name);
    for (size_t i = 0; i < nf && at == SIZE_MAX; i++)
        if (strcmp(f[i].name, sign_name) == 0)
            at = i;
    cr_assert_neq(at, SIZE_MAX, "no field %s", sign_name);
    size_t start = f[at].off, end = f[at + 2].off + f[at + 2].len;
    free(f);
    BN_CTX *ctx = pb_bn_ctx();
    BIGNUM *vals[5];
    for (int i = 0; i < 5; i++) {
        vals[i] = BN_new();
        cr_assert_not_null(vals[i]);
    }
    BN_zero(vals[0]);
    cr_assert(BN_copy(vals[1], n) && BN_lshift1(vals[2], n));
    cr_assert(BN_sqr(vals[3], n, ctx) && BN_copy(vals[4], vals[3]) && BN_add_word(vals[4], 1));
    static const char *const what[] = {"ciphertext 0", "ciphertext N", "ciphertext 2N",
                                       "ciphertext N^2", "ciphertext N^2 + 1"};
    for (int i = 0; i < 5; i++) {
        uint8_t enc[1200];
        size_t elen = bn_bytes(vals[i], enc, sizeof enc);
        size_t blen = len - (end - start) + elen;
        uint8_t *b = malloc(blen);
        cr_assert_not_null(b);
        memcpy(b, msg, start);
        memcpy(b + start, enc, elen);
        memcpy(b + start + elen, msg + end, len - end);
        tp_variant v = {.kind = TP_REPLACE, .bytes = b, .n = blen};
        tp_outcome o;
        tp_try(r, &v, 1, &o);
        char w[128];
        snprintf(w, sizeof w, "protocol %d message %d: %s", tp_protocol(r), tp_next(r),
                 what[i]);
        tp_check_rejected(&o, tp_next(r), PB_ERR_PARSE, needle, w);
        free(b);
        BN_free(vals[i]);
    }
}

Test(mpc_tamper, ciphertexts_outside_the_unit_group_are_refused)
{
    fx f = open_fx();
    /* c3 under the wallet's key. */
    tp_run *r = new_run(&f, 2);
    tp_advance(r, 4);
    ciphertext_field(r, pb_paillier_n(f.s2->paillier), "c3", "(c3)");
    tp_free(r);
    /* c_key under the modulus P1 sends along with it. */
    for (int p = 1; p <= 3; p += 2) {
        r = new_run(&f, p);
        tp_advance(r, 3);
        size_t len;
        const uint8_t *msg = tp_in_flight(r, &len);
        tp_field *fl = calloc(TP_MAX_FIELDS, sizeof *fl);
        cr_assert_not_null(fl);
        size_t nf = tp_layout(p, 3, msg, len, fl, TP_MAX_FIELDS);
        BIGNUM *n = NULL;
        for (size_t i = 0; i < nf && !n; i++)
            if (strcmp(fl[i].name, "N") == 0)
                n = BN_bin2bn(msg + fl[i].off, (int)fl[i].len, NULL);
        cr_assert_not_null(n);
        ciphertext_field(r, n, "c_key", "c_key");
        BN_free(n);
        free(fl);
        tp_free(r);
    }
    close_fx(&f);
}
