/* mem.h - allocation of protocol state and records that hold secrets.
 *
 * Owns: zeroed allocation from OpenSSL's secure heap (locked, kept out of
 * core dumps), falling back to the normal heap when the secure heap is full
 * or absent, and wipe-then-free. Must never hand out unwiped memory.
 */
#ifndef PB_MPC_MEM_H
#define PB_MPC_MEM_H

#include <stddef.h>

void *pb_mpc_secret_zalloc(size_t n);
/* Wipes n bytes and frees (either heap); NULL is fine. */
void pb_mpc_secret_free(void *p, size_t n);

#endif
