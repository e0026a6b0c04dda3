/* hsm_config.h - how one node reaches its PKCS#11 token.
 *
 * Owns: the settings a security engineer writes per node (module, token,
 * PIN source, blob placement, vendor quirks). Holds no secret: the PIN is
 * named by a file or an environment variable and read only when logging in.
 */
#ifndef PB_PKCS11_HSM_CONFIG_H
#define PB_PKCS11_HSM_CONFIG_H

#include <stddef.h>

typedef enum pb_placement {
    PB_PLACEMENT_TOKEN = 0,    /* sealed blobs are CKO_DATA token objects */
    PB_PLACEMENT_DIRECTORY = 1 /* sealed blobs are files in store_dir */
} pb_placement;

/* Vendors disagree on CK_GCM_PARAMS: PKCS#11 v2.40 as published has no
 * ulIvBits member, the v2.40 errata and v3.0 have it. */
typedef enum pb_gcm_layout {
    PB_GCM_LAYOUT_IV_BITS = 0, /* {pIv, ulIvLen, ulIvBits, pAAD, ulAADLen, ulTagBits} */
    PB_GCM_LAYOUT_NO_IV_BITS = 1 /* {pIv, ulIvLen, pAAD, ulAADLen, ulTagBits} */
} pb_gcm_layout;

/* Who chooses the GCM IV. Some FIPS-mode HSMs refuse a caller IV and write
 * their own into pIv; we then read it back and check it. */
typedef enum pb_gcm_iv_source {
    PB_GCM_IV_CALLER = 0,
    PB_GCM_IV_TOKEN = 1
} pb_gcm_iv_source;

typedef struct pb_hsm_config {
    char module[512];      /* path to the .so, or a p11-kit registered module name */
    char token_label[64];  /* select by label ... */
    char token_uri[512];   /* ... or by an RFC 7512 URI (pkcs11:token=...) */
    char pin_file[512];    /* user PIN in a file (first line) ... */
    char pin_env[128];     /* ... or in this environment variable */
    char softhsm_conf[512];/* developer tokens: SOFTHSM2_CONF to set before loading */
    char kek_label[64];
    char audit_key_label[64];
    char store_dir[512];   /* for PB_PLACEMENT_DIRECTORY */
    pb_placement placement;
    pb_gcm_layout gcm_layout;
    pb_gcm_iv_source gcm_iv_source;
    unsigned long gcm_iv_bits; /* value for ulIvBits (96; some modules want 0) */
    int pool_size;             /* sessions kept open */
} pb_hsm_config;

/* Defaults: placement token, ulIvBits layout with 96, caller IV, labels
 * "planbok-kek" and "planbok-audit", 4 sessions. */
void pb_hsm_config_defaults(pb_hsm_config *cfg);

#endif
