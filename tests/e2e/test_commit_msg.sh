#!/usr/bin/env bash
# test_commit_msg.sh — .githooks/commit-msg takes a short subject and a blank line, and
# refuses a subject over 72 characters or a body that starts on the second line.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOOK="$SRC/.githooks/commit-msg"

a_short_subject_and_a_body_pass() {
    printf 'Fix the catalog race\n\nThe body, as long as it likes to be.\n# a comment\n' >msg
    run "$HOOK" msg
    expect_rc 0
}

a_subject_of_73_characters_is_refused() {
    printf '%073d\n\nbody\n' 0 >msg
    run "$HOOK" msg
    expect_rc 1
    expect_in err.txt "73 characters"
    printf '%072d\n' 0 >msg
    run "$HOOK" msg
    expect_rc 0
}

a_body_on_the_second_line_is_refused() {
    printf 'Subject\nbody right under it\n' >msg
    run "$HOOK" msg
    expect_rc 1
    expect_in err.txt "second line is not blank"
}

run_case a_short_subject_and_a_body_pass
run_case a_subject_of_73_characters_is_refused
run_case a_body_on_the_second_line_is_refused
finish
