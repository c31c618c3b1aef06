/* chat.c — a chat room on cio: a server task per client reads its lines
 * and broadcasts them; a writer task per client sends it what others said,
 * from its own bounded queue. Broadcasting never waits for a client: a
 * full queue means the client reads too slowly to keep up, and it is
 * disconnected instead of letting its backlog grow without bound.
 *
 * A message is allocated once and shared by every queue it is in (a
 * reference count), so a broadcast to N clients costs N pointer copies.
 */
#include "chat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct message {
    size_t refs;
    size_t len;
    char text[];
} message;

typedef struct member {
    struct member *prev, *next;
    chat *room;
    cio_stream *st;
    cio_task *reader, *writer;
    cio_queue outbox;           /* message * */
    bool kicked;
    char name[24];
} member;

struct chat {
    cio_server *srv;
    member *first;              /* the room, newest first */
    size_t members, kicked;
    unsigned next_id;
    size_t queue_max;
    int sndbuf;
};

static void unref(message *m)
{
    if (--m->refs == 0)
        free(m);
}

/* A message with refs 1 (the sender's), formatted like printf. */
__attribute__((format(printf, 1, 2))) static message *message_new(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    message *m = n < 0 ? NULL : malloc(sizeof *m + (size_t)n + 1);
    if (!m)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(m->text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    m->refs = 1;
    m->len = (size_t)n;
    return m;
}

/* Too slow: end both of its tasks; its reader cleans up. */
static void kick(member *m)
{
    m->kicked = true;
    m->room->kicked++;
    cio_task_cancel(m->reader);
    cio_task_cancel(m->writer);
}

/* Queue m for everyone in the room (never waits), then drop the sender's
 * reference. */
static void broadcast(chat *room, message *msg)
{
    if (!msg)
        return;
    for (member *m = room->first; m; m = m->next) {
        if (m->kicked)
            continue;
        msg->refs++;
        if (cio_queue_try_put(&m->outbox, &msg) < 0) {
            msg->refs--;
            kick(m);
        }
    }
    unref(msg);
}

/* The writer task: the member's outbox to its socket. */
static int write_outbox(void *arg)
{
    member *m = arg;
    message *msg;
    int rc;
    while ((rc = cio_queue_get(&m->outbox, &msg)) == 0) {
        rc = cio_stream_write(m->st, msg->text, msg->len);
        unref(msg);
        if (rc == 0)
            rc = cio_stream_drain(m->st);
        if (rc < 0)
            break;
    }
    return rc == -ESHUTDOWN ? 0 : rc;
}

static void join_room(chat *room, member *m)
{
    m->next = room->first;
    if (m->next)
        m->next->prev = m;
    room->first = m;
    room->members++;
}

static void leave_room(chat *room, member *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        room->first = m->next;
    if (m->next)
        m->next->prev = m->prev;
    room->members--;
}

/* Everything after the member's reading ends: out of the room, the writer
 * stopped and joined (shielded: a kicked member's task is cancelled), the
 * messages it never sent released. */
static void depart(member *m)
{
    chat *room = m->room;
    leave_room(room, m);
    cio_queue_shutdown(&m->outbox, false);
    cio_scope shield;
    cio_scope_enter_shielded(&shield, CIO_NEVER);
    int ignored = cio_task_join(m->writer, NULL);   /* shielded: it returns */
    ignored = cio_scope_leave(&shield);
    (void)ignored;
    message *msg;
    while (cio_queue_try_get(&m->outbox, &msg) == 0)
        unref(msg);
    cio_queue_destroy(&m->outbox);
    broadcast(room, m->kicked ? message_new("* %s was too slow and is disconnected\n", m->name)
                              : message_new("* %s left\n", m->name));
}

static int read_lines(member *m)
{
    const char *line;
    size_t len;
    int rc;
    while ((rc = cio_stream_read_line_view(m->st, &line, &len)) == 0 && len > 0) {
        if (line[len - 1] == '\n')
            len--;
        broadcast(m->room, message_new("%s: %.*s\n", m->name, (int)len, line));
    }
    return rc == CIO_ELIMIT ? 0 : rc;   /* an over-long line ends the visit */
}

/* The server's handler: one member's visit. */
static int visit(cio_stream *st, void *arg)
{
    chat *room = arg;
    member *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->room = room;
    m->st = st;
    m->reader = cio_task_current();
    snprintf(m->name, sizeof m->name, "user%u", ++room->next_id);
    int rc = 0;
    if (room->sndbuf)
        rc = cio_socket_setopt(cio_stream_socket(st), SOL_SOCKET, SO_SNDBUF, &room->sndbuf,
                               sizeof room->sndbuf);
    if (rc == 0)
        rc = cio_queue_init(&m->outbox, sizeof(message *), room->queue_max);
    if (rc == 0)
        rc = cio_task_spawn(&m->writer, write_outbox, m, NULL);
    if (rc < 0) {
        free(m);
        return rc;
    }
    broadcast(room, message_new("* %s joined (%zu here)\n", m->name, room->members + 1));
    join_room(room, m);
    rc = read_lines(m);
    depart(m);
    free(m);
    return rc == -ECANCELED ? 0 : rc;
}

int chat_start(chat **out, const char *host, uint16_t port, const char *path,
               const chat_opts *opts)
{
    chat *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->queue_max = opts && opts->queue_max ? opts->queue_max : 256;
    c->sndbuf = opts ? opts->sndbuf : 0;
    const cio_server_opts *so = opts ? &opts->server : NULL;
    int rc = path ? cio_unix_server(&c->srv, path, visit, c, so)
                  : cio_tcp_server(&c->srv, host, port, visit, c, so);
    if (rc < 0) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

cio_server *chat_server(chat *c) { return c->srv; }
size_t chat_members(const chat *c) { return c->members; }
size_t chat_kicked(const chat *c) { return c->kicked; }

int chat_stop(chat *c, int64_t grace)
{
    int rc = cio_server_stop(c->srv, grace);
    free(c);
    return rc;
}
