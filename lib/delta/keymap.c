/*
 * keymap.c - key -> index map for lib/delta (delta_impl.h): open
 * addressing with linear probing over a power-of-two table kept at most
 * half full, tombstones for removed keys (a chain's removed files).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "delta/delta_impl.h"

#define SLOT_EMPTY 0
#define SLOT_GONE 1   /* a removed key: probing goes on past it */

struct map_slot {
	const char *key;
	size_t index;
	uint64_t hash;
	int state;        /* SLOT_EMPTY, SLOT_GONE, or 2 for a live key */
};

struct pitr_delta_map {
	struct map_slot *slots;
	size_t cap;       /* a power of two */
	size_t used;      /* live keys and tombstones */
};

/* FNV-1a: keys are short paths, and the table only needs spread. */
static uint64_t
key_hash(const char *key)
{
	uint64_t h = 14695981039346656037ull;

	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

struct pitr_delta_map *
delta_map_new(void)
{
	struct pitr_delta_map *m = pitr_xcalloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->cap = 64;
	m->slots = pitr_xcalloc(m->cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void
delta_map_free(struct pitr_delta_map *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m);
}

/* The slot of `key`, or of the first free slot (empty or tombstone) on its
 * probe sequence when it is absent. */
static struct map_slot *
find(const struct pitr_delta_map *m, const char *key, uint64_t h)
{
	struct map_slot *free_slot = NULL;
	size_t mask = m->cap - 1;

	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct map_slot *s = &m->slots[i];

		if (s->state == SLOT_EMPTY)
			return free_slot != NULL ? free_slot : s;
		if (s->state == SLOT_GONE) {
			if (free_slot == NULL)
				free_slot = s;
		} else if (s->hash == h && strcmp(s->key, key) == 0) {
			return s;
		}
	}
}

/* Double the table (or rebuild it at its size when tombstones fill it). */
static int
grow(struct pitr_delta_map *m)
{
	size_t live = 0, cap, oldcap = m->cap;
	struct map_slot *old = m->slots;

	for (size_t i = 0; i < m->cap; i++)
		live += old[i].state > SLOT_GONE;
	cap = live * 4 > m->cap ? m->cap * 2 : m->cap;
	if ((m->slots = pitr_xcalloc(cap, sizeof(*m->slots))) == NULL) {
		m->slots = old;
		return -1;
	}
	m->cap = cap;
	m->used = live;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].state > SLOT_GONE)
			*find(m, old[i].key, old[i].hash) = old[i];
	free(old);
	return 0;
}

long
delta_map_get(const struct pitr_delta_map *m, const char *key)
{
	const struct map_slot *s = find(m, key, key_hash(key));

	return s->state > SLOT_GONE ? (long)s->index : -1;
}

int
delta_map_put(struct pitr_delta_map *m, const char *key, size_t index, size_t *old)
{
	uint64_t h = key_hash(key);
	struct map_slot *s;

	if ((m->used + 1) * 2 > m->cap && grow(m) != 0)
		return -1;
	s = find(m, key, h);
	if (s->state > SLOT_GONE) {
		if (old != NULL)
			*old = s->index;
		return 0;
	}
	if (s->state == SLOT_EMPTY)
		m->used++;
	*s = (struct map_slot){ .key = key, .index = index, .hash = h, .state = SLOT_GONE + 1 };
	return 1;
}

void
delta_map_del(struct pitr_delta_map *m, const char *key)
{
	struct map_slot *s = find(m, key, key_hash(key));

	if (s->state > SLOT_GONE) {
		s->state = SLOT_GONE;
		s->key = NULL;
	}
}
