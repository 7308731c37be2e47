/* emit_sources.h — the source files embedded into libdistilc at build time
 * (cmake/embed_sources.cmake generates emit_sources.c in the build folder):
 * the runtime, the weight-file reader, JSON and tokenizer readers and the
 * hand-written standalone templates that backend/emit copies next to every
 * emitted model.c, so an installed distilc needs no source tree.
 *
 *     for (size_t i = 0; i < emit_sources_count; i++)
 *         printf("%s %zu\n", emit_sources[i].path, emit_sources[i].size);
 */
#ifndef DISTILC_BACKEND_EMIT_SOURCES_H
#define DISTILC_BACKEND_EMIT_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct emit_source {
    const char *path; /* relative to the source root: "backend/rt.c" */
    const char *data; /* the file's bytes, NUL-terminated */
    size_t size;      /* without the terminating NUL */
} emit_source;

extern const emit_source emit_sources[];
extern const size_t emit_sources_count;

/* backend/standalone/ holds templates pasted into the generated model.c
 * and model.h; everything else is copied to DIR/rt/<path>. */
#define EMIT_TEMPLATE_DIR "backend/standalone/"
static inline bool emit_source_is_template(const emit_source *s)
{
    return strncmp(s->path, EMIT_TEMPLATE_DIR, sizeof EMIT_TEMPLATE_DIR - 1) == 0;
}

/* The embedded file at path, or NULL (backend/emit.c). */
const emit_source *emit_source_find(const char *path);

#endif
