/*
 * redact.h — DuckDB secrets kept out of what Eider prints and stores: the option values
 * of CREATE SECRET statements and the values of SET statements of secret settings,
 * found in SQL text, and those values (with the values of settings marked secret)
 * wherever a message quotes them.
 */
#ifndef EIDER_REDACT_H
#define EIDER_REDACT_H

#include "../util/util.h"

/* Secret values found or declared, each malloc'd. A zeroed one is empty and ready. */
typedef struct eider__secrets {
    char **v;
    size_t n, cap;
} eider__secrets;

void eider__secrets_add(eider__secrets *s, const char *value, size_t n);
void eider__secrets_release(eider__secrets *s);

/* Append sql to out with the option values of each CREATE [OR REPLACE] [PERSISTENT |
 * TEMPORARY] SECRET statement replaced by *** (but for TYPE and PROVIDER given as a
 * bare name), the value of each SET or PRAGMA of a secret setting
 * (eider__setting_is_secret), and each string of an ATTACH that holds credentials
 * ("password", "passwd", "pwd", "token", "secret", "credential", a key or "auth" in it,
 * or a URL's "user:password@") too. Quotes, comments and several statements are read
 * as DuckDB reads them. Each value replaced is added to found (when not NULL and not
 * there already), a quoted one both as typed and as DuckDB reads it (a doubled quote
 * single). Returns how many were replaced. */
size_t eider__sql_redact(const char *sql, eider__buf *out, eider__secrets *found);

/* Append msg to out with each value of s in it replaced by ***; values shorter than 3
 * characters are not looked for (they would mask ordinary words). When s holds any,
 * the statement text DuckDB quotes at the end of a message ("LINE 1: ...", which may
 * cut a value short) is left out too. */
void eider__secrets_mask(const eider__secrets *s, const char *msg, eider__buf *out);

/* Whether a DuckDB setting's name says it holds a secret: it contains "secret",
 * "password", "passwd", "token", "key_id", "access_key", "api_key", "connection_string"
 * or "credential", in
 * any case (s3_secret_access_key, azure_storage_connection_string, ...). */
int eider__setting_is_secret(const char *name);

#endif
