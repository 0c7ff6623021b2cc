/*
 * store_s3.c - the object-store kind of store (see store.h): the objects
 * right under s3://BUCKET/PREFIX/ as a directory's files.  Listings,
 * lookups and removals go through the store's own client; each open read
 * through a client of its own, which a thread (common/pipefeed.h) drives
 * while the reader pulls from the pipe, and which goes back to a pool when
 * the read ends, for the next one to reuse its connection.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pipefeed.h"
#include "common/xalloc.h"
#include "repo/store.h"
#include "repo/store_impl.h"
#include "s3/s3.h"

/* An open read: its GET's thread and client. */
struct s3_read {
	struct pitr_pipefeed *feed;
	struct pitr_s3 *client;
	char *key;
	int fd;
	struct s3_read *next;
};

struct pitr_store_s3 {
	struct pitr_s3_url url;
	struct pitr_s3_config cfg;   /* its strings owned */
	struct pitr_s3_creds creds;
	bool have_creds;
	struct pitr_s3 *main;        /* listings, HEAD, DELETE */
	struct pitr_s3 **idle;       /* clients of ended reads */
	size_t nidle;
	struct s3_read *reads;       /* open reads */
};

static int
copy_config(struct pitr_s3_config *to, const struct pitr_s3_config *from)
{
	if (from != NULL)
		*to = *from;
	to->endpoint = to->region = to->ca_file = NULL;
	if (from == NULL)
		return 0;
	if ((from->endpoint != NULL && (to->endpoint = pitr_xstrdup(from->endpoint)) == NULL) ||
	    (from->region != NULL && (to->region = pitr_xstrdup(from->region)) == NULL) ||
	    (from->ca_file != NULL && (to->ca_file = pitr_xstrdup(from->ca_file)) == NULL))
		return -1;
	return 0;
}

int
pitr_store_s3_init(struct pitr_store *st, const struct pitr_s3_config *cfg)
{
	if ((st->s3 = pitr_xcalloc(1, sizeof(*st->s3))) == NULL)
		return -1;
	if (pitr_s3_url_parse(st->location, st->role, &st->s3->url) != 0)
		return -1;
	return copy_config(&st->s3->cfg, cfg);
}

/* A new client for the bucket, credentials loaded at the first. */
static struct pitr_s3 *
client_new(struct pitr_store_s3 *s)
{
	if (!s->have_creds) {
		if (pitr_s3_creds_load(&s->creds) != 0)
			return NULL;
		s->have_creds = true;
	}
	return pitr_s3_new(&s->cfg, &s->creds, s->url.bucket);
}

static struct pitr_s3 *
main_client(struct pitr_store_s3 *s)
{
	if (s->main == NULL)
		s->main = client_new(s);
	return s->main;
}

int
pitr_store_s3_client(struct pitr_store *st, struct pitr_s3 **client, const char **prefix)
{
	if ((*client = main_client(st->s3)) == NULL)
		return -1;
	*prefix = st->s3->url.prefix;
	return 0;
}

static char *
s3_key(const struct pitr_store *st, const char *name)
{
	return pitr_xasprintf("%s%s", st->s3->url.prefix, name);
}

static char *
s3_path(const struct pitr_store *st, const char *name)
{
	return pitr_xasprintf(PITR_S3_SCHEME "%s/%s%s", st->s3->url.bucket, st->s3->url.prefix,
			      name);
}

/* ---- listing, lookup, removal ---- */

struct list_ctx {
	struct pitr_store_listing *l;
	size_t prefix_len;
};

static int
list_one(void *ctx, const struct pitr_s3_object *obj)
{
	struct list_ctx *c = ctx;
	struct pitr_store_entry e = { .name = obj->key + c->prefix_len, .size = obj->size,
				      .mtime = obj->mtime, .regular = true };

	/* The prefix's own key (a "folder" made by a console) is no file. */
	if (e.name[0] == '\0')
		return 0;
	return pitr_store_listing_add(c->l, &e) == 0 ? 0 : -1;
}

static int
s3_list(struct pitr_store *st, struct pitr_store_listing *l)
{
	struct pitr_s3 *client = main_client(st->s3);
	struct list_ctx c = { .l = l, .prefix_len = strlen(st->s3->url.prefix) };

	if (client == NULL)
		return -1;
	return pitr_s3_list(client, st->s3->url.prefix, false, list_one, &c);
}

static int
s3_stat(struct pitr_store *st, const char *name, struct pitr_store_entry *e)
{
	struct pitr_s3 *client = main_client(st->s3);
	struct pitr_s3_object obj = { 0 };
	char *key;
	int rc;

	if (client == NULL || (key = s3_key(st, name)) == NULL)
		return -1;
	rc = pitr_s3_head(client, key, &obj);
	free(key);
	if (rc == 0) {
		e->size = obj.size;
		e->mtime = obj.mtime;
		e->regular = true;
		e->marked = obj.mark[0] != '\0';
	}
	return rc;
}

static int
s3_remove(struct pitr_store *st, const char *name)
{
	struct pitr_s3 *client = main_client(st->s3);
	char *key;
	int rc;

	if (client == NULL || (key = s3_key(st, name)) == NULL)
		return -1;
	rc = pitr_s3_delete(client, key);
	free(key);
	return rc;
}

/* ---- reads ---- */

static struct pitr_s3 *
client_take(struct pitr_store_s3 *s)
{
	if (s->nidle > 0)
		return s->idle[--s->nidle];
	return client_new(s);
}

/* Back to the pool; freed when the pool cannot grow. */
static void
client_give(struct pitr_store_s3 *s, struct pitr_s3 *client)
{
	struct pitr_s3 **grown = pitr_xreallocarray(s->idle, s->nidle + 1, sizeof(*grown));

	if (grown == NULL) {
		pitr_s3_free(client);
		return;
	}
	s->idle = grown;
	s->idle[s->nidle++] = client;
}

/* The feed's producer, in its thread: one GET into the pipe. */
static int
get_into(void *ctx, pitr_pipefeed_write_fn write, void *wctx)
{
	struct s3_read *r = ctx;

	return pitr_s3_get(r->client, r->key, write, wctx, NULL);
}

static void
read_free(struct pitr_store_s3 *s, struct s3_read *r)
{
	if (r->client != NULL)
		client_give(s, r->client);
	free(r->key);
	free(r);
}

static int
s3_read_begin(struct pitr_store *st, const char *name, char *reason, size_t reason_size)
{
	struct pitr_store_s3 *s = st->s3;
	struct s3_read *r = pitr_xcalloc(1, sizeof(*r));
	int rc;

	if (r == NULL)
		return -1;
	if ((r->key = s3_key(st, name)) == NULL || (r->client = client_take(s)) == NULL) {
		read_free(s, r);
		return -1;
	}
	rc = pitr_pipefeed_begin(get_into, r, &r->feed, reason, reason_size);
	if (rc != 0) {
		read_free(s, r);
		return rc > 0 ? -2 : -1;
	}
	r->fd = pitr_pipefeed_fd(r->feed);
	r->next = s->reads;
	s->reads = r;
	return r->fd;
}

/* The open read of `fd`, unlinked; NULL after logging when there is none
 * (a descriptor this store did not give). */
static struct s3_read *
read_take(struct pitr_store *st, int fd)
{
	for (struct s3_read **p = &st->s3->reads; *p != NULL; p = &(*p)->next) {
		struct s3_read *r = *p;

		if (r->fd == fd) {
			*p = r->next;
			return r;
		}
	}
	pitr_log_error("descriptor %d is no open read of %s \"%s\"", fd, st->role, st->location);
	return NULL;
}

static int
s3_read_end(struct pitr_store *st, int fd, unsigned flags, char *reason, size_t reason_size)
{
	struct s3_read *r = read_take(st, fd);
	int rc;

	if (r == NULL)
		return -1;
	rc = pitr_pipefeed_end(r->feed, (flags & PITR_STORE_READ_EARLY) != 0, reason, reason_size);
	read_free(st->s3, r);
	return rc;
}

static void
s3_free(struct pitr_store *st)
{
	struct pitr_store_s3 *s = st->s3;

	if (s == NULL)
		return;
	/* Reads a caller left open: their threads stopped before their
	 * clients go. */
	while (s->reads != NULL) {
		struct s3_read *r = s->reads;
		char ignored[2];

		s->reads = r->next;
		(void)pitr_pipefeed_end(r->feed, true, ignored, sizeof(ignored));
		pitr_s3_free(r->client);
		free(r->key);
		free(r);
	}
	for (size_t i = 0; i < s->nidle; i++)
		pitr_s3_free(s->idle[i]);
	free(s->idle);
	pitr_s3_free(s->main);
	if (s->have_creds)
		pitr_s3_creds_free(&s->creds);
	pitr_s3_url_free(&s->url);
	free((char *)s->cfg.endpoint);
	free((char *)s->cfg.region);
	free((char *)s->cfg.ca_file);
	free(s);
	st->s3 = NULL;
}

const struct pitr_store_kind pitr_store_s3_kind = {
	.list = s3_list,
	.stat = s3_stat,
	.read_begin = s3_read_begin,
	.read_end = s3_read_end,
	.remove = s3_remove,
	.path = s3_path,
	.free_ = s3_free,
};
