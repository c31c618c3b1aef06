/* test_log.c — the log helper: prefix (time, level, task), levels, JSON
 * lines with escaping and extra fields, outputs (FILE*, fd, stderr). Each
 * Criterion test runs in its own process, so settings do not leak. */
#include "helpers.h"

#include <regex.h>
#include <unistd.h>

static char *text;
static size_t text_len;
static FILE *mem;

static void to_memory(void)
{
    mem = open_memstream(&text, &text_len);
    cr_assert_not_null(mem);
    cio_log_set_output(mem);
}

static const char *logged(void)
{
    fflush(mem);
    return text;
}

static void assert_matches(const char *s, const char *pattern)
{
    regex_t re;
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0);
    int rc = regexec(&re, s, 0, NULL, 0);
    regfree(&re);
    cr_assert_eq(rc, 0, "\"%s\" does not match /%s/", s, pattern);
}

#define TS "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"

static int log_in_task(void *arg)
{
    (void)arg;
    cio_log_info("hello %d", 42);
    cio_log_debug("dropped: below the default level");
    cio_log_error("bad %s", "thing");
    return 0;
}

static int text_main(void *arg)
{
    cio_task *t = spawn(log_in_task, arg, "worker-1");
    return cio_task_join(t, NULL);
}

Test(log, text_lines_carry_time_level_and_task)
{
    to_memory();
    cio_log_warn("before any loop");
    cr_assert_eq(run_virtual(text_main, NULL), 0);
    const char *s = logged();
    assert_matches(s, "^" TS " WARN  \\[-\\] before any loop\n"
                      TS " INFO  \\[worker-1\\] hello 42\n"
                      TS " ERROR \\[worker-1\\] bad thing\n$");
}

Test(log, loop_context_and_main_task)
{
    to_memory();
    cio_loop *L = cio_loop_create(NULL);
    cr_assert_not_null(L);
    cio_log_info("from the loop thread");
    cio_loop_close(L);
    assert_matches(logged(), "^" TS " INFO  \\[loop\\] from the loop thread\n$");
}

Test(log, levels_filter_lines)
{
    to_memory();
    cio_log_set_level(CIO_LOG_WARN);
    cr_assert_not(cio_log_enabled(CIO_LOG_INFO));
    cr_assert(cio_log_enabled(CIO_LOG_ERROR));
    cio_log_info("no");
    cio_log_warn("yes");
    cio_log_set_level(CIO_LOG_DEBUG);
    cio_log_debug("debug too");
    assert_matches(logged(), "^" TS " WARN  \\[-\\] yes\n" TS " DEBUG \\[-\\] debug too\n$");
}

Test(log, text_fields_are_key_value_pairs)
{
    to_memory();
    cio_log_kv(CIO_LOG_INFO, "done", CIO_KV_STR("who", "a b"), CIO_KV_STR("path", "/x"),
               CIO_KV_INT("n", 5), CIO_KV_BOOL("ok", false));
    assert_matches(logged(), "^" TS " INFO  \\[-\\] done who=\"a b\" path=/x n=5 ok=false\n$");
}

static int json_task(void *arg)
{
    (void)arg;
    cio_log_kv(CIO_LOG_WARN, "say \"hi\"\n\\ \x01",
               CIO_KV_STR("path", "a\\b\t\"c\""), CIO_KV_INT("n", -3),
               CIO_KV_BOOL("ok", true), CIO_KV_FLOAT("x", 1.5), CIO_KV_STR("none", NULL),
               CIO_KV_STR("utf8", "caf\xc3\xa9"));
    cio_log_info("%s=%d", "plain", 7);
    return 0;
}

static int json_main(void *arg)
{
    cio_task *t = spawn(json_task, arg, "j\"son");
    return cio_task_join(t, NULL);
}

Test(log, json_lines_escape_and_carry_fields)
{
    to_memory();
    cio_log_set_json(true);
    cr_assert_eq(run_virtual(json_main, NULL), 0);
    const char *s = logged();
    assert_matches(s, "^\\{\"ts\":\"" TS "\",\"level\":\"warn\",\"task\":\"j\\\\\"son\","
                      "\"task_id\":[0-9]+,");
    cr_assert(strstr(s, ",\"msg\":\"say \\\"hi\\\"\\n\\\\ \\u0001\","
                        "\"path\":\"a\\\\b\\t\\\"c\\\"\",\"n\":-3,\"ok\":true,\"x\":1.5,"
                        "\"none\":null,\"utf8\":\"caf\xc3\xa9\"}\n"), "%s", s);
    cr_assert(strstr(s, "\"level\":\"info\""), "%s", s);
    cr_assert(strstr(s, "\"msg\":\"plain=7\"}\n"), "%s", s);
    /* Two lines, each one JSON object. */
    const char *nl = strchr(s, '\n');
    cr_assert(nl && nl[1] == '{' && strchr(nl + 1, '\n')[1] == '\0');
}

Test(log, json_mode_from_the_environment)
{
    setenv("CIO_LOG", "json", 1);
    setenv("CIO_LOG_LEVEL", "error", 1);
    to_memory();
    cio_log_warn("dropped");
    cio_log_error("kept");
    assert_matches(logged(), "^\\{\"ts\":\"" TS "\",\"level\":\"error\",\"task\":\"-\","
                             "\"msg\":\"kept\"\\}\n$");
}

Test(log, to_a_descriptor)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cio_log_set_fd(fds[1]);
    cio_log_info("through %s", "a pipe");
    close(fds[1]);
    char buf[256];
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    cr_assert_gt(n, 0);
    buf[n] = '\0';
    close(fds[0]);
    assert_matches(buf, "^" TS " INFO  \\[-\\] through a pipe\n$");
}

Test(log, to_stderr_by_default, .init = cr_redirect_stderr)
{
    cio_log_info("on stderr");
    assert_matches(captured_stderr(), "^" TS " INFO  \\[-\\] on stderr\n$");
}

Test(log, long_lines_are_whole)
{
    to_memory();
    static char big[5000];
    memset(big, 'x', sizeof big - 1);
    cio_log_info("%s|end", big);
    const char *s = logged();
    cr_assert(strstr(s, big));
    cr_assert(strstr(s, "|end\n"));
}
