/* handle_cache.c - label -> handle hash table (see handle_cache.h). */
#include "pkcs11/handle_cache.h"

#include <stdlib.h>
#include <string.h>

void pb_handle_cache_init(pb_handle_cache *c) { memset(c, 0, sizeof *c); }

void pb_handle_cache_clear(pb_handle_cache *c)
{
    for (size_t i = 0; i < c->cap; i++)
        free(c->slots[i].label);
    free(c->slots);
    memset(c, 0, sizeof *c);
}

/* FNV-1a: labels are short and not attacker-chosen at scale. */
static size_t label_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

static size_t find_slot(const pb_handle_cache *c, const char *label)
{
    size_t mask = c->cap - 1;
    size_t i = label_hash(label) & mask;
    while (c->slots[i].label && strcmp(c->slots[i].label, label) != 0)
        i = (i + 1) & mask;
    return i;
}

static int grow(pb_handle_cache *c)
{
    size_t cap = c->cap ? c->cap * 2 : 64;
    pb_handle_entry *old = c->slots;
    size_t old_cap = c->cap;
    c->slots = calloc(cap, sizeof *c->slots);
    if (!c->slots) {
        c->slots = old;
        return -1;
    }
    c->cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].label)
            c->slots[find_slot(c, old[i].label)] = old[i];
    }
    free(old);
    return 0;
}

const pb_handle_entry *pb_handle_cache_find(const pb_handle_cache *c, const char *label)
{
    if (c->cap == 0)
        return NULL;
    size_t i = find_slot(c, label);
    return c->slots[i].label ? &c->slots[i] : NULL;
}

int pb_handle_cache_put(pb_handle_cache *c, const char *label, unsigned long handle, uint64_t seq,
                        unsigned long *old_handle)
{
    *old_handle = 0;
    if ((c->count + 1) * 2 > c->cap && grow(c) != 0)
        return -1;
    size_t i = find_slot(c, label);
    if (c->slots[i].label) {
        *old_handle = c->slots[i].handle;
        c->slots[i].handle = handle;
        c->slots[i].seq = seq;
        return 0;
    }
    c->slots[i].label = strdup(label);
    if (!c->slots[i].label)
        return -1;
    c->slots[i].handle = handle;
    c->slots[i].seq = seq;
    c->count++;
    return 0;
}

unsigned long pb_handle_cache_remove(pb_handle_cache *c, const char *label)
{
    if (c->cap == 0)
        return 0;
    size_t mask = c->cap - 1;
    size_t i = find_slot(c, label);
    if (!c->slots[i].label)
        return 0;
    unsigned long handle = c->slots[i].handle;
    free(c->slots[i].label);
    c->slots[i].label = NULL;
    c->count--;
    /* Re-seat the rest of the probe run so lookups still find them. */
    for (size_t j = (i + 1) & mask; c->slots[j].label; j = (j + 1) & mask) {
        pb_handle_entry moved = c->slots[j];
        c->slots[j].label = NULL;
        c->slots[find_slot(c, moved.label)] = moved;
    }
    return handle;
}
