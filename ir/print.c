/* print.c — the stable text form of a graph (ir_graph_print).
 *
 * Golden tests and `--dump-after` rely on this being stable: change it only
 * on purpose, and update the goldens with it. Grammar (two-space indent):
 *
 *   graph   := 'graph "' NAME '" opset ' INT NL line*
 *   line    := '  input  ' NAME ': ' type NL              (graph inputs, in order)
 *            | '  const  ' NAME ': ' type ' ' payload NL  (constants, by value id)
 *            | '  ' outs ' = ' OP ' "' NODE '"(' args ')' attrs? NL  (nodes, in order)
 *            | '  output ' NAME ': ' type NL              (graph outputs, in order)
 *   outs    := out (', ' out)*      out := '%' NAME (': ' type)? | '_'
 *   args    := (ref (', ' ref)*)?   ref := NAME (input, constant) | '%' NAME | '_'
 *   type    := DTYPE '[' (dim (',' dim)*)? ']' | DTYPE '[?]'
 *   dim     := INT | SYMBOL | '?'
 *   payload := '= [' v (', ' v)* ']'      (tensors of at most 8 elements)
 *            | '(' INT ' params)'
 *   attrs   := ' {' NAME '=' aval (', ' NAME '=' aval)* '}'  (sorted by name)
 *   aval    := INT | FLOAT | '"' STRING '"' | '[' list ']' | 'tensor ' type ' ' payload
 *
 * "_" is an absent optional input or output. An output's type is shown once
 * its dtype or rank is known. Floats use the shortest form that reads back
 * to the same float ("0.1", "1e-12"). DTYPE is ir_dtype_name ("f32", "i64").
 * Names are printed as they are (ONNX names such as "/bert/Shape_output_0"
 * contain no spaces in practice).
 */
#include "ir/ir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRINT_MAX_ELEMS 8

/* Shortest %g form that reads back as the same float. */
static void print_float(FILE *out, double x)
{
    if (isnan(x)) {
        fputs("nan", out);
        return;
    }
    if (isinf(x)) {
        fputs(x > 0 ? "inf" : "-inf", out);
        return;
    }
    char buf[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, x);
        if ((float)strtod(buf, NULL) == (float)x)
            break;
    }
    fputs(buf, out);
}

static void print_dims(FILE *out, ir_dtype dt, int rank, const ir_dim *dims)
{
    fputs(ir_dtype_name(dt), out);
    if (rank < 0) {
        fputs("[?]", out);
        return;
    }
    fputc('[', out);
    for (int i = 0; i < rank; i++) {
        if (i)
            fputc(',', out);
        if (dims[i].size >= 0)
            fprintf(out, "%lld", (long long)dims[i].size);
        else
            fputs(dims[i].sym ? dims[i].sym : "?", out);
    }
    fputc(']', out);
}

void ir_value_print_type(const ir_value *v, FILE *out)
{
    print_dims(out, v->dtype, v->rank, v->dims);
}

static void print_tensor_type(FILE *out, const ir_tensor *t)
{
    ir_dim dims[IR_MAX_RANK];
    for (int i = 0; i < t->rank && i < IR_MAX_RANK; i++)
        dims[i] = ir_dim_const(t->dims[i]);
    print_dims(out, t->dtype, t->rank, dims);
}

/* "= [1, 2]" for small tensors, "(N params)" otherwise. */
static void print_payload(FILE *out, const ir_tensor *t)
{
    int64_t n = ir_tensor_numel(t);
    if (n < 0 || n > PRINT_MAX_ELEMS || ir_dtype_size(t->dtype) == 0) {
        fprintf(out, "(%lld params)", (long long)n);
        return;
    }
    fputs("= [", out);
    for (int64_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", out);
        if (ir_dtype_is_float(t->dtype))
            print_float(out, ir_tensor_get_f64(t, i));
        else if (t->dtype == IR_DT_BOOL)
            fputs(ir_tensor_get_i64(t, i) ? "true" : "false", out);
        else
            fprintf(out, "%lld", (long long)ir_tensor_get_i64(t, i));
    }
    fputc(']', out);
}

static void print_ref(FILE *out, const ir_value *v)
{
    if (!v) {
        fputc('_', out);
        return;
    }
    if (!v->is_input && !v->constant)
        fputc('%', out);
    fputs(v->name, out);
}

static void print_attr_value(FILE *out, const ir_attr *a)
{
    switch (a->kind) {
    case IR_ATTR_FLOAT: print_float(out, a->f); break;
    case IR_ATTR_INT: fprintf(out, "%lld", (long long)a->i); break;
    case IR_ATTR_STRING: fprintf(out, "\"%s\"", a->s ? a->s : ""); break;
    case IR_ATTR_TENSOR:
        fputs("tensor ", out);
        if (a->t) {
            print_tensor_type(out, a->t);
            fputc(' ', out);
            print_payload(out, a->t);
        } else {
            fputs("?", out);
        }
        break;
    case IR_ATTR_FLOATS:
    case IR_ATTR_INTS:
    case IR_ATTR_STRINGS:
        fputc('[', out);
        for (int i = 0; i < a->n; i++) {
            if (i)
                fputs(", ", out);
            if (a->kind == IR_ATTR_FLOATS)
                print_float(out, a->floats[i]);
            else if (a->kind == IR_ATTR_INTS)
                fprintf(out, "%lld", (long long)a->ints[i]);
            else
                fprintf(out, "\"%s\"", a->strings[i] ? a->strings[i] : "");
        }
        fputc(']', out);
        break;
    default: fputc('?', out); break;
    }
}

static int attr_cmp(const void *x, const void *y)
{
    const ir_attr *a = *(const ir_attr *const *)x;
    const ir_attr *b = *(const ir_attr *const *)y;
    return strcmp(a->name, b->name);
}

static void print_attrs(FILE *out, const ir_node *n)
{
    if (n->n_attrs == 0)
        return;
    const ir_attr *stack[16];
    const ir_attr **sorted = n->n_attrs <= 16
        ? stack : malloc(sizeof *sorted * (size_t)n->n_attrs);
    if (!sorted)
        return;
    for (int i = 0; i < n->n_attrs; i++)
        sorted[i] = &n->attrs[i];
    qsort(sorted, (size_t)n->n_attrs, sizeof *sorted, attr_cmp);
    fputs(" {", out);
    for (int i = 0; i < n->n_attrs; i++) {
        if (i)
            fputs(", ", out);
        fprintf(out, "%s=", sorted[i]->name);
        print_attr_value(out, sorted[i]);
    }
    fputc('}', out);
    if (sorted != stack)
        free(sorted);
}

static void print_node(FILE *out, const ir_node *n)
{
    fputs("  ", out);
    for (int k = 0; k < n->n_outputs; k++) {
        const ir_value *v = n->outputs[k];
        if (k)
            fputs(", ", out);
        if (!v) {
            fputc('_', out);
            continue;
        }
        fprintf(out, "%%%s", v->name);
        if (v->dtype != IR_DT_UNDEF || v->rank >= 0) {
            fputs(": ", out);
            ir_value_print_type(v, out);
        }
    }
    fprintf(out, " = %s \"%s\"(", ir_op_name(n->op), n->name ? n->name : "");
    for (int k = 0; k < n->n_inputs; k++) {
        if (k)
            fputs(", ", out);
        print_ref(out, n->inputs[k]);
    }
    fputc(')', out);
    print_attrs(out, n);
    fputc('\n', out);
}

void ir_graph_print(const ir_graph *g, FILE *out)
{
    fprintf(out, "graph \"%s\" opset %lld\n", g->name ? g->name : "",
            (long long)g->opset);
    for (int i = 0; i < g->n_inputs; i++) {
        fprintf(out, "  input  %s: ", g->inputs[i]->name);
        ir_value_print_type(g->inputs[i], out);
        fputc('\n', out);
    }
    for (int i = 0; i < g->n_values; i++) {
        const ir_value *v = g->values[i];
        if (!v->constant)
            continue;
        fprintf(out, "  const  %s: ", v->name);
        ir_value_print_type(v, out);
        fputc(' ', out);
        print_payload(out, v->constant);
        fputc('\n', out);
    }
    for (int i = 0; i < g->n_nodes; i++)
        print_node(out, g->nodes[i]);
    for (int i = 0; i < g->n_outputs; i++) {
        fprintf(out, "  output %s: ", g->outputs[i]->name);
        ir_value_print_type(g->outputs[i], out);
        fputc('\n', out);
    }
}
