/* http_get — fetch URLs concurrently, one task each, and print their status,
 * size and time (aiohttp's "gather a few GETs").
 *
 *   http_get [--timeout SECONDS] [--retries N] URL...
 *
 * Bodies are streamed and counted, never held in memory, so any size is
 * fine. Exit status 1 if any request failed (a 4xx or 5xx status is not a
 * failure here: it is printed).
 */
#include <cio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct job {
    cio_http_session *session;
    const char *url;
    int retries;
    int status;                 /* HTTP status, or a negative error */
    uint64_t bytes;
    int64_t took;
    char error[256];
} job;

/* Stream the body, counting it. */
static int count_body(job *j, cio_http_response *r)
{
    char buf[16384];
    ssize_t n;
    while ((n = cio_http_response_read(r, buf, sizeof buf)) > 0)
        j->bytes += (uint64_t)n;
    return (int)n;
}

static int fetch(void *arg)
{
    job *j = arg;
    int64_t t0 = cio_now();
    cio_http_request req = { .url = j->url };
    cio_http_response *r = NULL;
    int rc;
    if (j->retries > 0) {           /* retried: whole body, with a limit */
        cio_http_retry policy = { .attempts = j->retries + 1 };
        rc = cio_http_request_retry(j->session, &req, &policy, &r);
        if (rc == 0)
            j->bytes = cio_http_response_body_size(r);
    } else {
        rc = cio_http_send(j->session, &req, &r);
        if (rc == 0)
            rc = count_body(j, r);
    }
    j->status = rc < 0 ? rc : cio_http_response_status(r);
    if (rc < 0)
        snprintf(j->error, sizeof j->error, "%s", cio_http_last_error());
    cio_http_response_close(r);
    j->took = cio_now() - t0;
    return 0;
}

typedef struct args {
    int n;
    char **urls;
    int64_t timeout;
    int retries;
} args;

static int main_task(void *arg)
{
    args *a = arg;
    cio_http_session *s;
    cio_http_options opts = { .timeout = a->timeout };
    int rc = cio_http_session_open(&s, &opts);
    if (rc < 0) {
        fprintf(stderr, "http_get: %s\n", cio_strerror(rc));
        return rc;
    }
    job *jobs = calloc((size_t)a->n, sizeof *jobs);
    cio_group g;
    cio_group_init(&g);
    for (int i = 0; i < a->n && rc == 0; i++) {
        jobs[i] = (job){ .session = s, .url = a->urls[i], .retries = a->retries };
        rc = cio_group_spawn(&g, NULL, fetch, &jobs[i], NULL);
    }
    int wrc = cio_group_wait(&g);
    cio_group_destroy(&g);
    int failed = rc < 0 || wrc < 0;
    for (int i = 0; i < a->n; i++) {
        job *j = &jobs[i];
        if (j->status < 0) {
            failed = 1;
            printf("%-6s %s  (%s: %s)\n", "ERR", j->url, cio_errname(j->status),
                   j->error[0] ? j->error : cio_strerror(j->status));
        } else {
            printf("%-6d %s  %llu bytes in %.0f ms\n", j->status, j->url,
                   (unsigned long long)j->bytes, (double)j->took / 1e6);
        }
    }
    free(jobs);
    cio_http_session_close(s);
    return failed ? -1 : 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: http_get [--timeout SECONDS] [--retries N] URL...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    args a = { 0 };
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--timeout") == 0)
            a.timeout = (int64_t)(atof(argv[i + 1]) * 1e9);
        else if (strcmp(argv[i], "--retries") == 0)
            a.retries = atoi(argv[i + 1]);
        else
            usage();
    }
    if (i >= argc)
        usage();
    a.n = argc - i;
    a.urls = argv + i;
    return cio_run(main_task, &a) < 0;
}
