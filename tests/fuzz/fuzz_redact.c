/*
 * fuzz_redact.c — fuzz target for the two redactors: any bytes, taken as SQL, go
 * through the DuckDB secret redactor and the message masker; taken as EIDER_STORAGE,
 * through libpq's parser to the shown form. Never crash, hang or read out of bounds;
 * and a secret put in a CREATE SECRET statement or a password= setting never comes out.
 */
#include <stdint.h>

#include "duckdb/redact.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input up to its first NUL, and a copy of it kept to [A-Za-z0-9] (may be empty). */
static void texts(const uint8_t *data, size_t size, char **text, char **word)
{
    size_t n = 0;
    *text = eider__xmalloc(size + 1);
    *word = eider__xmalloc(size + 1);
    memcpy(*text, data, size);
    (*text)[size] = '\0';
    for (size_t i = 0; i < size; i++)
        if ((data[i] >= 'a' && data[i] <= 'z') || (data[i] >= 'A' && data[i] <= 'Z') ||
            (data[i] >= '0' && data[i] <= '9'))
            (*word)[n++] = (char)data[i];
    (*word)[n] = '\0';
}

static void check_sql(const char *text, const char *word)
{
    eider__buf out = { 0 }, msg = { 0 }, sql = { 0 };
    eider__secrets found = { 0 };
    eider__sql_redact(text, &out, &found);
    eider__secrets_mask(&found, text, &msg);
    eider__buf_reset(&out);
    eider__buf_printf(&sql, "CREATE SECRET s (TYPE s3, SECRET 'Z%s')", word);
    eider__sql_redact(eider__buf_str(&sql), &out, NULL);
    if (strstr(eider__buf_str(&out), "Z") && strchr(word, 'Z') == NULL)
        abort();                     /* the value "Z..." came out */
    eider__secrets_release(&found);
    eider__buf_release(&out);
    eider__buf_release(&msg);
    eider__buf_release(&sql);
}

static void check_storage(const char *text, const char *word)
{
    eider__buf why = { 0 }, kv = { 0 };
    char *shown = eider__postgres_redact(text);
    eider__postgres_accepts(text, &why);
    free(shown);
    eider__buf_printf(&kv, "host=h password=Q%s dbname=d", word);
    shown = eider__postgres_redact(eider__buf_str(&kv));
    if (strchr(shown, 'Q'))
        abort();                     /* the password "Q..." came out */
    free(shown);
    eider__buf_release(&why);
    eider__buf_release(&kv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = NULL, *word = NULL;
    texts(data, size, &text, &word);
    check_sql(text, word);
    check_storage(text, word);
    free(text);
    free(word);
    return 0;
}
