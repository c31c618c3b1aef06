/* session.c — sessions (aiohttp.ClientSession): defaults, and turning a
 * request into a configured libcurl easy handle. */
#include "http_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_CONNECT_TIMEOUT (30 * CIO_SEC)
#define DEFAULT_TIMEOUT (300 * CIO_SEC)
#define DEFAULT_MAX_REDIRECTS 10
#define DEFAULT_MAX_BODY ((size_t)64 << 20)
#define DEFAULT_POOL 100        /* the driver's default connection limit */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void free_strv(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static char **dup_strv(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **out = calloc(n + 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            free_strv(out);
            return NULL;
        }
    return out;
}

static char *default_user_agent(void)
{
    char buf[128];
    snprintf(buf, sizeof buf, "cio/0.1 libcurl/%s", curl_version_info(CURLVERSION_NOW)->version);
    return strdup(buf);
}

static void session_free(cio_http_session *s)
{
    for (size_t i = 0; i < s->npool; i++)
        curl_easy_cleanup(s->pool[i]);
    free(s->pool);
    free(s->user_agent);
    free(s->ca_file);
    free_strv(s->headers);
    free(s);
}

int cio_http_session_open(cio_http_session **out, const cio_http_options *o)
{
    *out = NULL;
    static const cio_http_options none;
    if (!o)
        o = &none;
    cio_http_driver *d = cio_http_driver_get();
    if (!d)
        return cio_tls_loop ? -ENOMEM : -EPERM;
    cio_http_session *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->loop = cio_tls_loop;
    s->refs = 1;
    s->user_agent = o->user_agent ? strdup(o->user_agent) : default_user_agent();
    s->ca_file = dup_or_null(o->ca_file);
    s->headers = dup_strv(o->headers);
    if (!s->user_agent || (o->ca_file && !s->ca_file) || !s->headers) {
        session_free(s);
        return -ENOMEM;
    }
    s->connect_timeout = o->connect_timeout > 0 ? o->connect_timeout : DEFAULT_CONNECT_TIMEOUT;
    s->timeout = o->timeout > 0 ? o->timeout : DEFAULT_TIMEOUT;
    s->max_redirects = o->max_redirects ? o->max_redirects : DEFAULT_MAX_REDIRECTS;
    s->max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
    s->insecure = o->insecure;
    s->http1_only = o->http1_only;
    cio_http_driver_limits(d, o->max_connections, o->max_host_connections);
    s->pool_cap = o->max_connections ? o->max_connections : DEFAULT_POOL;
    *out = s;
    return 0;
}

void cio_http_session_unref(cio_http_session *s)
{
    if (--s->refs == 0)
        session_free(s);
}

void cio_http_session_close(cio_http_session *s)
{
    if (s)
        cio_http_session_unref(s);
}

/* ---- headers ------------------------------------------------------------------ */

/* The length of a "Name: value" line's name. */
static size_t name_len(const char *line)
{
    const char *c = strchr(line, ':');
    return c ? (size_t)(c - line) : strlen(line);
}

static bool has_header(const char *const *v, const char *line)
{
    size_t n = name_len(line);
    for (; v && *v; v++)
        if (name_len(*v) == n && strncasecmp(*v, line, n) == 0)
            return true;
    return false;
}

static int append(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);
    if (!l)
        return -ENOMEM;
    *list = l;
    return 0;
}

/* The request's headers, then the session's it does not replace; and no
 * "Expect: 100-continue" unless asked (a server that does not answer it
 * costs a second: the wait is libcurl's). */
static int build_headers(cio_http_response *r, const cio_http_request *req)
{
    const char *const *mine = req->headers;
    for (const char *const *h = mine; h && *h; h++)
        if (append(&r->req_headers, *h) < 0)
            return -ENOMEM;
    for (char **h = r->session->headers; *h; h++)
        if (!has_header(mine, *h) && append(&r->req_headers, *h) < 0)
            return -ENOMEM;
    if (!has_header(mine, "Expect:") &&
        !has_header((const char *const *)r->session->headers, "Expect:") &&
        append(&r->req_headers, "Expect:") < 0)
        return -ENOMEM;
    return 0;
}

/* ---- bodies ------------------------------------------------------------------- */

static int body_kinds(const cio_http_request *req)
{
    return (req->body != NULL) + (req->body_fn != NULL) + (req->body_path != NULL) +
           req->use_body_fd;
}

/* The upload source and its size (-1: unknown, sent chunked). */
static int setup_upload(cio_http_response *r, const cio_http_request *req, int64_t *size)
{
    *size = -1;
    if (req->body) {
        r->up_kind = UP_BYTES;
        r->up = malloc(req->body_len ? req->body_len : 1);
        if (!r->up)
            return -ENOMEM;
        memcpy(r->up, req->body, req->body_len);
        r->up_len = req->body_len;
        *size = (int64_t)req->body_len;
    } else if (req->body_fn) {
        r->up_kind = UP_FN;
        r->up_fn = req->body_fn;
        r->up_arg = req->body_arg;
        *size = req->body_size >= 0 ? req->body_size : -1;
    } else {
        r->up_kind = UP_FD;
        if (req->body_path) {
            r->up_fd = open(req->body_path, O_RDONLY | O_CLOEXEC);
            if (r->up_fd < 0)
                return -errno;
            r->up_own_fd = true;
        } else {
            r->up_fd = req->body_fd;
        }
        struct stat st;
        off_t at = lseek(r->up_fd, 0, SEEK_CUR);
        if (fstat(r->up_fd, &st) == 0 && S_ISREG(st.st_mode) && at >= 0)
            *size = st.st_size - at;
        r->up_off = at >= 0 ? (size_t)at : 0;   /* where a rewind goes back to */
    }
    return 0;
}

static int set_method(cio_http_response *r, const cio_http_request *req)
{
    CURL *e = r->easy;
    bool body = body_kinds(req) > 0;
    const char *m = req->method ? req->method : body ? "POST" : "GET";
    if (body) {
        int64_t size;
        int rc = setup_upload(r, req, &size);
        if (rc < 0)
            return rc;
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, cio_http_on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, r);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, cio_http_on_seek);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, r);
    }
    if (strcasecmp(m, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (strcmp(m, body ? "PUT" : "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    return 0;
}

/* ---- the easy handle ---------------------------------------------------------- */

static long ms(int64_t ns)
{
    int64_t v = ns / 1000000;
    return v < 1 ? 1 : v > LONG_MAX ? LONG_MAX : (long)v;
}

static void set_common(cio_http_response *r, const cio_http_request *req)
{
    cio_http_session *s = r->session;
    CURL *e = r->easy;
    int redirects = req->max_redirects ? req->max_redirects : s->max_redirects;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, cio_http_on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, cio_http_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");       /* all libcurl decodes */
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, s->http1_only ? (long)CURL_HTTP_VERSION_1_1
                                                           : (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    r->following = redirects > 0;
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, r->following ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)(redirects > 0 ? redirects : 0));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms(s->connect_timeout));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, s->insecure ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, s->insecure ? 0L : 2L);
    if (s->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
    curl_easy_setopt(e, CURLOPT_USERAGENT, s->user_agent);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->req_headers);
    /* Proxies: libcurl reads http_proxy, https_proxy, no_proxy... itself. */
}

int cio_http_easy_setup(cio_http_response *r, const cio_http_request *req)
{
    if (!req || !req->url || body_kinds(req) > 1)
        return -EINVAL;
    cio_http_session *s = r->session;
    r->easy = s->npool ? s->pool[--s->npool] : curl_easy_init();
    if (!r->easy)
        return -ENOMEM;
    int rc = build_headers(r, req);
    if (rc < 0)
        return rc;
    set_common(r, req);
    return set_method(r, req);
}

void cio_http_easy_release(cio_http_response *r)
{
    CURL *e = r->easy;
    cio_http_session *s = r->session;
    if (!e)
        return;
    r->easy = NULL;
    if (!s->pool)
        s->pool = malloc(s->pool_cap * sizeof *s->pool);
    if (!s->pool || s->npool == s->pool_cap) {
        curl_easy_cleanup(e);   /* pool full (or no memory for it) */
        return;
    }
    curl_easy_reset(e);
    s->pool[s->npool++] = e;
}
