/* file_helpers.h — temporary directories and descriptor counts for the
 * file tests (plain C, outside any loop). */
#ifndef CIO_TEST_FILE_HELPERS_H
#define CIO_TEST_FILE_HELPERS_H

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp_root[64];

static inline void make_tmp_root(void)
{
    strcpy(tmp_root, "/tmp/cio-file-XXXXXX");
    if (!mkdtemp(tmp_root))
        abort();
}

static inline int remove_entry(const char *path, const struct stat *sb, int type,
                               struct FTW *ftw)
{
    (void)sb, (void)type, (void)ftw;
    return remove(path);
}

static inline void remove_tmp_root(void)
{
    if (tmp_root[0])
        nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    tmp_root[0] = '\0';
}

/* tmp_root/name in a static buffer (one of 8 in turn). */
static inline const char *tmp_path(const char *name)
{
    static char bufs[8][256];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", tmp_root, name);
    return b;
}

/* Write content to tmp_root/name with plain system calls. */
static inline void put_file(const char *name, const char *content)
{
    int fd = open(tmp_path(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
        abort();
    close(fd);
}

/* The file at tmp_root/name as a static string ("" if missing). */
static inline const char *get_file(const char *name)
{
    static char buf[65536];
    buf[0] = '\0';
    int fd = open(tmp_path(name), O_RDONLY);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    return buf;
}

/* Entries in a directory (without . and ..). */
static inline int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static inline int open_fds(void)
{
    return count_entries("/proc/self/fd");
}

#endif
