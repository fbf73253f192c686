#!/usr/bin/env bash
# with_pg.sh DIR CMD...: run CMD with the URL of the PostgreSQL server that
# pg_server.sh started in DIR, as EIDER_TEST_STORE_URL and EIDER_TEST_PG_URL.
set -euo pipefail
dir=$1
shift
[[ -s $dir/url ]] || { echo "with_pg: no PostgreSQL server in $dir (pg_server.sh start failed?)" >&2; exit 1; }
url=$(cat "$dir/url")
export EIDER_TEST_STORE_URL=$url EIDER_TEST_PG_URL=$url
exec "$@"
