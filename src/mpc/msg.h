/* msg.h - the envelope every two-party protocol message travels in, session
 * ids, and the small per-session bookkeeping the state machines share.
 *
 * Owns: the 40-byte header (magic "PBMP", version, protocol, message type,
 * sender role, session id), its strict parsing, the derivation of session
 * ids from both parties' nonces, and the "answer once, abort on the first
 * bad message" rule. Must never interpret a message body: that is each
 * protocol's job.
 */
#ifndef PB_MPC_MSG_H
#define PB_MPC_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "crypto/transcript.h"
#include "planbok/error.h"
#include "planbok/mpc.h"

#define PB_MSG_MAGIC_0 'P'
#define PB_MSG_MAGIC_1 'B'
#define PB_MSG_MAGIC_2 'M'
#define PB_MSG_MAGIC_3 'P'
/* 2: Pi^mod in DKG and refresh message 3 has 128 rounds (1 had 80); a peer
 * on the other version is refused at message 1, before any work. */
#define PB_MSG_VERSION 2
#define PB_MSG_HEADER_BYTES 40
#define PB_NONCE_BYTES 32

enum pb_mpc_protocol { PB_PROTO_DKG = 1, PB_PROTO_SIGN = 2, PB_PROTO_REFRESH = 3 };

/* Begins a message: writes the header. sid NULL writes 32 zero bytes (the
 * first message of a run, sent before the session id exists). */
void pb_msg_begin(pb_writer *w, uint8_t protocol, uint8_t type, uint8_t sender,
                  const uint8_t sid[PB_SESSION_ID_BYTES]);

/* Checks the size bound and the header, and leaves `r` at the body.
 * Malformed (size, magic, version): PB_ERR_PARSE. A well-formed header for
 * another protocol, message type or sender: PB_ERR_STATE. sid_out receives
 * the header's session id. */
pb_status pb_msg_open(pb_reader *r, const uint8_t *in, size_t in_len, uint8_t protocol,
                      uint8_t type, uint8_t sender, uint8_t sid_out[PB_SESSION_ID_BYTES]);

/* PB_ERR_STATE unless got == want (the message belongs to another session);
 * want NULL means "must be all zero" (first message). */
pb_status pb_msg_check_sid(const uint8_t got[PB_SESSION_ID_BYTES],
                           const uint8_t want[PB_SESSION_ID_BYTES], const char *what);

/* sid = SHA-256 over a length-prefixed ("planbok/mpc/sid/v1", protocol, n1, n2). */
void pb_msg_session_id(uint8_t sid[PB_SESSION_ID_BYTES], uint8_t protocol,
                       const uint8_t n1[PB_NONCE_BYTES], const uint8_t n2[PB_NONCE_BYTES]);
/* The identifier P1's first message binds before n2 exists:
 * SHA-256 over ("planbok/mpc/pre-sid/v1", protocol, n1). */
void pb_msg_pre_id(uint8_t out[PB_SESSION_ID_BYTES], uint8_t protocol,
                   const uint8_t n1[PB_NONCE_BYTES]);

pb_status pb_msg_random(uint8_t *out, size_t n);

/* Field helpers: fixed-size bytes, strict points (on the curve, never the
 * identity) and scalars (< q). Failures are PB_ERR_PARSE naming `what`. */
pb_status pb_msg_get_bytes(pb_reader *r, uint8_t *out, size_t n, const char *what);
pb_status pb_msg_get_point(pb_reader *r, pb_point *out, const char *what);
pb_status pb_msg_get_scalar(pb_reader *r, pb_scalar *out, const char *what);
void pb_msg_put_point(pb_writer *w, const pb_point *p);
/* Finishes a writer into a message buffer. */
pb_status pb_msg_finish(pb_writer *w, uint8_t **out, size_t *out_len);

/* A Fiat-Shamir transcript for one proof of one protocol step: domain tag
 * "planbok/mpc/<protocol>/v1/<what>", the session id (or P1's pre-session id
 * for its first message) and the prover's role, then the optional context
 * (e.g. the share id and the signing request) as one item. */
void pb_mpc_transcript(pb_transcript *t, uint8_t protocol, const char *what,
                       const uint8_t id[PB_SESSION_ID_BYTES], uint8_t role,
                       const uint8_t *context, size_t context_len);

/* Which step a session expects next, and whether it has failed. */
typedef struct pb_session_core {
    const char *name;  /* "dkg p1", for messages */
    uint8_t protocol;
    uint8_t role;      /* this party */
    int next;          /* the next message number this party handles or sends */
    int failed;
    int have_sid;
    uint8_t n1[PB_NONCE_BYTES];
    uint8_t n2[PB_NONCE_BYTES];
    uint8_t sid[PB_SESSION_ID_BYTES];
} pb_session_core;

void pb_session_core_init(pb_session_core *c, const char *name, uint8_t protocol, uint8_t role);
/* PB_OK if the session is alive and expects message `n` next. */
pb_status pb_session_expect(const pb_session_core *c, int n);
/* PB_ERR_STATE explaining why no message is accepted now (aborted,
 * complete, or waiting to send rather than receive). `last` is the number of
 * the session's final step. */
pb_status pb_session_reject(const pb_session_core *c, int last);
/* Records the outcome of a step: on failure the session is dead for good
 * and the status is passed through (with context). */
pb_status pb_session_settle(pb_session_core *c, pb_status st);
/* Fixes the session id from n1 and n2. */
void pb_session_set_sid(pb_session_core *c);

#endif
