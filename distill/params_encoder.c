/* params_encoder.c — moving weights between ir/encoder (the compiler's
 * structured model) and train_params (the trainer's contiguous blocks).
 * Both name their tensors the same way (params.h / encoder.h), so the copy
 * is by name, with the element counts checked. */
#include <string.h>

#include "distill/params.h"

/* The encoder tensor matching t, checked for dtype and size. */
static ir_status tensor_match(const ir_encoder *e, const train_tensor *t,
                              ir_tensor **out, ir_diag *d)
{
    ir_tensor *x = ir_encoder_find(e, t->name);
    if (!x)
        return ir_diag_set(d, IR_ERR_INPUT, "encoder has no weight '%s'", t->name);
    if (x->dtype != IR_DT_F32 || x->nbytes != t->numel * sizeof(float))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "encoder weight '%s': expected f32 with %zu elements, "
                           "got %zu bytes", t->name, t->numel, x->nbytes);
    *out = x;
    return IR_OK;
}

ir_status train_params_from_encoder(const ir_encoder *e, train_params **out,
                                    ir_diag *d)
{
    *out = NULL;
    ir_status s = ir_encoder_check(e, d);
    if (s != IR_OK)
        return s;
    s = train_act_check(e->cfg.activation, d);
    if (s != IR_OK)
        return s;
    train_params *p;
    s = train_params_new(&e->cfg, &p, d);
    if (s != IR_OK)
        return s;
    for (size_t i = 0; i < p->n_tensors; i++) {
        const train_tensor *t = &p->tensors[i];
        ir_tensor *x = NULL;
        s = tensor_match(e, t, &x, d);
        if (s != IR_OK) {
            train_params_free(p);
            return s;
        }
        memcpy(p->params + t->offset, x->data, t->numel * sizeof(float));
    }
    *out = p;
    return IR_OK;
}

ir_status train_params_to_encoder(const train_params *p, ir_encoder *e,
                                  ir_diag *d)
{
    if (!ir_encoder_config_equal(&p->cfg, &e->cfg))
        return ir_diag_set(d, IR_ERR_INPUT,
                           "train_params_to_encoder: the encoder's config differs "
                           "from the trained parameters' config");
    for (size_t i = 0; i < p->n_tensors; i++) {
        const train_tensor *t = &p->tensors[i];
        ir_tensor *x = NULL;
        ir_status s = tensor_match(e, t, &x, d);
        if (s != IR_OK)
            return s;
        memcpy(x->data, p->params + t->offset, t->numel * sizeof(float));
    }
    return IR_OK;
}
