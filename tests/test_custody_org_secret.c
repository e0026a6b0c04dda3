/* Trustless custody: the Organization Secret file formats, the wrap round
 * trip, the key derivation the design fixes (checked by an independent
 * decryption), and every way a wrong secret or altered data must fail. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/secret.h"
#include "custody/hex_ct.h"
#include "custody/org_secret.h"
#include "support/custody_fixture.h"

static void a_secret(uint8_t s[PB_ORG_SECRET_BYTES])
{
    cr_assert_eq(pb_org_secret_generate(s), PB_OK, "%s", pb_last_error());
}

Test(custody_org_secret, generated_secrets_are_32_bytes_and_differ)
{
    uint8_t a[PB_ORG_SECRET_BYTES], b[PB_ORG_SECRET_BYTES], zero[PB_ORG_SECRET_BYTES] = {0};
    a_secret(a);
    a_secret(b);
    cr_assert_neq(memcmp(a, b, sizeof a), 0);
    cr_assert_neq(memcmp(a, zero, sizeof a), 0);
}

Test(custody_org_secret, round_trip_of_several_sizes)
{
    uint8_t s[PB_ORG_SECRET_BYTES];
    a_secret(s);
    static uint8_t plain[4096];
    size_t sizes[] = {0, 1, 15, 16, 17, 32, 100, 1000, 4096};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        cx_fill(plain, sizes[i], (unsigned)i);
        uint8_t *blob, *back;
        size_t blob_len, back_len;
        cr_assert_eq(pb_org_wrap(s, "w-1", plain, sizes[i], &blob, &blob_len), PB_OK, "%s",
                     pb_last_error());
        cr_assert_eq(pb_org_unwrap(s, "w-1", blob, blob_len, &back, &back_len), PB_OK, "%s",
                     pb_last_error());
        cr_assert_eq(back_len, sizes[i]);
        cr_assert(sizes[i] == 0 || memcmp(back, plain, sizes[i]) == 0);
        pb_secret_free(back, back_len);
        pb_bytes_free(blob, blob_len);
    }
}

Test(custody_org_secret, key_is_hkdf_sha256_of_the_secret_salted_by_version_and_wallet_id)
{
    uint8_t s[PB_ORG_SECRET_BYTES];
    a_secret(s);
    uint8_t plain[77], back[77];
    cx_fill(plain, sizeof plain, 9);
    uint8_t *blob;
    size_t blob_len;
    cr_assert_eq(pb_org_wrap(s, "wallet-hkdf", plain, sizeof plain, &blob, &blob_len), PB_OK);
    cr_assert(cx_envelope_open_independent("PBOS", 0, "planbok-org-secret-v1", s, sizeof s,
                                           "wallet-hkdf", blob, blob_len, back),
              "independent HKDF + AES-256-GCM decryption must succeed");
    cr_assert_eq(memcmp(back, plain, sizeof plain), 0);
    pb_bytes_free(blob, blob_len);
}

Test(custody_org_secret, wrong_secret_is_an_authentication_error_that_hides_both_secrets)
{
    uint8_t s[PB_ORG_SECRET_BYTES], other[PB_ORG_SECRET_BYTES];
    a_secret(s);
    a_secret(other);
    uint8_t plain[40];
    cx_fill(plain, sizeof plain, 1);
    uint8_t *blob, *back = (uint8_t *)1;
    size_t blob_len, back_len = 5;
    cr_assert_eq(pb_org_wrap(s, "w-auth", plain, sizeof plain, &blob, &blob_len), PB_OK);
    cr_assert_eq(pb_org_unwrap(other, "w-auth", blob, blob_len, &back, &back_len), PB_ERR_AUTH);
    cr_assert_null(back);
    cr_assert_eq(back_len, 0);
    cr_assert_str_eq(pb_last_error(), "organization secret does not open this wallet");
    cx_assert_error_hides(s, sizeof s, 1);
    cx_assert_error_hides(other, sizeof other, 1);
    /* A secret differing in a single bit is just as wrong. */
    s[31] ^= 1;
    cr_assert_eq(pb_org_unwrap(s, "w-auth", blob, blob_len, &back, &back_len), PB_ERR_AUTH);
    pb_bytes_free(blob, blob_len);
}

typedef struct open_ctx {
    const uint8_t *secret;
    const char *wallet_id;
} open_ctx;

static pb_status open_org(void *vctx, const uint8_t *in, size_t in_len, uint8_t **plain,
                          size_t *plain_len)
{
    open_ctx *c = vctx;
    return pb_org_unwrap(c->secret, c->wallet_id, in, in_len, plain, plain_len);
}

Test(custody_org_secret, every_flip_truncation_and_extension_is_an_integrity_error)
{
    uint8_t s[PB_ORG_SECRET_BYTES];
    a_secret(s);
    uint8_t plain[64];
    cx_fill(plain, sizeof plain, 2);
    uint8_t *blob;
    size_t blob_len;
    cr_assert_eq(pb_org_wrap(s, "wallet-tamper", plain, sizeof plain, &blob, &blob_len), PB_OK);
    open_ctx c = {s, "wallet-tamper"};
    cx_assert_tamper_fails(open_org, &c, blob, blob_len, PB_ERR_INTEGRITY);
    pb_bytes_free(blob, blob_len);
}

Test(custody_org_secret, a_blob_of_another_wallet_does_not_open)
{
    uint8_t s[PB_ORG_SECRET_BYTES];
    a_secret(s);
    uint8_t plain[16] = {1, 2, 3};
    uint8_t *blob, *back;
    size_t blob_len, back_len;
    cr_assert_eq(pb_org_wrap(s, "wallet-a", plain, sizeof plain, &blob, &blob_len), PB_OK);
    cr_assert_eq(pb_org_unwrap(s, "wallet-b", blob, blob_len, &back, &back_len),
                 PB_ERR_INTEGRITY);
    cr_assert_null(back);
    /* Rewriting the recorded wallet id to the other one (same length) still
     * fails: the id is bound by the AAD and by the key derivation. */
    cr_assert_eq(blob[5], 8);
    blob[6 + 7] = 'b';
    pb_status st = pb_org_unwrap(s, "wallet-b", blob, blob_len, &back, &back_len);
    cr_assert(st == PB_ERR_AUTH || st == PB_ERR_INTEGRITY, "got %s", pb_status_name(st));
    cr_assert_null(back);
    pb_bytes_free(blob, blob_len);
}

Test(custody_org_secret, invalid_wallet_ids_are_refused)
{
    uint8_t s[PB_ORG_SECRET_BYTES];
    a_secret(s);
    uint8_t plain[4] = {0};
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    char long_id[200];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    const char *bad[] = {"", "has space", "tab\t", long_id};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(pb_org_wrap(s, bad[i], plain, sizeof plain, &blob, &blob_len),
                     PB_ERR_ARGUMENT, "id %zu", i);
    cr_assert_eq(pb_org_wrap(s, NULL, plain, sizeof plain, &blob, &blob_len), PB_ERR_ARGUMENT);
    cr_assert_null(blob);
}

Test(custody_org_secret, each_wrap_uses_a_fresh_iv)
{
    uint8_t s[PB_ORG_SECRET_BYTES];
    a_secret(s);
    uint8_t plain[32] = {7};
    uint8_t *a, *b;
    size_t a_len, b_len;
    cr_assert_eq(pb_org_wrap(s, "w", plain, sizeof plain, &a, &a_len), PB_OK);
    cr_assert_eq(pb_org_wrap(s, "w", plain, sizeof plain, &b, &b_len), PB_OK);
    cr_assert_eq(a_len, b_len);
    size_t iv_at = 4 + 1 + 1 + 1 + 16;
    cr_assert_neq(memcmp(a + iv_at, b + iv_at, 12), 0, "IVs must differ");
    cr_assert_neq(memcmp(a + iv_at + 12, b + iv_at + 12, a_len - iv_at - 12), 0);
    pb_bytes_free(a, a_len);
    pb_bytes_free(b, b_len);
}

/* --- the secret file ------------------------------------------------------ */

static pb_status read_content(const char *dir, const void *p, size_t n,
                              uint8_t out[PB_ORG_SECRET_BYTES])
{
    char path[512];
    cx_write(dir, "org.secret", p, n, path, sizeof path);
    return pb_org_secret_read_file(path, out);
}

Test(custody_org_secret, file_of_64_hex_characters_in_either_case_with_or_without_newline)
{
    char dir[256];
    cx_tmpdir(dir, sizeof dir);
    uint8_t s[PB_ORG_SECRET_BYTES], got[PB_ORG_SECRET_BYTES];
    a_secret(s);
    char hex[PB_ORG_SECRET_HEX_CHARS + 1];
    pb_org_secret_to_hex(s, hex);
    cr_assert_eq(strlen(hex), 64);
    /* Compare with the C library's formatting as an independent encoder. */
    for (size_t i = 0; i < sizeof s; i++) {
        char two[3];
        snprintf(two, sizeof two, "%02x", s[i]);
        cr_assert_eq(memcmp(hex + 2 * i, two, 2), 0);
    }
    const char *suffix[] = {"", "\n", "\r\n"};
    for (int upper = 0; upper < 2; upper++) {
        for (size_t k = 0; k < 3; k++) {
            char text[80];
            snprintf(text, sizeof text, "%s%s", hex, suffix[k]);
            if (upper)
                for (char *c = text; *c; c++)
                    if (*c >= 'a' && *c <= 'f')
                        *c = (char)(*c - 'a' + 'A');
            memset(got, 0, sizeof got);
            cr_assert_eq(read_content(dir, text, strlen(text), got), PB_OK, "%s",
                         pb_last_error());
            cr_assert_eq(memcmp(got, s, sizeof s), 0);
        }
    }
    cx_rmtree(dir);
}

Test(custody_org_secret, file_of_exactly_32_raw_bytes_even_ending_in_a_newline_byte)
{
    char dir[256];
    cx_tmpdir(dir, sizeof dir);
    uint8_t s[PB_ORG_SECRET_BYTES], got[PB_ORG_SECRET_BYTES];
    a_secret(s);
    s[0] = 0xff; /* not all hex digits */
    cr_assert_eq(read_content(dir, s, sizeof s, got), PB_OK, "%s", pb_last_error());
    cr_assert_eq(memcmp(got, s, sizeof s), 0);
    s[31] = '\n';
    cr_assert_eq(read_content(dir, s, sizeof s, got), PB_OK, "%s", pb_last_error());
    cr_assert_eq(memcmp(got, s, sizeof s), 0, "a raw final 0x0a is part of the secret");
    cx_rmtree(dir);
}

Test(custody_org_secret, malformed_files_are_argument_errors_that_never_echo_the_content)
{
    char dir[256];
    cx_tmpdir(dir, sizeof dir);
    uint8_t got[PB_ORG_SECRET_BYTES];
    const char *hex63 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
    char bad[8][100];
    snprintf(bad[0], 100, "%s", hex63);                    /* 63 hex */
    snprintf(bad[1], 100, "%sf0", hex63);                  /* 65 hex */
    snprintf(bad[2], 100, "%sg", hex63);                   /* 64 with a non-hex */
    snprintf(bad[3], 100, "%.31s", "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvu"); /* 31 bytes */
    snprintf(bad[4], 100, "%.33s", "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsr"); /* 33 bytes */
    snprintf(bad[5], 100, "%.32s", hex63);                 /* 32 hex characters */
    snprintf(bad[6], 100, "%s\n\n", hex63);                /* 63 hex and two newlines */
    snprintf(bad[7], 100, " %s", hex63);                   /* 64 with a space */
    for (size_t i = 0; i < 8; i++) {
        memset(got, 0xaa, sizeof got);
        cr_assert_eq(read_content(dir, bad[i], strlen(bad[i]), got), PB_ERR_ARGUMENT,
                     "case %zu accepted", i);
        const char *msg = pb_last_error();
        cr_assert_null(strstr(msg, "0123456789"), "case %zu echoes: %s", i, msg);
        cr_assert_null(strstr(msg, "ZYXWVUTS"), "case %zu echoes: %s", i, msg);
        for (size_t k = 0; k < sizeof got; k++)
            cr_assert_eq(got[k], 0, "output wiped on failure");
    }
    uint8_t zero[PB_ORG_SECRET_BYTES] = {0};
    cr_assert_eq(read_content(dir, zero, sizeof zero, got), PB_ERR_ARGUMENT, "all-zero secret");
    cr_assert_eq(read_content(dir, "", 0, got), PB_ERR_ARGUMENT, "empty file");
    static uint8_t big[100000];
    cr_assert_eq(read_content(dir, big, sizeof big, got), PB_ERR_ARGUMENT, "large file");
    char missing[512];
    snprintf(missing, sizeof missing, "%s/none", dir);
    cr_assert_eq(pb_org_secret_read_file(missing, got), PB_ERR_ARGUMENT);
    cx_rmtree(dir);
}

Test(custody_org_secret, constant_time_hex_agrees_with_strtol_on_every_byte_value)
{
    for (unsigned c = 0; c < 256; c++) {
        uint8_t nib = 0xee;
        unsigned bad = pb_hex_nibble_ct((uint8_t)c, &nib);
        char text[2] = {(char)c, 0};
        char *end;
        int is_hex = c != 0 && strchr("0123456789abcdefABCDEF", (int)c) != NULL;
        cr_assert_eq(bad, (unsigned)!is_hex, "byte %u", c);
        if (is_hex)
            cr_assert_eq(nib, (uint8_t)strtol(text, &end, 16), "byte %u", c);
    }
}
