/*
 * s3.c - an object-store destination, s3://BUCKET/PREFIX/ (dest.h),
 * through lib/s3.
 *
 * A store has no rename: an object appears whole at its key when a PUT
 * or a multipart upload completes, and not before, which is what a local
 * destination's temporary name and rename give.  So the file is gathered
 * in memory and sent at publish time in one PUT with If-None-Match: *
 * (never replacing an object), or, past one part's size, uploaded in
 * parts as it is written and completed at publish time.
 *
 * An object already at the key is compared, never replaced: read back,
 * it counts as delivered when its bytes are ours (a retry after a
 * delivery the state dir could not record).  A file large enough for
 * parts is not kept whole to compare with, and its name is a backup's,
 * unique: an object at its key is an error before any part is sent.
 *
 * A multipart upload is journaled in the run's temp dir from before it
 * begins until it completes or is aborted (s3journal.h): the next run to
 * the location aborts what a killed run left, at its sweep.
 *
 * A destination takes its client when it opens (a backup learns of
 * missing credentials before it starts), except while a push's warm-up
 * (pitr_dest_s3_warm) may still be making it: then at its first send.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "dest/dest.h"
#include "dest/s3journal.h"
#include "s3/s3.h"

/* The first size the gathering buffer gets: a WAL segment compresses to
 * anything from a few KiB to its whole size. */
#define S3_BUF_FIRST (256u << 10)

struct session_client {
	char *bucket;
	struct pitr_s3 *s3;
};

/* A push's warm-up: a thread making one bucket's client and probing one
 * key (pitr_dest_s3_warm). */
struct warm {
	pthread_t thread;
	bool joined;
	const struct pitr_s3_config *cfg;
	char *bucket;
	char *key;
	int found;                    /* pitr_s3_probe's: 0 there (obj), 1 absent,
				       * -1 unknown or already used */
	struct pitr_s3_object obj;
};

struct pitr_dest_s3_session {
	struct pitr_s3_creds creds;
	bool creds_loaded;
	struct session_client *clients;
	size_t nclients;
	struct warm *warm;            /* begun by pitr_dest_s3_warm, or NULL */
};

struct s3_priv {
	struct pitr_dest_s3_session *own_session; /* when the env has none */
	struct pitr_dest_s3_session *session;     /* own_session or the env's */
	struct pitr_s3 *s3;                       /* the session's, from the first send */
	char *bucket;
	char *key;
	char *label;                  /* s3://BUCKET/KEY, for messages */
	unsigned char *buf;           /* the file, or its current part */
	size_t len;
	size_t cap;
	uint64_t size;                /* bytes written in all */
	unsigned parts;               /* parts uploaded */
	struct pitr_s3_upload *up;    /* a multipart upload, begun */
	struct pitr_tmp journal;      /* its journal, from before it begins */
	bool ended;                   /* end_upload done */
	enum pitr_dest_result result;
};

static const struct pitr_s3_config s3_defaults;

struct pitr_dest_s3_session *
pitr_dest_s3_session_new(void)
{
	return pitr_xcalloc(1, sizeof(struct pitr_dest_s3_session));
}

/* The warm-up's thread done, if there is one: before anything else
 * touches the session. */
static void
settle(struct pitr_dest_s3_session *session)
{
	if (session->warm != NULL && !session->warm->joined) {
		(void)pthread_join(session->warm->thread, NULL);
		session->warm->joined = true;
	}
}

static void
warm_free(struct warm *w)
{
	if (w == NULL)
		return;
	free(w->bucket);
	free(w->key);
	free(w);
}

void
pitr_dest_s3_session_free(struct pitr_dest_s3_session *session)
{
	if (session == NULL)
		return;
	settle(session);
	warm_free(session->warm);
	for (size_t i = 0; i < session->nclients; i++) {
		pitr_s3_free(session->clients[i].s3);
		free(session->clients[i].bucket);
	}
	free(session->clients);
	if (session->creds_loaded)
		pitr_s3_creds_free(&session->creds);
	free(session);
}

/* The session's client for `bucket`, made (credentials loaded first, at
 * the session's first client) when it has none.  NULL after logging.
 * The warm-up's thread, or whoever settled it. */
static struct pitr_s3 *
client_for(struct pitr_dest_s3_session *session, const struct pitr_s3_config *cfg,
	   const char *bucket)
{
	struct session_client *more;
	struct pitr_s3 *s3;
	char *name;

	for (size_t i = 0; i < session->nclients; i++)
		if (strcmp(session->clients[i].bucket, bucket) == 0)
			return session->clients[i].s3;
	if (!session->creds_loaded) {
		if (pitr_s3_creds_load(&session->creds) != 0)
			return NULL;
		session->creds_loaded = true;
	}
	more = pitr_xreallocarray(session->clients, session->nclients + 1, sizeof(*more));
	if (more == NULL)
		return NULL;
	session->clients = more;
	if ((name = pitr_xstrdup(bucket)) == NULL)
		return NULL;
	s3 = pitr_s3_new(cfg != NULL ? cfg : &s3_defaults, &session->creds, bucket);
	if (s3 == NULL) {
		free(name);
		return NULL;
	}
	more[session->nclients].bucket = name;
	more[session->nclients].s3 = s3;
	session->nclients++;
	return s3;
}

static struct pitr_s3 *
session_client(struct pitr_dest_s3_session *session, const struct pitr_s3_config *cfg,
	       const char *bucket)
{
	settle(session);
	return client_for(session, cfg, bucket);
}

/* `spec`'s bucket (malloc'd) and prefix (borrowed): the location is
 * "s3://BUCKET/PREFIX" as pitr_dest_spec_parse() spelt it.  The bucket,
 * or NULL after logging. */
static char *
spec_split(const struct pitr_dest_spec *spec, const char **prefix)
{
	const char *bucket = spec->location + strlen(PITR_S3_SCHEME);
	const char *slash = strchr(bucket, '/');

	if (spec->kind != PITR_DEST_S3 || slash == NULL) {
		pitr_log_error("\"%s\" is not an s3 destination", spec->location);
		return NULL;
	}
	*prefix = slash + 1;
	return pitr_xasprintf("%.*s", (int)(slash - bucket), bucket);
}

/* `spec`'s client in `session`, and its prefix. */
static struct pitr_s3 *
spec_client(struct pitr_dest_s3_session *session, const struct pitr_dest_spec *spec,
	    const struct pitr_dest_env *env, const char **prefix)
{
	char *name = spec_split(spec, prefix);
	struct pitr_s3 *s3;

	if (name == NULL)
		return NULL;
	s3 = session_client(session, env->s3, name);
	free(name);
	return s3;
}

/* Silent: the delivery meets any failure again, and says it. */
static void *
warm_run(void *arg)
{
	struct pitr_dest_s3_session *session = arg;
	struct warm *w = session->warm;
	char held[1024];
	struct pitr_s3 *s3;

	pitr_log_hold(held, sizeof(held));
	s3 = client_for(session, w->cfg, w->bucket);
	w->found = s3 != NULL ? pitr_s3_probe(s3, w->key, &w->obj) : -1;
	pitr_log_hold(NULL, 0);
	return NULL;
}

/* The thread, with every signal blocked, as the project's other helper
 * threads: a handler (sigclean.h) runs in the thread that knows the
 * run's children (spawn.c registers each with signals blocked). */
static int
start_blocked(pthread_t *thread, struct pitr_dest_s3_session *session)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	if (pthread_sigmask(SIG_BLOCK, &all, &old) != 0)
		return -1;
	rc = pthread_create(thread, NULL, warm_run, session);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? 0 : -1;
}

int
pitr_dest_s3_warm(const struct pitr_dest_spec *spec, const struct pitr_dest_env *env,
		  const char *name)
{
	struct pitr_dest_s3_session *session = env->s3_session;
	struct warm *w;
	const char *prefix;

	if (session == NULL || session->warm != NULL || spec->kind != PITR_DEST_S3 ||
	    (w = pitr_xcalloc(1, sizeof(*w))) == NULL)
		return -1;
	w->cfg = env->s3;
	w->found = -1;
	if ((w->bucket = spec_split(spec, &prefix)) == NULL ||
	    (w->key = pitr_xasprintf("%s%s", prefix, name)) == NULL)
		goto fail;
	session->warm = w;
	if (start_blocked(&w->thread, session) == 0)
		return 0;
	session->warm = NULL;
fail:
	warm_free(w);
	return -1;
}

/* What the warm-up's probe found at `bucket`'s `key`, once: 0 an object
 * (*obj), 1 none, -1 unknown (no probe of it, or it failed). */
static int
warm_answer(struct pitr_dest_s3_session *session, const char *bucket, const char *key,
	    struct pitr_s3_object *obj)
{
	struct warm *w = session->warm;
	int found;

	settle(session);
	if (w == NULL || strcmp(w->bucket, bucket) != 0 || strcmp(w->key, key) != 0)
		return -1;
	found = w->found;
	*obj = w->obj;
	w->found = -1;
	return found;
}

struct pitr_s3 *
pitr_dest_s3_client(const struct pitr_dest_spec *spec, const struct pitr_dest_env *env,
		    const char **prefix)
{
	if (env->s3_session == NULL) {
		pitr_log_error("s3 destination \"%s\": the run has no s3 session", spec->location);
		return NULL;
	}
	return spec_client(env->s3_session, spec, env, prefix);
}

static void
s3_abort(struct pitr_dest *d)
{
	struct s3_priv *sp = d->priv;

	if (sp == NULL)
		return;
	/* Nothing of the file stays in the store; an upload the store would
	 * not abort stays journaled for the next run. */
	pitr_s3journal_end(&sp->journal, pitr_s3_upload_abort(sp->up) == 0);
	free(sp->buf);
	free(sp->bucket);
	free(sp->key);
	free(sp->label);
	pitr_dest_s3_session_free(sp->own_session);
	free(sp);
	d->priv = NULL;
}

/* The destination's client, taken when it opens or, after a warm-up, at
 * its first send.  NULL after logging. */
static struct pitr_s3 *
client(struct pitr_dest *d)
{
	struct s3_priv *sp = d->priv;

	if (sp->s3 == NULL)
		sp->s3 = session_client(sp->session, d->env->s3, sp->bucket);
	return sp->s3;
}

static int
s3_open(struct pitr_dest *d, const char *name)
{
	struct s3_priv *sp = pitr_xcalloc(1, sizeof(*sp));
	struct pitr_dest_s3_session *session = d->env->s3_session;
	const char *prefix;

	if (sp == NULL)
		return -1;
	d->priv = sp;
	if (session == NULL && (session = sp->own_session = pitr_dest_s3_session_new()) == NULL)
		goto fail;
	sp->session = session;
	if ((sp->bucket = spec_split(&d->spec, &prefix)) == NULL ||
	    (sp->key = pitr_xasprintf("%s%s", prefix, name)) == NULL ||
	    (sp->label = pitr_xasprintf("s3://%s/%s", sp->bucket, sp->key)) == NULL)
		goto fail;
	if (session->warm == NULL && client(d) == NULL)
		goto fail;
	return 0;
fail:
	s3_abort(d);
	return -1;
}

/* Room for `need` bytes in the buffer, which never grows past `most`
 * (the current part's size). */
static int
reserve(struct s3_priv *sp, size_t need, size_t most)
{
	size_t cap = sp->cap > 0 ? sp->cap : S3_BUF_FIRST;
	unsigned char *buf;

	if (need <= sp->cap)
		return 0;
	while (cap < need)
		cap = cap > most / 2 ? most : cap * 2;
	if ((buf = pitr_xrealloc(sp->buf, cap)) == NULL)
		return -1;
	sp->buf = buf;
	sp->cap = cap;
	return 0;
}

/* The file outgrew one part: an upload begins, journaled, unless an
 * object has the key already. */
static int
begin_multipart(struct pitr_dest *d)
{
	struct s3_priv *sp = d->priv;
	const struct pitr_s3_config *cfg = d->env->s3;
	int rc = client(d) != NULL ? pitr_s3_head(sp->s3, sp->key, NULL) : -1;

	if (rc < 0)
		return -1;
	if (rc == 0) {
		pitr_log_error("\"%s\" already exists: not overwritten (a file uploaded in parts "
			       "never replaces an object)", sp->label);
		return -1;
	}
	if (pitr_s3journal_begin(&sp->journal, d->env->temp_dir, cfg != NULL ? cfg->endpoint : NULL,
				 d->spec.location, sp->key) != 0)
		return -1;
	if ((sp->up = pitr_s3_upload_begin(sp->s3, sp->key)) == NULL) {
		pitr_s3journal_end(&sp->journal, true);
		return -1;
	}
	/* On failure the upload is aborted with the destination. */
	return pitr_s3journal_upload(&sp->journal, pitr_s3_upload_id(sp->up));
}

/* Send the buffer as the next part. */
static int
take_part(struct pitr_dest *d)
{
	struct s3_priv *sp = d->priv;

	if (sp->parts == PITR_S3_PARTS_MAX) {
		pitr_log_error("%s: more than %u parts: too large for one object", sp->label,
			       PITR_S3_PARTS_MAX);
		return -1;
	}
	if (sp->parts == 0 && begin_multipart(d) != 0)
		return -1;
	if (pitr_s3_upload_part(sp->up, sp->buf, sp->len) != 0)
		return -1;
	sp->parts++;
	sp->len = 0;
	return 0;
}

/* A part is sent only once a byte past it arrives: a file of exactly one
 * part's size stays a single PUT. */
static int
s3_write(struct pitr_dest *d, const void *buf, size_t len)
{
	struct s3_priv *sp = d->priv;
	const unsigned char *p = buf;

	while (len > 0) {
		size_t part = pitr_s3_part_size(sp->parts + 1);
		size_t n;

		if (sp->len == part && take_part(d) != 0)
			return -1;
		part = pitr_s3_part_size(sp->parts + 1);
		n = len < part - sp->len ? len : part - sp->len;
		if (reserve(sp, sp->len + n, part) != 0)
			return -1;
		memcpy(sp->buf + sp->len, p, n);
		sp->len += n;
		sp->size += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* A multipart file's last part; a single one waits for its PUT. */
static int
s3_end_upload(struct pitr_dest *d)
{
	struct s3_priv *sp = d->priv;

	if (sp->ended || sp->parts == 0)
		return 0;
	if (take_part(d) != 0)
		return -1;
	sp->ended = true;
	/* Every byte is sent: the next file need not share memory with it. */
	free(sp->buf);
	sp->buf = NULL;
	sp->cap = 0;
	return 0;
}

struct compare_sink {
	const unsigned char *buf;
	size_t len;
	size_t off;
	bool differs;
};

/* A GET's bytes against ours; a difference stops the GET (said by the
 * caller). */
static int
compare_chunk(void *ctx, const void *buf, size_t len)
{
	struct compare_sink *cs = ctx;

	if (len > cs->len - cs->off || memcmp(cs->buf + cs->off, buf, len) != 0) {
		cs->differs = true;
		return -1;
	}
	cs->off += len;
	return 0;
}

/* Read the object back and compare it with the collected bytes: 1 equal,
 * 0 different, 2 gone meanwhile, -1 after logging. */
static int
read_back_equal(struct s3_priv *sp)
{
	struct compare_sink cs = { .buf = sp->buf, .len = sp->len };
	int rc = pitr_s3_get(sp->s3, sp->key, compare_chunk, &cs, NULL);

	if (cs.differs)
		return 0;
	if (rc == 1)
		return 2;
	if (rc != 0)
		return -1;
	return cs.off == cs.len ? 1 : 0;
}

/* An object found at the key against our file: counted as delivered when
 * identical, else one error line and it stays.  1 when it is gone since
 * and `gone_ok` (the warm-up's probe saw it: the PUT is to be made). */
static int
judge_existing(struct pitr_dest *d, const struct pitr_s3_object *obj, bool gone_ok)
{
	struct s3_priv *sp = d->priv;
	int same = obj->size == sp->size ? read_back_equal(sp) : 0;

	if (same == 2 && gone_ok)
		return 1;
	if (same == 2)
		pitr_log_error("%s: removed while it was compared", sp->label);
	if (same < 0 || same == 2)
		return -1;
	if (same == 0) {
		pitr_log_error("\"%s\" already exists with different content: not overwritten",
			       sp->label);
		return -1;
	}
	sp->result = PITR_DEST_ALREADY;
	return 0;
}

/* One PUT that never replaces, sent without asking first (the common
 * case is a key nobody holds: the PUT, after the warm-up's HEAD if the
 * run made one).  An object at the key (there before, put by a racing
 * writer, or by this PUT's own earlier attempt whose reply was lost)
 * makes If-None-Match refuse it, and is judged; one the warm-up's probe
 * found is judged without a PUT, unless it is gone since. */
static int
put_single(struct pitr_dest *d)
{
	struct s3_priv *sp = d->priv;
	struct pitr_s3_object obj;
	int rc;

	if (client(d) == NULL)
		return -1;
	if (warm_answer(sp->session, sp->bucket, sp->key, &obj) == 0 &&
	    (rc = judge_existing(d, &obj, true)) != 1)
		return rc;
	rc = pitr_s3_put(sp->s3, sp->key, sp->buf, sp->len, true);
	if (rc <= 0) {
		sp->result = PITR_DEST_DELIVERED;
		return rc;
	}
	if ((rc = pitr_s3_head(sp->s3, sp->key, &obj)) != 0) {
		if (rc == 1)
			pitr_log_error("%s: appeared and vanished while it was stored", sp->label);
		return -1;
	}
	return judge_existing(d, &obj, false);
}

static int
s3_finish_begin(struct pitr_dest *d)
{
	struct s3_priv *sp = d->priv;

	if (sp->parts == 0)
		return put_single(d);
	if (s3_end_upload(d) != 0)
		return -1;
	/* On failure the upload is aborted with the destination. */
	if (pitr_s3_upload_complete(sp->up) != 0)
		return -1;
	pitr_s3_upload_free(sp->up);
	sp->up = NULL;
	pitr_s3journal_end(&sp->journal, true);
	sp->result = PITR_DEST_DELIVERED;
	return 0;
}

/* The request was made by finish_begin. */
static int
s3_finish_end(struct pitr_dest *d, enum pitr_dest_result *result)
{
	struct s3_priv *sp = d->priv;

	*result = sp->result;
	s3_abort(d);
	return 0;
}

struct stale {
	size_t plen;                  /* the prefix's length */
	time_t now;
	long min_age;
	pitr_dest_s3_stale_fn fn;
	void *ctx;
	int count;
};

static int
stale_one(void *ctx, const struct pitr_s3_pending *p)
{
	struct stale *st = ctx;
	int r;

	/* A flat store: an upload below a further '/' is not pitrkit's. */
	if (strchr(p->key + st->plen, '/') != NULL || st->now - p->initiated < st->min_age)
		return 0;
	if ((r = st->fn(st->ctx, p)) < 0)
		return -1;
	st->count += r == 0;
	return 0;
}

int
pitr_dest_s3_stale_uploads(struct pitr_s3 *s3, const char *prefix, long min_age,
			   pitr_dest_s3_stale_fn fn, void *ctx)
{
	struct stale st = { .plen = strlen(prefix), .now = time(NULL), .min_age = min_age,
			    .fn = fn, .ctx = ctx };

	return pitr_s3_pending_list(s3, prefix, stale_one, &st) == 0 ? st.count : -1;
}

/* The sweep's: abort it, silently (one line for all follows). */
static int
sweep_one(void *ctx, const struct pitr_s3_pending *p)
{
	return pitr_s3_pending_abort(ctx, p->key, p->upload_id) == 0 ? 0 : -1;
}

int
pitr_dest_s3_sweep(const struct pitr_dest_spec *spec, const struct pitr_dest_env *env)
{
	const char *endpoint = env->s3 != NULL ? env->s3->endpoint : NULL;
	struct pitr_s3 *s3;
	const char *prefix;
	char held[1024] = "";
	int journaled = -1, aborted = -1;

	/* Said with -v only: the delivery that follows reports a store it
	 * cannot reach. */
	pitr_log_hold(held, sizeof(held));
	if ((s3 = pitr_dest_s3_client(spec, env, &prefix)) != NULL) {
		journaled = pitr_s3journal_sweep(env->temp_dir, endpoint, spec->location, s3);
		aborted = pitr_dest_s3_stale_uploads(s3, prefix, PITR_DEST_S3_PENDING_MIN_AGE,
						     sweep_one, s3);
	}
	pitr_log_hold(NULL, 0);
	if (journaled > 0)
		pitr_log_info("aborted %d upload%s under \"%s\" left by interrupted runs on this "
			      "host (journaled in \"%s\")", journaled, journaled == 1 ? "" : "s",
			      spec->location, pitr_fsutil_tmpdir(env->temp_dir));
	if (aborted > 0)
		pitr_log_info("aborted %d upload%s under \"%s\" begun more than %d hours ago and "
			      "never completed (killed runs')", aborted, aborted == 1 ? "" : "s",
			      spec->location, PITR_DEST_S3_PENDING_MIN_AGE / 3600);
	if (journaled < 0 || aborted < 0) {
		pitr_log_verbose("could not sweep \"%s\" for abandoned uploads: %s", spec->location,
				 held);
		return -1;
	}
	return journaled + aborted;
}

const struct pitr_dest_ops pitr_dest_s3_ops = {
	.kind_name = "s3",
	.staged = true,
	.open = s3_open,
	.write = s3_write,
	.end_upload = s3_end_upload,
	.finish_begin = s3_finish_begin,
	.finish_end = s3_finish_end,
	.abort = s3_abort,
	.free = s3_abort,
};
