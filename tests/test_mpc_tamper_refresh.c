/* Tampering with every refresh message in transit (2048-bit Paillier): each
 * byte flipped, truncated, extended. The honest receiver must refuse with
 * the status the field calls for and an error naming the failed check,
 * nothing may crash, P1 never ends up with a new share, and the old records
 * are left as they were.
 *
 * Each alteration is delivered in a forked child from a snapshot taken
 * just before the message (support/mpc_tamper.h), and the run continues
 * honestly from there, so a tampered field that the receiver cannot see
 * (P1's nonce and commitment, P2's d2) is caught where the protocol
 * catches it.
 * Leaks on these error paths are test_mpc_tamper_session's job (forked
 * children cannot be leak-checked).
 *
 * Message 3 (about 74 KB, nearly all of it Pi^mod) is sampled: every byte
 * of the header, of P1's own fields and of each integer's sign and length
 * in the key bundle (in PB_TAMPER_ROUNDS of the PB_ZK_MOD_ROUNDS identical
 * Pi^mod rounds: by default 80 of 128, the first, the last and others
 * spread between, so the number of flips stays what it was at 80 rounds)
 * is flipped, plus PB_TAMPER_SAMPLES positions spread over the
 * integers' magnitudes -- more than 2,000 positions in all by default. A
 * flip in Pi^mod round i costs P2 i rounds of verification, so with 128
 * rounds the average flip costs about 1.6 times what it did with 80 (the
 * sweep took about a minute on two idle cores then; not re-measured idle).
 * The ASan build samples less (its job is memory errors, and it is 2-3
 * times slower). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "support/mpc_runner.h"
#include "support/mpc_tamper.h"

#ifdef __SANITIZE_ADDRESS__
#define SAMPLES 60
#define ROUNDS 3
#else
#define SAMPLES 900
#define ROUNDS 80
#endif

typedef struct fx {
    pb_cosigner_params *params;
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    uint8_t id1[PB_MPC_SHARE_ID_BYTES], id2[PB_MPC_SHARE_ID_BYTES];
    tp_run *run;
} fx;

/* A refresh of a cached wallet with message k in flight. */
static fx at(int k)
{
    fx f;
    f.params = mpc_fx_cosigner(2048);
    mpc_fx_wallet(2048, 0, &f.s1, &f.s2);
    pb_share_p1_id(f.s1, f.id1);
    pb_share_p2_id(f.s2, f.id2);
    f.run = tp_refresh(f.s1, f.s2, f.params, 2048);
    tp_advance(f.run, k);
    return f;
}

static void done(fx *f)
{
    tp_free(f->run);
    /* The records being refreshed are only ever read. */
    uint8_t id1[PB_MPC_SHARE_ID_BYTES], id2[PB_MPC_SHARE_ID_BYTES];
    pb_share_p1_id(f->s1, id1);
    pb_share_p2_id(f->s2, id2);
    cr_assert(memcmp(id1, f->id1, sizeof id1) == 0 && memcmp(id2, f->id2, sizeof id2) == 0);
    cr_assert_not(pb_share_p1_is_locked(f->s1));
    pb_share_p1_free(f->s1);
    pb_share_p2_free(f->s2);
    pb_cosigner_params_free(f->params);
}

static void flip_all(int k)
{
    fx f = at(k);
    size_t len;
    (void)tp_in_flight(f.run, &len);
    size_t n = tp_sweep_flips(f.run, SIZE_MAX, PB_ZK_MOD_ROUNDS, 0x4ef0 + (uint64_t)k);
    cr_assert_eq(n, len, "every byte of message %d flipped", k);
    done(&f);
}

/* n1 and the commitment are caught only later (sid at P1, opening at P2),
 * and so is d2 (P2 finds that c_key' does not encrypt the share its own d
 * gives). */
Test(mpc_tamper_refresh, every_byte_of_message_1_flipped_is_refused) { flip_all(1); }
Test(mpc_tamper_refresh, every_byte_of_message_2_flipped_is_refused) { flip_all(2); }
Test(mpc_tamper_refresh, every_byte_of_message_4_flipped_is_refused) { flip_all(4); }

Test(mpc_tamper_refresh, message_3_flipped_in_every_field_is_refused)
{
    fx f = at(3);
    size_t samples = (size_t)mpc_env_int("PB_TAMPER_SAMPLES", SAMPLES);
    int rounds = mpc_env_int("PB_TAMPER_ROUNDS", ROUNDS);
    size_t n = tp_sweep_flips(f.run, samples, rounds, 0x4ef3);
    cr_assert_geq(n, 104 + 80 + samples, "too few flips (%zu)", n);
#ifndef __SANITIZE_ADDRESS__
    if (samples >= SAMPLES && rounds >= ROUNDS)
        cr_assert_geq(n, 2000, "the full sweep flips only %zu positions", n);
#endif
    done(&f);
}

Test(mpc_tamper_refresh, every_message_truncated_or_extended_is_refused)
{
    fx f = at(1);
    for (int k = 1; k <= 4; k++) {
        tp_advance(f.run, k);
        cr_assert_eq(tp_sweep_cuts(f.run), 13);
    }
    done(&f);
}
