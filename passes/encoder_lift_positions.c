/* encoder_lift_positions.c — recognising RoBERTa's position ids in a graph.
 *
 * transformers' create_position_ids_from_input_ids (RoBERTa, XLM-R,
 * CamemBERT...) numbers a row's real tokens from pad_id + 1 and gives pads
 * pad_id:
 *     mask = (input_ids != pad).int()
 *     pos  = (cumsum(mask, dim=1) + past_len) * mask + pad      (long)
 * which torch.onnx.export writes as
 *     c = Cast(Not(Equal(input_ids, pad)))
 *     Add(Cast(Mul(CumSum(c, 1), c)), pad)     (either operand order)
 * with Casts between the integer types anywhere and past_len 0 folded
 * away or kept as an Add of zero. The two pad constants must agree.
 */
#include "ir/input_role.h"
#include "passes/encoder_lift_internal.h"


/* The two-input node of op `op` producing v (Casts skipped), or NULL. */
static const ir_node *binary(const ir_value *v, ir_op op)
{
    const ir_node *n = v ? lift_uncast(v)->producer : NULL;
    return n && n->op == op && n->n_inputs == 2 ? n : NULL;
}

/* Cast(Not(Equal(input_ids, pad))): the real-token mask; sets *pad. */
static bool real_mask(const ir_value *c, int64_t *pad)
{
    const ir_node *no = lift_uncast(c)->producer;
    if (!no || no->op != IR_OP_NOT)
        return false;
    const ir_node *eq = binary(no->inputs[0], IR_OP_EQUAL);
    if (!eq)
        return false;
    for (int k = 0; k < 2; k++) {
        const ir_value *ids = lift_uncast(eq->inputs[k]);
        if (ids->is_input && ir_input_role_of(ids->name) == IR_INPUT_IDS &&
            lift_const_int(eq->inputs[1 - k], pad))
            return true;
    }
    return false;
}

bool lift_padded_positions(const ir_value *v, int64_t *pad_id)
{
    const ir_node *add = binary(v, IR_OP_ADD);
    if (!add)
        return false;
    for (int k = 0; k < 2; k++) {
        int64_t pad, pad2, past;
        if (!lift_const_int(add->inputs[1 - k], &pad))
            continue;
        const ir_node *mul = binary(add->inputs[k], IR_OP_MUL);
        for (int j = 0; mul && j < 2; j++) {
            const ir_value *cs = mul->inputs[j];
            const ir_node *cum = lift_uncast(cs)->producer;
            /* (cumsum + 0) * mask: an Add of zero may stay. */
            const ir_node *plus = binary(cs, IR_OP_ADD);
            if (plus) {
                for (int i = 0; i < 2 && cum && cum->op != IR_OP_CUMSUM; i++)
                    if (lift_const_int(plus->inputs[1 - i], &past) && past == 0)
                        cum = lift_uncast(plus->inputs[i])->producer;
            }
            int64_t axis;
            if (!cum || cum->op != IR_OP_CUMSUM ||
                ir_node_attr_int(cum, "exclusive", 0) != 0 ||
                ir_node_attr_int(cum, "reverse", 0) != 0 ||
                !lift_const_int(cum->inputs[1], &axis) || (axis != 1 && axis != -1))
                continue;
            const ir_value *m1 = mul->inputs[1 - j], *m2 = cum->inputs[0];
            if (real_mask(m1, &pad2) && pad2 == pad &&
                real_mask(m2, &pad2) && pad2 == pad) {
                *pad_id = pad;
                return true;
            }
        }
    }
    return false;
}
