/* bip32.h - BIP-32 public (non-hardened) derivation of the joint key.
 *
 * Owns: CKDpub on an extended public key (point + chain code), the additive
 * scalar tweak a path adds to the key (so P2 can add it to its share), path
 * parsing and the xpub string format (mainnet version 0x0488B21E,
 * base58check). Hardened indices are always refused: they need the whole
 * private key, which never exists in one place. Handles public data only.
 */
#ifndef PB_MPC_BIP32_H
#define PB_MPC_BIP32_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/ec.h"
#include "planbok/error.h"
#include "planbok/mpc.h"

#define PB_BIP32_HARDENED 0x80000000u
#define PB_BIP32_XPUB_VERSION 0x0488B21Eu
#define PB_BIP32_XPRV_VERSION 0x0488ADE4u
#define PB_BIP32_CHAIN_BYTES 32
#define PB_BIP32_XPUB_RAW_BYTES 78

typedef struct pb_bip32_xpub {
    uint8_t depth;
    uint8_t parent_fingerprint[4];
    uint32_t child_number;
    uint8_t chain_code[PB_BIP32_CHAIN_BYTES];
    pb_point key;
} pb_bip32_xpub;

/* The root of a wallet: depth 0, no parent, child number 0. */
void pb_bip32_root(pb_bip32_xpub *out, const pb_point *key,
                   const uint8_t chain_code[PB_BIP32_CHAIN_BYTES]);

/* CKDpub for one non-hardened index. tweak_out (optional) receives I_L, the
 * scalar with child.key = parent.key + I_L*G. Fails (PB_ERR_ARGUMENT) on a
 * hardened index, on I_L >= q or an identity child (BIP-32: "proceed with
 * the next index"), and past depth 255. */
pb_status pb_bip32_ckd_pub(const pb_bip32_xpub *parent, uint32_t index, pb_bip32_xpub *child,
                           pb_scalar *tweak_out);

/* Walks a whole path; tweak_out (optional) receives the sum of the I_L, so
 * out->key = root->key + tweak*G. An empty path returns the root and tweak 0.
 * At most PB_BIP32_MAX_DEPTH indices. */
pb_status pb_bip32_derive(const pb_bip32_xpub *root, const uint32_t *path, size_t path_len,
                          pb_bip32_xpub *out, pb_scalar *tweak_out);

/* HASH160(compressed key)[0..4). */
pb_status pb_bip32_fingerprint(const pb_point *key, uint8_t out[4]);

/* The 78-byte serialization and its base58check string. */
void pb_bip32_xpub_serialize(const pb_bip32_xpub *x, uint8_t out[PB_BIP32_XPUB_RAW_BYTES]);
pb_status pb_bip32_xpub_encode(const pb_bip32_xpub *x, char *out, size_t out_size);
/* Strict: checksum, version (an xprv is refused with its own message),
 * point on the curve, and a depth-0 key with zero parent and child number. */
pb_status pb_bip32_xpub_decode(const char *s, pb_bip32_xpub *out);

#endif
