/* crawler.h — cio-crawl's library: the brief's AsyncWebCrawler as a tool.
 *
 *     crawl_options o;
 *     crawl_options_default(&o);
 *     o.seeds = urls; o.nseeds = n; o.output = "out";
 *     crawl_stats st;
 *     int rc = crawl_run(&o, &st);         // in a task of a real-clock loop
 *     stats_print_text(&st, stdout);
 *
 * crawl_run starts from the seeds, fetches each URL once (a hash set of
 * normalized URLs), at most `concurrency` at a time (a cio semaphore) and
 * `per_host` at a time per host, `delay` apart per host. robots.txt is
 * fetched once per host before its first page and obeyed. Pages with a 2xx
 * status are saved under `output` (save.h) and recorded in
 * output/index.jsonl; HTML pages are parsed (gumbo) for links down to
 * max_depth. Every URL taken from the frontier gets exactly one outcome,
 * counted in crawl_stats. Cancelling the calling task stops the crawl:
 * requests in flight are cancelled, files are written whole or not at all,
 * and crawl_run returns -ECANCELED with the statistics so far.
 */
#ifndef CIO_CRAWLER_H
#define CIO_CRAWLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Why a URL failed. Keep crawl_fail_name (stats.c) in step. */
typedef enum crawl_fail {
    FAIL_HTTP_3XX,          /* a 3xx without a usable Location, or too many */
    FAIL_HTTP_4XX,
    FAIL_HTTP_5XX,
    FAIL_HTTP_OTHER,        /* 1xx or > 599 */
    FAIL_TIMEOUT,
    FAIL_CONNECTION,        /* refused, reset, unreachable, truncated body */
    FAIL_DNS,
    FAIL_TLS,
    FAIL_TOO_BIG,
    FAIL_ROBOTS,            /* disallowed by robots.txt (or it answered 5xx):
                               never requested */
    FAIL_UNREACHABLE,       /* robots.txt could not be fetched (connection,
                               DNS, TLS, timeout): never requested */
    FAIL_BAD_URL,           /* a seed that is not an http(s) URL */
    FAIL_SAVE,              /* fetched, but the file could not be written */
    FAIL_CANCELLED,         /* in flight when the crawl was interrupted */
    FAIL_OTHER,
    FAIL_COUNT
} crawl_fail;

typedef struct crawl_stats {
    uint64_t requests;      /* page requests sent (robots.txt not counted) */
    uint64_t succeeded;     /* 2xx pages */
    uint64_t redirects;     /* 3xx answers whose target went to the frontier */
    uint64_t failed[FAIL_COUNT];
    uint64_t bytes;         /* body bytes of the succeeded pages */
    uint64_t pages_saved;   /* files written (a page reached again through
                               a redirect is not saved twice) */
    uint64_t robots_fetched;/* robots.txt requests, one per host */
    uint64_t links_found;   /* links extracted from HTML pages */
    uint64_t queued;        /* URLs added to the frontier, seeds included */
    int64_t start, end;     /* cio_now() */
    bool interrupted;
} crawl_stats;

typedef struct crawl_options {
    const char *const *seeds;
    size_t nseeds;
    unsigned concurrency;   /* pages in flight at once (10) */
    unsigned per_host;      /* ... per host (2) */
    int64_t delay;          /* ns between two requests to one host (0) */
    int64_t timeout;        /* ns for one attempt (30 s) */
    int retries;            /* retries after the first try (2) */
    int64_t retry_delay;    /* first backoff, ns, doubled each time (500 ms) */
    const char *output;     /* directory ("crawled") */
    int max_depth;          /* link hops followed from the seeds (0) */
    bool any_host;          /* follow links to any host (default: the seeds' hosts) */
    bool ignore_robots;     /* do not fetch or obey robots.txt */
    const char *user_agent; /* "cio-crawl/<version>" */
    size_t max_page;        /* largest body kept, bytes (16 MiB) */
    bool fsync;             /* make each saved page durable (save.h) */
    FILE *log;              /* one line per URL, or NULL */
    bool progress;          /* draw a progress bar on stderr */
} crawl_options;

void crawl_options_default(crawl_options *o);

/* Crawl. Returns 0, -ECANCELED if the calling task was cancelled (the
 * statistics are then those of the interrupted crawl), or a setup error
 * (the output directory cannot be made: -EACCES...; -ENOMEM). *st is
 * filled in every case. Blocks. Call it from a task of a loop on the real
 * clock. */
int crawl_run(const crawl_options *o, crawl_stats *st);

/* stats.c */
const char *crawl_fail_name(crawl_fail f);
uint64_t crawl_failed_total(const crawl_stats *st);
double crawl_duration_s(const crawl_stats *st);
void stats_print_text(const crawl_stats *st, FILE *out);
void stats_print_json(const crawl_stats *st, FILE *out);

#endif
