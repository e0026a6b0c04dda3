/* fail.c - the thread-local last-error message (see fail.h). */
#include "common/fail.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PB_ERROR_MESSAGE_MAX 512

static _Thread_local char last_message[PB_ERROR_MESSAGE_MAX];

pb_status pb_fail(pb_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    return status;
}

pb_status pb_fail_context(pb_status status, const char *fmt, ...)
{
    char previous[PB_ERROR_MESSAGE_MAX];
    char prefix[PB_ERROR_MESSAGE_MAX];
    va_list ap;

    memcpy(previous, last_message, sizeof previous);
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Truncation is acceptable here: the message is advisory. */
    size_t used = strnlen(prefix, sizeof prefix - 1);
    memcpy(last_message, prefix, used);
    size_t at = used;
    const char sep[] = ": ";
    for (size_t i = 0; sep[i] && at + 1 < sizeof last_message; i++)
        last_message[at++] = sep[i];
    for (size_t i = 0; previous[i] && at + 1 < sizeof last_message; i++)
        last_message[at++] = previous[i];
    last_message[at] = '\0';
    return status;
}

void pb_clear_error(void) { last_message[0] = '\0'; }

const char *pb_last_error(void) { return last_message; }

const char *pb_status_name(pb_status status)
{
    switch (status) {
    case PB_OK: return "ok";
    case PB_ERR_ARGUMENT: return "argument";
    case PB_ERR_PARSE: return "parse";
    case PB_ERR_AUTH: return "authentication";
    case PB_ERR_REFUSED: return "refused";
    case PB_ERR_HSM: return "hsm";
    case PB_ERR_STORAGE: return "storage";
    case PB_ERR_INTEGRITY: return "integrity";
    case PB_ERR_PROOF: return "proof";
    case PB_ERR_STATE: return "state";
    case PB_ERR_NOT_FOUND: return "not-found";
    case PB_ERR_NOMEM: return "out-of-memory";
    case PB_ERR_CRYPTO: return "crypto";
    case PB_ERR_ABORTED: return "aborted";
    }
    return "unknown";
}
