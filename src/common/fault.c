/* fault.c - named crash points (see fault.h). */
#include "common/fault.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pb_fault_point(const char *name)
{
    const char *want = getenv("PB_FAULT_POINT");
    if (want && strcmp(want, name) == 0)
        kill(getpid(), SIGKILL);
}
