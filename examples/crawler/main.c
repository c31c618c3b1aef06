/* cio-crawl — a concurrent web crawler: the brief's AsyncWebCrawler as a
 * tool. See `cio-crawl --help`, README.md and docs/guide.md.
 *
 *   cio-crawl [options] URL...
 *   cio-crawl [options] --urls-from FILE
 *   cio-crawl --demo            crawl a local fixture site, print statistics
 *
 * Exit status: 0 every URL succeeded, 1 some failed, 2 usage or setup
 * error, 130 interrupted (Ctrl-C: the statistics so far are printed). */
#include <cio.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crawler.h"
#include "site.h"

typedef struct cli {
    crawl_options o;
    bool json, quiet, demo;
    const char *urls_from;
    char **urls;            /* from the command line and the file */
    size_t nurls, cap;
    crawl_stats st;
    int rc;
} cli;

static void usage(FILE *out)
{
    fputs("usage: cio-crawl [options] URL...  |  --urls-from FILE  |  --demo\n"
          "  --concurrency N     requests in flight at once (10)\n"
          "  --per-host N        ... to one host (2)\n"
          "  --delay SECONDS     between two requests to one host (0)\n"
          "  --timeout SECONDS   per attempt (30)\n"
          "  --retries N         retries with exponential backoff (2)\n"
          "  --output DIR        where pages and index.jsonl go (crawled)\n"
          "  --max-depth N       link hops followed from the seeds (0)\n"
          "  --same-host         follow links to the seeds' hosts only (default)\n"
          "  --any-host          follow links to any host\n"
          "  --user-agent UA     (cio-crawl/0.1); robots.txt groups match its first word\n"
          "  --ignore-robots     neither fetch nor obey robots.txt\n"
          "  --fsync             make every saved page durable (fsync; slower)\n"
          "  --urls-from FILE    seed URLs, one a line ('#' comments)\n"
          "  --json              print the statistics as one JSON object\n"
          "  --quiet             no per-URL lines (the progress bar shows on a terminal)\n"
          "  --demo              crawl a local fixture site (offline)\n", out);
}

static int add_url(cli *c, const char *u)
{
    if (c->nurls == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        char **v = realloc(c->urls, cap * sizeof *v);
        if (!v)
            return -1;
        c->urls = v;
        c->cap = cap;
    }
    return (c->urls[c->nurls++] = strdup(u)) ? 0 : -1;
}

/* Read at start, before the loop: a plain stdio read is fine there. */
static int read_url_file(cli *c, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        char *u = line + strspn(line, " \t");
        if (*u && *u != '#')
            rc = add_url(c, u);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

static bool number(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return *s && !*end && *out >= 0;
}

enum { OPT_CONC = 256, OPT_PER_HOST, OPT_DELAY, OPT_TIMEOUT, OPT_RETRIES, OPT_DEPTH,
       OPT_SAME, OPT_ANY, OPT_UA, OPT_NOROBOTS, OPT_FROM, OPT_JSON, OPT_QUIET, OPT_DEMO,
       OPT_FSYNC, OPT_HELP };

static const struct option longopts[] = {
    { "concurrency", required_argument, 0, OPT_CONC },
    { "per-host", required_argument, 0, OPT_PER_HOST },
    { "delay", required_argument, 0, OPT_DELAY },
    { "timeout", required_argument, 0, OPT_TIMEOUT },
    { "retries", required_argument, 0, OPT_RETRIES },
    { "output", required_argument, 0, 'o' },
    { "max-depth", required_argument, 0, OPT_DEPTH },
    { "same-host", no_argument, 0, OPT_SAME },
    { "any-host", no_argument, 0, OPT_ANY },
    { "user-agent", required_argument, 0, OPT_UA },
    { "ignore-robots", no_argument, 0, OPT_NOROBOTS },
    { "urls-from", required_argument, 0, OPT_FROM },
    { "json", no_argument, 0, OPT_JSON },
    { "quiet", no_argument, 0, OPT_QUIET },
    { "demo", no_argument, 0, OPT_DEMO },
    { "fsync", no_argument, 0, OPT_FSYNC },
    { "help", no_argument, 0, OPT_HELP },
    { 0, 0, 0, 0 },
};

/* One option; false if its value is bad. */
static bool take_option(cli *c, int opt, const char *arg)
{
    crawl_options *o = &c->o;
    double v = 0;
    bool numeric = opt == OPT_CONC || opt == OPT_PER_HOST || opt == OPT_DELAY ||
                   opt == OPT_TIMEOUT || opt == OPT_RETRIES || opt == OPT_DEPTH;
    if (numeric && (!number(arg, &v) || v > 1e6))
        return false;
    switch (opt) {
    case OPT_CONC: o->concurrency = v >= 1 ? (unsigned)v : 1; break;
    case OPT_PER_HOST: o->per_host = v >= 1 ? (unsigned)v : 1; break;
    case OPT_DELAY: o->delay = (int64_t)(v * 1e9); break;
    case OPT_TIMEOUT: o->timeout = v > 0 ? (int64_t)(v * 1e9) : CIO_NEVER; break;
    case OPT_RETRIES: o->retries = (int)v; break;
    case OPT_DEPTH: o->max_depth = (int)v; break;
    case 'o': o->output = arg; break;
    case OPT_SAME: o->any_host = false; break;
    case OPT_ANY: o->any_host = true; break;
    case OPT_UA: o->user_agent = arg; break;
    case OPT_NOROBOTS: o->ignore_robots = true; break;
    case OPT_FROM: c->urls_from = arg; break;
    case OPT_JSON: c->json = true; break;
    case OPT_QUIET: c->quiet = true; break;
    case OPT_DEMO: c->demo = true; break;
    case OPT_FSYNC: o->fsync = true; break;
    default: return false;
    }
    return true;
}

static int parse_args(cli *c, int argc, char **argv)
{
    crawl_options_default(&c->o);
    int opt;
    while ((opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        if (opt == OPT_HELP) {
            usage(stdout);
            exit(0);
        }
        if (!take_option(c, opt, optarg)) {
            if (opt != '?')
                fprintf(stderr, "cio-crawl: bad value for --%s: %s\n",
                        longopts[opt - OPT_CONC].name, optarg);
            usage(stderr);
            return -1;
        }
    }
    for (int i = optind; i < argc; i++)
        if (add_url(c, argv[i]) < 0)
            return -1;
    if (c->urls_from && read_url_file(c, c->urls_from) < 0)
        return -1;
    if (!c->nurls && !c->demo) {
        usage(stderr);
        return -1;
    }
    return 0;
}

static void report(cli *c)
{
    if (c->json)
        stats_print_json(&c->st, stdout);
    else
        stats_print_text(&c->st, stdout);
    fflush(stdout);
}

/* --demo: serve the fixture site in this process and crawl it. */
static int demo(cli *c)
{
    site s;
    int rc = site_start(&s, SITE_ROBOTS_RULES, 50);
    if (rc < 0)
        return rc;
    static char seed[96];
    snprintf(seed, sizeof seed, "%s/", s.base);
    static const char *seeds[1];
    seeds[0] = seed;
    c->o.seeds = seeds;
    c->o.nseeds = 1;
    if (c->o.max_depth == 0)
        c->o.max_depth = 3;
    c->o.retry_delay = 20 * CIO_MS;         /* its /error page is retried: quickly */
    if (!c->json)
        printf("crawling the fixture site at %s (depth %d) into %s/\n", seed,
               c->o.max_depth, c->o.output);
    rc = crawl_run(&c->o, &c->st);
    site_stop(&s);
    return rc;
}

static int main_task(void *arg)
{
    cli *c = arg;
    c->o.seeds = (const char *const *)c->urls;
    c->o.nseeds = c->nurls;
    c->rc = c->demo ? demo(c) : crawl_run(&c->o, &c->st);
    if (c->rc < 0 && c->rc != -ECANCELED)
        fprintf(stderr, "cio-crawl: %s\n", cio_strerror(c->rc));
    return 0;
}

int main(int argc, char **argv)
{
    cli c = { 0 };
    if (parse_args(&c, argc, argv) < 0)
        return 2;
    c.o.log = c.quiet || c.json ? NULL : stdout;
    c.o.progress = isatty(STDERR_FILENO);   /* --quiet mutes the per-URL lines only */
    if (c.demo && strcmp(c.o.output, "crawled") == 0)
        c.o.output = "crawled-demo";
    int rc = cio_run(main_task, &c);
    bool interrupted = rc == CIO_EINTERRUPTED || c.rc == -ECANCELED;
    int status = 0;
    if (rc < 0 && !interrupted) {
        fprintf(stderr, "cio-crawl: %s\n", cio_strerror(rc));
        status = 2;
    } else if (c.rc < 0 && !interrupted) {
        status = 2;
    } else {
        report(&c);
        if (interrupted) {
            fprintf(stderr, "cio-crawl: interrupted\n");
            status = 130;
        } else if (crawl_failed_total(&c.st) && !c.demo) {   /* the demo site fails on purpose */
            status = 1;
        }
    }
    for (size_t i = 0; i < c.nurls; i++)
        free(c.urls[i]);
    free(c.urls);
    return status;
}
