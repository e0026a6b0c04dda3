/* BIP-32 public derivation: published test vector 2, CKDpub chains checked
 * against OpenSSL's EC arithmetic, path strings and xpub parsing. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>

#include "mpc/base58.h"
#include "mpc/bip32.h"
#include "planbok/mpc.h"

/* BIP-32 test vector 2 (bip-0032.mediawiki): chain m and chain m/0. */
static const char *TV2_M =
    "xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB";
static const char *TV2_M_0 =
    "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH";
static const char *TV2_M_XPRV =
    "xprv9s21ZrQH143K31xYSDQpPDxsXRTUcvj2iNHm5NUtrGiGG5e2DtALGdso3pGz6ssrdK4PFmM8NSpSBHNqPqm55Qn3LqFtT2emdEXVYsCzC2U";

Test(bip32, vector2_child_m0_from_published_master_xpub)
{
    pb_bip32_xpub master, child;
    cr_assert_eq(pb_bip32_xpub_decode(TV2_M, &master), PB_OK, "%s", pb_last_error());
    cr_assert_eq(master.depth, 0);
    cr_assert_eq(pb_bip32_ckd_pub(&master, 0, &child, NULL), PB_OK, "%s", pb_last_error());
    char s[PB_MPC_XPUB_SIZE];
    cr_assert_eq(pb_bip32_xpub_encode(&child, s, sizeof s), PB_OK);
    cr_assert_str_eq(s, TV2_M_0);

    /* The same through the public API, and the master re-encodes to itself. */
    uint32_t zero = 0;
    cr_assert_eq(pb_bip32_xpub_derive(TV2_M, &zero, 1, s), PB_OK);
    cr_assert_str_eq(s, TV2_M_0);
    cr_assert_eq(pb_bip32_xpub_encode(&master, s, sizeof s), PB_OK);
    cr_assert_str_eq(s, TV2_M);
}

/* Independent CKDpub: HMAC-SHA512 and OpenSSL's EC_POINT arithmetic. */
static void openssl_ckd_chain(const uint8_t key[33], const uint8_t chain[32],
                              const uint32_t *path, size_t n, uint8_t out[33])
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_secp256k1);
    EC_POINT *k = EC_POINT_new(g), *t = EC_POINT_new(g);
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *il = BN_new();
    uint8_t cc[32], ser[37], mac[64];
    unsigned int mac_len;
    cr_assert(EC_POINT_oct2point(g, k, key, 33, ctx));
    memcpy(cc, chain, 32);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(EC_POINT_point2oct(g, k, POINT_CONVERSION_COMPRESSED, ser, 33, ctx), 33);
        ser[33] = (uint8_t)(path[i] >> 24);
        ser[34] = (uint8_t)(path[i] >> 16);
        ser[35] = (uint8_t)(path[i] >> 8);
        ser[36] = (uint8_t)path[i];
        cr_assert_not_null(HMAC(EVP_sha512(), cc, 32, ser, 37, mac, &mac_len));
        cr_assert(BN_bin2bn(mac, 32, il));
        cr_assert(EC_POINT_mul(g, t, il, NULL, NULL, ctx));
        cr_assert(EC_POINT_add(g, k, k, t, ctx));
        memcpy(cc, mac + 32, 32);
    }
    cr_assert_eq(EC_POINT_point2oct(g, k, POINT_CONVERSION_COMPRESSED, out, 33, ctx), 33);
    BN_free(il);
    BN_CTX_free(ctx);
    EC_POINT_free(t);
    EC_POINT_free(k);
    EC_GROUP_free(g);
}

Test(bip32, path_44_60_0_0_i_equals_ckdpub_chain_and_tweak)
{
    pb_bip32_xpub root;
    cr_assert_eq(pb_bip32_xpub_decode(TV2_M, &root), PB_OK);
    uint8_t root_key[33];
    pb_point_serialize(root_key, &root.key);
    for (uint32_t i = 0; i < 8; i++) {
        char path_str[64];
        snprintf(path_str, sizeof path_str, "m/44/60/0/0/%u", i);
        uint32_t path[8];
        size_t n;
        cr_assert_eq(pb_bip32_parse_path(path_str, path, 8, &n), PB_OK, "%s", pb_last_error());
        cr_assert_eq(n, 5);

        /* One level at a time. */
        pb_bip32_xpub step = root;
        for (size_t k = 0; k < n; k++)
            cr_assert_eq(pb_bip32_ckd_pub(&step, path[k], &step, NULL), PB_OK);
        /* Whole path, with the additive tweak. */
        pb_bip32_xpub whole;
        pb_scalar tweak;
        cr_assert_eq(pb_bip32_derive(&root, path, n, &whole, &tweak), PB_OK);
        cr_assert(pb_point_equal(&step.key, &whole.key));
        cr_assert(memcmp(step.chain_code, whole.chain_code, 32) == 0);
        cr_assert_eq(whole.depth, 5);
        cr_assert_eq(whole.child_number, i);
        pb_point shifted;
        cr_assert_eq(pb_point_add_base_mul(&shifted, &root.key, &tweak), PB_OK);
        cr_assert(pb_point_equal(&shifted, &whole.key), "Q + tweak*G != derived key");

        uint8_t ours[33], theirs[33];
        pb_point_serialize(ours, &whole.key);
        openssl_ckd_chain(root_key, root.chain_code, path, n, theirs);
        cr_assert(memcmp(ours, theirs, 33) == 0, "differs from OpenSSL CKDpub at i=%u", i);

        /* Through the public API as well. */
        char s[PB_MPC_XPUB_SIZE];
        uint8_t pk[33];
        cr_assert_eq(pb_bip32_xpub_derive(TV2_M, path, n, s), PB_OK);
        cr_assert_eq(pb_bip32_xpub_public_key(s, pk), PB_OK);
        cr_assert(memcmp(pk, ours, 33) == 0);
    }
}

Test(bip32, hardened_paths_and_indices_are_refused)
{
    static const char *hardened[] = {"m/44'/60'/0'/0/0", "m/44h/60/0", "m/0/1H",
                                     "m/2147483648", "m/4294967295"};
    uint32_t path[8];
    size_t n;
    for (size_t i = 0; i < sizeof hardened / sizeof *hardened; i++) {
        cr_assert_eq(pb_bip32_parse_path(hardened[i], path, 8, &n), PB_ERR_ARGUMENT, "%s",
                     hardened[i]);
        cr_assert(strstr(pb_last_error(), "hardened") != NULL, "message: %s", pb_last_error());
    }
    pb_bip32_xpub root, child;
    cr_assert_eq(pb_bip32_xpub_decode(TV2_M, &root), PB_OK);
    cr_assert_eq(pb_bip32_ckd_pub(&root, 0x80000000u, &child, NULL), PB_ERR_ARGUMENT);
    uint32_t hp[2] = {1, 0x80000001u};
    cr_assert_eq(pb_bip32_derive(&root, hp, 2, &child, NULL), PB_ERR_ARGUMENT);
    char s[PB_MPC_XPUB_SIZE];
    cr_assert_eq(pb_bip32_xpub_derive(TV2_M, hp, 2, s), PB_ERR_ARGUMENT);
}

Test(bip32, malformed_path_strings_are_refused)
{
    static const char *bad[] = {"", "M/1", "m/", "m//1", "m/01", "x/1", "m/1/", "m/1a",
                                "m/-1", "m/ 1", "m/99999999999", "/1"};
    uint32_t path[8];
    size_t n;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(pb_bip32_parse_path(bad[i], path, 8, &n), PB_ERR_ARGUMENT, "\"%s\"",
                     bad[i]);
    cr_assert_eq(pb_bip32_parse_path("m/1/2/3", path, 2, &n), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_bip32_parse_path("m", path, 8, &n), PB_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(pb_bip32_parse_path("m/0/2147483647", path, 8, &n), PB_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(path[1], 2147483647u);
}

Test(bip32, malformed_xpubs_are_refused)
{
    pb_bip32_xpub x;
    cr_assert_eq(pb_bip32_xpub_decode(TV2_M_XPRV, &x), PB_ERR_PARSE);
    cr_assert(strstr(pb_last_error(), "private") != NULL, "%s", pb_last_error());

    char s[PB_MPC_XPUB_SIZE];
    strcpy(s, TV2_M);
    s[50] = s[50] == 'a' ? 'b' : 'a'; /* checksum no longer matches */
    cr_assert_eq(pb_bip32_xpub_decode(s, &x), PB_ERR_PARSE);
    strcpy(s, TV2_M);
    s[20] = '0'; /* not in the alphabet */
    cr_assert_eq(pb_bip32_xpub_decode(s, &x), PB_ERR_PARSE);
    strcpy(s, TV2_M);
    s[strlen(s) - 1] = '\0';
    cr_assert_eq(pb_bip32_xpub_decode(s, &x), PB_ERR_PARSE);
    cr_assert_eq(pb_bip32_xpub_decode("", &x), PB_ERR_PARSE);

    /* Valid checksums around bad contents. */
    pb_bip32_xpub root;
    uint8_t raw[PB_BIP32_XPUB_RAW_BYTES];
    cr_assert_eq(pb_bip32_xpub_decode(TV2_M, &root), PB_OK);
    pb_bip32_xpub_serialize(&root, raw);
    raw[8] = 1; /* depth 0 with a parent fingerprint */
    cr_assert_eq(pb_base58check_encode(raw, sizeof raw, s, sizeof s), PB_OK);
    cr_assert_eq(pb_bip32_xpub_decode(s, &x), PB_ERR_PARSE);
    pb_bip32_xpub_serialize(&root, raw);
    raw[45] = 0x04; /* not a compressed point prefix */
    cr_assert_eq(pb_base58check_encode(raw, sizeof raw, s, sizeof s), PB_OK);
    cr_assert_eq(pb_bip32_xpub_decode(s, &x), PB_ERR_PARSE);
    pb_bip32_xpub_serialize(&root, raw);
    raw[3] ^= 1; /* unknown version */
    cr_assert_eq(pb_base58check_encode(raw, sizeof raw, s, sizeof s), PB_OK);
    cr_assert_eq(pb_bip32_xpub_decode(s, &x), PB_ERR_PARSE);
}

Test(bip32, base58check_round_trips_leading_zero_bytes)
{
    uint8_t in[10] = {0, 0, 0, 1, 2, 3, 0, 0, 255, 7}, back[10];
    char s[64];
    cr_assert_eq(pb_base58check_encode(in, sizeof in, s, sizeof s), PB_OK);
    cr_assert(strncmp(s, "111", 3) == 0 && s[3] != '1');
    cr_assert_eq(pb_base58check_decode(s, back, sizeof back), PB_OK);
    cr_assert(memcmp(in, back, sizeof in) == 0);
    cr_assert_eq(pb_base58check_decode(s, back, sizeof back - 1), PB_ERR_PARSE);
    char small[5];
    cr_assert_eq(pb_base58check_encode(in, sizeof in, small, sizeof small), PB_ERR_ARGUMENT);
}
