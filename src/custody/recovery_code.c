/* recovery_code.c - recovery code and recovery blob (see recovery_code.h). */
#include "custody/recovery_code.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/fail.h"
#include "common/secret.h"
#include "custody/envelope.h"

#define DATA_SYMBOLS 32
#define CHECK_SYMBOLS 4
#define CHECK_PRIME 1048573u /* 2^20 - 3, prime */
#define GROUP 4

/* A code carries 160 uniformly random bits, far beyond what can be guessed,
 * so it is used directly as HKDF input keying material; a slow KDF such as
 * Argon2id would add nothing (it exists to stretch low-entropy PINs). */
static const pb_envelope_kind recovery_kind = {
    .magic = {'P', 'B', 'R', 'C'},
    .version = 1,
    .params_len = 0,
    .hkdf_salt = "planbok-recovery-code-v1",
    .what = "recovery blob",
    .wrong_key = "recovery code does not open this wallet's recovery blob",
};

static const char alphabet[32] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* All-ones when a == b, else zero, without a branch. */
static uint32_t eq_mask(uint32_t a, uint32_t b)
{
    uint32_t x = a ^ b;
    return (uint32_t)0 - (uint32_t)(((x | (0u - x)) >> 31) ^ 1u);
}

static char symbol_char(uint32_t s)
{
    uint32_t c = 0;
    for (uint32_t k = 0; k < 32; k++)
        c |= (uint32_t)(uint8_t)alphabet[k] & eq_mask(k, s);
    return (char)c;
}

/* The symbol value of a typed character, or -1. Case-insensitive; I and L
 * are 1 and O is 0, as Crockford prescribes for misread characters. Scans
 * the whole alphabet so the time does not depend on the character. */
static int symbol_value(char ch)
{
    uint32_t c = (uint8_t)ch;
    uint32_t is_lower = ((c - 'a') >> 31 ^ 1u) & ((c - ('z' + 1)) >> 31);
    c -= 0x20u & (0u - is_lower);
    uint32_t value = 0, found = 0;
    for (uint32_t k = 0; k < 32; k++) {
        uint32_t m = eq_mask(c, (uint8_t)alphabet[k]);
        value |= k & m;
        found |= m;
    }
    uint32_t one = eq_mask(c, 'I') | eq_mask(c, 'L');
    uint32_t zero = eq_mask(c, 'O');
    value |= 1u & one;
    found |= one | zero;
    return found ? (int)value : -1;
}

static void bytes_to_symbols(const uint8_t b[PB_RECOVERY_CODE_BYTES], uint8_t s[DATA_SYMBOLS])
{
    for (size_t j = 0; j < DATA_SYMBOLS; j++) {
        size_t bit = 5 * j, at = bit / 8;
        uint32_t window = (uint32_t)b[at] << 8;
        if (at + 1 < PB_RECOVERY_CODE_BYTES)
            window |= b[at + 1];
        s[j] = (uint8_t)((window >> (11 - bit % 8)) & 31u);
    }
}

static void symbols_to_bytes(const uint8_t s[DATA_SYMBOLS], uint8_t b[PB_RECOVERY_CODE_BYTES])
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t at = 0;
    for (size_t j = 0; j < DATA_SYMBOLS; j++) {
        acc = (acc << 5) | s[j];
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            b[at++] = (uint8_t)(acc >> bits);
        }
    }
    OPENSSL_cleanse(&acc, sizeof acc);
}

/* The 160-bit value modulo CHECK_PRIME, as four symbols. */
static void checksum(const uint8_t s[DATA_SYMBOLS], uint8_t out[CHECK_SYMBOLS])
{
    uint64_t acc = 0;
    for (size_t j = 0; j < DATA_SYMBOLS; j++)
        acc = (acc * 32u + s[j]) % CHECK_PRIME;
    for (size_t k = 0; k < CHECK_SYMBOLS; k++)
        out[k] = (uint8_t)((acc >> (5 * (CHECK_SYMBOLS - 1 - k))) & 31u);
}

static void print_code(const uint8_t s[PB_RECOVERY_CODE_SYMBOLS], char code[PB_RECOVERY_CODE_MAX])
{
    size_t at = 0;
    for (size_t j = 0; j < PB_RECOVERY_CODE_SYMBOLS; j++) {
        if (j > 0 && j % GROUP == 0)
            code[at++] = '-';
        code[at++] = symbol_char(s[j]);
    }
    code[at] = '\0';
}

pb_status pb_recovery_code_new(char code[PB_RECOVERY_CODE_MAX])
{
    uint8_t b[PB_RECOVERY_CODE_BYTES];
    uint8_t s[PB_RECOVERY_CODE_SYMBOLS];
    memset(code, 0, PB_RECOVERY_CODE_MAX);
    if (RAND_priv_bytes(b, sizeof b) != 1)
        return pb_fail(PB_ERR_CRYPTO, "recovery code: random generator failed");
    bytes_to_symbols(b, s);
    checksum(s, s + DATA_SYMBOLS);
    print_code(s, code);
    OPENSSL_cleanse(b, sizeof b);
    OPENSSL_cleanse(s, sizeof s);
    return PB_OK;
}

/* Text to the 36 symbol values. Failures name only public facts. */
static pb_status decode_symbols(const char *text, size_t len,
                                uint8_t s[PB_RECOVERY_CODE_SYMBOLS])
{
    size_t n = 0;
    int bad_char = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '-' || text[i] == ' ')
            continue;
        if (n == PB_RECOVERY_CODE_SYMBOLS) {
            n++;
            break;
        }
        int v = symbol_value(text[i]);
        bad_char |= v < 0;
        s[n++] = (uint8_t)(v & 31);
    }
    if (n != PB_RECOVERY_CODE_SYMBOLS)
        return pb_fail(PB_ERR_ARGUMENT,
                       "recovery code is malformed: a code has %d characters besides separators",
                       PB_RECOVERY_CODE_SYMBOLS);
    if (bad_char)
        return pb_fail(PB_ERR_ARGUMENT,
                       "recovery code is malformed: it holds a character that no code contains");
    uint8_t expect[CHECK_SYMBOLS];
    checksum(s, expect);
    uint32_t diff = 0;
    for (size_t k = 0; k < CHECK_SYMBOLS; k++)
        diff |= (uint32_t)(expect[k] ^ s[DATA_SYMBOLS + k]);
    OPENSSL_cleanse(expect, sizeof expect);
    if (diff)
        return pb_fail(PB_ERR_ARGUMENT,
                       "recovery code is mistyped: its checksum does not match");
    return PB_OK;
}

static pb_status decode(const char *text, uint8_t b[PB_RECOVERY_CODE_BYTES])
{
    if (!text)
        return pb_fail(PB_ERR_ARGUMENT, "recovery code: none given");
    uint8_t s[PB_RECOVERY_CODE_SYMBOLS];
    pb_status st = decode_symbols(text, strnlen(text, 4 * PB_RECOVERY_CODE_MAX), s);
    if (st == PB_OK)
        symbols_to_bytes(s, b);
    OPENSSL_cleanse(s, sizeof s);
    return st;
}

pb_status pb_recovery_code_parse(const char *text, char code[PB_RECOVERY_CODE_MAX])
{
    memset(code, 0, PB_RECOVERY_CODE_MAX);
    if (!text)
        return pb_fail(PB_ERR_ARGUMENT, "recovery code: none given");
    uint8_t s[PB_RECOVERY_CODE_SYMBOLS];
    pb_status st = decode_symbols(text, strnlen(text, 4 * PB_RECOVERY_CODE_MAX), s);
    if (st == PB_OK)
        print_code(s, code);
    OPENSSL_cleanse(s, sizeof s);
    return st;
}

pb_status pb_recovery_code_read_file(const char *path, char code[PB_RECOVERY_CODE_MAX])
{
    memset(code, 0, PB_RECOVERY_CODE_MAX);
    if (!path)
        return pb_fail(PB_ERR_ARGUMENT, "recovery code file: no path given");
    uint8_t *buf;
    size_t len;
    /* Generous: people paste codes with extra spaces. */
    pb_status st = pb_secret_read_file(path, "recovery code file", 4 * PB_RECOVERY_CODE_MAX - 1,
                                       PB_ERR_ARGUMENT, &buf, &len);
    if (st == PB_ERR_ARGUMENT && errno == EFBIG)
        return pb_fail(PB_ERR_ARGUMENT, "recovery code file %s: too long to be a code", path);
    if (st != PB_OK)
        return st;
    /* NUL-terminated copy in secret memory for the parser. */
    char *text = (char *)pb_secret_alloc(len + 1);
    if (!text) {
        pb_secret_free(buf, len);
        return pb_fail(PB_ERR_NOMEM, "recovery code: out of memory");
    }
    memcpy(text, buf, len);
    pb_secret_free(buf, len);
    st = strlen(text) == len
                       ? pb_recovery_code_parse(text, code)
                       : pb_fail(PB_ERR_ARGUMENT, "recovery code is malformed: it holds a NUL");
    pb_secret_free(text, len + 1);
    return st;
}

pb_status pb_recovery_wrap(const char *code, const char *wallet_id, const uint8_t *plain,
                           size_t plain_len, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    uint8_t b[PB_RECOVERY_CODE_BYTES];
    pb_status st = decode(code, b);
    if (st == PB_OK)
        st = pb_envelope_wrap(&recovery_kind, NULL, b, sizeof b, wallet_id, plain, plain_len,
                              out, out_len);
    OPENSSL_cleanse(b, sizeof b);
    return st;
}

pb_status pb_recovery_unwrap(const char *code, const char *wallet_id, const uint8_t *in,
                             size_t in_len, uint8_t **plain, size_t *plain_len)
{
    *plain = NULL;
    *plain_len = 0;
    uint8_t b[PB_RECOVERY_CODE_BYTES];
    pb_status st = decode(code, b);
    if (st == PB_OK)
        st = pb_envelope_unwrap(&recovery_kind, b, sizeof b, wallet_id, in, in_len, plain,
                                plain_len);
    OPENSSL_cleanse(b, sizeof b);
    return st;
}
