/* share.c - share records: encoding, decoding, consistency, share ids
 * (see share.h).
 *
 * Layout (all fields fixed or length-prefixed, big-endian):
 *   "PBSH" | u8 format version (1) | u8 kind (1 = P1, 2 = P2) | u32 generation
 *   P1: u8 locked (0/1) | x1 [32] | Q [33] | Q1 [33] | Q2 [33] | chain [32]
 *       | u16 |N| | Paillier private key | u16 |N^| | P2's ring-Pedersen public
 *   P2: x2 [32] | Q [33] | Q1 [33] | Q2 [33] | chain [32]
 *       | u16 |N| | Paillier public key | c_key (signed integer, 0 < c < N^2)
 */
#include "mpc/share.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/fail.h"
#include "crypto/bn.h"
#include "mpc/mem.h"

static const uint8_t MAGIC[4] = {'P', 'B', 'S', 'H'};

int pb_share_bits_allowed(int bits) { return bits == 2048 || bits == 3072; }

pb_share_p1 *pb_share_p1_alloc(void)
{
    pb_share_p1 *s = pb_mpc_secret_zalloc(sizeof *s);
    if (s)
        atomic_init(&s->locked, 0);
    return s;
}

pb_share_p2 *pb_share_p2_alloc(void) { return pb_mpc_secret_zalloc(sizeof(pb_share_p2)); }

PB_API void pb_share_p1_free(pb_share_p1 *s)
{
    if (!s)
        return;
    pb_paillier_private_free(s->paillier);
    pb_rped_public_free(s->cosigner);
    pb_mpc_secret_free(s, sizeof *s);
}

PB_API void pb_share_p2_free(pb_share_p2 *s)
{
    if (!s)
        return;
    pb_paillier_public_free(s->paillier);
    BN_free(s->c_key);
    pb_mpc_secret_free(s, sizeof *s);
}

pb_status pb_share_check_points(const pb_scalar *x, const pb_point *qi, const pb_point *q1,
                                const pb_point *q2, const pb_point *q)
{
    pb_point check;
    if (pb_scalar_is_zero(x) || pb_point_mul_base(&check, x) != PB_OK ||
        !pb_point_equal(&check, qi))
        return pb_fail(PB_ERR_INTEGRITY, "share record: x_i*G does not equal Q_i");
    if (pb_point_add(&check, q1, q2) != PB_OK || !pb_point_equal(&check, q))
        return pb_fail(PB_ERR_INTEGRITY, "share record: Q1 + Q2 does not equal Q");
    return PB_OK;
}

static void put_point(pb_writer *w, const pb_point *p)
{
    uint8_t b[PB_POINT_BYTES];
    pb_point_serialize(b, p);
    pb_writer_raw(w, b, sizeof b);
}

static void put_common(pb_writer *w, uint8_t kind, uint32_t generation)
{
    pb_writer_raw(w, MAGIC, sizeof MAGIC);
    pb_writer_u8(w, PB_SHARE_FORMAT_VERSION);
    pb_writer_u8(w, kind);
    pb_writer_u32(w, generation);
}

static void put_public_part(pb_writer *w, const pb_scalar *x, const pb_point *q,
                            const pb_point *q1, const pb_point *q2, const uint8_t *chain)
{
    pb_writer_raw(w, x->b, PB_SCALAR_BYTES);
    put_point(w, q);
    put_point(w, q1);
    put_point(w, q2);
    pb_writer_raw(w, chain, PB_BIP32_CHAIN_BYTES);
}

void pb_share_p1_encode(pb_writer *w, const pb_share_p1 *s)
{
    put_common(w, PB_SHARE_KIND_P1, s->generation);
    pb_writer_u8(w, atomic_load(&s->locked) ? 1 : 0);
    put_public_part(w, &s->x1, &s->q, &s->q1, &s->q2, s->chain);
    pb_writer_u16(w, (uint16_t)pb_paillier_bits(pb_paillier_public_of(s->paillier)));
    pb_paillier_private_encode(w, s->paillier);
    pb_writer_u16(w, (uint16_t)s->cosigner->bits);
    pb_rped_public_encode(w, s->cosigner);
}

void pb_share_p2_encode(pb_writer *w, const pb_share_p2 *s)
{
    put_common(w, PB_SHARE_KIND_P2, s->generation);
    put_public_part(w, &s->x2, &s->q, &s->q1, &s->q2, s->chain);
    pb_writer_u16(w, (uint16_t)pb_paillier_bits(s->paillier));
    pb_paillier_public_encode(w, s->paillier);
    pb_bn_encode(w, s->c_key);
}

static pb_status finish_out(pb_writer *w, uint8_t **out, size_t *out_len)
{
    return pb_writer_finish(w, out, out_len);
}

PB_API pb_status pb_share_p1_serialize(const pb_share_p1 *s, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_share_p1_encode(&w, s);
    return finish_out(&w, out, out_len);
}

PB_API pb_status pb_share_p2_serialize(const pb_share_p2 *s, uint8_t **out, size_t *out_len)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_share_p2_encode(&w, s);
    return finish_out(&w, out, out_len);
}

/* --- decoding ------------------------------------------------------------- */

static pb_status get_common(pb_reader *r, uint8_t kind, uint32_t *generation)
{
    const uint8_t *magic = pb_reader_raw(r, sizeof MAGIC);
    uint8_t version = pb_reader_u8(r);
    uint8_t got_kind = pb_reader_u8(r);
    *generation = pb_reader_u32(r);
    if (r->failed)
        return pb_fail(PB_ERR_PARSE, "share record: truncated header");
    if (memcmp(magic, MAGIC, sizeof MAGIC) != 0)
        return pb_fail(PB_ERR_PARSE, "share record: bad magic");
    if (version != PB_SHARE_FORMAT_VERSION)
        return pb_fail(PB_ERR_PARSE, "share record: unsupported format version %u", version);
    if (got_kind != kind)
        return pb_fail(PB_ERR_PARSE, "share record: kind %u, expected %u (P%u's record)",
                       got_kind, kind, kind);
    return PB_OK;
}

static pb_status get_point(pb_reader *r, pb_point *out, const char *what)
{
    const uint8_t *b = pb_reader_raw(r, PB_POINT_BYTES);
    if (!b)
        return pb_fail(PB_ERR_PARSE, "share record: truncated at %s", what);
    pb_status st = pb_point_parse(out, b);
    return st == PB_OK ? st : pb_fail_context(st, "share record %s", what);
}

static pb_status get_public_part(pb_reader *r, pb_scalar *x, pb_point *q, pb_point *q1,
                                 pb_point *q2, uint8_t *chain)
{
    const uint8_t *b = pb_reader_raw(r, PB_SCALAR_BYTES);
    if (!b)
        return pb_fail(PB_ERR_PARSE, "share record: truncated at the share");
    pb_status st = pb_scalar_parse(x, b);
    if (st != PB_OK)
        return pb_fail_context(st, "share record share");
    if ((st = get_point(r, q, "Q")) != PB_OK || (st = get_point(r, q1, "Q1")) != PB_OK ||
        (st = get_point(r, q2, "Q2")) != PB_OK)
        return st;
    const uint8_t *c = pb_reader_raw(r, PB_BIP32_CHAIN_BYTES);
    if (!c)
        return pb_fail(PB_ERR_PARSE, "share record: truncated at the chain code");
    memcpy(chain, c, PB_BIP32_CHAIN_BYTES);
    return PB_OK;
}

static pb_status get_bits(pb_reader *r, int *bits, const char *what)
{
    *bits = pb_reader_u16(r);
    if (r->failed)
        return pb_fail(PB_ERR_PARSE, "share record: truncated at the %s size", what);
    if (!pb_share_bits_allowed(*bits))
        return pb_fail(PB_ERR_PARSE, "share record: %s size %d is not 2048 or 3072", what,
                       *bits);
    return PB_OK;
}

static pb_status p1_decode(pb_reader *r, pb_share_p1 *s)
{
    pb_status st = get_common(r, PB_SHARE_KIND_P1, &s->generation);
    if (st != PB_OK)
        return st;
    uint8_t locked = pb_reader_u8(r);
    if (r->failed)
        return pb_fail(PB_ERR_PARSE, "share record: truncated at the lock flag");
    if (locked > 1)
        return pb_fail(PB_ERR_PARSE, "share record: lock flag %u is not 0 or 1", locked);
    atomic_store(&s->locked, locked);
    if ((st = get_public_part(r, &s->x1, &s->q, &s->q1, &s->q2, s->chain)) != PB_OK)
        return st;
    int bits;
    if ((st = get_bits(r, &bits, "Paillier")) != PB_OK)
        return st;
    if ((st = pb_paillier_private_decode(r, &s->paillier)) != PB_OK)
        return pb_fail_context(st, "share record");
    if (pb_paillier_bits(pb_paillier_public_of(s->paillier)) != bits)
        return pb_fail(PB_ERR_PARSE, "share record: Paillier key is not of the recorded size");
    if ((st = get_bits(r, &bits, "ring-Pedersen")) != PB_OK)
        return st;
    if ((st = pb_rped_public_decode(r, bits, &s->cosigner)) != PB_OK)
        return pb_fail_context(st, "share record");
    if ((st = pb_rped_public_check(s->cosigner, bits)) != PB_OK)
        return pb_fail_context(st, "share record");
    if ((st = pb_reader_finish(r, "share record")) != PB_OK)
        return st;
    return pb_share_check_points(&s->x1, &s->q1, &s->q1, &s->q2, &s->q);
}

static pb_status p2_decode(pb_reader *r, pb_share_p2 *s)
{
    pb_status st = get_common(r, PB_SHARE_KIND_P2, &s->generation);
    if (st != PB_OK)
        return st;
    if ((st = get_public_part(r, &s->x2, &s->q, &s->q1, &s->q2, s->chain)) != PB_OK)
        return st;
    int bits;
    if ((st = get_bits(r, &bits, "Paillier")) != PB_OK)
        return st;
    if ((st = pb_paillier_public_decode(r, bits, &s->paillier)) != PB_OK)
        return pb_fail_context(st, "share record");
    if ((s->c_key = BN_new()) == NULL)
        return pb_fail(PB_ERR_NOMEM, "share record: allocation failed");
    if ((st = pb_bn_decode_mod(r, pb_paillier_n2(s->paillier), s->c_key)) != PB_OK)
        return pb_fail_context(st, "share record c_key");
    if ((st = pb_paillier_check_ciphertext(s->paillier, s->c_key)) != PB_OK)
        return pb_fail_context(st, "share record c_key");
    if ((st = pb_reader_finish(r, "share record")) != PB_OK)
        return st;
    return pb_share_check_points(&s->x2, &s->q2, &s->q1, &s->q2, &s->q);
}

PB_API pb_status pb_share_p1_parse(pb_share_p1 **out, const uint8_t *in, size_t in_len)
{
    *out = NULL;
    pb_share_p1 *s = pb_share_p1_alloc();
    if (!s)
        return pb_fail(PB_ERR_NOMEM, "share record: allocation failed");
    pb_reader r;
    pb_reader_init(&r, in, in_len);
    pb_status st = p1_decode(&r, s);
    if (st != PB_OK) {
        pb_share_p1_free(s);
        return st;
    }
    *out = s;
    return PB_OK;
}

PB_API pb_status pb_share_p2_parse(pb_share_p2 **out, const uint8_t *in, size_t in_len)
{
    *out = NULL;
    pb_share_p2 *s = pb_share_p2_alloc();
    if (!s)
        return pb_fail(PB_ERR_NOMEM, "share record: allocation failed");
    pb_reader r;
    pb_reader_init(&r, in, in_len);
    pb_status st = p2_decode(&r, s);
    if (st != PB_OK) {
        pb_share_p2_free(s);
        return st;
    }
    *out = s;
    return PB_OK;
}

/* --- public data ---------------------------------------------------------- */

void pb_share_id_compute(uint8_t id[PB_MPC_SHARE_ID_BYTES], uint32_t generation,
                         const pb_point *q, const pb_point *q1, const pb_point *q2,
                         const uint8_t chain[PB_BIP32_CHAIN_BYTES], const BIGNUM *paillier_n)
{
    pb_writer w;
    pb_writer_init(&w);
    static const char tag[] = "planbok/mpc/share-id/v1";
    pb_writer_var(&w, tag, sizeof tag - 1);
    pb_writer_u32(&w, generation);
    put_point(&w, q);
    put_point(&w, q1);
    put_point(&w, q2);
    pb_writer_raw(&w, chain, PB_BIP32_CHAIN_BYTES);
    pb_bn_encode(&w, paillier_n);
    uint8_t *buf = NULL;
    size_t len = 0;
    unsigned int out_len = 0;
    if (pb_writer_finish(&w, &buf, &len) != PB_OK ||
        !EVP_Digest(buf, len, id, &out_len, EVP_sha256(), NULL) || out_len != 32)
        (void)RAND_bytes(id, PB_MPC_SHARE_ID_BYTES); /* never matches: fails safe */
    pb_bytes_free(buf, len);
}

PB_API void pb_share_p1_id(const pb_share_p1 *s, uint8_t id[PB_MPC_SHARE_ID_BYTES])
{
    pb_share_id_compute(id, s->generation, &s->q, &s->q1, &s->q2, s->chain,
                        pb_paillier_n(pb_paillier_public_of(s->paillier)));
}

PB_API void pb_share_p2_id(const pb_share_p2 *s, uint8_t id[PB_MPC_SHARE_ID_BYTES])
{
    pb_share_id_compute(id, s->generation, &s->q, &s->q1, &s->q2, s->chain,
                        pb_paillier_n(s->paillier));
}

PB_API void pb_share_p1_public_key(const pb_share_p1 *s, uint8_t pubkey[PB_MPC_PUBKEY_BYTES])
{
    pb_point_serialize(pubkey, &s->q);
}

PB_API void pb_share_p2_public_key(const pb_share_p2 *s, uint8_t pubkey[PB_MPC_PUBKEY_BYTES])
{
    pb_point_serialize(pubkey, &s->q);
}

static pb_status xpub_of(const pb_point *q, const uint8_t *chain, char *out)
{
    pb_bip32_xpub root;
    pb_bip32_root(&root, q, chain);
    return pb_bip32_xpub_encode(&root, out, PB_MPC_XPUB_SIZE);
}

PB_API pb_status pb_share_p1_xpub(const pb_share_p1 *s, char out[PB_MPC_XPUB_SIZE])
{
    return xpub_of(&s->q, s->chain, out);
}

PB_API pb_status pb_share_p2_xpub(const pb_share_p2 *s, char out[PB_MPC_XPUB_SIZE])
{
    return xpub_of(&s->q, s->chain, out);
}

PB_API uint32_t pb_share_p1_generation(const pb_share_p1 *s) { return s->generation; }
PB_API uint32_t pb_share_p2_generation(const pb_share_p2 *s) { return s->generation; }

PB_API int pb_share_p1_is_locked(const pb_share_p1 *s) { return atomic_load(&s->locked) != 0; }
