/* base58.c - base58check for extended public keys (see base58.h).
 * Schoolbook base conversion: inputs are at most a few hundred bytes. */
#include "mpc/base58.h"

#include <string.h>

#include <openssl/evp.h>

#include "common/fail.h"

#define MAX_PAYLOAD 128
#define MAX_RAW (MAX_PAYLOAD + 4)
#define MAX_CHARS PB_BASE58_MAX_CHARS(MAX_RAW)

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static int digit_of(char c)
{
    const char *at = c ? strchr(alphabet, c) : NULL;
    return at ? (int)(at - alphabet) : -1;
}

static int checksum(const uint8_t *p, size_t n, uint8_t out[4])
{
    uint8_t h[32];
    unsigned int len = 0;
    if (!EVP_Digest(p, n, h, &len, EVP_sha256(), NULL) ||
        !EVP_Digest(h, 32, h, &len, EVP_sha256(), NULL))
        return 0;
    memcpy(out, h, 4);
    return 1;
}

static pb_status encode_raw(const uint8_t *in, size_t n, char *out, size_t out_size)
{
    uint8_t digits[MAX_CHARS];
    size_t ndigits = 0, zeros = 0;
    while (zeros < n && in[zeros] == 0)
        zeros++;
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = in[i];
        for (size_t j = 0; j < ndigits; j++) {
            carry += (unsigned)digits[j] << 8;
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry) {
            digits[ndigits++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    if (zeros + ndigits + 1 > out_size)
        return pb_fail(PB_ERR_ARGUMENT, "base58: output buffer of %zu bytes is too small",
                       out_size);
    size_t k = 0;
    for (size_t i = 0; i < zeros; i++)
        out[k++] = '1';
    for (size_t i = ndigits; i > 0; i--)
        out[k++] = alphabet[digits[i - 1]];
    out[k] = '\0';
    return PB_OK;
}

pb_status pb_base58check_encode(const uint8_t *payload, size_t payload_len, char *out,
                                size_t out_size)
{
    if (payload_len > MAX_PAYLOAD)
        return pb_fail(PB_ERR_ARGUMENT, "base58check: payload of %zu bytes is too long",
                       payload_len);
    uint8_t raw[MAX_RAW];
    memcpy(raw, payload, payload_len);
    if (!checksum(payload, payload_len, raw + payload_len))
        return pb_fail(PB_ERR_CRYPTO, "base58check: SHA-256 failed");
    return encode_raw(raw, payload_len + 4, out, out_size);
}

pb_status pb_base58check_decode(const char *in, uint8_t *payload, size_t payload_len)
{
    if (payload_len > MAX_PAYLOAD)
        return pb_fail(PB_ERR_ARGUMENT, "base58check: payload of %zu bytes is too long",
                       payload_len);
    size_t len = strnlen(in, MAX_CHARS + 1);
    if (len == 0 || len > MAX_CHARS)
        return pb_fail(PB_ERR_PARSE, "base58check: string length out of range");
    /* Big-endian accumulator; `used` counts significant bytes from the end.
     * Leading '1's stand for zero bytes one to one and the remaining digits
     * start with a non-zero one, so each byte string has exactly one
     * encoding: decoding is canonical by construction. */
    uint8_t acc[MAX_RAW + 1];
    size_t used = 0, ones = 0;
    memset(acc, 0, sizeof acc);
    while (ones < len && in[ones] == '1')
        ones++;
    for (size_t i = ones; i < len; i++) {
        int d = digit_of(in[i]);
        if (d < 0)
            return pb_fail(PB_ERR_PARSE, "base58check: character %zu is not base58", i);
        unsigned carry = (unsigned)d;
        for (size_t j = 0; j < used; j++) {
            carry += (unsigned)acc[sizeof acc - 1 - j] * 58;
            acc[sizeof acc - 1 - j] = (uint8_t)carry;
            carry >>= 8;
        }
        while (carry) {
            if (used == sizeof acc)
                return pb_fail(PB_ERR_PARSE, "base58check: value too long");
            acc[sizeof acc - 1 - used++] = (uint8_t)carry;
            carry >>= 8;
        }
    }
    size_t raw_len = payload_len + 4;
    if (ones + used != raw_len)
        return pb_fail(PB_ERR_PARSE, "base58check: decodes to %zu bytes, expected %zu",
                       ones + used, raw_len);
    uint8_t raw[MAX_RAW];
    memset(raw, 0, ones);
    memcpy(raw + ones, acc + sizeof acc - used, used);
    uint8_t sum[4];
    if (!checksum(raw, payload_len, sum))
        return pb_fail(PB_ERR_CRYPTO, "base58check: SHA-256 failed");
    if (memcmp(sum, raw + payload_len, 4) != 0)
        return pb_fail(PB_ERR_PARSE, "base58check: checksum mismatch");
    memcpy(payload, raw, payload_len);
    return PB_OK;
}
