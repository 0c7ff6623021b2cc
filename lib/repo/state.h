/*
 * state.h - which destinations already hold the file being archived.
 *
 * With several destinations a failure can leave some holding the file and
 * others not; PostgreSQL then calls archive_command again for the same
 * file.  The state dir remembers, per WAL file, the destinations done, so
 * the retry delivers only to the rest.  The record is a small text file
 * `<walname>.pitr-state` (one destination key per line), published
 * durably after every destination, and removed when all succeed.
 */
#ifndef PITR_STATE_H
#define PITR_STATE_H

#include <stdbool.h>
#include <stddef.h>

struct pitr_state;

/* Load (or start empty) the record of `wal_name` in `state_dir`, which must
 * exist.  Returns NULL after logging. */
struct pitr_state *pitr_state_load(const char *state_dir, const char *wal_name);

/* True if `key` was recorded as delivered. */
bool pitr_state_has(const struct pitr_state *st, const char *key);

/* Record `key` and write the record durably.  Returns 0 or -1 (logged). */
int pitr_state_add(struct pitr_state *st, const char *key);

/* Remove the record (all destinations done).  Returns 0 or -1 (logged). */
int pitr_state_clear(struct pitr_state *st);

/*
 * Up to `max` WAL names that have a record in `state_dir`, `skip`'s (may
 * be NULL) left out, picked uniformly at random (random(3)) among every
 * record of the directory, so that repeated calls reach every record.
 * The whole directory is read: it only holds the records of partial
 * deliveries, so it stays small.  Reading stops after PITR_STATE_SCAN_MAX
 * entries, a bound no sane state dir comes near; only in a dir that big
 * are the entries beyond it never picked.  Returns 0 with *names
 * (malloc'd, for pitr_state_names_free(); NULL when *n is 0) and *n set,
 * or -1 after logging.
 */
#define PITR_STATE_SCAN_MAX (1024 * 1024)
int pitr_state_list(const char *state_dir, const char *skip, size_t max, char ***names,
		    size_t *n);
void pitr_state_names_free(char **names, size_t n);

/* Release; accepts NULL. */
void pitr_state_free(struct pitr_state *st);

#endif
