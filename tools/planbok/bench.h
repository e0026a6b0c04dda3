/* bench.h - timing helpers shared by the benchmarks. */
#ifndef PB_TOOLS_BENCH_H
#define PB_TOOLS_BENCH_H

#include <stddef.h>
#include <time.h>

double pb_bench_median(double *samples, size_t n);
double pb_bench_now_us(void);

/* `planbok bench mpc [--quick]` (bench_mpc.c). */
int pb_bench_mpc(int argc, char **argv);
int pb_bench_sign(int argc, char **argv);

#endif
