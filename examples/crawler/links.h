/* links.h — the links of an HTML page, found by a real HTML5 parser
 * (gumbo), resolved against the page's URL or its <base href>, normalized
 * (url.h) and deduplicated within the page. */
#ifndef CRAWLER_LINKS_H
#define CRAWLER_LINKS_H

#include <stddef.h>

typedef struct link_list {
    char **urls;            /* malloc'd, normalized http(s) URLs */
    size_t n, cap;
} link_list;

/* Parse html (len bytes) and collect the href of every <a> and <area>
 * (links to follow), resolved against page_url, or against the first
 * <base href> if there is one. Links that are not http(s) (mailto:,
 * javascript:...), malformed ones and those marked rel="nofollow" are
 * dropped. Returns 0 or -ENOMEM; free the list with links_free either
 * way. Runs on the caller's stack: gumbo recurses when freeing a deep
 * tree, so give the task a generous stack (crawl.c does). */
int links_extract(const char *html, size_t len, const char *page_url, link_list *out);

void links_free(link_list *l);

/* Is this Content-Type HTML (text/html, application/xhtml+xml)? */
int links_is_html(const char *content_type);

#endif
