/* checkpoint.c — saving and restoring the trainer's state (see
 * checkpoint.h for the layout). Writes stream through a hashing writer into
 * PATH.tmp, which is fsynced and renamed over PATH; the folder is fsynced
 * so the rename itself survives a power cut. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "distill/checkpoint.h"
#include "ir/file_read.h"

static const char CKPT_MAGIC[8] = {'D', 'S', 'T', 'L', 'C', 'K', 'P', 'T'};

/* FNV-1a 64 over the bytes written or read so far. */
typedef struct ckpt_io {
    FILE *f;
    uint64_t hash;
    bool failed;
} ckpt_io;

static void hash_bytes(ckpt_io *io, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        io->hash = (io->hash ^ b[i]) * 0x100000001b3ULL;
}

static void io_write(ckpt_io *io, const void *p, size_t n)
{
    if (io->failed || n == 0)
        return;
    if (fwrite(p, 1, n, io->f) != n)
        io->failed = true;
    hash_bytes(io, p, n);
}

static void io_read(ckpt_io *io, void *p, size_t n)
{
    if (io->failed || n == 0)
        return;
    if (fread(p, 1, n, io->f) != n) {
        io->failed = true;
        memset(p, 0, n);
        return;
    }
    hash_bytes(io, p, n);
}

/* The header: every config field, then the loop state and block sizes.
 * One function serves both directions so they cannot drift apart. */
typedef struct ckpt_header {
    ir_encoder_config cfg;
    train_ckpt_state st;
    uint64_t n, n_extra;
} ckpt_header;

/* Version 1 ran everything in fp32, and "" (a state whose precisions were
 * never set) means fp32 too: the file always holds a name. */
static void precision_default(train_ckpt_state *s)
{
    if (!s->gemm_precision[0])
        snprintf(s->gemm_precision, sizeof s->gemm_precision, "fp32");
    if (!s->teacher_precision[0])
        snprintf(s->teacher_precision, sizeof s->teacher_precision, "fp32");
}

static void header_io(ckpt_io *io, ckpt_header *h, uint32_t version,
                      bool writing)
{
    precision_default(&h->st); /* before writing, and for version 1 reads */
    void (*rw)(ckpt_io *, void *, size_t) =
        writing ? (void (*)(ckpt_io *, void *, size_t))io_write : io_read;
    ir_encoder_config *c = &h->cfg;
    int64_t act = ir_act_ffn_code(c->activation), head = c->head;
    int64_t *fields[] = {&c->hidden, &c->layers, &c->heads, &c->ffn, &c->vocab,
                         &c->max_positions, &c->type_vocab, &c->embed, &c->labels,
                         &act, &head, &c->n_attn_groups, &c->n_ffn_groups};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        rw(io, fields[i], sizeof(int64_t));
    rw(io, &c->ln_eps, sizeof(float));
    rw(io, c->attn_group, sizeof c->attn_group);
    rw(io, c->ffn_group, sizeof c->ffn_group);
    c->activation = ir_act_from_ffn_code(act);
    c->head = (ir_enc_head)head;
    train_ckpt_state *s = &h->st;
    rw(io, &s->step, sizeof s->step);
    rw(io, &s->total_steps, sizeof s->total_steps);
    rw(io, &s->epoch, sizeof s->epoch);
    rw(io, &s->batch_in_epoch, sizeof s->batch_in_epoch);
    rw(io, &s->data_seed, sizeof s->data_seed);
    rw(io, &s->rng_counter, sizeof s->rng_counter);
    rw(io, &s->best_dev, sizeof s->best_dev);
    rw(io, &s->best_step, sizeof s->best_step);
    rw(io, &h->n, sizeof h->n);
    rw(io, &h->n_extra, sizeof h->n_extra);
    if (version >= 2) {
        rw(io, s->gemm_precision, sizeof s->gemm_precision);
        rw(io, s->teacher_precision, sizeof s->teacher_precision);
        /* a name that fills its field has no terminator in the file */
        s->gemm_precision[sizeof s->gemm_precision - 1] = '\0';
        s->teacher_precision[sizeof s->teacher_precision - 1] = '\0';
    }
    precision_default(s);
}

/* Bytes header_io moves for a version (kept in step with it by hand; the
 * load checks the stored count, so a mismatch is refused, not misread). */
static uint32_t header_bytes(uint32_t version)
{
    size_t v1 = 13 * sizeof(int64_t) + sizeof(float) +
                2 * IR_ENCODER_MAX_LAYERS * sizeof(int64_t) +
                4 * sizeof(int64_t) + 2 * sizeof(uint64_t) + sizeof(double) +
                sizeof(int64_t) + 2 * sizeof(uint64_t);
    return (uint32_t)(version >= 2 ? v1 + 2 * TRAIN_CKPT_PRECISION_MAX : v1);
}

/* fsyncs the folder holding path, so a rename in it is durable. */
static int dir_sync(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    free(copy);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

ir_status train_ckpt_save(const char *path, const train_params *p,
                          const train_extra *extra,
                          const train_ckpt_state *st, ir_diag *d)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp)
        return ir_diag_set(d, IR_ERR_NOMEM, "checkpoint %s: out of memory", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    ckpt_io io = {.f = fopen(tmp, "wb"), .hash = 0xcbf29ce484222325ULL};
    if (!io.f) {
        ir_status s = ir_diag_set(d, IR_ERR_IO, "checkpoint %s: cannot create: %s",
                                  tmp, strerror(errno));
        free(tmp);
        return s;
    }
    uint32_t version = TRAIN_CKPT_VERSION, hb = header_bytes(version);
    io_write(&io, CKPT_MAGIC, sizeof CKPT_MAGIC);
    io_write(&io, &version, sizeof version);
    io_write(&io, &hb, sizeof hb);
    ckpt_header h = {.cfg = p->cfg, .st = *st, .n = p->n,
                     .n_extra = extra ? extra->n : 0};
    header_io(&io, &h, version, true);
    io_write(&io, p->params, p->n * sizeof(float));
    io_write(&io, p->m, p->n * sizeof(float));
    io_write(&io, p->v, p->n * sizeof(float));
    if (extra && extra->n) {
        io_write(&io, extra->params, extra->n * sizeof(float));
        io_write(&io, extra->m, extra->n * sizeof(float));
        io_write(&io, extra->v, extra->n * sizeof(float));
    }
    uint64_t sum = io.hash;
    io_write(&io, &sum, sizeof sum);
    bool ok = !io.failed && fflush(io.f) == 0 && fsync(fileno(io.f)) == 0;
    int err = errno;
    ok = fclose(io.f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            err = errno;
        remove(tmp);
        ir_status s = ir_diag_set(d, IR_ERR_IO, "checkpoint %s: write failed: %s "
                                  "(disk full?)", path, strerror(err));
        free(tmp);
        return s;
    }
    free(tmp);
    if (dir_sync(path) != 0)
        return ir_diag_set(d, IR_ERR_IO, "checkpoint %s: fsync of its folder failed: %s",
                           path, strerror(errno));
    return IR_OK;
}

/* A file shorter than its header says (want: bytes it should have, -1
 * when even the header is cut). Saves are atomic (checkpoint.h), so a kill
 * leaves the previous whole file: a short one was cut afterwards, by a
 * full disk or a copy. */
static ir_status ckpt_truncated(const char *path, int64_t have, int64_t want,
                                ir_diag *d)
{
    char need[64] = "more than that for its header";
    if (want >= 0)
        snprintf(need, sizeof need, "%lld", (long long)want);
    return ir_diag_set(d, IR_ERR_INPUT, "checkpoint %s: truncated: %lld bytes, "
                       "a checkpoint of this run has %s (cut short by a full "
                       "disk or an interrupted copy?); start again without "
                       "--resume", path, (long long)have, need);
}

ir_status train_ckpt_load(const char *path, train_params *p,
                          train_extra *extra, train_ckpt_state *st,
                          ir_diag *d)
{
    ckpt_io io = {.f = NULL, .hash = 0xcbf29ce484222325ULL};
    int64_t fsize = 0; /* a regular file whose size is checked before the
                          blocks are read */
    ir_status fs = ir_file_fopen(path, "checkpoint", 0, &io.f, &fsize, d);
    if (fs != IR_OK)
        return fs;
    char magic[8];
    uint32_t version = 0, hb = 0;
    io_read(&io, magic, sizeof magic);
    io_read(&io, &version, sizeof version);
    io_read(&io, &hb, sizeof hb);
    ir_status s = IR_OK;
    if (io.failed || memcmp(magic, CKPT_MAGIC, sizeof magic) != 0)
        s = ir_diag_set(d, IR_ERR_INPUT, "checkpoint %s: not a distilc checkpoint "
                        "(bad magic)", path);
    else if (version < 1 || version > TRAIN_CKPT_VERSION ||
             hb != header_bytes(version))
        s = ir_diag_set(d, IR_ERR_INPUT, "checkpoint %s: version %u, this distilc "
                        "reads versions 1 to %d; resume with the distilc that wrote it "
                        "or start without --resume", path, version, TRAIN_CKPT_VERSION);
    ckpt_header h;
    memset(&h, 0, sizeof h);
    if (s == IR_OK) {
        header_io(&io, &h, version, false);
        size_t nx = extra ? extra->n : 0;
        if (io.failed)
            s = ckpt_truncated(path, fsize, -1, d);
        else if (!ir_encoder_config_equal(&h.cfg, &p->cfg))
            s = ir_diag_set(d, IR_ERR_INPUT, "checkpoint %s: written for another "
                            "model config (hidden %lld, layers %lld, labels %lld; "
                            "this model: hidden %lld, layers %lld, labels %lld)",
                            path, (long long)h.cfg.hidden, (long long)h.cfg.layers,
                            (long long)h.cfg.labels, (long long)p->cfg.hidden,
                            (long long)p->cfg.layers, (long long)p->cfg.labels);
        else if (h.n != p->n || h.n_extra != nx)
            s = ir_diag_set(d, IR_ERR_INPUT, "checkpoint %s: holds %llu parameters "
                            "and %llu extra, this run has %zu and %zu", path,
                            (unsigned long long)h.n, (unsigned long long)h.n_extra,
                            p->n, nx);
    }
    /* read into scratch first: a corrupt file must not clobber p */
    size_t nx = (size_t)h.n_extra;
    float *buf = NULL;
    int64_t want_size = (int64_t)(sizeof magic + 2 * sizeof(uint32_t) + hb +
                                  (3 * p->n + 3 * nx) * sizeof(float) +
                                  sizeof(uint64_t));
    if (s == IR_OK && fsize != want_size)
        s = fsize < want_size ? ckpt_truncated(path, fsize, want_size, d)
                              : ir_diag_set(d, IR_ERR_INPUT, "checkpoint %s: "
                                            "%lld bytes, %lld more than a "
                                            "checkpoint of this run has: not "
                                            "one distilc wrote", path,
                                            (long long)fsize,
                                            (long long)(fsize - want_size));
    if (s == IR_OK) {
        buf = malloc((3 * p->n + 3 * nx) * sizeof(float) + 1);
        if (!buf)
            s = ir_diag_set(d, IR_ERR_NOMEM, "checkpoint %s: out of memory", path);
    }
    if (s == IR_OK) {
        io_read(&io, buf, (3 * p->n + 3 * nx) * sizeof(float));
        uint64_t want = io.hash, got = 0;
        io_read(&io, &got, sizeof got);
        if (io.failed) /* the file shrank after the size check */
            s = ckpt_truncated(path, fsize, want_size, d);
        else if (got != want)
            s = ir_diag_set(d, IR_ERR_INPUT, "checkpoint %s: checksum mismatch, "
                            "the file is corrupt; start again without --resume",
                            path);
    }
    fclose(io.f);
    if (s == IR_OK) {
        memcpy(p->params, buf, p->n * sizeof(float));
        memcpy(p->m, buf + p->n, p->n * sizeof(float));
        memcpy(p->v, buf + 2 * p->n, p->n * sizeof(float));
        if (nx) {
            memcpy(extra->params, buf + 3 * p->n, nx * sizeof(float));
            memcpy(extra->m, buf + 3 * p->n + nx, nx * sizeof(float));
            memcpy(extra->v, buf + 3 * p->n + 2 * nx, nx * sizeof(float));
            memset(extra->grads, 0, nx * sizeof(float));
        }
        train_params_zero_grad(p);
        *st = h.st;
    }
    free(buf);
    return s;
}
