/*
 * quote.h - text for others to parse: words for a POSIX shell, string
 * literals for postgresql.conf, and the reverse, a command line split
 * into words without a shell.
 *
 * pitrkit never runs a shell itself, but writes lines that one runs (the
 * restore_command pitr-recover writes, the commands the ssh destination
 * hands to the remote shell) and reads command lines it then runs with
 * execvp (pitr-restore -h).  Every function returns malloc'd memory the
 * caller frees, or NULL after logging.
 */
#ifndef PITR_QUOTE_H
#define PITR_QUOTE_H

#include <stddef.h>
#include <stdio.h>

/* `s` single-quoted for a POSIX shell, always, each ' written as '\''
 * ("a'b" gives 'a'\''b'): the shell gives back `s` exactly, whatever it
 * holds.  NULL after logging a failed allocation (xalloc.h). */
char *pitr_quote_shell(const char *s);

/*
 * `s` as one word of a command PostgreSQL runs through the shell
 * (restore_command, archive_command): each % doubled, so that PostgreSQL's
 * %f/%p/%r replacement gives it back, and single-quoted as by
 * pitr_quote_shell() only when it is empty or holds anything but letters,
 * digits and _/.,:=+@%- (so that plain paths stay readable).  NULL after
 * logging a failed allocation.
 */
char *pitr_quote_command_word(const char *s);

/* `s` as a postgresql.conf string literal, quotes included, with ' and \
 * doubled ("it's" gives 'it''s').  NULL after logging a failed
 * allocation. */
char *pitr_quote_conf(const char *s);

/*
 * Split the command line `s` into words at blanks (space, tab), without a
 * shell: '...' and "..." group blanks into a word and are dropped; nothing
 * else is special (no escapes, variables or globs), and quoted parts join
 * the unquoted text next to them ("a'b c'd" is the one word "ab cd").
 * Returns a vector of *nwords malloc'd words followed by `spare` + 1 NULL
 * slots (room for arguments the caller adds, and the terminator), for
 * pitr_quote_split_free(); *nwords may be 0.  NULL after logging: an
 * unterminated quote ("<what> \"<s>\" has an unterminated ' quote", `what`
 * naming the option it came from) or a failed allocation.
 */
char **pitr_quote_split(const char *s, const char *what, size_t spare, size_t *nwords);

/*
 * `s` for a report or a log line, where a name read from disk must not
 * start a line of its own or move the terminal: newline, tab and carriage
 * return as \n \t \r, a backslash doubled, other control bytes (C0, DEL,
 * the C1 range U+0080-U+009F) and bytes that are not valid UTF-8 as \xHH;
 * valid UTF-8 stays as it is.  NULL after logging a failed allocation.
 */
char *pitr_quote_text(const char *s);

/* fprintf(out, fmt, ...) with the whole text passed through
 * pitr_quote_text(), except a newline that ends it: one report line (or a
 * piece of one) whatever the arguments hold.  Returns 0, or -1 after
 * logging a failed allocation. */
int pitr_quote_fprintf(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Free a vector from pitr_quote_split(): its words up to the first NULL
 * slot, then the vector; accepts NULL. */
void pitr_quote_split_free(char **words);

#endif
