/*
 * timestamp.c - PostgreSQL's timestamptz text to and from time_t, without
 * the reader's time zone getting in the way when the text states one (see
 * timestamp.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "postgres/timestamp.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm): timegm() is not standard C and mktime() would apply the
 * reader's time zone, not the one the text states. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Days in month `m` of year `y`: PostgreSQL refuses 31 February as out
 * of range, where days_from_civil and mktime() would roll it over into
 * March. */
static int
month_days(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int
pitr_timestamp_parse(const char *text, time_t *out, bool *has_zone)
{
	const char *p = text;
	int y, mo, d, h, mi, s = 0, zh = 0, zm = 0, sign = 0;
	struct tm tm;

	if (digits(&p, 4, &y) != 0 || *p++ != '-' || digits(&p, 2, &mo) != 0 || *p++ != '-' ||
	    digits(&p, 2, &d) != 0 || (*p != ' ' && *p != 'T'))
		return -1;
	p++;
	if (digits(&p, 2, &h) != 0 || *p++ != ':' || digits(&p, 2, &mi) != 0)
		return -1;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &s) != 0)
			return -1;
		if (*p == '.') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || s > 60)
		return -1;
	while (*p == ' ')
		p++;
	if (*p == '\0') {
		*has_zone = false;
	} else if (strcmp(p, "Z") == 0 || strcasecmp(p, "UTC") == 0 || strcasecmp(p, "GMT") == 0) {
		*has_zone = true;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &zh) != 0)
			return -1;
		if (*p == ':')
			p++;
		if (*p != '\0' && digits(&p, 2, &zm) != 0)
			return -1;
		if (*p != '\0' || zh > 15 || zm > 59)
			return -1;
		*has_zone = true;
	} else {
		return -1;
	}
	if (*has_zone) {
		int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;

		t -= sign * (zh * 3600 + zm * 60);
		*out = (time_t)t;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	tm.tm_isdst = -1;
	*out = mktime(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

/* The year as four digits, as PostgreSQL prints it and the parser reads
 * it: strftime's %Y has no leading zeros ("24-03-01" for the year 24),
 * and a year past 9999 has five. */
int
pitr_timestamp_format(time_t t, char *out, size_t size)
{
	struct tm tm;
	int year, n;

	if (localtime_r(&t, &tm) == NULL)
		return -1;
	year = tm.tm_year + 1900;
	if (year < 0 || year > 9999)
		return -1;
	n = snprintf(out, size, "%04d", year);
	if (n < 0 || (size_t)n >= size || strftime(out + n, size - (size_t)n, "-%m-%d %H:%M:%S %z", &tm) == 0)
		return -1;
	return 0;
}
