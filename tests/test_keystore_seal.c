/* Sealing under a real SoftHSM token: round trips in both placements, every
 * byte flip detected, blobs bound to wallet, role and kind, IVs fresh. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/secret.h"
#include "pkcs11/blob_format.h"
#include "support/token_fixture.h"

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

static void round_trip_sizes(pb_placement placement)
{
    pb_test_token t;
    pb_test_token_make(&t, placement);
    pb_keystore *ks = pb_test_token_open(&t);
    static uint8_t plain[4096];
    size_t sizes[] = {0, 1, 15, 16, 17, 31, 32, 33, 255, 256, 1000, 2047, 4095, 4096};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        fill(plain, n, (unsigned)i);
        pb_blob_ref ref = {"wallet-rt", 1, PB_BLOB_SHARE};
        cr_assert_eq(pb_keystore_put(ks, &ref, plain, n), PB_OK, "put %zu: %s", n,
                     pb_last_error());
        uint8_t *back = NULL;
        size_t back_len = 0;
        cr_assert_eq(pb_keystore_get(ks, &ref, &back, &back_len), PB_OK, "get %zu: %s", n,
                     pb_last_error());
        cr_assert_eq(back_len, n);
        cr_assert(n == 0 || memcmp(back, plain, n) == 0, "plaintext differs at size %zu", n);
        pb_secret_free(back, back_len);
    }
    cr_assert_eq(pb_keystore_blob_count(ks), 1, "a put under the same reference replaces");
    pb_keystore_close(ks);
    pb_test_token_remove(&t);
}

Test(keystore_seal, round_trip_0_to_4096_bytes_token_objects) { round_trip_sizes(PB_PLACEMENT_TOKEN); }

Test(keystore_seal, round_trip_0_to_4096_bytes_store_directory)
{
    round_trip_sizes(PB_PLACEMENT_DIRECTORY);
}

Test(keystore_seal, every_flipped_byte_fails_with_an_integrity_error)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    pb_keystore *ks = pb_test_token_open(&t);
    uint8_t plain[48];
    fill(plain, sizeof plain, 3);
    pb_blob_ref ref = {"wallet-flip", 2, PB_BLOB_SHARE};
    uint8_t *blob;
    size_t blob_len;
    cr_assert_eq(pb_keystore_seal(ks, &ref, plain, sizeof plain, &blob, &blob_len), PB_OK);
    for (size_t i = 0; i < blob_len; i++) {
        for (int bit = 0; bit < 8; bit += 7) { /* lowest and highest bit of each byte */
            blob[i] ^= (uint8_t)(1u << bit);
            uint8_t *out = NULL;
            size_t out_len = 0;
            pb_status st = pb_keystore_unseal(ks, &ref, blob, blob_len, &out, &out_len);
            cr_assert_eq(st, PB_ERR_INTEGRITY, "flip of bit %d in byte %zu/%zu gave %s: %s", bit,
                         i, blob_len, pb_status_name(st), pb_last_error());
            cr_assert_null(out);
            blob[i] ^= (uint8_t)(1u << bit);
        }
    }
    uint8_t *out;
    size_t out_len;
    cr_assert_eq(pb_keystore_unseal(ks, &ref, blob, blob_len, &out, &out_len), PB_OK,
                 "the untouched blob still opens");
    pb_secret_free(out, out_len);
    /* Truncations and an extension, too. */
    for (size_t cut = 0; cut < blob_len; cut += 5) {
        cr_assert_eq(pb_keystore_unseal(ks, &ref, blob, cut, &out, &out_len), PB_ERR_INTEGRITY,
                     "truncation to %zu accepted", cut);
    }
    uint8_t *longer = malloc(blob_len + 1);
    memcpy(longer, blob, blob_len);
    longer[blob_len] = 0;
    cr_assert_eq(pb_keystore_unseal(ks, &ref, longer, blob_len + 1, &out, &out_len),
                 PB_ERR_INTEGRITY);
    free(longer);
    free(blob);
    pb_keystore_close(ks);
    pb_test_token_remove(&t);
}

/* Rewrites the header of a blob to claim another reference, so only the
 * AAD (checked inside the token) can catch the move. */
static uint8_t *relabel(const uint8_t *blob, size_t len, const pb_blob_ref *to, size_t *out_len)
{
    pb_blob_header h;
    cr_assert_eq(pb_blob_decode(blob, len, NULL, &h), PB_OK);
    uint8_t *moved;
    cr_assert_eq(pb_blob_encode(to, h.kek_label, h.iv, h.ciphertext, h.ciphertext_len, &moved,
                                out_len),
                 PB_OK);
    return moved;
}

Test(keystore_seal, a_blob_moved_to_another_wallet_role_or_kind_fails)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    pb_keystore *ks = pb_test_token_open(&t);
    uint8_t plain[32];
    fill(plain, sizeof plain, 9);
    pb_blob_ref ref = {"wallet-a", 1, PB_BLOB_SHARE};
    uint8_t *blob;
    size_t blob_len;
    cr_assert_eq(pb_keystore_seal(ks, &ref, plain, sizeof plain, &blob, &blob_len), PB_OK);
    pb_blob_ref others[] = {
        {"wallet-b", 1, PB_BLOB_SHARE},
        {"wallet-a", 2, PB_BLOB_SHARE},
        {"wallet-a", 1, PB_BLOB_RECOVERY},
    };
    for (size_t i = 0; i < 3; i++) {
        uint8_t *out = NULL;
        size_t out_len;
        /* As is: the header names the original reference. */
        cr_assert_eq(pb_keystore_unseal(ks, &others[i], blob, blob_len, &out, &out_len),
                     PB_ERR_INTEGRITY, "moved blob %zu accepted as is", i);
        /* Header rewritten to match: the token's tag check must refuse it. */
        size_t moved_len;
        uint8_t *moved = relabel(blob, blob_len, &others[i], &moved_len);
        pb_status st = pb_keystore_unseal(ks, &others[i], moved, moved_len, &out, &out_len);
        cr_assert_eq(st, PB_ERR_INTEGRITY, "relabelled blob %zu gave %s", i, pb_status_name(st));
        cr_assert_null(out);
        free(moved);
    }
    /* Stored under another reference by copying the sealed bytes. */
    cr_assert_eq(pb_keystore_put_sealed(ks, &others[0], blob, blob_len), PB_OK);
    uint8_t *out = NULL;
    size_t out_len;
    cr_assert_eq(pb_keystore_get(ks, &others[0], &out, &out_len), PB_ERR_INTEGRITY);
    free(blob);
    pb_keystore_close(ks);
    pb_test_token_remove(&t);
}

static int iv_compare(const void *a, const void *b) { return memcmp(a, b, PB_GCM_IV_BYTES); }

Test(keystore_seal, ten_thousand_seals_use_distinct_nonzero_ivs)
{
    pb_test_token t;
    pb_test_token_make(&t, PB_PLACEMENT_TOKEN);
    pb_keystore *ks = pb_test_token_open(&t);
    enum { N = 10000 };
    uint8_t(*ivs)[PB_GCM_IV_BYTES] = calloc(N, PB_GCM_IV_BYTES);
    uint8_t plain[32] = {1};
    pb_blob_ref ref = {"wallet-iv", 1, PB_BLOB_SHARE};
    static const uint8_t zero[PB_GCM_IV_BYTES];
    for (int i = 0; i < N; i++) {
        uint8_t *blob;
        size_t blob_len;
        cr_assert_eq(pb_keystore_seal(ks, &ref, plain, sizeof plain, &blob, &blob_len), PB_OK);
        pb_blob_header h;
        cr_assert_eq(pb_blob_decode(blob, blob_len, &ref, &h), PB_OK);
        cr_assert(memcmp(h.iv, zero, sizeof zero) != 0, "zero IV at seal %d", i);
        memcpy(ivs[i], h.iv, PB_GCM_IV_BYTES);
        free(blob);
    }
    qsort(ivs, N, PB_GCM_IV_BYTES, iv_compare);
    for (int i = 1; i < N; i++)
        cr_assert(memcmp(ivs[i - 1], ivs[i], PB_GCM_IV_BYTES) != 0, "IV repeated");
    pb_keystore_close(ks);
    pb_test_token_remove(&t);
    free(ivs);
}
