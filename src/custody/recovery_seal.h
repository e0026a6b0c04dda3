/* recovery_seal.h - the customer's recovery copy of P1's record, sealed to a
 * public key that only the recovery code can open.
 *
 * Why a public key: the recovery copy must follow every refresh and PIN
 * change, which happen without the code (it was shown once). So the code
 * determines a secp256k1 key pair (private = HKDF(code) mod q); node 2 keeps
 * only the public key and re-seals each new record to it (ECIES: ephemeral
 * ECDH on secp256k1, HKDF-SHA256, AES-256-GCM with the wallet id as AAD).
 * Opening needs the code. Must never store or log the code or the private
 * scalar.
 */
#ifndef PB_CUSTODY_RECOVERY_SEAL_H
#define PB_CUSTODY_RECOVERY_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/ec.h"
#include "planbok/error.h"

/* The key pair the (normalized) recovery code determines. */
pb_status pb_recovery_keypair(const char *code, pb_scalar *priv, pb_point *pub);
pb_status pb_recovery_seal(const pb_point *pub, const char *wallet_id, const uint8_t *plain,
                           size_t plain_len, uint8_t **out, size_t *out_len);
/* A wrong code fails with PB_ERR_AUTH; *plain is secret memory. */
pb_status pb_recovery_open(const pb_scalar *priv, const char *wallet_id, const uint8_t *in,
                           size_t in_len, uint8_t **plain, size_t *plain_len);

#endif
