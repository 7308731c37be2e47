/* test_emit.c — distilc build's pieces: the model.weights format (round
 * trip, MPNet's relative position bias too; truncated, corrupt and
 * misshapen files refused with a message), the
 * embedded runtime sources, and an emitted program end to end: compiled
 * with the system's cc, fed JSON lines, its logits compared with the
 * reference interpreter on the same encoder's ONNX graph (tolerance 1e-4),
 * its bad-line handling (in a build with AddressSanitizer), its NEEDED
 * libraries, its use as a library (model.h), the Makefile, and `distilc
 * build`'s bad-input exits.
 *
 * The end-to-end parts need a C compiler and oneDNN's headers; they say
 * "skipped" when `cc` is missing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "backend/emit.h"
#include "backend/emit_sources.h"
#include "backend/emit_weights.h"
#include "frontend/json.h"
#include "frontend/onnx.h"
#include "ir/encoder.h"
#include "ir/interp.h"
#include "testutil.h"

#define TOL 1e-4

static ir_encoder *small_encoder(int64_t labels, bool regression,
                                 int64_t embed, bool share)
{
    ir_encoder_config c;
    ir_encoder_config_init(&c);
    c.hidden = 32;
    c.layers = 2;
    c.heads = 4;
    c.ffn = 64;
    c.vocab = 50;
    c.max_positions = 24;
    c.type_vocab = 2;
    c.embed = embed;
    c.labels = regression ? 1 : labels;
    c.head = regression ? IR_ENC_HEAD_REGRESSION : IR_ENC_HEAD_CLASSIFICATION;
    ir_diag d;
    ir_diag_init(&d);
    ir_encoder_config_share(&c, share ? IR_ENC_SHARE_ALL : IR_ENC_SHARE_NONE,
                            0, &d);
    ir_encoder *e = NULL;
    if (ir_encoder_new(&c, &e, &d) != IR_OK) {
        fprintf(stderr, "ir_encoder_new: %s\n", d.msg);
        return NULL;
    }
    ir_encoder_init_opts o;
    ir_encoder_init_opts_default(&o);
    o.seed = 7;
    o.std = 0.2f;      /* large enough that the logits differ per input */
    o.bias_std = 0.1f;
    o.ln_std = 0.1f;
    ir_encoder_init_random(e, &o);
    return e;
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* ---- the weight file --------------------------------------------------- */

static void test_weights_round_trip(const char *tmp)
{
    ir_encoder *e = small_encoder(3, false, 16, true);
    CHECK(e != NULL);
    if (!e)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/rt.weights", tmp);
    ir_diag d;
    ir_diag_init(&d);
    uint64_t hash = 0;
    CHECK_MSG(emit_write_weights(e, path, NULL, &hash, &d) == IR_OK, "%s", d.msg);
    emit_weights_file f;
    CHECK_MSG(emit_weights_open(path, true, &f, &d) == IR_OK, "%s", d.msg);
    CHECK(f.hash == hash);
    CHECK(f.cfg.hidden == 32 && f.cfg.layers == 2 && f.cfg.heads == 4);
    CHECK(f.cfg.ffn == 64 && f.cfg.vocab == 50 && f.cfg.embed == 16);
    CHECK(f.cfg.labels == 3 && !f.cfg.regression);
    CHECK(f.cfg.n_attn_groups == 1 && f.cfg.attn_group[1] == 0);
    CHECK(f.cfg.ln_eps == e->cfg.ln_eps);
    /* Every pointer is 64-byte aligned and holds the encoder's numbers. */
    const float *ptrs[] = {f.w.word, f.w.proj, f.w.pos, f.w.type,
                           f.w.attn[0].qkv_w, f.w.ffn[0].out_w, f.w.head_b};
    const char *names[] = {"embeddings.word", "embeddings.proj",
                           "embeddings.position", "embeddings.type",
                           "group0.attn.qkv.weight", "group0.ffn.out.weight",
                           "head.bias"};
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) {
        const ir_tensor *t = ir_encoder_find(e, names[i]);
        CHECK_MSG(ptrs[i] && ((uintptr_t)ptrs[i] % 64) == 0, "%s", names[i]);
        CHECK_MSG(t && ptrs[i] && memcmp(ptrs[i], t->data, t->nbytes) == 0,
                  "%s differs", names[i]);
    }
    CHECK(f.w.act_scales == NULL);
    emit_weights_close(&f);
    /* int8 scales travel as one more tensor, [layers * 4]. */
    float scales[8] = {0.5f, 1, 2, 3, 4, 5, 6, 7.25f};
    CHECK(emit_write_weights(e, path, scales, NULL, &d) == IR_OK);
    CHECK_MSG(emit_weights_open(path, true, &f, &d) == IR_OK, "%s", d.msg);
    CHECK(f.w.act_scales && memcmp(f.w.act_scales, scales, sizeof scales) == 0);
    emit_weights_close(&f);
    ir_encoder_free(e);
}

/* Opens a damaged copy (verify: with the checksum); expects IR_ERR_INPUT
 * with `want` in the message. */
static void expect_rejected_v(const char *path, bool verify, const char *want,
                              const char *what)
{
    ir_diag d;
    ir_diag_init(&d);
    emit_weights_file f;
    ir_status s = emit_weights_open(path, verify, &f, &d);
    CHECK_MSG(s == IR_ERR_INPUT, "%s: status %d (%s)", what, (int)s, d.msg);
    CHECK_MSG(strstr(d.msg, want) != NULL, "%s: message '%s' lacks '%s'", what,
              d.msg, want);
    CHECK(f.base == NULL);
}

static void expect_rejected(const char *path, const char *want,
                            const char *what)
{
    expect_rejected_v(path, true, want, what);
}

/* MPNet's relative position bias travels in the file (version 5): its
 * three config words and the relative_bias table; a corrupt word is named. */
static void test_weights_relpos(const char *tmp)
{
    ir_encoder_config c;
    ir_encoder *e0 = small_encoder(2, false, 0, false);
    if (!e0)
        return;
    c = e0->cfg;
    ir_encoder_free(e0);
    c.rel_buckets = 32;
    c.rel_max_distance = 128;
    c.rel_bidirectional = true;
    ir_encoder *e = NULL;
    ir_diag d;
    ir_diag_init(&d);
    CHECK_MSG(ir_encoder_new(&c, &e, &d) == IR_OK, "%s", d.msg);
    if (!e)
        return;
    ir_encoder_init_random(e, NULL);
    char path[512], bad[512];
    snprintf(path, sizeof path, "%s/relpos.weights", tmp);
    snprintf(bad, sizeof bad, "%s/relpos_bad.weights", tmp);
    CHECK_MSG(emit_write_weights(e, path, NULL, NULL, &d) == IR_OK, "%s", d.msg);
    emit_weights_file f;
    CHECK_MSG(emit_weights_open(path, true, &f, &d) == IR_OK, "%s", d.msg);
    const ir_tensor *t = ir_encoder_find(e, "relative_bias");
    CHECK(f.cfg.rel_buckets == 32 && f.cfg.rel_max_distance == 128 &&
          f.cfg.rel_bidirectional == 1);
    CHECK(t && f.w.rel_bias && memcmp(f.w.rel_bias, t->data, t->nbytes) == 0);
    emit_weights_close(&f);
    size_t len = 0;
    char *buf = test_read_file(path, &len);
    if (buf) { /* rel_buckets, config word 18 + 2 * RT_MAX_LAYERS, = -3 */
        memset(buf + EMIT_WEIGHTS_HEADER_BYTES + 8 * (18 + 2 * RT_MAX_LAYERS),
               0xff, 8);
        buf[EMIT_WEIGHTS_HEADER_BYTES + 8 * (18 + 2 * RT_MAX_LAYERS)] = (char)0xfd;
        FILE *fp = fopen(bad, "wb");
        fwrite(buf, 1, len, fp);
        fclose(fp);
        /* unverified: the checksum would name the damage first */
        expect_rejected_v(bad, false, "rel_buckets", "corrupt rel_buckets");
    }
    free(buf);
    ir_encoder_free(e);
}

static void write_bytes(const char *path, const char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(buf, 1, len, f);
        fclose(f);
    }
}

static void test_weights_rejected(const char *tmp)
{
    ir_encoder *e = small_encoder(2, false, 0, false);
    if (!e)
        return;
    char path[512], bad[512];
    snprintf(path, sizeof path, "%s/good.weights", tmp);
    snprintf(bad, sizeof bad, "%s/bad.weights", tmp);
    ir_diag d;
    ir_diag_init(&d);
    CHECK(emit_write_weights(e, path, NULL, NULL, &d) == IR_OK);
    /* a FIFO named as the weights: refused at once, not an open that
     * waits for a writer (issue 18) */
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/fifo.weights", tmp);
    if (mkfifo(fifo, 0600) == 0) {
        expect_rejected(fifo, "FIFO", "a FIFO as weights");
        remove(fifo);
    }
    size_t len = 0;
    char *buf = test_read_file(path, &len);
    CHECK(buf != NULL && len > 1000);
    if (!buf) {
        ir_encoder_free(e);
        return;
    }
    FILE *f;
    /* Truncated at several points: the header's size catches all. */
    size_t cuts[] = {len - 1, len / 2, 600, 100, 12};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        f = fopen(bad, "wb");
        fwrite(buf, 1, cuts[i], f);
        fclose(f);
        expect_rejected(bad, "truncated", "truncated copy");
    }
    f = fopen(bad, "wb");
    fclose(f);
    expect_rejected(bad, "empty", "empty file");
    /* Wrong magic, wrong version. */
    char *copy = malloc(len);
    memcpy(copy, buf, len);
    memcpy(copy, "NOTDSTLC", 8);
    f = fopen(bad, "wb");
    fwrite(copy, 1, len, f);
    fclose(f);
    expect_rejected(bad, "not a distilc weights file", "bad magic");
    memcpy(copy, buf, len);
    copy[8] = 9;
    f = fopen(bad, "wb");
    fwrite(copy, 1, len, f);
    fclose(f);
    expect_rejected(bad, "version 9", "bad version");
    /* First tensor's data offset (entry byte 72) pointing past the end. */
    memcpy(copy, buf, len);
    uint64_t toff = 0;
    for (int i = 7; i >= 0; i--)
        toff = (toff << 8) | (unsigned char)buf[24 + i];
    memset(copy + toff + 72, 0x7f, 7);
    f = fopen(bad, "wb");
    fwrite(copy, 1, len, f);
    fclose(f);
    /* The structure is checked on its own too (the checksum, first, would
     * catch these as well). */
    expect_rejected_v(bad, false, "outside the file", "offset out of range");
    expect_rejected(bad, "checksum mismatch", "offset out of range, checksum");
    /* A dim that no longer matches the config. */
    memcpy(copy, buf, len);
    copy[toff + 56] ^= 1; /* embeddings.word rows 50 -> 51: bytes differ */
    f = fopen(bad, "wb");
    fwrite(copy, 1, len, f);
    fclose(f);
    expect_rejected_v(bad, false, "embeddings.word", "misshapen tensor");
    /* One flipped bit anywhere: in a weight, in the config (ln_eps, which
     * no range check could catch), in the padding. Skipping the checksum
     * opens the damaged weight (the caller's choice). */
    size_t flips[] = {len - 100, 48 + 11 * 8, toff - 1};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        memcpy(copy, buf, len);
        copy[flips[i]] ^= 0x10;
        write_bytes(bad, copy, len);
        expect_rejected(bad, "checksum mismatch", "flipped bit");
    }
    memcpy(copy, buf, len);
    copy[len - 100] ^= 0x10;
    write_bytes(bad, copy, len);
    emit_weights_file skip;
    CHECK_MSG(emit_weights_open(bad, false, &skip, &d) == IR_OK, "%s", d.msg);
    emit_weights_close(&skip);
    free(copy);
    /* A missing file is bad input naming it, as for every file a user
     * names (ir/file_read.h: exit 2). */
    emit_weights_file wf;
    snprintf(bad, sizeof bad, "%s/none.weights", tmp);
    CHECK(emit_weights_open(bad, true, &wf, &d) == IR_ERR_INPUT);
    CHECK(strstr(d.msg, "none.weights") != NULL);
    free(buf);
    ir_encoder_free(e);
}

/* The weight file's checksum (format version 5) is libxxhash's XXH64 with
 * seed 0. Known answers for byte i = i * 131 + 7 (libxxhash 0.8.1; they are
 * part of the file format, so no later release may change them), then
 * emit_weights_checksum: XXH64 of the bytes with the 8-byte checksum field
 * at EMIT_WEIGHTS_SUM_AT read as zeros, whatever it holds. */
static void test_xxh64(void)
{
    static const struct { size_t n; uint64_t want; } v[] = {
        {0, 0xef46db3751d8e999ull},  {3, 0xbed43740ee6332bbull},
        {8, 0x994b676b71ce94ddull},  {31, 0x6711d55e306b5d8full},
        {32, 0x07f7b8e3bc5d6e25ull}, {33, 0x09f85eeb4e1cbe9full},
        {100, 0x9ddada11d3dc2d8full}, {4097, 0x00811ab3925b884aull},
    };
    unsigned char buf[4097];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
        CHECK_MSG(XXH64(buf, v[k].n, 0) == v[k].want, "XXH64 of %zu bytes",
                  v[k].n);
    CHECK(XXH64("abc", 3, 0) == 0x44bc2cf5ad770999ull);

    ir_diag d;
    ir_diag_init(&d);
    uint64_t sum = 0;
    /* Shorter than the field's end: the bytes as they are. */
    CHECK(emit_weights_checksum(buf, 31, &sum, &d) == IR_OK);
    CHECK(sum == 0x6711d55e306b5d8full);
    unsigned char zeroed[4097];
    memcpy(zeroed, buf, sizeof zeroed);
    memset(zeroed + EMIT_WEIGHTS_SUM_AT, 0, 8);
    CHECK(emit_weights_checksum(buf, sizeof buf, &sum, &d) == IR_OK);
    CHECK(sum == XXH64(zeroed, sizeof zeroed, 0));
    CHECK(sum != v[7].want);
    CHECK(emit_weights_checksum(zeroed, sizeof zeroed, &sum, &d) == IR_OK);
    CHECK(sum == XXH64(zeroed, sizeof zeroed, 0));
}

static void test_sources_embedded(void)
{
    CHECK(emit_sources_count > 10);
    CHECK(emit_source_find("backend/rt.h") != NULL);
    CHECK(emit_source_find("backend/emit_weights.c") != NULL);
    CHECK(emit_source_find("backend/standalone/model_main.c") != NULL);
    CHECK(emit_source_find("frontend/tokenizer.c") != NULL);
    /* and the tokenizer.json kinds, for the text mode's --tokenizer */
    CHECK(emit_source_find("frontend/tokenizer_json.c") != NULL);
    CHECK(emit_source_find("frontend/tokenizer_bpe.c") != NULL);
    CHECK(emit_source_find("frontend/tokenizer_unigram.c") != NULL);
    /* Not shipped: the IR bridge and the OpenBLAS helper. */
    CHECK(emit_source_find("backend/rt_encoder.c") == NULL);
    CHECK(emit_source_find("backend/gemm.c") == NULL);
    const emit_source *s = emit_source_find("ir/diag.h");
    CHECK(s && s->size == strlen(s->data) && strstr(s->data, "ir_diag_set"));
}

/* Label names that do not match the head are refused before anything is
 * compiled; the names reach model.c as escaped C string literals. */
static void test_label_names_source(const char *tmp)
{
    ir_encoder *e = small_encoder(3, false, 0, false);
    if (!e)
        return;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/names", tmp);
    ir_diag d;
    ir_diag_init(&d);
    CHECK(emit_make_dirs(dir, &d) == IR_OK);
    emit_options o;
    emit_options_default(&o);
    int files = 0;
    CHECK(ir_encoder_set_labels(e, "[\"a\",\"b\"]"));
    CHECK(emit_write_sources(e, dir, &o, 0, &files, &d) == IR_ERR_INPUT);
    CHECK_MSG(strstr(d.msg, "names 2 labels but its head has 3"), "%s", d.msg);
    CHECK(ir_encoder_set_labels(e, "[\"a\",\"b\",\"q?\\\"\"]"));
    ir_diag_init(&d);
    CHECK_MSG(emit_write_sources(e, dir, &o, 0, &files, &d) == IR_OK, "%s",
              d.msg);
    char path[600];
    snprintf(path, sizeof path, "%s/model.c", dir);
    char *text = test_read_file(path, NULL);
    CHECK_MSG(text && strstr(text, "#define MODEL_LABEL_NAMES {\"a\", \"b\", "
                                   "\"q\\077\\042\"}"),
              "model.c: %.300s", text ? text : "(none)");
    free(text);
    ir_encoder_free(e);
}

/* ---- the emitted program ------------------------------------------------- */

static bool have_cc(void)
{
    return system("command -v cc >/dev/null 2>&1") == 0;
}

static int run_shell(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Reference logits from the interpreter on the encoder's ONNX graph. */
static ir_tensor *reference_logits(const ir_encoder *e, const ir_tensor *ids,
                                   const ir_tensor *mask,
                                   const ir_tensor *types)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    if (ir_encoder_to_graph(e, NULL, &g, &d) != IR_OK) {
        fprintf(stderr, "to_graph: %s\n", d.msg);
        return NULL;
    }
    const ir_tensor *ins[3] = {ids, mask, types};
    ir_tensor **outs = NULL;
    ir_tensor *r = NULL;
    if (ir_interp_run(g, ins, &outs, &d) == IR_OK) {
        r = ir_tensor_clone(outs[0]);
        ir_interp_free_outputs(g, outs);
    } else {
        fprintf(stderr, "interp: %s\n", d.msg);
    }
    ir_graph_free(g);
    return r;
}

/* The "logits" of one output line: n floats into out; false on a mismatch. */
static bool parse_logits(const char *line, float *out, size_t n, int *label)
{
    json_doc doc;
    ir_diag d;
    ir_diag_init(&d);
    if (json_parse(line, strlen(line), "out", &doc, &d) != IR_OK)
        return false;
    const json_value *l = json_get(doc.root, "logits");
    bool ok = l && l->type == JSON_ARRAY && l->len == n;
    for (size_t i = 0; ok && i < n; i++) {
        ok = l->u.items[i].type == JSON_NUMBER;
        out[i] = ok ? (float)l->u.items[i].u.num : 0.0f;
    }
    const json_value *lab = json_get(doc.root, "label");
    *label = lab && lab->type == JSON_NUMBER ? (int)lab->ival : -1;
    json_doc_free(&doc);
    return ok;
}

/* model.c as a library (-DDISTILC_MODEL_NO_MAIN) in a user's program,
 * built with the command distilc ran (first line of build.log): the
 * model.h API gives the interpreter's logits for example 0. */
static void test_library_use(const char *dir, const int64_t *ids,
                             const int64_t *mask, const int64_t *types,
                             int seq, const float *want, int64_t labels)
{
    char path[600], cmd[8192];
    snprintf(path, sizeof path, "%s/user.c", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fputs("#include <stdio.h>\n#include \"model.h\"\n"
          "int main(void) {\n  char err[512];\n"
          "  distilc_model *m = model_load(\"model.weights\", 1, err, sizeof err);\n"
          "  if (!m) { fprintf(stderr, \"%s\\n\", err); return 1; }\n", f);
    const char *names[3] = {"ids", "mask", "types"};
    const int64_t *src[3] = {ids, mask, types};
    for (int k = 0; k < 3; k++) {
        fprintf(f, "  static const int64_t %s[] = {", names[k]);
        for (int i = 0; i < seq; i++)
            fprintf(f, "%s%lld", i ? "," : "", (long long)src[k][i]);
        fputs("};\n", f);
    }
    fprintf(f, "  float logits[16];\n"
               "  if (model_labels(m) != %lld) return 3;\n"
               "  if (model_run(m, 1, %d, ids, mask, types, logits, err, sizeof err))"
               " { fprintf(stderr, \"%%s\\n\", err); return 2; }\n"
               "  for (int j = 0; j < model_labels(m); j++) printf(\"%%.9g\\n\", logits[j]);\n"
               "  model_free(m);\n  return 0;\n}\n", (long long)labels, seq);
    fclose(f);
    snprintf(path, sizeof path, "%s/build.log", dir);
    char *log = test_read_file(path, NULL);
    char *nl = log ? strchr(log, '\n') : NULL;
    /* the log shows "-o model" (the compiler writes a temp name, renamed) */
    char *at = log ? strstr(log, "-o model model.c") : NULL;
    char *rest = at ? strstr(at, " model.c") : NULL;
    CHECK(nl && at && rest);
    if (nl && at && rest) {
        *nl = '\0';
        *at = '\0';
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && %s -DDISTILC_MODEL_NO_MAIN -o user user.c model.c%s "
                 ">user.log 2>&1 && ./user >user.out", dir, log,
                 rest + strlen(" model.c"));
        CHECK_MSG(run_shell(cmd) == 0, "library use: see %s/user.log", dir);
        snprintf(path, sizeof path, "%s/user.out", dir);
        FILE *o = fopen(path, "r");
        double worst = 0;
        int n = 0;
        float v;
        while (o && fscanf(o, "%f", &v) == 1 && n < labels) {
            worst = fmax(worst, fabs((double)v - want[n]));
            n++;
        }
        if (o)
            fclose(o);
        CHECK_MSG(n == labels && worst <= TOL, "library use: %d logits, max "
                  "diff %.3g", n, worst);
    }
    free(log);
}

/* The program's NEEDED entries: libdnnl, libopenblas (the larger fp32
 * linears on CPUs without AVX-512, backend/rt_linear.c), ICU (the
 * tokenizer.json kinds of the text mode), libxxhash (the weights'
 * checksum), libm, libc, and libgomp (the runtime sets oneDNN's OpenMP
 * thread count) — nothing of distilc. */
static void test_needed_libs(const char *dir)
{
    if (system("command -v readelf >/dev/null 2>&1") != 0) {
        printf("note: readelf missing, NEEDED check not run\n");
        return;
    }
    char cmd[1200], path[600];
    snprintf(cmd, sizeof cmd, "readelf -d '%s/model' | sed -n "
             "'s/.*(NEEDED).*\\[\\(.*\\)\\]/\\1/p' >'%s/needed.txt'", dir, dir);
    CHECK(run_shell(cmd) == 0);
    snprintf(path, sizeof path, "%s/needed.txt", dir);
    FILE *f = fopen(path, "r");
    char lib[256];
    int n = 0, dnnl = 0;
    while (f && fscanf(f, "%255s", lib) == 1) {
        n++;
        dnnl += strncmp(lib, "libdnnl.so", 10) == 0;
        CHECK_MSG(strncmp(lib, "libdnnl.so", 10) == 0 ||
                  strncmp(lib, "libopenblas.so", 14) == 0 ||
                  strncmp(lib, "libm.so", 7) == 0 ||
                  strncmp(lib, "libc.so", 7) == 0 ||
                  strncmp(lib, "libgomp.so", 10) == 0 ||
                  strncmp(lib, "libicuuc.so", 11) == 0 ||
                  strncmp(lib, "libicui18n.so", 13) == 0 ||
                  strncmp(lib, "libicudata.so", 13) == 0 ||
                  strncmp(lib, "libxxhash.so", 12) == 0,
                  "the program needs %s", lib);
    }
    if (f)
        fclose(f);
    CHECK_MSG(n >= 2 && dnnl == 1, "%d NEEDED entries, libdnnl %d", n, dnnl);
}

/* Every single-example line of out names the class it labels (names), or
 * names none (names NULL). */
static void check_label_names(const char *out_path, const char *const *names,
                              int lines, const char *tag)
{
    char *out = test_read_file(out_path, NULL);
    int k = 0;
    for (char *line = out ? strtok(out, "\n") : NULL; line && k < lines;
         line = strtok(NULL, "\n"), k++) {
        json_doc doc;
        ir_diag d;
        ir_diag_init(&d);
        if (json_parse(line, strlen(line), "out", &doc, &d) != IR_OK) {
            CHECK_MSG(false, "%s: %s", tag, d.msg);
            continue;
        }
        const json_value *lab = json_get(doc.root, "label");
        const json_value *name = json_get(doc.root, "label_name");
        if (names)
            CHECK_MSG(lab && name && name->type == JSON_STRING &&
                          strcmp(name->u.str, names[lab->ival]) == 0,
                      "%s: line %d: %s", tag, k + 1, line);
        else
            CHECK_MSG(!name, "%s: a label_name without names: %s", tag, line);
        json_doc_free(&doc);
    }
    CHECK_MSG(k == lines, "%s: %d lines", tag, k);
    free(out);
}

static void test_program(const char *tmp, bool regression, int64_t embed,
                         bool share, const char *tag)
{
    ir_encoder *e = small_encoder(3, regression, embed, share);
    if (!e)
        return;
    int64_t labels = e->cfg.labels;
    /* one variant knows its classes' names (the model's distilc.labels),
     * with bytes a C string literal must escape */
    static const char *const names[3] = {"neg \"x\"", "caf\xC3\xA9 ?\?=",
                                         "back\\slash"};
    bool named = strcmp(tag, "factorized-shared") == 0;
    CHECK(!named || ir_encoder_set_labels(e, "[\"neg \\\"x\\\"\", "
                                             "\"caf\\u00e9 ?\?=\", "
                                             "\"back\\\\slash\"]"));
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", tmp, tag);
    emit_options o;
    emit_options_default(&o);
    o.threads = 1;
    o.command = "test_emit";
    /* -O2 (the default) once; the variants compile faster at -O0, one of
     * them with AddressSanitizer + UBSan over the program's own code. */
    o.cflags = strcmp(tag, "cls") == 0          ? NULL
             : strcmp(tag, "regression") == 0   ? "-O0"
             : "-O0 -g -fsanitize=address,undefined -fno-sanitize-recover=all";
    emit_result r;
    ir_diag d;
    ir_diag_init(&d);
    ir_status s = emit_encoder(e, dir, &o, &r, &d);
    CHECK_MSG(s == IR_OK, "%s: emit: %s", tag, d.msg);
    if (s != IR_OK) {
        ir_encoder_free(e);
        return;
    }
    CHECK(r.program_bytes > 0 && r.weights_bytes > 0);
    /* Compiled without a warning: the log holds the command line only. */
    char log[600];
    snprintf(log, sizeof log, "%s/build.log", dir);
    char *text = test_read_file(log, NULL);
    CHECK_MSG(text && strchr(text, '\n') && strchr(text, '\n')[1] == '\0',
              "%s: compiler output: %s", tag, text ? text : "(none)");
    free(text);

    /* Two examples, the second padded, then both as one batch line. */
    enum { B = 2, S = 9 };
    int64_t dims[2] = {B, S};
    ir_tensor *ids = ir_tensor_new(IR_DT_I64, 2, dims);
    ir_tensor *mask = ir_tensor_new(IR_DT_I64, 2, dims);
    ir_tensor *types = ir_tensor_new(IR_DT_I64, 2, dims);
    int64_t *pi = ids->data, *pm = mask->data, *pt = types->data;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < S; i++) {
            pi[b * S + i] = (b * 17 + i * 5 + 3) % 50;
            pm[b * S + i] = b == 1 && i >= 6 ? 0 : 1;
            pt[b * S + i] = i >= 4;
        }
    ir_tensor *want = reference_logits(e, ids, mask, types);
    CHECK(want != NULL);
    char in_path[600], out_path[600], err_path[600], cmd[2200];
    snprintf(in_path, sizeof in_path, "%s/in.jsonl", dir);
    snprintf(out_path, sizeof out_path, "%s/out.jsonl", dir);
    snprintf(err_path, sizeof err_path, "%s/err.txt", dir);
    FILE *f = fopen(in_path, "w");
    for (int b = 0; b <= B; b++) {
        const char *keys[3] = {"input_ids", "attention_mask", "token_type_ids"};
        const int64_t *src[3] = {pi, pm, pt};
        fputc('{', f);
        for (int k = 0; k < 3; k++) {
            fprintf(f, "%s\"%s\":%s", k ? "," : "", keys[k], b == B ? "[" : "");
            for (int r0 = b == B ? 0 : b; r0 < (b == B ? B : b + 1); r0++) {
                fprintf(f, "%s[", r0 && b == B ? "," : "");
                for (int i = 0; i < S; i++)
                    fprintf(f, "%s%lld", i ? "," : "", (long long)src[k][r0 * S + i]);
                fputc(']', f);
            }
            fprintf(f, "%s", b == B ? "]" : "");
        }
        fputs("}\n", f);
    }
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s/model' <'%s' >'%s' 2>'%s'", dir, in_path,
             out_path, err_path);
    int rc = run_shell(cmd);
    char *err = test_read_file(err_path, NULL);
    CHECK_MSG(rc == 0, "%s: program exit %d: %s", tag, rc, err ? err : "");
    free(err);
    char *out = test_read_file(out_path, NULL);
    double worst = 0;
    int lines = 0;
    for (char *line = out ? strtok(out, "\n") : NULL; line && want;
         line = strtok(NULL, "\n"), lines++) {
        if (lines == B) { /* the batch line: rows of logits */
            CHECK_MSG(strncmp(line, "{\"logits\":[[", 12) == 0, "%s", line);
            continue;
        }
        float got[8];
        int label = -2;
        CHECK_MSG(parse_logits(line, got, (size_t)labels, &label), "%s: %s",
                  tag, line);
        const float *w = (const float *)want->data + lines * labels;
        int best = 0;
        for (int j = 0; j < labels; j++) {
            worst = fmax(worst, fabs((double)got[j] - w[j]));
            if (w[j] > w[best])
                best = j;
        }
        CHECK_MSG(regression ? label == -1 : label == best,
                  "%s: label %d, want %d", tag, label, regression ? -1 : best);
    }
    CHECK_MSG(lines == B + 1, "%s: %d output lines", tag, lines);
    if (!regression)
        check_label_names(out_path, named ? names : NULL, B, tag);
    if (want && !regression && !share)
        test_library_use(dir, pi, pm, pt, S, (const float *)want->data, labels);
    if (strcmp(tag, "cls") == 0)
        test_needed_libs(dir);
    /* The Makefile rebuilds the same program (make is optional). */
    if (strcmp(tag, "regression") == 0 &&
        system("command -v make >/dev/null 2>&1") == 0) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "make -s -B -C '%s' >'%s/make.log' 2>&1 && "
                 "test -x '%s/model'", dir, dir, dir);
        CHECK_MSG(run_shell(cmd) == 0, "make in %s: see make.log", dir);
    }
    CHECK_MSG(worst <= TOL, "%s: max |program - interpreter| = %.3g", tag, worst);
    printf("%s: max |program - interpreter| = %.3g (tolerance %.0e)\n", tag,
           worst, TOL);
    free(out);
    ir_tensor_free(ids);
    ir_tensor_free(mask);
    ir_tensor_free(types);
    ir_tensor_free(want);
    ir_encoder_free(e);
}

/* Runs DIR/model ARGS with stdin from in_text (written to DIR/NAME.in);
 * stdout and stderr into *out and *err (malloc'd), the exit status
 * returned and, when rss_kb is not NULL, the program's peak RSS. */
static int run_program(const char *dir, const char *name, const char *args,
                       const char *in_text, char **out, char **err,
                       long *rss_kb)
{
    char in[600], o[600], e[600], prog[600];
    snprintf(in, sizeof in, "%s/%s.in", dir, name);
    snprintf(o, sizeof o, "%s/%s.out", dir, name);
    snprintf(e, sizeof e, "%s/%s.err", dir, name);
    snprintf(prog, sizeof prog, "%s/model", dir);
    if (in_text) {
        FILE *f = fopen(in, "w");
        if (f) {
            fputs(in_text, f);
            fclose(f);
        }
    }
    char *argv[16] = {prog};
    int argc = 1;
    char abuf[1024];
    snprintf(abuf, sizeof abuf, "%s", args);
    for (char *t = strtok(abuf, " "); t && argc < 15; t = strtok(NULL, " "))
        argv[argc++] = t;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(in, "r", stdin) || !freopen(o, "w", stdout) ||
            !freopen(e, "w", stderr))
            _exit(127);
        execv(prog, argv);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
        return -1;
    if (rss_kb)
        *rss_kb = ru.ru_maxrss;
    *out = test_read_file(o, NULL);
    *err = test_read_file(e, NULL);
    if (!*out)
        *out = calloc(1, 1);
    if (!*err)
        *err = calloc(1, 1);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The contract of the program's stdout: every line valid JSON (our strict
 * parser), no bare nan or inf; the number of lines. */
static int check_json_lines(const char *out, const char *what)
{
    int n = 0;
    for (const char *p = out; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        json_doc doc;
        ir_diag d;
        ir_diag_init(&d);
        CHECK_MSG(json_parse(p, len, "out", &doc, &d) == IR_OK, "%s: output "
                  "line %d is not JSON: %.*s", what, n + 1, (int)len, p);
        if (d.status == IR_OK)
            json_doc_free(&doc);
        n++;
        p += len + (nl != NULL);
    }
    /* A bare nan or inf: right after ',' '[' ':' or a minus sign (inside a
     * message, words like "infinity" follow a space). */
    for (const char *p = out; *p; p++)
        if ((strncmp(p, "nan", 3) == 0 || strncmp(p, "inf", 3) == 0) &&
            p > out && strchr(",[:-", p[-1]))
            CHECK_MSG(false, "%s: a bare non-finite number: %s", what, out);
    return n;
}

/* Output line k (1-based) of out, in buf. */
static const char *line_of(const char *out, int k, char *buf, size_t n)
{
    buf[0] = '\0';
    for (int i = 1; out && *out; i++) {
        const char *nl = strchr(out, '\n');
        size_t len = nl ? (size_t)(nl - out) : strlen(out);
        if (i == k) {
            snprintf(buf, n, "%.*s", (int)len, out);
            break;
        }
        out += len + (nl != NULL);
    }
    return buf;
}

/* The output contract (issue 18): one valid JSON line per input line,
 * whatever the line; {"error":...,"line":N} for a bad one, with a message
 * on stderr; the good lines after them still answered; exit 2. Run on the
 * program built with AddressSanitizer, so the error paths run under it. */
static void test_program_bad_input(const char *tmp)
{
    char dir[512], want[64], buf[2048];
    snprintf(dir, sizeof dir, "%s/factorized-shared", tmp);
    char long_line[201];
    memset(long_line, ' ', 200);
    long_line[200] = '\0';
    memcpy(long_line, "{\"input_ids\":[1,2,3]}", 21); /* valid, but too long */
    char input[2048];
    snprintf(input, sizeof input,
             "not json\n"                                                /* 1 */
             "{\"input_ids\":[1,2,\"x\"]}\n"                              /* 2 */
             "{\"input_ids\":[1,2,3],\"attention_mask\":[1,1]}\n"         /* 3 */
             "{\"input_ids\":[1,2,4999]}\n"                               /* 4 */
             "\n"                                                         /* 5 */
             "  \t \r\n"                                                  /* 6 */
             "{\"input_ids\":[1,2,3],\"attention_mask\":[7,-3,1]}\n"      /* 7 */
             "{\"input_ids\":[1,2,3],\"token_type_ids\":[0,5,0]}\n"       /* 8 */
             "{\"input_ids\":[[1,2,3],[4,5]]}\n"                          /* 9 */
             "{\"input_ids\":[1,2,3]}\n"                                  /* 10 */
             "{\"input_ids\":[1,2,3],\"attention_mask\":[1,1,0]}\n"       /* 11 */
             "%s\n"                                                       /* 12 */
             "{\"input_ids\":[1,2,3],\"\\u00e9t\\u00e9\":1}\n"          /* 13 */
             "{\"input_ids\":[[1,2,3],[4,5,6]]}",                         /* 14 */
             long_line);
    char *out, *err;
    int rc = run_program(dir, "bad", "--max-line-bytes 100", input, &out,
                         &err, NULL);
    CHECK_MSG(rc == 2, "bad lines: exit %d: %s", rc, err);
    int n = check_json_lines(out, "bad lines");
    CHECK_MSG(n == 14, "%d output lines for 14 input lines:\n%s", n, out);
    static const struct { int line; const char *has; } errors[] = {
        {1, "\"error\":\"column 1: "},
        {2, "\\\"input_ids\\\"[2] is not an integer"},
        {3, "\\\"attention_mask\\\" has 2 values"},
        {4, "\\\"input_ids\\\"[2] = 4999 is outside the vocabulary (0..49)"},
        {5, "empty line"},
        {6, "empty line"},
        {7, "\\\"attention_mask\\\"[0] = 7 must be 0 (padding) or 1 (a token)"},
        {8, "\\\"token_type_ids\\\"[1] = 5 is outside the token types (0..1)"},
        {9, "\\\"input_ids\\\" row 1 is not an array of 3 integers"},
        {12, "longer than 100 bytes (--max-line-bytes)"},
        {13, "unknown key \\\"\u00e9t\u00e9\\\""},
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        line_of(out, errors[i].line, buf, sizeof buf);
        snprintf(want, sizeof want, ",\"line\":%d}", errors[i].line);
        CHECK_MSG(strncmp(buf, "{\"error\":", 9) == 0 && strstr(buf, want) &&
                  strstr(buf, errors[i].has), "line %d: %s (want %s)",
                  errors[i].line, buf, errors[i].has);
        snprintf(want, sizeof want, "model: stdin line %d: ", errors[i].line);
        CHECK_MSG(strstr(err, want), "stderr lacks '%s': %s", want, err);
    }
    for (int k = 10; k <= 14; k += k == 11 ? 3 : 1) { /* 10, 11, 14 */
        line_of(out, k, buf, sizeof buf);
        CHECK_MSG(strncmp(buf, "{\"logits\":", 10) == 0 && strstr(buf, "\"label\":"),
                  "line %d: %s", k, buf);
    }
    free(out);
    free(err);

    /* --vocab text: an empty or blank line is refused the same way. */
    char path[600];
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n", f);
        for (int i = 5; i < 50; i++)
            fprintf(f, "w%d\n", i);
        fclose(f);
    }
    snprintf(buf, sizeof buf, "--vocab %s", path);
    rc = run_program(dir, "text", buf, "w5 w6\n\n \t\nw7\tw8 w9\n", &out, &err,
                     NULL);
    CHECK_MSG(rc == 2, "--vocab: exit %d: %s", rc, err);
    CHECK(check_json_lines(out, "--vocab") == 4);
    CHECK_MSG(strncmp(line_of(out, 1, buf, sizeof buf), "{\"logits\":", 10) == 0 &&
              strstr(line_of(out, 2, buf, sizeof buf), "empty line") &&
              strstr(line_of(out, 3, buf, sizeof buf), "\"line\":3}") &&
              strncmp(line_of(out, 4, buf, sizeof buf), "{\"logits\":", 10) == 0,
              "--vocab output:\n%s", out);
    free(out);
    free(err);

    /* Every line answered: exit 0. */
    rc = run_program(dir, "good", "", "{\"input_ids\":[1,2,3]}\n", &out, &err,
                     NULL);
    CHECK_MSG(rc == 0 && check_json_lines(out, "good") == 1, "exit %d: %s", rc,
              err);
    free(out);
    free(err);

    /* Non-finite logits (here from an infinite head bias) are an error
     * line, never a bare nan or inf. */
    ir_encoder *e = small_encoder(3, false, 16, true);
    ir_tensor *hb = e ? ir_encoder_find(e, "head.bias") : NULL;
    CHECK(hb != NULL);
    if (hb) {
        ((float *)hb->data)[1] = INFINITY;
        ir_diag d;
        ir_diag_init(&d);
        snprintf(path, sizeof path, "%s/inf.weights", dir);
        CHECK(emit_write_weights(e, path, NULL, NULL, &d) == IR_OK);
        snprintf(buf, sizeof buf, "--weights %s", path);
        rc = run_program(dir, "inf", buf, "{\"input_ids\":[1,2,3]}\n"
                         "{\"input_ids\":[[1,2,3],[4,5,6]]}\n", &out, &err, NULL);
        CHECK_MSG(rc == 2, "non-finite: exit %d: %s", rc, err);
        CHECK(check_json_lines(out, "non-finite") == 2);
        CHECK_MSG(strstr(line_of(out, 1, buf, sizeof buf), "are not finite") &&
                  strstr(line_of(out, 2, buf, sizeof buf), "of row 0 are not finite"),
                  "%s", out);
        free(out);
        free(err);
    }
    ir_encoder_free(e);

    /* A flipped bit in model.weights: refused on load (exit 1), unless the
     * checksum is skipped. A truncated file is refused either way. */
    snprintf(path, sizeof path, "%s/model.weights", dir);
    size_t len = 0;
    char *w = test_read_file(path, &len);
    CHECK(w && len > 200);
    if (w && len > 200) {
        w[len - 150] ^= 0x04;
        snprintf(path, sizeof path, "%s/flipped.weights", dir);
        write_bytes(path, w, len);
        snprintf(buf, sizeof buf, "--weights %s", path);
        rc = run_program(dir, "flip", buf, "{\"input_ids\":[1,2,3]}\n", &out,
                         &err, NULL);
        CHECK_MSG(rc == 1 && strstr(err, "checksum mismatch") &&
                  strstr(err, "flipped.weights") && !*out, "exit %d: %s", rc, err);
        free(out);
        free(err);
        snprintf(buf, sizeof buf, "--weights %s --no-checksum", path);
        rc = run_program(dir, "flip2", buf, "{\"input_ids\":[1,2,3]}\n", &out,
                         &err, NULL);
        CHECK_MSG(rc == 0 && check_json_lines(out, "--no-checksum") == 1,
                  "--no-checksum: exit %d: %s", rc, err);
        free(out);
        free(err);
        snprintf(path, sizeof path, "%s/trunc.weights", dir);
        write_bytes(path, w, 5000);
        snprintf(buf, sizeof buf, "--weights %s --no-checksum", path);
        rc = run_program(dir, "trunc", buf, "", &out, &err, NULL);
        CHECK_MSG(rc == 1 && strstr(err, "truncated") && strstr(err, "trunc.weights"),
                  "exit %d: %s", rc, err);
        free(out);
        free(err);
    }
    free(w);
    /* Option errors exit 2. */
    const char *bad_opts[] = {"--threads x", "--bogus", "--max-line-bytes 0",
                              "--max-line-bytes"};
    for (size_t i = 0; i < sizeof bad_opts / sizeof bad_opts[0]; i++) {
        rc = run_program(dir, "opt", bad_opts[i], "", &out, &err, NULL);
        CHECK_MSG(rc == 2, "'%s': exit %d", bad_opts[i], rc);
        free(out);
        free(err);
    }
}

/* A 50 MB line (1.15 GB peak RSS before the cap) is refused with the
 * default 4 MiB cap at a small RSS, and the next line is answered. The
 * program without the sanitizer, whose RSS means what it says. */
static void test_program_long_line(const char *tmp)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/cls", tmp);
    snprintf(path, sizeof path, "%s/long.in", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fputs("{\"input_ids\":[1", f);
    for (long i = 0; i < 25L << 20; i++)
        fputs(",1", f);
    fputs("]}\n{\"input_ids\":[1,2,3]}\n", f);
    fclose(f);
    char *out, *err;
    long rss = 0;
    int rc = run_program(dir, "long", "", NULL, &out, &err, &rss);
    CHECK_MSG(rc == 2, "50 MB line: exit %d: %s", rc, err);
    CHECK(check_json_lines(out, "50 MB line") == 2);
    CHECK_MSG(strstr(out, "longer than 4194304 bytes") &&
              strstr(out, "\"line\":1}\n{\"logits\":"), "%s", out);
    CHECK_MSG(rss > 0 && rss < 200 * 1024, "peak RSS %ld KB", rss);
    printf("50 MB line: refused at a peak RSS of %.1f MB\n", rss / 1024.0);
    free(out);
    free(err);
    remove(path);
}

/* ---- distilc build on bad input ------------------------------------------ */

/* Runs `distilc build ARGS` (with env prefix), returns the exit status and
 * its stderr in err (malloc'd). */
static int distilc_build(const char *tmp, const char *env, const char *args,
                         char **err)
{
    const char *bin = getenv("DISTILC_BIN");
    char cmd[4096], path[600];
    snprintf(path, sizeof path, "%s/build.err", tmp);
    snprintf(cmd, sizeof cmd, "%s '%s' build %s --progress off >/dev/null 2>'%s'",
             env, bin, args, path);
    int rc = run_shell(cmd);
    *err = test_read_file(path, NULL);
    if (!*err)
        *err = calloc(1, 1);
    return rc;
}

static void test_build_cli(const char *tmp)
{
    const char *bin = getenv("DISTILC_BIN");
    if (!bin || access(bin, X_OK) != 0) {
        test_skip("distilc build CLI checks (DISTILC_BIN unset)");
        return;
    }
    ir_encoder *e = small_encoder(2, false, 0, false);
    if (!e)
        return;
    ir_diag d;
    ir_diag_init(&d);
    ir_graph *g = NULL;
    char model[600], broken[600], args[2048];
    snprintf(model, sizeof model, "%s/enc.onnx", tmp);
    snprintf(broken, sizeof broken, "%s/broken.onnx", tmp);
    CHECK(ir_encoder_to_graph(e, NULL, &g, &d) == IR_OK);
    CHECK(onnx_save_file(g, model, NULL, &d) == IR_OK);
    /* The same graph with its first GELU's Erf turned into Tanh: still a
     * valid model, but no longer one the backend can lower. */
    bool changed = false;
    for (int i = 0; i < g->n_nodes && !changed; i++)
        if (g->nodes[i]->op == IR_OP_ERF) {
            g->nodes[i]->op = IR_OP_TANH;
            changed = true;
        }
    CHECK(changed);
    CHECK(onnx_save_file(g, broken, NULL, &d) == IR_OK);
    ir_graph_free(g);
    ir_encoder_free(e);

    char *err;
    snprintf(args, sizeof args, "'%s' -o '%s/b1'", broken, tmp);
    CHECK(distilc_build(tmp, "", args, &err) == 2);
    CHECK_MSG(strstr(err, "cannot build") && strstr(err, "layer 0") &&
              strstr(err, "node '"), "%s", err);
    free(err);

    /* An output folder under a regular file: refused before any work. */
    snprintf(args, sizeof args, "'%s' -o /dev/null/sub", model);
    CHECK(distilc_build(tmp, "", args, &err) == 2);
    CHECK_MSG(strstr(err, "-o: cannot create folder '/dev/null/sub'") &&
              strstr(err, "'/dev/null' is a file"), "%s", err);
    free(err);

    snprintf(args, sizeof args, "'%s' -o '%s/b2' --cc /nonexistent/cc", model, tmp);
    CHECK(distilc_build(tmp, "", args, &err) == 1);
    CHECK_MSG(strstr(err, "no C compiler") && strstr(err, "/nonexistent/cc"),
              "%s", err);
    free(err);
    /* The sources are still there for a later `make`. */
    snprintf(args, sizeof args, "%s/b2/Makefile", tmp);
    CHECK(file_size(args) > 0);

    snprintf(args, sizeof args, "'%s' -o '%s/b3'", model, tmp);
    CHECK(distilc_build(tmp, "CC=nonexistent-cc", args, &err) == 1);
    CHECK_MSG(strstr(err, "no C compiler") && strstr(err, "$CC"), "%s", err);
    free(err);

    snprintf(args, sizeof args, "'%s' -o '%s/b4' --cflags '-O0 -fno-such-flag'",
             model, tmp);
    CHECK(distilc_build(tmp, "", args, &err) == 1);
    CHECK_MSG(strstr(err, "failed") && strstr(err, "-fno-such-flag") &&
              strstr(err, "build.log"), "%s", err);
    free(err);

    snprintf(args, sizeof args, "'%s' -o '%s/b5' --precision fp16", model, tmp);
    CHECK(distilc_build(tmp, "", args, &err) == 2);
    CHECK_MSG(strstr(err, "--precision 'fp16'"), "%s", err);
    free(err);

    snprintf(args, sizeof args, "'%s'", model);
    CHECK(distilc_build(tmp, "", args, &err) == 2);
    CHECK_MSG(strstr(err, "-o DIR is required"), "%s", err);
    free(err);

    snprintf(args, sizeof args, "'%s/missing.onnx' -o '%s/b6'", tmp, tmp);
    CHECK(distilc_build(tmp, "", args, &err) == 2);
    CHECK_MSG(strstr(err, "missing.onnx"), "%s", err);
    free(err);

    /* A good build with --no-compile writes the folder and no program. */
    snprintf(args, sizeof args, "'%s' -o '%s/b7' --no-compile", model, tmp);
    CHECK(distilc_build(tmp, "", args, &err) == 0);
    free(err);
    snprintf(args, sizeof args, "%s/b7/model.c", tmp);
    CHECK(file_size(args) > 0);
    snprintf(args, sizeof args, "%s/b7/model", tmp);
    CHECK(file_size(args) < 0);
}

int main(void)
{
    char tmpbuf[256];
    const char *tmp = test_tmpdir(tmpbuf, sizeof tmpbuf);
    CHECK(tmp != NULL);
    if (!tmp)
        return test_finish("test_emit");
    test_weights_round_trip(tmp);
    test_weights_rejected(tmp);
    test_xxh64();
    test_weights_relpos(tmp);
    test_sources_embedded();
    test_label_names_source(tmp);
    if (have_cc()) {
        test_program(tmp, false, 0, false, "cls");
        test_program(tmp, true, 0, false, "regression");
        test_program(tmp, false, 16, true, "factorized-shared");
        test_program_bad_input(tmp);
        test_program_long_line(tmp);
        test_build_cli(tmp);
    } else {
        test_skip("emitted programs (no cc on PATH)");
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    return test_finish("test_emit");
}
