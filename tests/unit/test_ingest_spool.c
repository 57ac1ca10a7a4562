/*
 * test_ingest_spool.c - the spool sink (docs/FORMATS.md §2): records and
 * events written and read back identical and in order, a fixed-layout
 * known-answer check of one entry, rotation, a torn final entry
 * (LACRE_E_TRUNCATED after the good entries) and a flipped byte
 * (LACRE_E_CORRUPT).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/ingest.h"

struct seen {
	int recs, evs;
	size_t bytes;
	int bad;
};

static int on_entry(void *arg, const struct ingest_spool_entry *e)
{
	struct seen *s = arg;
	char want[64];

	if (e->type == INGEST_SPOOL_RECORD) {
		/* record i: pdu of i+1 bytes of value i, conn i, peer "127.0.0.1:<i>" */
		int i = s->recs;
		snprintf(want, sizeof(want), "127.0.0.1:%d", 1000 + i);
		if (e->rec.pdu_len != (size_t)i + 1 || e->rec.conn_id != (uint64_t)i ||
		    e->rec.recv_us != 1700000000000000 + i || strcmp(e->rec.peer, want) != 0 ||
		    e->rec.listener != (i % 2 ? LACRE_HI3 : LACRE_HI2))
			s->bad++;
		for (size_t k = 0; k < e->rec.pdu_len; k++)
			if (e->rec.pdu[k] != (uint8_t)i)
				s->bad++;
		s->bytes += e->rec.pdu_len;
		s->recs++;
	} else {
		snprintf(want, sizeof(want), "{\"event\":\"test\",\"n\":%d}", s->evs);
		if (strcmp(e->json, want) != 0 || e->json_len != strlen(want))
			s->bad++;
		s->evs++;
	}
	return 0;
}

/* Write n records and n events to dir; return the sink closed. */
static int write_spool(const char *dir, int n, size_t rotate)
{
	struct lacre_sink sk;
	struct ingest_spool_opts o = { rotate, INGEST_FSYNC_FLUSH };
	uint8_t pdu[512];
	int r, i;

	if ((r = ingest_spool_sink_open(dir, &o, &sk)) != LACRE_OK)
		return r;
	for (i = 0; i < n && r == LACRE_OK; i++) {
		struct lacre_record rec;
		char ev[64];
		memset(&rec, 0, sizeof(rec));
		memset(pdu, i, sizeof(pdu));
		rec.pdu = pdu;
		rec.pdu_len = (size_t)i + 1;
		rec.recv_us = 1700000000000000 + i;
		rec.listener = i % 2 ? LACRE_HI3 : LACRE_HI2;
		rec.conn_id = (uint64_t)i;
		snprintf(rec.peer, sizeof(rec.peer), "127.0.0.1:%d", 1000 + i);
		r = sk.record(sk.ctx, &rec);
		snprintf(ev, sizeof(ev), "{\"event\":\"test\",\"n\":%d}", i);
		if (r == LACRE_OK)
			r = sk.event(sk.ctx, ev);
		if (r == LACRE_OK && i % 50 == 0)
			r = sk.flush(sk.ctx);
	}
	sk.close(sk.ctx);
	return r;
}

/* The spool files of dir, sorted, into names[]. */
static int list(const char *dir, char names[][512], int cap)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < cap)
		if (strncmp(e->d_name, "spool-", 6) == 0)
			snprintf(names[n++], 512, "%s/%s", dir, e->d_name);
	closedir(d);
	qsort(names, (size_t)n, 512, (int (*)(const void *, const void *))strcmp);
	return n;
}

static void test_roundtrip(void)
{
	char dir[4096], names[4][512];
	struct seen s = { 0, 0, 0, 0 };

	snprintf(dir, sizeof(dir), "%s/spool", t_tmpdir());
	CHECK_OK(write_spool(dir, 300, 0));
	CHECK_EQ_INT(list(dir, names, 4), 1);
	CHECK_OK(ingest_spool_read(names[0], on_entry, &s));
	CHECK_EQ_INT(s.recs, 300);
	CHECK_EQ_INT(s.evs, 300);
	CHECK_EQ_INT(s.bad, 0);
}

/* Known answer: the bytes of the header and of the first record entry. */
static void test_layout(void)
{
	char dir[4096], names[2][512];
	uint8_t buf[256];
	FILE *fp;
	size_t n;
	static const uint8_t want_rec[] = {
		0x00, 0x00, 0x00, 0x26,                         /* entry length 38 */
		0x01,                                           /* type record */
		0x00, 0x06, 0x0a, 0x24, 0x18, 0x1e, 0x40, 0x00, /* recv_us 1700000000000000 */
		0x02,                                           /* listener HI2 */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* conn 0 */
		0x0e, '1', '2', '7', '.', '0', '.', '0', '.', '1', ':', '1', '0', '0', '0',
		0x00, 0x00, 0x00, 0x01,                         /* pdu length 1 */
		0x00                                            /* pdu */
	};

	snprintf(dir, sizeof(dir), "%s/spool1", t_tmpdir());
	CHECK_OK(write_spool(dir, 1, 0));
	CHECK_EQ_INT(list(dir, names, 2), 1);
	fp = fopen(names[0], "rb");
	CHECK(fp != NULL);
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	CHECK(n > 24 + sizeof(want_rec) + 4);
	CHECK_MEM(buf, "LACRESPL\x00\x01\x00\x00\x00\x00\x00\x00", 16);
	CHECK_MEM(buf + 24, want_rec, sizeof(want_rec));
	/* CRC-32 (zlib) of the entry body, value computed with python zlib.crc32 */
	{
		const uint8_t *c = buf + 24 + sizeof(want_rec);
		uint32_t crc = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
		CHECK_EQ_INT(crc, 0x4046832bu);
	}
}

static void test_rotation(void)
{
	char dir[4096], names[64][512];
	struct seen s = { 0, 0, 0, 0 };
	int n, i;

	snprintf(dir, sizeof(dir), "%s/spool2", t_tmpdir());
	CHECK_OK(write_spool(dir, 400, 8192));
	n = list(dir, names, 64);
	CHECK(n > 5);
	for (i = 0; i < n; i++)
		CHECK_OK(ingest_spool_read(names[i], on_entry, &s));
	CHECK_EQ_INT(s.recs, 400);
	CHECK_EQ_INT(s.evs, 400);
	CHECK_EQ_INT(s.bad, 0);
}

/* A torn last entry and a flipped byte are reported, not skipped. */
static void test_torn_and_corrupt(void)
{
	char dir[4096], names[2][512];
	struct seen s = { 0, 0, 0, 0 };
	FILE *fp;
	long size;

	snprintf(dir, sizeof(dir), "%s/spool3", t_tmpdir());
	CHECK_OK(write_spool(dir, 10, 0));
	CHECK_EQ_INT(list(dir, names, 2), 1);
	fp = fopen(names[0], "r+b");
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fclose(fp);
	CHECK(truncate(names[0], size - 3) == 0);
	CHECK_EQ_INT(ingest_spool_read(names[0], on_entry, &s), LACRE_E_TRUNCATED);
	CHECK_EQ_INT(s.recs, 10);
	CHECK_EQ_INT(s.evs, 9);
	CHECK_EQ_INT(s.bad, 0);

	fp = fopen(names[0], "r+b");
	fseek(fp, 24 + 4 + 30, SEEK_SET);
	fputc(0x5a, fp);
	fclose(fp);
	memset(&s, 0, sizeof(s));
	CHECK_EQ_INT(ingest_spool_read(names[0], on_entry, &s), LACRE_E_CORRUPT);
	CHECK_EQ_INT(s.recs, 0);
}

int main(void)
{
	RUN(test_roundtrip);
	RUN(test_layout);
	RUN(test_rotation);
	RUN(test_torn_and_corrupt);
	return t_done();
}
