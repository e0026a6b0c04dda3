/* bip32.c - BIP-32 CKDpub, path tweaks, path strings and xpub strings
 * (see bip32.h). Public data only: nothing here needs to be constant-time. */
#include "mpc/bip32.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/fail.h"
#include "mpc/base58.h"

void pb_bip32_root(pb_bip32_xpub *out, const pb_point *key,
                   const uint8_t chain_code[PB_BIP32_CHAIN_BYTES])
{
    memset(out, 0, sizeof *out);
    out->key = *key;
    memcpy(out->chain_code, chain_code, PB_BIP32_CHAIN_BYTES);
}

pb_status pb_bip32_fingerprint(const pb_point *key, uint8_t out[4])
{
    uint8_t ser[PB_POINT_BYTES], sha[32], rmd[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    pb_point_serialize(ser, key);
    EVP_MD *ripemd = EVP_MD_fetch(NULL, "RIPEMD160", NULL);
    int ok = ripemd != NULL && EVP_Digest(ser, sizeof ser, sha, &len, EVP_sha256(), NULL) &&
             EVP_Digest(sha, sizeof sha, rmd, &len, ripemd, NULL) && len == 20;
    EVP_MD_free(ripemd);
    if (!ok)
        return pb_fail(PB_ERR_CRYPTO, "bip32 fingerprint: RIPEMD-160 unavailable");
    memcpy(out, rmd, 4);
    return PB_OK;
}

pb_status pb_bip32_ckd_pub(const pb_bip32_xpub *parent, uint32_t index, pb_bip32_xpub *child,
                           pb_scalar *tweak_out)
{
    if (index & PB_BIP32_HARDENED)
        return pb_fail(PB_ERR_ARGUMENT,
                       "bip32: hardened index %u refused (it needs the whole private key)",
                       index & ~PB_BIP32_HARDENED);
    if (parent->depth == 255)
        return pb_fail(PB_ERR_ARGUMENT, "bip32: depth would exceed 255");

    uint8_t data[PB_POINT_BYTES + 4], mac[64];
    unsigned int mac_len = 0;
    pb_point_serialize(data, &parent->key);
    data[PB_POINT_BYTES] = (uint8_t)(index >> 24);
    data[PB_POINT_BYTES + 1] = (uint8_t)(index >> 16);
    data[PB_POINT_BYTES + 2] = (uint8_t)(index >> 8);
    data[PB_POINT_BYTES + 3] = (uint8_t)index;
    if (!HMAC(EVP_sha512(), parent->chain_code, PB_BIP32_CHAIN_BYTES, data, sizeof data, mac,
              &mac_len) ||
        mac_len != 64)
        return pb_fail(PB_ERR_CRYPTO, "bip32: HMAC-SHA512 failed");

    pb_scalar il;
    if (pb_scalar_parse(&il, mac) != PB_OK)
        return pb_fail(PB_ERR_ARGUMENT, "bip32: index %u gives I_L >= q; use the next index",
                       index);
    pb_bip32_xpub out;
    out.depth = (uint8_t)(parent->depth + 1);
    out.child_number = index;
    memcpy(out.chain_code, mac + 32, PB_BIP32_CHAIN_BYTES);
    pb_status st = pb_bip32_fingerprint(&parent->key, out.parent_fingerprint);
    if (st != PB_OK)
        return st;
    if (pb_point_add_base_mul(&out.key, &parent->key, &il) != PB_OK)
        return pb_fail(PB_ERR_ARGUMENT,
                       "bip32: index %u gives the point at infinity; use the next index", index);
    *child = out;
    if (tweak_out)
        *tweak_out = il;
    return PB_OK;
}

pb_status pb_bip32_derive(const pb_bip32_xpub *root, const uint32_t *path, size_t path_len,
                          pb_bip32_xpub *out, pb_scalar *tweak_out)
{
    if (path_len > PB_BIP32_MAX_DEPTH)
        return pb_fail(PB_ERR_ARGUMENT, "bip32: path of %zu indices is longer than %d",
                       path_len, PB_BIP32_MAX_DEPTH);
    pb_bip32_xpub cur = *root;
    pb_scalar total, il;
    memset(&total, 0, sizeof total);
    for (size_t i = 0; i < path_len; i++) {
        pb_status st = pb_bip32_ckd_pub(&cur, path[i], &cur, &il);
        if (st != PB_OK)
            return pb_fail_context(st, "bip32 path level %zu", i + 1);
        pb_scalar_add(&total, &total, &il);
    }
    *out = cur;
    if (tweak_out)
        *tweak_out = total;
    return PB_OK;
}

PB_API pb_status pb_bip32_parse_path(const char *path, uint32_t *indices, size_t max_indices,
                                     size_t *n_indices)
{
    *n_indices = 0;
    if (path == NULL || path[0] != 'm')
        return pb_fail(PB_ERR_ARGUMENT, "bip32 path: must start with \"m\"");
    const char *p = path + 1;
    size_t n = 0;
    while (*p) {
        if (*p != '/')
            return pb_fail(PB_ERR_ARGUMENT, "bip32 path: expected '/' at offset %zu",
                           (size_t)(p - path));
        p++;
        if (*p < '0' || *p > '9')
            return pb_fail(PB_ERR_ARGUMENT, "bip32 path: component %zu is not a number", n + 1);
        if (*p == '0' && p[1] >= '0' && p[1] <= '9')
            return pb_fail(PB_ERR_ARGUMENT, "bip32 path: component %zu has a leading zero",
                           n + 1);
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (uint64_t)(*p - '0');
            if (v > UINT32_MAX)
                return pb_fail(PB_ERR_ARGUMENT, "bip32 path: component %zu is too large", n + 1);
            p++;
        }
        if (*p == '\'' || *p == 'h' || *p == 'H')
            return pb_fail(PB_ERR_ARGUMENT,
                           "bip32 path: component %zu is hardened; hardened derivation is "
                           "refused (it needs the whole private key)",
                           n + 1);
        if (v >= PB_BIP32_HARDENED)
            return pb_fail(PB_ERR_ARGUMENT,
                           "bip32 path: component %zu is a hardened index (>= 2^31); hardened "
                           "derivation is refused",
                           n + 1);
        if (*p != '\0' && *p != '/')
            return pb_fail(PB_ERR_ARGUMENT, "bip32 path: unexpected character after component %zu",
                           n + 1);
        if (n == max_indices || n == PB_BIP32_MAX_DEPTH)
            return pb_fail(PB_ERR_ARGUMENT, "bip32 path: more than %zu components",
                           max_indices < PB_BIP32_MAX_DEPTH ? max_indices
                                                            : (size_t)PB_BIP32_MAX_DEPTH);
        indices[n++] = (uint32_t)v;
    }
    *n_indices = n;
    return PB_OK;
}

void pb_bip32_xpub_serialize(const pb_bip32_xpub *x, uint8_t out[PB_BIP32_XPUB_RAW_BYTES])
{
    uint32_t v = PB_BIP32_XPUB_VERSION;
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
    out[4] = x->depth;
    memcpy(out + 5, x->parent_fingerprint, 4);
    out[9] = (uint8_t)(x->child_number >> 24);
    out[10] = (uint8_t)(x->child_number >> 16);
    out[11] = (uint8_t)(x->child_number >> 8);
    out[12] = (uint8_t)x->child_number;
    memcpy(out + 13, x->chain_code, PB_BIP32_CHAIN_BYTES);
    pb_point_serialize(out + 45, &x->key);
}

pb_status pb_bip32_xpub_encode(const pb_bip32_xpub *x, char *out, size_t out_size)
{
    uint8_t raw[PB_BIP32_XPUB_RAW_BYTES];
    pb_bip32_xpub_serialize(x, raw);
    return pb_base58check_encode(raw, sizeof raw, out, out_size);
}

static uint32_t be32(const uint8_t *b)
{
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

pb_status pb_bip32_xpub_decode(const char *s, pb_bip32_xpub *out)
{
    uint8_t raw[PB_BIP32_XPUB_RAW_BYTES];
    pb_status st = pb_base58check_decode(s, raw, sizeof raw);
    if (st != PB_OK)
        return pb_fail_context(st, "xpub");
    uint32_t version = be32(raw);
    if (version == PB_BIP32_XPRV_VERSION)
        return pb_fail(PB_ERR_PARSE, "xpub: this is an extended private key (xprv); refused");
    if (version != PB_BIP32_XPUB_VERSION)
        return pb_fail(PB_ERR_PARSE, "xpub: version 0x%08x is not mainnet xpub", version);
    pb_bip32_xpub x;
    x.depth = raw[4];
    memcpy(x.parent_fingerprint, raw + 5, 4);
    x.child_number = be32(raw + 9);
    memcpy(x.chain_code, raw + 13, PB_BIP32_CHAIN_BYTES);
    if (x.depth == 0 && (be32(x.parent_fingerprint) != 0 || x.child_number != 0))
        return pb_fail(PB_ERR_PARSE, "xpub: depth 0 with a parent fingerprint or child number");
    st = pb_point_parse(&x.key, raw + 45);
    if (st != PB_OK)
        return pb_fail_context(st, "xpub key");
    *out = x;
    return PB_OK;
}

/* --- public API ----------------------------------------------------------- */

PB_API pb_status pb_bip32_xpub_derive(const char *xpub, const uint32_t *indices,
                                      size_t n_indices, char out[PB_MPC_XPUB_SIZE])
{
    pb_bip32_xpub root, child;
    pb_status st = pb_bip32_xpub_decode(xpub, &root);
    if (st == PB_OK)
        st = pb_bip32_derive(&root, indices, n_indices, &child, NULL);
    if (st == PB_OK)
        st = pb_bip32_xpub_encode(&child, out, PB_MPC_XPUB_SIZE);
    return st;
}

PB_API pb_status pb_bip32_xpub_public_key(const char *xpub,
                                          uint8_t pubkey[PB_MPC_PUBKEY_BYTES])
{
    pb_bip32_xpub x;
    pb_status st = pb_bip32_xpub_decode(xpub, &x);
    if (st == PB_OK)
        pb_point_serialize(pubkey, &x.key);
    return st;
}
