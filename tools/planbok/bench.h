/* bench.h - timing helpers shared by the benchmarks. */
#ifndef PB_TOOLS_BENCH_H
#define PB_TOOLS_BENCH_H

#include <stddef.h>
#include <time.h>

double pb_bench_median(double *samples, size_t n);
double pb_bench_now_us(void);

#endif
