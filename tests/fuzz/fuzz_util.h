/* fuzz_util.h — what the libFuzzer harnesses share (header-only: each
 * harness is its own program): a scratch folder of the process for the
 * entry points that read a path, writing an input there, and the one rule
 * every harness checks besides "no crash, leak or hang": a refusal explains
 * itself.
 *
 *     int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
 *     {
 *         char path[FUZZ_PATH_MAX];
 *         fuzz_write("state.json", data, size, path);
 *         ir_diag d; ir_diag_init(&d);
 *         ir_status s = compress_state_load(path, &st, &d);
 *         fuzz_explained(s, &d);          // aborts on a silent failure
 *         return 0;
 *     }
 *
 * The scratch folder is $TMPDIR/distilc-fuzz-XXXXXX, made on first use and
 * removed at exit (nftw's FTW_PHYS needs _GNU_SOURCE, which
 * tests/fuzz/CMakeLists.txt defines for every harness); libFuzzer's -fork/-jobs workers each get their own. A
 * crash leaves it behind (the input that crashed is libFuzzer's crash-*
 * file, not this copy). */
#ifndef DISTILC_FUZZ_UTIL_H
#define DISTILC_FUZZ_UTIL_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir/diag.h"

enum { FUZZ_PATH_MAX = 1024 };

/* A harness that cannot set itself up is broken, not fuzzed: say why and
 * stop (libFuzzer reports the abort). */
static inline void fuzz_require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz harness setup failed: %s\n", what);
        abort();
    }
}

/* A result the entry point promises does not hold: say which and stop. */
static inline void fuzz_fail(const char *what)
{
    fprintf(stderr, "broken promise: %s\n", what);
    abort();
}

/* Every failure names its fault: a status without a message is a bug.
 * With FUZZ_VERBOSE=1 in the environment every outcome is printed, to see
 * what a seed or a reproducer does: FUZZ_VERBOSE=1 ./fuzz_json crash-... */
static inline void fuzz_explained(ir_status s, const ir_diag *d)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "fuzz: %s%s%s\n", ir_status_name(s), s ? ": " : "",
                s ? d->msg : "");
    if (s != IR_OK && d->msg[0] == '\0') {
        fprintf(stderr, "status %s without a message\n", ir_status_name(s));
        abort();
    }
}

static inline int fuzz_rm_one(const char *path, const struct stat *sb, int flag,
                              struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static char fuzz_scratch_dir[FUZZ_PATH_MAX];

static inline void fuzz_scratch_remove(void)
{
    if (fuzz_scratch_dir[0])
        nftw(fuzz_scratch_dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The process's scratch folder (made on first use). */
static inline const char *fuzz_scratch(void)
{
    if (!fuzz_scratch_dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(fuzz_scratch_dir, sizeof fuzz_scratch_dir,
                 "%s/distilc-fuzz-XXXXXX", base && *base ? base : "/tmp");
        fuzz_require(mkdtemp(fuzz_scratch_dir) != NULL, "mkdtemp in $TMPDIR");
        atexit(fuzz_scratch_remove);
    }
    return fuzz_scratch_dir;
}

/* path = scratch/name. */
static inline const char *fuzz_path(const char *name, char *path)
{
    snprintf(path, FUZZ_PATH_MAX, "%s/%s", fuzz_scratch(), name);
    return path;
}

/* Writes data to scratch/name (replacing it); path gets its path. */
static inline const char *fuzz_write(const char *name, const void *data,
                                     size_t size, char *path)
{
    fuzz_path(name, path);
    FILE *f = fopen(path, "wb");
    fuzz_require(f != NULL, path);
    int ok = (size == 0 || fwrite(data, 1, size, f) == size);
    ok = (fclose(f) == 0) && ok;
    fuzz_require(ok, path);
    return path;
}

/* FNV-1a 64, the checksum of distilc's checkpoints: a
 * harness recomputes it so that mutated bodies get past the check and
 * reach the parsing behind it. */
static inline uint64_t fuzz_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}
#define FUZZ_FNV_OFFSET 0xcbf29ce484222325ull

#endif
