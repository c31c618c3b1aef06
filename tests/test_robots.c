/* test_robots.c — the crawler's pure parts: robots.txt parsing and
 * matching (RFC 9309), link extraction with gumbo, URL normalization, safe
 * file names, the URL set. No loop, no network. */
#include "helpers.h"

#include "json.h"
#include "links.h"
#include "robots.h"
#include "save.h"
#include "url.h"
#include "urlset.h"

static robots parse(const char *text, const char *agent)
{
    robots r;
    cr_assert_eq(robots_parse(&r, text, strlen(text), agent), 0);
    return r;
}

Test(robots, patterns)
{
    cr_assert(robots_match("/a", "/a/b"));
    cr_assert(robots_match("/a", "/abc"));
    cr_assert_not(robots_match("/a", "/"));
    cr_assert(robots_match("/*.php", "/x/y.php?q=1"));
    cr_assert(robots_match("/*.php$", "/x/y.php"));
    cr_assert_not(robots_match("/*.php$", "/x/y.php?q=1"));
    cr_assert(robots_match("/a$", "/a"));
    cr_assert_not(robots_match("/a$", "/ab"));
    cr_assert(robots_match("*", "/anything"));
    cr_assert(robots_match("/a*b*c", "/axxbyyc"));
    cr_assert_not(robots_match("/a*b*c", "/axxbyy"));
}

Test(robots, longest_match_wins_and_allow_wins_ties)
{
    robots r = parse("User-agent: *\nDisallow: /private\nAllow: /private/open\n"
                     "Disallow: /same\nAllow: /same\n", "cio-crawl");
    cr_assert_not(robots_allowed(&r, "/private/secret"));
    cr_assert(robots_allowed(&r, "/private/open/x"));
    cr_assert(robots_allowed(&r, "/same"));
    cr_assert(robots_allowed(&r, "/public"));
    cr_assert(robots_allowed(&r, "/robots.txt"));
    robots_free(&r);

    r = parse("User-agent: *\nAllow: /*.html$\nDisallow: /\n", "cio-crawl");
    cr_assert(robots_allowed(&r, "/a/page.html"));
    cr_assert_not(robots_allowed(&r, "/a/page.html?x"));
    cr_assert_not(robots_allowed(&r, "/a/"));
    robots_free(&r);
}

Test(robots, our_group_replaces_star_and_groups_merge)
{
    const char *txt =
        "# comment\n"
        "User-agent: *\n"
        "Disallow: /\n"
        "\n"
        "User-agent: other\n"
        "User-agent: CIO-Crawl/2.0\n"       /* case-insensitive, version ignored */
        "Disallow: /a   # trailing comment\n"
        "Crawl-delay: 1.5\n"
        "\n"
        "User-agent: cio-crawl\n"
        "Disallow: /b\n";
    robots r = parse(txt, "cio-crawl");
    cr_assert_not(robots_allowed(&r, "/a/x"));
    cr_assert_not(robots_allowed(&r, "/b"));
    cr_assert(robots_allowed(&r, "/c"));    /* the * group does not apply */
    cr_assert_eq(r.crawl_delay, 1500 * CIO_MS);
    robots_free(&r);

    r = parse(txt, "somebot");              /* not named: the * group */
    cr_assert_not(robots_allowed(&r, "/c"));
    robots_free(&r);
}

Test(robots, empty_disallow_and_no_groups_allow_all)
{
    robots r = parse("User-agent: *\nDisallow:\n", "x");
    cr_assert(robots_allowed(&r, "/anything"));
    robots_free(&r);
    r = parse("Disallow: /\n", "x");        /* a rule outside any group */
    cr_assert(robots_allowed(&r, "/"));
    robots_free(&r);
    r = parse("", "x");
    cr_assert(robots_allowed(&r, "/"));
    robots_free(&r);
    robots_init_deny_all(&r);
    cr_assert_not(robots_allowed(&r, "/"));
    cr_assert(robots_allowed(&r, "/robots.txt"));
    robots_free(&r);
}

Test(robots, agent_token)
{
    char tok[32];
    robots_agent_token("Cio-Crawl/0.1 (+https://example.org)", tok, sizeof tok);
    cr_assert_str_eq(tok, "cio-crawl");
}

Test(url, resolve_and_normalize)
{
    char *u;
    cr_assert_eq(url_resolve("http://Example.ORG:80/a/b/c.html", "../d?x=1#frag", &u), 0);
    cr_assert_str_eq(u, "http://example.org/a/d?x=1");
    free(u);
    cr_assert_eq(url_resolve(NULL, "HTTPS://h.org", &u), 0);
    cr_assert_str_eq(u, "https://h.org/");
    free(u);
    cr_assert_eq(url_resolve("http://h/a/", "//other:8080/x", &u), 0);
    cr_assert_str_eq(u, "http://other:8080/x");
    free(u);
    cr_assert_eq(url_resolve("http://h/", "mailto:a@b", &u), -EPROTONOSUPPORT);
    cr_assert_eq(url_resolve(NULL, "ftp://h/x", &u), -EPROTONOSUPPORT);
    cr_assert_lt(url_resolve(NULL, "not a url", &u), 0);
    url_parts p;
    cr_assert_eq(url_split("http://h.org/x/y?q=1", &p), 0);
    cr_assert_str_eq(p.origin, "http://h.org:80");
    cr_assert_str_eq(p.target, "/x/y?q=1");
    url_parts_free(&p);
}

static link_list extract(const char *html, const char *page)
{
    link_list l;
    cr_assert_eq(links_extract(html, strlen(html), page, &l), 0);
    return l;
}

Test(links, relative_absolute_dedup_and_schemes)
{
    link_list l = extract(
        "<html><body><p><a href='a'>1</a> <A HREF=\"/b#x\">2</A>\n"
        "<a href=\"b\">same as /b? no: /dir/b</a> <a href=/b>dup</a>\n"
        "<a href='mailto:x@y'>m</a> <a href='javascript:void(0)'>j</a>\n"
        "<a name=anchor>no href</a> <area href='https://o.org/z'>\n"
        "<a href='c' rel='nofollow'>skip</a>\n"
        "<!-- <a href='commented'>no</a> -->\n"
        "<script>var s = '<a href=\"in-script\">';</script>\n"
        "<a href='  /spaced  '>s</a>\n"
        "</body></html>", "http://h.org/dir/page");
    const char *want[] = { "http://h.org/dir/a", "http://h.org/b", "http://h.org/dir/b",
                           "https://o.org/z", "http://h.org/spaced" };
    cr_assert_eq(l.n, sizeof want / sizeof want[0], "got %zu links", l.n);
    for (size_t i = 0; i < l.n; i++)
        cr_assert_str_eq(l.urls[i], want[i]);
    links_free(&l);
}

Test(links, base_href)
{
    link_list l = extract("<head><base href='/base/'></head><a href='x'>x</a>"
                          "<base href='/ignored/'>", "http://h.org/dir/page");
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.urls[0], "http://h.org/base/x");
    links_free(&l);
}

Test(links, malformed_html_and_deep_nesting)
{
    /* Unclosed tags, stray '<': the HTML5 parser recovers as browsers do. */
    link_list l = extract("<div><p><a href=one>one<a href=two>two</div></p> < <a href=three>",
                          "http://h/");
    cr_assert_eq(l.n, 3);
    links_free(&l);
    size_t depth = 5000, len = depth * 5 + 64;     /* on this thread's big stack */
    char *html = malloc(len), *p = html;
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "<div>");
    sprintf(p, "<a href=deep>d</a>");
    l = extract(html, "http://h/");
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.urls[0], "http://h/deep");
    links_free(&l);
    free(html);
}

Test(links, content_types)
{
    cr_assert(links_is_html("text/html; charset=utf-8"));
    cr_assert(links_is_html("application/xhtml+xml"));
    cr_assert_not(links_is_html("text/plain"));
    cr_assert_not(links_is_html(NULL));
}

/* save_name of url, split first as the crawler does. */
static int name_of(const char *url, const char *ct, char *out, size_t cap)
{
    url_parts u;
    int rc = url_split(url, &u);
    if (rc == 0)
        rc = save_name(url, &u, ct, out, cap);
    url_parts_free(&u);
    return rc;
}

Test(url, split_gives_every_part_from_one_parse)
{
    url_parts u;
    cr_assert_eq(url_split("http://Ex.ORG:8080/a/b?q=1#f", &u), 0);
    cr_assert_str_eq(u.origin, "http://ex.org:8080");
    cr_assert_str_eq(u.host, "ex.org");
    cr_assert_str_eq(u.port, "8080");
    cr_assert_str_eq(u.target, "/a/b?q=1");
    url_parts_free(&u);
    cr_assert_eq(url_split("https://h.org", &u), 0);
    cr_assert_str_eq(u.origin, "https://h.org:443", "the default port is written");
    cr_assert_null(u.port, "no port in the URL");
    cr_assert_str_eq(u.target, "/");
    url_parts_free(&u);
    cr_assert_eq(url_split("not a url", &u), -EINVAL);
    cr_assert_null(u.origin);
    cr_assert_null(u.target);
}

Test(save, names_are_safe_bounded_and_distinct)
{
    char a[300], b[300];
    cr_assert_eq(name_of("http://Example.org/a/b.html?x=1", "text/html", a, sizeof a), 0);
    cr_assert(strncmp(a, "example.org/a_b.html_x_1-", 25) == 0, "%s", a);
    cr_assert(strstr(a, ".html"));
    cr_assert_eq(name_of("http://h:8080/../../etc/passwd", "text/plain", a, sizeof a), 0);
    cr_assert(strncmp(a, "h_8080/etc_passwd-", 18) == 0, "%s", a);
    cr_assert_null(strstr(a, ".."));
    cr_assert_eq(strchr(a, '/'), strrchr(a, '/'), "one directory level: %s", a);
    /* Two URLs that sanitize alike get two names. */
    cr_assert_eq(name_of("http://h/a?b", "text/html", a, sizeof a), 0);
    cr_assert_eq(name_of("http://h/a%3Fb", "text/html", b, sizeof b), 0);
    cr_assert_str_neq(a, b);
    /* A very long path is cut, the hash keeps it unique. */
    char url[3000] = "http://h/";
    memset(url + 9, 'x', 2500);
    cr_assert_eq(name_of(url, NULL, a, sizeof a), 0);
    cr_assert_lt(strlen(a), 120);
    cr_assert_eq(name_of("http://h/", "image/png", a, sizeof a), 0);
    cr_assert(strncmp(a, "h/index-", 8) == 0 && strstr(a, ".png"), "%s", a);
    cr_assert_eq(name_of("http://h/.hidden", NULL, a, sizeof a), 0);
    cr_assert(strncmp(a, "h/_hidden-", 10) == 0, "%s", a);
}

Test(json, strings_are_escaped_and_appended_whole)
{
    jbuf b = { 0 };
    jbuf_string(&b, "plain");
    jbuf_append(&b, ",", 1);
    jbuf_string(&b, "q\"b\\c\n\x01" "end");
    jbuf_append(&b, ",", 1);
    jbuf_string(&b, NULL);
    jbuf_printf(&b, ",%d,%s", 42, "x");
    cr_assert_not(b.oom);
    cr_assert_str_eq(b.s, "\"plain\",\"q\\\"b\\\\c\\u000a\\u0001end\",null,42,x");
    cr_assert_eq(b.len, strlen(b.s));
    /* Longer than the first allocation: formatted again after growing. */
    char big[1000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    size_t before = b.len;
    jbuf_printf(&b, "%s", big);
    cr_assert_eq(b.len, before + 999);
    cr_assert_eq(strcmp(b.s + before, big), 0);
    jbuf_free(&b);
}

Test(urlset, add_has_grow)
{
    urlset s;
    urlset_init(&s);
    char k[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof k, "http://h/%d", i);
        cr_assert_eq(urlset_add(&s, k), 1);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof k, "http://h/%d", i);
        cr_assert_eq(urlset_add(&s, k), 0);
        cr_assert(urlset_has(&s, k));
    }
    cr_assert_not(urlset_has(&s, "http://h/1000"));
    cr_assert_eq(urlset_size(&s), 1000);
    urlset_free(&s);
}
