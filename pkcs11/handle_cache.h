/* handle_cache.h - label -> object handle map for the token placement, so a
 * lookup after start-up never scans the token.
 *
 * Owns: an open-addressing hash table of labels (public: wallet id, role,
 * kind) to handles and their store sequence numbers. Not thread-safe by
 * itself: the key store guards it with a read-write lock. Holds no secret.
 */
#ifndef PB_PKCS11_HANDLE_CACHE_H
#define PB_PKCS11_HANDLE_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pb_handle_entry {
    char *label; /* NULL = empty slot; (char *)1 never used: deletions rehash */
    unsigned long handle;
    uint64_t seq;
} pb_handle_entry;

typedef struct pb_handle_cache {
    pb_handle_entry *slots;
    size_t cap;   /* power of two */
    size_t count;
} pb_handle_cache;

void pb_handle_cache_init(pb_handle_cache *c);
void pb_handle_cache_clear(pb_handle_cache *c);
/* Returns the entry or NULL. */
const pb_handle_entry *pb_handle_cache_find(const pb_handle_cache *c, const char *label);
/* Inserts or replaces; *old_handle gets the replaced handle (0 if none).
 * Returns 0, or -1 on allocation failure. */
int pb_handle_cache_put(pb_handle_cache *c, const char *label, unsigned long handle, uint64_t seq,
                        unsigned long *old_handle);
/* Removes; returns the handle removed or 0. */
unsigned long pb_handle_cache_remove(pb_handle_cache *c, const char *label);

#endif
