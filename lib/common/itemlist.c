/*
 * itemlist.c - lists of items in one string (see itemlist.h).
 */
#include "config.h"

#include <string.h>

#include "common/itemlist.h"

size_t
pitr_itemlist_max_items(const char *value)
{
	return (value != NULL ? strlen(value) : 0) / 2 + 2;
}

size_t
pitr_itemlist_split(const char *value, char *buf, const char **items)
{
	char *out = buf, *start = buf;
	char quote = '\0';
	bool in_item = false;
	size_t n = 0;

	for (const char *p = value != NULL ? value : ""; *p != '\0'; p++) {
		if (quote != '\0' && *p != quote) {
			*out++ = *p;
		} else if (quote != '\0') {
			quote = '\0';
		} else if (*p == '"' || *p == '\'') {
			/* '' is an item too: an empty one, as the quotes say. */
			quote = *p;
			in_item = true;
		} else if (strchr(PITR_ITEMLIST_SEPARATORS, *p) == NULL) {
			*out++ = *p;
			in_item = true;
		} else if (in_item) {
			*out++ = '\0';
			items[n++] = start;
			start = out;
			in_item = false;
		}
	}
	*out = '\0';
	if (in_item)
		items[n++] = start;
	return n;
}

char
pitr_itemlist_open_quote(const char *value)
{
	char quote = '\0';

	for (const char *p = value; p != NULL && *p != '\0'; p++) {
		if (quote == '\0' && (*p == '"' || *p == '\''))
			quote = *p;
		else if (*p == quote)
			quote = '\0';
	}
	return quote;
}

bool
pitr_itemlist_is_set(const char *value)
{
	return value != NULL && value[strspn(value, PITR_ITEMLIST_SEPARATORS)] != '\0';
}
