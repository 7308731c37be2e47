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
#include "tools/cli.h"
#include "tools/cli_groups.h"

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

/* The options, parsed and checked (cli_parse, tools/cli.h). Returns -1 to
 * go on, else the exit status. */
typedef struct tok_args {
    cli_data data; /* --vocab --tokenizer --max-seq */
    bool no_lower, pad, words;
} tok_args;

static int tok_args_read(int argc, char **argv, tok_args *a)
{
    cli_data_init(&a->data, CLI_DATA_VOCAB | CLI_DATA_TOKENIZER |
                                CLI_DATA_MAX_SEQ);
    cli_option opts[] = {
        {"no-lower", 0, CLI_FLAG, &a->no_lower},
        {"pad", 0, CLI_FLAG, &a->pad},
        {"words", 0, CLI_FLAG, &a->words},
        {"data group", 0, CLI_GROUP, a->data.options},
        {0},
    };
    int npos = 0;
    int rc = cli_parse("tokenize", argc, argv, opts, NULL, 0, &npos);
    if (rc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != CLI_OK)
        return 2;
    if (!a->data.vocab == !a->data.tokenizer) {
        cli_error("tokenize: give exactly one of --vocab FILE and --tokenizer "
                  "FILE, see 'distilc tokenize --help'");
        return 2;
    }
    if (a->pad && !a->data.max_seq.value) {
        cli_error("tokenize: --pad needs --max-seq N");
        return 2;
    }
    if (a->no_lower && a->data.tokenizer) {
        cli_error("tokenize: --no-lower applies to --vocab; a tokenizer.json "
                  "sets lowercase itself");
        return 2;
    }
    return -1;
}

int cmd_tokenize(int argc, char **argv)
{
    tok_args a = {0};
    int rc = tok_args_read(argc, argv, &a);
    if (rc >= 0)
        return rc;
    rc = 0;
    size_t max_seq = (size_t)a.data.max_seq.value;
    bool pad = a.pad, words = a.words;
    ir_diag d;
    ir_diag_init(&d);
    tok_tokenizer *tok = NULL;
    ir_status st;
    if (a.data.vocab) {
        tok_options o = tok_options_default();
        if (a.no_lower)
            o.lowercase = false;
        st = tok_load_vocab(a.data.vocab, &o, &tok, &d);
    } else {
        st = tok_load_json(a.data.tokenizer, &tok, &d);
    }
    if (st != IR_OK) {
        ir_diag_prefix(&d, "tokenize");
        return cli_fail(&d);
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    tok_encoding enc = {0};
    outbuf o = {0};
    char *line = NULL;
    size_t line_cap = 0, lineno = 0;
    ssize_t got;
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
            ir_diag_prefix(&d, "tokenize: stdin line %zu", lineno);
            rc = cli_fail(&d);
            break;
        }
        if (fwrite(o.p, 1, o.n, stdout) != o.n) {
            cli_error("tokenize: write error on stdout");
            rc = 1;
            break;
        }
    }
    if (fflush(stdout) != 0 && rc == 0) {
        cli_error("tokenize: write error on stdout");
        rc = 1;
    }
    free(line);
    free(o.p);
    tok_encoding_free(&enc);
    tok_free(tok);
    return rc;
}
