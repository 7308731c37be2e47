/* cmd_tokenize.c — `distilc tokenize`: reads one text per line from stdin
 * (a tab separates the two texts of a pair) and prints one JSON line per
 * input line:
 *     {"input_ids":[...],"token_type_ids":[...],"attention_mask":[...]}
 * With --words it prints the words before WordPiece instead
 * ({"words":[...]}), which is what HF's normalizer + pre_tokenizer give.
 * Exit 0 ok, 1 failure, 2 bad usage or input. */
#include "tools/cmd_tokenize.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "frontend/tokenizer.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: distilc tokenize (--vocab FILE | --tokenizer FILE) "
            "[--max-seq N] [--no-lower] [--pad] [--words]\n"
            "\n"
            "Reads text from stdin, one example per line; a tab separates the\n"
            "two texts of a pair. Prints one JSON line per example:\n"
            "  {\"input_ids\":[...],\"token_type_ids\":[...],"
            "\"attention_mask\":[...]}\n"
            "Ids are identical to Hugging Face tokenizers'.\n"
            "\n"
            "  --vocab FILE      a BERT vocab.txt (uncased rules unless "
            "--no-lower)\n"
            "  --tokenizer FILE  a Hugging Face tokenizer.json: WordPiece (BERT),\n"
            "                    byte-level BPE (RoBERTa, GPT-2), Unigram (XLM-R,\n"
            "                    ALBERT), SentencePiece BPE\n"
            "  --max-seq N       truncate longest_first to N tokens including\n"
            "                    [CLS]/[SEP] (default: no truncation)\n"
            "  --no-lower        keep case and accents (cased vocabularies; "
            "--vocab only)\n"
            "  --pad             pad with [PAD] to --max-seq\n"
            "  --words           print the normalised words before the model\n"
            "  --help            this text\n"
            "Invalid UTF-8 is read as Python's decode(errors='replace') "
            "would: U+FFFD,\nwhich clean_text removes.\n");
}

typedef struct outbuf {
    char *p;
    size_t n, cap;
} outbuf;

static int out_reserve(outbuf *o, size_t more)
{
    if (o->n + more <= o->cap)
        return 0;
    size_t cap = o->cap ? o->cap * 2 : 4096;
    while (cap < o->n + more)
        cap *= 2;
    char *np = realloc(o->p, cap);
    if (!np)
        return -1;
    o->p = np;
    o->cap = cap;
    return 0;
}

static void out_str(outbuf *o, const char *s)
{
    size_t n = strlen(s);
    if (out_reserve(o, n) == 0) {
        memcpy(o->p + o->n, s, n);
        o->n += n;
    }
}

static void out_ints(outbuf *o, const char *key, const int64_t *v, size_t n)
{
    out_str(o, key);
    if (out_reserve(o, n * 21 + 2) != 0)
        return;
    char *p = o->p + o->n;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        int64_t x = v[i];
        if (x < 0) {
            *p++ = '-';
            x = -x;
        }
        char tmp[20];
        int k = 0;
        do {
            tmp[k++] = (char)('0' + x % 10);
            x /= 10;
        } while (x);
        while (k)
            *p++ = tmp[--k];
    }
    *p++ = ']';
    o->n = (size_t)(p - o->p);
}

/* JSON string escaping of one word (RFC 8259 §7). */
static void word_cb(const char *w, size_t n, void *ctx)
{
    outbuf *o = ctx;
    if (out_reserve(o, n * 6 + 4) != 0)
        return;
    char *p = o->p + o->n;
    if (p[-1] != '[')
        *p++ = ',';
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20) {
            p += sprintf(p, "\\u%04x", c);
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    o->n = (size_t)(p - o->p);
}

int cmd_tokenize(int argc, char **argv)
{
    const char *vocab = NULL, *json = NULL;
    size_t max_seq = 0;
    int no_lower = 0, pad = 0, words = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--vocab") == 0 && i + 1 < argc) {
            vocab = argv[++i];
        } else if (strcmp(a, "--tokenizer") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else if (strcmp(a, "--max-seq") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            long long v = strtoll(argv[++i], &end, 10);
            if (errno || *end || v <= 0) {
                fprintf(stderr, "distilc tokenize: --max-seq needs a positive "
                        "integer, got '%s'\n", argv[i]);
                return 2;
            }
            max_seq = (size_t)v;
        } else if (strcmp(a, "--no-lower") == 0) {
            no_lower = 1;
        } else if (strcmp(a, "--pad") == 0) {
            pad = 1;
        } else if (strcmp(a, "--words") == 0) {
            words = 1;
        } else {
            fprintf(stderr, "distilc tokenize: unknown option or missing "
                    "value: '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!vocab == !json) {
        fprintf(stderr, "distilc tokenize: give exactly one of --vocab FILE "
                "and --tokenizer FILE (see --help)\n");
        return 2;
    }
    if (pad && !max_seq) {
        fprintf(stderr, "distilc tokenize: --pad needs --max-seq N\n");
        return 2;
    }
    if (no_lower && json) {
        fprintf(stderr, "distilc tokenize: --no-lower applies to --vocab; a "
                "tokenizer.json sets lowercase itself\n");
        return 2;
    }
    ir_diag d;
    ir_diag_init(&d);
    tok_tokenizer *tok = NULL;
    ir_status st;
    if (vocab) {
        tok_options o = tok_options_default();
        if (no_lower)
            o.lowercase = false;
        st = tok_load_vocab(vocab, &o, &tok, &d);
    } else {
        st = tok_load_json(json, &tok, &d);
    }
    if (st != IR_OK) {
        fprintf(stderr, "distilc tokenize: %s\n", d.msg);
        return ir_status_exit_code(st);
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    tok_encoding enc = {0};
    outbuf o = {0};
    char *line = NULL;
    size_t line_cap = 0, lineno = 0;
    ssize_t got;
    int rc = 0;
    while ((got = getline(&line, &line_cap, stdin)) >= 0) {
        size_t n = (size_t)got;
        lineno++;
        if (n && line[n - 1] == '\n')
            n--;
        if (n && line[n - 1] == '\r')
            n--;
        const char *tab = memchr(line, '\t', n);
        size_t na = tab ? (size_t)(tab - line) : n;
        o.n = 0;
        if (words) {
            out_str(&o, "{\"words\":[");
            st = tok_words(tok, line, na, word_cb, &o, &enc, &d);
            if (st == IR_OK && tab) {
                out_str(&o, "],\"words_b\":[");
                st = tok_words(tok, tab + 1, n - na - 1, word_cb, &o, &enc, &d);
            }
            out_str(&o, "]}\n");
        } else {
            st = tok_encode_n(tok, line, na, tab ? tab + 1 : NULL,
                              tab ? n - na - 1 : 0, max_seq, pad ? TOK_PAD : 0,
                              &enc, &d);
            if (st == IR_OK) {
                out_ints(&o, "{\"input_ids\":", enc.input_ids, enc.len);
                out_ints(&o, ",\"token_type_ids\":", enc.token_type_ids,
                         enc.len);
                out_ints(&o, ",\"attention_mask\":", enc.attention_mask,
                         enc.len);
                out_str(&o, "}\n");
            }
        }
        if (st != IR_OK) {
            fprintf(stderr, "distilc tokenize: stdin line %zu: %s\n", lineno,
                    d.msg);
            rc = ir_status_exit_code(st);
            break;
        }
        if (fwrite(o.p, 1, o.n, stdout) != o.n) {
            fprintf(stderr, "distilc tokenize: write error on stdout\n");
            rc = 1;
            break;
        }
    }
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "distilc tokenize: write error on stdout\n");
        rc = 1;
    }
    free(line);
    free(o.p);
    tok_encoding_free(&enc);
    tok_free(tok);
    return rc;
}
