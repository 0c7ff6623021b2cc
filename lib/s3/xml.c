/*
 * xml.c - S3's XML replies read with libxml2: errors, ListObjectsV2,
 * InitiateMultipartUpload, ListMultipartUploads.  A reply that is not the
 * document expected is refused whole (-1, nothing left allocated): the
 * callers then say the store's reply could not be read, never act on half
 * of it.  Elements are matched by local name: AWS and RGW put them in
 * S3's namespace, other stores in none.  No network access, no entity
 * expansion.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "s3/client.h"

#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

static xmlDocPtr
parse(const char *buf, size_t len, const char *root_name, xmlNodePtr *root)
{
	xmlDocPtr doc;

	if (len > INT_MAX)
		return NULL;
	doc = xmlReadMemory(buf, (int)len, "reply.xml", NULL, XML_OPTIONS);
	if (doc == NULL)
		return NULL;
	*root = xmlDocGetRootElement(doc);
	if (*root == NULL || xmlStrcmp((*root)->name, BAD_CAST root_name) != 0) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

static bool
named(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

/* The first child element `name` of `parent`, or NULL. */
static xmlNodePtr
child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent->children; n != NULL; n = n->next)
		if (named(n, name))
			return n;
	return NULL;
}

/* Text of child `name` (malloc'd by libxml2: xmlFree), or NULL. */
static char *
child_text(xmlNodePtr parent, const char *name)
{
	xmlNodePtr n = child(parent, name);

	return n == NULL ? NULL : (char *)xmlNodeGetContent(n);
}

/* Text of child `name` into out[size]; false if absent or too long. */
static bool
child_copy(xmlNodePtr parent, const char *name, char *out, size_t size)
{
	char *t = child_text(parent, name);
	bool ok = t != NULL && strlen(t) < size;

	if (ok)
		strcpy(out, t);
	xmlFree(t);
	return ok;
}

/* Text of child `name` as a malloc'd string (NULL: absent; *bad set when
 * out of memory). */
static char *
child_dup(xmlNodePtr parent, const char *name, bool *bad)
{
	char *t = child_text(parent, name), *copy = NULL;

	if (t != NULL && (copy = strdup(t)) == NULL)
		*bad = true;
	xmlFree(t);
	return copy;
}

static bool
child_true(xmlNodePtr parent, const char *name)
{
	char *t = child_text(parent, name);
	bool yes = t != NULL && strcmp(t, "true") == 0;

	xmlFree(t);
	return yes;
}

int
s3c_xml_error(const char *buf, size_t len, char *code, size_t code_size, char *msg,
	      size_t msg_size)
{
	xmlNodePtr root;
	xmlDocPtr doc = parse(buf, len, "Error", &root);
	char *m;

	if (doc == NULL)
		return -1;
	if (!child_copy(root, "Code", code, code_size) || code[0] == '\0') {
		xmlFreeDoc(doc);
		code[0] = '\0';
		return -1;
	}
	/* A long message is cut, not refused: the code is what counts. */
	msg[0] = '\0';
	if ((m = child_text(root, "Message")) != NULL)
		snprintf(msg, msg_size, "%s", m);
	xmlFree(m);
	xmlFreeDoc(doc);
	return 0;
}

int
s3c_iso8601(const char *s, time_t *t)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
		return -1;
	*t = timegm(&tm);
	return 0;
}

/* A decimal number that fills `s`; false otherwise. */
static bool
parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* One <Contents> into *obj; false if it lacks what an object has. */
static bool
read_object(xmlNodePtr c, struct pitr_s3_object *obj)
{
	char *key = child_text(c, "Key"), *size = child_text(c, "Size");
	char *mtime = child_text(c, "LastModified"), *etag = child_text(c, "ETag");
	const char *e = etag == NULL ? "" : etag;
	size_t elen = strlen(e);
	bool ok = key != NULL && key[0] != '\0' && parse_u64(size, &obj->size) &&
		  s3c_iso8601(mtime, &obj->mtime) == 0;

	if (elen >= 2 && e[0] == '"' && e[elen - 1] == '"')
		e++, elen -= 2;
	ok = ok && elen < sizeof(obj->etag);
	if (ok) {
		memcpy(obj->etag, e, elen);
		obj->etag[elen] = '\0';
		ok = (obj->key = strdup(key)) != NULL;
	}
	xmlFree(key);
	xmlFree(size);
	xmlFree(mtime);
	xmlFree(etag);
	return ok;
}

static size_t
count(xmlNodePtr parent, const char *name)
{
	size_t n = 0;

	for (xmlNodePtr c = parent->children; c != NULL; c = c->next)
		n += named(c, name);
	return n;
}

int
s3c_xml_list(const char *buf, size_t len, struct s3c_listing *out)
{
	xmlNodePtr root;
	xmlDocPtr doc = parse(buf, len, "ListBucketResult", &root);
	bool bad = false;

	memset(out, 0, sizeof(*out));
	if (doc == NULL)
		return -1;
	out->objs = calloc(count(root, "Contents") + 1, sizeof(*out->objs));
	bad = out->objs == NULL;
	for (xmlNodePtr c = root->children; !bad && c != NULL; c = c->next)
		if (named(c, "Contents"))
			bad = !read_object(c, &out->objs[out->nobjs++]);
	out->truncated = child_true(root, "IsTruncated");
	if (!bad)
		out->next_token = child_dup(root, "NextContinuationToken", &bad);
	/* A truncated listing without a token to go on would loop or stop
	 * short: refused. */
	if (!bad && out->truncated && (out->next_token == NULL || out->next_token[0] == '\0'))
		bad = true;
	xmlFreeDoc(doc);
	if (bad) {
		s3c_listing_free(out);
		return -1;
	}
	return 0;
}

void
s3c_listing_free(struct s3c_listing *l)
{
	for (size_t i = 0; l->objs != NULL && i < l->nobjs; i++)
		free(l->objs[i].key);
	free(l->objs);
	free(l->next_token);
	memset(l, 0, sizeof(*l));
}

int
s3c_xml_initiate(const char *buf, size_t len, char **upload_id)
{
	xmlNodePtr root;
	xmlDocPtr doc = parse(buf, len, "InitiateMultipartUploadResult", &root);
	bool bad = false;

	*upload_id = NULL;
	if (doc == NULL)
		return -1;
	*upload_id = child_dup(root, "UploadId", &bad);
	xmlFreeDoc(doc);
	/* An empty id would turn a part's PUT into a plain PUT of the key. */
	if (*upload_id == NULL || (*upload_id)[0] == '\0') {
		free(*upload_id);
		*upload_id = NULL;
		return -1;
	}
	return 0;
}

static bool
read_upload(xmlNodePtr u, struct pitr_s3_pending *p)
{
	bool bad = false;
	char *key = child_dup(u, "Key", &bad), *id = child_dup(u, "UploadId", &bad);
	char *when = child_text(u, "Initiated");
	bool ok = !bad && key != NULL && key[0] != '\0' && id != NULL && id[0] != '\0' &&
		  s3c_iso8601(when, &p->initiated) == 0;

	xmlFree(when);
	if (!ok) {
		free(key);
		free(id);
		return false;
	}
	p->key = key;
	p->upload_id = id;
	return true;
}

int
s3c_xml_uploads(const char *buf, size_t len, struct s3c_uploads *out)
{
	xmlNodePtr root;
	xmlDocPtr doc = parse(buf, len, "ListMultipartUploadsResult", &root);
	bool bad;

	memset(out, 0, sizeof(*out));
	if (doc == NULL)
		return -1;
	out->ups = calloc(count(root, "Upload") + 1, sizeof(*out->ups));
	bad = out->ups == NULL;
	for (xmlNodePtr c = root->children; !bad && c != NULL; c = c->next)
		if (named(c, "Upload") && !(bad = !read_upload(c, &out->ups[out->nups])))
			out->nups++;
	out->truncated = child_true(root, "IsTruncated");
	if (!bad) {
		out->next_key = child_dup(root, "NextKeyMarker", &bad);
		out->next_id = child_dup(root, "NextUploadIdMarker", &bad);
	}
	if (!bad && out->truncated && (out->next_key == NULL || out->next_key[0] == '\0'))
		bad = true;
	xmlFreeDoc(doc);
	if (bad) {
		s3c_uploads_free(out);
		return -1;
	}
	return 0;
}

void
s3c_uploads_free(struct s3c_uploads *u)
{
	for (size_t i = 0; u->ups != NULL && i < u->nups; i++) {
		free((char *)u->ups[i].key);
		free((char *)u->ups[i].upload_id);
	}
	free(u->ups);
	free(u->next_key);
	free(u->next_id);
	memset(u, 0, sizeof(*u));
}
