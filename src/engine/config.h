/* config.h - the node configuration file (<home>/planbok.conf).
 *
 * Owns: parsing and writing the INI-style file a security engineer edits to
 * wire each node to its HSM, and the developer default (a private SoftHSM
 * token per node under the data directory). Holds no secret: PINs are
 * referred to by file or environment variable.
 *
 *   paillier_bits = 3072
 *   dev_softhsm = true            # init provisions SoftHSM tokens itself
 *   min_free_mb = 16              # below this, state-changing commands refuse
 *   [node1]
 *   module = /usr/lib/softhsm/libsofthsm2.so   # or a p11-kit module name
 *   token_label = planbok-node1                # or token_uri = pkcs11:token=...
 *   pin_file = /path/node1.pin                 # or pin_env = NODE1_PIN
 *   placement = token                          # or directory (+ store_dir)
 *   gcm_layout = iv_bits | no_iv_bits ; gcm_iv_bits = 96 ; gcm_iv = caller | token
 */
#ifndef PB_ENGINE_CONFIG_H
#define PB_ENGINE_CONFIG_H

#include "pkcs11/hsm_config.h"
#include "planbok/error.h"

#define PB_NODES 2

typedef struct pb_config {
    char home[512];
    int paillier_bits;
    int dev_softhsm;
    int min_free_mb; /* refuse to change state with less free space (storage_space.h) */
    pb_hsm_config node[PB_NODES]; /* node[0] is node 1 (P1), node[1] node 2 (P2) */
} pb_config;

/* Developer defaults for a data directory (absolute path). */
void pb_config_dev_defaults(pb_config *cfg, const char *home);
/* The SoftHSM directory and the token label of node n (1 or 2). */
void pb_config_softhsm_dir(const pb_config *cfg, char *out, size_t n);
void pb_config_dev_token_label(int node, char *out, size_t n);

pb_status pb_config_load(const char *path, pb_config *cfg);
pb_status pb_config_write(const char *path, const pb_config *cfg);
void pb_config_path(const char *home, char *out, size_t n);

#endif
