/* test_data_padding.c — batches padded the way the model expects them
 * (issue 16). RoBERTa and XLM-R number positions over the ids != pad from
 * pad_id + 1 (transformers' create_position_ids_from_input_ids), so their
 * padding must carry their pad id, 1, not BERT's [PAD] = 0.
 * - Tokenized rows (train_data_from_glue) pad with the tokenizer's pad id
 *   (tok_pad_id: <pad> = 1 in a RoBERTa tokenizer.json, [PAD] = 0 in a
 *   BERT vocab.txt); train_data_set_inputs gives them the model's
 *   (teacher_pad_id: a RoBERTa model's own pad id even under a BERT
 *   vocabulary) and zeroes the token types of a model without them.
 * - A RoBERTa-shaped teacher (padded positions from pad_id 1, no token
 *   types, tanh head) on a batch gathered from those rows
 *   (train_data_batch: 1 to 9 tokens padded to 16): the trainer's and
 *   the oneDNN runtime's logits agree, and so do their hidden states at
 *   the valid positions; every row's logits equal the reference
 *   interpreter's on the encoder's ONNX graph (positions by CumSum, as
 *   transformers exports them) and the row's own logits run alone without
 *   padding. Tolerance 1e-4 (weights N(0, 0.1), activations O(1)).
 * - Evaluation batches (eval_run) pad with the id eval_options.pad_id
 *   gives, else the tokenizer's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distill/data.h"
#include "distill/teacher.h"
#include "frontend/eval.h"
#include "frontend/glue.h"
#include "frontend/tokenizer.h"
#include "ir/interp.h"
#include "testutil.h"

#define TOL 1e-4

/* A RoBERTa-style byte-level BPE tokenizer.json: <s> 0, <pad> 1, </s> 2,
 * the letters of the sentences below, and Ġ (a space before a word). */
static const char ROBERTA_JSON[] =
    "{\"version\":\"1.0\",\"added_tokens\":[],\"normalizer\":null,"
    "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
    "\"trim_offsets\":true,\"use_regex\":true},"
    "\"post_processor\":{\"type\":\"RobertaProcessing\",\"sep\":[\"</s>\",2],"
    "\"cls\":[\"<s>\",0],\"trim_offsets\":true,\"add_prefix_space\":false},"
    "\"model\":{\"type\":\"BPE\",\"vocab\":{\"<s>\":0,\"<pad>\":1,\"</s>\":2,"
    "\"<unk>\":3,\"\\u0120\":4,\"a\":5,\"d\":6,\"e\":7,\"f\":8,\"g\":9,"
    "\"i\":10,\"l\":11,\"m\":12,\"n\":13,\"o\":14,\"r\":15,\"s\":16,\"t\":17,"
    "\"u\":18,\"v\":19,\"w\":20,\"y\":21,\"c\":22,\"h\":23,\"b\":24},"
    "\"merges\":[]}}";

/* BERT's specials and the same letters, [PAD] = 0. */
static const char BERT_VOCAB[] =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\nd\ne\nf\ng\nh\ni\nl\nm\nn\n"
    "o\nr\ns\nt\nu\nv\nw\ny\n";

/* SST-2 rows of 1..9 characters: with <s> and </s>, 3..11 tokens. */
static const char *const SENTENCES[] = {"a fun film", "dull", "go", "nice",
                                        "a", "so bad"};
enum { N = sizeof SENTENCES / sizeof SENTENCES[0], V = 25, MAXPOS = 34 };

static bool write_glue(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/train.tsv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs("sentence\tlabel\n", f);
    for (int i = 0; i < N; i++)
        fprintf(f, "%s\t%d\n", SENTENCES[i], i % 2);
    return fclose(f) == 0;
}

/* RoBERTa's shape: positions counted from pad_id 1, one token type,
 * tanh head, LayerNorm eps 1e-5. */
static ir_encoder *make_roberta(void)
{
    ir_encoder_config c;
    ir_encoder_config_init(&c);
    c.hidden = 16; c.layers = 2; c.heads = 4; c.ffn = 32; c.vocab = V;
    c.max_positions = MAXPOS; c.type_vocab = 1; c.labels = 2;
    c.positions = IR_ENC_POS_PADDED;
    c.pad_id = 1;
    c.pool_act = IR_ACT_TANH;
    c.ln_eps = 1e-5f;
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config_share(&c, IR_ENC_SHARE_NONE, 0, &d);
    ir_encoder *e = NULL;
    if (ir_encoder_new(&c, &e, &d) != IR_OK) {
        printf("  encoder: %s\n", d.msg);
        return NULL;
    }
    ir_encoder_init_opts o;
    ir_encoder_init_opts_default(&o);
    o.seed = 11;
    o.std = 0.1f;
    o.bias_std = 0.05f;
    o.ln_std = 0.05f;
    ir_encoder_init_random(e, &o);
    return e;
}

/* Every padding cell (mask 0) holds pad; with no_types every type is 0. */
static bool rows_padded(const int32_t *ids, const int32_t *types,
                        const int32_t *mask, size_t n, int32_t pad,
                        bool no_types)
{
    for (size_t i = 0; i < n; i++)
        if ((!mask[i] && ids[i] != pad) || (no_types && types[i] != 0))
            return false;
    return true;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* ---- tokenized rows ------------------------------------------------------ */

static void test_rows(const glue_dataset *ds, const ir_encoder_config *rc)
{
    ir_diag d;
    ir_diag_init(&d);
    tok_tokenizer *rob = NULL, *bert = NULL;
    CHECK_MSG(tok_load_json_text(ROBERTA_JSON, sizeof ROBERTA_JSON - 1,
                                 "roberta.json", &rob, &d) == IR_OK, "%s", d.msg);
    tok_options to = tok_options_default();
    CHECK_MSG(tok_load_vocab_text(BERT_VOCAB, sizeof BERT_VOCAB - 1, "vocab.txt",
                                  &to, &bert, &d) == IR_OK, "%s", d.msg);
    if (!rob || !bert) {
        tok_free(rob);
        tok_free(bert);
        return;
    }
    CHECK(tok_pad_id(rob) == 1 && tok_pad_id(bert) == 0);
    CHECK(teacher_pad_id(rc, rob) == 1);
    CHECK(teacher_pad_id(rc, bert) == 1); /* the model's, not [PAD] */
    ir_encoder_config bc;
    ir_encoder_config_init(&bc);
    CHECK(teacher_pad_id(&bc, bert) == 0 && teacher_pad_id(&bc, rob) == 1);

    train_data td;
    CHECK_MSG(train_data_from_glue(ds, rob, 16, &td, &d) == IR_OK, "%s", d.msg);
    CHECK(td.pad_id == 1 &&
          rows_padded(td.ids, td.types, td.mask, td.n * td.T, 1, false));
    train_data_free(&td);

    /* BERT's vocabulary pads with 0; the RoBERTa model's contract makes
     * it 1 and, for a pair with types 1, the types 0 */
    CHECK_MSG(train_data_from_glue(ds, bert, 16, &td, &d) == IR_OK, "%s", d.msg);
    CHECK(td.pad_id == 0 &&
          rows_padded(td.ids, td.types, td.mask, td.n * td.T, 0, false));
    td.types[1] = 1; /* as text B of a pair would be */
    train_data_set_inputs(&td, (int32_t)teacher_pad_id(rc, bert), false);
    CHECK(td.pad_id == 1 &&
          rows_padded(td.ids, td.types, td.mask, td.n * td.T, 1, true));
    printf("  rows: RoBERTa tokenizer pads with %lld, BERT vocab.txt with %lld; "
           "a RoBERTa model's batches with %lld\n", (long long)tok_pad_id(rob),
           (long long)tok_pad_id(bert), (long long)teacher_pad_id(rc, bert));
    train_data_free(&td);
    tok_free(rob);
    tok_free(bert);
}

/* ---- the teacher on a padded batch ---------------------------------------- */

/* Logits [B,labels] of the reference interpreter on e's ONNX graph (no
 * token_type_ids input, as a RoBERTa export). */
static bool interp_logits(const ir_encoder *e, const train_batch *b,
                          float *out)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_graph_opts go;
    ir_encoder_graph_opts_default(&go);
    go.token_types = false;
    ir_graph *g = NULL;
    if (ir_encoder_to_graph(e, &go, &g, &d) != IR_OK) {
        printf("  graph: %s\n", d.msg);
        return false;
    }
    int64_t dims[2] = {(int64_t)b->B, (int64_t)b->T};
    ir_tensor *ids = ir_tensor_new(IR_DT_I64, 2, dims);
    ir_tensor *mask = ir_tensor_new(IR_DT_I64, 2, dims);
    ir_tensor **outs = NULL;
    bool ok = ids && mask && g->n_inputs == 2;
    if (ok) {
        for (size_t i = 0; i < b->B * b->T; i++) {
            ((int64_t *)ids->data)[i] = b->ids[i];
            ((int64_t *)mask->data)[i] = b->mask[i];
        }
        const ir_tensor *ins[2] = {ids, mask};
        ok = ir_interp_run(g, ins, &outs, &d) == IR_OK;
        if (!ok)
            printf("  interpreter: %s\n", d.msg);
    }
    if (ok)
        memcpy(out, outs[0]->data, b->B * (size_t)e->cfg.labels * sizeof *out);
    if (outs)
        ir_interp_free_outputs(g, outs);
    ir_tensor_free(ids);
    ir_tensor_free(mask);
    ir_graph_free(g);
    return ok;
}

static void test_teacher_batch(const glue_dataset *ds, const ir_encoder *e)
{
    ir_diag d;
    ir_diag_init(&d);
    const ir_encoder_config *c = &e->cfg;
    tok_tokenizer *tok = NULL;
    CHECK_MSG(tok_load_json_text(ROBERTA_JSON, sizeof ROBERTA_JSON - 1,
                                 "roberta.json", &tok, &d) == IR_OK, "%s", d.msg);
    train_data td = {0};
    train_batch_buf buf = {0};
    teacher *rt = NULL, *tr = NULL;
    if (!tok || train_data_from_glue(ds, tok, 16, &td, &d) != IR_OK) {
        CHECK_MSG(false, "%s", d.msg);
        goto done;
    }
    train_data_set_inputs(&td, (int32_t)teacher_pad_id(c, tok), false);
    size_t idx[N];
    for (size_t i = 0; i < N; i++)
        idx[i] = i;
    train_batch b;
    CHECK_MSG(train_data_batch(&td, idx, N, &buf, &b, &d) == IR_OK, "%s", d.msg);
    CHECK(b.T == TRAIN_BATCH_T_STEP &&
          rows_padded(b.ids, b.types, b.mask, b.B * b.T, 1, true));
    CHECK_MSG(teacher_new(e, TEACHER_ENGINE_RT, NULL, NULL, &rt, &d) == IR_OK,
              "%s", d.msg);
    CHECK_MSG(teacher_new(e, TEACHER_ENGINE_TRAIN, NULL, NULL, &tr, &d) == IR_OK,
              "%s", d.msg);
    if (!rt || !tr)
        goto done;
    size_t B = b.B, T = b.T, H = (size_t)c->hidden, NL = (size_t)c->labels;
    float *lr = malloc(B * NL * sizeof *lr), *lt = malloc(B * NL * sizeof *lt);
    float *li = malloc(B * NL * sizeof *li);
    teacher_outputs a, o;
    CHECK(lr && lt && li);
    if (!lr || !lt || !li ||
        teacher_run(rt, B, T, b.ids, NULL, b.mask, &a, &d) != IR_OK) {
        CHECK_MSG(false, "runtime: %s", d.msg);
        goto free_out;
    }
    memcpy(lr, a.logits, B * NL * sizeof *lr);
    /* the runtime's hidden states at the valid positions, kept */
    float *hr = malloc((size_t)(c->layers + 1) * B * T * H * sizeof *hr);
    if (!hr)
        goto free_out;
    for (int64_t l = 0; l <= c->layers; l++)
        memcpy(hr + (size_t)l * B * T * H, a.hidden[l], B * T * H * sizeof *hr);
    if (teacher_run(tr, B, T, b.ids, NULL, b.mask, &o, &d) != IR_OK) {
        CHECK_MSG(false, "trainer: %s", d.msg);
        free(hr);
        goto free_out;
    }
    memcpy(lt, o.logits, B * NL * sizeof *lt);
    double logit_diff = max_diff(lr, lt, B * NL), hidden_diff = 0;
    for (int64_t l = 0; l <= c->layers; l++)
        for (size_t i = 0; i < B * T; i++)
            if (b.mask[i])
                hidden_diff = fmax(hidden_diff,
                                   max_diff(hr + ((size_t)l * B * T + i) * H,
                                            o.hidden[l] + i * H, H));
    free(hr);
    CHECK_MSG(interp_logits(e, &b, li), "the reference interpreter failed");
    double interp_diff = max_diff(lr, li, B * NL);
    /* each row alone, unpadded, on both engines */
    double alone_diff = 0;
    for (size_t r = 0; r < B; r++) {
        size_t n = td.len[r];
        if (teacher_run(rt, 1, n, b.ids + r * T, NULL, b.mask + r * T, &a, &d) !=
                IR_OK ||
            teacher_run(tr, 1, n, b.ids + r * T, NULL, b.mask + r * T, &o, &d) !=
                IR_OK) {
            CHECK_MSG(false, "row %zu alone: %s", r, d.msg);
            break;
        }
        alone_diff = fmax(alone_diff, max_diff(a.logits, lr + r * NL, NL));
        alone_diff = fmax(alone_diff, max_diff(o.logits, lt + r * NL, NL));
    }
    printf("  RoBERTa teacher, batch of %zu rows (%u..%u tokens) padded to %zu "
           "with id 1:\n"
           "    trainer vs onednn: logits %.2e, hidden at valid positions %.2e\n"
           "    onednn vs interpreter (CumSum positions): logits %.2e\n"
           "    padded vs each row alone: logits %.2e (tolerance %g)\n",
           B, td.len[4], td.len[0], T, logit_diff, hidden_diff, interp_diff,
           alone_diff, TOL);
    CHECK_MSG(logit_diff <= TOL && hidden_diff <= TOL, "trainer vs runtime: "
              "logits %.3e, hidden %.3e", logit_diff, hidden_diff);
    CHECK_MSG(interp_diff <= TOL, "runtime vs interpreter %.3e", interp_diff);
    CHECK_MSG(alone_diff <= TOL, "padded vs alone %.3e", alone_diff);
free_out:
    free(lr);
    free(lt);
    free(li);
done:
    teacher_free(rt);
    teacher_free(tr);
    train_batch_buf_free(&buf);
    train_data_free(&td);
    tok_free(tok);
}

/* ---- evaluation batches --------------------------------------------------- */

typedef struct pad_probe {
    int64_t want;
    bool ok;
    size_t padded;
} pad_probe;

static ir_status probe_run(void *ctx, const eval_batch *b, float *logits,
                           ir_diag *d)
{
    (void)d;
    pad_probe *p = ctx;
    for (size_t i = 0; i < b->rows * b->seq; i++)
        if (!b->attention_mask[i]) {
            p->padded++;
            p->ok = p->ok && b->input_ids[i] == p->want && b->pad_id == p->want;
        }
    memset(logits, 0, b->rows * b->n_labels * sizeof *logits);
    return IR_OK;
}

static void test_eval_batches(const glue_dataset *ds)
{
    ir_diag d;
    ir_diag_init(&d);
    tok_tokenizer *tok = NULL;
    tok_options to = tok_options_default();
    CHECK_MSG(tok_load_vocab_text(BERT_VOCAB, sizeof BERT_VOCAB - 1, "vocab.txt",
                                  &to, &tok, &d) == IR_OK, "%s", d.msg);
    if (!tok)
        return;
    for (int64_t want = 0; want <= 1; want++) {
        eval_options eo = eval_options_default();
        if (want == 1)
            eo.pad_id = 1; /* a RoBERTa model's, under a BERT vocabulary */
        pad_probe p = {want, true, 0};
        eval_result r;
        CHECK_MSG(eval_run(ds, tok, &eo, probe_run, &p, &r, &d) == IR_OK, "%s",
                  d.msg);
        CHECK_MSG(p.ok && p.padded > 0, "eval pads with %lld: %zu cells",
                  (long long)want, p.padded);
        eval_result_free(&r);
    }
    tok_free(tok);
}

int main(void)
{
    char dir[256];
    if (!test_tmpdir(dir, sizeof dir) || !write_glue(dir)) {
        CHECK_MSG(false, "cannot write the GLUE fixture");
        return test_finish("test_data_padding");
    }
    ir_diag d;
    ir_diag_init(&d);
    glue_dataset ds;
    glue_load_opts gl = {.skip_bad_lines = false, .limit = 0};
    if (glue_load(glue_task_lookup("SST-2"), dir, GLUE_SPLIT_TRAIN, &gl, &ds, &d) !=
        IR_OK) {
        CHECK_MSG(false, "%s", d.msg);
        return test_finish("test_data_padding");
    }
    ir_encoder *e = make_roberta();
    CHECK(e != NULL);
    if (e) {
        test_rows(&ds, &e->cfg);
        test_teacher_batch(&ds, e);
    }
    test_eval_batches(&ds);
    ir_encoder_free(e);
    glue_dataset_free(&ds);
    return test_finish("test_data_padding");
}
