/*
 * tmpdir.h — for unit tests that touch files: a fresh temporary folder, made the
 * working directory and removed when the test's process exits (each Criterion test is
 * its own process, so nothing leaks between tests).
 */
#ifndef EIDER_TEST_TMPDIR_H
#define EIDER_TEST_TMPDIR_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char test_tmpdir[256];

static int test_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void test_remove_tmpdir(void)
{
    nftw(test_tmpdir, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make /tmp/eider-test-<tag>-XXXXXX, enter it, and remove it at exit. */
static inline const char *enter_tmpdir_tagged(const char *tag)
{
    snprintf(test_tmpdir, sizeof(test_tmpdir), "/tmp/eider-test-%s-XXXXXX", tag);
    cr_assert_not_null(mkdtemp(test_tmpdir));
    cr_assert_eq(chdir(test_tmpdir), 0);
    atexit(test_remove_tmpdir);
    return test_tmpdir;
}

#endif
