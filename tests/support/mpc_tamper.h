/* mpc_tamper.h - a man in the middle for the adversarial suites: runs both
 * parties of a DKG, sign or refresh up to a chosen message, then delivers
 * altered copies of that message, each in a forked child process, and
 * reports how the run ended.
 *
 * Forking is the snapshot: the expensive part of a run (Paillier key
 * generation, the key-bundle proofs) happens once in the parent, and each
 * child re-runs only from the altered message onward, honestly, to the end
 * of the protocol. A child never touches Criterion; it sends a tp_outcome
 * back over a pipe, checks its own heap for leaks under LeakSanitizer, and
 * the parent asserts. A crash, a hang or a leak in a child is an outcome the
 * parent sees and fails on.
 *
 * Also: a map of each message's fields (from docs/protocol.md section 11)
 * with the statuses a receiver may answer an altered byte in that field
 * with, so a suite can demand a specific rejection for every position.
 */
#ifndef PB_TEST_MPC_TAMPER_H
#define PB_TEST_MPC_TAMPER_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/zk_mod.h"
#include "planbok/mpc.h"

#define TP_ERR_LEN 256

/* How one run ended after the altered delivery. */
typedef struct tp_outcome {
    int status;     /* first failing step's pb_status; PB_OK if the run completed */
    int party;      /* 1 or 2: the party whose step failed (0: none) */
    int msg_no;     /* the message number that party was handling */
    int out_p1;     /* P1 got its result (share, or a released signature) */
    int out_p2;     /* P2 got its result (share) */
    int sig_valid;  /* the released signature verifies under the derived key */
    int locked;     /* P1's share is locked afterwards */
    int crashed;    /* the child died by a signal, hung, or exited abnormally */
    int exit_info;  /* the child's wait status, when crashed */
    char err[TP_ERR_LEN]; /* pb_last_error() of the failing step */
} tp_outcome;

typedef struct tp_run tp_run;

/* New runs, with the first message produced and in flight. The objects
 * passed in must outlive the run. */
tp_run *tp_dkg(const pb_cosigner_params *params, const pb_cosigner_public *pub, int bits);
tp_run *tp_sign(pb_share_p1 *s1, const pb_share_p2 *s2, const uint8_t digest[PB_MPC_DIGEST_BYTES],
                const uint32_t *path, size_t path_len);
/* A sign run on a private copy of s1 (re-parsed from its encoding, freed
 * with the run), so that a lock set by the run stays with it. */
tp_run *tp_sign_fresh(const pb_share_p1 *s1, const pb_share_p2 *s2,
                      const uint8_t digest[PB_MPC_DIGEST_BYTES], const uint32_t *path,
                      size_t path_len);
tp_run *tp_refresh(const pb_share_p1 *s1, const pb_share_p2 *s2,
                   const pb_cosigner_params *params, int bits);
void tp_free(tp_run *r);

/* Delivers honest messages until message k (1..4) is in flight; k = 5 runs
 * to the end. Asserts that every step succeeds. */
void tp_advance(tp_run *r, int k);
/* The message in flight and its number (5 when the run is complete). */
const uint8_t *tp_in_flight(const tp_run *r, size_t *len);
int tp_next(const tp_run *r);
/* 1 dkg, 2 sign, 3 refresh. */
int tp_protocol(const tp_run *r);
/* The party that receives message msg_no (odd numbers go to P2). */
int tp_receiver(int msg_no);
/* The honest message k as it was produced by this run (NULL if not yet). */
const uint8_t *tp_message(const tp_run *r, int k, size_t *len);

/* Hands `msg` to whichever party receives message number `msg_no` in this
 * run, without touching the run's bookkeeping (for replays, duplicates and
 * out-of-order deliveries). For sign message 1 this is P2's step only. The
 * reply, if any, is returned (free with pb_mpc_bytes_free). */
pb_status tp_receive(tp_run *r, int msg_no, const uint8_t *msg, size_t len, uint8_t **reply,
                     size_t *reply_len);

/* Sign runs: P2's approval of the request it received (the step after
 * message 1), without touching the run's bookkeeping. */
pb_status tp_approve(tp_run *r, uint8_t **out, size_t *out_len);

/* Delivers msg in place of the message in flight and continues honestly
 * to the end, in this process. The run is spent afterwards (free it). */
void tp_finish(tp_run *r, const uint8_t *msg, size_t len, tp_outcome *out);

typedef enum tp_kind {
    TP_FLIP,     /* byte at pos ^= mask */
    TP_TRUNCATE, /* keep the first n bytes */
    TP_EXTEND,   /* append n pseudo-random bytes */
    TP_REPLACE   /* deliver bytes[0..n) instead */
} tp_kind;

typedef struct tp_variant {
    tp_kind kind;
    size_t pos;
    uint8_t mask;
    size_t n;
    const uint8_t *bytes;
} tp_variant;

/* Builds the altered message (malloc'd). */
uint8_t *tp_apply(const tp_variant *v, const uint8_t *msg, size_t len, size_t *out_len);

/* Tries each variant on the message in flight, each in its own forked child
 * (up to PB_TAMPER_JOBS, default 2, at once); r is left as it was. */
void tp_try(tp_run *r, const tp_variant *v, size_t n, tp_outcome *out);

/* --- field maps -------------------------------------------------------------- */

#define TP_ST(s) (1u << (s))

typedef struct tp_field {
    size_t off, len;
    char name[48];
    unsigned allowed;   /* TP_ST() of every status an alteration here may cause */
    char needle[96];    /* pb_last_error() must contain one of these '|'-separated words */
    int round;          /* 1 + the Pi^mod round the field belongs to, else 0 */
} tp_field;

/* The fields of message msg_no of `protocol` (1 dkg, 2 sign, 3 refresh),
 * walked over the actual bytes (the key bundle has variable-length
 * integers). Returns the count; asserts the fields tile the message. */
size_t tp_layout(int protocol, int msg_no, const uint8_t *msg, size_t len, tp_field *f,
                 size_t max);
const tp_field *tp_field_at(const tp_field *f, size_t n, size_t pos);
/* 1 if `err` contains one of the '|'-separated words of `needle` (NULL: any). */
int tp_err_matches(const char *err, const char *needle);

/* Deterministic generator for sampled positions and masks. */
uint64_t tp_rand(uint64_t *state);

/* The most fields any message has (the key bundle: 7 per Pi^mod round,
 * about 900 at 128 rounds, and some 60 more). */
#define TP_MAX_FIELDS 1600

/* Byte flips from a field map: every byte of every field of up to 64 bytes
 * (header, points, scalars, nonces, ids, every sign byte and length
 * prefix) -- except that of the PB_ZK_MOD_ROUNDS identical Pi^mod rounds only `rounds`
 * get this treatment (the first, the last, and others spread between) --
 * and `samples` positions spread over the bytes of all larger fields (one
 * in each of `samples` equal strata; SIZE_MAX: every byte). Masks alternate
 * single bits and random bytes, from `seed`. Returns the count (asserts it
 * fits in max). */
size_t tp_flip_plan(const tp_field *f, size_t nf, size_t samples, int rounds, uint64_t seed,
                    tp_variant *v, size_t max);

/* Asserts, for outcomes of flips of message msg_no: no crash, no leak, the
 * run failed with a status allowed for the flipped field and an error
 * naming the check, and P1 got nothing. For sign: no signature released;
 * the share is locked exactly when the status is PB_ERR_ABORTED.
 * PB_TAMPER_VERBOSE=1 prints what each field's flips ran into. */
void tp_check_flips(int protocol, int msg_no, const tp_field *f, size_t nf,
                    const tp_variant *v, const tp_outcome *o, size_t n);

/* Flips the message in flight (tp_flip_plan with `samples`) and checks
 * every outcome (tp_check_flips). Returns the number of flips. */
size_t tp_sweep_flips(tp_run *r, size_t samples, int rounds, uint64_t seed);

/* Truncates the message in flight at 0, 1, 39, 40, 41 bytes, its middle
 * and its last 33, 2 and 1 bytes, and extends it by 1, 2 and 4096 bytes and
 * past PB_MPC_MESSAGE_MAX: each must be refused as malformed (PB_ERR_PARSE)
 * by the receiver, naming the problem. Returns the number of variants. */
size_t tp_sweep_cuts(tp_run *r);

/* In this process, for message k of runs made by make(ctx, k) (a fresh run
 * with message k in flight, each time): one flip in the largest field of
 * each distinct check of the field map, one in the length prefix of each
 * such check's integers, and a cut by one byte -- each checked like the
 * sweeps. Returns the number of alterations. */
size_t tp_sweep_stages(tp_run *(*make)(void *ctx, int k), void *ctx, int k);

/* Asserts a single outcome failed at the receiver of message msg_no with
 * `status`, with an error containing one of needle's words; nothing
 * released, no lock unless status is PB_ERR_ABORTED. */
void tp_check_rejected(const tp_outcome *o, int msg_no, pb_status status, const char *needle,
                       const char *what);

#endif
