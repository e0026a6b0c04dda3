/* bench_mpc.c - `planbok bench mpc [--quick] [--size 2048|3072] [--params-cache DIR]`: median DKG and signing times
 * of the two-party protocols at 2048 and 3072 bits, both parties in this
 * process, against the Paillier primitives that bound them from below,
 * measured in the same run on the same keys.
 *
 * Floors (DESIGN.md section 7): a signature needs at least one CRT decryption
 * (P1) and one 256-bit scalar multiplication of c_key (P2); with fresh
 * randomness also one encryption. The "warm" figures leave out what
 * pb_sign_p2_precompute does ahead of time (r^N mod N^2), so they are
 * compared with the floor without the encryption. Sign and floor samples are
 * interleaved so that load from other processes hits both alike.
 *
 * Every figure is taken twice: wall time, and CPU time (of the thread for
 * signing and the primitives, which run on one thread; of the process for
 * the DKG, whose prime search and proofs use both cores). The targets are
 * for an idle machine; on a busy one the scheduler charges a thread that
 * just ran a long exponentiation (the excluded precomputation) with waits
 * in the next few milliseconds, so the CPU-time ratios are the ones to
 * trust there. The load average is printed with the results.
 *
 * Pi^mod and Pi^prm, whose cost grows with their round counts, are also
 * timed on their own (prove and verify), on the last DKG's Paillier key and
 * the cosigner's parameters.
 *
 * The cosigner's parameters (two safe primes) are generated once per size
 * before anything is timed; that takes a while at 3072 bits, so progress goes
 * to stderr. Results go to stdout; the last line is one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "bench.h"
#include "cli.h"
#include "common/fail.h"
#include "crypto/paillier.h"
#include "crypto/transcript.h"
#include "crypto/zk_mod.h"
#include "crypto/zk_prm.h"
#include "mpc/cosigner.h"
#include "mpc/share.h"
#include "mpc/sign.h"
#include "planbok/mpc.h"

typedef struct mpc_reps {
    int dkg;
    int sign;
} mpc_reps;

/* What is measured, each as a wall-time and a CPU-time median. */
enum {
    M_DKG,   /* both parties, Paillier key generation included */
    M_SIGN,  /* fresh randomness */
    M_WARM,  /* r^N precomputed, that call excluded */
    M_DEC,   /* CRT decryption */
    M_MUL,   /* 256-bit scalar multiplication of a ciphertext */
    M_ENC,   /* encryption with fresh randomness */
    M_PARSE1, /* P1 share record parse */
    M_PARSE2, /* P2 share record parse */
    M_MOD_PROVE,  /* Pi^mod on P1's Paillier key (both cores) */
    M_MOD_VERIFY,
    M_PRM_PROVE,  /* Pi^prm on the cosigner parameters (both cores) */
    M_PRM_VERIFY,
    M_COUNT
};

typedef struct mpc_figures {
    int bits;
    double wall[M_COUNT], cpu[M_COUNT]; /* medians, ms */
} mpc_figures;

/* One sample: wall time and CPU time (thread or whole process). */
typedef struct stopwatch {
    int process;
    double wall_us, cpu_us;
} stopwatch;

static double cpu_us(int process)
{
    struct timespec ts;
    clock_gettime(process ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void sw_start(stopwatch *sw, int process)
{
    sw->process = process;
    sw->wall_us = pb_bench_now_us();
    sw->cpu_us = cpu_us(process);
}

/* A short sleep before each timed region. On a busy machine the scheduler
 * makes a thread that just ran a long computation (such as the excluded
 * r^N precomputation) wait in the next few milliseconds; sleeping first
 * lets the other jobs run outside the measurement. In a real signing the
 * precomputation also happens while P2 waits for m3 from the network. */
static void settle(void)
{
    struct timespec ts = {0, 3 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* Adds the time since sw_start (or the last lap) to *wall / *cpu, in ms. */
static void sw_lap(stopwatch *sw, double *wall, double *cpu)
{
    double w = pb_bench_now_us(), c = cpu_us(sw->process);
    *wall += (w - sw->wall_us) / 1e3;
    *cpu += (c - sw->cpu_us) / 1e3;
    sw->wall_us = w;
    sw->cpu_us = c;
}

typedef struct progress_state {
    int tty;
    int last;
    double t0;
} progress_state;

static void on_progress(void *ctx, const char *what, int candidates)
{
    progress_state *ps = ctx;
    if (candidates - ps->last < 100 && candidates > ps->last)
        return;
    ps->last = candidates;
    double s = (pb_bench_now_us() - ps->t0) / 1e6;
    if (ps->tty)
        fprintf(stderr, "\r   safe prime %s: %d candidates, %.0f s   ", what, candidates, s);
    else if (candidates % 1000 == 0)
        fprintf(stderr, "   safe prime %s: %d candidates, %.0f s\n", what, candidates, s);
}

static pb_status make_params(int bits, pb_cosigner_params **params, pb_cosigner_public **pub)
{
    progress_state ps = {isatty(STDERR_FILENO), -1000, pb_bench_now_us()};
    fprintf(stderr, "== cosigner parameters, %d-bit N^ (two safe primes, not timed)\n", bits);
    pb_status st = pb_cosigner_params_generate(params, bits, on_progress, &ps);
    if (ps.tty)
        fputc('\n', stderr);
    if (st != PB_OK)
        return st;
    fprintf(stderr, "   done in %.1f s\n", (pb_bench_now_us() - ps.t0) / 1e6);
    uint8_t *exp = NULL;
    size_t exp_len = 0;
    st = pb_cosigner_params_export(*params, &exp, &exp_len);
    if (st == PB_OK)
        st = pb_cosigner_public_parse(pub, exp, exp_len);
    pb_mpc_bytes_free(exp, exp_len);
    return st;
}

/* One DKG, both parties, timed from creating P1's session to both records in
 * hand (P1's Paillier key generation included). */
static pb_status run_dkg(const pb_cosigner_params *params, const pb_cosigner_public *pub,
                         int bits, pb_share_p1 **s1, pb_share_p2 **s2, double *wall,
                         double *cpu)
{
    pb_dkg_p1 *p1 = NULL;
    pb_dkg_p2 *p2 = NULL;
    uint8_t *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL, *none = NULL;
    size_t l1 = 0, l2 = 0, l3 = 0, l4 = 0, lnone = 0;
    *s1 = NULL;
    *s2 = NULL;
    stopwatch sw;
    sw_start(&sw, 1);
    pb_status st = pb_dkg_p1_new(&p1, pub, bits);
    if (st == PB_OK)
        st = pb_dkg_p2_new(&p2, params, bits);
    if (st == PB_OK)
        st = pb_dkg_p1_start(p1, &m1, &l1);
    if (st == PB_OK)
        st = pb_dkg_p2_step(p2, m1, l1, &m2, &l2);
    if (st == PB_OK)
        st = pb_dkg_p1_step(p1, m2, l2, &m3, &l3);
    if (st == PB_OK)
        st = pb_dkg_p2_step(p2, m3, l3, &m4, &l4);
    if (st == PB_OK)
        st = pb_dkg_p2_take_share(p2, s2);
    if (st == PB_OK)
        st = pb_dkg_p1_step(p1, m4, l4, &none, &lnone);
    if (st == PB_OK)
        st = pb_dkg_p1_take_share(p1, s1);
    sw_lap(&sw, wall, cpu);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    pb_mpc_bytes_free(m4, l4);
    pb_mpc_bytes_free(none, lnone);
    pb_dkg_p1_free(p1);
    pb_dkg_p2_free(p2);
    if (st != PB_OK) {
        pb_share_p1_free(*s1);
        pb_share_p2_free(*s2);
        *s1 = NULL;
        *s2 = NULL;
    }
    return st;
}

/* One signature of a random digest under the master key. warm: P2
 * precomputes r^N before m3, and that call is not counted. */
static pb_status run_sign(pb_share_p1 *s1, const pb_share_p2 *s2, int warm, double *wall,
                          double *cpu)
{
    uint8_t digest[PB_MPC_DIGEST_BYTES], sig[PB_MPC_SIGNATURE_BYTES];
    pb_status st = pb_msg_random(digest, sizeof digest);
    if (st != PB_OK)
        return st;
    pb_sign_p1 *p1 = NULL;
    pb_sign_p2 *p2 = NULL;
    uint8_t *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL, *none = NULL, *none2 = NULL;
    size_t l1 = 0, l2 = 0, l3 = 0, l4 = 0, lnone = 0, lnone2 = 0;
    double skip_wall = 0, skip_cpu = 0;
    int recid = -1;
    stopwatch sw;
    settle();
    sw_start(&sw, 0);
    st = pb_sign_p1_new(&p1, s1, digest, NULL, 0);
    if (st == PB_OK)
        st = pb_sign_p1_start(p1, &m1, &l1);
    if (st == PB_OK)
        st = pb_sign_p2_new(&p2, s2);
    if (st == PB_OK)
        st = pb_sign_p2_step(p2, m1, l1, &none, &lnone);
    if (st == PB_OK)
        st = pb_sign_p2_approve(p2, &m2, &l2);
    if (st == PB_OK)
        st = pb_sign_p1_step(p1, m2, l2, &m3, &l3);
    sw_lap(&sw, wall, cpu);
    if (st == PB_OK && warm)
        st = pb_sign_p2_precompute(p2);
    settle();
    sw_lap(&sw, &skip_wall, &skip_cpu);
    if (st == PB_OK)
        st = pb_sign_p2_step(p2, m3, l3, &m4, &l4);
    if (st == PB_OK)
        st = pb_sign_p1_step(p1, m4, l4, &none2, &lnone2);
    if (st == PB_OK)
        st = pb_sign_p1_signature(p1, sig, &recid);
    pb_sign_p1_free(p1);
    pb_sign_p2_free(p2);
    sw_lap(&sw, wall, cpu);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    pb_mpc_bytes_free(m4, l4);
    pb_mpc_bytes_free(none, lnone);
    pb_mpc_bytes_free(none2, lnone2);
    return st;
}

/* The three primitives on this wallet's keys: CRT decryption of a c3-sized
 * plaintext, c_key^b for a 256-bit b, and an encryption with fresh r. */
typedef struct floor_inputs {
    const pb_paillier_private *sk;
    const pb_paillier_public *pk;
    const BIGNUM *c_key;
    BIGNUM *plain, *cipher, *k, *out;
} floor_inputs;

static pb_status floor_sample(floor_inputs *f, double *wall[M_COUNT], double *cpu[M_COUNT],
                              int i)
{
    if (!BN_rand(f->plain, PB_SIGN_MASK_BITS + 256, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_rand(f->k, 256, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY))
        return pb_fail(PB_ERR_CRYPTO, "bench: BN_rand failed");
    stopwatch sw;
    double skip_wall = 0, skip_cpu = 0;
    settle();
    sw_start(&sw, 0);
    pb_status st = pb_paillier_encrypt(f->pk, f->plain, f->cipher, NULL);
    sw_lap(&sw, &wall[M_ENC][i], &cpu[M_ENC][i]);
    settle();
    sw_lap(&sw, &skip_wall, &skip_cpu);
    if (st == PB_OK)
        st = pb_paillier_mul_scalar(f->pk, f->c_key, f->k, f->out);
    sw_lap(&sw, &wall[M_MUL][i], &cpu[M_MUL][i]);
    if (st == PB_OK)
        st = pb_paillier_decrypt(f->sk, f->cipher, f->out);
    sw_lap(&sw, &wall[M_DEC][i], &cpu[M_DEC][i]);
    return st;
}

/* Parsing both share records, as the engine does after unsealing them for
 * each signature (not part of the protocol figures). */
static pb_status parse_sample(const uint8_t *rec1, size_t len1, const uint8_t *rec2,
                              size_t len2, double *wall[M_COUNT], double *cpu[M_COUNT], int i)
{
    pb_share_p1 *s1 = NULL;
    pb_share_p2 *s2 = NULL;
    stopwatch sw;
    sw_start(&sw, 0);
    pb_status st = pb_share_p1_parse(&s1, rec1, len1);
    sw_lap(&sw, &wall[M_PARSE1][i], &cpu[M_PARSE1][i]);
    if (st == PB_OK)
        st = pb_share_p2_parse(&s2, rec2, len2);
    sw_lap(&sw, &wall[M_PARSE2][i], &cpu[M_PARSE2][i]);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
    return st;
}

/* The two round-based proofs (Pi^mod, Pi^prm) prove and verify, timed
 * apart from the DKG so a change of their round counts can be read off
 * directly. Both spread their rounds over both cores, hence process CPU. */
static pb_status proof_sample(const pb_paillier_private *sk, const pb_cosigner_params *params,
                              double *wall[M_COUNT], double *cpu[M_COUNT], int i)
{
    static const uint8_t sid[PB_SESSION_ID_BYTES] = {0};
    pb_transcript t;
    pb_zk_mod_proof *mod = NULL;
    pb_zk_prm_proof *prm = NULL;
    stopwatch sw;
    double skip_wall = 0, skip_cpu = 0;
    pb_transcript_init(&t, "planbok/bench/mod", sid, PB_ROLE_P1);
    settle();
    sw_start(&sw, 1);
    pb_status st = pb_zk_mod_prove(&t, sk, &mod);
    sw_lap(&sw, &wall[M_MOD_PROVE][i], &cpu[M_MOD_PROVE][i]);
    if (st == PB_OK)
        st = pb_zk_mod_verify(&t, pb_paillier_public_of(sk), mod);
    sw_lap(&sw, &wall[M_MOD_VERIFY][i], &cpu[M_MOD_VERIFY][i]);
    pb_transcript_init(&t, "planbok/bench/prm", sid, PB_ROLE_P2);
    settle();
    sw_lap(&sw, &skip_wall, &skip_cpu);
    if (st == PB_OK)
        st = pb_zk_prm_prove(&t, params->sec, &prm);
    sw_lap(&sw, &wall[M_PRM_PROVE][i], &cpu[M_PRM_PROVE][i]);
    if (st == PB_OK)
        st = pb_zk_prm_verify(&t, pb_rped_public_of(params->sec), prm);
    sw_lap(&sw, &wall[M_PRM_VERIFY][i], &cpu[M_PRM_VERIFY][i]);
    pb_zk_mod_free(mod);
    pb_zk_prm_free(prm);
    return st;
}

/* A cached secret encoding of bench-only parameters, so that repeated runs
 * skip the safe-prime search. These parameters guard nothing. */
static pb_status cached_params(const char *dir, int bits, pb_cosigner_params **params,
                               pb_cosigner_public **pub)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/bench-cosigner-%d.params", dir, bits);
    FILE *f = fopen(path, "rb");
    if (f) {
        uint8_t buf[16384];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        uint8_t *exp = NULL;
        size_t exp_len = 0;
        pb_status st = pb_cosigner_params_parse(params, buf, len);
        OPENSSL_cleanse(buf, sizeof buf);
        if (st == PB_OK)
            st = pb_cosigner_params_export(*params, &exp, &exp_len);
        if (st == PB_OK)
            st = pb_cosigner_public_parse(pub, exp, exp_len);
        pb_mpc_bytes_free(exp, exp_len);
        if (st == PB_OK) {
            fprintf(stderr, "== cosigner parameters, %d-bit N^, from %s\n", bits, path);
            return PB_OK;
        }
        pb_cosigner_public_free(*pub);
        pb_cosigner_params_free(*params);
        *pub = NULL;
        *params = NULL;
    }
    pb_status st = make_params(bits, params, pub);
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    if (st == PB_OK && pb_cosigner_params_serialize(*params, &enc, &enc_len) == PB_OK &&
        (f = fopen(path, "wb")) != NULL) {
        fwrite(enc, 1, enc_len, f);
        fclose(f);
    }
    pb_mpc_bytes_free(enc, enc_len);
    return st;
}

static pb_status bench_size(int bits, const char *cache, const mpc_reps *reps,
                            mpc_figures *fig)
{
    memset(fig, 0, sizeof *fig);
    fig->bits = bits;
    pb_cosigner_params *params = NULL;
    pb_cosigner_public *pub = NULL;
    pb_share_p1 *s1 = NULL;
    pb_share_p2 *s2 = NULL;
    uint8_t *rec1 = NULL, *rec2 = NULL;
    size_t rec1_len = 0, rec2_len = 0;
    int n = reps->sign;
    size_t count[M_COUNT];
    double *wall[M_COUNT], *cpu[M_COUNT];
    int ok = 1;
    for (int m = 0; m < M_COUNT; m++) {
        count[m] = (size_t)(m == M_DKG || m >= M_MOD_PROVE ? reps->dkg : n);
        wall[m] = calloc(count[m], sizeof(double));
        cpu[m] = calloc(count[m], sizeof(double));
        ok = ok && wall[m] && cpu[m];
    }
    floor_inputs f = {0};
    f.plain = BN_new();
    f.cipher = BN_new();
    f.k = BN_new();
    f.out = BN_new();
    pb_status st = (ok && f.plain && f.cipher && f.k && f.out)
                       ? (cache ? cached_params(cache, bits, &params, &pub)
                                : make_params(bits, &params, &pub))
                       : pb_fail(PB_ERR_NOMEM, "bench: allocation failed");

    fprintf(stderr, "== %d-bit DKG x %d\n", bits, reps->dkg);
    for (int i = 0; i < reps->dkg && st == PB_OK; i++) {
        pb_share_p1_free(s1);
        pb_share_p2_free(s2);
        st = run_dkg(params, pub, bits, &s1, &s2, &wall[M_DKG][i], &cpu[M_DKG][i]);
        fprintf(stderr, "   %.0f ms (CPU %.0f ms)\n", wall[M_DKG][i], cpu[M_DKG][i]);
    }
    fprintf(stderr, "== %d-bit sign (fresh and warm), floor primitives, record parsing x %d\n",
            bits, n);
    if (st == PB_OK)
        st = pb_share_p1_serialize(s1, &rec1, &rec1_len);
    if (st == PB_OK)
        st = pb_share_p2_serialize(s2, &rec2, &rec2_len);
    if (st == PB_OK) {
        f.sk = s1->paillier;
        f.pk = s2->paillier;
        f.c_key = s2->c_key;
    }
    for (int i = 0; i < n && st == PB_OK; i++) {
        st = run_sign(s1, s2, 0, &wall[M_SIGN][i], &cpu[M_SIGN][i]);
        if (st == PB_OK)
            st = run_sign(s1, s2, 1, &wall[M_WARM][i], &cpu[M_WARM][i]);
        if (st == PB_OK)
            st = floor_sample(&f, wall, cpu, i);
        if (st == PB_OK)
            st = parse_sample(rec1, rec1_len, rec2, rec2_len, wall, cpu, i);
    }
    fprintf(stderr, "== %d-bit Pi^mod (%d rounds) and Pi^prm (%d rounds) x %d\n", bits,
            PB_ZK_MOD_ROUNDS, PB_ZK_PRM_ROUNDS, reps->dkg);
    for (int i = 0; i < reps->dkg && st == PB_OK; i++)
        st = proof_sample(s1->paillier, params, wall, cpu, i);
    for (int m = 0; m < M_COUNT && st == PB_OK; m++) {
        fig->wall[m] = pb_bench_median(wall[m], count[m]);
        fig->cpu[m] = pb_bench_median(cpu[m], count[m]);
    }
    for (int m = 0; m < M_COUNT; m++) {
        free(wall[m]);
        free(cpu[m]);
    }
    pb_mpc_bytes_free(rec1, rec1_len);
    pb_mpc_bytes_free(rec2, rec2_len);
    BN_free(f.plain);
    BN_free(f.cipher);
    BN_free(f.k);
    BN_free(f.out);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
    pb_cosigner_public_free(pub);
    pb_cosigner_params_free(params);
    return st;
}

/* floor = decryption + scalar multiplication (+ encryption when cold). */
static double floor_of(const double *v, int cold)
{
    return v[M_DEC] + v[M_MUL] + (cold ? v[M_ENC] : 0.0);
}

static const char *verdict(double value, double target)
{
    return value <= target ? "met" : "MISSED";
}

static void print_size(const mpc_figures *g, const mpc_reps *reps)
{
    const double *w = g->wall, *c = g->cpu;
    int b = g->bits;
    double dkg_target = b == 2048 ? 500.0 : 1500.0;
    double cold = w[M_SIGN] / floor_of(w, 1), warm = w[M_WARM] / floor_of(w, 0);
    double cold_cpu = c[M_SIGN] / floor_of(c, 1), warm_cpu = c[M_WARM] / floor_of(c, 0);
    printf("%d bits, Paillier floor primitives (medians of %d; wall / CPU): encrypt %.2f / "
           "%.2f ms, CRT decrypt %.2f / %.2f ms, 256-bit scalar multiply %.2f / %.2f ms\n",
           b, reps->sign, w[M_ENC], c[M_ENC], w[M_DEC], c[M_DEC], w[M_MUL], c[M_MUL]);
    printf("%d bits, DKG (median of %d, keygen included): %.0f ms wall, %.0f ms CPU on all "
           "cores (target <= %.0f ms: %s)\n",
           b, reps->dkg, w[M_DKG], c[M_DKG], dkg_target, verdict(w[M_DKG], dkg_target));
    printf("%d bits, sign fresh: %.2f ms, floor %.2f ms, ratio %.2f; CPU %.2f / %.2f ms, ratio "
           "%.2f (target <= 1.2: %s, CPU %s)\n",
           b, w[M_SIGN], floor_of(w, 1), cold, c[M_SIGN], floor_of(c, 1), cold_cpu,
           verdict(cold, 1.2), verdict(cold_cpu, 1.2));
    printf("%d bits, sign warm:  %.2f ms, floor %.2f ms, ratio %.2f; CPU %.2f / %.2f ms, ratio "
           "%.2f (target <= 1.3: %s, CPU %s)\n",
           b, w[M_WARM], floor_of(w, 0), warm, c[M_WARM], floor_of(c, 0), warm_cpu,
           verdict(warm, 1.3), verdict(warm_cpu, 1.3));
    printf("%d bits, share record parse (what the engine adds per signature, not included "
           "above): P1 %.2f ms, P2 %.2f ms\n",
           b, w[M_PARSE1], w[M_PARSE2]);
    printf("%d bits, Pi^mod x %d rounds (median of %d; wall / CPU): prove %.1f / %.1f ms, "
           "verify %.1f / %.1f ms; Pi^prm x %d rounds: prove %.1f / %.1f ms, verify %.1f / "
           "%.1f ms\n",
           b, PB_ZK_MOD_ROUNDS, reps->dkg, w[M_MOD_PROVE], c[M_MOD_PROVE], w[M_MOD_VERIFY],
           c[M_MOD_VERIFY], PB_ZK_PRM_ROUNDS, w[M_PRM_PROVE], c[M_PRM_PROVE], w[M_PRM_VERIFY],
           c[M_PRM_VERIFY]);
    fflush(stdout);
}

static void print_json(const mpc_figures *fig, int n, const double load[2])
{
    printf("{\"bench\":\"mpc\",\"loadavg_start\":%.2f,\"loadavg_end\":%.2f", load[0], load[1]);
    printf(",\"mod_rounds\":%d,\"prm_rounds\":%d", PB_ZK_MOD_ROUNDS, PB_ZK_PRM_ROUNDS);
    for (int i = 0; i < n; i++) {
        const double *w = fig[i].wall, *c = fig[i].cpu;
        int b = fig[i].bits;
        printf(",\"keygen_ms_%d\":%.1f,\"sign_ms_%d\":%.2f,\"sign_warm_ms_%d\":%.2f,"
               "\"floor_ms_%d\":%.2f,\"floor_warm_ms_%d\":%.2f",
               b, w[M_DKG], b, w[M_SIGN], b, w[M_WARM], b, floor_of(w, 1), b, floor_of(w, 0));
        printf(",\"sign_floor_ratio_%d\":%.3f,\"sign_warm_floor_ratio_%d\":%.3f", b,
               w[M_SIGN] / floor_of(w, 1), b, w[M_WARM] / floor_of(w, 0));
        printf(",\"encrypt_ms_%d\":%.2f,\"decrypt_ms_%d\":%.2f,\"scalar_mul_ms_%d\":%.2f", b,
               w[M_ENC], b, w[M_DEC], b, w[M_MUL]);
        printf(",\"keygen_cpu_ms_%d\":%.1f,\"sign_cpu_ms_%d\":%.2f,\"sign_warm_cpu_ms_%d\":%.2f,"
               "\"floor_cpu_ms_%d\":%.2f,\"floor_warm_cpu_ms_%d\":%.2f",
               b, c[M_DKG], b, c[M_SIGN], b, c[M_WARM], b, floor_of(c, 1), b, floor_of(c, 0));
        printf(",\"sign_floor_ratio_cpu_%d\":%.3f,\"sign_warm_floor_ratio_cpu_%d\":%.3f", b,
               c[M_SIGN] / floor_of(c, 1), b, c[M_WARM] / floor_of(c, 0));
        printf(",\"parse_p1_ms_%d\":%.2f,\"parse_p2_ms_%d\":%.2f", b, w[M_PARSE1], b,
               w[M_PARSE2]);
        printf(",\"mod_prove_ms_%d\":%.1f,\"mod_verify_ms_%d\":%.1f,\"prm_prove_ms_%d\":%.1f,"
               "\"prm_verify_ms_%d\":%.1f",
               b, w[M_MOD_PROVE], b, w[M_MOD_VERIFY], b, w[M_PRM_PROVE], b, w[M_PRM_VERIFY]);
        printf(",\"mod_prove_cpu_ms_%d\":%.1f,\"mod_verify_cpu_ms_%d\":%.1f,"
               "\"prm_prove_cpu_ms_%d\":%.1f,\"prm_verify_cpu_ms_%d\":%.1f",
               b, c[M_MOD_PROVE], b, c[M_MOD_VERIFY], b, c[M_PRM_PROVE], b, c[M_PRM_VERIFY]);
    }
    printf("}\n");
}

int pb_bench_mpc(int argc, char **argv)
{
    mpc_reps reps[2] = {{9, 41}, {5, 25}};
    int sizes[2] = {2048, 3072}, n_sizes = 2;
    const char *cache = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            reps[0] = (mpc_reps){3, 15};
            reps[1] = (mpc_reps){3, 9};
        } else if (!strcmp(argv[i], "--size") && i + 1 < argc &&
                   (!strcmp(argv[i + 1], "2048") || !strcmp(argv[i + 1], "3072"))) {
            int bits = atoi(argv[++i]);
            if (bits == 3072)
                reps[0] = reps[1];
            sizes[0] = bits;
            n_sizes = 1;
        } else if (!strcmp(argv[i], "--params-cache") && i + 1 < argc) {
            cache = argv[++i];
        } else {
            return pb_cli_usage("bench mpc [--quick] [--size 2048|3072] [--params-cache DIR]");
        }
    }
    double load[2] = {-1, -1};
    if (getloadavg(load, 1) != 1)
        load[0] = -1;
    mpc_figures fig[2];
    for (int i = 0; i < n_sizes; i++) {
        pb_status st = bench_size(sizes[i], cache, &reps[i], &fig[i]);
        if (st != PB_OK)
            return pb_cli_error(st);
        print_size(&fig[i], &reps[i]);
    }
    if (getloadavg(load + 1, 1) != 1)
        load[1] = -1;
    printf("load average (1 min) at start %.2f, at end %.2f, on %ld cores\n", load[0], load[1],
           sysconf(_SC_NPROCESSORS_ONLN));
    print_json(fig, n_sizes, load);
    return PB_EXIT_OK;
}
