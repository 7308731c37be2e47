/* emit.c — writes an emitted program's folder: model.weights, model.h,
 * model.c (a generated preamble + backend/standalone/model_api.c +
 * model_main.c), the runtime sources under rt/ and a Makefile; then
 * compiles it (emit_compile.c).
 *
 * The runtime is generic (the config travels in the weight file), so the
 * generated part of model.c is small: a header naming the generator,
 * command, model and weight hash, and the built defaults (precision,
 * threads, the shape the weights must have). */
#include "backend/emit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/emit_internal.h"
#include "backend/emit_sources.h"
#include "backend/emit_weights.h"
#include "backend/rt_encoder.h"
#include "frontend/user_data.h"
#include "ir/clock.h"
#include "ir/file_atomic.h"

#ifndef DISTILC_VERSION
#define DISTILC_VERSION "0.0.0"
#endif

void emit_options_default(emit_options *o)
{
    memset(o, 0, sizeof *o);
    o->precision = IR_PRECISION_FP32;
    o->compile = true;
    o->token_types = true;
}

const emit_source *emit_source_find(const char *path)
{
    for (size_t i = 0; i < emit_sources_count; i++)
        if (strcmp(emit_sources[i].path, path) == 0)
            return &emit_sources[i];
    return NULL;
}

ir_status emit_make_dirs(const char *path, ir_diag *d)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return ir_diag_set(d, IR_ERR_INPUT, "output folder '%s': path too long",
                           path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return ir_diag_set(d, IR_ERR_IO, "cannot create output folder '%s': "
                               "%s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return ir_diag_set(d, IR_ERR_IO, "cannot create output folder '%s': %s",
                           buf, strerror(errno));
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return ir_diag_set(d, IR_ERR_IO, "output folder '%s' is not a folder",
                           buf);
    if (access(buf, W_OK | X_OK) != 0)
        return ir_diag_set(d, IR_ERR_IO, "output folder '%s' is not writable: "
                           "%s", buf, strerror(errno));
    return IR_OK;
}

ir_status emit_write_weights(const ir_encoder *e, const char *path,
                             const float *act_scales, uint64_t *hash,
                             ir_diag *d)
{
    ir_status s = ir_encoder_check(e, d);
    if (s != IR_OK)
        return s;
    rt_config cfg;
    s = rt_config_from_encoder(&e->cfg, &cfg, d);
    if (s != IR_OK)
        return s;
    emit_tensor *ts = calloc(e->n_weights + 1, sizeof *ts);
    if (!ts)
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < e->n_weights; i++) {
        const ir_tensor *t = e->weights[i].t;
        ts[i].name = e->weights[i].name;
        ts[i].rank = t->rank;
        ts[i].dims[0] = t->rank > 0 ? t->dims[0] : 0;
        ts[i].dims[1] = t->rank > 1 ? t->dims[1] : 0;
        ts[i].data = (const float *)t->data;
    }
    size_t n = e->n_weights;
    if (act_scales) {
        ts[n].name = EMIT_WEIGHTS_ACT_SCALES;
        ts[n].rank = 1;
        ts[n].dims[0] = cfg.layers * 4;
        ts[n].data = act_scales;
        n++;
    }
    s = emit_weights_write(path, &cfg, ts, n, hash, d);
    free(ts);
    return s;
}

static ir_status write_file(const char *path, const char *const *parts,
                            const size_t *sizes, int n, ir_diag *d)
{
    ir_file_atomic a;
    ir_status s = ir_file_atomic_open(&a, path, 0644, d);
    if (s != IR_OK)
        return s;
    for (int i = 0; i < n; i++) /* a short write: commit reports it */
        (void)fwrite(parts[i], 1, sizes[i], a.f);
    return ir_file_atomic_commit(&a, d);
}

static ir_status write_text(const char *path, const char *text, ir_diag *d)
{
    size_t n = strlen(text);
    return write_file(path, &text, &n, 1, d);
}

/* Writes s under dir/rt/, creating its folders. */
static ir_status write_runtime_file(const char *dir, const emit_source *s,
                                    ir_diag *d)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/rt/%s", dir, s->path);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    ir_status st = emit_make_dirs(path, d);
    *slash = '/';
    if (st != IR_OK)
        return st;
    return write_file(path, &s->data, &s->size, 1, d);
}

/* A C comment cannot hold "*" "/": keep free text (command lines, paths)
 * from closing the header comment early. */
static void comment_safe(char *s)
{
    for (char *p = s; (p = strstr(p, "*/")) != NULL; p++)
        p[1] = '|';
}

/* s as a C string literal: printable ASCII as it is, every other byte (and
 * '"', '\\', '?' against trigraphs) as a three-digit octal escape. */
static void c_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\' || *p == '?')
            fprintf(f, "\\%03o", *p);
        else
            fputc(*p, f);
    fputc('"', f);
}

/* "#define MODEL_LABEL_NAMES {...}\n" from the model's label names (the
 * program then prints "label_name" beside each label), or NULL when the
 * model has none or is a regression. IR_ERR_INPUT when the names do not
 * match its labels. */
static ir_status label_names_define(const ir_encoder *e, char **out,
                                    ir_diag *d)
{
    *out = NULL;
    if (!e->labels_meta || e->cfg.head == IR_ENC_HEAD_REGRESSION)
        return IR_OK;
    char **names = NULL;
    size_t n = 0;
    ir_status s = task_labels_from_json(e->labels_meta, &names, &n, d);
    if (s != IR_OK)
        return ir_diag_prefix(d, "the model's label names");
    if ((int64_t)n != e->cfg.labels) {
        task_labels_free(names, n);
        return ir_diag_set(d, IR_ERR_INPUT, "the model's %s names %zu labels "
                           "but its head has %lld", IR_ENCODER_LABELS_META, n,
                           (long long)e->cfg.labels);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f) {
        fputs("/* the classes' names, index order (the model's metadata) */\n"
              "#define MODEL_LABEL_NAMES {", f);
        for (size_t i = 0; i < n; i++) {
            fputs(i ? ", " : "", f);
            c_string(f, names[i]);
        }
        fputs("}\n", f);
    }
    task_labels_free(names, n);
    if (!f || fclose(f) != 0) {
        free(buf);
        return ir_diag_set(d, IR_ERR_NOMEM, "emit: out of memory");
    }
    *out = buf;
    return IR_OK;
}

static ir_status write_model_c(const ir_encoder *e, const char *dir,
                               const emit_options *o, uint64_t hash,
                               ir_diag *d)
{
    const emit_source *api = emit_source_find(EMIT_TEMPLATE_DIR "model_api.c");
    const emit_source *mn = emit_source_find(EMIT_TEMPLATE_DIR "model_main.c");
    IR_CHECK(d, api && mn);
    const ir_encoder_config *c = &e->cfg;
    char cmd[1024], src[1024];
    snprintf(cmd, sizeof cmd, "%s", o->command ? o->command : "(library call)");
    snprintf(src, sizeof src, "%s", o->source ? o->source : "(in memory)");
    comment_safe(cmd);
    comment_safe(src);
    static const char *const prec_enum[IR_PRECISION_COUNT] = {
        [IR_PRECISION_FP32] = "IR_PRECISION_FP32",
        [IR_PRECISION_BF16] = "IR_PRECISION_BF16",
        [IR_PRECISION_INT8] = "IR_PRECISION_INT8"};
    char pre[8192]; /* command and model are capped at 1023 bytes each */
    snprintf(pre, sizeof pre,
             "/* model.c — generated by distilc %s; do not edit, rebuild.\n"
             " *   command: %s\n"
             " *   model:   %s\n"
             " *   weights: model.weights, XXH64 0x%016" PRIx64 "\n"
             " *   encoder: hidden %" PRId64 ", %" PRId64 " layers, %" PRId64
             " heads, ffn %" PRId64 ", vocab %" PRId64 ", %" PRId64
             " positions,\n *            %" PRId64 " token types, %" PRId64
             " %s, %s, %s by default%s\n"
             " * The model.h API on the compiled runtime (rt/backend/rt.h), and\n"
             " * the command-line program (leave it out with\n"
             " * -DDISTILC_MODEL_NO_MAIN). The text below the defaults comes\n"
             " * from distilc's backend/standalone/model_api.c and model_main.c.\n"
             " */\n"
             "#define MODEL_PRECISION %s\n"
             "#define MODEL_THREADS %d\n"
             "#define MODEL_HIDDEN %" PRId64 "\n"
             "#define MODEL_LAYERS %" PRId64 "\n"
             "#define MODEL_LABELS %" PRId64 "\n"
             "#define MODEL_TOKEN_TYPES %d\n"
             "#define MODEL_WEIGHTS_HASH 0x%016" PRIx64 "ull\n\n",
             DISTILC_VERSION, cmd, src, hash, c->hidden, c->layers, c->heads,
             c->ffn, c->vocab, c->max_positions, c->type_vocab, c->labels,
             c->head == IR_ENC_HEAD_REGRESSION ? "output (regression)" : "labels",
             ir_act_name(c->activation), ir_precision_name(o->precision),
             o->act_scales ? " (int8 scales calibrated)" : "",
             prec_enum[o->precision], o->threads, c->hidden, c->layers,
             c->labels, o->token_types ? 1 : 0, hash);
    char *names = NULL;
    ir_status s = label_names_define(e, &names, d);
    if (s != IR_OK)
        return s;
    static const char open_main[] = "\n#ifndef DISTILC_MODEL_NO_MAIN\n";
    static const char close_main[] = "#endif /* DISTILC_MODEL_NO_MAIN */\n";
    const char *parts[6] = {pre, names ? names : "", api->data, open_main,
                            mn->data, close_main};
    size_t sizes[6] = {strlen(pre), names ? strlen(names) : 0, api->size,
                       sizeof open_main - 1, mn->size, sizeof close_main - 1};
    char path[4096];
    snprintf(path, sizeof path, "%s/model.c", dir);
    s = write_file(path, parts, sizes, 6, d);
    free(names);
    return s;
}

/* "-I/opt/dnnl/include" unless the compiler searches it anyway. */
static void dnnl_flags(char *cflags, size_t nc, char *libs, size_t nl)
{
    cflags[0] = '\0';
#ifdef DISTILC_DNNL_INCLUDE_DIR
    if (strcmp(DISTILC_DNNL_INCLUDE_DIR, "/usr/include") != 0)
        snprintf(cflags, nc, "-I%s", DISTILC_DNNL_INCLUDE_DIR);
#endif
    /* OpenBLAS: the larger fp32 linears' kernel on CPUs without AVX-512
     * (backend/rt_linear.c decides at load time, on the machine that runs
     * the program). */
    snprintf(libs, nl, "-ldnnl -lopenblas");
#ifdef DISTILC_DNNL_LIBRARY
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", DISTILC_DNNL_LIBRARY);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        if (strncmp(dir, "/usr/lib", 8) != 0 && strncmp(dir, "/lib", 4) != 0)
            snprintf(libs, nl, "-L%s -Wl,-rpath,%s -ldnnl -lopenblas", dir, dir);
    }
#endif
}

/* ICU (the tokenizer.json kinds of the program's text mode normalise with
 * it) and libxxhash (the program verifies its weights' checksum,
 * backend/emit_weights.c) as distilc was built with them (pkg-config, the
 * DISTILC_*_CFLAGS / _LIBS the build defines), else their plain -l names. */
#ifndef DISTILC_ICU_CFLAGS
#define DISTILC_ICU_CFLAGS ""
#endif
#ifndef DISTILC_ICU_LIBS
#define DISTILC_ICU_LIBS ""
#endif
#ifndef DISTILC_XXHASH_CFLAGS
#define DISTILC_XXHASH_CFLAGS ""
#endif
#ifndef DISTILC_XXHASH_LIBS
#define DISTILC_XXHASH_LIBS ""
#endif

static void pkg_flags(const char *built_cflags, const char *built_libs,
                      const char *fallback_libs, char *cflags, size_t nc,
                      char *libs, size_t nl)
{
    snprintf(cflags, nc, "%s", built_cflags);
    snprintf(libs, nl, "%s", built_libs[0] ? built_libs : fallback_libs);
}

void emit_flags_get(emit_flags *f, const emit_options *o)
{
    memset(f, 0, sizeof *f);
    dnnl_flags(f->dnnl_cflags, sizeof f->dnnl_cflags, f->dnnl_libs,
               sizeof f->dnnl_libs);
    pkg_flags(DISTILC_ICU_CFLAGS, DISTILC_ICU_LIBS,
              "-licui18n -licuuc -licudata", f->icu_cflags,
              sizeof f->icu_cflags, f->icu_libs, sizeof f->icu_libs);
    pkg_flags(DISTILC_XXHASH_CFLAGS, DISTILC_XXHASH_LIBS, "-lxxhash",
              f->xxhash_cflags, sizeof f->xxhash_cflags, f->xxhash_libs,
              sizeof f->xxhash_libs);
    snprintf(f->defines, sizeof f->defines, "-D_DEFAULT_SOURCE%s",
             emit_source_find("backend/dnnl_qlinear.c")
                 ? " -DDISTILC_HAVE_QLINEAR=1" : "");
    snprintf(f->cflags, sizeof f->cflags, "%s",
             o && o->cflags ? o->cflags : "-O2");
}

static ir_status write_makefile(const char *dir, const emit_options *o,
                                ir_diag *d)
{
    emit_flags f;
    emit_flags_get(&f, o);
    size_t cap = 4096;
    for (size_t i = 0; i < emit_sources_count; i++)
        cap += strlen(emit_sources[i].path) + 16;
    char *text = malloc(cap);
    if (!text)
        return ir_diag_set(d, IR_ERR_NOMEM, "out of memory");
    size_t n = (size_t)snprintf(text, cap,
        "# Makefile — generated by distilc %s: builds the standalone program\n"
        "# 'model' from model.c and the runtime sources under rt/ (the same\n"
        "# command distilc build ran; its output is in build.log).\n"
        "#   make            build ./model\n"
        "#   make CC=clang   with another compiler\n"
        "CC = %s\n"
        "CFLAGS = %s\n"
        "DNNL_CFLAGS = %s\n"
        "DNNL_LIBS = %s\n"
        "ICU_CFLAGS = %s\n"
        "ICU_LIBS = %s\n"
        "XXHASH_CFLAGS = %s\n"
        "XXHASH_LIBS = %s\n"
        "DEFS = %s\n"
        "WARN = %s\n"
        "SRCS = model.c",
        DISTILC_VERSION, o && o->cc ? o->cc : "cc", f.cflags, f.dnnl_cflags,
        f.dnnl_libs, f.icu_cflags, f.icu_libs, f.xxhash_cflags,
        f.xxhash_libs, f.defines, EMIT_WARN_FLAGS);
    for (size_t i = 0; i < emit_sources_count; i++) {
        const emit_source *s = &emit_sources[i];
        size_t len = strlen(s->path);
        if (emit_source_is_template(s) || len < 2 || strcmp(s->path + len - 2, ".c"))
            continue;
        n += (size_t)snprintf(text + n, cap - n, " \\\n  rt/%s", s->path);
    }
    snprintf(text + n, cap - n,
             "\n\nmodel: $(SRCS)\n"
             "\t$(CC) -std=c17 -fopenmp $(DEFS) $(CFLAGS) $(WARN) -I. -Irt "
             "$(DNNL_CFLAGS) $(ICU_CFLAGS) $(XXHASH_CFLAGS) -o $@ $(SRCS) "
             "$(DNNL_LIBS) $(ICU_LIBS) $(XXHASH_LIBS) -lm\n\n"
             "clean:\n\trm -f model\n\n.PHONY: clean\n");
    char path[4096];
    snprintf(path, sizeof path, "%s/Makefile", dir);
    ir_status s = write_text(path, text, d);
    free(text);
    return s;
}

ir_status emit_write_sources(const ir_encoder *e, const char *dir,
                             const emit_options *o, uint64_t hash, int *files,
                             ir_diag *d)
{
    int count = 0;
    for (size_t i = 0; i < emit_sources_count; i++) {
        const emit_source *s = &emit_sources[i];
        if (emit_source_is_template(s))
            continue;
        ir_status st = write_runtime_file(dir, s, d);
        if (st != IR_OK)
            return st;
        count++;
    }
    const emit_source *h = emit_source_find(EMIT_TEMPLATE_DIR "model.h");
    IR_CHECK(d, h != NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.h", dir);
    ir_status st = write_file(path, &h->data, &h->size, 1, d);
    if (st == IR_OK)
        st = write_model_c(e, dir, o, hash, d);
    if (st == IR_OK)
        st = write_makefile(dir, o, d);
    if (files)
        *files = count + 3;
    return st;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

ir_status emit_encoder(const ir_encoder *e, const char *dir,
                       const emit_options *o, emit_result *r, ir_diag *d)
{
    emit_options def;
    if (!o) {
        emit_options_default(&def);
        o = &def;
    }
    if ((unsigned)o->precision >= IR_PRECISION_COUNT)
        return ir_diag_set(d, IR_ERR_INPUT, "emit: precision %d is not one of "
                           "fp32, bf16, int8", (int)o->precision);
    if (o->threads < 0)
        return ir_diag_set(d, IR_ERR_INPUT, "emit: threads = %d must be 0 (all "
                           "cores) or positive", o->threads);
    emit_result local;
    if (!r)
        r = &local;
    memset(r, 0, sizeof *r);
    ir_status s = emit_make_dirs(dir, d);
    if (s != IR_OK)
        return s;
    double t0 = ir_clock_wall_s();
    snprintf(r->weights, sizeof r->weights, "%s/model.weights", dir);
    s = emit_write_weights(e, r->weights, o->act_scales, &r->hash, d);
    if (s != IR_OK)
        return s;
    r->weights_bytes = file_size(r->weights);
    s = emit_write_sources(e, dir, o, r->hash, &r->files, d);
    r->write_seconds = ir_clock_wall_s() - t0;
    if (s != IR_OK || !o->compile)
        return s;
    t0 = ir_clock_wall_s();
    s = emit_compile(dir, o, d);
    r->compile_seconds = ir_clock_wall_s() - t0;
    if (s != IR_OK)
        return s;
    snprintf(r->program, sizeof r->program, "%s/model", dir);
    r->program_bytes = file_size(r->program);
    return IR_OK;
}
