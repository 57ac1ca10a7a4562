/*
 * test_store_s3_multipart.c - the s3:// client's multipart uploads, delete
 * and bucket check (lib/store/s3.c) against a scripted fake server on
 * 127.0.0.1 (the same fake as test_store_s3_fake.c, which also answers
 * "Expect: 100-continue" at once): an upload in two parts from memory and
 * from a file, with the key checked free before completing; a key taken
 * meanwhile (LACRE_E_EXISTS, the upload aborted); an initiate answer with
 * no UploadId, a part answer with a hostile ETag and a complete answer
 * that is an error document (each refused and aborted); a retried complete
 * whose first attempt landed; delete of a present and a missing object;
 * the bucket created when missing, someone else's bucket refused.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/store.h"

#include "s3_fake_kit.h"

#define R200 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define R204 "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
#define R404 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define HEAD5 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
#define PART(e) "HTTP/1.1 200 OK\r\nETag: " e "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define XML(body) "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nConnection: close\r\n" \
	"Content-Length: %zu\r\n\r\n" body
#define INIT_BODY "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>fake-bucket</Bucket>" \
	"<Key>big</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>"
#define DONE_BODY "<?xml version=\"1.0\"?><CompleteMultipartUploadResult><Key>big</Key>" \
	"<ETag>\"abc-2\"</ETag></CompleteMultipartUploadResult>"
#define ERR_BODY "<?xml version=\"1.0\"?><Error><Code>InternalError</Code></Error>"

#define BIG ((size_t)6 << 20)        /* two parts of the 5 MiB minimum */

static char init_ok[512], done_ok[512], done_err[512], init_bad[512];
static uint8_t *big;

/* The XML answers with their lengths filled in. */
static void answers(void)
{
	snprintf(init_ok, sizeof(init_ok), XML(INIT_BODY), strlen(INIT_BODY));
	snprintf(done_ok, sizeof(done_ok), XML(DONE_BODY), strlen(DONE_BODY));
	snprintf(done_err, sizeof(done_err), XML(ERR_BODY), strlen(ERR_BODY));
	snprintf(init_bad, sizeof(init_bad), XML("<InitiateMultipartUploadResult/>"),
		 strlen("<InitiateMultipartUploadResult/>"));
	if (!big && (big = malloc(BIG)) != NULL)
		for (size_t i = 0; i < BIG; i++)
			big[i] = (uint8_t)(i * 7);
}

/* An s3 store on the fake server: no retries, multipart above 1 MiB in
 * 5 MiB parts; create_bucket as given. */
static struct lacre_store *open_fake(const struct fake *f, int create_bucket)
{
	struct lacre_s3_config cfg;
	struct lacre_store *s = NULL;
	char ep[64];

	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", f->port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint = ep;
	cfg.bucket = "fake-bucket";
	cfg.prefix = "";
	cfg.access_key = "AKFAKE";
	cfg.secret_key = "fake-secret";
	cfg.region = "us-east-1";
	cfg.no_create_bucket = !create_bucket;
	cfg.retries = 0;
	cfg.retry_base_ms = 5;
	cfg.multipart_threshold = (size_t)1 << 20;
	cfg.part_size = 1;                 /* raised to the 5 MiB minimum */
	if (lacre_store_open_s3(&cfg, &s) != LACRE_OK)
		return NULL;
	return s;
}

/* Whether request line i starts with method and contains part. */
static int req_is(const struct fake *f, int i, const char *method, const char *part)
{
	return i < f->served && strncmp(f->req[i], method, strlen(method)) == 0 &&
	       f->req[i][strlen(method)] == ' ' && (!part || strstr(f->req[i], part));
}

/* Two parts, the key checked free, completed. */
static void test_multipart_ok(void)
{
	const char *ans[] = { init_ok, PART("\"e1\""), PART("\"e2\""), R404, done_ok, NULL };
	struct fake f;
	struct lacre_store *s;

	answers();
	CHECK(big != NULL);
	CHECK(fake_start(&f, ans) == 0);
	CHECK((s = open_fake(&f, 0)) != NULL);
	CHECK_OK(lacre_store_put_if_absent(s, "big", big, BIG));
	fake_stop(&f);
	lacre_store_close(s);
	CHECK_EQ_INT(f.served, 5);
	CHECK(req_is(&f, 0, "POST", "/fake-bucket/big?uploads"));
	CHECK(req_is(&f, 1, "PUT", "partNumber=1&uploadId=up-1"));
	CHECK(req_is(&f, 2, "PUT", "partNumber=2&uploadId=up-1"));
	CHECK(req_is(&f, 3, "HEAD", "/fake-bucket/big"));
	CHECK(req_is(&f, 4, "POST", "uploadId=up-1"));
}

/* The same from a file (read with pread). */
static void test_multipart_file(void)
{
	const char *ans[] = { init_ok, PART("\"e1\""), PART("\"e2\""), R404, done_ok, NULL };
	struct fake f;
	struct lacre_store *s;
	char path[600];
	FILE *fp;

	answers();
	snprintf(path, sizeof(path), "%s/big.bin", t_tmpdir());
	CHECK((fp = fopen(path, "wb")) != NULL);
	CHECK(fwrite(big, 1, BIG, fp) == BIG);
	CHECK(fclose(fp) == 0);
	CHECK(fake_start(&f, ans) == 0);
	CHECK((s = open_fake(&f, 0)) != NULL);
	CHECK_OK(lacre_store_put_file_if_absent(s, "big", path));
	fake_stop(&f);
	lacre_store_close(s);
	CHECK_EQ_INT(f.served, 5);
	CHECK(req_is(&f, 2, "PUT", "partNumber=2"));
}

/* Refusals: each aborts the upload (a DELETE with its uploadId). */
static void test_multipart_refusals(void)
{
	const char *taken[] = { init_ok, PART("\"e1\""), PART("\"e2\""), HEAD5, R204, NULL };
	const char *bad_etag[] = { init_ok, PART("<x>"), R204, NULL };
	const char *err_doc[] = { init_ok, PART("\"e1\""), PART("\"e2\""), R404, done_err, R204, NULL };
	const char *no_id[] = { init_bad, NULL };
	struct fake f;
	struct lacre_store *s;

	answers();
	/* the key was taken while the parts went up */
	CHECK(fake_start(&f, taken) == 0);
	CHECK((s = open_fake(&f, 0)) != NULL);
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "big", big, BIG), LACRE_E_EXISTS);
	fake_stop(&f);
	lacre_store_close(s);
	CHECK_EQ_INT(f.served, 5);
	CHECK(req_is(&f, 4, "DELETE", "uploadId=up-1"));
	/* an ETag that is not one */
	CHECK(fake_start(&f, bad_etag) == 0);
	CHECK((s = open_fake(&f, 0)) != NULL);
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "big", big, BIG), LACRE_E_UNEXPECTED);
	fake_stop(&f);
	lacre_store_close(s);
	CHECK_EQ_INT(f.served, 3);
	CHECK(req_is(&f, 2, "DELETE", "uploadId=up-1"));
	/* a 200 carrying an error document */
	CHECK(fake_start(&f, err_doc) == 0);
	CHECK((s = open_fake(&f, 0)) != NULL);
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "big", big, BIG), LACRE_E_UNAVAILABLE);
	fake_stop(&f);
	lacre_store_close(s);
	CHECK_EQ_INT(f.served, 6);
	CHECK(req_is(&f, 5, "DELETE", "uploadId=up-1"));
	/* no UploadId: nothing started, nothing to abort */
	CHECK(fake_start(&f, no_id) == 0);
	CHECK((s = open_fake(&f, 0)) != NULL);
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "big", big, BIG), LACRE_E_UNEXPECTED);
	fake_stop(&f);
	lacre_store_close(s);
	CHECK_EQ_INT(f.served, 1);
}

/* Delete: HEAD first; a missing object is NOT_FOUND without a DELETE. */
static void test_delete(void)
{
	const char *present[] = { HEAD5, R204, NULL };
	const char *missing[] = { R404, NULL };
	struct fake f;
	struct lacre_store *s;

	CHECK(fake_start(&f, present) == 0);
	CHECK((s = open_fake(&f, 0)) != NULL);
	CHECK_OK(lacre_store_del(s, "obj"));
	fake_stop(&f);
	lacre_store_close(s);
	CHECK_EQ_INT(f.served, 2);
	CHECK(req_is(&f, 0, "HEAD", "/fake-bucket/obj"));
	CHECK(req_is(&f, 1, "DELETE", "/fake-bucket/obj"));
	CHECK(fake_start(&f, missing) == 0);
	CHECK((s = open_fake(&f, 0)) != NULL);
	CHECK_EQ_INT(lacre_store_del(s, "obj"), LACRE_E_NOT_FOUND);
	fake_stop(&f);
	lacre_store_close(s);
	CHECK_EQ_INT(f.served, 1);
}

/* The bucket: present; missing and created; someone else's (409). */
static void test_bucket(void)
{
	const char *present[] = { R200, NULL };
	const char *created[] = { R404, R200, NULL };
	char taken_ans[512];
	const char *taken[] = { R404, taken_ans, NULL };
	const char *body = "<?xml version=\"1.0\"?><Error><Code>BucketAlreadyExists</Code></Error>";
	struct fake f;
	struct lacre_store *s, *d = NULL;

	snprintf(taken_ans, sizeof(taken_ans), "HTTP/1.1 409 Conflict\r\nContent-Type: application/xml\r\n"
		 "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
	CHECK(fake_start(&f, present) == 0);
	CHECK((s = open_fake(&f, 1)) != NULL);
	CHECK_OK(lacre_store_s3_ensure_bucket(s));
	CHECK_OK(lacre_store_s3_ensure_bucket(s));   /* known now: no request */
	fake_stop(&f);
	lacre_store_close(s);
	CHECK_EQ_INT(f.served, 1);
	CHECK(req_is(&f, 0, "HEAD", "/fake-bucket"));
	CHECK(fake_start(&f, created) == 0);
	CHECK((s = open_fake(&f, 1)) != NULL);
	CHECK_OK(lacre_store_s3_ensure_bucket(s));
	fake_stop(&f);
	lacre_store_close(s);
	CHECK(req_is(&f, 1, "PUT", "/fake-bucket"));
	CHECK(fake_start(&f, taken) == 0);
	CHECK((s = open_fake(&f, 1)) != NULL);
	CHECK_EQ_INT(lacre_store_s3_ensure_bucket(s), LACRE_E_DENIED);
	fake_stop(&f);
	lacre_store_close(s);
	/* not an s3 store */
	{
		char spec[600];
		snprintf(spec, sizeof(spec), "dir:%s", t_tmpdir());
		CHECK_OK(lacre_store_open(spec, &d));
		CHECK_EQ_INT(lacre_store_s3_ensure_bucket(d), LACRE_E_INVALID);
		CHECK_EQ_INT(lacre_store_s3_ensure_bucket(NULL), LACRE_E_INVALID);
		lacre_store_close(d);
	}
}

int main(void)
{
	RUN(test_multipart_ok);
	RUN(test_multipart_file);
	RUN(test_multipart_refusals);
	RUN(test_delete);
	RUN(test_bucket);
	free(big);
	return t_done();
}
