/*
 * itemlist.h - a list of items in one string, as the archive module's
 * list settings hold them (pitrkit_archive.dst_local, ...): items are
 * separated by commas or blanks, and '...' or "..." keeps a comma or a
 * blank inside one item.  Shared by the module, which reads its GUCs so,
 * and pitr-check, which must read them exactly as the module does.  It
 * allocates nothing: the module's memory is PostgreSQL's (palloc), the
 * programs' malloc's.
 */
#ifndef PITR_COMMON_ITEMLIST_H
#define PITR_COMMON_ITEMLIST_H

#include <stdbool.h>
#include <stddef.h>

#define PITR_ITEMLIST_SEPARATORS ", \t\r\n"

/* The item slots pitr_itemlist_split() may fill for `value` (an item and
 * its separator take two bytes at least). */
size_t pitr_itemlist_max_items(const char *value);

/*
 * Split `value` into its items: their text goes to `buf` (strlen(value)
 * + 1 bytes), a pointer to each into `items` (pitr_itemlist_max_items()
 * slots).  Returns their number (0 for NULL or an empty list).  An
 * unterminated quote runs to the end (pitr_itemlist_open_quote() finds
 * it, for the caller to refuse).
 */
size_t pitr_itemlist_split(const char *value, char *buf, const char **items);

/* The quote left open at the end of `value`, or '\0'. */
char pitr_itemlist_open_quote(const char *value);

/* Whether `value` holds anything but separators. */
bool pitr_itemlist_is_set(const char *value);

#endif
