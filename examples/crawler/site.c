/* site.c — the fixture web site (see site.h). */
#include "site.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void count(site *s, const char *path)
{
    s->requests++;
    for (int i = 0; i < SITE_PATHS; i++) {
        if (s->paths[i].count && strcmp(s->paths[i].path, path) == 0) {
            s->paths[i].count++;
            return;
        }
        if (!s->paths[i].count) {
            size_t n = strnlen(path, sizeof s->paths[i].path - 1);
            memcpy(s->paths[i].path, path, n);
            s->paths[i].path[n] = '\0';
            s->paths[i].count = 1;
            s->paths[i].first_at = cio_now();
            return;
        }
    }
}

int site_count(const site *s, const char *path)
{
    for (int i = 0; i < SITE_PATHS && s->paths[i].count; i++)
        if (strcmp(s->paths[i].path, path) == 0)
            return s->paths[i].count;
    return 0;
}

int site_paths(const site *s)
{
    int n = 0;
    while (n < SITE_PATHS && s->paths[n].count)
        n++;
    return n;
}

static int respond(cio_stream *st, int status, const char *type, const char *extra,
                   const char *body)
{
    char head[512];
    size_t n = strlen(body);
    int k = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
                     status, type, n, extra);
    struct iovec iov[2] = { { head, (size_t)k }, { (void *)body, n } };
    int rc = cio_stream_writev(st, iov, 2);     /* one write: no Nagle wait */
    return rc < 0 ? rc : cio_stream_drain(st);
}

static int page(cio_stream *st, const char *title, const char *links)
{
    char body[4096];
    snprintf(body, sizeof body,
             "<!DOCTYPE html>\n<html><head><title>%s</title></head>\n"
             "<body><h1>%s</h1>\n%s\n</body></html>\n", title, title, links);
    return respond(st, 200, "text/html; charset=utf-8", "", body);
}

static const char ROBOTS[] =
    "# the fixture's rules\n"
    "User-agent: somebot\n"
    "Disallow: /\n"
    "\n"
    "User-agent: *\n"
    "Disallow: /private\n"
    "Allow: /private/open\n"
    "Crawl-delay: %d.%03d\n";

static const char INDEX_LINKS[] =
    "<a href=\"a\">a</a> <a href=\"/b\">b</a> <a href=\"dir/page\">dir</a>\n"
    "<a href=\"/private/secret\">secret</a> <a href=\"/private/open\">open</a>\n"
    "<a href=\"/redirect\">moved</a> <a href=\"/missing\">gone</a>\n"
    "<a href=\"/error\">broken</a> <a href=\"/slow\">slow</a>\n"
    "<a href=\"/file.txt\">text</a> <a href=\"/a#part\">a again</a>\n"
    "<a href=\"mailto:someone@example.org\">mail</a> <a href=\"javascript:void(0)\">js</a>\n"
    "<a href=\"http://elsewhere.invalid/\">away</a> <a href=\"/deep/1\">deep</a>\n"
    "<a href=\"/b\" rel=\"nofollow\">b, nofollow</a>";

/* 600 KiB of comment lines, then "Disallow: /", all in one group. */
static int huge_robots(cio_stream *st)
{
    size_t pad = 600 * 1024, len = 14 + pad + 12;
    char *txt = malloc(len + 1);
    if (!txt)
        return -1;
    memcpy(txt, "User-agent: *\n", 14);
    for (size_t i = 0; i < pad; i += 64) {
        memset(txt + 14 + i, 'x', 63);
        txt[14 + i] = '#';
        txt[14 + i + 63] = '\n';
    }
    memcpy(txt + 14 + pad, "Disallow: /\n", 12);
    txt[len] = '\0';
    int rc = respond(st, 200, "text/plain", "", txt);
    free(txt);
    return rc;
}

static int deep(cio_stream *st, int n)
{
    char links[128] = "";
    if (n < 9)
        snprintf(links, sizeof links, "<a href=\"/deep/%d\">next</a>", n + 1);
    char title[32];
    snprintf(title, sizeof title, "deep %d", n);
    return page(st, title, links);
}

static int route(site *s, cio_stream *st, const char *p)
{
    int n;
    if (strcmp(p, "/robots.txt") == 0) {
        if (s->robots == SITE_ROBOTS_RULES) {
            char txt[512];
            snprintf(txt, sizeof txt, ROBOTS, s->crawl_delay_ms / 1000, s->crawl_delay_ms % 1000);
            return respond(st, 200, "text/plain", "", txt);
        }
        if (s->robots == SITE_ROBOTS_HUGE)
            return huge_robots(st);
        return respond(st, s->robots == SITE_ROBOTS_404 ? 404 : 500, "text/plain", "", "no");
    }
    if (strcmp(p, "/") == 0)
        return page(st, "index", INDEX_LINKS);
    if (strcmp(p, "/a") == 0)
        return page(st, "a", "<a href=\"/\">home</a> <a href=\"b\">b</a> <a href=\"../b\">b2</a>");
    if (strcmp(p, "/b") == 0)
        return page(st, "b", "<a href=\"/a\">a</a> <a href=\"./\">home</a>");
    if (strcmp(p, "/dir/page") == 0)
        return page(st, "dir <base href=\"/base/\">",
                    "<a href=\"x\">x</a>");
    if (strcmp(p, "/redirect") == 0)
        return respond(st, 302, "text/plain", "Location: /target\r\n", "moved");
    if (strcmp(p, "/missing") == 0)
        return respond(st, 404, "text/plain", "", "not here");
    if (strcmp(p, "/error") == 0)
        return respond(st, 500, "text/plain", "", "broken");
    if (strcmp(p, "/slow") == 0) {
        cio_event_set(&s->slow_started);
        if (cio_sleep((int64_t)s->slow_ms * CIO_MS) < 0)
            return -1;
        return page(st, "slow", "");
    }
    if (strcmp(p, "/file.txt") == 0)
        return respond(st, 200, "text/plain", "", "<a href=\"/not-a-link\">plain text</a>");
    if (sscanf(p, "/deep/%d", &n) == 1)
        return deep(st, n);
    if (sscanf(p, "/delay/%d", &n) == 1) {
        if (cio_sleep((int64_t)n * CIO_MS) < 0)
            return -1;
        return respond(st, 200, "text/html", "", "<html><body>ok</body></html>");
    }
    if (strcmp(p, "/redirect-away") == 0 && s->away[0]) {
        char loc[192];
        snprintf(loc, sizeof loc, "Location: %s\r\n", s->away);
        return respond(st, 302, "text/plain", loc, "moved away");
    }
    if (strcmp(p, "/away") == 0) {
        char link[192] = "";
        if (s->away[0])
            snprintf(link, sizeof link, "<a href=\"%s\">away</a>", s->away);
        return page(st, "away", link);
    }
    if (strcmp(p, "/base/x") == 0 || strcmp(p, "/target") == 0 ||
        strncmp(p, "/private/", 9) == 0)
        return page(st, p, "");
    return respond(st, 404, "text/plain", "", "no route");
}

/* Read one request's head: the path of a GET, keep-alive unless asked. */
static int read_request(cio_stream *st, char *path, size_t cap, bool *close)
{
    char line[1024];
    ssize_t n = cio_stream_read_line(st, line, sizeof line);
    if (n <= 0)
        return -1;
    char method[16], target[512];
    if (sscanf(line, "%15s %511s", method, target) != 2)
        return -1;
    snprintf(path, cap, "%s", target);
    *close = false;
    while ((n = cio_stream_read_line(st, line, sizeof line)) > 0) {
        if (strcmp(line, "\r\n") == 0 || strcmp(line, "\n") == 0)
            return 0;
        if (strncasecmp(line, "connection:", 11) == 0 && strcasestr(line, "close"))
            *close = true;
    }
    return -1;
}

static int handle(cio_stream *st, void *arg)
{
    site *s = arg;
    for (;;) {
        char path[512];
        bool close;
        if (read_request(st, path, sizeof path, &close) < 0)
            return 0;
        count(s, path);
        if (++s->busy > s->busy_max)
            s->busy_max = s->busy;
        int rc = route(s, st, path);
        s->busy--;
        if (rc < 0 || close)
            return 0;
    }
}

int site_start(site *s, site_robots robots, int slow_ms)
{
    memset(s, 0, sizeof *s);
    s->robots = robots;
    s->slow_ms = slow_ms;
    cio_event_init(&s->slow_started);
    setenv("no_proxy", "127.0.0.1", 1);     /* a proxy in the environment */
    int rc = cio_tcp_server(&s->srv, "127.0.0.1", 0, handle, s, NULL);
    if (rc < 0)
        return rc;
    cio_addr a;
    if ((rc = cio_server_addr(s->srv, &a)) < 0) {
        site_stop(s);
        return rc;
    }
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%u", cio_addr_port(&a));
    return 0;
}

void site_stop(site *s)
{
    if (s->srv) {
        int rc = cio_server_stop(s->srv, 0);
        (void)rc;
        s->srv = NULL;
    }
}
