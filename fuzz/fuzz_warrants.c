/*
 * fuzz_warrants.c - libFuzzer harness for the warrant log reader
 * (lib/site/warrant.c: DIR/warrants.log, docs/FORMATS.md §4) and the
 * routing the receiver does with it.  The log is a file the access domain
 * appends to; the receiver trusts nothing in it that is not hash-chained
 * and signed by the site's warrant-log key.
 *
 * Input: byte 0 picks a split line, bytes 1..32 are the signer's Ed25519
 * public key (the seeds carry the key of the site that wrote them, so
 * they reach the verified path), the rest is the log, read through a
 * memfd.  Invariants:
 *   - a log that loads with the key loads without it too (signatures then
 *     unchecked), with the same warrants, event count and head hash;
 *   - a reload that starts from the registry of a prefix of the log (cut
 *     after a line; that prefix's signatures are not checked again) ends
 *     exactly like a fresh load of the whole log: same result, warrants,
 *     events and head;
 *   - each warrant is found by its id, its strings are NUL-terminated in
 *     their arrays, its counts within their caps;
 *   - warrant_route agrees with a brute-force reading of the registry:
 *     a record (LIID, time, categories) is routed exactly when some
 *     warrant with that LIID is active at that time and authorises every
 *     category, and then to such a warrant, with a period end after the
 *     time; otherwise it gets one of the WARRANT_Q_* reasons.  Probed at
 *     every period edge, the cessation and the emergency deadline of the
 *     first warrants, for every category set.
 * The registry and routing checks run again, keyless, on a copy whose hash
 * chain was recomputed (prev= and hash= of every line), so that mutated
 * events get past the chain and reach the event parser and the registry
 * (random bytes almost never keep a SHA-256 chain intact).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/warrant.h"
#include "site/warrant_int.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Counters the corpus replay asserts on. */
static unsigned long fz_w_loaded, fz_w_routed, fz_w_quarantined;

/* Load p[0..n) through a memfd. */
static int fz_w_load(const uint8_t *p, size_t n, const uint8_t *pub,
		     const struct warrant_registry *prev, struct warrant_registry **out)
{
	int fd = memfd_create("warrants", MFD_CLOEXEC), r;

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(n == 0 || write(fd, p, n) == (ssize_t)n);
	FUZZ_CHECK(lseek(fd, 0, SEEK_SET) == 0);
	*out = NULL;
	r = warrant_load_fd(fd, "fuzz/warrants.log", pub, prev, out);
	close(fd);
	FUZZ_CHECK((r == LACRE_OK) == (*out != NULL));
	return r;
}

/* The two warrants say the same (field by field: bytes after a string's
 * NUL and padding are not part of a warrant). */
static void fz_w_same_warrant(const struct warrant *a, const struct warrant *b)
{
	size_t i;

	FUZZ_CHECK(!strcmp(a->id, b->id) && !strcmp(a->case_id, b->case_id) &&
		   !strcmp(a->unit, b->unit) && !strcmp(a->court, b->court) &&
		   !strcmp(a->authority, b->authority) && !strcmp(a->recipient, b->recipient));
	FUZZ_CHECK(a->categories == b->categories && a->emergency == b->emergency &&
		   a->confirmed == b->confirmed && a->ceased == b->ceased &&
		   a->created == b->created);
	FUZZ_CHECK(!a->confirmed || (a->confirm_date == b->confirm_date &&
				     !strcmp(a->confirm_order, b->confirm_order)));
	FUZZ_CHECK(!a->ceased || (a->ceased_at == b->ceased_at && a->cease_date == b->cease_date &&
				  !strcmp(a->cease_order, b->cease_order)));
	FUZZ_CHECK(memcmp(a->recipient_pub, b->recipient_pub, 32) == 0);
	FUZZ_CHECK(a->n_targets == b->n_targets && a->n_liids == b->n_liids &&
		   a->n_periods == b->n_periods);
	for (i = 0; i < a->n_targets && i < WARRANT_MAX_TARGETS; i++)
		FUZZ_CHECK(!strcmp(a->targets[i], b->targets[i]));
	for (i = 0; i < a->n_liids && i < WARRANT_MAX_LIIDS; i++)
		FUZZ_CHECK(!strcmp(a->liids[i], b->liids[i]));
	for (i = 0; i < a->n_periods && i < WARRANT_MAX_PERIODS; i++)
		FUZZ_CHECK(a->periods[i].from == b->periods[i].from && a->periods[i].to == b->periods[i].to &&
			   a->periods[i].order_date == b->periods[i].order_date &&
			   !strcmp(a->periods[i].order_id, b->periods[i].order_id));
}

/* The two registries hold the same log. */
static void fz_w_same(const struct warrant_registry *a, const struct warrant_registry *b)
{
	uint8_t ha[32], hb[32];
	size_t i;

	FUZZ_CHECK(warrant_registry_count(a) == warrant_registry_count(b));
	FUZZ_CHECK(warrant_registry_events(a) == warrant_registry_events(b));
	warrant_registry_head(a, ha);
	warrant_registry_head(b, hb);
	FUZZ_CHECK(memcmp(ha, hb, 32) == 0);
	for (i = 0; i < warrant_registry_count(a); i++)
		fz_w_same_warrant(warrant_registry_at(a, i), warrant_registry_at(b, i));
}

/* s is NUL-terminated within cap bytes. */
#define FZ_W_STR(s) FUZZ_CHECK(memchr((s), 0, sizeof(s)) != NULL)

/* One warrant's fields are well-formed. */
static void fz_w_check(const struct warrant_registry *reg, const struct warrant *w)
{
	size_t i;

	FZ_W_STR(w->id);
	FZ_W_STR(w->case_id);
	FZ_W_STR(w->unit);
	FZ_W_STR(w->court);
	FZ_W_STR(w->authority);
	FZ_W_STR(w->confirm_order);
	FZ_W_STR(w->cease_order);
	FZ_W_STR(w->recipient);
	FUZZ_CHECK(w->n_targets <= WARRANT_MAX_TARGETS);
	FUZZ_CHECK(w->n_liids <= WARRANT_MAX_LIIDS);
	FUZZ_CHECK(w->n_periods >= 1 && w->n_periods <= WARRANT_MAX_PERIODS);
	for (i = 0; i < w->n_targets; i++)
		FZ_W_STR(w->targets[i]);
	for (i = 0; i < w->n_liids; i++)
		FZ_W_STR(w->liids[i]);
	for (i = 0; i < w->n_periods; i++)
		FZ_W_STR(w->periods[i].order_id);
	FUZZ_CHECK(warrant_registry_find(reg, w->id) != NULL);
}

/* Whether w lists the LIID liid. */
static int fz_w_has_liid(const struct warrant *w, const char *liid)
{
	for (size_t i = 0; i < w->n_liids; i++)
		if (strcmp(w->liids[i], liid) == 0)
			return 1;
	return 0;
}

/* Route (liid, t, cat) and compare with a brute-force reading. */
static void fz_w_route(const struct warrant_registry *reg, const char *liid, int64_t t, unsigned cat)
{
	struct warrant_match m;
	const struct warrant *w;
	const char *reason = NULL;
	size_t i, n = warrant_registry_count(reg);
	int expect = 0;

	for (i = 0; i < n && !expect; i++) {
		w = warrant_registry_at(reg, i);
		expect = fz_w_has_liid(w, liid) && warrant_active_at(w, t) && (cat & ~w->categories) == 0;
	}
	FUZZ_CHECK(warrant_route(reg, (const uint8_t *)liid, strlen(liid), t, cat, &m, &reason) == LACRE_OK);
	if (reason == NULL) {
		fz_w_routed++;
		FUZZ_CHECK(expect);
		FZ_W_STR(m.id);
		w = warrant_registry_find(reg, m.id);
		FUZZ_CHECK(w != NULL);
		FUZZ_CHECK(fz_w_has_liid(w, liid) && warrant_active_at(w, t) && (cat & ~w->categories) == 0);
		FUZZ_CHECK(m.period_end > t);
		FUZZ_CHECK(memcmp(m.recipient, w->recipient_pub, 32) == 0);
	} else {
		fz_w_quarantined++;
		FUZZ_CHECK(!expect);
		FUZZ_CHECK(!strcmp(reason, WARRANT_Q_UNKNOWN_LIID) || !strcmp(reason, WARRANT_Q_BEFORE_START) ||
			   !strcmp(reason, WARRANT_Q_AFTER_END) || !strcmp(reason, WARRANT_Q_CEASED) ||
			   !strcmp(reason, WARRANT_Q_CATEGORY) || !strcmp(reason, WARRANT_Q_EMERGENCY));
		if (!strcmp(reason, WARRANT_Q_UNKNOWN_LIID))
			for (i = 0; i < n; i++)
				FUZZ_CHECK(!fz_w_has_liid(warrant_registry_at(reg, i), liid));
	}
}

/* Probe the routing around every edge of the first warrants. */
static void fz_w_probe(const struct warrant_registry *reg)
{
	size_t i, j, k, n = warrant_registry_count(reg);
	int64_t edges[2 * WARRANT_MAX_PERIODS + 4], t;
	size_t ne;
	unsigned cat;

	for (i = 0; i < n && i < 4; i++) {
		const struct warrant *w = warrant_registry_at(reg, i);
		ne = 0;
		for (j = 0; j < w->n_periods && j < WARRANT_MAX_PERIODS; j++) {
			edges[ne++] = w->periods[j].from;
			edges[ne++] = w->periods[j].to;
		}
		edges[ne++] = w->created;
		if (w->ceased)
			edges[ne++] = w->ceased_at;
		if (w->emergency && w->n_periods)
			edges[ne++] = w->periods[0].order_date + WARRANT_EMERGENCY_US;
		for (j = 0; j < ne; j++)
			for (k = 0; k < 2; k++) {
				if ((k == 0 && edges[j] == INT64_MIN) || (k == 1 && edges[j] == INT64_MAX))
					continue;
				t = k == 0 ? edges[j] - 1 : edges[j];
				for (cat = 1; cat < 8; cat++)
					fz_w_route(reg, w->n_liids ? w->liids[0] : "", t, cat);
			}
	}
	fz_w_route(reg, "no-such-liid-in-any-warrant", 0, WARRANT_CAT_IRI);
}

/* Rewrite prev= and hash= of every line of p[0..n) that has them, in
 * place, so the chain holds; returns whether anything changed. */
static int fz_w_fix_chain(uint8_t *p, size_t n)
{
	uint8_t head[32], h[32];
	char hx[65];
	size_t off = 0, ln;
	uint8_t *line, *nl, *sig, *hash, *prev;
	int changed = 0;

	memset(head, 0, sizeof(head));
	while (off < n && (nl = memchr(p + off, '\n', n - off)) != NULL) {
		line = p + off;
		ln = (size_t)(nl - line);
		off += ln + 1;
		/* ... prev=<64> hash=<64> sig=<128> */
		if (ln < 4 + 128 + 1 + 5 + 64 + 1 + 5 + 64 + 1)
			continue;
		sig = nl - (4 + 128);
		hash = sig - 1 - (5 + 64);
		prev = hash - 1 - (5 + 64);
		if (memcmp(sig, "sig=", 4) || memcmp(hash, "hash=", 5) || memcmp(prev, "prev=", 5) ||
		    prev[-1] != ' ' || hash[-1] != ' ' || sig[-1] != ' ')
			continue;
		warrant_hex32(head, hx);
		changed |= memcmp(prev + 5, hx, 64) != 0;
		memcpy(prev + 5, hx, 64);
		FUZZ_CHECK(warrant_sha256(line, (size_t)(hash - 1 - line), h) == LACRE_OK);
		warrant_hex32(h, hx);
		changed |= memcmp(hash + 5, hx, 64) != 0;
		memcpy(hash + 5, hx, 64);
		memcpy(head, h, 32);
	}
	return changed;
}

/* The keyless checks on a copy of the log with its chain recomputed. */
static void fz_w_fixed(const uint8_t *log, size_t n)
{
	struct warrant_registry *reg = NULL;
	uint8_t *copy = malloc(n ? n : 1);

	FUZZ_CHECK(copy != NULL);
	memcpy(copy, log, n);
	if (fz_w_fix_chain(copy, n) && fz_w_load(copy, n, NULL, NULL, &reg) == LACRE_OK) {
		for (size_t i = 0; i < warrant_registry_count(reg); i++)
			fz_w_check(reg, warrant_registry_at(reg, i));
		fz_w_probe(reg);
	}
	warrant_registry_free(reg);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct warrant_registry *keyed = NULL, *bare = NULL, *pre = NULL, *inc = NULL;
	const uint8_t *pub, *log, *nl;
	size_t n, cut, lines = 0, want;
	int r, r0, rp, ri;

	if (size < 33)
		return 0;
	pub = data + 1;
	log = data + 33;
	n = size - 33;
	r = fz_w_load(log, n, pub, NULL, &keyed);
	r0 = fz_w_load(log, n, NULL, NULL, &bare);
	if (r == LACRE_OK) {
		fz_w_loaded++;
		FUZZ_CHECK(r0 == LACRE_OK);
		fz_w_same(keyed, bare);
		for (size_t i = 0; i < warrant_registry_count(keyed); i++)
			fz_w_check(keyed, warrant_registry_at(keyed, i));
		fz_w_probe(keyed);
	}
	/* an incremental reload from the registry of the first lines */
	want = data[0];
	for (cut = 0; cut < n; cut = (size_t)(nl - log) + 1) {
		nl = memchr(log + cut, '\n', n - cut);
		if (!nl || lines++ == want)
			break;
	}
	rp = fz_w_load(log, cut, pub, NULL, &pre);
	if (rp == LACRE_OK) {
		ri = fz_w_load(log, n, pub, pre, &inc);
		FUZZ_CHECK(ri == r);
		if (ri == LACRE_OK)
			fz_w_same(inc, keyed);
	}
	warrant_registry_free(keyed);
	warrant_registry_free(bare);
	warrant_registry_free(pre);
	warrant_registry_free(inc);
	fz_w_fixed(log, n);
	return 0;
}
