/* test_onnx_conformance.c — runs ONNX's own per-operator conformance cases
 * ($DISTILC_SHARED/onnx-node/<case>/model.onnx with test_data_set_N/
 * input_K.pb -> output_K.pb) through distilc's loader and reference
 * interpreter and compares every output.
 *
 * Tolerances: floats pass when |got - want| <= atol + rtol * |want| with
 * rtol 1e-3 and atol 1e-5 (the tolerances of ONNX's backend test runner,
 * onnx/backend/test/runner); NaN matches NaN. Integers and bools must be
 * exact. Dtype and shape must match exactly.
 *
 * A case is out of scope, with its reason, when
 *   - it uses a dtype distilc does not support (ir_dtype_supported) in its
 *     interface, initializers, attributes, Cast targets or test data;
 *   - it uses an op outside the op table (ir/ops.def);
 *   - the loader refuses its opset (IR_ERR_UNSUPPORTED naming the opset);
 *   - it is random by definition: Dropout in training mode with a non-zero
 *     ratio (ONNX Dropout-13: the mask is drawn at random; the reference
 *     outputs come from numpy's RNG and no runtime reproduces them).
 * The first two are decided here by reading the protobuf directly (the
 * generated bindings), not by asking the code under test, so a loader that
 * wrongly refuses a supported case shows up as a failure, not as "out of
 * scope". Everything else is in scope and must pass.
 */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/onnx.h"
#include "ir/interp.h"
#include "ir/ir.h"
#include "onnx/onnx.pb-c.h"
#include "testutil.h"

#define RTOL 1e-3
#define ATOL 1e-5

static const char *onnx_dtype_name(int code)
{
    static const char *const names[] = {
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
        "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64",
        "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN",
        "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
        "FLOAT4E2M1", "FLOAT8E8M0", "UINT2", "INT2"};
    if (code >= 0 && code < (int)(sizeof names / sizeof names[0]))
        return names[code];
    return "UNKNOWN";
}

/* ---- files ---------------------------------------------------------------- */

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted names of the entries of dir that start with prefix. */
static char **list_dir(const char *dir, const char *prefix, size_t *n)
{
    *n = 0;
    DIR *dp = opendir(dir);
    if (!dp)
        return NULL;
    size_t cap = 64;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while (names && (e = readdir(dp))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (*n == cap) {
            cap *= 2;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn)
                break;
            names = nn;
        }
        names[(*n)++] = strdup(e->d_name);
    }
    closedir(dp);
    if (names)
        qsort(names, *n, sizeof *names, cmp_str);
    return names;
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ---- scope: decided from the protobuf itself ------------------------------ */

typedef struct scope {
    char reason[512];   /* empty: in scope */
    char group[128];    /* reason without details, for grouping */
} scope;

static void note_dtype(scope *s, int code)
{
    if (s->reason[0] || ir_dtype_supported(code))
        return;
    snprintf(s->reason, sizeof s->reason, "dtype %s is not supported",
             onnx_dtype_name(code));
    snprintf(s->group, sizeof s->group, "dtype %s", onnx_dtype_name(code));
}

static void scan_value_infos(scope *s, Onnx__ValueInfoProto **vs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const Onnx__TypeProto *t = vs[i]->type;
        if (!t)
            continue;
        if (t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
            if (!s->reason[0]) {
                snprintf(s->reason, sizeof s->reason,
                         "non-tensor value '%s' (sequence/map/optional)",
                         vs[i]->name);
                snprintf(s->group, sizeof s->group, "non-tensor types");
            }
            continue;
        }
        if (t->tensor_type && t->tensor_type->has_elem_type)
            note_dtype(s, t->tensor_type->elem_type);
    }
}

static void scan_graph(scope *s, const Onnx__GraphProto *g, char *unknown,
                       size_t unknown_len)
{
    scan_value_infos(s, g->input, g->n_input);
    scan_value_infos(s, g->output, g->n_output);
    for (size_t i = 0; i < g->n_initializer; i++)
        note_dtype(s, g->initializer[i]->data_type);
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        const char *domain = n->domain ? n->domain : "";
        if (ir_op_from_onnx(domain, n->op_type) == IR_OP_COUNT) {
            char item[160];
            snprintf(item, sizeof item, "%s%s%s", domain, *domain ? "." : "",
                     n->op_type);
            if (!strstr(unknown, item)) {
                size_t used = strlen(unknown);
                snprintf(unknown + used, unknown_len - used, "%s%s",
                         used ? ", " : "", item);
            }
        }
        for (size_t k = 0; k < n->n_attribute; k++) {
            const Onnx__AttributeProto *a = n->attribute[k];
            if (a->t)
                note_dtype(s, a->t->data_type);
            if (strcmp(n->op_type, "Cast") == 0 && a->name &&
                strcmp(a->name, "to") == 0 && a->has_i)
                note_dtype(s, (int)a->i);
            if (a->g)
                scan_graph(s, a->g, unknown, unknown_len);
        }
    }
}

static void scan_tensor_file(scope *s, const char *path)
{
    size_t len;
    void *buf = test_read_file(path, &len);
    if (!buf)
        return;
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, buf);
    if (t) {
        note_dtype(s, t->data_type);
        onnx__tensor_proto__free_unpacked(t, NULL);
    }
    free(buf);
}

/* Value of graph input `name` in test_data_set_0 (by input position), or
 * `dflt` when it is not a graph input or cannot be read. */
static double input_value(const Onnx__GraphProto *g, const char *dir,
                          const char *name, double dflt)
{
    size_t k = 0, pos = 0;
    for (; k < g->n_input; k++) {
        bool is_init = false;
        for (size_t j = 0; j < g->n_initializer; j++)
            is_init = is_init || strcmp(g->initializer[j]->name, g->input[k]->name) == 0;
        if (strcmp(g->input[k]->name, name) == 0)
            break;
        if (!is_init)
            pos++;
    }
    if (k == g->n_input)
        return dflt;
    char path[8192];
    snprintf(path, sizeof path, "%s/test_data_set_0/input_%zu.pb", dir, pos);
    ir_tensor *t = NULL;
    ir_diag d;
    ir_diag_init(&d);
    if (onnx_tensor_read_file(path, &t, NULL, &d) != IR_OK)
        return dflt;
    double v = ir_tensor_numel(t) > 0 ? ir_tensor_get_f64(t, 0) : dflt;
    ir_tensor_free(t);
    return v;
}

static void scan_random(scope *s, const Onnx__GraphProto *g, const char *dir)
{
    for (size_t i = 0; i < g->n_node && !s->reason[0]; i++) {
        const Onnx__NodeProto *n = g->node[i];
        if (strcmp(n->op_type, "Dropout") != 0 || n->n_input < 3 ||
            !n->input[2][0])
            continue;
        double ratio = n->n_input > 1 && n->input[1][0]
                           ? input_value(g, dir, n->input[1], 0.5)
                           : 0.5;
        double training = input_value(g, dir, n->input[2], 1);
        if (training != 0 && ratio != 0) {
            snprintf(s->reason, sizeof s->reason,
                     "training-mode Dropout (ratio %g) is random", ratio);
            snprintf(s->group, sizeof s->group,
                     "random: training-mode Dropout");
        }
    }
}

static void scan_case(scope *s, const char *dir, const void *model, size_t len)
{
    memset(s, 0, sizeof *s);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, model);
    if (!m || !m->graph) {
        if (m)
            onnx__model_proto__free_unpacked(m, NULL);
        return; /* unreadable: in scope, the loader must say why */
    }
    char unknown[1024] = "";
    scan_graph(s, m->graph, unknown, sizeof unknown);
    if (!unknown[0])
        scan_random(s, m->graph, dir);
    onnx__model_proto__free_unpacked(m, NULL);
    if (unknown[0]) {
        /* An unknown op takes precedence: it is the more specific reason. */
        snprintf(s->reason, sizeof s->reason, "op outside the op table: %s",
                 unknown);
        snprintf(s->group, sizeof s->group, "op %s", unknown);
        return;
    }
    size_t nsets;
    char **sets = list_dir(dir, "test_data_set_", &nsets);
    for (size_t i = 0; i < nsets && !s->reason[0]; i++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, sets[i]);
        size_t nfiles;
        char **files = list_dir(sub, "", &nfiles);
        for (size_t k = 0; k < nfiles; k++) {
            if (!strstr(files[k], ".pb"))
                continue;
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", sub, files[k]);
            scan_tensor_file(s, path);
        }
        free_list(files, nfiles);
    }
    free_list(sets, nsets);
}

/* ---- comparison ------------------------------------------------------------ */

static bool compare(const ir_tensor *got, const ir_tensor *want, char *why,
                    size_t n)
{
    if (got->dtype != want->dtype) {
        snprintf(why, n, "dtype %s, expected %s", ir_dtype_name(got->dtype),
                 ir_dtype_name(want->dtype));
        return false;
    }
    if (!ir_tensor_same_shape(got, want)) {
        char a[128] = "", b[128] = "";
        size_t ua = 0, ub = 0;
        for (int i = 0; i < got->rank && ua < sizeof a; i++)
            ua += (size_t)snprintf(a + ua, sizeof a - ua, "%s%" PRId64,
                                   i ? "," : "", got->dims[i]);
        for (int i = 0; i < want->rank && ub < sizeof b; i++)
            ub += (size_t)snprintf(b + ub, sizeof b - ub, "%s%" PRId64,
                                   i ? "," : "", want->dims[i]);
        snprintf(why, n, "shape [%s], expected [%s]", a, b);
        return false;
    }
    int64_t numel = ir_tensor_numel(want);
    bool is_float = ir_dtype_is_float(want->dtype);
    int64_t bad = 0, first = -1;
    double worst = 0;
    for (int64_t i = 0; i < numel; i++) {
        if (is_float) {
            double g = ir_tensor_get_f64(got, i), w = ir_tensor_get_f64(want, i);
            if (isnan(w) && isnan(g))
                continue;
            if (isinf(w) && g == w)
                continue;
            double err = fabs(g - w);
            if (!(err <= ATOL + RTOL * fabs(w))) {
                if (first < 0)
                    first = i;
                bad++;
                if (!(err <= worst))
                    worst = err;
            }
        } else if (ir_tensor_get_i64(got, i) != ir_tensor_get_i64(want, i)) {
            if (first < 0)
                first = i;
            bad++;
        }
    }
    if (bad) {
        snprintf(why, n,
                 "%" PRId64 " of %" PRId64 " elements differ; first at %" PRId64
                 ": got %.9g, expected %.9g; worst abs err %.3g",
                 bad, numel, first, ir_tensor_get_f64(got, first),
                 ir_tensor_get_f64(want, first), worst);
        return false;
    }
    return true;
}

/* ---- one case -------------------------------------------------------------- */

/* Runs every test_data_set of one case; returns true if all outputs match,
 * else fills why. */
static bool run_case(const char *dir, ir_graph *g, char *why, size_t n)
{
    size_t nsets;
    char **sets = list_dir(dir, "test_data_set_", &nsets);
    bool ok = nsets > 0;
    if (!ok)
        snprintf(why, n, "no test_data_set_* folder");
    for (size_t s = 0; s < nsets && ok; s++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, sets[s]);
        ir_diag d;
        ir_diag_init(&d);
        ir_tensor **ins = calloc((size_t)g->n_inputs + 1, sizeof *ins);
        for (int k = 0; k < g->n_inputs && ok; k++) {
            char path[8192];
            snprintf(path, sizeof path, "%s/input_%d.pb", sub, k);
            if (onnx_tensor_read_file(path, &ins[k], NULL, &d) != IR_OK) {
                snprintf(why, n, "%s/input_%d.pb: %s", sets[s], k, d.msg);
                ok = false;
            }
        }
        ir_tensor **outs = NULL;
        if (ok && ir_interp_run(g, (const ir_tensor *const *)ins, &outs, &d) !=
                      IR_OK) {
            snprintf(why, n, "%s: run failed: %s", sets[s], d.msg);
            ok = false;
        }
        for (int k = 0; ok && k < g->n_outputs; k++) {
            char path[8192];
            snprintf(path, sizeof path, "%s/output_%d.pb", sub, k);
            ir_tensor *want = NULL;
            if (!file_exists(path))
                continue; /* optional outputs without reference data */
            if (onnx_tensor_read_file(path, &want, NULL, &d) != IR_OK) {
                snprintf(why, n, "%s/output_%d.pb: %s", sets[s], k, d.msg);
                ok = false;
                break;
            }
            char cmp[512];
            if (!outs[k]) {
                snprintf(why, n, "%s: output %d ('%s') not produced", sets[s], k,
                         g->outputs[k]->name);
                ok = false;
            } else if (!compare(outs[k], want, cmp, sizeof cmp)) {
                snprintf(why, n, "%s: output %d ('%s'): %s", sets[s], k,
                         g->outputs[k]->name, cmp);
                ok = false;
            }
            ir_tensor_free(want);
        }
        if (outs)
            ir_interp_free_outputs(g, outs);
        for (int k = 0; k < g->n_inputs; k++)
            ir_tensor_free(ins[k]);
        free(ins);
    }
    free_list(sets, nsets);
    return ok;
}

/* ---- report ----------------------------------------------------------------- */

typedef struct oos_entry {
    char group[128];
    char *cases;   /* space-separated case names */
    size_t count;
} oos_entry;

static void oos_add(oos_entry *groups, size_t *n, size_t max, const char *group,
                    const char *name)
{
    size_t i = 0;
    while (i < *n && strcmp(groups[i].group, group) != 0)
        i++;
    if (i == *n) {
        if (*n == max)
            i = max - 1; /* lump the rest into the last group */
        else {
            (*n)++;
            snprintf(groups[i].group, sizeof groups[i].group, "%s", group);
            groups[i].cases = NULL;
            groups[i].count = 0;
        }
    }
    size_t old = groups[i].cases ? strlen(groups[i].cases) : 0;
    char *c = realloc(groups[i].cases, old + strlen(name) + 2);
    if (!c)
        return;
    if (old)
        c[old++] = ' ';
    strcpy(c + old, name);
    groups[i].cases = c;
    groups[i].count++;
}

int main(void)
{
    char root_buf[4096];
    const char *root = test_shared_path("onnx-node", root_buf, sizeof root_buf);
    if (!root) {
        test_skip("../shared/onnx-node absent (set DISTILC_SHARED)");
        return test_finish("test_onnx_conformance");
    }
    size_t ncases;
    char **cases = list_dir(root, "test_", &ncases);
    size_t passed = 0, in_scope = 0, out_scope = 0;
    oos_entry groups[128];
    size_t ngroups = 0;

    for (size_t c = 0; c < ncases; c++) {
        char dir[8192], model_path[8192];
        snprintf(dir, sizeof dir, "%s/%s", root, cases[c]);
        snprintf(model_path, sizeof model_path, "%s/model.onnx", dir);
        size_t len;
        void *buf = test_read_file(model_path, &len);
        if (!buf)
            continue; /* not a case folder */
        scope sc;
        scan_case(&sc, dir, buf, len);
        if (sc.reason[0]) {
            out_scope++;
            oos_add(groups, &ngroups, 128, sc.group, cases[c]);
            free(buf);
            continue;
        }
        ir_diag d;
        ir_diag_init(&d);
        ir_graph *g = NULL;
        ir_status st = onnx_load_buffer(buf, len, dir, NULL, &g, &d);
        free(buf);
        if (st == IR_ERR_UNSUPPORTED && strstr(d.msg, "opset")) {
            out_scope++;
            oos_add(groups, &ngroups, 128, "opset not accepted by the loader",
                    cases[c]);
            continue;
        }
        in_scope++;
        char why[2048];
        bool ok;
        if (st != IR_OK) {
            snprintf(why, sizeof why, "load failed (%s): %s", ir_status_name(st),
                     d.msg);
            ok = false;
        } else {
            ok = run_case(dir, g, why, sizeof why);
        }
        ir_graph_free(g);
        CHECK_MSG(ok, "%s: %s", cases[c], why);
        if (ok)
            passed++;
        else
            printf("FAIL %s: %s\n", cases[c], why);
    }
    free_list(cases, ncases);

    printf("\nout of scope, by reason:\n");
    for (size_t i = 0; i < ngroups; i++) {
        printf("  %s (%zu): %s\n", groups[i].group, groups[i].count,
               groups[i].cases);
        free(groups[i].cases);
    }
    printf("\nconformance: %zu passed / %zu in scope / %zu out of scope\n",
           passed, in_scope, out_scope);
    CHECK_MSG(in_scope > 0, "no case was in scope");
    return test_finish("test_onnx_conformance");
}
