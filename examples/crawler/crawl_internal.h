/* crawl_internal.h — the crawler's state, shared by crawl.c (frontier and
 * workers), host.c (per-host state and robots.txt) and fetch.c (one URL). */
#ifndef CRAWLER_INTERNAL_H
#define CRAWLER_INTERNAL_H

#include <cio.h>

#include "crawler.h"
#include "progress.h"
#include "robots.h"
#include "save.h"
#include "urlset.h"

/* A URL waiting in the frontier or being fetched. */
typedef struct job {
    struct crawler *c;
    char *url;              /* normalized */
    int depth;              /* link hops from a seed */
    int redirects;          /* redirects that led here */
    bool permit;            /* holds one of c->slots */
    struct job *next, *prev;/* in the frontier (next only), or running */
} job;

typedef enum robots_state { ROBOTS_NONE, ROBOTS_FETCHING, ROBOTS_READY } robots_state;

/* One server (scheme://host:port). */
typedef struct host {
    char *origin;
    robots_state robots_state;
    robots rules;
    int robots_error;       /* the robots.txt fetch's network error, or 0 */
    cio_event robots_done;  /* set when a fetch of robots.txt ends */
    cio_semaphore slots;    /* per-host concurrency */
    int64_t next_at;        /* the earliest time of the next request */
    struct host *next;      /* hash chain */
} host;

#define HOST_BUCKETS 1024

typedef struct crawler {
    const crawl_options *o;
    crawl_stats *st;
    cio_http_session *http;
    saver save;
    char agent[64];         /* robots.txt product token */
    urlset seen;            /* every URL ever queued */
    urlset allowed_hosts;   /* the same-host rule's hosts */
    job *head, *tail;       /* the frontier, FIFO: breadth first */
    job *running;           /* handed to workers: the crawler owns them, as
                               a worker cancelled before it ran never runs */
    size_t waiting, in_flight;
    cio_semaphore slots;    /* --concurrency */
    cio_event changed;      /* a worker finished or queued URLs */
    cio_group workers;
    host *hosts[HOST_BUCKETS];
    progress bar;
} crawler;

/* crawl.c: queue url (normalized) at depth unless already seen; with
 * check_host, only if the same-host rule allows it. 0 or -ENOMEM. */
int crawl_enqueue(crawler *c, const char *url, int depth, int redirects, bool check_host);
/* Give j's --concurrency permit back (once): its request is over, what
 * is left (saving, parsing) must not hold up the next request. */
void crawl_release_permit(crawler *c, job *j);
void crawl_log(crawler *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* host.c */
/* The state of the server at origin (url_parts.origin), made at first use. */
int host_get(crawler *c, const char *origin, host **out);
void hosts_free(crawler *c);
/* Make sure h's robots.txt has been fetched (once, by the first task that
 * asks; the others wait). 0 or -ECANCELED. */
int host_robots(crawler *c, host *h);
/* Take one of h's slots and wait for its politeness delay. 0 or
 * -ECANCELED (no slot held). Release with cio_semaphore_release. */
int host_acquire(crawler *c, host *h);

/* fetch.c: fetch j->url, save it, queue its links; counts its outcome. */
void fetch_one(crawler *c, job *j);

#endif
