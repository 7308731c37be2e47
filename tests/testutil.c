/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int test_failures = 0;
int test_checks = 0;

int test_finish(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, test_checks - test_failures,
           test_failures);
    return test_failures ? 1 : 0;
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
