/* fuzz_blob.c - the sealed-blob header decoder (pkcs11/blob_format.h), a
 * pure function: control byte 0 decodes against the expected reference a
 * key store would pass, 1 without one. Every field the decoder hands back
 * is read, so that ASan sees any pointer past the input. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pkcs11/blob_format.h"

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
    pb_blob_ref ref = {FZ_WALLET_ID, 1, PB_BLOB_SHARE};
    pb_blob_header h;
    if (pb_blob_decode(in, len, (data[0] & 1) ? NULL : &ref, &h) == PB_OK) {
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < h.ciphertext_len; i++)
            sink ^= h.ciphertext[i];
        sink ^= (uint8_t)(strlen(h.wallet_id) + strlen(h.kek_label));
        (void)sink;
    }
    free(in);
    return 0;
}
