/* backend_available.c — exits 0 if a loop can be made on the backend named
 * by argv[1], else prints why and exits 1. scripts/run-tests asks it before
 * running the suite on io_uring (the kernel may lack it, or refuse it:
 * /proc/sys/kernel/io_uring_disabled, seccomp). */
#include <cio.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: backend-available epoll|io_uring\n");
        return 2;
    }
    cio_loop *loop = cio_loop_create(&(cio_loop_options){ .backend = argv[1] });
    if (!loop) {
        perror(argv[1]);
        return 1;
    }
    cio_loop_close(loop);
    return 0;
}
