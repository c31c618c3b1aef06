/* test_http2.c — HTTP/2: a session speaks it over TLS where the server
 * offers it (ALPN), and HTTP/1.1 when told to. The server is a private
 * nginx (Debian's nginx-light, a test dependency) with a certificate of the
 * test's own CA, on a listening socket the test makes on 127.0.0.1 (an
 * ephemeral port) and hands over through nginx's NGINX environment
 * variable (its binary-upgrade inheritance): the socket listens before
 * nginx starts, so the first request needs no waiting for readiness. */
#include "helpers.h"
#include "tls_certs.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NGINX_BIN "/usr/sbin/nginx"
#define FILE_SIZE 20000
#define CONCURRENT 20

typedef struct h2_server {
    char dir[64];
    int listen_fd;
    unsigned port;
    cio_process *proc;
    unsigned char body[FILE_SIZE];
} h2_server;

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    cr_assert_geq(fd, 0, "%s", path);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void write_config(h2_server *s)
{
    char conf[2048];
    int n = snprintf(conf, sizeof conf,
        "daemon off;\n"
        "worker_processes 1;\n"
        "pid %1$s/nginx.pid;\n"
        "error_log %1$s/error.log warn;\n"
        "%2$s\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        "    access_log off;\n"
        "    client_body_temp_path %1$s/tmp;\n"
        "    proxy_temp_path %1$s/tmp;\n"
        "    fastcgi_temp_path %1$s/tmp;\n"
        "    uwsgi_temp_path %1$s/tmp;\n"
        "    scgi_temp_path %1$s/tmp;\n"
        "    server {\n"
        "        listen 127.0.0.1:%3$u ssl http2;\n"
        "        ssl_certificate %1$s/cert.pem;\n"
        "        ssl_certificate_key %1$s/key.pem;\n"
        "        root %1$s/html;\n"
        "    }\n"
        "}\n",
        s->dir, geteuid() == 0 ? "user nobody nogroup;" : "", s->port);
    cr_assert_lt(n, (int)sizeof conf);
    write_file(s->dir, "nginx.conf", conf, (size_t)n);
}

/* The listening socket nginx inherits: no CLOEXEC, so the child has it. */
static void listen_socket(h2_server *s)
{
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s->listen_fd, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    cr_assert_eq(bind(s->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(s->listen_fd, 128), 0);
    socklen_t len = sizeof a;
    cr_assert_eq(getsockname(s->listen_fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
}

static void server_start(h2_server *s)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/cio-h2-XXXXXX");
    cr_assert_not_null(mkdtemp(s->dir));
    cr_assert_eq(chmod(s->dir, 0755), 0);       /* the worker may run as nobody */
    char sub[96];
    snprintf(sub, sizeof sub, "%s/html", s->dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    snprintf(sub, sizeof sub, "%s/tmp", s->dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    for (size_t i = 0; i < FILE_SIZE; i++)
        s->body[i] = (unsigned char)(i * 7 + i / 251);
    write_file(s->dir, "html/file", s->body, FILE_SIZE);
    write_file(s->dir, "cert.pem", pki.server_cert.text, pki.server_cert.len);
    write_file(s->dir, "key.pem", pki.server_key.text, pki.server_key.len);
    listen_socket(s);
    write_config(s);

    char conf[96], log[96], inherit[32], *env[] = { inherit, NULL };
    snprintf(conf, sizeof conf, "%s/nginx.conf", s->dir);
    snprintf(log, sizeof log, "%s/error.log", s->dir);
    snprintf(inherit, sizeof inherit, "NGINX=%d;", s->listen_fd);
    char *argv[] = { NGINX_BIN, "-p", s->dir, "-e", log, "-c", conf, NULL };
    cio_process_opts o = { .env = env, .stdin_mode = CIO_STDIO_DEVNULL,
                           .stdout_mode = CIO_STDIO_DEVNULL };
    int rc = cio_process_spawn(&s->proc, argv, &o);
    cr_assert_eq(rc, 0, "nginx (nginx-light, scripts/install-deps): %s", cio_strerror(rc));
}

static void server_stop(h2_server *s)
{
    cr_assert_eq(cio_process_terminate(s->proc), 0);
    int status = cio_process_wait(s->proc, cio_deadline_after(10 * CIO_SEC));
    cr_assert_geq(status, 0, "nginx stopped: %s", cio_strerror(status));
    cio_process_close(s->proc);
    close(s->listen_fd);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s->dir);
    cr_assert_eq(system(cmd), 0);
}

typedef struct get_case {
    cio_http_session *session;
    const char *url;
    const h2_server *srv;
    int version;
    int rc;
} get_case;

static int get_file(void *arg)
{
    get_case *g = arg;
    cio_http_response *r;
    g->rc = cio_http_get(g->session, g->url, &r);
    if (g->rc < 0)
        return 0;
    cr_assert_eq(cio_http_response_status(r), 200);
    cr_assert_eq(cio_http_response_body_size(r), FILE_SIZE);
    cr_assert_eq(memcmp(cio_http_response_body_data(r), g->srv->body, FILE_SIZE), 0);
    g->version = cio_http_response_http_version(r);
    cio_http_response_close(r);
    return 0;
}

/* CONCURRENT GETs at once on one session; every one must get version. */
static void get_all(h2_server *s, bool http1_only, int version)
{
    char ca[96], url[96];
    snprintf(ca, sizeof ca, "%s/ca.pem", s->dir);
    write_file(s->dir, "ca.pem", pki.ca.text, pki.ca.len);
    snprintf(url, sizeof url, "https://127.0.0.1:%u/file", s->port);
    cio_http_options opts = { .ca_file = ca, .http1_only = http1_only };
    cio_http_session *session;
    cr_assert_eq(cio_http_session_open(&session, &opts), 0);
    get_case g[CONCURRENT];
    cio_group grp;
    cio_group_init(&grp);
    for (int i = 0; i < CONCURRENT; i++) {
        g[i] = (get_case){ .session = session, .url = url, .srv = s, .rc = 1 };
        cr_assert_eq(cio_group_spawn(&grp, NULL, get_file, &g[i], NULL), 0);
    }
    cr_assert_eq(cio_group_wait(&grp), 0);
    cio_group_destroy(&grp);
    for (int i = 0; i < CONCURRENT; i++) {
        cr_assert_eq(g[i].rc, 0, "request %d: %s (%s)", i, cio_strerror(g[i].rc),
                     cio_http_last_error());
        cr_assert_eq(g[i].version, version, "request %d came in %d", i, g[i].version);
    }
    cio_http_session_close(session);
}

static int h2_main(void *arg)
{
    (void)arg;
    (void)server_ctx, (void)client_ctx;     /* tls_certs.h's, not needed here */
    static h2_server s;
    server_start(&s);
    get_all(&s, false, 20);
    get_all(&s, true, 11);
    server_stop(&s);
    return 0;
}

Test(http2, negotiated_over_tls_unless_http1_only, WITH_PKI)
{
    cr_assert_eq(run_real(h2_main, NULL), 0);
}
