/* model_main.c — the command-line program of an emitted model: JSON lines
 * (or, with --vocab, text lines) on stdin, one JSON line of logits per
 * input on stdout. backend/emit.c pastes this after model_api.c into
 * model.c, inside #ifndef DISTILC_MODEL_NO_MAIN.
 *
 * Input, one example per line:
 *   {"input_ids":[101,7592,102],"attention_mask":[1,1,1],"token_type_ids":[0,0,0]}
 * attention_mask and token_type_ids are optional (all ones / all zeros);
 * the mask must be 0 or 1, the types below the model's type vocabulary.
 * input_ids may also be an array of equal-length arrays: one padded batch,
 * run in one call, answered on one line with arrays of rows.
 * With --vocab FILE (a BERT vocab.txt, uncased WordPiece) or --tokenizer
 * FILE (a Hugging Face tokenizer.json: WordPiece, byte-level BPE, Unigram,
 * SentencePiece BPE): plain text lines, a tab separating a sentence pair,
 * tokenized as Hugging Face tokenizers does (frontend/tokenizer.h; the
 * tokenizer.json kinds normalise with ICU, linked into the program),
 * truncated to --max-seq (default: the model's position table).
 *
 * The contract: exactly one output line per input line, in order, each
 * valid JSON, flushed at once:
 *   {"logits":[-1.25,0.5],"label":1}   classification: label = argmax
 *   {"logits":[-1.25,0.5],"label":1,"label_name":"positive"}
 *                                      ... when the model carries its
 *                                      classes' names (distilc.labels)
 *   {"logits":[3.75]}                  regression: the score, no label
 *   {"error":"why","line":N}           a line that could not be answered
 * A line is refused when it is not a valid example, when it is empty or
 * blank (in both modes: an empty line is no example), when it is longer
 * than --max-line-bytes (default 4 MiB; the rest of it is read and
 * dropped, never held in memory), or when the model's logits are not
 * finite (never printed as a bare nan). The reason also goes to stderr as
 * "model: stdin line N: why", and the program goes on with the next line.
 * A model built from an ONNX file without token_type_ids refuses them (it
 * computed with type 0 everywhere); text pairs then run with type 0.
 *
 * model.weights' checksum is verified at load (--no-checksum skips it).
 * Exit status: 0 when every line got logits; 2 when the input ran to its
 * end but some line got an error object (or for a usage error); 1 on a
 * failure, which stops the program: the weights cannot be loaded or are
 * corrupt, out of memory, a read error on stdin or a write error on
 * stdout. */
#include <errno.h>
#include <limits.h>
#include <math.h>
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
#define MAIN_LINE_MAX_DEFAULT (4L << 20) /* --max-line-bytes */

static void main_usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [--threads N] [--weights FILE] [--precision P]\n"
            "          [--vocab FILE | --tokenizer FILE] [--max-seq N]\n"
            "          [--max-line-bytes N] [--no-checksum]\n"
            "\n"
            "Reads one example per line on stdin and prints one JSON line\n"
            "per input line on stdout.\n"
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
            "  --max-line-bytes N  refuse longer lines without holding them\n"
            "                 (default %ld)\n"
            "  --weights FILE weights (default: model.weights beside the\n"
            "                 program)\n"
            "  --no-checksum  skip the weights' checksum at load (a huge file\n"
            "                 on a trusted disk)\n"
            "  --threads N    threads, 0 = all cores (default: as built)\n"
            "  --precision P  fp32, bf16 or int8 (default: as built)\n"
            "Output: {\"logits\":[...],\"label\":K} (regression: no label;\n"
            "a model that knows its classes' names adds \"label_name\":\"...\");\n"
            "a line that cannot be answered (not an example, empty, too\n"
            "long, non-finite logits) gets {\"error\":\"...\",\"line\":N}\n"
            "and a message on stderr, and the program goes on.\n"
            "Exit: 0 every line answered, 2 some line got an error, 1 a\n"
            "failure (weights, memory, I/O), which stops the program.\n",
            prog, MAIN_LINE_MAX_DEFAULT);
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

/* The values each key accepts, [lo, hi]. */
typedef struct main_key {
    const char *name;
    int64_t lo, hi;
    const char *what; /* "the vocabulary", ...; NULL for the mask */
} main_key;

/* Fills dst[row * seq ...] from a JSON array of integers in [k->lo,
 * k->hi]; returns false with a message. */
static bool main_read_row(const json_value *a, const main_key *k, int64_t row,
                          int64_t seq, int64_t *dst, char *err)
{
    const char *key = k->name;
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
        if (v->ival < k->lo || v->ival > k->hi) {
            char where[48] = "";
            if (row >= 0)
                snprintf(where, sizeof where, "[%lld]", (long long)row);
            if (!k->what) /* the mask */
                snprintf(err, MAIN_ERR_MAX, "\"%s\"%s[%zu] = %lld must be 0 "
                         "(padding) or 1 (a token)", key, where, i,
                         (long long)v->ival);
            else
                snprintf(err, MAIN_ERR_MAX, "\"%s\"%s[%zu] = %lld is outside "
                         "%s (%lld..%lld)", key, where, i, (long long)v->ival,
                         k->what, (long long)k->lo, (long long)k->hi);
            return false;
        }
        dst[(row < 0 ? 0 : row) * seq + (int64_t)i] = v->ival;
    }
    return true;
}

/* input_ids (1-D, or 2-D for a batch) and the optional mask and types into
 * b; *batch_out = 0 for a 1-D line. 0, or 2 for a bad line, 1 for a
 * failure (out of memory), with the reason in err. */
static int main_parse_json(const json_value *root, main_batch *b,
                           const distilc_model *m, int64_t *batch_out,
                           int64_t *seq_out, char *err)
{
    int64_t labels = model_labels(m);
    bool has_types = model_has_token_types(m);
    const main_key keys[3] = {
        {"input_ids", 0, model_vocab(m) - 1, "the vocabulary"},
        {"attention_mask", 0, 1, NULL},
        {"token_type_ids", 0, model_type_vocab(m) - 1, "the token types"},
    };
    if (root->type != JSON_OBJECT) {
        snprintf(err, MAIN_ERR_MAX, "expected a JSON object with \"input_ids\"");
        return 2;
    }
    for (size_t i = 0; i < root->len; i++) {
        const char *k = root->u.members[i].key;
        if (strcmp(k, "input_ids") && strcmp(k, "attention_mask") &&
            strcmp(k, "token_type_ids")) {
            snprintf(err, MAIN_ERR_MAX, "unknown key \"%s\" (expected input_ids, "
                     "attention_mask, token_type_ids)", k);
            return 2;
        }
    }
    const json_value *ids = json_get(root, "input_ids");
    const json_value *mask = json_get(root, "attention_mask");
    const json_value *types = json_get(root, "token_type_ids");
    if (types && !has_types) {
        snprintf(err, MAIN_ERR_MAX, "this model takes no \"token_type_ids\" "
                 "(it was built from a model without that input)");
        return 2;
    }
    if (!ids || ids->type != JSON_ARRAY || ids->len == 0) {
        snprintf(err, MAIN_ERR_MAX, "\"input_ids\" must be a non-empty array");
        return 2;
    }
    bool two_d = ids->u.items[0].type == JSON_ARRAY;
    int64_t batch = two_d ? (int64_t)ids->len : 1;
    int64_t seq = two_d ? (int64_t)ids->u.items[0].len : (int64_t)ids->len;
    if (seq == 0) {
        snprintf(err, MAIN_ERR_MAX, "\"input_ids\" rows must not be empty");
        return 2;
    }
    /* Every row's length before any allocation: batch * seq then stays
     * below the number of values on the line. */
    for (int64_t r = 1; two_d && r < batch; r++)
        if (ids->u.items[r].type != JSON_ARRAY ||
            (int64_t)ids->u.items[r].len != seq) {
            snprintf(err, MAIN_ERR_MAX, "\"input_ids\" row %lld is not an "
                     "array of %lld integers like row 0", (long long)r,
                     (long long)seq);
            return 2;
        }
    if (!main_batch_reserve(b, (size_t)(batch * seq), (size_t)(batch * labels))) {
        snprintf(err, MAIN_ERR_MAX, "out of memory");
        return 1;
    }
    for (int64_t r = 0; r < batch; r++) {
        const json_value *row = two_d ? &ids->u.items[r] : ids;
        if (!main_read_row(row, &keys[0], two_d ? r : -1, seq, b->ids, err))
            return 2;
        for (int k = 0; k < 2; k++) {
            const json_value *a = k == 0 ? mask : types;
            int64_t *dst = k == 0 ? b->mask : b->types;
            const char *key = keys[k + 1].name;
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
                    return 2;
                }
                ar = &a->u.items[r];
            }
            if (!main_read_row(ar, &keys[k + 1], two_d ? r : -1, seq, dst, err))
                return 2;
        }
    }
    *batch_out = two_d ? batch : 0;
    *seq_out = seq;
    return 0;
}

/* The length of the valid UTF-8 sequence at s (1..4), or 0 (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF). */
static int main_utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    int n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (c >= 0xf5 || n == 0)
        return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) ||
        (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
        return 0;
    return n;
}

/* s as a JSON string. A message may quote input bytes or be cut mid
 * character: invalid UTF-8 becomes U+FFFD, so the line stays valid JSON. */
static void main_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p++);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(f, "\\u%04x", *p++);
        } else if (*p < 0x80) {
            fputc(*p++, f);
        } else {
            int n = main_utf8_len(p);
            if (n) {
                fwrite(p, 1, (size_t)n, f);
                p += n;
            } else {
                fputs("\\ufffd", f);
                p++;
            }
        }
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

/* The first row with a NaN or an infinite logit, or -1. JSON has no
 * spelling for them, and a label from them would mean nothing. */
static int64_t main_nonfinite_row(const float *logits, int64_t rows, int labels)
{
    for (int64_t r = 0; r < rows; r++)
        for (int j = 0; j < labels; j++)
            if (!isfinite(logits[r * labels + j]))
                return r;
    return -1;
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
#ifdef MODEL_LABEL_NAMES
        static const char *const names[MODEL_LABELS] = MODEL_LABEL_NAMES;
        fputs(",\"label_name\":", f);
        if (batch)
            fputc('[', f);
        for (int64_t r = 0; r < rows; r++) {
            if (r)
                fputc(',', f);
            main_json_string(f, names[main_argmax(logits + r * labels, labels)]);
        }
        if (batch)
            fputc(']', f);
#endif
    }
    fputs("}\n", f);
}

/* The error object for line n, and the message on stderr. */
static void main_print_error(FILE *f, const char *prog, long n, const char *why)
{
    fprintf(stderr, "%s: stdin line %ld: %s\n", prog, n, why);
    fputs("{\"error\":", f);
    main_json_string(f, why);
    fprintf(f, ",\"line\":%ld}\n", n);
}

/* json_parse names the place "NAME:LINE:COL: why"; the error object has
 * the line number already, so the message keeps "column COL: why". */
static void main_json_reason(const char *msg, const char *name, char *err)
{
    size_t n = strlen(name);
    const char *p = msg;
    if (strncmp(p, name, n) == 0 && p[n] == ':') {
        p += n + 1;
        p += strspn(p, "0123456789"); /* the line: always 1 */
        if (*p == ':') {
            p++;
            size_t digits = strspn(p, "0123456789");
            if (digits && p[digits] == ':') {
                snprintf(err, MAIN_ERR_MAX, "column %.*s:%s", (int)digits, p,
                         p + digits + 1);
                return;
            }
        }
    }
    snprintf(err, MAIN_ERR_MAX, "%s", msg);
}

/* The next line of f, without its line end, into *buf: 1, or 0 at the
 * end of input, -1 when memory runs out. At most max bytes are kept: the
 * rest of a longer line is read and dropped (*too_long), so a 50 MB line
 * costs no more memory than the cap. */
static int main_read_line(FILE *f, char **buf, size_t *cap, size_t max,
                          size_t *len, bool *too_long)
{
    *len = 0;
    *too_long = false;
    int c = getc_unlocked(f);
    if (c == EOF)
        return 0;
    for (; c != EOF && c != '\n'; c = getc_unlocked(f)) {
        if (*len >= max) {
            *too_long = true;
            continue;
        }
        if (*len + 1 >= *cap) {
            size_t want = *cap ? 2 * *cap : 4096;
            if (want > max + 1)
                want = max + 1;
            char *nb = realloc(*buf, want);
            if (!nb)
                return -1;
            *buf = nb;
            *cap = want;
        }
        (*buf)[(*len)++] = (char)c;
    }
    while (*len > 0 && (*buf)[*len - 1] == '\r')
        (*len)--;
    if (!*buf) { /* an empty first line: still a string */
        *buf = malloc(1);
        if (!*buf)
            return -1;
        *cap = 1;
    }
    (*buf)[*len] = '\0';
    return 1;
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

/* The command line. */
typedef struct main_opts {
    const char *weights, *vocab, *tokjson, *precision;
    long threads;   /* -1: as built */
    long max_seq;   /* 0: the model's */
    long max_line;  /* bytes */
    bool checksum;
} main_opts;

/* 0 to go on, else the exit status (0 after --help). */
static int main_parse_opts(int argc, char **argv, const char *prog,
                           main_opts *o)
{
    *o = (main_opts){.threads = -1, .max_line = MAIN_LINE_MAX_DEFAULT,
                     .checksum = true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            main_usage(stdout, argv[0]);
            return -1;
        }
        if (!strcmp(a, "--no-checksum")) {
            o->checksum = false;
            continue;
        }
        bool takes = !strcmp(a, "--threads") || !strcmp(a, "--weights") ||
                     !strcmp(a, "--vocab") || !strcmp(a, "--tokenizer") ||
                     !strcmp(a, "--max-seq") || !strcmp(a, "--precision") ||
                     !strcmp(a, "--max-line-bytes");
        if (!takes) {
            fprintf(stderr, "%s: unknown option '%s', see --help\n", prog, a);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: option %s needs a value, see --help\n", prog, a);
            return 2;
        }
        const char *v = argv[++i];
        bool thr = !strcmp(a, "--threads");
        if (!strcmp(a, "--weights"))
            o->weights = v;
        else if (!strcmp(a, "--vocab"))
            o->vocab = v;
        else if (!strcmp(a, "--tokenizer"))
            o->tokjson = v;
        else if (!strcmp(a, "--precision"))
            o->precision = v;
        else if (!main_parse_int(v, thr ? 0 : 1,
                                 thr ? &o->threads
                                 : !strcmp(a, "--max-seq") ? &o->max_seq
                                                           : &o->max_line)) {
            fprintf(stderr, "%s: %s '%s' is not a %s integer\n", prog, a, v,
                    thr ? "non-negative" : "positive");
            return 2;
        }
    }
    if (o->vocab && o->tokjson) {
        fprintf(stderr, "%s: give --vocab or --tokenizer, not both\n", prog);
        return 2;
    }
    if (o->max_seq && !o->vocab && !o->tokjson) {
        fprintf(stderr, "%s: --max-seq applies to text input only (--vocab or "
                "--tokenizer)\n", prog);
        return 2;
    }
    return 0;
}

/* What answering a line needs. */
typedef struct main_ctx {
    distilc_model *m;
    tok_tokenizer *tok; /* --vocab or --tokenizer, else NULL */
    size_t max_seq;
    main_batch b;
    tok_encoding enc;
} main_ctx;

/* Runs one line: 0 with the logits in c->b (*batch 0 for a flat line), 2
 * for a bad line, 1 for a failure; the reason in err. */
static int main_run_line(main_ctx *c, const char *line, size_t len, long n,
                         int64_t *batch, char *err)
{
    ir_diag d;
    ir_diag_init(&d);
    int64_t seq = 0;
    *batch = 0;
    int labels = model_labels(c->m);
    if (c->tok) {
        const char *tab = memchr(line, '\t', len);
        size_t a_len = tab ? (size_t)(tab - line) : len;
        if (tok_encode_n(c->tok, line, a_len, tab ? tab + 1 : NULL,
                         tab ? len - a_len - 1 : 0, c->max_seq, 0, &c->enc,
                         &d) != IR_OK) {
            snprintf(err, MAIN_ERR_MAX, "%s", d.msg);
            return d.status == IR_ERR_NOMEM ? 1 : 2;
        }
        seq = (int64_t)c->enc.len;
        if (!main_batch_reserve(&c->b, c->enc.len, (size_t)labels)) {
            snprintf(err, MAIN_ERR_MAX, "out of memory");
            return 1;
        }
        memcpy(c->b.ids, c->enc.input_ids, c->enc.len * sizeof *c->b.ids);
        memcpy(c->b.mask, c->enc.attention_mask, c->enc.len * sizeof *c->b.mask);
        memcpy(c->b.types, c->enc.token_type_ids, c->enc.len * sizeof *c->b.types);
    } else {
        json_doc doc;
        char name[64];
        snprintf(name, sizeof name, "stdin line %ld", n);
        if (json_parse(line, len, name, &doc, &d) != IR_OK) {
            main_json_reason(d.msg, name, err);
            return d.status == IR_ERR_NOMEM ? 1 : 2;
        }
        int rc = main_parse_json(doc.root, &c->b, c->m, batch, &seq, err);
        json_doc_free(&doc);
        if (rc != 0)
            return rc;
    }
    int rc = model_run(c->m, *batch ? *batch : 1, seq, c->b.ids, c->b.mask,
                       c->b.types, c->b.logits, err, MAIN_ERR_MAX);
    if (rc != 0)
        return rc;
    int64_t bad = main_nonfinite_row(c->b.logits, *batch ? *batch : 1, labels);
    if (bad >= 0) {
        char which[48] = "";
        if (*batch)
            snprintf(which, sizeof which, " of row %lld", (long long)bad);
        snprintf(err, MAIN_ERR_MAX, "the model's logits%s are not finite (NaN "
                 "or infinity); its weights may be damaged: rebuild them",
                 which);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    rt_omp_wait_default(argv); /* rt/backend/rt_omp_wait.h: why */
    const char *prog = "model";
    main_opts o;
    int rc = main_parse_opts(argc, argv, prog, &o);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    char wbuf[PATH_MAX + 32];
    if (!o.weights) {
        main_default_weights(argv[0], wbuf, sizeof wbuf);
        o.weights = wbuf;
    }
    char err[MAIN_ERR_MAX];
    main_ctx c = {0};
    c.m = model_load_checked(o.weights, (int)o.threads, o.precision, o.checksum,
                             err, sizeof err);
    if (!c.m) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 1;
    }
    ir_diag d;
    ir_diag_init(&d);
    if (o.vocab || o.tokjson) {
        tok_options to = tok_options_default();
        ir_status ts = o.vocab ? tok_load_vocab(o.vocab, &to, &c.tok, &d)
                               : tok_load_json(o.tokjson, &c.tok, &d);
        if (ts != IR_OK) {
            fprintf(stderr, "%s: %s\n", prog, d.msg);
            model_free(c.m);
            return ir_status_exit_code(d.status);
        }
    }
    c.max_seq = (size_t)(!o.max_seq || o.max_seq > model_max_seq(c.m)
                             ? model_max_seq(c.m) : o.max_seq);
    int labels = model_labels(c.m);
    bool regression = model_is_regression(c.m);
    char *line = NULL;
    size_t cap = 0, len;
    bool too_long;
    long n = 0;
    int status = 0;
    while ((rc = main_read_line(stdin, &line, &cap, (size_t)o.max_line, &len,
                                &too_long)) > 0) {
        n++;
        int64_t batch = 0;
        if (too_long) {
            snprintf(err, sizeof err, "the line is longer than %ld bytes "
                     "(--max-line-bytes); skipped", o.max_line);
            rc = 2;
        } else if (strspn(line, " \t\r\f\v") == len) {
            /* No example: answered, so output lines stay in step. */
            snprintf(err, sizeof err, "empty line (one example per line)");
            rc = 2;
        } else {
            rc = main_run_line(&c, line, len, n, &batch, err);
        }
        if (rc == 1) {
            fprintf(stderr, "%s: stdin line %ld: %s\n", prog, n, err);
            status = 1;
            break;
        }
        if (rc == 0)
            main_print(stdout, c.b.logits, batch, labels, regression);
        else
            main_print_error(stdout, prog, n, err);
        if (rc == 2)
            status = 2;
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "%s: writing stdout: %s\n", prog, strerror(errno));
            status = 1;
            break;
        }
    }
    if (rc < 0) {
        fprintf(stderr, "%s: stdin line %ld: out of memory\n", prog, n + 1);
        status = 1;
    } else if (ferror(stdin)) {
        fprintf(stderr, "%s: reading stdin: %s\n", prog, strerror(errno));
        status = 1;
    }
    free(line);
    tok_encoding_free(&c.enc);
    main_batch_free(&c.b);
    tok_free(c.tok);
    model_free(c.m);
    return status;
}
