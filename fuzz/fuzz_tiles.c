/*
 * fuzz_tiles.c - libFuzzer harness for the reads of a transparency log on
 * an untrusted backend: hash tiles and entry bundles (lib/ledger/tiles.c)
 * and the keyless audit that reads every object of a log
 * (lib/ledger/audit.c: checkpoint, listing, bundles, tiles, segment
 * entries).  The backend is an in-memory store whose objects are the
 * input, so every byte the audit reads is chosen by the fuzzer.
 *
 * Input: byte 0 holds flags (bit 0: give the audit the object "@trusted"
 * as its trusted checkpoint; bit 1: a segment hook that fails segment
 * entries whose name holds "bad"), then objects, each u8 name length,
 * the name relative to the log's prefix, u16 big-endian length, the bytes.
 * The seeds are logs written by tlog (fuzz/mkseeds_tiles.c) with the fixed
 * test key below, so they reach a clean audit.
 *
 * Invariants: every finding is a known kind with a one-line message; the
 * counts add up (findings = reports = the sum by kind) and the result
 * code says the same as the findings; and when the audit passes, the
 * store really holds that tree: the audited (size, root) is that of the
 * store's or the trusted checkpoint, signed by the log key, the entry
 * bundles read independently (tiles_bundle_next) hash to that root, and
 * the hash tiles do too (tiles_reader through merkle_root).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/store.h"
#include "lacre/tlog.h"
#include "store/store_int.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The log of the seeds: origin and the seed of its Ed25519 key. */
#define FZ_T_ORIGIN "lacre.fuzz/audit"
#define FZ_T_KEY_BYTE 0x5a
#define FZ_T_MAX_OBJS 512

struct fz_t_obj {
	char name[LACRE_STORE_NAME_MAX + 1];
	const uint8_t *p;
	size_t n;
};

/* The in-memory store: objects sorted by name, no writes. */
struct fz_t_store {
	struct fz_t_obj o[FZ_T_MAX_OBJS];
	size_t n;
};

/* Counters the corpus replay asserts on. */
static unsigned long fz_t_clean, fz_t_findings, fz_t_entries;

/* Find an object by its full name. */
static const struct fz_t_obj *fz_t_find(const struct fz_t_store *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->o[i].name, name) == 0)
			return &m->o[i];
	return NULL;
}

/* ops->get: a byte range of an object, as the dir: backend answers. */
static int fz_t_get(struct lacre_store *s, const char *name, uint64_t off, size_t len,
		    struct lacre_dbuf *out)
{
	const struct fz_t_obj *o = fz_t_find(s->impl, name);
	size_t want;

	if (!o)
		return LACRE_E_NOT_FOUND;
	if (off > o->n)
		return LACRE_E_RANGE;
	want = o->n - (size_t)off;
	if (len != SIZE_MAX && want > len)
		want = len;
	if (want > out->max - out->len)
		return LACRE_E_TOO_LARGE;
	return want ? lacre_dbuf_add(out, o->p + off, want) : LACRE_OK;
}

/* ops->stat. */
static int fz_t_stat(struct lacre_store *s, const char *name, uint64_t *size)
{
	const struct fz_t_obj *o = fz_t_find(s->impl, name);

	if (!o)
		return LACRE_E_NOT_FOUND;
	*size = o->n;
	return LACRE_OK;
}

/* ops->list: names under prefix in byte order. */
static int fz_t_list(struct lacre_store *s, const char *prefix, store_list_fn fn, void *arg)
{
	const struct fz_t_store *m = s->impl;
	size_t pl = strlen(prefix);
	int r;

	for (size_t i = 0; i < m->n; i++)
		if (strncmp(m->o[i].name, prefix, pl) == 0 && (r = fn(arg, m->o[i].name, m->o[i].n)) != 0)
			return r;
	return LACRE_OK;
}

/* ops->put, put_file, del: the audit must never write. */
static int fz_t_put(struct lacre_store *s, const char *name, const void *p, size_t n, int replace)
{
	(void)s; (void)name; (void)p; (void)n; (void)replace;
	FUZZ_FAIL("the audit wrote to the store");
	return LACRE_E_INVALID;
}

static int fz_t_put_file(struct lacre_store *s, const char *name, const char *path)
{
	(void)s; (void)name; (void)path;
	FUZZ_FAIL("the audit wrote to the store");
	return LACRE_E_INVALID;
}

static int fz_t_del(struct lacre_store *s, const char *name)
{
	(void)s; (void)name;
	FUZZ_FAIL("the audit deleted from the store");
	return LACRE_E_INVALID;
}

static void fz_t_close(struct lacre_store *s)
{
	(void)s;
}

static const struct store_ops fz_t_ops = {
	.kind = "fuzz", .put = fz_t_put, .put_file = fz_t_put_file, .get = fz_t_get,
	.stat = fz_t_stat, .list = fz_t_list, .del = fz_t_del, .close = fz_t_close,
};

/* qsort: objects by name. */
static int fz_t_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fz_t_obj *)a)->name, ((const struct fz_t_obj *)b)->name);
}

/* Report callback: one known kind, one line. */
static void fz_t_report(void *arg, const struct audit_finding *f)
{
	unsigned long *n = arg;
	size_t ml;

	(*n)++;
	FUZZ_CHECK(f->kind >= AUDIT_MODIFIED && f->kind <= AUDIT_SEGMENT);
	FUZZ_CHECK(audit_kind_name(f->kind) != NULL);
	FUZZ_CHECK(f->object != NULL && f->message != NULL);
	ml = strlen(f->message);
	FUZZ_CHECK(ml > 0 && memchr(f->message, '\n', ml) == NULL);
}

/* Segment hook: names holding "bad" fail. */
static int fz_t_segment(void *arg, struct lacre_store *store, uint64_t index,
			const struct tlog_segment *seg, char *msg, size_t cap)
{
	(void)arg; (void)store; (void)index;
	FUZZ_CHECK(memchr(seg->name, 0, sizeof(seg->name)) != NULL);
	FUZZ_CHECK(seg->fp_len <= TLOG_SEGMENT_FP_MAX);
	if (strstr(seg->name, "bad")) {
		snprintf(msg, cap, "fingerprint differs");
		return LACRE_E_VERIFY;
	}
	return LACRE_OK;
}

/* Root of [0, size) from the entry bundles, read independently of the
 * audit; LACRE_OK with root set, or an error. */
static int fz_t_bundle_root(struct lacre_store *st, const char *prefix, uint64_t size,
			    uint8_t root[MERKLE_HASH_LEN])
{
	struct merkle_tree *t = malloc(sizeof(*t));
	char name[LACRE_STORE_NAME_MAX + 1];
	struct lacre_dbuf d;
	struct lacre_rbuf b;
	const uint8_t *e;
	uint8_t leaf[MERKLE_HASH_LEN];
	uint64_t n;
	unsigned w, i;
	size_t el;
	int r = LACRE_OK;

	FUZZ_CHECK(t != NULL);
	merkle_tree_init(t);
	lacre_dbuf_init(&d, TLOG_BUNDLE_MAX + 1);
	for (n = 0; r == LACRE_OK && n * TILE_WIDTH < size; n++) {
		w = tiles_width(size, TILE_LEVEL_ENTRIES, n);
		FUZZ_CHECK(w >= 1 && w <= TILE_WIDTH);
		lacre_dbuf_reset(&d);
		FUZZ_CHECK(tiles_path(prefix, TILE_LEVEL_ENTRIES, n, w, name, sizeof(name)) == LACRE_OK);
		r = lacre_store_get(st, name, 0, SIZE_MAX, &d);
		if (r == LACRE_E_NOT_FOUND && w < TILE_WIDTH) {
			FUZZ_CHECK(tiles_path(prefix, TILE_LEVEL_ENTRIES, n, 0, name, sizeof(name)) == LACRE_OK);
			r = lacre_store_get(st, name, 0, SIZE_MAX, &d);
		}
		lacre_rbuf_init(&b, d.p, d.len);
		for (i = 0; r == LACRE_OK && i < w; i++) {
			r = tiles_bundle_next(&b, &e, &el);
			if (r == LACRE_OK) {
				merkle_leaf_hash(e, el, leaf);
				r = merkle_tree_append(t, leaf, NULL, NULL);
			}
		}
	}
	if (r == LACRE_OK)
		merkle_tree_root(t, root);
	lacre_dbuf_free(&d);
	free(t);
	return r;
}

/* The audit passed: check that the store holds the tree it audited. */
static void fz_t_passed(struct lacre_store *st, const struct fz_t_store *m, const char *prefix,
			const struct note_verifier *v, const uint8_t *trusted, size_t trusted_len,
			const struct audit_result *res)
{
	char name[LACRE_STORE_NAME_MAX + 1];
	const struct fz_t_obj *o;
	struct checkpoint cp;
	struct tiles_reader *tr = NULL;
	uint8_t root[MERKLE_HASH_LEN];
	int match = 0;

	snprintf(name, sizeof(name), "%scheckpoint", prefix);
	if ((o = fz_t_find(m, name)) && checkpoint_open(o->p, o->n, v, NULL, 0, &cp, NULL) == LACRE_OK)
		match |= cp.size == res->size && memcmp(cp.root, res->root, MERKLE_HASH_LEN) == 0;
	if (trusted && checkpoint_open(trusted, trusted_len, v, NULL, 0, &cp, NULL) == LACRE_OK)
		match |= cp.size == res->size && memcmp(cp.root, res->root, MERKLE_HASH_LEN) == 0;
	FUZZ_CHECK(match);
	if (res->size > 65536)
		return;
	FUZZ_CHECK(fz_t_bundle_root(st, prefix, res->size, root) == LACRE_OK);
	FUZZ_CHECK(memcmp(root, res->root, MERKLE_HASH_LEN) == 0);
	FUZZ_CHECK(tiles_reader_new(st, prefix, res->size, &tr) == LACRE_OK);
	FUZZ_CHECK(merkle_root(res->size, tiles_reader_node, tr, root) == LACRE_OK);
	FUZZ_CHECK(memcmp(root, res->root, MERKLE_HASH_LEN) == 0);
	tiles_reader_free(tr);
	fz_t_entries += res->size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct note_verifier v;
	static int have_v;
	static char prefix[TLOG_PREFIX_MAX];
	struct fz_t_store *m;
	struct lacre_store *st = NULL;
	struct audit_config cfg;
	struct audit_result res;
	const uint8_t *trusted = NULL;
	size_t off = 1, nl, dl, trusted_len = 0, i, j;
	unsigned long reports = 0;
	uint64_t sum = 0;
	int r;

	if (!have_v) {
		struct note_signer *k = NULL;
		uint8_t seed[32];
		memset(seed, FZ_T_KEY_BYTE, sizeof(seed));
		FUZZ_CHECK(note_signer_from_seed(FZ_T_ORIGIN, NOTE_TYPE_ED25519, seed, &k) == LACRE_OK);
		note_signer_public(k, &v);
		note_signer_free(k);
		FUZZ_CHECK(tlog_prefix(FZ_T_ORIGIN, prefix, sizeof(prefix)) == LACRE_OK);
		have_v = 1;
	}
	if (size < 1)
		return 0;
	m = calloc(1, sizeof(*m));
	FUZZ_CHECK(m != NULL);
	/* the objects: u8 name length, name, u16 length, bytes */
	while (off < size && m->n < FZ_T_MAX_OBJS) {
		struct fz_t_obj *o = &m->o[m->n];
		nl = data[off++];
		if (nl > size - off)
			break;
		if (nl == 8 && memcmp(data + off, "@trusted", 8) == 0) {
			off += nl;
			if (size - off < 2)
				break;
			dl = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
			if (dl > size - off)
				break;
			trusted = data + off;
			trusted_len = dl;
			off += dl;
			continue;
		}
		snprintf(o->name, sizeof(o->name), "%s%.*s", prefix, (int)nl, (const char *)(data + off));
		off += nl;
		if (size - off < 2)
			break;
		dl = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (dl > size - off)
			break;
		o->p = data + off;
		o->n = dl;
		off += dl;
		if (strlen(o->name) == strlen(prefix) + nl && lacre_store_name_check(o->name) == LACRE_OK)
			m->n++;
	}
	qsort(m->o, m->n, sizeof(m->o[0]), fz_t_cmp);
	for (i = j = 0; i < m->n; i++)       /* a name once: the first wins */
		if (j == 0 || strcmp(m->o[j - 1].name, m->o[i].name) != 0)
			m->o[j++] = m->o[i];
	m->n = j;
	FUZZ_CHECK(store_new(&fz_t_ops, m, "fuzz:", &st) == LACRE_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.store = st;
	cfg.origin = FZ_T_ORIGIN;
	cfg.log_key = v;
	if (data[0] & 1) {
		cfg.trusted = trusted;
		cfg.trusted_len = trusted_len;
	}
	if (data[0] & 2)
		cfg.segment = fz_t_segment;
	cfg.report = fz_t_report;
	cfg.report_arg = &reports;
	memset(&res, 0, sizeof(res));
	r = audit_run(&cfg, &res);
	if (r == LACRE_OK || r == LACRE_E_VERIFY || r == LACRE_E_ROLLBACK || r == LACRE_E_FORK) {
		for (i = 0; i <= AUDIT_SEGMENT; i++)
			sum += res.by_kind[i];
		FUZZ_CHECK(sum == res.findings);
		FUZZ_CHECK(reports == res.findings);
		FUZZ_CHECK((r == LACRE_OK) == (res.findings == 0));
		fz_t_findings += res.findings;
	}
	if (r == LACRE_OK) {
		fz_t_clean++;
		fz_t_passed(st, m, prefix, &v, cfg.trusted, cfg.trusted_len, &res);
	}
	lacre_store_close(st);
	free(m);
	return 0;
}
