/*
 * ingest_logs.c - the ingest logs of a site, one per receiver, and the
 * checkpoint each may be trusted at (lacre/ingest_logs.h gives the naming
 * table).  Every reader of a site's ingest logs goes through
 * site_ingest_logs() and site_ingest_checkpoint(), so a site with several
 * receivers (issue 15, "Many machines") is one site to its audit, status,
 * records and exports.
 *
 * Trust: a log whose ledger state lives on this machine is trusted at its
 * state's checkpoint (the receiver's own durable view, as before).  A log
 * of a receiver on another machine is known here by the vkey the
 * administrator recorded in lacre.conf (receiver.NAME.vkey); its checkpoint
 * comes from the untrusted backend, so it must verify with that key (and
 * the witness quorum when the site has a witness.policy), and it must
 * extend the newest checkpoint this site has already seen of that origin,
 * kept in DIR/ledger/seen/ingest-NAME and moved forward only after a
 * consistency proof computed from the backend's tiles verifies against
 * both roots.  A backend serving an older or a diverging checkpoint is a
 * rollback or fork naming the origin.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/ingest_logs.h"
#include "lacre/merkle.h"
#include "lacre/store.h"
#include "lacre/tlog.h"

#define IL_NOTE_MAX (64 * 1024)      /* cap on a checkpoint note or vkey file */
#define IL_SEEN_DIR "ledger/seen"
#define IL_MAX (SITE_RECEIVER_MAX + 1 + 64) /* logs listed at most */

/* name is "" or NULL for the unnamed receiver. */
static int unnamed(const char *name)
{
	return name == NULL || name[0] == '\0';
}

int site_ingest_origin(const struct site *s, const char *name, char *out, size_t cap)
{
	int n;

	if (!unnamed(name) && !site_receiver_name_ok(name))
		return LACRE_E_CONFIG;
	n = unnamed(name) ? snprintf(out, cap, "lacre/%s/ingest", s->cfg.name) :
	    snprintf(out, cap, "lacre/%s/ingest/%s", s->cfg.name, name);
	if (n < 0 || (size_t)n >= cap)
		return LACRE_E_TOO_LARGE;
	return note_name_valid(out) ? LACRE_OK : LACRE_E_CONFIG;
}

int site_ingest_relpath(const char *name, const char *suffix, char *out, size_t cap)
{
	int n;

	if (!unnamed(name) && !site_receiver_name_ok(name))
		return LACRE_E_CONFIG;
	n = snprintf(out, cap, "ledger/ingest%s%s%s", unnamed(name) ? "" : "-",
		     unnamed(name) ? "" : name, suffix ? suffix : "");
	return n < 0 || (size_t)n >= cap ? LACRE_E_TOO_LARGE : LACRE_OK;
}

int site_ingest_statefile(const struct site *s, const char *name, const char *file, char *out,
			  size_t cap)
{
	const char *dot = strrchr(file, '.');
	int n;

	if (!unnamed(name) && !site_receiver_name_ok(name))
		return LACRE_E_CONFIG;
	if (unnamed(name) || dot == NULL)
		n = unnamed(name) ? snprintf(out, cap, "%s/state/%s", s->dir, file) :
		    snprintf(out, cap, "%s/state/%s-%s", s->dir, file, name);
	else
		n = snprintf(out, cap, "%s/state/%.*s-%s%s", s->dir, (int)(dot - file), file, name, dot);
	return n < 0 || (size_t)n >= cap ? LACRE_E_TOO_LARGE : LACRE_OK;
}

int site_ingest_spool(const struct site *s, const char *name, char *out, size_t cap)
{
	const struct site_receiver *rc;
	int n;

	if (unnamed(name))
		n = snprintf(out, cap, "%s", s->cfg.spool_dir);
	else if (!site_receiver_name_ok(name))
		return LACRE_E_CONFIG;
	else if ((rc = site_receiver_find(&s->cfg, name)) != NULL && (rc->set & SITE_RCV_SPOOL))
		n = snprintf(out, cap, "%s", rc->spool_dir);
	else
		n = snprintf(out, cap, "%s-%s", s->cfg.spool_dir, name);
	return n < 0 || (size_t)n >= cap ? LACRE_E_TOO_LARGE : LACRE_OK;
}

int site_receiver_select(struct site *s, const char *name, char *msg, size_t msglen)
{
	const struct site_receiver *rc;
	char spool[SITE_PATH_MAX];

	if (name == NULL)
		name = s->cfg.ingest_receiver;
	if (unnamed(name)) {
		s->cfg.ingest_receiver[0] = '\0';
		return LACRE_OK;
	}
	if (!site_receiver_name_ok(name)) {
		lacre_msg(msg, msglen, "'%s' is not a receiver name (1 to 32 of a-z 0-9 -)", name);
		return LACRE_E_CONFIG;
	}
	if (site_ingest_spool(s, name, spool, sizeof(spool)) != LACRE_OK) {
		lacre_msg(msg, msglen, "receiver %s: its spool path is too long", name);
		return LACRE_E_CONFIG;
	}
	snprintf(s->cfg.ingest_receiver, sizeof(s->cfg.ingest_receiver), "%s", name);
	if ((rc = site_receiver_find(&s->cfg, name)) != NULL) {
		if (rc->set & SITE_RCV_HI2)
			snprintf(s->cfg.hi2, sizeof(s->cfg.hi2), "%s", rc->hi2);
		if (rc->set & SITE_RCV_HI3)
			snprintf(s->cfg.hi3, sizeof(s->cfg.hi3), "%s", rc->hi3);
	}
	snprintf(s->cfg.spool_dir, sizeof(s->cfg.spool_dir), "%s", spool);
	return LACRE_OK;
}

/* Parse vkey text (one line) as the key of origin.  LACRE_E_CONFIG when it
 * does not parse or names another origin. */
static int vkey_for(const char *text, const char *origin, struct note_verifier *vk)
{
	if (note_verifier_parse(text, strlen(text), vk) != LACRE_OK)
		return LACRE_E_CONFIG;
	return strcmp(vk->name, origin) == 0 ? LACRE_OK : LACRE_E_CONFIG;
}

/* Fill log for receiver name: origin, and (when DIR/ledger/ingest[-NAME]/
 * vkey exists) the local state, spool and vkey.  *local says whether the
 * folder held a vkey.  LACRE_E_CONFIG with msg for a bad vkey file. */
static int log_fill(const struct site *s, const char *name, struct site_ingest_log *log,
		    int *local, char *msg, size_t msglen)
{
	char rel[SITE_PATH_MAX], path[SITE_PATH_MAX];
	struct lacre_dbuf d;
	struct note_verifier vk;
	int r;

	memset(log, 0, sizeof(*log));
	*local = 0;
	snprintf(log->name, sizeof(log->name), "%s", name);
	if ((r = site_ingest_origin(s, name, log->origin, sizeof(log->origin))) != LACRE_OK ||
	    (r = site_ingest_relpath(name, "", rel, sizeof(rel))) != LACRE_OK ||
	    (r = site_path(s, rel, log->state_buf, sizeof(log->state_buf))) != LACRE_OK ||
	    (r = site_ingest_spool(s, name, log->spool_buf, sizeof(log->spool_buf))) != LACRE_OK) {
		lacre_msg(msg, msglen, "receiver %s: its origin or paths are too long", name[0] ? name : "(unnamed)");
		return r == LACRE_E_TOO_LARGE ? LACRE_E_CONFIG : r;
	}
	if (snprintf(path, sizeof(path), "%s/vkey", log->state_buf) >= (int)sizeof(path))
		return LACRE_E_CONFIG;
	lacre_dbuf_init(&d, IL_NOTE_MAX);
	r = note_read_file(path, IL_NOTE_MAX, &d);
	if (r == LACRE_E_NOT_FOUND) {
		/* no vkey: no log of that receiver here */
		lacre_dbuf_free(&d);
		return LACRE_OK;
	}
	if (r == LACRE_E_IO) {
		/* there may be a log we cannot read (another uid's 0700
		 * folder): never taken for "no log", which would show a
		 * warrant with none of its records */
		int e = access(path, R_OK) == 0 ? EIO : errno;
		lacre_dbuf_free(&d);
		lacre_msg(msg, msglen, "cannot read %s: %s; the keeper's user must be able to read every "
			  "receiver's ledger folder (the site's group: docs/deploy.md)", path, strerror(e));
		return LACRE_E_IO;
	}
	if (r != LACRE_OK) {
		lacre_dbuf_free(&d);
		return r;
	}
	while (d.len && (d.p[d.len - 1] == '\n' || d.p[d.len - 1] == '\r'))
		d.len--;
	if (d.len >= sizeof(log->vkey)) {
		lacre_dbuf_free(&d);
		lacre_msg(msg, msglen, "%s: longer than a verifier key", path);
		return LACRE_E_CONFIG;
	}
	memcpy(log->vkey, d.p, d.len);
	log->vkey[d.len] = '\0';
	lacre_dbuf_free(&d);
	if (vkey_for(log->vkey, log->origin, &vk) != LACRE_OK) {
		lacre_msg(msg, msglen, "%s: not the key of origin %s; restore it from the log's receiver",
			  path, log->origin);
		return LACRE_E_CONFIG;
	}
	log->state_dir = log->state_buf;
	log->spool_dir = log->spool_buf;
	*local = 1;
	return LACRE_OK;
}

/* qsort order: unnamed first, then by name. */
static int log_cmp(const void *a, const void *b)
{
	return strcmp(((const struct site_ingest_log *)a)->name, ((const struct site_ingest_log *)b)->name);
}

/* Append the log of receiver name to v (when it has one here or in
 * lacre.conf). */
static int logs_add(const struct site *s, const char *name, struct site_ingest_log *v, size_t *n,
		    char *msg, size_t msglen)
{
	const struct site_receiver *rc = unnamed(name) ? NULL : site_receiver_find(&s->cfg, name);
	struct note_verifier vk;
	int local, r;

	for (size_t i = 0; i < *n; i++)
		if (strcmp(v[i].name, name) == 0)
			return LACRE_OK;
	if (*n == IL_MAX) {
		lacre_msg(msg, msglen, "more than %d ingest logs in %s/ledger", IL_MAX, s->dir);
		return LACRE_E_TOO_LARGE;
	}
	if ((r = log_fill(s, name, &v[*n], &local, msg, msglen)) != LACRE_OK)
		return r;
	if (rc && (rc->set & SITE_RCV_VKEY)) {
		if (vkey_for(rc->vkey, v[*n].origin, &vk) != LACRE_OK) {
			lacre_msg(msg, msglen, "receiver.%s.vkey: the key of %s, not of origin %s; copy that "
				  "receiver's ledger/ingest-%s/vkey", name, vk.name, v[*n].origin, name);
			return LACRE_E_CONFIG;
		}
		if (local && strcmp(rc->vkey, v[*n].vkey) != 0) {
			lacre_msg(msg, msglen, "receiver.%s.vkey differs from %s/vkey: one of them is not "
				  "that receiver's key; find out which before trusting either", name,
				  v[*n].state_dir);
			return LACRE_E_CONFIG;
		}
		if (!local)
			snprintf(v[*n].vkey, sizeof(v[*n].vkey), "%s", rc->vkey);
		local = 1;
	}
	if (local)
		(*n)++;
	return LACRE_OK;
}

int site_ingest_logs(const struct site *s, struct site_ingest_log **out, size_t *n, char *msg,
		     size_t msglen)
{
	struct site_ingest_log *v;
	char ledger[SITE_PATH_MAX];
	size_t cnt = 0;
	struct dirent *de;
	DIR *d;
	int r;

	if (msglen)
		msg[0] = '\0';
	if ((v = calloc(IL_MAX, sizeof(*v))) == NULL)
		return LACRE_E_NOMEM;
	if ((r = logs_add(s, "", v, &cnt, msg, msglen)) != LACRE_OK)
		goto fail;
	/* receivers that ran on this machine */
	if ((r = site_path(s, "ledger", ledger, sizeof(ledger))) != LACRE_OK)
		goto fail;
	if ((d = opendir(ledger)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, "ingest-", 7) != 0 || !site_receiver_name_ok(de->d_name + 7))
				continue;
			if ((r = logs_add(s, de->d_name + 7, v, &cnt, msg, msglen)) != LACRE_OK) {
				closedir(d);
				goto fail;
			}
		}
		closedir(d);
	} else if (errno != ENOENT) {
		lacre_msg(msg, msglen, "cannot read %s: %s", ledger, strerror(errno));
		r = LACRE_E_IO;
		goto fail;
	}
	/* receivers on other machines, known by their vkey */
	for (size_t i = 0; i < s->cfg.n_receivers; i++)
		if ((s->cfg.receivers[i].set & SITE_RCV_VKEY) &&
		    (r = logs_add(s, s->cfg.receivers[i].name, v, &cnt, msg, msglen)) != LACRE_OK)
			goto fail;
	qsort(v, cnt, sizeof(*v), log_cmp);
	/* pointers into each element, fixed after the sort moved them */
	for (size_t i = 0; i < cnt; i++) {
		if (v[i].state_dir)
			v[i].state_dir = v[i].state_buf;
		if (v[i].spool_dir)
			v[i].spool_dir = v[i].spool_buf;
	}
	*out = v;
	*n = cnt;
	return LACRE_OK;
fail:
	free(v);
	return r;
}

int site_ingest_lock_held(const char *path)
{
	int fd, running = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	/* a receiver holds LOCK_EX for its whole run (lib/ledger/log.c); a
	 * shared lock taken and dropped at once tells whether one does */
	if (flock(fd, LOCK_SH | LOCK_NB) != 0)
		running = errno == EWOULDBLOCK;
	else
		flock(fd, LOCK_UN);
	close(fd);
	return running;
}

int site_ingest_running(const struct site_ingest_log *log)
{
	char path[SITE_PATH_MAX + 8];

	if (log->state_dir == NULL ||
	    snprintf(path, sizeof(path), "%s/lock", log->state_dir) >= (int)sizeof(path))
		return 0;
	return site_ingest_lock_held(path);
}

/* Open a checkpoint note with the log's key and, when the site has a
 * witness.policy and need_quorum, its witnesses' quorum. */
static int cp_open(const struct site *s, const struct note_verifier *vk, const struct lacre_dbuf *note,
		   int need_quorum, struct checkpoint *cp, char *msg, size_t msglen, const char *what)
{
	struct policy *pol = NULL;
	struct note_verifier w[POLICY_MAX_WITNESSES];
	uint64_t cosigned = 0;
	size_t nw = 0, bad = 0;
	int r;

	if (need_quorum && s->cfg.witness_policy[0]) {
		if ((r = policy_load_file(s->cfg.witness_policy, &pol, &bad)) != LACRE_OK) {
			lacre_msg(msg, msglen, "witness.policy %s:%zu: %s", s->cfg.witness_policy, bad,
				  lacre_strerror(r));
			return r;
		}
		for (nw = 0; nw < pol->nw && nw < 63; nw++)
			w[nw] = pol->w[nw].key;
	}
	r = checkpoint_open(note->p, note->len, vk, w, nw, cp, &cosigned);
	if (r != LACRE_OK)
		lacre_msg(msg, msglen, "%s of %s does not verify with its key (%s): the backend's copy "
			  "is not that log's", what, vk->name, lacre_strerror(r));
	else if (strcmp(cp->origin, vk->name) != 0) {
		lacre_msg(msg, msglen, "%s of %s names origin %s", what, vk->name, cp->origin);
		r = LACRE_E_AUTH;
	} else if (pol && !policy_satisfied(pol, cosigned)) {
		lacre_msg(msg, msglen, "%s of %s lacks the witness quorum of %s", what, vk->name,
			  s->cfg.witness_policy);
		r = LACRE_E_AUTH;
	}
	free(pol);
	return r;
}

/* Whether the backend's tree of size cp->size extends the seen tree:
 * a consistency proof built from the backend's tiles must take seen's root
 * to cp's root. */
static int extends(struct lacre_store *store, const char *origin, const struct checkpoint *seen,
		   const struct checkpoint *cp)
{
	char prefix[TLOG_PREFIX_MAX];
	struct tiles_reader *tr = NULL;
	struct merkle_proof *proof;
	int r;

	if (seen->size == 0)
		return LACRE_OK;
	if ((r = tlog_prefix(origin, prefix, sizeof(prefix))) != LACRE_OK)
		return r;
	if ((proof = calloc(1, sizeof(*proof))) == NULL)
		return LACRE_E_NOMEM;
	if ((r = tiles_reader_new(store, prefix, cp->size, &tr)) == LACRE_OK &&
	    (r = merkle_prove_consistency(seen->size, cp->size, tiles_reader_node, tr, proof)) == LACRE_OK)
		r = merkle_verify_consistency(seen->size, cp->size, seen->root, cp->root, proof);
	if (tr)
		tiles_reader_free(tr);
	free(proof);
	return r;
}

int site_ingest_checkpoint(const struct site *s, const struct site_ingest_log *log,
			   struct lacre_store *store, struct lacre_dbuf *note, char *msg,
			   size_t msglen)
{
	char path[SITE_PATH_MAX + 16], seen_path[SITE_PATH_MAX], lock_path[SITE_PATH_MAX];
	char prefix[TLOG_PREFIX_MAX], obj[TLOG_PREFIX_MAX + 16];
	struct note_verifier vk;
	struct checkpoint cp, old;
	struct lacre_dbuf got, seen;
	int r, lockfd = -1, have_seen = 0;

	if (msglen)
		msg[0] = '\0';
	if (log->state_dir) {
		/* the receiver's own durable view on this machine */
		if (snprintf(path, sizeof(path), "%s/checkpoint", log->state_dir) >= (int)sizeof(path))
			return LACRE_E_TOO_LARGE;
		lacre_dbuf_init(&got, IL_NOTE_MAX);
		if ((r = note_read_file(path, IL_NOTE_MAX, &got)) == LACRE_OK)
			r = lacre_dbuf_add(note, got.p, got.len);
		else
			lacre_msg(msg, msglen, "%s: %s: cannot read its checkpoint %s", log->origin,
				  lacre_strerror(r), path);
		lacre_dbuf_free(&got);
		return r;
	}
	if (vkey_for(log->vkey, log->origin, &vk) != LACRE_OK) {
		lacre_msg(msg, msglen, "%s: its vkey is not the key of that origin", log->origin);
		return LACRE_E_CONFIG;
	}
	if (tlog_prefix(log->origin, prefix, sizeof(prefix)) != LACRE_OK ||
	    snprintf(obj, sizeof(obj), "%scheckpoint", prefix) >= (int)sizeof(obj))
		return LACRE_E_CONFIG;
	lacre_dbuf_init(&got, IL_NOTE_MAX);
	lacre_dbuf_init(&seen, IL_NOTE_MAX);
	if ((r = lacre_store_get(store, obj, 0, IL_NOTE_MAX, &got)) != LACRE_OK) {
		lacre_msg(msg, msglen, r == LACRE_E_NOT_FOUND ? "%s: no checkpoint %s on the backend yet "
			  "(has that receiver published one?)" : "%s: cannot read %s from the backend (%s)",
			  log->origin, obj, lacre_strerror(r));
		goto out;
	}
	if ((r = cp_open(s, &vk, &got, 1, &cp, msg, msglen, "the backend's checkpoint")) != LACRE_OK)
		goto out;
	/* the seen copy: read, compare and move forward under one lock */
	if ((r = site_path(s, IL_SEEN_DIR, seen_path, sizeof(seen_path))) != LACRE_OK)
		goto out;
	if (mkdir(seen_path, 0700) != 0 && errno != EEXIST) {
		lacre_msg(msg, msglen, "%s: cannot create %s (%s): the site's seen checkpoints need it",
			  log->origin, seen_path, strerror(errno));
		r = LACRE_E_IO;
		goto out;
	}
	if (snprintf(lock_path, sizeof(lock_path), "%s/lock", seen_path) >= (int)sizeof(lock_path) ||
	    snprintf(path, sizeof(path), "%s/ingest-%s", seen_path, log->name) >= (int)sizeof(path)) {
		r = LACRE_E_TOO_LARGE;
		goto out;
	}
	if ((lockfd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    flock(lockfd, LOCK_EX) != 0) {
		lacre_msg(msg, msglen, "%s: cannot lock %s (%s)", log->origin, lock_path, strerror(errno));
		r = LACRE_E_IO;
		goto out;
	}
	r = note_read_file(path, IL_NOTE_MAX, &seen);
	if (r == LACRE_OK) {
		have_seen = 1;
		if ((r = cp_open(s, &vk, &seen, 0, &old, msg, msglen, "the seen checkpoint")) != LACRE_OK) {
			lacre_msg(msg, msglen, "%s: the seen checkpoint %s does not verify with its key: "
				  "restore it from a backup of the site", log->origin, path);
			r = LACRE_E_CORRUPT;
			goto out;
		}
	} else if (r != LACRE_E_NOT_FOUND) {
		lacre_msg(msg, msglen, "%s: cannot read %s (%s)", log->origin, path, lacre_strerror(r));
		goto out;
	}
	r = LACRE_OK;
	if (have_seen) {
		if (cp.size < old.size) {
			lacre_msg(msg, msglen, "%s: rollback: the backend serves a checkpoint of size %llu, "
				  "older than size %llu this site has seen (%s)", log->origin,
				  (unsigned long long)cp.size, (unsigned long long)old.size, path);
			r = LACRE_E_ROLLBACK;
			goto out;
		}
		if (cp.size == old.size && memcmp(cp.root, old.root, MERKLE_HASH_LEN) != 0) {
			lacre_msg(msg, msglen, "%s: fork: the backend's checkpoint of size %llu has another "
				  "root than the one this site has seen (%s)", log->origin,
				  (unsigned long long)cp.size, path);
			r = LACRE_E_FORK;
			goto out;
		}
		if (cp.size > old.size && (r = extends(store, log->origin, &old, &cp)) != LACRE_OK) {
			lacre_msg(msg, msglen, "%s: fork: the backend's checkpoint of size %llu does not "
				  "extend size %llu this site has seen (no valid consistency proof from the "
				  "tiles: %s)", log->origin, (unsigned long long)cp.size,
				  (unsigned long long)old.size, lacre_strerror(r));
			r = LACRE_E_FORK;
			goto out;
		}
	}
	if ((!have_seen || cp.size > old.size) &&
	    (r = site_write_file(path, got.p, got.len, 0600)) != LACRE_OK) {
		lacre_msg(msg, msglen, "%s: cannot keep the seen checkpoint %s (%s)", log->origin, path,
			  lacre_strerror(r));
		goto out;
	}
	r = lacre_dbuf_add(note, got.p, got.len);
out:
	if (lockfd >= 0)
		close(lockfd);
	lacre_dbuf_free(&got);
	lacre_dbuf_free(&seen);
	return r;
}
