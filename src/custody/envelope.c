/* envelope.c - shared layout of the symmetric custody wraps (see envelope.h). */
#include "custody/envelope.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/bytes.h"
#include "common/fail.h"
#include "common/secret.h"
#include "custody/aead.h"

int pb_custody_wallet_id_check(const char *wallet_id)
{
    if (!wallet_id)
        return -1;
    size_t n = strnlen(wallet_id, PB_CUSTODY_WALLET_ID_MAX + 1);
    if (n == 0 || n > PB_CUSTODY_WALLET_ID_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (wallet_id[i] < 0x21 || wallet_id[i] > 0x7e)
            return -1;
    return 0;
}

/* AES key followed by the key-check value, in one HKDF expansion. */
typedef struct envelope_keys {
    uint8_t key[PB_AEAD_KEY_BYTES];
    uint8_t check[PB_ENVELOPE_CHECK_BYTES];
} envelope_keys;

static pb_status derive(const pb_envelope_kind *kind, const uint8_t *ikm, size_t ikm_len,
                        const char *wallet_id, envelope_keys *k)
{
    uint8_t okm[PB_AEAD_KEY_BYTES + PB_ENVELOPE_CHECK_BYTES];
    pb_status st = pb_hkdf_sha256(ikm, ikm_len, kind->hkdf_salt, strlen(kind->hkdf_salt),
                                  wallet_id, strlen(wallet_id), okm, sizeof okm);
    if (st == PB_OK) {
        memcpy(k->key, okm, sizeof k->key);
        memcpy(k->check, okm + sizeof k->key, sizeof k->check);
    }
    OPENSSL_cleanse(okm, sizeof okm);
    return st;
}

static void header(pb_writer *w, const pb_envelope_kind *kind, const uint8_t *params,
                   const char *wallet_id)
{
    pb_writer_raw(w, kind->magic, sizeof kind->magic);
    pb_writer_u8(w, kind->version);
    pb_writer_raw(w, params, kind->params_len);
    size_t id_len = strlen(wallet_id);
    pb_writer_u8(w, (uint8_t)id_len);
    pb_writer_raw(w, wallet_id, id_len);
}

pb_status pb_envelope_wrap(const pb_envelope_kind *kind, const uint8_t *params,
                           const uint8_t *ikm, size_t ikm_len, const char *wallet_id,
                           const uint8_t *plain, size_t plain_len, uint8_t **out,
                           size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (pb_custody_wallet_id_check(wallet_id) != 0)
        return pb_fail(PB_ERR_ARGUMENT, "%s: invalid wallet id", kind->what);
    if (plain_len > PB_CUSTODY_PLAIN_MAX || (plain_len > 0 && !plain))
        return pb_fail(PB_ERR_ARGUMENT, "%s: plaintext of %zu bytes out of range", kind->what,
                       plain_len);
    envelope_keys k;
    pb_status st = derive(kind, ikm, ikm_len, wallet_id, &k);
    if (st != PB_OK)
        return pb_fail_context(st, "%s", kind->what);

    pb_writer w;
    pb_writer_init(&w);
    header(&w, kind, params, wallet_id);
    size_t aad_len = w.len;
    uint8_t iv[PB_AEAD_IV_BYTES];
    uint8_t *ct = malloc(plain_len + PB_AEAD_TAG_BYTES);
    if (!ct) {
        st = pb_fail(PB_ERR_NOMEM, "%s: out of memory", kind->what);
        goto done;
    }
    if (RAND_bytes(iv, sizeof iv) != 1) {
        st = pb_fail(PB_ERR_CRYPTO, "%s: no random IV", kind->what);
        goto done;
    }
    if (w.failed) {
        st = pb_fail(PB_ERR_NOMEM, "%s: out of memory", kind->what);
        goto done;
    }
    st = pb_aead_seal(k.key, iv, w.data, aad_len, plain, plain_len, ct);
    if (st != PB_OK)
        goto done;
    pb_writer_raw(&w, k.check, sizeof k.check);
    pb_writer_raw(&w, iv, sizeof iv);
    pb_writer_var(&w, ct, plain_len + PB_AEAD_TAG_BYTES);
    st = pb_writer_finish(&w, out, out_len);
done:
    pb_writer_free(&w);
    free(ct);
    OPENSSL_cleanse(&k, sizeof k);
    return st;
}

/* The parsed view of a blob; every pointer is into the input. */
typedef struct envelope_view {
    const uint8_t *params;
    const uint8_t *id;
    size_t id_len;
    size_t aad_len;
    const uint8_t *check;
    const uint8_t *iv;
    const uint8_t *ct;
    size_t ct_len;
} envelope_view;

static pb_status parse(const pb_envelope_kind *kind, const uint8_t *in, size_t in_len,
                       envelope_view *v)
{
    memset(v, 0, sizeof *v);
    pb_reader r;
    pb_reader_init(&r, in, in_len);
    const uint8_t *magic = pb_reader_raw(&r, sizeof kind->magic);
    if (!magic || memcmp(magic, kind->magic, sizeof kind->magic) != 0)
        return pb_fail(PB_ERR_INTEGRITY, "%s: not a blob of this kind", kind->what);
    uint8_t version = pb_reader_u8(&r);
    if (!r.failed && version != kind->version)
        return pb_fail(PB_ERR_INTEGRITY, "%s: unsupported version %u", kind->what,
                       (unsigned)version);
    v->params = pb_reader_raw(&r, kind->params_len);
    v->id_len = pb_reader_u8(&r);
    v->id = pb_reader_raw(&r, v->id_len);
    v->aad_len = in_len - r.left;
    v->check = pb_reader_raw(&r, PB_ENVELOPE_CHECK_BYTES);
    v->iv = pb_reader_raw(&r, PB_AEAD_IV_BYTES);
    v->ct = pb_reader_var(&r, PB_CUSTODY_PLAIN_MAX + PB_AEAD_TAG_BYTES, &v->ct_len);
    if (!r.failed && v->ct_len < PB_AEAD_TAG_BYTES)
        return pb_fail(PB_ERR_INTEGRITY, "%s: ciphertext shorter than its tag", kind->what);
    pb_status st = pb_reader_finish(&r, kind->what);
    if (st != PB_OK)
        return pb_fail_context(PB_ERR_INTEGRITY, "malformed");
    return PB_OK;
}

pb_status pb_envelope_params(const pb_envelope_kind *kind, const uint8_t *in, size_t in_len,
                             const uint8_t **params)
{
    envelope_view v;
    pb_status st = parse(kind, in, in_len, &v);
    *params = st == PB_OK ? v.params : NULL;
    return st;
}

pb_status pb_envelope_unwrap(const pb_envelope_kind *kind, const uint8_t *ikm, size_t ikm_len,
                             const char *wallet_id, const uint8_t *in, size_t in_len,
                             uint8_t **plain, size_t *plain_len)
{
    *plain = NULL;
    *plain_len = 0;
    if (pb_custody_wallet_id_check(wallet_id) != 0)
        return pb_fail(PB_ERR_ARGUMENT, "%s: invalid wallet id", kind->what);
    envelope_view v;
    pb_status st = parse(kind, in, in_len, &v);
    if (st != PB_OK)
        return st;
    if (v.id_len != strlen(wallet_id) || memcmp(v.id, wallet_id, v.id_len) != 0)
        return pb_fail(PB_ERR_INTEGRITY, "%s: belongs to another wallet", kind->what);

    envelope_keys k;
    st = derive(kind, ikm, ikm_len, wallet_id, &k);
    if (st != PB_OK)
        return pb_fail_context(st, "%s", kind->what);
    size_t n = v.ct_len - PB_AEAD_TAG_BYTES;
    uint8_t *buf = pb_secret_alloc(n);
    if (!buf) {
        OPENSSL_cleanse(&k, sizeof k);
        return pb_fail(PB_ERR_NOMEM, "%s: out of memory", kind->what);
    }
    int check_ok = CRYPTO_memcmp(k.check, v.check, sizeof k.check) == 0;
    int opened = pb_aead_open(k.key, v.iv, in, v.aad_len, v.ct, v.ct_len, buf);
    OPENSSL_cleanse(&k, sizeof k);
    if (opened == 1 && check_ok) {
        *plain = buf;
        *plain_len = n;
        return PB_OK;
    }
    pb_secret_free(buf, n);
    if (opened < 0)
        return pb_fail_context(PB_ERR_CRYPTO, "%s", kind->what);
    /* Exactly one of the two checks passing means the key was right and the
     * stored bytes were changed; both failing is a wrong key. */
    if (opened == 1 || check_ok)
        return pb_fail(PB_ERR_INTEGRITY, "%s: stored data was altered", kind->what);
    return pb_fail(PB_ERR_AUTH, "%s", kind->wrong_key);
}
