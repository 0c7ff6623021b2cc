/*
 * sysidmemo.h - what pitr-archive's state dir remembers of an object
 * store's system identifier record, so that a call need not read it.
 *
 * Every call to an s3 destination would otherwise GET the record
 * (sysid.h) before its PUT: one request in three.  Once this cluster has
 * checked or written the record of a destination, a memo in the state
 * dir says so, `.pitr-sysid-HASH` holding "SYSID STORE\n" (STORE: the
 * endpoint and the location, compared whole: the hash only names the
 * file), and calls skip the
 * GET while the memo is younger than PITR_SYSID_MEMO_MAX_AGE.  A record
 * on the store that changes meanwhile (the prefix emptied, another
 * cluster's record put there) is then seen at the first call after that
 * age, or when the memo is gone; another cluster archiving to the same
 * destination has no memo for it, so it reads the record at once and is
 * refused.
 */
#ifndef PITR_SYSIDMEMO_H
#define PITR_SYSIDMEMO_H

#include <stdbool.h>
#include <stdint.h>

/* Seconds a memo spares the record's GET. */
#define PITR_SYSID_MEMO_MAX_AGE 3600

/* Whether `state_dir` holds a memo younger than PITR_SYSID_MEMO_MAX_AGE
 * saying the record of `dest_key` (the store) was found, or made, to be
 * `sysid`.  Any doubt (no memo, an unreadable or other one) is false,
 * never an error: the record is read then. */
bool pitr_sysid_memo_fresh(const char *state_dir, const char *dest_key, uint64_t sysid);

/* Write (or renew) that memo, durably.  A failure is logged with -v only
 * and costs the next call a GET: 0, or -1. */
int pitr_sysid_memo_write(const char *state_dir, const char *dest_key, uint64_t sysid);

#endif
