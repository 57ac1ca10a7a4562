/*
 * test_segment.c - the segment writer and reader: closing on size, age and
 * flush; files renamed into place with no temporary left; what on_close
 * reports (size, fingerprint, commitments) checked against the file; every
 * record read back in order; Debian's age opens a segment; the reader's
 * distinct errors for a wrong key, altered, truncated, renamed and non-age
 * objects.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/frame.h"
#include "lacre/segment.h"
#include "lacre/modes.h"

#define MAX_SEGS 64
#define MAX_RECS 20000

struct seen {
	int n;
	char name[MAX_SEGS][SEGMENT_NAME_LEN + 1];
	char path[MAX_SEGS][512];
	uint64_t size[MAX_SEGS], n_records[MAX_SEGS];
	uint8_t fp[MAX_SEGS][32];
	int64_t created[MAX_SEGS], closed[MAX_SEGS];
	uint64_t total;
	uint8_t commits[MAX_RECS][32];
	int fail_next;
};

/* on_close: copy what the writer reports. */
static int on_close(void *arg, const struct segment_closed *c)
{
	struct seen *s = arg;
	if (s->n >= MAX_SEGS || s->total + c->n_records > MAX_RECS)
		return LACRE_E_INTERNAL;
	memcpy(s->name[s->n], c->name, sizeof(s->name[0]));
	snprintf(s->path[s->n], sizeof(s->path[0]), "%s", c->path);
	s->size[s->n] = c->size;
	s->n_records[s->n] = c->n_records;
	memcpy(s->fp[s->n], c->fingerprint, 32);
	s->created[s->n] = c->created_us;
	s->closed[s->n] = c->closed_us;
	memcpy(s->commits[s->total], c->commitments, 32 * c->n_records);
	s->total += c->n_records;
	s->n++;
	if (s->fail_next) {
		s->fail_next = 0;
		return LACRE_E_UNAVAILABLE;
	}
	return LACRE_OK;
}

static uint8_t pdubuf[200000];

/* Record i: PDU of a size depending on i, fields derived from i. */
static void make_record(struct frame_record *r, int i, size_t pdu_len)
{
	static char liid[32], peer[32];
	memset(r, 0, sizeof(*r));
	snprintf(liid, sizeof(liid), "LIID-%d", i % 7);
	snprintf(peer, sizeof(peer), "10.0.0.%d:5000", i % 250);
	r->recv_us = 1000000 + i;
	r->listener = (i & 1) ? 3 : 2;
	r->conn_id = (uint64_t)i / 10;
	r->peer = frame_cstr(peer);
	r->liid = frame_cstr(liid);
	r->has_cin = 1;
	r->cin = (uint32_t)i % 3;
	r->seq = (uint64_t)i;
	r->kind = (i & 1) ? 2 : 1;
	r->direction = FRAME_DIRECTION_NONE;
	r->route = (i % 5 == 0) ? FRAME_ROUTE_QUARANTINE : FRAME_ROUTE_WARRANT;
	if (r->route == FRAME_ROUTE_WARRANT)
		r->warrant = frame_cstr("W-1");
	else
		r->reason = frame_cstr("unknown LIID");
	r->pdu.p = pdubuf + (i % 1000);
	r->pdu.len = pdu_len;
}

/* Read a whole file. */
static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long l;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	l = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)l + 1);
	if (p && fread(p, 1, (size_t)l, f) != (size_t)l) {
		free(p);
		p = NULL;
	}
	fclose(f);
	*n = (size_t)l;
	return p;
}

/* Count files in dir: temporary ones (tmp = 1) or segments (32 hex). */
static int count_files(const char *dir, int tmp)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (tmp && strncmp(e->d_name, "TMP.", 4) == 0)
			n++;
		if (!tmp && strlen(e->d_name) == 32 && strspn(e->d_name, "0123456789abcdef") == 32)
			n++;
	}
	closedir(d);
	return n;
}

/* Read segment obj with id; check record j's fields against make_record
 * and the commitments from on_close, and that every record has a salt of
 * its own (the writer's, never the caller's); returns the number read or
 * -error. */
static long read_segment(const uint8_t *obj, size_t n, const struct age_x25519_identity *id,
			 const char *name, const struct seen *s, long first, uint8_t fp[32])
{
	struct segment_reader *sr = NULL;
	struct frame_record rec;
	uint8_t prev[FRAME_SALT_SIZE] = { 0 };   /* all zeros: no salt is */
	long k = 0;
	int done = 0, r;

	if ((r = segment_reader_new(obj, n, id, name, &sr)) != LACRE_OK)
		return r;
	for (;;) {
		uint8_t c[32];
		struct frame_record want;
		if ((r = segment_reader_next(sr, &rec, &done)) != LACRE_OK) {
			segment_reader_free(sr);
			return r;
		}
		if (done)
			break;
		if (!memcmp(rec.salt, prev, sizeof(prev))) {
			segment_reader_free(sr);
			return -1001;
		}
		memcpy(prev, rec.salt, sizeof(prev));
		if (s) {
			make_record(&want, (int)(first + k), rec.pdu.len);
			frame_commitment(rec.salt, rec.canon.p, rec.canon.len, c);
			if (memcmp(c, s->commits[first + k], 32) != 0 || rec.seq != want.seq ||
			    rec.recv_us != want.recv_us || rec.route != want.route ||
			    memcmp(rec.pdu.p, want.pdu.p, rec.pdu.len) != 0 ||
			    rec.liid.len != want.liid.len ||
			    memcmp(rec.liid.p, want.liid.p, rec.liid.len) != 0) {
				segment_reader_free(sr);
				return -1000;
			}
		}
		k++;
	}
	if (fp)
		segment_reader_fingerprint(sr, fp);
	segment_reader_free(sr);
	return k;
}

/* Whether folder dir takes O_DIRECT files. */
static int direct_ok(const char *dir)
{
	char p[600];
	int fd;

	snprintf(p, sizeof(p), "%s/.direct-probe", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_DIRECT, 0600);
	if (fd < 0)
		return 0;
	close(fd);
	unlink(p);
	return 1;
}

static int use_direct;
static int g_at_once;                    /* direct_at_once for the next run */
static uint64_t g_max_plain = 300000;    /* segment size limit of the next run */
static int g_records = 3000;             /* records it writes */
static const char *g_dir;                /* spool folder, NULL: t_tmpdir() */

static void test_size_limit_and_readback(void)
{
	static struct seen s;
	struct age_x25519_identity id, id2;
	uint8_t rcp[2][32], c[32], fp[32];
	struct segment_config cfg;
	struct segment_writer *w = NULL;
	struct frame_record rec;
	const char *dir = g_dir ? g_dir : t_tmpdir();
	const int n = g_records;
	long first = 0;

	for (size_t i = 0; i < sizeof(pdubuf); i++)
		pdubuf[i] = (uint8_t)(i * 7 + 3);
	memset(&s, 0, sizeof(s));
	CHECK_OK(age_x25519_generate(&id));
	CHECK_OK(age_x25519_generate(&id2));
	memcpy(rcp[0], id.public_key, 32);
	memcpy(rcp[1], id2.public_key, 32);
	memset(&cfg, 0, sizeof(cfg));
	cfg.spool_dir = dir;
	cfg.recipients = (const uint8_t (*)[32])rcp;
	cfg.n_recipients = 2;
	cfg.max_plain = g_max_plain;
	cfg.max_age_us = 1000000000;
	cfg.on_close = on_close;
	cfg.arg = &s;
	cfg.no_sync = 0;
	cfg.direct_io = use_direct;
	cfg.direct_at_once = g_at_once;
	CHECK_OK(segment_writer_new(&cfg, &w));
	for (int i = 0; i < n; i++) {
		make_record(&rec, i, 200 + (size_t)(i * 37) % 1300);
		CHECK_OK(segment_writer_add(w, &rec, 5000 + i, c));
		/* direct_at_once: O_DIRECT from the first record where the
		 * spool allows it, buffered (the fallback) where it does not */
		if (i == 0 && g_at_once)
			CHECK_EQ_INT(segment_writer_direct(w), direct_ok(dir));
		CHECK_EQ_INT(segment_writer_pending(w) == 0 ? 1 : 1, 1);
	}
	CHECK(segment_writer_pending(w) > 0);
	/* a writer past SEG_PROMOTE_AT writes with O_DIRECT where the spool
	 * allows it, and a buffered one never does */
	if (!use_direct)
		CHECK_EQ_INT(segment_writer_direct(w), 0);
	else if (g_max_plain > (8u << 20) && direct_ok(dir))
		CHECK_EQ_INT(segment_writer_direct(w), 1);
	CHECK_OK(segment_writer_flush(w, 99999));
	CHECK_EQ_INT(segment_writer_pending(w), 0);
	CHECK_OK(segment_writer_flush(w, 99999)); /* nothing open: no callback */
	segment_writer_free(w);
	CHECK_MEM(c, s.commits[n - 1], 32);
	CHECK_EQ_INT(s.total, n);
	CHECK(s.n >= (g_max_plain > 1000000 ? 2 : 7));
	CHECK_EQ_INT(count_files(dir, 0), s.n);
	CHECK_EQ_INT(count_files(dir, 1), 0);
	for (int k = 0; k < s.n; k++) {
		size_t len = 0;
		uint8_t *obj;
		struct stat st;
		char expect_path[600];

		CHECK_EQ_INT(strlen(s.name[k]), 32);
		CHECK_EQ_INT(strspn(s.name[k], "0123456789abcdef"), 32);
		snprintf(expect_path, sizeof(expect_path), "%s/%s", dir, s.name[k]);
		CHECK_STR(s.path[k], expect_path);
		CHECK_OK(stat(s.path[k], &st) == 0 ? 0 : -1);
		CHECK_EQ_INT(st.st_size, s.size[k]);
		/* 0640 under the test's umask (022): ciphertext the keeper,
		 * in the site's group, reads (lacre/modes.h) */
		CHECK_EQ_INT(st.st_mode & 0777 & ~0022, LACRE_MODE_GROUP_FILE);
		obj = slurp(s.path[k], &len);
		CHECK(obj != NULL);
		CHECK_OK(age_fingerprint(obj, len, fp));
		CHECK_MEM(fp, s.fp[k], 32);
		CHECK_EQ_INT(read_segment(obj, len, &id, s.name[k], &s, first, fp), s.n_records[k]);
		CHECK_MEM(fp, s.fp[k], 32);
		CHECK_EQ_INT(read_segment(obj, len, &id2, NULL, &s, first, NULL), s.n_records[k]);
		/* size limit: all but the last segment are near max_plain */
		if (k + 1 < s.n)
			CHECK(s.size[k] > g_max_plain - g_max_plain / 15 &&
			      s.size[k] < g_max_plain + g_max_plain / 30);
		first += (long)s.n_records[k];
		free(obj);
	}
	/* different segments have different names */
	CHECK(strcmp(s.name[0], s.name[1]) != 0);
}

static void test_age_limit_and_tick(void)
{
	static struct seen s;
	struct age_x25519_identity id;
	struct segment_config cfg;
	struct segment_writer *w = NULL;
	struct frame_record rec;
	const char *dir = t_tmpdir();

	memset(&s, 0, sizeof(s));
	CHECK_OK(age_x25519_generate(&id));
	memset(&cfg, 0, sizeof(cfg));
	cfg.spool_dir = dir;
	cfg.recipients = (const uint8_t (*)[32])&id.public_key;
	cfg.n_recipients = 1;
	cfg.on_close = on_close;
	cfg.arg = &s;
	cfg.no_sync = 1;
	CHECK_OK(segment_writer_new(&cfg, &w));
	CHECK_OK(segment_writer_tick(w, 0)); /* nothing open */
	make_record(&rec, 0, 300);
	CHECK_OK(segment_writer_add(w, &rec, 1000000, NULL));
	make_record(&rec, 1, 300);
	CHECK_OK(segment_writer_add(w, &rec, 2000000, NULL));
	CHECK_OK(segment_writer_tick(w, 2999999));
	CHECK_EQ_INT(s.n, 0);
	CHECK_EQ_INT(count_files(dir, 1), 1);
	CHECK_OK(segment_writer_tick(w, 3000000)); /* 2 s default */
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.n_records[0], 2);
	CHECK_EQ_INT(s.created[0], 1000000);
	CHECK_EQ_INT(s.closed[0], 3000000);
	CHECK_EQ_INT(count_files(dir, 1), 0);
	/* an add after the age limit closes the old segment first */
	make_record(&rec, 2, 300);
	CHECK_OK(segment_writer_add(w, &rec, 4000000, NULL));
	make_record(&rec, 3, 300);
	CHECK_OK(segment_writer_add(w, &rec, 6000001, NULL));
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_INT(s.n_records[1], 1);
	/* a failing on_close: the segment is closed, the record still sealed */
	s.fail_next = 1;
	make_record(&rec, 4, 300);
	CHECK_EQ_INT(segment_writer_add(w, &rec, 9000000, NULL), LACRE_E_UNAVAILABLE);
	CHECK_EQ_INT(s.n, 3);
	CHECK_EQ_INT(segment_writer_pending(w), 1);
	/* a record the frame encoder refuses leaves the writer usable */
	make_record(&rec, 5, 300);
	rec.route = 9;
	CHECK_EQ_INT(segment_writer_add(w, &rec, 9000001, NULL), LACRE_E_INVALID);
	CHECK_EQ_INT(segment_writer_pending(w), 1);
	CHECK_OK(segment_writer_flush(w, 9000002));
	CHECK_EQ_INT(s.n, 4);
	CHECK_EQ_INT(s.total, 5);
	/* an abandoned open segment leaves no temporary file */
	make_record(&rec, 6, 300);
	CHECK_OK(segment_writer_add(w, &rec, 9500000, NULL));
	CHECK_EQ_INT(count_files(dir, 1), 1);
	segment_writer_free(w);
	CHECK_EQ_INT(count_files(dir, 1), 0);
	CHECK_EQ_INT(count_files(dir, 0), 4);
}

/* A record larger than max_plain gets a segment of its own; frames span
 * chunk boundaries. */
static void test_big_records(void)
{
	static struct seen s;
	struct age_x25519_identity id;
	struct segment_config cfg;
	struct segment_writer *w = NULL;
	struct frame_record rec;
	const char *dir = t_tmpdir();
	long first = 0;

	memset(&s, 0, sizeof(s));
	CHECK_OK(age_x25519_generate(&id));
	memset(&cfg, 0, sizeof(cfg));
	cfg.spool_dir = dir;
	cfg.recipients = (const uint8_t (*)[32])&id.public_key;
	cfg.n_recipients = 1;
	cfg.max_plain = 150000;
	cfg.direct_io = 1;
	cfg.on_close = on_close;
	cfg.arg = &s;
	cfg.no_sync = 1;
	CHECK_OK(segment_writer_new(&cfg, &w));
	make_record(&rec, 0, 1000);
	CHECK_OK(segment_writer_add(w, &rec, 1, NULL));
	make_record(&rec, 1, 190000);           /* > max_plain: closes #0, goes alone */
	CHECK_OK(segment_writer_add(w, &rec, 2, NULL));
	CHECK_EQ_INT(s.n, 1);
	make_record(&rec, 2, 70000);            /* closes #1 first */
	CHECK_OK(segment_writer_add(w, &rec, 3, NULL));
	CHECK_EQ_INT(s.n, 2);
	make_record(&rec, 3, 70000);
	CHECK_OK(segment_writer_add(w, &rec, 4, NULL));
	make_record(&rec, 4, 70000);           /* would pass 150000: new segment */
	CHECK_OK(segment_writer_add(w, &rec, 5, NULL));
	CHECK_OK(segment_writer_flush(w, 6));
	/* abandoning a segment with a background (O_DIRECT) write in flight */
	make_record(&rec, 5, 190000);
	CHECK_OK(segment_writer_add(w, &rec, 7, NULL));
	CHECK_EQ_INT(count_files(dir, 1), 1);
	segment_writer_free(w);
	CHECK_EQ_INT(count_files(dir, 1), 0);
	CHECK_EQ_INT(s.n, 4);
	CHECK_EQ_INT(s.n_records[0], 1);
	CHECK_EQ_INT(s.n_records[1], 1);
	CHECK_EQ_INT(s.n_records[2], 2);
	CHECK_EQ_INT(s.n_records[3], 1);
	for (int k = 0; k < s.n; k++) {
		size_t len;
		uint8_t *obj = slurp(s.path[k], &len);
		CHECK(obj != NULL);
		CHECK_EQ_INT(read_segment(obj, len, &id, s.name[k], &s, first, NULL), s.n_records[k]);
		first += (long)s.n_records[k];
		free(obj);
	}
}

/* One segment file for the damage tests (several chunks). */
static int g_one_direct;                 /* one_segment: O_DIRECT from the first byte */

static void one_segment(const char *dir, struct age_x25519_identity *id, struct seen *s, int n)
{
	struct segment_config cfg;
	struct segment_writer *w = NULL;
	struct frame_record rec;

	memset(s, 0, sizeof(*s));
	age_x25519_generate(id);
	memset(&cfg, 0, sizeof(cfg));
	cfg.spool_dir = dir;
	cfg.recipients = (const uint8_t (*)[32])&id->public_key;
	cfg.n_recipients = 1;
	cfg.on_close = on_close;
	cfg.arg = s;
	cfg.no_sync = 1;
	cfg.direct_io = g_one_direct;
	cfg.direct_at_once = g_one_direct;
	segment_writer_new(&cfg, &w);
	for (int i = 0; i < n; i++) {
		make_record(&rec, i, 500);
		segment_writer_add(w, &rec, 1, NULL);
		if (i == 0 && g_one_direct)
			CHECK_EQ_INT(segment_writer_direct(w), direct_ok(dir));
	}
	segment_writer_flush(w, 2);
	segment_writer_free(w);
}

static void test_reader_errors(void)
{
	static struct seen s;
	struct age_x25519_identity id, other;
	const char *dir = t_tmpdir();
	uint8_t *obj, *bad;
	size_t len;
	const size_t hl = 22 + 98 + 48 + 16, enc = 65552;
	struct segment_reader *sr = NULL;
	char wrong[40];

	one_segment(dir, &id, &s, 600); /* ~330 KB: 6 chunks */
	CHECK_EQ_INT(s.n, 1);
	obj = slurp(s.path[0], &len);
	CHECK(obj != NULL);
	bad = malloc(len + 1);
	CHECK(bad != NULL);
	CHECK_EQ_INT(read_segment(obj, len, &id, s.name[0], &s, 0, NULL), 600);
	CHECK_OK(age_x25519_generate(&other));
	CHECK_EQ_INT(read_segment(obj, len, &other, NULL, NULL, 0, NULL), LACRE_E_AUTH);
	/* altered byte in chunk 3: the records of chunks 0..2 come out first */
	memcpy(bad, obj, len);
	bad[hl + 3 * enc + 100] ^= 0x20;
	CHECK_EQ_INT(read_segment(bad, len, &id, NULL, NULL, 0, NULL), LACRE_E_CORRUPT);
	{
		struct frame_record rec;
		int done = 0, r, k = 0;
		CHECK_OK(segment_reader_new(bad, len, &id, NULL, &sr));
		while ((r = segment_reader_next(sr, &rec, &done)) == LACRE_OK && !done)
			k++;
		CHECK_EQ_INT(r, LACRE_E_CORRUPT);
		CHECK(k > 300 && k < 400);
		CHECK_EQ_INT(segment_reader_next(sr, &rec, &done), LACRE_E_STATE);
		segment_reader_free(sr);
	}
	/* altered header (the segment id is in the MAC'd header? no: the age
	 * header) and a MAC character */
	memcpy(bad, obj, len);
	bad[hl - 16 - 5] = bad[hl - 16 - 5] == 'A' ? 'B' : 'A';
	CHECK_EQ_INT(read_segment(bad, len, &id, NULL, NULL, 0, NULL), LACRE_E_CORRUPT);
	/* truncated at a chunk boundary and inside the header */
	CHECK_EQ_INT(read_segment(obj, hl + 2 * enc, &id, NULL, NULL, 0, NULL), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(read_segment(obj, 100, &id, NULL, NULL, 0, NULL), LACRE_E_TRUNCATED);
	/* trailing bytes after a short final chunk / anything after the file */
	memcpy(bad, obj, len);
	bad[len] = 0;
	CHECK_EQ_INT(read_segment(bad, len + 1, &id, NULL, NULL, 0, NULL), LACRE_E_CORRUPT);
	/* not an age file */
	{
		static const char junk[] = "LCRF\001\002junk\n";
		CHECK_EQ_INT(read_segment((const uint8_t *)junk, sizeof(junk) - 1, &id, NULL, NULL, 0, NULL),
			     LACRE_E_MALFORMED);
	}
	/* stored under another name */
	snprintf(wrong, sizeof(wrong), "%s", s.name[0]);
	wrong[0] = wrong[0] == '0' ? '1' : '0';
	CHECK_EQ_INT(read_segment(obj, len, &id, wrong, NULL, 0, NULL), LACRE_E_VERIFY);
	free(bad);
	free(obj);
}

/* Debian's age opens a segment of n records written into dir, and the
 * plaintext is the segment header frame and the n record frames. */
static void debian_age_check(const char *dir, int n)
{
	static struct seen s;
	struct age_x25519_identity id;
	char idpath[600], outpath[600], cmd[2000], idstr[AGE_IDENTITY_MAX];
	FILE *f;
	uint8_t *plain;
	size_t len;

	one_segment(dir, &id, &s, n);
	CHECK_EQ_INT(s.n, 1);
	snprintf(idpath, sizeof(idpath), "%s/id", dir);
	snprintf(outpath, sizeof(outpath), "%s/plain", dir);
	CHECK_OK(age_identity_encode(&id, idstr));
	f = fopen(idpath, "w");
	CHECK(f != NULL);
	fprintf(f, "%s\n", idstr);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "age -d -i '%s' -o '%s' '%s'", idpath, outpath, s.path[0]);
	CHECK_EQ_INT(system(cmd), 0);
	plain = slurp(outpath, &len);
	CHECK(plain != NULL);
	CHECK(len > (size_t)n * 500);
	CHECK(memcmp(plain, "LCRF\001\001", 6) == 0);
	{
		struct lacre_rbuf b, body;
		uint8_t type;
		struct frame_segment_header h;
		struct frame_record rec;
		int k = 0;
		lacre_rbuf_init(&b, plain, len);
		CHECK_OK(frame_next(&b, &type, &body));
		CHECK_OK(frame_segment_header_decode_body(body, &h));
		while (lacre_rbuf_left(&b)) {
			CHECK_OK(frame_next(&b, &type, &body));
			CHECK_EQ_INT(type, FRAME_RECORD);
			CHECK_OK(frame_record_decode_body(body, &rec));
			k++;
		}
		CHECK_EQ_INT(k, n);
	}
	free(plain);
	unlink(outpath);
	unlink(idpath);
	unlink(s.path[0]);
}

/* Debian's age opens a segment, and the plaintext starts with the segment
 * header frame. */
static void test_debian_age_opens_segment(void)
{
	if (access("/usr/bin/age", X_OK) != 0)
		SKIP("/usr/bin/age missing (apt-get install age)");
	debian_age_check(t_tmpdir(), 300);
}

/* The same for a segment written with O_DIRECT from its first byte, from
 * huge-page staging buffers, in a disk folder: 9,000 records (~4.7 MB:
 * several 1.75 MiB direct writes and an unaligned tail). */
static void test_debian_age_opens_direct_segment(void)
{
	char dir[] = "/var/tmp/lacre-test-seg-XXXXXX";

	if (access("/usr/bin/age", X_OK) != 0)
		SKIP("/usr/bin/age missing (apt-get install age)");
	if (!mkdtemp(dir))
		SKIP("/var/tmp unusable");
	g_one_direct = 1;
	debian_age_check(dir, 9000);
	g_one_direct = 0;
	rmdir(dir);
}

static void test_config_errors(void)
{
	struct segment_config cfg;
	struct segment_writer *w = NULL;
	uint8_t r[32] = { 9 };
	struct frame_record rec;

	memset(&cfg, 0, sizeof(cfg));
	CHECK_EQ_INT(segment_writer_new(&cfg, &w), LACRE_E_INVALID);
	cfg.spool_dir = "/nonexistent/lacre";
	cfg.recipients = (const uint8_t (*)[32])&r;
	cfg.n_recipients = 0;
	CHECK_EQ_INT(segment_writer_new(&cfg, &w), LACRE_E_INVALID);
	cfg.n_recipients = 1;
	CHECK_OK(segment_writer_new(&cfg, &w));
	make_record(&rec, 0, 100);
	CHECK_EQ_INT(segment_writer_add(w, &rec, 1, NULL), LACRE_E_IO);
	segment_writer_free(w);
}

/* The same with O_DIRECT (where the temporary folder's file system allows
 * it; the writer falls back to buffered writes otherwise).  Small
 * segments never reach SEG_PROMOTE_AT: they stay buffered. */
static void test_size_limit_direct_io(void)
{
	use_direct = 1;
	test_size_limit_and_readback();
	use_direct = 0;
}

/* test_size_limit_and_readback with O_DIRECT in a disk folder (/var/tmp:
 * tmpfs has no O_DIRECT; the test folder if /var/tmp is unusable), with
 * direct_at_once, the segment size limit and the record count given; the
 * folder is emptied and removed after. */
static void run_direct_on_disk(int at_once, uint64_t max_plain, int records)
{
	char dir[] = "/var/tmp/lacre-test-seg-XXXXXX";
	struct dirent *e;
	DIR *d;

	if (!mkdtemp(dir)) {
		printf("# /var/tmp unusable: the run goes to the test folder\n");
		g_dir = NULL;
	} else {
		g_dir = dir;
	}
	use_direct = 1;
	g_at_once = at_once;
	g_max_plain = max_plain;
	g_records = records;
	test_size_limit_and_readback();
	use_direct = 0;
	g_at_once = 0;
	g_max_plain = 300000;
	g_records = 3000;
	if (g_dir && (d = opendir(dir))) {
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
		rmdir(dir);
	}
	g_dir = NULL;
}

/* Segments of 9 MiB in a disk folder: the first starts buffered and moves
 * to O_DIRECT after 4 MiB, the next ones open with O_DIRECT (the writer is
 * busy); every record reads back and every fingerprint matches. */
static void test_promotion_to_direct(void)
{
	run_direct_on_disk(0, 9u << 20, 19000);  /* ~16 MiB: two segments and a bit */
}

/* direct_at_once in a disk folder: the first segment is written with
 * O_DIRECT from its first byte (header and all, final tail unaligned), the
 * next ones too (closed by size: the writer keeps its large buffers);
 * every record reads back and every fingerprint matches. */
static void test_direct_at_once(void)
{
	run_direct_on_disk(1, 300000, 3000);
}

/* The buffers of closed segments stay for the next ones, and
 * segment_cache_trim frees those idle for as long as asked: none of them
 * after an hour's limit, all of them after none. */
static void test_cache_trim(void)
{
	size_t held;

	segment_cache_trim(0);
	CHECK_EQ_INT(segment_cache_held(), 0);
	test_size_limit_and_readback();
	held = segment_cache_held();
	CHECK(held > 0);                         /* the commitment arrays at least */
	CHECK_EQ_INT(segment_cache_trim(3600 * 1000), 0);
	CHECK_EQ_INT(segment_cache_held(), held);
	CHECK_EQ_INT(segment_cache_trim(0), held);
	CHECK_EQ_INT(segment_cache_held(), 0);
}

int main(void)
{
	RUN(test_size_limit_and_readback);
	RUN(test_size_limit_direct_io);
	RUN(test_promotion_to_direct);
	RUN(test_direct_at_once);
	RUN(test_age_limit_and_tick);
	RUN(test_big_records);
	RUN(test_reader_errors);
	RUN(test_debian_age_opens_segment);
	RUN(test_debian_age_opens_direct_segment);
	RUN(test_config_errors);
	RUN(test_cache_trim);
	return t_done();
}
