/* curl_error.c — libcurl's result codes as cio's error codes, and the
 * thread's last libcurl message. */
#include "http_internal.h"

#include <errno.h>
#include <stdio.h>

static __thread char last_error[CURL_ERROR_SIZE];

void cio_http_set_last_error(const char *msg)
{
    snprintf(last_error, sizeof last_error, "%s", msg);
}

const char *cio_http_last_error(void) { return last_error; }

/* The system's errno behind a socket failure, if libcurl kept one. */
static int os_error(long os_errno, int fallback)
{
    return os_errno > 0 && os_errno < 4096 ? -(int)os_errno : fallback;
}

int cio_http_error_from_curl(CURLcode code, long os_errno)
{
    switch (code) {
    case CURLE_OK:
        return 0;
    case CURLE_UNSUPPORTED_PROTOCOL:
        return -EPROTONOSUPPORT;
    case CURLE_URL_MALFORMAT:
        return -EINVAL;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
        return CIO_ENOHOST;
    case CURLE_COULDNT_CONNECT:
        return os_error(os_errno, -ECONNREFUSED);
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_SEND_ERROR:
        return os_error(os_errno, -EPIPE);
    case CURLE_RECV_ERROR:
        return os_error(os_errno, -ECONNRESET);
    case CURLE_GOT_NOTHING:             /* closed before any response */
        return -ECONNRESET;
    case CURLE_PARTIAL_FILE:            /* closed before the announced end */
        return CIO_EINCOMPLETE;
    case CURLE_TOO_MANY_REDIRECTS:
        return CIO_ETOOMANYREDIRECTS;
    case CURLE_FILESIZE_EXCEEDED:
        return CIO_ETOOBIG;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_ABORTED_BY_CALLBACK:
        return -ECANCELED;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return CIO_ECERT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_SHUTDOWN_FAILED:
        return CIO_ETLS;
    default:
        return CIO_EHTTP;
    }
}
