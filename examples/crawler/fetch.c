/* fetch.c — one URL: robots check, politeness, the request (with
 * retries), its outcome, saving, and the links it leads to. */
#include "crawl_internal.h"
#include "links.h"
#include "url.h"

#include <stdlib.h>
#include <string.h>

#define MAX_REDIRECTS 10

static crawl_fail fail_of_status(int status)
{
    if (status >= 300 && status < 400)
        return FAIL_HTTP_3XX;
    if (status >= 400 && status < 500)
        return FAIL_HTTP_4XX;
    if (status >= 500 && status < 600)
        return FAIL_HTTP_5XX;
    return FAIL_HTTP_OTHER;
}

static crawl_fail fail_of_error(int rc)
{
    switch (rc) {
    case -ETIMEDOUT:
        return FAIL_TIMEOUT;
    case -ECANCELED:
        return FAIL_CANCELLED;
    case -ECONNREFUSED: case -ECONNRESET: case -ECONNABORTED: case -EHOSTUNREACH:
    case -ENETUNREACH: case -EPIPE: case CIO_EINCOMPLETE: case CIO_EHTTP:
        return FAIL_CONNECTION;
    case CIO_ENOHOST: case CIO_EDNSAGAIN: case CIO_EDNSFAIL:
        return FAIL_DNS;
    case CIO_ETLS: case CIO_ECERT: case CIO_ETRUNCATED:
        return FAIL_TLS;
    case CIO_ETOOBIG:
        return FAIL_TOO_BIG;
    case CIO_ETOOMANYREDIRECTS:
        return FAIL_HTTP_3XX;
    case -EINVAL: case -EPROTONOSUPPORT:
        return FAIL_BAD_URL;
    default:
        return FAIL_OTHER;
    }
}

static void fail(crawler *c, const job *j, crawl_fail why, const char *detail)
{
    c->st->failed[why]++;
    crawl_log(c, "FAIL %-17s %s%s%s\n", crawl_fail_name(why), j->url,
              detail ? "  " : "", detail ? detail : "");
}

/* A 3xx: its target joins the frontier at the same depth (so robots.txt
 * and the same-host rule apply to it as to any URL). A seed's redirect
 * adds its target's host to the same-host rule. */
static void follow_redirect(crawler *c, const job *j, cio_http_response *r, int status)
{
    const char *loc = cio_http_response_header(r, "location");
    char *target = NULL;
    if (!loc || j->redirects >= MAX_REDIRECTS || url_resolve(j->url, loc, &target) < 0) {
        fail(c, j, FAIL_HTTP_3XX, loc ? "unusable or too many redirects" : "no Location");
        return;
    }
    c->st->redirects++;
    crawl_log(c, "%d  %s -> %s\n", status, j->url, target);
    if (j->depth == 0) {
        char *h;
        if (url_host(target, &h) == 0) {
            int rc = urlset_add(&c->allowed_hosts, h);
            (void)rc;                       /* no memory: the rule stays strict */
            free(h);
        }
    }
    int rc = crawl_enqueue(c, target, j->depth, j->redirects + 1, true);
    (void)rc;
    free(target);
}

static void queue_links(crawler *c, const job *j, cio_http_response *r)
{
    link_list links;
    int rc = links_extract(cio_http_response_body_data(r), cio_http_response_body_size(r),
                           j->url, &links);
    for (size_t i = 0; rc == 0 && i < links.n; i++) {
        c->st->links_found++;
        rc = crawl_enqueue(c, links.urls[i], j->depth + 1, 0, !c->o->any_host);
    }
    links_free(&links);
}

static void got_page(crawler *c, const job *j, const url_parts *u, cio_http_response *r,
                     int status)
{
    const char *ct = cio_http_response_header(r, "content-type");
    size_t len = cio_http_response_body_size(r);
    page_record rec = { .url = j->url, .parts = u, .status = status, .content_type = ct,
                        .depth = j->depth };
    int rc = save_page(&c->save, &rec, cio_http_response_body_data(r), len);
    if (rc < 0) {
        fail(c, j, FAIL_SAVE, cio_strerror(rc));
        return;
    }
    c->st->succeeded++;
    c->st->pages_saved++;
    c->st->bytes += len;
    crawl_log(c, "%d  %s  (%zu bytes)\n", status, j->url, len);
    if (j->depth < c->o->max_depth && links_is_html(ct))
        queue_links(c, j, r);
}

static void request(crawler *c, job *j, host *h, const url_parts *u)
{
    const crawl_options *o = c->o;
    int rc = host_acquire(c, h);
    if (rc < 0)
        return;                             /* cancelled before sending */
    c->st->requests++;
    cio_http_request req = { .url = j->url, .timeout = o->timeout, .max_redirects = -1,
                             .max_body = o->max_page };
    cio_http_retry policy = { .attempts = o->retries + 1, .delay = o->retry_delay };
    cio_http_response *r = NULL;
    rc = cio_http_request_retry(c->http, &req, &policy, &r);
    cio_semaphore_release(&h->slots);
    crawl_release_permit(c, j);      /* saving needs no permit */
    if (rc < 0) {
        fail(c, j, fail_of_error(rc), rc == -ECANCELED ? NULL : cio_http_last_error());
        return;
    }
    int status = cio_http_response_status(r);
    if (status >= 200 && status < 300)
        got_page(c, j, u, r, status);
    else if (status >= 300 && status < 400 && status != 304)
        follow_redirect(c, j, r, status);
    else
        fail(c, j, fail_of_status(status), NULL);
    cio_http_response_close(r);
}

void fetch_one(crawler *c, job *j)
{
    url_parts u;
    host *h;
    if (url_split(j->url, &u) < 0 || host_get(c, u.origin, &h) < 0) {
        fail(c, j, FAIL_BAD_URL, NULL);
        url_parts_free(&u);
        return;
    }
    if (!c->o->ignore_robots) {
        if (host_robots(c, h) < 0)
            goto done;                      /* cancelled before sending */
        if (!robots_allowed(&h->rules, u.target)) {
            if (h->robots_error)
                fail(c, j, FAIL_UNREACHABLE, cio_strerror(h->robots_error));
            else
                fail(c, j, FAIL_ROBOTS, NULL);
            goto done;
        }
    }
    request(c, j, h, &u);
done:
    url_parts_free(&u);
}
