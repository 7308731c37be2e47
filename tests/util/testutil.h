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

/* Skipping, the one convention of every test (C, Python, shell): a test
 * that cannot run here prints "skipped: <why>" and exits 77, which ctest
 * (SKIP_RETURN_CODE 77, set by distilc_add_test) reports as skipped. A
 * failed check always wins: exit 1, never 77.
 *
 * A part of a test that needs what some CPUs lack (bf16) is its own ctest
 * case: distilc_add_test(... PART bf16) registers NAME with
 * DISTILC_TEST_PART=-bf16 (everything but the part) and NAME.bf16 with
 * DISTILC_TEST_PART=bf16 (only the part). Run by hand, with the variable
 * unset, a test runs every part.
 *
 *     if (test_part("bf16")) {
 *         if (!cpu_has_bf16) test_skip("bf16: %s", why);
 *         else check_bf16(...);
 *     }
 */
/* Whether this run includes the part (see above). */
bool test_part(const char *name);
/* Prints "skipped: ..." and counts the skip. */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "NAME: N passed, N failed[, N skipped]" and returns the exit
 * status: 1 on any failure; 77 when something was skipped and either no
 * check ran or the run was for one part only; else 0. */
int test_finish(const char *name);
/* $DISTILC_SHARED/<sub> if that folder exists, else NULL (tests then say
 * clearly that the shared data is absent). */
const char *test_shared_path(const char *sub, char *buf, size_t n);
/* A fresh temporary directory for this test (mkdtemp). */
const char *test_tmpdir(char *buf, size_t n);
/* The file the repository ships at rel (from its root: "search/space.xsd"),
 * whichever folder the test runs in; returns buf. */
const char *test_source_path(const char *rel, char *buf, size_t n);
/* The whole file, NUL-terminated so text can be read as a string; *len
 * (when len is not NULL) is its size without the NUL. NULL when it cannot
 * be read. The caller frees it. */
char *test_read_file(const char *path, size_t *len);

#endif
