/* arena.h — bump allocator behind every graph: many small allocations, one
 * free. Blocks are chained; allocations are zeroed and 16-byte aligned. */
#ifndef DISTILC_ARENA_H
#define DISTILC_ARENA_H

#include <stddef.h>

typedef struct ir_arena ir_arena;

ir_arena *ir_arena_new(void);
void *ir_arena_alloc(ir_arena *a, size_t bytes); /* NULL on out of memory */
void ir_arena_free(ir_arena *a);

#endif
