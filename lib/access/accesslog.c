/*
 * accesslog.c - the access log (LED art. 25): sealed access events, their
 * commitments in a second transparency log of the site, and the auditor's
 * verified read-back (see include/lacre/accesslog.h, docs/FORMATS.md §8).
 *
 * Order of durability for one event: the sealed event file is written
 * atomically (tmp, fsync, rename, fsync folder) under its index, then its
 * commitment is appended and tlog_checkpoint journals (fsync) and signs
 * it; only then does accesslog_append return.  A crash before the
 * checkpoint leaves an event file without an entry, which the next append
 * overwrites (same index): no entry ever lacks its event.
 *
 * With witness.policy in lacre.conf the access log asks the same witnesses
 * as the ingest log to cosign each checkpoint before it is published
 * (alog_policy); accesslog_audit.c checks the backend against them.
 *
 * The log's state folder is locked by tlog_open against a second process,
 * so concurrent CLI commands take turns: an opener that finds it locked
 * retries for up to 30 seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lacre/accesslog.h"
#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "lacre/evlog.h"
#include "lacre/hex.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/store.h"
#include "lacre/tlog.h"
#include "lacre/users.h"
#include "lacre/warrant.h"

#define ACCESSLOG_LOCK_WAIT_MS 30000
#define ACCESSLOG_FILE_MAX (64 * 1024)

/* An open access log and what it needs. */
struct alog {
	struct lacre_store *store;
	struct note_signer *key;
	struct tlog *log;
};

/* DIR/ledger/access.key (made on first use): it signs the access log's
 * checkpoints and opens nothing. */
static int key_load(const struct site *s, struct note_signer **out)
{
	char origin[NOTE_NAME_MAX + 1];
	int r = accesslog_origin(s, origin, sizeof(origin));
	return r != LACRE_OK ? r : site_log_key(s, "ledger/access.key", origin, out);
}

/* Close everything of a. */
static void alog_close(struct alog *a)
{
	tlog_close(a->log);
	note_signer_free(a->key);
	lacre_store_close(a->store);
	memset(a, 0, sizeof(*a));
}

/* witness.policy (lacre.conf): the same witnesses and quorum as the ingest
 * log's.  A checkpoint of the access log is published on the backend only
 * once the quorum cosigned it, and a witness refuses any checkpoint that
 * does not extend the last one it cosigned: whoever holds access.key can
 * no longer cut, fork or roll the log back unseen.  Refused here (and the
 * access with it) when the file cannot be read, or when it names a key for
 * this log's origin that is not the site's access-log key. */
static int alog_policy(struct alog *a, const char *path, char *msg, size_t msglen)
{
	struct policy *p = NULL;
	struct note_verifier vk;
	size_t bad = 0, i;
	int r = policy_load_file(path, &p, &bad);

	if (r != LACRE_OK) {
		snprintf(msg, msglen, "witness.policy %s:%zu: %s (fix the file named in lacre.conf)",
			 path, bad, lacre_strerror(r));
		return r;
	}
	note_signer_public(a->key, &vk);
	for (i = 0; i < p->nlogs; i++)
		if (strcmp(p->log[i].name, vk.name) == 0 &&
		    (p->log[i].keyid != vk.keyid || CRYPTO_memcmp(p->log[i].pub, vk.pub, 32) != 0)) {
			snprintf(msg, msglen, "witness.policy %s names another key for %s than the site's "
				 "ledger/access.key (the key was replaced, or the policy is another site's)",
				 path, vk.name);
			free(p);
			return LACRE_E_CONFIG;
		}
	if ((r = tlog_set_policy(a->log, p)) != LACRE_OK)
		snprintf(msg, msglen, "witness.policy %s: the access log refused it (%s)", path,
			 lacre_strerror(r));
	free(p);
	return r;
}

/* Open the access log of s (key, backend, tlog state, witness policy),
 * waiting while another process holds it. */
static int alog_open(const struct site *s, struct alog *a, char *msg, size_t msglen)
{
	char state[SITE_PATH_MAX], origin[NOTE_NAME_MAX + 1];
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	int r, waited = 0;

	memset(a, 0, sizeof(*a));
	if ((r = accesslog_origin(s, origin, sizeof(origin))) != LACRE_OK ||
	    (r = site_path(s, "ledger/access", state, sizeof(state))) != LACRE_OK) {
		snprintf(msg, msglen, "the site name does not make a valid log origin");
		return r;
	}
	if ((r = key_load(s, &a->key)) != LACRE_OK) {
		snprintf(msg, msglen, "cannot load or create the access log key %s/ledger/access.key: %s",
			 s->dir, lacre_strerror(r));
		return r;
	}
	if ((r = site_store_open(s, &a->store, msg, msglen)) != LACRE_OK) {
		alog_close(a);
		return r;
	}
	for (;;) {
		r = tlog_open(a->store, state, origin, a->key, &a->log);
		if (r != LACRE_E_STATE || waited >= ACCESSLOG_LOCK_WAIT_MS)
			break;
		nanosleep(&pause, NULL);
		waited += 20;
	}
	if (r != LACRE_OK) {
		snprintf(msg, msglen, "cannot open the access log in %s: %s%s", state, lacre_strerror(r),
			 r == LACRE_E_STATE ? " (another lacre process holds it)" : "");
		alog_close(a);
		return r;
	}
	if (s->cfg.witness_policy[0] != '\0' &&
	    (r = alog_policy(a, s->cfg.witness_policy, msg, msglen)) != LACRE_OK)
		alog_close(a);
	return r;
}

/* Append one "key value\n" line (value percent-encoded). */
static int line(struct lacre_dbuf *d, const char *k, const char *v)
{
	int r = lacre_dbuf_printf(d, "%s ", k);

	if (r == LACRE_OK)
		r = pct_encode(d, v ? v : "");
	if (r == LACRE_OK)
		r = lacre_dbuf_add_u8(d, '\n');
	return r;
}

int accesslog_request(const uint8_t salt[16], int64_t time, const char *user,
		      const char *role, const char *unit, const char *action,
		      const char *warrant, const char *what, const char *justification,
		      struct lacre_dbuf *out)
{
	char hx[33], ts[WARRANT_TIME_MAX];
	int r;

	lacre_hex(salt, 16, hx);
	warrant_time_format(time, ts);
	r = lacre_dbuf_printf(out, "%s\nsalt %s\n", ACCESSLOG_MAGIC, hx);
	if (r == LACRE_OK)
		r = line(out, "time", ts);
	if (r == LACRE_OK)
		r = line(out, "user", user);
	if (r == LACRE_OK)
		r = line(out, "role", role);
	if (r == LACRE_OK)
		r = line(out, "unit", unit);
	if (r == LACRE_OK)
		r = line(out, "action", action);
	if (r == LACRE_OK)
		r = line(out, "warrant", warrant);
	if (r == LACRE_OK)
		r = line(out, "what", what);
	if (r == LACRE_OK)
		r = line(out, "justification", justification);
	return r;
}

/* The whole canonical event: request part, decision, reason, signature. */
static int event_bytes(const struct accesslog_event *ev, const uint8_t salt[16],
		       struct lacre_dbuf *out)
{
	char sx[129];
	int r;

	r = accesslog_request(salt, ev->time, ev->user, ev->role, ev->unit, ev->action,
			      ev->warrant, ev->what, ev->justification, out);
	if (r == LACRE_OK)
		r = line(out, "decision", ev->allowed ? "allowed" : "refused");
	if (r == LACRE_OK)
		r = line(out, "reason", ev->reason);
	if (ev->request_sig)
		lacre_hex(ev->request_sig, 64, sx);
	else
		sx[0] = '\0';
	if (r == LACRE_OK)
		r = lacre_dbuf_printf(out, "request_sig %s\n", sx);
	return r;
}

/* Path of the sealed event file of index i. */
static int event_path(const struct site *s, uint64_t i, char *out, size_t cap)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "%s/%020llu.age", ACCESSLOG_EVENTS_DIR, (unsigned long long)i);
	return site_path(s, rel, out, cap);
}

/* Seal plain to the auditor and (when set) the oversight recipient. */
static int seal(const struct site *s, const uint8_t auditor_pub[32], const struct lacre_dbuf *plain,
		struct lacre_dbuf *out)
{
	uint8_t rc[2][32];
	size_t n = 1;
	struct age_writer *w = NULL;
	int r;

	memcpy(rc[0], auditor_pub, 32);
	if (age_recipient_parse(s->cfg.oversight_recipient, rc[1]) == LACRE_OK &&
	    CRYPTO_memcmp(rc[0], rc[1], 32) != 0)
		n = 2;
	r = age_writer_new((const uint8_t (*)[32])rc, n, out, &w);
	if (r == LACRE_OK)
		r = age_writer_write(w, plain->p, plain->len);
	if (r == LACRE_OK)
		r = age_writer_finish(w, NULL);
	age_writer_free(w);
	return r;
}

int accesslog_append(const struct site *s, const uint8_t auditor_pub[32],
		     const struct accesslog_event *evin, const uint8_t *salt_in,
		     uint64_t *index, char *msg, size_t msglen)
{
	struct accesslog_event ev = *evin;
	struct alog a;
	struct lacre_dbuf plain, sealed;
	char path[SITE_PATH_MAX], dir[SITE_PATH_MAX], obj[LACRE_STORE_NAME_MAX + 1];
	uint8_t salt[16], commit[32];
	uint64_t idx = 0, got = 0;
	int r;

	lacre_dbuf_init(&plain, ACCESSLOG_EVENT_MAX);
	lacre_dbuf_set_secret(&plain);
	lacre_dbuf_init(&sealed, ACCESSLOG_EVENT_MAX + 4096);
	if (ev.time == 0)
		ev.time = warrant_time_now();
	if (salt_in)
		memcpy(salt, salt_in, 16);
	else if (RAND_bytes(salt, 16) != 1)
		return LACRE_E_CRYPTO;
	if ((r = event_bytes(&ev, salt, &plain)) != LACRE_OK) {
		snprintf(msg, msglen, "access event too large: %s", lacre_strerror(r));
		goto done;
	}
	if (EVP_Digest(plain.p, plain.len, commit, NULL, EVP_sha256(), NULL) != 1) {
		r = LACRE_E_CRYPTO;
		goto done;
	}
	if ((r = seal(s, auditor_pub, &plain, &sealed)) != LACRE_OK) {
		snprintf(msg, msglen, "cannot seal the access event: %s", lacre_strerror(r));
		goto done;
	}
	if ((r = alog_open(s, &a, msg, msglen)) != LACRE_OK)
		goto done;
	idx = tlog_size(a.log);
	if ((r = site_path(s, ACCESSLOG_EVENTS_DIR, dir, sizeof(dir))) != LACRE_OK ||
	    (r = event_path(s, idx, path, sizeof(path))) != LACRE_OK)
		goto out;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		r = LACRE_E_IO;
		snprintf(msg, msglen, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	/* the sealed event first, durably; then its commitment */
	if ((r = site_write_file(path, sealed.p, sealed.len, 0600)) != LACRE_OK) {
		snprintf(msg, msglen, "cannot write %s: %s", path, lacre_strerror(r));
		goto out;
	}
	if ((r = tlog_append(a.log, commit, sizeof(commit), &got)) != LACRE_OK || got != idx) {
		r = r != LACRE_OK ? r : LACRE_E_INTERNAL;
		snprintf(msg, msglen, "cannot append to the access log: %s", lacre_strerror(r));
		goto out;
	}
	r = tlog_checkpoint(a.log, NULL);
	if (r == LACRE_E_UNAVAILABLE && tlog_signed_size(a.log) > idx) {
		/* signed and journaled locally; publication waits for the backend */
		fprintf(stderr, "lacre: access log: the backend or the witness quorum is unavailable; "
			"entry %llu is signed and kept locally and will be published later\n",
			(unsigned long long)idx);
		r = LACRE_OK;
	}
	if (r == LACRE_E_FORK) {
		snprintf(msg, msglen, "a witness refused the access log's checkpoint: it does not extend "
			 "the one the witness cosigned (the access log was rolled back or rewritten; "
			 "run 'lacre audit --site')");
		goto out;
	}
	if (r != LACRE_OK || tlog_signed_size(a.log) <= idx) {
		r = r != LACRE_OK ? r : LACRE_E_INTERNAL;
		snprintf(msg, msglen, "the access log entry could not be made durable: %s",
			 lacre_strerror(r));
		goto out;
	}
	/* a copy of the sealed event beside the tiles (best effort: the local
	 * file is the durable one) */
	memcpy(obj, ACCESSLOG_OBJECT_PREFIX, sizeof(ACCESSLOG_OBJECT_PREFIX));
	lacre_hex(commit, 32, obj + strlen(ACCESSLOG_OBJECT_PREFIX));
	if (tlog_published_size(a.log) > idx)
		(void)lacre_store_put_if_absent(a.store, obj, sealed.p, sealed.len);
	if (index)
		*index = idx;
out:
	alog_close(&a);
done:
	lacre_dbuf_free(&plain);
	lacre_dbuf_free(&sealed);
	return r;
}

/* ------------------------------------------------------------- reading */

/* Read one "key value\n" line of the event into out (decoded). */
static int read_line(struct lacre_rbuf *b, const char *k, char *out, size_t cap)
{
	const uint8_t *p = lacre_rbuf_ptr(b), *nl;
	size_t kn = strlen(k), left = lacre_rbuf_left(b), n;

	nl = left ? memchr(p, '\n', left) : NULL;
	if (nl == NULL)
		return LACRE_E_MALFORMED;
	n = (size_t)(nl - p);
	if (n < kn + 1 || memcmp(p, k, kn) != 0 || p[kn] != ' ')
		return LACRE_E_MALFORMED;
	if (pct_decode((const char *)p + kn + 1, n - kn - 1, out, cap) != LACRE_OK)
		return LACRE_E_MALFORMED;
	return lacre_rbuf_skip(b, n + 1);
}

/* Parse the canonical event bytes into rec; *req_len = length of the
 * request part. */
static int parse_event(const uint8_t *p, size_t n, struct accesslog_record *rec, size_t *req_len)
{
	struct lacre_rbuf b;
	char tmp[ACCESSLOG_TEXT_MAX];
	int r;

	lacre_rbuf_init(&b, p, n);
	{
		const uint8_t *nl = memchr(p, '\n', n);
		if (nl == NULL || (size_t)(nl - p) != strlen(ACCESSLOG_MAGIC) ||
		    memcmp(p, ACCESSLOG_MAGIC, strlen(ACCESSLOG_MAGIC)) != 0)
			return LACRE_E_MALFORMED;
		if (lacre_rbuf_skip(&b, (size_t)(nl - p) + 1) != LACRE_OK)
			return LACRE_E_MALFORMED;
	}
	if ((r = read_line(&b, "salt", tmp, sizeof(tmp))) != LACRE_OK || strlen(tmp) != 32 ||
	    (r = read_line(&b, "time", tmp, sizeof(tmp))) != LACRE_OK ||
	    warrant_time_parse(tmp, &rec->time) != LACRE_OK ||
	    (r = read_line(&b, "user", rec->user, sizeof(rec->user))) != LACRE_OK ||
	    (r = read_line(&b, "role", rec->role, sizeof(rec->role))) != LACRE_OK ||
	    (r = read_line(&b, "unit", rec->unit, sizeof(rec->unit))) != LACRE_OK ||
	    (r = read_line(&b, "action", rec->action, sizeof(rec->action))) != LACRE_OK ||
	    (r = read_line(&b, "warrant", rec->warrant, sizeof(rec->warrant))) != LACRE_OK ||
	    (r = read_line(&b, "what", rec->what, sizeof(rec->what))) != LACRE_OK ||
	    (r = read_line(&b, "justification", rec->justification,
			   sizeof(rec->justification))) != LACRE_OK)
		return LACRE_E_MALFORMED;
	*req_len = b.off;
	if ((r = read_line(&b, "decision", tmp, sizeof(tmp))) != LACRE_OK)
		return LACRE_E_MALFORMED;
	if (!strcmp(tmp, "allowed"))
		rec->allowed = 1;
	else if (strcmp(tmp, "refused") != 0)
		return LACRE_E_MALFORMED;
	if ((r = read_line(&b, "reason", rec->reason, sizeof(rec->reason))) != LACRE_OK ||
	    (r = read_line(&b, "request_sig", tmp, sizeof(tmp))) != LACRE_OK)
		return LACRE_E_MALFORMED;
	if (tmp[0]) {
		if (lacre_unhex(tmp, strlen(tmp), rec->request_sig, 64) != LACRE_OK)
			return LACRE_E_MALFORMED;
		rec->has_sig = 1;
	}
	return lacre_rbuf_expect_end(&b) == LACRE_OK ? LACRE_OK : LACRE_E_MALFORMED;
}

int accesslog_read(const struct site *s, const struct age_x25519_identity *auditor,
		   int (*fn)(void *arg, const struct accesslog_record *r),
		   void (*problem)(void *arg, uint64_t index, const char *what),
		   void *arg, uint64_t *nproblems, char *msg, size_t msglen)
{
	struct alog a;
	struct users_registry *users = NULL;
	struct accesslog_record *rec = NULL;
	struct lacre_dbuf file, plain, cpn;
	struct note_verifier vk;
	struct checkpoint cp;
	struct merkle_proof proof;
	char path[SITE_PATH_MAX], why[SITE_PATH_MAX + 1536];
	uint64_t size, i, bad = 0;
	uint8_t leaf[32];
	int r, have_cp = 0;

	lacre_dbuf_init(&file, ACCESSLOG_EVENT_MAX + 4096);
	lacre_dbuf_init(&plain, ACCESSLOG_EVENT_MAX);
	lacre_dbuf_set_secret(&plain);
	lacre_dbuf_init(&cpn, NOTE_MAX_SIZE);
	memset(&cp, 0, sizeof(cp));
	if ((r = users_load(s, &users, msg, msglen)) != LACRE_OK)
		goto done;
	rec = calloc(1, sizeof(*rec));
	if (rec == NULL) {
		r = LACRE_E_NOMEM;
		goto done;
	}
	if ((r = alog_open(s, &a, msg, msglen)) != LACRE_OK)
		goto done;
	/* finish a publication that waited for the backend */
	(void)tlog_checkpoint(a.log, NULL);
	size = tlog_size(a.log);
	note_signer_public(a.key, &vk);
	if (site_path(s, "ledger/access/checkpoint", path, sizeof(path)) == LACRE_OK &&
	    site_read_file(path, NOTE_MAX_SIZE, &cpn) == LACRE_OK &&
	    checkpoint_open(cpn.p, cpn.len, &vk, NULL, 0, &cp, NULL) == LACRE_OK)
		have_cp = 1;
	for (i = 0; i < size; i++) {
		size_t req_len = 0;
		const struct user *u;

		why[0] = '\0';
		memset(rec, 0, sizeof(*rec));
		rec->index = i;
		lacre_dbuf_free(&file);   /* site_read_file initialises it afresh */
		lacre_dbuf_reset(&plain);
		if ((r = event_path(s, i, path, sizeof(path))) != LACRE_OK)
			goto out;
		r = site_read_file(path, ACCESSLOG_EVENT_MAX + 4096, &file);
		if (r != LACRE_OK) {
			snprintf(why, sizeof(why), "sealed event %s: %s", path, lacre_strerror(r));
		} else if ((r = age_decrypt(file.p, file.len, auditor, &plain)) != LACRE_OK) {
			snprintf(why, sizeof(why), "sealed event does not open with the auditor identity: %s",
				 lacre_strerror(r));
		} else if (parse_event(plain.p, plain.len, rec, &req_len) != LACRE_OK) {
			snprintf(why, sizeof(why), "event is malformed");
		} else {
			EVP_Digest(plain.p, plain.len, rec->commitment, NULL, EVP_sha256(), NULL);
			merkle_leaf_hash(rec->commitment, 32, leaf);
			if (have_cp && i < cp.size) {
				r = tlog_prove_inclusion(a.log, i, cp.size, &proof);
				if (r == LACRE_OK)
					r = merkle_verify_inclusion(i, cp.size, leaf, &proof, cp.root);
				if (r != LACRE_OK)
					snprintf(why, sizeof(why), "its commitment is not entry %llu of the "
						 "signed access log (%s)", (unsigned long long)i,
						 lacre_strerror(r));
				else
					rec->published = 1;
			}
			u = users_find(users, rec->user);
			if (rec->has_sig && u != NULL &&
			    lacre_ed25519_verify(u->pub, plain.p, req_len, rec->request_sig) == LACRE_OK)
				rec->request_sig_ok = 1;
			else if (rec->has_sig)
				snprintf(why, sizeof(why), "the request signature does not verify with "
					 "user '%s''s key", rec->user);
		}
		if (why[0]) {
			bad++;
			if (problem)
				problem(arg, i, why);
			continue;
		}
		if (fn && (r = fn(arg, rec)) != 0)
			goto out;
	}
	r = LACRE_OK;
	*nproblems = bad;
out:
	alog_close(&a);
done:
	if (rec)
		OPENSSL_cleanse(rec, sizeof(*rec));
	free(rec);
	users_free(users);
	lacre_dbuf_free(&file);
	lacre_dbuf_free(&plain);
	lacre_dbuf_free(&cpn);
	return r;
}
