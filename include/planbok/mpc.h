/* planbok/mpc.h - two-party ECDSA on secp256k1 (Lindell 2017 with additive
 * shares, CGGMP21 proofs): key generation, signing with global abort, share
 * refresh and BIP-32 public derivation.
 *
 * The primary P1 holds x1 and a Paillier key and receives signatures; the
 * cosigner P2 holds x2 and c_key = Enc(x1). Each protocol is a pair of
 * message-driven state machines, one per party: a step takes the peer's
 * bytes and returns the bytes to send back. Nothing here does I/O, touches
 * files, reads a clock or talks to an HSM; moving the bytes, persisting the
 * results and authenticating the channel (mutual TLS) are the caller's job.
 *
 * Conventions (as in libsecp256k1, every object is opaque):
 * - Every function that can fail returns a pb_status and records a message
 *   for pb_last_error(). Arguments that must not be NULL are not checked
 *   beyond what is documented.
 * - Buffers returned through (uint8_t **out, size_t *out_len) belong to the
 *   caller and are released with pb_mpc_bytes_free(), which wipes them.
 * - A session answers each step at most once. Any failed step (malformed,
 *   replayed, out of order or cross-session message, failed proof) aborts the
 *   session for good: every later call returns PB_ERR_STATE. An aborted
 *   session never changes a share record except for the P1 lock below; the
 *   caller simply starts a new session.
 * - Objects are not thread-safe, except that a P1 share's lock flag may be
 *   read and set by concurrent signing sessions.
 * - A session keeps a pointer to the share (and parameters) it was created
 *   with: they must outlive the session.
 */
#ifndef PLANBOK_MPC_H
#define PLANBOK_MPC_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PB_MPC_PUBKEY_BYTES 33     /* compressed SEC1 point */
#define PB_MPC_DIGEST_BYTES 32     /* message hash to sign */
#define PB_MPC_SIGNATURE_BYTES 64  /* r || s, big-endian, low-s */
#define PB_MPC_SHARE_ID_BYTES 32   /* identifies one generation of a wallet's shares */
#define PB_MPC_SESSION_ID_BYTES 32
#define PB_MPC_XPUB_SIZE 112       /* 111 base58 characters and a NUL */
#define PB_MPC_MESSAGE_MAX (1u << 20) /* no protocol message is larger */
#define PB_BIP32_MAX_DEPTH 255

/* Wipes and frees a buffer returned by this API (NULL is fine). */
PB_API void pb_mpc_bytes_free(uint8_t *bytes, size_t len);

/* ---------------------------------------------------------------------------
 * BIP-32 non-hardened derivation (public data only)
 * ------------------------------------------------------------------------- */

/* Parses "m/44/60/0/0/7" into indices. Every index must be below 2^31;
 * hardened markers (' h H) and hardened values are refused with
 * PB_ERR_ARGUMENT (hardened derivation needs the whole private key).
 * "m" alone is the empty path. */
PB_API pb_status pb_bip32_parse_path(const char *path, uint32_t *indices, size_t max_indices,
                                     size_t *n_indices);

/* Derives the child xpub at `indices` from an xpub string (CKDpub). */
PB_API pb_status pb_bip32_xpub_derive(const char *xpub, const uint32_t *indices,
                                      size_t n_indices, char out[PB_MPC_XPUB_SIZE]);

/* The compressed public key inside an xpub string. */
PB_API pb_status pb_bip32_xpub_public_key(const char *xpub,
                                          uint8_t pubkey[PB_MPC_PUBKEY_BYTES]);

/* ---------------------------------------------------------------------------
 * The cosigner's node parameters (ring-Pedersen N^, s, t)
 *
 * P2 generates them once per node (two safe primes: seconds to minutes) and
 * reuses them for every wallet. P1 receives the exported public part with a
 * proof that it is well formed (Pi^prm), verifies it once, and proves its own
 * Paillier key against it.
 * ------------------------------------------------------------------------- */

typedef struct pb_cosigner_params pb_cosigner_params; /* P2's secret */
typedef struct pb_cosigner_public pb_cosigner_public; /* verified public part */

/* Called during the safe-prime search: `what` names the prime ("p" or
 * "q"), `candidates` counts tries so far. */
typedef void (*pb_progress_cb)(void *ctx, const char *what, int candidates);

/* bits: |N^|, 2048 or 3072; it must be at least P1's Paillier size. */
PB_API pb_status pb_cosigner_params_generate(pb_cosigner_params **out, int bits,
                                             pb_progress_cb progress, void *progress_ctx);
PB_API void pb_cosigner_params_free(pb_cosigner_params *params);
/* Secret encoding (factors and lambda), for sealing. */
PB_API pb_status pb_cosigner_params_serialize(const pb_cosigner_params *params, uint8_t **out,
                                              size_t *out_len);
PB_API pb_status pb_cosigner_params_parse(pb_cosigner_params **out, const uint8_t *in,
                                          size_t in_len);
/* The public part with a fresh Pi^prm, for P1. */
PB_API pb_status pb_cosigner_params_export(const pb_cosigner_params *params, uint8_t **out,
                                           size_t *out_len);

/* Parses an export and verifies Pi^prm; fails with PB_ERR_PROOF if it does
 * not verify. The result is what P1's DKG needs. */
PB_API pb_status pb_cosigner_public_parse(pb_cosigner_public **out, const uint8_t *in,
                                          size_t in_len);
PB_API void pb_cosigner_public_free(pb_cosigner_public *pub);

/* ---------------------------------------------------------------------------
 * Share records: what each party seals and stores per wallet
 *
 * P1: x1, Q, Q1, Q2, chain code, the Paillier private key, P2's ring-Pedersen
 * public parameters, the generation and the lock flag. P2: x2, Q, Q1, Q2,
 * chain code, P1's Paillier public key, c_key and the generation. The
 * encodings are versioned and canonical; parsing checks every length and
 * range and the consistency x_i*G = Q_i, Q1 + Q2 = Q.
 * ------------------------------------------------------------------------- */

typedef struct pb_share_p1 pb_share_p1;
typedef struct pb_share_p2 pb_share_p2;

PB_API pb_status pb_share_p1_serialize(const pb_share_p1 *share, uint8_t **out,
                                       size_t *out_len);
PB_API pb_status pb_share_p1_parse(pb_share_p1 **out, const uint8_t *in, size_t in_len);
PB_API void pb_share_p1_free(pb_share_p1 *share);
PB_API pb_status pb_share_p2_serialize(const pb_share_p2 *share, uint8_t **out,
                                       size_t *out_len);
PB_API pb_status pb_share_p2_parse(pb_share_p2 **out, const uint8_t *in, size_t in_len);
PB_API void pb_share_p2_free(pb_share_p2 *share);

/* The joint public key Q. */
PB_API void pb_share_p1_public_key(const pb_share_p1 *share,
                                   uint8_t pubkey[PB_MPC_PUBKEY_BYTES]);
PB_API void pb_share_p2_public_key(const pb_share_p2 *share,
                                   uint8_t pubkey[PB_MPC_PUBKEY_BYTES]);
/* The joint extended public key (Q, chain code) at depth 0. */
PB_API pb_status pb_share_p1_xpub(const pb_share_p1 *share, char out[PB_MPC_XPUB_SIZE]);
PB_API pb_status pb_share_p2_xpub(const pb_share_p2 *share, char out[PB_MPC_XPUB_SIZE]);
/* 0 after DKG, +1 per refresh. */
PB_API uint32_t pb_share_p1_generation(const pb_share_p1 *share);
PB_API uint32_t pb_share_p2_generation(const pb_share_p2 *share);
/* A hash of the public data of one generation (Q, Q1, Q2, chain code,
 * Paillier N, generation); equal on both sides for matching shares. */
PB_API void pb_share_p1_id(const pb_share_p1 *share, uint8_t id[PB_MPC_SHARE_ID_BYTES]);
PB_API void pb_share_p2_id(const pb_share_p2 *share, uint8_t id[PB_MPC_SHARE_ID_BYTES]);
/* 1 once a signature failed P1's verification (global abort). Only a
 * refresh produces an unlocked record again. */
PB_API int pb_share_p1_is_locked(const pb_share_p1 *share);

/* ---------------------------------------------------------------------------
 * DKG: four messages.
 *   P1 start -> m1 -> P2 step -> m2 -> P1 step -> m3 -> P2 step -> m4 -> P1 step
 * P2's record is ready after it produced m4 (store it, then send m4: m4
 * tells P1 that P2 holds its share). P1's record is ready after m4.
 * ------------------------------------------------------------------------- */

typedef struct pb_dkg_p1 pb_dkg_p1;
typedef struct pb_dkg_p2 pb_dkg_p2;

/* paillier_bits: 2048 or 3072, at most the cosigner's |N^| (PB_ERR_ARGUMENT
 * otherwise); the key is generated by start. */
PB_API pb_status pb_dkg_p1_new(pb_dkg_p1 **out, const pb_cosigner_public *cosigner,
                               int paillier_bits);
PB_API pb_status pb_dkg_p1_start(pb_dkg_p1 *session, uint8_t **out, size_t *out_len);
/* m2 -> m3; m4 -> nothing (*out = NULL, *out_len = 0). */
PB_API pb_status pb_dkg_p1_step(pb_dkg_p1 *session, const uint8_t *in, size_t in_len,
                                uint8_t **out, size_t *out_len);
/* Hands over P1's record once the session is complete (PB_ERR_STATE before). */
PB_API pb_status pb_dkg_p1_take_share(pb_dkg_p1 *session, pb_share_p1 **out);
PB_API void pb_dkg_p1_free(pb_dkg_p1 *session);

/* paillier_bits: the exact size P2 requires of P1's modulus (at most |N^|). */
PB_API pb_status pb_dkg_p2_new(pb_dkg_p2 **out, const pb_cosigner_params *params,
                               int paillier_bits);
/* m1 -> m2; m3 -> m4. */
PB_API pb_status pb_dkg_p2_step(pb_dkg_p2 *session, const uint8_t *in, size_t in_len,
                                uint8_t **out, size_t *out_len);
PB_API pb_status pb_dkg_p2_take_share(pb_dkg_p2 *session, pb_share_p2 **out);
PB_API void pb_dkg_p2_free(pb_dkg_p2 *session);

/* ---------------------------------------------------------------------------
 * Sign: four messages.
 *   P1 start -> m1 -> P2 step (request) [P2 approve] -> m2 -> P1 step -> m3
 *   -> P2 step -> m4 -> P1 step -> signature
 * The request (digest, BIP-32 path) travels in m1. P2 inspects it with
 * pb_sign_p2_request and contributes only through pb_sign_p2_approve.
 * ------------------------------------------------------------------------- */

typedef struct pb_sign_p1 pb_sign_p1;
typedef struct pb_sign_p2 pb_sign_p2;

/* A locked share is refused with PB_ERR_ABORTED. The session may set the
 * share's lock flag (see pb_sign_p1_step); `share` must outlive it. */
PB_API pb_status pb_sign_p1_new(pb_sign_p1 **out, pb_share_p1 *share,
                                const uint8_t digest[PB_MPC_DIGEST_BYTES],
                                const uint32_t *path, size_t path_len);
PB_API pb_status pb_sign_p1_start(pb_sign_p1 *session, uint8_t **out, size_t *out_len);
/* m2 -> m3; m4 -> nothing. On m4 P1 decrypts, builds the signature and
 * verifies it under the (derived) public key. If that fails, the share is
 * locked and PB_ERR_ABORTED is returned: the caller must persist the locked
 * share (pb_share_p1_serialize) before anything else. */
PB_API pb_status pb_sign_p1_step(pb_sign_p1 *session, const uint8_t *in, size_t in_len,
                                 uint8_t **out, size_t *out_len);
/* The verified signature: r || s with s <= q/2, and the recovery id (0..3). */
PB_API pb_status pb_sign_p1_signature(const pb_sign_p1 *session,
                                      uint8_t sig[PB_MPC_SIGNATURE_BYTES], int *recovery_id);
PB_API pb_status pb_sign_p1_session_id(const pb_sign_p1 *session,
                                       uint8_t sid[PB_MPC_SESSION_ID_BYTES]);
PB_API void pb_sign_p1_free(pb_sign_p1 *session);

PB_API pb_status pb_sign_p2_new(pb_sign_p2 **out, const pb_share_p2 *share);
/* m1 -> nothing (the request waits for approval); m3 -> m4. */
PB_API pb_status pb_sign_p2_step(pb_sign_p2 *session, const uint8_t *in, size_t in_len,
                                 uint8_t **out, size_t *out_len);
/* The request of m1: digest, path (up to path_max indices) and the derived
 * public key that will sign. */
PB_API pb_status pb_sign_p2_request(const pb_sign_p2 *session,
                                    uint8_t digest[PB_MPC_DIGEST_BYTES], uint32_t *path,
                                    size_t path_max, size_t *path_len,
                                    uint8_t pubkey[PB_MPC_PUBKEY_BYTES]);
/* After policy approved the request: produces m2. */
PB_API pb_status pb_sign_p2_approve(pb_sign_p2 *session, uint8_t **out, size_t *out_len);
/* Optional: computes the expensive half of the encryption in m4 (r^N mod
 * N^2) ahead of time, e.g. while waiting for m3. Used once. */
PB_API pb_status pb_sign_p2_precompute(pb_sign_p2 *session);
PB_API pb_status pb_sign_p2_session_id(const pb_sign_p2 *session,
                                       uint8_t sid[PB_MPC_SESSION_ID_BYTES]);
PB_API void pb_sign_p2_free(pb_sign_p2 *session);

/* The share id an m1 names, so that P2 can pick the matching record (for
 * example the new one while a refresh is being completed). */
PB_API pb_status pb_sign_message_share_id(const uint8_t *m1, size_t m1_len,
                                          uint8_t id[PB_MPC_SHARE_ID_BYTES]);

/* ---------------------------------------------------------------------------
 * Refresh: four messages, same flow as the DKG.
 * New shares x1' = x1 + d, x2' = x2 - d for a jointly tossed d, a fresh
 * Paillier key, same public key and chain code, generation + 1, lock
 * cleared. Old records are never modified: keep them until both sides hold
 * the new ones (an m1 names the generation P1 signs with).
 * ------------------------------------------------------------------------- */

typedef struct pb_refresh_p1 pb_refresh_p1;
typedef struct pb_refresh_p2 pb_refresh_p2;

/* cosigner: new parameters of P2, or NULL to keep those in the record. */
PB_API pb_status pb_refresh_p1_new(pb_refresh_p1 **out, const pb_share_p1 *share,
                                   const pb_cosigner_public *cosigner, int paillier_bits);
PB_API pb_status pb_refresh_p1_start(pb_refresh_p1 *session, uint8_t **out, size_t *out_len);
PB_API pb_status pb_refresh_p1_step(pb_refresh_p1 *session, const uint8_t *in, size_t in_len,
                                    uint8_t **out, size_t *out_len);
PB_API pb_status pb_refresh_p1_take_share(pb_refresh_p1 *session, pb_share_p1 **out);
PB_API void pb_refresh_p1_free(pb_refresh_p1 *session);

PB_API pb_status pb_refresh_p2_new(pb_refresh_p2 **out, const pb_share_p2 *share,
                                   const pb_cosigner_params *params, int paillier_bits);
PB_API pb_status pb_refresh_p2_step(pb_refresh_p2 *session, const uint8_t *in, size_t in_len,
                                    uint8_t **out, size_t *out_len);
PB_API pb_status pb_refresh_p2_take_share(pb_refresh_p2 *session, pb_share_p2 **out);
PB_API void pb_refresh_p2_free(pb_refresh_p2 *session);

#ifdef __cplusplus
}
#endif
#endif
