/* chat.h — the chat room behind examples/chat_server.c (and
 * tests/test_chat.c): every line a client sends goes to every client. */
#ifndef CIO_EXAMPLES_CHAT_H
#define CIO_EXAMPLES_CHAT_H

#include <cio.h>

typedef struct chat chat;

typedef struct chat_opts {
    /* Messages waiting for one client; a client that lets more pile up is
     * too slow to keep up and is disconnected. 0: 256. */
    size_t queue_max;
    /* SO_SNDBUF of each member's socket: how much the kernel buffers for a
     * member besides its queue. 0: the kernel's (autotuned, up to MBs). */
    int sndbuf;
    /* The server's options: its streams' drain marks bound how much output
     * one client can hold besides its queue. */
    cio_server_opts server;
} chat_opts;

/* Open a chat room on a TCP port (host NULL: every interface) or, if path
 * is not NULL, a Unix socket. opts may be NULL. */
int chat_start(chat **out, const char *host, uint16_t port, const char *path,
               const chat_opts *opts);

/* The room's server (its address, serve_forever, stats). */
cio_server *chat_server(chat *c);

/* Clients in the room now, and how many were disconnected as too slow. */
size_t chat_members(const chat *c);
size_t chat_kicked(const chat *c);

/* Stop the server (see cio_server_stop) and free the room. */
int chat_stop(chat *c, int64_t grace);

#endif
