/* cosigner.c - P2's node parameters: generation, sealing, export with
 * Pi^prm, and P1's verification (see cosigner.h).
 *
 * Secret encoding: "PBCS" | u8 version (1) | u16 |N^| | ring-Pedersen secret.
 * Export:          "PBCX" | u8 version (2) | u16 |N^| | (N^, s, t) | Pi^prm.
 */
#include "mpc/cosigner.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/bytes.h"
#include "common/fail.h"
#include "crypto/transcript.h"
#include "crypto/zk_prm.h"
#include "mpc/share.h"

/* The export's version follows Pi^prm's round count (2: 128 rounds), so an
 * export made by an older build is refused by name instead of as a
 * truncated proof. The sealed secret is unaffected and keeps its version. */
#define SECRET_VERSION 1
#define EXPORT_VERSION 2
static const uint8_t SECRET_MAGIC[4] = {'P', 'B', 'C', 'S'};
static const uint8_t EXPORT_MAGIC[4] = {'P', 'B', 'C', 'X'};

PB_API pb_status pb_cosigner_params_generate(pb_cosigner_params **out, int bits,
                                             pb_progress_cb progress, void *progress_ctx)
{
    *out = NULL;
    if (!pb_share_bits_allowed(bits))
        return pb_fail(PB_ERR_ARGUMENT, "cosigner parameters: %d bits is not 2048 or 3072",
                       bits);
    pb_cosigner_params *p = calloc(1, sizeof *p);
    if (!p)
        return pb_fail(PB_ERR_NOMEM, "cosigner parameters: allocation failed");
    pb_status st = pb_rped_generate(bits, progress, progress_ctx, &p->sec);
    if (st != PB_OK) {
        free(p);
        return pb_fail_context(st, "cosigner parameters");
    }
    *out = p;
    return PB_OK;
}

PB_API void pb_cosigner_params_free(pb_cosigner_params *p)
{
    if (!p)
        return;
    pb_rped_secret_free(p->sec);
    free(p);
}

static void put_header(pb_writer *w, const uint8_t magic[4], uint8_t version, int bits)
{
    pb_writer_raw(w, magic, 4);
    pb_writer_u8(w, version);
    pb_writer_u16(w, (uint16_t)bits);
}

static pb_status get_header(pb_reader *r, const uint8_t magic[4], uint8_t want_version,
                            int *bits, const char *what)
{
    const uint8_t *m = pb_reader_raw(r, 4);
    uint8_t version = pb_reader_u8(r);
    *bits = pb_reader_u16(r);
    if (r->failed)
        return pb_fail(PB_ERR_PARSE, "%s: truncated header", what);
    if (memcmp(m, magic, 4) != 0)
        return pb_fail(PB_ERR_PARSE, "%s: bad magic", what);
    if (version != want_version)
        return pb_fail(PB_ERR_PARSE, "%s: unsupported version %u", what, version);
    if (!pb_share_bits_allowed(*bits))
        return pb_fail(PB_ERR_PARSE, "%s: size %d is not 2048 or 3072", what, *bits);
    return PB_OK;
}

PB_API pb_status pb_cosigner_params_serialize(const pb_cosigner_params *p, uint8_t **out,
                                              size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    put_header(&w, SECRET_MAGIC, SECRET_VERSION, pb_rped_public_of(p->sec)->bits);
    pb_rped_secret_encode(&w, p->sec);
    return pb_writer_finish(&w, out, out_len);
}

PB_API pb_status pb_cosigner_params_parse(pb_cosigner_params **out, const uint8_t *in,
                                          size_t in_len)
{
    *out = NULL;
    pb_reader r;
    int bits;
    pb_reader_init(&r, in, in_len);
    pb_status st = get_header(&r, SECRET_MAGIC, SECRET_VERSION, &bits, "cosigner parameters");
    if (st != PB_OK)
        return st;
    pb_cosigner_params *p = calloc(1, sizeof *p);
    if (!p)
        return pb_fail(PB_ERR_NOMEM, "cosigner parameters: allocation failed");
    st = pb_rped_secret_decode(&r, &p->sec);
    if (st == PB_OK)
        st = pb_reader_finish(&r, "cosigner parameters");
    if (st == PB_OK && pb_rped_public_of(p->sec)->bits != bits)
        st = pb_fail(PB_ERR_PARSE, "cosigner parameters: N^ is not of the recorded size");
    if (st != PB_OK) {
        pb_cosigner_params_free(p);
        return pb_fail_context(st, "cosigner parameters");
    }
    *out = p;
    return PB_OK;
}

/* Pi^prm is not part of a session: its transcript is bound to the
 * parameters themselves, id = SHA-256("planbok/mpc/cosigner-id/v1" || enc). */
static pb_status prm_transcript(pb_transcript *t, const pb_rped_public *pub)
{
    static const char tag[] = "planbok/mpc/cosigner-id/v1";
    pb_writer w;
    pb_writer_init(&w);
    pb_writer_var(&w, tag, sizeof tag - 1);
    pb_writer_u16(&w, (uint16_t)pub->bits);
    pb_rped_public_encode(&w, pub);
    uint8_t *buf, id[PB_SESSION_ID_BYTES];
    size_t len;
    unsigned int id_len = 0;
    pb_status st = pb_writer_finish(&w, &buf, &len);
    if (st != PB_OK)
        return st;
    int ok = EVP_Digest(buf, len, id, &id_len, EVP_sha256(), NULL) && id_len == sizeof id;
    pb_bytes_free(buf, len);
    if (!ok)
        return pb_fail(PB_ERR_CRYPTO, "cosigner parameters: SHA-256 failed");
    pb_transcript_init(t, "planbok/mpc/cosigner/v1/prm", id, PB_ROLE_P2);
    return PB_OK;
}

PB_API pb_status pb_cosigner_params_export(const pb_cosigner_params *p, uint8_t **out,
                                           size_t *out_len)
{
    const pb_rped_public *pub = pb_rped_public_of(p->sec);
    pb_transcript t;
    pb_zk_prm_proof *proof = NULL;
    pb_status st = prm_transcript(&t, pub);
    if (st == PB_OK)
        st = pb_zk_prm_prove(&t, p->sec, &proof);
    if (st != PB_OK)
        return pb_fail_context(st, "cosigner export");
    pb_writer w;
    pb_writer_init(&w);
    put_header(&w, EXPORT_MAGIC, EXPORT_VERSION, pub->bits);
    pb_rped_public_encode(&w, pub);
    pb_zk_prm_encode(&w, proof);
    pb_zk_prm_free(proof);
    return pb_writer_finish(&w, out, out_len);
}

PB_API pb_status pb_cosigner_public_parse(pb_cosigner_public **out, const uint8_t *in,
                                          size_t in_len)
{
    *out = NULL;
    pb_reader r;
    int bits;
    pb_reader_init(&r, in, in_len);
    pb_status st = get_header(&r, EXPORT_MAGIC, EXPORT_VERSION, &bits,
                              "cosigner public parameters");
    if (st != PB_OK)
        return st;
    pb_rped_public *pub = NULL;
    pb_zk_prm_proof *proof = NULL;
    pb_transcript t;
    if ((st = pb_rped_public_decode(&r, bits, &pub)) == PB_OK &&
        (st = pb_rped_public_check(pub, bits)) == PB_OK &&
        (st = pb_zk_prm_decode(&r, pub, &proof)) == PB_OK &&
        (st = pb_reader_finish(&r, "cosigner public parameters")) == PB_OK &&
        (st = prm_transcript(&t, pub)) == PB_OK)
        st = pb_zk_prm_verify(&t, pub, proof);
    pb_zk_prm_free(proof);
    pb_cosigner_public *cp = NULL;
    if (st == PB_OK && (cp = calloc(1, sizeof *cp)) == NULL)
        st = pb_fail(PB_ERR_NOMEM, "cosigner public parameters: allocation failed");
    if (st != PB_OK) {
        pb_rped_public_free(pub);
        return pb_fail_context(st, "cosigner public parameters");
    }
    cp->pub = pub;
    *out = cp;
    return PB_OK;
}

PB_API void pb_cosigner_public_free(pb_cosigner_public *cp)
{
    if (!cp)
        return;
    pb_rped_public_free(cp->pub);
    free(cp);
}
