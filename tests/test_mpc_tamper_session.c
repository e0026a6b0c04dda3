/* Session rules and error paths, in this process (the sweeps in
 * test_mpc_tamper*.c deliver in forked children, which LeakSanitizer cannot
 * judge):
 * - one alteration per check of every message of DKG, sign and refresh, so
 *   that the ASan build sees every receiver's error paths free what the
 *   step allocated; each on a fresh run, checked against the same field
 *   rules as the sweeps;
 * - every message delivered twice: a session answers at most once, the
 *   duplicate is refused without an answer (no second c3, no second share
 *   id) and kills the receiving session. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "support/mpc_runner.h"
#include "support/mpc_tamper.h"

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
    pb_share_p1_free(f->s1);
    pb_share_p2_free(f->s2);
    pb_cosigner_params_free(f->params);
    pb_cosigner_public_free(f->pub);
}

static tp_run *make_dkg(void *ctx, int k)
{
    fx *f = ctx;
    tp_run *r = tp_dkg(f->params, f->pub, 2048);
    tp_advance(r, k);
    return r;
}

static tp_run *make_sign(void *ctx, int k)
{
    fx *f = ctx;
    static const uint8_t digest[32] = {0x5a, 0x11, 0x9e};
    static const uint32_t path[2] = {44, 60};
    tp_run *r = tp_sign_fresh(f->s1, f->s2, digest, path, 2);
    tp_advance(r, k);
    return r;
}

static tp_run *make_refresh(void *ctx, int k)
{
    fx *f = ctx;
    tp_run *r = tp_refresh(f->s1, f->s2, f->params, 2048);
    tp_advance(r, k);
    return r;
}

static void each_message(tp_run *(*make)(void *, int))
{
    fx f = open_fx();
    for (int k = 1; k <= 4; k++)
        cr_assert_geq(tp_sweep_stages(make, &f, k), 3, "message %d", k);
    close_fx(&f);
}

Test(mpc_tamper_session, dkg_each_check_fails_cleanly) { each_message(make_dkg); }
Test(mpc_tamper_session, sign_each_check_fails_cleanly) { each_message(make_sign); }
Test(mpc_tamper_session, refresh_each_check_fails_cleanly)
{
    each_message(make_refresh);
}

/* Message k delivered, then delivered again to the same party. */
static void twice(tp_run *(*make)(void *, int), int protocol)
{
    fx f = open_fx();
    for (int k = 1; k <= 4; k++) {
        tp_run *r = make(&f, k);
        size_t len;
        const uint8_t *m = tp_in_flight(r, &len);
        uint8_t *reply, *again;
        size_t reply_len, again_len;
        cr_assert_eq(tp_receive(r, k, m, len, &reply, &reply_len), PB_OK, "%s",
                     pb_last_error());
        pb_status st = tp_receive(r, k, m, len, &again, &again_len);
        cr_assert_eq(st, PB_ERR_STATE, "protocol %d message %d delivered twice: %s", protocol, k,
                     pb_last_error());
        cr_assert_null(again, "protocol %d message %d answered twice", protocol, k);
        cr_assert_eq(again_len, 0);
        /* The receiver is dead now: its next message is refused too. */
        if (k <= 2) {
            uint8_t *next = NULL, *dead = NULL;
            size_t next_len = 0, dead_len = 0;
            if (protocol == 2 && k == 1) {
                cr_assert_eq(tp_approve(r, &dead, &dead_len), PB_ERR_STATE);
            } else {
                /* The peer answers; that answer reaches the dead session. */
                cr_assert_eq(tp_receive(r, k + 1, reply, reply_len, &next, &next_len), PB_OK,
                             "%s", pb_last_error());
                cr_assert_eq(tp_receive(r, k + 2, next, next_len, &dead, &dead_len),
                             PB_ERR_STATE);
                cr_assert(strstr(pb_last_error(), "aborted") != NULL, "%s", pb_last_error());
            }
            cr_assert_null(dead);
            pb_mpc_bytes_free(next, next_len);
        }
        pb_mpc_bytes_free(reply, reply_len);
        tp_free(r);
    }
    close_fx(&f);
}

Test(mpc_tamper_session, dkg_messages_delivered_twice_are_answered_once)
{
    twice(make_dkg, 1);
}

/* In particular P2 never computes a second c3 for one k2. */
Test(mpc_tamper_session, sign_messages_delivered_twice_are_answered_once)
{
    twice(make_sign, 2);
}

Test(mpc_tamper_session, refresh_messages_delivered_twice_are_answered_once)
{
    twice(make_refresh, 3);
}
