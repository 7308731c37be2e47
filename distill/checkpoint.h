/* checkpoint.h — the trainer's state in one file that survives a kill:
 * parameters, AdamW moments, extra parameters (train_extra) and where the
 * loop was, written atomically (temporary file, fsync, rename, fsync of
 * the folder), so a crash leaves either the old or the new file.
 *
 *     train_ckpt_state st = {.step = 100, .data_seed = 42, ...};
 *     train_ckpt_save("ckpt/last.ckpt", p, extra, &st, &d);
 *     ...
 *     train_ckpt_load("ckpt/last.ckpt", p, extra, &st, &d);  // same config
 *
 * Layout (native byte order, little-endian on every machine distilc runs
 * on): "DSTLCKPT", u32 version, u32 header bytes, the header (config
 * fields, loop state, block sizes), then f32 params[n], m[n], v[n],
 * extra params[x], m[x], v[x], and a trailing u64 FNV-1a checksum of
 * everything before it. A file of another version, config or size is
 * refused with a message saying what differs; start a fresh run (without
 * --resume) or use the distilc that wrote it.
 *
 * Version 2 added the run's precisions (two 8-byte names after the block
 * sizes, spelled as ir_precision_name spells them: the file keeps the name,
 * not the enum's number); a version 1 file still loads, with both read as "fp32", the only
 * precision distilc had when it wrote them.
 *
 * Version 3 added, after the precisions, what a resumed run reports and
 * checks: the figures so far (the last step's loss, the last dev metric,
 * training seconds and tokens over every run), the options that set the
 * result (lr, warmup, weight decay, clipping, batch, sequence length, a
 * hash of the training data, one of the loss's settings) and the size of
 * a block of loop state the
 * caller owns (the supernet's random stream and sandwich), stored after
 * the extra block. A version 1 or 2 file loads with the figures unknown
 * (NaN, 0) and only the seed, step count and precisions checked.
 *
 * Version 4 added, after those, the seconds of the training time spent in
 * a teacher's forward (distillation) over every run, so a resumed stage
 * reports the teacher's and the student's share of all its runs; an older
 * file loads with 0 there.
 */
#ifndef DISTILC_DISTILL_CHECKPOINT_H
#define DISTILC_DISTILL_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "distill/params.h"
#include "distill/trainer.h"
#include "ir/diag.h"

/* TRAIN_CKPT_PRECISION_MAX is the on-disk width of a precision name
 * (ir/precision.h), with its NUL. */
enum { TRAIN_CKPT_VERSION = 4, TRAIN_CKPT_PRECISION_MAX = 8 };

/* Where the loop was after `step` optimizer steps. */
typedef struct train_ckpt_state {
    int64_t step;            /* steps done */
    int64_t total_steps;     /* of the run that wrote it */
    int64_t epoch;           /* epoch of the next step */
    int64_t batch_in_epoch;  /* index of the next batch in that epoch */
    uint64_t data_seed;      /* seed of the example order */
    uint64_t rng_counter;    /* next counter of the run's random stream */
    double best_dev;         /* NaN when no eval yet */
    int64_t best_step;
    /* The numbers the run computes with, by name ("fp32", "bf16"): a run
     * resumed with others would silently continue on other numbers, so
     * train_loop_run refuses it. "" is saved as "fp32". */
    char gemm_precision[TRAIN_CKPT_PRECISION_MAX];    /* student GEMMs */
    char teacher_precision[TRAIN_CKPT_PRECISION_MAX]; /* distillation teacher */
    /* version 3: the figures of steps 1..step, over every run of the stage,
     * so a resumed run reports them rather than 0 */
    double last_dev;         /* last dev metric; NaN when none */
    double seconds;          /* training time */
    uint64_t tokens;         /* non-padding tokens trained on */
    double teacher_seconds;  /* version 4: of `seconds`, those in a teacher's
                                forward; 0 without a teacher or unknown */
    float last_loss;         /* total loss of step `step`; NaN before one */
    /* version 3: the options that set the result, refused on resume when
     * they differ (train_ckpt_match) */
    float lr, warmup, weight_decay, grad_clip;
    uint32_t file_version;   /* set by a load: the version read (not saved) */
    int64_t batch;           /* examples a step */
    int64_t seq;             /* tokens an example at most (after any cut) */
    uint64_t data_hash;      /* train_data_hash of the training data */
    uint64_t loss_hash;      /* the caller's hash of its loss settings
                                (distill: temperature, layer map, teacher
                                shape); 0 none */
} train_ckpt_state;

/* extra may be NULL (no extra block). IR_ERR_IO naming the path. */
ir_status train_ckpt_save(const char *path, const train_params *p,
                          const train_extra *extra,
                          const train_ckpt_state *st, ir_diag *d);
/* The same with aux_n bytes of the caller's loop state stored too. */
ir_status train_ckpt_save_aux(const char *path, const train_params *p,
                              const train_extra *extra,
                              const train_ckpt_state *st, const void *aux,
                              size_t aux_n, ir_diag *d);
/* Restores params, m, v (grads are zeroed) and the extra block into p and
 * extra, which must have the checkpoint's config and sizes (IR_ERR_INPUT
 * saying what differs). IR_ERR_INPUT too when the file is missing, not a
 * regular file, truncated (its size is checked against the header before
 * the blocks are read) or corrupt (bad magic, bad checksum); IR_ERR_IO when
 * it cannot be read. */
ir_status train_ckpt_load(const char *path, train_params *p,
                          train_extra *extra, train_ckpt_state *st,
                          ir_diag *d);
/* The same for a file saved with aux_n bytes of loop state, read into aux
 * (another size is IR_ERR_INPUT). */
ir_status train_ckpt_load_aux(const char *path, train_params *p,
                              train_extra *extra, train_ckpt_state *st,
                              void *aux, size_t aux_n, ir_diag *d);
/* Only the header's loop state (no checksum check: for planning a resume;
 * the load verifies the whole file). IR_ERR_IO when missing or short,
 * IR_ERR_INPUT when not a checkpoint of a version this distilc reads. */
ir_status train_ckpt_peek(const char *path, train_ckpt_state *st, ir_diag *d);

/* Whether a run whose options are `want` may continue from the checkpoint
 * at path whose state is `saved`: seed, batch, sequence length, training
 * data, lr, warmup, weight decay, clipping, loss settings, step count and
 * precisions must
 * agree (a version 1 or 2 file recorded only the seed, steps and
 * precisions). IR_ERR_INPUT naming the first that differs as the command
 * line spells it, with both values. */
ir_status train_ckpt_match(const char *path, const train_ckpt_state *saved,
                           const train_ckpt_state *want, ir_diag *d);

#endif
