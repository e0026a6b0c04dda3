/* main.c - the planbok command: global options and dispatch only. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "cli.h"

/* Secrets pass through this process's memory: keep them out of core dumps. */
static void forbid_core_dumps(void)
{
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static int resolve_home(pb_cli *cli, const char *given)
{
    const char *home = given ? given : getenv("PLANBOK_HOME");
    if (!home || !*home)
        home = "./planbok-data";
    if (mkdir(home, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "planbok: cannot create data directory '%s': %s\n", home, strerror(errno));
        return -1;
    }
    char resolved[PATH_MAX];
    if (!realpath(home, resolved) || strlen(resolved) >= sizeof cli->home - 64) {
        fprintf(stderr, "planbok: cannot resolve data directory '%s'\n", home);
        return -1;
    }
    snprintf(cli->home, sizeof cli->home, "%s", resolved);
    return 0;
}

int main(int argc, char **argv)
{
    forbid_core_dumps();
    /* Second line of defence: the library creates its own files 0600 and
     * directories 0700 explicitly, but a PKCS#11 module (SoftHSM 2.6 sets
     * 0600/0700 itself; a vendor's library may not) and SQLite create files
     * of their own. Nothing planbok writes is meant for other users. */
    umask(077);
    pb_cli cli;
    memset(&cli, 0, sizeof cli);
    const char *home = NULL;
    int i = 1;
    while (i < argc && strncmp(argv[i], "--", 2) == 0) {
        if (!strcmp(argv[i], "--home") && i + 1 < argc) {
            home = argv[i + 1];
            i += 2;
        } else if (!strcmp(argv[i], "--help")) {
            return pb_cli_usage("help");
        } else {
            return pb_cli_usage("unknown global option");
        }
    }
    if (i >= argc)
        return pb_cli_usage("missing command");
    const char *cmd = argv[i];
    int sub_argc = argc - i - 1;
    char **sub_argv = argv + i + 1;
    if (!strcmp(cmd, "bench"))
        return pb_cmd_bench(&cli, sub_argc, sub_argv);
    if (resolve_home(&cli, home) != 0)
        return PB_EXIT_HSM;
    if (!strcmp(cmd, "init"))
        return pb_cmd_init(&cli, sub_argc, sub_argv);
    if (!strcmp(cmd, "hsm"))
        return pb_cmd_hsm(&cli, sub_argc, sub_argv);
    if (!strcmp(cmd, "org-secret"))
        return pb_cmd_org_secret(&cli, sub_argc, sub_argv);
    if (!strcmp(cmd, "wallet"))
        return pb_cmd_wallet(&cli, sub_argc, sub_argv);
    if (!strcmp(cmd, "sign"))
        return pb_cmd_sign(&cli, sub_argc, sub_argv);
    if (!strcmp(cmd, "pin"))
        return pb_cmd_pin(&cli, sub_argc, sub_argv);
    if (!strcmp(cmd, "backup") || !strcmp(cmd, "restore"))
        return pb_cmd_backup(&cli, sub_argc, sub_argv, !strcmp(cmd, "restore"));
    if (!strcmp(cmd, "audit"))
        return pb_cmd_audit(&cli, sub_argc, sub_argv);
    return pb_cli_usage("unknown command");
}
