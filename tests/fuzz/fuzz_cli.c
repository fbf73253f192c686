/*
 * fuzz_cli.c — fuzz target for the command line's option parsing: the bytes, split at
 * each NUL, are the arguments after "eider" (at most 32), given to eider_main() in
 * parse-only mode (cli_set_parse_only), so every command reads its options as always
 * and stops before it would load definitions, open the store or write a file. It must
 * return one of the documented exit codes (or CLI_PARSED); never crash, hang, leak or
 * read out of bounds.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 32

static void once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    cli_set_parse_only(1);
    int null = open("/dev/null", O_WRONLY);    /* help texts and tables: not to be read */
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        close(null);
    }
}

static int known_code(int code)
{
    return (code >= EXIT_OK && code <= EXIT_INTERNAL) || code == EXIT_CANCELED || code == CLI_PARSED;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *argv[MAX_ARGS + 2];
    int argc = 0;
    once();
    if (size)
        memcpy(text, data, size);
    text[size] = '\0';
    argv[argc++] = "eider";
    for (size_t at = 0; at <= size && argc <= MAX_ARGS; at += strlen(text + at) + 1)
        argv[argc++] = text + at;
    argv[argc] = NULL;
    int code = eider_main(NULL, argc, argv);
    fflush(stdout);
    free(text);
    if (!known_code(code))
        abort();
    return 0;
}
