/* softhsm_dev.h - developer tokens: a private SoftHSM configuration under the
 * data directory with one initialized token per node.
 *
 * Owns: softhsm2.conf and the token directory under `dir`, and the random
 * user and SO PINs, written to files of mode 0600 before the token is
 * initialized. Must never touch system-wide files (/etc/softhsm,
 * /var/lib/softhsm), never print a PIN, and never initialize a new token
 * under a label whose old token is missing but left PIN files or a guard
 * copy behind (that would orphan every sealed blob). Idempotent.
 */
#ifndef PB_PKCS11_SOFTHSM_DEV_H
#define PB_PKCS11_SOFTHSM_DEV_H

#include <stddef.h>

#include "planbok/error.h"

#define PB_SOFTHSM_MODULE_DEFAULT "/usr/lib/softhsm/libsofthsm2.so"

/* Creates `dir`/softhsm2.conf and `dir`/tokens, then for each label a token
 * (if absent) with PINs in `dir`/<label>.pin and `dir`/<label>.so-pin.
 * The caller must run this before any other PKCS#11 use in the process
 * (SOFTHSM2_CONF is read when the module initializes). */
pb_status pb_softhsm_dev_provision(const char *module_path, const char *dir,
                                   const char *const *labels, size_t n_labels);

/* Paths derived from `dir`, for writing the node configuration. */
void pb_softhsm_dev_conf_path(const char *dir, char *out, size_t n);
void pb_softhsm_dev_pin_path(const char *dir, const char *label, char *out, size_t n);

#endif
