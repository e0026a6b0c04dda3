/* p11_module.h - loading a PKCS#11 module through p11-kit and finding the
 * node's token.
 *
 * Owns: module load/initialize/finalize (by path or by registered p11-kit
 * name), token selection by label or RFC 7512 URI, and turning CK_RV codes
 * into clear messages. Never stores slot ids: they are looked up each time
 * the module is opened because they are not stable across restarts.
 */
#ifndef PB_PKCS11_P11_MODULE_H
#define PB_PKCS11_P11_MODULE_H

#include <p11-kit/pkcs11.h>

#include "pkcs11/hsm_config.h"
#include "pkcs11/softhsm_guard.h"
#include "planbok/error.h"

typedef struct pb_p11_module {
    CK_FUNCTION_LIST *fn;
    CK_FUNCTION_LIST **registered; /* non-NULL when loaded by name */
    CK_SLOT_ID slot;
    char description[80]; /* library description, for status output */
    pb_softhsm_guard guard; /* developer tokens only; inactive otherwise */
} pb_p11_module;

/* Loads and initializes the module and selects the token. For a token
 * planbok provisioned (softhsm_conf set) it first takes the token guard and
 * returns still holding it: the caller logs in, then calls
 * pb_p11_module_guard_release. */
pb_status pb_p11_module_open(const pb_hsm_config *cfg, pb_p11_module *mod);
void pb_p11_module_close(pb_p11_module *mod);

/* Takes the token guard again (before a C_Login after recovery); no-op when
 * it is inactive or already held. */
pb_status pb_p11_module_guard_take(pb_p11_module *mod);
/* Releases the token guard; when `logged_in`, first keeps the token's
 * verified record (the state after a successful login). */
pb_status pb_p11_module_guard_release(pb_p11_module *mod, int logged_in);

/* Around token calls after start-up (see pb_softhsm_guard_share); no-ops
 * for any module planbok did not provision. */
pb_status pb_p11_module_share(pb_p11_module *mod);
void pb_p11_module_unshare(pb_p11_module *mod);

/* A slot holding an initialized token with this label (no selection by URI);
 * PB_ERR_NOT_FOUND when none has it. */
pb_status pb_p11_find_slot_by_label(CK_FUNCTION_LIST *fn, const char *label, CK_SLOT_ID *slot);

/* Fails with PB_ERR_HSM and "<what>: <CKR name> (0x..)" as the message. */
pb_status pb_p11_fail(CK_RV rv, const char *what);
const char *pb_p11_rv_name(CK_RV rv);

/* Copies a blank-padded PKCS#11 text field into a C string. */
void pb_p11_unpad(char *out, size_t out_size, const unsigned char *field, size_t field_len);

#endif
