/* robots.h — robots.txt (RFC 9309): parse the rules that apply to one
 * user agent, and match paths against them.
 *
 * The groups whose User-agent names our product token (case-insensitive)
 * apply, merged if several do; if none does, the "*" groups do; if there
 * are none, everything is allowed. Of the Allow and Disallow rules that
 * match a path, the longest pattern wins, and Allow wins a tie. Patterns
 * may use '*' (any run of characters) and a final '$' (the end of the
 * path). An empty Disallow is no rule. "/robots.txt" is always allowed.
 * Crawl-delay (not in the RFC, common) is kept for the chosen groups. */
#ifndef CRAWLER_ROBOTS_H
#define CRAWLER_ROBOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct robots_rule {
    char *pattern;
    bool allow;
} robots_rule;

typedef struct robots {
    robots_rule *rules;
    size_t n, cap;
    bool deny_all;          /* robots.txt unreachable (5xx): nothing allowed */
    int64_t crawl_delay;    /* ns, 0: none */
} robots;

/* The product token of a User-Agent header: "cio-crawl" of
 * "cio-crawl/0.1 (+https://...)", in out (lower case). */
void robots_agent_token(const char *user_agent, char *out, size_t cap);

/* Parse text (len bytes, need not end in '\0') for agent (a product
 * token). Returns 0 or -ENOMEM (r is then empty: free it anyway). */
int robots_parse(robots *r, const char *text, size_t len, const char *agent);

/* No rules: everything allowed (robots.txt missing: 4xx). */
void robots_init_allow_all(robots *r);
/* Nothing allowed (robots.txt answered 5xx or could not be fetched). */
void robots_init_deny_all(robots *r);

/* Whether target ("/path?query") may be fetched. */
bool robots_allowed(const robots *r, const char *target);

/* Does pattern match the start of path (with '*' and a final '$')? */
bool robots_match(const char *pattern, const char *path);

void robots_free(robots *r);

#endif
