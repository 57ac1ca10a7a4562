/*
 * package.c - the evidence package container (include/lacre/package.h,
 * docs/FORMATS.md §9): written as one age v1 stream straight to a
 * temporary file (the plaintext never touches the disk), read back by the
 * verifier from the decrypted plaintext through the checked buffer.
 *
 * Depends on libcrypto and lib/seal/age.c only: lacre-verify links it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/package.h"

#define PKG_FLUSH_AT (1u << 20)   /* write ciphertext out once 1 MiB is buffered */
#define PKG_PATH_MAX 4096

struct package_writer {
	char path[PKG_PATH_MAX];
	char tmp[PKG_PATH_MAX + 8];
	int fd;
	int made_tmp;                 /* tmp is ours: created by this writer */
	struct age_writer *aw;
	struct lacre_dbuf out;        /* ciphertext waiting for write(2) */
	uint64_t plain;
	char last[PACKAGE_NAME_MAX + 1];
	int finished;
	struct lacre_dbuf *keep;      /* a copy of the plaintext (package_writer_keep), or NULL */
};

/* Whether name follows the member-name rules (object-name rules, <= 255). */
static int pkg_name_ok(const char *name, size_t n)
{
	size_t i;

	if (n == 0 || n > PACKAGE_NAME_MAX || name[0] == '/' || name[n - 1] == '/')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || c == '/'))
			return 0;
		if (c == '/' && name[i + 1] == '/')
			return 0;
	}
	return 1;
}

/* write(2) all of out's bytes to the temporary file and empty it. */
static int pkg_drain(struct package_writer *w)
{
	size_t off = 0;

	while (off < w->out.len) {
		ssize_t k = write(w->fd, w->out.p + off, w->out.len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return LACRE_E_IO;
		off += (size_t)k;
	}
	lacre_dbuf_reset(&w->out);
	return LACRE_OK;
}

/* Feed plaintext to the age writer, draining ciphertext as it grows. */
static int pkg_put(struct package_writer *w, const void *p, size_t n)
{
	const uint8_t *b = p;
	int r;

	while (n) {
		size_t k = n > PKG_FLUSH_AT ? PKG_FLUSH_AT : n;
		if ((r = age_writer_write(w->aw, b, k)) != LACRE_OK)
			return r;
		if (w->keep && (r = lacre_dbuf_add(w->keep, b, k)) != LACRE_OK)
			return r;
		b += k;
		n -= k;
		w->plain += k;
		if (w->out.len >= PKG_FLUSH_AT && (r = pkg_drain(w)) != LACRE_OK)
			return r;
	}
	return LACRE_OK;
}

/* Open the temporary file and start the age stream (see package.h). */
int package_writer_open(const char *path, const uint8_t court[32], struct package_writer **out)
{
	struct package_writer *w;
	struct stat st;
	uint8_t rc[1][32];
	int r;

	if (!path || strlen(path) >= PKG_PATH_MAX)
		return LACRE_E_INVALID;
	/* lstat: a symbolic link there, even a dangling one, is an existing
	 * name (finish's link() would refuse it too; say so before the work) */
	if (lstat(path, &st) == 0)
		return LACRE_E_EXISTS;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return LACRE_E_NOMEM;
	w->fd = -1;
	snprintf(w->path, sizeof(w->path), "%s", path);
	snprintf(w->tmp, sizeof(w->tmp), "%s.tmp", path);
	lacre_dbuf_init(&w->out, (size_t)8 << 20);
	memcpy(rc[0], court, 32);
	/* a new file only: never through a symbolic link planted at PATH.tmp
	 * (O_NOFOLLOW) and never over an existing file (O_EXCL), which would let
	 * whoever can write PATH's folder make export overwrite another file;
	 * a leftover PATH.tmp is reported, not reused */
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		r = errno == EEXIST || errno == ELOOP ? LACRE_E_EXISTS : LACRE_E_IO;
		goto fail;
	}
	w->made_tmp = 1;
	if ((r = age_writer_new((const uint8_t (*)[32])rc, 1, &w->out, &w->aw)) != LACRE_OK ||
	    (r = pkg_put(w, PACKAGE_MAGIC, PACKAGE_MAGIC_LEN)) != LACRE_OK)
		goto fail;
	*out = w;
	return LACRE_OK;
fail:
	package_writer_free(w);
	return r;
}

/* Keep a copy of the plaintext from the magic on (see package.h). */
int package_writer_keep(struct package_writer *w, struct lacre_dbuf *plain)
{
	int r;

	if (!w || w->keep || w->plain != PACKAGE_MAGIC_LEN)
		return LACRE_E_INVALID;
	if ((r = lacre_dbuf_add(plain, PACKAGE_MAGIC, PACKAGE_MAGIC_LEN)) != LACRE_OK)
		return r;
	w->keep = plain;
	return LACRE_OK;
}

/* Append one member (see package.h). */
int package_writer_add(struct package_writer *w, const char *name, const void *p, size_t n,
		       uint8_t sha256[32])
{
	size_t nl = name ? strlen(name) : 0;
	uint8_t hdr[1 + PACKAGE_NAME_MAX + 8];
	uint64_t len = n;
	int r, i;

	if (!w || w->finished || !pkg_name_ok(name, nl) || !strcmp(name, w->last))
		return LACRE_E_INVALID;
	hdr[0] = (uint8_t)nl;
	memcpy(hdr + 1, name, nl);
	for (i = 0; i < 8; i++)
		hdr[1 + nl + (size_t)i] = (uint8_t)(len >> (56 - 8 * i));
	if ((r = pkg_put(w, hdr, 1 + nl + 8)) != LACRE_OK || (r = pkg_put(w, p, n)) != LACRE_OK)
		return r;
	if (sha256 && EVP_Digest(p, n, sha256, NULL, EVP_sha256(), NULL) != 1)
		return LACRE_E_CRYPTO;
	memcpy(w->last, name, nl + 1);
	return LACRE_OK;
}

/* Plaintext bytes so far. */
uint64_t package_writer_plain_size(const struct package_writer *w)
{
	return w->plain;
}

/* Final chunk, fsync, rename, fsync of the folder. */
int package_writer_finish(struct package_writer *w)
{
	char dir[PKG_PATH_MAX];
	char *slash;
	int r, dfd;

	if (!w || w->finished)
		return LACRE_E_STATE;
	if ((r = age_writer_finish(w->aw, NULL)) != LACRE_OK || (r = pkg_drain(w)) != LACRE_OK)
		return r;
	if (fsync(w->fd) != 0 || close(w->fd) != 0) {
		w->fd = -1;
		return LACRE_E_IO;
	}
	w->fd = -1;
	if (link(w->tmp, w->path) != 0)
		return errno == EEXIST ? LACRE_E_EXISTS : LACRE_E_IO;
	unlink(w->tmp);
	snprintf(dir, sizeof(dir), "%s", w->path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	w->finished = 1;
	return LACRE_OK;
}

/* Free the writer; remove an unfinished temporary file. */
void package_writer_free(struct package_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (!w->finished && w->made_tmp)
		unlink(w->tmp);
	age_writer_free(w->aw);
	lacre_dbuf_free(&w->out);
	free(w);
}

/* ---- reading ---- */

static const struct package *pkg_sort_ctx;

/* qsort comparator: member indexes by name. */
static int pkg_cmp(const void *a, const void *b)
{
	const struct package *pk = pkg_sort_ctx;
	return strcmp(pk->m[*(const size_t *)a].name, pk->m[*(const size_t *)b].name);
}

/* Free a parsed package, wiping its plaintext. */
void package_free(struct package *pk)
{
	if (!pk)
		return;
	if (pk->plain) {
		OPENSSL_cleanse(pk->plain, pk->plain_len);
		free(pk->plain);
	}
	free(pk->m);
	free(pk->sorted);
	free(pk->names);
	free(pk);
}

/* Parse the member list of the plaintext held by pk. */
static int pkg_parse_members(struct package *pk, char *msg, size_t msglen)
{
	struct lacre_rbuf b, cnt;
	size_t cap = 0, names_len = 0, no = 0, i;
	uint8_t nl;
	uint64_t len;
	const uint8_t *np, *dp;
	int r;

	lacre_rbuf_init(&b, pk->plain, pk->plain_len);
	if (lacre_rbuf_take(&b, PACKAGE_MAGIC_LEN, &np) != LACRE_OK ||
	    memcmp(np, PACKAGE_MAGIC, PACKAGE_MAGIC_LEN) != 0) {
		snprintf(msg, msglen, "the plaintext does not start with \"lacre-evidence/v1\"");
		return LACRE_E_MALFORMED;
	}
	/* first pass: count members and name bytes (nothing allocated from a
	 * declared length: every length is checked against what is left) */
	cnt = b;
	while (lacre_rbuf_left(&cnt)) {
		uint64_t off = cnt.off;
		if ((r = lacre_rbuf_u8(&cnt, &nl)) != LACRE_OK || nl == 0 ||
		    (r = lacre_rbuf_take(&cnt, nl, &np)) != LACRE_OK ||
		    (r = lacre_rbuf_u64be(&cnt, &len)) != LACRE_OK ||
		    len > lacre_rbuf_left(&cnt) || (r = lacre_rbuf_skip(&cnt, (size_t)len)) != LACRE_OK) {
			snprintf(msg, msglen, "member %zu at plaintext offset %llu: %s", cap + 1,
				 (unsigned long long)off,
				 nl == 0 ? "empty name" : "the package ends inside it (truncated)");
			return nl == 0 ? LACRE_E_MALFORMED : LACRE_E_INCOMPLETE;
		}
		if (++cap > PACKAGE_MEMBERS_MAX) {
			snprintf(msg, msglen, "more than %u members", PACKAGE_MEMBERS_MAX);
			return LACRE_E_TOO_LARGE;
		}
		names_len += (size_t)nl + 1;
	}
	if (cap < 2) {
		snprintf(msg, msglen, "the package has %zu members: manifest.txt and manifest.sig are required", cap);
		return LACRE_E_MALFORMED;
	}
	pk->m = calloc(cap, sizeof(*pk->m));
	pk->sorted = calloc(cap, sizeof(*pk->sorted));
	pk->names = malloc(names_len);
	if (!pk->m || !pk->sorted || !pk->names)
		return LACRE_E_NOMEM;
	for (i = 0; i < cap; i++) {
		struct package_member *m = &pk->m[i];
		m->offset = b.off;
		if (lacre_rbuf_u8(&b, &nl) != LACRE_OK || lacre_rbuf_take(&b, nl, &np) != LACRE_OK ||
		    lacre_rbuf_u64be(&b, &len) != LACRE_OK ||
		    lacre_rbuf_take(&b, (size_t)len, &dp) != LACRE_OK)
			return LACRE_E_INTERNAL;
		memcpy(pk->names + no, np, nl);
		pk->names[no + nl] = 0;
		m->name = pk->names + no;
		no += (size_t)nl + 1;
		if (!pkg_name_ok(m->name, nl) || strlen(m->name) != nl) {
			snprintf(msg, msglen, "member %zu at plaintext offset %llu: invalid name", i + 1,
				 (unsigned long long)m->offset);
			return LACRE_E_MALFORMED;
		}
		m->p = dp;
		m->len = (size_t)len;
		pk->sorted[i] = i;
	}
	pk->n = cap;
	pkg_sort_ctx = pk;
	qsort(pk->sorted, cap, sizeof(*pk->sorted), pkg_cmp);
	pkg_sort_ctx = NULL;
	for (i = 1; i < cap; i++)
		if (!strcmp(pk->m[pk->sorted[i]].name, pk->m[pk->sorted[i - 1]].name)) {
			snprintf(msg, msglen, "member name \"%s\" appears twice", pk->m[pk->sorted[i]].name);
			return LACRE_E_MALFORMED;
		}
	if (strcmp(pk->m[cap - 2].name, PACKAGE_MANIFEST) || strcmp(pk->m[cap - 1].name, PACKAGE_SIGNATURE)) {
		snprintf(msg, msglen, "the last two members are \"%s\" and \"%s\", not manifest.txt and manifest.sig",
			 pk->m[cap - 2].name, pk->m[cap - 1].name);
		return LACRE_E_MALFORMED;
	}
	return LACRE_OK;
}

/* Parse a plaintext (copied), see package.h. */
int package_parse(const uint8_t *p, size_t n, struct package **out, char *msg, size_t msglen)
{
	struct package *pk;
	int r;

	if (msglen)
		msg[0] = 0;
	if (n > PACKAGE_PLAIN_MAX)
		return LACRE_E_TOO_LARGE;
	if ((pk = calloc(1, sizeof(*pk))) == NULL)
		return LACRE_E_NOMEM;
	if ((pk->plain = malloc(n ? n : 1)) == NULL) {
		free(pk);
		return LACRE_E_NOMEM;
	}
	memcpy(pk->plain, p, n);
	pk->plain_len = n;
	if ((r = pkg_parse_members(pk, msg, msglen)) != LACRE_OK) {
		package_free(pk);
		return r;
	}
	*out = pk;
	return LACRE_OK;
}

/* Decrypt with the court identity, then parse (see package.h). */
int package_open(const uint8_t *in, size_t n, const struct age_x25519_identity *id,
		 struct package **out, char *msg, size_t msglen)
{
	struct age_reader *ar = NULL;
	struct lacre_dbuf plain;
	struct package *pk;
	uint64_t chunk = 0;
	int r, final = 0;

	if (msglen)
		msg[0] = 0;
	lacre_dbuf_init(&plain, PACKAGE_PLAIN_MAX);
	lacre_dbuf_set_secret(&plain);
	if ((r = age_reader_new(in, n, id, &ar)) != LACRE_OK) {
		snprintf(msg, msglen, "%s",
			 r == LACRE_E_AUTH ? "the package is not sealed to this identity" :
			 r == LACRE_E_CORRUPT ? "the package's age header was altered (its MAC fails)" :
			 r == LACRE_E_TRUNCATED ? "the package ends inside its age header" :
			 "not an age v1 file");
		goto out;
	}
	while (!final) {
		if ((r = age_reader_next(ar, &plain, &final)) != LACRE_OK) {
			snprintf(msg, msglen, "package bytes altered or cut: age chunk %llu (plaintext "
				 "offset %llu): %s", (unsigned long long)chunk,
				 (unsigned long long)chunk * AGE_CHUNK_SIZE,
				 r == LACRE_E_CORRUPT ? "its authentication tag fails" :
				 r == LACRE_E_TRUNCATED ? "the file ends before the final chunk" :
				 r == LACRE_E_TRAILING ? "bytes follow the final chunk" : lacre_strerror(r));
			goto out;
		}
		chunk++;
	}
	if ((pk = calloc(1, sizeof(*pk))) == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	pk->plain = lacre_dbuf_steal(&plain, &pk->plain_len);
	if (!pk->plain) {
		package_free(pk);
		r = LACRE_E_MALFORMED;
		snprintf(msg, msglen, "the package is empty");
		goto out;
	}
	if ((r = pkg_parse_members(pk, msg, msglen)) != LACRE_OK) {
		package_free(pk);
		goto out;
	}
	*out = pk;
out:
	age_reader_free(ar);
	lacre_dbuf_free(&plain);
	return r;
}

/* Binary search by name. */
const struct package_member *package_find(const struct package *pk, const char *name)
{
	size_t lo = 0, hi = pk->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(pk->m[pk->sorted[mid]].name, name);
		if (c == 0)
			return &pk->m[pk->sorted[mid]];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
