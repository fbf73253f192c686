#!/usr/bin/env bash
# test_secrets.sh — secrets and files: PostgreSQL passwords never shown, whatever the
# spelling; EIDER_STORAGE takes only the forms it names; DuckDB secrets in failing SQL
# never printed nor stored; the store private to its owner; key parts that would leave
# the Parquet I/O manager's base_path refused; Parquet files synced before and after
# their rename (seen with strace).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SECRET=s3cr3t-Pa55

# One asset "one" through the Parquet I/O manager into pq/, under key KEY (default one).
write_parquet_defs() {
    cat >definitions.c <<EOF
#include <eider.h>
static int f(eider_context *ctx) { return eider_output_sql(ctx, "SELECT 42 AS answer"); }
void eider_definitions(eider_defs *defs)
{
    eider_parquet_io_manager(defs, NULL, &(eider_parquet_io_config){ .base_path = "pq" });
    eider_asset(defs, &(eider_asset_def){ .key = "${1:-one}", .compute = f });
}
EOF
}

# expect_secret_nowhere FILE...: the secret is in none of them (bytes, not lines).
expect_secret_nowhere() {
    local f
    for f in "$@"; do
        if [[ -e "$f" ]] && grep -aqF -- "$SECRET" "$f"; then
            fail "the secret appears in $f"
        fi
    done
}

# ---- EIDER_STORAGE ----

storage_refuses_what_it_does_not_know_and_makes_nothing() {
    local value
    write_parquet_defs
    "$EIDER" list -f definitions.c >/dev/null     # the compile cache, made once
    ls -A | grep -v -e '^out.txt$' -e '^err.txt$' >"$WORK/before.txt" || true
    for value in "mysql://alice:$SECRET@db/x" "postgres:/typo" "http://example.com/x" \
                 "host=db pasword=$SECRET" "sqlite:" "data=dir"; do
        run env EIDER_STORAGE="$value" "$EIDER" materialize -f definitions.c
        expect_rc 2
        expect_in err.txt "EIDER_STORAGE '"
        expect_in err.txt "sqlite:PATH"
        expect_in err.txt "postgresql://"
        expect_in err.txt "key=value"
        expect_secret_nowhere out.txt err.txt
        ls -A | grep -v -e '^out.txt$' -e '^err.txt$' >"$WORK/after.txt" || true
        diff "$WORK/before.txt" "$WORK/after.txt" >/dev/null ||
            fail "EIDER_STORAGE='$value' made files: $(diff "$WORK/before.txt" "$WORK/after.txt" | tr '\n' ' ')"
        [[ ! -e pq ]] || fail "EIDER_STORAGE='$value' still ran the asset"
    done
    run env EIDER_STORAGE="mysql://alice:$SECRET@db/x" "$EIDER" runs -f definitions.c
    expect_rc 2
    expect_in err.txt "EIDER_STORAGE 'mysql://alice@db/x'"
    expect_secret_nowhere out.txt err.txt
    run env EIDER_STORAGE="host=db pasword=$SECRET" "$EIDER" list -f definitions.c
    expect_rc 2
    expect_in err.txt 'invalid connection option "pasword"'
    expect_secret_nowhere out.txt err.txt
}

storage_takes_sqlite_prefix_and_plain_paths() {
    write_parquet_defs
    run env EIDER_STORAGE=sqlite:kept "$EIDER" materialize -f definitions.c
    expect_rc 0
    [[ -f kept/eider.sqlite3 ]] || fail "sqlite:kept made no kept/eider.sqlite3"
    run env EIDER_STORAGE="$PWD/abs store" "$EIDER" materialize -f definitions.c
    expect_rc 0
    [[ -f "abs store/eider.sqlite3" ]] || fail "an absolute path made no store"
    run env EIDER_STORAGE=./rel=dir "$EIDER" runs -f definitions.c
    expect_rc 0
    expect_in out.txt "no runs yet"
    run env EIDER_STORAGE=sqlite:kept "$EIDER" runs -f definitions.c
    expect_rc 0
    expect_in out.txt "success"
}

# Connections that fail (nothing listens on port 1): the message names the store as
# libpq reads it, without the password however it is spelt, on every command.
postgres_password_is_never_shown_however_spelt() {
    local value cmd
    write_parquet_defs
    for value in "postgresql://alice@127.0.0.1:1/db?pass%77ord=$SECRET" \
                 "postgres://alice:$SECRET@127.0.0.1:1/db?sslmode=disable" \
                 "postgresql://127.0.0.1:1/db?user=alice&password=$SECRET" \
                 "host=127.0.0.1 port=1 dbname=db user=alice password=$SECRET" \
                 "host=127.0.0.1 port=1 dbname=db user=alice password='$SECRET x'" \
                 "postgresql://alice:bad%zz$SECRET@127.0.0.1:1/db" \
                 "postgresql://127.0.0.1:1/db?password=%zz$SECRET"; do
        for cmd in materialize runs list; do
            run env EIDER_STORAGE="$value" "$EIDER" $cmd -f definitions.c
            [[ $RC != 0 ]] || fail "$cmd with an unreachable store '$value' exited 0"
            expect_in err.txt "127.0.0.1"
            expect_secret_nowhere out.txt err.txt
        done
        run env EIDER_STORAGE="$value" "$EIDER" materialize -f definitions.c --json
        expect_secret_nowhere out.txt err.txt
    done
    run env EIDER_STORAGE="postgresql://alice@127.0.0.1:1/db?pass%77ord=$SECRET" \
        "$EIDER" materialize -f definitions.c
    expect_in err.txt "'postgresql://alice@127.0.0.1:1/db'"
    run env EIDER_STORAGE="host=127.0.0.1 port=1 dbname=db user=alice password=$SECRET" \
        "$EIDER" materialize -f definitions.c
    expect_in err.txt "'host=127.0.0.1 port=1 dbname=db user=alice'"
}

# With the test PostgreSQL server (trust authentication: any password is let in), a
# run recorded through each spelling keeps the password out of output and store.
postgres_password_is_not_in_a_live_store() {
    local url_file="$BUILD/pg-server/url" base host port value
    if [[ ! -s "$url_file" ]]; then
        echo "    (skipped: no test PostgreSQL server at $url_file)"
        return 0
    fi
    base=$(cat "$url_file")
    host=$(python3 -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).hostname)' "$base")
    port=$(python3 -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).port)' "$base")
    write_parquet_defs
    for value in "postgresql://eider@$host:$port/eider_test?pass%77ord=$SECRET" \
                 "host=$host port=$port dbname=eider_test user=eider password=$SECRET"; do
        run env EIDER_STORAGE="$value" "$EIDER" materialize -f definitions.c --json
        expect_rc 0
        expect_secret_nowhere out.txt err.txt
        for cmd in runs list; do
            run env EIDER_STORAGE="$value" "$EIDER" $cmd -f definitions.c --json
            expect_rc 0
            expect_secret_nowhere out.txt err.txt
        done
        run env EIDER_STORAGE="$value" "$EIDER" run show no-such-run -f definitions.c
        expect_in err.txt "no run 'no-such-run' in the instance store"
        expect_secret_nowhere out.txt err.txt
        run env EIDER_STORAGE="$value" "$EIDER" gc --keep-days 1000 -f definitions.c
        expect_rc 0
        expect_in out.txt "eider_test"
        expect_secret_nowhere out.txt err.txt
    done
    pg_dump -d "$base" >dump.sql 2>err.txt || fail "pg_dump failed"
    expect_in dump.sql "event_blocks"
    expect_secret_nowhere dump.sql
}

# ---- DuckDB secrets in failing SQL ----

# Assets whose SQL holds the secret and fails: a CREATE SECRET DuckDB cannot parse
# (its message quotes the line), one it refuses, one that succeeds followed by one
# that fails and then a failing statement, and a resource whose secret setting DuckDB
# refuses; and one that sets a secret setting with eider_sql, then logs a DuckDB
# message that quotes its value (masked in the log line as in a failure's message).
write_secret_sql_defs() {
    cat >definitions.c <<EOF
#include <eider.h>
static int sql(eider_context *ctx, const char *text)
{
    return eider_sql(ctx, eider_duckdb_connection(ctx, "duckdb"), text);
}
static int typo(eider_context *ctx)
{
    return sql(ctx, "CREATE SECRET s1 (TYPE http BEARER_TOKEN '$SECRET')");
}
static int refused(eider_context *ctx)
{
    return sql(ctx, "CREATE OR REPLACE TEMPORARY SECRET s2 (TYPE http, BOGUS '$SECRET',"
                    " BEARER_TOKEN '$SECRET')");
}
static int twice(eider_context *ctx)
{
    int rc = sql(ctx, "CREATE SECRET s3 (TYPE http, BEARER_TOKEN '$SECRET');\n"
                      "CREATE SECRET s3 (TYPE http, BEARER_TOKEN '$SECRET')");
    sql(ctx, "SELECT * FROM no_such_table");
    return rc;
}
static int logged(eider_context *ctx)
{
    duckdb_connection con = eider_duckdb_connection(ctx, "duckdb");
    duckdb_result res;
    if (sql(ctx, "SET GLOBAL http_proxy_password = '$SECRET'"))
        return 1;
    if (duckdb_query(con, "SELECT error(current_setting('http_proxy_password'))", &res) == DuckDBError)
        eider_log_warn(ctx, "checked the proxy: %s", duckdb_result_error(&res));
    duckdb_destroy_result(&res);
    return 0;
}
static int vault(eider_context *ctx)
{
    return eider_duckdb_connection(ctx, "vault") ? 0 : 1;
}
void eider_definitions(eider_defs *defs)
{
    eider_duckdb_resource(defs, "duckdb", &(eider_duckdb_config){ .database = "w.duckdb" });
    eider_duckdb_resource(defs, "vault", &(eider_duckdb_config){ .database = "v.duckdb",
        .secret_config = EIDER_TAGS("memory_limit", "$SECRET") });
    eider_asset(defs, &(eider_asset_def){ .key = "typo", .compute = typo,
        .resources = EIDER_KEYS("duckdb") });
    eider_asset(defs, &(eider_asset_def){ .key = "refused", .compute = refused,
        .resources = EIDER_KEYS("duckdb") });
    eider_asset(defs, &(eider_asset_def){ .key = "twice", .compute = twice,
        .resources = EIDER_KEYS("duckdb") });
    eider_asset(defs, &(eider_asset_def){ .key = "logged", .compute = logged,
        .resources = EIDER_KEYS("duckdb") });
    eider_asset(defs, &(eider_asset_def){ .key = "vault", .compute = vault,
        .resources = EIDER_KEYS("vault") });
}
EOF
}

duckdb_secrets_of_failing_sql_are_shown_and_stored_nowhere() {
    local id
    write_secret_sql_defs
    run "$EIDER" materialize -v
    expect_rc 1
    expect_in out.txt "4 failed"
    expect_in out.txt "BEARER_TOKEN ***"
    expect_in out.txt "left out: it holds a secret"
    expect_in out.txt "'memory_limit' = '***' (in secret_config)"
    expect_in out.txt "checked the proxy: Invalid Input Error: ***"
    expect_secret_nowhere out.txt err.txt
    run "$EIDER" materialize --json
    expect_rc 1
    expect_in out.txt 'CREATE SECRET s3 (TYPE http, BEARER_TOKEN ***)'
    expect_secret_nowhere out.txt err.txt
    id=$("$EIDER" runs --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["run_id"])')
    for cmd in "runs" "runs --json" "run show $id" "run show $id --json" "logs $id" \
               "logs $id --json" "list" "list --json" "asset show typo" "asset show twice" \
               "asset show logged"; do
        # shellcheck disable=SC2086
        run "$EIDER" $cmd
        expect_secret_nowhere out.txt err.txt
    done
    run "$EIDER" run show "$id"
    expect_in out.txt "BEARER_TOKEN ***"
    expect_secret_nowhere .eider/eider.sqlite3 .eider/eider.sqlite3-wal
    [[ -s .eider/eider.sqlite3 ]] || fail "no store was written"
}

# ---- files ----

# Another user may not read a private store, and is told so — never "no runs yet".
another_user_is_told_the_store_is_private() {
    if [[ $(id -u) != 0 ]] || ! command -v setpriv >/dev/null; then
        return 0    # needs root to become another user
    fi
    let_others_run_eider
    chmod 711 "$WORK"
    chmod 755 .
    write_parquet_defs
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    run setpriv --reuid=65534 --regid=65534 --clear-groups "$EIDER" runs
    expect_rc 5
    expect_in err.txt "cannot reach the instance store '$PWD/.eider/eider.sqlite3'"
    expect_in err.txt "private"
    expect_not_in out.txt "no runs yet"
}

# An asset that waits for the file "go" (at most 30 s), so that the run's store can be
# looked at while it is open.
write_waiting_defs() {
    cat >definitions.c <<'EOF'
#include <unistd.h>
#include <eider.h>
static int f(eider_context *ctx)
{
    for (int i = 0; i < 3000 && access("go", F_OK) != 0; i++)
        usleep(10000);
    return eider_output_sql(ctx, "SELECT 42 AS answer");
}
void eider_definitions(eider_defs *defs)
{
    eider_parquet_io_manager(defs, NULL, &(eider_parquet_io_config){ .base_path = "pq" });
    eider_asset(defs, &(eider_asset_def){ .key = "one", .compute = f });
}
EOF
}

# expect_mode MODE PATH...: each exists with exactly these permission bits.
expect_mode() {
    local want=$1 path
    shift
    for path in "$@"; do
        [[ -e "$path" ]] || fail "$path is missing"
        [[ "$(stat -c %a "$path")" == "$want" ]] || fail "$path has mode $(stat -c %a "$path"), not $want"
    done
}

# The store, its -wal and -shm while a run has them open, and the compile cache are
# their owner's alone, whatever the umask.
store_and_cache_are_private_under_umask() {
    local mask f
    for mask in 022 077 002; do
        mkdir "u$mask" && cd "u$mask"
        write_waiting_defs
        (umask "$mask" && exec "$EIDER" materialize -f definitions.c >out.txt 2>err.txt) &
        local pid=$!
        for _ in $(seq 300); do
            [[ -e .eider/eider.sqlite3-wal ]] && break
            sleep 0.1
        done
        expect_mode 700 .eider .eider/cache
        expect_mode 600 .eider/eider.sqlite3 .eider/eider.sqlite3-wal .eider/eider.sqlite3-shm
        for f in .eider/cache/*; do
            expect_mode 600 "$f"
        done
        touch go
        wait "$pid" || fail "the run under umask $mask failed: $(cat err.txt)"
        (umask "$mask" && exec env EIDER_STORAGE=sqlite:deep/er/store "$EIDER" materialize \
            -f definitions.c >out.txt 2>err.txt) || fail "the run into deep/er/store failed"
        expect_mode 700 deep deep/er deep/er/store
        expect_mode 600 deep/er/store/eider.sqlite3
        cd ..
    done
}

key_parts_that_leave_base_path_are_refused() {
    local key
    for key in "../../../escaped" "a/../../escaped" "./one" "a/."; do
        write_parquet_defs "$key"
        run "$EIDER" materialize -f definitions.c
        expect_rc 3
        expect_in err.txt "asset '$key'"
        expect_in err.txt "key part '"
        [[ ! -e pq ]] || fail "key '$key' wrote under pq"
    done
    expect_in err.txt "key part '.'"
    [[ -z "$(find "$WORK" -name 'escaped*' -print -quit)" ]] || fail "a file escaped base_path"
    write_parquet_defs "a/..b/c.d"          # dots inside a part are a name like any other
    run "$EIDER" materialize -f definitions.c
    expect_rc 0
    [[ -f "pq/a/..b/c.d.parquet" ]] || fail "no pq/a/..b/c.d.parquet"
}

parquet_file_is_synced_before_its_rename_and_its_folder_after() {
    command -v strace >/dev/null || fail "strace is missing (scripts/setup.sh --test installs it)"
    write_parquet_defs
    "$EIDER" list -f definitions.c >/dev/null     # compile first: the trace is the run's
    # LeakSanitizer cannot work under ptrace: an ASan build runs without it here.
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        strace -f -y -qq -e trace=fsync,fdatasync,rename,renameat,renameat2 -o trace.txt \
        "$EIDER" materialize -f definitions.c >out.txt 2>err.txt || fail "the run failed"
    [[ -f pq/one.parquet ]] || fail "no pq/one.parquet"
    python3 - "$PWD/pq" trace.txt <<'EOF' || fail "the order of fsync and rename is wrong: $(grep -e 'pq' trace.txt | head)"
import re, sys
folder, lines = sys.argv[1], open(sys.argv[2]).read().splitlines()
def first(pattern):
    for i, line in enumerate(lines):
        if re.search(pattern, line):
            return i
    return None
synced = first(r'f(data)?sync\(\d+<' + re.escape(folder) + r'/one\.parquet\.tmp-\d+>')
renamed = first(r'rename(at2?)?\(.*one\.parquet\.tmp-\d+".*one\.parquet"')
folder_synced = first(r'f(data)?sync\(\d+<' + re.escape(folder) + r'>\)')
sys.exit(0 if None not in (synced, renamed, folder_synced) and synced < renamed < folder_synced else 1)
EOF
}

run_case storage_refuses_what_it_does_not_know_and_makes_nothing
run_case storage_takes_sqlite_prefix_and_plain_paths
run_case postgres_password_is_never_shown_however_spelt
run_case postgres_password_is_not_in_a_live_store
run_case duckdb_secrets_of_failing_sql_are_shown_and_stored_nowhere
run_case store_and_cache_are_private_under_umask
run_case another_user_is_told_the_store_is_private
run_case key_parts_that_leave_base_path_are_refused
run_case parquet_file_is_synced_before_its_rename_and_its_folder_after
finish
