/*
 * verify.c - the offline verifier's core (include/lacre/verify.h,
 * docs/cmd-lacre-verify.md, docs/FORMATS.md §9).
 *
 * Order of the checks, each reported per member with a precise reason:
 *   1. manifest.sig: a signed note by the export key over the package id
 *      and the SHA-256 of manifest.txt;
 *   2. manifest.txt: parsed line by line through the checked buffer; its
 *      member list must equal the package's members (names, order, sizes,
 *      SHA-256);
 *   3. checkpoint: the ingest log's signature with the key the court
 *      supplies (--log-vkey, or a log key of its --policy), and the
 *      witnesses' quorum (or the policy's).  Without that key the package
 *      is never VERIFIED (fail closed): its own ingest.vkey is used only to
 *      report every other problem, and the missing trust is a problem.  A
 *      package spanning several ingest logs of one site has a checkpoint
 *      member per log, each checked with the key named by its origin, and
 *      each record's receipt against its own log's (the manifest's log
 *      number on its line);
 *   4. each record: frame body decodes, SHA-256(frame body) = commitment,
 *      the PDU member = the PDU in the frame, the PDU re-decodes to the
 *      frame's index fields, the record is the warrant's and in the window,
 *      its receipt proves the commitment at its leaf index (a v2 segment's
 *      record: its segment proof takes the commitment, record index i of
 *      the manifest, to the records root of an entry naming the manifest's
 *      segment, and the receipt proves that entry's leaf), its JSON line
 *      is exactly what `lacre records --json` prints for it;
 *   5. each exclusion: its receipt proves its commitment, it follows a rule
 *      the manifest states, and no record member carries it;
 *   6. the export sequence 1..N is covered exactly once; the completeness
 *      report equals the one recomputed from the records and exclusions.
 * Every byte of the package is untrusted: lines, tokens and members are
 * read through struct lacre_rbuf; hashes are compared with CRYPTO_memcmp.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lacre/access.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/frame.h"
#include "lacre/json.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/package.h"
#include "lacre/record_json.h"
#include "lacre/record_pdu.h"
#include "lacre/segment_proof.h"
#include "lacre/verify.h"

#define VF_LINE_MAX 4096
#define VF_RULES_MAX 4096

struct vf_record {
	uint64_t n;
	char segment[80];
	uint64_t index;
	uint64_t leaf;
	uint8_t commit[32];
	size_t log;                        /* the package log proving it (0-based) */
};

struct vf_member {
	uint8_t sha[32];
	uint64_t size;
	char name[PACKAGE_NAME_MAX + 1];
};

struct vf_excl {
	uint64_t n, index, leaf, seq;
	char segment[80];
	uint8_t commit[32];
	uint8_t liid[FRAME_LIID_MAX];
	size_t liid_len;
	int has_cin;
	uint32_t cin;
	unsigned kind;
	int has_time;
	int64_t time_us;
	int by_range;
	char rule[160];
};

struct vf_rule {
	int is_range;
	char text[160];
	int used;
};

/* One ingest log of the package: the manifest's log and log-size lines,
 * its checkpoint member once verified, and the key it was checked with. */
struct vf_log {
	char origin[NOTE_NAME_MAX + 1];
	uint64_t size;
	int cp_ok;
	struct checkpoint cp;
	const uint8_t *cp_note;
	size_t cp_len;
	struct note_verifier key;
};

struct vf {
	const struct package *pk;
	const struct verify_opts *o;
	struct verify_result *res;
	/* manifest */
	char warrant[64];
	struct vf_log log[VERIFY_MAX_LOGS]; /* the manifest's log lines, in order */
	size_t nlogs;
	int has_from, has_to;
	int64_t from_us, to_us;
	uint64_t n_records, n_included, n_excluded;
	struct vf_record *rec;
	size_t nrec, caprec;
	struct vf_record *ev;              /* accounting events (--with-quarantine) */
	size_t nev, capev;
	struct vf_member *mem;
	size_t nmem, capmem;
	struct vf_rule rules[VF_RULES_MAX];
	size_t nrules;
	struct vf_excl *ex;
	size_t nex, capex;
};

/* ---- results ---- */

void verify_add_problem(struct verify_result *res, const char *member, const char *fmt, ...)
{
	va_list ap;
	struct verify_problem *p;

	res->problems++;
	res->verified = 0;
	if (res->nproblem >= VERIFY_PROBLEMS_LISTED)
		return;
	if (!res->problem) {
		res->problem = calloc(VERIFY_PROBLEMS_LISTED, sizeof(*res->problem));
		if (!res->problem)
			return;
	}
	p = &res->problem[res->nproblem++];
	snprintf(p->member, sizeof(p->member), "%s", member);
	va_start(ap, fmt);
	vsnprintf(p->what, sizeof(p->what), fmt, ap);
	va_end(ap);
}

/* Free a result. */
void verify_result_free(struct verify_result *res)
{
	free(res->problem);
	res->problem = NULL;
	lacre_dbuf_free(&res->excl);
	lacre_dbuf_free(&res->notes);
}

/* A note line ("absent ...", trust statements). */
static void vf_note(struct vf *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vf_note(struct vf *v, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	lacre_dbuf_add_str(&v->res->notes, line);
	lacre_dbuf_add_u8(&v->res->notes, '\n');
}

/* ---- tokens ---- */

/* Next line of b (without its newline); LACRE_E_INCOMPLETE at the end,
 * LACRE_E_MALFORMED when the last line has no newline. */
static int vf_line(struct lacre_rbuf *b, struct lacre_rbuf *line)
{
	const uint8_t *s = lacre_rbuf_ptr(b);
	size_t left = lacre_rbuf_left(b), i;

	if (left == 0)
		return LACRE_E_INCOMPLETE;
	for (i = 0; i < left && s[i] != '\n'; i++)
		;
	if (i == left)
		return LACRE_E_MALFORMED;
	lacre_rbuf_sub(b, i, line);
	return lacre_rbuf_skip(b, 1);
}

/* Next space-separated token of a line. */
static int vf_tok(struct lacre_rbuf *l, const uint8_t **t, size_t *n)
{
	const uint8_t *s = lacre_rbuf_ptr(l);
	size_t left = lacre_rbuf_left(l), i;

	if (left == 0)
		return LACRE_E_INCOMPLETE;
	for (i = 0; i < left && s[i] != ' '; i++)
		;
	if (i == 0)
		return LACRE_E_MALFORMED;
	*t = s;
	*n = i;
	lacre_rbuf_skip(l, i);
	if (lacre_rbuf_left(l))
		lacre_rbuf_skip(l, 1);
	return LACRE_OK;
}

/* Token equals the NUL-terminated word. */
static int vf_is(const uint8_t *t, size_t n, const char *w)
{
	return strlen(w) == n && !memcmp(t, w, n);
}

/* Decimal, no leading zeros, <= 2^64 - 1. */
static int vf_u64(const uint8_t *t, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20 || (n > 1 && t[0] == '0'))
		return LACRE_E_MALFORMED;
	for (size_t i = 0; i < n; i++) {
		if (t[i] < '0' || t[i] > '9' || v > (UINT64_MAX - (uint64_t)(t[i] - '0')) / 10)
			return LACRE_E_MALFORMED;
		v = v * 10 + (uint64_t)(t[i] - '0');
	}
	*out = v;
	return LACRE_OK;
}

/* Lower-case hex of exactly cap bytes (or up to cap with *outlen). */
static int vf_hex(const uint8_t *t, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t i;

	if (n % 2 || n / 2 > cap || (!outlen && n / 2 != cap))
		return LACRE_E_MALFORMED;
	for (i = 0; i < n; i++)
		if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
			return LACRE_E_MALFORMED;
	for (i = 0; i < n / 2; i++) {
		int hi = t[2 * i] <= '9' ? t[2 * i] - '0' : t[2 * i] - 'a' + 10;
		int lo = t[2 * i + 1] <= '9' ? t[2 * i + 1] - '0' : t[2 * i + 1] - 'a' + 10;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (outlen)
		*outlen = n / 2;
	return LACRE_OK;
}

/* Copy a token into a NUL-terminated buffer (printable ASCII only). */
static int vf_str(const uint8_t *t, size_t n, char *out, size_t cap)
{
	if (n >= cap)
		return LACRE_E_TOO_LARGE;
	for (size_t i = 0; i < n; i++)
		if (t[i] < 0x20 || t[i] == 0x7f)
			return LACRE_E_MALFORMED;
	memcpy(out, t, n);
	out[n] = 0;
	return LACRE_OK;
}

/* "2026-01-01T00:00:00Z" (the warrant log's form) to Unix microseconds. */
static int vf_time(const char *s, int64_t *us)
{
	int Y, M, D, h, m, sec, k = 0;
	long frac = 0;
	int64_t days;
	size_t fl = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &k) != 6 || k != 19)
		return LACRE_E_MALFORMED;
	if (s[19] == '.') {
		for (fl = 0; s[20 + fl] >= '0' && s[20 + fl] <= '9' && fl < 6; fl++)
			frac = frac * 10 + (s[20 + fl] - '0');
		if (fl == 0)
			return LACRE_E_MALFORMED;
		for (size_t i = fl; i < 6; i++)
			frac *= 10;
		fl++;
	}
	if (strcmp(s + 19 + fl, "Z") || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return LACRE_E_MALFORMED;
	/* days from civil (H. Hinnant) */
	{
		int y = Y - (M <= 2);
		int era = y / 400;
		unsigned yoe = (unsigned)(y - era * 400);
		unsigned doy = (unsigned)((153 * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1);
		unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
		days = (int64_t)era * 146097 + (int64_t)doe - 719468;
	}
	*us = ((days * 86400 + h * 3600 + m * 60 + sec) * 1000000) + frac;
	return LACRE_OK;
}

/* Copy src into dst[0..cap), cut at cap - 1 bytes, NUL-terminated. */
static void vf_set(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* Grow an array to hold one more element. */
static int vf_grow(void **p, size_t *cap, size_t n, size_t sz)
{
	void *np;
	size_t nc;

	if (n < *cap)
		return LACRE_OK;
	nc = *cap ? *cap * 2 : 256;
	if ((np = realloc(*p, nc * sz)) == NULL)
		return LACRE_E_NOMEM;
	*p = np;
	*cap = nc;
	return LACRE_OK;
}

/* ---- 1. signature ---- */

/* Check manifest.sig over manifest.txt; fills the package id. */
static void vf_signature(struct vf *v)
{
	const struct package_member *ms = package_find(v->pk, PACKAGE_SIGNATURE);
	const struct package_member *mm = package_find(v->pk, PACKAGE_MANIFEST);
	const struct package_member *ek = package_find(v->pk, "export.vkey");
	struct note_verifier pkey, key;
	struct note *n = NULL;
	struct lacre_rbuf b, l;
	const uint8_t *t;
	size_t tl, el;
	uint8_t mh[32], sh[32];
	uint64_t ok = 0;
	int have_pkey = 0;

	if (ek) {
		el = ek->len;
		while (el && (ek->p[el - 1] == '\n'))
			el--;
		if (el <= NOTE_KEY_TEXT_MAX && note_verifier_parse((const char *)ek->p, el, &pkey) == LACRE_OK)
			have_pkey = 1;
		else
			verify_add_problem(v->res, "export.vkey", "not a vkey");
	}
	if (note_parse(ms->p, ms->len, &n) != LACRE_OK) {
		verify_add_problem(v->res, PACKAGE_SIGNATURE, "not a signed note (altered)");
		return;
	}
	/* text: magic, "package <id>", "manifest <hex>" */
	lacre_rbuf_init(&b, n->buf, n->text_len);
	if (vf_line(&b, &l) != LACRE_OK || !vf_is(lacre_rbuf_ptr(&l), lacre_rbuf_left(&l), "lacre-evidence/v1") ||
	    vf_line(&b, &l) != LACRE_OK || vf_tok(&l, &t, &tl) != LACRE_OK || !vf_is(t, tl, "package") ||
	    vf_tok(&l, &t, &tl) != LACRE_OK || vf_hex(t, tl, sh, 16, NULL) != LACRE_OK ||
	    vf_str(t, tl, v->res->package_id, sizeof(v->res->package_id)) != LACRE_OK ||
	    vf_line(&b, &l) != LACRE_OK || vf_tok(&l, &t, &tl) != LACRE_OK || !vf_is(t, tl, "manifest") ||
	    vf_tok(&l, &t, &tl) != LACRE_OK || vf_hex(t, tl, sh, 32, NULL) != LACRE_OK ||
	    lacre_rbuf_left(&b) != 0) {
		verify_add_problem(v->res, PACKAGE_SIGNATURE, "the signed statement is not "
				   "\"lacre-evidence/v1, package <id>, manifest <sha256>\" (altered)");
		note_free(n);
		return;
	}
	EVP_Digest(mm->p, mm->len, mh, NULL, EVP_sha256(), NULL);
	if (CRYPTO_memcmp(mh, sh, 32) != 0)
		verify_add_problem(v->res, PACKAGE_MANIFEST, "altered: its SHA-256 is not the one signed in manifest.sig");
	if (v->o->export_key) {
		key = *v->o->export_key;
		v->res->export_key_trusted = 1;
		if (have_pkey && (pkey.keyid != key.keyid || strcmp(pkey.name, key.name) ||
				  CRYPTO_memcmp(pkey.pub, key.pub, 32)))
			vf_note(v, "trust: the package's export.vkey (%s) is not the --export-vkey given: only the given key was used",
				pkey.name);
	} else if (have_pkey) {
		key = pkey;
		vf_note(v, "trust: no --export-vkey given: the manifest signature was checked with the "
			"package's own export.vkey (%s, key ID %08x), which proves consistency, not origin",
			key.name, key.keyid);
	} else {
		verify_add_problem(v->res, PACKAGE_SIGNATURE, "no export key to check it with (no --export-vkey, no export.vkey member)");
		note_free(n);
		return;
	}
	if (note_verify(n, &key, 1, &ok, NULL) != LACRE_OK || !(ok & 1))
		verify_add_problem(v->res, PACKAGE_SIGNATURE, "the signature does not verify with export key %s+%08x%s",
				   key.name, key.keyid, v->res->export_key_trusted ? " (--export-vkey)" : "");
	note_free(n);
}

/* ---- 2. manifest ---- */

/* Parse manifest.txt into v; problems for anything malformed. */
static int vf_manifest(struct vf *v)
{
	const struct package_member *mm = package_find(v->pk, PACKAGE_MANIFEST);
	struct lacre_rbuf b, l;
	const uint8_t *k, *t;
	size_t kl, tl, lineno = 1;
	char val[VF_LINE_MAX];
	int r, seen_magic = 0;
	uint64_t u;

	lacre_rbuf_init(&b, mm->p, mm->len);
	while ((r = vf_line(&b, &l)) == LACRE_OK) {
		const uint8_t *lp = lacre_rbuf_ptr(&l);
		size_t ll = lacre_rbuf_left(&l);
		if (!seen_magic) {
			if (!vf_is(lp, ll, "lacre-evidence/v1"))
				goto bad;
			seen_magic = 1;
			lineno++;
			continue;
		}
		if (vf_tok(&l, &k, &kl) != LACRE_OK)
			goto bad;
		if (vf_is(k, kl, "record") || vf_is(k, kl, "event")) {
			struct vf_record *rc;
			int is_ev = k[0] == 'e';
			if (vf_grow(is_ev ? (void **)&v->ev : (void **)&v->rec, is_ev ? &v->capev : &v->caprec,
				    is_ev ? v->nev : v->nrec, sizeof(*v->rec)) != LACRE_OK)
				return LACRE_E_NOMEM;
			rc = is_ev ? &v->ev[v->nev] : &v->rec[v->nrec];
			if (vf_tok(&l, &t, &tl) || vf_u64(t, tl, &rc->n) || vf_tok(&l, &t, &tl) ||
			    vf_str(t, tl, rc->segment, sizeof(rc->segment)) || vf_tok(&l, &t, &tl) ||
			    vf_u64(t, tl, &rc->index) || vf_tok(&l, &t, &tl) || vf_u64(t, tl, &rc->leaf) ||
			    vf_tok(&l, &t, &tl) || vf_hex(t, tl, rc->commit, 32, NULL))
				goto bad;
			/* the package log proving it (1-based): present in a
			 * multi-log package, absent in a single-log one */
			rc->log = 0;
			if (lacre_rbuf_left(&l)) {
				if (vf_tok(&l, &t, &tl) || vf_u64(t, tl, &u) || u < 1 || u > v->nlogs ||
				    v->nlogs < 2 || lacre_rbuf_left(&l))
					goto bad;
				rc->log = (size_t)u - 1;
			} else if (v->nlogs > 1) {
				goto bad;
			}
			if (is_ev)
				v->nev++;
			else
				v->nrec++;
		} else if (vf_is(k, kl, "member")) {
			struct vf_member *m;
			if (vf_grow((void **)&v->mem, &v->capmem, v->nmem, sizeof(*v->mem)) != LACRE_OK)
				return LACRE_E_NOMEM;
			m = &v->mem[v->nmem];
			if (vf_tok(&l, &t, &tl) || vf_hex(t, tl, m->sha, 32, NULL) || vf_tok(&l, &t, &tl) ||
			    vf_u64(t, tl, &m->size) || vf_tok(&l, &t, &tl) ||
			    vf_str(t, tl, m->name, sizeof(m->name)) || lacre_rbuf_left(&l))
				goto bad;
			v->nmem++;
		} else {
			/* "key value": the value is the rest of the line */
			if (vf_str(lacre_rbuf_ptr(&l), lacre_rbuf_left(&l), val, sizeof(val)) != LACRE_OK)
				goto bad;
			if (vf_is(k, kl, "warrant"))
				vf_set(v->warrant, sizeof(v->warrant), val);
			else if (vf_is(k, kl, "case"))
				vf_set(v->res->case_id, sizeof(v->res->case_id), val);
			else if (vf_is(k, kl, "court"))
				vf_set(v->res->court, sizeof(v->res->court), val);
			else if (vf_is(k, kl, "log")) {
				if (v->nlogs == VERIFY_MAX_LOGS)
					goto bad;
				vf_set(v->log[v->nlogs].origin, sizeof(v->log[0].origin), val);
				v->log[v->nlogs++].size = UINT64_MAX;
			} else if (vf_is(k, kl, "log-size") || vf_is(k, kl, "records") ||
				 vf_is(k, kl, "included") || vf_is(k, kl, "excluded")) {
				if (vf_u64((const uint8_t *)val, strlen(val), &u) != LACRE_OK)
					goto bad;
				if (k[0] == 'l') {
					/* follows its log line */
					if (!v->nlogs || v->log[v->nlogs - 1].size != UINT64_MAX)
						goto bad;
					v->log[v->nlogs - 1].size = u;
				}
				else if (k[0] == 'r')
					v->n_records = u;
				else if (k[0] == 'i')
					v->n_included = u;
				else
					v->n_excluded = u;
			} else if (vf_is(k, kl, "from") || vf_is(k, kl, "to")) {
				int64_t us = 0;
				if (strcmp(val, "open") && vf_time(val, &us) != LACRE_OK)
					goto bad;
				if (k[0] == 'f') {
					v->has_from = strcmp(val, "open") != 0;
					v->from_us = us;
				} else {
					v->has_to = strcmp(val, "open") != 0;
					v->to_us = us;
				}
			} else if (vf_is(k, kl, "exclude-record") || vf_is(k, kl, "exclude-range")) {
				if (v->nrules == VF_RULES_MAX || strlen(val) >= sizeof(v->rules[0].text))
					goto bad;
				v->rules[v->nrules].is_range = k[8] == 'r' && k[9] == 'a';
				vf_set(v->rules[v->nrules].text, sizeof(v->rules[0].text), val);
				v->nrules++;
			} else if (vf_is(k, kl, "absent")) {
				vf_note(v, "absent: %s", val);
			}
			/* other keys (package, created, site, unit, liid, ...) are
			 * statements shown as they are; the signature covers them */
		}
		lineno++;
	}
	if (r != LACRE_E_INCOMPLETE || !seen_magic)
		goto bad;
	snprintf(v->res->warrant, sizeof(v->res->warrant), "%s", v->warrant);
	if (!v->warrant[0] || !v->nlogs)
		verify_add_problem(v->res, PACKAGE_MANIFEST, "no warrant or log line");
	for (size_t i = 0; i < v->nlogs; i++)
		if (v->log[i].size == UINT64_MAX)
			verify_add_problem(v->res, PACKAGE_MANIFEST, "log %s has no log-size line",
					   v->log[i].origin);
	return LACRE_OK;
bad:
	verify_add_problem(v->res, PACKAGE_MANIFEST, "line %zu is malformed (altered)", lineno);
	return LACRE_E_MALFORMED;
}

/* The manifest's member list against the package's members. */
static void vf_members(struct vf *v)
{
	size_t i, n = v->pk->n - 2;
	uint8_t h[32];

	v->res->members = v->pk->n;
	for (i = 0; i < n || i < v->nmem; i++) {
		const struct package_member *pm = i < n ? &v->pk->m[i] : NULL;
		const struct vf_member *mm = i < v->nmem ? &v->mem[i] : NULL;
		if (!mm) {
			verify_add_problem(v->res, pm->name, "in the package but not in the manifest (added)");
			continue;
		}
		if (!pm || strcmp(pm->name, mm->name)) {
			const struct package_member *f = package_find(v->pk, mm->name);
			if (!f)
				verify_add_problem(v->res, mm->name, "listed in the manifest but missing from the package (removed)");
			else
				verify_add_problem(v->res, mm->name, "not at the place the manifest gives (members reordered)");
			continue;
		}
		if (pm->len != mm->size) {
			verify_add_problem(v->res, pm->name, "%zu bytes, the manifest says %llu (altered)", pm->len,
					   (unsigned long long)mm->size);
			continue;
		}
		EVP_Digest(pm->p, pm->len, h, NULL, EVP_sha256(), NULL);
		if (CRYPTO_memcmp(h, mm->sha, 32) != 0)
			verify_add_problem(v->res, pm->name, "altered: its SHA-256 differs from the manifest's");
	}
}

/* ---- 3. checkpoint ---- */

/* Whether a policy lists key k as a log key. */
static int vf_policy_lists(const struct policy *p, const struct note_verifier *k)
{
	for (size_t i = 0; i < p->nlogs; i++)
		if (p->log[i].keyid == k->keyid && !strcmp(p->log[i].name, k->name) &&
		    !CRYPTO_memcmp(p->log[i].pub, k->pub, 32))
			return 1;
	return 0;
}

/* The package's own copy of the vkey of log i (ingest.vkey: one line per
 * log, in the manifest's order; a single-log package's one line is its
 * log's), parsed into k.  1 when there is one that parses. */
static int vf_package_key(struct vf *v, size_t i, struct note_verifier *k)
{
	const struct package_member *vk = package_find(v->pk, "ingest.vkey");
	struct lacre_rbuf b, l;
	size_t n = 0;

	if (!vk)
		return 0;
	lacre_rbuf_init(&b, vk->p, vk->len);
	while (vf_line(&b, &l) == LACRE_OK) {
		if (n++ != i)
			continue;
		return lacre_rbuf_left(&l) <= NOTE_KEY_TEXT_MAX &&
		       note_verifier_parse((const char *)lacre_rbuf_ptr(&l), lacre_rbuf_left(&l), k) == LACRE_OK;
	}
	return 0;
}

/* The trusted key the caller gave for log origin: in a single-log package
 * the one key given (as before logs had names), else the key named by the
 * origin.  NULL when none. */
static const struct note_verifier *vf_trusted_key(struct vf *v, const char *origin)
{
	size_t n = v->o->nlog_keys + (v->o->log_key != NULL);

	if (v->nlogs == 1 && n == 1)
		return v->o->log_key ? v->o->log_key : &v->o->log_keys[0];
	if (v->o->log_key && !strcmp(v->o->log_key->name, origin))
		return v->o->log_key;
	for (size_t i = 0; i < v->o->nlog_keys; i++)
		if (!strcmp(v->o->log_keys[i].name, origin))
			return &v->o->log_keys[i];
	return NULL;
}

/* Verify the checkpoint member of log i ("checkpoint" for the first,
 * "logs/<i+1>.checkpoint" for the others) with the trusted key of its
 * origin or the policy (else, for consistency only, the package's own
 * key: never verified). */
static void vf_checkpoint(struct vf *v, size_t i)
{
	struct vf_log *lg = &v->log[i];
	const struct note_verifier *tk;
	const struct package_member *cm;
	struct note_verifier pkey;
	char cname[PACKAGE_NAME_MAX + 1];
	uint64_t cos = 0;
	size_t ncos;
	int have_pkey, r;

	if (i == 0)
		snprintf(cname, sizeof(cname), "checkpoint");
	else
		snprintf(cname, sizeof(cname), "logs/%zu.checkpoint", i + 1);
	cm = package_find(v->pk, cname);
	if (!(have_pkey = vf_package_key(v, i, &pkey)))
		verify_add_problem(v->res, "ingest.vkey", package_find(v->pk, "ingest.vkey")
				   ? "line %zu (the key of %s) is not a vkey (altered)" : "missing (line %zu, %s)",
				   i + 1, lg->origin);
	if (!cm) {
		verify_add_problem(v->res, cname, "missing");
		return;
	}
	if (v->o->policy) {
		/* a tlog-policy the court pins: a log key it lists for the
		 * checkpoint's origin, and its quorum of witnesses */
		r = policy_open_checkpoint(v->o->policy, cm->p, cm->len, &lg->cp, &cos);
		if (r != LACRE_OK) {
			verify_add_problem(v->res, cname, "does not verify under --policy (%s)",
					   r == LACRE_E_AUTH ? "no log key the policy lists for its origin signs "
					   "it, or its cosignatures do not meet the policy's quorum"
							     : "malformed checkpoint");
			return;
		}
		if (have_pkey && !vf_policy_lists(v->o->policy, &pkey))
			vf_note(v, "trust: the package's ingest.vkey of %s is not a log key of --policy: only "
				"the policy's keys were used", lg->origin);
		ncos = (size_t)__builtin_popcountll(cos);
		goto checked;
	}
	if ((tk = vf_trusted_key(v, lg->origin)) != NULL) {
		lg->key = *tk;
		if (have_pkey && (pkey.keyid != lg->key.keyid || CRYPTO_memcmp(pkey.pub, lg->key.pub, 32)))
			vf_note(v, "trust: the package's ingest.vkey of %s is not the --log-vkey given: only "
				"the given key was used", lg->origin);
	} else {
		/* fail closed: without a key the court supplies nothing is
		 * VERIFIED; the package's own key still shows whether the
		 * package is consistent, so every other problem is reported */
		v->res->log_key_trusted = 0;
		if (v->nlogs == 1)
			verify_add_problem(v->res, cname, "%s", VERIFY_NO_TRUSTED_KEY);
		else
			verify_add_problem(v->res, cname, "not verified: no trusted log key for %s (give "
					   "--log-vkey once per log, with each log's key as the court received "
					   "it from the site, or --policy)", lg->origin);
		if (!have_pkey)
			return;
		lg->key = pkey;
		vf_note(v, "trust: no --log-vkey for %s: its checkpoint was checked with the package's own "
			"ingest.vkey (%s+%08x) for consistency only: a package's own key is not trust",
			lg->origin, pkey.name, pkey.keyid);
	}
	r = checkpoint_open(cm->p, cm->len, &lg->key, v->o->witnesses, v->o->nw, &lg->cp, &cos);
	if (r != LACRE_OK) {
		verify_add_problem(v->res, cname, "the log signature does not verify with %s+%08x%s (%s)",
				   lg->key.name, lg->key.keyid, tk ? " (--log-vkey)" : " (the package's key)",
				   r == LACRE_E_AUTH ? "signature or cosignature altered, or another log"
						     : "malformed checkpoint");
		return;
	}
	ncos = (size_t)__builtin_popcountll(cos);
	if (ncos < v->o->quorum)
		verify_add_problem(v->res, cname, "cosigned by %zu of the trusted witnesses, the quorum is %zu",
				   ncos, v->o->quorum);
checked:
	if (i == 0 || ncos < v->res->cosignatures)
		v->res->cosignatures = ncos;
	if (i == 0) {
		snprintf(v->res->origin, sizeof(v->res->origin), "%s", lg->cp.origin);
		v->res->log_size = lg->cp.size;
	}
	snprintf(v->res->origins[i], sizeof(v->res->origins[i]), "%s", lg->cp.origin);
	v->res->log_sizes[i] = lg->cp.size;
	if (strcmp(lg->cp.origin, lg->origin) || lg->cp.size != lg->size)
		verify_add_problem(v->res, PACKAGE_MANIFEST, "its log line or log-size does not match the checkpoint (%s, %llu)",
				   lg->cp.origin, (unsigned long long)lg->cp.size);
	for (size_t j = 0; j < i; j++)
		if (!strcmp(v->log[j].origin, lg->origin))
			verify_add_problem(v->res, PACKAGE_MANIFEST, "log %s is named twice", lg->origin);
	lg->cp_ok = 1;
	lg->cp_note = cm->p;
	lg->cp_len = cm->len;
}

/* Every log's checkpoint; the result's trust flag is set only when each
 * was checked with a key (or policy) the caller gave. */
static void vf_checkpoints(struct vf *v)
{
	v->res->log_key_trusted = v->nlogs > 0;
	v->res->nlogs = v->nlogs;
	for (size_t i = 0; i < v->nlogs; i++)
		vf_checkpoint(v, i);
	/* a key the court gave for a log this package does not name */
	for (size_t k = 0; k < v->o->nlog_keys + (v->o->log_key != NULL); k++) {
		const struct note_verifier *tk = k < v->o->nlog_keys ? &v->o->log_keys[k] : v->o->log_key;
		size_t i;
		if (v->o->policy || (v->nlogs == 1 && v->o->nlog_keys + (v->o->log_key != NULL) == 1))
			break;
		for (i = 0; i < v->nlogs && strcmp(v->log[i].origin, tk->name); i++)
			;
		if (i == v->nlogs)
			vf_note(v, "trust: --log-vkey %s+%08x names no log of this package: not used",
				tk->name, tk->keyid);
	}
}

/* Verify the proof of one record, event or exclusion: base is its member
 * name without the suffix ("records/00000001").  A record of a v2 segment
 * (one ledger leaf per segment) has base.segment-proof: it must carry a v2
 * entry naming the manifest's segment, prove the record's index in it and
 * take the commitment to its records root; the tlog-proof then proves the
 * entry's leaf.  Without it (a v1 segment) the tlog-proof proves the
 * commitment's own leaf.  leaf is the manifest's; li the package log that
 * proves it (the manifest's), or -1 (an exclusion: the log whose checkpoint
 * the receipt carries, else the first). */
static void vf_receipt(struct vf *v, const char *base, const char *segment, uint64_t index,
		       const uint8_t commit[32], uint64_t leaf, long li)
{
	struct vf_log *lg;
	static struct segment_proof sp;
	const struct package_member *m, *spm;
	struct receipt rc;
	struct checkpoint other;
	uint8_t lh[MERKLE_HASH_LEN];
	char name[PACKAGE_NAME_MAX + 1], spname[PACKAGE_NAME_MAX + 1];
	int v2 = 0;

	snprintf(name, sizeof(name), "%s.tlog-proof", base);
	snprintf(spname, sizeof(spname), "%s.segment-proof", base);
	m = package_find(v->pk, name);
	if ((spm = package_find(v->pk, spname)) != NULL) {
		if (segment_proof_parse(spm->p, spm->len, &sp) != LACRE_OK) {
			verify_add_problem(v->res, spname, "not a lacre-segment-proof/v1 file (altered)");
			return;
		}
		if (strcmp(sp.seg.name, segment) != 0) {
			verify_add_problem(v->res, spname, "its segment entry names %s, the manifest says %s",
					   sp.seg.name, segment);
			return;
		}
		if (sp.index != index) {
			verify_add_problem(v->res, spname, "proves record %llu of its segment, the manifest says %llu",
					   (unsigned long long)sp.index, (unsigned long long)index);
			return;
		}
		if (segment_proof_verify(&sp, commit) != LACRE_OK) {
			verify_add_problem(v->res, spname, "the path does not take commitment %02x%02x%02x%02x... "
					   "(record %llu of %llu) to the records root of %s (a proof hash was altered)",
					   commit[0], commit[1], commit[2], commit[3], (unsigned long long)index,
					   (unsigned long long)sp.n, segment);
			return;
		}
		v2 = 1;
	}
	if (!m) {
		verify_add_problem(v->res, name, "missing");
		return;
	}
	if (receipt_parse(m->p, m->len, &rc) != LACRE_OK) {
		verify_add_problem(v->res, name, "not a tlog-proof receipt (altered)");
		return;
	}
	if (rc.index != leaf) {
		verify_add_problem(v->res, name, "proves leaf %llu, the manifest says %llu",
				   (unsigned long long)rc.index, (unsigned long long)leaf);
		return;
	}
	if (!v->nlogs)
		return;   /* the manifest's problem, said already */
	if (li < 0) {
		li = 0;
		for (size_t i = 0; i < v->nlogs; i++)
			if (v->log[i].cp_ok && rc.cp_len == v->log[i].cp_len &&
			    !memcmp(rc.cp, v->log[i].cp_note, rc.cp_len))
				li = (long)i;
	}
	lg = &v->log[li];
	if (v2) {
		merkle_leaf_hash(sp.entry, sp.entry_len, lh);
		if (lg->cp_ok && rc.cp_len == lg->cp_len && !memcmp(rc.cp, lg->cp_note, lg->cp_len)) {
			if (merkle_verify_inclusion(rc.index, lg->cp.size, lh, &rc.proof, lg->cp.root) != LACRE_OK)
				verify_add_problem(v->res, name, "the inclusion proof does not take the entry of "
						   "segment %s at leaf %llu to the checkpoint's root (a proof hash "
						   "or the entry was altered)", segment, (unsigned long long)leaf);
			return;
		}
		goto other;
	}
	merkle_leaf_hash(commit, 32, lh);
	if (lg->cp_ok && rc.cp_len == lg->cp_len && !memcmp(rc.cp, lg->cp_note, lg->cp_len)) {
		if (merkle_verify_inclusion(rc.index, lg->cp.size, lh, &rc.proof, lg->cp.root) != LACRE_OK)
			verify_add_problem(v->res, name, "the inclusion proof does not take commitment %02x%02x%02x%02x... "
					   "at leaf %llu to the checkpoint's root (a proof hash was altered)",
					   commit[0], commit[1], commit[2], commit[3], (unsigned long long)leaf);
		return;
	}
other:
	/* a receipt against another checkpoint: verify it on its own */
	if (v->o->policy ? receipt_verify_policy(&rc, lh, v->o->policy, &other) != LACRE_OK
			 : receipt_verify(&rc, lh, &lg->key, v->o->witnesses, v->o->nw, v->o->quorum,
					  &other) != LACRE_OK)
		verify_add_problem(v->res, name, "its checkpoint differs from the package's of %s and it does not "
				   "verify (signature, quorum or proof)", lg->origin);
	else if (strcmp(other.origin, lg->origin))
		verify_add_problem(v->res, name, "its checkpoint is of %s, the manifest says %s proves it",
				   other.origin, lg->origin);
}

/* ---- 4. records ---- */

/* Whether the PDU (its pre-encryption form when the record carries one,
 * checked against it: record_pdu.h) re-decodes to the frame's index
 * fields; NULL if so, else the name of the first field that differs
 * (*pre_bad = 1: what makes the pre-encryption form inconsistent). */
static const char *vf_pdu_fields(const struct frame_record *r, struct record_pdu *v,
				 int *pre_bad)
{
	const struct etsi_pdu *dp = &v->pdu;
	int dir, rr;

	*pre_bad = 0;
	if ((rr = record_pdu_decode(r, v)) == LACRE_E_VERIFY) {
		*pre_bad = 1;
		return v->why;
	}
	if (rr != LACRE_OK)
		return "the PDU does not decode";
	if (dp->liid.len != r->liid.len || (dp->liid.len && memcmp(dp->liid.p, r->liid.p, dp->liid.len)))
		return "liid";
	if ((dp->has_cin ? 1 : 0) != r->has_cin || (dp->has_cin && dp->cin != r->cin))
		return "cin";
	if (dp->seq != r->seq)
		return "seq";
	if ((uint8_t)dp->kind != r->kind)
		return "kind";
	if ((uint8_t)dp->has_time != r->time_kind || (dp->has_time && dp->time_us != r->time_us))
		return "time";
	if ((uint8_t)dp->iri_type != r->iri_type)
		return "iri_type";
	dir = dp->direction >= 0 && dp->direction <= 254 ? dp->direction : FRAME_DIRECTION_NONE;
	if (dir != r->direction)
		return "direction";
	if ((dp->content ? strlen(dp->content) : 0) != r->content.len ||
	    (r->content.len && memcmp(dp->content, r->content.p, r->content.len)))
		return "content";
	return NULL;
}

/* Check every record of the manifest; fills the completeness items. */
static int vf_records(struct vf *v, struct completeness_item *items, uint8_t *seen)
{
	const struct package_member *jl = package_find(v->pk, "records.jsonl");
	struct lacre_rbuf jb, line;
	struct lacre_dbuf js;
	struct record_pdu rv;
	struct json_w w;
	char name[48];
	size_t i, lineno = 0;
	int r;

	lacre_dbuf_init(&js, FRAME_BODY_MAX * 2 + 65536);
	record_pdu_init(&rv);
	if (jl)
		lacre_rbuf_init(&jb, jl->p, jl->len);
	else
		verify_add_problem(v->res, "records.jsonl", "missing");
	for (i = 0; i < v->nrec; i++) {
		const struct vf_record *rc = &v->rec[i];
		const struct package_member *pm, *fm, *pre;
		struct frame_record fr;
		struct lacre_rbuf body;
		struct access_record ar;
		uint8_t h[32];
		const char *bad;
		int64_t t;
		int pre_bad;

		if (rc->n == 0 || rc->n > v->n_records) {
			verify_add_problem(v->res, PACKAGE_MANIFEST, "record %llu is outside the export sequence 1..%llu",
					   (unsigned long long)rc->n, (unsigned long long)v->n_records);
			continue;
		}
		if (seen[rc->n - 1]++) {
			verify_add_problem(v->res, PACKAGE_MANIFEST, "record %llu is listed twice", (unsigned long long)rc->n);
			continue;
		}
		snprintf(name, sizeof(name), "records/%08llu.frame", (unsigned long long)rc->n);
		fm = package_find(v->pk, name);
		snprintf(name, sizeof(name), "records/%08llu.pdu", (unsigned long long)rc->n);
		pm = package_find(v->pk, name);
		if (jl) {
			lineno++;
			if (vf_line(&jb, &line) != LACRE_OK) {
				verify_add_problem(v->res, "records.jsonl", "has no line %zu for record %llu (lines removed)",
						   lineno, (unsigned long long)rc->n);
				jl = NULL;
			}
		}
		snprintf(name, sizeof(name), "records/%08llu.frame", (unsigned long long)rc->n);
		if (!fm || !pm) {
			verify_add_problem(v->res, name, "record %llu: %s member missing",
					   (unsigned long long)rc->n, fm ? "its .pdu" : "its .frame");
			continue;
		}
		EVP_Digest(fm->p, fm->len, h, NULL, EVP_sha256(), NULL);
		if (CRYPTO_memcmp(h, rc->commit, 32) != 0)
			verify_add_problem(v->res, name, "its SHA-256 is not the record's commitment in the manifest "
					   "(the frame was altered)");
		lacre_rbuf_init(&body, fm->p, fm->len);
		if ((r = frame_record_decode_body(body, &fr)) != LACRE_OK) {
			verify_add_problem(v->res, name, "not a valid record frame body: %s", lacre_strerror(r));
			continue;
		}
		snprintf(name, sizeof(name), "records/%08llu.pdu", (unsigned long long)rc->n);
		if (pm->len != fr.pdu.len || CRYPTO_memcmp(pm->p, fr.pdu.p, pm->len) != 0)
			verify_add_problem(v->res, name, "differs from the PDU sealed in its frame (the PDU was altered)");
		if ((bad = vf_pdu_fields(&fr, &rv, &pre_bad)) != NULL && pre_bad)
			verify_add_problem(v->res, name, "its pre-encryption form is not the PDU's: %s", bad);
		else if (bad)
			verify_add_problem(v->res, name, "the PDU does not re-decode to its frame's fields: %s differs", bad);
		if (fr.pre.len) {
			/* the pre-encryption form travels beside the PDU */
			snprintf(name, sizeof(name), "records/%08llu.pre", (unsigned long long)rc->n);
			pre = package_find(v->pk, name);
			if (!pre)
				verify_add_problem(v->res, name, "missing (the record's frame carries a pre-encryption form)");
			else if (pre->len != fr.pre.len || CRYPTO_memcmp(pre->p, fr.pre.p, pre->len) != 0)
				verify_add_problem(v->res, name, "differs from the pre-encryption form sealed in its frame "
						   "(altered)");
			else
				v->res->decrypted++;
		}
		if (fr.route != FRAME_ROUTE_WARRANT || fr.warrant.len != strlen(v->warrant) ||
		    memcmp(fr.warrant.p, v->warrant, fr.warrant.len))
			verify_add_problem(v->res, name, "the record was not sealed to warrant %s", v->warrant);
		t = fr.time_kind ? fr.time_us : fr.recv_us;
		if ((v->has_from && t < v->from_us) || (v->has_to && t >= v->to_us))
			verify_add_problem(v->res, name, "its time is outside the export window");
		snprintf(name, sizeof(name), "records/%08llu", (unsigned long long)rc->n);
		vf_receipt(v, name, rc->segment, rc->index, rc->commit, rc->leaf, (long)rc->log);
		if (jl) {
			ar.rec = &fr;
			ar.segment = rc->segment;
			ar.index = rc->index;
			lacre_dbuf_reset(&js);
			json_init(&w, &js);
			access_record_json(&w, &ar);
			if (json_finish(&w) != LACRE_OK || js.len != lacre_rbuf_left(&line) ||
			    memcmp(js.p, lacre_rbuf_ptr(&line), js.len) != 0)
				verify_add_problem(v->res, "records.jsonl", "line %zu (record %llu) is not the record's "
						   "decoded form (the JSON was altered)", lineno, (unsigned long long)rc->n);
		}
		items[rc->n - 1].liid = fr.liid.p;
		items[rc->n - 1].liid_len = fr.liid.len;
		items[rc->n - 1].has_cin = fr.has_cin;
		items[rc->n - 1].cin = fr.cin;
		items[rc->n - 1].kind = fr.kind;
		items[rc->n - 1].seq = fr.seq;
		items[rc->n - 1].time_us = t;
		items[rc->n - 1].excluded = 0;
		v->res->pdu_bytes += fr.pdu.len;
	}
	if (jl && lacre_rbuf_left(&jb))
		verify_add_problem(v->res, "records.jsonl", "has lines after the last record (lines added)");
	lacre_dbuf_free(&js);
	record_pdu_free(&rv);
	return LACRE_OK;
}

/* The receiver's accounting events (sealed to oversight), when the export
 * has them: each frame is an event record whose commitment the manifest
 * lists and whose receipt proves it; events.jsonl holds their JSON lines. */
static void vf_events(struct vf *v)
{
	const struct package_member *jl = package_find(v->pk, "events.jsonl");
	struct lacre_rbuf jb, line;
	struct lacre_dbuf js;
	struct json_w w;
	char name[48];
	size_t i;

	if (!jl) {
		if (v->nev)
			verify_add_problem(v->res, "events.jsonl", "missing (the manifest lists %zu events)", v->nev);
		return;
	}
	lacre_dbuf_init(&js, FRAME_BODY_MAX * 2 + 65536);
	lacre_rbuf_init(&jb, jl->p, jl->len);
	for (i = 0; i < v->nev; i++) {
		const struct vf_record *e = &v->ev[i];
		const struct package_member *fm;
		struct frame_record fr;
		struct lacre_rbuf body;
		struct access_record ar;
		uint8_t h[32];

		snprintf(name, sizeof(name), "events/%08llu.frame", (unsigned long long)e->n);
		if (e->n != i + 1) {
			verify_add_problem(v->res, PACKAGE_MANIFEST, "event %llu is out of order", (unsigned long long)e->n);
			break;
		}
		if (vf_line(&jb, &line) != LACRE_OK) {
			verify_add_problem(v->res, "events.jsonl", "has no line %zu (lines removed)", i + 1);
			break;
		}
		if ((fm = package_find(v->pk, name)) == NULL) {
			verify_add_problem(v->res, name, "missing");
			continue;
		}
		EVP_Digest(fm->p, fm->len, h, NULL, EVP_sha256(), NULL);
		if (CRYPTO_memcmp(h, e->commit, 32) != 0)
			verify_add_problem(v->res, name, "its SHA-256 is not the event's commitment in the manifest (altered)");
		lacre_rbuf_init(&body, fm->p, fm->len);
		if (frame_record_decode_body(body, &fr) != LACRE_OK || fr.route != FRAME_ROUTE_QUARANTINE ||
		    fr.reason.len != 5 || memcmp(fr.reason.p, "event", 5)) {
			verify_add_problem(v->res, name, "not an accounting event frame");
			continue;
		}
		snprintf(name, sizeof(name), "events/%08llu", (unsigned long long)e->n);
		vf_receipt(v, name, e->segment, e->index, e->commit, e->leaf, (long)e->log);
		ar.rec = &fr;
		ar.segment = e->segment;
		ar.index = e->index;
		lacre_dbuf_reset(&js);
		json_init(&w, &js);
		access_record_json(&w, &ar);
		if (json_finish(&w) != LACRE_OK || js.len != lacre_rbuf_left(&line) ||
		    memcmp(js.p, lacre_rbuf_ptr(&line), js.len) != 0)
			verify_add_problem(v->res, "events.jsonl", "line %zu is not the sealed event (altered)", i + 1);
	}
	if (i == v->nev && lacre_rbuf_left(&jb))
		verify_add_problem(v->res, "events.jsonl", "has lines after the last event (lines added)");
	lacre_dbuf_free(&js);
}

/* ---- 5. exclusions ---- */

/* Value of "key=" token t into v (without the key). */
static int vf_kv(struct lacre_rbuf *l, const char *key, const uint8_t **val, size_t *n)
{
	const uint8_t *t;
	size_t tl, kl = strlen(key);

	if (vf_tok(l, &t, &tl) != LACRE_OK || tl <= kl || memcmp(t, key, kl) || t[kl] != '=')
		return LACRE_E_MALFORMED;
	*val = t + kl + 1;
	*n = tl - kl - 1;
	return LACRE_OK;
}

/* Whether an excluded record's stated time lies in the range rule
 * "T1/T2" (the forms of warrant_time_parse that the exporter accepts:
 * a date, or a time with an optional fraction, always UTC). */
static int vf_in_range(const struct vf_excl *e, const char *rule)
{
	char a[64], b[64];
	const char *slash = strchr(rule, '/');
	int64_t from, to;
	size_t la;

	if (!slash || !e->has_time || (la = (size_t)(slash - rule)) >= sizeof(a) || strlen(slash + 1) >= sizeof(b))
		return 0;
	memcpy(a, rule, la);
	a[la] = 0;
	snprintf(b, sizeof(b), "%s", slash + 1);
	/* a bare date is midnight UTC */
	if (strlen(a) == 10)
		snprintf(a + 10, sizeof(a) - 10, "%s", "T00:00:00Z");
	if (strlen(b) == 10)
		snprintf(b + 10, sizeof(b) - 10, "%s", "T00:00:00Z");
	if (vf_time(a, &from) != LACRE_OK || vf_time(b, &to) != LACRE_OK)
		return 0;
	return e->time_us >= from && e->time_us < to;
}

/* Parse and check exclusions.txt. */
static int vf_exclusions(struct vf *v, struct completeness_item *items, uint8_t *seen)
{
	const struct package_member *em = package_find(v->pk, "exclusions.txt");
	struct lacre_rbuf b, l;
	const uint8_t *t;
	size_t tl, lineno = 1, i;
	char name[48], tbuf[64];
	uint64_t u;

	if (!em) {
		verify_add_problem(v->res, "exclusions.txt", "missing");
		return LACRE_OK;
	}
	lacre_rbuf_init(&b, em->p, em->len);
	if (vf_line(&b, &l) != LACRE_OK || !vf_is(lacre_rbuf_ptr(&l), lacre_rbuf_left(&l), "lacre-exclusions/v1")) {
		verify_add_problem(v->res, "exclusions.txt", "does not start with lacre-exclusions/v1 (altered)");
		return LACRE_OK;
	}
	while (vf_line(&b, &l) == LACRE_OK) {
		struct vf_excl *e;
		lineno++;
		if (vf_grow((void **)&v->ex, &v->capex, v->nex, sizeof(*v->ex)) != LACRE_OK)
			return LACRE_E_NOMEM;
		e = &v->ex[v->nex];
		memset(e, 0, sizeof(*e));
		if (vf_tok(&l, &t, &tl) || !vf_is(t, tl, "excluded") ||
		    vf_kv(&l, "n", &t, &tl) || vf_u64(t, tl, &e->n) ||
		    vf_kv(&l, "segment", &t, &tl) || vf_str(t, tl, e->segment, sizeof(e->segment)) ||
		    vf_kv(&l, "index", &t, &tl) || vf_u64(t, tl, &e->index) ||
		    vf_kv(&l, "leaf", &t, &tl) || vf_u64(t, tl, &e->leaf) ||
		    vf_kv(&l, "commitment", &t, &tl) || vf_hex(t, tl, e->commit, 32, NULL) ||
		    vf_kv(&l, "liid", &t, &tl) ||
		    (!vf_is(t, tl, "-") && vf_hex(t, tl, e->liid, sizeof(e->liid), &e->liid_len)) ||
		    vf_kv(&l, "cin", &t, &tl))
			goto bad;
		if (!vf_is(t, tl, "-")) {
			if (vf_u64(t, tl, &u) || u > UINT32_MAX)
				goto bad;
			e->has_cin = 1;
			e->cin = (uint32_t)u;
		}
		if (vf_kv(&l, "kind", &t, &tl) || vf_u64(t, tl, &u) || u > 255)
			goto bad;
		e->kind = (unsigned)u;
		if (vf_kv(&l, "seq", &t, &tl) || vf_u64(t, tl, &e->seq) || vf_kv(&l, "time", &t, &tl))
			goto bad;
		if (!vf_is(t, tl, "-")) {
			if (vf_str(t, tl, tbuf, sizeof(tbuf)) || vf_time(tbuf, &e->time_us))
				goto bad;
			e->has_time = 1;
		}
		if (vf_kv(&l, "by", &t, &tl) || !(vf_is(t, tl, "range") || vf_is(t, tl, "record")))
			goto bad;
		e->by_range = t[1] == 'a';
		/* rule=<the rest of the line> */
		t = lacre_rbuf_ptr(&l);
		tl = lacre_rbuf_left(&l);
		if (tl < 6 || memcmp(t, "rule=", 5) || vf_str(t + 5, tl - 5, e->rule, sizeof(e->rule)))
			goto bad;
		v->nex++;
		/* the checks */
		if (e->n == 0 || e->n > v->n_records) {
			verify_add_problem(v->res, "exclusions.txt", "line %zu: n=%llu is outside 1..%llu", lineno,
					   (unsigned long long)e->n, (unsigned long long)v->n_records);
			continue;
		}
		if (seen[e->n - 1]++) {
			verify_add_problem(v->res, "exclusions.txt", "line %zu: record %llu is both included and excluded "
					   "(or excluded twice)", lineno, (unsigned long long)e->n);
			continue;
		}
		snprintf(name, sizeof(name), "records/%08llu.pdu", (unsigned long long)e->n);
		if (package_find(v->pk, name))
			verify_add_problem(v->res, name, "the content of excluded record %llu is in the package",
					   (unsigned long long)e->n);
		for (i = 0; i < v->nrules; i++)
			if (!strcmp(v->rules[i].text, e->rule) && v->rules[i].is_range == e->by_range)
				break;
		if (i == v->nrules) {
			verify_add_problem(v->res, "exclusions.txt", "line %zu: rule '%s' is not one the manifest states",
					   lineno, e->rule);
		} else {
			char want[120];
			v->rules[i].used = 1;
			snprintf(want, sizeof(want), "%s:%llu", e->segment, (unsigned long long)e->index);
			if (!e->by_range && strcmp(want, e->rule) && strcmp(want + 4, e->rule))
				verify_add_problem(v->res, "exclusions.txt", "line %zu: record %s is not the one rule '%s' names",
						   lineno, want, e->rule);
			if (e->by_range && !vf_in_range(e, e->rule))
				verify_add_problem(v->res, "exclusions.txt", "line %zu: record %s's time is not inside "
						   "the range '%s' it is excluded by", lineno, want, e->rule);
		}
		snprintf(name, sizeof(name), "excluded/%08llu", (unsigned long long)e->n);
		vf_receipt(v, name, e->segment, e->index, e->commit, e->leaf, -1);
		items[e->n - 1].liid = e->liid;
		items[e->n - 1].liid_len = e->liid_len;
		items[e->n - 1].has_cin = e->has_cin;
		items[e->n - 1].cin = e->cin;
		items[e->n - 1].kind = (uint8_t)e->kind;
		items[e->n - 1].seq = e->seq;
		items[e->n - 1].time_us = e->time_us;
		items[e->n - 1].excluded = 1;
		lacre_dbuf_printf(&v->res->excl, "record %llu (%s:%llu) leaf %llu commitment ",
				  (unsigned long long)e->n, e->segment, (unsigned long long)e->index,
				  (unsigned long long)e->leaf);
		for (i = 0; i < 32; i++)
			lacre_dbuf_printf(&v->res->excl, "%02x", e->commit[i]);
		lacre_dbuf_printf(&v->res->excl, " seq %llu excluded by %s %s\n", (unsigned long long)e->seq,
				  e->by_range ? "range" : "record", e->rule);
	}
	if (lacre_rbuf_left(&b))
		verify_add_problem(v->res, "exclusions.txt", "the last line has no newline (altered)");
	for (i = 0; i < v->nrules; i++)
		if (!v->rules[i].used)
			verify_add_problem(v->res, "exclusions.txt", "the manifest's exclusion '%s' excluded no listed record",
					   v->rules[i].text);
	return LACRE_OK;
bad:
	verify_add_problem(v->res, "exclusions.txt", "line %zu is malformed (altered)", lineno);
	return LACRE_OK;
}

/* ---- 6. sequence, uniqueness, completeness ---- */

/* Commitment comparator for the duplicate check. */
static int vf_cmp32(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Everything after the member list (steps 3-6). */
static int vf_content(struct vf *v)
{
	struct completeness_item *items = NULL;
	uint8_t *seen = NULL, (*all)[32] = NULL;
	const struct package_member *cm = package_find(v->pk, "completeness.json");
	struct lacre_dbuf rep;
	size_t i, na = 0;
	int r = LACRE_OK;

	lacre_dbuf_init(&rep, (size_t)1 << 32);
	/* every record of the sequence has at least one member (its receipt):
	 * a larger claim is refused before anything is sized from it */
	if (v->n_records > v->pk->n) {
		verify_add_problem(v->res, PACKAGE_MANIFEST, "claims %llu records", (unsigned long long)v->n_records);
		goto out;
	}
	items = calloc(v->n_records + 1, sizeof(*items));
	seen = calloc(v->n_records + 1, 1);
	all = malloc((v->nrec + v->n_records + 1) * 32);
	if (!items || !seen || !all) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	vf_checkpoints(v);
	if ((r = vf_records(v, items, seen)) != LACRE_OK || (r = vf_exclusions(v, items, seen)) != LACRE_OK)
		goto out;
	vf_events(v);
	v->res->events = v->nev;
	v->res->records = v->n_records;
	v->res->included = v->nrec;
	v->res->excluded = v->nex;
	if (v->nrec != v->n_included || v->nex != v->n_excluded || v->nrec + v->nex != v->n_records)
		verify_add_problem(v->res, PACKAGE_MANIFEST, "counts %llu included + %llu excluded = %llu records, "
				   "but it lists %zu records and exclusions.txt %zu",
				   (unsigned long long)v->n_included, (unsigned long long)v->n_excluded,
				   (unsigned long long)v->n_records, v->nrec, v->nex);
	for (i = 0; i < v->n_records; i++)
		if (!seen[i]) {
			verify_add_problem(v->res, PACKAGE_MANIFEST, "record %zu of the export sequence is neither "
					   "included nor listed as excluded (silently left out)", i + 1);
			items[i].kind = 0;
		}
	for (i = 0; i < v->nrec; i++)
		memcpy(all[na++], v->rec[i].commit, 32);
	for (i = 0; i < v->nex && na < v->nrec + v->n_records + 1; i++)
		memcpy(all[na++], v->ex[i].commit, 32);
	qsort(all, na, 32, vf_cmp32);
	for (i = 1; i < na; i++)
		if (!memcmp(all[i], all[i - 1], 32)) {
			verify_add_problem(v->res, PACKAGE_MANIFEST, "a commitment appears twice (one record counted twice)");
			break;
		}
	if (!cm) {
		verify_add_problem(v->res, "completeness.json", "missing");
	} else if ((r = package_completeness(items, (size_t)v->n_records, &rep)) != LACRE_OK) {
		goto out;
	} else if (rep.len != cm->len || memcmp(rep.p, cm->p, rep.len) != 0) {
		size_t k = 0;
		while (k < rep.len && k < cm->len && rep.p[k] == cm->p[k])
			k++;
		verify_add_problem(v->res, "completeness.json", "differs from the report recomputed from the records "
				   "and exclusions (first difference at byte %zu): the report was altered", k);
	}
	{
		const struct package_member *mm = package_find(v->pk, "media.txt");
		uint64_t wav = 0, pcap = 0;
		for (i = 0; mm && i + 4 < mm->len; i++)
			if (i == 0 || mm->p[i - 1] == '\n') {
				wav += !memcmp(mm->p + i, "wav ", 4);
				pcap += !memcmp(mm->p + i, "pcap ", 5);
			}
		if (mm)
			vf_note(v, "renderings: %llu WAV and %llu pcap members (media.txt), derived from the PDUs "
				"by lacre; they are covered by the signed manifest but not re-derived here: "
				"the PDUs are the evidence", (unsigned long long)wav, (unsigned long long)pcap);
	}
	if (!package_find(v->pk, "access-report.txt"))
		verify_add_problem(v->res, "access-report.txt", "missing");
out:
	lacre_dbuf_free(&rep);
	free(items);
	free(seen);
	free(all);
	return r;
}

/* Verify a package (see verify.h). */
int verify_package(const struct package *pk, const struct verify_opts *o, struct verify_result *res)
{
	struct vf *v;
	int r = LACRE_OK;

	lacre_dbuf_init(&res->excl, (size_t)1 << 30);
	lacre_dbuf_init(&res->notes, (size_t)1 << 20);
	res->verified = 1;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return LACRE_E_NOMEM;
	v->pk = pk;
	v->o = o;
	v->res = res;
	vf_signature(v);
	if (vf_manifest(v) == LACRE_OK) {
		vf_members(v);
		r = vf_content(v);
	}
	if (res->problems)
		res->verified = 0;
	free(v->rec);
	free(v->ev);
	free(v->mem);
	free(v->ex);
	free(v);
	return r;
}

/* Lines of a text buffer as a JSON array of strings. */
static void vf_json_lines(struct json_w *w, const struct lacre_dbuf *d)
{
	size_t s = 0;

	json_arr_begin(w);
	for (size_t i = 0; i < d->len; i++)
		if (d->p[i] == '\n') {
			json_strn(w, d->p + s, i - s);
			s = i + 1;
		}
	json_arr_end(w);
}

/* The result as JSON. */
void verify_result_json(struct json_w *w, const struct verify_result *res)
{
	json_obj_begin(w);
	json_kv_bool(w, "verified", res->verified);
	json_kv_str(w, "package", res->package_id);
	json_kv_str(w, "warrant", res->warrant);
	json_kv_str(w, "case", res->case_id);
	json_kv_str(w, "court", res->court);
	json_key(w, "log");
	json_obj_begin(w);
	json_kv_str(w, "origin", res->origin);
	json_kv_uint(w, "size", res->log_size);
	json_kv_bool(w, "key_trusted", res->log_key_trusted);
	json_kv_uint(w, "cosignatures", res->cosignatures);
	json_obj_end(w);
	/* every log the package names (the first is "log" above) */
	json_key(w, "logs");
	json_arr_begin(w);
	for (size_t i = 0; i < res->nlogs && i < VERIFY_MAX_LOGS; i++) {
		json_obj_begin(w);
		json_kv_str(w, "origin", res->origins[i]);
		json_kv_uint(w, "size", res->log_sizes[i]);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_kv_bool(w, "export_key_trusted", res->export_key_trusted);
	json_kv_uint(w, "members", res->members);
	json_kv_uint(w, "records", res->records);
	json_kv_uint(w, "included", res->included);
	json_kv_uint(w, "excluded", res->excluded);
	json_kv_uint(w, "events", res->events);
	json_kv_uint(w, "pdu_bytes", res->pdu_bytes);
	json_kv_uint(w, "decrypted", res->decrypted);
	json_key(w, "exclusions");
	vf_json_lines(w, &res->excl);
	json_key(w, "notes");
	vf_json_lines(w, &res->notes);
	json_kv_uint(w, "problems", res->problems);
	json_key(w, "problem_list");
	json_arr_begin(w);
	for (size_t i = 0; i < res->nproblem; i++) {
		json_obj_begin(w);
		json_kv_str(w, "member", res->problem[i].member);
		json_kv_str(w, "problem", res->problem[i].what);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_obj_end(w);
}

/* The readable report (see verify.h): lacre-verify prints it, and lacre
 * export prints it for its self-check, so both say the same lines.  Every
 * append is checked; the first failure is returned. */
int verify_result_text(const struct verify_result *res, const char *path, const char *log_trust,
		       const char *export_trust, struct lacre_dbuf *out)
{
	size_t i;
	int r = LACRE_OK;

#define VT(...) do { if (r == LACRE_OK) r = lacre_dbuf_printf(out, __VA_ARGS__); } while (0)
	VT("package   %s (%s)\n", path, res->package_id[0] ? res->package_id : "?");
	VT("warrant   %s  case %s  court %s\n", res->warrant, res->case_id, res->court);
	VT("log       %s at size %llu, log key %s, %zu trusted cosignature(s)\n", res->origin,
	   (unsigned long long)res->log_size,
	   !res->log_key_trusted ? "FROM THE PACKAGE ITSELF (not trust, not verified)" : log_trust,
	   res->cosignatures);
	for (i = 1; i < res->nlogs && i < VERIFY_MAX_LOGS; i++)
		VT("log       %s at size %llu\n", res->origins[i][0] ? res->origins[i] : "?",
		   (unsigned long long)res->log_sizes[i]);
	VT("manifest  signed by the export key %s\n",
	   res->export_key_trusted ? export_trust : "in the package (not trust)");
	VT("records   %llu in the export: %llu included (%llu PDU bytes), %llu excluded\n",
	   (unsigned long long)res->records, (unsigned long long)res->included,
	   (unsigned long long)res->pdu_bytes, (unsigned long long)res->excluded);
	if (res->decrypted)
		VT("decrypted %llu records were encrypted in transit (TS 102 232-1 Annex G): the receiver sealed each one's\n"
		   "          pre-encryption form beside it; checked against the PDU, covered by the record commitment\n",
		   (unsigned long long)res->decrypted);
	if (res->events)
		VT("events    %llu accounting events of the receiver (sealed to oversight), each proven in the log\n",
		   (unsigned long long)res->events);
	if (res->excl.len) {
		VT("excluded (party copy, LECrim 588 ter i): their commitments are proven in the log, their content is not here\n");
		if (r == LACRE_OK)
			r = lacre_dbuf_add(out, res->excl.p, res->excl.len);
	}
	if (res->notes.len) {
		VT("notes\n");
		for (i = 0; i < res->notes.len;) {
			size_t s = i;
			while (i < res->notes.len && res->notes.p[i] != '\n')
				i++;
			VT("  %.*s\n", (int)(i - s), (const char *)res->notes.p + s);
			i++;
		}
	}
	for (i = 0; i < res->nproblem; i++)
		VT("FAIL %s: %s\n", res->problem[i].member, res->problem[i].what);
	if (res->problems > res->nproblem)
		VT("FAIL ... and %llu more problems\n", (unsigned long long)(res->problems - res->nproblem));
	if (res->verified)
		VT("VERIFIED: every record is the one sealed at ingest and is in the signed ingest log\n");
	else
		VT("NOT VERIFIED: %llu problem(s)\n", (unsigned long long)res->problems);
#undef VT
	return r;
}
