/* url.h — URLs through libcurl's URL API (CURLU): resolution against a
 * base, normalization, the parts the crawler keys on. */
#ifndef CRAWLER_URL_H
#define CRAWLER_URL_H

/* Resolve ref against base (NULL: ref must be absolute) and normalize it:
 * http and https only, the fragment dropped, scheme and host in lower
 * case, a default port removed, dot segments resolved, an empty path made
 * "/". *out is malloc'd. Returns 0, -EINVAL (not a URL),
 * -EPROTONOSUPPORT (another scheme), -ENOMEM. */
int url_resolve(const char *base, const char *ref, char **out);

/* A URL's parts from one parse, each malloc'd (url_parts_free). */
typedef struct url_parts {
    char *origin;   /* "scheme://host:port", the port always written: one
                       per server, the key of the per-host state */
    char *host;     /* as url_host */
    char *port;     /* the port as written in the URL, or NULL (none) */
    char *target;   /* the path and query ("/a/b?x=1"): what robots.txt
                       rules match */
} url_parts;

/* 0, -EINVAL, -ENOMEM (then *out holds nothing). */
int url_split(const char *url, url_parts *out);
void url_parts_free(url_parts *p);

/* The host name alone, lower case ("example.org"): what the same-host rule
 * compares. *out is malloc'd. 0, -EINVAL, -ENOMEM. */
int url_host(const char *url, char **out);

#endif
