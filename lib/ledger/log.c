/*
 * log.c - the appendable transparency log (tlog.h): entries are batched in
 * memory, and each checkpoint journals them, signs, commits the signed
 * (size, root) locally, publishes tiles and bundles, collects witness
 * cosignatures and finally publishes the checkpoint object.
 *
 * Durable local state (state folder, 0750 (the site group reads it: lacre/modes.h), locked with flock):
 *   entries    journal: every entry as in a bundle (uint16 length ‖ bytes),
 *              appended and fdatasync'ed before the checkpoint covering
 *              it is signed;
 *   state      "lacre-tlog-state v1" header lines (origin, key, size, root,
 *              journal bytes, published size), an empty line, and the
 *              latest signed checkpoint note; replaced atomically (tmp,
 *              fsync, rename, fsync folder) BEFORE anything is published;
 *   checkpoint the latest published (cosigned) checkpoint, atomically;
 *   vkey       the log's verifier key, for `lacre log keys`;
 *   pending    with an outside signer (tlog_open_signer): the (size, root,
 *              journal bytes) of the checkpoint last sent to it, written
 *              durably before the request, so a crash between the signer's
 *              commit and ours resumes that very tree.
 * Recovery (tlog_open): the journal is cut back to the byte length the
 * state records (entries never covered by a signature are dropped, like
 * pending entries in memory), replayed, and its root must equal the signed
 * root; then tiles are republished from the recorded published size.  A
 * signature is only ever made over the in-memory tree, which extends the
 * signed one by construction, and a compare-and-swap check refuses any
 * smaller size or other root at equal size: two inconsistent checkpoints
 * are never signed, whatever point a crash hits.
 *
 * Not thread-safe: one thread drives a log.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lacre/err.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/tlog.h"
#include "lacre/witness.h"
#include "lacre/modes.h"

#define NLEVELS (TILE_LEVEL_MAX + 1)
#define MAX_WITNESSES 32
#define STATE_MAX (NOTE_MAX_SIZE + 256 * 1024)
#define ENTS_CAP ((size_t)1 << 40)
/* Appended bytes waiting for a checkpoint (backpressure beyond). */
#define INCOMING_CAP ((size_t)1 << 31)
/* Concurrent puts while publishing tiles. */
#define PUBLISH_THREADS 16

/* Hashes of one tile level, positions [start, start + n); start is a
 * multiple of 256 (the first tile not yet published in full). */
struct level {
	uint64_t start;
	size_t n, cap;
	uint8_t (*h)[MERKLE_HASH_LEN];
};

struct tlog {
	struct lacre_store *store;
	struct tlog_signer signer;  /* who signs: an outside signer, or ... */
	const struct note_signer *lkey; /* ... this in-process key (tlog_open) */
	char origin[NOTE_NAME_MAX + 1];
	char prefix[TLOG_PREFIX_MAX];
	char *dir;
	int dirfd, lockfd, jfd;
	int err;                   /* sticky error from the append callback */

	struct merkle_tree tree;   /* every entry appended */
	struct level lv[NLEVELS];
	struct lacre_dbuf ents;    /* entries from ents_first, bundle format */
	uint64_t ents_first;
	uint64_t *boff;            /* ents offset of entry ents_first + 256 i */
	size_t nboff, capboff;

	uint64_t jsize, jbytes;    /* journaled entries and journal bytes */
	/* recovery snapshot at ptree.size (= ents_first, a tile boundary):
	 * the compact range there and the journal offset of that entry */
	struct merkle_tree ptree;
	uint64_t ents_first_joff;
	int have_snap;
	size_t ents_jpos;          /* ents offset of the first unjournaled one */

	int have_signed;
	uint64_t ssize;
	uint8_t sroot[MERKLE_HASH_LEN];
	uint64_t sjbytes;
	struct lacre_dbuf snote;   /* latest signed checkpoint */
	struct merkle_tree stree;  /* compact range at ssize: consistency proofs */
	int have_stree;
	uint64_t pjbytes;          /* journal bytes of a resumed pending tree */
	int resume;                /* sign that tree before taking new entries */
	uint64_t pub;              /* tiles published up to this size */
	int cp_published;          /* checkpoint object written for ssize */
	struct lacre_dbuf pnote;   /* latest published (cosigned) checkpoint */
	uint64_t psize;

	uint64_t interval, last_ms;
	struct tlog_witness w[MAX_WITNESSES];
	uint64_t wsize[MAX_WITNESSES];
	size_t nw, quorum;
	struct policy *pol;        /* when set, decides instead of quorum */

	/* Threads: tlog_append may run on any thread while one thread
	 * checkpoints.  in_mu guards incoming and next_index only (an append
	 * is a copy under it); mu guards everything else and is held for the
	 * whole of a checkpoint, which takes the incoming batch, hashes it
	 * into the tree and publishes. */
	pthread_mutex_t in_mu, mu;
	struct lacre_dbuf incoming; /* appended, not yet hashed: bundle format */
	uint64_t next_index;
};

/* ---- small helpers ---- */

/* Write all of p to fd. */
static int write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;
	ssize_t n;

	while (len > 0) {
		n = write(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return LACRE_E_IO;
		b += n;
		len -= (size_t)n;
	}
	return LACRE_OK;
}

/* Replace file name in the state folder atomically and durably: write
 * name.tmp, fsync, rename over name, fsync the folder. */
static int atomic_write(struct tlog *log, const char *name, const void *p, size_t len)
{
	char tmp[64];
	int fd, rc = LACRE_E_IO;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = openat(log->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, LACRE_MODE_GROUP_FILE);
	if (fd < 0)
		return LACRE_E_IO;
	if ((rc = write_all(fd, p, len)) != LACRE_OK)
		goto out;
	rc = LACRE_E_IO;
	if (fsync(fd) != 0)
		goto out;
	if (renameat(log->dirfd, tmp, log->dirfd, name) != 0)
		goto out;
	if (fsync(log->dirfd) != 0)
		goto out;
	rc = LACRE_OK;
out:
	close(fd);
	return rc;
}

/* Read a whole small file of the state folder (capped). */
static int read_file_at(int dirfd, const char *name, size_t cap, struct lacre_dbuf *out)
{
	uint8_t buf[8192];
	ssize_t n;
	int fd, rc = LACRE_OK;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = LACRE_E_IO;
			break;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > cap) {
			rc = LACRE_E_TOO_LARGE;
			break;
		}
		if ((rc = lacre_dbuf_add(out, buf, (size_t)n)) != LACRE_OK)
			break;
	}
	close(fd);
	return rc;
}

/* Write the state folder's vkey (the verifier key of the log's own key,
 * for `lacre log keys`) unless it already holds exactly these bytes: it is
 * the same on every open of a log, and the access log is opened by every
 * access event, where its rewrite cost two fsyncs before any content. */
static int vkey_write(struct tlog *log, const struct lacre_dbuf *vk)
{
	struct lacre_dbuf cur;
	int same;

	lacre_dbuf_init(&cur, 128);
	same = read_file_at(log->dirfd, "vkey", 4096, &cur) == LACRE_OK && cur.len == vk->len &&
	       memcmp(cur.p, vk->p, vk->len) == 0;
	lacre_dbuf_free(&cur);
	return same ? LACRE_OK : atomic_write(log, "vkey", vk->p, vk->len);
}

/* Append hash at position index of a level (positions below start are
 * skipped: they belong to tiles already published). */
static int level_push(struct level *l, uint64_t index, const uint8_t h[MERKLE_HASH_LEN])
{
	void *p;

	if (index < l->start)
		return LACRE_OK;
	if (index != l->start + l->n)
		return LACRE_E_INTERNAL;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : TILE_WIDTH;
		if ((p = realloc(l->h, nc * MERKLE_HASH_LEN)) == NULL)
			return LACRE_E_NOMEM;
		l->h = p;
		l->cap = nc;
	}
	memcpy(l->h[l->n++], h, MERKLE_HASH_LEN);
	return LACRE_OK;
}

/* Drop the hashes of a level below new_start (a multiple of 256). */
static void level_trim(struct level *l, uint64_t new_start)
{
	uint64_t drop;

	if (new_start <= l->start)
		return;
	drop = new_start - l->start;
	if (drop > l->n)
		drop = l->n;
	memmove(l->h, l->h + drop, (l->n - drop) * MERKLE_HASH_LEN);
	l->n -= drop;
	l->start = new_start;
	/* a large batch is a rare peak: give its memory back once published
	 * (a long-running log keeps its steady size) */
	if (l->cap > 4 * (size_t)TILE_WIDTH && l->cap > 4 * l->n) {
		size_t nc = l->n * 2 > TILE_WIDTH ? l->n * 2 : TILE_WIDTH;
		void *p = realloc(l->h, nc * MERKLE_HASH_LEN);
		if (p) {
			l->h = p;
			l->cap = nc;
		}
	}
}

/* merkle_complete_fn: collect the level-0 and every 8th height for tiles. */
static void on_complete(void *arg, unsigned height, uint64_t index,
			const uint8_t hash[MERKLE_HASH_LEN])
{
	struct tlog *log = arg;
	int rc;

	if (height % 8 != 0 || height / 8 >= NLEVELS)
		return;
	if ((rc = level_push(&log->lv[height / 8], index, hash)) != LACRE_OK && log->err == 0)
		log->err = rc;
}

/* Add an entry to the in-memory tree and (from ents_first on) the entry
 * buffer. */
static int add_entry(struct tlog *log, const uint8_t *e, size_t len)
{
	uint8_t leaf[MERKLE_HASH_LEN];
	uint64_t idx = log->tree.size;
	void *p;
	int rc;

	if (idx >= MERKLE_MAX_SIZE)
		return LACRE_E_RANGE;
	if (idx >= log->ents_first) {
		if (idx % TILE_WIDTH == 0) {
			if (log->nboff == log->capboff) {
				size_t nc = log->capboff ? log->capboff * 2 : 64;
				if ((p = realloc(log->boff, nc * sizeof(*log->boff))) == NULL)
					return LACRE_E_NOMEM;
				log->boff = p;
				log->capboff = nc;
			}
			log->boff[log->nboff++] = log->ents.len;
		}
		if ((rc = lacre_dbuf_add_u16be(&log->ents, (uint16_t)len)) != LACRE_OK)
			return rc;
		if ((rc = lacre_dbuf_add(&log->ents, e, len)) != LACRE_OK) {
			log->ents.len -= 2;
			return rc;
		}
	}
	merkle_leaf_hash(e, len, leaf);
	log->err = 0;
	if ((rc = merkle_tree_append(&log->tree, leaf, on_complete, log)) != LACRE_OK)
		return rc;
	return log->err;
}

/* ---- state file ---- */

/* Append base64 of n hashes, or "-" for none. */
static int b64_or_dash(struct lacre_dbuf *d, const void *h, size_t n)
{
	if (n == 0)
		return lacre_dbuf_add_u8(d, '-');
	return note_b64_encode(h, n * MERKLE_HASH_LEN, d);
}

/* The recovery snapshot lines: "snapshot X joff", "range ..." (the compact
 * range at X), and "level ..." for levels 1..7 (the hashes of each level's
 * partial tile at X).  With them tlog_open replays only the journal from
 * entry X on instead of the whole journal. */
static int snapshot_write(struct tlog *log, struct lacre_dbuf *d)
{
	uint64_t x = log->ptree.size;
	int rc, l;

	if ((rc = lacre_dbuf_printf(d, "snapshot %llu %llu\nrange ", (unsigned long long)x,
				    (unsigned long long)log->ents_first_joff)) != LACRE_OK ||
	    (rc = b64_or_dash(d, log->ptree.node, log->ptree.n)) != LACRE_OK)
		return rc;
	for (l = 1; l < NLEVELS; l++) {
		uint64_t c = (x >> (8 * l)) % TILE_WIDTH;
		struct level *lv = &log->lv[l];
		if (c > 0 && (lv->start != (x >> (8 * l)) - c || lv->n < c))
			return LACRE_E_INTERNAL;
		if ((rc = lacre_dbuf_add_str(d, "\nlevel ")) != LACRE_OK ||
		    (rc = b64_or_dash(d, c ? lv->h[0] : NULL, (size_t)c)) != LACRE_OK)
			return rc;
	}
	return lacre_dbuf_add_u8(d, '\n');
}

/* Decode a "-" or base64 field of exactly n hashes into out. */
static int hashes_field(const char *v, size_t len, size_t n, uint8_t *out)
{
	size_t got = 0;

	if (n == 0)
		return len == 1 && v[0] == '-' ? LACRE_OK : LACRE_E_CORRUPT;
	if (note_b64_decode(v, len, out, n * MERKLE_HASH_LEN, &got) != LACRE_OK ||
	    got != n * MERKLE_HASH_LEN)
		return LACRE_E_CORRUPT;
	return LACRE_OK;
}

/* Commit the signed (size, root, note) durably: the compare-and-swap. */
static int state_write(struct tlog *log, uint64_t size, const uint8_t root[MERKLE_HASH_LEN],
		       uint64_t jbytes, uint64_t pub, const struct lacre_dbuf *note)
{
	struct lacre_dbuf d;
	struct note_verifier v;
	int rc;

	lacre_dbuf_init(&d, STATE_MAX);
	v = log->signer.key;
	if ((rc = lacre_dbuf_printf(&d, "lacre-tlog-state v1\norigin %s\nkey ", log->origin)) != LACRE_OK ||
	    (rc = note_verifier_format(&v, &d)) != LACRE_OK ||
	    (rc = lacre_dbuf_printf(&d, "\nsize %llu\nroot ", (unsigned long long)size)) != LACRE_OK ||
	    (rc = note_b64_encode(root, MERKLE_HASH_LEN, &d)) != LACRE_OK ||
	    (rc = lacre_dbuf_printf(&d, "\njournal %llu\npublished %llu\n",
				    (unsigned long long)jbytes, (unsigned long long)pub)) != LACRE_OK ||
	    (rc = snapshot_write(log, &d)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(&d, '\n')) != LACRE_OK ||
	    (rc = lacre_dbuf_add(&d, note->p, note->len)) != LACRE_OK)
		goto out;
	rc = atomic_write(log, "state", d.p, d.len);
out:
	lacre_dbuf_free(&d);
	return rc;
}

/* Read one "key value\n" header line of the state file. */
static int state_line(struct lacre_rbuf *b, const char *key, const char **val, size_t *vlen)
{
	const uint8_t *p = lacre_rbuf_ptr(b);
	size_t left = lacre_rbuf_left(b), kl = strlen(key), i;

	for (i = 0; i < left && p[i] != '\n'; i++)
		;
	if (i == left || i < kl + 1 || memcmp(p, key, kl) != 0 || p[kl] != ' ')
		return LACRE_E_CORRUPT;
	*val = (const char *)p + kl + 1;
	*vlen = i - kl - 1;
	return lacre_rbuf_skip(b, i + 1);
}

/* Parse a decimal field of the state file. */
static int state_u64(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 19)
		return LACRE_E_CORRUPT;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return LACRE_E_CORRUPT;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return LACRE_OK;
}

/* Load and check the state file (origin and key must match this log). */
static int state_read(struct tlog *log)
{
	struct lacre_dbuf d;
	struct lacre_rbuf b;
	struct note_verifier mine, theirs;
	struct checkpoint cp;
	const char *v;
	size_t n, rl;
	uint8_t root[40];
	int rc;

	lacre_dbuf_init(&d, STATE_MAX);
	if ((rc = read_file_at(log->dirfd, "state", STATE_MAX, &d)) != LACRE_OK)
		goto out;
	lacre_rbuf_init(&b, d.p, d.len);
	rc = LACRE_E_CORRUPT;
	if (d.len < 20 || memcmp(d.p, "lacre-tlog-state v1\n", 20) != 0)
		goto out;
	lacre_rbuf_skip(&b, 20);
	if ((rc = state_line(&b, "origin", &v, &n)) != LACRE_OK)
		goto out;
	rc = LACRE_E_CONFIG;
	if (n != strlen(log->origin) || memcmp(v, log->origin, n) != 0)
		goto out;
	if ((rc = state_line(&b, "key", &v, &n)) != LACRE_OK)
		goto out;
	mine = log->signer.key;
	if ((rc = note_verifier_parse(v, n, &theirs)) != LACRE_OK)
		goto corrupt;
	rc = LACRE_E_CONFIG;
	if (CRYPTO_memcmp(&mine, &theirs, sizeof(mine)) != 0)
		goto out;
	if ((rc = state_line(&b, "size", &v, &n)) != LACRE_OK ||
	    (rc = state_u64(v, n, &log->ssize)) != LACRE_OK ||
	    (rc = state_line(&b, "root", &v, &n)) != LACRE_OK)
		goto out;
	if (note_b64_decode(v, n, root, sizeof(root), &rl) != LACRE_OK || rl != MERKLE_HASH_LEN)
		goto corrupt;
	memcpy(log->sroot, root, MERKLE_HASH_LEN);
	if ((rc = state_line(&b, "journal", &v, &n)) != LACRE_OK ||
	    (rc = state_u64(v, n, &log->sjbytes)) != LACRE_OK ||
	    (rc = state_line(&b, "published", &v, &n)) != LACRE_OK ||
	    (rc = state_u64(v, n, &log->pub)) != LACRE_OK)
		goto out;
	if (log->pub > log->ssize)
		goto corrupt;
	if (lacre_rbuf_left(&b) > 9 && memcmp(lacre_rbuf_ptr(&b), "snapshot ", 9) == 0) {
		uint64_t x = 0, joff = 0;
		const char *sp;
		int l;
		if ((rc = state_line(&b, "snapshot", &v, &n)) != LACRE_OK)
			goto out;
		if ((sp = memchr(v, ' ', n)) == NULL ||
		    state_u64(v, (size_t)(sp - v), &x) != LACRE_OK ||
		    state_u64(sp + 1, n - (size_t)(sp - v) - 1, &joff) != LACRE_OK ||
		    x != (log->pub / TILE_WIDTH) * TILE_WIDTH || joff > log->sjbytes)
			goto corrupt;
		merkle_tree_init(&log->ptree);
		log->ptree.size = x;
		log->ptree.n = (unsigned)__builtin_popcountll(x);
		if ((rc = state_line(&b, "range", &v, &n)) != LACRE_OK)
			goto out;
		if (hashes_field(v, n, log->ptree.n, &log->ptree.node[0][0]) != LACRE_OK)
			goto corrupt;
		for (l = 1; l < NLEVELS; l++) {
			uint64_t c = (x >> (8 * l)) % TILE_WIDTH;
			struct level *lv = &log->lv[l];
			if ((rc = state_line(&b, "level", &v, &n)) != LACRE_OK)
				goto out;
			lv->start = (x >> (8 * l)) - c;
			lv->n = 0;
			if (c > 0) {
				rc = LACRE_E_NOMEM;
				if ((lv->h = malloc(TILE_WIDTH * MERKLE_HASH_LEN)) == NULL)
					goto out;
				lv->cap = TILE_WIDTH;
				lv->n = (size_t)c;
			}
			if (hashes_field(v, n, (size_t)c, c ? lv->h[0] : NULL) != LACRE_OK)
				goto corrupt;
		}
		log->ents_first_joff = joff;
		log->have_snap = 1;
	}
	if (lacre_rbuf_u8(&b, root) != LACRE_OK || root[0] != '\n')
		goto corrupt;
	/* the note must be our own signature over exactly this size and root */
	if (checkpoint_open(lacre_rbuf_ptr(&b), lacre_rbuf_left(&b), &mine, NULL, 0, &cp, NULL) != LACRE_OK ||
	    cp.size != log->ssize || CRYPTO_memcmp(cp.root, log->sroot, MERKLE_HASH_LEN) != 0)
		goto corrupt;
	lacre_dbuf_reset(&log->snote);
	if ((rc = lacre_dbuf_add(&log->snote, lacre_rbuf_ptr(&b), lacre_rbuf_left(&b))) != LACRE_OK)
		goto out;
	log->have_signed = 1;
	rc = LACRE_OK;
	goto out;
corrupt:
	rc = LACRE_E_CORRUPT;
out:
	lacre_dbuf_free(&d);
	return rc;
}

/* During a replay, take the recovery snapshot when the tree reaches
 * ents_first (joff is the journal offset of the next entry), and the
 * compact range of the signed tree when it reaches the signed size. */
static void snapshot_capture(struct tlog *log, uint64_t joff)
{
	if (!log->have_stree && log->tree.size == log->ssize) {
		log->stree = log->tree;
		log->have_stree = 1;
	}
	if (!log->have_snap && log->tree.size == log->ents_first) {
		log->ptree = log->tree;
		log->ents_first_joff = joff;
		log->have_snap = 1;
	}
}

/* Replay the journal bytes [from, bytes) into the tree. */
static int journal_replay(struct tlog *log, uint64_t from, uint64_t bytes)
{
	struct lacre_dbuf d;
	struct lacre_rbuf b;
	const uint8_t *e;
	size_t len, chunk = (size_t)1 << 22;
	uint64_t done = from;
	ssize_t n;
	int rc = LACRE_OK;

	lacre_dbuf_init(&d, chunk + 2 + TLOG_ENTRY_MAX);
	if (lseek(log->jfd, (off_t)from, SEEK_SET) != (off_t)from)
		return LACRE_E_IO;
	while (done < bytes) {
		size_t want = chunk;
		if (bytes - done < want)
			want = (size_t)(bytes - done);
		if ((rc = lacre_dbuf_reserve(&d, want)) != LACRE_OK)
			goto out;
		n = read(log->jfd, d.p + d.len, want);
		if (n < 0 && errno == EINTR)
			continue;
		rc = LACRE_E_CORRUPT;
		if (n <= 0)
			goto out;
		d.len += (size_t)n;
		done += (uint64_t)n;
		lacre_rbuf_init(&b, d.p, d.len);
		for (;;) {
			size_t at = b.off;
			if (tiles_bundle_next(&b, &e, &len) != LACRE_OK)
				break;
			rc = LACRE_E_CORRUPT;
			if (len == 0)
				goto out;
			snapshot_capture(log, done - d.len + at);
			if ((rc = add_entry(log, e, len)) != LACRE_OK)
				goto out;
		}
		lacre_dbuf_consume(&d, b.off);
	}
	snapshot_capture(log, bytes);
	rc = d.len == 0 ? LACRE_OK : LACRE_E_CORRUPT;
out:
	lacre_dbuf_free(&d);
	return rc;
}

/* Read the journal bytes [0, bytes) through a separate descriptor (the
 * appending one keeps its offset) and call fn for each entry. */
static int journal_scan(struct tlog *log, uint64_t bytes,
			int (*fn)(void *, uint64_t, const uint8_t *, size_t), void *arg)
{
	struct lacre_dbuf d;
	struct lacre_rbuf b;
	const uint8_t *e;
	size_t len, chunk = (size_t)1 << 22;
	uint64_t done = 0, index = 0;
	ssize_t n;
	int fd, rc = LACRE_OK;

	if ((fd = openat(log->dirfd, "entries", O_RDONLY | O_CLOEXEC)) < 0)
		return LACRE_E_IO;
	lacre_dbuf_init(&d, chunk + 2 + TLOG_ENTRY_MAX);
	while (done < bytes && rc == LACRE_OK) {
		size_t want = chunk;
		if (bytes - done < want)
			want = (size_t)(bytes - done);
		if ((rc = lacre_dbuf_reserve(&d, want)) != LACRE_OK)
			break;
		n = pread(fd, d.p + d.len, want, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = LACRE_E_CORRUPT;
			break;
		}
		d.len += (size_t)n;
		done += (uint64_t)n;
		lacre_rbuf_init(&b, d.p, d.len);
		while (rc == LACRE_OK && tiles_bundle_next(&b, &e, &len) == LACRE_OK)
			rc = len == 0 ? LACRE_E_CORRUPT : fn(arg, index++, e, len);
		lacre_dbuf_consume(&d, b.off);
	}
	if (rc == LACRE_OK && d.len != 0)
		rc = LACRE_E_CORRUPT;
	lacre_dbuf_free(&d);
	close(fd);
	return rc;
}

int tlog_scan_signed(struct tlog *log,
		     int (*fn)(void *arg, uint64_t index, const uint8_t *e, size_t len),
		     void *arg)
{
	int rc;

	pthread_mutex_lock(&log->mu);
	rc = log->have_signed || log->pjbytes ?
		journal_scan(log, log->sjbytes > log->pjbytes ? log->sjbytes : log->pjbytes, fn, arg) :
		LACRE_OK;
	pthread_mutex_unlock(&log->mu);
	return rc;
}

/* ---- open / close ---- */

/* Free everything a log holds. */
void tlog_close(struct tlog *log)
{
	int i;

	if (log == NULL)
		return;
	for (i = 0; i < NLEVELS; i++)
		free(log->lv[i].h);
	free(log->boff);
	lacre_dbuf_free(&log->ents);
	lacre_dbuf_free(&log->snote);
	lacre_dbuf_free(&log->pnote);
	lacre_dbuf_free(&log->incoming);
	pthread_mutex_destroy(&log->in_mu);
	pthread_mutex_destroy(&log->mu);
	free(log->pol);
	if (log->jfd >= 0)
		close(log->jfd);
	if (log->lockfd >= 0)
		close(log->lockfd);
	if (log->dirfd >= 0)
		close(log->dirfd);
	free(log->dir);
	free(log);
}

/* The in-process signer of tlog_open: checks the proof an outside signer
 * would check (so every log exercises it), then signs with the log's key. */
static int local_sign(void *arg, const struct tlog_sign_request *rq, struct lacre_dbuf *note)
{
	struct tlog *log = arg;

	if (merkle_verify_consistency(rq->old_size, rq->size, rq->old_root, rq->root,
				      rq->proof) != LACRE_OK)
		return LACRE_E_INTERNAL;
	return note_sign(log->lkey, rq->text, rq->text_len, note);
}

/* Read the "pending" file of an outside signer's log: the tree last sent
 * for signing.  LACRE_E_NOT_FOUND when there is none, LACRE_E_CORRUPT when
 * it does not parse. */
static int pending_read(struct tlog *log, uint64_t *size, uint8_t root[MERKLE_HASH_LEN],
			uint64_t *jbytes)
{
	struct lacre_dbuf d;
	struct lacre_rbuf b;
	const char *v;
	size_t n, rl;
	uint8_t r[40];
	int rc;

	lacre_dbuf_init(&d, 1024);
	if ((rc = read_file_at(log->dirfd, "pending", 1000, &d)) != LACRE_OK)
		goto out;
	lacre_rbuf_init(&b, d.p, d.len);
	rc = LACRE_E_CORRUPT;
	if (d.len < 22 || memcmp(d.p, "lacre-tlog-pending v1\n", 22) != 0)
		goto out;
	lacre_rbuf_skip(&b, 22);
	if (state_line(&b, "size", &v, &n) != LACRE_OK || state_u64(v, n, size) != LACRE_OK ||
	    state_line(&b, "root", &v, &n) != LACRE_OK ||
	    note_b64_decode(v, n, r, sizeof(r), &rl) != LACRE_OK || rl != MERKLE_HASH_LEN ||
	    state_line(&b, "journal", &v, &n) != LACRE_OK || state_u64(v, n, jbytes) != LACRE_OK ||
	    lacre_rbuf_expect_end(&b) != LACRE_OK)
		goto out;
	memcpy(root, r, MERKLE_HASH_LEN);
	rc = LACRE_OK;
out:
	lacre_dbuf_free(&d);
	return rc;
}

/* Record, durably, the tree about to be sent to an outside signer. */
static int pending_write(struct tlog *log, uint64_t size, const uint8_t root[MERKLE_HASH_LEN],
			 uint64_t jbytes)
{
	struct lacre_dbuf d;
	int rc;

	lacre_dbuf_init(&d, 1024);
	if ((rc = lacre_dbuf_printf(&d, "lacre-tlog-pending v1\nsize %llu\nroot ",
				    (unsigned long long)size)) == LACRE_OK &&
	    (rc = note_b64_encode(root, MERKLE_HASH_LEN, &d)) == LACRE_OK &&
	    (rc = lacre_dbuf_printf(&d, "\njournal %llu\n", (unsigned long long)jbytes)) == LACRE_OK)
		rc = atomic_write(log, "pending", d.p, d.len);
	lacre_dbuf_free(&d);
	return rc;
}

/* Open or create a log signed by signer, or by lkey in-process (tlog.h). */
static int open_log(struct lacre_store *store, const char *state_dir, const char *origin,
		    const struct tlog_signer *signer, const struct note_signer *lkey,
		    struct tlog **out)
{
	struct tlog *log = NULL;
	struct note_verifier v = signer->key;
	struct lacre_dbuf vk;
	struct stat st;
	uint8_t root[MERKLE_HASH_LEN], proot[MERKLE_HASH_LEN];
	uint64_t psize = 0, pjb = 0, target;
	int rc = LACRE_E_INVALID, i, resume = 0;

	lacre_dbuf_init(&vk, 1024);
	if (!note_name_valid(origin) || strcmp(origin, v.name) != 0 ||
	    v.type != NOTE_TYPE_ED25519 || (lkey == NULL && signer->sign == NULL))
		goto out;
	rc = LACRE_E_NOMEM;
	if ((log = calloc(1, sizeof(*log))) == NULL || (log->dir = strdup(state_dir)) == NULL)
		goto out;
	log->dirfd = log->lockfd = log->jfd = -1;
	pthread_mutex_init(&log->in_mu, NULL);
	pthread_mutex_init(&log->mu, NULL);
	lacre_dbuf_init(&log->incoming, INCOMING_CAP);
	log->store = store;
	log->signer = *signer;
	if (lkey) {
		log->lkey = lkey;
		log->signer.sign = local_sign;
		log->signer.arg = log;
	}
	log->interval = 1000;
	memcpy(log->origin, origin, strlen(origin) + 1);
	if ((rc = tlog_prefix(origin, log->prefix, sizeof(log->prefix))) != LACRE_OK)
		goto out;
	merkle_tree_init(&log->tree);
	lacre_dbuf_init(&log->ents, ENTS_CAP);
	lacre_dbuf_init(&log->snote, NOTE_MAX_SIZE);
	lacre_dbuf_init(&log->pnote, NOTE_MAX_SIZE);
	rc = LACRE_E_IO;
	if (mkdir(state_dir, LACRE_MODE_GROUP_DIR) != 0 && errno != EEXIST)
		goto out;
	if ((log->dirfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto out;
	if ((log->lockfd = openat(log->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, LACRE_MODE_GROUP_FILE)) < 0)
		goto out;
	rc = LACRE_E_STATE;
	if (flock(log->lockfd, LOCK_EX | LOCK_NB) != 0)
		goto out;
	/* a pending request of an earlier outside signer means nothing to an
	 * in-process log (and must not be resumed if the signer comes back) */
	if (lkey && unlinkat(log->dirfd, "pending", 0) != 0 && errno != ENOENT) {
		rc = LACRE_E_IO;
		goto out;
	}
	rc = state_read(log);
	if (rc == LACRE_E_NOT_FOUND) {
		log->have_signed = 0;
		log->ssize = log->sjbytes = log->pub = 0;
	} else if (rc != LACRE_OK) {
		goto out;
	}
	rc = LACRE_E_IO;
	if ((log->jfd = openat(log->dirfd, "entries", O_RDWR | O_CREAT | O_CLOEXEC, LACRE_MODE_GROUP_FILE)) < 0 ||
	    fstat(log->jfd, &st) != 0)
		goto out;
	rc = LACRE_E_CORRUPT;
	if ((uint64_t)st.st_size < log->sjbytes)
		goto out;
	/* an outside signer may have signed the tree we sent it just before
	 * a crash: resume exactly that tree (journaled before the request) */
	target = log->sjbytes;
	if (lkey == NULL && pending_read(log, &psize, proot, &pjb) == LACRE_OK &&
	    psize > log->ssize && pjb > log->sjbytes && pjb <= (uint64_t)st.st_size) {
		target = pjb;
		resume = 1;
	}
	rc = LACRE_E_IO;
	if ((uint64_t)st.st_size > target &&
	    (ftruncate(log->jfd, (off_t)target) != 0 || fsync(log->jfd) != 0))
		goto out;
	/* keep in memory only what is not yet published; with a snapshot,
	 * start from it and replay only the journal's tail */
	log->ents_first = (log->pub / TILE_WIDTH) * TILE_WIDTH;
	if (log->have_snap) {
		log->tree = log->ptree;
		log->lv[0].start = log->ents_first;
		if ((rc = journal_replay(log, log->ents_first_joff, target)) != LACRE_OK)
			goto out;
	} else {
		for (i = 0; i < NLEVELS; i++)
			log->lv[i].start = ((log->pub >> (8 * i)) / TILE_WIDTH) * TILE_WIDTH;
		if ((rc = journal_replay(log, 0, target)) != LACRE_OK)
			goto out;
	}
	merkle_tree_root(&log->tree, root);
	rc = LACRE_E_CORRUPT;
	if (resume ? log->tree.size != psize || CRYPTO_memcmp(root, proot, MERKLE_HASH_LEN) != 0 :
		     log->tree.size != log->ssize ||
		     (log->have_signed && CRYPTO_memcmp(root, log->sroot, MERKLE_HASH_LEN) != 0))
		goto out;
	if (!log->have_stree)
		goto out;
	if (resume) {
		log->pjbytes = pjb;
		log->resume = 1;
	}
	rc = LACRE_E_IO;
	if (lseek(log->jfd, 0, SEEK_END) < 0)
		goto out;
	log->jsize = log->tree.size;
	log->next_index = log->tree.size;
	log->jbytes = target;
	log->ents_jpos = log->ents.len;
	log->cp_published = 0;
	if ((rc = note_verifier_format(&v, &vk)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(&vk, '\n')) != LACRE_OK ||
	    (rc = vkey_write(log, &vk)) != LACRE_OK)
		goto out;
	*out = log;
	log = NULL;
	rc = LACRE_OK;
out:
	lacre_dbuf_free(&vk);
	tlog_close(log);
	return rc;
}

/* Open or create a log signed in-process with key (tlog.h). */
int tlog_open(struct lacre_store *store, const char *state_dir, const char *origin,
	      const struct note_signer *key, struct tlog **out)
{
	struct tlog_signer sg;

	memset(&sg, 0, sizeof(sg));
	note_signer_public(key, &sg.key);
	return open_log(store, state_dir, origin, &sg, key, out);
}

/* Open or create a log signed by an outside signer (tlog.h). */
int tlog_open_signer(struct lacre_store *store, const char *state_dir, const char *origin,
		     const struct tlog_signer *signer, struct tlog **out)
{
	return open_log(store, state_dir, origin, signer, NULL, out);
}

/* ---- append ---- */

/* Append one entry: a copy into the incoming batch (hashing happens at
 * the next checkpoint, possibly on another thread). */
int tlog_append(struct tlog *log, const void *entry, size_t len, uint64_t *index)
{
	uint64_t idx;
	int rc = LACRE_E_RANGE;

	if (len == 0 || len > TLOG_ENTRY_MAX)
		return LACRE_E_INVALID;
	pthread_mutex_lock(&log->in_mu);
	idx = log->next_index;
	if (idx >= MERKLE_MAX_SIZE)
		goto out;
	if ((rc = lacre_dbuf_reserve(&log->incoming, 2 + len)) != LACRE_OK)
		goto out;
	lacre_dbuf_add_u16be(&log->incoming, (uint16_t)len);
	lacre_dbuf_add(&log->incoming, entry, len);
	log->next_index++;
	rc = LACRE_OK;
out:
	pthread_mutex_unlock(&log->in_mu);
	if (rc == LACRE_OK && index)
		*index = idx;
	return rc;
}

/* Take the incoming batch and hash it into the tree (under mu). */
static int integrate(struct tlog *log)
{
	struct lacre_dbuf batch;
	struct lacre_rbuf b;
	const uint8_t *e;
	size_t len;
	int rc = LACRE_OK;

	pthread_mutex_lock(&log->in_mu);
	batch = log->incoming;
	lacre_dbuf_init(&log->incoming, INCOMING_CAP);
	pthread_mutex_unlock(&log->in_mu);
	lacre_rbuf_init(&b, batch.p, batch.len);
	while (tiles_bundle_next(&b, &e, &len) == LACRE_OK)
		if ((rc = add_entry(log, e, len)) != LACRE_OK)
			break;
	lacre_dbuf_free(&batch);
	return rc;
}

/* ---- publishing ---- */

/* Write a full tile or bundle once; an existing object must be identical. */
static int put_once(struct tlog *log, const char *name, const void *p, size_t len)
{
	struct lacre_dbuf d;
	int rc;

	rc = lacre_store_put_if_absent(log->store, name, p, len);
	if (rc != LACRE_E_EXISTS)
		return rc;
	lacre_dbuf_init(&d, len + 1);
	rc = lacre_store_get(log->store, name, 0, SIZE_MAX, &d);
	if (rc == LACRE_E_TOO_LARGE || (rc == LACRE_OK && (d.len != len || memcmp(d.p, p, len) != 0)))
		rc = LACRE_E_CORRUPT;
	lacre_dbuf_free(&d);
	return rc;
}

/* Write one tile (or bundle) of the given width. */
static int put_tile(struct tlog *log, int level, uint64_t t, unsigned w,
		    const void *p, size_t len)
{
	char name[LACRE_STORE_NAME_MAX + 1];
	int rc;

	if ((rc = tiles_path(log->prefix, level, t, w, name, sizeof(name))) != LACRE_OK)
		return rc;
	if (w == TILE_WIDTH)
		return put_once(log, name, p, len);
	return lacre_store_put_replace(log->store, name, p, len);
}

/* Bytes of the first w entries of bundle t inside the entry buffer. */
static int bundle_bytes(struct tlog *log, uint64_t t, unsigned w, const uint8_t **p, size_t *len)
{
	struct lacre_rbuf b;
	const uint8_t *e;
	size_t k, el, off;
	unsigned i;

	if (t * TILE_WIDTH < log->ents_first)
		return LACRE_E_INTERNAL;
	k = (size_t)(t - log->ents_first / TILE_WIDTH);
	if (k >= log->nboff)
		return LACRE_E_INTERNAL;
	off = (size_t)log->boff[k];
	lacre_rbuf_init(&b, log->ents.p + off, log->ents.len - off);
	for (i = 0; i < w; i++)
		if (tiles_bundle_next(&b, &e, &el) != LACRE_OK)
			return LACRE_E_INTERNAL;
	*p = log->ents.p + off;
	*len = b.off;
	return LACRE_OK;
}

/* One object to publish. */
struct put_job {
	int level;
	uint64_t t;
	unsigned w;
	const uint8_t *p;
	size_t len;
};

/* The jobs of one publication, shared by the worker threads. */
struct put_pool {
	struct tlog *log;
	struct put_job *jobs;
	size_t n, next;
	int rc;
	pthread_mutex_t mu;
};

static void *put_worker(void *arg);

/* A pool thread: names itself (a confined receiver cannot name another
 * thread), then works as put_worker. */
static void *put_thread(void *arg)
{
	pthread_setname_np(pthread_self(), "lacre-tiles");
	return put_worker(arg);
}

/* Worker: take jobs until none are left or one failed.  Backends fsync
 * every object, so running several puts at once hides most of the sync
 * latency (the store handles are thread-safe). */
static void *put_worker(void *arg)
{
	struct put_pool *pool = arg;
	struct put_job *j;
	int rc;

	for (;;) {
		pthread_mutex_lock(&pool->mu);
		j = pool->next < pool->n && pool->rc == LACRE_OK ? &pool->jobs[pool->next++] : NULL;
		pthread_mutex_unlock(&pool->mu);
		if (j == NULL)
			return NULL;
		rc = put_tile(pool->log, j->level, j->t, j->w, j->p, j->len);
		if (rc != LACRE_OK) {
			pthread_mutex_lock(&pool->mu);
			if (pool->rc == LACRE_OK)
				pool->rc = rc;
			pthread_mutex_unlock(&pool->mu);
		}
	}
}

/* Run the jobs on up to PUBLISH_THREADS threads (inline when few). */
static int run_jobs(struct tlog *log, struct put_job *jobs, size_t n)
{
	struct put_pool pool;
	pthread_t th[PUBLISH_THREADS];
	size_t nt = n / 4, i, started = 0;

	memset(&pool, 0, sizeof(pool));
	pool.log = log;
	pool.jobs = jobs;
	pool.n = n;
	pool.rc = LACRE_OK;
	pthread_mutex_init(&pool.mu, NULL);
	if (nt > PUBLISH_THREADS)
		nt = PUBLISH_THREADS;
	for (i = 0; i < nt; i++)
		if (pthread_create(&th[i], NULL, put_thread, &pool) == 0) {
			pthread_setname_np(th[i], "lacre-tiles");
			started++;
		}
	put_worker(&pool);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&pool.mu);
	return pool.rc;
}

/* Publish tiles and bundles for tree size n from the published size up,
 * then forget what is no longer needed. */
static int publish_tiles(struct tlog *log, uint64_t n)
{
	uint64_t p = log->pub, pl, nl, t, first;
	struct put_job *jobs = NULL;
	size_t nj = 0, cap = 0, drop;
	const uint8_t *bp;
	size_t bl;
	unsigned w;
	int l, rc = LACRE_OK;

	for (l = 0; l < NLEVELS; l++) {
		pl = p >> (8 * l);
		nl = n >> (8 * l);
		if (nl == 0)
			break;
		if (nl == pl)
			continue;
		for (t = pl / TILE_WIDTH; t * TILE_WIDTH < nl; t++) {
			struct level *lv = &log->lv[l];
			w = tiles_width(n, l, t);
			rc = LACRE_E_INTERNAL;
			if (t * TILE_WIDTH < lv->start || t * TILE_WIDTH + w > lv->start + lv->n)
				goto out;
			if (nj + 2 > cap) {
				void *q;
				cap = cap ? 2 * cap : 64;
				rc = LACRE_E_NOMEM;
				if ((q = realloc(jobs, cap * sizeof(*jobs))) == NULL)
					goto out;
				jobs = q;
			}
			jobs[nj++] = (struct put_job){ l, t, w, lv->h[t * TILE_WIDTH - lv->start],
						       (size_t)w * MERKLE_HASH_LEN };
			if (l != 0)
				continue;
			if ((rc = bundle_bytes(log, t, w, &bp, &bl)) != LACRE_OK)
				goto out;
			jobs[nj++] = (struct put_job){ TILE_LEVEL_ENTRIES, t, w, bp, bl };
		}
	}
	if ((rc = run_jobs(log, jobs, nj)) != LACRE_OK)
		goto out;
	/* move the recovery snapshot to the new tile boundary, a tile at a
	 * time (the level-1 hashes are the roots of the full level-0 tiles) */
	first = (n / TILE_WIDTH) * TILE_WIDTH;
	for (t = log->ptree.size / TILE_WIDTH; t < first / TILE_WIDTH; t++) {
		struct level *l1 = &log->lv[1];
		rc = LACRE_E_INTERNAL;
		if (t < l1->start || t >= l1->start + l1->n)
			goto out;
		if ((rc = merkle_tree_append_node(&log->ptree, 8, l1->h[t - l1->start])) != LACRE_OK)
			goto out;
	}
	log->pub = n;
	for (l = 0; l < NLEVELS; l++)
		level_trim(&log->lv[l], ((n >> (8 * l)) / TILE_WIDTH) * TILE_WIDTH);
	if (first > log->ents_first) {
		size_t k = (size_t)((first - log->ents_first) / TILE_WIDTH);
		drop = k < log->nboff ? (size_t)log->boff[k] : log->ents.len;
		if (k > log->nboff)
			k = log->nboff;
		lacre_dbuf_consume(&log->ents, drop);
		lacre_dbuf_shrink(&log->ents, (size_t)1 << 20);
		memmove(log->boff, log->boff + k, (log->nboff - k) * sizeof(*log->boff));
		log->nboff -= k;
		for (size_t i = 0; i < log->nboff; i++)
			log->boff[i] -= drop;
		log->ents_jpos -= drop;
		log->ents_first_joff += drop;
		log->ents_first = first;
	}
	rc = LACRE_OK;
out:
	free(jobs);
	return rc;
}

/* Ask one witness to cosign the signed checkpoint; on success the
 * verified cosignature lines are appended to lines. */
static int ask_witness(struct tlog *log, size_t i, struct lacre_dbuf *lines)
{
	struct tiles_reader *r = NULL;
	struct merkle_proof proof;
	struct lacre_dbuf got, test;
	struct note *n = NULL;
	uint64_t old = log->wsize[i], wsz = 0, ok = 0;
	int rc, attempt;

	lacre_dbuf_init(&got, 16384);
	lacre_dbuf_init(&test, NOTE_MAX_SIZE);
	if ((rc = tiles_reader_new(log->store, log->prefix, log->ssize, &r)) != LACRE_OK)
		goto out;
	for (attempt = 0; attempt < 2; attempt++) {
		rc = LACRE_E_FORK;
		if (old > log->ssize)
			goto out;
		if ((rc = merkle_prove_consistency(old, log->ssize, tiles_reader_node, r, &proof)) != LACRE_OK)
			goto out;
		lacre_dbuf_reset(&got);
		rc = witness_add_checkpoint(log->w[i].url, old, &proof, log->snote.p,
					    log->snote.len, &got, &wsz);
		if (rc != LACRE_E_STATE)
			break;
		/* 409: the witness holds another size; equal size here means the
		 * witness holds another root for our size: a fork */
		if (wsz == old || wsz > log->ssize) {
			rc = LACRE_E_FORK;
			goto out;
		}
		old = wsz;
	}
	if (rc != LACRE_OK)
		goto out;
	/* keep only lines that verify with this witness's key */
	if ((rc = cosig_attach(log->snote.p, log->snote.len, got.p, got.len, &test)) != LACRE_OK ||
	    (rc = note_parse(test.p, test.len, &n)) != LACRE_OK)
		goto out;
	{
		struct note_verifier pair[2];
		pair[0] = log->signer.key;
		pair[1] = log->w[i].key;
		if ((rc = note_verify(n, pair, 2, &ok, NULL)) != LACRE_OK)
			goto out;
	}
	rc = LACRE_E_AUTH;
	if (!(ok & 2))
		goto out;
	for (size_t k = 0; k < n->nsigs; k++) {
		if (n->sigs[k].keyid != log->w[i].key.keyid ||
		    strcmp(n->sigs[k].name, log->w[i].key.name) != 0)
			continue;
		if ((rc = lacre_dbuf_add(lines, n->buf + n->sigs[k].line_off,
					 n->sigs[k].line_len)) != LACRE_OK)
			goto out;
	}
	log->wsize[i] = log->ssize;
	rc = LACRE_OK;
out:
	note_free(n);
	tiles_reader_free(r);
	lacre_dbuf_free(&got);
	lacre_dbuf_free(&test);
	return rc;
}

/* Collect cosignatures and publish the checkpoint object. */
static int publish_checkpoint(struct tlog *log)
{
	char name[LACRE_STORE_NAME_MAX + 1];
	struct lacre_dbuf lines, full;
	size_t i, got = 0;
	int rc = LACRE_OK, fork = 0;

	lacre_dbuf_init(&lines, NOTE_MAX_SIZE);
	lacre_dbuf_init(&full, NOTE_MAX_SIZE);
	if (log->quorum > 0) {
		uint64_t mask = 0;
		for (i = 0; i < log->nw; i++) {
			if (log->w[i].url[0] == '\0')
				continue;
			rc = ask_witness(log, i, &lines);
			if (rc == LACRE_OK) {
				got++;
				mask |= (uint64_t)1 << i;
			} else if (rc == LACRE_E_FORK) {
				fork = 1;
			}
		}
		rc = fork ? LACRE_E_FORK : LACRE_E_UNAVAILABLE;
		if (log->pol ? !policy_satisfied(log->pol, mask) : got < log->quorum)
			goto out;
		if ((rc = cosig_attach(log->snote.p, log->snote.len, lines.p, lines.len, &full)) != LACRE_OK)
			goto out;
	} else if ((rc = lacre_dbuf_add(&full, log->snote.p, log->snote.len)) != LACRE_OK) {
		goto out;
	}
	snprintf(name, sizeof(name), "%scheckpoint", log->prefix);
	if ((rc = atomic_write(log, "checkpoint", full.p, full.len)) != LACRE_OK ||
	    (rc = lacre_store_put_replace(log->store, name, full.p, full.len)) != LACRE_OK)
		goto out;
	lacre_dbuf_reset(&log->pnote);
	if ((rc = lacre_dbuf_add(&log->pnote, full.p, full.len)) != LACRE_OK)
		goto out;
	log->psize = log->ssize;
	log->cp_published = 1;
	rc = fork ? LACRE_E_FORK : LACRE_OK;
out:
	lacre_dbuf_free(&lines);
	lacre_dbuf_free(&full);
	return rc;
}

/* Journal pending entries durably. */
static int journal_sync(struct tlog *log)
{
	int rc;

	if (log->jsize == log->tree.size)
		return LACRE_OK;
	if ((rc = write_all(log->jfd, log->ents.p + log->ents_jpos,
			    log->ents.len - log->ents_jpos)) != LACRE_OK)
		return rc;
	if (fdatasync(log->jfd) != 0)
		return LACRE_E_IO;
	log->jbytes += log->ents.len - log->ents_jpos;
	log->ents_jpos = log->ents.len;
	log->jsize = log->tree.size;
	return LACRE_OK;
}

/* A merkle_node_fn over what the log holds in memory, for the consistency
 * proof from the signed tree to the current one: the signed tree's compact
 * range (every left-side node of such a proof is one of its nodes), the
 * unpublished tile levels (every right-side node lies at or after the
 * signed size, which no published-tile trim has reached), and hashing of
 * the at most 2^7 level hashes below a node between two tile levels.
 * LACRE_E_INTERNAL when a node is in neither (a bug: nothing is signed). */
static int mem_node(void *arg, unsigned height, uint64_t index, uint8_t out[MERKLE_HASH_LEN])
{
	struct tlog *log = arg;
	const struct merkle_tree *t = &log->stree;
	uint8_t l[MERKLE_HASH_LEN], r[MERKLE_HASH_LEN];
	uint64_t pos = 0;
	unsigned i, h;
	int rc;

	if (height >= 63)
		return LACRE_E_INTERNAL;
	if (index < (t->size >> height)) {
		/* walk the set bits of size from the top: node i covers
		 * [pos, pos + 2^h) for the i-th set bit h */
		i = 0;
		for (h = 63; h-- > 0 && i < t->n;) {
			if (!(t->size & ((uint64_t)1 << h)))
				continue;
			if (h == height && pos == (index << height)) {
				memcpy(out, t->node[i], MERKLE_HASH_LEN);
				return LACRE_OK;
			}
			pos += (uint64_t)1 << h;
			i++;
		}
	}
	if (height % 8 == 0) {
		const struct level *lv = height / 8 < NLEVELS ? &log->lv[height / 8] : NULL;
		if (lv == NULL || index < lv->start || index - lv->start >= lv->n)
			return LACRE_E_INTERNAL;
		memcpy(out, lv->h[index - lv->start], MERKLE_HASH_LEN);
		return LACRE_OK;
	}
	if ((rc = mem_node(log, height - 1, 2 * index, l)) != LACRE_OK ||
	    (rc = mem_node(log, height - 1, 2 * index + 1, r)) != LACRE_OK)
		return rc;
	merkle_node_hash(l, r, out);
	return LACRE_OK;
}

/* Whether note is exactly text plus signature lines, signed by the log's
 * key over this origin, size and root: what any signer's answer must be
 * before the log commits it. */
static int note_is_ours(struct tlog *log, const struct lacre_dbuf *note, const struct lacre_dbuf *text,
			uint64_t size, const uint8_t root[MERKLE_HASH_LEN])
{
	struct checkpoint cp;

	if (note->len <= text->len || memcmp(note->p, text->p, text->len) != 0 ||
	    note->p[text->len] != '\n' ||
	    checkpoint_open(note->p, note->len, &log->signer.key, NULL, 0, &cp, NULL) != LACRE_OK ||
	    cp.size != size || CRYPTO_memcmp(cp.root, root, MERKLE_HASH_LEN) != 0 ||
	    strcmp(cp.origin, log->origin) != 0)
		return 0;
	return 1;
}

/* Sign the current tree and commit it (see tlog.h). */
static int sign_current(struct tlog *log)
{
	struct lacre_dbuf body, note;
	struct tlog_sign_request rq;
	struct merkle_proof proof;
	uint8_t root[MERKLE_HASH_LEN];
	uint64_t size = log->tree.size, stale = 0;
	int rc;

	lacre_dbuf_init(&body, 1024);
	lacre_dbuf_init(&note, NOTE_MAX_SIZE);
	merkle_tree_root(&log->tree, root);
	/* compare-and-swap: never a smaller size, never another root */
	rc = LACRE_E_ROLLBACK;
	if (log->have_signed && size < log->ssize)
		goto out;
	rc = LACRE_E_FORK;
	if (log->have_signed && size == log->ssize &&
	    CRYPTO_memcmp(root, log->sroot, MERKLE_HASH_LEN) != 0)
		goto out;
	if ((rc = journal_sync(log)) != LACRE_OK ||
	    (rc = checkpoint_format(log->origin, size, root, &body)) != LACRE_OK)
		goto out;
	memset(&rq, 0, sizeof(rq));
	rq.origin = log->origin;
	rq.old_size = log->have_signed ? log->ssize : 0;
	if (log->have_signed)
		memcpy(rq.old_root, log->sroot, MERKLE_HASH_LEN);
	else
		merkle_empty_root(rq.old_root);
	rq.size = size;
	memcpy(rq.root, root, MERKLE_HASH_LEN);
	rq.text = body.p;
	rq.text_len = body.len;
	rc = LACRE_E_INTERNAL;
	if (!log->have_stree || log->stree.size != rq.old_size)
		goto out;
	if ((rc = merkle_prove_consistency(rq.old_size, size, mem_node, log, &proof)) != LACRE_OK)
		goto out;
	rq.proof = &proof;
	if (log->lkey == NULL && (rc = pending_write(log, size, root, log->jbytes)) != LACRE_OK)
		goto out;
	rq.stale_size = &stale;
	rc = log->signer.sign(log->signer.arg, &rq, &note);
	if (rc == LACRE_E_STATE && stale > rq.old_size && stale <= size) {
		/* the signer holds a tree we sent it without hearing back: prove
		 * from there (its nodes are in memory: see mem_node) */
		if ((rc = merkle_prove_consistency(stale, size, mem_node, log, &proof)) != LACRE_OK)
			goto out;
		rq.old_size = stale;
		rq.stale_size = NULL;
		lacre_dbuf_reset(&note);
		rc = log->signer.sign(log->signer.arg, &rq, &note);
	}
	if (rc != LACRE_OK)
		goto out;
	rc = LACRE_E_AUTH;
	if (!note_is_ours(log, &note, &body, size, root))
		goto out;
	if ((rc = state_write(log, size, root, log->jbytes, log->pub, &note)) != LACRE_OK)
		goto out;
	log->stree = log->tree;
	log->have_stree = 1;
	log->have_signed = 1;
	log->ssize = size;
	log->sjbytes = log->jbytes;
	memcpy(log->sroot, root, MERKLE_HASH_LEN);
	lacre_dbuf_reset(&log->snote);
	rc = lacre_dbuf_add(&log->snote, note.p, note.len);
	log->cp_published = 0;
out:
	lacre_dbuf_free(&body);
	lacre_dbuf_free(&note);
	return rc;
}

/* Checkpoint with mu held. */
static int checkpoint_locked(struct tlog *log, struct lacre_dbuf *note)
{
	int rc;

	/* a tree resumed from "pending" is signed as it stands first: the
	 * signer may hold exactly it, and accepts it again only unchanged */
	if (log->resume) {
		if ((rc = sign_current(log)) != LACRE_OK)
			return rc;
		log->resume = 0;
	}
	if ((rc = integrate(log)) != LACRE_OK)
		return rc;
	if (!log->have_signed || log->tree.size > log->ssize)
		if ((rc = sign_current(log)) != LACRE_OK)
			return rc;
	if (log->pub < log->ssize && (rc = publish_tiles(log, log->ssize)) != LACRE_OK)
		return rc;
	if (!log->cp_published && (rc = publish_checkpoint(log)) != LACRE_OK)
		return rc;
	if (note)
		return lacre_dbuf_add(note, log->pnote.p, log->pnote.len);
	return LACRE_OK;
}

/* Checkpoint: sign if grown, publish tiles, cosign, publish (tlog.h). */
int tlog_checkpoint(struct tlog *log, struct lacre_dbuf *note)
{
	int rc;

	pthread_mutex_lock(&log->mu);
	rc = checkpoint_locked(log, note);
	pthread_mutex_unlock(&log->mu);
	return rc;
}

/* Entries appended so far. */
uint64_t tlog_size(struct tlog *log)
{
	uint64_t n;

	pthread_mutex_lock(&log->in_mu);
	n = log->next_index;
	pthread_mutex_unlock(&log->in_mu);
	return n;
}

/* Time-driven checkpoints. */
int tlog_tick(struct tlog *log, uint64_t now_ms, int *did)
{
	int rc = LACRE_OK;

	if (did)
		*did = 0;
	pthread_mutex_lock(&log->mu);
	if (log->have_signed && tlog_size(log) == log->ssize && log->pub == log->ssize &&
	    log->cp_published)
		goto out;
	if (log->last_ms != 0 && now_ms - log->last_ms < log->interval && now_ms >= log->last_ms)
		goto out;
	log->last_ms = now_ms ? now_ms : 1;
	rc = checkpoint_locked(log, NULL);
	if (rc == LACRE_OK && did)
		*did = 1;
out:
	pthread_mutex_unlock(&log->mu);
	return rc;
}

/* Set the tick interval. */
void tlog_set_interval(struct tlog *log, uint64_t ms)
{
	pthread_mutex_lock(&log->mu);
	log->interval = ms ? ms : 1;
	pthread_mutex_unlock(&log->mu);
}

/* Configure witnesses and the quorum. */
int tlog_set_witnesses(struct tlog *log, const struct tlog_witness *w, size_t n,
		       size_t quorum)
{
	size_t i;

	if (n > MAX_WITNESSES || quorum > n)
		return LACRE_E_INVALID;
	for (i = 0; i < n; i++)
		if (w[i].key.type != NOTE_TYPE_COSIG)
			return LACRE_E_INVALID;
	pthread_mutex_lock(&log->mu);
	memcpy(log->w, w, n * sizeof(*w));
	memset(log->wsize, 0, sizeof(log->wsize));
	log->nw = n;
	log->quorum = quorum;
	free(log->pol);
	log->pol = NULL;
	pthread_mutex_unlock(&log->mu);
	return LACRE_OK;
}

/* Witnesses and quorum from a policy. */
int tlog_set_policy(struct tlog *log, const struct policy *p)
{
	struct policy *copy;
	size_t i;

	if (p->nw > MAX_WITNESSES)
		return LACRE_E_INVALID;
	if ((copy = malloc(sizeof(*copy))) == NULL)
		return LACRE_E_NOMEM;
	*copy = *p;
	pthread_mutex_lock(&log->mu);
	memset(log->w, 0, sizeof(log->w));
	for (i = 0; i < p->nw; i++) {
		memcpy(log->w[i].url, p->w[i].url, sizeof(log->w[i].url));
		log->w[i].key = p->w[i].key;
	}
	memset(log->wsize, 0, sizeof(log->wsize));
	log->nw = p->nw;
	log->quorum = p->quorum < 0 ? 0 : 1;
	free(log->pol);
	log->pol = copy;
	pthread_mutex_unlock(&log->mu);
	return LACRE_OK;
}

/* Size of the latest signed checkpoint. */
uint64_t tlog_signed_size(struct tlog *log)
{
	uint64_t n;

	pthread_mutex_lock(&log->mu);
	n = log->have_signed ? log->ssize : 0;
	pthread_mutex_unlock(&log->mu);
	return n;
}

/* Size of the latest published checkpoint. */
uint64_t tlog_published_size(struct tlog *log)
{
	uint64_t n;

	pthread_mutex_lock(&log->mu);
	n = log->pnote.len ? log->psize : 0;
	pthread_mutex_unlock(&log->mu);
	return n;
}

/* The log's prefix on the store (constant). */
const char *tlog_store_prefix(const struct tlog *log)
{
	return log->prefix;
}

/* A proof from the published tiles (mu held). */
static int prove_locked(struct tlog *log, int incl, uint64_t a, uint64_t size,
			struct merkle_proof *out)
{
	struct tiles_reader *r = NULL;
	int rc;

	if (size > log->pub)
		return LACRE_E_RANGE;
	if ((rc = tiles_reader_new(log->store, log->prefix, size, &r)) != LACRE_OK)
		return rc;
	rc = incl ? merkle_prove_inclusion(a, size, tiles_reader_node, r, out)
		  : merkle_prove_consistency(a, size, tiles_reader_node, r, out);
	tiles_reader_free(r);
	return rc;
}

/* Inclusion proof from the published tiles. */
int tlog_prove_inclusion(struct tlog *log, uint64_t index, uint64_t size,
			 struct merkle_proof *out)
{
	int rc;

	pthread_mutex_lock(&log->mu);
	rc = prove_locked(log, 1, index, size, out);
	pthread_mutex_unlock(&log->mu);
	return rc;
}

/* Consistency proof from the published tiles. */
int tlog_prove_consistency(struct tlog *log, uint64_t old, uint64_t size,
			   struct merkle_proof *out)
{
	int rc;

	pthread_mutex_lock(&log->mu);
	rc = prove_locked(log, 0, old, size, out);
	pthread_mutex_unlock(&log->mu);
	return rc;
}

/* A copy of the latest published checkpoint. */
int tlog_published_note(struct tlog *log, struct lacre_dbuf *out)
{
	int rc;

	pthread_mutex_lock(&log->mu);
	rc = log->pnote.len ? lacre_dbuf_add(out, log->pnote.p, log->pnote.len) : LACRE_E_NOT_FOUND;
	pthread_mutex_unlock(&log->mu);
	return rc;
}

/* A receipt for index against the latest published checkpoint. */
int tlog_receipt(struct tlog *log, uint64_t index, struct lacre_dbuf *out)
{
	struct merkle_proof proof;
	int rc = LACRE_E_RANGE;

	pthread_mutex_lock(&log->mu);
	if (log->pnote.len == 0 || index >= log->psize)
		goto out;
	if ((rc = prove_locked(log, 1, index, log->psize, &proof)) != LACRE_OK)
		goto out;
	rc = receipt_format(index, &proof, log->pnote.p, log->pnote.len, out);
out:
	pthread_mutex_unlock(&log->mu);
	return rc;
}
