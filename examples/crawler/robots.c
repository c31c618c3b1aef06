/* robots.c — a robots.txt parser and matcher (RFC 9309). */
#include "robots.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void robots_agent_token(const char *ua, char *out, size_t cap)
{
    size_t n = 0;
    while (ua[n] && ua[n] != '/' && !isspace((unsigned char)ua[n]) && n + 1 < cap) {
        out[n] = (char)tolower((unsigned char)ua[n]);
        n++;
    }
    out[n] = '\0';
}

void robots_init_allow_all(robots *r)
{
    *r = (robots){ 0 };
}

void robots_init_deny_all(robots *r)
{
    *r = (robots){ .deny_all = true };
}

void robots_free(robots *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->rules[i].pattern);
    free(r->rules);
    *r = (robots){ 0 };
}

static int add_rule(robots *r, const char *pat, size_t len, bool allow)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        robots_rule *rules = realloc(r->rules, cap * sizeof *rules);
        if (!rules)
            return -ENOMEM;
        r->rules = rules;
        r->cap = cap;
    }
    char *p = strndup(pat, len);
    if (!p)
        return -ENOMEM;
    r->rules[r->n++] = (robots_rule){ .pattern = p, .allow = allow };
    return 0;
}

/* One "field: value" line, comment and blanks removed. */
typedef struct line {
    const char *key, *val;
    size_t key_len, val_len;
} line;

static bool split_line(const char *s, size_t n, line *l)
{
    const char *hash = memchr(s, '#', n);
    if (hash)
        n = (size_t)(hash - s);
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return false;
    const char *k = s, *ke = colon, *v = colon + 1, *ve = s + n;
    while (k < ke && isspace((unsigned char)*k))
        k++;
    while (ke > k && isspace((unsigned char)ke[-1]))
        ke--;
    while (v < ve && isspace((unsigned char)*v))
        v++;
    while (ve > v && isspace((unsigned char)ve[-1]))
        ve--;
    *l = (line){ k, v, (size_t)(ke - k), (size_t)(ve - v) };
    return l->key_len > 0;
}

static bool key_is(const line *l, const char *name)
{
    return l->key_len == strlen(name) && strncasecmp(l->key, name, l->key_len) == 0;
}

/* A User-agent value names agent: its product token, case-insensitive. */
static bool agent_matches(const line *l, const char *agent)
{
    size_t n = 0;
    while (n < l->val_len && l->val[n] != '/' && !isspace((unsigned char)l->val[n]))
        n++;
    return n && n == strlen(agent) && strncasecmp(l->val, agent, n) == 0;
}

/* Rules for agent and for "*", collected side by side; the parse keeps
 * the agent's if any group named it. */
typedef struct parse_state {
    robots mine, star;
    bool named_me, named_star;      /* some group did */
    bool cur_me, cur_star;          /* the current group does */
    bool in_agents;                 /* the last field was a User-agent */
} parse_state;

static int take_line(parse_state *ps, const line *l, const char *agent)
{
    if (key_is(l, "user-agent")) {
        if (!ps->in_agents)
            ps->cur_me = ps->cur_star = false;   /* a new group starts */
        ps->in_agents = true;
        if (agent_matches(l, agent))
            ps->cur_me = ps->named_me = true;
        else if (l->val_len == 1 && l->val[0] == '*')
            ps->cur_star = ps->named_star = true;
        return 0;
    }
    ps->in_agents = false;
    bool allow = key_is(l, "allow");
    if (allow || key_is(l, "disallow")) {
        if (l->val_len == 0)
            return 0;                       /* "Disallow:" allows all */
        int rc = 0;
        if (ps->cur_me)
            rc = add_rule(&ps->mine, l->val, l->val_len, allow);
        if (rc == 0 && ps->cur_star)
            rc = add_rule(&ps->star, l->val, l->val_len, allow);
        return rc;
    }
    if (key_is(l, "crawl-delay")) {
        double s = strtod(l->val, NULL);    /* stops at the value's end */
        int64_t ns = s > 0 && s < 86400 ? (int64_t)(s * 1e9) : 0;
        if (ps->cur_me)
            ps->mine.crawl_delay = ns;
        if (ps->cur_star)
            ps->star.crawl_delay = ns;
    }
    return 0;                               /* sitemap, unknown fields */
}

int robots_parse(robots *r, const char *text, size_t len, const char *agent)
{
    parse_state ps = { 0 };
    int rc = 0;
    for (size_t at = 0; at < len && rc == 0;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        line l;
        if (split_line(text + at, n, &l))
            rc = take_line(&ps, &l, agent);
        at += n + 1;
    }
    if (rc == 0 && ps.named_me) {
        *r = ps.mine;
        robots_free(&ps.star);
    } else {
        *r = ps.star;
        robots_free(&ps.mine);
        if (rc < 0)
            robots_free(r);
    }
    return rc;
}

/* Glob match of pattern against the start of path: '*' matches any run,
 * a '$' ending the pattern matches only at the end. Greedy with one
 * backtrack point, linear-ish, no recursion. */
bool robots_match(const char *pat, const char *path)
{
    const char *p = pat, *s = path;
    const char *star_p = NULL, *star_s = NULL;
    for (;;) {
        if (*p == '$' && p[1] == '\0') {
            if (*s == '\0')
                return true;
        } else if (*p == '\0') {
            return true;                    /* a prefix match */
        } else if (*p == '*') {
            star_p = ++p;
            star_s = s;
            continue;
        } else if (*s && *p == *s) {
            p++;
            s++;
            continue;
        }
        if (!star_p || !*star_s)
            return false;
        p = star_p;                         /* let the last '*' eat one more */
        s = ++star_s;
    }
}

/* A pattern's length for the longest-match rule: its octets. */
bool robots_allowed(const robots *r, const char *target)
{
    if (strcmp(target, "/robots.txt") == 0)
        return true;
    if (r->deny_all)
        return false;
    size_t best = 0;
    bool allow = true;
    for (size_t i = 0; i < r->n; i++) {
        const robots_rule *ru = &r->rules[i];
        size_t len = strlen(ru->pattern);
        if (!robots_match(ru->pattern, target))
            continue;
        if (len > best || (len == best && ru->allow)) {
            best = len;
            allow = ru->allow;
        }
    }
    return allow;
}
