/* transcript.c - Fiat-Shamir transcripts as a SHA-256 chain.
 *
 * Owns the exact byte layout of everything hashed. Every absorption hashes
 * (previous state, a kind byte, the item counter, the length-prefixed label
 * and the length-prefixed data), so no two different sequences of items can
 * collide short of a SHA-256 collision. Challenge output blocks use their own
 * kind byte and a block counter, and are followed by an absorption of the
 * label and length so successive challenges differ. Must never be fed a
 * secret witness.
 *
 * These functions cannot report errors. If hashing or allocation ever fails,
 * the transcript is poisoned (its state no longer matches the peer's) and
 * challenges come from the RNG: a proof made or checked under such a
 * transcript simply fails to verify, which is the safe outcome.
 */
#include "crypto/transcript.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/fail.h"
#include "crypto/bn.h"

#define PREFIX "planbok-transcript-v1"

enum { KIND_INIT = 0x00, KIND_ITEM = 0x01, KIND_BLOCK = 0x02, KIND_CHALLENGE = 0x03 };

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void md_setup(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

typedef struct part {
    const void *p;
    size_t n;
} part;

static void be32(uint8_t out[4], uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

static void be64(uint8_t out[8], uint64_t v)
{
    be32(out, (uint32_t)(v >> 32));
    be32(out + 4, (uint32_t)v);
}

/* SHA-256 over the concatenated parts; 0 on any failure. */
static int sha256_parts(uint8_t out[32], const part *parts, size_t count)
{
    (void)pthread_once(&md_once, md_setup);
    if (sha256_md == NULL)
        return 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c == NULL)
        return 0;
    int ok = EVP_DigestInit_ex(c, sha256_md, NULL);
    for (size_t i = 0; ok && i < count; i++)
        if (parts[i].n > 0)
            ok = EVP_DigestUpdate(c, parts[i].p, parts[i].n);
    unsigned int len = 0;
    ok = ok && EVP_DigestFinal_ex(c, out, &len) && len == 32;
    EVP_MD_CTX_free(c);
    return ok;
}

static void poison(pb_transcript *t)
{
    /* Unpredictable, so no peer state matches it. */
    if (RAND_bytes(t->state, sizeof t->state) != 1)
        memset(t->state, 0xa5, sizeof t->state);
    t->items = UINT64_MAX;
}

/* state = H(state || kind || items || u32 |label| || label || u64 |data| || data) */
static void absorb(pb_transcript *t, uint8_t kind, const char *label, const part *data,
                   size_t ndata)
{
    size_t label_len = strlen(label);
    size_t total = 0;
    for (size_t i = 0; i < ndata; i++)
        total += data[i].n;
    uint8_t kb = kind, items[8], llen[4], dlen[8];
    be64(items, t->items);
    be32(llen, (uint32_t)label_len);
    be64(dlen, (uint64_t)total);
    part parts[8] = {{t->state, 32}, {&kb, 1}, {items, 8}, {llen, 4},
                     {label, label_len}, {dlen, 8}};
    size_t count = 6;
    for (size_t i = 0; i < ndata && count < 8; i++)
        parts[count++] = data[i];
    uint8_t next[32];
    if (label_len > UINT32_MAX || ndata > 2 || !sha256_parts(next, parts, count)) {
        poison(t);
        return;
    }
    memcpy(t->state, next, 32);
    t->items++;
}

void pb_transcript_init(pb_transcript *t, const char *domain_tag,
                        const uint8_t session_id[PB_SESSION_ID_BYTES], uint8_t prover_role)
{
    memset(t->state, 0, sizeof t->state);
    t->items = 0;
    uint8_t hdr[PB_SESSION_ID_BYTES + 1];
    memcpy(hdr, session_id, PB_SESSION_ID_BYTES);
    hdr[PB_SESSION_ID_BYTES] = prover_role;
    /* The fixed prefix rides in the label slot of the first item, the domain
     * tag is length-prefixed inside it, so tags cannot run into the session id. */
    size_t tag_len = strlen(domain_tag);
    uint8_t tlen[4];
    be32(tlen, (uint32_t)tag_len);
    const part body[2] = {{tlen, 4}, {domain_tag, tag_len}};
    absorb(t, KIND_INIT, PREFIX, body, 2);
    const part sid[1] = {{hdr, sizeof hdr}};
    absorb(t, KIND_INIT, "session", sid, 1);
}

void pb_transcript_append(pb_transcript *t, const char *label, const void *data, size_t len)
{
    const part d[1] = {{data, len}};
    absorb(t, KIND_ITEM, label, d, 1);
}

void pb_transcript_append_bn(pb_transcript *t, const char *label, const BIGNUM *bn)
{
    size_t n = (size_t)BN_num_bytes(bn);
    uint8_t sign = (BN_is_negative(bn) && !BN_is_zero(bn)) ? 1 : 0;
    uint8_t small[1024];
    uint8_t *buf = n <= sizeof small ? small : malloc(n);
    if (buf == NULL) {
        poison(t);
        return;
    }
    BN_bn2bin(bn, buf);
    const part d[2] = {{&sign, 1}, {buf, n}};
    absorb(t, KIND_ITEM, label, d, 2);
    if (buf != small)
        free(buf);
}

void pb_transcript_append_point(pb_transcript *t, const char *label, const pb_point *p)
{
    uint8_t enc[PB_POINT_BYTES];
    pb_point_serialize(enc, p);
    pb_transcript_append(t, label, enc, sizeof enc);
}

void pb_transcript_append_u64(pb_transcript *t, const char *label, uint64_t v)
{
    uint8_t enc[8];
    be64(enc, v);
    pb_transcript_append(t, label, enc, sizeof enc);
}

void pb_transcript_challenge_bytes(pb_transcript *t, const char *label, uint8_t *out, size_t n)
{
    size_t label_len = strlen(label);
    uint8_t kb = KIND_BLOCK, llen[4], nlen[8], ctr[4];
    be32(llen, (uint32_t)label_len);
    be64(nlen, (uint64_t)n);
    int ok = label_len <= UINT32_MAX;
    for (uint32_t i = 0; ok && (size_t)i * 32 < n; i++) {
        be32(ctr, i);
        const part parts[6] = {{t->state, 32}, {&kb, 1}, {llen, 4},
                               {label, label_len}, {nlen, 8}, {ctr, 4}};
        uint8_t block[32];
        ok = sha256_parts(block, parts, 6);
        size_t take = n - (size_t)i * 32 < 32 ? n - (size_t)i * 32 : 32;
        memcpy(out + (size_t)i * 32, block, take);
    }
    if (!ok) {
        poison(t);
        if (RAND_bytes(out, n) != 1)
            memset(out, 0, n);
        return;
    }
    /* Binding the label and the length makes the next challenge differ. */
    const part d[1] = {{nlen, 8}};
    absorb(t, KIND_CHALLENGE, label, d, 1);
}

void pb_transcript_challenge_scalar(pb_transcript *t, const char *label, pb_scalar *out)
{
    uint8_t wide[48];
    pb_transcript_challenge_bytes(t, label, wide, sizeof wide);
    BIGNUM *x = BN_bin2bn(wide, sizeof wide, NULL);
    /* 384 bits reduced mod a 256-bit q: bias below 2^-128. */
    if (x == NULL || pb_scalar_from_bn(out, x) != PB_OK) {
        poison(t);
        if (RAND_bytes(out->b, PB_SCALAR_BYTES) != 1)
            memset(out->b, 0, PB_SCALAR_BYTES);
        out->b[0] &= 0x7f; /* below q */
    }
    BN_free(x);
}

pb_status pb_transcript_challenge_mod(pb_transcript *t, const char *label, const BIGNUM *mod,
                                      BIGNUM *out)
{
    if (BN_is_negative(mod) || BN_is_zero(mod))
        return pb_fail(PB_ERR_ARGUMENT, "challenge: modulus must be positive");
    size_t n = ((size_t)BN_num_bits(mod) + 128 + 7) / 8;
    uint8_t *buf = malloc(n);
    if (buf == NULL) {
        poison(t);
        return pb_fail(PB_ERR_NOMEM, "challenge: allocation failed");
    }
    pb_transcript_challenge_bytes(t, label, buf, n);
    BN_CTX *ctx = pb_bn_ctx();
    pb_status st = PB_OK;
    if (ctx == NULL || BN_bin2bn(buf, (int)n, out) == NULL || !BN_nnmod(out, out, mod, ctx)) {
        poison(t);
        st = pb_fail(PB_ERR_CRYPTO, "challenge: reduction failed");
    }
    free(buf);
    return st;
}

pb_status pb_transcript_challenge_signed(pb_transcript *t, const char *label,
                                         const BIGNUM *bound, BIGNUM *out)
{
    if (BN_is_negative(bound))
        return pb_fail(PB_ERR_ARGUMENT, "challenge: negative bound");
    BIGNUM *width = BN_new();
    pb_status st = PB_OK;
    /* [0, 2*bound] shifted down by bound. */
    if (width == NULL || !BN_lshift1(width, bound) || !BN_add_word(width, 1)) {
        poison(t);
        st = pb_fail(PB_ERR_NOMEM, "challenge: allocation failed");
    } else {
        st = pb_transcript_challenge_mod(t, label, width, out);
        if (st == PB_OK && !BN_sub(out, out, bound)) {
            poison(t);
            st = pb_fail(PB_ERR_CRYPTO, "challenge: subtraction failed");
        }
    }
    BN_free(width);
    return st;
}
