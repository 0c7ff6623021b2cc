/*
 * report.c - pitr-verify --json (see report.h).
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "command/verify/report.h"
#include "common/json.h"
#include "common/log.h"
#include "common/xalloc.h"

struct vr_check {
	char *type;
	char *target;
	char *method;        /* NULL: none */
	size_t nproblems;
	size_t nsegments;
	bool has_segments;
};

struct vr_problem {
	size_t check;        /* index into checks */
	char *kind;          /* NULL: a catalog line */
	char *path;
	char *reason;
	char *line;          /* the text output's line after "PROBLEM: " */
};

struct pitr_verify_report {
	struct vr_check *checks;
	size_t nchecks;
	struct vr_problem *problems;
	size_t nproblems;
	bool failed;         /* an allocation failed (logged) */
};

struct pitr_verify_report *
pitr_verify_report_new(void)
{
	return pitr_xcalloc(1, sizeof(struct pitr_verify_report));
}

void
pitr_verify_report_free(struct pitr_verify_report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nchecks; i++) {
		free(r->checks[i].type);
		free(r->checks[i].target);
		free(r->checks[i].method);
	}
	for (size_t i = 0; i < r->nproblems; i++) {
		free(r->problems[i].kind);
		free(r->problems[i].path);
		free(r->problems[i].reason);
		free(r->problems[i].line);
	}
	free(r->checks);
	free(r->problems);
	free(r);
}

/* A copy of s (NULL stays NULL); a failure marks the report. */
static char *
dup(struct pitr_verify_report *r, const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = pitr_xstrdup(s)) == NULL)
		r->failed = true;
	return d;
}

void
pitr_verify_report_check(struct pitr_verify_report *r, const char *type, const char *target,
			 const char *method)
{
	struct vr_check *grown;

	if (r->failed)
		return;
	grown = pitr_xreallocarray(r->checks, r->nchecks + 1, sizeof(*grown));
	if (grown == NULL) {
		r->failed = true;
		return;
	}
	r->checks = grown;
	grown[r->nchecks++] = (struct vr_check){ .type = dup(r, type), .target = dup(r, target),
						 .method = dup(r, method) };
}

void
pitr_verify_report_problem(struct pitr_verify_report *r, const char *kind, const char *path,
			   const char *reason)
{
	struct vr_problem *grown;
	char *line;

	if (r->failed)
		return;
	if (r->nchecks == 0) {
		/* Every problem belongs to a check: one before any is a bug. */
		pitr_verify_report_check(r, "other", "", NULL);
		if (r->failed)
			return;
	}
	grown = pitr_xreallocarray(r->problems, r->nproblems + 1, sizeof(*grown));
	if (grown == NULL) {
		r->failed = true;
		return;
	}
	r->problems = grown;
	reason = reason != NULL ? reason : "";
	line = kind != NULL ? pitr_xasprintf("%s \"%s\": %s", kind, path ? path : "", reason) :
			      pitr_xstrdup(reason);
	if (line == NULL)
		r->failed = true;
	grown[r->nproblems++] = (struct vr_problem){ .check = r->nchecks - 1, .kind = dup(r, kind),
						     .path = dup(r, path), .reason = dup(r, reason),
						     .line = line };
	r->checks[r->nchecks - 1].nproblems++;
}

void
pitr_verify_report_segments(struct pitr_verify_report *r, size_t nsegments)
{
	if (r->nchecks > 0) {
		r->checks[r->nchecks - 1].nsegments = nsegments;
		r->checks[r->nchecks - 1].has_segments = true;
	}
}

static void
write_checks(struct pitr_jw *j, const struct pitr_verify_report *r)
{
	pitr_jw_open(j, "checks", '[');
	for (size_t i = 0; i < r->nchecks; i++) {
		const struct vr_check *c = &r->checks[i];

		pitr_jw_open(j, NULL, '{');
		pitr_jw_unum(j, "id", i);
		pitr_jw_str(j, "check", c->type);
		pitr_jw_str(j, "target", c->target);
		pitr_jw_str(j, "method", c->method);
		if (c->has_segments)
			pitr_jw_unum(j, "segments", c->nsegments);
		else
			pitr_jw_null(j, "segments");
		pitr_jw_bool(j, "ok", c->nproblems == 0);
		pitr_jw_unum(j, "problems", c->nproblems);
		pitr_jw_close(j, '}');
	}
	pitr_jw_close(j, ']');
}

static void
write_problems(struct pitr_jw *j, const struct pitr_verify_report *r)
{
	pitr_jw_open(j, "problems", '[');
	for (size_t i = 0; i < r->nproblems; i++) {
		const struct vr_problem *p = &r->problems[i];

		pitr_jw_open(j, NULL, '{');
		pitr_jw_unum(j, "check", p->check);
		pitr_jw_str(j, "kind", p->kind);
		pitr_jw_str(j, "path", p->path);
		pitr_jw_str(j, "reason", p->reason);
		pitr_jw_str(j, "line", p->line);
		pitr_jw_close(j, '}');
	}
	pitr_jw_close(j, ']');
}

int
pitr_verify_report_write(const struct pitr_verify_report *r, FILE *out, const char *backup_dir,
			 const char *const *archives, size_t narchives, size_t nbackups,
			 size_t nsegments)
{
	struct pitr_jw j = { .out = out };

	if (r->failed) {
		pitr_log_error("the JSON report could not be made: out of memory");
		return -1;
	}
	pitr_jw_open(&j, NULL, '{');
	pitr_jw_str(&j, "backup_dir", backup_dir);
	pitr_jw_open(&j, "archives", '[');
	for (size_t i = 0; i < narchives; i++)
		pitr_jw_str(&j, NULL, archives[i]);
	pitr_jw_close(&j, ']');
	pitr_jw_bool(&j, "ok", r->nproblems == 0);
	pitr_jw_open(&j, "summary", '{');
	pitr_jw_unum(&j, "backups", nbackups);
	pitr_jw_unum(&j, "segments_checked", nsegments);
	pitr_jw_unum(&j, "problems", r->nproblems);
	pitr_jw_close(&j, '}');
	write_checks(&j, r);
	write_problems(&j, r);
	pitr_jw_close(&j, '}');
	fputc('\n', out);
	return 0;
}
