/* backup.c - hybrid RSA-OAEP + AES-256-GCM backups (see backup.h). */
#include "custody/backup.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/bytes.h"
#include "common/fail.h"
#include "common/file_check.h"
#include "common/secret.h"
#include "custody/aead.h"

#define FINGERPRINT_BYTES 32
/* A whole node's records fit easily; the bound stops a corrupt length from
 * asking for a huge allocation. */
#define BACKUP_PLAIN_MAX (1u << 30)

static const uint8_t backup_magic[4] = {'P', 'B', 'B', 'K'};
static const uint8_t backup_version = 1;
static const char oaep_label[] = "planbok-backup-v1";

/* Never prompt for a passphrase on a terminal: an encrypted key fails. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static pb_status check_key(EVP_PKEY *key, const char *path)
{
    if (!EVP_PKEY_is_a(key, "RSA"))
        return pb_fail(PB_ERR_ARGUMENT, "recovery key %s is not an RSA key (RSA-OAEP needs one)",
                       path);
    int bits = EVP_PKEY_get_bits(key);
    if (bits < PB_BACKUP_MIN_RSA_BITS || bits > PB_BACKUP_MAX_RSA_BITS)
        return pb_fail(PB_ERR_ARGUMENT,
                       "recovery key %s has %d bits; RSA keys of %d to %d bits are accepted", path,
                       bits, PB_BACKUP_MIN_RSA_BITS, PB_BACKUP_MAX_RSA_BITS);
    return PB_OK;
}

static pb_status load_key(const char *path, int private_part, EVP_PKEY **out)
{
    *out = NULL;
    if (!path)
        return pb_fail(PB_ERR_ARGUMENT, "recovery key: no path given");
    BIO *bio = NULL;
    if (private_part) {
        /* It opens every backup of the node: private to us, like a PIN
         * file (no symlink, our file, no access for group or others). */
        int fd;
        pb_status st = pb_file_open_checked(path, "recovery private key", PB_FILE_SECRET,
                                            PB_ERR_ARGUMENT, &fd);
        if (st != PB_OK)
            return st;
        bio = BIO_new_fd(fd, BIO_CLOSE);
        if (!bio)
            close(fd);
    } else {
        bio = BIO_new_file(path, "r");
    }
    if (!bio) {
        ERR_clear_error();
        return pb_fail(PB_ERR_ARGUMENT, "recovery key %s: cannot open it", path);
    }
    EVP_PKEY *key = private_part ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
                                 : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (!key)
        return pb_fail(PB_ERR_ARGUMENT,
                       private_part
                           ? "recovery private key %s: not an unencrypted PEM private key"
                           : "recovery public key %s: not a PEM public key",
                       path);
    pb_status st = check_key(key, path);
    if (st != PB_OK) {
        EVP_PKEY_free(key);
        return st;
    }
    *out = key;
    return PB_OK;
}

static pb_status fingerprint(EVP_PKEY *key, uint8_t fp[FINGERPRINT_BYTES])
{
    unsigned char *der = NULL;
    int der_len = i2d_PUBKEY(key, &der);
    unsigned int n = 0;
    int ok = der_len > 0 &&
             EVP_Digest(der, (size_t)der_len, fp, &n, EVP_sha256(), NULL) == 1 &&
             n == FINGERPRINT_BYTES;
    OPENSSL_free(der);
    if (!ok) {
        ERR_clear_error();
        return pb_fail(PB_ERR_CRYPTO, "recovery key: cannot compute its fingerprint");
    }
    return PB_OK;
}

/* An encrypt or decrypt context with OAEP, SHA-256, MGF1-SHA256, label. */
static EVP_PKEY_CTX *oaep_ctx(EVP_PKEY *key, int encrypt)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (!ctx)
        return NULL;
    unsigned char *label = OPENSSL_memdup(oaep_label, sizeof oaep_label - 1);
    int ok = label && (encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, (int)(sizeof oaep_label - 1)) == 1;
    if (!ok) {
        OPENSSL_free(label); /* only reached before set0 took ownership */
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

pb_status pb_backup_seal(const char *public_key_pem_path, const uint8_t *plain, size_t plain_len,
                         uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (plain_len > BACKUP_PLAIN_MAX || (plain_len > 0 && !plain))
        return pb_fail(PB_ERR_ARGUMENT, "backup: %zu bytes of data out of range", plain_len);
    EVP_PKEY *key;
    pb_status st = load_key(public_key_pem_path, 0, &key);
    if (st != PB_OK)
        return st;
    uint8_t fp[FINGERPRINT_BYTES], data_key[PB_AEAD_KEY_BYTES], iv[PB_AEAD_IV_BYTES];
    size_t ek_len = (size_t)EVP_PKEY_get_size(key);
    uint8_t *ek = malloc(ek_len);
    uint8_t *ct = malloc(plain_len + PB_AEAD_TAG_BYTES);
    EVP_PKEY_CTX *ctx = NULL;
    pb_writer w;
    pb_writer_init(&w);
    if (!ek || !ct) {
        st = pb_fail(PB_ERR_NOMEM, "backup: out of memory");
        goto done;
    }
    if ((st = fingerprint(key, fp)) != PB_OK)
        goto done;
    if (RAND_priv_bytes(data_key, sizeof data_key) != 1 || RAND_bytes(iv, sizeof iv) != 1) {
        st = pb_fail(PB_ERR_CRYPTO, "backup: random generator failed");
        goto done;
    }
    ctx = oaep_ctx(key, 1);
    if (!ctx || EVP_PKEY_encrypt(ctx, ek, &ek_len, data_key, sizeof data_key) != 1) {
        ERR_clear_error();
        st = pb_fail(PB_ERR_CRYPTO, "backup: RSA-OAEP encryption failed");
        goto done;
    }
    pb_writer_raw(&w, backup_magic, sizeof backup_magic);
    pb_writer_u8(&w, backup_version);
    pb_writer_raw(&w, fp, sizeof fp);
    pb_writer_var(&w, ek, ek_len);
    if (w.failed) {
        st = pb_fail(PB_ERR_NOMEM, "backup: out of memory");
        goto done;
    }
    st = pb_aead_seal(data_key, iv, w.data, w.len, plain, plain_len, ct);
    if (st != PB_OK)
        goto done;
    pb_writer_raw(&w, iv, sizeof iv);
    pb_writer_var(&w, ct, plain_len + PB_AEAD_TAG_BYTES);
    st = pb_writer_finish(&w, out, out_len);
done:
    OPENSSL_cleanse(data_key, sizeof data_key);
    pb_writer_free(&w);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
    free(ek);
    free(ct);
    return st;
}

typedef struct backup_view {
    const uint8_t *fp;
    const uint8_t *ek;
    size_t ek_len;
    size_t aad_len;
    const uint8_t *iv;
    const uint8_t *ct;
    size_t ct_len;
} backup_view;

static pb_status parse(const uint8_t *in, size_t in_len, backup_view *v)
{
    pb_reader r;
    pb_reader_init(&r, in, in_len);
    const uint8_t *magic = pb_reader_raw(&r, sizeof backup_magic);
    if (!magic || memcmp(magic, backup_magic, sizeof backup_magic) != 0)
        return pb_fail(PB_ERR_INTEGRITY, "backup: not a planbok backup");
    uint8_t version = pb_reader_u8(&r);
    if (!r.failed && version != backup_version)
        return pb_fail(PB_ERR_INTEGRITY, "backup: unsupported version %u", (unsigned)version);
    v->fp = pb_reader_raw(&r, FINGERPRINT_BYTES);
    v->ek = pb_reader_var(&r, PB_BACKUP_MAX_RSA_BITS / 8, &v->ek_len);
    v->aad_len = in_len - r.left;
    v->iv = pb_reader_raw(&r, PB_AEAD_IV_BYTES);
    v->ct = pb_reader_var(&r, BACKUP_PLAIN_MAX + PB_AEAD_TAG_BYTES, &v->ct_len);
    if (!r.failed && v->ct_len < PB_AEAD_TAG_BYTES)
        return pb_fail(PB_ERR_INTEGRITY, "backup: ciphertext shorter than its tag");
    if (pb_reader_finish(&r, "backup") != PB_OK)
        return pb_fail_context(PB_ERR_INTEGRITY, "malformed");
    return PB_OK;
}

pb_status pb_backup_open(const char *private_key_pem_path, const uint8_t *in, size_t in_len,
                         uint8_t **plain, size_t *plain_len)
{
    *plain = NULL;
    *plain_len = 0;
    backup_view v;
    pb_status st = parse(in, in_len, &v);
    if (st != PB_OK)
        return st;
    EVP_PKEY *key;
    if ((st = load_key(private_key_pem_path, 1, &key)) != PB_OK)
        return st;
    uint8_t fp[FINGERPRINT_BYTES];
    size_t dk_cap = (size_t)EVP_PKEY_get_size(key), dk_len = dk_cap;
    size_t n = v.ct_len - PB_AEAD_TAG_BYTES;
    uint8_t *dk = pb_secret_alloc(dk_cap);
    uint8_t *buf = pb_secret_alloc(n);
    EVP_PKEY_CTX *ctx = NULL;
    if (!dk || !buf) {
        st = pb_fail(PB_ERR_NOMEM, "backup: out of memory");
        goto done;
    }
    if ((st = fingerprint(key, fp)) != PB_OK)
        goto done;
    int same_key = CRYPTO_memcmp(fp, v.fp, sizeof fp) == 0;
    if (!(ctx = oaep_ctx(key, 0))) {
        ERR_clear_error();
        st = pb_fail(PB_ERR_CRYPTO, "backup: RSA-OAEP unavailable");
        goto done;
    }
    /* OAEP decryption with the wrong key fails (but for ~2^-256). So a
     * failure is the wrong key unless the recorded fingerprint says this is
     * the key the backup was made for; then the wrapped key was altered. */
    int unwrapped = v.ek_len == dk_cap &&
                    EVP_PKEY_decrypt(ctx, dk, &dk_len, v.ek, v.ek_len) == 1 &&
                    dk_len == PB_AEAD_KEY_BYTES;
    ERR_clear_error();
    if (!unwrapped) {
        st = same_key ? pb_fail(PB_ERR_INTEGRITY, "backup: the wrapped data key was altered")
                      : pb_fail(PB_ERR_AUTH, "backup: this private key does not open it (the "
                                             "backup was sealed to another recovery key)");
        goto done;
    }
    /* The data key opened, so this is the right private key: anything that
     * does not verify now is tampering, including an edited fingerprint. */
    int opened = pb_aead_open(dk, v.iv, in, v.aad_len, v.ct, v.ct_len, buf);
    if (opened < 0) {
        st = pb_fail_context(PB_ERR_CRYPTO, "backup");
        goto done;
    }
    if (opened == 0 || !same_key) {
        st = pb_fail(PB_ERR_INTEGRITY, "backup: the data was altered");
        goto done;
    }
    *plain = buf;
    *plain_len = n;
    buf = NULL;
    st = PB_OK;
done:
    pb_secret_free(dk, dk_cap);
    pb_secret_free(buf, n);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
    return st;
}
