/*
 * test_postgres.c — the PostgreSQL backend through its methods struct: '?' numbering,
 * NULLs both ways, many rows, error messages, transactions, the schema, RETURNING and
 * upserts, reconnection, a connection error that never shows the password, and the
 * redaction of URLs and key=value strings through libpq's parser.
 *
 * The server is the one at $EIDER_TEST_PG_URL (tests/tools/pg_server.sh starts one);
 * without it the tests that need one are skipped. Each test works in a schema of its
 * own, dropped at the end, so tests run in parallel on one database.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>

#include "store/store.h"

static const eider__store_methods *m = &eider__postgres_methods;
static void *conn;
static char schema[64];
static eider__buf err;

/* Rows collected as "a|b|NULL" lines, separated by '\n'. */
typedef struct rows {
    eider__buf text;
    size_t n, stop_after;            /* stop_after 0: never stop */
} rows;

static int collect(void *ud, const char *const *cols, size_t n)
{
    rows *r = ud;
    if (r->n++)
        eider__buf_putc(&r->text, '\n');
    for (size_t i = 0; i < n; i++)
        eider__buf_printf(&r->text, "%s%s", i ? "|" : "", cols[i] ? cols[i] : "NULL");
    return r->stop_after && r->n >= r->stop_after;
}

static int sql(const char *text, const char *const *params, size_t n, rows *r)
{
    eider__buf_reset(&err);
    return m->query(conn, text, params, n, r ? collect : NULL, r, &err);
}

/* The first column of the first row of text, as a string (caller frees), or NULL. */
static char *value(const char *text, const char *const *params, size_t n)
{
    rows r = { 0 };
    cr_assert_eq(sql(text, params, n, &r), EIDER_OK, "%s: %s", text, eider__buf_str(&err));
    if (!r.n) {
        eider__buf_release(&r.text);
        return NULL;
    }
    char *bar = strchr(r.text.data, '|');
    if (bar)
        *bar = '\0';
    char *v = eider__xstrdup(r.text.data);
    eider__buf_release(&r.text);
    return v;
}

static void expect_value(const char *text, const char *const *params, size_t n, const char *want)
{
    char *v = value(text, params, n);
    cr_expect_str_eq(v ? v : "NULL", want, "%s", text);
    free(v);
}

/* Skip without a server; else connect and enter a fresh schema. */
static void setup(void)
{
    const char *url = getenv("EIDER_TEST_PG_URL");
    if (!url || !*url)
        cr_skip_test("EIDER_TEST_PG_URL is not set (start a server with tests/tools/pg_server.sh)");
    cr_assert_eq(eider__postgres_open(url, &conn, &err), EIDER_OK, "%s", eider__buf_str(&err));
    snprintf(schema, sizeof(schema), "eider_test_%ld_%ld", (long)getpid(), (long)eider__now_us());
    eider__buf cmd = { 0 };
    eider__buf_puts(&cmd, "CREATE SCHEMA ");
    eider__buf_sql_ident(&cmd, schema);
    eider__buf_puts(&cmd, "; SET search_path TO ");
    eider__buf_sql_ident(&cmd, schema);
    cr_assert_eq(sql(eider__buf_str(&cmd), NULL, 0, NULL), EIDER_OK, "%s", eider__buf_str(&err));
    eider__buf_release(&cmd);
}

static void teardown(void)
{
    if (conn && schema[0]) {
        eider__buf cmd = { 0 };
        m->rollback(conn);
        eider__buf_puts(&cmd, "DROP SCHEMA ");
        eider__buf_sql_ident(&cmd, schema);
        eider__buf_puts(&cmd, " CASCADE");
        sql(eider__buf_str(&cmd), NULL, 0, NULL);
        eider__buf_release(&cmd);
    }
    m->close(conn);
    conn = NULL;
    eider__buf_release(&err);
}

TestSuite(postgres, .init = setup, .fini = teardown);

/* ---- parameters ---- */

Test(postgres, question_marks_become_numbered_parameters_in_order)
{
    const char *p[] = { "2", "3", "x" };
    rows r = { 0 };
    cr_assert_eq(sql("SELECT ?::int * 10 + ?::int, ?", p, 3, &r), EIDER_OK, "%s", err.data);
    cr_expect_str_eq(eider__buf_str(&r.text), "23|x");
    eider__buf_release(&r.text);
}

Test(postgres, question_mark_inside_quotes_or_a_comment_is_left_alone)
{
    const char *p[] = { "a", "b" };
    rows r = { 0 };
    cr_assert_eq(sql("SELECT '?', 'it''s ?', ? AS \"what?\" -- why?\n, /* ? */ ?", p, 2, &r),
                 EIDER_OK, "%s", eider__buf_str(&err));
    cr_expect_str_eq(eider__buf_str(&r.text), "?|it's ?|a|b");
    eider__buf_release(&r.text);
}

Test(postgres, same_statement_twice_uses_each_calls_params)
{
    const char *p1[] = { "one" }, *p2[] = { "two" };
    expect_value("SELECT upper(?)", p1, 1, "ONE");
    expect_value("SELECT upper(?)", p2, 1, "TWO");
}

Test(postgres, more_statements_than_the_cache_holds_all_run_right)
{
    char text[64], want[16];
    for (int i = 0; i < 40; i++) {
        const char *p[] = { "1" };
        snprintf(text, sizeof(text), "SELECT ?::int + %d", i);
        snprintf(want, sizeof(want), "%d", i + 1);
        expect_value(text, p, 1, want);
    }
}

Test(postgres, wrong_number_of_params_is_an_error_naming_both_counts)
{
    const char *p[] = { "1" };
    cr_expect_eq(sql("SELECT ?, ?", p, 1, NULL), EIDER_EIO);
    cr_expect(strstr(eider__buf_str(&err), "2 parameters but 1"), "%s", eider__buf_str(&err));
}

/* ---- NULLs and rows ---- */

Test(postgres, null_param_is_stored_as_null_and_read_back_as_null)
{
    const char *p[] = { "k", NULL };
    rows r = { 0 };
    cr_assert_eq(sql("CREATE TABLE t (k TEXT, v BIGINT)", NULL, 0, NULL), EIDER_OK);
    cr_assert_eq(sql("INSERT INTO t VALUES (?, ?)", p, 2, NULL), EIDER_OK, "%s", err.data);
    cr_assert_eq(sql("SELECT k, v, v IS NULL FROM t", NULL, 0, &r), EIDER_OK);
    cr_expect_str_eq(eider__buf_str(&r.text), "k|NULL|t");
    eider__buf_release(&r.text);
}

Test(postgres, empty_string_is_not_null)
{
    const char *p[] = { "", "" };
    rows r = { 0 };
    cr_assert_eq(sql("SELECT ?::text, length(?::text)", p, 2, &r), EIDER_OK);
    cr_expect_str_eq(eider__buf_str(&r.text), "|0");
    eider__buf_release(&r.text);
}

Test(postgres, every_row_of_a_large_result_arrives_in_order)
{
    rows r = { 0 };
    cr_assert_eq(sql("SELECT i, 'row ' || i FROM generate_series(1, 20000) i", NULL, 0, &r),
                 EIDER_OK);
    cr_expect_eq(r.n, 20000);
    cr_expect_eq(strncmp(eider__buf_str(&r.text), "1|row 1\n2|row 2\n", 16), 0);
    cr_expect(strstr(eider__buf_str(&r.text), "\n20000|row 20000"));
    eider__buf_release(&r.text);
}

Test(postgres, row_callback_returning_nonzero_stops_the_rows)
{
    rows r = { .stop_after = 3 };
    cr_assert_eq(sql("SELECT generate_series(1, 100)", NULL, 0, &r), EIDER_OK);
    cr_expect_eq(r.n, 3);
    cr_expect_str_eq(eider__buf_str(&r.text), "1\n2\n3");
    eider__buf_release(&r.text);
}

Test(postgres, several_statements_without_params_run_in_one_call)
{
    cr_assert_eq(sql("CREATE TABLE a (x INT); CREATE TABLE b (y INT); INSERT INTO b VALUES (7)",
                     NULL, 0, NULL), EIDER_OK, "%s", eider__buf_str(&err));
    expect_value("SELECT y FROM b", NULL, 0, "7");
}

/* ---- errors ---- */

Test(postgres, sql_error_gives_the_servers_message_on_one_line)
{
    cr_expect_eq(sql("SELECT * FROM no_such_table", NULL, 0, NULL), EIDER_EIO);
    cr_expect_str_eq(eider__buf_str(&err), "relation \"no_such_table\" does not exist");
}

Test(postgres, syntax_error_message_has_no_newline)
{
    cr_expect_eq(sql("SELECT 1 FROMM x WHERE ?", (const char *[]){ "1" }, 1, NULL), EIDER_EIO);
    cr_expect(strstr(eider__buf_str(&err), "syntax error"), "%s", eider__buf_str(&err));
    cr_expect_null(strchr(eider__buf_str(&err), '\n'), "%s", eider__buf_str(&err));
}

Test(postgres, constraint_violation_message_includes_the_detail)
{
    cr_assert_eq(sql("CREATE TABLE u (k TEXT PRIMARY KEY)", NULL, 0, NULL), EIDER_OK);
    cr_assert_eq(sql("INSERT INTO u VALUES (?)", (const char *[]){ "dup" }, 1, NULL), EIDER_OK);
    cr_expect_eq(sql("INSERT INTO u VALUES (?)", (const char *[]){ "dup" }, 1, NULL), EIDER_EIO);
    cr_expect(strstr(eider__buf_str(&err), "duplicate key value violates unique constraint"),
              "%s", eider__buf_str(&err));
    cr_expect(strstr(eider__buf_str(&err), "(k)=(dup)"), "%s", eider__buf_str(&err));
}

Test(postgres, bad_text_for_a_typed_parameter_is_an_error)
{
    cr_assert_eq(sql("CREATE TABLE n (v BIGINT)", NULL, 0, NULL), EIDER_OK);
    cr_expect_eq(sql("INSERT INTO n VALUES (?)", (const char *[]){ "abc" }, 1, NULL), EIDER_EIO);
    cr_expect(strstr(eider__buf_str(&err), "invalid input syntax"), "%s", eider__buf_str(&err));
}

/* ---- transactions ---- */

Test(postgres, rollback_discards_and_commit_keeps)
{
    cr_assert_eq(sql("CREATE TABLE t (v INT)", NULL, 0, NULL), EIDER_OK);
    cr_assert_eq(m->begin(conn, &err), EIDER_OK, "%s", eider__buf_str(&err));
    cr_assert_eq(sql("INSERT INTO t VALUES (1)", NULL, 0, NULL), EIDER_OK);
    m->rollback(conn);
    expect_value("SELECT count(*) FROM t", NULL, 0, "0");
    cr_assert_eq(m->begin(conn, &err), EIDER_OK);
    cr_assert_eq(sql("INSERT INTO t VALUES (?)", (const char *[]){ "2" }, 1, NULL), EIDER_OK);
    cr_assert_eq(m->commit(conn, &err), EIDER_OK, "%s", eider__buf_str(&err));
    expect_value("SELECT sum(v) FROM t", NULL, 0, "2");
}

Test(postgres, commit_after_a_failed_statement_is_an_error_and_keeps_nothing)
{
    cr_assert_eq(sql("CREATE TABLE t (v INT)", NULL, 0, NULL), EIDER_OK);
    cr_assert_eq(m->begin(conn, &err), EIDER_OK);
    cr_assert_eq(sql("INSERT INTO t VALUES (1)", NULL, 0, NULL), EIDER_OK);
    cr_assert_eq(sql("SELECT * FROM no_such_table", NULL, 0, NULL), EIDER_EIO);
    eider__buf_reset(&err);
    cr_expect_eq(m->commit(conn, &err), EIDER_EIO);
    cr_expect(strstr(eider__buf_str(&err), "rolled back"), "%s", eider__buf_str(&err));
    m->rollback(conn);
    expect_value("SELECT count(*) FROM t", NULL, 0, "0");
}

Test(postgres, rollback_outside_a_transaction_is_harmless)
{
    m->rollback(conn);
    expect_value("SELECT 1", NULL, 0, "1");
}

/* ---- the schema ---- */

static void migrate(void)
{
    for (size_t v = 0; m->migrations[v]; v++)
        cr_assert_eq(sql(m->migrations[v], NULL, 0, NULL), EIDER_OK, "migration %zu: %s", v + 1,
                     eider__buf_str(&err));
}

Test(postgres, migrations_apply_to_an_empty_schema)
{
    rows r = { 0 };
    migrate();
    cr_assert_eq(sql("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM "
                     "information_schema.tables WHERE table_schema = current_schema()",
                     NULL, 0, &r), EIDER_OK);
    cr_expect_str_eq(eider__buf_str(&r.text), "asset_state,check_results,dynamic_partitions,"
                     "event_blocks,id_counters,materializations,runs");
    eider__buf_release(&r.text);
    expect_value("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE "
                 "schemaname = current_schema() AND indexname NOT LIKE '%pkey'", NULL, 0,
                 "check_results_by_asset,check_results_by_run,materializations_by_asset,"
                 "runs_by_start,runs_by_status");
}

Test(postgres, microsecond_columns_hold_64_bit_values)
{
    const char *p[] = { "r1", "started", "1767225600123456" };
    migrate();
    cr_assert_eq(sql("INSERT INTO runs (run_id, status, start_us) VALUES (?, ?, ?)", p, 3, NULL),
                 EIDER_OK, "%s", eider__buf_str(&err));
    expect_value("SELECT start_us FROM runs WHERE run_id = ?", p, 1, "1767225600123456");
}

Test(postgres, insert_returning_id_counts_up_from_one)
{
    const char *p[] = { "a", "", "r1", "5" };
    migrate();
    const char *text = "INSERT INTO materializations (asset_key, partition, run_id, time_us) "
                       "VALUES (?, ?, ?, ?) RETURNING id";
    expect_value(text, p, 4, "1");
    expect_value(text, p, 4, "2");
    expect_value("SELECT run_id FROM materializations WHERE id = ?", (const char *[]){ "2" }, 1, "r1");
}

Test(postgres, on_conflict_do_update_replaces_the_row)
{
    const char *text = "INSERT INTO asset_state (asset_key, partition, materialization_id, "
                       "last_run_id, last_failed, last_us) VALUES (?, ?, ?, ?, ?, ?) "
                       "ON CONFLICT (asset_key, partition) DO UPDATE SET "
                       "materialization_id = excluded.materialization_id, "
                       "last_run_id = excluded.last_run_id, last_failed = excluded.last_failed, "
                       "last_us = excluded.last_us";
    const char *first[] = { "a", "", "1", "r1", "0", "100" };
    const char *second[] = { "a", "", NULL, "r2", "1", "200" };
    rows r = { 0 };
    migrate();
    cr_assert_eq(sql(text, first, 6, NULL), EIDER_OK, "%s", eider__buf_str(&err));
    cr_assert_eq(sql(text, second, 6, NULL), EIDER_OK, "%s", eider__buf_str(&err));
    cr_assert_eq(sql("SELECT asset_key, partition, materialization_id, last_run_id, last_failed, "
                     "last_us FROM asset_state", NULL, 0, &r), EIDER_OK);
    cr_expect_str_eq(eider__buf_str(&r.text), "a||NULL|r2|1|200");
    eider__buf_release(&r.text);
}

/* ---- the connection ---- */

/* End conn's server process from a second connection, as a restart would. */
static void kill_backend(void)
{
    void *other = NULL;
    char *pid = value("SELECT pg_backend_pid()", NULL, 0);
    cr_assert_eq(eider__postgres_open(getenv("EIDER_TEST_PG_URL"), &other, &err), EIDER_OK);
    cr_assert_eq(m->query(other, "SELECT pg_terminate_backend(?::int)", (const char *[]){ pid },
                          1, NULL, NULL, &err), EIDER_OK, "%s", eider__buf_str(&err));
    m->close(other);
    free(pid);
}

Test(postgres, lost_connection_outside_a_transaction_is_retried_once)
{
    kill_backend();
    expect_value("SELECT ?::int + 1", (const char *[]){ "41" }, 1, "42");
}

Test(postgres, lost_connection_inside_a_transaction_fails_it_until_rollback)
{
    cr_assert_eq(m->begin(conn, &err), EIDER_OK);
    kill_backend();
    cr_expect_eq(sql("SELECT 1", NULL, 0, NULL), EIDER_EIO);
    cr_expect_eq(sql("SELECT 2", NULL, 0, NULL), EIDER_EIO);
    cr_expect(strstr(eider__buf_str(&err), "lost during the transaction"), "%s", err.data);
    cr_expect_eq(m->commit(conn, &err), EIDER_EIO);
    m->rollback(conn);
    expect_value("SELECT 3", NULL, 0, "3");
}

/* ---- opening: these need no server ---- */

Test(postgres_open, wrong_port_fails_with_a_message_that_hides_the_password)
{
    eider__buf e = { 0 };
    void *c = (void *)1;
    int rc = eider__postgres_open("postgresql://eider:s3cret-pw@127.0.0.1:1/eider_test", &c, &e);
    cr_expect_eq(rc, EIDER_EIO);
    cr_expect_null(c);
    cr_expect_null(strstr(eider__buf_str(&e), "s3cret"), "%s", eider__buf_str(&e));
    cr_expect(strstr(eider__buf_str(&e), "'postgresql://eider@127.0.0.1:1/eider_test'"), "%s",
              eider__buf_str(&e));
    cr_expect(strstr(eider__buf_str(&e), "pg_hba.conf"), "%s", eider__buf_str(&e));
    cr_expect_null(strchr(eider__buf_str(&e), '\n'), "%s", eider__buf_str(&e));
    eider__buf_release(&e);
}

Test(postgres_open, password_parameter_is_left_out_of_the_message)
{
    eider__buf e = { 0 };
    void *c = NULL;
    cr_expect_eq(eider__postgres_open("postgres://eider@127.0.0.1:1/db?password=hunter22&"
                                      "sslmode=disable", &c, &e), EIDER_EIO);
    cr_expect_null(strstr(eider__buf_str(&e), "hunter22"), "%s", eider__buf_str(&e));
    cr_expect(strstr(eider__buf_str(&e), "'postgres://eider@127.0.0.1:1/db?sslmode=disable'"),
              "%s", eider__buf_str(&e));
    eider__buf_release(&e);
}

Test(postgres_open, password_quoted_by_libpq_is_masked)
{
    eider__buf e = { 0 };
    void *c = NULL;
    cr_expect_eq(eider__postgres_open("postgresql://eider:bad%zzpass@127.0.0.1:1/db", &c, &e),
                 EIDER_EIO);
    cr_expect_null(strstr(eider__buf_str(&e), "zzpass"), "%s", eider__buf_str(&e));
    cr_expect(strstr(eider__buf_str(&e), "eider@127.0.0.1:1"), "%s", eider__buf_str(&e));
    eider__buf_release(&e);
}

Test(postgres_open, key_value_string_fails_with_a_message_that_hides_the_password)
{
    eider__buf e = { 0 };
    void *c = NULL;
    cr_expect_eq(eider__postgres_open("host=127.0.0.1 port=1 dbname=db user=u password=hunter22",
                                      &c, &e), EIDER_EIO);
    cr_expect_null(strstr(eider__buf_str(&e), "hunter22"), "%s", eider__buf_str(&e));
    cr_expect(strstr(eider__buf_str(&e), "'host=127.0.0.1 port=1 dbname=db user=u'"), "%s",
              eider__buf_str(&e));
    eider__buf_release(&e);
}

Test(postgres_open, bad_percent_encoding_in_the_query_is_not_quoted)
{
    eider__buf e = { 0 };
    void *c = NULL;
    cr_expect_eq(eider__postgres_open("postgresql://127.0.0.1:1/db?password=%zzhunter22", &c, &e),
                 EIDER_EIO);
    cr_expect_null(strstr(eider__buf_str(&e), "hunter22"), "%s", eider__buf_str(&e));
    cr_expect(strstr(eider__buf_str(&e), "invalid percent-encoded token"), "%s", eider__buf_str(&e));
    eider__buf_release(&e);
}

/* ---- redaction: through libpq's own parser, so every spelling of a key counts ---- */

static void expect_redacted(const char *conninfo, const char *want)
{
    char *got = eider__postgres_redact(conninfo);
    cr_expect_str_eq(got, want, "%s: got %s", conninfo, got);
    free(got);
}

Test(postgres_redact, percent_encoded_password_key_is_a_password)
{
    expect_redacted("postgresql://alice@host/db?pass%77ord=secret", "postgresql://alice@host/db");
}

Test(postgres_redact, url_keeps_host_port_db_user_and_settings_but_not_the_password)
{
    expect_redacted("postgres://alice:pw@h:5433/db?sslmode=disable&password=x&application_name=a b",
                    "postgres://alice@h:5433/db?application_name=a%20b&sslmode=disable");
}

Test(postgres_redact, key_value_string_stays_pairs_without_the_password)
{
    expect_redacted("password=secret dbname=d user=u host=h port=5 sslmode=require",
                    "host=h port=5 dbname=d user=u sslmode=require");
    expect_redacted("host=h password='se cret' user='o\\'k'", "host=h user='o\\'k'");
}

Test(postgres_redact, socket_folders_and_several_hosts_go_in_the_query)
{
    expect_redacted("postgresql:///db?host=/run/pg&password=x", "postgresql:///db?host=/run/pg");
    expect_redacted("postgresql://[::1]:5432,h2:7/db", "postgresql:///db?host=::1,h2&port=5432,7");
    expect_redacted("postgresql://[::1]:5432/db", "postgresql://[::1]:5432/db");
}

Test(postgres_redact, a_dbname_that_is_a_connection_string_is_redacted_too)
{
    expect_redacted("dbname=postgresql://u:pw@h/db", "dbname=postgresql://u@h/db");
}

Test(postgres_redact, what_libpq_cannot_parse_is_masked)
{
    expect_redacted("postgresql://u:bad%zzpw@h/db", "postgresql://u@h/db");
    expect_redacted("postgresql://h/db?password=%zzpw", "postgresql://h/db?***");
    expect_redacted("mysql://u:pw@h/db?k=v", "mysql://u@h/db?***");
    expect_redacted("host=h pasword='p w' x=y", "host=*** pasword=*** x=***");
    expect_redacted("postgres:/typo", "postgres:/typo");
}

Test(postgres_accepts, urls_and_key_value_strings_libpq_parses)
{
    eider__buf why = { 0 };
    cr_expect(eider__postgres_accepts("postgresql://h/db", NULL));
    cr_expect_not(eider__postgres_accepts("postgres://u:bad%zz@h/db", &why),
                  "a URL libpq refuses is refused before connecting");
    cr_expect(strstr(eider__buf_str(&why), "percent-encoded"), "%s", eider__buf_str(&why));
    cr_expect_null(strstr(eider__buf_str(&why), "bad"), "%s", eider__buf_str(&why));
    eider__buf_reset(&why);
    cr_expect_not(eider__postgres_accepts("postgresql://h/db?pasword=hunter22", &why));
    cr_expect(strstr(eider__buf_str(&why), "\"pasword\""), "the parameter is named: %s",
              eider__buf_str(&why));
    cr_expect_null(strstr(eider__buf_str(&why), "hunter22"), "%s", eider__buf_str(&why));
    eider__buf_reset(&why);
    cr_expect(eider__postgres_accepts("host=h dbname=d password=p", NULL));
    cr_expect_not(eider__postgres_accepts("mysql://x", NULL));
    cr_expect_not(eider__postgres_accepts("postgres:/typo", NULL));
    cr_expect_not(eider__postgres_accepts("/var/lib/eider", NULL));
    cr_expect_not(eider__postgres_accepts("host=h pasword=hunter22", &why));
    cr_expect(strstr(eider__buf_str(&why), "\"pasword\""), "%s", eider__buf_str(&why));
    eider__buf_reset(&why);
    cr_expect_not(eider__postgres_accepts("host=h password=hunter22 junk", &why));
    cr_expect_null(strstr(eider__buf_str(&why), "junk"), "%s", eider__buf_str(&why));
    cr_expect(strstr(eider__buf_str(&why), "missing \"=\""), "%s", eider__buf_str(&why));
    eider__buf_release(&why);
}

Test(postgres_open, close_of_null_is_a_no_op)
{
    m->close(NULL);
}
