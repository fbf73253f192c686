/*
 * template.c — the small template language of SQL models: "{{ name }}" is the value of
 * variable name (letters, digits and '_', not starting with a digit; spaces inside the
 * braces optional); everything else is the text as it is. A variable no one gave, or
 * "{{" that does not make "{{ name }}", is an error naming the line, with the nearest
 * name. No expressions, filters or loops: what SQL can say, SQL says.
 */
#include <ctype.h>

#include "template.h"

/* The name of "{{ name }}" at p ("{{" there), its length in *len, and the length of
 * the whole placeholder in *span; NULL when p does not start one. */
static const char *placeholder(const char *p, size_t *len, size_t *span)
{
    const char *q = p + 2, *name;
    while (*q == ' ' || *q == '\t')
        q++;
    name = q;
    if (!isalpha((unsigned char)*q) && *q != '_')
        return NULL;
    while (isalnum((unsigned char)*q) || *q == '_')
        q++;
    *len = (size_t)(q - name);
    while (*q == ' ' || *q == '\t')
        q++;
    if (q[0] != '}' || q[1] != '}')
        return NULL;
    *span = (size_t)(q + 2 - p);
    return name;
}

static size_t line_at(const char *text, const char *at)
{
    size_t line = 1;
    for (const char *p = text; p < at; p++)
        line += *p == '\n';
    return line;
}

int eider__template_render(const char *text, eider__template_lookup lookup, void *user_data,
                           eider__buf *out, eider__buf *err)
{
    for (const char *p = text; *p;) {
        const char *open = strstr(p, "{{");
        if (!open) {
            eider__buf_puts(out, p);
            break;
        }
        eider__buf_add(out, p, (size_t)(open - p));
        size_t len = 0, span = 0;
        const char *name = placeholder(open, &len, &span);
        if (!name) {
            eider__buf_printf(err, "line %zu: '{{' starts no variable: write {{ name }}, a name "
                              "of letters, digits and '_'", line_at(text, open));
            return EIDER_EINVAL;
        }
        char key[128];
        const char *near = NULL;
        snprintf(key, sizeof(key), "%.*s", (int)(len < sizeof(key) ? len : sizeof(key) - 1), name);
        const char *value = lookup(key, &near, user_data);
        if (!value) {
            eider__buf_printf(err, "line %zu: unknown variable '%s'%s%s%s", line_at(text, open), key,
                near ? " (did you mean '" : ": give it in eider.yaml's vars, the model's vars, or "
                "--var ", near ? near : key, near ? "'?)" : "=VALUE");
            return EIDER_EINVAL;
        }
        eider__buf_puts(out, value);
        p = open + span;
    }
    return EIDER_OK;
}
