#!/usr/bin/env bash
# test_ui_static.sh — the web UI's files as `eider dev` serves them (server/static.c):
# the page at / with the server's token and a Content-Security-Policy whose nonce is the
# import map's, every embedded file (ui/ and /vendor/) with its Content-Type, 404 in
# plain text for others, no path that escapes the table ("..", "%2e%2e", "//", '\'),
# EIDER_UI_DIR serving from disk without escaping it (a symlink out is refused), and
# the Host check on the UI's paths too, and the build's generator of the table refusing
# paths that could escape it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/dev_lib.sh"

write_files() {
    cat >definitions.c <<'DEFS'
#include <eider.h>

static int hello(eider_context *ctx)
{
    return 0;
}

void eider_definitions(eider_defs *defs)
{
    eider_asset(defs, &(eider_asset_def){ .key = "hello", .compute = hello });
}
DEFS
    # get.py PATH [Header: value]...: GET the path exactly as given (no normalising);
    # the status, then the headers (lowercase names), a blank line, then the body.
    cat >get.py <<'PY'
import http.client, sys, urllib.parse
url = urllib.parse.urlsplit(open("server.url").read().strip())
headers = {"Host": url.netloc}
method = "GET"
for h in sys.argv[2:]:
    k, v = h.split(":", 1)
    if k == "METHOD":
        method = v.strip()
    else:
        headers[k.strip()] = v.strip()
c = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
c.putrequest(method, sys.argv[1], skip_host=True, skip_accept_encoding=True)
for k, v in headers.items():
    c.putheader(k, v)
c.putheader("Content-Length", "0")
c.endheaders()
r = c.getresponse()
print(r.status)
for k, v in r.getheaders():
    print(k.lower() + ": " + v)
print()
sys.stdout.flush()
sys.stdout.buffer.write(r.read())
PY
}

# get PATH [HEADER...]: STATUS, the headers in head.txt, the body in body.txt.
get() {
    python3 get.py "$@" >resp.bin || fail "no answer to GET $1"
    STATUS=$(head -1 resp.bin)
    sed -n '2,/^$/p' resp.bin >head.txt
    sed '1,/^$/d' resp.bin >body.txt
}

expect_status() {
    [[ "$STATUS" == "$1" ]] || { head -c 400 body.txt >&2; fail "expected status $1 for the last GET, got $STATUS"; }
}

page_has_the_token_and_a_policy_with_the_maps_nonce() {
    write_files
    start_server
    get /
    expect_status 200
    expect_in head.txt "content-type: text/html; charset=utf-8"
    expect_in head.txt "x-content-type-options: nosniff"
    expect_in head.txt "cache-control: no-store"
    expect_in body.txt "<meta name=\"eider-token\" content=\"$TOKEN\">"
    local nonce
    nonce=$(sed -n 's/.*<script type="importmap" nonce="\([0-9a-f]*\)">.*/\1/p' body.txt)
    [[ ${#nonce} == 32 ]] || fail "the import map has no nonce"
    expect_in head.txt "content-security-policy: default-src 'self'; script-src 'self' 'nonce-$nonce';"
    expect_in head.txt "frame-ancestors 'none'"
    # a new nonce for each page
    get /index.html
    expect_status 200
    expect_not_in body.txt "nonce=\"$nonce\""
    expect_in body.txt "content=\"$TOKEN\""
    stop_server
}

given_token_is_escaped_in_the_page() {
    write_files
    start_server --auth-token 'a"b<c>&d'
    get /
    expect_status 200
    expect_in body.txt 'content="a&quot;b&lt;c&gt;&amp;d"'
    stop_server
}

every_file_is_served_with_its_type() {
    write_files
    start_server
    local path type
    while read -r path type; do
        get "$path"
        expect_status 200
        expect_in head.txt "content-type: $type"
        [[ -s body.txt ]] || fail "$path is empty"
    done <<'LIST'
/app.js text/javascript; charset=utf-8
/style.css text/css; charset=utf-8
/lib/api.js text/javascript; charset=utf-8
/pages/lineage.js text/javascript; charset=utf-8
/vendor/preact.module.js text/javascript; charset=utf-8
/vendor/hooks.module.js text/javascript; charset=utf-8
/vendor/htm.module.js text/javascript; charset=utf-8
/vendor/uPlot.esm.js text/javascript; charset=utf-8
/vendor/uPlot.min.css text/css; charset=utf-8
/vendor/LICENSE.preact.txt text/plain; charset=utf-8
LIST
    # the bytes are the file's
    get /lib/api.js
    cmp -s body.txt "$SRC/ui/lib/api.js" || fail "/lib/api.js differs from ui/lib/api.js"
    get /vendor/preact.module.js
    cmp -s body.txt "$SRC/third_party/ui-vendor/preact.module.js" ||
        fail "/vendor/preact.module.js differs from the npm package's"
    stop_server
}

unknown_files_are_404_in_plain_text() {
    write_files
    start_server
    for path in /nothing.js /pages /vendor/ /vendor/preact.mjs /app.js.map /api.js; do
        get "$path"
        expect_status 404
        expect_in head.txt "content-type: text/plain; charset=utf-8"
        expect_in body.txt "no such file"
    done
    # the JSON API keeps its JSON 404
    get /api/nothing
    expect_status 404
    expect_in head.txt "content-type: application/json"
    get /style.css "METHOD: DELETE"
    expect_status 405
    expect_in head.txt "allow: GET, HEAD"
    stop_server
}

no_path_escapes_the_table() {
    write_files
    start_server
    for path in /../style.css /pages/../style.css /%2e%2e/style.css /pages/%2E%2E/style.css \
                //style.css /pages//asset.js '/pages\..\style.css' /./style.css \
                /../../../../etc/passwd /%2e%2e/%2e%2e/etc/passwd /vendor/../style.css; do
        get "$path"
        [[ "$STATUS" == 404 || "$STATUS" == 400 ]] || fail "GET $path answered $STATUS"
        expect_not_in body.txt "root:"
    done
    stop_server
}

ui_dir_serves_from_disk_without_escaping() {
    write_files
    mkdir -p ui/pages outside
    cp -r "$SRC/ui/." ui/
    echo '/* from disk */' >>ui/style.css
    echo 'outside-content' >outside/secret.txt
    echo 'outside-content' >outside/secret.js
    ln -s ../outside/secret.js ui/escape.js
    ln -s ../outside ui/out
    EIDER_UI_DIR=$PWD/ui start_server
    get /style.css
    expect_status 200
    expect_in body.txt "/* from disk */"
    get /
    expect_status 200
    expect_in body.txt "content=\"$TOKEN\""
    for path in /escape.js /out/secret.js /out/secret.txt /../outside/secret.js \
                /%2e%2e/outside/secret.js; do
        get "$path"
        expect_status 404
        expect_not_in body.txt "outside-content"
    done
    # the npm libraries still come from the binary
    get /vendor/htm.module.js
    expect_status 200
    stop_server
}

ui_paths_check_the_host_too() {
    write_files
    start_server
    get / "Host: evil.example:80"
    expect_status 403
    expect_not_in body.txt "$TOKEN"
    get /app.js "Host: evil.example:80"
    expect_status 403
    stop_server
}

# The build's generator (tools/embed.c) makes no table a path could escape: it refuses
# a URL with "..", "//" or '\', one without a known type, and one given twice.
generator_refuses_unsafe_paths() {
    local embed="$BUILD/eider_embed"
    [[ -x "$embed" ]] || fail "no generator at $embed"
    echo 'x' >a.js
    run "$embed" out.c /a.js=a.js /b/c.js=a.js
    expect_rc 0
    expect_in out.c '{ "/a.js", "text/javascript; charset=utf-8", f0, 2 }'
    expect_in out.c '{ "/b/c.js", "text/javascript; charset=utf-8", f1, 2 }'
    for bad in /../a.js /b/../a.js //a.js '/b\a.js' a.js /a.exe '/a b.js' '/a".js'; do
        run "$embed" bad.c "$bad=a.js"
        expect_rc 1
        expect_in err.txt "cannot embed"
        [[ ! -e bad.c ]] || fail "a table was written for '$bad'"
    done
    run "$embed" bad.c /a.js=a.js /a.js=a.js
    expect_rc 1
    expect_in err.txt "'/a.js' is given twice"
    run "$embed" bad.c /a.js=no-such-file.js
    expect_rc 1
    expect_in err.txt "cannot read 'no-such-file.js'"
    [[ ! -e bad.c ]] || fail "a table was left behind for a missing file"
}

run_case generator_refuses_unsafe_paths
run_case page_has_the_token_and_a_policy_with_the_maps_nonce
run_case given_token_is_escaped_in_the_page
run_case every_file_is_served_with_its_type
run_case unknown_files_are_404_in_plain_text
run_case no_path_escapes_the_table
run_case ui_dir_serves_from_disk_without_escaping
run_case ui_paths_check_the_host_too
finish
