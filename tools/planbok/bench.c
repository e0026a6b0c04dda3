/* bench.c - `planbok bench <what>` dispatch and the timing helpers the
 * benchmarks share (medians, not means: these machines are noisy). */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pb_bench_median(double *samples, size_t n)
{
    if (n == 0)
        return 0.0;
    qsort(samples, n, sizeof *samples, compare_double);
    return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2.0;
}

double pb_bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int pb_cmd_bench(pb_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (argc < 1)
        return pb_cli_usage("bench: expected 'bench hsm', 'bench mpc', 'bench sign' or 'bench audit'");
    if (!strcmp(argv[0], "hsm"))
        return pb_bench_hsm(argc - 1, argv + 1);
    if (!strcmp(argv[0], "mpc"))
        return pb_bench_mpc(argc - 1, argv + 1);
    if (!strcmp(argv[0], "sign"))
        return pb_bench_sign(argc - 1, argv + 1);
    if (!strcmp(argv[0], "audit"))
        return pb_bench_audit(argc - 1, argv + 1);
    return pb_cli_usage("bench: unknown benchmark");
}
