/*
 * site_audit.c - a site's own view of its ingest log on the backend: the
 * keyless audit of lib/ledger/audit.c run against the checkpoint the site
 * keeps locally (trusted: it never leaves the site), with every "segment
 * closed" entry checked against the segment object on the backend (present,
 * of the recorded size, and with the recorded keyless fingerprint: SHA-256
 * over its age header and chunk tags).  `lacre audit --site`, `lacre
 * records` and `lacre quarantine` use it, so a deleted, truncated or
 * substituted segment is reported even when no key can open it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "lacre/access.h"
#include "lacre/age.h"
#include "lacre/err.h"
#include "lacre/seal_sink.h"
#include "lacre/site_audit.h"

#define SITE_AUDIT_FILE_MAX (64 * 1024)
#define SITE_AUDIT_SEGMENT_MAX ((size_t)1 << 31)

/* Read a small local file into out (NUL-terminated). */
static int read_small(const char *path, struct lacre_dbuf *out)
{
	FILE *f = fopen(path, "rb");
	char buf[4096];
	size_t n;
	int r = LACRE_OK;
	const char *s;

	if (!f)
		return LACRE_E_NOT_FOUND;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if ((r = lacre_dbuf_add(out, buf, n)) != LACRE_OK)
			break;
	if (ferror(f) && r == LACRE_OK)
		r = LACRE_E_IO;
	fclose(f);
	if (r == LACRE_OK)
		r = lacre_dbuf_cstr(out, &s);
	return r;
}

struct sa_ctx {
	const struct site_audit_opts *o;
	struct site_audit_result *res;
	struct lacre_dbuf obj;
	char spool_path[SITE_PATH_MAX + 320];
	const struct site *site;
};

/* Is the segment still waiting in the local spool (not yet uploaded)? */
static int in_spool(struct sa_ctx *c, const char *name)
{
	struct stat st;
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	snprintf(c->spool_path, sizeof(c->spool_path), "%s/%s", c->site->cfg.spool_dir, base);
	return stat(c->spool_path, &st) == 0;
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

int site_audit_run(const struct site *s, struct lacre_store *store,
		   const struct site_audit_opts *o, struct site_audit_result *res)
{
	struct audit_config cfg;
	struct audit_result ar;
	struct lacre_dbuf vkey, cp;
	struct sa_ctx c;
	char path[SITE_PATH_MAX], origin[NOTE_NAME_MAX + 1];
	int r;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	lacre_dbuf_init(&vkey, SITE_AUDIT_FILE_MAX);
	lacre_dbuf_init(&cp, SITE_AUDIT_FILE_MAX);
	lacre_dbuf_init(&c.obj, SITE_AUDIT_SEGMENT_MAX);
	c.o = o;
	c.res = res;
	c.site = s;
	memset(&cfg, 0, sizeof(cfg));
	if ((r = seal_sink_log_origin(s, origin, sizeof(origin))) != LACRE_OK ||
	    (r = site_path(s, "ledger/ingest/vkey", path, sizeof(path))) != LACRE_OK)
		goto out;
	if ((r = read_small(path, &vkey)) != LACRE_OK) {
		/* no ingest has run on this site yet: nothing to audit */
		r = r == LACRE_E_NOT_FOUND ? LACRE_OK : r;
		res->no_log = 1;
		goto out;
	}
	while (vkey.len && (vkey.p[vkey.len - 1] == '\n' || vkey.p[vkey.len - 1] == '\r'))
		vkey.len--;
	if ((r = note_verifier_parse((const char *)vkey.p, vkey.len, &cfg.log_key)) != LACRE_OK)
		goto out;
	if ((r = site_path(s, "ledger/ingest/checkpoint", path, sizeof(path))) != LACRE_OK ||
	    (r = read_small(path, &cp)) != LACRE_OK)
		goto out;
	cfg.store = store;
	cfg.origin = origin;
	cfg.trusted = cp.p;
	cfg.trusted_len = cp.len;
	cfg.segment = sa_segment;
	cfg.segment_arg = &c;
	cfg.report = o->report;
	cfg.report_arg = o->arg;
	r = audit_run(&cfg, &ar);
	res->log_size = ar.size;
	res->findings = ar.findings;
	res->entries = ar.entries;
out:
	lacre_dbuf_free(&vkey);
	lacre_dbuf_free(&cp);
	lacre_dbuf_free(&c.obj);
	return r;
}
