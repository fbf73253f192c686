/*
 * model_yaml.h — an SQL model's configuration in YAML (model_yaml.c), as the fields of
 * its eider_asset_def and its eider_check_defs, their strings in the parsed document.
 */
#ifndef EIDER_DEFS_MODEL_YAML_H
#define EIDER_DEFS_MODEL_YAML_H

#include <yaml.h>

#include "defs.h"

typedef struct eider__model_yaml {
    yaml_document_t doc;
    int loaded;
    const char *description, *group, *code_version;
    const char *const *tags, *const *owners, *const *kinds;   /* NULL when not given */
    const char *const *vars;         /* its template variables, name/value pairs, or NULL */
    eider_meta *meta;                /* terminated by a NULL key (or NULL) */
    size_t n_meta, cap_meta;
    eider_check_def *checks;         /* .asset left to the caller */
    size_t n_checks, cap_checks;
    void **owned;                    /* what to free with it */
    size_t n_owned, cap_owned;
} eider__model_yaml;

/* Read the configuration of the model at sql_path (text sql): its header block, else
 * the .yaml file beside it, else nothing (all fields empty). EIDER_OK, or an error
 * (the message, with file and line, in defs). Release *y in both cases. */
int eider__model_yaml_read(eider_defs *defs, const char *sql_path, const char *sql,
                           eider__model_yaml *y);
void eider__model_yaml_release(eider__model_yaml *y);

#endif
