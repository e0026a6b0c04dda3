/* Customer custody: PIN file, Argon2id derivation, the access-key verifier
 * and the wrappedSecret, including that the Argon2id parameters stored in a
 * wrappedSecret are the ones that open it. Small Argon2id costs (t=1,
 * m=8192 KiB) keep the suite fast; one test runs the defaults. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <argon2.h>
#include <openssl/evp.h>

#include "common/bytes.h"
#include "common/secret.h"
#include "custody/pin.h"
#include "support/custody_fixture.h"

static const pb_kdf_params fast = {1, 8192, 1};
static const uint8_t salt_a[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t salt_b[16] = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};

static void derive(const char *pin, const uint8_t salt[16], const pb_kdf_params *kdf,
                   uint8_t seal[32], uint8_t access[32])
{
    cr_assert_eq(pb_pin_derive((const uint8_t *)pin, strlen(pin), salt, kdf, seal, access), PB_OK,
                 "%s", pb_last_error());
}

Test(custody_pin, default_kdf_parameters_are_t3_64MiB_p1)
{
    pb_kdf_params p;
    pb_kdf_params_default(&p);
    cr_assert_eq(p.t_cost, 3);
    cr_assert_eq(p.m_cost_kib, 65536);
    cr_assert_eq(p.parallelism, 1);
    cr_assert_eq(pb_kdf_params_check(&p), PB_OK);
}

Test(custody_pin, kdf_minimums_and_maximums_are_enforced)
{
    cr_assert_eq(pb_kdf_params_check(&fast), PB_OK, "t=1 m=8192 p=1 is the floor");
    pb_kdf_params bad[] = {{0, 8192, 1},  {1, 8191, 1},  {1, 8192, 0},
                           {65, 8192, 1}, {1, (4u << 20) + 1, 1}, {1, 8192, 17}};
    uint8_t seal[32], access[32];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(pb_kdf_params_check(&bad[i]), PB_ERR_ARGUMENT, "case %zu", i);
        cr_assert_eq(pb_pin_derive((const uint8_t *)"1234", 4, salt_a, &bad[i], seal, access),
                     PB_ERR_ARGUMENT, "derive case %zu", i);
        uint8_t *out = NULL;
        size_t out_len = 0;
        cr_assert_eq(pb_pin_wrap(seal, &bad[i], "w", (const uint8_t *)"x", 1, &out, &out_len),
                     PB_ERR_ARGUMENT, "wrap case %zu", i);
        cr_assert_null(out);
    }
}

Test(custody_pin, derive_splits_one_64_byte_argon2id_output_into_sealing_then_access_key)
{
    uint8_t seal[32], access[32], whole[64];
    derive("918273", salt_a, &fast, seal, access);
    /* The same computation through libargon2's context interface. */
    uint8_t pwd[6] = {'9', '1', '8', '2', '7', '3'}, salt[16];
    memcpy(salt, salt_a, sizeof salt);
    argon2_context ctx = {0};
    ctx.out = whole;
    ctx.outlen = sizeof whole;
    ctx.pwd = pwd;
    ctx.pwdlen = sizeof pwd;
    ctx.salt = salt;
    ctx.saltlen = sizeof salt_a;
    ctx.t_cost = 1;
    ctx.m_cost = 8192;
    ctx.lanes = ctx.threads = 1;
    ctx.version = ARGON2_VERSION_13;
    cr_assert_eq(argon2_ctx(&ctx, Argon2_id), ARGON2_OK);
    cr_assert_eq(memcmp(seal, whole, 32), 0);
    cr_assert_eq(memcmp(access, whole + 32, 32), 0);
    cr_assert_neq(memcmp(seal, access, 32), 0);
}

Test(custody_pin, derivation_is_deterministic_and_depends_on_pin_salt_and_cost)
{
    uint8_t s1[32], a1[32], s2[32], a2[32];
    derive("482913", salt_a, &fast, s1, a1);
    derive("482913", salt_a, &fast, s2, a2);
    cr_assert_eq(memcmp(s1, s2, 32), 0);
    cr_assert_eq(memcmp(a1, a2, 32), 0);
    derive("482913", salt_b, &fast, s2, a2);
    cr_assert_neq(memcmp(s1, s2, 32), 0, "another salt, another sealing key");
    cr_assert_neq(memcmp(a1, a2, 32), 0, "another salt, another access key");
    derive("482914", salt_a, &fast, s2, a2);
    cr_assert_neq(memcmp(s1, s2, 32), 0);
    pb_kdf_params more = {2, 8192, 1};
    derive("482913", salt_a, &more, s2, a2);
    cr_assert_neq(memcmp(s1, s2, 32), 0, "another cost, another key");
}

Test(custody_pin, derive_refuses_empty_or_overlong_pins)
{
    uint8_t seal[32], access[32], pin[65];
    memset(pin, '7', sizeof pin);
    cr_assert_eq(pb_pin_derive(pin, 0, salt_a, &fast, seal, access), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_pin_derive(pin, 65, salt_a, &fast, seal, access), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_pin_derive(NULL, 4, salt_a, &fast, seal, access), PB_ERR_ARGUMENT);
}

Test(custody_pin, verifier_is_tagged_sha256_of_wallet_id_and_access_key)
{
    uint8_t seal[32], access[32], v[32], expect[32];
    derive("2468", salt_a, &fast, seal, access);
    pb_pin_verifier(access, "wallet-v", v);
    uint8_t msg[24 + 1 + 8 + 32];
    memcpy(msg, "planbok-pin-verifier-v1", 24); /* with its NUL */
    msg[24] = 8;
    memcpy(msg + 25, "wallet-v", 8);
    memcpy(msg + 33, access, 32);
    unsigned int n;
    cr_assert_eq(EVP_Digest(msg, sizeof msg, expect, &n, EVP_sha256(), NULL), 1);
    cr_assert_eq(memcmp(v, expect, 32), 0);
    cr_assert_neq(memcmp(v, access, 32), 0, "the verifier is not the access key");
    cr_assert_neq(memcmp(v, seal, 32), 0);
}

Test(custody_pin, verifier_matches_only_the_right_access_key_and_wallet)
{
    uint8_t seal[32], access[32], other_access[32], v[32], v2[32];
    derive("1357", salt_a, &fast, seal, access);
    derive("1358", salt_a, &fast, seal, other_access);
    pb_pin_verifier(access, "wallet-1", v);
    cr_assert_eq(pb_pin_verifier_matches(v, access, "wallet-1"), 1);
    cr_assert_eq(pb_pin_verifier_matches(v, other_access, "wallet-1"), 0, "wrong PIN");
    cr_assert_eq(pb_pin_verifier_matches(v, access, "wallet-2"), 0, "other wallet");
    pb_pin_verifier(access, "wallet-2", v2);
    cr_assert_neq(memcmp(v, v2, 32), 0, "verifiers differ per wallet");
    for (size_t i = 0; i < 32; i++) {
        uint8_t edited[32];
        memcpy(edited, v, 32);
        edited[i] ^= 0x80;
        cr_assert_eq(pb_pin_verifier_matches(edited, access, "wallet-1"), 0, "byte %zu", i);
    }
    uint8_t zero[32] = {0};
    cr_assert_eq(pb_pin_verifier_matches(zero, access, ""), 0, "invalid wallet id never matches");
}

static void wrap(const uint8_t seal[32], const pb_kdf_params *kdf, const char *wallet,
                 const uint8_t *plain, size_t n, uint8_t **blob, size_t *blob_len)
{
    cr_assert_eq(pb_pin_wrap(seal, kdf, wallet, plain, n, blob, blob_len), PB_OK, "%s",
                 pb_last_error());
}

Test(custody_pin, wrapped_secret_round_trip)
{
    uint8_t seal[32], access[32];
    derive("5555", salt_a, &fast, seal, access);
    static uint8_t plain[3000];
    size_t sizes[] = {0, 1, 32, 2999, 3000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        cx_fill(plain, sizes[i], (unsigned)i);
        uint8_t *blob, *back;
        size_t blob_len, back_len;
        wrap(seal, &fast, "w-rt", plain, sizes[i], &blob, &blob_len);
        cr_assert_eq(pb_pin_unwrap(seal, "w-rt", blob, blob_len, &back, &back_len), PB_OK, "%s",
                     pb_last_error());
        cr_assert_eq(back_len, sizes[i]);
        cr_assert(sizes[i] == 0 || memcmp(back, plain, sizes[i]) == 0);
        pb_secret_free(back, back_len);
        pb_bytes_free(blob, blob_len);
    }
}

Test(custody_pin, wrap_key_is_hkdf_of_the_sealing_key_and_aad_binds_the_kdf_parameters)
{
    uint8_t seal[32], access[32], plain[60], back[60];
    derive("7777", salt_a, &fast, seal, access);
    cx_fill(plain, sizeof plain, 11);
    uint8_t *blob;
    size_t blob_len;
    wrap(seal, &fast, "w-indep", plain, sizeof plain, &blob, &blob_len);
    const uint8_t params[12] = {0, 0, 0, 1, 0, 0, 0x20, 0, 0, 0, 0, 1};
    cr_assert_eq(memcmp(blob + 5, params, 12), 0, "t, m, p as big-endian u32 after the version");
    cr_assert(cx_envelope_open_independent("PBPW", 12, "planbok-pin-wrap-v1", seal, 32,
                                           "w-indep", blob, blob_len, back));
    cr_assert_eq(memcmp(back, plain, sizeof plain), 0);
    pb_bytes_free(blob, blob_len);
}

Test(custody_pin, stored_argon2id_parameters_are_the_ones_that_open_the_wrap)
{
    const char *pin = "20250101";
    pb_kdf_params raised = {2, 16384, 2};
    uint8_t seal[32], access[32];
    derive(pin, salt_a, &raised, seal, access);
    uint8_t plain[50];
    cx_fill(plain, sizeof plain, 4);
    uint8_t *blob;
    size_t blob_len;
    wrap(seal, &raised, "w-kdf", plain, sizeof plain, &blob, &blob_len);

    /* A later unwrap learns the cost from the blob, not from a default. */
    pb_kdf_params read;
    cr_assert_eq(pb_pin_wrapped_kdf(blob, blob_len, &read), PB_OK, "%s", pb_last_error());
    cr_assert_eq(read.t_cost, 2);
    cr_assert_eq(read.m_cost_kib, 16384);
    cr_assert_eq(read.parallelism, 2);
    uint8_t s2[32], a2[32], *back;
    size_t back_len;
    derive(pin, salt_a, &read, s2, a2);
    cr_assert_eq(pb_pin_unwrap(s2, "w-kdf", blob, blob_len, &back, &back_len), PB_OK);
    cr_assert_eq(memcmp(back, plain, sizeof plain), 0);
    pb_secret_free(back, back_len);

    /* The right PIN with the wrong (lower) cost does not open it. */
    derive(pin, salt_a, &fast, s2, a2);
    cr_assert_eq(pb_pin_unwrap(s2, "w-kdf", blob, blob_len, &back, &back_len), PB_ERR_AUTH);
    pb_bytes_free(blob, blob_len);
}

Test(custody_pin, a_stored_cost_below_the_minimum_is_refused_as_an_integrity_error)
{
    uint8_t seal[32], access[32];
    derive("8080", salt_a, &fast, seal, access);
    uint8_t *blob, *back = NULL;
    size_t blob_len, back_len;
    wrap(seal, &fast, "w-min", (const uint8_t *)"abc", 3, &blob, &blob_len);
    /* m_cost is the u32 at offset 4 + 1 + 4 (magic, version, t_cost). */
    cr_assert_eq(blob[9] << 24 | blob[10] << 16 | blob[11] << 8 | blob[12], 8192);
    blob[11] = 0x10; /* 4096 KiB */
    pb_kdf_params read = {9, 9, 9};
    cr_assert_eq(pb_pin_wrapped_kdf(blob, blob_len, &read), PB_ERR_INTEGRITY);
    cr_assert_eq(read.t_cost, 0, "nothing is returned from a refused header");
    cr_assert_eq(pb_pin_unwrap(seal, "w-min", blob, blob_len, &back, &back_len),
                 PB_ERR_INTEGRITY);
    cr_assert_null(back);
    pb_bytes_free(blob, blob_len);
}

Test(custody_pin, wrong_pin_or_wrong_salt_is_an_authentication_error_that_hides_the_pin)
{
    uint8_t seal[32], access[32], bad_seal[32], bad_access[32];
    derive("31415926", salt_a, &fast, seal, access);
    uint8_t *blob, *back = NULL;
    size_t blob_len, back_len = 3;
    wrap(seal, &fast, "w-auth", (const uint8_t *)"share", 5, &blob, &blob_len);
    derive("31415927", salt_a, &fast, bad_seal, bad_access);
    cr_assert_eq(pb_pin_unwrap(bad_seal, "w-auth", blob, blob_len, &back, &back_len),
                 PB_ERR_AUTH);
    cr_assert_null(back);
    cr_assert_eq(back_len, 0);
    cr_assert_str_eq(pb_last_error(),
                     "PIN does not open this wallet (wrong PIN, or another device)");
    cr_assert_null(strstr(pb_last_error(), "3141592"));
    cx_assert_error_hides(bad_seal, 32, 1);
    cx_assert_error_hides(seal, 32, 1);
    derive("31415926", salt_b, &fast, bad_seal, bad_access);
    cr_assert_eq(pb_pin_unwrap(bad_seal, "w-auth", blob, blob_len, &back, &back_len),
                 PB_ERR_AUTH, "the right PIN without the device salt does not open it");
    pb_bytes_free(blob, blob_len);
}

typedef struct open_ctx {
    const uint8_t *seal;
    const char *wallet;
} open_ctx;

static pb_status open_pin(void *vctx, const uint8_t *in, size_t in_len, uint8_t **plain,
                          size_t *plain_len)
{
    open_ctx *c = vctx;
    return pb_pin_unwrap(c->seal, c->wallet, in, in_len, plain, plain_len);
}

Test(custody_pin, every_flip_truncation_and_extension_is_an_integrity_error)
{
    uint8_t seal[32], access[32], plain[48];
    derive("0000", salt_a, &fast, seal, access);
    cx_fill(plain, sizeof plain, 8);
    uint8_t *blob;
    size_t blob_len;
    wrap(seal, &fast, "w-tamper", plain, sizeof plain, &blob, &blob_len);
    open_ctx c = {seal, "w-tamper"};
    cx_assert_tamper_fails(open_pin, &c, blob, blob_len, PB_ERR_INTEGRITY);
    pb_bytes_free(blob, blob_len);
}

Test(custody_pin, a_wrapped_secret_of_another_wallet_does_not_open)
{
    uint8_t seal[32], access[32], *blob, *back;
    size_t blob_len, back_len;
    derive("4321", salt_a, &fast, seal, access);
    wrap(seal, &fast, "wallet-x", (const uint8_t *)"p1", 2, &blob, &blob_len);
    cr_assert_eq(pb_pin_unwrap(seal, "wallet-y", blob, blob_len, &back, &back_len),
                 PB_ERR_INTEGRITY);
    cr_assert_null(back);
    pb_bytes_free(blob, blob_len);
}

Test(custody_pin, default_cost_derivation_works_and_takes_measurable_time)
{
    pb_kdf_params def;
    pb_kdf_params_default(&def);
    uint8_t s1[32], a1[32], s2[32], a2[32];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    derive("123456", salt_a, &def, s1, a1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    cr_log_info("Argon2id t=3 m=64MiB p=1: %.0f ms", ms);
    derive("123456", salt_a, &fast, s2, a2);
    cr_assert_neq(memcmp(s1, s2, 32), 0);
    uint8_t *blob, *back;
    size_t blob_len, back_len;
    wrap(s1, &def, "w-def", (const uint8_t *)"x", 1, &blob, &blob_len);
    pb_kdf_params read;
    cr_assert_eq(pb_pin_wrapped_kdf(blob, blob_len, &read), PB_OK);
    cr_assert_eq(memcmp(&read, &def, sizeof def), 0);
    cr_assert_eq(pb_pin_unwrap(s1, "w-def", blob, blob_len, &back, &back_len), PB_OK);
    pb_secret_free(back, back_len);
    pb_bytes_free(blob, blob_len);
}

/* --- the PIN file ------------------------------------------------------------ */

static pb_status read_pin(const char *dir, const char *content, uint8_t **pin, size_t *len)
{
    char path[512];
    cx_write(dir, "pin", content, strlen(content), path, sizeof path);
    return pb_pin_read_file(path, pin, len);
}

Test(custody_pin, pin_files_of_4_to_64_digits_with_optional_newline_are_read)
{
    char dir[256];
    cx_tmpdir(dir, sizeof dir);
    char d64[65];
    memset(d64, '9', 64);
    d64[64] = '\0';
    const char *ok[] = {"1234", "1234\n", "1234\r\n", "0000000", d64};
    const size_t len[] = {4, 4, 4, 7, 64};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint8_t *pin;
        size_t n;
        cr_assert_eq(read_pin(dir, ok[i], &pin, &n), PB_OK, "case %zu: %s", i, pb_last_error());
        cr_assert_eq(n, len[i]);
        cr_assert_eq(memcmp(pin, ok[i], n), 0);
        pb_secret_free(pin, n);
    }
    cx_rmtree(dir);
}

Test(custody_pin, malformed_pin_files_are_argument_errors_that_never_echo_the_content)
{
    char dir[256];
    cx_tmpdir(dir, sizeof dir);
    char d65[66];
    memset(d65, '8', 65);
    d65[65] = '\0';
    const char *bad[] = {"", "876", "8765a", "87 65", "-8765", "8765\n\n", "+87654", "87654.0",
                         d65, "８７６５"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t *pin = (uint8_t *)1;
        size_t n = 7;
        cr_assert_eq(read_pin(dir, bad[i], &pin, &n), PB_ERR_ARGUMENT, "case %zu", i);
        cr_assert_null(pin);
        cr_assert_eq(n, 0);
        const char *msg = pb_last_error();
        cr_assert_null(strstr(msg, "876"), "case %zu echoes: %s", i, msg);
        cr_assert_null(strstr(msg, "88888"), "case %zu echoes: %s", i, msg);
    }
    char missing[512];
    snprintf(missing, sizeof missing, "%s/none", dir);
    uint8_t *pin;
    size_t n;
    cr_assert_eq(pb_pin_read_file(missing, &pin, &n), PB_ERR_ARGUMENT);
    cx_rmtree(dir);
}
