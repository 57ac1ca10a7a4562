/*
 * segment_proof.c - lacre-segment-proof/v1, the record-to-segment half of
 * a record's proof (include/lacre/segment_proof.h, docs/FORMATS.md §6.1).
 *
 * The text is read by lacre-verify from evidence packages a defence
 * expert may have been handed by anyone, so the parser takes exactly one
 * form, through the checked buffer, with caps on every line; the hashing
 * and the inclusion check are merkle.c's (RFC 6962 / RFC 9162), the entry
 * format segment_entry.c's.  libcrypto only.
 */
#include <string.h>

#include "lacre/err.h"
#include "lacre/note.h"
#include "lacre/segment_proof.h"

#define HASH_B64_LEN 44   /* padded base64 of 32 bytes */

/* Number of hashes in PATH(i, n): one per split on the way down. */
size_t segment_proof_path_len(uint64_t i, uint64_t n)
{
	size_t len = 0;

	while (n > 1) {
		uint64_t k = 1;
		while (k < n - k)   /* largest power of two < n */
			k <<= 1;
		if (i < k) {
			n = k;
		} else {
			i -= k;
			n -= k;
		}
		len++;
	}
	return len;
}

/* Format a proof from its parts. */
int segment_proof_format(const uint8_t *entry, size_t entry_len, uint64_t i, uint64_t n,
			 const struct merkle_proof *path, struct lacre_dbuf *out)
{
	int r;

	if (entry_len == 0 || entry_len > SEGMENT_ENTRY_MAX || i >= n || path->n > MERKLE_PROOF_MAX)
		return LACRE_E_INVALID;
	if ((r = lacre_dbuf_add(out, SEGMENT_PROOF_MAGIC "\nentry ",
				sizeof(SEGMENT_PROOF_MAGIC "\nentry ") - 1)) != LACRE_OK ||
	    (r = note_b64_encode(entry, entry_len, out)) != LACRE_OK ||
	    (r = lacre_dbuf_printf(out, "\nrecord %llu %llu\n", (unsigned long long)i,
				   (unsigned long long)n)) != LACRE_OK)
		return r;
	for (size_t k = 0; k < path->n; k++)
		if ((r = note_b64_encode(path->h[k], MERKLE_HASH_LEN, out)) != LACRE_OK ||
		    (r = lacre_dbuf_add_u8(out, '\n')) != LACRE_OK)
			return r;
	return LACRE_OK;
}

/* Make the proof of record i from the segment's tree. */
int segment_proof_make(const struct merkle_levels *t, const uint8_t *entry, size_t entry_len,
		       uint64_t i, struct lacre_dbuf *out)
{
	struct tlog_segment seg;
	struct merkle_proof path;
	uint8_t root[MERKLE_HASH_LEN];
	int r;

	if (tlog_segment_decode(entry, entry_len, &seg) != LACRE_OK || seg.version != 2 ||
	    seg.records != t->n || i >= t->n)
		return LACRE_E_INVALID;
	if ((r = merkle_root(t->n, merkle_levels_node, (void *)t, root)) != LACRE_OK)
		return r;
	if (memcmp(root, seg.records_root, MERKLE_HASH_LEN) != 0)
		return LACRE_E_VERIFY;
	if ((r = merkle_prove_inclusion(i, t->n, merkle_levels_node, (void *)t, &path)) != LACRE_OK)
		return r;
	return segment_proof_format(entry, entry_len, i, t->n, &path, out);
}

/* The next LF-terminated line of b (without the LF). */
static int sp_line(struct lacre_rbuf *b, const uint8_t **p, size_t *len)
{
	const uint8_t *s = lacre_rbuf_ptr(b);
	const uint8_t *nl = memchr(s, '\n', lacre_rbuf_left(b));

	if (!nl)
		return LACRE_E_MALFORMED;
	*p = s;
	*len = (size_t)(nl - s);
	return lacre_rbuf_skip(b, *len + 1);
}

/* A decimal without leading zeros (or "0"), at most 19 digits, at *p
 * (before end); *p moves past it. */
static int sp_u64(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	const uint8_t *s = *p;
	uint64_t v = 0;
	size_t k = 0;

	while (s + k < end && s[k] >= '0' && s[k] <= '9') {
		if (k == 19)
			return LACRE_E_MALFORMED;
		v = v * 10 + (uint64_t)(s[k] - '0');
		k++;
	}
	if (k == 0 || (k > 1 && s[0] == '0'))
		return LACRE_E_MALFORMED;
	*p = s + k;
	*out = v;
	return LACRE_OK;
}

/* Parse a proof text strictly (see segment_proof.h). */
int segment_proof_parse(const void *text, size_t len, struct segment_proof *out)
{
	struct segment_proof *sp = out;
	struct lacre_rbuf b;
	const uint8_t *l, *q, *end;
	size_t n, got, want;

	memset(sp, 0, sizeof(*sp));
	if (len > SEGMENT_PROOF_TEXT_MAX)
		return LACRE_E_MALFORMED;
	lacre_rbuf_init(&b, text, len);
	if (sp_line(&b, &l, &n) != LACRE_OK || n != sizeof(SEGMENT_PROOF_MAGIC) - 1 ||
	    memcmp(l, SEGMENT_PROOF_MAGIC, n) != 0)
		return LACRE_E_MALFORMED;
	/* entry <base64> */
	if (sp_line(&b, &l, &n) != LACRE_OK || n < 7 || memcmp(l, "entry ", 6) != 0 ||
	    n - 6 > ((SEGMENT_ENTRY_MAX + 2) / 3) * 4 ||
	    note_b64_decode((const char *)l + 6, n - 6, sp->entry, sizeof(sp->entry), &got) != LACRE_OK ||
	    got == 0)
		goto bad;
	sp->entry_len = got;
	if (tlog_segment_decode(sp->entry, sp->entry_len, &sp->seg) != LACRE_OK || sp->seg.version != 2)
		goto bad;
	/* record <i> <n> */
	if (sp_line(&b, &l, &n) != LACRE_OK || n < 7 || memcmp(l, "record ", 7) != 0)
		goto bad;
	q = l + 7;
	end = l + n;
	if (sp_u64(&q, end, &sp->index) != LACRE_OK || q == end || *q++ != ' ' ||
	    sp_u64(&q, end, &sp->n) != LACRE_OK || q != end)
		goto bad;
	if (sp->n == 0 || sp->index >= sp->n || sp->n != sp->seg.records)
		goto bad;
	want = segment_proof_path_len(sp->index, sp->n);
	if (want > MERKLE_PROOF_MAX)
		goto bad;
	/* the path: exactly want hashes, then the end of the text */
	while (lacre_rbuf_left(&b) > 0) {
		if (sp->path.n == want || sp_line(&b, &l, &n) != LACRE_OK || n != HASH_B64_LEN ||
		    note_b64_decode((const char *)l, n, sp->path.h[sp->path.n], MERKLE_HASH_LEN,
				    &got) != LACRE_OK || got != MERKLE_HASH_LEN)
			goto bad;
		sp->path.n++;
	}
	if (sp->path.n != want)
		goto bad;
	return LACRE_OK;
bad:
	memset(sp, 0, sizeof(*sp));
	return LACRE_E_MALFORMED;
}

/* Verify commitment against the entry's records root. */
int segment_proof_verify(const struct segment_proof *p, const uint8_t commitment[32])
{
	uint8_t lh[MERKLE_HASH_LEN];

	if (p->seg.version != 2 || p->n != p->seg.records || p->index >= p->n)
		return LACRE_E_VERIFY;
	merkle_leaf_hash(commitment, 32, lh);
	return merkle_verify_inclusion(p->index, p->n, lh, &p->path, p->seg.records_root) == LACRE_OK
		       ? LACRE_OK : LACRE_E_VERIFY;
}

/* Split a record proof into its segment proof and its receipt. */
int segment_proof_split(const void *text, size_t len, size_t *sp_len)
{
	static const char magic[] = SEGMENT_PROOF_MAGIC "\n", rmagic[] = RECORD_PROOF_RECEIPT_MAGIC;
	const uint8_t *p = text;
	size_t ml = sizeof(magic) - 1, rl = sizeof(rmagic) - 1;

	if (len < ml || memcmp(p, magic, ml) != 0)
		return LACRE_E_MALFORMED;
	/* the receipt starts a line after the segment proof's last LF */
	for (size_t i = ml; i < len && i <= SEGMENT_PROOF_TEXT_MAX; i++)
		if (p[i - 1] == '\n' && len - i >= rl && !memcmp(p + i, rmagic, rl)) {
			*sp_len = i;
			return LACRE_OK;
		}
	return LACRE_E_MALFORMED;
}
