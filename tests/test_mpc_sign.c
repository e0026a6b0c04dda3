/* Signing: DKG + sign runs at 2048 and 3072 bits (fresh and precomputed
 * encryption randomness, root and BIP-32 derived keys), every signature
 * checked with libsecp256k1 and OpenSSL; the global abort against a
 * cheating cosigner (BitForge, CVE-2023-33242); and the session rules.
 * PB_MPC_SIGN_RUNS (per 2048-bit test, 6 tests) and PB_MPC_SIGN_RUNS_3072
 * (per 3072-bit test, 2 tests) set the counts. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "mpc/share.h"
#include "mpc/sign.h"
#include "support/mpc_runner.h"

#ifdef __SANITIZE_ADDRESS__
#define RUNS_2048 3
#define RUNS_3072 1
#else
#define RUNS_2048 12
#define RUNS_3072 5
#endif

static void random_digest(uint8_t d[32]) { cr_assert_eq(RAND_bytes(d, 32), 1); }

static void sign_ok(pb_share_p1 *s1, const pb_share_p2 *s2, const uint32_t *path, size_t n,
                    int warm)
{
    uint8_t digest[32], sig[64], pk[33];
    int recid;
    random_digest(digest);
    mpc_opts o = {NULL, NULL, warm, 0};
    mpc_result r = mpc_run_sign(s1, s2, digest, path, n, &o, sig, &recid);
    cr_assert_eq(r.status, PB_OK, "sign: party %d at message %d: %s", r.party, r.msg_no,
                 pb_last_error());
    mpc_derived_pubkey(s1, path, n, pk);
    mpc_check_signature(pk, digest, sig, recid);
}

/* A fresh DKG, then a root signature, a warm one and one under
 * m/44/60/0/0/i. */
static void runs(int bits, const char *env, int dflt)
{
    pb_cosigner_params *params = mpc_fx_cosigner(bits);
    pb_cosigner_public *pub = mpc_fx_cosigner_public(bits);
    int n = mpc_env_int(env, dflt);
    for (int i = 0; i < n; i++) {
        pb_share_p1 *s1;
        pb_share_p2 *s2;
        mpc_result r = mpc_run_dkg(params, pub, bits, NULL, &s1, &s2);
        cr_assert_eq(r.status, PB_OK, "dkg: %s", pb_last_error());
        uint32_t path[5] = {44, 60, 0, 0, (uint32_t)i};
        sign_ok(s1, s2, NULL, 0, 0);
        sign_ok(s1, s2, NULL, 0, 1);
        sign_ok(s1, s2, path, 5, i & 1);
        pb_share_p1_free(s1);
        pb_share_p2_free(s2);
    }
    pb_cosigner_params_free(params);
    pb_cosigner_public_free(pub);
}

Test(mpc_sign, runs_2048_a) { runs(2048, "PB_MPC_SIGN_RUNS", RUNS_2048); }
Test(mpc_sign, runs_2048_b) { runs(2048, "PB_MPC_SIGN_RUNS", RUNS_2048); }
Test(mpc_sign, runs_2048_c) { runs(2048, "PB_MPC_SIGN_RUNS", RUNS_2048); }
Test(mpc_sign, runs_2048_d) { runs(2048, "PB_MPC_SIGN_RUNS", RUNS_2048); }
Test(mpc_sign, runs_2048_e) { runs(2048, "PB_MPC_SIGN_RUNS", RUNS_2048); }
Test(mpc_sign, runs_2048_f) { runs(2048, "PB_MPC_SIGN_RUNS", RUNS_2048); }
Test(mpc_sign, runs_3072_a) { runs(3072, "PB_MPC_SIGN_RUNS_3072", RUNS_3072); }
Test(mpc_sign, runs_3072_b) { runs(3072, "PB_MPC_SIGN_RUNS_3072", RUNS_3072); }

Test(mpc_sign, derived_keys_match_ckdpub_and_sign)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 0, &s1, &s2);
    char xpub[PB_MPC_XPUB_SIZE];
    cr_assert_eq(pb_share_p1_xpub(s1, xpub), PB_OK);
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t path[5];
        size_t n;
        char str[40];
        snprintf(str, sizeof str, "m/44/60/0/0/%u", i);
        cr_assert_eq(pb_bip32_parse_path(str, path, 5, &n), PB_OK);
        /* The key P2 derives for the request equals CKDpub of the joint xpub
         * (checked inside the runner), and the signature verifies under it. */
        sign_ok(s1, s2, path, n, 0);
    }
    /* A long path, and index 2^31 - 1. */
    uint32_t deep[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x7fffffffu};
    sign_ok(s1, s2, deep, 12, 1);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

Test(mpc_sign, hardened_paths_are_refused)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 0, &s1, &s2);
    uint8_t digest[32] = {0};
    uint32_t path[2] = {44, 0x80000000u};
    pb_sign_p1 *sp;
    cr_assert_eq(pb_sign_p1_new(&sp, s1, digest, path, 2), PB_ERR_ARGUMENT);
    cr_assert_null(sp);
    /* And a hardened index smuggled into m1 is refused by P2. */
    pb_sign_m1 m1;
    memset(&m1, 0, sizeof m1);
    pb_share_p1_id(s1, m1.req.share_id);
    m1.req.path[0] = 0x80000001u;
    m1.req.path_len = 1;
    uint8_t *b, *out;
    size_t l, out_len;
    cr_assert_eq(pb_sign_m1_encode(&m1, &b, &l), PB_OK);
    pb_sign_p2 *p2;
    cr_assert_eq(pb_sign_p2_new(&p2, s2), PB_OK);
    cr_assert_eq(pb_sign_p2_step(p2, b, l, &out, &out_len), PB_ERR_PARSE);
    cr_assert(strstr(pb_last_error(), "hardened") != NULL, "%s", pb_last_error());
    pb_sign_p2_free(p2);
    pb_mpc_bytes_free(b, l);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

/* --- global abort: a cheating cosigner --------------------------------------- */

/* P2 played by the test: honest messages except that c3 is computed for
 * x2 + delta (BitForge-style: the resulting signature is invalid). */
typedef struct cheat {
    const pb_share_p2 *s2;
    int delta;
    pb_scalar k2;
    uint8_t n1[32], sid[32];
    pb_sign_request req;
} cheat;

static void cheat_m2(cheat *c, const uint8_t *m1b, size_t l1, uint8_t **out, size_t *out_len)
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

static void cheat_m4(cheat *c, const uint8_t *m3b, size_t l3, uint8_t **out, size_t *out_len)
{
    pb_sign_m3 m3;
    cr_assert_eq(pb_sign_m3_decode(&m3, m3b, l3), PB_OK);
    pb_point r;
    pb_scalar rx, m, x2, tweak, d;
    pb_point derived;
    cr_assert_eq(pb_point_mul(&r, &m3.r1, &c->k2), PB_OK);
    pb_point_x_mod_q(&rx, NULL, NULL, &r);
    cr_assert_eq(pb_sign_digest_scalar(&m, c->req.digest), PB_OK);
    cr_assert_eq(pb_sign_derive(&c->s2->q, c->s2->chain, c->req.path, c->req.path_len, &tweak,
                                &derived),
                 PB_OK);
    memset(&d, 0, sizeof d);
    d.b[31] = (uint8_t)c->delta;
    pb_scalar_add(&x2, &c->s2->x2, &tweak);
    pb_scalar_add(&x2, &x2, &d);
    pb_sign_m4 m4;
    memcpy(m4.sid, c->sid, 32);
    m4.c3 = BN_new();
    cr_assert_eq(pb_sign_compute_c3(c->s2->paillier, c->s2->c_key, &c->k2, &rx, &m, &x2, NULL,
                                    m4.c3),
                 PB_OK);
    cr_assert_eq(pb_sign_m4_encode(&m4, out, out_len), PB_OK);
    pb_sign_m4_clear(&m4);
}

/* Runs P1 against the scripted P2; returns P1's status on m4. */
static pb_status sign_against_cheat(pb_share_p1 *s1, const pb_share_p2 *s2, int delta,
                                    pb_sign_p1 **keep)
{
    cheat c;
    memset(&c, 0, sizeof c);
    c.s2 = s2;
    c.delta = delta;
    uint8_t digest[32], *m1, *m2, *m3, *m4, *none;
    size_t l1, l2, l3, l4, lnone;
    random_digest(digest);
    pb_sign_p1 *p1;
    cr_assert_eq(pb_sign_p1_new(&p1, s1, digest, NULL, 0), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_sign_p1_start(p1, &m1, &l1), PB_OK);
    cheat_m2(&c, m1, l1, &m2, &l2);
    cr_assert_eq(pb_sign_p1_step(p1, m2, l2, &m3, &l3), PB_OK, "%s", pb_last_error());
    cheat_m4(&c, m3, l3, &m4, &l4);
    pb_status st = pb_sign_p1_step(p1, m4, l4, &none, &lnone);
    cr_assert_null(none);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    pb_mpc_bytes_free(m4, l4);
    if (keep)
        *keep = p1;
    else
        pb_sign_p1_free(p1);
    return st;
}

Test(mpc_sign, scripted_honest_cosigner_is_accepted)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 1, &s1, &s2);
    cr_assert_eq(sign_against_cheat(s1, s2, 0, NULL), PB_OK, "%s", pb_last_error());
    cr_assert_not(pb_share_p1_is_locked(s1));
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

Test(mpc_sign, cheating_cosigner_locks_the_wallet_and_gets_no_signature)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 1, &s1, &s2);
    pb_sign_p1 *p1;
    cr_assert_eq(sign_against_cheat(s1, s2, 1, &p1), PB_ERR_ABORTED);
    cr_assert(strstr(pb_last_error(), "locked") != NULL, "%s", pb_last_error());
    uint8_t sig[64];
    int recid;
    cr_assert_eq(pb_sign_p1_signature(p1, sig, &recid), PB_ERR_STATE, "a signature was released");
    pb_sign_p1_free(p1);
    cr_assert(pb_share_p1_is_locked(s1));

    /* The lock survives the encoding the caller persists. */
    uint8_t *enc;
    size_t len;
    pb_share_p1 *reloaded;
    cr_assert_eq(pb_share_p1_serialize(s1, &enc, &len), PB_OK);
    cr_assert_eq(pb_share_p1_parse(&reloaded, enc, len), PB_OK);
    cr_assert(pb_share_p1_is_locked(reloaded));

    /* Every later signing is refused, from the live and the reloaded record,
     * even with an honest cosigner. */
    uint8_t digest[32] = {7};
    mpc_result r = mpc_run_sign(s1, s2, digest, NULL, 0, NULL, sig, &recid);
    cr_assert_eq(r.status, PB_ERR_ABORTED);
    r = mpc_run_sign(reloaded, s2, digest, NULL, 0, NULL, sig, &recid);
    cr_assert_eq(r.status, PB_ERR_ABORTED);
    pb_mpc_bytes_free(enc, len);
    pb_share_p1_free(reloaded);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

Test(mpc_sign, garbage_ciphertext_from_cosigner_locks_the_wallet)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 1, &s1, &s2);
    /* A well-formed c3 that encrypts a random value. */
    uint8_t digest[32], *m1, *m2, *m3, *m4, *none;
    size_t l1, l2, l3, l4, lnone;
    random_digest(digest);
    pb_sign_p1 *p1;
    pb_sign_p2 *p2;
    cr_assert_eq(pb_sign_p1_new(&p1, s1, digest, NULL, 0), PB_OK);
    cr_assert_eq(pb_sign_p2_new(&p2, s2), PB_OK);
    cr_assert_eq(pb_sign_p1_start(p1, &m1, &l1), PB_OK);
    cr_assert_eq(pb_sign_p2_step(p2, m1, l1, &none, &lnone), PB_OK);
    cr_assert_eq(pb_sign_p2_approve(p2, &m2, &l2), PB_OK);
    cr_assert_eq(pb_sign_p1_step(p1, m2, l2, &m3, &l3), PB_OK);
    cr_assert_eq(pb_sign_p2_step(p2, m3, l3, &m4, &l4), PB_OK);
    pb_sign_m4 m;
    cr_assert_eq(pb_sign_m4_decode(&m, m4, l4, s2->paillier), PB_OK);
    BIGNUM *x = BN_new();
    cr_assert(BN_rand(x, 300, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY));
    cr_assert_eq(pb_paillier_encrypt(s2->paillier, x, m.c3, NULL), PB_OK);
    uint8_t *bad;
    size_t lbad;
    cr_assert_eq(pb_sign_m4_encode(&m, &bad, &lbad), PB_OK);
    cr_assert_eq(pb_sign_p1_step(p1, bad, lbad, &none, &lnone), PB_ERR_ABORTED);
    cr_assert(pb_share_p1_is_locked(s1));
    BN_free(x);
    pb_sign_m4_clear(&m);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    pb_mpc_bytes_free(m4, l4);
    pb_mpc_bytes_free(bad, lbad);
    pb_sign_p1_free(p1);
    pb_sign_p2_free(p2);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

/* Hook that damages c3 in transit so that it fails the range checks. */
static void c3_out_of_range(void *ctx, int protocol, int msg_no, uint8_t **msg, size_t *len)
{
    (void)ctx;
    if (protocol == 2 && msg_no == 4)
        memset(*msg + 40 + 5, 0xff, *len - 45); /* magnitude all ones: >= N^2 */
}

Test(mpc_sign, malformed_ciphertext_is_refused_without_locking)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 1, &s1, &s2);
    uint8_t digest[32], sig[64];
    int recid;
    random_digest(digest);
    mpc_opts o = {c3_out_of_range, NULL, 0, 0};
    mpc_result r = mpc_run_sign(s1, s2, digest, NULL, 0, &o, sig, &recid);
    cr_assert_eq(r.status, PB_ERR_PARSE, "%s", pb_last_error());
    cr_assert_eq(r.party, 1);
    cr_assert_not(pb_share_p1_is_locked(s1), "a public parse failure locked the wallet");
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

Test(mpc_sign, lock_set_by_another_session_stops_one_in_flight)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 1, &s1, &s2);
    uint8_t digest[32], *m1, *m2, *m3, *m4, *none;
    size_t l1, l2, l3, l4, lnone;
    random_digest(digest);
    pb_sign_p1 *p1;
    pb_sign_p2 *p2;
    cr_assert_eq(pb_sign_p1_new(&p1, s1, digest, NULL, 0), PB_OK);
    cr_assert_eq(pb_sign_p2_new(&p2, s2), PB_OK);
    cr_assert_eq(pb_sign_p1_start(p1, &m1, &l1), PB_OK);
    cr_assert_eq(pb_sign_p2_step(p2, m1, l1, &none, &lnone), PB_OK);
    cr_assert_eq(pb_sign_p2_approve(p2, &m2, &l2), PB_OK);
    cr_assert_eq(pb_sign_p1_step(p1, m2, l2, &m3, &l3), PB_OK);
    cr_assert_eq(pb_sign_p2_step(p2, m3, l3, &m4, &l4), PB_OK);
    /* Meanwhile a cheating cosigner in another session trips the lock. */
    cr_assert_eq(sign_against_cheat(s1, s2, 3, NULL), PB_ERR_ABORTED);
    /* The honest session, already past every check, releases nothing. */
    cr_assert_eq(pb_sign_p1_step(p1, m4, l4, &none, &lnone), PB_ERR_ABORTED);
    uint8_t sig[64];
    cr_assert_eq(pb_sign_p1_signature(p1, sig, NULL), PB_ERR_STATE);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    pb_mpc_bytes_free(m4, l4);
    pb_sign_p1_free(p1);
    pb_sign_p2_free(p2);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

/* --- session rules ------------------------------------------------------------ */

static void flip_m1_digest(void *ctx, int protocol, int msg_no, uint8_t **msg, size_t *len)
{
    (void)ctx;
    (void)len;
    if (protocol == 2 && msg_no == 1)
        (*msg)[40 + 32 + 32] ^= 1; /* first digest byte */
}

Test(mpc_sign, request_changed_in_transit_is_caught_before_decryption)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 1, &s1, &s2);
    uint8_t digest[32], sig[64];
    int recid;
    random_digest(digest);
    mpc_opts o = {flip_m1_digest, NULL, 0, 0};
    /* The runner itself checks that P2 sees P1's digest: capture that. */
    pb_sign_p1 *p1;
    pb_sign_p2 *p2;
    uint8_t *m1, *m2, *m3, *none;
    size_t l1, l2, l3, lnone;
    cr_assert_eq(pb_sign_p1_new(&p1, s1, digest, NULL, 0), PB_OK);
    cr_assert_eq(pb_sign_p2_new(&p2, s2), PB_OK);
    cr_assert_eq(pb_sign_p1_start(p1, &m1, &l1), PB_OK);
    o.hook(NULL, 2, 1, &m1, &l1);
    cr_assert_eq(pb_sign_p2_step(p2, m1, l1, &none, &lnone), PB_OK);
    cr_assert_eq(pb_sign_p2_approve(p2, &m2, &l2), PB_OK);
    cr_assert_eq(pb_sign_p1_step(p1, m2, l2, &m3, &l3), PB_ERR_PROOF, "%s", pb_last_error());
    cr_assert_null(m3);
    cr_assert_not(pb_share_p1_is_locked(s1));
    (void)sig;
    (void)recid;
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_sign_p1_free(p1);
    pb_sign_p2_free(p2);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

Test(mpc_sign, cosigner_answers_only_after_approval_and_only_once)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 1, &s1, &s2);
    uint8_t digest[32], *m1, *m2, *m3, *m4, *out;
    size_t l1, l2, l3, l4, lout;
    random_digest(digest);
    pb_sign_p1 *p1;
    pb_sign_p2 *p2;
    cr_assert_eq(pb_sign_p1_new(&p1, s1, digest, NULL, 0), PB_OK);
    cr_assert_eq(pb_sign_p2_new(&p2, s2), PB_OK);
    cr_assert_eq(pb_sign_p2_approve(p2, &out, &lout), PB_ERR_STATE, "approved nothing");
    pb_sign_p2_free(p2);
    cr_assert_eq(pb_sign_p2_new(&p2, s2), PB_OK);
    cr_assert_eq(pb_sign_p1_start(p1, &m1, &l1), PB_OK);
    cr_assert_eq(pb_sign_p2_step(p2, m1, l1, &out, &lout), PB_OK);
    cr_assert_null(out, "P2 contributed before approval");
    uint8_t sid[32], sid2[32];
    cr_assert_eq(pb_sign_p2_session_id(p2, sid), PB_ERR_STATE);
    cr_assert_eq(pb_sign_p2_approve(p2, &m2, &l2), PB_OK);
    cr_assert_eq(pb_sign_p2_approve(p2, &out, &lout), PB_ERR_STATE, "approved twice");
    pb_sign_p2_free(p2);

    /* Again, cleanly: m3 twice is refused, the first answer stands. */
    cr_assert_eq(pb_sign_p2_new(&p2, s2), PB_OK);
    pb_mpc_bytes_free(m2, l2);
    cr_assert_eq(pb_sign_p2_step(p2, m1, l1, &out, &lout), PB_OK);
    cr_assert_eq(pb_sign_p2_approve(p2, &m2, &l2), PB_OK);
    cr_assert_eq(pb_sign_p1_step(p1, m2, l2, &m3, &l3), PB_OK);
    cr_assert_eq(pb_sign_p1_session_id(p1, sid), PB_OK);
    cr_assert_eq(pb_sign_p2_session_id(p2, sid2), PB_OK);
    cr_assert(memcmp(sid, sid2, 32) == 0);
    cr_assert_eq(pb_sign_p2_step(p2, m3, l3, &m4, &l4), PB_OK);
    cr_assert_eq(pb_sign_p2_step(p2, m3, l3, &out, &lout), PB_ERR_STATE, "answered m3 twice");
    cr_assert_null(out);
    cr_assert_eq(pb_sign_p1_step(p1, m4, l4, &out, &lout), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_sign_p1_step(p1, m4, l4, &out, &lout), PB_ERR_STATE, "accepted m4 twice");
    uint8_t sig[64], pk[33];
    int recid;
    cr_assert_eq(pb_sign_p1_signature(p1, sig, &recid), PB_OK);
    pb_share_p1_public_key(s1, pk);
    mpc_check_signature(pk, digest, sig, recid);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    pb_mpc_bytes_free(m4, l4);
    pb_sign_p1_free(p1);
    pb_sign_p2_free(p2);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

Test(mpc_sign, messages_of_another_session_are_refused)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 1, &s1, &s2);
    uint8_t d[32], *a1, *a2, *a3, *b1, *b2, *b3, *out;
    size_t la1, la2, la3, lb1, lb2, lb3, lout;
    random_digest(d);
    pb_sign_p1 *pa, *pb;
    pb_sign_p2 *qa, *qb;
    cr_assert_eq(pb_sign_p1_new(&pa, s1, d, NULL, 0), PB_OK);
    cr_assert_eq(pb_sign_p1_new(&pb, s1, d, NULL, 0), PB_OK);
    cr_assert_eq(pb_sign_p2_new(&qa, s2), PB_OK);
    cr_assert_eq(pb_sign_p2_new(&qb, s2), PB_OK);
    cr_assert_eq(pb_sign_p1_start(pa, &a1, &la1), PB_OK);
    cr_assert_eq(pb_sign_p1_start(pb, &b1, &lb1), PB_OK);
    cr_assert_eq(pb_sign_p2_step(qa, a1, la1, &out, &lout), PB_OK);
    cr_assert_eq(pb_sign_p2_step(qb, b1, lb1, &out, &lout), PB_OK);
    cr_assert_eq(pb_sign_p2_approve(qa, &a2, &la2), PB_OK);
    cr_assert_eq(pb_sign_p2_approve(qb, &b2, &lb2), PB_OK);
    /* m2 of session b to P1 of session a: its proof is bound to b's sid. */
    pb_sign_p1 *pc;
    uint8_t *c1;
    size_t lc1;
    cr_assert_eq(pb_sign_p1_new(&pc, s1, d, NULL, 0), PB_OK);
    cr_assert_eq(pb_sign_p1_start(pc, &c1, &lc1), PB_OK);
    cr_assert_eq(pb_sign_p1_step(pc, b2, lb2, &out, &lout), PB_ERR_STATE, "%s", pb_last_error());
    cr_assert_eq(pb_sign_p1_step(pa, a2, la2, &a3, &la3), PB_OK);
    cr_assert_eq(pb_sign_p1_step(pb, b2, lb2, &b3, &lb3), PB_OK);
    /* m3 of session a to P2 of session b. */
    cr_assert_eq(pb_sign_p2_step(qb, a3, la3, &out, &lout), PB_ERR_STATE);
    cr_assert(strstr(pb_last_error(), "another session") != NULL, "%s", pb_last_error());
    cr_assert_null(out);
    /* Session a still completes. */
    uint8_t *a4;
    size_t la4;
    cr_assert_eq(pb_sign_p2_step(qa, a3, la3, &a4, &la4), PB_OK);
    cr_assert_eq(pb_sign_p1_step(pa, a4, la4, &out, &lout), PB_OK, "%s", pb_last_error());
    uint8_t *all[] = {a1, a2, a3, a4, b1, b2, b3, c1};
    size_t lens[] = {la1, la2, la3, la4, lb1, lb2, lb3, lc1};
    for (size_t i = 0; i < 8; i++)
        pb_mpc_bytes_free(all[i], lens[i]);
    pb_sign_p1_free(pa);
    pb_sign_p1_free(pb);
    pb_sign_p1_free(pc);
    pb_sign_p2_free(qa);
    pb_sign_p2_free(qb);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

Test(mpc_sign, commitment_that_does_not_open_is_refused)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 1, &s1, &s2);
    uint8_t d[32], *m1, *m2, *m3, *out;
    size_t l1, l2, l3, lout;
    random_digest(d);
    pb_sign_p1 *p1;
    pb_sign_p2 *p2;
    cr_assert_eq(pb_sign_p1_new(&p1, s1, d, NULL, 0), PB_OK);
    cr_assert_eq(pb_sign_p2_new(&p2, s2), PB_OK);
    cr_assert_eq(pb_sign_p1_start(p1, &m1, &l1), PB_OK);
    cr_assert_eq(pb_sign_p2_step(p2, m1, l1, &out, &lout), PB_OK);
    cr_assert_eq(pb_sign_p2_approve(p2, &m2, &l2), PB_OK);
    cr_assert_eq(pb_sign_p1_step(p1, m2, l2, &m3, &l3), PB_OK);
    m3[l3 - 1] ^= 1; /* last byte of the opening */
    cr_assert_eq(pb_sign_p2_step(p2, m3, l3, &out, &lout), PB_ERR_PROOF, "%s", pb_last_error());
    cr_assert(strstr(pb_last_error(), "does not open") != NULL, "%s", pb_last_error());
    cr_assert_null(out);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    pb_sign_p1_free(p1);
    pb_sign_p2_free(p2);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

Test(mpc_sign, share_id_in_the_request_selects_the_record)
{
    pb_share_p1 *a1, *b1;
    pb_share_p2 *a2, *b2;
    mpc_fx_wallet(2048, 0, &a1, &a2);
    mpc_fx_wallet(2048, 1, &b1, &b2);
    uint8_t d[32], *m1, *out, id[32], want[32];
    size_t l1, lout;
    random_digest(d);
    pb_sign_p1 *p1;
    pb_sign_p2 *p2;
    cr_assert_eq(pb_sign_p1_new(&p1, a1, d, NULL, 0), PB_OK);
    cr_assert_eq(pb_sign_p1_start(p1, &m1, &l1), PB_OK);
    cr_assert_eq(pb_sign_message_share_id(m1, l1, id), PB_OK);
    pb_share_p2_id(a2, want);
    cr_assert(memcmp(id, want, 32) == 0);
    /* Another wallet's P2 record refuses before contributing anything. */
    cr_assert_eq(pb_sign_p2_new(&p2, b2), PB_OK);
    cr_assert_eq(pb_sign_p2_step(p2, m1, l1, &out, &lout), PB_ERR_STATE);
    cr_assert(strstr(pb_last_error(), "share generation") != NULL, "%s", pb_last_error());
    pb_mpc_bytes_free(m1, l1);
    pb_sign_p1_free(p1);
    pb_sign_p2_free(p2);
    pb_share_p1_free(a1);
    pb_share_p2_free(a2);
    pb_share_p1_free(b1);
    pb_share_p2_free(b2);
}

Test(mpc_sign, precomputed_randomness_is_used_once)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 1, &s1, &s2);
    /* Two warm signatures of the same digest: c3 differs because each
     * session draws its own r and rho. */
    uint8_t d[32];
    random_digest(d);
    uint8_t c3s[2][64];
    for (int i = 0; i < 2; i++) {
        pb_sign_p1 *p1;
        pb_sign_p2 *p2;
        uint8_t *m1, *m2, *m3, *m4, *out;
        size_t l1, l2, l3, l4, lout;
        cr_assert_eq(pb_sign_p1_new(&p1, s1, d, NULL, 0), PB_OK);
        cr_assert_eq(pb_sign_p2_new(&p2, s2), PB_OK);
        cr_assert_eq(pb_sign_p2_precompute(p2), PB_OK);
        cr_assert_eq(pb_sign_p1_start(p1, &m1, &l1), PB_OK);
        cr_assert_eq(pb_sign_p2_step(p2, m1, l1, &out, &lout), PB_OK);
        cr_assert_eq(pb_sign_p2_approve(p2, &m2, &l2), PB_OK);
        cr_assert_eq(pb_sign_p1_step(p1, m2, l2, &m3, &l3), PB_OK);
        cr_assert_eq(pb_sign_p2_step(p2, m3, l3, &m4, &l4), PB_OK);
        cr_assert_eq(pb_sign_p2_precompute(p2), PB_ERR_STATE, "precompute after use");
        memcpy(c3s[i], m4 + l4 - 64, 64);
        cr_assert_eq(pb_sign_p1_step(p1, m4, l4, &out, &lout), PB_OK, "%s", pb_last_error());
        pb_mpc_bytes_free(m1, l1);
        pb_mpc_bytes_free(m2, l2);
        pb_mpc_bytes_free(m3, l3);
        pb_mpc_bytes_free(m4, l4);
        pb_sign_p1_free(p1);
        pb_sign_p2_free(p2);
    }
    cr_assert(memcmp(c3s[0], c3s[1], 64) != 0);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}
