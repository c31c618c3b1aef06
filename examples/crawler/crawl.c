/* crawl.c — the frontier and its workers.
 *
 * The main loop is the brief's semaphore made explicit: take a permit
 * (--concurrency), take the next URL from the frontier (waiting while it is
 * empty but pages in flight may still add to it), spawn a task for it into
 * the crawl's task group; the task gives the permit back when it is done.
 * So at most `concurrency` tasks exist at a time, however long the URL
 * list, and the crawl ends when the frontier is empty and nothing is in
 * flight. Cancelling the calling task (Ctrl-C) cancels the group: every
 * request in flight stops at once, saves in progress finish (they are
 * shielded), and crawl_run returns -ECANCELED. */
#include "crawl_internal.h"
#include "url.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The stack of a worker whose page may be parsed: gumbo frees a parsed
 * tree recursively, as deep as the page nests; committed lazily, so a
 * shallow page costs a few pages. Workers that will not parse (the last
 * depth) take the loop's default stack, which comes from its pool: no
 * mmap and munmap per URL. */
#define PARSER_STACK (1024 * 1024)

void crawl_options_default(crawl_options *o)
{
    *o = (crawl_options){
        .concurrency = 10,
        .per_host = 2,
        .timeout = 30 * CIO_SEC,
        .retries = 2,
        .retry_delay = 500 * CIO_MS,
        .output = "crawled",
        .user_agent = "cio-crawl/0.1",
        .max_page = 16 * 1024 * 1024,
    };
}

void crawl_log(crawler *c, const char *fmt, ...)
{
    if (!c->o->log)
        return;
    progress_clear(&c->bar);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->o->log, fmt, ap);
    va_end(ap);
    fflush(c->o->log);
}

int crawl_enqueue(crawler *c, const char *url, int depth, int redirects, bool check_host)
{
    if (urlset_has(&c->seen, url))
        return 0;                           /* a page links to its siblings
                                               again and again: no parse */
    if (check_host) {
        char *h;
        if (url_host(url, &h) < 0)
            return 0;
        bool ok = urlset_has(&c->allowed_hosts, h);
        free(h);
        if (!ok)
            return 0;
    }
    int rc = urlset_add(&c->seen, url);
    if (rc <= 0)
        return rc;                          /* seen before, or no memory */
    job *j = calloc(1, sizeof *j);
    if (!j || !(j->url = strdup(url))) {
        free(j);
        return -ENOMEM;
    }
    j->c = c;
    j->depth = depth;
    j->redirects = redirects;
    if (c->tail)
        c->tail->next = j;
    else
        c->head = j;
    c->tail = j;
    c->waiting++;
    c->st->queued++;
    cio_event_set(&c->changed);
    return 0;
}

static job *pop(crawler *c)
{
    job *j = c->head;
    c->head = j->next;
    if (!c->head)
        c->tail = NULL;
    c->waiting--;
    return j;
}

static void job_free(job *j)
{
    free(j->url);
    free(j);
}

void crawl_release_permit(crawler *c, job *j)
{
    if (j->permit) {
        j->permit = false;
        cio_semaphore_release(&c->slots);
    }
}

static void running_add(crawler *c, job *j)
{
    j->prev = NULL;
    j->next = c->running;
    if (c->running)
        c->running->prev = j;
    c->running = j;
}

static void running_remove(crawler *c, job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        c->running = j->next;
    if (j->next)
        j->next->prev = j->prev;
}

static int worker(void *arg)
{
    job *j = arg;
    crawler *c = j->c;
    fetch_one(c, j);
    crawl_release_permit(c, j);
    running_remove(c, j);
    job_free(j);
    c->in_flight--;
    cio_event_set(&c->changed);
    return 0;                               /* outcomes are counted, not raised */
}

/* The next URL, once a permit is held: NULL when the crawl is over. */
static int next_job(crawler *c, job **out)
{
    while (!c->head && c->in_flight > 0) {
        cio_event_clear(&c->changed);
        int rc = cio_event_wait(&c->changed);
        if (rc < 0)
            return rc;
    }
    *out = c->head ? pop(c) : NULL;
    return 0;
}

static int dispatch(crawler *c)
{
    for (;;) {
        int rc = cio_semaphore_acquire(&c->slots);
        if (rc < 0)
            return rc;
        job *j = NULL;
        if ((rc = next_job(c, &j)) < 0 || !j) {
            cio_semaphore_release(&c->slots);
            return rc;
        }
        c->in_flight++;
        j->permit = true;
        running_add(c, j);
        rc = cio_group_spawn(&c->workers, NULL, worker, j,
                             &(cio_task_opts){
                                 .name = "crawl",
                                 .stack_size = j->depth < c->o->max_depth ? PARSER_STACK : 0 });
        if (rc < 0) {
            c->in_flight--;
            running_remove(c, j);
            job_free(j);
            cio_semaphore_release(&c->slots);
            return rc;
        }
    }
}

/* The seeds: normalized, their hosts allowed by the same-host rule. */
static int add_seeds(crawler *c)
{
    for (size_t i = 0; i < c->o->nseeds; i++) {
        char *url, *h;
        int rc = url_resolve(NULL, c->o->seeds[i], &url);
        if (rc == -ENOMEM)
            return rc;
        if (rc < 0) {
            c->st->failed[FAIL_BAD_URL]++;
            crawl_log(c, "FAIL %-17s %s\n", crawl_fail_name(FAIL_BAD_URL), c->o->seeds[i]);
            continue;
        }
        if ((rc = url_host(url, &h)) == 0) {
            rc = urlset_add(&c->allowed_hosts, h);
            free(h);
        }
        if (rc >= 0)
            rc = crawl_enqueue(c, url, 0, 0, false);
        free(url);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int open_session(crawler *c)
{
    const crawl_options *o = c->o;
    cio_http_options ho = {
        .user_agent = o->user_agent,
        .max_connections = o->concurrency,
        .max_host_connections = o->per_host,
        .timeout = o->timeout,
    };
    return cio_http_session_open(&c->http, &ho);
}

static void crawler_free(crawler *c)
{
    while (c->head)
        job_free(pop(c));
    while (c->running) {                    /* workers cancelled before they ran */
        job *j = c->running;
        running_remove(c, j);
        job_free(j);
    }
    hosts_free(c);
    urlset_free(&c->seen);
    urlset_free(&c->allowed_hosts);
    saver_close(&c->save);
    if (c->http)
        cio_http_session_close(c->http);
}

int crawl_run(const crawl_options *o, crawl_stats *st)
{
    *st = (crawl_stats){ .start = cio_now() };
    crawler c = { .o = o, .st = st };
    robots_agent_token(o->user_agent, c.agent, sizeof c.agent);
    urlset_init(&c.seen);
    urlset_init(&c.allowed_hosts);
    cio_semaphore_init(&c.slots, o->concurrency ? o->concurrency : 1);
    cio_event_init(&c.changed);
    cio_group_init(&c.workers);
    int rc = saver_open(&c.save, o->output);
    c.save.sync = o->fsync;
    if (rc == 0)
        rc = open_session(&c);
    if (rc == 0)
        rc = add_seeds(&c);
    if (rc == 0) {
        progress_start(&c.bar, o->progress, st, &c.in_flight, &c.waiting);
        rc = dispatch(&c);
        if (rc < 0)
            cio_group_cancel(&c.workers);   /* setup trouble or Ctrl-C */
    }
    int wrc = cio_group_wait(&c.workers);   /* waits even when cancelled */
    if (rc == 0)
        rc = wrc;
    cio_group_destroy(&c.workers);
    progress_stop(&c.bar);
    st->interrupted = rc == -ECANCELED;
    st->end = cio_now();
    crawler_free(&c);
    return rc;
}
