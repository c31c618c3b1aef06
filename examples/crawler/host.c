/* host.c — per-host state: robots.txt (fetched once, cached), the
 * per-host concurrency and the politeness delay. */
#include "crawl_internal.h"
#include "url.h"

#include <stdlib.h>
#include <string.h>

#define ROBOTS_MAX (512 * 1024)     /* RFC 9309: parse at least 500 KiB */

static host *host_new(crawler *c, char *origin)
{
    host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->origin = origin;
    cio_event_init(&h->robots_done);
    cio_semaphore_init(&h->slots, c->o->per_host ? c->o->per_host : 1);
    return h;
}

int host_get(crawler *c, const char *origin, host **out)
{
    host **b = &c->hosts[urlset_hash(origin) % HOST_BUCKETS];
    for (host *h = *b; h; h = h->next) {
        if (strcmp(h->origin, origin) == 0) {
            *out = h;
            return 0;
        }
    }
    char *copy = strdup(origin);
    host *h = copy ? host_new(c, copy) : NULL;
    if (!h) {
        free(copy);
        return -ENOMEM;
    }
    h->next = *b;
    *b = h;
    *out = h;
    return 0;
}

void hosts_free(crawler *c)
{
    for (size_t i = 0; i < HOST_BUCKETS; i++) {
        for (host *h = c->hosts[i], *next; h; h = next) {
            next = h->next;
            robots_free(&h->rules);
            free(h->origin);
            free(h);
        }
        c->hosts[i] = NULL;
    }
}

/* A robots.txt over ROBOTS_MAX: its first ROBOTS_MAX bytes are parsed
 * (RFC 9309 2.5). Streams the body and stops there. Returns the status
 * (*text malloc'd, *len set) or an error. */
static int fetch_prefix(crawler *c, const cio_http_request *req, char **text, size_t *len)
{
    cio_http_response *r;
    int rc = cio_http_send(c->http, req, &r);
    if (rc < 0)
        return rc;
    char *buf = malloc(ROBOTS_MAX);
    size_t n = 0;
    ssize_t k = buf ? 1 : -ENOMEM;
    while (k > 0 && n < ROBOTS_MAX)
        if ((k = cio_http_response_read(r, buf + n, ROBOTS_MAX - n)) > 0)
            n += (size_t)k;
    int status = cio_http_response_status(r);
    cio_http_response_close(r);
    if (k < 0) {
        free(buf);
        return (int)k;
    }
    *text = buf;
    *len = n;
    return status;
}

/* Set h->rules from a robots.txt answer: RFC 9309 2.3.1: 2xx is parsed,
 * 4xx ("unavailable") allows everything, 5xx ("unreachable") disallows
 * everything. */
static void take_rules(crawler *c, host *h, int status, const char *text, size_t len)
{
    if (status >= 200 && status < 300) {
        if (robots_parse(&h->rules, text, len, c->agent) < 0)
            robots_init_deny_all(&h->rules);
    } else if (status >= 400 && status < 500) {
        robots_init_allow_all(&h->rules);
    } else {
        robots_init_deny_all(&h->rules);
    }
}

/* Fetch and parse h's robots.txt. A network failure (after the retries)
 * disallows everything too, and is kept to name the pages' failure. */
static int fetch_robots(crawler *c, host *h)
{
    const crawl_options *o = c->o;
    char url[1024];
    snprintf(url, sizeof url, "%s/robots.txt", h->origin);
    cio_http_request req = { .url = url, .timeout = o->timeout, .max_redirects = 5,
                             .max_body = ROBOTS_MAX };
    cio_http_retry policy = { .attempts = o->retries + 1, .delay = o->retry_delay };
    cio_http_response *r = NULL;
    c->st->robots_fetched++;
    int rc = cio_http_request_retry(c->http, &req, &policy, &r);
    int status = 0;
    if (rc == 0) {
        status = cio_http_response_status(r);
        take_rules(c, h, status, cio_http_response_body_data(r), cio_http_response_body_size(r));
        cio_http_response_close(r);
    } else if (rc == CIO_ETOOBIG) {
        char *text = NULL;
        size_t len = 0;
        if ((rc = fetch_prefix(c, &req, &text, &len)) >= 0) {
            status = rc;
            rc = 0;
            take_rules(c, h, status, text, len);
            free(text);
        }
    }
    if (rc == -ECANCELED)
        return rc;
    if (rc < 0) {
        h->robots_error = rc;
        robots_init_deny_all(&h->rules);
        crawl_log(c, "robots %s: unreachable, nothing allowed (%s)\n", url, cio_strerror(rc));
    } else {
        crawl_log(c, "robots %s: %d, %s\n", url, status,
                  h->rules.deny_all ? "nothing allowed"
                  : status >= 400 ? "missing, all allowed" : "rules loaded");
    }
    return 0;
}

int host_robots(crawler *c, host *h)
{
    while (h->robots_state == ROBOTS_FETCHING) {
        int rc = cio_event_wait(&h->robots_done);
        if (rc < 0)
            return rc;
    }
    if (h->robots_state == ROBOTS_READY)
        return 0;
    h->robots_state = ROBOTS_FETCHING;
    cio_event_clear(&h->robots_done);
    int rc = fetch_robots(c, h);
    h->robots_state = rc == 0 ? ROBOTS_READY : ROBOTS_NONE;
    cio_event_set(&h->robots_done);
    return rc;
}

int host_acquire(crawler *c, host *h)
{
    int rc = cio_semaphore_acquire(&h->slots);
    if (rc < 0)
        return rc;
    int64_t delay = c->o->delay > h->rules.crawl_delay ? c->o->delay : h->rules.crawl_delay;
    int64_t now = cio_now();
    int64_t at = h->next_at > now ? h->next_at : now;
    h->next_at = at + delay;
    if (at > now && (rc = cio_sleep_until(at)) < 0) {
        cio_semaphore_release(&h->slots);
        return rc;
    }
    return 0;
}
