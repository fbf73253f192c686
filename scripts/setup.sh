#!/usr/bin/env bash
# setup.sh: install what Eider needs to build and test on Debian 12, then stop.
#
#   scripts/setup.sh            build dependencies and DuckDB
#   scripts/setup.sh --test     also the packages the test suite needs
#   scripts/setup.sh --fuzz     also clang and its libFuzzer runtime (scripts/fuzz)
#
# Debian packages come from apt-get by name; DuckDB 1.4.4 (libduckdb.so and duckdb.h)
# comes from npm by package name, unpacked into third_party/duckdb/ (git-ignored); so do
# the web UI's libraries (Preact, htm, uPlot: third_party/ui-vendor/, embedded in the
# binary at build time) and, with --test, playwright-core (third_party/node/), which
# drives Debian's Chromium in the browser tests.
# Running it again when everything is present changes nothing and takes about a second.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
duckdb_dir="$here/third_party/duckdb"
duckdb_version=1.4.4
duckdb_lib_pkg="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
duckdb_hdr_pkg="duckdb@$duckdb_version"
ui_dir="$here/third_party/ui-vendor"
ui_pkgs=(preact@11.2.0 htm@3.1.1 uplot@1.6.32)
node_dir="$here/third_party/node"
playwright_pkg=playwright-core@1.61.1

build_pkgs=(gcc make cmake pkg-config ca-certificates libsqlite3-dev libpq-dev
            libmicrohttpd-dev libjansson-dev libyaml-dev)
test_pkgs=(libcriterion-dev g++ postgresql python3 tzdata jq strace chromium curl)
fuzz_pkgs=(clang libclang-rt-14-dev)

want_test=0
want_fuzz=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --fuzz) want_fuzz=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else say "need root to run: $*"; exit 1; fi
}

missing_pkgs() {  # prints the packages of "$@" that are not installed
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

install_pkgs() {
  local need
  need=$(missing_pkgs "$@")
  command -v npm >/dev/null || need="$need npm"
  [ -z "${need// /}" ] && return 0
  say "installing Debian packages:" $need
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q >/dev/null
  # shellcheck disable=SC2086
  as_root apt-get install -y -q --no-install-recommends $need >/dev/null
}

fetch_duckdb() {
  local stamp="$duckdb_dir/.installed" tmp
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$duckdb_lib_pkg $duckdb_hdr_pkg" ] &&
     [ -f "$duckdb_dir/lib/libduckdb.so" ] && [ -f "$duckdb_dir/include/duckdb.h" ]; then
    return 0
  fi
  say "fetching DuckDB $duckdb_version from npm ($duckdb_lib_pkg, $duckdb_hdr_pkg)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack --silent "$duckdb_lib_pkg" "$duckdb_hdr_pkg" >/dev/null)
  mkdir -p "$tmp/lib" "$tmp/hdr"
  tar xzf "$tmp"/duckdb-node-bindings-linux-x64-*.tgz -C "$tmp/lib"
  tar xzf "$tmp/duckdb-$duckdb_version.tgz" -C "$tmp/hdr" package/package.json \
      package/src/duckdb/src/include/duckdb.h
  check_version "$tmp/lib/package/package.json" "$duckdb_version-r"
  check_version "$tmp/hdr/package/package.json" "$duckdb_version"
  rm -rf "$duckdb_dir"
  mkdir -p "$duckdb_dir/lib" "$duckdb_dir/include"
  cp "$tmp/lib/package/libduckdb.so" "$duckdb_dir/lib/"
  cp "$tmp/hdr/package/src/duckdb/src/include/duckdb.h" "$duckdb_dir/include/"
  cp "$tmp/lib/package/LICENSE" "$duckdb_dir/LICENSE"
  check_library
  echo "$duckdb_lib_pkg $duckdb_hdr_pkg" >"$stamp"
}

check_version() {  # package.json version must start with $2
  local v
  v=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$1" | head -1)
  case "$v" in
    "$2"*) ;;
    *) say "expected DuckDB $2 in $1, found '$v'"; exit 1 ;;
  esac
}

check_library() {  # the library must say it is the version the header came with
  local prog="$duckdb_dir/version-check"
  cat >"$prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "duckdb.h"
int main(int argc, char **argv) {
    const char *v = duckdb_library_version();
    if (argc < 2 || strcmp(v, argv[1]) != 0) { fprintf(stderr, "libduckdb.so is %s\n", v); return 1; }
    return 0;
}
C
  cc -o "$prog" "$prog.c" -I"$duckdb_dir/include" -L"$duckdb_dir/lib" -lduckdb \
     -Wl,-rpath,"$duckdb_dir/lib"
  "$prog" "v$duckdb_version" || { say "DuckDB library and header versions differ"; exit 1; }
  rm -f "$prog" "$prog.c"
}

# The UI's libraries: the files the pages import, under the names index.html's import
# map gives them, and each package's LICENSE (served beside them).
fetch_ui_vendor() {
  local stamp="$ui_dir/.installed" tmp
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${ui_pkgs[*]}" ]; then
    return 0
  fi
  say "fetching the UI libraries from npm (${ui_pkgs[*]})"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack --silent "${ui_pkgs[@]}" >/dev/null)
  local p name
  for p in "${ui_pkgs[@]}"; do
    name=${p%@*}
    mkdir -p "$tmp/$name"
    tar xzf "$tmp/$name-${p##*@}.tgz" -C "$tmp/$name"
    check_pkg_version "$tmp/$name/package/package.json" "${p##*@}"
  done
  rm -rf "$ui_dir"
  mkdir -p "$ui_dir"
  vendor_file "$tmp/preact/package/dist/preact.mjs" preact.module.js
  vendor_file "$tmp/preact/package/hooks/dist/hooks.mjs" hooks.module.js
  vendor_file "$tmp/htm/package/dist/htm.module.js" htm.module.js
  vendor_file "$tmp/uplot/package/dist/uPlot.esm.js" uPlot.esm.js
  vendor_file "$tmp/uplot/package/dist/uPlot.min.css" uPlot.min.css
  for name in preact htm uplot; do
    cp "$tmp/$name/package/LICENSE" "$ui_dir/LICENSE.$name.txt"
  done
  echo "${ui_pkgs[*]}" >"$stamp"
}

vendor_file() {  # copy $1 to ui-vendor/$2 without its source-map comment (not shipped)
  grep -v '^//# sourceMappingURL=' "$1" >"$ui_dir/$2" || true
  [ -s "$ui_dir/$2" ] || { say "the npm package has no $1"; exit 1; }
}

check_pkg_version() {  # package.json's version must be $2 exactly
  local v
  v=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$1" | head -1)
  [ "$v" = "$2" ] || { say "expected version $2 in $1, found '$v'"; exit 1; }
}

# The browser tests' driver (tests/browser/): playwright-core, which uses the
# system's Chromium (/usr/bin/chromium) and downloads no browser of its own.
fetch_playwright() {
  local stamp="$node_dir/.installed"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$playwright_pkg" ] &&
     [ -f "$node_dir/node_modules/playwright-core/package.json" ]; then
    return 0
  fi
  say "fetching $playwright_pkg from npm"
  mkdir -p "$node_dir"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund \
      --prefix "$node_dir" "$playwright_pkg" >/dev/null
  check_pkg_version "$node_dir/node_modules/playwright-core/package.json" "${playwright_pkg##*@}"
  echo "$playwright_pkg" >"$stamp"
}

use_hooks() {  # commit messages are checked (.githooks/commit-msg) in a git checkout
  git -C "$here" rev-parse --git-dir >/dev/null 2>&1 || return 0
  [ -n "$(git -C "$here" config core.hooksPath)" ] && return 0
  git -C "$here" config core.hooksPath .githooks
}

pkgs=("${build_pkgs[@]}")
[ $want_test = 1 ] && pkgs+=("${test_pkgs[@]}")
[ $want_fuzz = 1 ] && pkgs+=("${fuzz_pkgs[@]}")
install_pkgs "${pkgs[@]}"
fetch_duckdb
fetch_ui_vendor
[ $want_test = 1 ] && fetch_playwright
use_hooks
