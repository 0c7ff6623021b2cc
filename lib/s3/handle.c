/*
 * handle.c - a client: where it sends (the URL base, path style or
 * virtual host), how it signs, its libcurl handle; and the names and
 * encodings of keys that requests and messages use.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "s3/client.h"

#define BACKOFF_FIRST_MS 200

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool init_ok;

/* curl_global_init is not thread-safe in every libcurl: once per process. */
static void
global_init(void)
{
	init_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

char *
s3c_encode(const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = pitr_xmalloc(strlen(s) * 3 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		    *c == '-' || *c == '.' || *c == '_' || *c == '~' || (keep_slash && *c == '/')) {
			*o++ = (char)*c;
		} else {
			*o++ = '%';
			*o++ = hex[*c >> 4];
			*o++ = hex[*c & 15];
		}
	}
	*o = '\0';
	return out;
}

char *
s3c_label(const struct pitr_s3 *s3, const char *key)
{
	return pitr_xasprintf("s3://%s/%s", s3->bucket, key == NULL ? "" : key);
}

/* "scheme://host[:port]" of `endpoint` with `bucket` in the path or the
 * host name. */
static char *
base_url(const struct pitr_s3_config *cfg, const char *region, const char *bucket)
{
	char *dflt = NULL, *base;
	const char *ep = cfg->endpoint, *host;
	size_t len;

	if (ep == NULL || ep[0] == '\0')
		ep = dflt = pitr_xasprintf("https://s3.%s.amazonaws.com", region);
	if (ep == NULL)
		return NULL;
	len = strlen(ep);
	while (len > 0 && ep[len - 1] == '/')
		len--;
	host = strstr(ep, "://");
	if (host == NULL || (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0)) {
		pitr_log_error("--s3-endpoint: \"%s\" is not an http:// or https:// URL", ep);
		base = NULL;
	} else if (cfg->path_style) {
		base = pitr_xasprintf("%.*s/%s", (int)len, ep, bucket);
	} else {
		host += 3;
		base = pitr_xasprintf("%.*s%s.%.*s", (int)(host - ep), ep, bucket,
				      (int)(len - (size_t)(host - ep)), host);
	}
	free(dflt);
	return base;
}

struct pitr_s3 *
s3c_new(const struct pitr_s3_config *cfg, const struct pitr_s3_creds *creds, const char *bucket)
{
	const char *region = cfg->region != NULL && cfg->region[0] != '\0' ? cfg->region
								     : PITR_S3_REGION_DEFAULT;
	struct pitr_s3 *s3;

	pthread_once(&init_once, global_init);
	if (!init_ok) {
		pitr_log_error("s3://%s: could not initialise libcurl", bucket);
		return NULL;
	}
	if ((s3 = pitr_xcalloc(1, sizeof(*s3))) == NULL)
		return NULL;
	s3->bucket = pitr_xstrdup(bucket);
	s3->base = base_url(cfg, region, bucket);
	s3->sigv4 = pitr_xasprintf("aws:amz:%s:s3", region);
	s3->access_key = pitr_xstrdup(creds->access_key);
	s3->secret_key = pitr_xstrdup(creds->secret_key);
	if (creds->session_token != NULL)
		s3->token_header = pitr_xasprintf("x-amz-security-token: %s", creds->session_token);
	if (cfg->ca_file != NULL)
		s3->ca_file = pitr_xstrdup(cfg->ca_file);
	s3->no_verify_tls = cfg->no_verify_tls;
	s3->connect_timeout = cfg->connect_timeout > 0 ? cfg->connect_timeout
						       : PITR_S3_CONNECT_TIMEOUT_DEFAULT;
	s3->stall_timeout = cfg->stall_timeout > 0 ? cfg->stall_timeout : PITR_S3_STALL_TIMEOUT_DEFAULT;
	s3->retries = cfg->retries > 0 ? cfg->retries : 0;
	s3->backoff_ms = BACKOFF_FIRST_MS;
	s3->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	s3->curl = curl_easy_init();
	if (s3->bucket == NULL || s3->base == NULL || s3->sigv4 == NULL || s3->access_key == NULL ||
	    s3->secret_key == NULL || (creds->session_token != NULL && s3->token_header == NULL) ||
	    (cfg->ca_file != NULL && s3->ca_file == NULL) || s3->curl == NULL) {
		if (s3->curl == NULL && s3->base != NULL)
			pitr_log_error("s3://%s: could not make a libcurl handle", bucket);
		s3c_free(s3);
		return NULL;
	}
	return s3;
}

static void
wipe(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

void
s3c_free(struct pitr_s3 *s3)
{
	if (s3 == NULL)
		return;
	if (s3->curl != NULL)
		curl_easy_cleanup(s3->curl);
	free(s3->bucket);
	free(s3->base);
	free(s3->sigv4);
	wipe(s3->access_key);
	wipe(s3->secret_key);
	wipe(s3->token_header);
	free(s3->ca_file);
	free(s3);
}
