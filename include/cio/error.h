/* cio/error.h — error codes.
 *
 * Every fallible cio call returns an int: >= 0 on success (a count where
 * useful), a negative errno on failure. cio never sets the global errno as
 * its way of reporting. The codes below are cio's own, for conditions no
 * errno names; they are negative too and live above the errno range.
 */
#ifndef CIO_ERROR_H
#define CIO_ERROR_H

#include <errno.h>   /* the E* codes cio returns, negated */

#include "base.h"

#pragma GCC visibility push(default)

enum {
    CIO_EBROKEN = -4096,   /* a barrier was aborted or reset while waited on */
    /* Name resolution (cio_dns_resolve; the EAI_* codes, see cio/dns.h): */
    CIO_ENOHOST = -4097,   /* no such host (or no address, or no such service) */
    CIO_EDNSAGAIN = -4098, /* temporary failure: the name servers did not answer */
    CIO_EDNSFAIL = -4099,  /* the name servers failed for good */
    CIO_EINCOMPLETE = -4100, /* a stream ended before the bytes asked for
                              * (asyncio.IncompleteReadError) */
    CIO_ELIMIT = -4101,      /* a stream's buffer limit was reached before the
                              * separator (asyncio.LimitOverrunError) */
    /* TLS (cio/tls.h; cio_tls_last_error says why). Numbered apart from
     * the codes above so other modules can add theirs in between. */
    CIO_ETLS = -4112,      /* TLS handshake or protocol failure, alert from the peer */
    CIO_ECERT = -4113,     /* the peer's certificate failed verification */
    CIO_ETRUNCATED = -4114,/* TLS peer closed the connection without close_notify */
    /* Subprocesses and signals (cio/process.h, cio/signal.h). */
    CIO_EINTERRUPTED = -4128, /* cio_run: SIGINT or SIGTERM cancelled the main
                               * task (cio_run_signal says which) */
};

/* A short English description of any code cio returns (negative errno or
 * CIO_E*). Never NULL; unknown codes get a generic text. Never blocks. */
const char *cio_strerror(int code);

/* The symbolic name of a code, e.g. "ECANCELED" or "CIO_EBROKEN"; "OK" for
 * codes >= 0. Never NULL. Never blocks. */
const char *cio_errname(int code);

#pragma GCC visibility pop

#endif
