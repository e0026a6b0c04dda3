/* harness.h - what the libFuzzer targets share: the fixture world that
 * fuzz_seedgen writes once per run (cosigner parameters, one wallet's share
 * records, the honest first messages of each protocol, custody keys) and the
 * helpers that put a target's state machine at the step under test.
 *
 * Owns: loading fixtures (once per process), exact-size copies of the input
 * (so that ASan sees every over-read) and session-id patching. A fuzz input
 * starts with one control byte: the low bits pick the parser, FZ_RAW_SID
 * asks to keep the input's own session id instead of the live one (so the
 * "wrong session" path is fuzzed too). Must never be linked into the
 * library: it exists for tests/fuzz only.
 */
#ifndef PB_FUZZ_HARNESS_H
#define PB_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/mpc.h"

#define FZ_BITS 2048
#define FZ_RAW_SID 0x80
#define FZ_SID_OFFSET 8      /* magic 4, version, protocol, type, sender */
#define FZ_HEADER_BYTES 40
#define FZ_WALLET_ID "fuzz-wallet"

/* Fixture file names inside the fixture directory. */
#define FZ_COSIGNER_PARAMS "cosigner.params"
#define FZ_COSIGNER_EXPORT "cosigner.export"
#define FZ_SHARE_P1 "share_p1"
#define FZ_SHARE_P2 "share_p2"
#define FZ_DKG_M1 "dkg_m1"
#define FZ_SIGN_M1 "sign_m1"
#define FZ_REFRESH_M1 "refresh_m1"
#define FZ_BACKUP_KEY "backup_key.pem"
#define FZ_BACKUP_PUB "backup_pub.pem"
#define FZ_RECOVERY_CODE "recovery.code"
#define FZ_XPUB "xpub"

/* Fixed keys of the custody targets (fixtures, not secrets): every byte of
 * the Organization Secret and of the PIN sealing key. */
#define FZ_ORG_SECRET_BYTE 0x5a
#define FZ_PIN_KEY_BYTE 0xa5

/* The libFuzzer entry points every target defines. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* $PB_FUZZ_FIXTURES, else <directory of the executable>/../corpus/fixtures. */
const char *fz_fixture_dir(void);
/* Reads fixture `name` (exits with a message when it is missing). Free with free(). */
uint8_t *fz_fixture(const char *name, size_t *len);
/* Writes dir/name; returns 0 on success. */
int fz_write_file(const char *dir, const char *name, const uint8_t *buf, size_t len);
/* Exits the process with a message when a set-up step fails. */
void fz_check(pb_status st, const char *what);

/* Parsed fixtures, made on first use and kept for the process. */
const pb_cosigner_params *fz_cosigner_params(void);
const pb_cosigner_public *fz_cosigner_public(void);
const pb_share_p2 *fz_share_p2(void);
/* P1's record with its global-abort lock cleared, so that a fuzzed
 * message that locked it does not stop the next execution. */
pb_share_p1 *fz_share_p1(void);

/* malloc'd copy of exactly len bytes (a 1-byte allocation for len 0). */
uint8_t *fz_copy(const uint8_t *data, size_t len);
/* Overwrites the header's session id when the message has a header. */
void fz_patch_sid(uint8_t *msg, size_t len, const uint8_t sid[PB_MPC_SESSION_ID_BYTES]);

#endif
