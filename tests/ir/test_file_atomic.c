/* test_file_atomic.c — ir/file_atomic.h: an output is replaced whole or
 * not at all (a write error, here a file-size limit standing in for a full
 * disk, leaves the old file and no temp), stale temps of a killed run are
 * removed and a live writer's are kept, devices are written in place, a
 * link's target is replaced, and the checks before any work name what is
 * wrong with an output path. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ir/file_atomic.h"
#include "testutil.h"

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Count of entries in dir whose name starts with prefix. */
static int count_prefix(const char *dir, const char *prefix)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -c '^%s' >'%s/count'", dir,
             prefix, dir);
    if (system(cmd) == -1)
        return -1;
    snprintf(cmd, sizeof cmd, "%s/count", dir);
    char *t = test_read_file(cmd, NULL);
    int n = t ? atoi(t) : -1;
    free(t);
    unlink(cmd);
    return n;
}

static void test_write_and_replace(const char *tmp)
{
    char path[512];
    snprintf(path, sizeof path, "%s/out.json", tmp);
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(ir_file_write_atomic(path, "{\"a\":1}\n", 8, 0644, &d) == IR_OK,
              "%s", d.msg);
    char *t = test_read_file(path, NULL);
    CHECK(t && strcmp(t, "{\"a\":1}\n") == 0);
    free(t);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == (0644 & ~022u));
    /* A replaced file keeps its permissions. */
    chmod(path, 0600);
    ir_file_atomic a;
    CHECK(ir_file_atomic_open(&a, path, 0644, &d) == IR_OK);
    fprintf(a.f, "{\"a\":2}\n");
    CHECK(strstr(a.tmp, "out.json.tmp") != NULL && exists(a.tmp));
    CHECK(ir_file_atomic_commit(&a, &d) == IR_OK);
    t = test_read_file(path, NULL);
    CHECK(t && strcmp(t, "{\"a\":2}\n") == 0);
    free(t);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(count_prefix(tmp, "out.json.tmp") == 0);
    /* abort: the output stays as it was, the temp goes. */
    CHECK(ir_file_atomic_open(&a, path, 0644, &d) == IR_OK);
    fprintf(a.f, "half");
    char seen[IR_FILE_PATH_MAX];
    snprintf(seen, sizeof seen, "%s", a.tmp);
    ir_file_atomic_abort(&a);
    CHECK(!exists(seen));
    t = test_read_file(path, NULL);
    CHECK(t && strcmp(t, "{\"a\":2}\n") == 0);
    free(t);
    /* A folder is not a file. */
    CHECK(ir_file_write_atomic(tmp, "x", 1, 0644, &d) == IR_ERR_IO);
    CHECK_MSG(strstr(d.msg, "is a folder"), "%s", d.msg);
}

/* A killed run's temps (unlocked) go when the next write of the same
 * output starts; a live writer's (locked) and other files' stay. */
static void test_stale_temps(const char *tmp)
{
    char path[512], p[600];
    snprintf(path, sizeof path, "%s/s.onnx", tmp);
    const char *stale[] = {"s.onnx.tmpAb12Cd", "s.onnx.tmp"};
    const char *keep[] = {"s.onnx.tmpAb12Cd9", "t.onnx.tmpAb12Cd",
                          "s.onnx.tmp-b12Cd", "s.onnx.tmpLive01"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", tmp, stale[i]);
        put(p, "half a model");
    }
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", tmp, keep[i]);
        put(p, "not ours");
    }
    snprintf(p, sizeof p, "%s/s.onnx.tmpLive01", tmp);
    int live = open(p, O_RDONLY);
    CHECK(live >= 0 && flock(live, LOCK_EX) == 0);
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(ir_file_write_atomic(path, "model", 5, 0644, &d) == IR_OK, "%s",
              d.msg);
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", tmp, stale[i]);
        CHECK_MSG(!exists(p), "stale %s still there", stale[i]);
    }
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", tmp, keep[i]);
        CHECK_MSG(exists(p), "%s was removed", keep[i]);
        unlink(p);
    }
    close(live);
}

/* A write error (EFBIG from a file-size limit, as ENOSPC from a full
 * disk) after part of the data: the old output stays whole, no temp is
 * left, and the message names the output and the cause. */
static void test_write_error(const char *tmp)
{
    char path[512];
    snprintf(path, sizeof path, "%s/pred.jsonl", tmp);
    put(path, "old predictions\n");
    size_t n = 1 << 20;
    char *big = malloc(n);
    if (!big)
        return;
    memset(big, 'x', n);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = ir_file_write_atomic(path, big, n, 0644, &d);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    CHECK_MSG(s == IR_ERR_IO, "status %d", (int)s);
    CHECK_MSG(strstr(d.msg, "pred.jsonl") && strstr(d.msg, "left as it was"),
              "%s", d.msg);
    char *t = test_read_file(path, NULL);
    CHECK(t && strcmp(t, "old predictions\n") == 0);
    free(t);
    CHECK(count_prefix(tmp, "pred.jsonl.tmp") == 0);
    /* /dev/full is written in place (never replaced): ENOSPC, named. */
    if (exists("/dev/full")) {
        s = ir_file_write_atomic("/dev/full", big, 100, 0644, &d);
        CHECK_MSG(s == IR_ERR_IO && strstr(d.msg, "/dev/full") &&
                  strstr(d.msg, strerror(ENOSPC)), "%s", d.msg);
        struct stat st;
        CHECK(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));
    }
    /* /dev/stdout redirected to a regular file: written through the
     * descriptor, not renamed over (the file keeps its inode). */
    char red[512];
    snprintf(red, sizeof red, "%s/stdout.txt", tmp);
    fflush(stdout);
    int saved = dup(1);
    int fd = open(red, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    struct stat before, after;
    CHECK(saved >= 0 && fd >= 0 && fstat(fd, &before) == 0 && dup2(fd, 1) == 1);
    ir_diag_init(&d);
    s = ir_file_write_atomic("/dev/stdout", "through\n", 8, 0644, &d);
    dup2(saved, 1);
    close(saved);
    close(fd);
    CHECK_MSG(s == IR_OK, "%s", d.msg);
    t = test_read_file(red, NULL);
    CHECK(t && strcmp(t, "through\n") == 0);
    free(t);
    CHECK(stat(red, &after) == 0 && after.st_ino == before.st_ino);
    free(big);
}

/* Through a link: the target is replaced, the link stays a link. */
static void test_link(const char *tmp)
{
    char target[512], link[512];
    snprintf(target, sizeof target, "%s/target.txt", tmp);
    snprintf(link, sizeof link, "%s/link.txt", tmp);
    put(target, "old");
    CHECK(symlink(target, link) == 0);
    ir_diag d;
    ir_diag_init(&d);
    CHECK(ir_file_write_atomic(link, "new", 3, 0644, &d) == IR_OK);
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    char *t = test_read_file(target, NULL);
    CHECK(t && strcmp(t, "new") == 0);
    free(t);
}

static void test_path_checks(const char *tmp)
{
    char p[600], file[512];
    ir_diag d;
    ir_diag_init(&d);
    snprintf(file, sizeof file, "%s/plain", tmp);
    put(file, "a file");
    snprintf(p, sizeof p, "%s/new.onnx", tmp);
    CHECK_MSG(ir_file_check_writable(p, &d) == IR_OK, "%s", d.msg);
    CHECK(!exists(p));
    CHECK(ir_file_check_writable(file, &d) == IR_OK);
    CHECK(ir_file_check_writable("/dev/null", &d) == IR_OK);
    /* Under a regular file: what `-o /etc/passwd/x.onnx` is. */
    snprintf(p, sizeof p, "%s/x.onnx", file);
    CHECK(ir_file_check_writable(p, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "is a file, not a folder") && strstr(d.msg, "x.onnx"),
              "%s", d.msg);
    snprintf(p, sizeof p, "%s/no/such/x.onnx", tmp);
    CHECK(ir_file_check_writable(p, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "does not exist"), "%s", d.msg);
    CHECK(ir_file_check_writable(tmp, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "is a folder"), "%s", d.msg);
    CHECK(ir_file_check_writable("", &d) == IR_ERR_INPUT);
    /* Folders: a missing one is fine when its parent takes files. */
    snprintf(p, sizeof p, "%s/run/a/b/", tmp);
    CHECK_MSG(ir_dir_check_writable(p, &d) == IR_OK, "%s", d.msg);
    CHECK(ir_dir_check_writable(tmp, &d) == IR_OK);
    snprintf(p, sizeof p, "%s/run", tmp);
    CHECK(!exists(p));
    CHECK(ir_dir_check_writable(file, &d) == IR_ERR_INPUT);
    snprintf(p, sizeof p, "%s/sub/dir", file);
    CHECK(ir_dir_check_writable(p, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "is a file, not a folder"), "%s", d.msg);
    CHECK(count_prefix(tmp, ".distilc-probe") == 0);
}

int main(void)
{
    char buf[256];
    const char *tmp = test_tmpdir(buf, sizeof buf);
    CHECK(tmp != NULL);
    if (!tmp)
        return test_finish("test_file_atomic");
    umask(022);
    test_write_and_replace(tmp);
    test_stale_temps(tmp);
    test_write_error(tmp);
    test_link(tmp);
    test_path_checks(tmp);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    return test_finish("test_file_atomic");
}
