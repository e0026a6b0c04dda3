/* fuzz_share.c - the share-record parsers (the bytes the engine seals).
 * Control byte (low bit): 0 P1 record, 1 P2 record. A record that parses
 * must re-serialize to exactly the input: the encoding is canonical, so
 * accepting two encodings of one record is a bug (abort). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void must_match(const uint8_t *in, size_t len, const uint8_t *out, size_t out_len,
                       const char *what)
{
    if (out_len != len || memcmp(in, out, len) != 0) {
        fprintf(stderr, "fuzz_share: %s record accepted a non-canonical encoding\n", what);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t len = size - 1;
    uint8_t *in = fz_copy(data + 1, len), *out;
    size_t out_len;
    uint8_t id[PB_MPC_SHARE_ID_BYTES], pub[PB_MPC_PUBKEY_BYTES];
    char xpub[PB_MPC_XPUB_SIZE];
    if ((data[0] & 1) == 0) {
        pb_share_p1 *s;
        if (pb_share_p1_parse(&s, in, len) == PB_OK) {
            fz_check(pb_share_p1_serialize(s, &out, &out_len), "re-serialize P1 record");
            must_match(in, len, out, out_len, "P1");
            pb_mpc_bytes_free(out, out_len);
            pb_share_p1_id(s, id);
            pb_share_p1_public_key(s, pub);
            (void)pb_share_p1_xpub(s, xpub);
            (void)pb_share_p1_generation(s);
            (void)pb_share_p1_is_locked(s);
            pb_share_p1_free(s);
        }
    } else {
        pb_share_p2 *s;
        if (pb_share_p2_parse(&s, in, len) == PB_OK) {
            fz_check(pb_share_p2_serialize(s, &out, &out_len), "re-serialize P2 record");
            must_match(in, len, out, out_len, "P2");
            pb_mpc_bytes_free(out, out_len);
            pb_share_p2_id(s, id);
            pb_share_p2_public_key(s, pub);
            (void)pb_share_p2_xpub(s, xpub);
            (void)pb_share_p2_generation(s);
            pb_share_p2_free(s);
        }
    }
    free(in);
    return 0;
}
