/* stats.c — task statistics (cio/stats.h): reading them, quantiles from
 * the log2 histograms, printing. The counting is in task_stats.h. */
#include "cio/stats.h"

#include <string.h>
#include <time.h>

#include "../core/internal.h"
#include "task_stats.h"

/* ---- recording (debug mode) ------------------------------------------- */

/* Bucket 0 holds [0, 2) ns, bucket i [2^i, 2^(i+1)). */
static int bucket_of(int64_t ns)
{
    return 63 - __builtin_clzll((uint64_t)ns | 1);
}

void cio_duration_add(cio_duration_stats *d, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    if (d->count == 0 || ns < d->min_ns)
        d->min_ns = ns;
    if (ns > d->max_ns)
        d->max_ns = ns;
    d->count++;
    d->sum_ns += ns;
    d->buckets[bucket_of(ns)]++;
}

/* Run times are measured on the real clock, even when the loop runs on the
 * virtual one: a running task does not move that. */
void cio_stats_on_switch(cio_loop *L, cio_task *from, int64_t now)
{
    if (from) {
        from->run_ns += now - L->slice_start;
        if (from->state == CIO_TASK_DONE)  /* its last switch: the total is known */
            cio_duration_add(&L->task_stats.run_time, from->run_ns);
    }
    L->slice_start = now;
}

void cio_stats_on_end(cio_loop *L, cio_task *t)
{
    cio_duration_add(&L->task_stats.lifetime, L->now - t->born);
}

/* ---- reading ------------------------------------------------------------ */

void cio_loop_task_stats(cio_loop *L, cio_task_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!L)
        L = cio_tls_loop;
    if (!L)
        return;
    const cio_task_stats_acc *a = &L->task_stats;
    out->created = cio_task_created_count(L);
    out->failed = a->failed;
    out->cancelled = a->cancelled;
    out->live = L->live;
    out->finished = out->created - L->live - a->failed - a->cancelled;
    out->timed = L->debug;
    out->lifetime = a->lifetime;
    out->run_time = a->run_time;
}

/* Bucket i's range: [lo, hi) ns. */
static void bucket_range(int i, double *lo, double *hi)
{
    *lo = i == 0 ? 0 : (double)((uint64_t)1 << i);
    *hi = (double)((uint64_t)1 << i) * 2;
}

int64_t cio_duration_quantile(const cio_duration_stats *d, double q)
{
    if (!d->count)
        return 0;
    if (q <= 0)
        return d->min_ns;
    if (q >= 1)
        return d->max_ns;
    /* The rank of the sample wanted, 1-based. */
    double rank = q * (double)d->count;
    if (rank < 1)
        rank = 1;
    uint64_t before = 0;
    for (int i = 0; i < CIO_DURATION_BUCKETS; i++) {
        uint64_t n = d->buckets[i];
        if (!n || (double)(before + n) < rank) {
            before += n;
            continue;
        }
        double lo, hi;
        bucket_range(i, &lo, &hi);
        /* The bucket's samples taken as spread evenly, each at the
         * middle of its share. */
        double v = lo + (hi - lo) * ((rank - (double)before - 0.5) / (double)n);
        int64_t ns = (int64_t)v;
        if (ns < d->min_ns)
            ns = d->min_ns;
        if (ns > d->max_ns)
            ns = d->max_ns;
        return ns;
    }
    return d->max_ns;
}

int64_t cio_duration_mean(const cio_duration_stats *d)
{
    return d->count ? d->sum_ns / (int64_t)d->count : 0;
}

/* "1.5ms", "250ns", "12s" into buf. */
static const char *fmt_ns(char *buf, size_t size, double ns)
{
    static const struct { double div; const char *unit; } units[] = {
        { 1e9, "s" }, { 1e6, "ms" }, { 1e3, "us" },
    };
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (ns >= units[i].div) {
            snprintf(buf, size, "%.3g%s", ns / units[i].div, units[i].unit);
            return buf;
        }
    }
    snprintf(buf, size, "%.0fns", ns);
    return buf;
}

/* One line per non-empty bucket, its bar scaled to the fullest one. */
static void print_histogram(const cio_duration_stats *d, FILE *out, const char *p)
{
    uint64_t most = 0;
    for (int i = 0; i < CIO_DURATION_BUCKETS; i++)
        if (d->buckets[i] > most)
            most = d->buckets[i];
    for (int i = 0; i < CIO_DURATION_BUCKETS; i++) {
        if (!d->buckets[i])
            continue;
        double lo, hi;
        char a[16], b[16];
        bucket_range(i, &lo, &hi);
        int bar = (int)((d->buckets[i] * 40 + most - 1) / most);
        fprintf(out, "%s    [%7s, %7s) %-40.*s %llu\n", p, fmt_ns(a, sizeof a, lo),
                fmt_ns(b, sizeof b, hi), bar,
                "########################################",
                (unsigned long long)d->buckets[i]);
    }
}

static void print_duration(const char *what, const cio_duration_stats *d,
                           FILE *out, const char *p)
{
    if (!d->count) {
        fprintf(out, "%s%s: no task has ended\n", p, what);
        return;
    }
    char v[6][16];
    fprintf(out, "%s%s (%llu tasks): min %s  mean %s  p50 %s  p90 %s  p99 %s  max %s\n",
            p, what, (unsigned long long)d->count,
            fmt_ns(v[0], sizeof v[0], (double)d->min_ns),
            fmt_ns(v[1], sizeof v[1], (double)cio_duration_mean(d)),
            fmt_ns(v[2], sizeof v[2], (double)cio_duration_quantile(d, 0.50)),
            fmt_ns(v[3], sizeof v[3], (double)cio_duration_quantile(d, 0.90)),
            fmt_ns(v[4], sizeof v[4], (double)cio_duration_quantile(d, 0.99)),
            fmt_ns(v[5], sizeof v[5], (double)d->max_ns));
    print_histogram(d, out, p);
}

void cio_task_stats_print(const cio_task_stats *s, FILE *out, const char *prefix)
{
    const char *p = prefix ? prefix : "";
    fprintf(out, "%stasks: %llu created, %llu finished, %llu failed, "
                 "%llu cancelled, %llu live\n", p,
            (unsigned long long)s->created, (unsigned long long)s->finished,
            (unsigned long long)s->failed, (unsigned long long)s->cancelled,
            (unsigned long long)s->live);
    if (!s->timed) {
        fprintf(out, "%slifetime, run time: not measured (debug mode is off)\n", p);
        return;
    }
    print_duration("lifetime", &s->lifetime, out, p);
    print_duration("run time", &s->run_time, out, p);
}
