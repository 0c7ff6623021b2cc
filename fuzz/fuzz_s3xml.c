/*
 * fuzz_s3xml.c - S3's XML replies (lib/s3/xml.c): whatever a store, or
 * something posing as one, sends back is read by every s3:// run.  Each
 * reader gets the input; what must hold: no crash, no leak, a refusal
 * leaves nothing allocated, and what is accepted is whole (keys and
 * upload ids not empty, ETags NUL-terminated within their field, a
 * truncated listing with a token to go on).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "s3/client.h"

static void
check_listing(const uint8_t *data, size_t size)
{
	struct s3c_listing l;

	if (s3c_xml_list((const char *)data, size, &l) != 0) {
		if (l.objs != NULL || l.next_token != NULL || l.nobjs != 0)
			fuzz_fail("a refused listing left something allocated", "");
		return;
	}
	for (size_t i = 0; i < l.nobjs; i++) {
		if (l.objs[i].key == NULL || l.objs[i].key[0] == '\0')
			fuzz_fail("a listed object has no key", "");
		if (memchr(l.objs[i].etag, '\0', sizeof(l.objs[i].etag)) == NULL)
			fuzz_fail("an ETag is not terminated", l.objs[i].key);
	}
	if (l.truncated && (l.next_token == NULL || l.next_token[0] == '\0'))
		fuzz_fail("a truncated listing has no continuation token", "");
	s3c_listing_free(&l);
}

static void
check_uploads(const uint8_t *data, size_t size)
{
	struct s3c_uploads u;

	if (s3c_xml_uploads((const char *)data, size, &u) != 0) {
		if (u.ups != NULL || u.next_key != NULL || u.next_id != NULL)
			fuzz_fail("a refused upload listing left something allocated", "");
		return;
	}
	for (size_t i = 0; i < u.nups; i++)
		if (u.ups[i].key[0] == '\0' || u.ups[i].upload_id[0] == '\0')
			fuzz_fail("a pending upload without key or id", "");
	s3c_uploads_free(&u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char code[64], msg[256], *id;

	if (s3c_xml_error((const char *)data, size, code, sizeof(code), msg, sizeof(msg)) == 0 &&
	    (code[0] == '\0' || strlen(msg) >= sizeof(msg)))
		fuzz_fail("an error reply read without a code", msg);
	if (s3c_xml_initiate((const char *)data, size, &id) == 0) {
		if (id[0] == '\0')
			fuzz_fail("an empty upload id was accepted", "");
		free(id);
	} else if (id != NULL) {
		fuzz_fail("a refused initiate reply left an id", id);
	}
	check_listing(data, size);
	check_uploads(data, size);
	return 0;
}
