/* http_client — the cio side of bench/http_run: closed-loop GETs of one
 * URL by N tasks over one session (keep-alive, one connection per task).
 *
 *   http_client --url URL [--conc N] [--warmup SEC] [--duration SEC]
 *
 * Each task GETs the URL, reads the whole body and checks the status, again
 * and again. After the warm-up (connections open, caches warm) the main
 * task takes the count of finished requests and the process's CPU time
 * (getrusage: user + system, every thread), then again after the measured
 * window, and stops the tasks. Prints one JSON line:
 *   {"requests":N,"seconds":S,"cpu_s":C,"errors":E,"bytes":B}
 * with the figures of the window only. The peers in bench/peers do the
 * same, so bench/http_run compares like with like.
 */
#include <cio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

typedef struct bench {
    const char *url;
    int conc;
    double warmup, duration;
    cio_http_session *session;
    bool stop;
    uint64_t done;              /* requests finished, ok or not */
    uint64_t errors;
    uint64_t bytes;
    char first_error[256];
} bench;

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void note_error(bench *b, const char *what)
{
    if (b->errors++ == 0)
        snprintf(b->first_error, sizeof b->first_error, "%s", what);
}

static int worker(void *arg)
{
    bench *b = arg;
    while (!b->stop) {
        cio_http_response *r;
        int rc = cio_http_get(b->session, b->url, &r);
        if (rc < 0) {
            char msg[200];
            snprintf(msg, sizeof msg, "%s: %s", cio_errname(rc),
                     cio_http_last_error());
            note_error(b, msg);
        } else {
            if (cio_http_response_status(r) != 200)
                note_error(b, "status not 200");
            b->bytes += cio_http_response_body_size(r);
            cio_http_response_close(r);
        }
        b->done++;
    }
    return 0;
}

static int main_task(void *arg)
{
    bench *b = arg;
    cio_http_options opts = {
        .max_connections = (unsigned)b->conc,
        .max_host_connections = (unsigned)b->conc,
        .http1_only = true,
    };
    int rc = cio_http_session_open(&b->session, &opts);
    if (rc < 0) {
        fprintf(stderr, "http_client: %s\n", cio_strerror(rc));
        return rc;
    }
    cio_group g;
    cio_group_init(&g);
    for (int i = 0; i < b->conc && rc == 0; i++)
        rc = cio_group_spawn(&g, NULL, worker, b, NULL);

    int64_t warm = (int64_t)(b->warmup * 1e9);
    int64_t window = (int64_t)(b->duration * 1e9);
    if (rc == 0)
        rc = cio_sleep(warm);
    uint64_t done0 = b->done, errors0 = b->errors, bytes0 = b->bytes;
    double cpu0 = cpu_seconds();
    int64_t t0 = cio_now();
    if (rc == 0)
        rc = cio_sleep(window);
    uint64_t done1 = b->done, errors1 = b->errors, bytes1 = b->bytes;
    double cpu1 = cpu_seconds();
    int64_t t1 = cio_now();
    b->stop = true;
    int wrc = cio_group_wait(&g);
    cio_group_destroy(&g);
    cio_http_session_close(b->session);
    if (rc < 0 || wrc < 0) {
        fprintf(stderr, "http_client: %s\n", cio_strerror(rc < 0 ? rc : wrc));
        return -1;
    }
    printf("{\"requests\":%llu,\"seconds\":%.6f,\"cpu_s\":%.6f,"
           "\"errors\":%llu,\"bytes\":%llu}\n",
           (unsigned long long)(done1 - done0), (double)(t1 - t0) / 1e9,
           cpu1 - cpu0, (unsigned long long)(errors1 - errors0),
           (unsigned long long)(bytes1 - bytes0));
    if (b->errors)
        fprintf(stderr, "http_client: %llu failed requests, the first: %s\n",
                (unsigned long long)b->errors, b->first_error);
    return b->errors ? -1 : 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: http_client --url URL [--conc N] [--warmup SEC] "
                    "[--duration SEC]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bench b = { .conc = 50, .warmup = 1.0, .duration = 3.0 };
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--url") == 0)
            b.url = argv[i + 1];
        else if (strcmp(argv[i], "--conc") == 0)
            b.conc = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--warmup") == 0)
            b.warmup = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--duration") == 0)
            b.duration = atof(argv[i + 1]);
        else
            usage();
    }
    if (!b.url || b.conc < 1 || b.duration <= 0)
        usage();
    return cio_run(main_task, &b) < 0;
}
