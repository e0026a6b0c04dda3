/* p11_module.c - module loading and token selection (see p11_module.h). */
#include "pkcs11/p11_module.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include "common/fail.h"

void pb_hsm_config_defaults(pb_hsm_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->kek_label, sizeof cfg->kek_label, "planbok-kek");
    snprintf(cfg->audit_key_label, sizeof cfg->audit_key_label, "planbok-audit");
    cfg->placement = PB_PLACEMENT_TOKEN;
    cfg->gcm_layout = PB_GCM_LAYOUT_IV_BITS;
    cfg->gcm_iv_source = PB_GCM_IV_CALLER;
    cfg->gcm_iv_bits = 96;
    cfg->pool_size = 4;
}

const char *pb_p11_rv_name(CK_RV rv)
{
    switch (rv) {
    case CKR_OK: return "CKR_OK";
    case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
    case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
    case CKR_PIN_LEN_RANGE: return "CKR_PIN_LEN_RANGE";
    case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
    case CKR_SESSION_CLOSED: return "CKR_SESSION_CLOSED";
    case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
    case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
    case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
    case CKR_OBJECT_HANDLE_INVALID: return "CKR_OBJECT_HANDLE_INVALID";
    case CKR_KEY_HANDLE_INVALID: return "CKR_KEY_HANDLE_INVALID";
    case CKR_ENCRYPTED_DATA_INVALID: return "CKR_ENCRYPTED_DATA_INVALID";
    case CKR_ENCRYPTED_DATA_LEN_RANGE: return "CKR_ENCRYPTED_DATA_LEN_RANGE";
    case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
    case CKR_MECHANISM_PARAM_INVALID: return "CKR_MECHANISM_PARAM_INVALID";
    case CKR_ATTRIBUTE_SENSITIVE: return "CKR_ATTRIBUTE_SENSITIVE";
    case CKR_ATTRIBUTE_TYPE_INVALID: return "CKR_ATTRIBUTE_TYPE_INVALID";
    case CKR_ATTRIBUTE_VALUE_INVALID: return "CKR_ATTRIBUTE_VALUE_INVALID";
    case CKR_TEMPLATE_INCONSISTENT: return "CKR_TEMPLATE_INCONSISTENT";
    case CKR_BUFFER_TOO_SMALL: return "CKR_BUFFER_TOO_SMALL";
    case CKR_DEVICE_MEMORY: return "CKR_DEVICE_MEMORY";
    case CKR_HOST_MEMORY: return "CKR_HOST_MEMORY";
    case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
    case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
    case CKR_ARGUMENTS_BAD: return "CKR_ARGUMENTS_BAD";
    case CKR_CRYPTOKI_NOT_INITIALIZED: return "CKR_CRYPTOKI_NOT_INITIALIZED";
    case CKR_TOKEN_WRITE_PROTECTED: return "CKR_TOKEN_WRITE_PROTECTED";
    case CKR_SESSION_COUNT: return "CKR_SESSION_COUNT";
    case CKR_USER_ALREADY_LOGGED_IN: return "CKR_USER_ALREADY_LOGGED_IN";
    case CKR_OPERATION_ACTIVE: return "CKR_OPERATION_ACTIVE";
    case CKR_DATA_LEN_RANGE: return "CKR_DATA_LEN_RANGE";
    case CKR_USER_PIN_NOT_INITIALIZED: return "CKR_USER_PIN_NOT_INITIALIZED";
    case CKR_TOKEN_NOT_RECOGNIZED: return "CKR_TOKEN_NOT_RECOGNIZED";
    case CKR_CRYPTOKI_ALREADY_INITIALIZED: return "CKR_CRYPTOKI_ALREADY_INITIALIZED";
    default: return "CKR_unknown";
    }
}

pb_status pb_p11_fail(CK_RV rv, const char *what)
{
    return pb_fail(PB_ERR_HSM, "%s: %s (0x%lx)", what, pb_p11_rv_name(rv), (unsigned long)rv);
}

void pb_p11_unpad(char *out, size_t out_size, const unsigned char *field, size_t field_len)
{
    size_t n = field_len;
    while (n > 0 && (field[n - 1] == ' ' || field[n - 1] == '\0'))
        n--;
    if (n >= out_size)
        n = out_size - 1;
    memcpy(out, field, n);
    out[n] = '\0';
}

/* Lists slots with a token present; caller frees. */
static pb_status list_token_slots(CK_FUNCTION_LIST *fn, CK_SLOT_ID **slots, CK_ULONG *count)
{
    CK_RV rv = fn->C_GetSlotList(CK_TRUE, NULL, count);
    if (rv != CKR_OK)
        return pb_p11_fail(rv, "C_GetSlotList");
    *slots = calloc(*count ? *count : 1, sizeof **slots);
    if (!*slots)
        return pb_fail(PB_ERR_NOMEM, "out of memory listing slots");
    rv = fn->C_GetSlotList(CK_TRUE, *slots, count);
    if (rv != CKR_OK) {
        free(*slots);
        return pb_p11_fail(rv, "C_GetSlotList");
    }
    return PB_OK;
}

/* Finds the one initialized token the predicate accepts. */
static pb_status find_slot(CK_FUNCTION_LIST *fn, const char *label, P11KitUri *uri,
                           CK_SLOT_ID *out)
{
    CK_SLOT_ID *slots = NULL;
    CK_ULONG count = 0;
    pb_status st = list_token_slots(fn, &slots, &count);
    if (st != PB_OK)
        return st;
    int found = 0;
    for (CK_ULONG i = 0; i < count; i++) {
        CK_TOKEN_INFO info;
        if (fn->C_GetTokenInfo(slots[i], &info) != CKR_OK)
            continue;
        if (!(info.flags & CKF_TOKEN_INITIALIZED))
            continue;
        int match;
        if (uri) {
            match = p11_kit_uri_match_token_info(uri, &info);
        } else {
            char have[33];
            pb_p11_unpad(have, sizeof have, info.label, sizeof info.label);
            match = strcmp(have, label) == 0;
        }
        if (match) {
            if (found) {
                free(slots);
                return pb_fail(PB_ERR_HSM, "token selection is ambiguous: several tokens match '%s'",
                               uri ? "the configured URI" : label);
            }
            *out = slots[i];
            found = 1;
        }
    }
    free(slots);
    if (!found)
        return pb_fail(PB_ERR_NOT_FOUND, "no initialized token matches %s '%s'",
                       uri ? "URI" : "label", uri ? "(configured URI)" : label);
    return PB_OK;
}

pb_status pb_p11_find_slot_by_label(CK_FUNCTION_LIST *fn, const char *label, CK_SLOT_ID *slot)
{
    return find_slot(fn, label, NULL, slot);
}

static pb_status select_token(const pb_hsm_config *cfg, pb_p11_module *mod)
{
    if (cfg->token_uri[0] == '\0') {
        pb_status st = find_slot(mod->fn, cfg->token_label, NULL, &mod->slot);
        /* A developer token that planbok made and SoftHSM no longer shows
         * is almost always a damaged token.object: say so. */
        if (st == PB_ERR_NOT_FOUND && mod->guard.active)
            return pb_fail(PB_ERR_HSM,
                           "token '%s' not found: its SoftHSM token file may be damaged; "
                           "see docs/hsm.md",
                           cfg->token_label);
        return st == PB_ERR_NOT_FOUND ? PB_ERR_HSM : st;
    }

    P11KitUri *uri = p11_kit_uri_new();
    if (!uri)
        return pb_fail(PB_ERR_NOMEM, "out of memory parsing the token URI");
    int rc = p11_kit_uri_parse(cfg->token_uri, P11_KIT_URI_FOR_TOKEN, uri);
    pb_status st;
    if (rc != P11_KIT_URI_OK) {
        st = pb_fail(PB_ERR_ARGUMENT, "token URI is not a valid RFC 7512 URI: %s",
                     p11_kit_uri_message(rc));
    } else if (p11_kit_uri_get_pin_value(uri)) {
        /* A PIN inside the configuration would defeat the pin file's 0600. */
        st = pb_fail(PB_ERR_ARGUMENT, "token URI must not carry pin-value; use pin_file or pin_env");
    } else {
        st = find_slot(mod->fn, NULL, uri, &mod->slot);
        if (st == PB_ERR_NOT_FOUND)
            st = PB_ERR_HSM;
    }
    p11_kit_uri_free(uri);
    return st;
}

static int looks_like_path(const char *module)
{
    return strchr(module, '/') != NULL || strstr(module, ".so") != NULL;
}

static pb_status load_by_name(const char *name, pb_p11_module *mod)
{
    mod->registered = p11_kit_modules_load(NULL, 0);
    if (!mod->registered)
        return pb_fail(PB_ERR_HSM, "p11-kit could not load its registered modules: %s",
                       p11_kit_message() ? p11_kit_message() : "no message");
    mod->fn = p11_kit_module_for_name(mod->registered, name);
    if (!mod->fn) {
        p11_kit_modules_release(mod->registered);
        mod->registered = NULL;
        return pb_fail(PB_ERR_HSM, "no p11-kit module is registered under the name '%s'", name);
    }
    return PB_OK;
}

static pb_status open_unguarded(const pb_hsm_config *cfg, pb_p11_module *mod)
{
    pb_status st;
    if (looks_like_path(cfg->module)) {
        mod->fn = p11_kit_module_load(cfg->module, 0);
        if (!mod->fn)
            return pb_fail(PB_ERR_HSM, "cannot load PKCS#11 module '%s': %s", cfg->module,
                           p11_kit_message() ? p11_kit_message() : "not found");
    } else if ((st = load_by_name(cfg->module, mod)) != PB_OK) {
        return st;
    }

    CK_RV rv = p11_kit_module_initialize(mod->fn);
    if (rv != CKR_OK) {
        st = pb_p11_fail(rv, "C_Initialize");
        if (mod->registered)
            p11_kit_modules_release(mod->registered);
        else
            p11_kit_module_release(mod->fn);
        mod->fn = NULL;
        mod->registered = NULL;
        return st;
    }
    CK_INFO info;
    if (mod->fn->C_GetInfo(&info) == CKR_OK)
        pb_p11_unpad(mod->description, sizeof mod->description, info.libraryDescription,
                     sizeof info.libraryDescription);

    return select_token(cfg, mod);
}

pb_status pb_p11_module_open(const pb_hsm_config *cfg, pb_p11_module *mod)
{
    memset(mod, 0, sizeof *mod);
    pb_softhsm_guard_setup(&mod->guard, NULL); /* inactive until the checks pass */
    if (cfg->module[0] == '\0')
        return pb_fail(PB_ERR_ARGUMENT, "no PKCS#11 module configured");
    if (cfg->token_label[0] == '\0' && cfg->token_uri[0] == '\0')
        return pb_fail(PB_ERR_ARGUMENT, "no token configured (token_label or token_uri)");
    if (cfg->softhsm_conf[0] != '\0' && setenv("SOFTHSM2_CONF", cfg->softhsm_conf, 1) != 0)
        return pb_fail(PB_ERR_STORAGE, "cannot set SOFTHSM2_CONF");

    /* Before C_Initialize: it reads every token's record, which a planbok
     * process logging in elsewhere may be rewriting. */
    pb_softhsm_guard_teardown(&mod->guard);
    pb_softhsm_guard_setup(&mod->guard, cfg->softhsm_conf);
    pb_status st = pb_softhsm_guard_lock(&mod->guard);
    if (st == PB_OK)
        st = open_unguarded(cfg, mod);
    if (st != PB_OK)
        pb_p11_module_close(mod);
    return st;
}

pb_status pb_p11_module_guard_take(pb_p11_module *mod)
{
    return pb_softhsm_guard_lock(&mod->guard);
}

pb_status pb_p11_module_guard_release(pb_p11_module *mod, int logged_in)
{
    pb_status st = PB_OK;
    if (logged_in && mod->guard.active && mod->guard.fds && mod->fn) {
        CK_TOKEN_INFO info;
        char label[33];
        if (mod->fn->C_GetTokenInfo(mod->slot, &info) == CKR_OK) {
            pb_p11_unpad(label, sizeof label, info.label, sizeof info.label);
            st = pb_softhsm_guard_keep(&mod->guard, label);
        }
    }
    pb_softhsm_guard_unlock(&mod->guard);
    return st;
}

pb_status pb_p11_module_share(pb_p11_module *mod) { return pb_softhsm_guard_share(&mod->guard); }

void pb_p11_module_unshare(pb_p11_module *mod) { pb_softhsm_guard_unshare(&mod->guard); }

void pb_p11_module_close(pb_p11_module *mod)
{
    pb_softhsm_guard_teardown(&mod->guard);
    if (mod->fn) {
        p11_kit_module_finalize(mod->fn);
        if (mod->registered)
            p11_kit_modules_release(mod->registered);
        else
            p11_kit_module_release(mod->fn);
    }
    memset(mod, 0, sizeof *mod);
}
