/* export_rules.h - the custody modes and the export matrix of DESIGN.md §2.
 *
 * Owns: mode names and parsing, and which mode may export its key at all.
 * Only the rule: proving the right to export (the Organization Secret or the
 * PIN) happens by unwrapping P1's record, never here, so this module must
 * never see a secret.
 */
#ifndef PB_CUSTODY_EXPORT_RULES_H
#define PB_CUSTODY_EXPORT_RULES_H

#include "planbok/error.h"

typedef enum {
    PB_MODE_STANDARD = 1,  /* organization by proxy: both shares with the service */
    PB_MODE_TRUSTLESS = 2, /* P1's record also needs the Organization Secret */
    PB_MODE_CUSTOMER = 3   /* P1's record needs the customer's PIN and device */
} pb_custody_mode;

/* "standard", "trustless", "customer"; NULL for any other value. */
const char *pb_custody_mode_name(pb_custody_mode m);
/* Exactly one of the three names (lowercase); else PB_ERR_ARGUMENT. */
pb_status pb_custody_mode_parse(const char *s, pb_custody_mode *m);
/* Standard: PB_ERR_REFUSED "export is restricted for Standard wallets".
 * Trustless and Customer: PB_OK (the caller then proves possession of the
 * secret or PIN by unwrapping). Any other value: PB_ERR_ARGUMENT. */
pb_status pb_export_allowed(pb_custody_mode m);

#endif
