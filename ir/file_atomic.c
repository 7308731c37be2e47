/* file_atomic.c — atomic file writes and output-path checks (file_atomic.h).
 *
 * The temp file is "NAME.tmpXXXXXX" (mkstemp) in the output's folder. Its
 * writer holds an exclusive flock on it until the rename, so a second
 * writer of the same output can tell a live temp (locked) from one a killed
 * run left behind (unlocked: removed). A kill between mkstemp and flock is
 * a few instructions wide; the new writer checks afterwards that its name
 * still names its file and starts over if a cleaner took it. */
#include "ir/file_atomic.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The folder and last name of path ("a/b" -> "a", "b"; "b" -> ".", "b";
 * "/b" -> "/", "b"). False when path has no last name ("a/", "") or does
 * not fit. */
static bool split_path(const char *path, char *dir, size_t dn, const char **base)
{
    size_t len = strlen(path);
    if (len == 0 || path[len - 1] == '/' || len >= dn)
        return false;
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dn, ".");
        *base = path;
    } else if (slash == path) {
        snprintf(dir, dn, "/");
        *base = slash + 1;
    } else {
        snprintf(dir, dn, "%.*s", (int)(slash - path), path);
        *base = slash + 1;
    }
    return true;
}

/* The process's umask without changing it (umask(2) would, for every
 * thread): /proc/self/status has it since Linux 4.7; 022 otherwise. */
static unsigned current_umask(void)
{
    unsigned mask = 022;
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return mask;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Umask:", 6) == 0) {
            mask = (unsigned)strtoul(line + 6, NULL, 8);
            break;
        }
    fclose(f);
    return mask & 0777;
}

/* "NAME.tmp" + nothing (the older fixed temp) or six characters of
 * mkstemp's alphabet. */
static bool is_temp_of(const char *name, const char *base)
{
    size_t bl = strlen(base);
    if (strncmp(name, base, bl) != 0 || strncmp(name + bl, ".tmp", 4) != 0)
        return false;
    const char *s = name + bl + 4;
    size_t n = strlen(s);
    if (n != 0 && n != 6)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]))
            return false;
    return true;
}

/* Removes dir/base.tmp* files no live writer holds (file comment). */
static void remove_stale(const char *dir, const char *base)
{
    DIR *dd = opendir(dir);
    if (!dd)
        return;
    struct dirent *e;
    while ((e = readdir(dd)) != NULL) {
        if (!is_temp_of(e->d_name, base))
            continue;
        char p[IR_FILE_PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
            continue;
        int fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            flock(fd, LOCK_EX | LOCK_NB) == 0)
            unlink(p);
        close(fd);
    }
    closedir(dd);
}

/* Creates and locks a->tmp beside a->path; the fd, or -1 with errno. */
static int create_temp(ir_file_atomic *a, const char *dir, const char *base)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        if (snprintf(a->tmp, sizeof a->tmp, "%s/%s.tmpXXXXXX", dir, base) >=
            (int)sizeof a->tmp) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = mkstemp(a->tmp);
        if (fd < 0)
            return -1;
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        struct stat mine, named;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &mine) == 0 &&
            stat(a->tmp, &named) == 0 && mine.st_ino == named.st_ino &&
            mine.st_dev == named.st_dev)
            return fd;
        close(fd); /* a cleaner removed it before the lock: start over */
    }
    errno = EBUSY;
    return -1;
}

/* /dev/stdout, /dev/fd/N, /proc/self/fd/N name an open descriptor: when
 * it is a regular file (stdout redirected), a rename would replace the
 * file under the shell's feet. Such paths are written in place. */
static bool is_special_path(const char *path)
{
    return strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0;
}

ir_status ir_file_atomic_open(ir_file_atomic *a, const char *path,
                              unsigned mode, ir_diag *d)
{
    memset(a, 0, sizeof *a);
    if (is_special_path(path)) {
        if (strlen(path) >= sizeof a->path)
            return ir_diag_set(d, IR_ERR_IO, "cannot write '%s': path too long",
                               path);
        snprintf(a->path, sizeof a->path, "%s", path);
        a->direct = true;
        a->f = fopen(path, "we");
        if (!a->f)
            return ir_diag_set(d, IR_ERR_IO, "cannot write '%s': %s", path,
                               strerror(errno));
        return IR_OK;
    }
    /* A link is followed: the file it names is replaced. */
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        char real[PATH_MAX];
        if (realpath(path, real) && strlen(real) < sizeof a->path)
            snprintf(a->path, sizeof a->path, "%s", real);
    }
    if (!a->path[0]) {
        if (strlen(path) >= sizeof a->path)
            return ir_diag_set(d, IR_ERR_IO, "cannot write '%s': path too long",
                               path);
        snprintf(a->path, sizeof a->path, "%s", path);
    }
    bool exists = stat(a->path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        return ir_diag_set(d, IR_ERR_IO, "cannot write '%s': it is a folder",
                           path);
    if (exists && !S_ISREG(st.st_mode)) {
        a->direct = true;
        a->f = fopen(a->path, "we");
        if (!a->f)
            return ir_diag_set(d, IR_ERR_IO, "cannot write '%s': %s", path,
                               strerror(errno));
        return IR_OK;
    }
    char dir[IR_FILE_PATH_MAX];
    const char *base;
    if (!split_path(a->path, dir, sizeof dir, &base))
        return ir_diag_set(d, IR_ERR_IO, "cannot write '%s': not a file name",
                           path);
    remove_stale(dir, base);
    int fd = create_temp(a, dir, base);
    if (fd < 0) {
        int e = errno;
        a->tmp[0] = '\0';
        return ir_diag_set(d, IR_ERR_IO, "cannot write '%s': %s", path,
                           strerror(e));
    }
    /* An existing output keeps its permissions; a new one gets mode less
     * the umask, as open(2) would give it (mkstemp makes 0600). */
    (void)fchmod(fd, exists ? (st.st_mode & 07777) : (mode & ~current_umask()));
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        int e = errno;
        close(fd);
        unlink(a->tmp);
        a->tmp[0] = '\0';
        return ir_diag_set(d, IR_ERR_IO, "cannot write '%s': %s", path,
                           strerror(e));
    }
    return IR_OK;
}

/* After the rename, the folder's entry must reach the disk too. Some file
 * systems cannot fsync a folder (EINVAL): the rename is then as durable as
 * they make it. */
static void sync_dir(const char *path)
{
    char dir[IR_FILE_PATH_MAX];
    const char *base;
    if (!split_path(path, dir, sizeof dir, &base))
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

ir_status ir_file_atomic_commit(ir_file_atomic *a, ir_diag *d)
{
    int err = 0;
    bool unknown = false; /* a write failed earlier, errno long gone */
    if (a->f) {
        errno = 0;
        if (fflush(a->f) != 0)
            err = errno ? errno : EIO;
        else if (ferror(a->f))
            unknown = true;
        if (!err && !unknown && !a->direct && fsync(fileno(a->f)) != 0)
            err = errno;
        if (fclose(a->f) != 0 && !err && !unknown)
            err = errno ? errno : EIO;
        a->f = NULL;
    } else if (!a->direct) {
        int fd = open(a->tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0)
            err = errno;
        if (fd >= 0)
            close(fd);
    }
    if (!a->direct && !err && !unknown && rename(a->tmp, a->path) != 0)
        err = errno;
    if (err || unknown) {
        if (!a->direct)
            unlink(a->tmp);
        a->tmp[0] = '\0';
        if (unknown)
            return ir_diag_set(d, IR_ERR_IO, "cannot write '%s': write error "
                               "(disk full?)%s", a->path,
                               a->direct ? "" : "; the file was left as it was");
        return ir_diag_set(d, IR_ERR_IO, "cannot write '%s': %s%s", a->path,
                           strerror(err),
                           a->direct ? "" : "; the file was left as it was");
    }
    if (!a->direct)
        sync_dir(a->path);
    a->tmp[0] = '\0';
    return IR_OK;
}

void ir_file_atomic_abort(ir_file_atomic *a)
{
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    if (!a->direct && a->tmp[0])
        unlink(a->tmp);
    a->tmp[0] = '\0';
}

ir_status ir_file_write_atomic(const char *path, const void *buf, size_t len,
                               unsigned mode, ir_diag *d)
{
    ir_file_atomic a;
    ir_status s = ir_file_atomic_open(&a, path, mode, d);
    if (s != IR_OK)
        return s;
    /* A short write sets the stream's error flag: commit reports it. */
    if (len)
        (void)fwrite(buf, 1, len, a.f);
    return ir_file_atomic_commit(&a, d);
}

/* ---- checks before any work ---------------------------------------------- */

/* Creates and removes a probe file in the existing folder dir; for path
 * in the messages. */
static ir_status probe_dir(const char *dir, const char *path, ir_diag *d)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        int e = errno;
        if (e == ENOENT)
            return ir_diag_set(d, IR_ERR_INPUT, "cannot write '%s': the folder "
                               "'%s' does not exist", path, dir);
        if (e == ENOTDIR)
            return ir_diag_set(d, IR_ERR_INPUT, "cannot write '%s': part of "
                               "'%s' is a file, not a folder", path, dir);
        return ir_diag_set(d, IR_ERR_INPUT, "cannot write '%s': %s: %s", path,
                           dir, strerror(e));
    }
    if (!S_ISDIR(st.st_mode))
        return ir_diag_set(d, IR_ERR_INPUT, "cannot write '%s': '%s' is a "
                           "file, not a folder", path, dir);
    char probe[IR_FILE_PATH_MAX];
    if (snprintf(probe, sizeof probe, "%s/.distilc-probe.tmpXXXXXX", dir) >=
        (int)sizeof probe)
        return ir_diag_set(d, IR_ERR_INPUT, "cannot write '%s': path too long",
                           path);
    int fd = mkstemp(probe);
    if (fd < 0)
        return ir_diag_set(d, IR_ERR_INPUT, "cannot write '%s': cannot create "
                           "a file in '%s': %s", path, dir, strerror(errno));
    close(fd);
    unlink(probe);
    return IR_OK;
}

ir_status ir_file_check_writable(const char *path, ir_diag *d)
{
    if (!path || !*path)
        return ir_diag_set(d, IR_ERR_INPUT, "an output path is empty");
    struct stat st;
    if (is_special_path(path))
        return access(path, W_OK) == 0
                   ? IR_OK
                   : ir_diag_set(d, IR_ERR_INPUT, "cannot write '%s': %s",
                                 path, strerror(errno));
    char real[PATH_MAX];
    const char *p = path;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && realpath(path, real))
        p = real; /* the file the link names is what gets replaced */
    if (stat(p, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return ir_diag_set(d, IR_ERR_INPUT, "cannot write '%s': it is a "
                               "folder; name a file", path);
        if (!S_ISREG(st.st_mode)) /* /dev/stdout, a FIFO: written in place */
            return access(p, W_OK) == 0
                       ? IR_OK
                       : ir_diag_set(d, IR_ERR_INPUT, "cannot write '%s': %s",
                                     path, strerror(errno));
    }
    char dir[IR_FILE_PATH_MAX];
    const char *base;
    if (!split_path(p, dir, sizeof dir, &base))
        return ir_diag_set(d, IR_ERR_INPUT, "cannot write '%s': not a file "
                           "name", path);
    return probe_dir(dir, path, d);
}

ir_status ir_dir_check_writable(const char *dir, ir_diag *d)
{
    if (!dir || !*dir)
        return ir_diag_set(d, IR_ERR_INPUT, "an output folder is empty");
    char cur[IR_FILE_PATH_MAX];
    if (snprintf(cur, sizeof cur, "%s", dir) >= (int)sizeof cur)
        return ir_diag_set(d, IR_ERR_INPUT, "output folder '%s': path too long",
                           dir);
    /* The nearest part of dir that exists: the command creates the rest. */
    for (;;) {
        size_t len = strlen(cur);
        while (len > 1 && cur[len - 1] == '/')
            cur[--len] = '\0';
        struct stat st;
        if (stat(cur, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return ir_diag_set(d, IR_ERR_INPUT, "cannot create folder "
                                   "'%s': '%s' is a file, not a folder", dir,
                                   cur);
            return probe_dir(cur, dir, d);
        }
        if (errno != ENOENT && errno != ENOTDIR)
            return ir_diag_set(d, IR_ERR_INPUT, "cannot create folder '%s': "
                               "%s: %s", dir, cur, strerror(errno));
        char *slash = strrchr(cur, '/');
        if (!slash)
            return probe_dir(".", dir, d);
        if (slash == cur)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
}
