/* mpc_runner.h - both parties of the two-party protocols in one process, for
 * the Criterion suites (and the adversarial suites built on top).
 *
 * The runner moves each message from one state machine to the other and
 * lets a hook inspect, replace or drop it in flight, so a test can play a
 * man in the middle or a dishonest party. It also provides the cosigner's
 * node parameters as a fixture (real safe primes, generated once per build
 * directory and cached under <build>/test-fixtures, because Criterion runs
 * every test in its own process) and independent signature checks.
 */
#ifndef PB_TEST_MPC_RUNNER_H
#define PB_TEST_MPC_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/mpc.h"

/* A message about to be delivered: protocol (1 dkg, 2 sign, 3 refresh) and
 * message number (1..4). The hook may replace *msg (free the old one with
 * pb_mpc_bytes_free, allocate the new one with malloc) or set *msg = NULL
 * to drop it, which stops the run with PB_ERR_STATE. */
typedef void (*mpc_hook_fn)(void *ctx, int protocol, int msg_no, uint8_t **msg, size_t *len);

typedef struct mpc_opts {
    mpc_hook_fn hook;
    void *hook_ctx;
    int warm;     /* sign: P2 precomputes r^N before m3 */
    int stop_after; /* deliver messages up to this number, then stop (0 = all) */
} mpc_opts;

/* Where a run stopped: which party's step failed (1 or 2, 0 if none) at
 * which message number, with what status. */
typedef struct mpc_result {
    pb_status status;
    int party;
    int msg_no;
} mpc_result;

/* Cosigner parameters of |N^| = bits, shared by all tests of a build
 * directory (free each returned object with its free function). */
pb_cosigner_params *mpc_fx_cosigner(int bits);
pb_cosigner_public *mpc_fx_cosigner_public(int bits);
/* Further independent parameter sets (slot 0 is the one above). */
pb_cosigner_params *mpc_fx_cosigner_slot(int bits, int slot);
pb_cosigner_public *mpc_fx_cosigner_public_slot(int bits, int slot);

/* A wallet made by one DKG and cached like the cosigner parameters
 * (slot picks one of several independent wallets). The caller owns both
 * records. */
void mpc_fx_wallet(int bits, int slot, pb_share_p1 **s1, pb_share_p2 **s2);

/* Full runs. On success the outputs are set; on failure they are NULL and
 * the result says where the run stopped (pb_last_error() has the message). */
mpc_result mpc_run_dkg(const pb_cosigner_params *params, const pb_cosigner_public *pub,
                       int bits, const mpc_opts *opts, pb_share_p1 **s1, pb_share_p2 **s2);
mpc_result mpc_run_sign(pb_share_p1 *s1, const pb_share_p2 *s2,
                        const uint8_t digest[PB_MPC_DIGEST_BYTES], const uint32_t *path,
                        size_t path_len, const mpc_opts *opts,
                        uint8_t sig[PB_MPC_SIGNATURE_BYTES], int *recid);
mpc_result mpc_run_refresh(const pb_share_p1 *s1, const pb_share_p2 *s2,
                           const pb_cosigner_params *params, int bits, const mpc_opts *opts,
                           pb_share_p1 **n1, pb_share_p2 **n2);

/* Asserts (Criterion) that sig is a valid low-s ECDSA signature of digest
 * under pubkey with libsecp256k1 and with OpenSSL EVP (DER), and that the
 * recovery id recovers pubkey. */
void mpc_check_signature(const uint8_t pubkey[PB_MPC_PUBKEY_BYTES],
                         const uint8_t digest[PB_MPC_DIGEST_BYTES],
                         const uint8_t sig[PB_MPC_SIGNATURE_BYTES], int recid);

/* The derived public key for a path, from the share's xpub. */
void mpc_derived_pubkey(const pb_share_p1 *s1, const uint32_t *path, size_t path_len,
                        uint8_t out[PB_MPC_PUBKEY_BYTES]);

/* A positive integer from the environment, or dflt. */
int mpc_env_int(const char *name, int dflt);

#endif
