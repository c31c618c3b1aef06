/* stream_connect.c — asyncio.open_connection and open_unix_connection. */
#include "stream_internal.h"

#include <errno.h>
#include <stdlib.h>

int cio_open_connection(cio_stream **out, const char *host, const char *port,
                        const cio_stream_opts *opts)
{
    cio_socket *s;
    /* TODO(sockets): cio_tcp_connect(&s, host, port, NULL) once it lands;
     * until then numeric addresses only. */
    char *end;
    unsigned long p = port ? strtoul(port, &end, 10) : 0;
    if (!port || !*port || *end || p > 65535)
        return -EINVAL;
    cio_addr a;
    int rc = cio_addr_ip(&a, host, (uint16_t)p);
    if (rc == 0)
        rc = cio_connect_addr(&s, &a);
    return rc < 0 ? rc : cio_stream_open(out, s, opts);
}

int cio_open_unix_connection(cio_stream **out, const char *path, const cio_stream_opts *opts)
{
    cio_socket *s;
    int rc = cio_unix_connect(&s, path);
    return rc < 0 ? rc : cio_stream_open(out, s, opts);
}
