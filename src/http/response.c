/* response.c — the response's head: libcurl's header callback, which
 * decides when the final head is in, and the getters. */
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cio_http_headers_clear(cio_http_response *r)
{
    for (size_t i = 0; i < r->nhdrs; i++)
        free(r->hdrs[i].name);
    r->nhdrs = 0;
    r->has_location = false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int add_header(cio_http_response *r, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line)
        return 0;                       /* not a header line: skip it */
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1, *end = line + len;
    while (v < end && is_space(*v))
        v++;
    while (end > v && is_space(end[-1]))
        end--;
    size_t vlen = (size_t)(end - v);
    if (r->nhdrs == r->hdrs_cap) {
        size_t cap = r->hdrs_cap ? 2 * r->hdrs_cap : 16;
        cio_http_header *h = realloc(r->hdrs, cap * sizeof *h);
        if (!h)
            return -1;
        r->hdrs = h;
        r->hdrs_cap = cap;
    }
    char *mem = malloc(nlen + vlen + 2);
    if (!mem)
        return -1;
    memcpy(mem, line, nlen);
    mem[nlen] = '\0';
    memcpy(mem + nlen + 1, v, vlen);
    mem[nlen + 1 + vlen] = '\0';
    r->hdrs[r->nhdrs++] = (cio_http_header){ mem, mem + nlen + 1 };
    if (nlen == 8 && strncasecmp(line, "location", 8) == 0)
        r->has_location = true;
    return 0;
}

void cio_http_mark_ready(cio_http_response *r)
{
    if (r->ready)
        return;
    r->ready = true;
    long code = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    r->status = (int)code;
    char *url = NULL;
    curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &url);
    free(r->url);
    r->url = strdup(url ? url : "");
    curl_off_t cl = -1;
    curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    r->content_length = cl;
    long version = 0;
    curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &version);
    r->http_version = version == CURL_HTTP_VERSION_1_0 ? 10
                    : version == CURL_HTTP_VERSION_1_1 ? 11
                    : version == CURL_HTTP_VERSION_2_0 ? 20
                    : version == CURL_HTTP_VERSION_3 ? 30 : 0;
    cio_http_notify(r);
}

/* The blank line after a head: final unless it is interim (1xx) or a
 * redirect libcurl is about to follow. */
static void end_of_head(cio_http_response *r)
{
    long code = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 100 && code < 200)
        return;
    if (r->following && code >= 300 && code < 400 && r->has_location)
        return;
    cio_http_mark_ready(r);
}

size_t cio_http_on_header(char *data, size_t size, size_t n, void *arg)
{
    cio_http_response *r = arg;
    size_t len = size * n;
    if (r->ready)
        return len;                     /* trailers: not kept */
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
        cio_http_headers_clear(r);      /* a new head (after 1xx or a redirect) */
    else if (len <= 2 && (data[0] == '\r' || data[0] == '\n'))
        end_of_head(r);
    else if (add_header(r, data, len) < 0)
        return 0;                       /* no memory: fail the transfer */
    return len;
}

/* ---- getters --------------------------------------------------------------------- */

int cio_http_response_status(const cio_http_response *r) { return r->status; }
int cio_http_response_http_version(const cio_http_response *r) { return r->http_version; }

const char *cio_http_response_url(const cio_http_response *r)
{
    return r->url ? r->url : "";
}

const char *cio_http_response_header(const cio_http_response *r, const char *name)
{
    for (size_t i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->hdrs[i].name, name) == 0)
            return r->hdrs[i].value;
    return NULL;
}

size_t cio_http_response_header_count(const cio_http_response *r) { return r->nhdrs; }

bool cio_http_response_header_at(const cio_http_response *r, size_t i,
                                 const char **name, const char **value)
{
    if (i >= r->nhdrs)
        return false;
    *name = r->hdrs[i].name;
    *value = r->hdrs[i].value;
    return true;
}

int64_t cio_http_response_content_length(const cio_http_response *r)
{
    return r->content_length;
}

int cio_http_response_check(const cio_http_response *r)
{
    return r->status >= 400 ? CIO_EHTTPSTATUS : 0;
}

const char *cio_http_response_error(const cio_http_response *r) { return r->errbuf; }

const char *cio_http_response_body_data(const cio_http_response *r)
{
    return r->body_done && r->body_rc == 0 ? r->buf + r->off : NULL;
}

size_t cio_http_response_body_size(const cio_http_response *r)
{
    return r->body_done && r->body_rc == 0 ? r->len - r->off : 0;
}
