/* encoder.h — the structured description of a BERT-like encoder: a config
 * (sizes, sharing maps, activation, head) and its weights as named tensors.
 *
 * This is the hinge of distilc: the compiler lifts a teacher graph into an
 * ir_encoder (passes/encoder_lift.h), the search and the trainer work on
 * encoders, and ir_encoder_to_graph lowers any encoder back to a standard-ONNX graph
 * that runs in the reference interpreter and in ONNX Runtime.
 *
 *     ir_encoder_config c;
 *     ir_encoder_config_init(&c);                 // BERT-base defaults
 *     c.layers = 4; c.hidden = 312; c.heads = 12; c.ffn = 1200;
 *     ir_encoder_config_share(&c, IR_ENC_SHARE_ALL, 0);   // ALBERT style
 *     ir_encoder *e;
 *     if (ir_encoder_new(&c, &e, &d) != IR_OK) puts(d.msg);
 *     ir_encoder_init_random(e, NULL);            // std 0.02, seed 0
 *     ir_graph *g;
 *     ir_encoder_to_graph(e, NULL, &g, &d);       // opset 17, with types
 *     onnx_save_file(g, "student.onnx", NULL, &d);
 *     ir_graph_free(g); ir_encoder_free(e);
 *
 * Weights (all f32, matrices laid out [in, out] so y = x · W + b):
 *   embeddings.word        [V, E]   (E = embed when factorized, else H)
 *   embeddings.proj        [E, H]   only when factorized (no bias: a bias
 *                                   would be absorbed by the positions)
 *   embeddings.position    [P, H]
 *   embeddings.type        [TV, H]
 *   embeddings.ln.gamma / embeddings.ln.beta   [H]
 *   relative_bias          [R, A]   only with rel_buckets = R > 0 (MPNet)
 * With embed_kind IR_ENC_EMBED_PROJECT_AFTER_LN (ELECTRA-small, ALBERT) the
 * position and type tables and the LayerNorm are E wide, and
 *   embeddings.proj [E, H] with embeddings.proj_bias [H]
 * maps the normalised sum to H (order: word, proj, proj_bias, position,
 * type, ln.gamma, ln.beta).
 * per attention group a (layer l uses a = attn_group[l]):
 *   group{a}.attn.qkv.weight [H, 3H] (packed q | k | v), .bias [3H]
 *   group{a}.attn.out.weight [H, H], .bias [H]
 *   group{a}.attn.ln.gamma / .beta [H]
 * per FFN group f (layer l uses f = ffn_group[l]):
 *   group{f}.ffn.in.weight [H, F], .bias [F]
 *   group{f}.ffn.out.weight [F, H], .bias [H]
 *   group{f}.ffn.ln.gamma / .beta [H]
 *   pooler.weight [H, H], pooler.bias [H]
 *   head.weight [H, labels], head.bias [labels]
 * With no sharing the group maps are the identity, so "group3" is layer 3.
 * The weights are stored in exactly the order ir_encoder_weight_spec lists.
 */
#ifndef DISTILC_IR_ENCODER_H
#define DISTILC_IR_ENCODER_H

#include "ir/act.h"
#include "ir/ir.h"

#define IR_ENCODER_MAX_LAYERS 64
#define IR_ENCODER_NAME_MAX 48

typedef enum ir_enc_head {
    IR_ENC_HEAD_CLASSIFICATION, /* logits [batch, labels] */
    IR_ENC_HEAD_REGRESSION,     /* one score [batch, 1] (STS-B) */
    IR_ENC_HEAD_COUNT
} ir_enc_head;

/* Sharing schemes for ir_encoder_config_share. */
typedef enum ir_enc_share {
    IR_ENC_SHARE_NONE,      /* every layer its own weights */
    IR_ENC_SHARE_ALL,       /* one group for all layers (ALBERT) */
    IR_ENC_SHARE_GROUPS,    /* consecutive groups of k layers share */
    IR_ENC_SHARE_ATTENTION, /* attention shared by all, FFN per layer */
    IR_ENC_SHARE_FFN,       /* FFN shared by all, attention per layer */
    IR_ENC_SHARE_COUNT
} ir_enc_share;

/* How position ids are numbered. */
typedef enum ir_enc_pos {
    IR_ENC_POS_ABSOLUTE, /* 0..S-1 for every row (BERT, DistilBERT, ELECTRA) */
    IR_ENC_POS_PADDED,   /* RoBERTa / XLM-R (transformers'
                          * create_position_ids_from_input_ids): a real token
                          * (id != pad_id) gets pad_id + its 1-based count
                          * among the row's real tokens, a pad gets pad_id */
    IR_ENC_POS_COUNT
} ir_enc_pos;

/* Where a factorized embedding (embed > 0) goes from E to H. */
typedef enum ir_enc_embed {
    IR_ENC_EMBED_PROJECT_WORD,     /* word [V,E] · proj (no bias), then
                                    * positions and types added in H and
                                    * LayerNorm in H: distilc's own students */
    IR_ENC_EMBED_PROJECT_AFTER_LN, /* word, position and type all E wide,
                                    * summed, LayerNorm in E, then Linear
                                    * E -> H with bias (ELECTRA-small's
                                    * embeddings_project, ALBERT's
                                    * embedding_hidden_mapping_in) */
    IR_ENC_EMBED_COUNT
} ir_enc_embed;

/* A plain value: copy it freely (the search makes thousands). */
typedef struct ir_encoder_config {
    int64_t hidden;         /* H */
    int64_t layers;         /* L, 1..IR_ENCODER_MAX_LAYERS */
    int64_t heads;          /* A, divides H */
    int64_t ffn;            /* F */
    int64_t vocab;          /* V */
    int64_t max_positions;  /* P */
    int64_t type_vocab;     /* TV >= 1 */
    int64_t embed;          /* E: 0 = no factorization (E = H) */
    ir_enc_embed embed_kind; /* with embed > 0; 0 (zeroed) = distilc's own */
    int64_t labels;         /* head outputs; 1 for regression */
    ir_act activation;      /* of the FFN: gelu, gelu_tanh or relu */
    ir_enc_head head;
    /* After the first token's dense layer (the pooler, RoBERTa's head
     * dense, DistilBERT's pre_classifier): tanh (BERT, RoBERTa, ALBERT),
     * relu (DistilBERT), gelu (ELECTRA). IR_ACT_NONE (0, so a zeroed
     * config is BERT's) means tanh: read it with ir_encoder_pool_act. */
    ir_act pool_act;
    ir_enc_pos positions;
    int64_t pad_id;         /* IR_ENC_POS_PADDED: the padding token's id */
    /* MPNet's relative position bias (ir/relpos.h): with rel_buckets > 0
     * every layer adds relative_bias[bucket(i - j), a] to the scores of
     * head a, query i, key j, before the mask (one table [rel_buckets, A]
     * shared by all layers). 0 (a zeroed config): none, as BERT. */
    int64_t rel_buckets;      /* R: 32 in MPNet */
    int64_t rel_max_distance; /* 128 in MPNet */
    bool rel_bidirectional;   /* keys before and after get their own
                               * buckets (MPNet); else later keys share 0 */
    float ln_eps;           /* LayerNorm epsilon (1e-12 in BERT) */
    /* Parameter sharing: layer l uses attention group attn_group[l] and FFN
     * group ffn_group[l]; groups are numbered 0..n-1 and each is used. */
    int64_t n_attn_groups, n_ffn_groups;
    int64_t attn_group[IR_ENCODER_MAX_LAYERS];
    int64_t ffn_group[IR_ENCODER_MAX_LAYERS];
} ir_encoder_config;

/* The activation after the first token's dense layer (tanh for 0). */
static inline ir_act ir_encoder_pool_act(const ir_encoder_config *c)
{
    return c->pool_act == IR_ACT_NONE ? IR_ACT_TANH : c->pool_act;
}

/* The longest sequence the position table serves: max_positions, less
 * the pad_id + 1 rows before the first real token's with padded positions
 * (RoBERTa-base: 514 - 2 = 512). */
static inline int64_t ir_encoder_max_seq(const ir_encoder_config *c)
{
    return c->positions == IR_ENC_POS_PADDED ? c->max_positions - c->pad_id - 1
                                             : c->max_positions;
}

/* BERT-base: H 768, L 12, A 12, F 3072, V 30522, P 512, TV 2, 2 labels,
 * gelu, eps 1e-12, no sharing, tanh pooler, absolute positions, no
 * relative position bias. */
void ir_encoder_config_init(ir_encoder_config *c);
/* Fills the group maps for c->layers; k is the group size for
 * IR_ENC_SHARE_GROUPS (ignored otherwise). IR_ERR_INPUT on a bad k. */
ir_status ir_encoder_config_share(ir_encoder_config *c, ir_enc_share s,
                                  int64_t k, ir_diag *d);
/* IR_ERR_INPUT naming the first bad field ("config.heads = 5 does not
 * divide hidden = 32"). */
ir_status ir_encoder_config_validate(const ir_encoder_config *c, ir_diag *d);
bool ir_encoder_config_equal(const ir_encoder_config *a,
                             const ir_encoder_config *b);
const char *ir_enc_head_name(ir_enc_head h); /* "classification", ... */
const char *ir_enc_pos_name(ir_enc_pos p);   /* "absolute", "padded" */
const char *ir_enc_embed_name(ir_enc_embed k); /* "project_word", ... */
/* Parses the names above; false if unknown. Activations are named by
 * ir/act.h (ir_act_name, ir_act_parse; an FFN takes ir_act_is_ffn ones). */
bool ir_enc_head_parse(const char *s, ir_enc_head *out);

/* The weight table implied by a config (for parameter tables and checks). */
typedef struct ir_encoder_wspec {
    char name[IR_ENCODER_NAME_MAX];
    int rank;
    int64_t dims[2];
} ir_encoder_wspec;
size_t ir_encoder_weight_count(const ir_encoder_config *c);
/* i in [0, ir_encoder_weight_count); false if out of range. */
bool ir_encoder_weight_spec(const ir_encoder_config *c, size_t i,
                            ir_encoder_wspec *out);
/* Parameters the config implies (shared groups counted once). */
int64_t ir_encoder_config_param_count(const ir_encoder_config *c);

typedef struct ir_encoder_weight {
    char name[IR_ENCODER_NAME_MAX];
    ir_tensor *t;           /* owned by the encoder */
} ir_encoder_weight;

typedef struct ir_encoder {
    ir_encoder_config cfg;
    size_t n_weights;
    ir_encoder_weight *weights; /* in ir_encoder_weight_spec order */
    /* The classes' names as the model's metadata holds them (the value of
     * "distilc.labels", a JSON array, frontend/user_data.h), carried from
     * the ONNX it was lifted from to the graph it becomes and the program
     * emitted from it; malloc'd, NULL when the model has none. Set it with
     * ir_encoder_set_labels. */
    char *labels_meta;
} ir_encoder;

/* The metadata key labels_meta comes from and goes to. */
#define IR_ENCODER_LABELS_META "distilc.labels"
/* Copies json (NULL: none) into e->labels_meta; false on out of memory. */
bool ir_encoder_set_labels(ir_encoder *e, const char *json);

/* Validates c and allocates zero-filled weights. */
ir_status ir_encoder_new(const ir_encoder_config *c, ir_encoder **out,
                         ir_diag *d);
void ir_encoder_free(ir_encoder *e);
/* The weight of that name, or NULL. */
ir_tensor *ir_encoder_find(const ir_encoder *e, const char *name);
/* Sum of the weights' element counts. */
int64_t ir_encoder_param_count(const ir_encoder *e);
/* Checks every weight is present, f32 and of its spec's shape. */
ir_status ir_encoder_check(const ir_encoder *e, ir_diag *d);
/* Multi-line human summary (config, sharing, parameter count). */
void ir_encoder_describe(const ir_encoder *e, FILE *out);

/* ---- random initialisation (ir/encoder_random.c) ----------------------- */
typedef struct ir_encoder_init_opts {
    uint64_t seed;
    float std;       /* matrices and embeddings ~ N(0, std); 0.02 */
    float bias_std;  /* biases ~ N(0, bias_std); 0 (zeros) by default */
    float ln_std;    /* gamma ~ 1 + N(0, ln_std), beta ~ N(0, ln_std); 0 */
} ir_encoder_init_opts;
void ir_encoder_init_opts_default(ir_encoder_init_opts *o);
/* Deterministic in the seed (same numbers on every machine). o NULL =
 * defaults. */
void ir_encoder_init_random(ir_encoder *e, const ir_encoder_init_opts *o);

/* ---- lowering to a graph (ir/encoder_graph.c) -------------------------- */
typedef enum ir_enc_mask {
    IR_ENC_MASK_FINFO_MIN, /* (1 - mask) * finfo(f32).min, transformers 4.x */
    IR_ENC_MASK_10000,     /* (1 - mask) * -10000, original BERT */
} ir_enc_mask;

typedef struct ir_encoder_graph_opts {
    int64_t opset;          /* 17: LayerNormalization; 14: decomposed */
    bool token_types;       /* token_type_ids input (else type row 0) */
    ir_enc_mask mask;
} ir_encoder_graph_opts;
void ir_encoder_graph_opts_default(ir_encoder_graph_opts *o);
/* A graph with inputs input_ids, attention_mask[, token_type_ids] (int64
 * [batch, seq]) and output logits f32 [batch, labels], built from standard
 * ONNX ops only, as a Hugging Face export computes it. Weights are copied
 * into the graph as constants named as in the encoder; layers of one group
 * read the same constant values. */
ir_status ir_encoder_to_graph(const ir_encoder *e,
                              const ir_encoder_graph_opts *o, ir_graph **out,
                              ir_diag *d);

#endif
