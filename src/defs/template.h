/*
 * template.h — SQL models' "{{ name }}" variables (template.c).
 */
#ifndef EIDER_DEFS_TEMPLATE_H
#define EIDER_DEFS_TEMPLATE_H

#include "defs.h"

/* The value of variable name, or NULL when none has it (then *near may name the
 * nearest variable there is). */
typedef const char *(*eider__template_lookup)(const char *name, const char **near, void *user_data);

/* Append text to out with each "{{ name }}" replaced by lookup's value; EIDER_EINVAL
 * with the message (its line, the nearest name) in err when a variable is unknown or
 * "{{" starts none. */
int eider__template_render(const char *text, eider__template_lookup lookup, void *user_data,
                           eider__buf *out, eider__buf *err);

#endif
