/* user_data_internal.h — what frontend/user_data.c (the task) and
 * frontend/user_data_read.c (the readers) share; not part of the API. */
#ifndef DISTILC_USER_DATA_INTERNAL_H
#define DISTILC_USER_DATA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "frontend/glue.h"
#include "ir/arena.h"
#include "ir/diag.h"

/* The task and everything it owns; the glue_task comes first so a
 * glue_task * of a user task (t->user) is a user_task *. */
typedef struct user_task {
    glue_task task;
    ir_arena *arena;      /* names, paths, labels */
    bool labels_given;    /* the label set came with the spec (a model's) */
} user_task;

/* The split's whole file (t->files[split], at most USER_MAX_FILE_MB);
 * IR_ERR_INPUT naming the options when the split has no file. */
ir_status user_split_read(const glue_task *t, glue_split split, char **text,
                          size_t *len, ir_diag *d);
/* Train's distinct labels in the order first seen (malloc'd, freed with
 * task_labels_free); bad rows fail with file:line or are skipped. */
ir_status user_labels_collect(const glue_task *t, bool skip, bool offer_skip,
                              char ***labels, size_t *n, ir_diag *d);

#endif
