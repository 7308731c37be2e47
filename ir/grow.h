/* grow.h — the one rule for growing a malloc'd array: at least `need`
 * items, doubling from a first size, overflow checked. Returns the new
 * array (and sets *cap) or NULL with the old array and *cap untouched, so
 * the caller reports out of memory and still owns what it had:
 *
 *     tok_span *v = ir_grow(s->v, &s->cap, s->n + 1, 64, sizeof *v);
 *     if (!v)
 *         return oom(d);
 *     s->v = v;
 */
#ifndef DISTILC_IR_GROW_H
#define DISTILC_IR_GROW_H

#include <stdint.h>
#include <stdlib.h>

static inline void *ir_grow(void *items, size_t *cap, size_t need,
                            size_t first, size_t elem)
{
    if (need <= *cap)
        return items;
    size_t c = *cap ? *cap : first;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return NULL;
        c *= 2;
    }
    void *p = realloc(items, c * elem);
    if (p)
        *cap = c;
    return p;
}

#endif
