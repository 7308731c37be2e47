/* emit_internal.h — what emit.c (the Makefile it writes) and emit_compile.c
 * (the command it runs) must agree on: the compiler flags. */
#ifndef DISTILC_BACKEND_EMIT_INTERNAL_H
#define DISTILC_BACKEND_EMIT_INTERNAL_H

#include "backend/emit.h"

/* The emitted sources compile cleanly with these (tests check it), with
 * gcc and clang: clang does not know -Wno-format-truncation, hence
 * -Wno-unknown-warning-option (which gcc ignores when nothing warns). */
#define EMIT_WARN_FLAGS \
    "-Wall -Wextra -Wno-unused-parameter -Wno-unknown-warning-option " \
    "-Wno-format-truncation"

/* Space-separated flag lists. */
typedef struct emit_flags {
    char cflags[1024];      /* optimisation: o->cflags or -O2 */
    char dnnl_cflags[1024]; /* -I for oneDNN when not in /usr/include */
    char dnnl_libs[2048];   /* -ldnnl (with -L/-rpath when needed) */
    char icu_cflags[512];   /* ICU's -I/-D when pkg-config gives any */
    char icu_libs[512];     /* -licui18n -licuuc -licudata: the tokenizers */
    char xxhash_cflags[512]; /* libxxhash's -I when pkg-config gives any */
    char xxhash_libs[512];  /* -lxxhash: the weights' checksum */
    char defines[256];      /* -D_DEFAULT_SOURCE, -DDISTILC_HAVE_QLINEAR */
} emit_flags;

void emit_flags_get(emit_flags *f, const emit_options *o);

#endif
