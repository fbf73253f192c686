/*
 * fuzz_model_yaml.c — fuzz target for an SQL model's YAML configuration: the bytes are
 * the text of a model file, read as eider_sql_models() reads one (a header block of
 * YAML, "/" "* eider" ... "*" "/", before its query). Each input must configure the model
 * or fail with a message naming the file and a line; never crash, hang or read out of
 * bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "defs/model_yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    eider__model_yaml y;
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    eider_defs *defs = eider_defs_new();
    int rc = eider__model_yaml_read(defs, "fuzz/model.sql", text, &y);
    if (rc != EIDER_OK && strncmp(eider_defs_errmsg(defs), "fuzz/model.sql:", 15) != 0)
        abort();                     /* an error that names no file and line */
    for (size_t i = 0; rc == EIDER_OK && i < y.n_checks; i++) {
        y.checks[i].asset = "m";
        eider_asset_check(defs, &y.checks[i]);       /* it may refuse, never crash */
    }
    eider__model_yaml_release(&y);
    eider_defs_free(defs);
    free(text);
    return 0;
}
