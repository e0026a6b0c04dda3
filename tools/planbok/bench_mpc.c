/* bench_mpc.c - `planbok bench mpc [--quick]`: median DKG and signing times
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
#include "mpc/share.h"
#include "mpc/sign.h"
#include "planbok/mpc.h"

typedef struct mpc_reps {
    int dkg;
    int sign;
} mpc_reps;

typedef struct mpc_figures {
    int bits;
    double keygen_ms, keygen_cpu_ms;
    double sign_ms, sign_warm_ms;
    double dec_ms, mul_ms, enc_ms;
    double floor_ms, floor_warm_ms;
} mpc_figures;

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

/* CPU time of the whole process (both threads of the prime search and of
 * the proofs): with other jobs on the machine, wall time alone says little. */
static double cpu_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One DKG, both parties; *ms covers everything from creating P1's session
 * to both records in hand (P1's Paillier key generation included). */
static pb_status run_dkg(const pb_cosigner_params *params, const pb_cosigner_public *pub,
                         int bits, pb_share_p1 **s1, pb_share_p2 **s2, double *ms,
                         double *cpu_ms)
{
    pb_dkg_p1 *p1 = NULL;
    pb_dkg_p2 *p2 = NULL;
    uint8_t *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL, *none = NULL;
    size_t l1 = 0, l2 = 0, l3 = 0, l4 = 0, lnone = 0;
    *s1 = NULL;
    *s2 = NULL;
    double c0 = cpu_now_us(), t0 = pb_bench_now_us();
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
    *ms = (pb_bench_now_us() - t0) / 1e3;
    *cpu_ms = (cpu_now_us() - c0) / 1e3;
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
 * precomputes r^N before m3, and that call is left out of *ms. */
static pb_status run_sign(pb_share_p1 *s1, const pb_share_p2 *s2, int warm, double *ms)
{
    uint8_t digest[PB_MPC_DIGEST_BYTES], sig[PB_MPC_SIGNATURE_BYTES];
    pb_status st = pb_msg_random(digest, sizeof digest);
    if (st != PB_OK)
        return st;
    pb_sign_p1 *p1 = NULL;
    pb_sign_p2 *p2 = NULL;
    uint8_t *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL, *none = NULL, *none2 = NULL;
    size_t l1 = 0, l2 = 0, l3 = 0, l4 = 0, lnone = 0, lnone2 = 0;
    double excluded = 0;
    int recid = -1;
    double t0 = pb_bench_now_us();
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
    if (st == PB_OK && warm) {
        double tp = pb_bench_now_us();
        st = pb_sign_p2_precompute(p2);
        excluded = pb_bench_now_us() - tp;
    }
    if (st == PB_OK)
        st = pb_sign_p2_step(p2, m3, l3, &m4, &l4);
    if (st == PB_OK)
        st = pb_sign_p1_step(p1, m4, l4, &none2, &lnone2);
    if (st == PB_OK)
        st = pb_sign_p1_signature(p1, sig, &recid);
    pb_sign_p1_free(p1);
    pb_sign_p2_free(p2);
    pb_mpc_bytes_free(m1, l1);
    pb_mpc_bytes_free(m2, l2);
    pb_mpc_bytes_free(m3, l3);
    pb_mpc_bytes_free(m4, l4);
    pb_mpc_bytes_free(none, lnone);
    pb_mpc_bytes_free(none2, lnone2);
    *ms = (pb_bench_now_us() - t0 - excluded) / 1e3;
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

static pb_status floor_sample(floor_inputs *f, double *dec_ms, double *mul_ms, double *enc_ms)
{
    if (!BN_rand(f->plain, PB_SIGN_MASK_BITS + 256, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_rand(f->k, 256, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY))
        return pb_fail(PB_ERR_CRYPTO, "bench: BN_rand failed");
    double t0 = pb_bench_now_us();
    pb_status st = pb_paillier_encrypt(f->pk, f->plain, f->cipher, NULL);
    double t1 = pb_bench_now_us();
    if (st == PB_OK)
        st = pb_paillier_mul_scalar(f->pk, f->c_key, f->k, f->out);
    double t2 = pb_bench_now_us();
    if (st == PB_OK)
        st = pb_paillier_decrypt(f->sk, f->cipher, f->out);
    double t3 = pb_bench_now_us();
    *enc_ms = (t1 - t0) / 1e3;
    *mul_ms = (t2 - t1) / 1e3;
    *dec_ms = (t3 - t2) / 1e3;
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
    int n = reps->sign;
    double *samples = calloc((size_t)(2 * reps->dkg + 5 * n), sizeof *samples);
    double *dkg = samples, *dkg_cpu = samples + reps->dkg, *cold = dkg_cpu + reps->dkg, *warm = cold + n, *dec = warm + n,
           *mul = dec + n, *enc = mul + n;
    floor_inputs f = {0};
    f.plain = BN_new();
    f.cipher = BN_new();
    f.k = BN_new();
    f.out = BN_new();
    pb_status st = (samples && f.plain && f.cipher && f.k && f.out)
                       ? (cache ? cached_params(cache, bits, &params, &pub)
                                : make_params(bits, &params, &pub))
                       : pb_fail(PB_ERR_NOMEM, "bench: allocation failed");

    fprintf(stderr, "== %d-bit DKG x %d\n", bits, reps->dkg);
    for (int i = 0; i < reps->dkg && st == PB_OK; i++) {
        pb_share_p1_free(s1);
        pb_share_p2_free(s2);
        st = run_dkg(params, pub, bits, &s1, &s2, &dkg[i], &dkg_cpu[i]);
        fprintf(stderr, "   %.0f ms (CPU %.0f ms)\n", dkg[i], dkg_cpu[i]);
    }
    fprintf(stderr, "== %d-bit sign (fresh and warm) and floor primitives x %d\n", bits, n);
    if (st == PB_OK) {
        f.sk = s1->paillier;
        f.pk = s2->paillier;
        f.c_key = s2->c_key;
    }
    for (int i = 0; i < n && st == PB_OK; i++) {
        st = run_sign(s1, s2, 0, &cold[i]);
        if (st == PB_OK)
            st = run_sign(s1, s2, 1, &warm[i]);
        if (st == PB_OK)
            st = floor_sample(&f, &dec[i], &mul[i], &enc[i]);
    }
    if (st == PB_OK) {
        fig->keygen_ms = pb_bench_median(dkg, (size_t)reps->dkg);
        fig->keygen_cpu_ms = pb_bench_median(dkg_cpu, (size_t)reps->dkg);
        fig->sign_ms = pb_bench_median(cold, (size_t)n);
        fig->sign_warm_ms = pb_bench_median(warm, (size_t)n);
        fig->dec_ms = pb_bench_median(dec, (size_t)n);
        fig->mul_ms = pb_bench_median(mul, (size_t)n);
        fig->enc_ms = pb_bench_median(enc, (size_t)n);
        fig->floor_warm_ms = fig->dec_ms + fig->mul_ms;
        fig->floor_ms = fig->floor_warm_ms + fig->enc_ms;
    }
    BN_free(f.plain);
    BN_free(f.cipher);
    BN_free(f.k);
    BN_free(f.out);
    free(samples);
    pb_share_p1_free(s1);
    pb_share_p2_free(s2);
    pb_cosigner_public_free(pub);
    pb_cosigner_params_free(params);
    return st;
}

static void print_size(const mpc_figures *g, const mpc_reps *reps)
{
    double keygen_target = g->bits == 2048 ? 500.0 : 1500.0;
    printf("%d bits, Paillier floor (medians of %d): encrypt %.2f ms, CRT decrypt %.2f ms, "
           "256-bit scalar multiply %.2f ms\n",
           g->bits, reps->sign, g->enc_ms, g->dec_ms, g->mul_ms);
    printf("%d bits, DKG (median of %d, keygen included): %.0f ms, CPU %.0f ms "
           "(target <= %.0f ms: %s)\n",
           g->bits, reps->dkg, g->keygen_ms, g->keygen_cpu_ms, keygen_target,
           g->keygen_ms <= keygen_target ? "met" : "MISSED");
    printf("%d bits, sign fresh: %.2f ms, floor %.2f ms, ratio %.2f (target <= 1.2: %s)\n",
           g->bits, g->sign_ms, g->floor_ms, g->sign_ms / g->floor_ms,
           g->sign_ms / g->floor_ms <= 1.2 ? "met" : "MISSED");
    printf("%d bits, sign warm:  %.2f ms, floor %.2f ms, ratio %.2f (target <= 1.3: %s)\n",
           g->bits, g->sign_warm_ms, g->floor_warm_ms, g->sign_warm_ms / g->floor_warm_ms,
           g->sign_warm_ms / g->floor_warm_ms <= 1.3 ? "met" : "MISSED");
    fflush(stdout);
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
    /* The targets are for an otherwise idle machine: say how busy it was. */
    double load[2] = {0, 0};
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
    printf("load average (1 min) at start %.2f, at end %.2f on %ld cores\n", load[0], load[1],
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("{\"bench\":\"mpc\",\"loadavg_start\":%.2f,\"loadavg_end\":%.2f", load[0],
           load[1]);
    for (int i = 0; i < n_sizes; i++) {
        const mpc_figures *g = &fig[i];
        printf(",\"keygen_ms_%d\":%.1f,\"keygen_cpu_ms_%d\":%.1f,\"sign_ms_%d\":%.2f,\"sign_warm_ms_%d\":%.2f,"
               "\"floor_ms_%d\":%.2f,\"floor_warm_ms_%d\":%.2f,"
               "\"encrypt_ms_%d\":%.2f,\"decrypt_ms_%d\":%.2f,\"scalar_mul_ms_%d\":%.2f,"
               "\"sign_floor_ratio_%d\":%.3f,\"sign_warm_floor_ratio_%d\":%.3f",
               g->bits, g->keygen_ms, g->bits, g->keygen_cpu_ms, g->bits, g->sign_ms, g->bits, g->sign_warm_ms, g->bits,
               g->floor_ms, g->bits, g->floor_warm_ms, g->bits, g->enc_ms, g->bits, g->dec_ms,
               g->bits, g->mul_ms, g->bits, g->sign_ms / g->floor_ms, g->bits,
               g->sign_warm_ms / g->floor_warm_ms);
    }
    printf("}\n");
    return PB_EXIT_OK;
}
