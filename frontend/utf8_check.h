/* utf8_check.h — strict UTF-8 validation for the text readers (GLUE TSV,
 * the user's own CSV / TSV / JSON lines): one rule, so that a file the
 * GLUE reader refuses is refused by the others at the same byte.
 *
 *     size_t bad = utf8_check((const unsigned char *)line, len);
 *     if (bad < len) ... "invalid UTF-8 at byte %zu", bad + 1
 *
 * Strict as RFC 3629 has it: no overlong forms, no surrogates (U+D800 to
 * U+DFFF), nothing above U+10FFFF, no truncated sequence at the end.
 */
#ifndef DISTILC_FRONTEND_UTF8_CHECK_H
#define DISTILC_FRONTEND_UTF8_CHECK_H

#include <stddef.h>

/* The byte offset of the first bad sequence in s[0..len), or len. */
size_t utf8_check(const unsigned char *s, size_t len);

#endif
