/* cio/socket.h — TCP, Unix and UDP sockets whose calls block only the task.
 *
 * A cio_socket owns one non-blocking descriptor registered with the loop of
 * the thread that opened it; use it only from that loop's tasks. Every call
 * that waits is a cancellation point: it honours the caller's cancel scopes
 * and deadlines (wrap a call in a cio_scope with a deadline for a timeout),
 * and returns a negative errno on failure: -ECANCELED, -ETIMEDOUT,
 * -ECONNRESET, -EPIPE, -ECONNREFUSED... SIGPIPE is never raised.
 *
 * At most one task should read and one write a socket at a time; more are
 * served in order.
 */
#ifndef CIO_SOCKET_H
#define CIO_SOCKET_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "base.h"

#pragma GCC visibility push(default)

typedef struct cio_socket cio_socket;

/* A socket address of any family (IPv4, IPv6, Unix). */
typedef struct cio_addr {
    socklen_t len;
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_un un;
        struct sockaddr_storage ss;
    };
} cio_addr;

/* ---- addresses ----------------------------------------------------------- */

/* A numeric IPv4 or IPv6 address ("127.0.0.1", "::1", "fe80::1%eth0") and a
 * port; no name lookup. Returns 0 or -EINVAL. */
CIO_MUST_CHECK int cio_addr_ip(cio_addr *out, const char *ip, uint16_t port);

/* A Unix socket path; a leading '@' names an abstract socket. Returns 0,
 * or -ENAMETOOLONG. */
CIO_MUST_CHECK int cio_addr_unix(cio_addr *out, const char *path);

/* "127.0.0.1:80", "[::1]:80" or "unix:/path" into buf (always terminated).
 * Returns the length it needed (like snprintf), or -EAFNOSUPPORT. */
int cio_addr_format(const cio_addr *a, char *buf, size_t size);

/* The port of an IP address, 0 for others. */
uint16_t cio_addr_port(const cio_addr *a);

/* ---- opening and closing --------------------------------------------------- */

/* A new socket (domain AF_INET/AF_INET6/AF_UNIX, type SOCK_STREAM/SOCK_DGRAM)
 * on the current loop. Returns 0, -EPERM outside a loop, or the errno of
 * socket(2) (-EMFILE...). Not a cancellation point. */
CIO_MUST_CHECK int cio_socket_open(cio_socket **out, int domain, int type, int protocol);

/* Wrap a descriptor the caller already has (a socketpair end, an inherited
 * listener); cio makes it non-blocking and owns it from then on, even when
 * this fails (it is closed). */
CIO_MUST_CHECK int cio_socket_adopt(cio_socket **out, int fd);

/* Close the socket and free it. Calls other tasks have blocked on it end
 * with -EBADF first. Returns 0, or close(2)'s error (the descriptor is gone
 * either way). Does not block and is not a cancellation point. */
int cio_socket_close(cio_socket *s);

/* The descriptor (still owned by the socket). */
int cio_socket_fd(const cio_socket *s);

/* ---- connecting ---------------------------------------------------------- */

/* Connect s to addr (loop.sock_connect). Returns 0 or a negative errno
 * (-ECONNREFUSED, -ENETUNREACH, -ETIMEDOUT...). A connect that was
 * interrupted (cancelled, timed out) leaves s half-connected: close it.
 * Blocks until connected: a cancellation point. */
CIO_MUST_CHECK int cio_socket_connect(cio_socket *s, const cio_addr *addr);

/* Open a stream socket of addr's family and connect it; on failure nothing
 * is left open. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_connect_addr(cio_socket **out, const cio_addr *addr);

typedef struct cio_connect_opts {
    /* AF_INET or AF_INET6 to use only that family; 0: both. */
    int family;
    /* Happy Eyeballs (RFC 8305): how long to wait for one attempt before
     * starting the next address in parallel. 0: 250 ms; < 0: one address
     * at a time, each to its end. */
    int64_t attempt_delay;
    /* Bind to this local address first (NULL: any). Only addresses of its
     * family are tried. */
    const cio_addr *local;
} cio_connect_opts;

/* asyncio's open_connection without the streams (create_connection's
 * connecting part): connect over TCP to host, a name or a numeric IPv4/IPv6
 * address, and port, a number or a service name ("https"). A numeric host
 * is used as it is: no lookup, no thread. A name is resolved by
 * cio_dns_resolve on the thread pool and every address it has is tried by
 * Happy Eyeballs (RFC 8305): the families interleaved, starting with the
 * one the resolver ranks first (IPv6 where the host has it); each attempt
 * starts when the one before has failed or has run opts->attempt_delay;
 * the first to connect wins and every other attempt is cancelled and its
 * socket closed. The caller's cancel scopes and deadlines reach the lookup
 * and every attempt. Returns 0, or the error of the attempt that failed
 * last (-ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH...), a lookup failure
 * (CIO_ENOHOST..., see cio/dns.h), -EINVAL for a bad port, -EAFNOSUPPORT
 * when no address is of the family opts allows, -ECANCELED. opts may be
 * NULL. Blocks: a cancellation point. */
CIO_MUST_CHECK int cio_tcp_connect(cio_socket **out, const char *host, const char *port,
                                   const cio_connect_opts *opts);

/* Connect to a Unix stream socket at path ('@': abstract). Blocks: a
 * cancellation point. */
CIO_MUST_CHECK int cio_unix_connect(cio_socket **out, const char *path);

/* ---- listening ------------------------------------------------------------ */

typedef struct cio_listen_opts {
    int backlog;            /* 0: SOMAXCONN */
    bool reuse_port;        /* SO_REUSEPORT */
    bool v6_only;           /* an IPv6 listener takes no IPv4 connections */
} cio_listen_opts;

/* A TCP listener (start_server's listening part) on host and port (0: an
 * ephemeral port, see cio_socket_local_addr). host NULL: every interface,
 * IPv6 and IPv4 ("::" taking both; "0.0.0.0" where the kernel has no IPv6).
 * A numeric host is used as it is; a name is resolved (cio_dns_resolve) and
 * its first address used: only then does the call block (a cancellation
 * point). SO_REUSEADDR is set. opts may be NULL. */
CIO_MUST_CHECK int cio_tcp_listen(cio_socket **out, const char *host, uint16_t port,
                                  const cio_listen_opts *opts);

/* A Unix stream listener at path (a stale socket file there is replaced). */
CIO_MUST_CHECK int cio_unix_listen(cio_socket **out, const char *path,
                                   const cio_listen_opts *opts);

/* Wait for and accept one connection (loop.sock_accept); peer (may be NULL)
 * gets its address (an IPv4 peer of a dual-stack listener is ::ffff:a.b.c.d).
 * Returns 0, or a negative errno: -EMFILE/-ENFILE when out of descriptors
 * (the pending connection stays queued; back off before retrying, as
 * cio_server does: retrying at once would spin). Blocks: a cancellation
 * point. */
CIO_MUST_CHECK int cio_socket_accept(cio_socket *listener, cio_socket **out, cio_addr *peer);

/* ---- data ------------------------------------------------------------------ */

/* Receive up to len bytes (loop.sock_recv): blocks until at least one is
 * there. Returns the count, 0 at end of stream (the peer shut down its
 * side), or a negative errno (-ECONNRESET...). A cancellation point. */
CIO_MUST_CHECK ssize_t cio_socket_recv(cio_socket *s, void *buf, size_t len);

/* Send all len bytes, however many writes it takes (loop.sock_sendall).
 * Returns len, or a negative errno (-EPIPE, -ECONNRESET...); interrupted
 * (cancelled, timed out) after some bytes went out, it returns that count
 * instead, so the caller knows what was sent. (Closed by another task, it
 * returns -EBADF, whatever went out.) Blocks while the kernel's buffer is
 * full: a cancellation point. */
CIO_MUST_CHECK ssize_t cio_socket_send(cio_socket *s, const void *buf, size_t len);

/* cio_socket_send for a gather list (at most IOV_MAX entries). */
CIO_MUST_CHECK ssize_t cio_socket_sendv(cio_socket *s, const struct iovec *iov, int iovcnt);

/* shutdown(2): SHUT_WR sends end of stream to the peer. */
CIO_MUST_CHECK int cio_socket_shutdown(cio_socket *s, int how);

/* ---- datagrams (asyncio's datagram endpoints) ----------------------------- */

/* A UDP socket (create_datagram_endpoint) bound to local (NULL: an
 * ephemeral port on every interface of family, AF_INET or AF_INET6; an IPv6
 * socket takes IPv4 too unless the system is set to v6-only). Returns 0,
 * -EAFNOSUPPORT for another family, or bind(2)'s error. Not a cancellation
 * point. */
CIO_MUST_CHECK int cio_udp_open(cio_socket **out, const cio_addr *local, int family);

/* Send one datagram to to (NULL: the connected peer). A datagram goes whole
 * or not at all: returns len, or a negative errno (-EMSGSIZE when it is too
 * big...). Works on any datagram socket (an adopted Unix one too). Blocks
 * only while the send buffer is full: a cancellation point. */
CIO_MUST_CHECK ssize_t cio_socket_sendto(cio_socket *s, const void *buf, size_t len,
                                         const cio_addr *to);

/* Receive one datagram; from (may be NULL) gets the sender. Returns the
 * datagram's full length: if that is more than len, the datagram was
 * truncated to len bytes (MSG_TRUNC) and the rest is gone; 0 is an empty
 * datagram. On a stream socket it is a plain cio_socket_recv. Blocks until
 * a datagram comes: a cancellation point. */
CIO_MUST_CHECK ssize_t cio_socket_recvfrom(cio_socket *s, void *buf, size_t len, cio_addr *from);

/* ---- addresses and options -------------------------------------------------- */

CIO_MUST_CHECK int cio_socket_local_addr(const cio_socket *s, cio_addr *out);
CIO_MUST_CHECK int cio_socket_peer_addr(const cio_socket *s, cio_addr *out);

/* setsockopt(2) / getsockopt(2). */
CIO_MUST_CHECK int cio_socket_setopt(cio_socket *s, int level, int name, const void *val,
                                     socklen_t len);
CIO_MUST_CHECK int cio_socket_getopt(const cio_socket *s, int level, int name, void *val,
                                     socklen_t *len);

/* TCP_NODELAY on or off. */
CIO_MUST_CHECK int cio_socket_set_nodelay(cio_socket *s, bool on);

#pragma GCC visibility pop

#endif
