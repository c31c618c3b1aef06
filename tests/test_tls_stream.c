/* test_tls_stream.c — TLS through the stream API: cio_tls_connect, a
 * server with cio_server_opts.tls, cio_stream_start_tls (STARTTLS), the
 * handshake timeouts, and what a TLS stream tells of its handshake. */
#include "helpers.h"

#include <cio/server.h>
#include <cio/stream.h>
#include <cio/tls.h>

#include "tls_certs.h"


static void port_of(cio_server *srv, char *port, size_t size)
{
    cio_addr a;
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    snprintf(port, size, "%u", cio_addr_port(&a));
}

static void expect_line(cio_stream *st, const char *want)
{
    char line[256];
    ssize_t n = cio_stream_read_line(st, line, sizeof line);
    cr_assert_gt(n, 0, "read_line: %s", cio_errname((int)n));
    cr_assert_str_eq(line, want);
}

static void say(cio_stream *st, const char *text)
{
    cr_assert_eq(cio_stream_write(st, text, strlen(text)), 0);
}

/* ---- a TLS server and clients --------------------------------------------------- */

struct echo_server {
    cio_tls_ctx *ctx;           /* freed right after the server starts */
    cio_server *srv;
    char port[8];
    int calls;
    char sni[64], alpn[16];
    const char *client_alpn[2];
    size_t client_alpn_n;
    bool trust;                 /* the clients trust the test CA */
    int clients;
    int client_rc[32];
    char why[320];
};

/* Echo lines until EOF, noting what the handshake settled. */
static int echo_lines(cio_stream *st, void *arg)
{
    struct echo_server *e = arg;
    e->calls++;
    const char *sni = cio_stream_tls_server_name(st);
    const char *alpn = cio_stream_tls_alpn(st);
    snprintf(e->sni, sizeof e->sni, "%s", sni ? sni : "(none)");
    snprintf(e->alpn, sizeof e->alpn, "%s", alpn ? alpn : "(none)");
    char line[256];
    ssize_t n;
    while ((n = cio_stream_read_line(st, line, sizeof line)) > 0) {
        int rc = cio_stream_write(st, line, (size_t)n);
        if (rc < 0)
            return rc;
    }
    return (int)n;
}

static int echo_client(void *arg)
{
    struct echo_server *e = arg;
    cio_tls_ctx *ctx = client_ctx(e->trust);
    if (e->client_alpn_n)
        cr_assert_eq(cio_tls_ctx_set_alpn(ctx, e->client_alpn, e->client_alpn_n), 0);
    cio_stream *st;
    cio_tls_connect_opts o = { .server_hostname = "localhost" };
    int rc = cio_tls_connect(&st, "127.0.0.1", e->port, ctx, &o);
    cio_tls_ctx_free(ctx);
    if (rc < 0) {
        cio_tls_last_error(e->why, sizeof e->why);
        return rc;
    }
    cr_assert(cio_stream_is_tls(st));
    cr_assert_str_eq(cio_stream_tls_version(st), "TLSv1.3");
    char subject[128];
    cr_assert_gt(cio_stream_tls_peer_subject(st, subject, sizeof subject), 0);
    cr_assert_str_eq(subject, "CN=localhost,O=cio tests");
    for (int i = 0; i < 3; i++) {
        char line[32];
        snprintf(line, sizeof line, "line %d of %p\n", i, (void *)st);
        say(st, line);
        cr_assert_eq(cio_stream_drain(st), 0);
        expect_line(st, line);
    }
    return cio_stream_close(st);
}

static int run_echo(void *arg)
{
    struct echo_server *e = arg;
    cio_server_opts o = { .tls = e->ctx };
    cr_assert_eq(cio_tcp_server(&e->srv, "127.0.0.1", 0, echo_lines, e, &o), 0);
    cio_tls_ctx_free(e->ctx);   /* the server holds its own reference */
    port_of(e->srv, e->port, sizeof e->port);
    cio_task *t[32];
    for (int i = 0; i < e->clients; i++)
        t[i] = spawn(echo_client, e, "client");
    for (int i = 0; i < e->clients; i++)
        e->client_rc[i] = cio_task_join(t[i], NULL);
    return 0;
}

struct stats_run {
    struct echo_server *e;
    cio_server_stats stats;
};

/* Run the server and its clients, then stop it; returns its stats. */
static int echo_then_stats(void *arg)
{
    struct stats_run *r = arg;
    run_echo(r->e);
    /* The clients are done; let the handlers finish too. */
    do
        cio_server_get_stats(r->e->srv, &r->stats);
    while (r->stats.active && cio_sleep(CIO_MS) == 0);
    return cio_server_stop(r->e->srv, CIO_SEC);
}

static cio_server_stats serve_and_stop(struct echo_server *e)
{
    struct stats_run r = { .e = e };
    cr_assert_eq(run_virtual(echo_then_stats, &r), 0);
    return r.stats;
}

Test(tls_stream, server_and_clients_echo_lines, WITH_PKI)
{
    struct echo_server e = { .ctx = server_ctx(), .trust = true, .clients = 20 };
    const char *alpn[] = { "h2", "http/1.1" };
    cr_assert_eq(cio_tls_ctx_set_alpn(e.ctx, alpn, 2), 0);
    e.client_alpn[0] = "http/1.1";
    e.client_alpn[1] = "h2";
    e.client_alpn_n = 2;
    cio_server_stats s = serve_and_stop(&e);
    for (int i = 0; i < e.clients; i++)
        cr_assert_eq(e.client_rc[i], 0, "client %d: %s %s", i, cio_errname(e.client_rc[i]),
                     e.why);
    cr_assert_eq(e.calls, 20);
    cr_assert_str_eq(e.sni, "localhost");
    cr_assert_str_eq(e.alpn, "h2");
    cr_assert_eq(s.accepted, 20);
    cr_assert_eq(s.failed, 0);
    cr_assert_eq(s.handshakes_failed, 0);
}

Test(tls_stream, a_failed_handshake_skips_the_handler, WITH_PKI)
{
    struct echo_server e = { .ctx = server_ctx(), .trust = false, .clients = 1 };
    cio_server_stats s = serve_and_stop(&e);
    cr_assert_eq(e.client_rc[0], CIO_ECERT, "got %s", cio_errname(e.client_rc[0]));
    cr_assert(strstr(e.why, "unable to get local issuer"), "reason: %s", e.why);
    cr_assert_eq(e.calls, 0);
    cr_assert_eq(s.handshakes_failed, 1);
    cr_assert_eq(s.failed, 0);
}

/* ---- handshake timeouts ------------------------------------------------------------ */

struct silent {
    cio_tls_ctx *ctx;
    int64_t timeout;
    int64_t took;
    ssize_t got;
    cio_server_stats stats;
};

static int never_called(cio_stream *st, void *arg)
{
    (void)st, (void)arg;
    cr_assert(false, "the handler ran without a handshake");
    return 0;
}

/* A client that connects to a TLS server and says nothing. */
static int mute_client_main(void *arg)
{
    struct silent *x = arg;
    cio_server *srv;
    cio_server_opts o = { .tls = x->ctx, .tls_handshake_timeout = x->timeout };
    cr_assert_eq(cio_tcp_server(&srv, "127.0.0.1", 0, never_called, NULL, &o), 0);
    char port[8];
    port_of(srv, port, sizeof port);
    cio_stream *st;
    cr_assert_eq(cio_open_connection(&st, "127.0.0.1", port, NULL), 0);
    int64_t t0 = cio_now();
    char c;
    x->got = cio_stream_read(st, &c, 1);
    x->took = cio_now() - t0;
    cio_stream_abort(st);
    cio_server_get_stats(srv, &x->stats);
    return cio_server_stop(srv, CIO_SEC);
}

Test(tls_stream, the_server_drops_a_client_that_never_says_hello, WITH_PKI)
{
    struct silent x = { .ctx = server_ctx() };
    cr_assert_eq(run_virtual(mute_client_main, &x), 0);
    cr_assert_eq(x.got, 0, "the server closed the connection");
    cr_assert_eq(x.took, 60 * CIO_SEC, "asyncio's default handshake timeout");
    cr_assert_eq(x.stats.handshakes_failed, 1);
    cio_tls_ctx_free(x.ctx);

    struct silent y = { .ctx = server_ctx(), .timeout = 5 * CIO_SEC };
    cr_assert_eq(run_virtual(mute_client_main, &y), 0);
    cr_assert_eq(y.took, 5 * CIO_SEC);
    cio_tls_ctx_free(y.ctx);
}

/* A plain server that reads and never answers. */
static int swallow(cio_stream *st, void *arg)
{
    (void)arg;
    char buf[512];
    ssize_t n;
    while ((n = cio_stream_read(st, buf, sizeof buf)) > 0)
        ;
    return 0;
}

static int connect_times_out(void *arg)
{
    struct silent *x = arg;
    cio_server *srv;
    cr_assert_eq(cio_tcp_server(&srv, "127.0.0.1", 0, swallow, NULL, NULL), 0);
    char port[8];
    port_of(srv, port, sizeof port);
    cio_stream *st;
    int64_t t0 = cio_now();
    cio_tls_connect_opts o = { .server_hostname = "localhost", .handshake_timeout = x->timeout };
    x->got = cio_tls_connect(&st, "127.0.0.1", port, x->ctx, &o);
    x->took = cio_now() - t0;
    return cio_server_stop(srv, CIO_SEC);
}

Test(tls_stream, connect_gives_up_after_its_handshake_timeout, WITH_PKI)
{
    struct silent x = { .ctx = client_ctx(true), .timeout = 3 * CIO_SEC };
    cr_assert_eq(run_virtual(connect_times_out, &x), 0);
    cr_assert_eq(x.got, -ETIMEDOUT, "got %s", cio_errname((int)x.got));
    cr_assert_eq(x.took, 3 * CIO_SEC);
    cio_tls_ctx_free(x.ctx);
}

/* ---- STARTTLS ---------------------------------------------------------------------- */

struct smtp {
    cio_tls_ctx *server_ctx, *client_ctx;
    bool pipelined;             /* the client sends its hello right behind STARTTLS */
    bool inject;                /* the server sends plaintext after "go ahead" */
    size_t buffered;            /* what the server had buffered at start_tls */
    int server_rc, client_rc;
    char why[320];
};

static int smtp_server(cio_stream *st, void *arg)
{
    struct smtp *x = arg;
    say(st, "220 cio ESMTP\r\n");
    if (x->pipelined)
        cr_assert_eq(cio_sleep(CIO_SEC), 0);    /* the hello arrives with the command */
    expect_line(st, "STARTTLS\r\n");
    if (!x->pipelined)
        say(st, x->inject ? "220 go ahead\r\n250 injected\r\n" : "220 go ahead\r\n");
    x->buffered = cio_stream_buffered(st);
    cr_assert_not(cio_stream_is_tls(st));
    x->server_rc = cio_stream_start_tls(st, x->server_ctx, NULL);
    if (x->server_rc < 0)
        return 0;
    cr_assert(cio_stream_is_tls(st));
    expect_line(st, "EHLO secure\r\n");
    say(st, "250 ok\r\n");
    char c;
    cr_assert_eq(cio_stream_read(st, &c, 1), 0, "close_notify");
    return 0;
}

static int smtp_main(void *arg)
{
    struct smtp *x = arg;
    cio_server *srv;
    cr_assert_eq(cio_tcp_server(&srv, "127.0.0.1", 0, smtp_server, x, NULL), 0);
    char port[8];
    port_of(srv, port, sizeof port);
    cio_stream *st;
    cr_assert_eq(cio_open_connection(&st, "127.0.0.1", port, NULL), 0);
    expect_line(st, "220 cio ESMTP\r\n");
    say(st, "STARTTLS\r\n");
    if (!x->pipelined)
        expect_line(st, "220 go ahead\r\n");
    x->client_rc = cio_stream_start_tls(st, x->client_ctx, "localhost");
    if (x->client_rc == 0) {
        say(st, "EHLO secure\r\n");
        expect_line(st, "250 ok\r\n");
    } else {
        cio_tls_last_error(x->why, sizeof x->why);
    }
    int rc = cio_stream_close(st);
    (void)rc;
    return cio_server_stop(srv, CIO_SEC);
}

static void smtp_case(struct smtp *x)
{
    x->server_ctx = server_ctx();
    x->client_ctx = client_ctx(true);
    cr_assert_eq(run_virtual(smtp_main, x), 0);
    cio_tls_ctx_free(x->server_ctx);
    cio_tls_ctx_free(x->client_ctx);
}

Test(tls_stream, starttls_after_a_plaintext_exchange, WITH_PKI)
{
    struct smtp x = { 0 };
    smtp_case(&x);
    cr_assert_eq(x.client_rc, 0, "%s: %s", cio_errname(x.client_rc), x.why);
    cr_assert_eq(x.server_rc, 0);
    cr_assert_eq(x.buffered, 0);
}

Test(tls_stream, starttls_takes_the_hello_already_buffered, WITH_PKI)
{
    struct smtp x = { .pipelined = true };
    smtp_case(&x);
    cr_assert_eq(x.client_rc, 0, "%s: %s", cio_errname(x.client_rc), x.why);
    cr_assert_eq(x.server_rc, 0);
    cr_assert_gt(x.buffered, 0, "the hello was in the stream's buffer (%zu)", x.buffered);
}

Test(tls_stream, plaintext_injected_before_the_handshake_is_refused, WITH_PKI)
{
    /* A man in the middle appends a reply to "go ahead": it must not be
     * read as if it had come over TLS (the STARTTLS injection attack). */
    struct smtp x = { .inject = true };
    smtp_case(&x);
    cr_assert_eq(x.client_rc, CIO_ETLS, "got %s", cio_errname(x.client_rc));
    cr_assert_lt(x.server_rc, 0);
}

/* ---- half-close ------------------------------------------------------------------- */

static int answer_at_eof(cio_stream *st, void *arg)
{
    (void)arg;
    char *all;
    ssize_t n = cio_stream_read_all(st, &all, 1 << 20);
    cr_assert_eq(n, 7, "got %zd", n);
    cr_assert_str_eq(all, "request");
    free(all);
    say(st, "response");
    return 0;
}

static int half_close_main(void *arg)
{
    cio_tls_ctx **ctx = arg;
    cio_server *srv;
    cio_server_opts o = { .tls = ctx[0] };
    cr_assert_eq(cio_tcp_server(&srv, "127.0.0.1", 0, answer_at_eof, NULL, &o), 0);
    char port[8];
    port_of(srv, port, sizeof port);
    cio_stream *st;
    cr_assert_eq(cio_tls_connect(&st, "127.0.0.1", port, ctx[1],
                                 &(cio_tls_connect_opts){ .server_hostname = "localhost" }), 0);
    say(st, "request");
    cr_assert_eq(cio_stream_write_eof(st), 0);
    char *all;
    cr_assert_eq(cio_stream_read_all(st, &all, 1 << 20), 8);
    cr_assert_str_eq(all, "response");
    free(all);
    cr_assert(cio_stream_at_eof(st));
    cr_assert_eq(cio_stream_close(st), 0);
    return cio_server_stop(srv, CIO_SEC);
}

Test(tls_stream, write_eof_then_read_the_answer, WITH_PKI)
{
    cio_tls_ctx *ctx[2] = { server_ctx(), client_ctx(true) };
    cr_assert_eq(run_virtual(half_close_main, ctx), 0);
    cio_tls_ctx_free(ctx[0]);
    cio_tls_ctx_free(ctx[1]);
}

/* ---- misuse -------------------------------------------------------------------------- */

static int misuse_main(void *arg)
{
    (void)arg;
    cio_tls_ctx *srv_ctx = server_ctx(), *cli_ctx = client_ctx(true);
    cio_server *srv;
    cio_server_opts o = { .tls = cli_ctx };
    cr_assert_eq(cio_tcp_server(&srv, "127.0.0.1", 0, echo_lines, NULL, &o), -EINVAL,
                 "a server needs a server context");
    cio_stream *st;
    cr_assert_eq(cio_tls_connect(&st, "127.0.0.1", "1", srv_ctx, NULL), -EINVAL,
                 "a client needs a client context");
    cr_assert_eq(cio_tls_connect(&st, "127.0.0.1", "1", cli_ctx,
                                 &(cio_tls_connect_opts){ .server_hostname = "" }),
                 -EINVAL, "no name to check");
    cio_tls_ctx_free(srv_ctx);
    cio_tls_ctx_free(cli_ctx);
    return 0;
}

Test(tls_stream, contexts_must_fit_their_role, WITH_PKI)
{
    cr_assert_eq(run_virtual(misuse_main, NULL), 0);
}
