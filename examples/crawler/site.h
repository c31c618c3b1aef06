/* site.h — a small web site served by a cio server on 127.0.0.1 (an
 * ephemeral port), for the crawler's tests and `cio-crawl --demo`. It
 * counts the requests of every path, so a test can tell what a crawl asked.
 *
 *   /robots.txt      Disallow /private, Allow /private/open (robots option)
 *   /                links: a, /b, dir/page, /private/secret,
 *                    /private/open, /redirect, /missing, /error, /slow,
 *                    /file.txt, /a#frag, mailto:, javascript:, another
 *                    host, /deep/1
 *   /a  /b           link to each other and to / (a cycle); /a also ../b
 *   /dir/page        <base href="/base/">, links "x" (-> /base/x)
 *   /base/x          a leaf
 *   /redirect        302 to /target (a leaf)
 *   /missing /error  404, 500
 *   /slow            a leaf, answered after `slow_ms`
 *   /file.txt        text/plain that looks like it has a link (not parsed)
 *   /deep/N          links to /deep/N+1, up to /deep/9
 *   /private/...     leaves (must never be fetched but /private/open)
 *   /delay/MS/...    an empty page after MS ms (benchmarks)
 *   /away            links to `away` (another site's URL), if set
 *   /redirect-away   302 to `away`, if set
 * It also keeps the most requests it was serving at once (busy_max), and
 * when each path was first asked (cio_now()).
 */
#ifndef CRAWLER_SITE_H
#define CRAWLER_SITE_H

#include <cio.h>

/* robots.txt: the rules below, 404, 500, or the rules after 600 KiB of
 * comments (past the 500 KiB a crawler must parse: all is allowed). */
typedef enum site_robots {
    SITE_ROBOTS_RULES, SITE_ROBOTS_404, SITE_ROBOTS_500, SITE_ROBOTS_HUGE
} site_robots;

#define SITE_PATHS 128

typedef struct site {
    cio_server *srv;
    char base[64];          /* "http://127.0.0.1:PORT" */
    site_robots robots;
    int slow_ms;
    int crawl_delay_ms;     /* robots.txt's Crawl-delay (0 by default) */
    int requests;
    cio_event slow_started; /* set when /slow is first asked */
    int busy, busy_max;     /* requests being answered now, and at most */
    char away[128];         /* the link of /away ("": none) */
    struct { char path[96]; int count; int64_t first_at; } paths[SITE_PATHS];
} site;

/* Start serving. Returns 0 or the server's error. Never blocks. */
int site_start(site *s, site_robots robots, int slow_ms);
/* Stop (connections still open are cancelled). Blocks briefly. */
void site_stop(site *s);
/* How many requests asked for path. */
int site_count(const site *s, const char *path);
/* The number of distinct paths asked. */
int site_paths(const site *s);

#endif
