/*
 * test_redact.c — DuckDB secrets out of SQL text and messages: a table of statements
 * and what is shown of them, the values found, and messages that quote them.
 */
#include <criterion/criterion.h>

#include "duckdb/redact.h"

static const struct {
    const char *sql, *shown;
} cases[] = {
    { "CREATE SECRET s (TYPE s3, KEY_ID 'AKIAXYZ', SECRET 'hush-hush')",
      "CREATE SECRET s (TYPE s3, KEY_ID ***, SECRET ***)" },
    { "create or replace persistent secret s in motherduck (type s3, secret 'a''b')",
      "create or replace persistent secret s in motherduck (type s3, secret ***)" },
    { "CREATE TEMPORARY SECRET IF NOT EXISTS s (TYPE 's3', REGION 'eu', SCOPE ['s3://a', 's3://b'])",
      "CREATE TEMPORARY SECRET IF NOT EXISTS s (TYPE ***, REGION ***, SCOPE ***)" },
    { "CREATE TEMP SECRET (TYPE http, EXTRA_HTTP_HEADERS MAP {'Authorization': 'Bearer x,y'})",
      "CREATE TEMP SECRET (TYPE http, EXTRA_HTTP_HEADERS ***)" },
    { "CREATE SECRET s (TYPE s3 KEY_ID 'k1', SECRET $$dollar; quoted$$)",
      "CREATE SECRET s (TYPE s3 ***, SECRET ***)" },
    { "CREATE SECRET s (TYPE s3, PROVIDER credential_chain, SECRET 42)",
      "CREATE SECRET s (TYPE s3, PROVIDER credential_chain, SECRET ***)" },
    { "SELECT 'CREATE SECRET s (SECRET ''x'')'; -- CREATE SECRET (SECRET 'y')\nSELECT 1",
      "SELECT 'CREATE SECRET s (SECRET ''x'')'; -- CREATE SECRET (SECRET 'y')\nSELECT 1" },
    { "CREATE TABLE t (secret VARCHAR); CREATE SECRET (TYPE s3, SECRET 'z1'); SELECT 'z1'",
      "CREATE TABLE t (secret VARCHAR); CREATE SECRET (TYPE s3, SECRET ***); SELECT 'z1'" },
    { "SET s3_secret_access_key = 'hush-hush'; SET threads = 2",
      "SET s3_secret_access_key = ***; SET threads = 2" },
    { "SET GLOBAL \"http_proxy_password\" TO 'pw'", "SET GLOBAL \"http_proxy_password\" TO ***" },
    { "/* c */ CREATE /* d */ SECRET s (TYPE s3, SECRET 'v')",
      "/* c */ CREATE /* d */ SECRET s (TYPE s3, SECRET ***)" },
    { "CREATE SECRET s (TYPE s3, SECRET 'unterminated",
      "CREATE SECRET s (TYPE s3, SECRET ***" },
    { "ATTACH 'host=h dbname=d password=pw' AS pg (TYPE postgres); ATTACH 'x.duckdb' AS x",
      "ATTACH *** AS pg (TYPE postgres); ATTACH 'x.duckdb' AS x" },
    { "ATTACH IF NOT EXISTS 'postgres://u:pw@h/db' AS pg (TYPE postgres, READ_ONLY)",
      "ATTACH IF NOT EXISTS *** AS pg (TYPE postgres, READ_ONLY)" },
    { "ATTACH 'md:?motherduck_token=abc'", "ATTACH ***" },
    { "ATTACH 's3://bucket/x@2024.duckdb' AS s", "ATTACH 's3://bucket/x@2024.duckdb' AS s" },
    { "PRAGMA s3_secret_access_key = 'hush'; PRAGMA threads = 2",
      "PRAGMA s3_secret_access_key = ***; PRAGMA threads = 2" },
    { "pragma http_proxy_password('pw')", "pragma http_proxy_password(***" },
    { "ATTACH 'host=h user=u passwd=pw database=x' AS m (TYPE mysql)",
      "ATTACH *** AS m (TYPE mysql)" },
    { "ATTACH 'Driver=d;Uid=u;PWD=pw' AS o", "ATTACH *** AS o" },
    { "CREATE SECRET (TYPE s3, SECRET E'a\\', b', KEY_ID 'k'); SELECT 1",
      "CREATE SECRET (TYPE s3, SECRET ***, KEY_ID ***); SELECT 1" },
};

Test(redact, each_statement_shows_as_the_table_says)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        eider__buf out = { 0 };
        eider__sql_redact(cases[i].sql, &out, NULL);
        cr_expect_str_eq(eider__buf_str(&out), cases[i].shown, "%s: got %s", cases[i].sql,
                         eider__buf_str(&out));
        eider__buf_release(&out);
    }
}

Test(redact, values_found_are_what_was_masked)
{
    eider__buf out = { 0 };
    eider__secrets found = { 0 };
    size_t n = eider__sql_redact("CREATE SECRET (TYPE s3, KEY_ID 'AKIA', SECRET 'it''s', "
                                 "SCOPE ['a', 'b'])", &out, &found);
    cr_expect_eq(n, 3);
    cr_assert_geq(found.n, 4);
    cr_expect_str_eq(found.v[0], "AKIA");
    cr_expect_str_eq(found.v[1], "it''s");
    cr_expect_str_eq(found.v[2], "it's", "as DuckDB reads it, which its messages quote");
    eider__secrets_release(&found);
    eider__buf_release(&out);
}

Test(redact, message_quoting_a_value_or_the_statement_is_masked)
{
    eider__buf out = { 0 };
    eider__secrets found = { 0 };
    eider__sql_redact("CREATE SECRET s (TYPE s3 KEY_ID 'AKIA-42', SECRET 'hush-hush')", &out, &found);
    eider__buf_reset(&out);
    eider__secrets_mask(&found, "Parser Error: near 'hush-hush' and AKIA-42\n\nLINE 1: CREATE "
                        "SECRET s (TYPE s3 KEY_ID 'AKIA-42', SECRET 'hush-h\n       ^", &out);
    cr_expect_str_eq(eider__buf_str(&out), "Parser Error: near '***' and ***"
                     " (the statement text DuckDB quoted is left out: it holds a secret)");
    eider__buf_reset(&out);
    eider__secrets_mask(&(eider__secrets){ 0 }, "LINE 1: SELECT 1", &out);
    cr_expect_str_eq(eider__buf_str(&out), "LINE 1: SELECT 1", "no secret: nothing is cut");
    eider__secrets_release(&found);
    eider__buf_release(&out);
}

Test(redact, a_value_with_a_quote_is_masked_as_typed_and_as_read)
{
    eider__buf out = { 0 };
    eider__secrets found = { 0 };
    eider__sql_redact("CREATE SECRET (TYPE http, BEARER_TOKEN 'it''s-hush')", &out, &found);
    eider__buf_reset(&out);
    eider__secrets_mask(&found, "Binder Error: value 'it's-hush' or it''s-hush", &out);
    cr_expect_str_eq(eider__buf_str(&out), "Binder Error: value '***' or ***");
    eider__buf_reset(&out);
    eider__sql_redact("CREATE SECRET (TYPE http, BEARER_TOKEN E'it\\'s\\nhush')", &out, &found);
    cr_expect_str_eq(eider__buf_str(&out), "CREATE SECRET (TYPE http, BEARER_TOKEN ***)");
    eider__buf_reset(&out);
    eider__secrets_mask(&found, "Binder Error: value 'it's\nhush'", &out);
    cr_expect_str_eq(eider__buf_str(&out), "Binder Error: value '***'", "an E'' string as read");
    eider__secrets_release(&found);
    eider__buf_release(&out);
}

Test(redact, short_values_are_masked_in_sql_but_not_looked_for_in_messages)
{
    eider__buf out = { 0 };
    eider__secrets found = { 0 };
    eider__sql_redact("CREATE SECRET (TYPE s3, REGION 'eu')", &out, &found);
    cr_expect_str_eq(eider__buf_str(&out), "CREATE SECRET (TYPE s3, REGION ***)");
    eider__buf_reset(&out);
    eider__secrets_mask(&found, "Invalid Input Error: eu", &out);
    cr_expect_str_eq(eider__buf_str(&out), "Invalid Input Error: eu");
    eider__secrets_release(&found);
    eider__buf_release(&out);
}

Test(redact, setting_names_that_hold_secrets)
{
    cr_expect(eider__setting_is_secret("s3_secret_access_key"));
    cr_expect(eider__setting_is_secret("S3_ACCESS_KEY_ID"));
    cr_expect(eider__setting_is_secret("azure_storage_connection_string"));
    cr_expect(eider__setting_is_secret("http_proxy_password"));
    cr_expect(eider__setting_is_secret("s3_session_token"));
    cr_expect(eider__setting_is_secret("mysql_passwd"));
    cr_expect(eider__setting_is_secret("gcs_credentials"));
    cr_expect_not(eider__setting_is_secret("threads"));
    cr_expect_not(eider__setting_is_secret("memory_limit"));
}
