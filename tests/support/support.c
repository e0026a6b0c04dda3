/* support.c - shared helpers for the Criterion suites. */
#include "support/support.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

const char *pb_test_source_dir(void)
{
    const char *dir = getenv("PB_SOURCE_DIR");
    return dir ? dir : ".";
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void pb_test_rmtree(const char *dir) { nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }
