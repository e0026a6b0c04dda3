/* fuzz_sign.c - the signing messages as each receiver parses them, each
 * fed to a live state machine at the right step (signing sessions are
 * cheap to set up). Control byte (low 3 bits):
 *   0  m1 into a fresh P2 session (then request and approval if accepted),
 *      and the share-id peek P2 uses to pick a record
 *   1  m2 into a P1 session that sent m1; the session id is recomputed from
 *      the input's n2, as P1 does, unless FZ_RAW_SID is set
 *   2  m3 into a P2 session that approved the fixture m1 (whose commitment
 *      the seed m3 opens)
 *   3  m4 into a P1 session that reached step 4 against an honest P2: the
 *      decryption and the global abort on a bad signature are exercised
 *      (the lock this sets is cleared before the next input)
 *   4  as 2, with the encryption randomness precomputed (warm signing)
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mpc/msg.h"

static uint8_t *sign_m1;
static size_t sign_m1_len;
static const uint8_t digest[PB_MPC_DIGEST_BYTES] = {0x42};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_share_p1();
    fz_share_p2();
    sign_m1 = fz_fixture(FZ_SIGN_M1, &sign_m1_len);
    return 0;
}

static void p2_fresh(const uint8_t *in, size_t len)
{
    uint8_t id[PB_MPC_SHARE_ID_BYTES];
    (void)pb_sign_message_share_id(in, len, id);
    pb_sign_p2 *p2;
    uint8_t *out;
    size_t out_len;
    fz_check(pb_sign_p2_new(&p2, fz_share_p2()), "sign p2 new");
    if (pb_sign_p2_step(p2, in, len, &out, &out_len) == PB_OK) {
        uint8_t d[PB_MPC_DIGEST_BYTES], pub[PB_MPC_PUBKEY_BYTES];
        uint32_t path[PB_BIP32_MAX_DEPTH];
        size_t path_len;
        (void)pb_sign_p2_request(p2, d, path, PB_BIP32_MAX_DEPTH, &path_len, pub);
        if (pb_sign_p2_approve(p2, &out, &out_len) == PB_OK)
            pb_mpc_bytes_free(out, out_len);
    }
    pb_sign_p2_free(p2);
}

static void p1_m2(uint8_t *in, size_t len, int raw_sid)
{
    pb_sign_p1 *p1;
    uint8_t *m1, *out;
    size_t m1_len, out_len;
    fz_check(pb_sign_p1_new(&p1, fz_share_p1(), digest, NULL, 0), "sign p1 new");
    fz_check(pb_sign_p1_start(p1, &m1, &m1_len), "sign p1 start");
    if (!raw_sid && len >= FZ_HEADER_BYTES + PB_NONCE_BYTES) {
        uint8_t sid[PB_SESSION_ID_BYTES];
        pb_msg_session_id(sid, PB_PROTO_SIGN, m1 + FZ_HEADER_BYTES, in + FZ_HEADER_BYTES);
        fz_patch_sid(in, len, sid);
    }
    pb_mpc_bytes_free(m1, m1_len);
    if (pb_sign_p1_step(p1, in, len, &out, &out_len) == PB_OK)
        pb_mpc_bytes_free(out, out_len);
    pb_sign_p1_free(p1);
}

static void p2_m3(uint8_t *in, size_t len, int raw_sid, int warm)
{
    pb_sign_p2 *p2;
    uint8_t *m2, *out;
    size_t m2_len, out_len;
    fz_check(pb_sign_p2_new(&p2, fz_share_p2()), "sign p2 new");
    fz_check(pb_sign_p2_step(p2, sign_m1, sign_m1_len, &out, &out_len), "sign p2 m1");
    fz_check(pb_sign_p2_approve(p2, &m2, &m2_len), "sign p2 approve");
    if (!raw_sid)
        fz_patch_sid(in, len, m2 + FZ_SID_OFFSET);
    pb_mpc_bytes_free(m2, m2_len);
    if (warm)
        fz_check(pb_sign_p2_precompute(p2), "sign p2 precompute");
    if (pb_sign_p2_step(p2, in, len, &out, &out_len) == PB_OK)
        pb_mpc_bytes_free(out, out_len);
    pb_sign_p2_free(p2);
}

static void p1_m4(uint8_t *in, size_t len, int raw_sid)
{
    pb_sign_p1 *p1;
    pb_sign_p2 *p2;
    uint8_t *m1, *m2, *m3, *out;
    size_t m1_len, m2_len, m3_len, out_len;
    fz_check(pb_sign_p1_new(&p1, fz_share_p1(), digest, NULL, 0), "sign p1 new");
    fz_check(pb_sign_p2_new(&p2, fz_share_p2()), "sign p2 new");
    fz_check(pb_sign_p1_start(p1, &m1, &m1_len), "sign p1 start");
    fz_check(pb_sign_p2_step(p2, m1, m1_len, &out, &out_len), "sign p2 m1");
    fz_check(pb_sign_p2_approve(p2, &m2, &m2_len), "sign p2 approve");
    fz_check(pb_sign_p1_step(p1, m2, m2_len, &m3, &m3_len), "sign p1 m2");
    if (!raw_sid) {
        uint8_t sid[PB_MPC_SESSION_ID_BYTES];
        fz_check(pb_sign_p1_session_id(p1, sid), "sign p1 sid");
        fz_patch_sid(in, len, sid);
    }
    if (pb_sign_p1_step(p1, in, len, &out, &out_len) == PB_OK) {
        uint8_t sig[PB_MPC_SIGNATURE_BYTES];
        int recid;
        fz_check(pb_sign_p1_signature(p1, sig, &recid), "released signature");
    }
    pb_mpc_bytes_free(m1, m1_len);
    pb_mpc_bytes_free(m2, m2_len);
    pb_mpc_bytes_free(m3, m3_len);
    pb_sign_p1_free(p1);
    pb_sign_p2_free(p2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t control = data[0];
    size_t len = size - 1;
    uint8_t *in = fz_copy(data + 1, len);
    int raw_sid = control & FZ_RAW_SID;
    switch (control & 7) {
    case 0:
        p2_fresh(in, len);
        break;
    case 1:
        p1_m2(in, len, raw_sid);
        break;
    case 2:
        p2_m3(in, len, raw_sid, 0);
        break;
    case 3:
        p1_m4(in, len, raw_sid);
        break;
    case 4:
        p2_m3(in, len, raw_sid, 1);
        break;
    default:
        break;
    }
    free(in);
    return 0;
}
