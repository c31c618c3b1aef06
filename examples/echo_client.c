/* echo_client.c — connects to an echo (or chat) server, sends lines and
 * prints the replies: asyncio's streams client, with cio.
 *
 *   echo_client [--port P] [--host ADDR] [--unix PATH] [--count N]
 *
 * Sends N lines (default 3) "hello N", reading the reply to each before
 * sending the next; then closes its side and prints whatever else comes.
 *
 * asyncio:
 *     reader, writer = await asyncio.open_connection(host, port)
 *     writer.write(b"hello 1\n")
 *     print(await reader.readline())
 *     writer.close(); await writer.wait_closed()
 */
#include <cio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct options {
    const char *host, *port, *unix_path;
    long count;
};

static int usage(void)
{
    fprintf(stderr, "usage: echo_client [--port P] [--host ADDR] [--unix PATH] [--count N]\n");
    return 2;
}

static int parse(int argc, char **argv, struct options *o)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *v = argv[i + 1];
        if (strcmp(argv[i], "--port") == 0)
            o->port = v;
        else if (strcmp(argv[i], "--host") == 0)
            o->host = v;
        else if (strcmp(argv[i], "--unix") == 0)
            o->unix_path = v;
        else if (strcmp(argv[i], "--count") == 0)
            o->count = strtol(v, NULL, 10);
        else
            return -1;
    }
    return argc % 2 == 1 && o->count >= 0 ? 0 : -1;
}

static int talk(cio_stream *st, long count)
{
    char line[1024];
    for (long i = 1; i <= count; i++) {
        int n = snprintf(line, sizeof line, "hello %ld\n", i);
        int rc = cio_stream_write(st, line, (size_t)n);
        if (rc < 0)
            return rc;
        ssize_t got = cio_stream_read_line(st, line, sizeof line);
        if (got <= 0)
            return got < 0 ? (int)got : CIO_EINCOMPLETE;
        printf("reply: %s", line);
    }
    /* Done sending: the server sees end of stream and closes its side. */
    int rc = cio_stream_write_eof(st);
    ssize_t got;
    while (rc == 0 && (got = cio_stream_read_line(st, line, sizeof line)) > 0)
        printf("more: %s", line);
    return rc;
}

static int client(void *arg)
{
    const struct options *o = arg;
    cio_stream *st;
    int rc = o->unix_path ? cio_open_unix_connection(&st, o->unix_path, NULL)
                          : cio_open_connection(&st, o->host, o->port, NULL);
    if (rc < 0) {
        fprintf(stderr, "echo_client: cannot connect: %s\n", cio_strerror(rc));
        return rc;
    }
    rc = talk(st, o->count);
    int closed = cio_stream_close(st);
    if (rc == 0)
        rc = closed;
    if (rc < 0)
        fprintf(stderr, "echo_client: %s\n", cio_strerror(rc));
    return rc;
}

int main(int argc, char **argv)
{
    struct options o = { .host = "127.0.0.1", .port = "7000", .count = 3 };
    if (parse(argc, argv, &o) < 0)
        return usage();
    return cio_run(client, &o) < 0 ? 1 : 0;
}
