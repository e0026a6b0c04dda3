/* org_secret.c - the Organization Secret and its wrap (see org_secret.h). */
#include "custody/org_secret.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/fail.h"
#include "common/file_check.h"
#include "common/secret.h"
#include "custody/envelope.h"
#include "custody/hex_ct.h"

static const pb_envelope_kind org_kind = {
    .magic = {'P', 'B', 'O', 'S'},
    .version = 1,
    .params_len = 0,
    .hkdf_salt = "planbok-org-secret-v1",
    .what = "organization-secret wrap",
    .wrong_key = "organization secret does not open this wallet",
};

pb_status pb_org_secret_generate(uint8_t secret[PB_ORG_SECRET_BYTES])
{
    if (RAND_priv_bytes(secret, PB_ORG_SECRET_BYTES) != 1) {
        OPENSSL_cleanse(secret, PB_ORG_SECRET_BYTES);
        return pb_fail(PB_ERR_CRYPTO, "organization secret: random generator failed");
    }
    return PB_OK;
}

void pb_org_secret_to_hex(const uint8_t secret[PB_ORG_SECRET_BYTES],
                          char hex[PB_ORG_SECRET_HEX_CHARS + 1])
{
    pb_hex_encode_ct(secret, PB_ORG_SECRET_BYTES, hex);
}

/* The longest accepted file: 64 hex characters and "\r\n". One more byte is
 * read so that a longer file is detected without reading all of it. */
#define ORG_FILE_MAX (PB_ORG_SECRET_HEX_CHARS + 2)

static pb_status read_raw(const char *path, uint8_t *buf, size_t *len)
{
    *len = 0;
    /* Raw, not pb_secret_read_file: a 32-byte binary secret may end in a
     * byte that looks like a newline. Same ownership and mode rules. */
    int fd;
    pb_status st = pb_file_open_checked(path, "organization secret file", PB_FILE_SECRET,
                                        PB_ERR_ARGUMENT, &fd);
    if (st != PB_OK)
        return st;
    for (;;) {
        ssize_t got = read(fd, buf + *len, ORG_FILE_MAX + 1 - *len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int saved = errno;
            close(fd);
            return pb_fail(PB_ERR_ARGUMENT, "organization secret file %s: %s", path,
                           strerror(saved));
        }
        if (got == 0 || (*len += (size_t)got) > ORG_FILE_MAX)
            break;
    }
    close(fd);
    return PB_OK;
}

static int all_hex(const uint8_t *p, size_t n)
{
    uint8_t nib;
    unsigned bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= (unsigned)pb_hex_nibble_ct(p[i], &nib);
    OPENSSL_cleanse(&nib, sizeof nib);
    return bad == 0;
}

static pb_status parse_secret(const uint8_t *buf, size_t len, uint8_t secret[PB_ORG_SECRET_BYTES])
{
    const char *expect = "must hold 64 hex characters or 32 raw bytes";
    if (len == PB_ORG_SECRET_BYTES) {
        /* 32 hex characters is a 16-byte secret written as hex, not 32 raw
         * random bytes (those are all hex digits with probability ~2^-113). */
        if (all_hex(buf, len))
            return pb_fail(PB_ERR_ARGUMENT,
                           "organization secret file holds 32 hex characters (16 bytes); %s",
                           expect);
        memcpy(secret, buf, PB_ORG_SECRET_BYTES);
        return PB_OK;
    }
    size_t n = len;
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r' && n == len - 1)
        n--;
    if (n != PB_ORG_SECRET_HEX_CHARS) {
        if (len > ORG_FILE_MAX)
            return pb_fail(PB_ERR_ARGUMENT, "organization secret file is too long; %s", expect);
        return pb_fail(PB_ERR_ARGUMENT, "organization secret file has %zu bytes; %s", len,
                       expect);
    }
    if (pb_hex_decode_ct((const char *)buf, PB_ORG_SECRET_HEX_CHARS, secret) != 0) {
        OPENSSL_cleanse(secret, PB_ORG_SECRET_BYTES);
        return pb_fail(PB_ERR_ARGUMENT,
                       "organization secret file has 64 characters that are not all hex "
                       "digits; %s", expect);
    }
    return PB_OK;
}

pb_status pb_org_secret_read_file(const char *path, uint8_t secret[PB_ORG_SECRET_BYTES])
{
    memset(secret, 0, PB_ORG_SECRET_BYTES);
    if (!path)
        return pb_fail(PB_ERR_ARGUMENT, "organization secret file: no path given");
    uint8_t *buf = pb_secret_alloc(ORG_FILE_MAX + 1);
    if (!buf)
        return pb_fail(PB_ERR_NOMEM, "organization secret: out of memory");
    size_t len = 0;
    pb_status st = read_raw(path, buf, &len);
    if (st == PB_OK)
        st = parse_secret(buf, len, secret);
    pb_secret_free(buf, ORG_FILE_MAX + 1);
    if (st == PB_OK) {
        uint8_t any = 0;
        for (size_t i = 0; i < PB_ORG_SECRET_BYTES; i++)
            any |= secret[i];
        if (any == 0)
            st = pb_fail(PB_ERR_ARGUMENT, "organization secret file holds an all-zero secret");
    }
    if (st != PB_OK)
        OPENSSL_cleanse(secret, PB_ORG_SECRET_BYTES);
    return st;
}

pb_status pb_org_wrap(const uint8_t secret[PB_ORG_SECRET_BYTES], const char *wallet_id,
                      const uint8_t *plain, size_t plain_len, uint8_t **out, size_t *out_len)
{
    return pb_envelope_wrap(&org_kind, NULL, secret, PB_ORG_SECRET_BYTES, wallet_id, plain,
                            plain_len, out, out_len);
}

pb_status pb_org_unwrap(const uint8_t secret[PB_ORG_SECRET_BYTES], const char *wallet_id,
                        const uint8_t *in, size_t in_len, uint8_t **plain, size_t *plain_len)
{
    return pb_envelope_unwrap(&org_kind, secret, PB_ORG_SECRET_BYTES, wallet_id, in, in_len,
                              plain, plain_len);
}
