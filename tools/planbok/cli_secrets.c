/* cli_secrets.c - secret options of the planbok command (see cli_secrets.h). */
#include "cli_secrets.h"

#include <string.h>

#include <openssl/crypto.h>

#include "common/secret.h"
#include "custody/pin.h"

int pb_cli_secret_option(pb_cli_secrets *s, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        return 0;
    const char *opt = argv[*i];
    const char **slot = !strcmp(opt, "--org-secret-file") ? &s->org_secret_file
                        : !strcmp(opt, "--pin-file")      ? &s->pin_file
                        : !strcmp(opt, "--device")        ? &s->device_dir
                                                          : NULL;
    if (!slot)
        return 0;
    *slot = argv[*i + 1];
    *i += 1;
    return 1;
}

pb_status pb_cli_secrets_load(pb_cli_secrets *s)
{
    memset(&s->view, 0, sizeof s->view);
    if (s->org_secret_file) {
        pb_status st = pb_org_secret_read_file(s->org_secret_file, s->org_secret);
        if (st != PB_OK)
            return st;
        s->view.org_secret = s->org_secret;
    }
    if (s->pin_file) {
        pb_status st = pb_pin_read_file(s->pin_file, &s->pin, &s->pin_len);
        if (st != PB_OK)
            return st;
        s->view.pin = s->pin;
        s->view.pin_len = s->pin_len;
    }
    s->view.device_dir = s->device_dir;
    return PB_OK;
}

void pb_cli_secrets_release(pb_cli_secrets *s)
{
    OPENSSL_cleanse(s->org_secret, sizeof s->org_secret);
    pb_secret_free(s->pin, s->pin_len);
    s->pin = NULL;
    s->pin_len = 0;
}
