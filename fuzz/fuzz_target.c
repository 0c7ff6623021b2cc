/*
 * fuzz_target.c - LSNs, timestamps and pitr-recover's recovery target
 * (postgres/lsn, postgres/timestamp, command/recover/target).  The input's
 * first byte picks the target option (--target-time, -xid, -lsn, -name),
 * the rest is its value.  What must hold: an LSN that parses formats to
 * text that parses to the same LSN; a time with a zone names a real
 * calendar moment (no 31 February) and its formatted form reads back to
 * the same second; a target that parses has the value recovery_target_*
 * gets.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command/recover/recover.h"
#include "fuzz.h"
#include "postgres/lsn.h"
#include "postgres/timestamp.h"

static void
check_lsn(const char *text)
{
	uint64_t lsn, again;
	char out[PITR_LSN_TEXT_MAX];

	if (pitr_lsn_parse(text, &lsn) != 0)
		return;
	pitr_lsn_format(lsn, out, sizeof(out));
	if (pitr_lsn_parse(out, &again) != 0 || again != lsn)
		fuzz_fail("an LSN formatted does not read back", text);
}

static int
month_days(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

static void
check_time(const char *text)
{
	int y, mo, d;

	time_t t, again;
	bool zone, zone_again;
	char out[PITR_TIMESTAMP_TEXT_MAX];

	if (pitr_timestamp_parse(text, &t, &zone) != 0)
		return;
	if (sscanf(text, "%4d-%2d-%2d", &y, &mo, &d) != 3 || mo < 1 || mo > 12 ||
	    d > month_days(y, mo))
		fuzz_fail("a date that is not in the calendar was taken", text);
	if (pitr_timestamp_format(t, out, sizeof(out)) != 0)
		return;     /* a year localtime() cannot print */
	if (pitr_timestamp_parse(out, &again, &zone_again) != 0 || !zone_again || again != t)
		fuzz_fail("a time formatted does not read back", text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pitr_recover_opts o;
	struct pitr_recover_target t;
	char *value;

	if (size < 1)
		return 0;
	value = fuzz_cstr(data + 1, size - 1);
	check_lsn(value);
	check_time(value);
	memset(&o, 0, sizeof(o));
	switch (data[0] % 5) {
	case 0: o.target_time = value; break;
	case 1: o.target_xid = value; break;
	case 2: o.target_lsn = value; break;
	case 3: o.target_name = value; break;
	default: o.target_immediate = true; break;
	}
	if (pitr_recover_parse_target(&o, &t) == 0 && data[0] % 5 != 4 &&
	    (t.conf_value == NULL || t.conf_value[0] == '\0'))
		fuzz_fail("a target parsed without its setting's value", value);
	pitr_recover_target_free(&t);
	free(value);
	return 0;
}
