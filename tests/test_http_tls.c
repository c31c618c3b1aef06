/* test_http_tls.c — the HTTP client over TLS: verification is on by
 * default, a CA file or insecure mode lets the test certificate through. */
#include "http_fixture.h"
#include "tls_certs.h"

#include <unistd.h>

static char ca_path[] = "/tmp/cio-http-ca-XXXXXX";

static int https_main(void *arg)
{
    (void)arg;
    (void)client_ctx;                   /* tls_certs.h's, not needed here */
    cio_tls_ctx *tls = server_ctx();
    fixture fx;
    fixture_start_tls(&fx, tls);
    cio_tls_ctx_free(tls);              /* the server keeps its reference */

    cio_http_session *strict;
    cr_assert_eq(cio_http_session_open(&strict, NULL), 0);
    cio_http_response *r;
    int rc = cio_http_get(strict, fx_url(&fx, "/status/200"), &r);
    cr_assert_eq(rc, CIO_ECERT, "an unknown CA is refused: %s (%s)", cio_strerror(rc),
                 cio_http_last_error());
    cr_assert_null(r);
    cio_http_session_close(strict);

    int fd = mkstemp(ca_path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, pki.ca.text, pki.ca.len), (ssize_t)pki.ca.len);
    close(fd);
    cio_http_options trust = { .ca_file = ca_path };
    cio_http_session *s;
    cr_assert_eq(cio_http_session_open(&s, &trust), 0);
    rc = cio_http_get(s, fx_url(&fx, "/echo"), &r);
    cr_assert_eq(rc, 0, "%s (%s)", cio_strerror(rc), cio_http_last_error());
    cr_assert_eq(cio_http_response_status(r), 200);
    cr_assert(strncmp(cio_http_response_body_data(r), "GET /echo\n", 10) == 0);
    cio_http_response_close(r);
    cio_http_session_close(s);
    unlink(ca_path);

    cio_http_options insecure = { .insecure = true };
    cr_assert_eq(cio_http_session_open(&s, &insecure), 0);
    rc = cio_http_get(s, fx_url(&fx, "/status/201"), &r);
    cr_assert_eq(rc, 0, "%s (%s)", cio_strerror(rc), cio_http_last_error());
    cr_assert_eq(cio_http_response_status(r), 201);
    cio_http_response_close(r);
    cio_http_session_close(s);

    fixture_stop(&fx);
    return 0;
}

Test(http_tls, verification_on_by_default_ca_file_or_insecure_to_pass, WITH_PKI)
{
    cr_assert_eq(run_real(https_main, NULL), 0);
}
