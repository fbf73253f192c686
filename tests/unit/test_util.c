/*
 * test_util.c — the util layer: the string buffer's cap and truncation, SQL quoting,
 * the string index, the edit distance and the arena's string lists.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

/* ---- eider__buf ---- */

Test(buf, zeroed_buffer_reads_as_empty_string)
{
    eider__buf b = { 0 };
    cr_expect_str_eq(eider__buf_str(&b), "");
    cr_expect_eq(b.len, 0);
    eider__buf_release(&b);
}

Test(buf, appends_grow_past_the_first_allocation)
{
    eider__buf b = { 0 };
    for (int i = 0; i < 1000; i++)
        eider__buf_printf(&b, "%d,", i % 10);
    cr_expect_eq(b.len, 2000);
    cr_expect_eq(strlen(eider__buf_str(&b)), 2000);
    cr_expect_eq(strncmp(eider__buf_str(&b), "0,1,2,", 6), 0);
    cr_expect_not(b.truncated);
    eider__buf_release(&b);
}

Test(buf, puts_past_the_cap_is_cut_and_marked_truncated)
{
    eider__buf b = { .max = 10 };
    eider__buf_puts(&b, "hello ");
    cr_expect_not(b.truncated);
    eider__buf_puts(&b, "world, and more");
    cr_expect(b.truncated);
    cr_expect_eq(b.len, 10);
    cr_expect_str_eq(eider__buf_str(&b), "hello worl");
    eider__buf_putc(&b, '!');
    cr_expect_str_eq(eider__buf_str(&b), "hello worl");
    eider__buf_release(&b);
}

Test(buf, printf_past_the_cap_is_cut_and_marked_truncated)
{
    eider__buf b = { .max = 8 };
    eider__buf_printf(&b, "%s-%d", "abcdef", 12345);
    cr_expect(b.truncated);
    cr_expect_str_eq(eider__buf_str(&b), "abcdef-1");
    eider__buf_release(&b);
}

Test(buf, reset_empties_and_clears_truncated_but_keeps_the_cap)
{
    eider__buf b = { .max = 4 };
    eider__buf_puts(&b, "123456");
    eider__buf_reset(&b);
    cr_expect_not(b.truncated);
    cr_expect_str_eq(eider__buf_str(&b), "");
    eider__buf_puts(&b, "abcdef");
    cr_expect_str_eq(eider__buf_str(&b), "abcd");
    eider__buf_release(&b);
}

Test(buf, detach_hands_over_the_string_and_empties_the_buffer)
{
    eider__buf b = { 0 };
    eider__buf_puts(&b, "owned");
    char *s = eider__buf_detach(&b);
    cr_expect_str_eq(s, "owned");
    cr_expect_str_eq(eider__buf_str(&b), "");
    free(s);
    s = eider__buf_detach(&b);
    cr_expect_str_eq(s, "");
    free(s);
}

Test(buf, add_copies_embedded_bytes_exactly)
{
    eider__buf b = { 0 };
    eider__buf_add(&b, "ab\0cd", 5);
    cr_expect_eq(b.len, 5);
    cr_expect_eq(memcmp(b.data, "ab\0cd", 6), 0);
    eider__buf_release(&b);
}

/* ---- SQL quoting ---- */

Test(sql, identifier_is_double_quoted_with_quotes_doubled)
{
    eider__buf b = { 0 };
    eider__buf_sql_ident(&b, "iris");
    eider__buf_putc(&b, '.');
    eider__buf_sql_ident(&b, "my \"odd\" table");
    cr_expect_str_eq(eider__buf_str(&b), "\"iris\".\"my \"\"odd\"\" table\"");
    eider__buf_release(&b);
}

Test(sql, literal_is_single_quoted_with_quotes_doubled)
{
    eider__buf b = { 0 };
    eider__buf_sql_literal(&b, "it's'; DROP TABLE t; --");
    cr_expect_str_eq(eider__buf_str(&b), "'it''s''; DROP TABLE t; --'");
    eider__buf_release(&b);
}

Test(sql, literal_leaves_double_quotes_and_identifier_single_quotes_alone)
{
    eider__buf b = { 0 };
    eider__buf_sql_literal(&b, "say \"hi\"");
    eider__buf_sql_ident(&b, "o'brien");
    cr_expect_str_eq(eider__buf_str(&b), "'say \"hi\"'\"o'brien\"");
    eider__buf_release(&b);
}

Test(sql, empty_string_quotes_to_an_empty_pair)
{
    eider__buf b = { 0 };
    eider__buf_sql_ident(&b, "");
    eider__buf_sql_literal(&b, "");
    cr_expect_str_eq(eider__buf_str(&b), "\"\"''");
    eider__buf_release(&b);
}

Test(shell, a_word_with_a_quote_is_single_quoted_with_the_quote_escaped)
{
    eider__buf b = { 0 };
    eider__buf_shell_quote(&b, "o'brien");
    eider__buf_putc(&b, ' ');
    eider__buf_shell_word(&b, "it's here");
    eider__buf_putc(&b, ' ');
    eider__buf_shell_word(&b, "eu-west_1");
    eider__buf_putc(&b, ' ');
    eider__buf_shell_quote(&b, "eu");
    cr_expect_str_eq(eider__buf_str(&b), "'o'\\''brien' 'it'\\''s here' eu-west_1 'eu'");
    eider__buf_release(&b);
}

/* ---- eider__index ---- */

/* ---- JSON strings ---- */

static void expect_json(const char *in, const char *want)
{
    eider__buf b = { 0 };
    eider__buf_json_string(&b, in, SIZE_MAX);
    cr_expect_str_eq(eider__buf_str(&b), want);
    eider__buf_release(&b);
}

Test(json, plain_text_and_utf8_pass_through)
{
    expect_json("", "\"\"");
    expect_json("iris_dataset", "\"iris_dataset\"");
    expect_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\xa6\x86", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\xa6\x86\"");
}

Test(json, quotes_backslashes_and_control_characters_are_escaped)
{
    expect_json("it's \"odd\"\\", "\"it's \\\"odd\\\"\\\\\"");
    expect_json("a\nb\tc\x01\x1f", "\"a\\u000ab\\u0009c\\u0001\\u001f\"");
}

Test(json, max_cuts_the_text_and_a_sequence_it_splits)
{
    eider__buf b = { 0 };
    eider__buf_json_string(&b, "abc\xc3\xa9", 4);
    cr_expect_str_eq(eider__buf_str(&b), "\"abc\\ufffd\"");
    eider__buf_release(&b);
}

Test(json, bytes_that_are_not_utf8_become_the_replacement_character)
{
    expect_json("a\xff" "b", "\"a\\ufffdb\"");
    expect_json("\xc3", "\"\\ufffd\"");                       /* cut short at the end */
    expect_json("\xc0\xaf", "\"\\ufffd\\ufffd\"");            /* overlong '/' */
    expect_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");  /* a UTF-16 surrogate */
    expect_json("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  /* past U+10FFFF */
}

Test(index, empty_index_finds_nothing)
{
    eider__index ix = { 0 };
    cr_expect_eq(eider__index_get(&ix, "a"), -1);
    eider__index_release(&ix);
}

Test(index, finds_every_key_after_many_rehashes)
{
    enum { N = 5000 };
    static char keys[N][16];
    eider__index ix = { 0 };
    for (uint32_t i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "key/%u", i);
        cr_assert_eq(eider__index_put(&ix, keys[i], i * 3), 0);
    }
    cr_expect_eq(ix.len, N);
    for (uint32_t i = 0; i < N; i++)
        cr_expect_eq(eider__index_get(&ix, keys[i]), (long)i * 3, "key %u", i);
    cr_expect_eq(eider__index_get(&ix, "key/5000"), -1);
    cr_expect_eq(eider__index_get(&ix, ""), -1);
    eider__index_release(&ix);
}

Test(index, second_put_of_a_key_returns_1_and_keeps_the_first_value)
{
    eider__index ix = { 0 };
    char again[] = "dup";
    cr_expect_eq(eider__index_put(&ix, "dup", 1), 0);
    cr_expect_eq(eider__index_put(&ix, again, 2), 1);
    cr_expect_eq(eider__index_get(&ix, "dup"), 1);
    cr_expect_eq(ix.len, 1);
    eider__index_release(&ix);
}

Test(index, lookup_compares_contents_not_pointers)
{
    eider__index ix = { 0 };
    char probe[8];
    eider__index_put(&ix, "iris", 4);
    snprintf(probe, sizeof(probe), "%s", "iris");
    cr_expect_eq(eider__index_get(&ix, probe), 4);
    eider__index_release(&ix);
}

/* ---- eider__edit_distance ---- */

Test(edit_distance, classic_examples)
{
    cr_expect_eq(eider__edit_distance("kitten", "sitting", 10), 3);
    cr_expect_eq(eider__edit_distance("iris_datset", "iris_dataset", 10), 1);
    cr_expect_eq(eider__edit_distance("flaw", "lawn", 10), 2);
    cr_expect_eq(eider__edit_distance("same", "same", 10), 0);
}

Test(edit_distance, empty_strings)
{
    cr_expect_eq(eider__edit_distance("", "", 5), 0);
    cr_expect_eq(eider__edit_distance("", "abc", 5), 3);
    cr_expect_eq(eider__edit_distance("abcd", "", 5), 4);
}

Test(edit_distance, is_symmetric)
{
    const char *w[] = { "report", "repotr", "reports", "rapport", "" };
    for (size_t i = 0; i < EIDER__ARRAY_LEN(w); i++)
        for (size_t j = 0; j < EIDER__ARRAY_LEN(w); j++)
            cr_expect_eq(eider__edit_distance(w[i], w[j], 20),
                         eider__edit_distance(w[j], w[i], 20), "'%s' / '%s'", w[i], w[j]);
}

Test(edit_distance, above_the_limit_returns_limit_plus_one)
{
    cr_expect_eq(eider__edit_distance("kitten", "sitting", 2), 3);
    cr_expect_eq(eider__edit_distance("abcdefgh", "zyxwvuts", 3), 4);
    /* length difference alone exceeds the limit */
    cr_expect_eq(eider__edit_distance("a", "abcdefgh", 2), 3);
    /* exactly at the limit is still exact */
    cr_expect_eq(eider__edit_distance("kitten", "sitting", 3), 3);
}

/* ---- arena ---- */

Test(arena, strv_copies_the_strings_and_terminates_the_list)
{
    eider__arena a = { 0 };
    char one[] = "one", two[] = "two";
    const char *v[] = { one, two, NULL };
    size_t n = 0;
    char **copy = eider__arena_strv(&a, v, &n);
    one[0] = two[0] = 'X';
    cr_expect_eq(n, 2);
    cr_expect_str_eq(copy[0], "one");
    cr_expect_str_eq(copy[1], "two");
    cr_expect_null(copy[2]);
    char **empty = eider__arena_strv(&a, NULL, &n);
    cr_assert_not_null(empty);
    cr_expect_null(empty[0]);
    cr_expect_eq(n, 0);
    cr_expect_null(eider__arena_strdup(&a, NULL));
    eider__arena_release(&a);
}

Test(arena, large_allocations_beyond_one_block_work)
{
    eider__arena a = { 0 };
    char *big = eider__arena_alloc(&a, 200000);
    memset(big, 'x', 200000);
    char *small = eider__arena_strdup(&a, "after");
    cr_expect_str_eq(small, "after");
    cr_expect_eq(big[199999], 'x');
    eider__arena_release(&a);
}

/* ---- the hash ---- */

Test(util, hash_is_fnv1a_64_and_continues_across_pieces)
{
    cr_expect_eq(eider__hash(EIDER__HASH_START, "", 0), 0xcbf29ce484222325ULL);
    cr_expect_eq(eider__hash(EIDER__HASH_START, "a", 1), 0xaf63dc4c8601ec8cULL);
    cr_expect_eq(eider__hash(EIDER__HASH_START, "foobar", 6), 0x85944171f73967e8ULL);
    cr_expect_eq(eider__hash(eider__hash(EIDER__HASH_START, "foo", 3), "bar", 3),
                 eider__hash(EIDER__HASH_START, "foobar", 6));
}
