/* chat_server.c — a line-based chat room: every line a client sends is
 * broadcast to every connected client (see chat.c).
 *
 *   chat_server [--port P] [--host ADDR] [--unix PATH]
 *
 * Try it with a few terminals:  nc 127.0.0.1 7001
 */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct options {
    const char *host, *unix_path;
    long port;
};

static int run(void *arg)
{
    const struct options *o = arg;
    chat *room;
    int rc = chat_start(&room, o->host, (uint16_t)o->port, o->unix_path, NULL);
    if (rc < 0) {
        fprintf(stderr, "chat_server: cannot listen: %s\n", cio_strerror(rc));
        return rc;
    }
    cio_addr addr;
    char where[128] = "?";
    if (cio_server_addr(chat_server(room), &addr) == 0)
        cio_addr_format(&addr, where, sizeof where);
    printf("chat_server: listening on %s\n", where);
    fflush(stdout);
    rc = cio_server_serve_forever(chat_server(room));
    int stop = chat_stop(room, 5 * CIO_SEC);
    return rc < 0 ? rc : stop;
}

int main(int argc, char **argv)
{
    struct options o = { .host = "127.0.0.1", .port = 7001 };
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && strcmp(argv[i], "--port") == 0)
            o.port = strtol(v, NULL, 10);
        else if (v && strcmp(argv[i], "--host") == 0)
            o.host = v;
        else if (v && strcmp(argv[i], "--unix") == 0)
            o.unix_path = v;
        else {
            fprintf(stderr, "usage: chat_server [--port P] [--host ADDR] [--unix PATH]\n");
            return 2;
        }
    }
    return cio_run(run, &o) < 0 ? 1 : 0;
}
