/*
 * cmd_check.c — `eider check`: the selected assets' checks against what is stored now,
 * computing nothing. It runs as `eider materialize` does (a run worker, the instance
 * store, the same progress and --json), in checks-only mode: cmd_materialize.c.
 */
#include "cli.h"

static const char help[] =
    "usage: eider check [-f FILE.c | -l FILE.so] [--select SEL] [--jobs N]\n"
    "                   [--partition KEY | --partition-range FIRST...LAST |\n"
    "                    --all-partitions] [--lock-timeout SECONDS] [--in-process]\n"
    "                   [--verbose] [--json]\n"
    "\n"
    "Evaluate the asset checks (eider_asset_check) of the selected assets against what\n"
    "is stored now, without materializing anything: the data-quality report of a\n"
    "warehouse as it is. External assets' checks run too. Each outcome is printed\n"
    "under its asset and recorded in the instance store (eider asset show KEY lists\n"
    "them); a failing check changes no table and fails no asset.\n"
    "\n"
    CLI_DEFS_HELP
    "  -s, --select SEL      which assets (default: all with checks); check:GLOB selects\n"
    "                        the assets that have a check so named (see materialize\n"
    "                        --help for the syntax)\n"
    "  -p, --partition KEY   check only that partition of the partitioned assets (and\n"
    "      --partition-range FIRST...LAST, --all-partitions: those); without one,\n"
    "                        their whole tables\n"
    "  -j, --jobs N          worker threads (default: the number of cores)\n"
    "      --lock-timeout S  wait up to S seconds for a database another process holds\n"
    "      --in-process      run the checks' code in this process (for a debugger)\n"
    "  -v, --verbose         print every log line\n"
    "      --json            print the outcome as JSON: each step's \"checks\"\n"
    "\n"
    "Exit codes: 0 every check of severity error passed (warnings may have failed);\n"
    "1 one failed or erred; the others as eider --help says.\n";

static int run(cli_env *env)
{
    return cli_materialize_run(env, 1);
}

const cli_command cli_cmd_check = {
    "check", run, "evaluate asset checks on what is stored now", help,
};
