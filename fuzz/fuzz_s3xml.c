/*
 * fuzz_s3xml.c - libFuzzer harness for what lacre reads from an S3 server's
 * answers (lib/store/s3_xml.c and the readers of lib/store/s3.c): the XML
 * walk over expat, the lookups of Error/Code, UploadId and the ETag of a
 * completed multipart upload, the ListObjectsV2 page reader (list_cb) and
 * the ETag response-header reader (on_header).
 *
 * lib/store/s3.c is included here, not linked, so that its file-local
 * readers run exactly as the store runs them, without a network.  The
 * input is used whole as an XML body, and line by line as response
 * headers.
 *
 * Invariants: every path the walk reports is 1..8 non-empty names joined
 * by '/', shorter than the walk's buffer; every text is NUL-terminated at
 * its length, at most S3_XML_TEXT_MAX, with no NUL inside; a document
 * opening with a DOCTYPE is refused; s3_xml_find returns the first text the
 * walk gave for its path (or TOO_LARGE / NOT_FOUND as the walk implies); the names a
 * listing hands on pass the store's name rules, lie under the prefix asked
 * for and strictly increase; a kept ETag is NUL-terminated within its
 * buffer; a URI-encoded upload id holds only unreserved bytes and %XX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/store/s3.c"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Paths lacre looks up with s3_xml_find, and the caps it gives. */
static const struct {
	const char *path;
	size_t cap;
} fz_s3_finds[] = {
	{ "Error/Code", 64 },
	{ "InitiateMultipartUploadResult/UploadId", S3_XML_TEXT_MAX + 1 },
	{ "CompleteMultipartUploadResult/ETag", 256 },
	{ "ListBucketResult/NextContinuationToken", 16 },
};
#define FZ_S3_NFIND (sizeof(fz_s3_finds) / sizeof(fz_s3_finds[0]))

/* What the checking walk saw. */
struct fz_s3_seen {
	unsigned elements;
	int found[FZ_S3_NFIND];
	char text[FZ_S3_NFIND][S3_XML_TEXT_MAX + 1];
	size_t len[FZ_S3_NFIND];
};

/* Counters the corpus replay asserts on. */
static unsigned long fz_s3_listed, fz_s3_found, fz_s3_etags;

/* s3_xml_fn: check one element's path and text. */
static int fz_s3_check(void *arg, const char *path, const char *text, size_t len)
{
	struct fz_s3_seen *s = arg;
	size_t pl = strlen(path), i, names = 1;

	s->elements++;
	FUZZ_CHECK(pl > 0 && pl < 256);   /* s3_xml.c: PATH_MAX_LEN */
	FUZZ_CHECK(path[0] != '/' && path[pl - 1] != '/' && strstr(path, "//") == NULL);
	for (i = 0; i < pl; i++)
		names += path[i] == '/';
	FUZZ_CHECK(names <= S3_XML_DEPTH_MAX);
	FUZZ_CHECK(len <= S3_XML_TEXT_MAX && text[len] == '\0' && strlen(text) == len);
	for (i = 0; i < FZ_S3_NFIND; i++) {
		if (!s->found[i] && strcmp(path, fz_s3_finds[i].path) == 0) {
			s->found[i] = 1;
			memcpy(s->text[i], text, len + 1);
			s->len[i] = len;
		}
	}
	return 0;
}

/* store_list_fn: the names a listing hands on. */
static int fz_s3_listed_fn(void *arg, const char *name, uint64_t size)
{
	char *last = arg;

	(void)size;
	FUZZ_CHECK(lacre_store_name_check(name) == LACRE_OK);
	FUZZ_CHECK(strlen(name) <= LACRE_STORE_NAME_MAX);
	FUZZ_CHECK(last[0] == '\0' || strcmp(last, name) < 0);
	memcpy(last, name, strlen(name) + 1);
	fz_s3_listed++;
	return 0;
}

/* One ListObjectsV2 page through list_cb under prefix. */
static void fz_s3_list(const uint8_t *data, size_t size, const char *prefix)
{
	struct s3_store st;
	struct s3_list *l = calloc(1, sizeof(*l));
	char last[LACRE_STORE_NAME_MAX + 1] = "";
	int r;

	FUZZ_CHECK(l != NULL);
	memset(&st, 0, sizeof(st));
	st.prefix = (char *)prefix;
	l->s = &st;
	l->fn = fz_s3_listed_fn;
	l->arg = last;
	r = s3_xml_walk(data, size, list_cb, l);
	FUZZ_CHECK(l->user_stop == 0);
	FUZZ_CHECK(strlen(l->token) <= S3_XML_TEXT_MAX && strlen(l->last) < sizeof(l->last));
	if (r == LACRE_OK && l->count)
		FUZZ_CHECK(strcmp(l->last, last) == 0);
	free(l);
}

/* Feed each line of the input to the ETag header reader. */
static void fz_s3_headers(const uint8_t *data, size_t size)
{
	struct s3_resp a;
	size_t off = 0, n;
	const uint8_t *nl;
	char *line;

	memset(&a, 0, sizeof(a));
	while (off < size) {
		nl = memchr(data + off, '\n', size - off);
		n = nl ? (size_t)(nl - (data + off)) + 1 : size - off;
		/* curl hands a header line in its own buffer, not NUL-terminated */
		line = malloc(n);
		FUZZ_CHECK(line != NULL);
		memcpy(line, data + off, n);
		FUZZ_CHECK(on_header(line, 1, n, &a) == n);
		free(line);
		FUZZ_CHECK(memchr(a.etag, '\0', sizeof(a.etag)) != NULL);
		off += n;
	}
	if (a.etag[0]) {
		fz_s3_etags++;
		(void)etag_ok(a.etag);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_s3_seen *s = calloc(1, sizeof(*s));
	char out[S3_XML_TEXT_MAX + 1];
	struct lacre_dbuf enc;
	size_t i;
	int r, rf;

	FUZZ_CHECK(s != NULL);
	r = s3_xml_walk(data, size, fz_s3_check, s);
	/* a document that opens with a DOCTYPE is refused */
	for (i = 0; i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'); i++)
		;
	if (size - i >= 9 && memcmp(data + i, "<!DOCTYPE", 9) == 0)
		FUZZ_CHECK(r != LACRE_OK);
	for (i = 0; i < FZ_S3_NFIND; i++) {
		rf = s3_xml_find(data, size, fz_s3_finds[i].path, out, fz_s3_finds[i].cap);
		if (rf == LACRE_OK) {
			fz_s3_found++;
			FUZZ_CHECK(s->found[i]);
			FUZZ_CHECK(strlen(out) == s->len[i] && strcmp(out, s->text[i]) == 0);
		} else if (s->found[i]) {
			FUZZ_CHECK(rf == LACRE_E_TOO_LARGE && s->len[i] + 1 > fz_s3_finds[i].cap);
		} else if (r == LACRE_OK) {
			FUZZ_CHECK(rf == LACRE_E_NOT_FOUND);
		}
	}
	/* an UploadId goes into a query string */
	if (s->found[1]) {
		lacre_dbuf_init(&enc, 4 * S3_XML_TEXT_MAX);
		FUZZ_CHECK(uri_encode(&enc, s->text[1]) == LACRE_OK);
		for (i = 0; i < enc.len; i++) {
			uint8_t c = enc.p[i];
			FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				   (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
				   c == '~' || c == '%');
		}
		lacre_dbuf_free(&enc);
	}
	fz_s3_list(data, size, "");
	fz_s3_list(data, size, "lacre/site-1/");
	fz_s3_headers(data, size);
	free(s);
	return 0;
}
