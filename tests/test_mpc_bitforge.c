/* A malicious P2 running the BitForge bit probe against Lindell 2017
 * (CVE-2023-33242), and the global abort that answers it.
 *
 * The probe. P2 knows c_key = Enc(x1) and may send any c3. It adds to the
 * honest c3 the term (c_key * Enc(-H*2^(i+1)))^(q*T), whose plaintext is
 * q*T*y with y = x1 - H*2^(i+1) and T = ceil(N / (q*2^i)). If the bits of x1
 * above bit i are H, then y < 2^(i+1), and P1's decryption wraps around N
 * exactly when y >= 2^i, i.e. when bit i of x1 is set: without a wrap the
 * extra term is a multiple of q and the signature is valid; with one, the
 * plaintext is off by N (or 2N), not a multiple of q, and the signature is
 * invalid. Whether P1 then completes tells P2 the bit. Starting from the top
 * (H = 0), P2 would learn x1 bit by bit.
 *
 * The defence (docs/protocol.md section 7): P1 verifies every signature and,
 * on the first failure after decryption, locks the share before returning
 * PB_ERR_ABORTED; a locked share never signs again (live, reloaded, or in a
 * session already running) until a refresh. So the probe yields the leading
 * zero bits of x1 and then the position of the first one -- nothing after.
 *
 * The tests read x1 from P1's record only to choose which bit to probe
 * (playing an attacker who already knows the bits above it) and to check
 * what the attacker learned. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "crypto/bn.h"
#include "mpc/share.h"
#include "mpc/sign.h"
#include "support/mpc_runner.h"

typedef enum probe_kind {
    PROBE_NONE, /* an honest c3 */
    PROBE_BIT,  /* valid iff bit `bit` of x1 is clear, given the bits above it */
    PROBE_ZERO, /* c3 = Enc(0): s = 0 */
    PROBE_Q     /* c3 = Enc(q): s = 0 as well, a non-zero plaintext */
} probe_kind;

typedef struct probe {
    probe_kind kind;
    int bit;
    const BIGNUM *high; /* H: the bits of x1 above `bit` */
} probe;

/* P2 played by the test: honest messages up to c3. */
typedef struct mal_p2 {
    const pb_share_p2 *s2;
    pb_scalar k2;
    uint8_t n1[32], sid[32];
    pb_sign_request req;
} mal_p2;

static BIGNUM *bn_new(void)
{
    BIGNUM *b = BN_new();
    cr_assert_not_null(b);
    return b;
}

static void mal_m2(mal_p2 *c, const uint8_t *m1b, size_t l1, uint8_t **out, size_t *out_len)
{
    pb_sign_m1 m1;
    cr_assert_eq(pb_sign_m1_decode(&m1, m1b, l1), PB_OK);
    memcpy(c->n1, m1.n1, 32);
    c->req = m1.req;
    pb_sign_m2 m2;
    cr_assert_eq(RAND_bytes(m2.n2, 32), 1);
    pb_msg_session_id(c->sid, PB_PROTO_SIGN, c->n1, m2.n2);
    memcpy(m2.sid, c->sid, 32);
    cr_assert_eq(pb_scalar_random(&c->k2), PB_OK);
    cr_assert_eq(pb_point_mul_base(&m2.r2, &c->k2), PB_OK);
    pb_transcript t;
    pb_sign_k2_transcript(&t, c->sid, &c->req);
    cr_assert_eq(pb_zk_sch_prove(&t, &m2.r2, &c->k2, &m2.sch), PB_OK);
    cr_assert_eq(pb_sign_m2_encode(&m2, out, out_len), PB_OK);
}

/* The probe term (c_key * Enc(-H * 2^(bit+1)))^(q * T) (see the top). */
static BIGNUM *probe_term(const pb_paillier_public *pk, const BIGNUM *c_key, const probe *pr)
{
    BN_CTX *ctx = pb_bn_ctx();
    const BIGNUM *n = pb_paillier_n(pk), *q = pb_ec_order();
    BIGNUM *shift = bn_new(), *enc = bn_new(), *cy = bn_new(), *t = bn_new(), *k = bn_new();
    BIGNUM *out = bn_new();
    cr_assert(BN_lshift(shift, pr->high, pr->bit + 1));
    BN_set_negative(shift, 1);
    cr_assert_eq(pb_paillier_encrypt(pk, shift, enc, NULL), PB_OK);
    cr_assert_eq(pb_paillier_add(pk, c_key, enc, cy), PB_OK);
    /* T = ceil(N / (q * 2^bit)) */
    cr_assert(BN_lshift(k, q, pr->bit) && BN_sub(t, n, BN_value_one()));
    cr_assert(BN_div(t, NULL, t, k, ctx) && BN_add_word(t, 1));
    cr_assert(BN_mul(k, q, t, ctx));
    cr_assert_eq(pb_paillier_mul_scalar(pk, cy, k, out), PB_OK);
    BN_free(shift);
    BN_free(enc);
    BN_free(cy);
    BN_free(t);
    BN_free(k);
    return out;
}

static void mal_m4(mal_p2 *c, const uint8_t *m3b, size_t l3, const probe *pr, uint8_t **out,
                   size_t *out_len)
{
    const pb_paillier_public *pk = c->s2->paillier;
    pb_sign_m3 m3;
    cr_assert_eq(pb_sign_m3_decode(&m3, m3b, l3), PB_OK);
    pb_sign_m4 m4;
    memcpy(m4.sid, c->sid, 32);
    m4.c3 = bn_new();
    if (pr->kind == PROBE_ZERO || pr->kind == PROBE_Q) {
        BIGNUM *v = bn_new();
        if (pr->kind == PROBE_Q)
            cr_assert(BN_copy(v, pb_ec_order()));
        cr_assert_eq(pb_paillier_encrypt(pk, v, m4.c3, NULL), PB_OK);
        BN_free(v);
    } else {
        pb_point r;
        pb_scalar rx, m, tweak;
        pb_point derived;
        cr_assert_eq(pb_point_mul(&r, &m3.r1, &c->k2), PB_OK);
        pb_point_x_mod_q(&rx, NULL, NULL, &r);
        cr_assert_eq(pb_sign_digest_scalar(&m, c->req.digest), PB_OK);
        cr_assert_eq(pb_sign_derive(&c->s2->q, c->s2->chain, c->req.path, c->req.path_len,
                                    &tweak, &derived),
                     PB_OK);
        pb_scalar x2;
        pb_scalar_add(&x2, &c->s2->x2, &tweak);
        cr_assert_eq(pb_sign_compute_c3(pk, c->s2->c_key, &c->k2, &rx, &m, &x2, NULL, m4.c3),
                     PB_OK);
        if (pr->kind == PROBE_BIT) {
            BIGNUM *term = probe_term(pk, c->s2->c_key, pr);
            cr_assert_eq(pb_paillier_add(pk, m4.c3, term, m4.c3), PB_OK);
            BN_free(term);
        }
    }
    cr_assert_eq(pb_sign_m4_encode(&m4, out, out_len), PB_OK);
    pb_sign_m4_clear(&m4);
}

/* A P1 session with message 4 from the malicious P2 ready to deliver. */
typedef struct pending {
    pb_sign_p1 *p1;
    uint8_t digest[32];
    uint8_t *m4;
    size_t l4;
} pending;

static void pending_open(pending *s, pb_share_p1 *s1, const pb_share_p2 *s2, const probe *pr)
{
    mal_p2 c;
    memset(&c, 0, sizeof c);
    c.s2 = s2;
    cr_assert_eq(RAND_bytes(s->digest, 32), 1);
    uint8_t *m1, *m2, *m3;
    size_t l1, l2, l3;
    cr_assert_eq(pb_sign_p1_new(&s->p1, s1, s->digest, NULL, 0), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_sign_p1_start(s->p1, &m1, &l1), PB_OK);
    mal_m2(&c, m1, l1, &m2, &l2);
    cr_assert_eq(pb_sign_p1_step(s->p1, m2, l2, &m3, &l3), PB_OK, "%s", pb_last_error());
    mal_m4(&c, m3, l3, pr, &s->m4, &s->l4);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
}

/* P1's error for the last message 4 delivered. */
static char step_error[512];

/* Delivers message 4. On success the released signature must verify
 * (independently); on failure nothing may be released. */
static pb_status pending_finish(pending *s, const pb_share_p1 *s1)
{
    uint8_t *none, sig[64];
    size_t lnone;
    int recid;
    pb_status st = pb_sign_p1_step(s->p1, s->m4, s->l4, &none, &lnone);
    snprintf(step_error, sizeof step_error, "%s", st == PB_OK ? "" : pb_last_error());
    cr_assert_null(none);
    if (st == PB_OK) {
        cr_assert_eq(pb_sign_p1_signature(s->p1, sig, &recid), PB_OK);
        uint8_t pub[33];
        pb_share_p1_public_key(s1, pub);
        mpc_check_signature(pub, s->digest, sig, recid);
    } else {
        cr_assert_eq(pb_sign_p1_signature(s->p1, sig, &recid), PB_ERR_STATE,
                     "a signature was released after a failure");
    }
    pb_mpc_bytes_free(s->m4, s->l4);
    pb_sign_p1_free(s->p1);
    memset(s, 0, sizeof *s);
    return st;
}

static pb_status run_probe(pb_share_p1 *s1, const pb_share_p2 *s2, const probe *pr)
{
    pending s;
    pending_open(&s, s1, s2, pr);
    return pending_finish(&s, s1);
}

static BIGNUM *x1_of(const pb_share_p1 *s1)
{
    BIGNUM *x = bn_new();
    cr_assert_eq(pb_scalar_to_bn(&s1->x1, x), PB_OK);
    return x;
}

/* A probe of bit i with the true bits above it (what the attacker knows). */
static pb_status probe_bit(pb_share_p1 *s1, const pb_share_p2 *s2, int i)
{
    BIGNUM *x = x1_of(s1), *high = bn_new();
    cr_assert(BN_rshift(high, x, i + 1));
    probe pr = {PROBE_BIT, i, high};
    pb_status st = run_probe(s1, s2, &pr);
    BN_free(x);
    BN_free(high);
    return st;
}

/* The lowest bit position >= from where x1 has the value `want`. */
static int find_bit(const pb_share_p1 *s1, int from, int want)
{
    BIGNUM *x = x1_of(s1);
    int i = from;
    while (i < 256 && BN_is_bit_set(x, i) != want)
        i++;
    BN_free(x);
    cr_assert_lt(i, 256, "x1 has no %d bit above %d", want, from);
    return i;
}

static void assert_locked_for_good(pb_share_p1 *s1, const pb_share_p2 *s2)
{
    cr_assert(pb_share_p1_is_locked(s1));
    uint8_t digest[32] = {1}, sig[64];
    int recid;
    pb_sign_p1 *p1;
    cr_assert_eq(pb_sign_p1_new(&p1, s1, digest, NULL, 0), PB_ERR_ABORTED);
    cr_assert_null(p1);
    uint32_t path[1] = {7};
    cr_assert_eq(pb_sign_p1_new(&p1, s1, digest, path, 1), PB_ERR_ABORTED);
    mpc_result r = mpc_run_sign(s1, s2, digest, NULL, 0, NULL, sig, &recid);
    cr_assert_eq(r.status, PB_ERR_ABORTED, "an honest cosigner got a locked share to sign");
    cr_assert_eq(r.party, 1);
    cr_assert_eq(r.msg_no, 0);
}

/* --- the probe works ----------------------------------------------------------------- */

/* Control: with the bit clear the probe's extra term is a multiple of q and
 * P1 releases a valid signature (so the probe is a real oracle; the global
 * abort cannot prevent this answer, only the next ones). */
Test(mpc_bitforge, probe_of_a_clear_bit_yields_a_valid_signature)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 2, &s1, &s2);
    int i = find_bit(s1, 8, 0);
    cr_assert_eq(probe_bit(s1, s2, i), PB_OK, "probe of clear bit %d: %s", i, pb_last_error());
    cr_assert_not(pb_share_p1_is_locked(s1));
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

/* With the bit set, the signature is invalid: P1 releases nothing, answers
 * PB_ERR_ABORTED naming the lock, and the share is locked when it returns. */
Test(mpc_bitforge, probe_of_a_set_bit_is_refused_and_locks_the_share)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 2, &s1, &s2);
    int i = find_bit(s1, 8, 1);
    cr_assert_eq(probe_bit(s1, s2, i), PB_ERR_ABORTED, "probe of set bit %d", i);
    cr_assert(strstr(step_error, "did not verify") && strstr(step_error, "locked"), "%s",
              step_error);
    assert_locked_for_good(s1, s2);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

/* The attack as a whole, from the top bit down: it learns the leading zero
 * bits of x1 (each answered with a valid signature) and where the first one
 * is -- then the share is locked and every further probe is refused before
 * P2 is even asked. */
Test(mpc_bitforge, probing_stops_at_the_first_set_bit)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 3, &s1, &s2);
    BIGNUM *x = x1_of(s1);
    int top = BN_num_bits(x) - 1; /* x1's highest set bit */
    int answered = 0, i;
    for (i = 255; i >= 0; i--) {
        BIGNUM *zero = bn_new(); /* every bit above i came back clear */
        probe pr = {PROBE_BIT, i, zero};
        pb_status st = run_probe(s1, s2, &pr);
        BN_free(zero);
        if (st != PB_OK) {
            cr_assert_eq(st, PB_ERR_ABORTED);
            break;
        }
        answered++;
    }
    cr_assert_eq(i, top, "the first refused probe is bit %d, x1's top bit is %d", i, top);
    cr_assert_eq(answered, 255 - top);
    assert_locked_for_good(s1, s2);
    BN_free(x);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

/* --- the lock ---------------------------------------------------------------------- */

/* The lock is part of the record the caller persists: a reloaded share is
 * locked too, and so is every copy made from it. */
Test(mpc_bitforge, lock_survives_serialization_and_reload)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 2, &s1, &s2);
    uint8_t *before;
    size_t before_len;
    cr_assert_eq(pb_share_p1_serialize(s1, &before, &before_len), PB_OK);
    cr_assert_eq(probe_bit(s1, s2, find_bit(s1, 0, 1)), PB_ERR_ABORTED);
    uint8_t *enc, *enc2;
    size_t len, len2;
    cr_assert_eq(pb_share_p1_serialize(s1, &enc, &len), PB_OK);
    cr_assert_eq(len, before_len);
    cr_assert(memcmp(enc, before, len) != 0, "the lock is not in the encoding");
    pb_share_p1 *reloaded, *again;
    cr_assert_eq(pb_share_p1_parse(&reloaded, enc, len), PB_OK, "%s", pb_last_error());
    assert_locked_for_good(reloaded, s2);
    cr_assert_eq(pb_share_p1_serialize(reloaded, &enc2, &len2), PB_OK);
    cr_assert_eq(pb_share_p1_parse(&again, enc2, len2), PB_OK);
    assert_locked_for_good(again, s2);
    /* Same wallet, same generation: only the flag differs. */
    uint8_t id1[32], id2[32];
    pb_share_p1_id(s1, id1);
    pb_share_p1_id(reloaded, id2);
    cr_assert(memcmp(id1, id2, 32) == 0);
    pb_mpc_bytes_free(before, before_len);
    pb_mpc_bytes_free(enc, len);
    pb_mpc_bytes_free(enc2, len2);
    pb_share_p1_free(reloaded);
    pb_share_p1_free(again);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

/* Two sessions on one share object: one is ready to finish with an honest
 * c3 when the other trips the lock. It must not complete with a signature,
 * and neither may a third that was only at its second message. */
Test(mpc_bitforge, sessions_in_flight_cannot_finish_after_an_abort)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 2, &s1, &s2);
    probe honest = {PROBE_NONE, 0, NULL};
    pending ready, early;
    pending_open(&ready, s1, s2, &honest);
    /* `early` has sent message 1 only. */
    uint8_t digest[32] = {9}, *m1, *m2, *m3;
    size_t l1, l2, l3;
    mal_p2 c;
    memset(&c, 0, sizeof c);
    c.s2 = s2;
    cr_assert_eq(pb_sign_p1_new(&early.p1, s1, digest, NULL, 0), PB_OK);
    memcpy(early.digest, digest, 32);
    cr_assert_eq(pb_sign_p1_start(early.p1, &m1, &l1), PB_OK);

    cr_assert_eq(probe_bit(s1, s2, find_bit(s1, 0, 1)), PB_ERR_ABORTED);

    cr_assert_eq(pending_finish(&ready, s1), PB_ERR_ABORTED,
                 "a session in flight completed after the lock");
    cr_assert(strstr(step_error, "locked by another session") != NULL, "%s", step_error);
    mal_m2(&c, m1, l1, &m2, &l2);
    cr_assert_eq(pb_sign_p1_step(early.p1, m2, l2, &m3, &l3), PB_OK);
    mal_m4(&c, m3, l3, &honest, &early.m4, &early.l4);
    cr_assert_eq(pending_finish(&early, s1), PB_ERR_ABORTED);
    assert_locked_for_good(s1, s2);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

/* A c3 that decrypts to 0 or to q gives s = 0: refused by the s != 0
 * check, which locks like any failure after decryption. */
Test(mpc_bitforge, c3_giving_s_zero_is_refused_and_locks)
{
    static const probe_kind kinds[] = {PROBE_ZERO, PROBE_Q};
    for (size_t k = 0; k < 2; k++) {
        pb_share_p1 *s1;
        pb_share_p2 *s2;
        mpc_fx_wallet(2048, 2, &s1, &s2);
        probe pr = {kinds[k], 0, NULL};
        cr_assert_eq(run_probe(s1, s2, &pr), PB_ERR_ABORTED);
        assert_locked_for_good(s1, s2);
        pb_share_p1_free(s1);
        pb_share_p2_free(s2);
    }
}

/* Only a refresh clears the lock: the new share is unlocked and signs
 * (verified independently), the old record stays locked. */
Test(mpc_bitforge, refresh_gives_an_unlocked_share_that_signs_again)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 2, &s1, &s2);
    cr_assert_eq(probe_bit(s1, s2, find_bit(s1, 0, 1)), PB_ERR_ABORTED);
    pb_cosigner_params *params = mpc_fx_cosigner(2048);
    pb_share_p1 *n1;
    pb_share_p2 *n2;
    mpc_result r = mpc_run_refresh(s1, s2, params, 2048, NULL, &n1, &n2);
    cr_assert_eq(r.status, PB_OK, "refresh of a locked share: %s", pb_last_error());
    cr_assert_not(pb_share_p1_is_locked(n1));
    cr_assert_eq(pb_share_p1_generation(n1), pb_share_p1_generation(s1) + 1);
    uint8_t digest[32], sig[64], pub[33];
    int recid;
    cr_assert_eq(RAND_bytes(digest, 32), 1);
    r = mpc_run_sign(n1, n2, digest, NULL, 0, NULL, sig, &recid);
    cr_assert_eq(r.status, PB_OK, "%s", pb_last_error());
    pb_share_p1_public_key(n1, pub);
    mpc_check_signature(pub, digest, sig, recid);
    assert_locked_for_good(s1, s2);
    pb_share_p1_free(n1);
    pb_share_p2_free(n2);
    pb_cosigner_params_free(params);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}
