/* urlset.h — a set of strings (normalized URLs, host names): open
 * addressing with linear probing on an FNV-1a hash, grown at 1/2 full.
 * The set keeps its own copies. */
#ifndef CRAWLER_URLSET_H
#define CRAWLER_URLSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct urlset {
    char **slots;
    size_t cap, len;        /* cap: a power of two, or 0 */
} urlset;

void urlset_init(urlset *s);
void urlset_free(urlset *s);

/* Add key. Returns 1 if it was new, 0 if it was there, -ENOMEM. */
int urlset_add(urlset *s, const char *key);

bool urlset_has(const urlset *s, const char *key);

static inline size_t urlset_size(const urlset *s) { return s->len; }

/* FNV-1a, 64 bits (also names saved files, save.c). */
uint64_t urlset_hash(const char *key);

#endif
