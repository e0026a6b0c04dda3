/* PIN Reset Protocol: the recovery code (160 bits, Crockford base32, a
 * checksum that catches every single-character typo and adjacent swap, the
 * checksum recomputed with OpenSSL's BIGNUM) and the recovery blob sealed
 * under it. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <string.h>

#include <openssl/bn.h>

#include "common/bytes.h"
#include "common/secret.h"
#include "custody/recovery_code.h"
#include "support/custody_fixture.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void new_code(char code[PB_RECOVERY_CODE_MAX])
{
    cr_assert_eq(pb_recovery_code_new(code), PB_OK, "%s", pb_last_error());
}

/* The symbols of a printed code, without separators. */
static void symbols(const char *code, char out[PB_RECOVERY_CODE_SYMBOLS + 1])
{
    size_t n = 0;
    for (const char *c = code; *c; c++)
        if (*c != '-')
            out[n++] = *c;
    cr_assert_eq(n, PB_RECOVERY_CODE_SYMBOLS);
    out[n] = '\0';
}

/* Independent decoding: symbol values by string search, the 160-bit value
 * through OpenSSL's BIGNUM, its bytes big-endian. */
static void decode_independent(const char *code, uint8_t bytes[20], unsigned long *check)
{
    char s[PB_RECOVERY_CODE_SYMBOLS + 1];
    symbols(code, s);
    BIGNUM *v = BN_new();
    cr_assert_not_null(v);
    BN_zero(v);
    for (size_t i = 0; i < 32; i++) {
        const char *at = strchr(alphabet, s[i]);
        cr_assert_not_null(at);
        cr_assert_eq(BN_lshift(v, v, 5), 1);
        cr_assert_eq(BN_add_word(v, (BN_ULONG)(at - alphabet)), 1);
    }
    cr_assert_eq(BN_bn2binpad(v, bytes, 20), 20);
    unsigned long given = 0;
    for (size_t i = 32; i < 36; i++)
        given = given * 32 + (unsigned long)(strchr(alphabet, s[i]) - alphabet);
    *check = given;
    cr_assert_eq(BN_mod_word(v, 1048573), (BN_ULONG)given,
                 "the checksum is the 160-bit value mod 1048573");
    BN_free(v);
}

Test(custody_recovery_code, a_new_code_is_36_crockford_symbols_in_groups_of_four)
{
    char code[PB_RECOVERY_CODE_MAX];
    new_code(code);
    cr_assert_eq(strlen(code), PB_RECOVERY_CODE_CHARS);
    for (size_t i = 0; i < strlen(code); i++) {
        if (i % 5 == 4)
            cr_assert_eq(code[i], '-', "separator at %zu", i);
        else
            cr_assert_not_null(strchr(alphabet, code[i]), "symbol at %zu", i);
    }
    uint8_t bytes[20];
    unsigned long check;
    decode_independent(code, bytes, &check);
}

Test(custody_recovery_code, codes_carry_160_uniform_bits)
{
    /* 32 data symbols of 5 bits = 160 >= 128. Over 300 codes every data
     * position must take most of its 32 values and every code is new; a
     * generator with a stuck or narrow position fails this. */
    enum { N = 300 };
    static char codes[N][PB_RECOVERY_CODE_MAX];
    unsigned seen[32][32] = {{0}};
    for (size_t k = 0; k < N; k++) {
        new_code(codes[k]);
        char s[PB_RECOVERY_CODE_SYMBOLS + 1];
        symbols(codes[k], s);
        for (size_t i = 0; i < 32; i++)
            seen[i][strchr(alphabet, s[i]) - alphabet] = 1;
        for (size_t j = 0; j < k; j++)
            cr_assert_str_neq(codes[j], codes[k]);
    }
    for (size_t i = 0; i < 32; i++) {
        unsigned distinct = 0;
        for (size_t v = 0; v < 32; v++)
            distinct += seen[i][v];
        cr_assert_geq(distinct, 24, "position %zu took only %u values", i, distinct);
    }
}

Test(custody_recovery_code, typed_forms_normalize_to_the_printed_code)
{
    char code[PB_RECOVERY_CODE_MAX], back[PB_RECOVERY_CODE_MAX], typed[200];
    new_code(code);
    /* lowercase, no dashes */
    size_t n = 0;
    for (const char *c = code; *c; c++)
        if (*c != '-')
            typed[n++] = (char)tolower((unsigned char)*c);
    typed[n] = '\0';
    cr_assert_eq(pb_recovery_code_parse(typed, back), PB_OK, "%s", pb_last_error());
    cr_assert_str_eq(back, code);
    /* spaces instead of dashes, and extra ones */
    n = 0;
    for (const char *c = code; *c; c++) {
        typed[n++] = *c == '-' ? ' ' : *c;
        if (*c == '-')
            typed[n++] = ' ';
    }
    typed[n] = '\0';
    cr_assert_eq(pb_recovery_code_parse(typed, back), PB_OK, "%s", pb_last_error());
    cr_assert_str_eq(back, code);
    /* Crockford's look-alikes: I and L read as 1, O as 0 */
    strcpy(typed, code);
    for (char *c = typed; *c; c++) {
        if (*c == '1')
            *c = (c - typed) % 2 ? 'l' : 'I';
        else if (*c == '0')
            *c = 'o';
    }
    cr_assert_eq(pb_recovery_code_parse(typed, back), PB_OK, "%s", pb_last_error());
    cr_assert_str_eq(back, code);
}

Test(custody_recovery_code, every_single_character_typo_is_caught_by_the_checksum)
{
    for (int round = 0; round < 3; round++) {
        char code[PB_RECOVERY_CODE_MAX], typed[PB_RECOVERY_CODE_MAX], back[PB_RECOVERY_CODE_MAX];
        new_code(code);
        for (size_t i = 0; i < strlen(code); i++) {
            if (code[i] == '-')
                continue;
            for (size_t a = 0; a < 32; a++) {
                if (alphabet[a] == code[i])
                    continue;
                strcpy(typed, code);
                typed[i] = alphabet[a];
                cr_assert_eq(pb_recovery_code_parse(typed, back), PB_ERR_ARGUMENT,
                             "typo %c at %zu accepted", alphabet[a], i);
            }
        }
    }
}

Test(custody_recovery_code, every_swap_of_adjacent_different_symbols_is_caught)
{
    for (int round = 0; round < 3; round++) {
        char code[PB_RECOVERY_CODE_MAX], s[PB_RECOVERY_CODE_SYMBOLS + 1],
            back[PB_RECOVERY_CODE_MAX];
        new_code(code);
        symbols(code, s);
        for (size_t i = 0; i + 1 < PB_RECOVERY_CODE_SYMBOLS; i++) {
            if (s[i] == s[i + 1])
                continue;
            char t = s[i];
            s[i] = s[i + 1];
            s[i + 1] = t;
            cr_assert_eq(pb_recovery_code_parse(s, back), PB_ERR_ARGUMENT, "swap at %zu", i);
            s[i + 1] = s[i];
            s[i] = t;
        }
        cr_assert_eq(pb_recovery_code_parse(s, back), PB_OK);
    }
}

Test(custody_recovery_code, malformed_codes_are_argument_errors_that_never_echo_the_code)
{
    char code[PB_RECOVERY_CODE_MAX], typed[200], back[PB_RECOVERY_CODE_MAX];
    new_code(code);
    char s[PB_RECOVERY_CODE_SYMBOLS + 1];
    symbols(code, s);
    const char *edits[] = {"drop-last", "add-one", "U", "*", "empty"};
    for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
        strcpy(typed, s);
        if (e == 0)
            typed[35] = '\0';
        else if (e == 1)
            strcat(typed, "0");
        else if (e == 4)
            typed[0] = '\0';
        else
            typed[7] = edits[e][0];
        memset(back, 'z', sizeof back);
        cr_assert_eq(pb_recovery_code_parse(typed, back), PB_ERR_ARGUMENT, "edit %s", edits[e]);
        cr_assert_eq(back[0], '\0', "no output on failure");
        const char *msg = pb_last_error();
        for (size_t i = 0; i + 4 <= 36; i += 4)
            cr_assert_null(strstr(msg, (char[5]){s[i], s[i + 1], s[i + 2], s[i + 3], 0}),
                           "message echoes the code: %s", msg);
    }
    cr_assert_eq(pb_recovery_code_parse(NULL, back), PB_ERR_ARGUMENT);
}

Test(custody_recovery_code, code_files_are_read_and_normalized)
{
    char dir[256], path[512], code[PB_RECOVERY_CODE_MAX], back[PB_RECOVERY_CODE_MAX];
    cx_tmpdir(dir, sizeof dir);
    new_code(code);
    char text[100];
    snprintf(text, sizeof text, "%s\n", code);
    for (char *c = text; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    cx_write(dir, "code", text, strlen(text), path, sizeof path);
    cr_assert_eq(pb_recovery_code_read_file(path, back), PB_OK, "%s", pb_last_error());
    cr_assert_str_eq(back, code);
    text[3] = text[3] == 'x' ? 'y' : 'x';
    cx_write(dir, "code", text, strlen(text), path, sizeof path);
    cr_assert_eq(pb_recovery_code_read_file(path, back), PB_ERR_ARGUMENT);
    cx_write(dir, "code", "", 0, path, sizeof path);
    cr_assert_eq(pb_recovery_code_read_file(path, back), PB_ERR_ARGUMENT);
    char nul[50];
    memcpy(nul, code, 44);
    nul[10] = '\0';
    cx_write(dir, "code", nul, 44, path, sizeof path);
    cr_assert_eq(pb_recovery_code_read_file(path, back), PB_ERR_ARGUMENT, "embedded NUL");
    snprintf(path, sizeof path, "%s/none", dir);
    cr_assert_eq(pb_recovery_code_read_file(path, back), PB_ERR_ARGUMENT);
    cx_rmtree(dir);
}

/* --- the recovery blob ---------------------------------------------------- */

Test(custody_recovery_code, recovery_blob_round_trip_with_the_key_from_hkdf_of_the_code_bytes)
{
    char code[PB_RECOVERY_CODE_MAX];
    new_code(code);
    static uint8_t plain[2048];
    cx_fill(plain, sizeof plain, 5);
    uint8_t *blob, *back;
    size_t blob_len, back_len;
    cr_assert_eq(pb_recovery_wrap(code, "wallet-r", plain, sizeof plain, &blob, &blob_len), PB_OK,
                 "%s", pb_last_error());
    cr_assert_eq(pb_recovery_unwrap(code, "wallet-r", blob, blob_len, &back, &back_len), PB_OK,
                 "%s", pb_last_error());
    cr_assert_eq(back_len, sizeof plain);
    cr_assert_eq(memcmp(back, plain, sizeof plain), 0);
    pb_secret_free(back, back_len);

    uint8_t bytes[20];
    unsigned long check;
    decode_independent(code, bytes, &check);
    static uint8_t indep[2048];
    cr_assert(cx_envelope_open_independent("PBRC", 0, "planbok-recovery-code-v1", bytes, 20,
                                           "wallet-r", blob, blob_len, indep));
    cr_assert_eq(memcmp(indep, plain, sizeof plain), 0);

    /* The code as typed (lowercase, no dashes) opens it too. */
    char typed[60];
    size_t n = 0;
    for (const char *c = code; *c; c++)
        if (*c != '-')
            typed[n++] = (char)tolower((unsigned char)*c);
    typed[n] = '\0';
    cr_assert_eq(pb_recovery_unwrap(typed, "wallet-r", blob, blob_len, &back, &back_len), PB_OK);
    pb_secret_free(back, back_len);
    pb_bytes_free(blob, blob_len);
}

Test(custody_recovery_code, a_wrong_code_is_an_authentication_error_that_hides_both_codes)
{
    char code[PB_RECOVERY_CODE_MAX], other[PB_RECOVERY_CODE_MAX];
    new_code(code);
    new_code(other);
    uint8_t *blob, *back = NULL;
    size_t blob_len, back_len;
    cr_assert_eq(pb_recovery_wrap(code, "w", (const uint8_t *)"share", 5, &blob, &blob_len),
                 PB_OK);
    cr_assert_eq(pb_recovery_unwrap(other, "w", blob, blob_len, &back, &back_len), PB_ERR_AUTH);
    cr_assert_null(back);
    cr_assert_str_eq(pb_last_error(), "recovery code does not open this wallet's recovery blob");
    for (size_t i = 0; i + 4 <= strlen(code); i += 5) {
        cr_assert_null(strstr(pb_last_error(), (char[5]){code[i], code[i + 1], code[i + 2],
                                                          code[i + 3], 0}));
        cr_assert_null(strstr(pb_last_error(), (char[5]){other[i], other[i + 1], other[i + 2],
                                                          other[i + 3], 0}));
    }
    pb_bytes_free(blob, blob_len);
}

Test(custody_recovery_code, a_malformed_code_is_an_argument_error_on_wrap_and_unwrap)
{
    char code[PB_RECOVERY_CODE_MAX];
    new_code(code);
    uint8_t *blob = NULL, *back = NULL;
    size_t blob_len = 0, back_len;
    char typo[PB_RECOVERY_CODE_MAX];
    strcpy(typo, code);
    typo[0] = typo[0] == 'A' ? 'B' : 'A';
    cr_assert_eq(pb_recovery_wrap(typo, "w", (const uint8_t *)"x", 1, &blob, &blob_len),
                 PB_ERR_ARGUMENT);
    cr_assert_null(blob);
    cr_assert_eq(pb_recovery_wrap(code, "w", (const uint8_t *)"x", 1, &blob, &blob_len), PB_OK);
    cr_assert_eq(pb_recovery_unwrap(typo, "w", blob, blob_len, &back, &back_len),
                 PB_ERR_ARGUMENT);
    cr_assert_eq(pb_recovery_unwrap(NULL, "w", blob, blob_len, &back, &back_len),
                 PB_ERR_ARGUMENT);
    cr_assert_null(back);
    pb_bytes_free(blob, blob_len);
}

typedef struct open_ctx {
    const char *code;
    const char *wallet;
} open_ctx;

static pb_status open_recovery(void *vctx, const uint8_t *in, size_t in_len, uint8_t **plain,
                               size_t *plain_len)
{
    open_ctx *c = vctx;
    return pb_recovery_unwrap(c->code, c->wallet, in, in_len, plain, plain_len);
}

Test(custody_recovery_code, every_flip_truncation_and_extension_is_an_integrity_error)
{
    char code[PB_RECOVERY_CODE_MAX];
    new_code(code);
    uint8_t plain[40], *blob;
    size_t blob_len;
    cx_fill(plain, sizeof plain, 6);
    cr_assert_eq(pb_recovery_wrap(code, "wallet-t", plain, sizeof plain, &blob, &blob_len),
                 PB_OK);
    open_ctx c = {code, "wallet-t"};
    cx_assert_tamper_fails(open_recovery, &c, blob, blob_len, PB_ERR_INTEGRITY);
    pb_bytes_free(blob, blob_len);
}

Test(custody_recovery_code, a_recovery_blob_of_another_wallet_does_not_open)
{
    char code[PB_RECOVERY_CODE_MAX];
    new_code(code);
    uint8_t *blob, *back;
    size_t blob_len, back_len;
    cr_assert_eq(pb_recovery_wrap(code, "wallet-1", (const uint8_t *)"x", 1, &blob, &blob_len),
                 PB_OK);
    cr_assert_eq(pb_recovery_unwrap(code, "wallet-2", blob, blob_len, &back, &back_len),
                 PB_ERR_INTEGRITY);
    cr_assert_null(back);
    pb_bytes_free(blob, blob_len);
}
