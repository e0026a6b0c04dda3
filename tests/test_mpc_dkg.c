/* DKG: full runs followed by a signature, at 2048 and 3072 bits, and the
 * session rules (order, replay, cross-session, answer once) on the DKG
 * messages. PB_MPC_DKG_RUNS (per 2048-bit test, 6 tests) and
 * PB_MPC_DKG_RUNS_3072 (per 3072-bit test, 2 tests) set the counts. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "mpc/cosigner.h"
#include "mpc/dkg.h"
#include "mpc/share.h"
#include "support/mpc_runner.h"

#ifdef __SANITIZE_ADDRESS__
#define RUNS_2048 4
#define RUNS_3072 1
#else
#define RUNS_2048 15
#define RUNS_3072 5
#endif

/* One DKG, the record invariants, then one signature checked independently. */
static void dkg_then_sign(const pb_cosigner_params *params, const pb_cosigner_public *pub,
                          int bits)
{
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_result r = mpc_run_dkg(params, pub, bits, NULL, &s1, &s2);
    cr_assert_eq(r.status, PB_OK, "dkg: party %d at message %d: %s", r.party, r.msg_no,
                 pb_last_error());

    /* Same joint key, chain code and share id on both sides. */
    uint8_t k1[33], k2[33], id1[32], id2[32];
    char x1[PB_MPC_XPUB_SIZE], x2[PB_MPC_XPUB_SIZE];
    pb_share_p1_public_key(s1, k1);
    pb_share_p2_public_key(s2, k2);
    cr_assert(memcmp(k1, k2, 33) == 0, "the parties disagree on Q");
    cr_assert_eq(pb_share_p1_xpub(s1, x1), PB_OK);
    cr_assert_eq(pb_share_p2_xpub(s2, x2), PB_OK);
    cr_assert_str_eq(x1, x2);
    pb_share_p1_id(s1, id1);
    pb_share_p2_id(s2, id2);
    cr_assert(memcmp(id1, id2, 32) == 0);

    /* Q = (x1 + x2)*G, and each party holds only its own share. */
    pb_scalar x;
    pb_point q;
    pb_scalar_add(&x, &s1->x1, &s2->x2);
    cr_assert_eq(pb_point_mul_base(&q, &x), PB_OK);
    cr_assert(pb_point_equal(&q, &s1->q));
    cr_assert_not(pb_scalar_equal(&s1->x1, &s2->x2));
    cr_assert_eq(BN_cmp(pb_paillier_n(pb_paillier_public_of(s1->paillier)),
                        pb_paillier_n(s2->paillier)),
                 0);
    cr_assert_eq(pb_paillier_bits(s2->paillier), bits);

    /* c_key decrypts to x1 under P1's key. */
    BIGNUM *m = BN_new(), *x1bn = BN_new();
    cr_assert_eq(pb_paillier_decrypt(s1->paillier, s2->c_key, m), PB_OK);
    cr_assert_eq(pb_scalar_to_bn(&s1->x1, x1bn), PB_OK);
    cr_assert_eq(BN_cmp(m, x1bn), 0, "c_key does not encrypt x1");
    BN_clear_free(m);
    BN_clear_free(x1bn);

    uint8_t digest[32], sig[64];
    int recid;
    cr_assert_eq(RAND_bytes(digest, sizeof digest), 1);
    r = mpc_run_sign(s1, s2, digest, NULL, 0, NULL, sig, &recid);
    cr_assert_eq(r.status, PB_OK, "sign: party %d at message %d: %s", r.party, r.msg_no,
                 pb_last_error());
    mpc_check_signature(k1, digest, sig, recid);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
}

static void runs(int bits, const char *env, int dflt)
{
    pb_cosigner_params *params = mpc_fx_cosigner(bits);
    pb_cosigner_public *pub = mpc_fx_cosigner_public(bits);
    int n = mpc_env_int(env, dflt);
    for (int i = 0; i < n; i++)
        dkg_then_sign(params, pub, bits);
    pb_cosigner_params_free(params);
    pb_cosigner_public_free(pub);
}

Test(mpc_dkg, runs_2048_a) { runs(2048, "PB_MPC_DKG_RUNS", RUNS_2048); }
Test(mpc_dkg, runs_2048_b) { runs(2048, "PB_MPC_DKG_RUNS", RUNS_2048); }
Test(mpc_dkg, runs_2048_c) { runs(2048, "PB_MPC_DKG_RUNS", RUNS_2048); }
Test(mpc_dkg, runs_2048_d) { runs(2048, "PB_MPC_DKG_RUNS", RUNS_2048); }
Test(mpc_dkg, runs_2048_e) { runs(2048, "PB_MPC_DKG_RUNS", RUNS_2048); }
Test(mpc_dkg, runs_2048_f) { runs(2048, "PB_MPC_DKG_RUNS", RUNS_2048); }
Test(mpc_dkg, runs_3072_a) { runs(3072, "PB_MPC_DKG_RUNS_3072", RUNS_3072); }
Test(mpc_dkg, runs_3072_b) { runs(3072, "PB_MPC_DKG_RUNS_3072", RUNS_3072); }

/* --- session rules ------------------------------------------------------------ */

typedef struct fixture {
    pb_cosigner_params *params;
    pb_cosigner_public *pub;
} fixture;

static fixture fx_open(void)
{
    fixture f = {mpc_fx_cosigner(2048), mpc_fx_cosigner_public(2048)};
    return f;
}

static void fx_close(fixture *f)
{
    pb_cosigner_params_free(f->params);
    pb_cosigner_public_free(f->pub);
}

/* Runs a DKG by hand up to m3 (not yet delivered). */
typedef struct partial {
    pb_dkg_p1 *p1;
    pb_dkg_p2 *p2;
    uint8_t *m1, *m2, *m3;
    size_t l1, l2, l3;
} partial;

static partial partial_run(const fixture *f)
{
    partial p;
    memset(&p, 0, sizeof p);
    cr_assert_eq(pb_dkg_p1_new(&p.p1, f->pub, 2048), PB_OK);
    cr_assert_eq(pb_dkg_p2_new(&p.p2, f->params, 2048), PB_OK);
    cr_assert_eq(pb_dkg_p1_start(p.p1, &p.m1, &p.l1), PB_OK);
    cr_assert_eq(pb_dkg_p2_step(p.p2, p.m1, p.l1, &p.m2, &p.l2), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_dkg_p1_step(p.p1, p.m2, p.l2, &p.m3, &p.l3), PB_OK, "%s", pb_last_error());
    return p;
}

static void partial_free(partial *p)
{
    pb_dkg_p1_free(p->p1);
    pb_dkg_p2_free(p->p2);
    pb_mpc_bytes_free(p->m1, p->l1);
    pb_mpc_bytes_free(p->m2, p->l2);
    pb_mpc_bytes_free(p->m3, p->l3);
}

Test(mpc_dkg, replayed_message_is_refused_and_aborts_the_session)
{
    fixture f = fx_open();
    partial p = partial_run(&f);
    uint8_t *out;
    size_t out_len;
    /* m1 again at P2, which now waits for m3. */
    cr_assert_eq(pb_dkg_p2_step(p.p2, p.m1, p.l1, &out, &out_len), PB_ERR_STATE);
    cr_assert_null(out);
    /* The session is dead: even the right m3 is refused now. */
    cr_assert_eq(pb_dkg_p2_step(p.p2, p.m3, p.l3, &out, &out_len), PB_ERR_STATE);
    pb_share_p2 *s2;
    cr_assert_eq(pb_dkg_p2_take_share(p.p2, &s2), PB_ERR_STATE);
    cr_assert_null(s2);
    /* m2 again at P1, which now waits for m4. */
    cr_assert_eq(pb_dkg_p1_step(p.p1, p.m2, p.l2, &out, &out_len), PB_ERR_STATE);
    partial_free(&p);
    fx_close(&f);
}

Test(mpc_dkg, message_of_another_session_is_refused)
{
    fixture f = fx_open();
    partial a = partial_run(&f), b = partial_run(&f);
    uint8_t *out;
    size_t out_len;
    cr_assert_eq(pb_dkg_p2_step(b.p2, a.m3, a.l3, &out, &out_len), PB_ERR_STATE);
    cr_assert(strstr(pb_last_error(), "another session") != NULL, "%s", pb_last_error());
    /* Session a is unaffected and completes. */
    cr_assert_eq(pb_dkg_p2_step(a.p2, a.m3, a.l3, &out, &out_len), PB_OK, "%s",
                 pb_last_error());
    uint8_t *none;
    size_t none_len;
    cr_assert_eq(pb_dkg_p1_step(a.p1, out, out_len, &none, &none_len), PB_OK);
    cr_assert_null(none);
    pb_mpc_bytes_free(out, out_len);
    pb_share_p1 *s1;
    cr_assert_eq(pb_dkg_p1_take_share(a.p1, &s1), PB_OK);
    pb_share_p1_free(s1);
    partial_free(&a);
    partial_free(&b);
    fx_close(&f);
}

Test(mpc_dkg, out_of_order_and_early_results_are_refused)
{
    fixture f = fx_open();
    pb_dkg_p1 *p1;
    pb_dkg_p2 *p2;
    uint8_t *m1, *out;
    size_t l1, out_len;
    pb_share_p1 *s1;
    cr_assert_eq(pb_dkg_p1_new(&p1, f.pub, 2048), PB_OK);
    cr_assert_eq(pb_dkg_p2_new(&p2, f.params, 2048), PB_OK);
    /* P1 steps before start, P2 is handed P1's own first message type late. */
    uint8_t junk[8] = {0};
    cr_assert_eq(pb_dkg_p1_step(p1, junk, sizeof junk, &out, &out_len), PB_ERR_STATE);
    cr_assert_eq(pb_dkg_p1_start(p1, &m1, &l1), PB_ERR_STATE, "dead session restarted");
    cr_assert_eq(pb_dkg_p1_take_share(p1, &s1), PB_ERR_STATE);
    /* A message sent by the wrong role: P2 fed a P2-type message. */
    pb_dkg_p1_free(p1);
    cr_assert_eq(pb_dkg_p1_new(&p1, f.pub, 2048), PB_OK);
    cr_assert_eq(pb_dkg_p1_start(p1, &m1, &l1), PB_OK);
    uint8_t *m2;
    size_t l2;
    cr_assert_eq(pb_dkg_p2_step(p2, m1, l1, &m2, &l2), PB_OK);
    pb_dkg_p2 *other;
    cr_assert_eq(pb_dkg_p2_new(&other, f.params, 2048), PB_OK);
    cr_assert_eq(pb_dkg_p2_step(other, m2, l2, &out, &out_len), PB_ERR_STATE);
    cr_assert(strstr(pb_last_error(), "expected dkg message 1 from P1") != NULL, "%s",
              pb_last_error());
    pb_dkg_p2_free(other);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_dkg_p1_free(p1);
    pb_dkg_p2_free(p2);
    fx_close(&f);
}

/* Hook that flips one byte of a chosen message. */
typedef struct flip {
    int msg_no;
    size_t offset;
} flip;

static void flip_hook(void *ctx, int protocol, int msg_no, uint8_t **msg, size_t *len)
{
    const flip *fl = ctx;
    (void)protocol;
    if (msg_no == fl->msg_no && fl->offset < *len)
        (*msg)[fl->offset] ^= 0x01;
}

Test(mpc_dkg, tampered_fields_fail_with_specific_errors)
{
    fixture f = fx_open();
    struct {
        int msg_no;
        size_t offset;
        int party;
        pb_status want;
    } cases[] = {
        {1, 0, 2, PB_ERR_PARSE},                  /* magic */
        {1, 4, 2, PB_ERR_PARSE},                  /* version */
        {1, 5, 2, PB_ERR_STATE},                  /* protocol id */
        {1, 8, 2, PB_ERR_STATE},                  /* m1 must carry a zero sid */
        {1, 40 + 40, 2, PB_ERR_PROOF},            /* commitment byte: the opening fails at m3 */
        {2, 10, 1, PB_ERR_STATE},                 /* sid in m2 */
        {2, 40 + 32 + 33 + 5, 1, PB_ERR_PROOF},   /* c2: bound into P2's proof */
        {3, 40 + 34, 2, PB_ERR_PROOF},            /* c1: commitment does not open */
        {4, 40 + 3, 1, PB_ERR_INTEGRITY},         /* share id in m4 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        flip fl = {cases[i].msg_no, cases[i].offset};
        mpc_opts o = {flip_hook, &fl, 0, 0};
        pb_share_p1 *s1;
        pb_share_p2 *s2;
        mpc_result r = mpc_run_dkg(f.params, f.pub, 2048, &o, &s1, &s2);
        cr_assert_eq(r.status, cases[i].want, "case %zu: got %d (%s)", i, r.status,
                     pb_last_error());
        cr_assert_eq(r.party, cases[i].party, "case %zu failed at party %d", i, r.party);
        cr_assert_null(s1);
        cr_assert_null(s2);
    }
    fx_close(&f);
}

Test(mpc_dkg, modulus_of_the_wrong_size_is_refused)
{
    pb_cosigner_params *params = mpc_fx_cosigner(3072);
    pb_cosigner_public *pub = mpc_fx_cosigner_public(3072);
    pb_dkg_p1 *p1;
    pb_dkg_p2 *p2;
    uint8_t *m1, *m2, *m3, *m4;
    size_t l1, l2, l3, l4;
    /* P2 requires 3072-bit moduli; P1 brings 2048. */
    cr_assert_eq(pb_dkg_p1_new(&p1, pub, 2048), PB_OK);
    cr_assert_eq(pb_dkg_p2_new(&p2, params, 3072), PB_OK);
    cr_assert_eq(pb_dkg_p1_start(p1, &m1, &l1), PB_OK);
    cr_assert_eq(pb_dkg_p2_step(p2, m1, l1, &m2, &l2), PB_OK);
    cr_assert_eq(pb_dkg_p1_step(p1, m2, l2, &m3, &l3), PB_OK);
    cr_assert_eq(pb_dkg_p2_step(p2, m3, l3, &m4, &l4), PB_ERR_PARSE, "%s", pb_last_error());
    cr_assert_null(m4);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    pb_dkg_p1_free(p1);
    pb_dkg_p2_free(p2);
    pb_cosigner_params_free(params);
    pb_cosigner_public_free(pub);

    /* Sizes outside {2048, 3072}, and keys stronger than the cosigner's N^. */
    fixture f = fx_open();
    cr_assert_eq(pb_dkg_p1_new(&p1, f.pub, 1024), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_dkg_p1_new(&p1, f.pub, 4096), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_dkg_p1_new(&p1, f.pub, 3072), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_dkg_p2_new(&p2, f.params, 3072), PB_ERR_ARGUMENT);
    fx_close(&f);
}

/* A P1 played by the test through the internal message API: honest except
 * that c_key encrypts x1 + delta (with a proof for that plaintext against
 * its own point). Returns P2's status on m3. */
static pb_status scripted_p1(const fixture *f, int delta, char *why, size_t why_size)
{
    pb_dkg_p2 *p2;
    cr_assert_eq(pb_dkg_p2_new(&p2, f->params, 2048), PB_OK);
    pb_scalar x1, xe, d;
    pb_point q1, qe;
    pb_dkg_m1 m1;
    cr_assert_eq(pb_scalar_random(&x1), PB_OK);
    cr_assert_eq(pb_point_mul_base(&q1, &x1), PB_OK);
    uint8_t c1[32], opening[32];
    cr_assert_eq(RAND_bytes(c1, 32), 1);
    cr_assert_eq(RAND_bytes(opening, 32), 1);
    cr_assert_eq(RAND_bytes(m1.n1, 32), 1);
    pb_dkg_commit(m1.com, m1.n1, &q1, c1, opening);
    uint8_t *b1, *b2, *b3, *b4;
    size_t l1, l2, l3, l4;
    cr_assert_eq(pb_dkg_m1_encode(&m1, &b1, &l1), PB_OK);
    cr_assert_eq(pb_dkg_p2_step(p2, b1, l1, &b2, &l2), PB_OK);
    pb_dkg_m2 m2;
    cr_assert_eq(pb_dkg_m2_decode(&m2, b2, l2), PB_OK);

    pb_dkg_m3 m3;
    memset(&m3, 0, sizeof m3);
    pb_msg_session_id(m3.sid, PB_PROTO_DKG, m1.n1, m2.n2);
    m3.q1 = q1;
    memcpy(m3.c1, c1, 32);
    memcpy(m3.opening, opening, 32);
    pb_transcript t;
    pb_dkg_sch_transcript(&t, m3.sid, PB_ROLE_P1, c1);
    cr_assert_eq(pb_zk_sch_prove(&t, &q1, &x1, &m3.sch), PB_OK);

    memset(&d, 0, sizeof d);
    d.b[31] = (uint8_t)delta;
    pb_scalar_add(&xe, &x1, &d);
    cr_assert_eq(pb_point_mul_base(&qe, &xe), PB_OK);
    pb_paillier_private *sk;
    cr_assert_eq(pb_paillier_generate(2048, &sk), PB_OK);
    m3.key.pk = pb_paillier_public_dup(pb_paillier_public_of(sk));
    m3.key.c_key = BN_new();
    BIGNUM *x = BN_new(), *rho = BN_new();
    cr_assert_eq(pb_scalar_to_bn(&xe, x), PB_OK);
    cr_assert_eq(pb_paillier_encrypt(m3.key.pk, x, m3.key.c_key, rho), PB_OK);
    pb_key_bundle_ctx kctx;
    pb_dkg_bundle_ctx(&kctx, m3.sid);
    cr_assert_eq(pb_key_bundle_prove(&m3.key, &kctx, sk, f->pub->pub, x, rho, &qe), PB_OK,
                 "%s", pb_last_error());
    cr_assert_eq(pb_dkg_m3_encode(&m3, &b3, &l3), PB_OK);
    pb_status st = pb_dkg_p2_step(p2, b3, l3, &b4, &l4);
    snprintf(why, why_size, "%s", pb_last_error());
    pb_share_p2 *s2 = NULL;
    if (st == PB_OK)
        cr_assert_eq(pb_dkg_p2_take_share(p2, &s2), PB_OK);
    else
        cr_assert_eq(pb_dkg_p2_take_share(p2, &s2), PB_ERR_STATE);
    pb_share_p2_free(s2);
    BN_free(x);
    BN_free(rho);
    pb_dkg_m3_clear(&m3);
    pb_paillier_private_free(sk);
    pb_mpc_bytes_free(b1, l1);
    pb_mpc_bytes_free(b2, l2);
    pb_mpc_bytes_free(b3, l3);
    if (st == PB_OK)
        pb_mpc_bytes_free(b4, l4);
    pb_dkg_p2_free(p2);
    return st;
}

Test(mpc_dkg, scripted_honest_p1_is_accepted)
{
    fixture f = fx_open();
    char why[256];
    cr_assert_eq(scripted_p1(&f, 0, why, sizeof why), PB_OK, "%s", why);
    fx_close(&f);
}

Test(mpc_dkg, dishonest_p1_with_c_key_for_x1_plus_1_is_refused)
{
    fixture f = fx_open();
    char why[256];
    cr_assert_eq(scripted_p1(&f, 1, why, sizeof why), PB_ERR_PROOF, "%s", why);
    cr_assert(strstr(why, "c_key") != NULL, "%s", why);
    fx_close(&f);
}

Test(mpc_dkg, proofs_against_other_cosigner_parameters_are_refused)
{
    /* P1 holds the verified export of another cosigner node: its Pi^fac and
     * Pi^log* are made against parameters P2 does not use. */
    pb_cosigner_params *params = mpc_fx_cosigner(2048);
    pb_cosigner_public *other = mpc_fx_cosigner_public_slot(2048, 1);
    pb_share_p1 *s1;
    pb_share_p2 *s2;
    mpc_result r = mpc_run_dkg(params, other, 2048, NULL, &s1, &s2);
    /* A value committed mod the other N^ may not even be below this one. */
    cr_assert(r.status == PB_ERR_PROOF || r.status == PB_ERR_PARSE, "%d: %s", r.status,
              pb_last_error());
    cr_assert_eq(r.party, 2);
    cr_assert_eq(r.msg_no, 3);
    pb_cosigner_params_free(params);
    pb_cosigner_public_free(other);
}

Test(mpc_dkg, cosigner_export_with_a_bad_proof_is_refused)
{
    pb_cosigner_params *params = mpc_fx_cosigner(2048);
    uint8_t *e;
    size_t len;
    cr_assert_eq(pb_cosigner_params_export(params, &e, &len), PB_OK);
    pb_cosigner_public *pub;
    /* Last byte: inside the last z_i of Pi^prm. */
    e[len - 1] ^= 1;
    cr_assert_eq(pb_cosigner_public_parse(&pub, e, len), PB_ERR_PROOF, "%s", pb_last_error());
    cr_assert_null(pub);
    e[len - 1] ^= 1;
    cr_assert_eq(pb_cosigner_public_parse(&pub, e, len - 1), PB_ERR_PARSE);
    cr_assert_eq(pb_cosigner_public_parse(&pub, e, 100), PB_ERR_PARSE);
    e[0] ^= 1;
    cr_assert_eq(pb_cosigner_public_parse(&pub, e, len), PB_ERR_PARSE);
    e[0] ^= 1;
    cr_assert_eq(pb_cosigner_public_parse(&pub, e, len), PB_OK);
    pb_cosigner_public_free(pub);
    /* The secret encoding round-trips. */
    uint8_t *sec, *sec2;
    size_t sl, sl2;
    pb_cosigner_params *back;
    cr_assert_eq(pb_cosigner_params_serialize(params, &sec, &sl), PB_OK);
    cr_assert_eq(pb_cosigner_params_parse(&back, sec, sl), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_cosigner_params_serialize(back, &sec2, &sl2), PB_OK);
    cr_assert(sl == sl2 && memcmp(sec, sec2, sl) == 0);
    pb_cosigner_params_free(back);
    cr_assert_eq(pb_cosigner_params_parse(&back, sec, sl - 1), PB_ERR_PARSE);
    cr_assert_null(back);
    pb_mpc_bytes_free(sec, sl);
    pb_mpc_bytes_free(sec2, sl2);
    pb_cosigner_params_free(back);
    pb_mpc_bytes_free(e, len);
    pb_cosigner_params_free(params);
}

/* The 128-round proofs changed two wire formats: the cosigner export (v2)
 * and every message (v2). The version byte is what refuses a peer or an
 * export of the 80-round build, before any proof is parsed; the sealed
 * secret kept its format (v1), so stored parameters stay usable. */
Test(mpc_dkg, exports_and_messages_of_the_80_round_format_are_refused_by_version)
{
    pb_cosigner_params *params = mpc_fx_cosigner(2048);
    uint8_t *e, *sec;
    size_t len, sl;
    cr_assert_eq(pb_cosigner_params_export(params, &e, &len), PB_OK);
    cr_assert_eq(e[4], 2, "export version");
    e[4] = 1;
    pb_cosigner_public *pub;
    cr_assert_eq(pb_cosigner_public_parse(&pub, e, len), PB_ERR_PARSE);
    cr_assert(strstr(pb_last_error(), "unsupported version 1") != NULL, "%s", pb_last_error());
    e[4] = 2;
    cr_assert_eq(pb_cosigner_public_parse(&pub, e, len), PB_OK, "%s", pb_last_error());
    cr_assert_eq(pb_cosigner_params_serialize(params, &sec, &sl), PB_OK);
    cr_assert_eq(sec[4], 1, "the sealed secret keeps version 1");

    pb_dkg_p1 *p1;
    pb_dkg_p2 *p2;
    uint8_t *m1, *m2 = NULL;
    size_t l1, l2 = 0;
    cr_assert_eq(pb_dkg_p1_new(&p1, pub, 2048), PB_OK);
    cr_assert_eq(pb_dkg_p2_new(&p2, params, 2048), PB_OK);
    cr_assert_eq(pb_dkg_p1_start(p1, &m1, &l1), PB_OK, "%s", pb_last_error());
    cr_assert_eq(m1[4], 2, "message format version");
    m1[4] = 1;
    cr_assert_eq(pb_dkg_p2_step(p2, m1, l1, &m2, &l2), PB_ERR_PARSE);
    cr_assert(strstr(pb_last_error(), "unsupported version 1") != NULL, "%s", pb_last_error());
    cr_assert_null(m2);
    pb_dkg_p1_free(p1);
    pb_dkg_p2_free(p2);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(sec, sl);
    pb_mpc_bytes_free(e, len);
    pb_cosigner_public_free(pub);
    pb_cosigner_params_free(params);
}
