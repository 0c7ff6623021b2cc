/*
 * delta_impl.h - what the files of lib/delta share: a map from keys to
 * indexes (open addressing, linear probing), so that a backup of many
 * files finds each key in constant time, librsync's quiet start and its
 * signature header.
 */
#ifndef PITR_DELTA_IMPL_H
#define PITR_DELTA_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The map does not own its keys: each stays where the caller keeps it
 * (a file's key in an array) for as long as the map lives. */
struct pitr_delta_map;

/* NULL after logging a failed allocation. */
struct pitr_delta_map *delta_map_new(void);
void delta_map_free(struct pitr_delta_map *m);

/* The index of `key`, or -1. */
long delta_map_get(const struct pitr_delta_map *m, const char *key);

/* Map `key` to `index`.  Returns 1 when it is new, 0 when the key was
 * there already (*old gets its index, nothing is changed), -1 after
 * logging a failed allocation. */
int delta_map_put(struct pitr_delta_map *m, const char *key, size_t index, size_t *old);

/* Forget `key` (no-op when absent). */
void delta_map_del(struct pitr_delta_map *m, const char *key);

/* librsync's headers and our pieces' lengths: 32 bits, big-endian. */
static inline void
delta_be32_put(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline uint32_t
delta_be32_get(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* librsync logs its own failures on stderr unless told not to: ours are
 * the one line.  Called before any librsync job; idempotent. */
void delta_rs_quiet(void);

/* librsync's 12-byte signature header of our block and sum lengths, into
 * `h` (PITR_DELTA_SIG_HEADER bytes). */
void delta_sig_header(unsigned char *h);

#endif
