/* save.c — safe file names, atomic page writes, the index. */
#include "save.h"
#include "json.h"
#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_STEM_MAX 80

int saver_open(saver *s, const char *dir)
{
    *s = (saver){ 0 };
    urlset_init(&s->dirs);
    if (!(s->dir = strdup(dir)))
        return -ENOMEM;
    int rc = cio_mkdir_all(dir, 0755);
    char path[4096];
    if (rc == 0 && snprintf(path, sizeof path, "%s/index.jsonl", dir) >= (int)sizeof path)
        rc = -ENAMETOOLONG;
    if (rc == 0)
        rc = cio_file_open(&s->index, path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (rc < 0)
        saver_close(s);
    return rc;
}

void saver_close(saver *s)
{
    if (s->index)
        cio_file_close(s->index);
    free(s->dir);
    urlset_free(&s->dirs);
    *s = (saver){ 0 };
}

static bool safe_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

/* Copy src into dst (cap >= max + 1) with unsafe characters as '_', runs
 * of '_' squeezed, at most max characters; a leading '.' becomes '_' (no
 * hidden files, no "." or ".."). */
static void sanitize(const char *src, char *dst, size_t max)
{
    size_t n = 0;
    for (const char *p = src; *p && n < max; p++) {
        char c = safe_char(*p) ? *p : '_';
        if (c == '_' && n && dst[n - 1] == '_')
            continue;
        dst[n++] = c;
    }
    if (n && dst[0] == '.')
        dst[0] = '_';
    dst[n] = '\0';
}

static const char *extension(const char *ct)
{
    static const struct { const char *type, *ext; } map[] = {
        { "text/html", "html" }, { "application/xhtml+xml", "html" },
        { "text/plain", "txt" }, { "text/css", "css" }, { "application/json", "json" },
        { "text/xml", "xml" }, { "application/xml", "xml" }, { "image/png", "png" },
        { "image/jpeg", "jpg" }, { "image/gif", "gif" }, { "application/pdf", "pdf" },
    };
    for (size_t i = 0; ct && i < sizeof map / sizeof map[0]; i++)
        if (strncasecmp(ct, map[i].type, strlen(map[i].type)) == 0)
            return map[i].ext;
    return "bin";
}

/* "host" or "host_port" (a non-default port), sanitized. */
static int host_dir(const url_parts *u, char *out, size_t max)
{
    char raw[512];
    snprintf(raw, sizeof raw, "%s%s%s", u->host, u->port ? "_" : "", u->port ? u->port : "");
    for (char *c = raw; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    sanitize(raw, out, max);
    return out[0] ? 0 : -EINVAL;
}

int save_name(const char *url, const url_parts *u, const char *content_type, char *out,
              size_t cap)
{
    char dir[128], stem[NAME_STEM_MAX + 1];
    int rc = host_dir(u, dir, 100);
    if (rc < 0)
        return rc;
    sanitize(strcmp(u->target, "/") == 0 ? "index" : u->target + 1, stem, NAME_STEM_MAX);
    int n = snprintf(out, cap, "%s/%s-%016llx.%s", dir, stem[0] ? stem : "index",
                     (unsigned long long)urlset_hash(url), extension(content_type));
    return n < 0 || (size_t)n >= cap ? -EINVAL : 0;
}

static int append_index(saver *s, const page_record *rec, const char *file, size_t len)
{
    jbuf b = { 0 };
    jbuf_printf(&b, "{\"url\":");
    jbuf_string(&b, rec->url);
    jbuf_printf(&b, ",\"file\":");
    jbuf_string(&b, file);
    jbuf_printf(&b, ",\"status\":%d,\"content_type\":", rec->status);
    jbuf_string(&b, rec->content_type);
    jbuf_printf(&b, ",\"bytes\":%zu,\"depth\":%d}\n", len, rec->depth);
    /* One write with O_APPEND: lines of concurrent saves never interleave. */
    int rc = b.oom ? -ENOMEM : cio_file_write_all(s->index, b.s, b.len);
    jbuf_free(&b);
    return rc;
}

static int save_shielded(saver *s, const page_record *rec, const void *body, size_t len)
{
    char name[300], path[4096];
    int rc = save_name(rec->url, rec->parts, rec->content_type, name, sizeof name);
    if (rc < 0)
        return rc;
    char *slash = strchr(name, '/');
    *slash = '\0';
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    if (!urlset_has(&s->dirs, name)) {
        if ((rc = cio_mkdir_all(path, 0755)) < 0)
            return rc;
        if ((rc = urlset_add(&s->dirs, name)) < 0)
            return rc;
    }
    *slash = '/';
    if (snprintf(path, sizeof path, "%s/%s", s->dir, name) >= (int)sizeof path)
        return -ENAMETOOLONG;
    if ((rc = cio_write_file_atomic_ex(path, body, len, 0644,
                                       s->sync ? 0 : CIO_ATOMIC_NO_SYNC)) < 0)
        return rc;
    return append_index(s, rec, name, len);
}

int save_page(saver *s, const page_record *rec, const void *body, size_t len)
{
    cio_scope sc;
    cio_scope_enter_shielded(&sc, CIO_NEVER);
    int rc = save_shielded(s, rec, body, len);
    int lrc = cio_scope_leave(&sc);
    (void)lrc;
    return rc;
}
