/* schedule.c — linear warmup then linear decay (see schedule.h). The
 * arithmetic is done in double and rounded once, like torch's LambdaLR
 * multiplying the base lr by a Python float. */
#include <math.h>

#include "distill/schedule.h"

void train_schedule_init(train_schedule *s, float peak, float warmup_frac,
                         int64_t total_steps)
{
    s->peak = peak;
    s->total_steps = total_steps;
    double w = ceil((double)warmup_frac * (double)total_steps);
    s->warmup_steps = w < 0 ? 0 : (int64_t)w;
}

float train_schedule_lr(const train_schedule *s, int64_t k)
{
    double f;
    if (k < s->warmup_steps)
        f = (double)k / (double)(s->warmup_steps > 1 ? s->warmup_steps : 1);
    else {
        int64_t span = s->total_steps - s->warmup_steps;
        f = (double)(s->total_steps - k) / (double)(span > 1 ? span : 1);
        if (f < 0)
            f = 0;
    }
    return (float)((double)s->peak * f);
}
