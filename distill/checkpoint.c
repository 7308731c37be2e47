/* checkpoint.c — saving and restoring the trainer's state (see
 * checkpoint.h for the layout). Writes stream through a hashing writer into
 * an ir/file_atomic temp file, fsynced and renamed over PATH with the
 * folder fsynced, so a kill or power cut leaves the previous checkpoint. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "distill/checkpoint.h"
#include "ir/file_atomic.h"
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
    uint64_t aux_n;          /* version 3: bytes of the caller's loop state */
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
    if (version >= 3) {
        rw(io, &s->last_loss, sizeof s->last_loss);
        rw(io, &s->last_dev, sizeof s->last_dev);
        rw(io, &s->seconds, sizeof s->seconds);
        rw(io, &s->tokens, sizeof s->tokens);
        rw(io, &s->lr, sizeof s->lr);
        rw(io, &s->warmup, sizeof s->warmup);
        rw(io, &s->weight_decay, sizeof s->weight_decay);
        rw(io, &s->grad_clip, sizeof s->grad_clip);
        rw(io, &s->batch, sizeof s->batch);
        rw(io, &s->seq, sizeof s->seq);
        rw(io, &s->data_hash, sizeof s->data_hash);
        rw(io, &s->loss_hash, sizeof s->loss_hash);
        rw(io, &h->aux_n, sizeof h->aux_n);
    } else if (!writing) {
        /* not recorded: unknown figures, no options to compare */
        s->last_loss = NAN;
        s->last_dev = NAN;
        s->seconds = 0;
        s->tokens = 0;
        s->lr = s->warmup = s->weight_decay = s->grad_clip = 0;
        s->batch = s->seq = 0;
        s->data_hash = s->loss_hash = 0;
        h->aux_n = 0;
    }
    if (version >= 4)
        rw(io, &s->teacher_seconds, sizeof s->teacher_seconds);
    else if (!writing)
        s->teacher_seconds = 0; /* not recorded */
    if (!writing)
        s->file_version = version;
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
    size_t v2 = v1 + 2 * TRAIN_CKPT_PRECISION_MAX;
    size_t v3 = v2 + sizeof(float) + 2 * sizeof(double) + sizeof(uint64_t) +
                4 * sizeof(float) + 2 * sizeof(int64_t) + 3 * sizeof(uint64_t);
    size_t v4 = v3 + sizeof(double);
    return (uint32_t)(version >= 4 ? v4 : version == 3 ? v3 : version == 2 ? v2 : v1);
}

ir_status train_ckpt_save(const char *path, const train_params *p,
                          const train_extra *extra,
                          const train_ckpt_state *st, ir_diag *d)
{
    return train_ckpt_save_aux(path, p, extra, st, NULL, 0, d);
}

ir_status train_ckpt_save_aux(const char *path, const train_params *p,
                              const train_extra *extra,
                              const train_ckpt_state *st, const void *aux,
                              size_t aux_n, ir_diag *d)
{
    ir_file_atomic out; /* temp, fsync, rename, folder fsync */
    if (ir_file_atomic_open(&out, path, 0644, d) != IR_OK)
        return ir_diag_prefix(d, "checkpoint");
    ckpt_io io = {.f = out.f, .hash = 0xcbf29ce484222325ULL};
    uint32_t version = TRAIN_CKPT_VERSION, hb = header_bytes(version);
    io_write(&io, CKPT_MAGIC, sizeof CKPT_MAGIC);
    io_write(&io, &version, sizeof version);
    io_write(&io, &hb, sizeof hb);
    ckpt_header h = {.cfg = p->cfg, .st = *st, .n = p->n,
                     .n_extra = extra ? extra->n : 0, .aux_n = aux ? aux_n : 0};
    header_io(&io, &h, version, true);
    io_write(&io, p->params, p->n * sizeof(float));
    io_write(&io, p->m, p->n * sizeof(float));
    io_write(&io, p->v, p->n * sizeof(float));
    if (extra && extra->n) {
        io_write(&io, extra->params, extra->n * sizeof(float));
        io_write(&io, extra->m, extra->n * sizeof(float));
        io_write(&io, extra->v, extra->n * sizeof(float));
    }
    if (aux)
        io_write(&io, aux, aux_n);
    uint64_t sum = io.hash;
    io_write(&io, &sum, sizeof sum);
    if (io.failed) {
        int err = errno;
        ir_file_atomic_abort(&out);
        return ir_diag_set(d, IR_ERR_IO, "checkpoint %s: write failed: %s "
                           "(disk full?)", path, strerror(err));
    }
    if (ir_file_atomic_commit(&out, d) != IR_OK)
        return ir_diag_prefix(d, "checkpoint");
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

/* Opens path (a regular file: ir/file_read.h) and reads magic, version and
 * header into h; *fsize gets the file's size, *hb the header's bytes. On
 * failure the file is closed and io->f is NULL. */
static ir_status header_read(const char *path, ckpt_io *io, ckpt_header *h,
                             int64_t *fsize, uint32_t *hbytes, ir_diag *d)
{
    memset(h, 0, sizeof *h);
    *io = (ckpt_io){.f = NULL, .hash = 0xcbf29ce484222325ULL};
    ir_status fs = ir_file_fopen(path, "checkpoint", 0, &io->f, fsize, d);
    if (fs != IR_OK)
        return fs;
    char magic[8];
    uint32_t version = 0, hb = 0;
    io_read(io, magic, sizeof magic);
    io_read(io, &version, sizeof version);
    io_read(io, &hb, sizeof hb);
    ir_status s = IR_OK;
    if (io->failed || memcmp(magic, CKPT_MAGIC, sizeof magic) != 0)
        s = ir_diag_set(d, IR_ERR_INPUT, "checkpoint %s: not a distilc checkpoint "
                        "(bad magic)", path);
    else if (version < 1 || version > TRAIN_CKPT_VERSION ||
             hb != header_bytes(version))
        s = ir_diag_set(d, IR_ERR_INPUT, "checkpoint %s: version %u, this distilc "
                        "reads versions 1 to %d; resume with the distilc that wrote it "
                        "or start without --resume", path, version, TRAIN_CKPT_VERSION);
    if (s == IR_OK) {
        header_io(io, h, version, false);
        if (io->failed)
            s = ckpt_truncated(path, *fsize, -1, d);
    }
    *hbytes = hb;
    if (s != IR_OK) {
        fclose(io->f);
        io->f = NULL;
    }
    return s;
}

ir_status train_ckpt_peek(const char *path, train_ckpt_state *st, ir_diag *d)
{
    ckpt_io io;
    ckpt_header h;
    int64_t fsize = 0;
    uint32_t hb = 0;
    ir_status s = header_read(path, &io, &h, &fsize, &hb, d);
    if (s != IR_OK)
        return s;
    fclose(io.f);
    *st = h.st;
    return IR_OK;
}

ir_status train_ckpt_load(const char *path, train_params *p,
                          train_extra *extra, train_ckpt_state *st,
                          ir_diag *d)
{
    return train_ckpt_load_aux(path, p, extra, st, NULL, 0, d);
}

ir_status train_ckpt_load_aux(const char *path, train_params *p,
                              train_extra *extra, train_ckpt_state *st,
                              void *aux, size_t aux_n, ir_diag *d)
{
    ckpt_io io;
    ckpt_header h;
    int64_t fsize = 0; /* checked against what the header says before the
                          blocks are read */
    uint32_t hb = 0;
    ir_status s = header_read(path, &io, &h, &fsize, &hb, d);
    if (s != IR_OK)
        return s;
    size_t nx = extra ? extra->n : 0;
    if (!ir_encoder_config_equal(&h.cfg, &p->cfg))
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
    else if (h.aux_n != (aux ? aux_n : 0))
        s = ir_diag_set(d, IR_ERR_INPUT, "checkpoint %s: holds %llu bytes of loop "
                        "state, this run keeps %zu (written by another kind of "
                        "training?)", path, (unsigned long long)h.aux_n,
                        aux ? aux_n : 0);
    /* read into scratch first: a corrupt file must not clobber p */
    size_t na = (size_t)h.aux_n, nf = 3 * p->n + 3 * nx;
    float *buf = NULL;
    int64_t want_size = (int64_t)(sizeof CKPT_MAGIC + 2 * sizeof(uint32_t) + hb +
                                  nf * sizeof(float) + na + sizeof(uint64_t));
    if (s == IR_OK && fsize != want_size)
        s = fsize < want_size ? ckpt_truncated(path, fsize, want_size, d)
                              : ir_diag_set(d, IR_ERR_INPUT, "checkpoint %s: "
                                            "%lld bytes, %lld more than a "
                                            "checkpoint of this run has: not "
                                            "one distilc wrote", path,
                                            (long long)fsize,
                                            (long long)(fsize - want_size));
    if (s == IR_OK) {
        buf = malloc(nf * sizeof(float) + na + 1);
        if (!buf)
            s = ir_diag_set(d, IR_ERR_NOMEM, "checkpoint %s: out of memory", path);
    }
    if (s == IR_OK) {
        io_read(&io, buf, nf * sizeof(float));
        io_read(&io, (char *)buf + nf * sizeof(float), na);
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
        if (na)
            memcpy(aux, (char *)buf + nf * sizeof(float), na);
        train_params_zero_grad(p);
        *st = h.st;
    }
    free(buf);
    return s;
}

/* ---- may a run continue from a checkpoint ---------------------------------- */

static ir_status differs(ir_diag *d, const char *path, const char *option,
                         const char *saved, const char *want)
{
    return ir_diag_set(d, IR_ERR_INPUT, "resume: %s was written with %s %s, this "
                       "run has %s %s; resume with %s %s or start without --resume",
                       path, option, saved, option, want, option, saved);
}

ir_status train_ckpt_match(const char *path, const train_ckpt_state *saved,
                           const train_ckpt_state *want, ir_diag *d)
{
    char a[64], b[64];
    if (saved->data_seed != want->data_seed) {
        snprintf(a, sizeof a, "%llu", (unsigned long long)saved->data_seed);
        snprintf(b, sizeof b, "%llu", (unsigned long long)want->data_seed);
        return differs(d, path, "--seed", a, b);
    }
    if (saved->file_version >= 3) {
        /* in the order that names the cause: a batch or sequence length
         * changes the data's hash and the step count too */
        const struct {
            const char *option;
            double saved, want;
        } nums[] = {
            {"--batch", (double)saved->batch, (double)want->batch},
            {"--max-seq", (double)saved->seq, (double)want->seq},
        };
        for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
            if (nums[i].saved != nums[i].want) {
                snprintf(a, sizeof a, "%.0f", nums[i].saved);
                snprintf(b, sizeof b, "%.0f", nums[i].want);
                return differs(d, path, nums[i].option, a, b);
            }
        if (saved->data_hash != want->data_hash)
            return ir_diag_set(d, IR_ERR_INPUT, "resume: %s was trained on other "
                               "data (another --data, --limit, --vocab, --corpus, "
                               "--augment or length-bucket pool?); resume with the data it was written "
                               "with or start without --resume", path);
        if (saved->loss_hash != want->loss_hash)
            return ir_diag_set(d, IR_ERR_INPUT, "resume: %s was written with other "
                               "loss settings (--temperature, --layer-map, or a "
                               "teacher of another shape); resume with those it "
                               "was written with or start without --resume", path);
        const struct {
            const char *option;
            float saved, want;
        } floats[] = {
            {"--lr", saved->lr, want->lr},
            {"warmup", saved->warmup, want->warmup},
            {"weight decay", saved->weight_decay, want->weight_decay},
            {"gradient clipping", saved->grad_clip, want->grad_clip},
        };
        for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++)
            if (memcmp(&floats[i].saved, &floats[i].want, sizeof(float)) != 0) {
                snprintf(a, sizeof a, "%g", (double)floats[i].saved);
                snprintf(b, sizeof b, "%g", (double)floats[i].want);
                return differs(d, path, floats[i].option, a, b);
            }
    }
    if (saved->total_steps != want->total_steps)
        return ir_diag_set(d, IR_ERR_INPUT, "resume: %s belongs to a run of %lld "
                           "steps, this run has %lld (the same data, batch and "
                           "--steps or --epochs are needed)", path,
                           (long long)saved->total_steps, (long long)want->total_steps);
    if (strcmp(saved->gemm_precision, want->gemm_precision) != 0)
        return differs(d, path, "--gemm-precision", saved->gemm_precision,
                       want->gemm_precision);
    if (strcmp(saved->teacher_precision, want->teacher_precision) != 0)
        return differs(d, path, "--teacher-precision", saved->teacher_precision,
                       want->teacher_precision);
    return IR_OK;
}
