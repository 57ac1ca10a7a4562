/*
 * receipt.c - inclusion receipts in the C2SP tlog-proof format (spec §8):
 *   c2sp.org/tlog-proof@v1
 *   [extra <base64>]            ignored when read (not authenticated)
 *   index <i>
 *   <base64 hash>...            inclusion proof, leaf sibling first
 *   <empty line>
 *   <checkpoint with its signatures>
 * Verification: the checkpoint is signed by the log key, the quorum of
 * trusted witnesses cosigned it, and the proof takes the leaf to its root.
 * Depends on libcrypto only: lacre-verify links this file.
 */
#include <fcntl.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/note.h"

#define HEADER "c2sp.org/tlog-proof@v1\n"

/* Write a receipt. */
int receipt_format(uint64_t index, const struct merkle_proof *proof,
		   const void *cp, size_t cp_len, struct lacre_dbuf *out)
{
	int rc;

	if ((rc = lacre_dbuf_printf(out, HEADER "index %llu\n", (unsigned long long)index)) != LACRE_OK)
		return rc;
	for (size_t i = 0; i < proof->n; i++)
		if ((rc = note_b64_encode(proof->h[i], MERKLE_HASH_LEN, out)) != LACRE_OK ||
		    (rc = lacre_dbuf_add_u8(out, '\n')) != LACRE_OK)
			return rc;
	if ((rc = lacre_dbuf_add_u8(out, '\n')) != LACRE_OK)
		return rc;
	return lacre_dbuf_add(out, cp, cp_len);
}

/* Next line of b without its newline. */
static int next_line(struct lacre_rbuf *b, const uint8_t **p, size_t *len)
{
	const uint8_t *s = lacre_rbuf_ptr(b);
	size_t left = lacre_rbuf_left(b), i;

	for (i = 0; i < left && s[i] != '\n'; i++)
		;
	if (i == left)
		return LACRE_E_MALFORMED;
	*p = s;
	*len = i;
	return lacre_rbuf_skip(b, i + 1);
}

/* Parse a receipt (untrusted); the checkpoint points into p. */
int receipt_parse(const void *p, size_t len, struct receipt *out)
{
	struct receipt r;
	struct lacre_rbuf b;
	const uint8_t *l;
	size_t n, hl, i;

	memset(&r, 0, sizeof(r));
	lacre_rbuf_init(&b, p, len);
	if (len > NOTE_MAX_SIZE + 8192 || len < sizeof(HEADER) - 1 ||
	    memcmp(p, HEADER, sizeof(HEADER) - 1) != 0)
		return LACRE_E_MALFORMED;
	lacre_rbuf_skip(&b, sizeof(HEADER) - 1);
	if (next_line(&b, &l, &n) != LACRE_OK)
		return LACRE_E_MALFORMED;
	if (n >= 6 && memcmp(l, "extra ", 6) == 0 && next_line(&b, &l, &n) != LACRE_OK)
		return LACRE_E_MALFORMED;
	if (n < 7 || memcmp(l, "index ", 6) != 0 || n - 6 > 19 || (n > 7 && l[6] == '0'))
		return LACRE_E_MALFORMED;
	for (i = 6; i < n; i++) {
		if (l[i] < '0' || l[i] > '9')
			return LACRE_E_MALFORMED;
		r.index = r.index * 10 + (uint64_t)(l[i] - '0');
	}
	for (;;) {
		if (next_line(&b, &l, &n) != LACRE_OK)
			return LACRE_E_MALFORMED;
		if (n == 0)
			break;
		if (r.proof.n == MERKLE_PROOF_MAX || n != 44 ||
		    note_b64_decode((const char *)l, n, r.proof.h[r.proof.n], MERKLE_HASH_LEN, &hl) != LACRE_OK ||
		    hl != MERKLE_HASH_LEN)
			return LACRE_E_MALFORMED;
		r.proof.n++;
	}
	r.cp = lacre_rbuf_ptr(&b);
	r.cp_len = lacre_rbuf_left(&b);
	*out = r;
	return LACRE_OK;
}

/* Verify a receipt for a leaf hash. */
int receipt_verify(const struct receipt *r, const uint8_t leaf[MERKLE_HASH_LEN],
		   const struct note_verifier *log, const struct note_verifier *w,
		   size_t nw, size_t quorum, struct checkpoint *cp_out)
{
	struct checkpoint cp;
	uint64_t cos = 0;
	int rc;

	if ((rc = checkpoint_open(r->cp, r->cp_len, log, w, nw, &cp, &cos)) != LACRE_OK)
		return rc;
	if ((size_t)__builtin_popcountll(cos) < quorum)
		return LACRE_E_AUTH;
	if ((rc = merkle_verify_inclusion(r->index, cp.size, leaf, &r->proof, cp.root)) != LACRE_OK)
		return rc;
	if (cp_out)
		*cp_out = cp;
	return LACRE_OK;
}

/* Verify a receipt under a policy. */
int receipt_verify_policy(const struct receipt *r, const uint8_t leaf[MERKLE_HASH_LEN],
			  const struct policy *p, struct checkpoint *cp_out)
{
	struct checkpoint cp;
	int rc;

	if ((rc = policy_open_checkpoint(p, r->cp, r->cp_len, &cp, NULL)) != LACRE_OK)
		return rc;
	if ((rc = merkle_verify_inclusion(r->index, cp.size, leaf, &r->proof, cp.root)) != LACRE_OK)
		return rc;
	if (cp_out)
		*cp_out = cp;
	return LACRE_OK;
}

/* Read a small file whole (capped). */
int note_read_file(const char *path, size_t cap, struct lacre_dbuf *out)
{
	uint8_t buf[8192];
	ssize_t n;
	size_t start = out->len;
	int fd, rc = LACRE_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? LACRE_E_IO : LACRE_OK;
			break;
		}
		if (out->len - start + (size_t)n > cap) {
			rc = LACRE_E_TOO_LARGE;
			break;
		}
		if ((rc = lacre_dbuf_add(out, buf, (size_t)n)) != LACRE_OK)
			break;
	}
	close(fd);
	if (rc != LACRE_OK)
		out->len = start;
	return rc;
}
