/* testutil.h — tiny test helpers: a failed check prints file:line and the
 * test exits non-zero at the end (never exit 0 on failure). */
#ifndef DISTILC_TESTUTIL_H
#define DISTILC_TESTUTIL_H

#include <stdbool.h>
#include <stdio.h>

extern int test_failures;
extern int test_checks;

#define CHECK(cond)                                                           \
    do {                                                                      \
        test_checks++;                                                        \
        if (!(cond)) {                                                        \
            test_failures++;                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                   \
        }                                                                     \
    } while (0)

#define CHECK_MSG(cond, ...)                                                  \
    do {                                                                      \
        test_checks++;                                                        \
        if (!(cond)) {                                                        \
            test_failures++;                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__,  \
                    #cond);                                                   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

/* Prints "N passed, N failed" and returns the exit status. */
int test_finish(const char *name);
/* $DISTILC_SHARED/<sub> if that folder exists, else NULL (tests then say
 * clearly that the shared data is absent). */
const char *test_shared_path(const char *sub, char *buf, size_t n);
/* A fresh temporary directory for this test (mkdtemp). */
const char *test_tmpdir(char *buf, size_t n);

#endif
