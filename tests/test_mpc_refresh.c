/* Refresh: same public key, new shares and Paillier key, signatures verify,
 * the lock is cleared; a run stopped after any message leaves the old
 * records signing; mixed generations never sign (and never lock).
 * PB_MPC_REFRESH_RUNS (per test, 4 tests) sets the number of DKG + sign +
 * refresh + sign runs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "mpc/refresh.h"
#include "mpc/share.h"
#include "support/mpc_runner.h"

#ifdef __SANITIZE_ADDRESS__
#define RUNS 2
#else
#define RUNS 10
#endif

static void sign_ok(pb_share_p1 *s1, const pb_share_p2 *s2, const uint32_t *path, size_t n)
{
    uint8_t digest[32], sig[64], pk[33];
    int recid;
    cr_assert_eq(RAND_bytes(digest, 32), 1);
    mpc_result r = mpc_run_sign(s1, s2, digest, path, n, NULL, sig, &recid);
    cr_assert_eq(r.status, PB_OK, "sign: party %d at message %d: %s", r.party, r.msg_no,
                 pb_last_error());
    mpc_derived_pubkey(s1, path, n, pk);
    mpc_check_signature(pk, digest, sig, recid);
}

/* Old and new records: same Q, chain code and xpub; different shares,
 * public shares and modulus; generation + 1; consistent with each other. */
static void check_refreshed(const pb_share_p1 *o1, const pb_share_p2 *o2, const pb_share_p1 *n1,
                            const pb_share_p2 *n2)
{
    char xo[PB_MPC_XPUB_SIZE], xn[PB_MPC_XPUB_SIZE], xn2[PB_MPC_XPUB_SIZE];
    cr_assert_eq(pb_share_p1_xpub(o1, xo), PB_OK);
    cr_assert_eq(pb_share_p1_xpub(n1, xn), PB_OK);
    cr_assert_eq(pb_share_p2_xpub(n2, xn2), PB_OK);
    cr_assert_str_eq(xo, xn, "the public key or chain code changed");
    cr_assert_str_eq(xn, xn2);
    cr_assert_not(pb_scalar_equal(&o1->x1, &n1->x1), "x1 unchanged");
    cr_assert_not(pb_scalar_equal(&o2->x2, &n2->x2), "x2 unchanged");
    cr_assert_not(pb_point_equal(&o1->q1, &n1->q1));
    cr_assert_neq(BN_cmp(pb_paillier_n(o2->paillier), pb_paillier_n(n2->paillier)), 0,
                  "the Paillier key was not replaced");
    cr_assert_eq(pb_share_p1_generation(n1), pb_share_p1_generation(o1) + 1);
    cr_assert_eq(pb_share_p2_generation(n2), pb_share_p2_generation(o2) + 1);
    cr_assert_not(pb_share_p1_is_locked(n1));
    uint8_t i1[32], i2[32], io[32];
    pb_share_p1_id(n1, i1);
    pb_share_p2_id(n2, i2);
    pb_share_p1_id(o1, io);
    cr_assert(memcmp(i1, i2, 32) == 0);
    cr_assert(memcmp(i1, io, 32) != 0);
    /* x1' + x2' = x1 + x2, and c_key' decrypts to x1'. */
    pb_scalar a, b;
    pb_scalar_add(&a, &o1->x1, &o2->x2);
    pb_scalar_add(&b, &n1->x1, &n2->x2);
    cr_assert(pb_scalar_equal(&a, &b));
    BIGNUM *m = BN_new(), *x = BN_new();
    cr_assert_eq(pb_paillier_decrypt(n1->paillier, n2->c_key, m), PB_OK);
    cr_assert_eq(pb_scalar_to_bn(&n1->x1, x), PB_OK);
    cr_assert_eq(BN_cmp(m, x), 0);
    BN_clear_free(m);
    BN_clear_free(x);
}

static void runs(void)
{
    pb_cosigner_params *params = mpc_fx_cosigner(2048);
    pb_cosigner_public *pub = mpc_fx_cosigner_public(2048);
    int n = mpc_env_int("PB_MPC_REFRESH_RUNS", RUNS);
    for (int i = 0; i < n; i++) {
        pb_share_p1 *s1, *n1;
        pb_share_p2 *s2, *n2;
        mpc_result r = mpc_run_dkg(params, pub, 2048, NULL, &s1, &s2);
        cr_assert_eq(r.status, PB_OK, "dkg: %s", pb_last_error());
        sign_ok(s1, s2, NULL, 0);
        r = mpc_run_refresh(s1, s2, params, 2048, NULL, &n1, &n2);
        cr_assert_eq(r.status, PB_OK, "refresh: party %d at message %d: %s", r.party, r.msg_no,
                     pb_last_error());
        check_refreshed(s1, s2, n1, n2);
        uint32_t path[5] = {44, 60, 0, 0, (uint32_t)i};
        sign_ok(n1, n2, NULL, 0);
        sign_ok(n1, n2, path, 5);
        /* Until both sides dropped them, the old records still sign. */
        sign_ok(s1, s2, path, 5);
        pb_share_p1_free(s1);
        pb_share_p2_free(s2);
        pb_share_p1_free(n1);
        pb_share_p2_free(n2);
    }
    pb_cosigner_params_free(params);
    pb_cosigner_public_free(pub);
}

Test(mpc_refresh, runs_a) { runs(); }
Test(mpc_refresh, runs_b) { runs(); }
Test(mpc_refresh, runs_c) { runs(); }
Test(mpc_refresh, runs_d) { runs(); }

Test(mpc_refresh, abandoned_after_any_message_leaves_the_old_records_signing)
{
    pb_cosigner_params *params = mpc_fx_cosigner(2048);
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 2, &s1, &s2);
    uint8_t *e1, *e2;
    size_t l1, l2;
    cr_assert_eq(pb_share_p1_serialize(s1, &e1, &l1), PB_OK);
    cr_assert_eq(pb_share_p2_serialize(s2, &e2, &l2), PB_OK);
    for (int stop = 0; stop <= 3; stop++) {
        if (stop == 0) {
            /* Nothing delivered: P1 only started (and made its new key). */
            pb_refresh_p1 *p1;
            uint8_t *m1;
            size_t lm1;
            cr_assert_eq(pb_refresh_p1_new(&p1, s1, NULL, 2048), PB_OK);
            cr_assert_eq(pb_refresh_p1_start(p1, &m1, &lm1), PB_OK);
            pb_mpc_bytes_free(m1, lm1);
            pb_refresh_p1_free(p1);
        } else {
            /* Messages 1..stop delivered, message stop + 1 lost. */
            mpc_opts o = {NULL, NULL, 0, stop};
            pb_share_p1 *n1;
            pb_share_p2 *n2;
            mpc_result r = mpc_run_refresh(s1, s2, params, 2048, &o, &n1, &n2);
            cr_assert_eq(r.status, PB_ERR_STATE, "stop after %d: %s", stop, pb_last_error());
            cr_assert_eq(r.msg_no, stop + 1);
            cr_assert_null(n1);
            cr_assert_null(n2);
        }
        /* The old records are untouched and sign. */
        uint8_t *c1, *c2;
        size_t k1, k2;
        cr_assert_eq(pb_share_p1_serialize(s1, &c1, &k1), PB_OK);
        cr_assert_eq(pb_share_p2_serialize(s2, &c2, &k2), PB_OK);
        cr_assert(k1 == l1 && memcmp(c1, e1, l1) == 0, "P1's old record changed");
        cr_assert(k2 == l2 && memcmp(c2, e2, l2) == 0, "P2's old record changed");
        pb_mpc_bytes_free(c1, k1);
        pb_mpc_bytes_free(c2, k2);
        sign_ok(s1, s2, NULL, 0);
    }
    pb_mpc_bytes_free(e1, l1);
    pb_mpc_bytes_free(e2, l2);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
    pb_cosigner_params_free(params);
}

/* The last message (P2's acknowledgement) is lost: P2 holds old and new,
 * P1 only the old. The old pair signs; P1's old record with P2's new one is
 * refused by P2 before it contributes, so no lock can follow. */
Test(mpc_refresh, lost_acknowledgement_leaves_a_signing_pair_and_no_lock)
{
    pb_cosigner_params *params = mpc_fx_cosigner(2048);
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 2, &s1, &s2);
    /* Drive the run by hand to keep P2's new record. */
    pb_refresh_p1 *p1;
    pb_refresh_p2 *p2;
    uint8_t *m1, *m2, *m3, *m4;
    size_t l1, l2, l3, l4;
    cr_assert_eq(pb_refresh_p1_new(&p1, s1, NULL, 2048), PB_OK);
    cr_assert_eq(pb_refresh_p2_new(&p2, s2, params, 2048), PB_OK);
    cr_assert_eq(pb_refresh_p1_start(p1, &m1, &l1), PB_OK);
    cr_assert_eq(pb_refresh_p2_step(p2, m1, l1, &m2, &l2), PB_OK);
    cr_assert_eq(pb_refresh_p1_step(p1, m2, l2, &m3, &l3), PB_OK);
    cr_assert_eq(pb_refresh_p2_step(p2, m3, l3, &m4, &l4), PB_OK, "%s", pb_last_error());
    pb_share_p2 *n2;
    pb_share_p1 *n1;
    cr_assert_eq(pb_refresh_p2_take_share(p2, &n2), PB_OK);
    pb_mpc_bytes_free(m4, l4); /* lost on the way to P1 */
    cr_assert_eq(pb_refresh_p1_take_share(p1, &n1), PB_ERR_STATE, "P1 took an unconfirmed share");

    sign_ok(s1, s2, NULL, 0);
    uint8_t d[32] = {9}, sig[64];
    int recid;
    mpc_result r = mpc_run_sign(s1, n2, d, NULL, 0, NULL, sig, &recid);
    cr_assert_eq(r.status, PB_ERR_STATE, "%s", pb_last_error());
    cr_assert_eq(r.party, 2);
    cr_assert_not(pb_share_p1_is_locked(s1));
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    pb_refresh_p1_free(p1);
    pb_refresh_p2_free(p2);
    pb_share_p2_free(n2);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
    pb_cosigner_params_free(params);
}

Test(mpc_refresh, mixed_generations_are_refused_without_locking)
{
    pb_cosigner_params *params = mpc_fx_cosigner(2048);
    pb_share_p1 *s1, *n1;
    pb_share_p2 *s2, *n2;
    mpc_fx_wallet(2048, 2, &s1, &s2);
    mpc_result r = mpc_run_refresh(s1, s2, params, 2048, NULL, &n1, &n2);
    cr_assert_eq(r.status, PB_OK, "%s", pb_last_error());
    uint8_t d[32] = {5}, sig[64];
    int recid;
    r = mpc_run_sign(n1, s2, d, NULL, 0, NULL, sig, &recid);
    cr_assert_eq(r.status, PB_ERR_STATE);
    cr_assert_eq(r.party, 2);
    r = mpc_run_sign(s1, n2, d, NULL, 0, NULL, sig, &recid);
    cr_assert_eq(r.status, PB_ERR_STATE);
    cr_assert_not(pb_share_p1_is_locked(s1));
    cr_assert_not(pb_share_p1_is_locked(n1));
    /* A refresh must start from matching records too. */
    pb_share_p1 *x1;
    pb_share_p2 *x2;
    r = mpc_run_refresh(n1, s2, params, 2048, NULL, &x1, &x2);
    cr_assert_eq(r.status, PB_ERR_STATE);
    cr_assert_eq(r.party, 2);
    /* A second refresh chains: generation 2, still the same key. */
    r = mpc_run_refresh(n1, n2, params, 2048, NULL, &x1, &x2);
    cr_assert_eq(r.status, PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_share_p1_generation(x1), 2);
    check_refreshed(n1, n2, x1, x2);
    sign_ok(x1, x2, NULL, 0);
    pb_share_p1_free(x1);
    pb_share_p2_free(x2);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
    pb_share_p1_free(n1);
    pb_share_p2_free(n2);
    pb_cosigner_params_free(params);
}

Test(mpc_refresh, refresh_clears_the_lock)
{
    pb_cosigner_params *params = mpc_fx_cosigner(2048);
    pb_share_p1 *s1, *n1;
    pb_share_p2 *s2, *n2;
    mpc_fx_wallet(2048, 2, &s1, &s2);
    atomic_store(&s1->locked, 1); /* as after a failed signature */
    uint8_t d[32] = {1}, sig[64];
    int recid;
    mpc_result r = mpc_run_sign(s1, s2, d, NULL, 0, NULL, sig, &recid);
    cr_assert_eq(r.status, PB_ERR_ABORTED);
    r = mpc_run_refresh(s1, s2, params, 2048, NULL, &n1, &n2);
    cr_assert_eq(r.status, PB_OK, "%s", pb_last_error());
    cr_assert(pb_share_p1_is_locked(s1), "the old record must stay locked");
    cr_assert_not(pb_share_p1_is_locked(n1));
    sign_ok(n1, n2, NULL, 0);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
    pb_share_p1_free(n1);
    pb_share_p2_free(n2);
    pb_cosigner_params_free(params);
}

static void flip_byte(void *ctx, int protocol, int msg_no, uint8_t **msg, size_t *len)
{
    const int *which = ctx;
    if (protocol == 3 && msg_no == which[0] && (size_t)which[1] < *len)
        (*msg)[which[1]] ^= 0x01;
}

Test(mpc_refresh, tampered_messages_fail_with_specific_errors)
{
    pb_cosigner_params *params = mpc_fx_cosigner(2048);
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_fx_wallet(2048, 2, &s1, &s2);
    struct {
        int msg_no, offset, party;
        pb_status want;
    } cases[] = {
        {1, 40 + 40, 2, PB_ERR_STATE},       /* old share id */
        {1, 40 + 64 + 1, 2, PB_ERR_PROOF},   /* commitment: d1 does not open */
        {2, 20, 1, PB_ERR_STATE},            /* sid */
        {2, 40 + 32, 2, PB_ERR_PROOF},       /* d2 changed: Pi^log* is for another Q1' */
        {3, 40 + 5, 2, PB_ERR_PROOF},        /* d1: commitment does not open */
        {3, 40 + 64 + 8, 2, PB_ERR_PROOF},   /* N: the proofs fail (or, when the new
                                                N has a small factor, a ciphertext in
                                                them is no longer a unit: PARSE) */
        {4, 40 + 1, 1, PB_ERR_INTEGRITY},    /* new share id */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int which[2] = {cases[i].msg_no, cases[i].offset};
        mpc_opts o = {flip_byte, which, 0, 0};
        pb_share_p1 *n1;
        pb_share_p2 *n2;
        mpc_result r = mpc_run_refresh(s1, s2, params, 2048, &o, &n1, &n2);
        if (cases[i].msg_no == 3 && cases[i].offset == 40 + 64 + 8 && r.status == PB_ERR_PARSE)
            r.status = PB_ERR_PROOF;
        cr_assert_eq(r.status, cases[i].want, "case %zu: got %d (%s)", i, r.status,
                     pb_last_error());
        cr_assert_eq(r.party, cases[i].party, "case %zu: party %d", i, r.party);
        cr_assert_null(n1);
        cr_assert_null(n2);
    }
    sign_ok(s1, s2, NULL, 0);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
    pb_cosigner_params_free(params);
}

Test(mpc_refresh, cosigner_parameters_can_be_replaced)
{
    pb_cosigner_params *old_params = mpc_fx_cosigner(2048);
    pb_cosigner_params *new_params = mpc_fx_cosigner_slot(2048, 1);
    pb_cosigner_public *new_pub = mpc_fx_cosigner_public_slot(2048, 1);
    pb_share_p1 *s1, *n1;
    pb_share_p2 *s2, *n2;
    mpc_fx_wallet(2048, 2, &s1, &s2);

    /* P2 moved to new parameters but P1 proves against the recorded ones:
     * P2's check of Pi^fac / Pi^log* fails. */
    mpc_result r = mpc_run_refresh(s1, s2, new_params, 2048, NULL, &n1, &n2);
    /* A value committed mod the other N^ may not even be below this one. */
    cr_assert(r.status == PB_ERR_PROOF || r.status == PB_ERR_PARSE, "%d: %s", r.status,
              pb_last_error());
    cr_assert_eq(r.party, 2);

    /* With the new (verified) parameters handed to P1, the refresh works and
     * the new record keeps them for the next refresh. */
    pb_refresh_p1 *p1;
    pb_refresh_p2 *p2;
    uint8_t *m1, *m2, *m3, *m4, *none;
    size_t l1, l2, l3, l4, lnone;
    cr_assert_eq(pb_refresh_p1_new(&p1, s1, new_pub, 2048), PB_OK);
    cr_assert_eq(pb_refresh_p2_new(&p2, s2, new_params, 2048), PB_OK);
    cr_assert_eq(pb_refresh_p1_start(p1, &m1, &l1), PB_OK);
    cr_assert_eq(pb_refresh_p2_step(p2, m1, l1, &m2, &l2), PB_OK);
    cr_assert_eq(pb_refresh_p1_step(p1, m2, l2, &m3, &l3), PB_OK);
    cr_assert_eq(pb_refresh_p2_step(p2, m3, l3, &m4, &l4), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_refresh_p1_step(p1, m4, l4, &none, &lnone), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_refresh_p1_take_share(p1, &n1), PB_OK);
    cr_assert_eq(pb_refresh_p2_take_share(p2, &n2), PB_OK);
    sign_ok(n1, n2, NULL, 0);
    pb_share_p1 *x1;
    pb_share_p2 *x2;
    r = mpc_run_refresh(n1, n2, new_params, 2048, NULL, &x1, &x2);
    cr_assert_eq(r.status, PB_OK, "%s", pb_last_error());
    pb_share_p1_free(x1);
    pb_share_p2_free(x2);
    r = mpc_run_refresh(n1, n2, old_params, 2048, NULL, &x1, &x2);
    cr_assert(r.status == PB_ERR_PROOF || r.status == PB_ERR_PARSE);
    cr_assert_eq(r.party, 2);

    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    pb_mpc_bytes_free(m4, l4);
    pb_refresh_p1_free(p1);
    pb_refresh_p2_free(p2);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
    pb_share_p1_free(n1);
    pb_share_p2_free(n2);
    pb_cosigner_params_free(old_params);
    pb_cosigner_params_free(new_params);
    pb_cosigner_public_free(new_pub);
}
