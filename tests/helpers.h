/* helpers.h — shared by the test files. */
#ifndef CIO_TEST_HELPERS_H
#define CIO_TEST_HELPERS_H

#include <cio.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run fn(arg) as the main task of a fresh loop on the virtual clock, so
 * sleeps and timeouts take no real time; returns main's status. */
static inline int run_virtual(cio_task_fn *fn, void *arg)
{
    cio_loop_options o = { .virtual_clock = true };
    return cio_run_with(&o, fn, arg);
}

/* Run on the real clock. */
static inline int run_real(cio_task_fn *fn, void *arg)
{
    cio_loop_options o = { .virtual_clock = false };
    return cio_run_with(&o, fn, arg);
}

/* Spawn or fail the test. */
static inline cio_task *spawn(cio_task_fn *fn, void *arg, const char *name)
{
    cio_task *t = NULL;
    int rc = cio_task_spawn(&t, fn, arg, &(cio_task_opts){ .name = name });
    cr_assert_eq(rc, 0, "spawn failed: %d", rc);
    return t;
}

/* Everything written to the redirected stderr so far (call
 * cr_redirect_stderr in the test's .init). Returns a static buffer. */
static inline const char *captured_stderr(void)
{
    static char buf[65536];
    fflush(stderr);
    FILE *f = cr_get_redirected_stderr();
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    return buf;
}

#endif
