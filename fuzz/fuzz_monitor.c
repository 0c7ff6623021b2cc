/*
 * fuzz_monitor.c - pitr-monitor's log reader, line parser and state file
 * (command/monitor).  The input is a log file.  What must hold: a line
 * that parses has a 26-character time, a positive pid, a program name and
 * a non-negative epoch; whatever the logs said, the state written to its
 * file reads back and writes the same text again (the next call starts
 * from exactly what this one knew).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/monitor/monitor_impl.h"
#include "fuzz.h"

static char state_dir[4096];
static char log_path[4096];

/* Leave nothing in $TMPDIR when the run ends. */
static void
remove_files(void)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/pitr-monitor.state", state_dir);
	unlink(path);
	rmdir(state_dir);
	unlink(log_path);
}

/* The state's file text, malloc'd. */
static char *
state_text(const struct pitr_mon_state *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (mem == NULL)
		fuzz_fail("open_memstream", "");
	pitr_mon_state_write(s, mem);
	fclose(mem);
	return buf;
}

static void
check_lines(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);

	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		struct pitr_mon_line l;

		if (pitr_mon_parse_line(line, &l) != 0)
			continue;
		if (strlen(l.ts) != PITR_MON_TS_LEN || l.pid <= 0 || l.program[0] == '\0' ||
		    l.epoch < 0 || l.message == NULL)
			fuzz_fail("a parsed line without its parts", line);
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pitr_mon_state s = { 0 }, r = { 0 };
	const char *path = fuzz_file(data, size, ".log");
	const char *const templates[] = { path };
	char *a, *b;

	if (state_dir[0] == '\0') {
		snprintf(state_dir, sizeof(state_dir), "%s.state", path);
		snprintf(log_path, sizeof(log_path), "%s", path);
		mkdir(state_dir, 0700);
		atexit(remove_files);
	}
	check_lines(data, size);
	if (pitr_mon_read_logs(&s, templates, 1) < 0)
		fuzz_fail("a readable log refused", path);
	if (pitr_mon_state_save(&s, state_dir) != 0 || pitr_mon_state_load(&r, state_dir) != 0)
		fuzz_fail("the state does not read back", state_dir);
	a = state_text(&s);
	b = state_text(&r);
	if (strcmp(a, b) != 0)
		fuzz_fail("the state reads back different", a);
	free(a);
	free(b);
	pitr_mon_state_free(&s);
	pitr_mon_state_free(&r);
	return 0;
}
