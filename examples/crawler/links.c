/* links.c — link extraction with gumbo, resolution with CURLU. */
#include "links.h"
#include "url.h"
#include "urlset.h"

#include <errno.h>
#include <gumbo.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void links_free(link_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->urls[i]);
    free(l->urls);
    *l = (link_list){ 0 };
}

int links_is_html(const char *ct)
{
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, "text/html", 9) == 0 ||
           strncasecmp(ct, "application/xhtml+xml", 21) == 0;
}

static int push(link_list *l, char *url)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **u = realloc(l->urls, cap * sizeof *u);
        if (!u)
            return -ENOMEM;
        l->urls = u;
        l->cap = cap;
    }
    l->urls[l->n++] = url;
    return 0;
}

/* Does a rel attribute's token list contain "nofollow"? */
static bool is_nofollow(const GumboElement *el)
{
    const GumboAttribute *rel = gumbo_get_attribute(&el->attributes, "rel");
    if (!rel)
        return false;
    for (const char *p = rel->value; (p = strcasestr(p, "nofollow")); p += 8) {
        bool start = p == rel->value || p[-1] == ' ';
        bool end = p[8] == '\0' || p[8] == ' ';
        if (start && end)
            return true;
    }
    return false;
}

/* The first <base href> of the document, or NULL. Walks the tree with an
 * explicit stack (no recursion: nesting depth is the page's choice). */
typedef struct walk {
    const GumboNode **stack;
    size_t n, cap;
} walk;

static int walk_push(walk *w, const GumboNode *node)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        const GumboNode **s = realloc(w->stack, cap * sizeof *s);
        if (!s)
            return -ENOMEM;
        w->stack = s;
        w->cap = cap;
    }
    w->stack[w->n++] = node;
    return 0;
}

/* Push an element's children in reverse, so they pop in document order. */
static int walk_children(walk *w, const GumboNode *node)
{
    const GumboVector *kids = &node->v.element.children;
    for (size_t i = kids->length; i-- > 0;) {
        const GumboNode *k = kids->data[i];
        if (k->type == GUMBO_NODE_ELEMENT || k->type == GUMBO_NODE_TEMPLATE)
            if (walk_push(w, k) < 0)
                return -ENOMEM;
    }
    return 0;
}

static const char *find_base(const GumboNode *root, walk *w)
{
    w->n = 0;
    if (walk_push(w, root) < 0)
        return NULL;
    while (w->n) {
        const GumboNode *node = w->stack[--w->n];
        const GumboElement *el = &node->v.element;
        if (el->tag == GUMBO_TAG_BASE) {
            const GumboAttribute *href = gumbo_get_attribute(&el->attributes, "href");
            if (href)
                return href->value;
        }
        if (walk_children(w, node) < 0)
            return NULL;
    }
    return NULL;
}

/* Resolve href and add it unless seen in this page or unusable. */
static int add_link(link_list *out, urlset *seen, const char *base, const char *href)
{
    /* The URL parser drops leading and trailing spaces and controls. */
    while (*href && (unsigned char)*href <= ' ')
        href++;
    size_t n = strlen(href);
    while (n && (unsigned char)href[n - 1] <= ' ')
        n--;
    char *trimmed = strndup(href, n), *url;
    if (!trimmed)
        return -ENOMEM;
    int rc = url_resolve(base, trimmed, &url);
    free(trimmed);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0)
        return 0;                           /* mailto:, garbage... dropped */
    rc = urlset_add(seen, url);
    if (rc == 1 && (rc = push(out, url)) == 0)
        return 0;
    free(url);
    return rc < 0 ? rc : 0;
}

static int collect(const GumboNode *root, const char *base, link_list *out, walk *w)
{
    urlset seen;
    urlset_init(&seen);
    int rc = 0;
    w->n = 0;
    rc = walk_push(w, root);
    while (rc == 0 && w->n) {
        const GumboNode *node = w->stack[--w->n];
        const GumboElement *el = &node->v.element;
        if (el->tag == GUMBO_TAG_A || el->tag == GUMBO_TAG_AREA) {
            const GumboAttribute *href = gumbo_get_attribute(&el->attributes, "href");
            if (href && !is_nofollow(el))
                rc = add_link(out, &seen, base, href->value);
        }
        if (rc == 0)
            rc = walk_children(w, node);
    }
    urlset_free(&seen);
    return rc;
}

int links_extract(const char *html, size_t len, const char *page_url, link_list *out)
{
    *out = (link_list){ 0 };
    GumboOptions opts = kGumboDefaultOptions;
    opts.max_errors = 16;                   /* errors are kept in memory */
    GumboOutput *doc = gumbo_parse_with_options(&opts, html, len);
    if (!doc)
        return -ENOMEM;
    walk w = { 0 };
    int rc = 0;
    char *base = NULL;
    const char *base_href = find_base(doc->root, &w);
    if (base_href && url_resolve(page_url, base_href, &base) < 0)
        base = NULL;                        /* a useless <base>: the page's URL */
    rc = collect(doc->root, base ? base : page_url, out, &w);
    free(base);
    free(w.stack);
    gumbo_destroy_output(&opts, doc);
    return rc;
}
