/* support.c - shared helpers for the Criterion suites. */
#include "support/support.h"

#include <stdlib.h>

const char *pb_test_source_dir(void)
{
    const char *dir = getenv("PB_SOURCE_DIR");
    return dir ? dir : ".";
}
