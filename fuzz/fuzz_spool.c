/*
 * fuzz_spool.c - libFuzzer harness for spool replay: reading back a spool
 * file that the receiver wrote (lib/ingest/spool_sink.c,
 * ingest_spool_read; the format is docs/FORMATS.md §2).  A spool file is
 * local but untrusted once at rest: a crash tears its tail, a disk or a
 * person may change any byte.
 *
 * The input is the file's bytes, read through a memfd.  Each record's PDU
 * is decoded as a replay would (etsi_decode).  Invariants:
 *   - entries come out whole: a record's PDU length is what its entry said,
 *     an event's JSON is NUL-terminated at its length;
 *   - a torn tail: every cut of the file inside an entry reads as
 *     LACRE_E_TRUNCATED after exactly the entries before the cut, and a cut
 *     on an entry boundary reads as LACRE_OK (the crash-recovery promise of
 *     ingest.h); checked at one cut point chosen from the input;
 *   - round trip: the entries of a file that reads cleanly, written again
 *     through the spool sink, read back the same (record time, listener,
 *     connection, peer as a C string and PDU bytes; event JSON up to its
 *     first NUL, since the sink takes a C string; an event's time is the
 *     sink's own clock, so it is not compared).
 * Every check runs twice: on the input, and on a copy whose entry CRCs
 * were recomputed, so that mutated entry bodies get past the CRC and
 * reach the body parser (random bytes almost never carry a right CRC).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/ingest.h"
#include "lacre/record.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_SP_MAX 512      /* entries compared per file */

/* One entry as read, with copies that outlive the reader's buffer. */
struct fz_sp_ent {
	int type;
	int64_t recv_us;
	uint8_t listener;
	uint64_t conn_id;
	char peer[64];
	uint8_t *bytes;        /* PDU or JSON */
	size_t len;
};

struct fz_sp_list {
	struct fz_sp_ent e[FZ_SP_MAX];
	size_t n;              /* entries delivered (may exceed FZ_SP_MAX) */
};

/* Counters the corpus replay asserts on. */
static unsigned long fz_sp_records, fz_sp_events, fz_sp_roundtrips;

/* Free the copies held by l. */
static void fz_sp_clear(struct fz_sp_list *l)
{
	for (size_t i = 0; i < l->n && i < FZ_SP_MAX; i++)
		free(l->e[i].bytes);
	l->n = 0;
}

/* ingest_spool_read callback: check and copy one entry. */
static int fz_sp_entry(void *arg, const struct ingest_spool_entry *e)
{
	struct fz_sp_list *l = arg;
	struct fz_sp_ent *c;
	struct etsi_pdu *d;

	FUZZ_CHECK(e->type == INGEST_SPOOL_RECORD || e->type == INGEST_SPOOL_EVENT);
	if (e->type == INGEST_SPOOL_RECORD) {
		FUZZ_CHECK(e->rec.pdu != NULL || e->rec.pdu_len == 0);
		FUZZ_CHECK(memchr(e->rec.peer, 0, sizeof(e->rec.peer)) != NULL);
		if ((d = malloc(sizeof(*d))) != NULL) {
			(void)etsi_decode(e->rec.pdu, e->rec.pdu_len, d);
			free(d);
		}
	} else {
		FUZZ_CHECK(e->json != NULL && e->json[e->json_len] == '\0');
	}
	if (l->n < FZ_SP_MAX) {
		c = &l->e[l->n];
		memset(c, 0, sizeof(*c));
		c->type = e->type;
		if (e->type == INGEST_SPOOL_RECORD) {
			c->recv_us = e->rec.recv_us;
			c->listener = e->rec.listener;
			c->conn_id = e->rec.conn_id;
			memcpy(c->peer, e->rec.peer, sizeof(c->peer));
			c->len = e->rec.pdu_len;
			c->bytes = malloc(c->len + 1);
			FUZZ_CHECK(c->bytes != NULL);
			if (c->len)
				memcpy(c->bytes, e->rec.pdu, c->len);
		} else {
			c->len = e->json_len;
			c->bytes = malloc(c->len + 1);
			FUZZ_CHECK(c->bytes != NULL);
			memcpy(c->bytes, e->json, c->len + 1);
		}
	}
	l->n++;
	return 0;
}

/* Read p[0..n) as a spool file through a memfd into l. */
static int fz_sp_read(const uint8_t *p, size_t n, struct fz_sp_list *l)
{
	char path[64];
	int fd = memfd_create("spool", MFD_CLOEXEC), r;

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(n == 0 || write(fd, p, n) == (ssize_t)n);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = ingest_spool_read(path, fz_sp_entry, l);
	close(fd);
	return r;
}

/* Offsets where each entry of a clean file ends (the file's framing:
 * 24-byte header, then u32 length, body, u32 CRC per entry). */
static size_t fz_sp_ends(const uint8_t *p, size_t n, size_t *ends, size_t cap)
{
	size_t off = 24, k = 0;
	uint32_t len;

	while (off + 4 <= n && k < cap) {
		len = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 | p[off + 3];
		off += 8 + (size_t)len;
		ends[k++] = off;
	}
	return k;
}

/* Write l's entries through the spool sink in dir and read them back. */
static void fz_sp_roundtrip(const struct fz_sp_list *l, const char *dir)
{
	static struct fz_sp_list back;
	struct ingest_spool_opts o = { (size_t)1 << 30, INGEST_FSYNC_NEVER };
	struct lacre_sink sink;
	struct lacre_record rec;
	char path[4200], *json;
	struct dirent *de;
	DIR *dh;
	size_t i, files = 0;

	FUZZ_CHECK(ingest_spool_sink_open(dir, &o, &sink) == LACRE_OK);
	for (i = 0; i < l->n; i++) {
		const struct fz_sp_ent *c = &l->e[i];
		if (c->type == INGEST_SPOOL_RECORD) {
			memset(&rec, 0, sizeof(rec));
			rec.pdu = c->bytes;
			rec.pdu_len = c->len;
			rec.recv_us = c->recv_us;
			rec.listener = c->listener;
			rec.conn_id = c->conn_id;
			memcpy(rec.peer, c->peer, sizeof(rec.peer));
			FUZZ_CHECK(sink.record(sink.ctx, &rec) == LACRE_OK);
		} else {
			json = (char *)c->bytes;
			FUZZ_CHECK(sink.event(sink.ctx, json) == LACRE_OK);
		}
	}
	FUZZ_CHECK(sink.flush(sink.ctx) == LACRE_OK);
	sink.close(sink.ctx);
	dh = opendir(dir);
	FUZZ_CHECK(dh != NULL);
	while ((de = readdir(dh)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		memset(&back, 0, sizeof(back));
		FUZZ_CHECK(ingest_spool_read(path, fz_sp_entry, &back) == LACRE_OK);
		FUZZ_CHECK(back.n == l->n);
		for (i = 0; i < l->n; i++) {
			const struct fz_sp_ent *a = &l->e[i], *b = &back.e[i];
			FUZZ_CHECK(a->type == b->type);
			if (a->type == INGEST_SPOOL_RECORD) {
				FUZZ_CHECK(a->recv_us == b->recv_us && a->listener == b->listener &&
					   a->conn_id == b->conn_id);
				FUZZ_CHECK(strncmp(a->peer, b->peer, 63) == 0);
				FUZZ_CHECK(a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0);
			} else {
				FUZZ_CHECK(strcmp((char *)a->bytes, (char *)b->bytes) == 0);
			}
		}
		fz_sp_clear(&back);
		unlink(path);
		files++;
	}
	closedir(dh);
	FUZZ_CHECK(files == 1);
	fz_sp_roundtrips++;
}

/* CRC-32 (IEEE, zlib's crc32) of p[0..n), bit by bit: the spool's
 * checksum, written here independently of spool_sink.c. */
static uint32_t fz_sp_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return c ^ 0xffffffffu;
}

/* Recompute the CRC of every whole entry of p[0..n) in place; returns
 * whether any changed. */
static int fz_sp_fix_crcs(uint8_t *p, size_t n)
{
	size_t off = 24;
	uint32_t len, c, old;
	int changed = 0;

	while (n >= 8 && off <= n - 8) {
		len = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 | p[off + 3];
		if (len > n - off - 8)
			break;
		c = fz_sp_crc32(p + off + 4, len);
		off += 4 + (size_t)len;
		old = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 | p[off + 3];
		changed |= old != c;
		p[off] = (uint8_t)(c >> 24);
		p[off + 1] = (uint8_t)(c >> 16);
		p[off + 2] = (uint8_t)(c >> 8);
		p[off + 3] = (uint8_t)c;
		off += 4;
	}
	return changed;
}

static void fz_sp_one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	fz_sp_one(data, size);
	if (size > 24 && (copy = malloc(size)) != NULL) {
		memcpy(copy, data, size);
		if (fz_sp_fix_crcs(copy, size))
			fz_sp_one(copy, size);
		free(copy);
	}
	return 0;
}

/* The sink's folder for the round trip (emptied after each use), removed
 * at exit. */
static char fz_sp_dir[64];

/* atexit: remove the folder. */
static void fz_sp_cleanup(void)
{
	if (fz_sp_dir[0])
		rmdir(fz_sp_dir);
}

/* Every check on one file image. */
static void fz_sp_one(const uint8_t *data, size_t size)
{
	char *dir = fz_sp_dir;
	static struct fz_sp_list all, part;
	static size_t ends[FZ_SP_MAX];
	size_t k, cut, i, before;
	int r, rc;

	if (!dir[0]) {
		snprintf(fz_sp_dir, sizeof(fz_sp_dir), "/dev/shm/lacre-fuzz-spool-XXXXXX");
		if (!mkdtemp(fz_sp_dir)) {
			snprintf(fz_sp_dir, sizeof(fz_sp_dir), "/tmp/lacre-fuzz-spool-XXXXXX");
			FUZZ_CHECK(mkdtemp(fz_sp_dir) != NULL);
		}
		FUZZ_CHECK(atexit(fz_sp_cleanup) == 0);
	}
	memset(&all, 0, sizeof(all));
	r = fz_sp_read(data, size, &all);
	for (i = 0; i < all.n && i < FZ_SP_MAX; i++) {
		if (all.e[i].type == INGEST_SPOOL_RECORD)
			fz_sp_records++;
		else
			fz_sp_events++;
	}
	if (r == LACRE_OK && all.n > 0 && all.n <= FZ_SP_MAX) {
		/* a torn tail at a cut chosen from the input */
		k = fz_sp_ends(data, size, ends, FZ_SP_MAX);
		FUZZ_CHECK(k == all.n && ends[k - 1] == size);
		cut = 24 + (size_t)(data[size - 1] | data[size / 2] << 8) % (size - 24);
		for (before = 0; before < k && ends[before] <= cut; before++)
			;
		memset(&part, 0, sizeof(part));
		rc = fz_sp_read(data, cut, &part);
		FUZZ_CHECK(part.n == before);
		if (cut == 24 || (before > 0 && ends[before - 1] == cut))
			FUZZ_CHECK(rc == LACRE_OK);
		else
			FUZZ_CHECK(rc == LACRE_E_TRUNCATED);
		fz_sp_clear(&part);
		fz_sp_roundtrip(&all, dir);
	}
	fz_sp_clear(&all);
}
