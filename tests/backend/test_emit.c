/* test_emit.c — distilc build's pieces: the model.weights format (round
 * trip; truncated, corrupt and misshapen files refused with a message), the
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
    CHECK_MSG(emit_weights_open(path, &f, &d) == IR_OK, "%s", d.msg);
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
    CHECK_MSG(emit_weights_open(path, &f, &d) == IR_OK, "%s", d.msg);
    CHECK(f.w.act_scales && memcmp(f.w.act_scales, scales, sizeof scales) == 0);
    emit_weights_close(&f);
    ir_encoder_free(e);
}

/* Opens a damaged copy; expects IR_ERR_INPUT with `want` in the message. */
static void expect_rejected(const char *path, const char *want,
                            const char *what)
{
    ir_diag d;
    ir_diag_init(&d);
    emit_weights_file f;
    ir_status s = emit_weights_open(path, &f, &d);
    CHECK_MSG(s == IR_ERR_INPUT, "%s: status %d (%s)", what, (int)s, d.msg);
    CHECK_MSG(strstr(d.msg, want) != NULL, "%s: message '%s' lacks '%s'", what,
              d.msg, want);
    CHECK(f.base == NULL);
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
    expect_rejected(bad, "outside the file", "offset out of range");
    /* A dim that no longer matches the config. */
    memcpy(copy, buf, len);
    copy[toff + 56] ^= 1; /* embeddings.word rows 50 -> 51: bytes differ */
    f = fopen(bad, "wb");
    fwrite(copy, 1, len, f);
    fclose(f);
    expect_rejected(bad, "embeddings.word", "misshapen tensor");
    free(copy);
    /* A missing file is an I/O error naming it. */
    emit_weights_file wf;
    snprintf(bad, sizeof bad, "%s/none.weights", tmp);
    CHECK(emit_weights_open(bad, &wf, &d) == IR_ERR_IO);
    CHECK(strstr(d.msg, "none.weights") != NULL);
    free(buf);
    ir_encoder_free(e);
}

static void test_sources_embedded(void)
{
    CHECK(emit_sources_count > 10);
    CHECK(emit_source_find("backend/rt.h") != NULL);
    CHECK(emit_source_find("backend/emit_weights.c") != NULL);
    CHECK(emit_source_find("backend/standalone/model_main.c") != NULL);
    CHECK(emit_source_find("frontend/tokenizer.c") != NULL);
    /* Not shipped: the IR bridge and the OpenBLAS helper. */
    CHECK(emit_source_find("backend/rt_encoder.c") == NULL);
    CHECK(emit_source_find("backend/gemm.c") == NULL);
    const emit_source *s = emit_source_find("ir/diag.h");
    CHECK(s && s->size == strlen(s->data) && strstr(s->data, "ir_diag_set"));
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
    /* the program is linked under a temporary name, then renamed */
    char *at = log ? strstr(log, "-o model.tmp-") : NULL;
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
 * linears on CPUs without AVX-512, backend/rt_linear.c), libm, libc, and
 * libgomp (the runtime sets oneDNN's OpenMP thread count) — nothing of
 * distilc. */
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
                  strncmp(lib, "libgomp.so", 10) == 0,
                  "the program needs %s", lib);
    }
    if (f)
        fclose(f);
    CHECK_MSG(n >= 2 && dnnl == 1, "%d NEEDED entries, libdnnl %d", n, dnnl);
}

static void test_program(const char *tmp, bool regression, int64_t embed,
                         bool share, const char *tag)
{
    ir_encoder *e = small_encoder(3, regression, embed, share);
    if (!e)
        return;
    int64_t labels = e->cfg.labels;
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
        fputs("}\n\n", f); /* the blank line is skipped */
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

/* Bad lines: an error line on stdout and a message on stderr each, naming
 * the line; the good line after them is still answered; exit 2. A
 * truncated weight file is refused on load (exit 1). */
static void test_program_bad_input(const char *tmp)
{
    char dir[512], cmd[2400], path[600];
    /* The program built with AddressSanitizer: error paths run under it. */
    snprintf(dir, sizeof dir, "%s/factorized-shared", tmp);
    snprintf(path, sizeof path, "%s/bad.jsonl", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fputs("not json\n"
          "{\"input_ids\":[1,2,\"x\"]}\n"
          "{\"input_ids\":[1,2,3],\"attention_mask\":[1,1]}\n"
          "{\"input_ids\":[1,2,4999]}\n"
          "{\"input_ids\":[1,2,3]}\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s/model' <'%s' >'%s/bad.out' 2>'%s/bad.err'",
             dir, path, dir, dir);
    CHECK(run_shell(cmd) == 2);
    snprintf(path, sizeof path, "%s/bad.out", dir);
    char *out = test_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/bad.err", dir);
    char *err = test_read_file(path, NULL);
    CHECK(out && err);
    if (out && err) {
        CHECK_MSG(strstr(out, "{\"error\":\"stdin line 1") == out, "%s", out);
        CHECK_MSG(strstr(out, "line 2: \\\"input_ids\\\"[2] is not an integer"),
                  "%s", out);
        CHECK_MSG(strstr(out, "line 3: \\\"attention_mask\\\" has 2 values"),
                  "%s", out);
        CHECK_MSG(strstr(err, "stdin line 4:"), "%s", err);
        char *last = strstr(out, "{\"logits\":");
        CHECK_MSG(last && strstr(last, "\"label\":"), "%s", out);
        int n = 0;
        for (char *p = out; *p; p++)
            n += *p == '\n';
        CHECK_MSG(n == 5, "%d output lines", n);
    }
    free(out);
    free(err);

    /* Truncated weights: the program refuses them on load. */
    snprintf(cmd, sizeof cmd,
             "head -c 5000 '%s/model.weights' >'%s/trunc.weights' && "
             "'%s/model' --weights '%s/trunc.weights' </dev/null "
             "2>'%s/trunc.err'", dir, dir, dir, dir, dir);
    CHECK(run_shell(cmd) == 1);
    snprintf(path, sizeof path, "%s/trunc.err", dir);
    err = test_read_file(path, NULL);
    CHECK_MSG(err && strstr(err, "truncated") && strstr(err, "trunc.weights"),
              "%s", err ? err : "");
    free(err);
    /* Option errors exit 2. */
    snprintf(cmd, sizeof cmd, "'%s/model' --threads x </dev/null 2>/dev/null", dir);
    CHECK(run_shell(cmd) == 2);
    snprintf(cmd, sizeof cmd, "'%s/model' --bogus </dev/null 2>/dev/null", dir);
    CHECK(run_shell(cmd) == 2);
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

    snprintf(args, sizeof args, "'%s' -o /dev/null/sub", model);
    CHECK(distilc_build(tmp, "", args, &err) == 1);
    CHECK_MSG(strstr(err, "cannot create output folder '/dev/null/sub'"), "%s", err);
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
    test_sources_embedded();
    if (have_cc()) {
        test_program(tmp, false, 0, false, "cls");
        test_program(tmp, true, 0, false, "regression");
        test_program(tmp, false, 16, true, "factorized-shared");
        test_program_bad_input(tmp);
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
