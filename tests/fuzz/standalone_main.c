/*
 * standalone_main.c — runs a fuzz target without libFuzzer: calls
 * LLVMFuzzerTestOneInput once for each file of the corpus directories (or files)
 * named on the command line, so that ctest exercises every harness on its seeds.
 * A libFuzzer build brings its own main(): define EIDER_LIBFUZZER to leave this out.
 */
#ifndef EIDER_LIBFUZZER
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run the target on one file. Returns 0, or -1 if it cannot be read. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    eider__buf data = { 0 };
    char chunk[4096];
    size_t n;
    if (!f) {
        fprintf(stderr, "fuzz: cannot open '%s'\n", path);
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        eider__buf_add(&data, chunk, n);
    fclose(f);
    LLVMFuzzerTestOneInput((const uint8_t *)data.data, data.len);
    eider__buf_release(&data);
    return 0;
}

/* Run the target on every regular file of dir (not recursing). Returns the count run,
 * or -1. */
static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    eider__buf path = { 0 };
    int count = 0;
    if (!d) {
        fprintf(stderr, "fuzz: cannot open corpus '%s'\n", dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        eider__buf_reset(&path);
        eider__buf_printf(&path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] == '.' || stat(eider__buf_str(&path), &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (run_file(eider__buf_str(&path)) == 0)
            count++;
    }
    closedir(d);
    eider__buf_release(&path);
    return count;
}

int main(int argc, char **argv)
{
    int total = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int n = stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode) ? run_dir(argv[i])
                                                                : run_file(argv[i]) == 0 ? 1 : -1;
        if (n < 0)
            return 1;
        total += n;
    }
    printf("fuzz: ran %d inputs\n", total);
    return 0;
}
#endif
