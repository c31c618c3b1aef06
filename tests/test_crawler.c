/* test_crawler.c — crawls of the fixture site (examples/crawler/site.c)
 * served by a cio server on 127.0.0.1 in the test's own loop (real clock:
 * the HTTP client needs it). The site counts every request, so the tests
 * check what was asked as well as what was saved. */
#include "helpers.h"

#include <dirent.h>
#include <ftw.h>
#include <unistd.h>

#include "crawler.h"
#include "save.h"
#include "url.h"
#include "site.h"

typedef struct crawl_case {
    site_robots robots;
    int slow_ms;
    int max_depth;
    int retries;
    int64_t timeout;
    const char *seed_path;      /* "/" unless set */
    const char *const *seed_paths;  /* or several (NULL-terminated) */
    unsigned concurrency, per_host; /* 4 and 2 unless set */
    int64_t delay;
    bool any_host;
    bool crawl_delay_site;      /* the site's robots.txt says Crawl-delay: 0.05 */
    site *other;                /* a second site, linked from /away */
    char dir[64];
    site s;
    crawl_stats st;
    int rc;
} crawl_case;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void make_dir(crawl_case *k)
{
    snprintf(k->dir, sizeof k->dir, "/tmp/cio-crawl-test-XXXXXX");
    cr_assert_not_null(mkdtemp(k->dir));
}

static void remove_dir(crawl_case *k)
{
    nftw(k->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#define MAX_SEEDS 16

typedef struct seeds {
    const char *ptr[MAX_SEEDS];
    char buf[MAX_SEEDS][128];
} seeds;

static void options(crawl_case *k, crawl_options *o, seeds *sd)
{
    crawl_options_default(o);
    size_t n = 0;
    if (k->seed_paths) {
        for (; k->seed_paths[n]; n++)
            snprintf(sd->buf[n], sizeof sd->buf[n], "%s%s", k->s.base, k->seed_paths[n]);
    } else {
        snprintf(sd->buf[0], sizeof sd->buf[0], "%s%s", k->s.base,
                 k->seed_path ? k->seed_path : "/");
        n = 1;
    }
    for (size_t i = 0; i < n; i++)
        sd->ptr[i] = sd->buf[i];
    o->seeds = sd->ptr;
    o->nseeds = n;
    o->output = k->dir;
    if (k->concurrency)
        o->concurrency = k->concurrency;
    if (k->per_host)
        o->per_host = k->per_host;
    o->delay = k->delay;
    o->any_host = k->any_host;
    o->max_depth = k->max_depth;
    o->retries = k->retries;
    o->retry_delay = 10 * CIO_MS;
    if (!k->concurrency)
        o->concurrency = 4;
    if (k->timeout)
        o->timeout = k->timeout;
}

static int crawl_main(void *arg)
{
    crawl_case *k = arg;
    cr_assert_eq(site_start(&k->s, k->robots, k->slow_ms), 0);
    k->s.crawl_delay_ms = k->crawl_delay_site ? 50 : 0;
    if (k->other) {
        cr_assert_eq(site_start(k->other, SITE_ROBOTS_RULES, 0), 0);
        /* Another host name for the same machine: "localhost". */
        snprintf(k->s.away, sizeof k->s.away, "http://localhost:%s/",
                 strrchr(k->other->base, ':') + 1);
    }
    crawl_options o;
    seeds sd;
    options(k, &o, &sd);
    k->rc = crawl_run(&o, &k->st);
    site_stop(&k->s);
    if (k->other)
        site_stop(k->other);
    return 0;
}

static void crawl(crawl_case *k)
{
    make_dir(k);
    cr_assert_eq(run_real(crawl_main, k), 0);
}

/* The lines of DIR/index.jsonl; each url appears once. */
static int index_lines(crawl_case *k, char urls[][128], int max)
{
    char path[128];
    snprintf(path, sizeof path, "%s/index.jsonl", k->dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        cr_assert_lt(n, max);
        cr_assert_eq(sscanf(line, "{\"url\":\"%127[^\"]\"", urls[n]), 1, "%s", line);
        for (int i = 0; i < n; i++)
            cr_assert_str_neq(urls[i], urls[n], "saved twice: %s", urls[n]);
        char file[256], fpath[512];
        const char *fp = strstr(line, "\"file\":\"");
        cr_assert_not_null(fp);
        cr_assert_eq(sscanf(fp, "\"file\":\"%255[^\"]\"", file), 1);
        snprintf(fpath, sizeof fpath, "%s/%s", k->dir, file);
        cr_assert_eq(access(fpath, R_OK), 0, "missing %s", fpath);
        n++;
    }
    fclose(f);
    return n;
}

/* Files in the site's host directory (no temporary ones left). */
static int saved_files(crawl_case *k)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", k->dir, strchr(k->s.base + 7, '1'));
    for (char *c = path + strlen(k->dir); *c; c++)
        if (*c == ':')
            *c = '_';
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            cr_assert(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0,
                      "leftover %s", e->d_name);
        else
            n++;
    }
    closedir(d);
    return n;
}

static bool indexed(char urls[][128], int n, const crawl_case *k, const char *path)
{
    char u[128];
    snprintf(u, sizeof u, "%s%s", k->s.base, path);
    for (int i = 0; i < n; i++)
        if (strcmp(urls[i], u) == 0)
            return true;
    return false;
}

static void assert_consistent(const crawl_stats *st)
{
    uint64_t sent_failures = crawl_failed_total(st) - st->failed[FAIL_ROBOTS] -
                             st->failed[FAIL_UNREACHABLE] - st->failed[FAIL_BAD_URL];
    cr_assert_eq(st->requests, st->succeeded + st->redirects + sent_failures);
}

Test(crawler, whole_site_each_page_once_robots_obeyed)
{
    crawl_case k = { .robots = SITE_ROBOTS_RULES, .slow_ms = 50, .max_depth = 3 };
    crawl(&k);
    cr_assert_eq(k.rc, 0);
    const crawl_stats *st = &k.st;
    /* /, a, b, dir/page, private/open, slow, file.txt, target, deep/1-3,
     * base/x: 12 pages; /redirect; /missing, /error; /private/secret. */
    cr_assert_eq(st->succeeded, 12);
    cr_assert_eq(st->pages_saved, 12);
    cr_assert_eq(st->redirects, 1);
    cr_assert_eq(st->failed[FAIL_HTTP_4XX], 1);
    cr_assert_eq(st->failed[FAIL_HTTP_5XX], 1);
    cr_assert_eq(st->failed[FAIL_ROBOTS], 1);
    cr_assert_eq(crawl_failed_total(st), 3);
    cr_assert_eq(st->requests, 15);
    cr_assert_eq(st->robots_fetched, 1);
    cr_assert_not(st->interrupted);
    assert_consistent(st);
    /* Server side: robots.txt once, every path at most once (cycles a <-> b
     * <-> / not followed twice), the disallowed page and the other host's
     * link never, the text file's fake link not parsed, depth 3 kept. */
    cr_assert_eq(site_count(&k.s, "/robots.txt"), 1);
    for (int i = 0; i < site_paths(&k.s); i++)
        cr_assert_eq(k.s.paths[i].count, 1, "%s asked %d times", k.s.paths[i].path,
                     k.s.paths[i].count);
    cr_assert_eq(site_count(&k.s, "/private/secret"), 0);
    cr_assert_eq(site_count(&k.s, "/private/open"), 1);
    cr_assert_eq(site_count(&k.s, "/not-a-link"), 0);
    cr_assert_eq(site_count(&k.s, "/base/x"), 1);       /* <base href> */
    cr_assert_eq(site_count(&k.s, "/dir/x"), 0);
    cr_assert_eq(site_count(&k.s, "/deep/3"), 1);
    cr_assert_eq(site_count(&k.s, "/deep/4"), 0);
    cr_assert_eq(site_paths(&k.s), 16);                /* 15 + robots.txt */
    /* Bytes: the sum of the saved pages, as the index says. */
    char urls[32][128];
    int n = index_lines(&k, urls, 32);
    cr_assert_eq(n, 12);
    cr_assert_eq(saved_files(&k), 12);
    cr_assert(indexed(urls, n, &k, "/target"));
    cr_assert(indexed(urls, n, &k, "/file.txt"));
    cr_assert_not(indexed(urls, n, &k, "/redirect"));
    cr_assert_not(indexed(urls, n, &k, "/missing"));
    remove_dir(&k);
}

Test(crawler, depth_limits_what_is_followed)
{
    crawl_case k = { .robots = SITE_ROBOTS_RULES, .max_depth = 0 };
    crawl(&k);
    cr_assert_eq(k.rc, 0);
    cr_assert_eq(k.st.requests, 1);
    cr_assert_eq(k.st.pages_saved, 1);
    cr_assert_eq(site_paths(&k.s), 2);                 /* robots.txt and / */
    remove_dir(&k);

    crawl_case k1 = { .robots = SITE_ROBOTS_RULES, .max_depth = 1, .seed_path = "/deep/1" };
    crawl(&k1);
    cr_assert_eq(k1.st.requests, 2);
    cr_assert_eq(site_count(&k1.s, "/deep/2"), 1);
    cr_assert_eq(site_count(&k1.s, "/deep/3"), 0);
    remove_dir(&k1);
}

Test(crawler, missing_robots_allows_all)
{
    crawl_case k = { .robots = SITE_ROBOTS_404, .max_depth = 1 };
    crawl(&k);
    cr_assert_eq(k.rc, 0);
    cr_assert_eq(k.st.failed[FAIL_ROBOTS], 0);
    cr_assert_eq(site_count(&k.s, "/private/secret"), 1);
    assert_consistent(&k.st);
    remove_dir(&k);
}

Test(crawler, unreachable_robots_disallows_all)
{
    crawl_case k = { .robots = SITE_ROBOTS_500, .max_depth = 2 };
    crawl(&k);
    cr_assert_eq(k.rc, 0);
    cr_assert_eq(k.st.requests, 0);
    cr_assert_eq(k.st.failed[FAIL_ROBOTS], 1);
    cr_assert_eq(site_paths(&k.s), 1);                 /* robots.txt only */
    cr_assert_eq(saved_files(&k), 0);
    remove_dir(&k);
}

/* Nothing listens: robots.txt cannot be fetched, so the host's pages are
 * never asked and fail as host_unreachable; a seed that is not http(s) is
 * a bad_url. */
static int unreachable_main(void *arg)
{
    crawl_case *k = arg;
    crawl_options o;
    crawl_options_default(&o);
    const char *seeds[] = { "http://127.0.0.1:1/", "http://127.0.0.1:1/x", "ftp://h/" };
    o.seeds = seeds;
    o.nseeds = 3;
    o.output = k->dir;
    o.retries = 0;
    k->rc = crawl_run(&o, &k->st);
    return 0;
}

Test(crawler, unreachable_host_and_bad_seed)
{
    crawl_case k = { 0 };
    make_dir(&k);
    cr_assert_eq(run_real(unreachable_main, &k), 0);
    cr_assert_eq(k.rc, 0);
    cr_assert_eq(k.st.requests, 0);
    cr_assert_eq(k.st.robots_fetched, 1);
    cr_assert_eq(k.st.failed[FAIL_UNREACHABLE], 2);
    cr_assert_eq(k.st.failed[FAIL_BAD_URL], 1);
    cr_assert_eq(crawl_failed_total(&k.st), 3);
    assert_consistent(&k.st);
    remove_dir(&k);
}

Test(crawler, retries_and_timeouts_are_counted)
{
    /* /error answers 500: with 2 retries it is asked 3 times, one failure. */
    crawl_case k = { .robots = SITE_ROBOTS_404, .retries = 2, .seed_path = "/error" };
    crawl(&k);
    cr_assert_eq(k.st.requests, 1);
    cr_assert_eq(k.st.failed[FAIL_HTTP_5XX], 1);
    cr_assert_eq(site_count(&k.s, "/error"), 3);
    remove_dir(&k);

    crawl_case t = { .robots = SITE_ROBOTS_404, .slow_ms = 5000, .timeout = 50 * CIO_MS,
                     .seed_path = "/slow" };
    crawl(&t);
    cr_assert_eq(t.st.requests, 1);
    cr_assert_eq(t.st.failed[FAIL_TIMEOUT], 1);
    cr_assert_eq(t.st.pages_saved, 0);
    remove_dir(&t);
}

/* Ctrl-C: cio_run cancels the main task; here the test cancels the task
 * that crawls, once the slow page is being served. */
static int crawl_task(void *arg)
{
    crawl_case *k = arg;
    crawl_options o;
    seeds sd;
    options(k, &o, &sd);
    k->rc = crawl_run(&o, &k->st);
    return 0;
}

static int cancel_main(void *arg)
{
    crawl_case *k = arg;
    cr_assert_eq(site_start(&k->s, k->robots, k->slow_ms), 0);
    cio_task *t = spawn(crawl_task, k, "crawl");
    cr_assert_eq(cio_event_wait(&k->s.slow_started), 0);
    cio_task_cancel(t);
    cr_assert_eq(cio_task_join(t, NULL), 0);
    site_stop(&k->s);
    return 0;
}

Test(crawler, cancel_stops_cleanly_with_statistics)
{
    crawl_case k = { .robots = SITE_ROBOTS_RULES, .slow_ms = 10000, .max_depth = 1 };
    make_dir(&k);
    int64_t t0 = cio_now();
    cr_assert_eq(run_real(cancel_main, &k), 0);
    cr_assert_lt(cio_now() - t0, 5 * CIO_SEC, "the slow page was waited for");
    cr_assert_eq(k.rc, -ECANCELED);
    cr_assert(k.st.interrupted);
    cr_assert_geq(k.st.failed[FAIL_CANCELLED], 1);     /* /slow at least */
    assert_consistent(&k.st);
    /* Every saved page is whole and indexed; no temporary file is left. */
    char urls[32][128];
    int n = index_lines(&k, urls, 32);
    cr_assert_eq((uint64_t)n, k.st.pages_saved);
    cr_assert_eq(saved_files(&k), n);
    cr_assert_not(indexed(urls, n, &k, "/slow"));
    remove_dir(&k);
}

static const char *const DELAYED[] = {
    "/delay/200/1", "/delay/200/2", "/delay/200/3", "/delay/200/4",
    "/delay/200/5", "/delay/200/6", NULL,
};

Test(crawler, per_host_limit_holds)
{
    crawl_case k = { .robots = SITE_ROBOTS_404, .seed_paths = DELAYED,
                     .concurrency = 10, .per_host = 2 };
    crawl(&k);
    cr_assert_eq(k.st.succeeded, 6);
    cr_assert_eq(k.s.busy_max, 2, "at most 2 at once, and they overlap: %d", k.s.busy_max);
    remove_dir(&k);
}

Test(crawler, concurrency_limit_holds)
{
    crawl_case k = { .robots = SITE_ROBOTS_404, .seed_paths = DELAYED,
                     .concurrency = 3, .per_host = 10 };
    crawl(&k);
    cr_assert_eq(k.st.succeeded, 6);
    cr_assert_eq(k.s.busy_max, 3, "busy_max %d", k.s.busy_max);
    remove_dir(&k);

    crawl_case all = { .robots = SITE_ROBOTS_404, .seed_paths = DELAYED,
                       .concurrency = 10, .per_host = 10 };
    crawl(&all);
    cr_assert_eq(all.s.busy_max, 6, "busy_max %d", all.s.busy_max);
    remove_dir(&all);
}

static const char *const QUICK[] = { "/base/x", "/target", "/private/open", NULL };

Test(crawler, politeness_delay_spaces_requests)
{
    /* Three pages of one host, 40 ms apart at least: the crawl cannot end
     * before 80 ms (the crawler's own clock: arrival times at the server
     * jitter with connection setup, so they prove nothing). */
    crawl_case k = { .robots = SITE_ROBOTS_RULES, .seed_paths = QUICK,
                     .concurrency = 10, .per_host = 10, .delay = 40 * CIO_MS };
    crawl(&k);
    cr_assert_eq(k.st.succeeded, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(site_count(&k.s, QUICK[i]), 1);
    cr_assert_geq(k.st.end - k.st.start, 80 * CIO_MS, "took %lld ns",
                  (long long)(k.st.end - k.st.start));
    remove_dir(&k);

    /* A robots.txt Crawl-delay longer than --delay wins. */
    crawl_case cd = { .robots = SITE_ROBOTS_RULES, .seed_paths = QUICK,
                      .concurrency = 10, .per_host = 10, .crawl_delay_site = true };
    crawl(&cd);
    cr_assert_eq(cd.st.succeeded, 3);
    cr_assert_geq(cd.st.end - cd.st.start, 100 * CIO_MS, "took %lld ns",
                  (long long)(cd.st.end - cd.st.start));
    remove_dir(&cd);
}

Test(crawler, same_host_rule)
{
    site other;
    crawl_case k = { .robots = SITE_ROBOTS_RULES, .seed_path = "/away", .max_depth = 2,
                     .other = &other };
    crawl(&k);
    cr_assert_eq(k.st.succeeded, 1);
    cr_assert_eq(other.requests, 0, "the other host was asked");
    remove_dir(&k);

    site other2;
    crawl_case any = { .robots = SITE_ROBOTS_RULES, .seed_path = "/away", .max_depth = 1,
                       .other = &other2, .any_host = true };
    crawl(&any);
    cr_assert_eq(any.st.succeeded, 2);
    cr_assert_eq(any.st.robots_fetched, 2);     /* once per host */
    cr_assert_eq(site_count(&other2, "/robots.txt"), 1);
    cr_assert_eq(site_count(&other2, "/"), 1);
    cr_assert_eq(site_count(&other2, "/a"), 0);  /* depth 1 */
    remove_dir(&any);
}

Test(crawler, a_seed_redirected_to_another_host_is_followed)
{
    /* The seed's redirect target's host joins the same-host rule: its
     * robots.txt is fetched and its links followed, at the seed's depth. */
    site other;
    crawl_case k = { .robots = SITE_ROBOTS_RULES, .seed_path = "/redirect-away",
                     .max_depth = 1, .other = &other };
    crawl(&k);
    cr_assert_eq(k.rc, 0);
    cr_assert_eq(k.st.redirects, 2);                   /* the seed's, and its /redirect */
    cr_assert_eq(site_count(&other, "/robots.txt"), 1);
    cr_assert_eq(site_count(&other, "/"), 1);
    cr_assert_eq(site_count(&other, "/a"), 1);          /* depth 1 of the target */
    cr_assert_eq(site_count(&other, "/deep/2"), 0);
    cr_assert_eq(k.st.robots_fetched, 2);
    assert_consistent(&k.st);
    remove_dir(&k);
}

Test(crawler, only_the_first_500_kib_of_robots_txt_count)
{
    crawl_case k = { .robots = SITE_ROBOTS_HUGE, .max_depth = 0 };
    crawl(&k);
    cr_assert_eq(k.rc, 0);
    cr_assert_eq(k.st.failed[FAIL_ROBOTS], 0, "the Disallow past 500 KiB was obeyed");
    cr_assert_eq(k.st.succeeded, 1);
    cr_assert_eq(k.st.robots_fetched, 1);
    cr_assert_eq(site_count(&k.s, "/"), 1);
    remove_dir(&k);
}

Test(crawler, statistics_as_json)
{
    crawl_stats st = { .requests = 3, .succeeded = 2, .bytes = 2048, .pages_saved = 2,
                       .start = 0, .end = 2 * CIO_SEC };
    st.failed[FAIL_TIMEOUT] = 1;
    char buf[1024];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    stats_print_json(&st, f);
    fclose(f);
    cr_assert(strstr(buf, "\"requests\":3,\"succeeded\":2,"), "%s", buf);
    cr_assert(strstr(buf, "\"failed\":{\"timeout\":1}"), "%s", buf);
    cr_assert(strstr(buf, "\"bytes\":2048,\"duration_s\":2.000,\"requests_per_s\":1.50,"
                          "\"kb_per_s\":1.00,\"pages_saved\":2"), "%s", buf);
}

/* ---- the cio-crawl program ------------------------------------------------ */

/* build/.../tests/test_crawler -> build/.../examples/cio-crawl */
static void crawl_binary(char *out, size_t cap)
{
    char self[512];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert_gt(n, 0);
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    *strrchr(self, '/') = '\0';
    snprintf(out, cap, "%s/examples/cio-crawl", self);
    cr_assert_eq(access(out, X_OK), 0, "%s is not built", out);
}

typedef struct cli_case {
    crawl_case k;
    bool interrupt;
    int status;
    char *out, *err;
} cli_case;

static int cli_main(void *arg)
{
    cli_case *c = arg;
    crawl_case *k = &c->k;
    cr_assert_eq(site_start(&k->s, k->robots, k->slow_ms), 0);
    char exe[600], url[128];
    crawl_binary(exe, sizeof exe);
    snprintf(url, sizeof url, "%s%s", k->s.base, k->seed_path ? k->seed_path : "/");
    char *argv[] = { exe, "--concurrency", "100", "--per-host", "100", "--delay", "0",
                     "--timeout", "30", "--retries", "0", "--max-depth", "1",
                     "--output", k->dir, "--json", url, NULL };
    cio_process *p;
    cio_process_opts po = { .stdout_mode = CIO_STDIO_PIPE, .stderr_mode = CIO_STDIO_PIPE };
    cr_assert_eq(cio_process_spawn(&p, argv, &po), 0);
    if (c->interrupt) {
        cr_assert_eq(cio_event_wait(&k->s.slow_started), 0);
        cr_assert_eq(cio_process_send_signal(p, SIGINT), 0);
    }
    cio_communicate io = { 0 };
    c->status = cio_process_communicate(p, &io, cio_deadline_after(20 * CIO_SEC));
    c->out = io.out;
    c->err = io.err;
    cio_process_close(p);
    site_stop(&k->s);
    return 0;
}

Test(crawler, program_prints_json_statistics)
{
    cli_case c = { .k = { .robots = SITE_ROBOTS_RULES, .slow_ms = 10 } };
    make_dir(&c.k);
    cr_assert_eq(run_real(cli_main, &c), 0);
    cr_assert_eq(c.status, 1, "some pages fail on purpose: %d\n%s", c.status, c.err);
    const char *keys[] = { "\"requests\":12,", "\"succeeded\":9,", "\"failed\":{",
                           "\"http_4xx\":1", "\"http_5xx\":1", "\"robots_disallowed\":1",
                           "\"bytes\":", "\"duration_s\":", "\"requests_per_s\":",
                           "\"kb_per_s\":", "\"pages_saved\":9,", "\"interrupted\":false" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_assert(strstr(c.out, keys[i]), "no %s in %s", keys[i], c.out);
    cr_assert_eq(strchr(c.out, '\n'), c.out + strlen(c.out) - 1, "one line: %s", c.out);
    free(c.out);
    free(c.err);
    remove_dir(&c.k);
}

Test(crawler, program_stops_on_sigint_with_statistics)
{
    cli_case c = { .k = { .robots = SITE_ROBOTS_404, .slow_ms = 10000, .seed_path = "/slow" },
                   .interrupt = true };
    make_dir(&c.k);
    cr_assert_eq(run_real(cli_main, &c), 0);
    cr_assert_eq(c.status, 130, "status %d\n%s", c.status, c.err);
    cr_assert(strstr(c.out, "\"interrupted\":true"), "%s", c.out);
    cr_assert(strstr(c.out, "\"cancelled\":1"), "%s", c.out);
    cr_assert(strstr(c.out, "\"requests\":1,"), "%s", c.out);
    cr_assert(strstr(c.err, "interrupted"), "%s", c.err);
    free(c.out);
    free(c.err);
    remove_dir(&c.k);
}

/* ---- the index under concurrent saves ---------------------------------------- */

enum { SAVERS = 40 };

typedef struct save_case {
    saver sv;
    int rc[SAVERS];
    int done;
} save_case;

typedef struct save_arg {
    save_case *sc;
    int i;
} save_arg;

static int save_one(void *arg)
{
    save_arg *a = arg;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:8080/p/%d", a->i);
    url_parts u;
    cr_assert_eq(url_split(url, &u), 0);
    page_record rec = { .url = url, .parts = &u, .status = 200,
                        .content_type = "text/html", .depth = 0 };
    a->sc->rc[a->i] = save_page(&a->sc->sv, &rec, "<p>x</p>", 8);
    url_parts_free(&u);
    a->sc->done++;
    return 0;
}

static int save_many(save_case *sc)
{
    cio_group g;
    save_arg args[SAVERS];
    cio_group_init(&g);
    for (int i = 0; i < SAVERS; i++) {
        args[i] = (save_arg){ sc, i };
        cr_assert_eq(cio_group_spawn(&g, NULL, save_one, &args[i], NULL), 0);
    }
    int rc = cio_group_wait(&g);
    cio_group_destroy(&g);
    return rc;
}

static int index_main(void *arg)
{
    crawl_case *k = arg;
    save_case sc;
    cr_assert_eq(saver_open(&sc.sv, k->dir), 0);
    sc.done = 0;
    cr_assert_eq(save_many(&sc), 0);
    for (int i = 0; i < SAVERS; i++)
        cr_assert_eq(sc.rc[i], 0, "save %d: %d", i, sc.rc[i]);
    saver_close(&sc.sv);
    return 0;
}

Test(crawler, concurrent_saves_index_each_page_once)
{
    crawl_case k = { 0 };
    make_dir(&k);
    cr_assert_eq(run_real(index_main, &k), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/index.jsonl", k.dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    bool seen[SAVERS] = { false };
    char line[512];
    int lines = 0;
    while (fgets(line, sizeof line, f)) {
        int n;
        cr_assert_eq(line[strlen(line) - 1], '\n', "a whole line");
        cr_assert_eq(sscanf(line, "{\"url\":\"http://127.0.0.1:8080/p/%d\"", &n), 1, "%s", line);
        cr_assert(n >= 0 && n < SAVERS && !seen[n], "line %d once", n);
        cr_assert(strstr(line, "\"status\":200,\"content_type\":\"text/html\",\"bytes\":8"));
        seen[n] = true;
        lines++;
    }
    fclose(f);
    cr_assert_eq(lines, SAVERS);
    remove_dir(&k);
}

/* The index cannot be written: every save reports the error (the page
 * itself is on disk, but it is not counted as saved). */
static int index_error_main(void *arg)
{
    crawl_case *k = arg;
    save_case sc;
    cr_assert_eq(saver_open(&sc.sv, k->dir), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/index.jsonl", k->dir);
    cr_assert_eq(cio_file_close(sc.sv.index), 0);
    cr_assert_eq(cio_file_open(&sc.sv.index, path, O_RDONLY, 0), 0);
    sc.done = 0;
    cr_assert_eq(save_many(&sc), 0);
    cr_assert_eq(sc.done, SAVERS);
    for (int i = 0; i < SAVERS; i++)
        cr_assert_eq(sc.rc[i], -EBADF, "save %d: %d", i, sc.rc[i]);
    saver_close(&sc.sv);
    return 0;
}

Test(crawler, an_unwritable_index_fails_every_save)
{
    crawl_case k = { 0 };
    make_dir(&k);
    cr_assert_eq(run_real(index_error_main, &k), 0);
    remove_dir(&k);
}
