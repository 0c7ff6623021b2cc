/*
 * check_itemlist.c - the list settings' splitting (common/itemlist.c),
 * which the archive module and pitr-check share: separators, quotes, the
 * open quote a setting is refused for, and the slots it may need.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "common/itemlist.h"

/* Split `value` and compare with the NULL-terminated `want`. */
static void
assert_items(const char *value, const char *const *want)
{
	size_t slots = pitr_itemlist_max_items(value), n, want_n = 0;
	const char **items = calloc(slots, sizeof(*items));
	char *buf = malloc(strlen(value) + 1);

	ck_assert_ptr_nonnull(items);
	ck_assert_ptr_nonnull(buf);
	n = pitr_itemlist_split(value, buf, items);
	while (want[want_n] != NULL)
		want_n++;
	ck_assert_msg(n == want_n, "[%s]: %zu items, want %zu", value, n, want_n);
	ck_assert_uint_le(n, slots);
	for (size_t item_idx = 0; item_idx < n; item_idx++)
		ck_assert_str_eq(items[item_idx], want[item_idx]);
	free(items);
	free(buf);
}

START_TEST(test_split)
{
	assert_items("", (const char *[]){ NULL });
	assert_items(" ,\t\n", (const char *[]){ NULL });
	assert_items("/a", (const char *[]){ "/a", NULL });
	assert_items("/a, lz4=/b", (const char *[]){ "/a", "lz4=/b", NULL });
	assert_items("/a,,/b\t/c\r\n/d", (const char *[]){ "/a", "/b", "/c", "/d", NULL });
	/* Quotes keep a separator inside one item, and go. */
	assert_items("'/a b,c' \"x 'y'\"", (const char *[]){ "/a b,c", "x 'y'", NULL });
	assert_items("gzip='/my dir'/x", (const char *[]){ "gzip=/my dir/x", NULL });
	assert_items("'' /a", (const char *[]){ "", "/a", NULL });
	/* The densest list: one-byte items. */
	assert_items("a,b,c,d", (const char *[]){ "a", "b", "c", "d", NULL });
	assert_items("a", (const char *[]){ "a", NULL });
	/* An open quote runs to the end (the module refuses such a value). */
	assert_items("/a 'b c", (const char *[]){ "/a", "b c", NULL });
	ck_assert_uint_eq(pitr_itemlist_split(NULL, (char[1]){ 'x' }, NULL), 0);
}
END_TEST

START_TEST(test_open_quote)
{
	ck_assert_int_eq(pitr_itemlist_open_quote(NULL), '\0');
	ck_assert_int_eq(pitr_itemlist_open_quote("/a, '/b c'"), '\0');
	ck_assert_int_eq(pitr_itemlist_open_quote("'/a"), '\'');
	ck_assert_int_eq(pitr_itemlist_open_quote("\"/a ' b"), '"');
	ck_assert_int_eq(pitr_itemlist_open_quote("\"x\" 'y"), '\'');
}
END_TEST

START_TEST(test_is_set)
{
	ck_assert(!pitr_itemlist_is_set(NULL));
	ck_assert(!pitr_itemlist_is_set(""));
	ck_assert(!pitr_itemlist_is_set(" ,\t"));
	ck_assert(pitr_itemlist_is_set(" /a"));
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("itemlist");
	TCase *tc = tcase_create("itemlist");

	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_open_quote);
	tcase_add_test(tc, test_is_set);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
