/* input64.c — input64_widen (input64.h). */
#include "backend/input64.h"

void input64_widen(size_t n, const int32_t *ids, const int32_t *types,
                   const int32_t *mask, int64_t *ids64, int64_t *types64,
                   int64_t *mask64)
{
    for (size_t i = 0; i < n; i++) {
        ids64[i] = ids[i];
        types64[i] = types ? types[i] : 0;
        mask64[i] = mask ? mask[i] : 1;
    }
}
