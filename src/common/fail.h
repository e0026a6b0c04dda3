/* fail.h - internal helper to record an error message and return its code.
 *
 * Owns the thread-local "last error" buffer behind pb_last_error().
 * Must never be handed secret material: callers format only public facts.
 */
#ifndef PB_COMMON_FAIL_H
#define PB_COMMON_FAIL_H

#include "planbok/error.h"

/* Records the message for this thread and returns `status`, so a caller can
 * write `return pb_fail(PB_ERR_PARSE, "share record: %zu trailing bytes", n);` */
pb_status pb_fail(pb_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the current message with context ("unseal: " + old message) and
 * returns `status` unchanged; used when passing an error up a layer. */
pb_status pb_fail_context(pb_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void pb_clear_error(void);

#endif
