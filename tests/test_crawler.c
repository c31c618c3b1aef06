/* test_crawler.c — crawls of the fixture site (examples/crawler/site.c)
 * served by a cio server on 127.0.0.1 in the test's own loop (real clock:
 * the HTTP client needs it). The site counts every request, so the tests
 * check what was asked as well as what was saved. */
#include "helpers.h"

#include <dirent.h>
#include <ftw.h>
#include <unistd.h>

#include "crawler.h"
#include "site.h"

typedef struct crawl_case {
    site_robots robots;
    int slow_ms;
    int max_depth;
    int retries;
    int64_t timeout;
    const char *seed_path;      /* "/" unless set */
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

static void options(crawl_case *k, crawl_options *o, const char **seed, char *buf, size_t cap)
{
    crawl_options_default(o);
    snprintf(buf, cap, "%s%s", k->s.base, k->seed_path ? k->seed_path : "/");
    *seed = buf;
    o->seeds = seed;
    o->nseeds = 1;
    o->output = k->dir;
    o->max_depth = k->max_depth;
    o->retries = k->retries;
    o->retry_delay = 10 * CIO_MS;
    o->concurrency = 4;
    if (k->timeout)
        o->timeout = k->timeout;
}

static int crawl_main(void *arg)
{
    crawl_case *k = arg;
    cr_assert_eq(site_start(&k->s, k->robots, k->slow_ms), 0);
    crawl_options o;
    const char *seed;
    char buf[128];
    options(k, &o, &seed, buf, sizeof buf);
    k->rc = crawl_run(&o, &k->st);
    site_stop(&k->s);
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
                             st->failed[FAIL_BAD_URL];
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
    const char *seed;
    char buf[128];
    options(k, &o, &seed, buf, sizeof buf);
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
