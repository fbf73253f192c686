/*
 * lineage.h — column-level lineage of SQL models (lineage.c).
 */
#ifndef EIDER_DEFS_LINEAGE_H
#define EIDER_DEFS_LINEAGE_H

#include <jansson.h>

#include "defs.h"

/* Add model's output columns and what each reads, from statement (DuckDB's JSON of
 * the model's query: json_serialize_sql). */
void eider__lineage_add(eider_defs *defs, const char *model, json_t *statement);

#endif
