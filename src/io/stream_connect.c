/* stream_connect.c — asyncio.open_connection and open_unix_connection. */
#include "stream_internal.h"

int cio_open_connection(cio_stream **out, const char *host, const char *port,
                        const cio_stream_opts *opts)
{
    cio_socket *s;
    int rc = cio_tcp_connect(&s, host, port, NULL);
    return rc < 0 ? rc : cio_stream_open(out, s, opts);
}

int cio_open_unix_connection(cio_stream **out, const char *path, const cio_stream_opts *opts)
{
    cio_socket *s;
    int rc = cio_unix_connect(&s, path);
    return rc < 0 ? rc : cio_stream_open(out, s, opts);
}
