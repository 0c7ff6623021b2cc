/*
 * s3opts.c - the PITR_OPTS_S3 options into a struct pitr_s3_config, and
 * the multipart part sizes: what needs no S3 library, kept in libpitrkit.
 */
#include "config.h"

#include <string.h>

#include "common/opts.h"
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
