/*
 * signer.c - the log signer's core (signer.h): the only holder of the
 * ingest log's key, and the one place that decides whether a checkpoint
 * may be signed.
 *
 * Its folder (0700, not writable by group or others, one signer at a time
 * by flock on "lock"):
 *   ingest.key   the log's Ed25519 private key (0600; name = origin)
 *   ingest.vkey  its public half
 *   state        "lacre-signer-state v1\norigin O\nsize N\nroot B64\n":
 *                the last signed (size, root); replaced atomically (tmp,
 *                fsync, rename, fsync folder) BEFORE a signature leaves
 *   refusals     one line per fork, rollback or bad proof (appended,
 *                fsync'd): the evidence that someone tried
 *
 * The rule (the tlog-witness checks, for a signer): the origin is this
 * log's; a size below the last signed one is a rollback; the same size
 * needs the same root (then it signs again: a receiver that lost the
 * answer asks twice), else it is a fork; a larger size needs the proof to
 * start at the last signed size and to verify from its root.  Anything
 * else is refused with a reason line and changes nothing.
 *
 * First start with a legacy key (DIR/ledger/ingest.key of a site that
 * signed in-process): the last checkpoint the receiver signed (its log
 * state file) is verified with that key and adopted as the state, then the
 * key is written here and the old file removed, in that order, so a crash
 * at any point leaves a start that redoes or finishes the move.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lacre/err.h"
#include "lacre/fsync.h"
#include "lacre/signer.h"

#define STATE_MAX 4096
#define LEGACY_STATE_MAX (NOTE_MAX_SIZE + 256 * 1024)

struct signer {
	char dir[4096];
	int dirfd, lockfd;
	struct note_signer *key;
	struct note_verifier pub;
	uint64_t size;
	uint8_t root[MERKLE_HASH_LEN];
};

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

/* Replace name in the folder atomically and durably (tmp, fsync, rename,
 * fsync folder); mode 0600. */
static int atomic_write(struct signer *s, const char *name, const void *p, size_t len)
{
	char tmp[64];
	int fd, rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return LACRE_E_IO;
	rc = write_all(fd, p, len);
	if (rc == LACRE_OK && fsync(fd) != 0)
		rc = LACRE_E_IO;
	close(fd);
	if (rc == LACRE_OK && renameat(s->dirfd, tmp, s->dirfd, name) != 0)
		rc = LACRE_E_IO;
	if (rc == LACRE_OK && fsync(s->dirfd) != 0)
		rc = LACRE_E_IO;
	if (rc != LACRE_OK)
		unlinkat(s->dirfd, tmp, 0);
	return rc;
}

/* Read a whole small file (at most cap bytes) into out. */
static int read_small(int dirfd, const char *name, size_t cap, struct lacre_dbuf *out)
{
	uint8_t buf[4096];
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

/* The state file's text for (size, root). */
static int state_text(const struct signer *s, uint64_t size, const uint8_t root[MERKLE_HASH_LEN],
		      struct lacre_dbuf *d)
{
	int rc;

	if ((rc = lacre_dbuf_printf(d, "lacre-signer-state v1\norigin %s\nsize %llu\nroot ",
				    s->pub.name, (unsigned long long)size)) != LACRE_OK ||
	    (rc = note_b64_encode(root, MERKLE_HASH_LEN, d)) != LACRE_OK)
		return rc;
	return lacre_dbuf_add_u8(d, '\n');
}

/* Commit (size, root) durably, then adopt it. */
static int state_commit(struct signer *s, uint64_t size, const uint8_t root[MERKLE_HASH_LEN])
{
	struct lacre_dbuf d;
	int rc;

	lacre_dbuf_init(&d, STATE_MAX);
	if ((rc = state_text(s, size, root, &d)) == LACRE_OK &&
	    (rc = atomic_write(s, "state", d.p, d.len)) == LACRE_OK) {
		s->size = size;
		memcpy(s->root, root, MERKLE_HASH_LEN);
	}
	lacre_dbuf_free(&d);
	return rc;
}

/* One "key value\n" line; the value must be non-empty. */
static int line_kv(struct lacre_rbuf *b, const char *key, const char **v, size_t *vlen)
{
	const uint8_t *p = lacre_rbuf_ptr(b);
	size_t left = lacre_rbuf_left(b), kl = strlen(key), i;

	for (i = 0; i < left && p[i] != '\n'; i++)
		;
	if (i == left || i < kl + 2 || memcmp(p, key, kl) != 0 || p[kl] != ' ')
		return LACRE_E_CORRUPT;
	*v = (const char *)p + kl + 1;
	*vlen = i - kl - 1;
	return lacre_rbuf_skip(b, i + 1);
}

/* A decimal without leading zeros, <= 2^63 - 1. */
static int parse_u64(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 19 || (n > 1 && v[0] == '0'))
		return LACRE_E_CORRUPT;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return LACRE_E_CORRUPT;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > MERKLE_MAX_SIZE)
		return LACRE_E_CORRUPT;
	*out = x;
	return LACRE_OK;
}

/* Load DIR/state (absent: nothing signed yet, the empty tree). */
static int state_load(struct signer *s, char *msg, size_t msglen)
{
	struct lacre_dbuf d;
	struct lacre_rbuf b;
	const char *v;
	size_t n, rl;
	uint8_t root[40];
	uint64_t size;
	int rc;

	lacre_dbuf_init(&d, STATE_MAX + 1);
	rc = read_small(s->dirfd, "state", STATE_MAX, &d);
	if (rc == LACRE_E_NOT_FOUND) {
		s->size = 0;
		merkle_empty_root(s->root);
		rc = LACRE_OK;
		goto out;
	}
	if (rc != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot read %s/state: %s", s->dir, lacre_strerror(rc));
		goto out;
	}
	lacre_rbuf_init(&b, d.p, d.len);
	rc = LACRE_E_CORRUPT;
	if (d.len < 22 || memcmp(d.p, "lacre-signer-state v1\n", 22) != 0)
		goto bad;
	lacre_rbuf_skip(&b, 22);
	if (line_kv(&b, "origin", &v, &n) != LACRE_OK)
		goto bad;
	if (n != strlen(s->pub.name) || memcmp(v, s->pub.name, n) != 0) {
		rc = LACRE_E_CONFIG;
		lacre_msg(msg, msglen, "%s/state belongs to another log than the key %s/ingest.key "
			  "(%s): restore the matching pair", s->dir, s->dir, s->pub.name);
		goto out;
	}
	if (line_kv(&b, "size", &v, &n) != LACRE_OK || parse_u64(v, n, &size) != LACRE_OK ||
	    line_kv(&b, "root", &v, &n) != LACRE_OK ||
	    note_b64_decode(v, n, root, sizeof(root), &rl) != LACRE_OK || rl != MERKLE_HASH_LEN ||
	    lacre_rbuf_expect_end(&b) != LACRE_OK)
		goto bad;
	s->size = size;
	memcpy(s->root, root, MERKLE_HASH_LEN);
	rc = LACRE_OK;
	goto out;
bad:
	lacre_msg(msg, msglen, "%s/state is damaged: restore it from a backup (the signer "
		  "never starts over on its own: that would allow a rollback)", s->dir);
out:
	lacre_dbuf_free(&d);
	return rc;
}

/* Adopt the last checkpoint of a receiver that signed in-process: its log
 * state file is header lines, an empty line, then the signed note. */
static int legacy_adopt(struct signer *s, const char *path, char *msg, size_t msglen)
{
	struct lacre_dbuf d;
	struct checkpoint cp;
	const uint8_t *sep;
	int rc;

	lacre_dbuf_init(&d, LEGACY_STATE_MAX + 1);
	rc = note_read_file(path, LEGACY_STATE_MAX, &d);
	if (rc == LACRE_E_NOT_FOUND) {
		rc = LACRE_OK;          /* the receiver never signed: nothing to adopt */
		goto out;
	}
	if (rc != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot read the receiver's log state %s: %s", path,
			  lacre_strerror(rc));
		goto out;
	}
	rc = LACRE_E_CORRUPT;
	if (d.len < 2 || (sep = memmem(d.p, d.len, "\n\n", 2)) == NULL ||
	    checkpoint_open(sep + 2, d.len - (size_t)(sep + 2 - d.p), &s->pub, NULL, 0, &cp,
			    NULL) != LACRE_OK || strcmp(cp.origin, s->pub.name) != 0) {
		lacre_msg(msg, msglen, "the receiver's log state %s holds no checkpoint signed by "
			  "the moved key: check the site, or restore the state", path);
		goto out;
	}
	rc = state_commit(s, cp.size, cp.root);
	if (rc != LACRE_OK)
		lacre_msg(msg, msglen, "cannot write %s/state: %s", s->dir, lacre_strerror(rc));
out:
	lacre_dbuf_free(&d);
	return rc;
}

/* Write the private key as DIR/ingest.key (0600, fsync'd, new file). */
static int key_write(struct signer *s)
{
	struct lacre_dbuf txt;
	int rc;

	lacre_dbuf_init(&txt, 4096);
	lacre_dbuf_set_secret(&txt);
	if ((rc = note_signer_format(s->key, &txt)) == LACRE_OK &&
	    (rc = lacre_dbuf_add_u8(&txt, '\n')) == LACRE_OK)
		rc = atomic_write(s, "ingest.key", txt.p, txt.len);
	lacre_dbuf_free(&txt);
	return rc;
}

/* Load, move or make the key (see the file comment). */
static int key_setup(struct signer *s, const struct signer_config *cfg, char *msg, size_t msglen)
{
	char path[4200];
	struct note_signer *old = NULL;
	struct note_verifier ov;
	int rc;

	snprintf(path, sizeof(path), "%s/ingest.key", s->dir);
	rc = note_signer_load(path, &s->key);
	if (rc == LACRE_OK) {
		note_signer_public(s->key, &s->pub);
		/* a move that crashed before removing the old file */
		if (cfg->legacy_key && note_signer_load(cfg->legacy_key, &old) == LACRE_OK) {
			note_signer_public(old, &ov);
			if (CRYPTO_memcmp(&ov, &s->pub, sizeof(ov)) == 0 && unlink(cfg->legacy_key) == 0)
				fprintf(stderr, "lacre-signer: removed %s (the key was moved to %s)\n",
					cfg->legacy_key, path);
			note_signer_free(old);
		}
		return LACRE_OK;
	}
	if (rc != LACRE_E_NOT_FOUND) {
		lacre_msg(msg, msglen, "cannot load %s: %s%s", path, lacre_strerror(rc),
			  rc == LACRE_E_DENIED ? " (chmod 600 it)" : "");
		return rc;
	}
	if (cfg->legacy_key && (rc = note_signer_load(cfg->legacy_key, &s->key)) != LACRE_E_NOT_FOUND) {
		if (rc != LACRE_OK) {
			lacre_msg(msg, msglen, "cannot load the receiver's key %s: %s", cfg->legacy_key,
				  lacre_strerror(rc));
			return rc;
		}
		note_signer_public(s->key, &s->pub);
		if (cfg->legacy_state && (rc = legacy_adopt(s, cfg->legacy_state, msg, msglen)) != LACRE_OK)
			return rc;
		if ((rc = key_write(s)) != LACRE_OK) {
			lacre_msg(msg, msglen, "cannot write %s: %s", path, lacre_strerror(rc));
			return rc;
		}
		if (unlink(cfg->legacy_key) != 0) {
			lacre_msg(msg, msglen, "moved the key to %s but cannot remove %s: %s (remove "
				  "it by hand)", path, cfg->legacy_key, strerror(errno));
			return LACRE_E_IO;
		}
		fprintf(stderr, "lacre-signer: moved the ingest log key %s to %s\n", cfg->legacy_key, path);
		return LACRE_OK;
	}
	if (cfg->origin == NULL) {
		lacre_msg(msg, msglen, "no key in %s: give --origin lacre/<site name>/ingest to make "
			  "one, or --site to move the receiver's", s->dir);
		return LACRE_E_NOT_FOUND;
	}
	if (!note_name_valid(cfg->origin)) {
		lacre_msg(msg, msglen, "--origin %s is not a valid log name", cfg->origin);
		return LACRE_E_CONFIG;
	}
	if ((rc = note_signer_generate(cfg->origin, NOTE_TYPE_ED25519, &s->key)) != LACRE_OK)
		return rc;
	note_signer_public(s->key, &s->pub);
	if ((rc = key_write(s)) != LACRE_OK)
		lacre_msg(msg, msglen, "cannot write %s: %s", path, lacre_strerror(rc));
	return rc;
}

/* Open the signer (signer.h). */
int signer_open(const struct signer_config *cfg, struct signer **out, char *msg, size_t msglen)
{
	struct signer *s;
	struct lacre_dbuf vk;
	struct stat st;
	int rc = LACRE_E_NOMEM;

	lacre_dbuf_init(&vk, 1024);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return rc;
	s->dirfd = s->lockfd = -1;
	rc = LACRE_E_CONFIG;
	if (strlen(cfg->dir) >= sizeof(s->dir) - 64) {
		lacre_msg(msg, msglen, "the signer folder path is too long");
		goto fail;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", cfg->dir);
	if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
		rc = LACRE_E_IO;
		lacre_msg(msg, msglen, "cannot make the signer folder %s: %s", s->dir, strerror(errno));
		goto fail;
	}
	if (lstat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 022) ||
	    st.st_uid != geteuid()) {
		lacre_msg(msg, msglen, "the signer folder %s must be a folder of the signer's user "
			  "that no group or other may write (chmod 700 it)", s->dir);
		goto fail;
	}
	rc = LACRE_E_IO;
	if ((s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
	    (s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		lacre_msg(msg, msglen, "cannot open the signer folder %s: %s", s->dir, strerror(errno));
		goto fail;
	}
	rc = LACRE_E_STATE;
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		lacre_msg(msg, msglen, "another signer uses %s", s->dir);
		goto fail;
	}
	if ((rc = key_setup(s, cfg, msg, msglen)) != LACRE_OK ||
	    (rc = state_load(s, msg, msglen)) != LACRE_OK)
		goto fail;
	if ((rc = note_verifier_format(&s->pub, &vk)) != LACRE_OK ||
	    (rc = lacre_dbuf_add_u8(&vk, '\n')) != LACRE_OK ||
	    (rc = atomic_write(s, "ingest.vkey", vk.p, vk.len)) != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot write %s/ingest.vkey", s->dir);
		goto fail;
	}
	lacre_dbuf_free(&vk);
	*out = s;
	return LACRE_OK;
fail:
	lacre_dbuf_free(&vk);
	signer_close(s);
	return rc;
}

/* Close and wipe the key. */
void signer_close(struct signer *s)
{
	if (s == NULL)
		return;
	note_signer_free(s->key);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

const char *signer_origin(const struct signer *s)
{
	return s->pub.name;
}

uint64_t signer_size(const struct signer *s)
{
	return s->size;
}

void signer_root(const struct signer *s, uint8_t out[MERKLE_HASH_LEN])
{
	memcpy(out, s->root, MERKLE_HASH_LEN);
}

void signer_public(const struct signer *s, struct note_verifier *out)
{
	*out = s->pub;
}

/* Append a refusal worth keeping (fork, rollback, bad proof) to
 * DIR/refusals, fsync'd: "<unix time> <reason> size <N> root <B64>
 * signed <S> <B64>". */
static void record_refusal(struct signer *s, unsigned reason, const struct signer_request *rq)
{
	struct lacre_dbuf d;
	int fd;

	lacre_dbuf_init(&d, 1024);
	if (lacre_dbuf_printf(&d, "%lld %s size %llu root ", (long long)time(NULL),
			      signer_reason_name(reason), (unsigned long long)rq->size) != LACRE_OK ||
	    note_b64_encode(rq->root, MERKLE_HASH_LEN, &d) != LACRE_OK ||
	    lacre_dbuf_printf(&d, " signed %llu ", (unsigned long long)s->size) != LACRE_OK ||
	    note_b64_encode(s->root, MERKLE_HASH_LEN, &d) != LACRE_OK ||
	    lacre_dbuf_add_u8(&d, '\n') != LACRE_OK)
		goto out;
	fd = openat(s->dirfd, "refusals", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		if (write_all(fd, d.p, d.len) == LACRE_OK)
			fsync(fd);
		close(fd);
	}
out:
	lacre_dbuf_free(&d);
}

/* Build a refusal answer and its reason line. */
static int refuse(struct signer *s, unsigned reason, const struct signer_request *rq,
		  struct lacre_dbuf *out, char *line_out, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
static int refuse(struct signer *s, unsigned reason, const struct signer_request *rq,
		  struct lacre_dbuf *out, char *line_out, size_t cap, const char *fmt, ...)
{
	char line[SIGNER_REASON_MAX + 1];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (rq && (reason == SIGNER_R_FORK || reason == SIGNER_R_ROLLBACK || reason == SIGNER_R_PROOF))
		record_refusal(s, reason, rq);
	if (line_out && cap)
		snprintf(line_out, cap, "%s: %s", signer_reason_name(reason), line);
	if ((rc = signer_answer_refuse((uint8_t)reason, s->size, line, out)) != LACRE_OK)
		return rc;
	return signer_reason_err(reason);
}

/* Sign (size, root) after committing it (signer.h). */
static int sign_and_answer(struct signer *s, const struct signer_request *rq,
			   struct lacre_dbuf *out, char *line, size_t cap)
{
	struct lacre_dbuf text, note;
	int rc;

	lacre_dbuf_init(&text, 1024);
	lacre_dbuf_init(&note, SIGNER_MSG_MAX);
	if ((rc = checkpoint_format(s->pub.name, rq->size, rq->root, &text)) != LACRE_OK ||
	    (rc = note_sign(s->key, text.p, text.len, &note)) != LACRE_OK)
		goto fail;
	/* durable first: a signature never leaves for a state not on disk */
	if (rq->size != s->size && (rc = state_commit(s, rq->size, rq->root)) != LACRE_OK)
		goto fail;
	rc = signer_answer_ok(note.p, note.len, out);
	goto done;
fail:
	rc = refuse(s, SIGNER_R_INTERNAL, NULL, out, line, cap, "cannot sign or commit the state: %s",
		    lacre_strerror(rc));
done:
	lacre_dbuf_free(&text);
	lacre_dbuf_free(&note);
	return rc;
}

/* Handle one request body (signer.h). */
int signer_handle(struct signer *s, const void *req, size_t len, struct lacre_dbuf *out,
		  char *line, size_t cap)
{
	struct signer_request rq;
	struct lacre_dbuf vk;
	int rc;

	if (line && cap)
		line[0] = '\0';
	if ((rc = signer_request_parse(req, len, &rq)) != LACRE_OK)
		return refuse(s, SIGNER_R_MALFORMED, NULL, out, line, cap,
			      "the request does not parse (%s)", lacre_strerror(rc));
	if (rq.type == SIGNER_REQ_KEY) {
		lacre_dbuf_init(&vk, 1024);
		if ((rc = note_verifier_format(&s->pub, &vk)) == LACRE_OK)
			rc = signer_answer_ok(vk.p, vk.len, out);
		lacre_dbuf_free(&vk);
		return rc;
	}
	if (strcmp(rq.origin, s->pub.name) != 0)
		return refuse(s, SIGNER_R_ORIGIN, &rq, out, line, cap,
			      "this signer signs %s only", s->pub.name);
	if (rq.size < s->size)
		return refuse(s, SIGNER_R_ROLLBACK, &rq, out, line, cap,
			      "size %llu is below the last signed size %llu",
			      (unsigned long long)rq.size, (unsigned long long)s->size);
	if (rq.size == s->size) {
		if (CRYPTO_memcmp(rq.root, s->root, MERKLE_HASH_LEN) != 0)
			return refuse(s, SIGNER_R_FORK, &rq, out, line, cap,
				      "size %llu was signed with another root",
				      (unsigned long long)rq.size);
		return sign_and_answer(s, &rq, out, line, cap);
	}
	if (rq.old_size != s->size)
		return refuse(s, SIGNER_R_STALE, &rq, out, line, cap,
			      "the proof starts at size %llu, the last signed size is %llu",
			      (unsigned long long)rq.old_size, (unsigned long long)s->size);
	if (merkle_verify_consistency(s->size, rq.size, s->root, rq.root, &rq.proof) != LACRE_OK)
		return refuse(s, SIGNER_R_PROOF, &rq, out, line, cap,
			      "the consistency proof from size %llu to %llu does not verify",
			      (unsigned long long)s->size, (unsigned long long)rq.size);
	return sign_and_answer(s, &rq, out, line, cap);
}
