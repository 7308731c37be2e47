/* schedule.h — the learning-rate schedule of BERT fine-tuning and TinyBERT:
 * linear warmup from 0 to the peak, then linear decay to 0 at the last step
 * (Hugging Face's get_linear_schedule_with_warmup, so runs compare with
 * transformers' Trainer step for step).
 *
 *     train_schedule s;
 *     train_schedule_init(&s, 2e-5f, 0.1f, 1000);   // 100 warmup steps
 *     float lr = train_schedule_lr(&s, k);          // k = 0, 1, ... 999
 */
#ifndef DISTILC_DISTILL_SCHEDULE_H
#define DISTILC_DISTILL_SCHEDULE_H

#include <stdint.h>

typedef struct train_schedule {
    float peak;
    int64_t warmup_steps;    /* ceil(warmup fraction * total), as HF */
    int64_t total_steps;
} train_schedule;

void train_schedule_init(train_schedule *s, float peak, float warmup_frac,
                         int64_t total_steps);
/* lr of optimizer step k (0-based):
 *   k < W: peak * k / W;  else peak * max(0, (N - k) / (N - W)). */
float train_schedule_lr(const train_schedule *s, int64_t k);

#endif
