/* stats.c — the brief's statistics: as text, and as one JSON object. */
#include "crawler.h"
#include "json.h"

#include <cio.h>

static const char *const fail_names[FAIL_COUNT] = {
    [FAIL_HTTP_3XX] = "http_3xx",
    [FAIL_HTTP_4XX] = "http_4xx",
    [FAIL_HTTP_5XX] = "http_5xx",
    [FAIL_HTTP_OTHER] = "http_other",
    [FAIL_TIMEOUT] = "timeout",
    [FAIL_CONNECTION] = "connection",
    [FAIL_DNS] = "dns",
    [FAIL_TLS] = "tls",
    [FAIL_TOO_BIG] = "too_big",
    [FAIL_ROBOTS] = "robots_disallowed",
    [FAIL_UNREACHABLE] = "host_unreachable",
    [FAIL_BAD_URL] = "bad_url",
    [FAIL_SAVE] = "save_error",
    [FAIL_CANCELLED] = "cancelled",
    [FAIL_OTHER] = "other",
};

const char *crawl_fail_name(crawl_fail f)
{
    return f < FAIL_COUNT ? fail_names[f] : "?";
}

uint64_t crawl_failed_total(const crawl_stats *st)
{
    uint64_t n = 0;
    for (int i = 0; i < FAIL_COUNT; i++)
        n += st->failed[i];
    return n;
}

double crawl_duration_s(const crawl_stats *st)
{
    return st->end > st->start ? (double)(st->end - st->start) / 1e9 : 0.0;
}

static double per_s(double x, double secs)
{
    return secs > 0 ? x / secs : 0.0;
}

void stats_print_text(const crawl_stats *st, FILE *out)
{
    double secs = crawl_duration_s(st);
    fprintf(out, "=== crawl statistics%s ===\n", st->interrupted ? " (interrupted)" : "");
    fprintf(out, "requests:     %llu\n", (unsigned long long)st->requests);
    fprintf(out, "succeeded:    %llu\n", (unsigned long long)st->succeeded);
    fprintf(out, "redirects:    %llu\n", (unsigned long long)st->redirects);
    fprintf(out, "failed:       %llu\n", (unsigned long long)crawl_failed_total(st));
    for (int i = 0; i < FAIL_COUNT; i++)
        if (st->failed[i])
            fprintf(out, "  %-18s %llu\n", fail_names[i], (unsigned long long)st->failed[i]);
    fprintf(out, "pages saved:  %llu\n", (unsigned long long)st->pages_saved);
    fprintf(out, "robots.txt:   %llu fetched\n", (unsigned long long)st->robots_fetched);
    fprintf(out, "data:         %.2f KB\n", (double)st->bytes / 1024);
    fprintf(out, "duration:     %.2f s\n", secs);
    fprintf(out, "speed:        %.2f requests/s, %.2f KB/s\n",
            per_s((double)st->requests, secs), per_s((double)st->bytes / 1024, secs));
}

void stats_print_json(const crawl_stats *st, FILE *out)
{
    double secs = crawl_duration_s(st);
    jbuf b = { 0 };
    jbuf_printf(&b, "{\"requests\":%llu,\"succeeded\":%llu,\"redirects\":%llu,\"failed\":{",
                (unsigned long long)st->requests, (unsigned long long)st->succeeded,
                (unsigned long long)st->redirects);
    const char *sep = "";
    for (int i = 0; i < FAIL_COUNT; i++) {
        if (st->failed[i]) {
            jbuf_printf(&b, "%s\"%s\":%llu", sep, fail_names[i],
                        (unsigned long long)st->failed[i]);
            sep = ",";
        }
    }
    jbuf_printf(&b, "},\"failed_total\":%llu,\"bytes\":%llu,\"duration_s\":%.3f,"
                "\"requests_per_s\":%.2f,\"kb_per_s\":%.2f,\"pages_saved\":%llu,"
                "\"robots_fetched\":%llu,\"links_found\":%llu,\"queued\":%llu,"
                "\"interrupted\":%s}\n",
                (unsigned long long)crawl_failed_total(st), (unsigned long long)st->bytes,
                secs, per_s((double)st->requests, secs), per_s((double)st->bytes / 1024, secs),
                (unsigned long long)st->pages_saved, (unsigned long long)st->robots_fetched,
                (unsigned long long)st->links_found, (unsigned long long)st->queued,
                st->interrupted ? "true" : "false");
    if (!b.oom)
        fputs(b.s, out);
    jbuf_free(&b);
}
