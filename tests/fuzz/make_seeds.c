/* make_seeds.c — writes the seed corpus of every fuzz harness, at build
 * time, into OUT/<harness>/ (the harness names of tests/fuzz/fuzz_*.c):
 * files distilc writes itself and texts written here (seeds_onnx.c,
 * seeds_text.c, seeds_model.c), so no binary seed lives in the repository.
 * Usage: make_seeds OUT SOURCE_DIR (the repository, for the recipes and
 * spaces it ships). Exits 1 when a seed could not be made. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seeds.h"

static int harness_dir(const char *out, const char *harness, char *dir, size_t n)
{
    snprintf(dir, n, "%s/%s", out, harness);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "make_seeds: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    return 0;
}

int seed_put(const char *out, const char *harness, const char *name,
             const void *data, size_t len)
{
    char dir[4096], path[4200];
    if (harness_dir(out, harness, dir, sizeof dir))
        return 1;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int ok = f && (len == 0 || fwrite(data, 1, len, f) == len);
    if (f)
        ok = (fclose(f) == 0) && ok;
    if (!ok)
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
    return !ok;
}

int seed_text(const char *out, const char *harness, const char *name,
              const char *text)
{
    return seed_put(out, harness, name, text, strlen(text));
}

int seed_prefixed(const char *out, const char *harness, const char *name,
                  const void *prefix, size_t n, const char *text)
{
    size_t len = strlen(text);
    char *buf = malloc(n + len + 1);
    if (!buf)
        return 1;
    memcpy(buf, prefix, n);
    memcpy(buf + n, text, len);
    int rc = seed_put(out, harness, name, buf, n + len);
    free(buf);
    return rc;
}

int seed_move(const char *out, const char *harness, const char *name,
              const char *path)
{
    char dir[4096], dst[4200];
    if (harness_dir(out, harness, dir, sizeof dir))
        return 1;
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    if (rename(path, dst) != 0) {
        fprintf(stderr, "make_seeds: cannot move %s to %s: %s\n", path, dst,
                strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: make_seeds OUT SOURCE_DIR\n");
        return 2;
    }
    const char *out = argv[1];
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "make_seeds: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    /* files distilc writes go to a scratch folder first, then move */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/.scratch", out);
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "make_seeds: cannot create %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    int rc = seeds_onnx(out, tmp) | seeds_text(out, argv[2]) | seeds_model(out, tmp);
    rmdir(tmp);
    return rc;
}
