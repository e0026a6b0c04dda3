/* Tampering with every DKG message in transit (2048-bit Paillier): each
 * byte flipped, truncated, extended. The honest receiver must refuse with
 * the status the field calls for and an error naming the failed check,
 * nothing may crash, and P1 never ends up with a share.
 *
 * Each alteration is delivered in a forked child from a snapshot taken
 * just before the message (support/mpc_tamper.h), and the run continues
 * honestly from there, so a tampered field that the receiver cannot see
 * (P1's nonce, its commitment) is caught where the protocol catches it.
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

#include "support/mpc_runner.h"
#include "support/mpc_tamper.h"

#ifdef __SANITIZE_ADDRESS__
#define SAMPLES 60
#define ROUNDS 3
#else
#define SAMPLES 800
#define ROUNDS 80
#endif

typedef struct fx {
    pb_cosigner_params *params;
    pb_cosigner_public *pub;
    tp_run *run;
} fx;

/* A DKG with message k in flight. */
static fx at(int k)
{
    fx f;
    f.params = mpc_fx_cosigner(2048);
    f.pub = mpc_fx_cosigner_public(2048);
    f.run = tp_dkg(f.params, f.pub, 2048);
    tp_advance(f.run, k);
    return f;
}

static void done(fx *f)
{
    tp_free(f->run);
    pb_cosigner_params_free(f->params);
    pb_cosigner_public_free(f->pub);
}

static void flip_all(int k)
{
    fx f = at(k);
    size_t len;
    (void)tp_in_flight(f.run, &len);
    size_t n = tp_sweep_flips(f.run, SIZE_MAX, PB_ZK_MOD_ROUNDS, 0xd1c0 + (uint64_t)k);
    cr_assert_eq(n, len, "every byte of message %d flipped", k);
    done(&f);
}

/* n1 and the commitment are caught only later (sid at P1, opening at P2). */
Test(mpc_tamper_dkg, every_byte_of_message_1_flipped_is_refused) { flip_all(1); }
Test(mpc_tamper_dkg, every_byte_of_message_2_flipped_is_refused) { flip_all(2); }
Test(mpc_tamper_dkg, every_byte_of_message_4_flipped_is_refused) { flip_all(4); }

Test(mpc_tamper_dkg, message_3_flipped_in_every_field_is_refused)
{
    fx f = at(3);
    size_t samples = (size_t)mpc_env_int("PB_TAMPER_SAMPLES", SAMPLES);
    int rounds = mpc_env_int("PB_TAMPER_ROUNDS", ROUNDS);
    size_t n = tp_sweep_flips(f.run, samples, rounds, 0xd1c3);
    cr_assert_geq(n, 202 + 80 + samples, "too few flips (%zu)", n);
#ifndef __SANITIZE_ADDRESS__
    if (samples >= SAMPLES && rounds >= ROUNDS)
        cr_assert_geq(n, 2000, "the full sweep flips only %zu positions", n);
#endif
    done(&f);
}

Test(mpc_tamper_dkg, every_message_truncated_or_extended_is_refused)
{
    fx f = at(1);
    for (int k = 1; k <= 4; k++) {
        tp_advance(f.run, k);
        cr_assert_eq(tp_sweep_cuts(f.run), 13);
    }
    done(&f);
}
