/* test_tls_io.c — data over TLS: shutdown (close_notify, half-close,
 * truncation), large transfers both ways at once, key updates, cancellation
 * of handshakes and reads on the virtual clock, peers that do not speak
 * TLS, and TLS started on a connection after a plaintext exchange. */
#include "tls_pair.h"

#include "io/tls_session.h"


/* ---- shutdown --------------------------------------------------------------- */

static int say_bye_and_close(side *s, cio_transport *t)
{
    (void)s;
    cr_assert_eq(send_text(t, "bye"), 0);
    return 0;       /* tls_side closes: close_notify */
}

static int read_until_eof(side *s, cio_transport *t)
{
    (void)s;
    expect_text(t, "bye");
    char c;
    cr_assert_eq(t->ops->read(t, &c, 1), 0, "close_notify reads as EOF");
    cr_assert_eq(t->ops->read(t, &c, 1), 0, "and stays EOF");
    return 0;
}

Test(tls_io, close_notify_is_end_of_stream, WITH_PKI)
{
    side server = { .ctx = server_ctx(), .body = say_bye_and_close };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = read_until_eof };
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_eq(client.status, 0);
    cr_assert_eq(server.close_rc, 0);
}

static int ask_then_half_close(side *s, cio_transport *t)
{
    (void)s;
    cr_assert_eq(send_text(t, "request"), 0);
    cr_assert_eq(t->ops->write_eof(t), 0);
    cr_assert_eq(send_text(t, "more"), -EPIPE, "no writes after write_eof");
    expect_text(t, "response");
    char c;
    cr_assert_eq(t->ops->read(t, &c, 1), 0);
    return 0;
}

static int answer_after_eof(side *s, cio_transport *t)
{
    (void)s;
    expect_text(t, "request");
    char c;
    cr_assert_eq(t->ops->read(t, &c, 1), 0, "the client's write_eof is EOF here");
    cr_assert_eq(send_text(t, "response"), 0, "and our side still writes");
    return 0;
}

static void half_close_case(int version)
{
    side server = { .ctx = server_ctx(), .body = answer_after_eof };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = ask_then_half_close };
    cr_assert_eq(cio_tls_ctx_set_versions(server.ctx, version, version), 0);
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_eq(server.status, 0);
    cr_assert_eq(client.status, 0);
}

Test(tls_io, write_eof_half_closes_tls_1_3, WITH_PKI) { half_close_case(CIO_TLS1_3); }
Test(tls_io, write_eof_half_closes_tls_1_2, WITH_PKI) { half_close_case(CIO_TLS1_2); }

/* Send, wait until it is out, then drop the connection without
 * close_notify: what an attacker cutting the stream looks like. */
static int send_and_cut(side *s, cio_transport *t)
{
    (void)s;
    cr_assert_eq(send_text(t, "bye"), 0);
    cr_assert_eq(t->ops->flush(t, 0), 0);
    cr_assert_eq(t->ops->close(t, true), 0);
    return 0;
}

static int read_past_cut(side *s, cio_transport *t)
{
    expect_text(t, "bye");
    char c;
    ssize_t n = t->ops->read(t, &c, 1);
    cio_tls_last_error(s->why, sizeof s->why);
    return (int)n;
}

Test(tls_io, truncation_is_reported, WITH_PKI)
{
    side server = { .ctx = server_ctx(), .body = send_and_cut, .body_closes = true };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = read_past_cut };
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_eq(client.status, CIO_ETRUNCATED, "got %s", cio_errname(client.status));
    cr_assert(strstr(client.why, "close_notify"), "reason: %s", client.why);
}

Test(tls_io, truncation_can_be_allowed, WITH_PKI)
{
    side server = { .ctx = server_ctx(), .body = send_and_cut, .body_closes = true };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = read_past_cut };
    cio_tls_ctx_allow_truncation(client.ctx, true);
    run_pair(&server, &client);
    cr_assert_eq(client.status, 0, "a plain EOF, got %s", cio_errname(client.status));
}

/* ---- large transfers ---------------------------------------------------------- */

#define BIG (6u << 20)
#define CHUNK (64u << 10)

static uint8_t pattern(size_t i, bool server)
{
    return (uint8_t)((i * 7 + (i >> 16) + (server ? 101 : 3)) % 251);
}

struct pump {
    cio_transport *t;
    bool server;
    size_t high_water;      /* the most ever pending */
};

/* Write BIG bytes in CHUNK writes, keeping at most 256 KiB queued, then
 * write_eof (close_notify). */
static int pump_out(void *arg)
{
    struct pump *p = arg;
    static __thread uint8_t buf[CHUNK];
    for (size_t off = 0; off < BIG; off += CHUNK) {
        for (size_t i = 0; i < CHUNK; i++)
            buf[i] = pattern(off + i, p->server);
        struct iovec iov = { buf, CHUNK };
        int rc = p->t->ops->write(p->t, &iov, 1);
        if (rc < 0)
            return rc;
        size_t pending = p->t->ops->pending(p->t);
        if (pending > p->high_water)
            p->high_water = pending;
        rc = p->t->ops->flush(p->t, 256u << 10);
        if (rc < 0)
            return rc;
    }
    return p->t->ops->write_eof(p->t);
}

/* Read everything the peer sends, checking each byte, while our own
 * writer task runs. */
static int both_ways(side *s, cio_transport *t)
{
    bool server = cio_tls_ctx_is_server(s->ctx);
    struct pump out = { t, server, 0 };
    cio_task *writer = spawn(pump_out, &out, "pump");
    static __thread uint8_t buf[50000];
    size_t got = 0;
    for (;;) {
        ssize_t n = t->ops->read(t, buf, sizeof buf);
        cr_assert_geq(n, 0, "read: %s", cio_errname((int)n));
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            cr_assert_eq(buf[i], pattern(got + (size_t)i, !server), "byte %zu", got + (size_t)i);
        got += (size_t)n;
    }
    cr_assert_eq(got, BIG);
    cr_assert_eq(cio_task_join(writer, NULL), 0);
    cr_assert_gt(out.high_water, CHUNK, "the output queue was used");
    return 0;
}

Test(tls_io, megabytes_both_ways_at_once, WITH_PKI)
{
    side server = { .ctx = server_ctx(), .body = both_ways };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = both_ways };
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_eq(client.status, 0);
    cr_assert_eq(server.status, 0);
}

/* Small entries are staged into one record, big ones written through;
 * the bytes arrive in order either way. */
static const size_t gather_sizes[] = { 10, 0, 9000, 5, 3000, 5000, 1, 20000, 4096, 7 };
#define GATHER_N (sizeof gather_sizes / sizeof gather_sizes[0])

static size_t gather_total(void)
{
    size_t total = 0;
    for (size_t i = 0; i < GATHER_N; i++)
        total += gather_sizes[i];
    return total;
}

static int write_gathered(side *s, cio_transport *t)
{
    (void)s;
    static char data[GATHER_N][20000];
    struct iovec iov[GATHER_N];
    for (size_t i = 0; i < GATHER_N; i++) {
        memset(data[i], 'a' + (int)i, gather_sizes[i]);
        iov[i] = (struct iovec){ data[i], gather_sizes[i] };
    }
    cr_assert_eq(t->ops->write(t, iov, (int)GATHER_N), 0);
    return 0;
}

static int read_gathered(side *s, cio_transport *t)
{
    (void)s;
    size_t total = gather_total();
    char *buf = malloc(total + 1);
    cr_assert_eq(read_full(t, buf, total + 1), (ssize_t)total, "all, then EOF");
    size_t at = 0;
    for (size_t i = 0; i < GATHER_N; i++)
        for (size_t j = 0; j < gather_sizes[i]; j++, at++)
            cr_assert_eq(buf[at], 'a' + (int)i, "byte %zu", at);
    free(buf);
    return 0;
}

Test(tls_io, gathered_writes_arrive_in_order, WITH_PKI)
{
    side server = { .ctx = server_ctx(), .body = read_gathered };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = write_gathered };
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_eq(server.status, 0);
}

/* ---- key update ---------------------------------------------------------------- */

/* The server asks for a key update: the client's read must answer it
 * (ciphertext written from inside a read) and both keep talking. */
static int update_keys(side *s, cio_transport *t)
{
    (void)s;
    cio_tls_session *ts = (cio_tls_session *)t;
    cr_assert_eq(SSL_key_update(ts->ssl, SSL_KEY_UPDATE_REQUESTED), 1);
    cr_assert_eq(send_text(t, "rekeyed"), 0);
    expect_text(t, "fine");
    cr_assert_eq(send_text(t, "again"), 0);
    expect_text(t, "ok");
    return 0;
}

static int follow_key_update(side *s, cio_transport *t)
{
    (void)s;
    expect_text(t, "rekeyed");
    cr_assert_eq(send_text(t, "fine"), 0);
    expect_text(t, "again");
    cr_assert_eq(send_text(t, "ok"), 0);
    return 0;
}

Test(tls_io, key_update_is_answered_while_reading, WITH_PKI)
{
    side server = { .ctx = server_ctx(), .body = update_keys };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = follow_key_update };
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_eq(server.status, 0);
    cr_assert_eq(client.status, 0);
}

/* ---- cancellation ---------------------------------------------------------------- */

/* A TCP connection to a listener that never accepts: the kernel completes
 * it, but nothing will ever answer. */
static cio_transport *silent_connection(cio_socket **listener)
{
    uint16_t port;
    listen_local(listener, &port);
    cio_addr a;
    cio_socket *sock;
    cr_assert_eq(cio_addr_ip(&a, "127.0.0.1", port), 0);
    cr_assert_eq(cio_connect_addr(&sock, &a), 0);
    cio_transport *plain = NULL;
    cr_assert_eq(cio_sock_transport_new(&plain, sock), 0);
    return plain;
}

static int client_handshake_times_out(void *arg)
{
    (void)arg;
    cio_socket *l;
    cio_transport *plain = silent_connection(&l), *t = NULL;
    cio_tls_ctx *ctx = client_ctx(true);
    int64_t t0 = cio_now();
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(5 * CIO_SEC));
    int rc = cio_tls_transport_new(&t, plain, ctx, "localhost", NULL, 0);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cr_assert_eq(rc, -ECANCELED, "got %s", cio_errname(rc));
    cr_assert_eq(cio_now() - t0, 5 * CIO_SEC);
    cio_tls_ctx_free(ctx);
    cio_socket_close(l);
    return 0;
}

Test(tls_io, client_handshake_honours_the_scope_deadline, WITH_PKI)
{
    cr_assert_eq(run_virtual(client_handshake_times_out, NULL), 0);
}

/* The server side: a client that connects and never says hello. */
static int mute_client(void *arg)
{
    side *server = arg;
    cio_addr a;
    cio_socket *sock;
    cr_assert_eq(cio_addr_ip(&a, "127.0.0.1", server->port), 0);
    cr_assert_eq(cio_connect_addr(&sock, &a), 0);
    char c;
    ssize_t n = cio_socket_recv(sock, &c, 1);   /* until the server gives up */
    cio_socket_close(sock);
    return n == 0 ? 0 : -EPROTO;
}

static int server_handshake_times_out(void *arg)
{
    side *server = arg;
    listen_local(&server->listener, &server->port);
    cio_task *ct = spawn(mute_client, server, "mute");
    cio_socket *c;
    cr_assert_eq(cio_socket_accept(server->listener, &c, NULL), 0);
    cio_transport *plain = NULL, *t = NULL;
    cr_assert_eq(cio_sock_transport_new(&plain, c), 0);
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(10 * CIO_SEC));
    server->handshake = cio_tls_transport_new(&t, plain, server->ctx, NULL, NULL, 0);
    cr_assert_eq(cio_scope_leave(&s), -ETIMEDOUT);
    cr_assert_eq(cio_task_join(ct, NULL), 0, "the client saw the connection closed");
    cio_socket_close(server->listener);
    return 0;
}

Test(tls_io, server_handshake_honours_the_scope_deadline, WITH_PKI)
{
    side server = { .ctx = server_ctx() };
    cr_assert_eq(run_virtual(server_handshake_times_out, &server), 0);
    cr_assert_eq(server.handshake, -ECANCELED);
    cio_tls_ctx_free(server.ctx);
}

static int speak_when_told(side *s, cio_transport *t)
{
    cr_assert_eq(cio_event_wait(s->arg), 0);
    cr_assert_eq(send_text(t, "late"), 0);
    return 0;
}

/* A read cancelled by its deadline leaves the session intact: the next
 * read gets the data. */
static int impatient_reader(side *s, cio_transport *t)
{
    char c;
    int64_t t0 = cio_now();
    cio_scope scope;
    cio_scope_enter(&scope, cio_deadline_after(2 * CIO_SEC));
    ssize_t n = t->ops->read(t, &c, 1);
    cr_assert_eq(cio_scope_leave(&scope), -ETIMEDOUT);
    cr_assert_eq(n, -ECANCELED);
    cr_assert_eq(cio_now() - t0, 2 * CIO_SEC);
    cio_event_set(s->arg);
    expect_text(t, "late");
    return 0;
}

Test(tls_io, read_honours_the_scope_deadline_and_the_session_survives, WITH_PKI)
{
    cio_event go;
    cio_event_init(&go);
    side server = { .ctx = server_ctx(), .body = speak_when_told, .arg = &go };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = impatient_reader,
                    .arg = &go };
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_eq(client.status, 0);
    cr_assert_eq(server.status, 0);
}

/* ---- peers that do not speak TLS ----------------------------------------------- */

struct plain_peer {
    side *tls;                  /* the TLS side, run by server_task/client_task */
    const char *garbage;        /* what the plain peer sends */
    cio_event done;             /* the TLS side has finished */
};

static int plain_server(void *arg)
{
    struct plain_peer *p = arg;
    cio_socket *c;
    cr_assert_eq(cio_socket_accept(p->tls->peer->listener, &c, NULL), 0);
    cr_assert_eq(cio_socket_send(c, p->garbage, strlen(p->garbage)), (ssize_t)strlen(p->garbage));
    int rc = cio_event_wait(&p->done);      /* keep the connection open */
    cio_socket_close(c);
    return rc;
}

static int plain_client(void *arg)
{
    struct plain_peer *p = arg;
    cio_addr a;
    cio_socket *sock;
    cr_assert_eq(cio_addr_ip(&a, "127.0.0.1", p->tls->peer->port), 0);
    cr_assert_eq(cio_connect_addr(&sock, &a), 0);
    cr_assert_eq(cio_socket_send(sock, p->garbage, strlen(p->garbage)), (ssize_t)strlen(p->garbage));
    int rc = cio_event_wait(&p->done);
    cio_socket_close(sock);
    return rc;
}

/* The TLS side, with a deadline far away to catch a hang. */
static int tls_side_then_done(void *arg)
{
    struct plain_peer *p = arg;
    cio_scope s;
    cio_scope_enter(&s, cio_deadline_after(60 * CIO_SEC));
    int rc = cio_tls_ctx_is_server(p->tls->ctx) ? server_task(p->tls) : client_task(p->tls);
    cr_assert_eq(cio_scope_leave(&s), 0, "no hang");
    cio_event_set(&p->done);
    return rc;
}

static int garbage_main(void *arg)
{
    struct plain_peer *p = arg;
    side *listening = p->tls->peer;
    listen_local(&listening->listener, &listening->port);
    bool tls_server = cio_tls_ctx_is_server(p->tls->ctx);
    if (tls_server)
        p->tls->listener = listening->listener;
    cio_task *plain = spawn(tls_server ? plain_client : plain_server, p, "plain");
    cio_task *tls = spawn(tls_side_then_done, p, "tls");
    int ignored = cio_task_join(tls, NULL);
    cr_assert_eq(cio_task_join(plain, NULL), 0);
    (void)ignored;
    cio_socket_close(listening->listener);
    return 0;
}

static void garbage_case(side *tls, const char *garbage, const char *reason)
{
    side listening = { 0 };
    tls->peer = &listening;
    struct plain_peer p = { .tls = tls, .garbage = garbage };
    cio_event_init(&p.done);
    cr_assert_eq(run_virtual(garbage_main, &p), 0);
    cr_assert_eq(tls->handshake, CIO_ETLS, "got %s: %s", cio_errname(tls->handshake), tls->why);
    cr_assert(strstr(tls->why, reason), "reason: %s", tls->why);
    cio_tls_ctx_free(tls->ctx);
}

Test(tls_io, a_server_answering_http_fails_the_handshake_cleanly, WITH_PKI)
{
    side client = { .ctx = client_ctx(true), .name = "localhost" };
    garbage_case(&client, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
                 "wrong version number");
}

Test(tls_io, a_client_speaking_http_fails_the_handshake_cleanly, WITH_PKI)
{
    side server = { .ctx = server_ctx() };
    garbage_case(&server, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "http request");
}

Test(tls_io, random_bytes_fail_the_handshake_cleanly, WITH_PKI)
{
    static char noise[2048];
    for (size_t i = 0; i < sizeof noise - 1; i++)
        noise[i] = (char)(1 + (i * 131 + 17) % 255);
    side client = { .ctx = client_ctx(true), .name = "localhost" };
    garbage_case(&client, noise, "TLS handshake");
}

/* ---- STARTTLS: TLS after a plaintext exchange --------------------------------------- */

struct starttls {
    cio_tls_ctx *server_ctx, *client_ctx;
    cio_socket *listener;
    uint16_t port;
    bool pipelined;             /* the client does not wait for "220" */
    size_t preread;             /* ciphertext the server read with the line */
    int server_rc, client_rc;
};

/* Read up to and including "\r\n"; what came after it is left in
 * buf[line..len). Returns the line's length. */
static size_t read_line(cio_transport *t, char *buf, size_t cap, size_t *len)
{
    *len = 0;
    for (;;) {
        char *nl = memmem(buf, *len, "\r\n", 2);
        if (nl)
            return (size_t)(nl - buf) + 2;
        ssize_t n = t->ops->read(t, buf + *len, cap - *len);
        cr_assert_gt(n, 0, "read: %zd", n);
        *len += (size_t)n;
    }
}

static int starttls_server(void *arg)
{
    struct starttls *x = arg;
    cio_socket *c;
    cr_assert_eq(cio_socket_accept(x->listener, &c, NULL), 0);
    cio_transport *plain = NULL, *t = NULL;
    cr_assert_eq(cio_sock_transport_new(&plain, c), 0);
    cr_assert_eq(send_text(plain, "220 cio ESMTP\r\n"), 0);
    /* Let a pipelining client's hello reach us with the command. */
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    char buf[4096];
    size_t len, line = read_line(plain, buf, sizeof buf, &len);
    cr_assert_eq(memcmp(buf, "STARTTLS\r\n", line), 0);
    if (!x->pipelined)
        cr_assert_eq(send_text(plain, "220 go ahead\r\n"), 0);
    x->preread = len - line;
    x->server_rc = cio_tls_transport_new(&t, plain, x->server_ctx, NULL, buf + line, len - line);
    if (x->server_rc < 0)
        return x->server_rc;
    expect_text(t, "EHLO again");
    cr_assert_eq(send_text(t, "250 secure"), 0);
    return t->ops->close(t, false);
}

static int starttls_client(void *arg)
{
    struct starttls *x = arg;
    cio_addr a;
    cio_socket *sock;
    cr_assert_eq(cio_addr_ip(&a, "127.0.0.1", x->port), 0);
    cr_assert_eq(cio_connect_addr(&sock, &a), 0);
    cio_transport *plain = NULL, *t = NULL;
    cr_assert_eq(cio_sock_transport_new(&plain, sock), 0);
    expect_text(plain, "220 cio ESMTP\r\n");
    cr_assert_eq(send_text(plain, "STARTTLS\r\n"), 0);
    if (!x->pipelined)
        expect_text(plain, "220 go ahead\r\n");
    x->client_rc = cio_tls_transport_new(&t, plain, x->client_ctx, "localhost", NULL, 0);
    if (x->client_rc < 0)
        return x->client_rc;
    cr_assert_eq(send_text(t, "EHLO again"), 0);
    expect_text(t, "250 secure");
    char c;
    cr_assert_eq(t->ops->read(t, &c, 1), 0);
    return t->ops->close(t, false);
}

static int starttls_main(void *arg)
{
    struct starttls *x = arg;
    listen_local(&x->listener, &x->port);
    cio_task *st = spawn(starttls_server, x, "server");
    cio_task *ct = spawn(starttls_client, x, "client");
    cr_assert_eq(cio_task_join(ct, NULL), 0);
    cr_assert_eq(cio_task_join(st, NULL), 0);
    cio_socket_close(x->listener);
    return 0;
}

static void starttls_case(bool pipelined)
{
    struct starttls x = { .server_ctx = server_ctx(), .client_ctx = client_ctx(true),
                          .pipelined = pipelined };
    cr_assert_eq(run_virtual(starttls_main, &x), 0);
    cr_assert_eq(x.client_rc, 0);
    cr_assert_eq(x.server_rc, 0);
    if (pipelined)
        cr_assert_gt(x.preread, 0, "the hello came with the command");
    else
        cr_assert_eq(x.preread, 0);
    cio_tls_ctx_free(x.server_ctx);
    cio_tls_ctx_free(x.client_ctx);
}

Test(tls_io, starttls_after_a_plaintext_exchange, WITH_PKI) { starttls_case(false); }
Test(tls_io, starttls_with_the_hello_read_along_with_the_command, WITH_PKI) { starttls_case(true); }

/* ---- closing under a reader -------------------------------------------------------- */

static int parked_reader(void *arg)
{
    cio_transport *t = arg;
    char c;
    return (int)t->ops->read(t, &c, 1);
}

/* Another task closes the connection while one is parked reading: the
 * reader ends with -EBADF and nothing is used after it is freed. */
static int close_under_reader(side *s, cio_transport *t)
{
    (void)s;
    cio_task *reader = spawn(parked_reader, t, "reader");
    cr_assert_eq(cio_sleep(CIO_SEC), 0);
    cr_assert_eq(t->ops->close(t, false), 0);
    cr_assert_eq(cio_task_join(reader, NULL), -EBADF);
    return 0;
}

static int read_eof(side *s, cio_transport *t)
{
    (void)s;
    char c;
    return (int)t->ops->read(t, &c, 1);
}

Test(tls_io, close_while_another_task_reads, WITH_PKI)
{
    side server = { .ctx = server_ctx(), .body = read_eof };
    side client = { .ctx = client_ctx(true), .name = "localhost", .body = close_under_reader,
                    .body_closes = true };
    run_pair(&server, &client);
    cr_assert_eq(client.handshake, 0, "%s", client.why);
    cr_assert_eq(client.status, 0);
    cr_assert_eq(server.status, 0, "close_notify reached the server");
}

/* cio_tls_transport_start (what the stream's start_tls uses) leaves the
 * plain connection to the caller when the handshake fails. */
static int starttls_server_refused(void *arg)
{
    struct starttls *x = arg;
    cio_socket *c;
    cr_assert_eq(cio_socket_accept(x->listener, &c, NULL), 0);
    cio_transport *plain = NULL, *t = NULL;
    cr_assert_eq(cio_sock_transport_new(&plain, c), 0);
    x->server_rc = cio_tls_transport_start(&t, plain, x->server_ctx, NULL, NULL, 0);
    cr_assert_eq(send_text(plain, "454 TLS failed\r\n"), 0);
    return plain->ops->close(plain, false);
}

static int starttls_client_garbage(void *arg)
{
    struct starttls *x = arg;
    cio_addr a;
    cio_socket *sock;
    cr_assert_eq(cio_addr_ip(&a, "127.0.0.1", x->port), 0);
    cr_assert_eq(cio_connect_addr(&sock, &a), 0);
    cio_transport *plain = NULL;
    cr_assert_eq(cio_sock_transport_new(&plain, sock), 0);
    cr_assert_eq(send_text(plain, "HELO not a client hello\r\n"), 0);
    char buf[64];
    size_t len, line = read_line(plain, buf, sizeof buf, &len);
    cr_assert_eq(line, 16);
    cr_assert_eq(memcmp(buf, "454 TLS failed\r\n", 16), 0);
    return plain->ops->close(plain, false);
}

static int starttls_refused_main(void *arg)
{
    struct starttls *x = arg;
    listen_local(&x->listener, &x->port);
    cio_task *st = spawn(starttls_server_refused, x, "server");
    cio_task *ct = spawn(starttls_client_garbage, x, "client");
    cr_assert_eq(cio_task_join(ct, NULL), 0);
    cr_assert_eq(cio_task_join(st, NULL), 0);
    cio_socket_close(x->listener);
    return 0;
}

Test(tls_io, failed_start_leaves_the_plain_connection_to_the_caller, WITH_PKI)
{
    struct starttls x = { .server_ctx = server_ctx() };
    cr_assert_eq(run_virtual(starttls_refused_main, &x), 0);
    cr_assert_eq(x.server_rc, CIO_ETLS);
    cio_tls_ctx_free(x.server_ctx);
}
