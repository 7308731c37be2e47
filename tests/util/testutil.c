/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int test_failures = 0;
int test_checks = 0;
static int test_skips = 0;

/* The exit status ctest counts as "skipped" (SKIP_RETURN_CODE). */
enum { TEST_SKIP_STATUS = 77 };

bool test_part(const char *name)
{
    const char *sel = getenv("DISTILC_TEST_PART");
    if (!sel || !*sel)
        return true;
    if (sel[0] == '-')
        return strcmp(sel + 1, name) != 0;
    return strcmp(sel, name) == 0;
}

void test_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("skipped: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    test_skips++;
}

int test_finish(const char *name)
{
    if (test_skips)
        printf("%s: %d passed, %d failed, %d skipped\n", name,
               test_checks - test_failures, test_failures, test_skips);
    else
        printf("%s: %d passed, %d failed\n", name,
               test_checks - test_failures, test_failures);
    if (test_failures)
        return 1;
    const char *sel = getenv("DISTILC_TEST_PART");
    int one_part = sel && *sel && sel[0] != '-';
    if (test_skips && (test_checks == 0 || one_part))
        return TEST_SKIP_STATUS;
    return 0;
}

const char *test_shared_path(const char *sub, char *buf, size_t n)
{
    const char *root = getenv("DISTILC_SHARED");
    if (!root || !*root)
        root = "../shared";
    snprintf(buf, n, "%s/%s", root, sub);
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return buf;
}

const char *test_tmpdir(char *buf, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, n, "%s/distilc-test-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(buf);
}

/* DISTILC_SOURCE_DIR is given by tests/CMakeLists.txt: a test's own path
 * (__FILE__) would tie it to its folder's depth. */
const char *test_source_path(const char *rel, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", DISTILC_SOURCE_DIR, rel);
    return buf;
}

char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0)
        buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}
