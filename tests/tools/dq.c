/*
 * dq.c — print the result of one SQL query on a DuckDB database, using DuckDB's C API
 * alone, so that end-to-end tests check Eider's tables independently of Eider.
 *
 *   dq DATABASE SQL      prints rows, columns separated by '|', NULL as "NULL"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <duckdb.h>

int main(int argc, char **argv)
{
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    duckdb_result res;
    duckdb_config config = NULL;
    int rc = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: dq DATABASE SQL\n");
        return 2;
    }
    duckdb_create_config(&config);
    duckdb_set_config(config, "access_mode", "READ_ONLY");
    char *err = NULL;
    if (duckdb_open_ext(argv[1], &db, config, &err) == DuckDBError) {
        fprintf(stderr, "dq: %s\n", err ? err : "cannot open");
        duckdb_free(err);
        goto out;
    }
    duckdb_connect(db, &con);
    /* Every column cast to text, so one reader prints any type. */
    size_t len = strlen(argv[2]) + 64;
    char *sql = malloc(len);
    snprintf(sql, len, "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (%s)", argv[2]);
    int failed = duckdb_query(con, sql, &res) == DuckDBError;
    free(sql);
    if (failed) {
        fprintf(stderr, "dq: %s\n", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        goto out;
    }
    idx_t ncol = duckdb_column_count(&res);
    duckdb_data_chunk chunk;
    while ((chunk = duckdb_fetch_chunk(res)) != NULL) {
        idx_t n = duckdb_data_chunk_get_size(chunk);
        for (idx_t r = 0; r < n; r++) {
            for (idx_t c = 0; c < ncol; c++) {
                duckdb_vector vec = duckdb_data_chunk_get_vector(chunk, c);
                duckdb_string_t *s = duckdb_vector_get_data(vec);
                uint64_t *valid = duckdb_vector_get_validity(vec);
                if (c)
                    putchar('|');
                if (valid && !duckdb_validity_row_is_valid(valid, r))
                    fputs("NULL", stdout);
                else
                    fwrite(duckdb_string_t_data(&s[r]), 1, duckdb_string_t_length(s[r]), stdout);
            }
            putchar('\n');
        }
        duckdb_destroy_data_chunk(&chunk);
    }
    duckdb_destroy_result(&res);
    rc = 0;
out:
    duckdb_disconnect(&con);
    duckdb_close(&db);
    duckdb_destroy_config(&config);
    return rc;
}
