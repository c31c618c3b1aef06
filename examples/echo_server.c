/* echo_server.c — a TCP (or Unix socket) echo server on cio streams, and
 * the server of the echo benchmark (bench/echo_run).
 *
 *   echo_server [--port P] [--host ADDR] [--unix PATH]
 *
 * Listens on ADDR:P (default 127.0.0.1:7000; port 0 picks a free one) or
 * on the Unix socket PATH, prints the address it listens on, and echoes
 * every byte each client sends until the client closes. One task per
 * connection, written as plain blocking code: read what came, write it
 * back, let drain apply back-pressure. The I/O backend is the loop's:
 * CIO_BACKEND=epoll|io_uring|auto. Stop it with Ctrl-C.
 *
 * asyncio:
 *     async def echo(reader, writer):
 *         while data := await reader.read(4096):
 *             writer.write(data)
 *             await writer.drain()
 *     await asyncio.start_server(echo, host, port)
 */
#include <cio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads this large go straight from the socket into buf (no copy through
 * the stream's buffer). The array sits on the task's stack, whose pages
 * are committed only where touched: small messages touch one page of it. */
#define ECHO_BUF 4096

static int echo(cio_stream *st, void *arg)
{
    (void)arg;
    char buf[ECHO_BUF];
    for (;;) {
        ssize_t n = cio_stream_read(st, buf, sizeof buf);
        if (n <= 0)
            return (int)n;      /* 0: the client closed; or its error */
        int rc = cio_stream_write(st, buf, (size_t)n);
        if (rc == 0)
            rc = cio_stream_drain(st);
        if (rc < 0)
            return rc;
    }
}

struct options {
    const char *host, *unix_path;
    long port;
};

static int usage(void)
{
    fprintf(stderr, "usage: echo_server [--port P] [--host ADDR] [--unix PATH]\n");
    return 2;
}

static int parse(int argc, char **argv, struct options *o)
{
    if (argc % 2 == 0)
        return -1;              /* every option takes a value */
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *v = argv[i + 1];
        if (strcmp(argv[i], "--port") == 0)
            o->port = strtol(v, NULL, 10);
        else if (strcmp(argv[i], "--host") == 0)
            o->host = v;
        else if (strcmp(argv[i], "--unix") == 0)
            o->unix_path = v;
        else
            return -1;
    }
    return o->port >= 0 && o->port <= 65535 ? 0 : -1;
}

static int serve(void *arg)
{
    const struct options *o = arg;
    cio_server *srv;
    int rc = o->unix_path ? cio_unix_server(&srv, o->unix_path, echo, NULL, NULL)
                          : cio_tcp_server(&srv, o->host, (uint16_t)o->port, echo, NULL, NULL);
    if (rc < 0) {
        fprintf(stderr, "echo_server: cannot listen: %s\n", cio_strerror(rc));
        return rc;
    }
    cio_addr addr;
    char where[128] = "?";
    if (cio_server_addr(srv, &addr) == 0)
        cio_addr_format(&addr, where, sizeof where);
    printf("echo_server: listening on %s (backend %s)\n", where,
           cio_loop_backend(cio_loop_current()));
    fflush(stdout);
    rc = cio_server_serve_forever(srv);
    int stop = cio_server_stop(srv, 5 * CIO_SEC);
    return rc < 0 ? rc : stop;
}

int main(int argc, char **argv)
{
    struct options o = { .host = "127.0.0.1", .port = 7000 };
    if (parse(argc, argv, &o) < 0)
        return usage();
    int rc = cio_run(serve, &o);
    return rc < 0 ? 1 : 0;
}
