/* fault.h - named crash points for fault-injection tests.
 *
 * pb_fault_point("create.after_p2_store") kills the process with SIGKILL
 * when the environment variable PB_FAULT_POINT names that point, so a test
 * can fork, crash an operation at each step, and check what survives.
 * With the variable unset it does nothing. Must never be used to skip a
 * check or alter data: it only stops the process.
 */
#ifndef PB_COMMON_FAULT_H
#define PB_COMMON_FAULT_H

void pb_fault_point(const char *name);

#endif
