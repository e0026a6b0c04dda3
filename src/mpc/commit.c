/* commit.c - SHA-256 hash commitments (see commit.h). */
#include "mpc/commit.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/fail.h"

static int update_var(EVP_MD_CTX *c, const void *p, size_t n)
{
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    return EVP_DigestUpdate(c, len, sizeof len) && (n == 0 || EVP_DigestUpdate(c, p, n));
}

void pb_commit_compute(uint8_t out[PB_COMMIT_BYTES], const char *label,
                       const uint8_t bind_id[32], uint8_t role, const uint8_t *payload,
                       size_t payload_len, const uint8_t opening[PB_COMMIT_OPENING_BYTES])
{
    static const char tag[] = "planbok/mpc/commit/v1";
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
             update_var(c, tag, sizeof tag - 1) && update_var(c, label, strlen(label)) &&
             update_var(c, bind_id, 32) && update_var(c, &role, 1) &&
             update_var(c, payload, payload_len) &&
             update_var(c, opening, PB_COMMIT_OPENING_BYTES) &&
             EVP_DigestFinal_ex(c, out, &len) && len == PB_COMMIT_BYTES;
    EVP_MD_CTX_free(c);
    /* On a hash failure publish nothing predictable: the commitment will
     * not open, and the run fails at the peer. */
    if (!ok)
        (void)RAND_bytes(out, PB_COMMIT_BYTES);
}

pb_status pb_commit_check(const uint8_t com[PB_COMMIT_BYTES], const char *label,
                          const uint8_t bind_id[32], uint8_t role, const uint8_t *payload,
                          size_t payload_len, const uint8_t opening[PB_COMMIT_OPENING_BYTES],
                          const char *what)
{
    uint8_t again[PB_COMMIT_BYTES];
    pb_commit_compute(again, label, bind_id, role, payload, payload_len, opening);
    if (CRYPTO_memcmp(again, com, PB_COMMIT_BYTES) != 0)
        return pb_fail(PB_ERR_PROOF, "%s: commitment does not open", what);
    return PB_OK;
}
