/* fuzz_bip32.c - the BIP-32 text parsers. Control byte (low 2 bits):
 * 0 a derivation path ("m/44/60/0/0/7"), 1 an xpub's public key, 2 an xpub
 * derived along a fixed non-hardened path. Inputs are NUL-terminated
 * copies of exactly the fuzzed bytes. */
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
    char *text = malloc(len + 1);
    if (!text)
        abort();
    memcpy(text, data + 1, len);
    text[len] = '\0';
    switch (data[0] & 3) {
    case 0: {
        uint32_t idx[PB_BIP32_MAX_DEPTH];
        size_t n;
        (void)pb_bip32_parse_path(text, idx, PB_BIP32_MAX_DEPTH, &n);
        break;
    }
    case 1: {
        uint8_t pub[PB_MPC_PUBKEY_BYTES];
        (void)pb_bip32_xpub_public_key(text, pub);
        break;
    }
    case 2: {
        const uint32_t path[2] = {0, 7};
        char out[PB_MPC_XPUB_SIZE];
        (void)pb_bip32_xpub_derive(text, path, 2, out);
        break;
    }
    default:
        break;
    }
    free(text);
    return 0;
}
