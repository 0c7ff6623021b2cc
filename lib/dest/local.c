/*
 * local.c - a local directory destination: durable publish of the
 * file under its final name (see fsutil.h).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compress/codec.h"
#include "dest/dest.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"

struct local_priv {
	struct pitr_publish *pub;    /* NULL when gone */
	enum pitr_dest_result result;
};

/*
 * A --dst-backup dir exists only while its backup needs WAL: the backup
 * removes it once its last segment arrived, which may be while this run
 * writes into it (the .backup history file comes right after).  That is
 * not a failure: the copy is not needed any more.  Whether that is why a
 * step failed: the dir is a backup copy's and it is gone.
 */
static bool
backup_dir_gone(const struct pitr_dest *d)
{
	struct stat st;

	return d->spec.backup_copy && stat(d->spec.location, &st) != 0 && errno == ENOENT;
}

/* Log a held message, or say at -v that the backup dir went away. */
static bool
gone_or_log(const struct pitr_dest *d, const char *held)
{
	if (backup_dir_gone(d)) {
		pitr_log_verbose("backup WAL dir \"%s\" was removed meanwhile (its backup ended): "
				 "no copy needed", d->spec.location);
		return true;
	}
	pitr_log_error("%s", held);
	return false;
}

/* lp->pub for `name`; a backup dir removed meanwhile leaves it NULL. */
static int
open_publish(struct pitr_dest *d, struct local_priv *lp, const char *name)
{
	char held[1024] = "";

	if (!d->spec.backup_copy) {
		lp->pub = pitr_fsutil_publish_open(d->spec.location, name);
		return lp->pub != NULL ? 0 : -1;
	}
	pitr_log_hold(held, sizeof(held));
	lp->pub = pitr_fsutil_publish_open(d->spec.location, name);
	pitr_log_hold(NULL, 0);
	if (lp->pub != NULL || gone_or_log(d, held)) {
		lp->result = PITR_DEST_GONE;
		return 0;
	}
	return -1;
}

static int
local_open(struct pitr_dest *d, const char *name)
{
	struct local_priv *lp;
	struct stat st;

	/* Never create the directory: a missing archive mount must fail
	 * loudly, not fill the root filesystem. */
	if (stat(d->spec.location, &st) != 0) {
		if (backup_dir_gone(d)) {
			(void)gone_or_log(d, "");
			return (d->priv = pitr_xcalloc(1, sizeof(*lp))) != NULL ? 0 : -1;
		}
		pitr_log_error("could not use local destination \"%s\": %s", d->spec.location,
			       strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		pitr_log_error("local destination \"%s\" is not a directory", d->spec.location);
		return -1;
	}
	lp = pitr_xcalloc(1, sizeof(*lp));
	if (lp == NULL)
		return -1;
	if (open_publish(d, lp, name) != 0) {
		free(lp);
		return -1;
	}
	d->priv = lp;
	return 0;
}

static int
local_write(struct pitr_dest *d, const void *buf, size_t len)
{
	struct local_priv *lp = d->priv;

	return lp->pub == NULL ? 0 : pitr_fsutil_publish_write(lp->pub, buf, len);
}

/*
 * Compare the decompressed contents of two files of `codec`: an archive
 * that already holds the segment compressed at another level still holds
 * the same segment.  1 equal, 0 different, -1 error (logged).
 */
static int
same_content(enum pitr_codec codec, const char *a, const char *b)
{
	struct pitr_codec_reader *ra = NULL, *rb = NULL;
	int fa = -1, fb = -1;
	int rc = -1;
	static char bufa[65536], bufb[65536];

	fa = open(a, O_RDONLY | O_CLOEXEC);
	fb = open(b, O_RDONLY | O_CLOEXEC);
	if (fa < 0 || fb < 0) {
		pitr_log_error("could not open \"%s\": %s", fa < 0 ? a : b, strerror(errno));
		goto out;
	}
	ra = pitr_codec_reader_new(codec, fa, a);
	rb = pitr_codec_reader_new(codec, fb, b);
	if (ra == NULL || rb == NULL)
		goto out;
	for (;;) {
		ssize_t na = pitr_codec_reader_read(ra, bufa, sizeof(bufa));
		ssize_t nb, got = 0;

		if (na < 0)
			goto out;
		/* Fill the same amount from b, which may return shorter reads. */
		while (got < na) {
			nb = pitr_codec_reader_read(rb, bufb + got, (size_t)(na - got));
			if (nb < 0)
				goto out;
			if (nb == 0)
				break;
			got += nb;
		}
		if (got != na || memcmp(bufa, bufb, (size_t)na) != 0) {
			rc = 0;
			goto out;
		}
		if (na == 0) {
			rc = 1;
			goto out;
		}
	}
out:
	pitr_codec_reader_free(ra);
	pitr_codec_reader_free(rb);
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return rc;
}

static int
local_finish_begin(struct pitr_dest *d)
{
	struct local_priv *lp = d->priv;
	enum pitr_publish_outcome outcome;
	char held[1024] = "";
	int same, rc;

	if (lp->pub == NULL) {
		lp->result = PITR_DEST_GONE;
		return 0;
	}
	if (d->spec.backup_copy)
		pitr_log_hold(held, sizeof(held));
	rc = pitr_fsutil_publish_commit(lp->pub, &outcome);
	if (d->spec.backup_copy)
		pitr_log_hold(NULL, 0);
	if (rc != 0) {
		if (!d->spec.backup_copy || !gone_or_log(d, held))
			return -1;
		lp->result = PITR_DEST_GONE;
		return 0;
	}
	switch (outcome) {
	case PITR_PUBLISH_NEW:
		lp->result = PITR_DEST_DELIVERED;
		return 0;
	case PITR_PUBLISH_IDENTICAL:
		lp->result = PITR_DEST_ALREADY;
		return 0;
	case PITR_PUBLISH_CONFLICT:
		break;
	}
	same = d->spec.codec == PITR_CODEC_NONE ? 0 :
		same_content(d->spec.codec, pitr_fsutil_publish_temp_path(lp->pub),
			     pitr_fsutil_publish_final_path(lp->pub));
	if (same < 0)
		return -1;
	if (same == 0) {
		pitr_log_error("\"%s\" already exists with different content: not overwritten",
			       pitr_fsutil_publish_final_path(lp->pub));
		return -1;
	}
	lp->result = PITR_DEST_ALREADY;
	return 0;
}

static int
local_finish_end(struct pitr_dest *d, enum pitr_dest_result *result)
{
	struct local_priv *lp = d->priv;

	*result = lp->result;
	pitr_fsutil_publish_free(lp->pub);
	free(lp);
	d->priv = NULL;
	return 0;
}

int
pitr_dest_local_file_id(const struct pitr_dest *d, dev_t *dev, ino_t *ino)
{
	const struct local_priv *lp = d->priv;
	const char *path;
	struct stat st;

	if (d->ops != &pitr_dest_local_ops || lp == NULL || lp->pub == NULL)
		return 1;
	path = pitr_fsutil_publish_temp_path(lp->pub);
	if (lstat(path, &st) != 0) {
		pitr_log_error("could not stat \"%s\": %s", path, strerror(errno));
		return -1;
	}
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

static void
local_abort(struct pitr_dest *d)
{
	struct local_priv *lp = d->priv;

	if (lp == NULL)
		return;
	pitr_fsutil_publish_free(lp->pub);
	free(lp);
	d->priv = NULL;
}

const struct pitr_dest_ops pitr_dest_local_ops = {
	.kind_name = "local",
	.open = local_open,
	.write = local_write,
	.finish_begin = local_finish_begin,
	.finish_end = local_finish_end,
	.abort = local_abort,
	.free = local_abort,
};
