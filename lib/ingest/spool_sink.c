/*
 * spool_sink.c - the interim sink of the receiver: an append-only spool of
 * records and events in local files, byte layout in docs/FORMATS.md §2.
 *
 * Entries are framed (length, body, CRC-32) so that a reader can tell a
 * clean end from a write torn by a crash, and so the lead's vault sink can
 * later drain a spool left by an earlier run.  Writes go through a 256 KiB
 * user-space buffer: write(2) when it fills and on flush(); fdatasync() on
 * flush() (INGEST_FSYNC_FLUSH, default), after every entry (ALWAYS) or never.
 * The receiver calls flush() at most flush_ms apart while data arrives and
 * at stop, which bounds the crash-loss window.
 *
 * Thread-safe: the receiver's workers call it at once; one mutex keeps
 * every entry whole and the file's order the order entries were taken.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/ingest.h"

#define SPOOL_MAGIC "LACRESPL"
#define SPOOL_VERSION 1
#define SPOOL_HDR_LEN 24
#define SPOOL_WBUF (256u << 10)
#define SPOOL_MAX_ENTRY (64u << 20)

struct spool {
	char *dir;
	int dfd;                  /* the directory, for fsync after create */
	int fd;
	int seq;                  /* file number */
	uint64_t file_bytes;
	struct lacre_dbuf w;      /* pending bytes not yet written */
	struct ingest_spool_opts o;
	int err;                  /* sticky I/O error */
	pthread_mutex_t mu;       /* record, event and flush from every worker */
};

/* CRC-32 (IEEE 802.3, as zlib's crc32) of p[0..n), continuing from crc. */
static uint32_t crc32_ieee(uint32_t crc, const uint8_t *p, size_t n)
{
	static uint32_t tab[256];
	static int init;
	uint32_t c;
	size_t i;
	int k;

	if (!init) {
		for (i = 0; i < 256; i++) {
			c = (uint32_t)i;
			for (k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			tab[i] = c;
		}
		init = 1;
	}
	crc = ~crc;
	for (i = 0; i < n; i++)
		crc = tab[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* Microseconds since the epoch, wall clock. */
static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Write every pending byte to the file. */
static int drain(struct spool *sp)
{
	size_t off = 0;
	ssize_t n;

	while (off < sp->w.len) {
		n = write(sp->fd, sp->w.p + off, sp->w.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			lacre_dbuf_consume(&sp->w, off);
			return sp->err = LACRE_E_IO;
		}
		off += (size_t)n;
	}
	lacre_dbuf_reset(&sp->w);
	return LACRE_OK;
}

/* Open the next spool file and write its header. */
static int open_file(struct spool *sp)
{
	char name[128];
	uint8_t hdr[SPOOL_HDR_LEN];
	struct tm tm;
	time_t t = time(NULL);
	int64_t us = now_us();
	int i;

	gmtime_r(&t, &tm);
	snprintf(name, sizeof(name), "spool-%04d%02d%02dT%02d%02d%02dZ-%ld-%06d.lsp",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	         tm.tm_sec, (long)getpid(), sp->seq++);
	sp->fd = openat(sp->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (sp->fd < 0)
		return LACRE_E_IO;
	memcpy(hdr, SPOOL_MAGIC, 8);
	hdr[8] = 0;
	hdr[9] = SPOOL_VERSION;
	memset(hdr + 10, 0, 6);
	for (i = 0; i < 8; i++)
		hdr[16 + i] = (uint8_t)((uint64_t)us >> (56 - 8 * i));
	if (lacre_dbuf_add(&sp->w, hdr, sizeof(hdr)) != LACRE_OK || drain(sp) != LACRE_OK)
		return LACRE_E_IO;
	sp->file_bytes = SPOOL_HDR_LEN;
	if (fsync(sp->dfd) != 0)
		return LACRE_E_IO;
	return LACRE_OK;
}

/* Write, sync and close the current file. */
static int close_file(struct spool *sp)
{
	int r = LACRE_OK;

	if (sp->fd < 0)
		return LACRE_OK;
	if (drain(sp) != LACRE_OK || (sp->o.fsync_mode != INGEST_FSYNC_NEVER && fdatasync(sp->fd) != 0))
		r = LACRE_E_IO;
	if (close(sp->fd) != 0)
		r = LACRE_E_IO;
	sp->fd = -1;
	return r;
}

/* Frame one entry (body b[0..n)) into the write buffer. */
static int put_entry(struct spool *sp, const uint8_t *head, size_t hn,
                     const uint8_t *tail, size_t tn)
{
	uint32_t crc, len = (uint32_t)(hn + tn);
	int r;

	if (sp->err)
		return sp->err;
	if (hn + tn > SPOOL_MAX_ENTRY)
		return LACRE_E_TOO_LARGE;
	if (sp->file_bytes > SPOOL_HDR_LEN && sp->file_bytes + 8 + len > sp->o.rotate_bytes) {
		if ((r = close_file(sp)) != LACRE_OK || (r = open_file(sp)) != LACRE_OK)
			return sp->err = r;
	}
	crc = crc32_ieee(0, head, hn);
	crc = crc32_ieee(crc, tail, tn);
	if (sp->w.len + 8 + len > SPOOL_WBUF && sp->w.len && (r = drain(sp)) != LACRE_OK)
		return r;
	if ((r = lacre_dbuf_add_u32be(&sp->w, len)) != LACRE_OK ||
	    (r = lacre_dbuf_add(&sp->w, head, hn)) != LACRE_OK ||
	    (tn && (r = lacre_dbuf_add(&sp->w, tail, tn)) != LACRE_OK) ||
	    (r = lacre_dbuf_add_u32be(&sp->w, crc)) != LACRE_OK)
		return sp->err = r;
	sp->file_bytes += 8 + len;
	if (sp->w.len >= SPOOL_WBUF / 2 && (r = drain(sp)) != LACRE_OK)
		return r;
	if (sp->o.fsync_mode == INGEST_FSYNC_ALWAYS) {
		if ((r = drain(sp)) != LACRE_OK)
			return r;
		if (fdatasync(sp->fd) != 0)
			return sp->err = LACRE_E_IO;
	}
	return LACRE_OK;
}

/* Store big-endian v in n bytes at p. */
static void be(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* sink->record: one type-1 entry. */
static int spool_record(void *ctx, const struct lacre_record *rec)
{
	struct spool *sp = ctx;
	uint8_t h[1 + 8 + 1 + 8 + 1 + 64 + 4];
	size_t pl = strnlen(rec->peer, sizeof(rec->peer)), o = 0;
	int r;

	if (pl > 63)
		pl = 63;
	if (rec->pdu_len > 0xffffffffu)
		return LACRE_E_TOO_LARGE;
	h[o++] = INGEST_SPOOL_RECORD;
	be(h + o, (uint64_t)rec->recv_us, 8);
	o += 8;
	h[o++] = rec->listener;
	be(h + o, rec->conn_id, 8);
	o += 8;
	h[o++] = (uint8_t)pl;
	memcpy(h + o, rec->peer, pl);
	o += pl;
	be(h + o, rec->pdu_len, 4);
	o += 4;
	pthread_mutex_lock(&sp->mu);
	r = put_entry(sp, h, o, rec->pdu, rec->pdu_len);
	pthread_mutex_unlock(&sp->mu);
	return r;
}

/* sink->event: one type-2 entry. */
static int spool_event(void *ctx, const char *json)
{
	struct spool *sp = ctx;
	uint8_t h[1 + 8 + 4];
	size_t n = strlen(json);
	int r;

	h[0] = INGEST_SPOOL_EVENT;
	be(h + 1, (uint64_t)now_us(), 8);
	be(h + 9, n, 4);
	pthread_mutex_lock(&sp->mu);
	r = put_entry(sp, h, sizeof(h), (const uint8_t *)json, n);
	pthread_mutex_unlock(&sp->mu);
	return r;
}

/* sink->flush: write(2) and, per policy, fdatasync(). */
static int spool_flush(void *ctx)
{
	struct spool *sp = ctx;
	int r;

	pthread_mutex_lock(&sp->mu);
	if ((r = sp->err) == LACRE_OK && (r = drain(sp)) == LACRE_OK &&
	    sp->o.fsync_mode != INGEST_FSYNC_NEVER && fdatasync(sp->fd) != 0)
		r = sp->err = LACRE_E_IO;
	pthread_mutex_unlock(&sp->mu);
	return r;
}

/* sink->close: flush, sync, free. */
static int spool_close(void *ctx)
{
	struct spool *sp = ctx;
	int r;

	if (!sp)
		return LACRE_OK;
	r = close_file(sp);
	if (sp->dfd >= 0)
		close(sp->dfd);
	lacre_dbuf_free(&sp->w);
	free(sp->dir);
	pthread_mutex_destroy(&sp->mu);
	free(sp);
	return r;
}

/* Open the spool sink.  See ingest.h. */
int ingest_spool_sink_open(const char *dir, const struct ingest_spool_opts *opts,
                           struct lacre_sink *out)
{
	struct spool *sp;
	int r;

	if (!dir || !*dir)
		return LACRE_E_INVALID;
	if (!(sp = calloc(1, sizeof(*sp))))
		return LACRE_E_NOMEM;
	sp->fd = -1;
	sp->dfd = -1;
	pthread_mutex_init(&sp->mu, NULL);
	(void)crc32_ieee(0, NULL, 0);   /* its table, before any worker runs */
	sp->o.rotate_bytes = 256u << 20;
	sp->o.fsync_mode = INGEST_FSYNC_FLUSH;
	if (opts) {
		if (opts->rotate_bytes)
			sp->o.rotate_bytes = opts->rotate_bytes;
		sp->o.fsync_mode = opts->fsync_mode;
	}
	lacre_dbuf_init(&sp->w, SPOOL_WBUF + SPOOL_MAX_ENTRY + 64);
	r = LACRE_E_NOMEM;
	if (!(sp->dir = strdup(dir)))
		goto fail;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		r = LACRE_E_IO;
		goto fail;
	}
	if ((sp->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = LACRE_E_IO;
		goto fail;
	}
	if ((r = open_file(sp)) != LACRE_OK)
		goto fail;
	memset(out, 0, sizeof(*out));   /* no read_done: it writes at flush */
	out->ctx = sp;
	out->record = spool_record;
	out->event = spool_event;
	out->flush = spool_flush;
	out->close = spool_close;
	return LACRE_OK;
fail:
	spool_close(sp);
	return r;
}

/* Read a whole file into memory (spool files are bounded by rotate_bytes). */
static int slurp(const char *path, uint8_t **out, size_t *len)
{
	FILE *fp;
	struct lacre_dbuf d;
	uint8_t buf[65536];
	size_t n;
	int r = LACRE_OK;

	if (!(fp = fopen(path, "rb")))
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	lacre_dbuf_init(&d, (size_t)4 << 30);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		if ((r = lacre_dbuf_add(&d, buf, n)) != LACRE_OK)
			break;
	if (ferror(fp))
		r = LACRE_E_IO;
	fclose(fp);
	if (r != LACRE_OK) {
		lacre_dbuf_free(&d);
		return r;
	}
	*out = lacre_dbuf_steal(&d, len);
	return LACRE_OK;
}

/* Read a spool file back.  See ingest.h. */
int ingest_spool_read(const char *path,
                      int (*fn)(void *arg, const struct ingest_spool_entry *e),
                      void *arg)
{
	uint8_t *data = NULL, type, pl;
	const uint8_t *magic, *body, *p;
	size_t len = 0;
	struct lacre_rbuf b, e;
	struct ingest_spool_entry ent;
	uint32_t elen = 0, crc, jl, dl;   /* elen read only once its field was whole */
	uint64_t u;
	char *json = NULL;
	int r;

	if ((r = slurp(path, &data, &len)) != LACRE_OK)
		return r;
	lacre_rbuf_init(&b, data, len);
	if (lacre_rbuf_take(&b, 8, &magic) != LACRE_OK || memcmp(magic, SPOOL_MAGIC, 8) != 0 ||
	    lacre_rbuf_skip(&b, SPOOL_HDR_LEN - 8) != LACRE_OK || data[8] != 0 || data[9] != SPOOL_VERSION) {
		r = LACRE_E_CORRUPT;
		goto done;
	}
	while (lacre_rbuf_left(&b) > 0) {
		if (lacre_rbuf_u32be(&b, &elen) != LACRE_OK || elen > SPOOL_MAX_ENTRY ||
		    lacre_rbuf_take(&b, elen, &body) != LACRE_OK || lacre_rbuf_u32be(&b, &crc) != LACRE_OK) {
			r = elen > SPOOL_MAX_ENTRY ? LACRE_E_CORRUPT : LACRE_E_TRUNCATED;
			goto done;
		}
		if (crc32_ieee(0, body, elen) != crc) {
			r = LACRE_E_CORRUPT;
			goto done;
		}
		memset(&ent, 0, sizeof(ent));
		lacre_rbuf_init(&e, body, elen);
		r = LACRE_E_CORRUPT;
		if (lacre_rbuf_u8(&e, &type) != LACRE_OK)
			goto done;
		ent.type = type;
		if (type == INGEST_SPOOL_RECORD) {
			if (lacre_rbuf_u64be(&e, &u) != LACRE_OK)
				goto done;
			ent.rec.recv_us = (int64_t)u;
			if (lacre_rbuf_u8(&e, &ent.rec.listener) != LACRE_OK ||
			    lacre_rbuf_u64be(&e, &ent.rec.conn_id) != LACRE_OK ||
			    lacre_rbuf_u8(&e, &pl) != LACRE_OK || pl >= sizeof(ent.rec.peer) ||
			    lacre_rbuf_copy(&e, ent.rec.peer, pl) != LACRE_OK ||
			    lacre_rbuf_u32be(&e, &dl) != LACRE_OK ||
			    lacre_rbuf_take(&e, dl, &p) != LACRE_OK ||
			    lacre_rbuf_expect_end(&e) != LACRE_OK)
				goto done;
			ent.rec.pdu = p;
			ent.rec.pdu_len = dl;
		} else if (type == INGEST_SPOOL_EVENT) {
			if (lacre_rbuf_u64be(&e, &u) != LACRE_OK ||
			    lacre_rbuf_u32be(&e, &jl) != LACRE_OK ||
			    lacre_rbuf_take(&e, jl, &p) != LACRE_OK ||
			    lacre_rbuf_expect_end(&e) != LACRE_OK)
				goto done;
			ent.time_us = (int64_t)u;
			free(json);
			if (!(json = malloc((size_t)jl + 1))) {
				r = LACRE_E_NOMEM;
				goto done;
			}
			memcpy(json, p, jl);
			json[jl] = 0;
			ent.json = json;
			ent.json_len = jl;
		} else {
			goto done;
		}
		if ((r = fn(arg, &ent)) != 0)
			goto done;
	}
	r = LACRE_OK;
done:
	free(json);
	free(data);
	return r;
}
