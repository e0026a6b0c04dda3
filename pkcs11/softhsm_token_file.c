/* softhsm_token_file.c - walking SoftHSM's token.object layout (see
 * softhsm_token_file.h). Written from the format as observed on disk; no
 * SoftHSM code is used. */
#include "pkcs11/softhsm_token_file.h"

#include <string.h>

/* SoftHSM's vendor attribute types for the token record ('SH' tag). */
#define SH_VENDOR 0x80005348UL
#define SH_LABEL (SH_VENDOR + 1)
#define SH_SERIAL (SH_VENDOR + 2)
#define SH_FLAGS (SH_VENDOR + 3)
#define SH_SO_PIN (SH_VENDOR + 4)

/* Value kinds. */
enum { KIND_BOOL = 1, KIND_ULONG = 2, KIND_BYTES = 3, KIND_MAP = 4, KIND_MECHS = 5 };

/* Bounds on lengths so that a garbled length cannot make us skip far. */
#define MAX_VALUE (1u << 20)

typedef struct cursor {
    const uint8_t *p;
    size_t left;
} cursor;

static int take_u64(cursor *c, uint64_t *v)
{
    if (c->left < 8)
        return -1;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = (x << 8) | c->p[i];
    c->p += 8;
    c->left -= 8;
    *v = x;
    return 0;
}

static int take_bytes(cursor *c, uint64_t n, const uint8_t **out)
{
    if (n > c->left || n > MAX_VALUE)
        return -1;
    *out = c->p;
    c->p += n;
    c->left -= (size_t)n;
    return 0;
}

static void copy_text(char *dst, size_t cap, const uint8_t *src, size_t n)
{
    while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Reads one value of `kind`; byte strings are returned in *bytes and *n. */
static int take_value(cursor *c, uint64_t kind, uint64_t *num, const uint8_t **bytes,
                      uint64_t *n)
{
    uint64_t len;
    *bytes = NULL;
    *n = 0;
    switch (kind) {
    case KIND_BOOL:
        return take_bytes(c, 1, bytes);
    case KIND_ULONG:
        return take_u64(c, num);
    case KIND_BYTES:
    case KIND_MAP: /* a map is stored as its byte length, then its entries */
        if (take_u64(c, &len) != 0)
            return -1;
        *n = len;
        return take_bytes(c, len, bytes);
    case KIND_MECHS:
        if (take_u64(c, &len) != 0 || len > MAX_VALUE / 8)
            return -1;
        return take_bytes(c, len * 8, bytes);
    default:
        return -1;
    }
}

int pb_sh_token_parse(const uint8_t *buf, size_t len, pb_sh_token_record *out)
{
    memset(out, 0, sizeof *out);
    cursor c = {buf, len};
    uint64_t generation;
    if (take_u64(&c, &generation) != 0)
        return -1;
    int have_label = 0, have_serial = 0, have_flags = 0, have_so_pin = 0;
    while (c.left > 0) {
        uint64_t type, kind, num = 0, n = 0;
        const uint8_t *bytes;
        if (take_u64(&c, &type) != 0 || take_u64(&c, &kind) != 0 ||
            take_value(&c, kind, &num, &bytes, &n) != 0)
            return -1;
        if (out->n_types == PB_SH_MAX_ATTRS)
            return -1; /* a token record has a handful: this is not one */
        out->types[out->n_types++] = (unsigned long)type;
        if (type == SH_LABEL && kind == KIND_BYTES) {
            copy_text(out->label, sizeof out->label, bytes, (size_t)n);
            have_label = 1;
        } else if (type == SH_SERIAL && kind == KIND_BYTES) {
            copy_text(out->serial, sizeof out->serial, bytes, (size_t)n);
            have_serial = 1;
        } else if (type == SH_FLAGS && kind == KIND_ULONG) {
            out->flags = (unsigned long)num;
            have_flags = 1;
        } else if (type == SH_SO_PIN && kind == KIND_BYTES && n > 0) {
            have_so_pin = 1;
        }
    }
    return have_label && have_serial && have_flags && have_so_pin ? 0 : -1;
}

int pb_sh_token_covers(const pb_sh_token_record *now, const pb_sh_token_record *kept)
{
    if (strcmp(now->label, kept->label) != 0 || strcmp(now->serial, kept->serial) != 0)
        return 0;
    for (size_t i = 0; i < kept->n_types; i++) {
        int found = 0;
        for (size_t j = 0; j < now->n_types && !found; j++)
            found = now->types[j] == kept->types[i];
        if (!found)
            return 0;
    }
    return 1;
}
