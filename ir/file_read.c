/* file_read.c — regular files only, size first (see file_read.h). */
#include "ir/file_read.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a file that is not regular is, for the message. */
static const char *file_kind(mode_t m)
{
    return S_ISDIR(m) ? "a folder"
         : S_ISFIFO(m) ? "a FIFO (named pipe)"
         : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device"
         : S_ISSOCK(m) ? "a socket"
         : "not a regular file";
}

/* An open that failed: the user's mistake, or a failure on a file that
 * is there. */
static ir_status open_failed(const char *path, const char *what, int err,
                             ir_diag *d)
{
    bool input = err == ENOENT || err == ENOTDIR || err == ELOOP ||
                 err == ENAMETOOLONG || err == ENXIO /* a socket */;
    return ir_diag_set(d, input ? IR_ERR_INPUT : IR_ERR_IO, "%s '%s': %s",
                       what, path, err == ENXIO ? "a socket, not a file"
                                                : strerror(err));
}

ir_status ir_file_open(const char *path, const char *what, int64_t max_bytes,
                       int *fd_out, int64_t *size, ir_diag *d)
{
    *fd_out = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return open_failed(path, what, errno, d);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ir_diag_set(d, IR_ERR_IO, "%s '%s': %s", what, path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ir_diag_set(d, IR_ERR_INPUT, "%s '%s' is %s; a regular file "
                           "is expected", what, path, file_kind(st.st_mode));
    }
    if (max_bytes > 0 && (int64_t)st.st_size > max_bytes) {
        close(fd);
        return ir_diag_set(d, IR_ERR_INPUT, "%s '%s' is %lld bytes, more than "
                           "the limit of %lld for a %s", what, path,
                           (long long)st.st_size, (long long)max_bytes, what);
    }
    /* regular: reads no longer need O_NONBLOCK (it does nothing to them) */
    int fl = fcntl(fd, F_GETFL);
    if (fl != -1)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *fd_out = fd;
    if (size)
        *size = (int64_t)st.st_size;
    return IR_OK;
}

ir_status ir_file_fopen(const char *path, const char *what, int64_t max_bytes,
                        FILE **f, int64_t *size, ir_diag *d)
{
    *f = NULL;
    int fd;
    ir_status s = ir_file_open(path, what, max_bytes, &fd, size, d);
    if (s != IR_OK)
        return s;
    *f = fdopen(fd, "rb");
    if (!*f) {
        int e = errno;
        close(fd);
        return ir_diag_set(d, e == ENOMEM ? IR_ERR_NOMEM : IR_ERR_IO,
                           "%s '%s': %s", what, path, strerror(e));
    }
    return IR_OK;
}

ir_status ir_file_read_all(const char *path, const char *what,
                           int64_t max_bytes, char **buf, size_t *len,
                           ir_diag *d)
{
    *buf = NULL;
    *len = 0;
    int fd;
    int64_t size;
    ir_status s = ir_file_open(path, what, max_bytes, &fd, &size, d);
    if (s != IR_OK)
        return s;
    if ((uint64_t)size >= SIZE_MAX) {
        close(fd);
        return ir_diag_set(d, IR_ERR_NOMEM, "%s '%s': %lld bytes do not fit "
                           "in memory", what, path, (long long)size);
    }
    size_t n = (size_t)size;
    char *p = malloc(n + 1);
    if (!p) {
        close(fd);
        return ir_diag_set(d, IR_ERR_NOMEM, "%s '%s': out of memory for %zu "
                           "bytes", what, path, n);
    }
    size_t got = 0;
    while (got < n) { /* a file that shrinks meanwhile ends early */
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(p);
            close(fd);
            return ir_diag_set(d, IR_ERR_IO, "%s '%s': read error: %s", what,
                               path, strerror(e));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    p[got] = '\0';
    *buf = p;
    *len = got;
    return IR_OK;
}
