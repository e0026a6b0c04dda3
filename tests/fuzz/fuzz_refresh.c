/* fuzz_refresh.c - the refresh messages as each receiver parses them.
 * Control byte (low 3 bits):
 *   0  m1 into a fresh P2 session on the fixture record
 *   1  m2 through P1's decoder (a live P1 session would need a Paillier
 *      key generation per input)
 *   2  m3 into a P2 session that answered the fixture m1 (session id patched
 *      in unless FZ_RAW_SID is set; the seed m3 opens the m1 commitment)
 *   3  m4 through P1's decoder
 */
#include <stdlib.h>

#include "harness.h"
#include "mpc/refresh.h"

static uint8_t *refresh_m1;
static size_t refresh_m1_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_cosigner_params();
    fz_share_p2();
    refresh_m1 = fz_fixture(FZ_REFRESH_M1, &refresh_m1_len);
    return 0;
}

static void p2_session(uint8_t *in, size_t len, int after_m1, int raw_sid)
{
    pb_refresh_p2 *p2;
    uint8_t *out;
    size_t out_len;
    fz_check(pb_refresh_p2_new(&p2, fz_share_p2(), fz_cosigner_params(), FZ_BITS),
             "refresh p2 new");
    if (after_m1) {
        fz_check(pb_refresh_p2_step(p2, refresh_m1, refresh_m1_len, &out, &out_len),
                 "refresh p2 m1");
        if (!raw_sid)
            fz_patch_sid(in, len, out + FZ_SID_OFFSET);
        pb_mpc_bytes_free(out, out_len);
    }
    if (pb_refresh_p2_step(p2, in, len, &out, &out_len) == PB_OK) {
        pb_mpc_bytes_free(out, out_len);
        if (after_m1) {
            pb_share_p2 *share;
            fz_check(pb_refresh_p2_take_share(p2, &share), "refresh p2 take share");
            pb_share_p2_free(share);
        }
    }
    pb_refresh_p2_free(p2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t control = data[0];
    size_t len = size - 1;
    uint8_t *in = fz_copy(data + 1, len);
    switch (control & 7) {
    case 0:
        p2_session(in, len, 0, 0);
        break;
    case 1: {
        pb_refresh_m2 m2;
        (void)pb_refresh_m2_decode(&m2, in, len);
        break;
    }
    case 2:
        p2_session(in, len, 1, control & FZ_RAW_SID);
        break;
    case 3: {
        pb_refresh_m4 m4;
        (void)pb_refresh_m4_decode(&m4, in, len);
        break;
    }
    default:
        break;
    }
    free(in);
    return 0;
}
