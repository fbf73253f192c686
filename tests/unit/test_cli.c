/*
 * test_cli.c — the command line's terminal habits (cli/term.c): when to use color and
 * a live line, control characters escaped in what is printed, DuckDB's repeated caret
 * block printed once, and a name quoted for the shell.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../cli/cli.h"

Test(cli, a_terminal_gets_color_and_a_live_line)
{
    cli_term t = cli_term_decide(1, NULL, "xterm-256color");
    cr_expect(t.color && t.live);
}

Test(cli, no_color_turns_color_off_but_keeps_the_live_line)
{
    cli_term t = cli_term_decide(1, "1", "xterm");
    cr_expect(!t.color && t.live);
    t = cli_term_decide(1, "", "xterm");     /* set but empty: no-color.org says ignore it */
    cr_expect(t.color && t.live);
}

Test(cli, term_dumb_and_a_pipe_get_neither)
{
    cli_term t = cli_term_decide(1, NULL, "dumb");
    cr_expect(!t.color && !t.live);
    t = cli_term_decide(0, NULL, "xterm");
    cr_expect(!t.color && !t.live);
}

Test(cli, control_characters_are_escaped_but_newline_and_tab)
{
    cr_expect_str_eq(cli_safe("a\033[31mb\r\x7f\tc\nd"), "a\\x1b[31mb\\x0d\\x7f\tc\nd");
    cr_expect_str_eq(cli_safe("csi \xc2\x9b" "1m, but \xc3\xa9 stays"), "csi \\xc2\\x9b1m, but \xc3\xa9 stays");
    cr_expect_str_eq(cli_safe(NULL), "");
}

Test(cli, eight_safe_strings_live_at_once)
{
    const char *a = cli_safe("first"), *b = cli_safe("second");
    cr_expect_str_eq(a, "first");
    cr_expect_str_eq(b, "second");
}

Test(cli, a_paragraph_repeated_right_after_itself_is_printed_once)
{
    const char *duckdb = "Parser Error: syntax error at or near \"SELEC\"\n\nLINE 1: SELEC 1\n        ^\n\n"
                         "LINE 1: SELEC 1\n        ^";
    cr_expect_str_eq(cli_message(duckdb),
                     "Parser Error: syntax error at or near \"SELEC\"\n\nLINE 1: SELEC 1\n        ^");
    cr_expect_str_eq(cli_message("a\n\nb\n\na"), "a\n\nb\n\na");     /* not next to each other */
    cr_expect_str_eq(cli_message("one line"), "one line");
}

Test(cli, a_shell_word_is_quoted_only_when_it_must_be)
{
    cr_expect_str_eq(cli_shell_word("my_project-2"), "my_project-2");
    cr_expect_str_eq(cli_shell_word("my project"), "'my project'");
    cr_expect_str_eq(cli_shell_word("it's"), "'it'\\''s'");
    cr_expect_str_eq(cli_shell_word("$(rm -rf ~)"), "'$(rm -rf ~)'");
}
