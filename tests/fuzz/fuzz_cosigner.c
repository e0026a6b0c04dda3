/* fuzz_cosigner.c - the cosigner's node parameters: control byte 0 parses
 * the secret encoding (which must then re-serialize to the input: it is
 * canonical), 1 parses an export and verifies its Pi^prm (honest seeds
 * pass, so the verifier itself is fuzzed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

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
    uint8_t *in = fz_copy(data + 1, len);
    if ((data[0] & 1) == 0) {
        pb_cosigner_params *p;
        if (pb_cosigner_params_parse(&p, in, len) == PB_OK) {
            uint8_t *out;
            size_t out_len;
            fz_check(pb_cosigner_params_serialize(p, &out, &out_len), "re-serialize");
            if (out_len != len || memcmp(out, in, len) != 0) {
                fprintf(stderr, "fuzz_cosigner: non-canonical parameters accepted\n");
                abort();
            }
            pb_mpc_bytes_free(out, out_len);
            pb_cosigner_params_free(p);
        }
    } else {
        pb_cosigner_public *pub;
        if (pb_cosigner_public_parse(&pub, in, len) == PB_OK)
            pb_cosigner_public_free(pub);
    }
    free(in);
    return 0;
}
