/*
 * s3opts.c - the PITR_OPTS_S3 options into a struct pitr_s3_config, and
 * the multipart part sizes: what needs no S3 library, kept in libpitrkit.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/opts.h"
#include "common/xalloc.h"
#include "s3/s3.h"

void
pitr_s3_config_from_opts(const struct pitr_opts *o, struct pitr_s3_config *cfg)
{
	const char *style = pitr_opts_str(o, "s3-uri-style");

	memset(cfg, 0, sizeof(*cfg));
	cfg->endpoint = pitr_opts_str(o, "s3-endpoint");
	cfg->region = pitr_opts_str(o, "s3-region");
	cfg->path_style = style != NULL && strcmp(style, "path") == 0;
	cfg->ca_file = pitr_opts_str(o, "s3-ca-file");
	cfg->no_verify_tls = pitr_opts_flag(o, "s3-no-verify-tls");
	cfg->stall_timeout = (int)pitr_opts_int(o, "s3-timeout");
	cfg->retries = (int)pitr_opts_int(o, "s3-retries");
}

/* Every word malloc'd into words[*n], *n counted up; false after ENOMEM. */
static bool
add_word(char **words, int *n, char *word)
{
	if (word == NULL)
		return false;
	words[(*n)++] = word;
	return true;
}

int
pitr_s3_config_words(const struct pitr_s3_config *cfg, char **words)
{
	int n = 0;
	bool ok = true;

	if (cfg->endpoint != NULL)
		ok = add_word(words, &n, pitr_xasprintf("--s3-endpoint=%s", cfg->endpoint));
	if (ok && cfg->region != NULL && cfg->region[0] != '\0' &&
	    strcmp(cfg->region, PITR_S3_REGION_DEFAULT) != 0)
		ok = add_word(words, &n, pitr_xasprintf("--s3-region=%s", cfg->region));
	if (ok && cfg->path_style)
		ok = add_word(words, &n, pitr_xstrdup("--s3-uri-style=path"));
	if (ok && cfg->ca_file != NULL)
		ok = add_word(words, &n, pitr_xasprintf("--s3-ca-file=%s", cfg->ca_file));
	if (ok && cfg->no_verify_tls)
		ok = add_word(words, &n, pitr_xstrdup("--s3-no-verify-tls"));
	if (ok && cfg->stall_timeout != 0 && cfg->stall_timeout != PITR_S3_STALL_TIMEOUT_DEFAULT)
		ok = add_word(words, &n, pitr_xasprintf("--s3-timeout=%d", cfg->stall_timeout));
	if (ok && cfg->retries != PITR_S3_RETRIES_DEFAULT)
		ok = add_word(words, &n, pitr_xasprintf("--s3-retries=%d", cfg->retries));
	if (ok)
		return n;
	while (n > 0)
		free(words[--n]);
	return -1;
}

/* 16 MiB for parts 1-1000, 32 MiB for 1001-2000, ..., 160 MiB for
 * 9001-10000: 10000 parts hold 16 MiB * 1000 * (1 + ... + 10), 880000 MiB,
 * while a stream that stays small is sent in small parts. */
size_t
pitr_s3_part_size(unsigned n)
{
	unsigned step = n == 0 ? 0 : (n - 1) / 1000;

	if (step > 9)
		step = 9;
	return (size_t)(step + 1) * (16u << 20);
}
