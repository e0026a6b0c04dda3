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
#include "planbok/error.h"

typedef struct pb_p11_module {
    CK_FUNCTION_LIST *fn;
    CK_FUNCTION_LIST **registered; /* non-NULL when loaded by name */
    CK_SLOT_ID slot;
    char description[80]; /* library description, for status output */
} pb_p11_module;

pb_status pb_p11_module_open(const pb_hsm_config *cfg, pb_p11_module *mod);
void pb_p11_module_close(pb_p11_module *mod);

/* A slot holding an initialized token with this label (no selection by URI). */
pb_status pb_p11_find_slot_by_label(CK_FUNCTION_LIST *fn, const char *label, CK_SLOT_ID *slot);

/* Fails with PB_ERR_HSM and "<what>: <CKR name> (0x..)" as the message. */
pb_status pb_p11_fail(CK_RV rv, const char *what);
const char *pb_p11_rv_name(CK_RV rv);

/* Copies a blank-padded PKCS#11 text field into a C string. */
void pb_p11_unpad(char *out, size_t out_size, const unsigned char *field, size_t field_len);

#endif
