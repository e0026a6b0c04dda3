/* fuzz_dkg.c - the DKG messages as each receiver parses them.
 * Control byte (low 3 bits):
 *   0  m1 into a fresh P2 session
 *   1  m2 through P1's decoder (a live P1 session would need a Paillier
 *      key generation per input)
 *   2  m3 into a P2 session that answered the fixture m1 (session id patched
 *      in unless FZ_RAW_SID is set, so the body is reached)
 *   3  m4 through P1's decoder
 *   4  m3 decoded and its key bundle verified against the session id it
 *      names: honest seeds pass Pi^mod, Pi^fac and Pi^log*, so the
 *      verifiers themselves are fuzzed
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mpc/cosigner.h"
#include "mpc/dkg.h"

static uint8_t *dkg_m1;
static size_t dkg_m1_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_cosigner_params();
    dkg_m1 = fz_fixture(FZ_DKG_M1, &dkg_m1_len);
    return 0;
}

static void p2_fresh(const uint8_t *in, size_t len)
{
    pb_dkg_p2 *p2;
    uint8_t *out;
    size_t out_len;
    fz_check(pb_dkg_p2_new(&p2, fz_cosigner_params(), FZ_BITS), "dkg p2 new");
    if (pb_dkg_p2_step(p2, in, len, &out, &out_len) == PB_OK)
        pb_mpc_bytes_free(out, out_len);
    pb_dkg_p2_free(p2);
}

static void p2_m3(uint8_t *in, size_t len, int raw_sid)
{
    pb_dkg_p2 *p2;
    uint8_t *m2, *out;
    size_t m2_len, out_len;
    fz_check(pb_dkg_p2_new(&p2, fz_cosigner_params(), FZ_BITS), "dkg p2 new");
    fz_check(pb_dkg_p2_step(p2, dkg_m1, dkg_m1_len, &m2, &m2_len), "dkg p2 m1");
    if (!raw_sid)
        fz_patch_sid(in, len, m2 + FZ_SID_OFFSET);
    pb_mpc_bytes_free(m2, m2_len);
    if (pb_dkg_p2_step(p2, in, len, &out, &out_len) == PB_OK) {
        pb_share_p2 *share;
        fz_check(pb_dkg_p2_take_share(p2, &share), "dkg p2 take share");
        pb_share_p2_free(share);
        pb_mpc_bytes_free(out, out_len);
    }
    pb_dkg_p2_free(p2);
}

static void bundle(const uint8_t *in, size_t len)
{
    const pb_rped_public *rp = pb_rped_public_of(fz_cosigner_params()->sec);
    pb_dkg_m3 m3;
    if (pb_dkg_m3_decode(&m3, in, len, FZ_BITS, rp) != PB_OK)
        return;
    pb_key_bundle_ctx ctx;
    pb_dkg_bundle_ctx(&ctx, m3.sid);
    (void)pb_key_bundle_verify(&m3.key, &ctx, rp, &m3.q1);
    pb_dkg_m3_clear(&m3);
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
        p2_fresh(in, len);
        break;
    case 1: {
        pb_dkg_m2 m2;
        (void)pb_dkg_m2_decode(&m2, in, len);
        break;
    }
    case 2:
        p2_m3(in, len, control & FZ_RAW_SID);
        break;
    case 3: {
        pb_dkg_m4 m4;
        (void)pb_dkg_m4_decode(&m4, in, len);
        break;
    }
    case 4:
        bundle(in, len);
        break;
    default:
        break;
    }
    free(in);
    return 0;
}
