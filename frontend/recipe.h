/* recipe.h — a distillation recipe: everything `distilc distill` needs
 * besides the teacher, as an XML file validated against frontend/recipe.xsd
 * (libxml2's XML Schema) and loaded into a plain struct. Command-line
 * options override what the file says.
 *
 *     recipe r;
 *     recipe_default(&r);                        // TinyBERT-like defaults
 *     if (recipe_load_file("tinybert-sst2.xml", &r, &d) != IR_OK)
 *         ... d.msg: "tinybert-sst2.xml:14: element 'lr': '2e-5x' is not a
 *             valid value of the atomic type 'positive-double'"
 *     r.prediction.epochs = 1;                   // an option overriding it
 *
 * A recipe (distill/recipes/tinybert-sst2.xml is the worked example):
 *   <recipe version="1">
 *     <task>SST-2</task> <data>glue</data> <vocab>vocab.txt</vocab>
 *     (or <tokenizer>tokenizer.json</tokenizer>, not both)
 *     <student layers="4" hidden="312" heads="12" ffn="1200"/>
 *     <share>none</share> <init>teacher</init> <layer-map>3,6,9,12</layer-map>
 *     <general corpus="wiki.txt"> <epochs>1</epochs> ... </general>
 *     <intermediate> <epochs>10</epochs> <lr>5e-5</lr> ... </intermediate>
 *     <prediction> <epochs>3</epochs> <temperature>1</temperature> ...
 *     <augment copies="2" prob="0.4" neighbours="15"/>
 *     <supernet> <steps>2000</steps> </supernet>         (compress only)
 *     <search population="16" generations="6"/> <controls>true</controls>
 *   </recipe>
 * Stage settings: epochs | steps, batch, max-seq, lr, warmup, weight-decay,
 * temperature, seed, eval-every, ckpt-every, bucket; a stage with
 * skip="true" does not run; general runs only when it has a corpus.
 * `distilc finetune --recipe` reads the <prediction> stage (fine-tuning
 * recipes: distill/recipes/finetune-*.xml). Relative paths (data,
 * vocab, tokenizer, corpus) are relative to the recipe file's folder.
 */
#ifndef DISTILC_FRONTEND_RECIPE_H
#define DISTILC_FRONTEND_RECIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/diag.h"

/* RECIPE_VERSION: the version="N" this distilc reads (another is refused,
 * naming both). */
enum { RECIPE_PATH_MAX = 4096, RECIPE_TEXT_MAX = 256, RECIPE_VERSION = 1,
       RECIPE_FILE_MAX = 1 << 20 /* bytes; a recipe is a few hundred */ };

typedef struct recipe_stage {
    bool skip;
    int64_t epochs;          /* used when steps == 0 */
    int64_t steps;           /* 0 = by epochs */
    int64_t batch, max_seq;
    float lr, warmup, weight_decay, temperature;
    uint64_t seed;
    int64_t eval_every, ckpt_every;
    /* <bucket>N</bucket>: length-bucketed batches, each pool of N batches
     * sorted by length (distill/data.h train_data_order_buckets); 0 = a
     * plain shuffle */
    int64_t bucket;
} recipe_stage;

/* The line of the element that set each text setting, 0 when the recipe
 * did not set it: messages about a value then name the recipe's element,
 * not the option that could also have given it. */
typedef struct recipe_lines {
    int task, data, vocab, tokenizer, corpus, student, share, init, layer_map;
} recipe_lines;

typedef struct recipe {
    char task[RECIPE_TEXT_MAX];      /* "" = not given */
    char data[RECIPE_PATH_MAX];
    char vocab[RECIPE_PATH_MAX];     /* a BERT vocab.txt, or */
    char tokenizer[RECIPE_PATH_MAX]; /* a tokenizer.json ("" = not given) */
    char corpus[RECIPE_PATH_MAX];    /* general stage's corpus, "" = none */
    char student[RECIPE_TEXT_MAX];   /* "layers=L,hidden=H,..." (student.h) */
    char share[RECIPE_TEXT_MAX];     /* "none" */
    char init[RECIPE_TEXT_MAX];      /* "teacher" */
    char layer_map[RECIPE_TEXT_MAX]; /* "" = uniform */
    recipe_stage general, intermediate, prediction;
    /* compress's own stages: <supernet> (its steps and batch; skipped
     * with the proxy fitness), <search population="P" generations="G"/>
     * (0 = the evolution's defaults) and <controls>true</controls> (train
     * the two controls beside the full method: pipeline/compress.h) */
    recipe_stage supernet;
    int64_t search_population, search_generations;
    bool controls;
    /* <augment copies="N" prob="P" neighbours="K"/>: TinyBERT data
     * augmentation of the task stages (distill/augment.h); copies 0 = off,
     * prob 0.4 and neighbours 15 by default */
    int64_t augment_copies;
    float augment_prob;
    int64_t augment_neighbours;
    char file[RECIPE_PATH_MAX];      /* the recipe's name ("" = none) */
    recipe_lines line;
} recipe;

/* Defaults: share none, init teacher; general 1 epoch, batch 32, max-seq
 * 128, lr 1e-4; intermediate 3 epochs, lr 5e-5; prediction 3 epochs, lr
 * 3e-5; batch 32, max-seq 64 (128 general), warmup 0.1, weight decay 0.01,
 * temperature 1, seed 42, eval at the end, checkpoints at evals. */
void recipe_default(recipe *r);

/* Validates against the schema, then fills r with what the file gives
 * (the rest of r is left as it was). IR_ERR_INPUT for a missing file, one
 * that is not regular or larger than RECIPE_FILE_MAX (ir/file_read.h);
 * IR_ERR_IO for an unreadable file;
 * IR_ERR_INPUT "FILE:LINE: ..." naming the element at fault for malformed
 * XML, a DOCTYPE (frontend/xml_read.h), a schema violation (unknown
 * element, bad number, ...), a version other than RECIPE_VERSION or a value
 * out of range. Sets r->file and r->line. */
ir_status recipe_load_file(const char *path, recipe *r, ir_diag *d);
/* The same from memory; name stands for the file in messages and base_dir
 * (NULL = ".") resolves relative paths. */
ir_status recipe_load_text(const char *text, size_t len, const char *name,
                           const char *base_dir, recipe *r, ir_diag *d);

/* The schema text recipe_load_* validate against (a copy of
 * frontend/recipe.xsd). */
const char *recipe_schema_text(void);

#endif
