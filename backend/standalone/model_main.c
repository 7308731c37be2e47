/* model_main.c — the command-line program of an emitted model: JSON lines
 * (or, with --vocab, text lines) on stdin, one JSON line of logits per
 * input on stdout. backend/emit.c pastes this after model_api.c into
 * model.c, inside #ifndef DISTILC_MODEL_NO_MAIN.
 *
 * Input, one example per line:
 *   {"input_ids":[101,7592,102],"attention_mask":[1,1,1],"token_type_ids":[0,0,0]}
 * attention_mask and token_type_ids are optional (all ones / all zeros).
 * input_ids may also be an array of equal-length arrays: one padded batch,
 * run in one call, answered on one line with arrays of rows.
 * With --vocab FILE (a BERT vocab.txt, uncased WordPiece) or --tokenizer
 * FILE (a Hugging Face tokenizer.json: WordPiece, byte-level BPE, Unigram,
 * SentencePiece BPE): plain text lines, a tab separating a sentence pair,
 * tokenized as Hugging Face tokenizers does (frontend/tokenizer.h; the
 * tokenizer.json kinds normalise with ICU, linked into the program),
 * truncated to --max-seq (default: the model's position table).
 *
 * Output, one line per input line, flushed at once:
 *   {"logits":[-1.25,0.5],"label":1}   classification: label = argmax
 *   {"logits":[3.75]}                  regression: the score, no label
 * A model built from an ONNX file without token_type_ids refuses them (it
 * computed with type 0 everywhere); text pairs then run with type 0.
 * Blank lines are skipped in JSON mode. A bad line prints
 * "model: stdin line N: why" on stderr and {"error":"stdin line N: why"} on
 * stdout (so output lines stay aligned with input lines); the program goes
 * on with the next line and exits 2 at the end. Exit 1 on a failure (cannot
 * load the weights, out of memory), 0 when every line was answered. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/rt_omp_wait.h"
#include "frontend/json.h"
#include "frontend/tokenizer.h"
#include "model.h"

#define MAIN_ERR_MAX 1024

static void main_usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [--threads N] [--weights FILE] [--precision P]\n"
            "          [--vocab FILE | --tokenizer FILE] [--max-seq N]\n"
            "\n"
            "Reads one example per line on stdin and prints one JSON line of\n"
            "logits per example on stdout.\n"
            "  default input: JSON lines {\"input_ids\":[...],\n"
            "                 \"attention_mask\":[...],\"token_type_ids\":[...]}\n"
            "                 (mask and types optional; input_ids may be a\n"
            "                 list of equal-length lists: one padded batch)\n"
            "  --vocab FILE   plain text lines instead, WordPiece-tokenized\n"
            "                 with FILE (vocab.txt); a tab separates a pair\n"
            "  --tokenizer FILE  plain text lines, tokenized with FILE, a\n"
            "                 Hugging Face tokenizer.json (WordPiece, BPE,\n"
            "                 Unigram); a tab separates a pair\n"
            "  --max-seq N    truncate tokenized text to N tokens (default:\n"
            "                 the model's maximum)\n"
            "  --weights FILE weights (default: model.weights beside the\n"
            "                 program)\n"
            "  --threads N    threads, 0 = all cores (default: as built)\n"
            "  --precision P  fp32, bf16 or int8 (default: as built)\n"
            "Output: {\"logits\":[...],\"label\":K} (regression: no label).\n"
            "A bad line gets {\"error\":...} and a message on stderr; the\n"
            "program continues and exits 2. Exit 1 on failures.\n",
            prog);
}

/* A growing batch of examples in the model's int64 layout. */
typedef struct main_batch {
    int64_t *ids, *mask, *types;
    size_t cap;
    float *logits;
    size_t logits_cap;
} main_batch;

static bool main_batch_reserve(main_batch *b, size_t n, size_t n_logits)
{
    if (n > b->cap) {
        int64_t *i = realloc(b->ids, n * sizeof *i);
        if (i) b->ids = i;
        int64_t *m = realloc(b->mask, n * sizeof *m);
        if (m) b->mask = m;
        int64_t *t = realloc(b->types, n * sizeof *t);
        if (t) b->types = t;
        if (!i || !m || !t)
            return false;
        b->cap = n;
    }
    if (n_logits > b->logits_cap) {
        float *l = realloc(b->logits, n_logits * sizeof *l);
        if (!l)
            return false;
        b->logits = l;
        b->logits_cap = n_logits;
    }
    return true;
}

static void main_batch_free(main_batch *b)
{
    free(b->ids);
    free(b->mask);
    free(b->types);
    free(b->logits);
}

/* Fills dst[row * seq ...] from a JSON array of integers; returns false
 * with a message. */
static bool main_read_row(const json_value *a, const char *key, int64_t row,
                          int64_t seq, int64_t *dst, char *err)
{
    if (!a || a->type != JSON_ARRAY) {
        snprintf(err, MAIN_ERR_MAX, "\"%s\" must be an array of integers", key);
        return false;
    }
    if ((int64_t)a->len != seq) {
        if (row >= 0)
            snprintf(err, MAIN_ERR_MAX, "\"%s\" row %lld has %zu values but "
                     "input_ids rows have %lld", key, (long long)row, a->len,
                     (long long)seq);
        else
            snprintf(err, MAIN_ERR_MAX, "\"%s\" has %zu values but input_ids "
                     "has %lld", key, a->len, (long long)seq);
        return false;
    }
    for (size_t i = 0; i < a->len; i++) {
        const json_value *v = &a->u.items[i];
        if (v->type != JSON_NUMBER || !v->is_int) {
            snprintf(err, MAIN_ERR_MAX, "\"%s\"[%zu] is not an integer", key, i);
            return false;
        }
        dst[(row < 0 ? 0 : row) * seq + (int64_t)i] = v->ival;
    }
    return true;
}

/* input_ids (1-D, or 2-D for a batch) and the optional mask and types into
 * b; *batch_out = 0 for a 1-D line. */
static bool main_parse_json(const json_value *root, main_batch *b,
                            int64_t labels, bool has_types, int64_t *batch_out,
                            int64_t *seq_out, char *err)
{
    if (root->type != JSON_OBJECT) {
        snprintf(err, MAIN_ERR_MAX, "expected a JSON object with \"input_ids\"");
        return false;
    }
    for (size_t i = 0; i < root->len; i++) {
        const char *k = root->u.members[i].key;
        if (strcmp(k, "input_ids") && strcmp(k, "attention_mask") &&
            strcmp(k, "token_type_ids")) {
            snprintf(err, MAIN_ERR_MAX, "unknown key \"%s\" (expected input_ids, "
                     "attention_mask, token_type_ids)", k);
            return false;
        }
    }
    const json_value *ids = json_get(root, "input_ids");
    const json_value *mask = json_get(root, "attention_mask");
    const json_value *types = json_get(root, "token_type_ids");
    if (types && !has_types) {
        snprintf(err, MAIN_ERR_MAX, "this model takes no \"token_type_ids\" "
                 "(it was built from a model without that input)");
        return false;
    }
    if (!ids || ids->type != JSON_ARRAY || ids->len == 0) {
        snprintf(err, MAIN_ERR_MAX, "\"input_ids\" must be a non-empty array");
        return false;
    }
    bool two_d = ids->u.items[0].type == JSON_ARRAY;
    int64_t batch = two_d ? (int64_t)ids->len : 1;
    int64_t seq = two_d ? (int64_t)ids->u.items[0].len : (int64_t)ids->len;
    if (seq == 0) {
        snprintf(err, MAIN_ERR_MAX, "\"input_ids\" rows must not be empty");
        return false;
    }
    if (!main_batch_reserve(b, (size_t)(batch * seq), (size_t)(batch * labels))) {
        snprintf(err, MAIN_ERR_MAX, "out of memory");
        return false;
    }
    for (int64_t r = 0; r < batch; r++) {
        const json_value *row = two_d ? &ids->u.items[r] : ids;
        if (!main_read_row(row, "input_ids", two_d ? r : -1, seq, b->ids, err))
            return false;
        for (int k = 0; k < 2; k++) {
            const json_value *a = k == 0 ? mask : types;
            int64_t *dst = k == 0 ? b->mask : b->types;
            const char *key = k == 0 ? "attention_mask" : "token_type_ids";
            if (!a) {
                for (int64_t i = 0; i < seq; i++)
                    dst[r * seq + i] = k == 0 ? 1 : 0;
                continue;
            }
            const json_value *ar = a;
            if (two_d) {
                if (a->type != JSON_ARRAY || (int64_t)a->len != batch) {
                    snprintf(err, MAIN_ERR_MAX, "\"%s\" must have %lld rows like "
                             "input_ids", key, (long long)batch);
                    return false;
                }
                ar = &a->u.items[r];
            }
            if (!main_read_row(ar, key, two_d ? r : -1, seq, dst, err))
                return false;
        }
    }
    *batch_out = two_d ? batch : 0;
    *seq_out = seq;
    return true;
}

static void main_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void main_print_row(FILE *f, const float *l, int labels)
{
    fputc('[', f);
    for (int j = 0; j < labels; j++)
        fprintf(f, "%s%.9g", j ? "," : "", l[j]);
    fputc(']', f);
}

static int main_argmax(const float *l, int labels)
{
    int best = 0;
    for (int j = 1; j < labels; j++)
        if (l[j] > l[best])
            best = j;
    return best;
}

/* One output line; batch 0 = a single example printed flat. */
static void main_print(FILE *f, const float *logits, int64_t batch, int labels,
                       bool regression)
{
    int64_t rows = batch ? batch : 1;
    fputs("{\"logits\":", f);
    if (batch)
        fputc('[', f);
    for (int64_t r = 0; r < rows; r++) {
        if (r)
            fputc(',', f);
        main_print_row(f, logits + r * labels, labels);
    }
    if (batch)
        fputc(']', f);
    if (!regression) {
        fputs(",\"label\":", f);
        if (batch)
            fputc('[', f);
        for (int64_t r = 0; r < rows; r++)
            fprintf(f, "%s%d", r ? "," : "", main_argmax(logits + r * labels, labels));
        if (batch)
            fputc(']', f);
    }
    fputs("}\n", f);
    fflush(f);
}

/* model.weights beside the executable (/proc/self/exe, else argv[0]). */
static void main_default_weights(const char *argv0, char *buf, size_t n)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0)
        exe[len] = '\0';
    else
        snprintf(exe, sizeof exe, "%s", argv0);
    char *slash = strrchr(exe, '/');
    if (slash) {
        *slash = '\0';
        snprintf(buf, n, "%s/model.weights", exe);
    } else {
        snprintf(buf, n, "model.weights");
    }
}

static bool main_parse_int(const char *s, long lo, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > INT_MAX)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    rt_omp_wait_default(argv); /* rt/backend/rt_omp_wait.h: why */
    const char *prog = "model";
    const char *weights = NULL, *vocab = NULL, *tokjson = NULL,
               *precision = NULL;
    long threads = -1, max_seq = 0; /* -1: as built */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            main_usage(stdout, argv[0]);
            return 0;
        }
        bool takes = !strcmp(a, "--threads") || !strcmp(a, "--weights") ||
                     !strcmp(a, "--vocab") || !strcmp(a, "--tokenizer") ||
                     !strcmp(a, "--max-seq") ||
                     !strcmp(a, "--precision");
        if (!takes) {
            fprintf(stderr, "%s: unknown option '%s', see --help\n", prog, a);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: option %s needs a value, see --help\n", prog, a);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--weights"))
            weights = v;
        else if (!strcmp(a, "--vocab"))
            vocab = v;
        else if (!strcmp(a, "--tokenizer"))
            tokjson = v;
        else if (!strcmp(a, "--precision"))
            precision = v;
        else if (!main_parse_int(v, !strcmp(a, "--threads") ? 0 : 1,
                                 !strcmp(a, "--threads") ? &threads : &max_seq)) {
            fprintf(stderr, "%s: %s '%s' is not a %s integer\n", prog, a, v,
                    !strcmp(a, "--threads") ? "non-negative" : "positive");
            return 2;
        }
    }
    if (vocab && tokjson) {
        fprintf(stderr, "%s: give --vocab or --tokenizer, not both\n", prog);
        return 2;
    }
    if (max_seq && !vocab && !tokjson) {
        fprintf(stderr, "%s: --max-seq applies to text input only (--vocab or "
                "--tokenizer)\n", prog);
        return 2;
    }
    char wbuf[PATH_MAX + 32];
    if (!weights) {
        main_default_weights(argv[0], wbuf, sizeof wbuf);
        weights = wbuf;
    }
    char err[MAIN_ERR_MAX];
    distilc_model *m = model_load_precision(weights, (int)threads, precision,
                                            err, sizeof err);
    if (!m) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 1;
    }
    tok_tokenizer *tok = NULL;
    ir_diag d;
    ir_diag_init(&d);
    if (vocab || tokjson) {
        tok_options to = tok_options_default();
        ir_status ts = vocab ? tok_load_vocab(vocab, &to, &tok, &d)
                             : tok_load_json(tokjson, &tok, &d);
        if (ts != IR_OK) {
            fprintf(stderr, "%s: %s\n", prog, d.msg);
            model_free(m);
            return ir_status_exit_code(d.status);
        }
    }
    if (!max_seq || max_seq > model_max_seq(m))
        max_seq = (long)model_max_seq(m);

    int labels = model_labels(m);
    bool regression = model_is_regression(m);
    main_batch b = {0};
    tok_encoding enc = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int status = 0;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        int64_t batch = 0, seq = 0;
        err[0] = '\0';
        bool ok;
        if (tok) {
            char *tab = memchr(line, '\t', (size_t)len);
            size_t a_len = tab ? (size_t)(tab - line) : (size_t)len;
            ok = tok_encode_n(tok, line, a_len, tab ? tab + 1 : NULL,
                              tab ? (size_t)len - a_len - 1 : 0,
                              (size_t)max_seq, 0, &enc, &d) == IR_OK;
            if (!ok)
                snprintf(err, sizeof err, "%s", d.msg);
            seq = (int64_t)enc.len;
            if (ok && !main_batch_reserve(&b, enc.len, (size_t)labels)) {
                snprintf(err, sizeof err, "out of memory");
                ok = false;
            }
            if (ok) {
                memcpy(b.ids, enc.input_ids, enc.len * sizeof *b.ids);
                memcpy(b.mask, enc.attention_mask, enc.len * sizeof *b.mask);
                memcpy(b.types, enc.token_type_ids, enc.len * sizeof *b.types);
            }
        } else {
            if (strspn(line, " \t") == (size_t)len)
                continue; /* blank line */
            json_doc doc;
            char name[64];
            snprintf(name, sizeof name, "stdin line %ld", lineno);
            ok = json_parse(line, (size_t)len, name, &doc, &d) == IR_OK;
            if (!ok) {
                /* The parser's message already names the line. */
                snprintf(err, sizeof err, "%s", d.msg);
            } else {
                ok = main_parse_json(doc.root, &b, labels,
                                     model_has_token_types(m), &batch, &seq,
                                     err);
                json_doc_free(&doc);
            }
        }
        if (ok) {
            int rc = model_run(m, batch ? batch : 1, seq, b.ids, b.mask,
                               b.types, b.logits, err, sizeof err);
            if (rc == 1) {
                fprintf(stderr, "%s: stdin line %ld: %s\n", prog, lineno, err);
                status = 1;
                break;
            }
            ok = rc == 0;
        }
        if (ok) {
            main_print(stdout, b.logits, batch, labels, regression);
            continue;
        }
        /* json_parse's messages start with "stdin line N:" already. */
        char msg[MAIN_ERR_MAX + 64];
        if (strncmp(err, "stdin line ", 11) == 0)
            snprintf(msg, sizeof msg, "%s", err);
        else
            snprintf(msg, sizeof msg, "stdin line %ld: %s", lineno, err);
        fprintf(stderr, "%s: %s\n", prog, msg);
        fputs("{\"error\":", stdout);
        main_json_string(stdout, msg);
        fputs("}\n", stdout);
        fflush(stdout);
        status = 2;
    }
    free(line);
    tok_encoding_free(&enc);
    main_batch_free(&b);
    tok_free(tok);
    model_free(m);
    return status;
}
