/* wallet_seal.h - what makes a node's wallet database trustworthy: every
 * row carries a seal made in the node's token, and every row's version is
 * anchored in the token too.
 *
 * Owns: the canonical encoding of a row (every column that matters: id,
 * name, mode, public key, xpub, state and lock reason, creation time,
 * exported flag, generation, PIN counters and limit, in-doubt mark, PIN
 * verifier, recovery key, version), and the rules that compare a row with
 * its seal and its anchor. The seal is AES-GCM under the node's KEK with the
 * wallet id and the node bound in; the anchor is a sealed token object
 * holding the row's version, written before the database commits, so a
 * copy of the database file (or of one row) cannot rewind a PIN counter or
 * a lock: the row would be older than its anchor.
 * Must never: accept a row without a seal once the node's rows are sealed,
 * seal a row it has not verified first (that would launder an edit), or
 * hold a secret (rows are public facts and counters).
 */
#ifndef PB_ENGINE_WALLET_SEAL_H
#define PB_ENGINE_WALLET_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/wallet_db.h"
#include "pkcs11/keystore.h"

/* The pseudo wallet id whose anchor holds the node's row count. */
#define PB_WALLET_ROWS_MARKER "rows"

/* Canonical bytes of a row (free with pb_bytes_free). */
pb_status pb_wallet_row_encode(const pb_wallet_row *row, uint8_t **out, size_t *out_len);
/* Name of the first column in which two rows differ, or NULL if equal. */
const char *pb_wallet_row_diff(const pb_wallet_row *a, const pb_wallet_row *b);
pb_status pb_wallet_row_decode(const uint8_t *in, size_t len, pb_wallet_row *row);

/* The node's token as the database's sealer (see wallet_db.h). */
void pb_wallet_sealer_for(pb_wallet_db_sealer *sealer, pb_keystore *ks, int node);

#endif
