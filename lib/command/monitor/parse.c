/*
 * parse.c - the pitr-* (and omnipitr-*) log line and what each line tells
 * pitr-monitor.  The facts come from the lines the programs write at LOG
 * level without --verbose, so a monitor needs no special logging:
 *   pitr-archive   archived "NAME" (KIND) in N ms
 *   pitr-restore   restored "NAME" from ...
 *                  segment "NAME" is not in the archive yet: waiting
 *   pitr-backup-*  backup "LABEL" done: ...
 * and every program's ERROR and FATAL lines.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command/monitor/monitor_impl.h"

/* The exact shape of the time at the start of a line: sscanf alone would
 * take spaces and signs where digits belong. */
static bool
time_shaped(const char *text)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd.dddddd sdddd";

	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		bool ok = shape[i] == 'd' ? text[i] >= '0' && text[i] <= '9' :
			  shape[i] == 's' ? text[i] == '+' || text[i] == '-' : text[i] == shape[i];

		if (!ok)
			return false;
	}
	return true;
}

double
pitr_mon_parse_wall(const char *text, struct tm *wall)
{
	struct tm tm = { 0 };
	int usec, zh, zm, n = 0;
	char sign;
	long offset;
	time_t t;

	if (!time_shaped(text) ||
	    sscanf(text, "%4d-%2d-%2d %2d:%2d:%2d.%6d %c%2d%2d%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &usec, &sign, &zh, &zm,
		   &n) != 10 || n != 32 || (sign != '+' && sign != '-'))
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	/* timegm also completes the day of the week and of the year, which a
	 * template's marks may use. */
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	offset = (sign == '-' ? -1 : 1) * (zh * 3600L + zm * 60L);
	if (wall != NULL) {
		*wall = tm;
		wall->tm_isdst = -1;
		wall->tm_gmtoff = offset;
		wall->tm_zone = NULL;
	}
	/* The numeric zone makes the time exact whatever the reader's TZ and
	 * across a daylight saving change. */
	return (double)(t - offset) + usec / 1e6;
}

double
pitr_mon_parse_time(const char *text)
{
	return pitr_mon_parse_wall(text, NULL);
}

/* Copy the field at *p up to " : " into out (size n); advance past it. */
static int
take_field(const char **p, char *out, size_t n)
{
	const char *end = strstr(*p, " : ");
	size_t len;

	if (end == NULL)
		return -1;
	len = (size_t)(end - *p);
	if (len == 0 || len >= n)
		return -1;
	memcpy(out, *p, len);
	out[len] = '\0';
	*p = end + 3;
	return 0;
}

int
pitr_mon_parse_line(const char *text, struct pitr_mon_line *l)
{
	const char *p;
	char pid[24], prog[80];
	char *end;

	memset(l, 0, sizeof(*l));
	l->epoch = pitr_mon_parse_time(text);
	if (l->epoch < 0 || strncmp(text + 32, " : ", 3) != 0)
		return -1;
	memcpy(l->ts, text, PITR_MON_TS_LEN);
	l->ts[PITR_MON_TS_LEN] = '\0';
	p = text + 35;
	if (take_field(&p, pid, sizeof(pid)) != 0 || take_field(&p, prog, sizeof(prog)) != 0)
		return -1;
	l->pid = strtol(pid, &end, 10);
	if (*end != '\0' || l->pid <= 0)
		return -1;
	if (strncmp(prog, "pitr-", 5) == 0)
		snprintf(l->program, sizeof(l->program), "%s", prog + 5);
	else if (strncmp(prog, "omnipitr-", 9) == 0)
		snprintf(l->program, sizeof(l->program), "%s", prog + 9);
	else
		return -1;
	/* "pitr- :" names no program. */
	if (l->program[0] == '\0')
		return -1;
	l->level_and_message = p;
	if (take_field(&p, l->level, sizeof(l->level)) != 0)
		return -1;
	l->message = p;
	return 0;
}

/* The NAME of a message that starts with `prefix` followed by "NAME". */
static bool
quoted_after(const char *message, const char *prefix, char *name, size_t n)
{
	size_t plen = strlen(prefix);
	const char *q;

	if (strncmp(message, prefix, plen) != 0 || message[plen] != '"')
		return false;
	q = strchr(message + plen + 1, '"');
	if (q == NULL || (size_t)(q - message - plen - 1) >= n)
		return false;
	memcpy(name, message + plen + 1, (size_t)(q - message - plen - 1));
	name[q - message - plen - 1] = '\0';
	return true;
}

static void
feed_archive(struct pitr_mon_state *s, const struct pitr_mon_line *l, bool error)
{
	char name[PITR_MON_WAL_NAME_MAX];

	if (error) {
		/* A failure streak starts at its first error: current-archive-time
		 * says how long archiving has been stuck. */
		if (s->archive_fail == 0)
			s->archive_fail = l->epoch;
		return;
	}
	if (quoted_after(l->message, "archived ", name, sizeof(name)) &&
	    strstr(l->message, "\" (") != NULL) {
		s->archive_last = l->epoch;
		snprintf(s->archive_wal, sizeof(s->archive_wal), "%s", name);
		s->archive_fail = 0;
	}
}

static void
feed_restore(struct pitr_mon_state *s, const struct pitr_mon_line *l, bool error)
{
	char name[PITR_MON_WAL_NAME_MAX];

	if (!error && quoted_after(l->message, "restored ", name, sizeof(name))) {
		s->restore_last = l->epoch;
		snprintf(s->restore_wal, sizeof(s->restore_wal), "%s", name);
		s->restore_wait = 0;
		s->restore_pid = 0;
	} else if (!error && quoted_after(l->message, "segment ", name, sizeof(name)) &&
		   strstr(l->message, "is not in the archive yet: waiting") != NULL) {
		if (s->restore_wait == 0) {
			s->restore_wait = l->epoch;
			s->restore_pid = l->pid;
		}
	} else if (l->pid == s->restore_pid &&
		   (error || strstr(l->message, "not restored") != NULL ||
		    strncmp(l->message, "ending recovery", 15) == 0)) {
		/* The waiting call ended without handing the segment over. */
		s->restore_wait = 0;
		s->restore_pid = 0;
	}
}

void
pitr_mon_state_feed(struct pitr_mon_state *s, const struct pitr_mon_line *l)
{
	bool error = strcmp(l->level, "ERROR") == 0 || strcmp(l->level, "FATAL") == 0;
	char label[256];

	if (error)
		pitr_mon_state_add_error(s, l);
	if (strcmp(l->program, "archive") == 0)
		feed_archive(s, l, error);
	else if (strcmp(l->program, "restore") == 0)
		feed_restore(s, l, error);
	else if ((strcmp(l->program, "backup-master") == 0 ||
		  strcmp(l->program, "backup-slave") == 0) && !error &&
		 quoted_after(l->message, "backup ", label, sizeof(label)) &&
		 strstr(l->message, "\" done: ") != NULL && l->epoch > s->backup_last)
		s->backup_last = l->epoch;
}
