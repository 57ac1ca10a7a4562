/*
 * test_store_s3_fake.c - the s3:// client against a scripted fake server
 * on 127.0.0.1 (no real S3 needed, so it always runs): retries on 5xx and
 * dropped connections then LACRE_E_UNAVAILABLE, a put whose first attempt
 * landed before its connection broke, and hostile answers: a DOCTYPE, a
 * list that is out of order or truncated without a token, keys outside
 * the prefix, a ranged GET that returns too much, a server that ignores
 * Range.  Each scripted answer is sent on its own connection.
 */
#include <arpa/inet.h>
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

/* An s3 store on the fake server, no bucket creation, quick retries. */
static struct lacre_store *open_fake(const struct fake *f, int retries,
				     const char *prefix)
{
	struct lacre_s3_config cfg;
	struct lacre_store *s = NULL;
	char ep[64];

	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", f->port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint = ep;
	cfg.bucket = "fake-bucket";
	cfg.prefix = prefix;
	cfg.access_key = "AKFAKE";
	cfg.secret_key = "fake-secret";
	cfg.region = "us-east-1";
	cfg.no_create_bucket = 1;
	cfg.retries = retries;
	cfg.retry_base_ms = 5;
	cfg.list_max_keys = 2;
	if (lacre_store_open_s3(&cfg, &s) != LACRE_OK)
		return NULL;
	return s;
}

#define R200 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define R503 "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define R500 "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define R412 "HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define XML200(body) "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nConnection: close\r\n" \
	"Content-Length: " #body "\r\n\r\n"

static void test_retry_then_ok(void)
{
	const char *ans[] = { R503, "CLOSE", R500, R200, NULL };
	struct fake f;
	struct lacre_store *s;

	CHECK(fake_start(&f, ans) == 0);
	s = open_fake(&f, 4, "");
	CHECK(s != NULL);
	CHECK_OK(lacre_store_put_if_absent(s, "obj", "data", 4));
	fake_stop(&f);
	CHECK_EQ_INT(f.served, 4);
	CHECK(strncmp(f.req[0], "PUT /fake-bucket/obj ", 21) == 0);
	CHECK(strncmp(f.req[3], "PUT /fake-bucket/obj ", 21) == 0);
	lacre_store_close(s);
}

static void test_retry_exhausted(void)
{
	const char *ans[] = { R503, R503, R503, R503, NULL };
	struct fake f;
	struct lacre_store *s;
	uint64_t size;

	CHECK(fake_start(&f, ans) == 0);
	s = open_fake(&f, 2, "");
	CHECK(s != NULL);
	CHECK_EQ_INT(lacre_store_stat(s, "obj", &size), LACRE_E_UNAVAILABLE);
	fake_stop(&f); /* joins the server thread: served is final */
	CHECK_EQ_INT(f.served, 3); /* 1 + 2 retries, no more */
	lacre_store_close(s);
}

static void test_put_landed_before_break(void)
{
	/* the first PUT landed but its answer was lost; the retry gets 412,
	 * and the read-back shows our own bytes: success */
	const char *same[] = { "CLOSE", R412,
		"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndata",
		NULL };
	const char *other[] = { "CLOSE", R412,
		"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nDATA",
		NULL };
	const char *plain[] = { R412, NULL };
	struct fake f;
	struct lacre_store *s;

	CHECK(fake_start(&f, same) == 0);
	s = open_fake(&f, 3, "");
	CHECK_OK(lacre_store_put_if_absent(s, "obj", "data", 4));
	fake_stop(&f);
	CHECK(strncmp(f.req[2], "GET /fake-bucket/obj ", 21) == 0);
	lacre_store_close(s);

	CHECK(fake_start(&f, other) == 0);
	s = open_fake(&f, 3, "");
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "obj", "data", 4), LACRE_E_EXISTS);
	fake_stop(&f);
	lacre_store_close(s);

	/* a 412 at the first attempt is EXISTS without reading back */
	CHECK(fake_start(&f, plain) == 0);
	s = open_fake(&f, 3, "");
	CHECK_EQ_INT(lacre_store_put_if_absent(s, "obj", "data", 4), LACRE_E_EXISTS);
	fake_stop(&f);
	CHECK_EQ_INT(f.served, 1);
	lacre_store_close(s);
}

/* list callback counting names. */
static int count_cb(void *arg, const char *name, uint64_t size)
{
	(void)name;
	(void)size;
	(*(int *)arg)++;
	return 0;
}

#define LIST_HEAD "<?xml version=\"1.0\"?><ListBucketResult>"
#define ENTRY(k, n) "<Contents><Key>" k "</Key><Size>" #n "</Size></Contents>"

/* Serve one list page (body) and return list's result and count. */
static int list_once(const char *resp, const char *resp2, int *n)
{
	const char *ans[] = { resp, resp2, NULL };
	struct fake f;
	struct lacre_store *s;
	int r;

	*n = 0;
	if (fake_start(&f, ans) != 0)
		return -999;
	s = open_fake(&f, 0, "p");
	r = lacre_store_list(s, "", count_cb, n);
	fake_stop(&f);
	lacre_store_close(s);
	return r;
}

/* An HTTP 200 with an XML body. */
static char *xml_resp(const char *body)
{
	static char bufs[4][4096];
	static int i;
	char *b = bufs[i++ % 4];

	snprintf(b, 4096, "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
			  "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
	return b;
}

static void test_hostile_lists(void)
{
	int n, r;

	/* two good pages */
	r = list_once(xml_resp(LIST_HEAD "<IsTruncated>true</IsTruncated>"
			       "<NextContinuationToken>t+1/=</NextContinuationToken>"
			       ENTRY("p/a", 1) ENTRY("p/b", 2) "</ListBucketResult>"),
		      xml_resp(LIST_HEAD "<IsTruncated>false</IsTruncated>"
			       ENTRY("p/c", 3) ENTRY("p/BAD", 3) "</ListBucketResult>"),
		      &n);
	CHECK_OK(r);
	CHECK_EQ_INT(n, 3); /* p/BAD is not a lacre name: skipped */
	/* truncated with no token */
	r = list_once(xml_resp(LIST_HEAD "<IsTruncated>true</IsTruncated>"
			       ENTRY("p/a", 1) "</ListBucketResult>"), NULL, &n);
	CHECK_EQ_INT(r, LACRE_E_CORRUPT);
	/* out of order */
	r = list_once(xml_resp(LIST_HEAD "<IsTruncated>false</IsTruncated>"
			       ENTRY("p/b", 1) ENTRY("p/a", 1) "</ListBucketResult>"),
		      NULL, &n);
	CHECK_EQ_INT(r, LACRE_E_CORRUPT);
	/* a key outside the prefix asked for */
	r = list_once(xml_resp(LIST_HEAD "<IsTruncated>false</IsTruncated>"
			       ENTRY("q/a", 1) "</ListBucketResult>"), NULL, &n);
	CHECK_EQ_INT(r, LACRE_E_CORRUPT);
	/* a DOCTYPE (entity tricks) */
	r = list_once(xml_resp("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]>"
			       "<ListBucketResult><IsTruncated>false</IsTruncated>"
			       "</ListBucketResult>"), NULL, &n);
	CHECK_EQ_INT(r, LACRE_E_MALFORMED);
	/* not XML at all, and a size that overflows */
	r = list_once(xml_resp("<ListBucketResult><Contents>"), NULL, &n);
	CHECK_EQ_INT(r, LACRE_E_MALFORMED);
	r = list_once(xml_resp(LIST_HEAD ENTRY("p/a", 99999999999999999999999)
			       "</ListBucketResult>"), NULL, &n);
	CHECK_EQ_INT(r, LACRE_E_MALFORMED);
	CHECK_EQ_INT(n, 0);
	/* the same token twice would loop forever */
	r = list_once(xml_resp(LIST_HEAD "<IsTruncated>true</IsTruncated>"
			       "<NextContinuationToken>t</NextContinuationToken>"
			       ENTRY("p/a", 1) "</ListBucketResult>"),
		      xml_resp(LIST_HEAD "<IsTruncated>true</IsTruncated>"
			       "<NextContinuationToken>t</NextContinuationToken>"
			       ENTRY("p/b", 1) "</ListBucketResult>"), &n);
	CHECK_EQ_INT(r, LACRE_E_CORRUPT);
}

static void test_hostile_ranges(void)
{
	const char *too_much[] = {
		"HTTP/1.1 206 Partial Content\r\nContent-Length: 6\r\nConnection: close\r\n\r\nabcdef",
		NULL };
	const char *ignored[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789",
		NULL };
	struct fake f;
	struct lacre_store *s;
	struct lacre_dbuf b;

	lacre_dbuf_init(&b, 1024);
	CHECK(fake_start(&f, too_much) == 0);
	s = open_fake(&f, 0, "");
	CHECK_EQ_INT(lacre_store_get(s, "obj", 2, 3, &b), LACRE_E_CORRUPT);
	CHECK_EQ_INT(b.len, 0);
	fake_stop(&f);
	lacre_store_close(s);

	CHECK(fake_start(&f, ignored) == 0);
	s = open_fake(&f, 0, "");
	CHECK_OK(lacre_store_get(s, "obj", 2, 3, &b));
	CHECK_EQ_INT(b.len, 3);
	CHECK_MEM(b.p, "234", 3);
	fake_stop(&f);
	lacre_store_close(s);
	lacre_dbuf_free(&b);
}

int main(void)
{
	RUN(test_retry_then_ok);
	RUN(test_retry_exhausted);
	RUN(test_put_landed_before_break);
	RUN(test_hostile_lists);
	RUN(test_hostile_ranges);
	return t_done();
}
