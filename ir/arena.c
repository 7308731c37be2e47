/* arena.c — see arena.h. */
#include "ir/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct block {
    struct block *next;
    size_t used, cap;
    _Alignas(16) unsigned char mem[];
} block;

struct ir_arena {
    block *head;
};

enum { BLOCK_MIN = 64 * 1024 };

ir_arena *ir_arena_new(void)
{
    return calloc(1, sizeof(ir_arena));
}

void *ir_arena_alloc(ir_arena *a, size_t bytes)
{
    if (bytes > SIZE_MAX / 2)
        return NULL;
    size_t need = (bytes + 15) & ~(size_t)15;
    if (need == 0)
        need = 16;
    block *b = a->head;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > BLOCK_MIN ? need : BLOCK_MIN;
        b = malloc(sizeof(block) + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = b->mem + b->used;
    b->used += need;
    memset(p, 0, need);
    return p;
}

void ir_arena_free(ir_arena *a)
{
    if (!a)
        return;
    for (block *b = a->head, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(a);
}
