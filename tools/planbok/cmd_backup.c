/* cmd_backup.c - `planbok backup` and `planbok restore`: admin-led recovery
 * of one node through an offline RSA-OAEP recovery key pair. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "planbok/engine.h"

int pb_cmd_backup(pb_cli *cli, int argc, char **argv, int restore)
{
    const char *node_text = NULL, *key = NULL, *file = NULL;
    const char *key_opt = restore ? "--recovery-key-private" : "--recovery-key";
    const char *file_opt = restore ? "--in" : "--out";
    for (int i = 0; i < argc; i++) {
        const char **slot = !strcmp(argv[i], "--node") ? &node_text
                            : !strcmp(argv[i], key_opt) ? &key
                            : !strcmp(argv[i], file_opt) ? &file
                                                         : NULL;
        if (!slot || i + 1 >= argc)
            return pb_cli_usage(restore ? "restore --node 1|2 --recovery-key-private KEY.pem --in FILE"
                                        : "backup --node 1|2 --recovery-key PUB.pem --out FILE");
        *slot = argv[++i];
    }
    if (!node_text || !key || !file || (strcmp(node_text, "1") && strcmp(node_text, "2")))
        return pb_cli_usage(restore ? "restore --node 1|2 --recovery-key-private KEY.pem --in FILE"
                                    : "backup --node 1|2 --recovery-key PUB.pem --out FILE");
    int node = atoi(node_text);
    pb_engine *e = NULL;
    size_t records = 0;
    pb_status st = pb_engine_open(cli->home, &e);
    if (st == PB_OK)
        st = restore ? pb_engine_restore(e, node, key, file, &records)
                     : pb_engine_backup(e, node, key, file, &records);
    pb_engine_close(e);
    if (st != PB_OK)
        return pb_cli_error(st);
    printf("{\"node\":%d,\"%s\":", node, restore ? "restored_from" : "backup");
    pb_json_string(stdout, file);
    printf(",\"records\":%zu}\n", records);
    return PB_EXIT_OK;
}
