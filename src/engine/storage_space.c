/* storage_space.c - refusing to start a state-changing operation on a
 * nearly full filesystem (see storage_space.h). */
#include "engine/storage_space.h"

#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "common/fail.h"

static pb_status check_dir(const char *dir, unsigned long long need)
{
    struct statvfs sv;
    if (!dir || !*dir || statvfs(dir, &sv) != 0)
        return PB_OK; /* not there yet: whoever creates it reports the error */
    unsigned long long have = (unsigned long long)sv.f_bavail * sv.f_frsize;
    if (have < need)
        return pb_fail(PB_ERR_STORAGE,
                       "storage full: %llu KiB free under '%s', planbok needs at least %llu KiB "
                       "before it changes anything; free some space and retry (nothing was "
                       "changed)",
                       have / 1024, dir, need / 1024);
    return PB_OK;
}

pb_status pb_storage_check(const pb_config *cfg)
{
    unsigned long long need = (unsigned long long)cfg->min_free_mb * 1024 * 1024;
    pb_status st = check_dir(cfg->home, need);
    if (st == PB_OK && cfg->dev_softhsm) {
        char softhsm[600];
        pb_config_softhsm_dir(cfg, softhsm, sizeof softhsm);
        st = check_dir(softhsm, need);
    }
    for (int i = 0; st == PB_OK && i < PB_NODES; i++)
        if (cfg->node[i].placement == PB_PLACEMENT_DIRECTORY)
            st = check_dir(cfg->node[i].store_dir, need);
    return st;
}
