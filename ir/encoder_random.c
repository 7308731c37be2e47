/* encoder_random.c — random initialisation of an encoder's weights, as BERT
 * does it (Hugging Face BertPreTrainedModel._init_weights): matrices and
 * embedding tables ~ N(0, 0.02), biases 0, LayerNorm gamma 1 and beta 0.
 *
 * Deterministic: each weight draws from its own stream, seeded from the
 * user's seed and the weight's name (FNV-1a), with splitmix64 and
 * Box-Muller in double precision. So the same seed gives the same numbers
 * on every machine, and a weight's values do not depend on which other
 * weights the config has (adding a layer leaves layer 0 unchanged).
 * Tests may also ask for random biases and LayerNorm parameters, so that a
 * bias or a gamma wired to the wrong place is visible in the outputs.
 */
#include "ir/encoder.h"

#include <math.h>
#include <string.h>

typedef struct rng {
    uint64_t s;
    bool has_spare;
    double spare;
} rng;

static uint64_t rng_next(rng *r)
{
    /* splitmix64 (Steele, Lea, Flood 2014) */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1]: never 0, so log() below is finite. */
static double rng_uniform(rng *r)
{
    return ((double)(rng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

static double rng_normal(rng *r)
{
    if (r->has_spare) {
        r->has_spare = false;
        return r->spare;
    }
    double u = rng_uniform(r), v = rng_uniform(r);
    double rad = sqrt(-2.0 * log(u)), th = 2.0 * 3.14159265358979323846 * v;
    r->spare = rad * sin(th);
    r->has_spare = true;
    return rad * cos(th);
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

void ir_encoder_init_opts_default(ir_encoder_init_opts *o)
{
    o->seed = 0;
    o->std = 0.02f;
    o->bias_std = 0.0f;
    o->ln_std = 0.0f;
}

void ir_encoder_init_random(ir_encoder *e, const ir_encoder_init_opts *o)
{
    ir_encoder_init_opts def;
    if (!o) {
        ir_encoder_init_opts_default(&def);
        o = &def;
    }
    for (size_t i = 0; i < e->n_weights; i++) {
        const char *name = e->weights[i].name;
        ir_tensor *t = e->weights[i].t;
        if (!t || t->dtype != IR_DT_F32)
            continue;
        rng r = {o->seed ^ name_hash(name), false, 0.0};
        rng_next(&r); /* decorrelate neighbouring seeds */
        double mean = 0.0, std = o->std;
        if (ends_with(name, ".gamma")) {
            mean = 1.0;
            std = o->ln_std;
        } else if (ends_with(name, ".beta")) {
            std = o->ln_std;
        } else if (ends_with(name, ".bias")) {
            std = o->bias_std;
        }
        float *p = t->data;
        int64_t n = ir_tensor_numel(t);
        for (int64_t k = 0; k < n; k++)
            p[k] = (float)(mean + (std > 0.0 ? std * rng_normal(&r) : 0.0));
    }
}
