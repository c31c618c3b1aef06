/* save.h — pages on disk: a safe file name per URL, written atomically
 * with cio's file API, and an index (DIR/index.jsonl, one JSON object per
 * saved page: url, file, status, content_type, bytes, depth).
 *
 * A page of http://Host:8080/a/b.html?x=1 goes to
 * DIR/host_8080/a_b.html_x_1-<16 hex digits>.html: one directory per host
 * (and non-default port), a flat file name made of the path and query with
 * every character outside [A-Za-z0-9._-] replaced by '_' (so no '/' and no
 * "..": nothing can leave DIR), cut to 80 characters, then a 64-bit FNV-1a
 * hash of the whole URL (two URLs that sanitize alike still get two files)
 * and an extension from the Content-Type.
 *
 * Pages are written to a temporary file and renamed into place, so no
 * reader, and no Ctrl-C or crash of the crawler, ever leaves half a page.
 * They are not fsynced unless asked (--fsync): two fsyncs per page cost
 * more CPU than the whole crawl (docs/decisions.md), and a page lost to a
 * power cut is fetched again. */
#ifndef CRAWLER_SAVE_H
#define CRAWLER_SAVE_H

#include <cio.h>

#include "url.h"
#include "urlset.h"

typedef struct saver {
    char *dir;
    cio_file *index;
    urlset dirs;            /* host directories already made */
    bool sync;              /* fsync each page and its directory */
} saver;

typedef struct page_record {
    const char *url;
    const url_parts *parts;     /* url's */
    int status;
    const char *content_type;
    int depth;
} page_record;

/* Make dir (mkdir -p) and open dir/index.jsonl for appending. Blocks. */
int saver_open(saver *s, const char *dir);
void saver_close(saver *s);

/* The file name for url (whose parts are u), relative to the output
 * directory ("host_port/name-hash.ext"), in out. Returns 0, or -EINVAL (an
 * empty host; cap too small: 300 bytes always do). */
int save_name(const char *url, const url_parts *u, const char *content_type, char *out,
              size_t cap);

/* Write body to its file (cio_write_file_atomic_ex: all or nothing; the
 * fsyncs only if s->sync) and append its index line. The whole save is shielded from cancellation: a
 * page fetched before Ctrl-C is saved and indexed, never half of it.
 * Returns 0 or the error. Blocks. */
int save_page(saver *s, const page_record *rec, const void *body, size_t len);

#endif
