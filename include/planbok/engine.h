/* planbok/engine.h - wallets in the three custody modes, end to end.
 *
 * The engine runs both nodes of a developer installation in one process:
 * node 1 (P1, the primary) and node 2 (P2, the cosigner), each with its own
 * token, key store and wallet database under the data directory. For every
 * operation it unseals the records it needs just in time, runs the two-party
 * protocol, and wipes them; nothing secret stays in memory between calls.
 *
 * Custody modes: "standard" (node 1 holds P1's record under its KEK),
 * "trustless" (P1's record is also sealed under a key derived from the
 * Organization Secret, which the service never stores) and "customer" (P1's
 * record is sealed under a key derived from the customer's PIN and device
 * salt, and kept at node 2 as the wrappedSecret).
 *
 * Conventions: functions return a pb_status and set pb_last_error() on
 * failure; messages never contain secrets. An engine handle may be used by
 * several threads at once.
 */
#ifndef PLANBOK_ENGINE_H
#define PLANBOK_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "planbok/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pb_engine pb_engine;

#define PB_ENGINE_ID_SIZE 65
#define PB_ENGINE_RECOVERY_CODE_SIZE 64

/* What the caller proves for a wallet: unused members stay NULL/0. */
typedef struct pb_secrets {
    const uint8_t *org_secret; /* 32 bytes: trustless wallets */
    const uint8_t *pin;        /* customer wallets: the PIN digits ... */
    size_t pin_len;
    const char *device_dir;    /* ... and the device directory (salt, device id) */
} pb_secrets;

typedef struct pb_wallet_info {
    char id[PB_ENGINE_ID_SIZE];
    char name[65];
    char mode[16];
    char public_key[67]; /* compressed, hex */
    char xpub[112];
    char state[16];      /* active | locked | locked_out */
    char lock_reason[16];/* while locked: "abort" or "in_doubt" */
    char created[32];
    int exported;
    uint32_t generation;
    int pin_failures;
    int pin_max;
} pb_wallet_info;

typedef struct pb_signature_result {
    uint8_t sig[64];       /* r || s, low-s */
    int recovery_id;       /* 0 or 1 */
    uint8_t der[72];
    size_t der_len;
    uint8_t public_key[33]; /* the (derived) key that signed */
} pb_signature_result;

/* Opens an initialized data directory (see `planbok init`). A directory on
 * a read-only file system is refused (PB_ERR_STORAGE): use
 * pb_engine_open_read_only there. */
PB_API pb_status pb_engine_open(const char *home, pb_engine **out);
/* Opens a data directory for the queries only (pb_engine_wallet_show,
 * pb_engine_wallet_list), also on a read-only file system: the wallet
 * databases are opened read-only, nothing is created, no audit log is
 * opened for writing, and the tokens are used in read-only sessions only
 * (to check every row's seal and anchor). Each node's audit
 * log is still checked as a writer would (PB_ERR_INTEGRITY on a torn tail
 * or a missing segment). Every other call on such a handle fails with
 * PB_ERR_ARGUMENT ("opened read-only") before it touches anything. */
PB_API pb_status pb_engine_open_read_only(const char *home, pb_engine **out);
PB_API void pb_engine_close(pb_engine *engine);

/* Node-level set-up: node 2's ring-Pedersen parameters (safe primes, slow;
 * progress goes to `progress` if not NULL). Idempotent. */
typedef void (*pb_engine_progress_fn)(void *ctx, const char *what, int candidates);
PB_API pb_status pb_engine_setup_nodes(pb_engine *engine, pb_engine_progress_fn progress,
                                       void *ctx);

/* Creates a wallet by DKG. For "customer", recovery_code receives the code
 * to show the customer once; otherwise it is set to "". */
PB_API pb_status pb_engine_wallet_create(pb_engine *engine, const char *mode, const char *name,
                                         const pb_secrets *secrets, pb_wallet_info *info,
                                         char recovery_code[PB_ENGINE_RECOVERY_CODE_SIZE]);
PB_API pb_status pb_engine_wallet_show(pb_engine *engine, const char *wallet_id,
                                       pb_wallet_info *info);
/* *infos is freed with free(). */
PB_API pb_status pb_engine_wallet_list(pb_engine *engine, pb_wallet_info **infos, size_t *n);

/* Signs a 32-byte digest, optionally under a non-hardened BIP-32 path
 * ("m/44/60/0/0/7"); the signature is verified before it is returned. */
PB_API pb_status pb_engine_sign(pb_engine *engine, const char *wallet_id,
                                const uint8_t digest[32], const char *path,
                                const pb_secrets *secrets, pb_signature_result *out);

/* A wallet locked by the global abort is refused (PB_ERR_REFUSED). */
PB_API pb_status pb_engine_refresh(pb_engine *engine, const char *wallet_id,
                                   const pb_secrets *secrets);

/* The operator's decision to unlock a wallet that the global abort locked
 * (or that a crash left in doubt during P1's decryption): audited as
 * wallet.unlock, and the shares are refreshed so that whatever a probing
 * cosigner learnt about the old ones is useless. Needs the wallet's secrets
 * as a refresh does. PB_ERR_ARGUMENT if the wallet is not locked. */
PB_API pb_status pb_engine_wallet_unlock(pb_engine *engine, const char *wallet_id,
                                         const pb_secrets *secrets);

/* Standard wallets: PB_ERR_REFUSED. Others need their secret or PIN. */
PB_API pb_status pb_engine_export(pb_engine *engine, const char *wallet_id,
                                  const pb_secrets *secrets, uint8_t private_key[32],
                                  uint8_t public_key[33]);

PB_API pb_status pb_engine_pin_change(pb_engine *engine, const char *wallet_id,
                                      const char *device_dir, const uint8_t *old_pin,
                                      size_t old_len, const uint8_t *new_pin, size_t new_len);
PB_API pb_status pb_engine_pin_reset(pb_engine *engine, const char *wallet_id,
                                     const char *device_dir, const char *recovery_code,
                                     const uint8_t *new_pin, size_t new_len);

/* Admin-led recovery. backup seals every record of one node (1 or 2), its
 * node secret and its wallet rows to an RSA-OAEP-SHA256 recovery public key
 * (3072 bits or more) into out_path. restore opens such a file with the
 * recovery private key and rebuilds that node's records in its (fresh)
 * token and database; trustless and customer records stay under their
 * Organization Secret or PIN. */
PB_API pb_status pb_engine_backup(pb_engine *engine, int node, const char *public_key_pem,
                                  const char *out_path, size_t *records);
PB_API pb_status pb_engine_restore(pb_engine *engine, int node, const char *private_key_pem,
                                   const char *in_path, size_t *records);

#ifdef __cplusplus
}
#endif
#endif
