/* process_spawn.c — starting a child: pipes, posix_spawnp, the pidfd.
 *
 * glibc's posix_spawn starts the child with clone(CLONE_VM | CLONE_VFORK)
 * and reports an exec that failed (or a file action: chdir, open) as its
 * return value, so -ENOENT reaches the caller instead of a child that exits
 * 127. The pidfd is opened right after: the child cannot have been reaped
 * in between (only we wait for it; see process.h on SIGCHLD), so the pid
 * still names it. docs/decisions.md, "Subprocesses: posix_spawn + pidfd".
 */
#include "process_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../io/pipe_transport.h"
#include "../io/stream_internal.h"

extern char **environ;

/* The descriptors of one spawn: the child's end of each pipe (or -1) and
 * the parent's. */
typedef struct spawn_fds {
    int child[3];
    int parent[3];
} spawn_fds;

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void close_all(spawn_fds *f)
{
    for (int i = 0; i < 3; i++) {
        close_fd(&f->child[i]);
        close_fd(&f->parent[i]);
    }
}

/* Keep pipe ends off 0, 1 and 2 (a parent that closed its standard
 * descriptors), so one dup2 in the child cannot clobber another's source. */
static int above_stdio(int fd)
{
    if (fd > 2)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int err = errno;
    close(fd);
    errno = err;
    return moved;
}

/* A pipe for child descriptor i (0: the child reads; 1, 2: it writes). */
static int make_pipe(spawn_fds *f, int i)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    int rd = above_stdio(p[0]);
    int wr = above_stdio(p[1]);
    if (rd < 0 || wr < 0) {
        int rc = -errno;
        if (rd >= 0)
            close(rd);
        if (wr >= 0)
            close(wr);
        return rc;
    }
    f->child[i] = i == 0 ? rd : wr;
    f->parent[i] = i == 0 ? wr : rd;
    return 0;
}

/* The file action that gives the child descriptor i its mode. */
static int add_action(posix_spawn_file_actions_t *fa, spawn_fds *f, int i, cio_stdio mode)
{
    switch (mode) {
    case CIO_STDIO_INHERIT:
        return 0;
    case CIO_STDIO_PIPE: {
        int rc = make_pipe(f, i);
        return rc < 0 ? rc : -posix_spawn_file_actions_adddup2(fa, f->child[i], i);
    }
    case CIO_STDIO_DEVNULL:
        return -posix_spawn_file_actions_addopen(fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
    case CIO_STDIO_STDOUT:
        return i == 2 ? -posix_spawn_file_actions_adddup2(fa, 1, 2) : -EINVAL;
    }
    return -EINVAL;
}

/* The child starts with no signal blocked (the loop thread blocks those it
 * waits for with signalfd) and SIGPIPE back at its default if cio ignored
 * it. */
static int set_attributes(posix_spawnattr_t *attr, bool new_group)
{
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    short flags = POSIX_SPAWN_SETSIGMASK;
    if (cio_pipe_ignore_sigpipe()) {
        sigaddset(&dfl, SIGPIPE);
        flags |= POSIX_SPAWN_SETSIGDEF;
    }
    if (new_group)
        flags |= POSIX_SPAWN_SETPGROUP;
    int rc = posix_spawnattr_setflags(attr, flags);
    if (!rc)
        rc = posix_spawnattr_setsigmask(attr, &none);
    if (!rc)
        rc = posix_spawnattr_setsigdefault(attr, &dfl);
    if (!rc && new_group)
        rc = posix_spawnattr_setpgroup(attr, 0);
    return -rc;
}

static int run_spawn(pid_t *pid, char *const argv[], const cio_process_opts *o, spawn_fds *f)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    if (posix_spawn_file_actions_init(&fa))
        return -ENOMEM;
    if (posix_spawnattr_init(&attr)) {
        posix_spawn_file_actions_destroy(&fa);
        return -ENOMEM;
    }
    int rc = add_action(&fa, f, 0, o->stdin_mode);
    if (rc == 0)
        rc = add_action(&fa, f, 1, o->stdout_mode);
    if (rc == 0)
        rc = add_action(&fa, f, 2, o->stderr_mode);
    if (rc == 0 && o->cwd)
        rc = -posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
    if (rc == 0)
        rc = set_attributes(&attr, o->new_group);
    if (rc == 0)
        rc = -posix_spawnp(pid, argv[0], &fa, &attr, argv, o->env ? o->env : environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* The parent's end of pipe i as a stream (fd taken: closed on failure). */
static int wrap_pipe(cio_stream **out, int *fd, const cio_stream_opts *opts)
{
    cio_transport *t;
    int rc = cio_pipe_transport_new(&t, *fd);
    *fd = -1;
    return rc < 0 ? rc : cio_stream_from_transport(out, t, opts);
}

static int open_streams(cio_process *p, spawn_fds *f, const cio_stream_opts *opts)
{
    cio_stream **s[3] = { &p->in, &p->out, &p->err };
    for (int i = 0; i < 3; i++) {
        if (f->parent[i] < 0)
            continue;
        int rc = wrap_pipe(s[i], &f->parent[i], opts);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A spawned child we cannot keep: kill and reap it. */
static void discard_child(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

static int spawn_checked(cio_process *p, char *const argv[], const cio_process_opts *o,
                         spawn_fds *f)
{
    int rc = run_spawn(&p->pid, argv, o, f);
    for (int i = 0; i < 3; i++)
        close_fd(&f->child[i]);
    if (rc < 0)
        return rc;
    int pidfd = pidfd_open(p->pid, 0);
    if (pidfd < 0) {
        rc = -errno;
        discard_child(p->pid);
        return rc;
    }
    rc = cio_fd_open(&p->pidfd, pidfd, 0);
    if (rc < 0) {
        close(pidfd);
        p->pidfd.fd = -1;
        discard_child(p->pid);
        return rc;
    }
    cio_handle_track(&p->handle, cio_process_kind, pidfd);
    return open_streams(p, f, o->stream_opts);
}

int cio_process_spawn(cio_process **out, char *const argv[], const cio_process_opts *opts)
{
    static const cio_process_opts defaults;
    const cio_process_opts *o = opts ? opts : &defaults;
    if (!argv || !argv[0] || !argv[0][0] || o->stdin_mode == CIO_STDIO_STDOUT ||
        o->stdout_mode == CIO_STDIO_STDOUT)
        return -EINVAL;
    if (!cio_tls_loop)
        return -EPERM;
    if (cio_process_reaper_attach() < 0)
        return -ENOMEM;
    cio_process *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->pidfd.fd = -1;
    p->code = -1;
    p->new_group = o->new_group;
    spawn_fds f = { { -1, -1, -1 }, { -1, -1, -1 } };
    int rc = spawn_checked(p, argv, o, &f);
    close_all(&f);
    if (rc < 0) {
        if (p->pidfd.fd < 0) {
            free(p);            /* nothing runs */
            return rc;
        }
        /* The child runs but its streams failed (memory): kill it; the
         * loop reaps it. */
        int ignored = cio_process_kill(p);
        (void)ignored;
        cio_process_close(p);
        return rc;
    }
    *out = p;
    return 0;
}
