/* input64.h — token inputs as the runtime takes them (rt.h: int64 ids,
 * types and mask) from the int32 arrays the trainer and the calibration
 * readers hold.
 *
 *     int64_t *in = malloc(3 * n * sizeof *in);
 *     input64_widen(n, ids, types, mask, in, in + n, in + 2 * n);
 *     rt_model_run(m, B, S, in, in + n, in + 2 * n, logits, NULL, &d);
 */
#ifndef DISTILC_BACKEND_INPUT64_H
#define DISTILC_BACKEND_INPUT64_H

#include <stddef.h>
#include <stdint.h>

/* n tokens each; types NULL reads as all 0, mask NULL as all 1 (no
 * padding), which the runtime treats as it treats NULL. */
void input64_widen(size_t n, const int32_t *ids, const int32_t *types,
                   const int32_t *mask, int64_t *ids64, int64_t *types64,
                   int64_t *mask64);

#endif
