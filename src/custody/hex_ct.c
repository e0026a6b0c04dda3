/* hex_ct.c - constant-time hex for secrets (see hex_ct.h). */
#include "custody/hex_ct.h"

#include <openssl/crypto.h>

/* 1 when a < b, for a, b < 2^31, without a branch. */
static uint32_t lt(uint32_t a, uint32_t b) { return (a - b) >> 31; }

void pb_hex_encode_ct(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        for (int half = 0; half < 2; half++) {
            uint32_t v = half ? (in[i] & 0x0fu) : (uint32_t)(in[i] >> 4);
            /* '0'..'9', then skip the 39 characters between '9'+1 and 'a'. */
            out[2 * i + (size_t)half] = (char)(v + '0' + (lt(9, v) * ('a' - '0' - 10)));
        }
    }
    out[2 * n] = '\0';
}

unsigned pb_hex_nibble_ct(uint8_t c, uint8_t *nibble)
{
    uint32_t x = c;
    uint32_t lower = x | 0x20u;
    uint32_t digit = (1u ^ lt(x, '0')) & lt(x, '9' + 1);
    uint32_t alpha = (1u ^ lt(lower, 'a')) & lt(lower, 'f' + 1);
    uint32_t value = ((x - '0') & (0u - digit)) | ((lower - 'a' + 10) & (0u - alpha));
    *nibble = (uint8_t)(value & 0x0fu);
    return (unsigned)(1u ^ (digit | alpha));
}

int pb_hex_decode_ct(const char *hex, size_t hex_len, uint8_t *out)
{
    if (hex_len % 2 != 0)
        return -1;
    unsigned bad = 0;
    for (size_t i = 0; i < hex_len / 2; i++) {
        uint8_t hi, lo;
        bad |= pb_hex_nibble_ct((uint8_t)hex[2 * i], &hi);
        bad |= pb_hex_nibble_ct((uint8_t)hex[2 * i + 1], &lo);
        out[i] = (uint8_t)((hi << 4) | lo);
    }
    if (bad) {
        OPENSSL_cleanse(out, hex_len / 2);
        return -1;
    }
    return 0;
}
