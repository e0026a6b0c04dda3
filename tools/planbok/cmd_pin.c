/* cmd_pin.c - `planbok pin change` (old PIN + new PIN) and `planbok pin
 * reset` (recovery code + new PIN) for customer wallets. PINs and codes are
 * read from files, never from argv, and wiped after use. */
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "common/secret.h"
#include "custody/pin.h"
#include "custody/recovery_code.h"
#include "planbok/engine.h"

int pb_cmd_pin(pb_cli *cli, int argc, char **argv)
{
    if (argc < 1 || (strcmp(argv[0], "change") != 0 && strcmp(argv[0], "reset") != 0))
        return pb_cli_usage("pin: expected change or reset");
    int reset = !strcmp(argv[0], "reset");
    const char *id = NULL, *device = NULL, *old_file = NULL, *new_file = NULL, *code_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char **slot = !strcmp(argv[i], "--wallet")               ? &id
                            : !strcmp(argv[i], "--device")             ? &device
                            : !strcmp(argv[i], "--pin-file")           ? &old_file
                            : !strcmp(argv[i], "--new-pin-file")       ? &new_file
                            : !strcmp(argv[i], "--recovery-code-file") ? &code_file
                                                                       : NULL;
        if (!slot || i + 1 >= argc)
            return pb_cli_usage("pin: unknown option");
        *slot = argv[++i];
    }
    if (!id || !device || !new_file || (reset ? !code_file : !old_file))
        return pb_cli_usage(reset ? "pin reset --wallet ID --device DIR --recovery-code-file F "
                                    "--new-pin-file NEW"
                                  : "pin change --wallet ID --device DIR --pin-file OLD "
                                    "--new-pin-file NEW");
    uint8_t *old_pin = NULL, *new_pin = NULL;
    size_t old_len = 0, new_len = 0;
    char code[PB_RECOVERY_CODE_MAX] = "";
    pb_engine *e = NULL;
    pb_status st = pb_pin_read_file(new_file, &new_pin, &new_len);
    if (st == PB_OK)
        st = reset ? pb_recovery_code_read_file(code_file, code)
                   : pb_pin_read_file(old_file, &old_pin, &old_len);
    if (st == PB_OK)
        st = pb_engine_open(cli->home, &e);
    if (st == PB_OK)
        st = reset ? pb_engine_pin_reset(e, id, device, code, new_pin, new_len)
                   : pb_engine_pin_change(e, id, device, old_pin, old_len, new_pin, new_len);
    pb_wallet_info info;
    if (st == PB_OK)
        st = pb_engine_wallet_show(e, id, &info);
    pb_engine_close(e);
    OPENSSL_cleanse(code, sizeof code);
    pb_secret_free(old_pin, old_len);
    pb_secret_free(new_pin, new_len);
    if (st != PB_OK)
        return pb_cli_error(st);
    printf("{\"wallet_id\":");
    pb_json_string(stdout, info.id);
    printf(",\"state\":");
    pb_json_string(stdout, info.state);
    printf(",\"generation\":%u,\"pin\":\"%s\"}\n", info.generation, reset ? "reset" : "changed");
    return PB_EXIT_OK;
}
