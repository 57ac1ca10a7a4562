/*
 * accesslog_audit.c - the keyless audit of a site's access log on its
 * backend, against every checkpoint the auditor can trust (see
 * include/lacre/accesslog.h, docs/access.md "Auditing the access log").
 *
 * The access log's key (DIR/ledger/access.key) sits on the site, so whoever
 * holds it can sign any tree: a cut one, a rewritten one.  Its own
 * signature therefore proves little; what the site cannot forge are the
 * witnesses' cosignatures (witness.policy): a witness cosigns a checkpoint
 * only if it extends the last one it cosigned.  The audit:
 *
 *   1. takes the log key from the policy when the policy names the access
 *      log's origin (a replaced DIR/ledger/access/vkey is then a finding),
 *      else from the site's state folder;
 *   2. gathers the trusted checkpoints: the site's own published one
 *      (DIR/ledger/access/checkpoint) and, from every witness of the policy
 *      with a URL, the latest it cosigned (tlog-witness monitoring GET),
 *      which must carry that witness's valid cosignature;
 *   3. compares them with each other (two of one size with different
 *      roots, or a smaller one that is not a prefix of the larger: a fork);
 *   4. runs lib/ledger's audit_run against the newest of them with the
 *      policy's quorum: every tile, bundle and the backend's checkpoint;
 *   5. names what happened: a ROLLBACK (the backend serves an older,
 *      properly cosigned checkpoint), a CUT (a shorter tree re-signed
 *      without the witnesses, or entries deleted), a FORK (another tree of
 *      a size already witnessed) or a REWRITE (objects altered in place).
 *
 * Reads only public data (vkeys, checkpoints, tiles); opens no private key
 * and never takes the access log's lock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lacre/accesslog.h"
#include "lacre/err.h"
#include "lacre/hex.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/tlog.h"
#include "lacre/witness.h"

#define AA_FILE_MAX (64 * 1024)

/* The access log's note origin, "lacre/<site.name>/access" (accesslog.h):
 * here, with the keyless audit, so that the audit links without the
 * writer (lib/access/accesslog.c, the keeper's). */
int accesslog_origin(const struct site *s, char *out, size_t cap)
{
	int n = snprintf(out, cap, "lacre/%s/access", s->cfg.name);

	if (n < 0 || (size_t)n >= cap || !note_name_valid(out))
		return LACRE_E_CONFIG;
	return LACRE_OK;
}

/* the site's own checkpoint + one per witness of a policy */
#define AA_MAX_TRUSTED (1 + POLICY_MAX_WITNESSES)

/* A checkpoint the audit trusts, and where it came from. */
struct aa_trusted {
	char from[POLICY_NAME_MAX + 32];
	struct checkpoint cp;
	struct lacre_dbuf note;
};

/* Audit state. */
struct aa {
	const struct accesslog_audit_opts *o;
	struct accesslog_audit_result *res;
	int quorum_failed;     /* the backend's checkpoint lacks the quorum */
	int rolled;            /* an AUDIT_ROLLBACK finding */
};

/* Count a finding by kind and pass it on. */
static void aa_count(struct aa *a, const struct audit_finding *f)
{
	a->res->findings++;
	switch (f->kind) {
	case AUDIT_FORK:
		a->res->fork = 1;
		break;
	case AUDIT_ROLLBACK:
		a->rolled = 1;
		break;
	case AUDIT_MISSING:
	case AUDIT_TRUNCATED:
		a->res->cut = 1;
		break;
	case AUDIT_BAD_CHECKPOINT:
		if (strstr(f->message, "quorum") != NULL)
			a->quorum_failed = 1;
		else
			a->res->rewritten = 1;
		break;
	default:
		a->res->rewritten = 1;
		break;
	}
	if (a->o && a->o->report)
		a->o->report(a->o->arg, f);
}

/* audit_config.report: findings of lib/ledger's audit. */
static void aa_report(void *arg, const struct audit_finding *f)
{
	aa_count(arg, f);
}

/* A finding of this file's own checks. */
static void aa_finding(struct aa *a, enum audit_kind k, const char *obj, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void aa_finding(struct aa *a, enum audit_kind k, const char *obj, const char *fmt, ...)
{
	struct audit_finding f;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f.kind = k;
	f.object = obj;
	f.message = msg;
	aa_count(a, &f);
}

/* A note (not a finding): something the audit could not use. */
static void aa_note(struct aa *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void aa_note(struct aa *a, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (a->o && a->o->note)
		a->o->note(a->o->arg, msg);
}

/* lacre_store_list callback: is there any object under the prefix? */
static int aa_any(void *arg, const char *name, uint64_t size)
{
	(void)name;
	(void)size;
	*(int *)arg = 1;
	return 1;
}

/* The latest checkpoint witness w cosigned for origin, verified with the
 * log key and that witness's own cosignature.  LACRE_E_NOT_FOUND when the
 * witness has none; LACRE_E_AUTH when what it serves does not verify;
 * transport errors otherwise. */
static int aa_witness_latest(const struct policy_witness *w, const char *origin,
			     const struct note_verifier *logk, struct aa_trusted *t)
{
	char url[POLICY_URL_MAX + 2 * MERKLE_HASH_LEN + 16];
	uint8_t h[MERKLE_HASH_LEN];
	uint64_t cos = 0;
	int rc, status = 0;
	size_t n;

	merkle_sha256(origin, strlen(origin), h);
	n = (size_t)snprintf(url, sizeof(url), "%s", w->url);
	while (n && url[n - 1] == '/')
		url[--n] = '\0';
	if (n + 1 + 2 * MERKLE_HASH_LEN + 12 >= sizeof(url))
		return LACRE_E_INVALID;
	url[n++] = '/';
	lacre_hex(h, MERKLE_HASH_LEN, url + n);
	memcpy(url + n + 2 * MERKLE_HASH_LEN, "/checkpoint", sizeof("/checkpoint"));
	if ((rc = witness_http_get(url, &status, &t->note)) != LACRE_OK)
		return rc;
	if (status == 404)
		return LACRE_E_NOT_FOUND;
	if (status != 200)
		return LACRE_E_UNAVAILABLE;
	if (t->note.len > NOTE_MAX_SIZE)
		return LACRE_E_TOO_LARGE;
	rc = checkpoint_open(t->note.p, t->note.len, logk, &w->key, 1, &t->cp, &cos);
	if (rc == LACRE_OK && (!(cos & 1) || strcmp(t->cp.origin, origin) != 0))
		rc = LACRE_E_AUTH;
	return rc;
}

/* Is the smaller trusted checkpoint a prefix of the tree on the backend
 * at the larger one's size?  Only asked when the backend's tiles passed
 * the audit (else the finding is already made): 1 yes, 0 no, -1 cannot
 * tell. */
static int aa_prefix_of(struct lacre_store *store, const char *prefix,
			const struct checkpoint *small, const struct checkpoint *big)
{
	struct tiles_reader *r = NULL;
	uint8_t root[MERKLE_HASH_LEN];
	int ok = -1;

	if (small->size == 0)
		return 1;
	if (tiles_reader_new(store, prefix, big->size, &r) != LACRE_OK)
		return -1;
	if (merkle_root(small->size, tiles_reader_node, r, root) == LACRE_OK)
		ok = CRYPTO_memcmp(root, small->root, MERKLE_HASH_LEN) == 0;
	tiles_reader_free(r);
	return ok;
}

/* Read DIR/<rel> (small) into out without its trailing newlines. */
static int aa_read(const struct site *s, const char *rel, struct lacre_dbuf *out)
{
	char path[SITE_PATH_MAX];
	int r = site_path(s, rel, path, sizeof(path));

	if (r == LACRE_OK)
		r = note_read_file(path, AA_FILE_MAX, out);
	return r;
}

int accesslog_audit_run(const struct site *s, struct lacre_store *store,
			const struct accesslog_audit_opts *o, struct accesslog_audit_result *res)
{
	struct aa a;
	struct aa_trusted *t = NULL;
	struct policy *pol = NULL;
	struct note_verifier logk, sitek;
	struct audit_config cfg;
	struct audit_result ar;
	struct lacre_dbuf vk;
	char origin[NOTE_NAME_MAX + 1], prefix[TLOG_PREFIX_MAX];
	size_t nt = 0, i, j, newest = 0, bad = 0;
	int r, have_sitek = 0, have_polk = 0, any = 0;

	memset(res, 0, sizeof(*res));
	memset(&a, 0, sizeof(a));
	memset(&cfg, 0, sizeof(cfg));
	a.o = o;
	a.res = res;
	lacre_dbuf_init(&vk, AA_FILE_MAX);
	if ((r = accesslog_origin(s, origin, sizeof(origin))) != LACRE_OK ||
	    (r = tlog_prefix(origin, prefix, sizeof(prefix))) != LACRE_OK)
		goto out;
	snprintf(res->origin, sizeof(res->origin), "%s", origin);
	if ((t = calloc(AA_MAX_TRUSTED, sizeof(*t))) == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	for (i = 0; i < AA_MAX_TRUSTED; i++)
		lacre_dbuf_init(&t[i].note, NOTE_MAX_SIZE + 1);
	if (s->cfg.witness_policy[0] != '\0') {
		if ((r = policy_load_file(s->cfg.witness_policy, &pol, &bad)) != LACRE_OK) {
			aa_note(&a, "witness.policy %s:%zu: %s (fix the file named in lacre.conf)",
				s->cfg.witness_policy, bad, lacre_strerror(r));
			goto out;
		}
		for (i = 0; i < pol->nlogs; i++)
			if (strcmp(pol->log[i].name, origin) == 0) {
				logk = pol->log[i];
				have_polk = 1;
			}
		if (!have_polk)
			aa_note(&a, "witness.policy %s names no key for %s: the site's own vkey is used",
				s->cfg.witness_policy, origin);
	}
	/* 1. the log key */
	r = aa_read(s, "ledger/access/vkey", &vk);
	while (r == LACRE_OK && vk.len && (vk.p[vk.len - 1] == '\n' || vk.p[vk.len - 1] == '\r'))
		vk.len--;
	if (r == LACRE_OK && note_verifier_parse((const char *)vk.p, vk.len, &sitek) == LACRE_OK)
		have_sitek = 1;
	else if (r == LACRE_OK && have_polk)
		aa_finding(&a, AUDIT_BAD_CHECKPOINT, "ledger/access/vkey",
			   "ledger/access/vkey: not a vkey (the site's access-log state is damaged)");
	else if (r != LACRE_OK && r != LACRE_E_NOT_FOUND)
		goto out;
	if (have_sitek && have_polk &&
	    (sitek.keyid != logk.keyid || CRYPTO_memcmp(sitek.pub, logk.pub, 32) != 0))
		aa_finding(&a, AUDIT_BAD_CHECKPOINT, "ledger/access/vkey",
			   "ledger/access/vkey: the site's access-log key is not the one witness.policy "
			   "names for %s (the key was replaced)", origin);
	if (!have_polk) {
		if (!have_sitek) {
			if (r == LACRE_OK) {
				aa_finding(&a, AUDIT_BAD_CHECKPOINT, "ledger/access/vkey",
					   "ledger/access/vkey: not a vkey, and witness.policy names no key "
					   "for %s: the access log cannot be audited", origin);
				r = LACRE_E_VERIFY;
				goto out;
			}
			/* no local log: fine only if the backend holds none either */
			r = lacre_store_list(store, prefix, aa_any, &any);
			if (r != LACRE_OK && r != 1)
				goto out;
			if (any)
				aa_finding(&a, AUDIT_MISSING, "ledger/access",
					   "ledger/access: the site's access-log state is gone but the "
					   "backend holds an access log");
			else
				res->no_log = 1;
			r = res->findings ? LACRE_E_VERIFY : LACRE_OK;
			goto out;
		}
		logk = sitek;
	}
	/* 2. the trusted checkpoints: the site's own, then each witness's */
	r = aa_read(s, "ledger/access/checkpoint", &t[nt].note);
	if (r == LACRE_OK) {
		snprintf(t[nt].from, sizeof(t[nt].from), "the site's ledger/access/checkpoint");
		if (checkpoint_open(t[nt].note.p, t[nt].note.len, &logk, NULL, 0, &t[nt].cp, NULL) == LACRE_OK &&
		    strcmp(t[nt].cp.origin, origin) == 0)
			nt++;
		else
			aa_finding(&a, AUDIT_BAD_CHECKPOINT, "ledger/access/checkpoint",
				   "ledger/access/checkpoint: the site's own checkpoint is not signed by "
				   "the access log's key");
	} else if (r != LACRE_E_NOT_FOUND) {
		goto out;
	}
	for (i = 0; pol && i < pol->nw; i++) {
		if (pol->w[i].url[0] == '\0')
			continue;
		lacre_dbuf_reset(&t[nt].note);
		r = aa_witness_latest(&pol->w[i], origin, &logk, &t[nt]);
		if (r == LACRE_OK) {
			snprintf(t[nt].from, sizeof(t[nt].from), "witness %s", pol->w[i].name);
			res->witnesses++;
			nt++;
		} else if (r == LACRE_E_AUTH) {
			aa_finding(&a, AUDIT_BAD_CHECKPOINT, "checkpoint",
				   "checkpoint: witness %s serves a checkpoint of %s that does not verify "
				   "with the log key and its own cosignature", pol->w[i].name, origin);
		} else if (r == LACRE_E_NOT_FOUND) {
			aa_note(&a, "witness %s has cosigned no checkpoint of %s yet (does it follow "
				"this log?)", pol->w[i].name, origin);
		} else {
			res->unreachable++;
			aa_note(&a, "witness %s (%s) cannot be asked: %s; a rollback of both the backend "
				"and the site beyond what it cosigned cannot be excluded",
				pol->w[i].name, pol->w[i].url, lacre_strerror(r));
		}
	}
	r = LACRE_OK;
	if (nt == 0) {
		/* a log key but no checkpoint anywhere: judge the backend alone */
		aa_note(&a, "no trusted checkpoint of %s (site or witness): the backend is audited "
			"against its own checkpoint only", origin);
	}
	/* 3. the trusted checkpoints among themselves; the newest (a witness
	 * rather than the site on a tie: the site may be the liar) is the
	 * audit's reference */
	for (i = 1; i < nt; i++)
		if (t[i].cp.size >= t[newest].cp.size)
			newest = i;
	for (i = 0; i < nt; i++)
		for (j = i + 1; j < nt; j++)
			if (t[i].cp.size == t[j].cp.size &&
			    CRYPTO_memcmp(t[i].cp.root, t[j].cp.root, MERKLE_HASH_LEN) != 0)
				aa_finding(&a, AUDIT_FORK, "checkpoint",
					   "checkpoint: %s and %s hold two checkpoints of size %llu with "
					   "different roots", t[i].from, t[j].from,
					   (unsigned long long)t[i].cp.size);
	/* 4. the backend against the newest trusted checkpoint */
	cfg.store = store;
	cfg.origin = origin;
	cfg.log_key = logk;
	cfg.policy = pol;
	if (nt) {
		cfg.trusted = t[newest].note.p;
		cfg.trusted_len = t[newest].note.len;
	}
	cfg.report = aa_report;
	cfg.report_arg = &a;
	memset(&ar, 0, sizeof(ar));
	r = audit_run(&cfg, &ar);
	if (r != LACRE_OK && r != LACRE_E_VERIFY && r != LACRE_E_ROLLBACK && r != LACRE_E_FORK)
		goto out;
	res->log_size = ar.size;
	res->entries = ar.entries;
	/* every other trusted checkpoint must be a prefix of the newest one */
	for (i = 0; nt && i < nt && !res->fork; i++) {
		if (i == newest || t[i].cp.size >= t[newest].cp.size || res->rewritten || res->cut)
			continue;
		aa_note(&a, "%s is at size %llu, %s at size %llu", t[i].from,
			(unsigned long long)t[i].cp.size, t[newest].from,
			(unsigned long long)t[newest].cp.size);
		if (aa_prefix_of(store, prefix, &t[i].cp, &t[newest].cp) == 0)
			aa_finding(&a, AUDIT_FORK, "checkpoint",
				   "checkpoint: %s (size %llu) is not a prefix of %s (size %llu)",
				   t[i].from, (unsigned long long)t[i].cp.size, t[newest].from,
				   (unsigned long long)t[newest].cp.size);
	}
	/* 5. name it: a shorter tree nobody witnessed is a cut, an older
	 * witnessed one a rollback */
	if (a.rolled) {
		if (a.quorum_failed)
			res->cut = 1;
		else
			res->rollback = 1;
	} else if (a.quorum_failed && !res->fork) {
		res->rewritten = 1;
	}
	r = res->findings == 0 ? LACRE_OK
	    : res->fork ? LACRE_E_FORK
	    : res->rollback ? LACRE_E_ROLLBACK : LACRE_E_VERIFY;
out:
	if (t)
		for (i = 0; i < AA_MAX_TRUSTED; i++)
			lacre_dbuf_free(&t[i].note);
	free(t);
	free(pol);
	lacre_dbuf_free(&vk);
	return r;
}

/* One word for the verdict (see accesslog.h). */
const char *accesslog_audit_verdict(const struct accesslog_audit_result *res)
{
	if (res->fork)
		return "FORK";
	if (res->cut)
		return "CUT";
	if (res->rollback)
		return "ROLLBACK";
	if (res->rewritten || res->findings)
		return "REWRITTEN";
	return "INTACT";
}

/* accesslog_audit_print's callbacks: one line per finding, as `lacre
 * audit` prints the ingest log's. */
static void aa_print_finding(void *arg, const struct audit_finding *f)
{
	fprintf(arg, "%-14s access log %s\n", audit_kind_name(f->kind), f->message);
}

static void aa_print_note(void *arg, const char *line)
{
	fprintf(arg, "note           access log: %s\n", line);
}

int accesslog_audit_print(const struct site *s, struct lacre_store *store, FILE *out)
{
	struct accesslog_audit_opts o = { aa_print_finding, aa_print_note, out };
	struct accesslog_audit_result res;
	int r = accesslog_audit_run(s, store, &o, &res);

	if (r != LACRE_OK && r != LACRE_E_VERIFY && r != LACRE_E_ROLLBACK && r != LACRE_E_FORK) {
		fprintf(out, "access log: the audit could not run: %s%s\n", lacre_strerror(r),
			r == LACRE_E_CONFIG ? " (check witness.policy in lacre.conf)" : "");
		return r;
	}
	if (res.no_log) {
		fprintf(out, "no access log yet: nothing has been accessed on this site\n");
		return LACRE_OK;
	}
	fprintf(out, "audited access log %s size %llu: %llu entries, %zu witness checkpoint(s) "
		"compared, %llu problems: %s\n", res.origin, (unsigned long long)res.log_size,
		(unsigned long long)res.entries, res.witnesses, (unsigned long long)res.findings,
		accesslog_audit_verdict(&res));
	return r;
}
