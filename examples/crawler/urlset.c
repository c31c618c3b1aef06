/* urlset.c — a string set: open addressing, linear probing. */
#include "urlset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint64_t urlset_hash(const char *key)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3u;
    }
    return h;
}

void urlset_init(urlset *s)
{
    *s = (urlset){ 0 };
}

void urlset_free(urlset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i]);
    free(s->slots);
    *s = (urlset){ 0 };
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find_slot(char **slots, size_t cap, const char *key)
{
    size_t i = (size_t)urlset_hash(key) & (cap - 1);
    while (slots[i] && strcmp(slots[i], key) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static int grow(urlset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    char **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i])
            slots[find_slot(slots, cap, s->slots[i])] = s->slots[i];
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

bool urlset_has(const urlset *s, const char *key)
{
    return s->cap && s->slots[find_slot(s->slots, s->cap, key)] != NULL;
}

int urlset_add(urlset *s, const char *key)
{
    if ((s->len + 1) * 2 > s->cap && grow(s) < 0)
        return -ENOMEM;
    size_t i = find_slot(s->slots, s->cap, key);
    if (s->slots[i])
        return 0;
    if (!(s->slots[i] = strdup(key)))
        return -ENOMEM;
    s->len++;
    return 1;
}
