/*
 * site_audit.c - a site's own view of its ingest log on the backend: the
 * keyless audit of lib/ledger/audit.c run against the checkpoint the site
 * keeps locally (trusted: it never leaves the site), with every "segment
 * closed" entry checked against the segment object on the backend (present,
 * of the recorded size, and with the recorded keyless fingerprint: SHA-256
 * over its age header and chunk tags).  `lacre audit --site`, `lacre
 * records` and `lacre quarantine` use it, so a deleted, truncated or
 * substituted segment is reported even when no key can open it.
 *
 * It also reports what the log does not name: segment objects on the
 * backend with no "segment closed" entry (uploaded before a crash cut the
 * log back), and the spool's leftovers (site_audit.h gives the layout):
 * open segments a crash cut off (their records are lost), their stream
 * manifests (the loss report), closed segments whose batch no signed
 * checkpoint covers.  While ingest runs (it holds the log's lock) its open
 * segments and unsigned batches are work in progress, counted but not
 * reported: run the audit with ingest stopped for an exact answer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lacre/access.h"
#include "lacre/age.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/hex.h"
#include "lacre/ingest_logs.h"
#include "lacre/seal_sink.h"
#include "lacre/site_audit.h"

#define SITE_AUDIT_FILE_MAX (64 * 1024)
#define SITE_AUDIT_SEGMENT_MAX ((size_t)1 << 31)
#define SA_NAME_LEN 32               /* hex characters of a segment name */
#define SA_STREAMS_MAX (64 * 1024)   /* bytes of a loss report read */
#define SA_STREAMS_SHOWN 240         /* characters of it shown in the finding */
#define SA_TMP "TMP."
#define SA_STREAMS ".streams"
#define SA_LEAVES ".leaves"
#define SA_READY "ready"
#define SA_LOST "lost"
#define SA_REL_MAX (NAME_MAX + 16)        /* a spool file name with its sub-folder */

struct sa_ctx {
	const struct site_audit_opts *o;
	struct site_audit_result *res;
	struct lacre_dbuf obj;
	char spool_path[SITE_PATH_MAX + 320];
	const struct site *site;
	const char *spool;           /* the audited log's spool on this machine */
	const char *origin;          /* the audited log's origin */
	int multi;                   /* the site has several ingest logs */
	char **named;                /* base names the log's segment entries give */
	size_t n_named, cap_named;
	int nomem;
};

int site_audit_segment_name(const char *name)
{
	return strlen(name) == SA_NAME_LEN && strspn(name, "0123456789abcdef") == SA_NAME_LEN;
}

int site_audit_ingest_running(const struct site *s)
{
	char path[SITE_PATH_MAX];
	char rel[SITE_PATH_MAX];

	if (site_ingest_relpath(s->cfg.ingest_receiver, "/lock", rel, sizeof(rel)) != LACRE_OK ||
	    site_path(s, rel, path, sizeof(path)) != LACRE_OK)
		return 0;
	return site_ingest_lock_held(path);
}

/* The size of SPOOL/rel (a regular file), or -1 when there is none. */
static long long spool_file(struct sa_ctx *c, const char *rel)
{
	struct stat st;

	if (c->spool == NULL ||
	    snprintf(c->spool_path, sizeof(c->spool_path), "%s/%s", c->spool, rel) >=
	    (int)sizeof(c->spool_path))
		return -1;
	if (stat(c->spool_path, &st) != 0 || !S_ISREG(st.st_mode))
		return -1;
	return (long long)st.st_size;
}

/* Is the segment still waiting in the local spool (not yet uploaded):
 * SPOOL/<name> (closed) or SPOOL/ready/<name> (covered)? */
static int in_spool(struct sa_ctx *c, const char *name)
{
	char rel[SA_REL_MAX];
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (!site_audit_segment_name(base))
		return 0;
	snprintf(rel, sizeof(rel), "%s/%s", SA_READY, base);
	return spool_file(c, base) >= 0 || spool_file(c, rel) >= 0;
}

/* Remember a segment entry's base name (sorted later for bsearch). */
static void named_add(struct sa_ctx *c, const char *name)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (c->n_named == c->cap_named) {
		size_t nc = c->cap_named ? c->cap_named * 2 : 256;
		char **nv = realloc(c->named, nc * sizeof(*nv));
		if (!nv) {
			c->nomem = 1;
			return;
		}
		c->named = nv;
		c->cap_named = nc;
	}
	if ((c->named[c->n_named] = strdup(base)) == NULL)
		c->nomem = 1;
	else
		c->n_named++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Does a segment entry of the audited log name segment base? */
static int is_named(const struct sa_ctx *c, const char *base)
{
	return c->n_named && bsearch(&base, c->named, c->n_named, sizeof(char *), cmp_str) != NULL;
}

/* Report one spool finding (a problem). */
static void spool_finding(struct sa_ctx *c, const char *obj, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void spool_finding(struct sa_ctx *c, const char *obj, const char *fmt, ...)
{
	struct audit_finding f;
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->res->findings++;
	f.kind = AUDIT_SPOOL;
	f.object = obj;
	f.message = msg;
	if (c->o->report)
		c->o->report(c->o->arg, &f);
}

/* Append printf output to out[*o..cap) (truncating silently). */
static void addf(char *out, size_t cap, size_t *o, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void addf(char *out, size_t cap, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*o + 1 >= cap)
		return;
	va_start(ap, fmt);
	w = vsnprintf(out + *o, cap - *o, fmt, ap);
	va_end(ap);
	if (w > 0)
		*o = (size_t)w >= cap - *o ? cap - 1 : *o + (size_t)w;
}

/* Name of a record kind in a loss report (enum etsi_kind). */
static const char *kind_name(unsigned long long k)
{
	switch (k) {
	case ETSI_KIND_IRI: return "iri";
	case ETSI_KIND_CC: return "cc";
	case ETSI_KIND_INTEGRITY_CHECK: return "integrity";
	case ETSI_KIND_KEEPALIVE: return "keepalive";
	default: return "other";
	}
}

/* One stream line of a manifest, "<kind> <liid hex|-> <cin|-> <first>
 * <last> <count>", as "cc LIID cin 7 seq 5..9 (5)".  0 when malformed. */
static int stream_line(char *line, char *out, size_t cap, size_t *o, unsigned long long *count)
{
	char *tok[6], *save = NULL, *end;
	unsigned long long v[6];
	uint8_t liid[64];
	long ll = -1;
	int i;

	for (i = 0; i < 6; i++) {
		tok[i] = strtok_r(i ? NULL : line, " ", &save);
		if (!tok[i])
			return 0;
		v[i] = 0;
		if (i == 1 || ((i == 2) && !strcmp(tok[i], "-")))
			continue;
		errno = 0;
		v[i] = strtoull(tok[i], &end, 10);
		if (errno || *end || tok[i][0] == '-' || tok[i][0] == '+')
			return 0;
	}
	if (strtok_r(NULL, " ", &save))
		return 0;
	if (strcmp(tok[1], "-"))
		ll = lacre_unhex_text(tok[1], liid, sizeof(liid));
	addf(out, cap, o, "%s ", kind_name(v[0]));
	if (ll > 0) {
		int printable = 1;
		for (long k = 0; k < ll; k++)
			printable &= liid[k] > 0x20 && liid[k] < 0x7f;
		if (printable)
			addf(out, cap, o, "%.*s", (int)ll, (const char *)liid);
		else
			addf(out, cap, o, "liid %s", tok[1]);
	} else {
		addf(out, cap, o, "liid -");
	}
	if (strcmp(tok[2], "-"))
		addf(out, cap, o, " cin %llu", v[2]);
	addf(out, cap, o, " seq %llu..%llu (%llu)", v[3], v[4], v[5]);
	*count += v[5];
	return 1;
}

/* The loss report SPOOL/<rel> (the open segment's stream manifest of
 * lib/ingest: "lacre-open-segment v1 <name>", then one line per stream)
 * in one line: its streams, their sequence ranges and counts.  A file in
 * another form is shown as it is (control bytes as '?'). */
static void streams_summary(struct sa_ctx *c, const char *rel, char *out, size_t cap,
			    unsigned *streams, unsigned long long *records)
{
	static const char magic[] = "lacre-open-segment v1 ";
	char *buf, *line, *save = NULL;
	size_t n, o = 0;
	FILE *f;

	*streams = 0;
	*records = 0;
	out[0] = 0;
	if (spool_file(c, rel) < 0 || (f = fopen(c->spool_path, "rb")) == NULL)
		return;
	if ((buf = malloc(SA_STREAMS_MAX + 1)) == NULL) {
		fclose(f);
		return;
	}
	n = fread(buf, 1, SA_STREAMS_MAX, f);
	fclose(f);
	buf[n] = 0;
	if (n < sizeof(magic) - 1 || memcmp(buf, magic, sizeof(magic) - 1) != 0 || strlen(buf) != n) {
		for (size_t i = 0; i < n && o + 1 < cap && o < SA_STREAMS_SHOWN; i++)
			out[o++] = ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) ? '?' : buf[i];
		out[o] = 0;
		free(buf);
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long other;
		char *end;
		size_t before = o;
		if (line == buf)
			continue;       /* the magic line */
		if (*streams)
			addf(out, cap, &o, "; ");
		if (!strncmp(line, "other ", 6)) {
			errno = 0;
			other = strtoull(line + 6, &end, 10);
			if (!errno && !*end && line[6] != '-') {
				addf(out, cap, &o, "%llu records of other streams", other);
				*records += other;
				continue;
			}
		} else if (stream_line(line, out, cap, &o, records)) {
			(*streams)++;
			continue;
		}
		o = before;
		addf(out, cap, &o, "%sa damaged line", *streams ? "; " : "");
	}
	free(buf);
}

/* Records in the ledger batch SPOOL/<rel> ("lacre-leaves v1\n", u64 entry
 * count: the commitments and the segment entry), or -1 when it is not one. */
static long long leaves_records(struct sa_ctx *c, const char *rel)
{
	static const char magic[] = "lacre-leaves v1\n";
	uint8_t h[16 + 8];
	uint64_t n = 0;
	FILE *f;
	size_t got;

	if (spool_file(c, rel) < 0 || (f = fopen(c->spool_path, "rb")) == NULL)
		return -1;
	got = fread(h, 1, sizeof(h), f);
	fclose(f);
	if (got != sizeof(h) || memcmp(h, magic, 16) != 0)
		return -1;
	for (int i = 0; i < 8; i++)
		n = n << 8 | h[16 + i];
	return n == 0 || n > ((uint64_t)1 << 40) ? -1 : (long long)(n - 1);
}

/* SPOOL/lost/: what recovery set aside.  An open segment and its manifest
 * are losses the ledger already names (recovery sealed a lost-open-segment
 * event for each stream): counted.  A closed segment or a batch file set
 * aside as damaged could not be logged: a problem each. */
static int scan_lost(struct sa_ctx *c)
{
	char dir[SITE_PATH_MAX + 16], rel[SA_REL_MAX], obj[SA_REL_MAX + 8];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", c->spool, SA_LOST);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT || errno == ENOTDIR ? LACRE_OK : LACRE_E_IO;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		size_t nl = strlen(n);
		long long size;

		if (nl > SA_NAME_LEN + 16 ||
		    snprintf(rel, sizeof(rel), "%s/%.*s", SA_LOST, SA_NAME_LEN + 16, n) >= (int)sizeof(rel) ||
		    (size = spool_file(c, rel)) < 0)
			continue;
		snprintf(obj, sizeof(obj), "spool/%s", rel);
		if ((!strncmp(n, SA_TMP, strlen(SA_TMP)) && site_audit_segment_name(n + strlen(SA_TMP))) ||
		    (nl == SA_NAME_LEN + strlen(SA_STREAMS) && !strcmp(n + SA_NAME_LEN, SA_STREAMS))) {
			c->res->spool_lost_named++;
		} else if (site_audit_segment_name(n)) {
			c->res->spool_unlogged++;
			spool_finding(c, obj, "%s: a closed segment (%lld bytes) set aside by recovery "
				      "because its ledger batch was damaged: its records are in no signed "
				      "checkpoint", obj, size);
		} else if (nl == SA_NAME_LEN + strlen(SA_LEAVES) && !strcmp(n + SA_NAME_LEN, SA_LEAVES)) {
			c->res->spool_unlogged++;
			spool_finding(c, obj, "%s: a damaged ledger batch set aside by recovery: the "
				      "commitments of segment %.*s could not be logged", obj,
				      SA_NAME_LEN, n);
		}
	}
	closedir(d);
	return LACRE_OK;
}

/* SPOOL/ready/: covered segments waiting for upload; one no entry of the
 * audited log names is a problem. */
static int scan_ready(struct sa_ctx *c, int running)
{
	char dir[SITE_PATH_MAX + 16], rel[SA_REL_MAX], obj[SA_REL_MAX + 8];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", c->spool, SA_READY);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT || errno == ENOTDIR ? LACRE_OK : LACRE_E_IO;
	while ((de = readdir(d)) != NULL) {
		long long size;
		if (!site_audit_segment_name(de->d_name) || is_named(c, de->d_name))
			continue;
		snprintf(rel, sizeof(rel), "%s/%s", SA_READY, de->d_name);
		if ((size = spool_file(c, rel)) < 0)
			continue;
		if (running) {
			c->res->spool_open++;
			continue;
		}
		c->res->spool_unlogged++;
		snprintf(obj, sizeof(obj), "spool/%s", rel);
		spool_finding(c, obj, "%s: waiting for upload (%lld bytes) but no segment entry of the "
			      "ingest log names it: its records are in no signed checkpoint", obj, size);
	}
	closedir(d);
	return LACRE_OK;
}

/* Step (d): every leftover in the spool, one finding each. */
static int scan_spool(struct sa_ctx *c, int running)
{
	char rel[SA_REL_MAX], obj[SA_REL_MAX + 8], base[SA_NAME_LEN + 1], shown[SA_STREAMS_SHOWN + 64];
	struct dirent *de;
	DIR *d;
	int r;

	if ((d = opendir(c->spool)) == NULL)
		return errno == ENOENT ? LACRE_OK : LACRE_E_IO;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		size_t nl = strlen(n);
		long long size, leaves;
		unsigned lines;
		unsigned long long lost;

		if (!strncmp(n, SA_TMP, strlen(SA_TMP)) && site_audit_segment_name(n + strlen(SA_TMP))) {
			/* an open segment */
			if ((size = spool_file(c, n)) < 0)
				continue;
			if (running) {
				c->res->spool_open++;
				continue;
			}
			snprintf(base, sizeof(base), "%.*s", SA_NAME_LEN, n + strlen(SA_TMP));
			snprintf(obj, sizeof(obj), "spool/%s", n);
			snprintf(rel, sizeof(rel), "%s%s", base, SA_LEAVES);
			if ((leaves = leaves_records(c, rel)) >= 0) {
				/* closed at the crash: its batch was written, not yet
				 * its final name; recovery completes the close */
				c->res->spool_unlogged++;
				spool_finding(c, obj, "%s: a segment closed at a crash (%lld bytes, %lld records) "
					      "before it took its final name: its records are in no signed "
					      "checkpoint; ingest renames, logs and uploads it at its next start",
					      obj, size, leaves);
				continue;
			}
			c->res->spool_lost++;
			snprintf(rel, sizeof(rel), "%s%s", base, SA_STREAMS);
			spool_finding(c, obj, "%s: an open segment left by a crash (%lld bytes): its records "
				      "were never closed into a segment nor logged, they are lost (ingest names "
				      "them at its next start)%s%s", obj, size,
				      spool_file(c, rel) >= 0 ? "; its streams are listed in spool/" : "",
				      spool_file(c, rel) >= 0 ? rel : "");
		} else if (nl == SA_NAME_LEN + strlen(SA_STREAMS) && !strcmp(n + SA_NAME_LEN, SA_STREAMS)) {
			/* the stream manifest of an open segment */
			snprintf(base, sizeof(base), "%.*s", SA_NAME_LEN, n);
			if (!site_audit_segment_name(base))
				continue;
			snprintf(rel, sizeof(rel), "%s%s", SA_TMP, base);
			if (running && spool_file(c, rel) >= 0)
				continue;
			/* a closed segment's manifest (removed when it moves to
			 * ready/): its records are not lost, its line says where
			 * they are */
			snprintf(rel, sizeof(rel), "%s%s", base, SA_LEAVES);
			if (spool_file(c, base) >= 0 || spool_file(c, rel) >= 0 || is_named(c, base))
				continue;
			c->res->spool_lost++;
			streams_summary(c, n, shown, sizeof(shown), &lines, &lost);
			snprintf(obj, sizeof(obj), "spool/%s", n);
			spool_finding(c, obj, "%s: loss report of open segment %s, cut off by a crash: %llu "
				      "records of %u streams lost, not yet named in the ledger (ingest names "
				      "them at its next start): %s", obj, base, lost, lines,
				      shown[0] ? shown : "empty");
		} else if (site_audit_segment_name(n)) {
			/* a closed segment: with its leaves (batch not signed) or,
			 * in the older layout, alone (waiting for upload) */
			if (is_named(c, n) || (size = spool_file(c, n)) < 0)
				continue;   /* logged: pending, counted by sa_segment */
			if (running) {
				c->res->spool_open++;
				continue;
			}
			c->res->spool_unlogged++;
			snprintf(rel, sizeof(rel), "%s%s", n, SA_LEAVES);
			leaves = leaves_records(c, rel);
			snprintf(obj, sizeof(obj), "spool/%s", n);
			if (leaves >= 0)
				spool_finding(c, obj, "%s: a closed segment (%lld bytes, %lld records) whose ledger "
					      "batch is under no signed checkpoint: ingest logs and uploads it at "
					      "its next start", obj, size, leaves);
			else if (spool_file(c, rel) >= 0)
				spool_finding(c, obj, "%s: a closed segment (%lld bytes) whose ledger batch "
					      "%s.leaves is damaged: its records are in no signed checkpoint",
					      obj, size, n);
			else
				spool_finding(c, obj, "%s: a closed segment (%lld bytes) that no segment entry of "
					      "the ingest log names: its records are in no signed checkpoint",
					      obj, size);
		} else if (nl == SA_NAME_LEN + strlen(SA_LEAVES) && !strcmp(n + SA_NAME_LEN, SA_LEAVES)) {
			/* leaves whose segment has left the spool */
			snprintf(base, sizeof(base), "%.*s", SA_NAME_LEN, n);
			snprintf(rel, sizeof(rel), "%s%s", SA_TMP, base);
			if (!site_audit_segment_name(base) || spool_file(c, base) >= 0 ||
			    spool_file(c, rel) >= 0 || is_named(c, base) || running)
				continue;   /* its segment's own line covers it */
			c->res->spool_unlogged++;
			snprintf(obj, sizeof(obj), "spool/%s", n);
			spool_finding(c, obj, "%s: the commitments of segment %s, which is neither in the "
				      "spool nor named by the ingest log", obj, base);
		}
	}
	closedir(d);
	if ((r = scan_ready(c, running)) != LACRE_OK)
		return r;
	return scan_lost(c);
}

/* audit_segment_fn: check one "segment closed" entry against the backend. */
static int sa_segment(void *arg, struct lacre_store *store, uint64_t index,
		      const struct tlog_segment *seg, char *msg, size_t msgcap)
{
	struct sa_ctx *c = arg;
	uint64_t size = 0;
	uint8_t fp[32];
	int r;

	c->res->segments++;
	named_add(c, seg->name);
	if (c->o->on_segment)
		c->o->on_segment(c->o->arg, seg->name);
	r = lacre_store_stat(store, seg->name, &size);
	if (r == LACRE_E_NOT_FOUND) {
		if (in_spool(c, seg->name)) {
			c->res->pending++;
			return LACRE_OK;
		}
		c->res->missing++;
		snprintf(msg, msgcap, "missing from the backend");
		(void)index;
		return LACRE_E_MISSING;
	}
	if (r != LACRE_OK) {
		snprintf(msg, msgcap, "cannot be read: %s", lacre_strerror(r));
		return r;
	}
	if (size != seg->size) {
		c->res->damaged++;
		snprintf(msg, msgcap, "%llu bytes, the ingest log recorded %llu (%s)",
			 (unsigned long long)size, (unsigned long long)seg->size,
			 size < seg->size ? "truncated" : "bytes added");
		return size < seg->size ? LACRE_E_TRUNCATED : LACRE_E_CORRUPT;
	}
	if (!c->o->fingerprints)
		return LACRE_OK;
	lacre_dbuf_reset(&c->obj);
	r = lacre_store_get(store, seg->name, 0, SIZE_MAX, &c->obj);
	if (r == LACRE_OK && c->obj.len != seg->size)
		r = LACRE_E_TRUNCATED;
	if (r == LACRE_OK)
		r = age_fingerprint(c->obj.p, c->obj.len, fp);
	if (r == LACRE_OK && (seg->fp_len != 32 || CRYPTO_memcmp(fp, seg->fp, 32) != 0))
		r = LACRE_E_CORRUPT;
	if (r != LACRE_OK) {
		c->res->damaged++;
		snprintf(msg, msgcap, "%s (its age header or a chunk tag differs from the "
			 "fingerprint in the ingest log)",
			 r == LACRE_E_CORRUPT ? "substituted or altered" : lacre_strerror(r));
		return r == LACRE_E_TRUNCATED ? r : LACRE_E_CORRUPT;
	}
	return LACRE_OK;
}

/* audit_config.report: with several logs, each finding names its
 * log's origin. */
static void sa_report(void *arg, const struct audit_finding *f)
{
	struct sa_ctx *c = arg;
	struct audit_finding g = *f;
	char msg[1024];

	if (c->multi) {
		snprintf(msg, sizeof(msg), "%s: %s", c->origin, f->message);
		g.message = msg;
	}
	if (c->o->report)
		c->o->report(c->o->arg, &g);
}

/* Report one finding of the site's audit itself (anchor, unlogged). */
static void sa_finding(struct sa_ctx *c, enum audit_kind kind, const char *obj, const char *msg)
{
	struct audit_finding f = { kind, obj, msg };

	c->res->findings++;
	if (c->o->report)
		c->o->report(c->o->arg, &f);
}

/* The audit kind of an anchor error. */
static enum audit_kind anchor_kind(int r)
{
	return r == LACRE_E_ROLLBACK ? AUDIT_ROLLBACK : r == LACRE_E_FORK ? AUDIT_FORK :
	       AUDIT_BAD_CHECKPOINT;
}

/* Audit one ingest log into c->res (zeroed here): its tree against its
 * trust anchor (site_ingest_checkpoint), its segments, and its spool when
 * it is on this machine.  Only a single-log site lets audit.c report the
 * backend's unlogged segments (site_audit_run does it for several). */
static int audit_one(struct sa_ctx *c, const struct site_ingest_log *log, struct lacre_store *store)
{
	struct site_audit_result *res = c->res;
	struct audit_config cfg;
	struct audit_result ar;
	struct lacre_dbuf cp;
	char msg[SITE_MSG_MAX];
	int r, r2;

	memset(res, 0, sizeof(*res));
	memset(&cfg, 0, sizeof(cfg));
	lacre_dbuf_init(&cp, SITE_AUDIT_FILE_MAX);
	c->spool = log->spool_dir;
	c->origin = log->origin;
	if ((r = note_verifier_parse(log->vkey, strlen(log->vkey), &cfg.log_key)) != LACRE_OK)
		goto out;
	if ((r = site_ingest_checkpoint(c->site, log, store, &cp, msg, sizeof(msg))) != LACRE_OK) {
		if (log->state_dir || r == LACRE_E_IO || r == LACRE_E_NOMEM || r == LACRE_E_UNAVAILABLE) {
			snprintf(res->error, sizeof(res->error), "%s", msg);
			goto out;
		}
		/* the backend's checkpoint of another machine's log: a finding */
		sa_finding(c, anchor_kind(r), "checkpoint", msg);
		r = r == LACRE_E_ROLLBACK || r == LACRE_E_FORK ? r : LACRE_E_VERIFY;
		goto out;
	}
	cfg.store = store;
	cfg.origin = log->origin;
	cfg.trusted = cp.p;
	cfg.trusted_len = cp.len;
	cfg.segment = sa_segment;
	cfg.segment_arg = c;
	cfg.report = sa_report;
	cfg.report_arg = c;
	cfg.segment_prefix = c->multi ? NULL : ACCESS_SEGMENT_PREFIX;
	res->ingest_running = site_ingest_running(log);
	r = audit_run(&cfg, &ar);
	if (r != LACRE_OK && r != LACRE_E_VERIFY && r != LACRE_E_ROLLBACK && r != LACRE_E_FORK)
		goto out;
	res->log_size = ar.size;
	res->findings += ar.findings;
	res->entries = ar.entries;
	res->unlogged = ar.unlogged;
	if (c->nomem) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	if (c->n_named)
		qsort(c->named, c->n_named, sizeof(char *), cmp_str);
	if (c->spool && (r2 = scan_spool(c, res->ingest_running)) != LACRE_OK) {
		r = r2;
		goto out;
	}
	if (r == LACRE_OK && res->findings)
		r = LACRE_E_VERIFY;
out:
	lacre_dbuf_free(&cp);
	return r;
}

/* lacre_store_list callback: a segment object no log names (several
 * logs: audit.c's own check sees one log only). */
static int sa_unlogged(void *arg, const char *name, uint64_t size)
{
	struct sa_ctx *c = arg;
	const char *base = name + strlen(ACCESS_SEGMENT_PREFIX);
	char msg[512];

	if (strncmp(name, ACCESS_SEGMENT_PREFIX, strlen(ACCESS_SEGMENT_PREFIX)) != 0 || is_named(c, base))
		return 0;
	c->res->unlogged++;
	snprintf(msg, sizeof(msg), "%s: on the backend (%llu bytes) but named by no segment entry of "
		 "any of the site's ingest logs: its records are in no signed checkpoint", name,
		 (unsigned long long)size);
	sa_finding(c, AUDIT_UNLOGGED, name, msg);
	return 0;
}

/* Add one log's result to the total. */
static void sa_add(struct site_audit_result *t, const struct site_audit_result *a)
{
	t->log_size += a->log_size;
	t->entries += a->entries;
	t->segments += a->segments;
	t->pending += a->pending;
	t->missing += a->missing;
	t->damaged += a->damaged;
	t->unlogged += a->unlogged;
	t->spool_lost += a->spool_lost;
	t->spool_unlogged += a->spool_unlogged;
	t->spool_open += a->spool_open;
	t->spool_lost_named += a->spool_lost_named;
	t->ingest_running |= a->ingest_running;
	t->findings += a->findings;
}

/* The worse of two audit outcomes: an error that stopped the audit, then
 * a fork, a rollback, a verification failure, success. */
static int sa_worse(int a, int b)
{
	static const int order[] = { LACRE_E_FORK, LACRE_E_ROLLBACK, LACRE_E_VERIFY, LACRE_OK };
	int ra = -1, rb = -1;

	for (int i = 0; i < 4; i++) {
		if (a == order[i])
			ra = i;
		if (b == order[i])
			rb = i;
	}
	if (ra < 0)
		return a;
	if (rb < 0)
		return b;
	return ra < rb ? a : b;
}

int site_audit_run(const struct site *s, struct lacre_store *store,
		   const struct site_audit_opts *o, struct site_audit_result *res)
{
	struct site_ingest_log *logs = NULL;
	struct site_audit_result one;
	struct sa_ctx c;
	char msg[SITE_MSG_MAX];
	size_t n = 0;
	int r, rl;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	lacre_dbuf_init(&c.obj, SITE_AUDIT_SEGMENT_MAX);
	c.o = o;
	c.site = s;
	if ((r = site_ingest_logs(s, &logs, &n, msg, sizeof(msg))) != LACRE_OK) {
		snprintf(res->error, sizeof(res->error), "%s", msg);
		goto out;
	}
	if (n == 0) {
		/* no ingest has run on this site yet: nothing to audit */
		res->no_log = 1;
		goto out;
	}
	res->logs = n;
	c.multi = n > 1;
	for (size_t i = 0; i < n; i++) {
		c.res = &one;
		rl = audit_one(&c, &logs[i], store);
		if (o->on_log)
			o->on_log(o->arg, &logs[i], &one, rl);
		sa_add(res, &one);
		if (one.error[0] && !res->error[0])
			snprintf(res->error, sizeof(res->error), "%s", one.error);
		r = i == 0 ? rl : sa_worse(r, rl);
	}
	if (c.multi && r != LACRE_E_NOMEM) {
		int rs;
		c.res = &one;
		memset(&one, 0, sizeof(one));
		if ((rs = lacre_store_list(store, ACCESS_SEGMENT_PREFIX, sa_unlogged, &c)) != LACRE_OK) {
			snprintf(msg, sizeof(msg), "listing the segments under %s failed: %s",
				 ACCESS_SEGMENT_PREFIX, lacre_strerror(rs));
			sa_finding(&c, AUDIT_MISSING, ACCESS_SEGMENT_PREFIX, msg);
		}
		sa_add(res, &one);
		if (one.findings)
			r = sa_worse(r, LACRE_E_VERIFY);
	}
out:
	for (size_t i = 0; i < c.n_named; i++)
		free(c.named[i]);
	free(c.named);
	free(logs);
	lacre_dbuf_free(&c.obj);
	return r;
}
