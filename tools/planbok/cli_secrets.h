/* cli_secrets.h - reading the secret options shared by wallet, sign and pin
 * commands (--org-secret-file, --pin-file, --device) into a pb_secrets.
 * Secrets come from files only, never from argv, and are wiped on release. */
#ifndef PB_TOOLS_CLI_SECRETS_H
#define PB_TOOLS_CLI_SECRETS_H

#include <stdint.h>

#include "custody/org_secret.h"
#include "planbok/engine.h"

typedef struct pb_cli_secrets {
    const char *org_secret_file;
    const char *pin_file;
    const char *device_dir;
    uint8_t org_secret[PB_ORG_SECRET_BYTES];
    uint8_t *pin;
    size_t pin_len;
    pb_secrets view;
} pb_cli_secrets;

/* If argv[*i] is a secret option, consumes it (and its value) and returns 1. */
int pb_cli_secret_option(pb_cli_secrets *s, int argc, char **argv, int *i);
/* Reads the named files; fills s->view. */
pb_status pb_cli_secrets_load(pb_cli_secrets *s);
void pb_cli_secrets_release(pb_cli_secrets *s);

#endif
