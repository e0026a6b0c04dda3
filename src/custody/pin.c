/* pin.c - PIN, Argon2id, verifier and wrappedSecret (see pin.h). */
#include "custody/pin.h"

#include <errno.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/fail.h"
#include "common/secret.h"
#include "custody/envelope.h"

#define KDF_PARAM_BYTES 12

static const pb_envelope_kind pin_kind = {
    .magic = {'P', 'B', 'P', 'W'},
    .version = 1,
    .params_len = KDF_PARAM_BYTES,
    .hkdf_salt = "planbok-pin-wrap-v1",
    .what = "wrappedSecret",
    .wrong_key = "PIN does not open this wallet (wrong PIN, or another device)",
};

static const char verifier_tag[] = "planbok-pin-verifier-v1";

void pb_kdf_params_default(pb_kdf_params *p)
{
    p->t_cost = 3;
    p->m_cost_kib = 65536;
    p->parallelism = 1;
}

pb_status pb_kdf_params_check(const pb_kdf_params *p)
{
    if (!p)
        return pb_fail(PB_ERR_ARGUMENT, "Argon2id parameters missing");
    if (p->t_cost < PB_KDF_MIN_T || p->t_cost > PB_KDF_MAX_T || p->m_cost_kib < PB_KDF_MIN_M_KIB ||
        p->m_cost_kib > PB_KDF_MAX_M_KIB || p->parallelism < PB_KDF_MIN_P ||
        p->parallelism > PB_KDF_MAX_P)
        return pb_fail(PB_ERR_ARGUMENT,
                       "Argon2id parameters t=%u m=%u KiB p=%u out of range (t %u..%u, m %u..%u "
                       "KiB, p %u..%u)",
                       p->t_cost, p->m_cost_kib, p->parallelism, PB_KDF_MIN_T, PB_KDF_MAX_T,
                       PB_KDF_MIN_M_KIB, PB_KDF_MAX_M_KIB, PB_KDF_MIN_P, PB_KDF_MAX_P);
    return PB_OK;
}

pb_status pb_pin_read_file(const char *path, uint8_t **pin, size_t *pin_len)
{
    *pin = NULL;
    *pin_len = 0;
    if (!path)
        return pb_fail(PB_ERR_ARGUMENT, "PIN file: no path given");
    uint8_t *buf;
    size_t len;
    /* Room for the longest PIN and a "\r\n", which the reader drops. */
    pb_status st = pb_secret_read_file(path, "PIN file", PB_PIN_MAX_DIGITS + 2,
                                       PB_ERR_ARGUMENT, &buf, &len);
    if (st == PB_ERR_ARGUMENT && errno == EFBIG)
        return pb_fail(PB_ERR_ARGUMENT, "PIN file %s: longer than %d digits", path,
                       PB_PIN_MAX_DIGITS);
    if (st != PB_OK)
        return st;
    /* No early exit: the time taken does not depend on where a bad
     * character sits. */
    unsigned bad = 0;
    for (size_t i = 0; i < len; i++)
        bad |= (unsigned)(((uint32_t)buf[i] - '0') > 9u);
    if (bad || len < PB_PIN_MIN_DIGITS || len > PB_PIN_MAX_DIGITS) {
        pb_secret_free(buf, len);
        return pb_fail(PB_ERR_ARGUMENT, "PIN file %s: a PIN is %d to %d digits and nothing else",
                       path, PB_PIN_MIN_DIGITS, PB_PIN_MAX_DIGITS);
    }
    *pin = buf;
    *pin_len = len;
    return PB_OK;
}

pb_status pb_pin_derive(const uint8_t *pin, size_t pin_len,
                        const uint8_t salt[PB_DEVICE_SALT_BYTES], const pb_kdf_params *kdf,
                        uint8_t sealing_key[PB_PIN_KEY_BYTES],
                        uint8_t access_key[PB_PIN_KEY_BYTES])
{
    OPENSSL_cleanse(sealing_key, PB_PIN_KEY_BYTES);
    OPENSSL_cleanse(access_key, PB_PIN_KEY_BYTES);
    if (!pin || pin_len == 0 || pin_len > PB_PIN_MAX_DIGITS)
        return pb_fail(PB_ERR_ARGUMENT, "PIN derivation: PIN length out of range");
    pb_status st = pb_kdf_params_check(kdf);
    if (st != PB_OK)
        return st;
    uint8_t *out = pb_secret_alloc(2 * PB_PIN_KEY_BYTES);
    if (!out)
        return pb_fail(PB_ERR_NOMEM, "PIN derivation: out of memory");
    /* libargon2 wipes its working memory before freeing it
     * (FLAG_clear_internal_memory is on by default). */
    int rc = argon2id_hash_raw(kdf->t_cost, kdf->m_cost_kib, kdf->parallelism, pin, pin_len, salt,
                               PB_DEVICE_SALT_BYTES, out, 2 * PB_PIN_KEY_BYTES);
    if (rc != ARGON2_OK) {
        pb_secret_free(out, 2 * PB_PIN_KEY_BYTES);
        if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
            return pb_fail(PB_ERR_NOMEM, "Argon2id: cannot allocate %u KiB", kdf->m_cost_kib);
        return pb_fail(PB_ERR_CRYPTO, "Argon2id: %s", argon2_error_message(rc));
    }
    memcpy(sealing_key, out, PB_PIN_KEY_BYTES);
    memcpy(access_key, out + PB_PIN_KEY_BYTES, PB_PIN_KEY_BYTES);
    pb_secret_free(out, 2 * PB_PIN_KEY_BYTES);
    return PB_OK;
}

static int verifier_compute(const uint8_t access_key[PB_PIN_KEY_BYTES], const char *wallet_id,
                            uint8_t verifier[PB_PIN_VERIFIER_BYTES])
{
    if (pb_custody_wallet_id_check(wallet_id) != 0)
        return 0;
    uint8_t id_len = (uint8_t)strlen(wallet_id);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, verifier_tag, sizeof verifier_tag) == 1 && /* with its NUL */
             EVP_DigestUpdate(ctx, &id_len, 1) == 1 &&
             EVP_DigestUpdate(ctx, wallet_id, id_len) == 1 &&
             EVP_DigestUpdate(ctx, access_key, PB_PIN_KEY_BYTES) == 1 &&
             EVP_DigestFinal_ex(ctx, verifier, &n) == 1 && n == PB_PIN_VERIFIER_BYTES;
    EVP_MD_CTX_free(ctx);
    return ok;
}

void pb_pin_verifier(const uint8_t access_key[PB_PIN_KEY_BYTES], const char *wallet_id,
                     uint8_t verifier[PB_PIN_VERIFIER_BYTES])
{
    /* Cannot fail short of an OpenSSL breakdown or an invalid wallet id;
     * then the verifier is all zero, which no access key ever matches
     * because pb_pin_verifier_matches recomputes and fails the same way. */
    if (!verifier_compute(access_key, wallet_id, verifier))
        memset(verifier, 0, PB_PIN_VERIFIER_BYTES);
}

int pb_pin_verifier_matches(const uint8_t verifier[PB_PIN_VERIFIER_BYTES],
                            const uint8_t access_key[PB_PIN_KEY_BYTES], const char *wallet_id)
{
    uint8_t expect[PB_PIN_VERIFIER_BYTES];
    int ok = verifier_compute(access_key, wallet_id, expect) &&
             CRYPTO_memcmp(expect, verifier, sizeof expect) == 0;
    OPENSSL_cleanse(expect, sizeof expect);
    return ok;
}

static void encode_kdf(const pb_kdf_params *kdf, uint8_t out[KDF_PARAM_BYTES])
{
    const uint32_t v[3] = {kdf->t_cost, kdf->m_cost_kib, kdf->parallelism};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++)
            out[4 * i + b] = (uint8_t)(v[i] >> (24 - 8 * b));
}

static void decode_kdf(const uint8_t in[KDF_PARAM_BYTES], pb_kdf_params *kdf)
{
    uint32_t v[3];
    for (int i = 0; i < 3; i++)
        v[i] = ((uint32_t)in[4 * i] << 24) | ((uint32_t)in[4 * i + 1] << 16) |
               ((uint32_t)in[4 * i + 2] << 8) | in[4 * i + 3];
    kdf->t_cost = v[0];
    kdf->m_cost_kib = v[1];
    kdf->parallelism = v[2];
}

pb_status pb_pin_wrap(const uint8_t sealing_key[PB_PIN_KEY_BYTES], const pb_kdf_params *kdf,
                      const char *wallet_id, const uint8_t *plain, size_t plain_len,
                      uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    pb_status st = pb_kdf_params_check(kdf);
    if (st != PB_OK)
        return pb_fail_context(st, "wrappedSecret");
    uint8_t params[KDF_PARAM_BYTES];
    encode_kdf(kdf, params);
    return pb_envelope_wrap(&pin_kind, params, sealing_key, PB_PIN_KEY_BYTES, wallet_id, plain,
                            plain_len, out, out_len);
}

pb_status pb_pin_wrapped_kdf(const uint8_t *in, size_t in_len, pb_kdf_params *kdf)
{
    memset(kdf, 0, sizeof *kdf);
    const uint8_t *params;
    pb_status st = pb_envelope_params(&pin_kind, in, in_len, &params);
    if (st != PB_OK)
        return st;
    pb_kdf_params got;
    decode_kdf(params, &got);
    if (pb_kdf_params_check(&got) != PB_OK)
        return pb_fail_context(PB_ERR_INTEGRITY, "wrappedSecret");
    *kdf = got;
    return PB_OK;
}

pb_status pb_pin_unwrap(const uint8_t sealing_key[PB_PIN_KEY_BYTES], const char *wallet_id,
                        const uint8_t *in, size_t in_len, uint8_t **plain, size_t *plain_len)
{
    *plain = NULL;
    *plain_len = 0;
    pb_kdf_params kdf;
    pb_status st = pb_pin_wrapped_kdf(in, in_len, &kdf);
    if (st != PB_OK)
        return st;
    return pb_envelope_unwrap(&pin_kind, sealing_key, PB_PIN_KEY_BYTES, wallet_id, in, in_len,
                              plain, plain_len);
}
