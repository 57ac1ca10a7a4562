/*
 * s3.c - the s3:// backend: any S3 server through libcurl, tested against
 * Ceph RADOS Gateway 16.2 (../shared/services/s3-up), see docs/storage.md.
 *
 * Requests are signed by libcurl (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3");
 * what libcurl 7.88 leaves to us, we do here:
 *  - x-amz-content-sha256 on every request (the body's SHA-256; libcurl
 *    signs the value we send), which also makes the server check the body;
 *  - the canonical query string: libcurl signs the query exactly as given,
 *    so every query we build is already sorted by name, URI-encoded the
 *    AWS way, and has "=" after value-less names ("uploads=");
 *  - path-style URLs (ENDPOINT/bucket/key), no proxy, no redirects.
 * put_if_absent is a PUT with If-None-Match: * (412 -> LACRE_E_EXISTS).
 * Objects above multipart_threshold go up in parts; RGW ignores
 * If-None-Match on CompleteMultipartUpload, so a HEAD checks the name is
 * still free just before completing (a narrow race remains: documented).
 * 5xx answers, 429 and connection failures are retried with exponential
 * backoff and jitter, then reported as LACRE_E_UNAVAILABLE.
 *
 * Response bodies are untrusted: they land in capped buffers, XML goes
 * through s3_xml.c (expat), names listed are checked against the name
 * rules, numbers are parsed with overflow checks, and a ranged GET that
 * returns more than was asked for is LACRE_E_CORRUPT.
 *
 * One curl easy handle per store, guarded by a mutex: requests on one
 * handle are serialised (open several stores for parallel transfers).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lacre/err.h"
#include "lacre/store.h"
#include "store/s3_xml.h"
#include "store/store_int.h"

#define S3_ERR_BODY_MAX (64 * 1024)      /* error documents we keep */
#define S3_LIST_BODY_MAX (16 * 1024 * 1024) /* one ListObjectsV2 page */
#define S3_MIN_PART ((size_t)5 * 1024 * 1024)
#define S3_MAX_PARTS 10000
#define S3_BACKOFF_CAP_MS 10000

static const char EMPTY_SHA256[] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct s3_store {
	pthread_mutex_t mu;
	CURL *curl;
	char *endpoint;   /* "http://127.0.0.1:7480", no trailing '/' */
	char *region;
	char *access_key;
	char *secret_key; /* wiped at close */
	char *bucket;
	char *prefix;     /* "" or ends in '/' */
	char sigv4[128];  /* "aws:amz:REGION:s3" */
	int create_bucket, bucket_ok;
	int retries, retry_base_ms;
	long timeout_ms, connect_timeout_ms;
	size_t threshold, part_size;
	int max_keys;
};

/* One HTTP exchange. */
struct s3_req {
	const char *method;      /* GET HEAD PUT POST DELETE */
	const char *key;         /* object key (prefix included), NULL: bucket */
	const char *query;       /* canonical query string or NULL */
	const void *body;        /* request body (PUT, POST) */
	size_t body_len;
	const char *hdr[3];      /* extra request headers, NULL-terminated */
	struct lacre_dbuf *out;  /* where a 2xx body goes (NULL: dropped) */
};

/* What came back. */
struct s3_resp {
	long status;
	int64_t content_length;  /* -1 if none */
	char etag[130];          /* ETag header value, "" if none */
	char code[64];           /* S3 error code from an error body */
	struct lacre_dbuf err;   /* non-2xx body */
	int write_err;           /* a body did not fit its cap */
	int attempts;            /* requests sent (1 + retries) */
	size_t out_start;        /* out->len before the exchange */
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

/* Lower-case hex SHA-256 of p[0..n) into hex[65]. */
static int sha256_hex(const void *p, size_t n, char hex[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	static const char digits[] = "0123456789abcdef";

	if (!EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return LACRE_E_CRYPTO;
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	return LACRE_OK;
}

/* Append s URI-encoded the SigV4 way (unreserved kept, rest %XX upper). */
static int uri_encode(struct lacre_dbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = LACRE_OK;

	for (; *s && r == LACRE_OK; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			r = lacre_dbuf_add_u8(b, c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			r = lacre_dbuf_add(b, e, 3);
		}
	}
	return r;
}

/* Sleep for ms milliseconds. */
static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Backoff before attempt number n (1-based): base * 2^(n-1), capped, with
 * jitter between 50% and 100%. */
static long backoff_ms(const struct s3_store *s, int n)
{
	long ms = s->retry_base_ms;
	unsigned int rnd = 0;

	for (int i = 1; i < n && ms < S3_BACKOFF_CAP_MS; i++)
		ms *= 2;
	if (ms > S3_BACKOFF_CAP_MS)
		ms = S3_BACKOFF_CAP_MS;
	(void)RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
	return ms / 2 + (ms > 1 ? (long)(rnd % (unsigned long)(ms / 2 + 1)) : 0);
}

/* Parse a decimal uint64 from the whole of s (untrusted). */
static int parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s)
		return LACRE_E_MALFORMED;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return LACRE_E_MALFORMED;
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return LACRE_E_RANGE;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return LACRE_OK;
}

/* ------------------------------------------------------------------ */
/* One request                                                          */

/* curl: response body bytes; 2xx to req->out, others to resp->err. */
static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
	struct s3_req *q = ((void **)ud)[0];
	struct s3_resp *a = ((void **)ud)[1];
	CURL *c = ((void **)ud)[2];
	size_t n = sz * nm;
	long status = 0;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		if (!q->out)
			return n;
		if (lacre_dbuf_add(q->out, p, n) != LACRE_OK) {
			a->write_err = 1;
			return 0;
		}
		return n;
	}
	if (n > a->err.max - a->err.len - 1)
		return n; /* keep the start of an oversized error document */
	(void)lacre_dbuf_add(&a->err, p, n);
	return n;
}

/* curl: one header line (untrusted); keep the ETag. */
static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
	struct s3_resp *a = ud;
	size_t n = sz * nm;
	struct lacre_rbuf b;
	const uint8_t *v;
	size_t vl;

	lacre_rbuf_init(&b, p, n);
	if (n < 5 || strncasecmp(p, "etag:", 5) != 0)
		return n;
	(void)lacre_rbuf_skip(&b, 5);
	while (lacre_rbuf_left(&b) && (*lacre_rbuf_ptr(&b) == ' ' ||
				       *lacre_rbuf_ptr(&b) == '\t'))
		(void)lacre_rbuf_skip(&b, 1);
	vl = lacre_rbuf_left(&b);
	while (vl && (lacre_rbuf_ptr(&b)[vl - 1] == '\r' ||
		      lacre_rbuf_ptr(&b)[vl - 1] == '\n' ||
		      lacre_rbuf_ptr(&b)[vl - 1] == ' '))
		vl--;
	if (vl >= sizeof(a->etag) || lacre_rbuf_take(&b, vl, &v) != LACRE_OK)
		return n;
	memcpy(a->etag, v, vl);
	a->etag[vl] = '\0';
	return n;
}

/* Whether a curl failure is worth another attempt. */
static int curl_transient(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* Map a final HTTP status to a lacre error (2xx is LACRE_OK). */
static int status_err(long st)
{
	if (st >= 200 && st < 300)
		return LACRE_OK;
	switch (st) {
	case 403:
		return LACRE_E_DENIED;
	case 404:
		return LACRE_E_NOT_FOUND;
	case 409:
	case 412:
		return LACRE_E_EXISTS;
	case 416:
		return LACRE_E_RANGE;
	default:
		if (st >= 500 || st == 429)
			return LACRE_E_UNAVAILABLE;
		return LACRE_E_UNEXPECTED;
	}
}

/* Set up the easy handle for one attempt of q. */
static int s3_setup(struct s3_store *s, const struct s3_req *q,
		    struct curl_slist **hl, const char *url, void **ud,
		    struct s3_resp *a)
{
	CURL *c = s->curl;
	char sha_hdr[96], hex[65];
	struct curl_slist *l = NULL, *t;
	int r;

	if (q->body && q->body_len) {
		r = sha256_hex(q->body, q->body_len, hex);
		if (r != LACRE_OK)
			return r;
		snprintf(sha_hdr, sizeof(sha_hdr), "x-amz-content-sha256: %s", hex);
	} else {
		snprintf(sha_hdr, sizeof(sha_hdr), "x-amz-content-sha256: %s",
			 EMPTY_SHA256);
	}
	curl_easy_reset(c);
	t = curl_slist_append(l, sha_hdr);
	if (!t)
		goto nomem;
	l = t;
	for (int i = 0; i < 3 && q->hdr[i]; i++) {
		if (!(t = curl_slist_append(l, q->hdr[i])))
			goto nomem;
		l = t;
	}
	if (!strcmp(q->method, "PUT") || !strcmp(q->method, "POST")) {
		if (!(t = curl_slist_append(l, "Content-Type: application/octet-stream")))
			goto nomem;
		l = t;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(c, CURLOPT_USERNAME, s->access_key);
	curl_easy_setopt(c, CURLOPT_PASSWORD, s->secret_key);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, l);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, ud);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	if (getenv("LACRE_S3_TRACE"))
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L); /* headers to stderr */
	if (!strcmp(q->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(q->method, "PUT") || !strcmp(q->method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)q->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body_len ? q->body : "");
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	} else if (!strcmp(q->method, "DELETE")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	*hl = l;
	return LACRE_OK;
nomem:
	curl_slist_free_all(l);
	return LACRE_E_NOMEM;
}

/* Build ENDPOINT/bucket[/key][?query] into u. */
static int s3_url(struct s3_store *s, const struct s3_req *q, struct lacre_dbuf *u)
{
	int r = lacre_dbuf_printf(u, "%s/%s", s->endpoint, s->bucket);

	if (r == LACRE_OK && q->key)
		r = lacre_dbuf_printf(u, "/%s", q->key); /* name chars need no escape */
	if (r == LACRE_OK && q->query)
		r = lacre_dbuf_printf(u, "?%s", q->query);
	return r;
}

/*
 * Run q with retries.  On return (any result) a->status holds the last
 * HTTP status (0: no answer) and a->err the last error body; the caller
 * frees a->err.  Returns LACRE_OK for 2xx, else the mapped error.
 */
static int s3_do(struct s3_store *s, const struct s3_req *q, struct s3_resp *a)
{
	struct lacre_dbuf url;
	const char *u;
	void *ud[3] = { (void *)q, a, s->curl };
	int r = LACRE_E_UNAVAILABLE;

	memset(a, 0, sizeof(*a));
	lacre_dbuf_init(&a->err, S3_ERR_BODY_MAX);
	lacre_dbuf_init(&url, 8192);
	a->out_start = q->out ? q->out->len : 0;
	if ((r = s3_url(s, q, &url)) != LACRE_OK ||
	    (r = lacre_dbuf_cstr(&url, &u)) != LACRE_OK)
		goto out;
	for (int attempt = 0; attempt <= s->retries; attempt++) {
		struct curl_slist *hl = NULL;
		CURLcode cc;
		curl_off_t cl = -1;

		if (attempt > 0)
			sleep_ms(backoff_ms(s, attempt));
		a->attempts = attempt + 1;
		if (q->out)
			q->out->len = a->out_start;
		lacre_dbuf_reset(&a->err);
		a->status = 0;
		a->etag[0] = '\0';
		a->code[0] = '\0';
		a->write_err = 0;
		r = s3_setup(s, q, &hl, u, ud, a);
		if (r != LACRE_OK)
			goto out;
		cc = curl_easy_perform(s->curl);
		curl_slist_free_all(hl);
		if (a->write_err) {
			r = LACRE_E_TOO_LARGE;
			goto out;
		}
		if (cc != CURLE_OK) {
			r = curl_transient(cc) ? LACRE_E_UNAVAILABLE : LACRE_E_NETWORK;
			if (r == LACRE_E_UNAVAILABLE)
				continue;
			goto out;
		}
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &a->status);
		curl_easy_getinfo(s->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		a->content_length = (int64_t)cl;
		if (a->err.len)
			(void)s3_xml_find(a->err.p, a->err.len, "Error/Code", a->code,
					  sizeof(a->code));
		r = status_err(a->status);
		if (r != LACRE_E_UNAVAILABLE)
			goto out;
	}
out:
	if (r != LACRE_OK && q->out)
		q->out->len = a->out_start;
	lacre_dbuf_free(&url);
	return r;
}

/* Build "PREFIX+name" into k (cap LACRE_STORE_NAME_MAX * 2 + 2). */
static int s3_key(const struct s3_store *s, const char *name, char *k, size_t cap)
{
	int n = snprintf(k, cap, "%s%s", s->prefix, name);

	if (n < 0 || (size_t)n >= cap)
		return LACRE_E_INVALID;
	return LACRE_OK;
}

#define KEY_CAP (2 * LACRE_STORE_NAME_MAX + 2)

/* ------------------------------------------------------------------ */
/* Bucket                                                               */

/* HEAD the bucket, PUT it if missing.  Lock held. */
static int s3_ensure_locked(struct s3_store *s)
{
	struct s3_req q = { .method = "HEAD" };
	struct s3_resp a;
	int r;

	if (s->bucket_ok)
		return LACRE_OK;
	r = s3_do(s, &q, &a);
	lacre_dbuf_free(&a.err);
	if (r == LACRE_E_NOT_FOUND) {
		memset(&q, 0, sizeof(q));
		q.method = "PUT";
		r = s3_do(s, &q, &a);
		if (r == LACRE_E_EXISTS && strcmp(a.code, "BucketAlreadyOwnedByYou") == 0)
			r = LACRE_OK;
		else if (r == LACRE_E_EXISTS)
			r = LACRE_E_DENIED; /* someone else's bucket */
		lacre_dbuf_free(&a.err);
	}
	if (r == LACRE_OK)
		s->bucket_ok = 1;
	return r;
}


/* ------------------------------------------------------------------ */
/* Objects                                                              */

/* HEAD key: its size.  Lock held. */
static int s3_head(struct s3_store *s, const char *key, uint64_t *size)
{
	struct s3_req q = { .method = "HEAD", .key = key };
	struct s3_resp a;
	int r = s3_do(s, &q, &a);

	lacre_dbuf_free(&a.err);
	if (r != LACRE_OK)
		return r;
	if (a.content_length < 0)
		return LACRE_E_UNEXPECTED;
	*size = (uint64_t)a.content_length;
	return LACRE_OK;
}

/* GET key into out (whole object, cap out->max).  Lock held. */
static int s3_get_whole(struct s3_store *s, const char *key, struct lacre_dbuf *out)
{
	struct s3_req q = { .method = "GET", .key = key, .out = out };
	struct s3_resp a;
	int r = s3_do(s, &q, &a);

	lacre_dbuf_free(&a.err);
	return r;
}

/*
 * One PUT of body under key; if_absent adds If-None-Match: *.  A 412 after
 * a retried attempt may be our own first attempt that landed: the object
 * is read back and compared, and an identical object counts as success.
 * Lock held.
 */
static int s3_put_single(struct s3_store *s, const char *key, const void *body,
			 size_t len, int if_absent)
{
	struct s3_req q = { .method = "PUT", .key = key, .body = body,
			    .body_len = len };
	struct s3_resp a;
	int r;

	if (if_absent)
		q.hdr[0] = "If-None-Match: *";
	r = s3_do(s, &q, &a);
	lacre_dbuf_free(&a.err);
	if (r == LACRE_E_EXISTS && if_absent && a.attempts > 1) {
		struct lacre_dbuf cur;

		lacre_dbuf_init(&cur, len + 2);
		if (s3_get_whole(s, key, &cur) == LACRE_OK && cur.len == len &&
		    (len == 0 || memcmp(cur.p, body, len) == 0))
			r = LACRE_OK; /* the same bytes: an earlier attempt won */
		lacre_dbuf_free(&cur);
	}
	return r;
}

/* Where the bytes of an upload come from. */
struct s3_src {
	const uint8_t *mem; /* or */
	int fd;
	uint64_t size;
};

/* Read n bytes at off of src into buf. */
static int src_read(const struct s3_src *src, uint64_t off, uint8_t *buf, size_t n)
{
	size_t got = 0;

	if (src->mem) {
		memcpy(buf, src->mem + off, n);
		return LACRE_OK;
	}
	while (got < n) {
		ssize_t k = pread(src->fd, buf + got, n - got, (off_t)(off + got));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return LACRE_E_IO; /* error, or the file shrank */
		got += (size_t)k;
	}
	return LACRE_OK;
}

/* ETag characters we accept before echoing one back in XML. */
static int etag_ok(const char *e)
{
	if (!*e)
		return 0;
	for (; *e; e++)
		if (!((*e >= '0' && *e <= '9') || (*e >= 'a' && *e <= 'f') ||
		      (*e >= 'A' && *e <= 'F') || *e == '"' || *e == '-'))
			return 0;
	return 1;
}

/* Abort a multipart upload (best effort).  Lock held. */
static void s3_mp_abort(struct s3_store *s, const char *key, const char *qid)
{
	struct lacre_dbuf qs;
	const char *qstr;
	struct s3_resp a;
	struct s3_req q = { .method = "DELETE", .key = key };

	lacre_dbuf_init(&qs, 4096);
	if (lacre_dbuf_printf(&qs, "uploadId=%s", qid) == LACRE_OK &&
	    lacre_dbuf_cstr(&qs, &qstr) == LACRE_OK) {
		q.query = qstr;
		(void)s3_do(s, &q, &a);
		lacre_dbuf_free(&a.err);
	}
	lacre_dbuf_free(&qs);
}

/*
 * Multipart upload of src under key: initiate, upload parts of part_size,
 * check (if_absent) that key is still free, complete.  Any failure aborts
 * the upload.  Lock held.
 */
static int s3_put_multipart(struct s3_store *s, const char *key,
			    const struct s3_src *src, int if_absent)
{
	struct s3_req q;
	struct s3_resp a;
	struct lacre_dbuf body, qs, xml;
	char upload_id[1024], (*etags)[130] = NULL;
	const char *qstr, *qid = NULL;
	uint8_t *part = NULL;
	size_t psize = s->part_size, nparts;
	uint64_t size;
	int r, started = 0;

	lacre_dbuf_init(&body, 64 * 1024);
	lacre_dbuf_init(&qs, 4096);
	lacre_dbuf_init(&xml, 1024 * 1024);
	nparts = (size_t)((src->size + psize - 1) / psize);
	while (nparts > S3_MAX_PARTS) { /* huge object: grow the parts */
		psize *= 2;
		nparts = (size_t)((src->size + psize - 1) / psize);
	}
	etags = calloc(nparts ? nparts : 1, sizeof(*etags));
	part = malloc(psize);
	if (!etags || !part) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	/* initiate */
	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.key = key;
	q.query = "uploads=";
	q.out = &body;
	r = s3_do(s, &q, &a);
	lacre_dbuf_free(&a.err);
	if (r != LACRE_OK)
		goto out;
	r = s3_xml_find(body.p, body.len, "InitiateMultipartUploadResult/UploadId",
			upload_id, sizeof(upload_id));
	if (r != LACRE_OK || !upload_id[0]) {
		r = LACRE_E_UNEXPECTED;
		goto out;
	}
	if ((r = uri_encode(&qs, upload_id)) != LACRE_OK ||
	    (r = lacre_dbuf_cstr(&qs, &qid)) != LACRE_OK)
		goto out;
	started = 1;
	/* parts */
	for (size_t i = 0; i < nparts; i++) {
		uint64_t off = (uint64_t)i * psize;
		size_t n = (size_t)(src->size - off < psize ? src->size - off : psize);
		struct lacre_dbuf pq;

		r = src_read(src, off, part, n);
		if (r != LACRE_OK)
			goto out;
		lacre_dbuf_init(&pq, 4096);
		r = lacre_dbuf_printf(&pq, "partNumber=%zu&uploadId=%s", i + 1, qid);
		if (r == LACRE_OK)
			r = lacre_dbuf_cstr(&pq, &qstr);
		if (r == LACRE_OK) {
			memset(&q, 0, sizeof(q));
			q.method = "PUT";
			q.key = key;
			q.query = qstr;
			q.body = part;
			q.body_len = n;
			r = s3_do(s, &q, &a);
			lacre_dbuf_free(&a.err);
		}
		lacre_dbuf_free(&pq);
		if (r != LACRE_OK)
			goto out;
		if (!etag_ok(a.etag)) {
			r = LACRE_E_UNEXPECTED;
			goto out;
		}
		memcpy(etags[i], a.etag, sizeof(etags[i]));
	}
	/* RGW ignores If-None-Match on complete: look first */
	if (if_absent) {
		r = s3_head(s, key, &size);
		if (r == LACRE_OK) {
			r = LACRE_E_EXISTS;
			goto out;
		}
		if (r != LACRE_E_NOT_FOUND)
			goto out;
	}
	r = lacre_dbuf_add_str(&xml, "<CompleteMultipartUpload>");
	for (size_t i = 0; i < nparts && r == LACRE_OK; i++)
		r = lacre_dbuf_printf(&xml, "<Part><PartNumber>%zu</PartNumber>"
					    "<ETag>%s</ETag></Part>", i + 1, etags[i]);
	if (r == LACRE_OK)
		r = lacre_dbuf_add_str(&xml, "</CompleteMultipartUpload>");
	if (r != LACRE_OK)
		goto out;
	lacre_dbuf_reset(&body);
	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.key = key;
	q.query = NULL;
	{
		struct lacre_dbuf cq;

		lacre_dbuf_init(&cq, 4096);
		r = lacre_dbuf_printf(&cq, "uploadId=%s", qid);
		if (r == LACRE_OK)
			r = lacre_dbuf_cstr(&cq, &qstr);
		if (r == LACRE_OK) {
			q.query = qstr;
			q.body = xml.p;
			q.body_len = xml.len;
			q.out = &body;
			r = s3_do(s, &q, &a);
			lacre_dbuf_free(&a.err);
		}
		lacre_dbuf_free(&cq);
	}
	if (r == LACRE_E_NOT_FOUND && strcmp(a.code, "NoSuchUpload") == 0 &&
	    s3_head(s, key, &size) == LACRE_OK && size == src->size) {
		r = LACRE_OK; /* a retried complete: the first one landed */
		started = 0;
		goto out;
	}
	if (r != LACRE_OK)
		goto out;
	/* a 200 may still carry an error document */
	{
		char etag[256];

		if (s3_xml_find(body.p, body.len,
				"CompleteMultipartUploadResult/ETag", etag,
				sizeof(etag)) != LACRE_OK) {
			r = LACRE_E_UNAVAILABLE;
			goto out;
		}
	}
	started = 0;
out:
	if (started)
		s3_mp_abort(s, key, qid);
	free(part);
	free(etags);
	lacre_dbuf_free(&body);
	lacre_dbuf_free(&qs);
	lacre_dbuf_free(&xml);
	return r;
}

/* Take the lock and make sure the bucket exists before a write. */
static int s3_lock_for_write(struct s3_store *s)
{
	int r = LACRE_OK;

	pthread_mutex_lock(&s->mu);
	if (s->create_bucket)
		r = s3_ensure_locked(s);
	if (r != LACRE_OK)
		pthread_mutex_unlock(&s->mu);
	return r;
}

/* ops->put. */
static int s3_put(struct lacre_store *st, const char *name, const void *data,
		  size_t len, int replace)
{
	struct s3_store *s = st->impl;
	char key[KEY_CAP];
	int r = s3_key(s, name, key, sizeof(key));

	if (r != LACRE_OK)
		return r;
	if ((r = s3_lock_for_write(s)) != LACRE_OK)
		return r;
	if (len > s->threshold) {
		struct s3_src src = { data, -1, len };
		r = s3_put_multipart(s, key, &src, !replace);
	} else {
		r = s3_put_single(s, key, data, len, !replace);
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* ops->put_file: small files in one PUT, large ones in parts. */
static int s3_put_file(struct lacre_store *st, const char *name, const char *path)
{
	struct s3_store *s = st->impl;
	char key[KEY_CAP];
	struct stat sb;
	uint8_t *buf = NULL;
	int fd, r = s3_key(s, name, key, sizeof(key));

	if (r != LACRE_OK)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return LACRE_E_INVALID;
	}
	if ((r = s3_lock_for_write(s)) != LACRE_OK) {
		close(fd);
		return r;
	}
	if ((uint64_t)sb.st_size > s->threshold) {
		struct s3_src src = { NULL, fd, (uint64_t)sb.st_size };
		r = s3_put_multipart(s, key, &src, 1);
	} else {
		struct s3_src src = { NULL, fd, (uint64_t)sb.st_size };
		buf = malloc(sb.st_size ? (size_t)sb.st_size : 1);
		if (!buf)
			r = LACRE_E_NOMEM;
		else
			r = src_read(&src, 0, buf, (size_t)sb.st_size);
		if (r == LACRE_OK)
			r = s3_put_single(s, key, buf, (size_t)sb.st_size, 1);
	}
	pthread_mutex_unlock(&s->mu);
	free(buf);
	close(fd);
	return r;
}

/* ops->get: ranged GET; see store.h for the range rules. */
static int s3_get(struct lacre_store *st, const char *name, uint64_t off,
		  size_t len, struct lacre_dbuf *out)
{
	struct s3_store *s = st->impl;
	char key[KEY_CAP], range[80];
	struct s3_req q = { .method = "GET", .out = out };
	struct s3_resp a;
	uint64_t size;
	size_t start = out->len;
	int r = s3_key(s, name, key, sizeof(key));

	if (r != LACRE_OK)
		return r;
	q.key = key;
	pthread_mutex_lock(&s->mu);
	if (len == 0) {
		r = s3_head(s, key, &size);
		if (r == LACRE_OK && off > size)
			r = LACRE_E_RANGE;
		goto out;
	}
	if (off > 0 || len != SIZE_MAX) {
		uint64_t last = UINT64_MAX;

		if (len != SIZE_MAX && (uint64_t)len - 1 <= UINT64_MAX - off)
			last = off + (uint64_t)len - 1;
		if (last == UINT64_MAX)
			snprintf(range, sizeof(range), "Range: bytes=%llu-",
				 (unsigned long long)off);
		else
			snprintf(range, sizeof(range), "Range: bytes=%llu-%llu",
				 (unsigned long long)off, (unsigned long long)last);
		q.hdr[0] = range;
	}
	r = s3_do(s, &q, &a);
	lacre_dbuf_free(&a.err);
	if (r == LACRE_E_RANGE) {
		/* RGW sends no Content-Range with 416: ask for the size */
		r = s3_head(s, key, &size);
		if (r == LACRE_OK)
			r = off == size ? LACRE_OK : LACRE_E_RANGE;
		goto out;
	}
	if (r != LACRE_OK)
		goto out;
	if (q.hdr[0] && a.status == 200) {
		/* the server ignored Range and sent everything: cut it here */
		size_t got = out->len - start;

		if (off > got) {
			out->len = start;
			r = LACRE_E_RANGE;
			goto out;
		}
		got -= (size_t)off;
		if (got > 0)
			memmove(out->p + start, out->p + start + off, got);
		if (len < got)
			got = len;
		out->len = start + got;
	} else if (out->len - start > len) {
		out->len = start;
		r = LACRE_E_CORRUPT; /* more bytes than asked for */
	}
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* ops->stat. */
static int s3_stat(struct lacre_store *st, const char *name, uint64_t *size)
{
	struct s3_store *s = st->impl;
	char key[KEY_CAP];
	int r = s3_key(s, name, key, sizeof(key));

	if (r != LACRE_OK)
		return r;
	pthread_mutex_lock(&s->mu);
	r = s3_head(s, key, size);
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* State of a ListObjectsV2 walk across pages. */
struct s3_list {
	struct s3_store *s;
	store_list_fn fn;
	void *arg;
	char key[S3_XML_TEXT_MAX + 1];
	uint64_t size;
	int have_key, have_size;
	char last[KEY_CAP];      /* last name handed to fn */
	int truncated;
	char token[S3_XML_TEXT_MAX + 1];
	int user_stop;           /* fn's non-zero value */
	size_t count;
};

/* s3_xml_walk callback over one ListObjectsV2 page. */
static int list_cb(void *arg, const char *path, const char *text, size_t len)
{
	struct s3_list *l = arg;
	size_t plen = strlen(l->s->prefix);
	const char *name;
	int r;

	if (!strcmp(path, "ListBucketResult/Contents/Key")) {
		memcpy(l->key, text, len + 1);
		l->have_key = 1;
	} else if (!strcmp(path, "ListBucketResult/Contents/Size")) {
		if (parse_u64(text, &l->size) != LACRE_OK)
			return LACRE_E_MALFORMED;
		l->have_size = 1;
	} else if (!strcmp(path, "ListBucketResult/IsTruncated")) {
		l->truncated = !strcmp(text, "true");
	} else if (!strcmp(path, "ListBucketResult/NextContinuationToken")) {
		memcpy(l->token, text, len + 1);
	} else if (!strcmp(path, "ListBucketResult/Contents")) {
		if (!l->have_key || !l->have_size)
			return LACRE_E_MALFORMED;
		l->have_key = l->have_size = 0;
		if (strncmp(l->key, l->s->prefix, plen) != 0)
			return LACRE_E_CORRUPT; /* not under the prefix asked for */
		name = l->key + plen;
		if (lacre_store_name_check(name) != LACRE_OK)
			return 0; /* not one of ours */
		if (l->last[0] && strcmp(name, l->last) <= 0)
			return LACRE_E_CORRUPT; /* out of order or repeated */
		memcpy(l->last, name, strlen(name) + 1);
		l->count++;
		r = l->fn(l->arg, name, l->size);
		if (r != 0) {
			l->user_stop = r;
			return r;
		}
	}
	return 0;
}

/* ops->list: ListObjectsV2 pages of list_max_keys, streamed to fn. */
static int s3_list(struct lacre_store *st, const char *prefix, store_list_fn fn,
		   void *arg)
{
	struct s3_store *s = st->impl;
	struct s3_list *l;
	struct lacre_dbuf body, qs;
	char full[KEY_CAP], prev_token[S3_XML_TEXT_MAX + 1] = "";
	const char *qstr;
	int r;

	l = calloc(1, sizeof(*l));
	if (!l)
		return LACRE_E_NOMEM;
	l->s = s;
	l->fn = fn;
	l->arg = arg;
	lacre_dbuf_init(&body, S3_LIST_BODY_MAX);
	lacre_dbuf_init(&qs, 8192);
	r = s3_key(s, prefix, full, sizeof(full));
	if (r != LACRE_OK)
		goto out;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct s3_req q = { .method = "GET", .out = &body };
		struct s3_resp a;

		lacre_dbuf_reset(&body);
		lacre_dbuf_reset(&qs);
		/* sorted: continuation-token, list-type, max-keys, prefix */
		if (l->token[0]) {
			r = lacre_dbuf_add_str(&qs, "continuation-token=");
			if (r == LACRE_OK)
				r = uri_encode(&qs, l->token);
			if (r == LACRE_OK)
				r = lacre_dbuf_add_u8(&qs, '&');
		}
		if (r == LACRE_OK)
			r = lacre_dbuf_printf(&qs, "list-type=2&max-keys=%d&prefix=",
					      s->max_keys);
		if (r == LACRE_OK)
			r = uri_encode(&qs, full);
		if (r == LACRE_OK)
			r = lacre_dbuf_cstr(&qs, &qstr);
		if (r != LACRE_OK)
			break;
		q.query = qstr;
		r = s3_do(s, &q, &a);
		if (r == LACRE_E_NOT_FOUND && !strcmp(a.code, "NoSuchBucket"))
			r = LACRE_OK; /* no bucket yet: nothing stored */
		lacre_dbuf_free(&a.err);
		if (r != LACRE_OK || body.len == 0)
			break;
		memcpy(prev_token, l->token, sizeof(prev_token));
		l->token[0] = '\0';
		l->truncated = 0;
		r = s3_xml_walk(body.p, body.len, list_cb, l);
		if (l->user_stop) {
			r = l->user_stop;
			break;
		}
		if (r != LACRE_OK)
			break;
		if (!l->truncated)
			break;
		if (!l->token[0] || !strcmp(l->token, prev_token)) {
			r = LACRE_E_CORRUPT; /* a truncated page must move on */
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
out:
	lacre_dbuf_free(&body);
	lacre_dbuf_free(&qs);
	free(l);
	return r;
}

/* ops->del: HEAD first (S3 DELETE answers 204 for a missing key too). */
static int s3_del(struct lacre_store *st, const char *name)
{
	struct s3_store *s = st->impl;
	char key[KEY_CAP];
	struct s3_req q = { .method = "DELETE" };
	struct s3_resp a;
	uint64_t size;
	int r = s3_key(s, name, key, sizeof(key));

	if (r != LACRE_OK)
		return r;
	q.key = key;
	pthread_mutex_lock(&s->mu);
	r = s3_head(s, key, &size);
	if (r == LACRE_OK) {
		r = s3_do(s, &q, &a);
		lacre_dbuf_free(&a.err);
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* Free a string after wiping it. */
static void free_secret(char *p)
{
	if (p) {
		OPENSSL_cleanse(p, strlen(p));
		free(p);
	}
}

/* Free every part of s (secret wiped). */
static void s3_free(struct s3_store *s)
{
	if (!s)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	free(s->endpoint);
	free(s->region);
	free(s->access_key);
	free_secret(s->secret_key);
	free(s->bucket);
	free(s->prefix);
	pthread_mutex_destroy(&s->mu);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* ops->close. */
static void s3_close(struct lacre_store *st)
{
	s3_free(st->impl);
}

static const struct store_ops s3_ops = {
	.kind = "s3",
	.put = s3_put,
	.put_file = s3_put_file,
	.get = s3_get,
	.stat = s3_stat,
	.list = s3_list,
	.del = s3_del,
	.close = s3_close,
};

/* ------------------------------------------------------------------ */
/* Configuration                                                        */

/* First non-empty of: v, the environment variables a then b, def. */
static const char *pick(const char *v, const char *a, const char *b,
			const char *def)
{
	const char *e;

	if (v && *v)
		return v;
	if (a && (e = getenv(a)) && *e)
		return e;
	if (b && (e = getenv(b)) && *e)
		return e;
	return def;
}

/*
 * Check endpoint "http[s]://HOST[:PORT]" (no user, path, query) and tell
 * whether HOST is loopback: 127.0.0.0/8, [::1] or localhost.
 */
static int endpoint_check(const char *ep, int *loopback)
{
	const char *h, *end;
	size_t n;
	char host[256];

	if (!strncmp(ep, "http://", 7))
		h = ep + 7;
	else if (!strncmp(ep, "https://", 8))
		h = ep + 8;
	else
		return LACRE_E_CONFIG;
	if (strpbrk(h, "@?#/\\ "))
		return LACRE_E_CONFIG;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end)
			return LACRE_E_CONFIG;
		end++;
	} else {
		end = strchr(h, ':');
		if (!end)
			end = h + strlen(h);
	}
	n = (size_t)(end - h);
	if (n == 0 || n >= sizeof(host))
		return LACRE_E_CONFIG;
	memcpy(host, h, n);
	host[n] = '\0';
	if (*end == ':') {
		uint64_t port;
		if (parse_u64(end + 1, &port) != LACRE_OK || port == 0 || port > 65535)
			return LACRE_E_CONFIG;
	} else if (*end) {
		return LACRE_E_CONFIG;
	}
	*loopback = 0;
	if (!strcmp(host, "localhost") || !strcmp(host, "[::1]")) {
		*loopback = 1;
	} else if (!strncmp(host, "127.", 4)) {
		unsigned a, b, c, d;
		char extra;
		if (sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) == 4 &&
		    a == 127 && b < 256 && c < 256 && d < 256)
			*loopback = 1;
	}
	return LACRE_OK;
}

/* Bucket names we accept: [a-z0-9.-], 3..63, starting and ending alnum. */
static int bucket_check(const char *b)
{
	size_t n = strlen(b);

	if (n < 3 || n > 63)
		return LACRE_E_CONFIG;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && ((c != '.' && c != '-') || i == 0 || i == n - 1))
			return LACRE_E_CONFIG;
	}
	return LACRE_OK;
}

/* Characters allowed in a region or access key. */
static int token_check(const char *t, size_t max)
{
	size_t n = strlen(t);

	if (n == 0 || n > max)
		return LACRE_E_CONFIG;
	for (; *t; t++)
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
		      (*t >= '0' && *t <= '9') || *t == '-' || *t == '_'))
			return LACRE_E_CONFIG;
	return LACRE_OK;
}

/* strdup into *dst; LACRE_E_NOMEM on failure. */
static int dup_to(char **dst, const char *src)
{
	*dst = strdup(src);
	return *dst ? LACRE_OK : LACRE_E_NOMEM;
}

/* libcurl's one-time global set-up. */
static void s3_global_init(void)
{
	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* See store.h. */
int lacre_store_open_s3(const struct lacre_s3_config *cfg,
			struct lacre_store **out)
{
	struct s3_store *s = NULL;
	struct lacre_store *st = NULL;
	const char *ep, *region, *ak, *sk, *prefix;
	char desc[1024];
	size_t plen, ep_len;
	int r, loopback = 0;
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (!cfg || !out || !cfg->bucket)
		return LACRE_E_INVALID;
	ep = pick(cfg->endpoint, "S3_ENDPOINT", "AWS_ENDPOINT_URL", NULL);
	region = pick(cfg->region, "S3_REGION", "AWS_DEFAULT_REGION", "us-east-1");
	ak = pick(cfg->access_key, "S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID", NULL);
	sk = pick(cfg->secret_key, "S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", NULL);
	prefix = cfg->prefix ? cfg->prefix : "";
	if (!ep || !ak || !sk)
		return LACRE_E_CONFIG;
	ep_len = strlen(ep);
	while (ep_len > 0 && ep[ep_len - 1] == '/')
		ep_len--;
	s = calloc(1, sizeof(*s));
	if (!s)
		return LACRE_E_NOMEM;
	pthread_mutex_init(&s->mu, NULL);
	s->endpoint = strndup(ep, ep_len);
	if (!s->endpoint) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	if ((r = endpoint_check(s->endpoint, &loopback)) != LACRE_OK)
		goto out;
	if (!loopback && !cfg->allow_remote) {
		r = LACRE_E_CONFIG; /* tests and benches talk to 127.0.0.1 only */
		goto out;
	}
	if ((r = bucket_check(cfg->bucket)) != LACRE_OK ||
	    (r = token_check(region, 64)) != LACRE_OK ||
	    (r = token_check(ak, 128)) != LACRE_OK)
		goto out;
	if (strlen(sk) == 0 || strlen(sk) > 256) {
		r = LACRE_E_CONFIG;
		goto out;
	}
	plen = strlen(prefix);
	if (plen > LACRE_STORE_NAME_MAX || store_prefix_check(prefix) != LACRE_OK) {
		r = LACRE_E_CONFIG;
		goto out;
	}
	if ((r = dup_to(&s->region, region)) != LACRE_OK ||
	    (r = dup_to(&s->access_key, ak)) != LACRE_OK ||
	    (r = dup_to(&s->secret_key, sk)) != LACRE_OK ||
	    (r = dup_to(&s->bucket, cfg->bucket)) != LACRE_OK)
		goto out;
	s->prefix = malloc(plen + 2);
	if (!s->prefix) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	memcpy(s->prefix, prefix, plen + 1);
	if (plen && prefix[plen - 1] != '/') {
		s->prefix[plen] = '/';
		s->prefix[plen + 1] = '\0';
	}
	snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", s->region);
	s->create_bucket = !cfg->no_create_bucket;
	s->retries = cfg->retries > 0 ? cfg->retries : 4;
	s->retry_base_ms = cfg->retry_base_ms > 0 ? cfg->retry_base_ms : 100;
	s->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 120000;
	s->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms
							    : 5000;
	s->threshold = cfg->multipart_threshold ? cfg->multipart_threshold
						: (size_t)16 << 20;
	s->part_size = cfg->part_size ? cfg->part_size : (size_t)8 << 20;
	if (s->part_size < S3_MIN_PART)
		s->part_size = S3_MIN_PART;
	s->max_keys = cfg->list_max_keys > 0 ? cfg->list_max_keys : 1000;
	if (s->max_keys > 1000)
		s->max_keys = 1000;
	pthread_once(&once, s3_global_init);
	s->curl = curl_easy_init();
	if (!s->curl) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	snprintf(desc, sizeof(desc), "s3://%s/%s at %s", s->bucket, s->prefix,
		 s->endpoint);
	r = store_new(&s3_ops, s, desc, &st);
	if (r != LACRE_OK)
		goto out;
	*out = st;
	s = NULL;
out:
	s3_free(s);
	return r;
}

/* See store_int.h: "s3://bucket/prefix" with everything else from the
 * environment. */
int store_s3_open_spec(const char *bucket_prefix, const struct lacre_s3_config *base,
		       struct lacre_store **out)
{
	struct lacre_s3_config cfg;
	char bucket[64];
	const char *slash = strchr(bucket_prefix, '/');
	size_t n = slash ? (size_t)(slash - bucket_prefix) : strlen(bucket_prefix);

	if (n == 0 || n >= sizeof(bucket))
		return LACRE_E_CONFIG;
	memcpy(bucket, bucket_prefix, n);
	bucket[n] = '\0';
	if (base)
		cfg = *base;
	else
		memset(&cfg, 0, sizeof(cfg));
	cfg.bucket = bucket;
	cfg.prefix = slash ? slash + 1 : "";
	return lacre_store_open_s3(&cfg, out);
}

/* See store.h. */
int lacre_store_s3_ensure_bucket(struct lacre_store *st)
{
	struct s3_store *s;
	int r;

	if (!st || st->ops != &s3_ops)
		return LACRE_E_INVALID;
	s = st->impl;
	pthread_mutex_lock(&s->mu);
	r = s3_ensure_locked(s);
	pthread_mutex_unlock(&s->mu);
	return r;
}
