/* cio/log.h — a small logger that knows which task is talking (Python's
 * logging with a task-name filter; structured JSON lines).
 *
 * Each line carries the wall-clock time (UTC, milliseconds), the level and
 * the current task's name: "loop" on a loop's thread outside any task, "-"
 * on a thread without a loop.
 *
 *   text (default):
 *     2026-11-26T02:41:07.123Z INFO  [worker-3] fetched 12 items
 *   JSON lines (CIO_LOG=json, or cio_log_set_json(true)):
 *     {"ts":"2026-11-26T02:41:07.123Z","level":"info","task":"worker-3",
 *      "task_id":5,"msg":"fetched 12 items","url":"http://a/b","status":200}
 *
 * Extra key/values (both modes; "key=value" in text mode):
 *     cio_log_kv(CIO_LOG_INFO, "fetched",
 *                CIO_KV_STR("url", url), CIO_KV_INT("status", 200));
 *
 * Output goes to stderr unless cio_log_set_output/cio_log_set_fd say
 * otherwise; lines below the level (CIO_LOG_LEVEL=debug|info|warn|error,
 * default info) are dropped. Each line is written whole, so lines from
 * several threads do not interleave. JSON strings are escaped (quotes,
 * backslashes, control characters; other bytes pass as they are). Logging
 * never blocks the task on the loop: it is a plain write to the stream.
 */
#ifndef CIO_LOG_H
#define CIO_LOG_H

#include <stdbool.h>
#include <stdio.h>

#pragma GCC visibility push(default)

enum cio_log_level {
    CIO_LOG_DEBUG,
    CIO_LOG_INFO,
    CIO_LOG_WARN,
    CIO_LOG_ERROR,
};

/* Log one message, formatted like printf. */
void cio_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cio_log_debug(...) cio_log(CIO_LOG_DEBUG, __VA_ARGS__)
#define cio_log_info(...) cio_log(CIO_LOG_INFO, __VA_ARGS__)
#define cio_log_warn(...) cio_log(CIO_LOG_WARN, __VA_ARGS__)
#define cio_log_error(...) cio_log(CIO_LOG_ERROR, __VA_ARGS__)

/* One extra field of a structured line. Make them with the CIO_KV_ macros. */
typedef struct cio_log_field {
    const char *key;
    enum { CIO_KV_T_STR, CIO_KV_T_INT, CIO_KV_T_FLOAT, CIO_KV_T_BOOL } type;
    union {
        const char *s;          /* NULL prints as null */
        long long i;
        double f;
        bool b;
    } v;
} cio_log_field;

#define CIO_KV_STR(k, x) ((cio_log_field){ .key = (k), .type = CIO_KV_T_STR, .v.s = (x) })
#define CIO_KV_INT(k, x) ((cio_log_field){ .key = (k), .type = CIO_KV_T_INT, .v.i = (x) })
#define CIO_KV_FLOAT(k, x) ((cio_log_field){ .key = (k), .type = CIO_KV_T_FLOAT, .v.f = (x) })
#define CIO_KV_BOOL(k, x) ((cio_log_field){ .key = (k), .type = CIO_KV_T_BOOL, .v.b = (x) })

/* Log msg (not a format) with n extra fields. */
void cio_log_fields(int level, const char *msg, const cio_log_field *fields, size_t n);

/* cio_log_fields with the fields as arguments: cio_log_kv(level, msg,
 * CIO_KV_...(...), ...) (at least one field). */
#define cio_log_kv(level, msg, ...)                                              \
    cio_log_fields((level), (msg), (const cio_log_field[]){ __VA_ARGS__ },       \
                   sizeof((const cio_log_field[]){ __VA_ARGS__ }) / sizeof(cio_log_field))

/* Drop lines below level. */
void cio_log_set_level(int level);

/* JSON lines (true) or text (false). */
void cio_log_set_json(bool json);

/* Write to f (NULL: back to stderr). The caller keeps f open. */
void cio_log_set_output(FILE *f);

/* Write to descriptor fd with write(2) (-1: back to stderr). */
void cio_log_set_fd(int fd);

/* True if a line at level would be written (to skip costly arguments). */
bool cio_log_enabled(int level);

#pragma GCC visibility pop

#endif
