/* bench.h — what every cio benchmark program shares: a clock, the process's
 * memory figures, a small random generator and the output format.
 *
 * A benchmark prints one JSON line per figure on stdout,
 *   {"bench":"switch","value":9.81,"unit":"ns/switch"}
 * (bench/run adds "impl" and takes the median over several runs). Lines that
 * do not start with '{' are notes, shown once by bench/run.
 */
#ifndef CIO_BENCH_H
#define CIO_BENCH_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One figure, as a JSON line. impl may be NULL (bench/run fills it in). */
static inline void bench_emit_impl(const char *bench, const char *impl,
                                   double value, const char *unit)
{
    if (impl)
        printf("{\"bench\":\"%s\",\"impl\":\"%s\",\"value\":%.4g,"
               "\"unit\":\"%s\"}\n", bench, impl, value, unit);
    else
        printf("{\"bench\":\"%s\",\"value\":%.4g,\"unit\":\"%s\"}\n",
               bench, value, unit);
    fflush(stdout);
}

static inline void bench_emit(const char *bench, double value, const char *unit)
{
    bench_emit_impl(bench, NULL, value, unit);
}

/* argv[i] as a count, or def when absent. */
static inline long bench_arg(int argc, char **argv, int i, long def)
{
    return argc > i ? strtol(argv[i], NULL, 10) : def;
}

/* Resident set size in bytes (/proc/self/statm, second field). */
static inline size_t bench_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Memory held by the process's page tables in bytes (VmPTE): not part of
 * RSS, but a task whose stack is its own mapping pays some of it. */
static inline size_t bench_page_table_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kib = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmPTE: %zu kB", &kib) == 1)
            break;
    fclose(f);
    return kib * 1024;
}

/* splitmix64: a fast, good-enough generator for deadlines and shuffles. */
static inline uint64_t bench_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Stop the benchmark on an unexpected error. */
#define BENCH_CHECK(expr)                                                   \
    do {                                                                    \
        long bench_rc_ = (long)(expr);                                      \
        if (bench_rc_ < 0) {                                                \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__,   \
                    #expr, strerror((int)-bench_rc_));                      \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

#endif
