/* softhsm_dev.c - auto-provisioned SoftHSM tokens for developers
 * (see softhsm_dev.h). */
#include "pkcs11/softhsm_dev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <p11-kit/p11-kit.h>

#include "common/fail.h"
#include "common/file_write.h"
#include "common/secret.h"
#include "pkcs11/p11_module.h"
#include "pkcs11/softhsm_guard.h"

#define PIN_HEX_LEN 32

void pb_softhsm_dev_conf_path(const char *dir, char *out, size_t n)
{
    snprintf(out, n, "%s/softhsm2.conf", dir);
}

void pb_softhsm_dev_pin_path(const char *dir, const char *label, char *out, size_t n)
{
    snprintf(out, n, "%s/%s.pin", dir, label);
}

static pb_status make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return pb_fail(PB_ERR_STORAGE, "cannot create '%s': %s", path, strerror(errno));
    return PB_OK;
}

static pb_status write_conf(const char *dir)
{
    char conf[1024], tokens[1024], body[2048];
    pb_softhsm_dev_conf_path(dir, conf, sizeof conf);
    snprintf(tokens, sizeof tokens, "%s/tokens", dir);
    pb_status st = make_dir(tokens);
    if (st != PB_OK)
        return st;
    if (access(conf, F_OK) == 0)
        return PB_OK;
    int n = snprintf(body, sizeof body,
                     "# Private SoftHSM configuration written by planbok init.\n"
                     "directories.tokendir = %s\n"
                     "objectstore.backend = file\n"
                     "log.level = ERROR\n"
                     "slots.removable = false\n"
                     "slots.mechanisms = ALL\n"
                     "library.reset_on_fork = false\n",
                     tokens);
    return pb_file_write_atomic(conf, body, (size_t)n, NULL); /* 0600 */
}

/* A random PIN as hex, written to `path` (0600) and returned in secret memory. */
static pb_status new_pin_file(const char *path, char pin[PIN_HEX_LEN + 1])
{
    unsigned char raw[PIN_HEX_LEN / 2];
    static const char hex[] = "0123456789abcdef";
    if (RAND_bytes(raw, sizeof raw) != 1)
        return pb_fail(PB_ERR_CRYPTO, "random PIN generation failed");
    for (size_t i = 0; i < sizeof raw; i++) {
        pin[2 * i] = hex[raw[i] >> 4];
        pin[2 * i + 1] = hex[raw[i] & 15];
    }
    pin[PIN_HEX_LEN] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    char line[PIN_HEX_LEN + 2];
    memcpy(line, pin, PIN_HEX_LEN);
    line[PIN_HEX_LEN] = '\n';
    pb_status st = pb_file_write_atomic(path, line, PIN_HEX_LEN + 1, NULL); /* 0600 */
    OPENSSL_cleanse(line, sizeof line);
    return st;
}

static pb_status find_free_slot(CK_FUNCTION_LIST *fn, CK_SLOT_ID *out)
{
    CK_SLOT_ID slots[64];
    CK_ULONG count = 64;
    CK_RV rv = fn->C_GetSlotList(CK_TRUE, slots, &count);
    if (rv != CKR_OK)
        return pb_p11_fail(rv, "C_GetSlotList");
    for (CK_ULONG i = 0; i < count; i++) {
        CK_TOKEN_INFO info;
        if (fn->C_GetTokenInfo(slots[i], &info) == CKR_OK &&
            !(info.flags & CKF_TOKEN_INITIALIZED)) {
            *out = slots[i];
            return PB_OK;
        }
    }
    return pb_fail(PB_ERR_HSM, "SoftHSM offers no free slot for a new token");
}

static pb_status init_token(CK_FUNCTION_LIST *fn, const char *dir, const char *label)
{
    char pin_path[1024], so_path[1024];
    char *pins = (char *)pb_secret_alloc(2 * (PIN_HEX_LEN + 1));
    if (!pins)
        return pb_fail(PB_ERR_NOMEM, "out of memory");
    char *user_pin = pins, *so_pin = pins + PIN_HEX_LEN + 1;
    pb_softhsm_dev_pin_path(dir, label, pin_path, sizeof pin_path);
    snprintf(so_path, sizeof so_path, "%s/%s.so-pin", dir, label);

    CK_SLOT_ID slot = 0;
    CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
    unsigned char padded[32];
    memset(padded, ' ', sizeof padded);
    memcpy(padded, label, strlen(label) < 32 ? strlen(label) : 32);

    pb_status st = find_free_slot(fn, &slot);
    if (st == PB_OK)
        st = new_pin_file(so_path, so_pin);
    if (st == PB_OK)
        st = new_pin_file(pin_path, user_pin);
    CK_RV rv = CKR_OK;
    if (st == PB_OK && (rv = fn->C_InitToken(slot, (CK_UTF8CHAR_PTR)so_pin, PIN_HEX_LEN,
                                             padded)) != CKR_OK)
        st = pb_p11_fail(rv, "C_InitToken");
    if (st == PB_OK &&
        (rv = fn->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
                                &session)) != CKR_OK)
        st = pb_p11_fail(rv, "C_OpenSession");
    if (st == PB_OK &&
        (rv = fn->C_Login(session, CKU_SO, (CK_UTF8CHAR_PTR)so_pin, PIN_HEX_LEN)) != CKR_OK)
        st = pb_p11_fail(rv, "C_Login (security officer)");
    if (st == PB_OK &&
        (rv = fn->C_InitPIN(session, (CK_UTF8CHAR_PTR)user_pin, PIN_HEX_LEN)) != CKR_OK)
        st = pb_p11_fail(rv, "C_InitPIN");
    if (session != CK_INVALID_HANDLE) {
        fn->C_Logout(session);
        fn->C_CloseSession(session);
    }
    pb_secret_free(pins, 2 * (PIN_HEX_LEN + 1));
    return st;
}

/* What is left of a token planbok made once, so that a token missing by its
 * label must not be replaced by a new, empty one: its PIN files or the
 * guard's copy. Returns a description, or NULL when nothing is left. */
static const char *remnant(const pb_softhsm_guard *g, const char *dir, const char *label)
{
    char path[1024];
    pb_softhsm_dev_pin_path(dir, label, path, sizeof path);
    if (access(path, F_OK) == 0)
        return "its PIN file";
    snprintf(path, sizeof path, "%s/%s.so-pin", dir, label);
    if (access(path, F_OK) == 0)
        return "its SO PIN file";
    if (pb_softhsm_guard_knows(g, label))
        return "the guard's copy of its token file";
    return NULL;
}

/* One label: keep an existing token (taking the guard's first copy for a
 * token made before the guard existed), or make a new one. */
static pb_status provision_one(CK_FUNCTION_LIST *fn, pb_softhsm_guard *g, const char *dir,
                               const char *label)
{
    CK_SLOT_ID slot;
    char pin_path[1024];
    pb_softhsm_dev_pin_path(dir, label, pin_path, sizeof pin_path);
    pb_status found = pb_p11_find_slot_by_label(fn, label, &slot);
    if (found == PB_OK) {
        if (access(pin_path, R_OK) != 0)
            return pb_fail(PB_ERR_STORAGE, "token '%s' exists but its PIN file '%s' is missing",
                           label, pin_path);
        return pb_softhsm_guard_knows(g, label) ? PB_OK : pb_softhsm_guard_keep(g, label);
    }
    if (found != PB_ERR_NOT_FOUND)
        return found; /* e.g. two tokens with this label: never add a third */
    /* Initializing here would write new PIN files over the old ones and
     * orphan every blob sealed under the old token's KEK. */
    const char *left = remnant(g, dir, label);
    if (left)
        return pb_fail(PB_ERR_HSM,
                       "token '%s' not found but %s exists: its SoftHSM token file may be "
                       "damaged; refusing to initialize a new, empty token over it "
                       "(see docs/hsm.md)",
                       label, left);
    pb_status st = init_token(fn, dir, label);
    return st == PB_OK ? pb_softhsm_guard_keep(g, label) : st;
}

pb_status pb_softhsm_dev_provision(const char *module_path, const char *dir,
                                   const char *const *labels, size_t n_labels)
{
    char conf[1024];
    pb_status st = make_dir(dir);
    if (st == PB_OK)
        st = write_conf(dir);
    if (st != PB_OK)
        return st;
    pb_softhsm_dev_conf_path(dir, conf, sizeof conf);
    if (setenv("SOFTHSM2_CONF", conf, 1) != 0)
        return pb_fail(PB_ERR_STORAGE, "cannot set SOFTHSM2_CONF");

    /* Under the token guard, like every start-up: a damaged token is put
     * back before SoftHSM reads it, so it is found by its label below. */
    pb_softhsm_guard guard;
    pb_softhsm_guard_setup(&guard, conf);
    if ((st = pb_softhsm_guard_lock(&guard)) != PB_OK) {
        pb_softhsm_guard_teardown(&guard);
        return st;
    }
    CK_FUNCTION_LIST *fn = p11_kit_module_load(module_path, 0);
    if (!fn) {
        pb_softhsm_guard_teardown(&guard);
        return pb_fail(PB_ERR_HSM, "cannot load SoftHSM from '%s' (is softhsm2 installed?)",
                       module_path);
    }
    CK_RV rv = p11_kit_module_initialize(fn);
    if (rv != CKR_OK) {
        p11_kit_module_release(fn);
        pb_softhsm_guard_teardown(&guard);
        return pb_p11_fail(rv, "C_Initialize (SoftHSM)");
    }
    for (size_t i = 0; i < n_labels && st == PB_OK; i++)
        st = provision_one(fn, &guard, dir, labels[i]);
    p11_kit_module_finalize(fn);
    p11_kit_module_release(fn);
    pb_softhsm_guard_teardown(&guard);
    return st;
}
