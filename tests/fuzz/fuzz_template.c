/*
 * fuzz_template.c — fuzz target for the SQL models' template language ("{{ name }}"):
 * the bytes are a model's text, rendered with the variables a and bb known. Each input
 * renders or fails with a message that names a line; a text without "{{" renders to
 * itself; never crash, hang or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "defs/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(const char *name, const char **near, void *user_data)
{
    (void)user_data;
    if (strcmp(name, "a") == 0)
        return "1";
    if (strcmp(name, "bb") == 0)
        return "{{ a }}";            /* a value is text, never rendered again */
    *near = "bb";
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    eider__buf out = { 0 }, err = { 0 };
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int rc = eider__template_render(text, lookup, NULL, &out, &err);
    if (rc != EIDER_OK && strncmp(eider__buf_str(&err), "line ", 5) != 0)
        abort();                     /* an error that names no line */
    if (rc == EIDER_OK && !strstr(text, "{{") && strcmp(eider__buf_str(&out), text) != 0)
        abort();                     /* plain text changed */
    eider__buf_release(&out);
    eider__buf_release(&err);
    free(text);
    return 0;
}
