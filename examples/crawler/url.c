/* url.c — URL resolution and parts with libcurl's CURLU. */
#include "url.h"

#include <ctype.h>
#include <stdbool.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int curlu_error(CURLUcode uc)
{
    return uc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

/* Parse url into a new handle (resolved against base if given). */
static int parse(const char *base, const char *ref, CURLU **out)
{
    CURLU *h = curl_url();
    if (!h)
        return -ENOMEM;
    CURLUcode uc = CURLUE_OK;
    if (base)
        uc = curl_url_set(h, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME);
    if (uc == CURLUE_OK)
        uc = curl_url_set(h, CURLUPART_URL, ref, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        curl_url_cleanup(h);
        return curlu_error(uc);
    }
    *out = h;
    return 0;
}

static int check_scheme(CURLU *h)
{
    char *scheme = NULL;
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
        return -EINVAL;
    int ok = strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0;
    curl_free(scheme);
    return ok ? 0 : -EPROTONOSUPPORT;
}

static int lower_host(CURLU *h)
{
    char *host = NULL;
    if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
        curl_free(host);
        return -EINVAL;
    }
    for (char *c = host; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    CURLUcode uc = curl_url_set(h, CURLUPART_HOST, host, 0);
    curl_free(host);
    return uc == CURLUE_OK ? 0 : curlu_error(uc);
}

/* A copy of a curl string with malloc, so callers free() it. */
static int take(char *s, char **out)
{
    *out = strdup(s);
    curl_free(s);
    return *out ? 0 : -ENOMEM;
}

/* A reference with a scheme ("mailto:x", "javascript:...") is absolute:
 * curl would take one without "//" for a relative path. Returns its scheme
 * length, or 0. */
static size_t scheme_len(const char *ref)
{
    if (!isalpha((unsigned char)ref[0]))
        return 0;
    size_t n = 1;
    while (isalnum((unsigned char)ref[n]) || ref[n] == '+' || ref[n] == '-' || ref[n] == '.')
        n++;
    return ref[n] == ':' ? n : 0;
}

int url_resolve(const char *base, const char *ref, char **out)
{
    size_t sl = scheme_len(ref);
    if (sl && !((sl == 4 && strncasecmp(ref, "http", 4) == 0) ||
                (sl == 5 && strncasecmp(ref, "https", 5) == 0)))
        return -EPROTONOSUPPORT;
    CURLU *h;
    int rc = parse(base, ref, &h);
    if (rc < 0)
        return rc;
    if ((rc = check_scheme(h)) == 0 && (rc = lower_host(h)) == 0) {
        curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0);
        char *s = NULL;
        CURLUcode uc = curl_url_get(h, CURLUPART_URL, &s, CURLU_NO_DEFAULT_PORT);
        rc = uc == CURLUE_OK ? take(s, out) : curlu_error(uc);
    }
    curl_url_cleanup(h);
    return rc;
}

static char *take_or_null(char *s, bool *oom)
{
    char *copy = s ? strdup(s) : NULL;
    if (s && !copy)
        *oom = true;
    curl_free(s);
    return copy;
}

static char *join3(const char *a, const char *b, const char *c)
{
    size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
    char *s = malloc(na + nb + nc + 1);
    if (s) {
        memcpy(s, a, na);
        memcpy(s + na, b, nb);
        memcpy(s + na + nb, c, nc + 1);
    }
    return s;
}

/* Everything from one parse: a fetched page needs its origin (the host
 * state), its target (robots.txt) and its host and port (the file name). */
int url_split(const char *url, url_parts *out)
{
    *out = (url_parts){ 0 };
    CURLU *h;
    int rc = parse(NULL, url, &h);
    if (rc < 0)
        return rc;
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    char *written = NULL;
    bool oom = false;
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        rc = -EINVAL;
        goto done;
    }
    for (char *c = host; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (curl_url_get(h, CURLUPART_PORT, &written, 0) == CURLUE_OK)
        out->port = take_or_null(written, &oom);
    if (curl_url_get(h, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
        query = NULL;
    size_t n = strlen(scheme) + strlen(host) + strlen(port) + 5;
    if ((out->origin = malloc(n)))
        snprintf(out->origin, n, "%s://%s:%s", scheme, host, port);
    out->host = strdup(host);
    out->target = join3(*path ? path : "/", query ? "?" : "", query ? query : "");
    if (oom || !out->origin || !out->host || !out->target)
        rc = -ENOMEM;
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(h);
    if (rc < 0)
        url_parts_free(out);
    return rc;
}

void url_parts_free(url_parts *p)
{
    free(p->origin);
    free(p->host);
    free(p->port);
    free(p->target);
    *p = (url_parts){ 0 };
}

int url_host(const char *url, char **out)
{
    CURLU *h;
    int rc = parse(NULL, url, &h);
    if (rc < 0)
        return rc;
    char *host = NULL;
    if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = -EINVAL;
    } else {
        for (char *c = host; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        rc = take(host, out);
    }
    curl_url_cleanup(h);
    return rc;
}
