/*
 * creds.c - S3 credentials as the AWS tools find them: the environment,
 * then the shared credentials file.  Never from the command line (ps shows
 * it), and never written to a message: a failure names where it looked.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "s3/s3.h"

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The shared credentials file's path (malloc'd), or NULL after logging. */
static char *
creds_path(void)
{
	const char *home = env("HOME");
	const char *file = env("AWS_SHARED_CREDENTIALS_FILE");
	struct passwd *pw;

	if (file != NULL)
		return pitr_xstrdup(file);
	if (home == NULL && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	if (home == NULL) {
		pitr_log_error("no S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, "
			       "and no home directory for ~/.aws/credentials");
		return NULL;
	}
	return pitr_xasprintf("%s/.aws/credentials", home);
}

/* `s` without leading and trailing blanks (in place). */
static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Take "name = value" of section [profile] into `out`; 0, or -1 (out of
 * memory, logged). */
static int
take_line(char *line, struct pitr_s3_creds *out)
{
	char *eq = strchr(line, '='), *name, *value, **slot = NULL;

	if (eq == NULL)
		return 0;
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	if (strcmp(name, "aws_access_key_id") == 0)
		slot = &out->access_key;
	else if (strcmp(name, "aws_secret_access_key") == 0)
		slot = &out->secret_key;
	else if (strcmp(name, "aws_session_token") == 0)
		slot = &out->session_token;
	if (slot == NULL || value[0] == '\0')
		return 0;
	free(*slot);
	return (*slot = pitr_xstrdup(value)) == NULL ? -1 : 0;
}

/* Read section [profile] of `f`; 0, or -1 (out of memory, logged). */
static int
read_profile(FILE *f, const char *profile, struct pitr_s3_creds *out)
{
	char buf[4096];
	bool in = false;

	while (fgets(buf, sizeof(buf), f) != NULL) {
		char *line = trim(buf), *end;

		if (line[0] == '#' || line[0] == ';' || line[0] == '\0')
			continue;
		if (line[0] == '[') {
			end = strchr(line, ']');
			if (end != NULL)
				*end = '\0';
			in = strcmp(trim(line + 1), profile) == 0;
			continue;
		}
		if (in && take_line(line, out) != 0)
			return -1;
	}
	return 0;
}

static int
from_file(struct pitr_s3_creds *out)
{
	const char *profile = env("AWS_PROFILE");
	char *path = creds_path();
	FILE *f;
	int rc = -1;

	if (profile == NULL)
		profile = "default";
	if (path == NULL)
		return -1;
	if ((f = fopen(path, "r")) == NULL) {
		pitr_log_error("no S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, "
			       "and could not read \"%s\": %s", path, strerror(errno));
		goto out;
	}
	if (read_profile(f, profile, out) != 0)
		goto out;
	if (ferror(f)) {
		pitr_log_error("no S3 credentials: could not read \"%s\": %s", path, strerror(errno));
		goto out;
	}
	if (out->access_key == NULL || out->secret_key == NULL) {
		pitr_log_error("no S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, "
			       "and \"%s\" has no aws_access_key_id and aws_secret_access_key in [%s]",
			       path, profile);
		goto out;
	}
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	free(path);
	return rc;
}

int
pitr_s3_creds_load(struct pitr_s3_creds *out)
{
	const char *key = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
	const char *token = env("AWS_SESSION_TOKEN");

	memset(out, 0, sizeof(*out));
	if (key != NULL && secret != NULL) {
		out->access_key = pitr_xstrdup(key);
		out->secret_key = pitr_xstrdup(secret);
		if (token != NULL)
			out->session_token = pitr_xstrdup(token);
		if (out->access_key != NULL && out->secret_key != NULL &&
		    (token == NULL || out->session_token != NULL))
			return 0;
	} else if (from_file(out) == 0) {
		return 0;
	}
	pitr_s3_creds_free(out);
	return -1;
}

/* The secret is overwritten before it is freed: a core file or a later
 * allocation's uninitialised bytes should not show it. */
static void
wipe(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void
pitr_s3_creds_free(struct pitr_s3_creds *creds)
{
	if (creds == NULL)
		return;
	wipe(creds->access_key);
	wipe(creds->secret_key);
	wipe(creds->session_token);
	memset(creds, 0, sizeof(*creds));
}
