/* log.c — the log helper (cio/log.h): a line is built whole in a buffer,
 * then written with one call, so concurrent lines never interleave. */
#include "cio/log.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cio/loop.h"
#include "cio/task.h"

/* ---- settings ------------------------------------------------------------ */

static atomic_int min_level = CIO_LOG_INFO;
static atomic_bool json_mode;
static _Atomic(FILE *) out_file;    /* NULL: stderr */
static atomic_int out_fd = -1;      /* >= 0: write(2) here instead */
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void read_env(void)
{
    const char *mode = getenv("CIO_LOG");
    if (mode && strcasecmp(mode, "json") == 0)
        atomic_store(&json_mode, true);
    const char *lv = getenv("CIO_LOG_LEVEL");
    static const char *const names[] = { "debug", "info", "warn", "error" };
    for (int i = 0; lv && i < 4; i++)
        if (strcasecmp(lv, names[i]) == 0)
            atomic_store(&min_level, i);
}

/* The environment is read once, before the first line or setting, so a
 * setter called by the program wins over it. */
static void settings(void) { pthread_once(&env_once, read_env); }

void cio_log_set_level(int level) { settings(); atomic_store(&min_level, level); }
void cio_log_set_json(bool json) { settings(); atomic_store(&json_mode, json); }
void cio_log_set_output(FILE *f) { settings(); atomic_store(&out_fd, -1); atomic_store(&out_file, f); }
void cio_log_set_fd(int fd) { settings(); atomic_store(&out_fd, fd); }

bool cio_log_enabled(int level)
{
    settings();
    return level >= atomic_load(&min_level);
}

/* ---- a growable line buffer ---------------------------------------------- */

typedef struct line {
    char *p;
    size_t len, cap;
    bool heap;
    char local[1024];
} line;

static void line_init(line *l)
{
    l->p = l->local;
    l->len = 0;
    l->cap = sizeof l->local;
    l->heap = false;
}

static bool reserve(line *l, size_t more)
{
    if (l->len + more < l->cap)
        return true;
    size_t cap = (l->len + more + 1) * 2;
    char *p = l->heap ? realloc(l->p, cap) : malloc(cap);
    if (!p)
        return false;
    if (!l->heap)
        memcpy(p, l->p, l->len);
    l->p = p;
    l->cap = cap;
    l->heap = true;
    return true;
}

static void putn(line *l, const char *s, size_t n)
{
    if (!reserve(l, n))
        return;
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

static void puts_(line *l, const char *s) { putn(l, s, strlen(s)); }

static void vputf(line *l, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(l->p + l->len, l->cap - l->len, fmt, copy);
    va_end(copy);
    if (n < 0)
        return;
    if ((size_t)n >= l->cap - l->len) {
        if (!reserve(l, (size_t)n + 1))
            return;
        vsnprintf(l->p + l->len, l->cap - l->len, fmt, ap);
    }
    l->len += (size_t)n;
}

static void putf(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(line *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vputf(l, fmt, ap);
    va_end(ap);
}

/* A JSON string, quotes included. */
static void put_json_str(line *l, const char *s, size_t n)
{
    puts_(l, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': puts_(l, "\\\""); break;
        case '\\': puts_(l, "\\\\"); break;
        case '\n': puts_(l, "\\n"); break;
        case '\r': puts_(l, "\\r"); break;
        case '\t': puts_(l, "\\t"); break;
        case '\b': puts_(l, "\\b"); break;
        case '\f': puts_(l, "\\f"); break;
        default:
            if (c < 0x20 || c == 0x7f)
                putf(l, "\\u%04x", c);
            else
                putn(l, (const char *)&c, 1);
        }
    }
    puts_(l, "\"");
}

/* ---- the line ------------------------------------------------------------ */

static const char *const level_names[] = { "debug", "info", "warn", "error" };
static const char *const level_tags[] = { "DEBUG", "INFO ", "WARN ", "ERROR" };

static int clamp_level(int level)
{
    return level < CIO_LOG_DEBUG ? CIO_LOG_DEBUG : level > CIO_LOG_ERROR ? CIO_LOG_ERROR : level;
}

static void put_time(line *l)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    putf(l, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static const char *who(cio_task **t)
{
    *t = cio_task_current();
    if (*t)
        return cio_task_name(*t);
    return cio_loop_current() ? "loop" : "-";
}

static void head(line *l, int level, bool json)
{
    cio_task *t;
    const char *name = who(&t);
    if (!json) {
        put_time(l);
        putf(l, " %s [%s] ", level_tags[level], name);
        return;
    }
    puts_(l, "{\"ts\":\"");
    put_time(l);
    putf(l, "\",\"level\":\"%s\",\"task\":", level_names[level]);
    put_json_str(l, name, strlen(name));
    if (t)
        putf(l, ",\"task_id\":%llu", (unsigned long long)cio_task_id(t));
    puts_(l, ",\"msg\":");
}

/* A text-mode value: bare if it is one plain word, else quoted. */
static void put_text_str(line *l, const char *s)
{
    if (*s && !strpbrk(s, " \t\n\r\"=\\"))
        puts_(l, s);
    else
        put_json_str(l, s, strlen(s));
}

static void put_field(line *l, const cio_log_field *f, bool json)
{
    const char *key = f->key ? f->key : "?";
    if (json) {
        puts_(l, ",");
        put_json_str(l, key, strlen(key));
        puts_(l, ":");
    } else {
        putf(l, " %s=", key);
    }
    switch (f->type) {
    case CIO_KV_T_STR:
        if (!f->v.s)
            puts_(l, "null");
        else if (json)
            put_json_str(l, f->v.s, strlen(f->v.s));
        else
            put_text_str(l, f->v.s);
        break;
    case CIO_KV_T_INT: putf(l, "%lld", f->v.i); break;
    case CIO_KV_T_FLOAT:
        if (isfinite(f->v.f))
            putf(l, "%.15g", f->v.f);
        else
            puts_(l, json ? "null" : "nan");
        break;
    case CIO_KV_T_BOOL: puts_(l, f->v.b ? "true" : "false"); break;
    }
}

static void emit(line *l)
{
    int fd = atomic_load(&out_fd);
    if (fd >= 0) {
        size_t off = 0;
        while (off < l->len) {
            ssize_t n = write(fd, l->p + off, l->len - off);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
    } else {
        FILE *f = atomic_load(&out_file);
        if (!f)
            f = stderr;
        fwrite(l->p, 1, l->len, f);
        fflush(f);
    }
    if (l->heap)
        free(l->p);
}

/* msg is either a format with its arguments (ap) or, ap NULL, plain text. */
static void log_line(int level, const char *msg, va_list *ap, const cio_log_field *fields,
                     size_t n)
{
    if (!cio_log_enabled(level))
        return;
    level = clamp_level(level);
    bool json = atomic_load(&json_mode);
    line l;
    line_init(&l);
    head(&l, level, json);
    if (json) {
        line body;
        line_init(&body);
        if (ap)
            vputf(&body, msg, *ap);
        else
            puts_(&body, msg);
        put_json_str(&l, body.p, body.len);
        if (body.heap)
            free(body.p);
    } else if (ap) {
        vputf(&l, msg, *ap);
    } else {
        puts_(&l, msg);
    }
    for (size_t i = 0; i < n; i++)
        put_field(&l, &fields[i], json);
    puts_(&l, json ? "}\n" : "\n");
    emit(&l);
}

void cio_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, fmt, &ap, NULL, 0);
    va_end(ap);
}

void cio_log_fields(int level, const char *msg, const cio_log_field *fields, size_t n)
{
    log_line(level, msg ? msg : "", NULL, fields, n);
}
