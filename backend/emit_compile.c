/* emit_compile.c — runs the C compiler on an emitted folder: the same
 * command as the Makefile emit.c writes, executed directly (no make, no
 * shell), its output captured in DIR/build.log.
 *
 * The compiler comes from o->cc, else $CC, else "cc"; it may carry
 * arguments separated by spaces ("ccache gcc"), without quoting. A missing
 * compiler is reported before anything runs, so the message can say
 * "no C compiler" rather than leave an exec failure in the log.
 *
 * The compiler writes the program under a temp name, renamed to DIR/model
 * when it succeeds (ir/file_atomic.h), so a failed or killed build never
 * leaves half a program where the last good one was, and a compiler left
 * running by a killed distilc (its children outlive it) cannot overwrite
 * the program of the run that resumed; build.log is
 * replaced the same way once the compiler has finished. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/emit.h"
#include "backend/emit_internal.h"
#include "backend/emit_sources.h"
#include "ir/file_atomic.h"

#define MAX_ARGS 512

typedef struct argv_buf {
    char *argv[MAX_ARGS + 1];
    int n;
    char *owned[MAX_ARGS]; /* strdup'd words, freed at the end */
    int n_owned;
} argv_buf;

/* Appends the space-separated words of s. */
static bool args_split(argv_buf *a, const char *s)
{
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, " \t");
        if (a->n >= MAX_ARGS || a->n_owned >= MAX_ARGS)
            return false;
        char *w = strndup(p, len);
        if (!w)
            return false;
        a->owned[a->n_owned++] = w;
        a->argv[a->n++] = w;
        p += len;
    }
    return true;
}

static void args_free(argv_buf *a)
{
    for (int i = 0; i < a->n_owned; i++)
        free(a->owned[i]);
}

/* True when prog names an executable: a path, or a name found on $PATH. */
static bool find_program(const char *prog)
{
    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    char buf[4096];
    while (*path) {
        size_t len = strcspn(path, ":");
        if (len == 0) {
            if (access(prog, X_OK) == 0)
                return true;
        } else if (snprintf(buf, sizeof buf, "%.*s/%s", (int)len, path, prog) <
                   (int)sizeof buf) {
            struct stat st;
            if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
                access(buf, X_OK) == 0)
                return true;
        }
        path += len;
        if (*path == ':')
            path++;
    }
    return false;
}

/* The last lines of the log (up to about max bytes), for the message. */
static void log_tail(const char *path, char *out, size_t max)
{
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long start = size > (long)max - 1 ? size - (long)max + 1 : 0;
    fseek(f, start, SEEK_SET);
    size_t n = fread(out, 1, max - 1, f);
    out[n] = '\0';
    fclose(f);
    if (start > 0) { /* begin at a whole line */
        char *nl = strchr(out, '\n');
        if (nl)
            memmove(out, nl + 1, strlen(nl + 1) + 1);
    }
    size_t len = strlen(out);
    while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
        out[--len] = '\0';
}

ir_status emit_compile(const char *dir, const emit_options *o, ir_diag *d)
{
    const char *cc = o && o->cc ? o->cc : NULL;
    const char *from = "--cc";
    if (!cc) {
        cc = getenv("CC");
        from = "$CC";
    }
    if (!cc || !*cc) {
        cc = "cc";
        from = "the default";
    }
    argv_buf a = {0};
    emit_flags f;
    emit_flags_get(&f, o);
    bool ok = args_split(&a, cc);
    if (!ok || a.n == 0) {
        args_free(&a);
        return ir_diag_set(d, IR_ERR_INPUT, "no C compiler: %s '%s' names no "
                           "program", from, cc);
    }
    if (!find_program(a.argv[0])) {
        ir_diag_set(d, IR_ERR_FAILED,
                    "no C compiler: '%s' (%s) not found%s; install gcc or "
                    "pass --cc PATH (the sources are in %s: run make there)",
                    a.argv[0], from, strchr(a.argv[0], '/') ? "" : " on $PATH",
                    dir);
        args_free(&a);
        return IR_ERR_FAILED;
    }
    char prog_path[4096];
    snprintf(prog_path, sizeof prog_path, "%s/model", dir);
    ir_file_atomic prog;
    if (ir_file_atomic_open(&prog, prog_path, 0755, d) != IR_OK) {
        args_free(&a);
        return d->status;
    }
    fclose(prog.f); /* the compiler writes prog.tmp */
    prog.f = NULL;
    const char *slash = strrchr(prog.tmp, '/');
    const char *tmp_name = slash ? slash + 1 : prog.tmp; /* relative to dir */
    ok = args_split(&a, "-std=c17 -fopenmp") && args_split(&a, f.defines) &&
         args_split(&a, f.cflags) && args_split(&a, EMIT_WARN_FLAGS) &&
         args_split(&a, "-I. -Irt") && args_split(&a, f.dnnl_cflags) &&
         args_split(&a, f.icu_cflags) && args_split(&a, f.xxhash_cflags) &&
         args_split(&a, "-o") && args_split(&a, tmp_name) &&
         args_split(&a, "model.c");
    for (size_t i = 0; ok && i < emit_sources_count; i++) {
        const emit_source *s = &emit_sources[i];
        size_t len = strlen(s->path);
        if (emit_source_is_template(s) || len < 2 || strcmp(s->path + len - 2, ".c"))
            continue;
        char word[1024];
        snprintf(word, sizeof word, "rt/%s", s->path);
        ok = args_split(&a, word);
    }
    ok = ok && args_split(&a, f.dnnl_libs) && args_split(&a, f.icu_libs) &&
         args_split(&a, f.xxhash_libs) && args_split(&a, "-lm");
    if (!ok) {
        args_free(&a);
        ir_file_atomic_abort(&prog);
        return ir_diag_set(d, IR_ERR_NOMEM, "compile: too many arguments or "
                           "out of memory");
    }
    a.argv[a.n] = NULL;

    char log[4096];
    snprintf(log, sizeof log, "%s/build.log", dir);
    ir_file_atomic log_file;
    if (ir_file_atomic_open(&log_file, log, 0644, d) != IR_OK) {
        args_free(&a);
        ir_file_atomic_abort(&prog);
        return d->status;
    }
    /* The command as a reader of the log wants to see it: "-o model". */
    for (int i = 0; i < a.n; i++)
        fprintf(log_file.f, "%s%s", strcmp(a.argv[i], tmp_name) ? a.argv[i]
                : "model", i + 1 < a.n ? " " : "\n");
    fflush(NULL); /* no buffered output may be written twice */
    int fd = fileno(log_file.f);
    pid_t pid = fork();
    if (pid < 0) {
        args_free(&a);
        ir_file_atomic_abort(&log_file);
        ir_file_atomic_abort(&prog);
        return ir_diag_set(d, IR_ERR_FAILED, "compile: cannot start %s: %s",
                           cc, strerror(errno));
    }
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        if (chdir(dir) != 0)
            _exit(126);
        execvp(a.argv[0], a.argv);
        dprintf(2, "cannot run %s: %s\n", a.argv[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    args_free(&a);
    /* The compiler appended to the log through the shared descriptor. */
    (void)fseek(log_file.f, 0, SEEK_END);
    ir_status ls = ir_file_atomic_commit(&log_file, d);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        ir_status ps = ir_file_atomic_commit(&prog, d);
        return ps != IR_OK ? ps : ls;
    }
    ir_file_atomic_abort(&prog);
    char tail[1600];
    log_tail(log, tail, sizeof tail);
    char how[64];
    if (WIFEXITED(status))
        snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
    else
        snprintf(how, sizeof how, "signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return ir_diag_set(d, IR_ERR_FAILED,
                       "the C compiler '%s' failed (%s) building %s/model; its "
                       "output ends with:\n%s\n(full log: %s)", cc, how, dir,
                       tail, log);
}
