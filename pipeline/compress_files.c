/* compress_files.c — the files `distilc compress` keeps in OUT besides
 * what the stages write: the hashes that tell a stage's outputs from files
 * changed since (compress_outputs_*), and the training stages' checkpoint
 * folders OUT/ckpt/<stage>/, removed when a stage starts afresh and when
 * the run is done (compress.h says when a stage resumes). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/compress.h"
#include "pipeline/compress_internal.h"

/* ---- output hashes ------------------------------------------------------- */

/* FNV-1a over 64-bit words: eight times the bytewise loop's speed, and
 * a check against changed files, not against an adversary. */
ir_status compress_file_hash(const char *path, uint64_t *hash, ir_diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ir_diag_set(d, IR_ERR_IO, "'%s': %s", path, strerror(errno));
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf) {
        fclose(f);
        return ir_diag_set(d, IR_ERR_NOMEM, "hashing '%s': out of memory", path);
    }
    uint64_t h = 0xcbf29ce484222325ull;
    size_t got;
    while ((got = fread(buf, 1, CHUNK, f)) > 0) {
        size_t words = got / 8;
        for (size_t i = 0; i < words; i++) {
            uint64_t w;
            memcpy(&w, buf + 8 * i, 8);
            h = (h ^ w) * 0x100000001b3ull;
        }
        for (size_t i = 8 * words; i < got; i++)
            h = (h ^ buf[i]) * 0x100000001b3ull;
    }
    bool bad = ferror(f) != 0;
    free(buf);
    fclose(f);
    if (bad)
        return ir_diag_set(d, IR_ERR_IO, "'%s': read error", path);
    *hash = h;
    return IR_OK;
}

bool compress_outputs_exist(const compress_options *o, const compress_stage_def *s,
                            const char **missing)
{
    char buf[4096];
    for (int i = 0; i < 4 && s->outputs[i]; i++) {
        snprintf(buf, sizeof buf, "%s/%s", o->out, s->outputs[i]);
        struct stat sb;
        if (stat(buf, &sb) != 0) {
            *missing = s->outputs[i];
            return false;
        }
    }
    return true;
}

ir_status compress_outputs_record(const compress_options *o,
                                  const compress_stage_def *def,
                                  compress_state *st, int i, ir_diag *d)
{
    st->n_out[i] = 0;
    if (def->edited_after)
        return IR_OK;
    const char *names[6];
    int n = 0, required = 0;
    for (int k = 0; k < 4 && def->outputs[k]; k++)
        names[n++] = def->outputs[k];
    required = n;
    for (int k = 0; k < 2 && def->optional[k]; k++)
        names[n++] = def->optional[k];
    char path[4096];
    for (int k = 0; k < n && st->n_out[i] < COMPRESS_OUTPUTS_MAX; k++) {
        snprintf(path, sizeof path, "%s/%s", o->out, names[k]);
        struct stat sb;
        if (k >= required && stat(path, &sb) != 0)
            continue; /* an optional file the stage did not write */
        uint64_t h;
        ir_status s = compress_file_hash(path, &h, d);
        if (s != IR_OK)
            return s;
        compress_output *out = &st->out[i][st->n_out[i]++];
        snprintf(out->name, sizeof out->name, "%s", names[k]);
        out->hash = h;
    }
    return IR_OK;
}

bool compress_outputs_intact(const compress_options *o, const compress_stage_def *def,
                             const compress_state *st, int i, char *why, size_t n)
{
    const char *missing = NULL;
    if (!compress_outputs_exist(o, def, &missing)) {
        snprintf(why, n, "%s is missing", missing);
        return false;
    }
    char path[4096];
    ir_diag d;
    ir_diag_init(&d);
    for (int k = 0; k < st->n_out[i]; k++) {
        const compress_output *out = &st->out[i][k];
        snprintf(path, sizeof path, "%s/%s", o->out, out->name);
        uint64_t h;
        struct stat sb;
        if (stat(path, &sb) != 0) {
            snprintf(why, n, "%s is missing", out->name);
            return false;
        }
        if (compress_file_hash(path, &h, &d) != IR_OK || h != out->hash) {
            snprintf(why, n, "%s changed since the stage wrote it", out->name);
            return false;
        }
    }
    return true;
}

/* ---- checkpoint folders -------------------------------------------------- */

ir_status compress_ckpt_dir(compress_ctx *c, compress_stage s, char *buf,
                            size_t n, ir_diag *d)
{
    snprintf(buf, n, "%s/ckpt", c->o->out);
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return ir_diag_set(d, IR_ERR_IO, "checkpoint folder '%s': %s", buf,
                           strerror(errno));
    int k = snprintf(buf, n, "%s/ckpt/%s", c->o->out, compress_stage_name(s));
    if (k < 0 || (size_t)k >= n)
        return ir_diag_set(d, IR_ERR_IO, "checkpoint folder under '%s': path too "
                           "long", c->o->out);
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return ir_diag_set(d, IR_ERR_IO, "checkpoint folder '%s': %s", buf,
                           strerror(errno));
    return IR_OK;
}

/* Bounded by depth (the checkpoint folders are two deep), and lstat: a
 * symbolic link planted in OUT/ckpt cannot lead the removal elsewhere. */
int compress_remove_tree(const char *path, int depth)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(sb.st_mode))
        return unlink(path);
    if (depth <= 0)
        return -1;
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    int rc = 0;
    struct dirent *e;
    char child[4096];
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int k = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        if (k < 0 || (size_t)k >= sizeof child ||
            compress_remove_tree(child, depth - 1) != 0)
            rc = -1;
    }
    closedir(dir);
    return rc == 0 ? rmdir(path) : rc;
}

/* A stage that does not resume starts without checkpoints: those of an
 * earlier run with other inputs would be continued from otherwise. */
ir_status compress_ckpt_clear(const compress_options *o, int stage, ir_diag *d)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ckpt/%s", o->out,
             compress_stage_name((compress_stage)stage));
    if (compress_remove_tree(path, 3) != 0)
        return ir_diag_set(d, IR_ERR_IO, "removing the old checkpoints in '%s': %s",
                           path, strerror(errno));
    return IR_OK;
}
