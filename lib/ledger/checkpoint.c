/*
 * checkpoint.c - C2SP tlog-checkpoint bodies and signed checkpoints.
 *
 * A checkpoint text is "origin\nsize\nbase64(root)\n" plus optional
 * extension lines (spec/tlog-formats.md §3).  Parsing is strict because the
 * text arrives from untrusted storage, witnesses and files: the origin must
 * be a valid non-empty key name, the size plain decimal without leading
 * zeros and at most 2^63 - 1, the root canonical base64 of 32 bytes.
 * Depends on libcrypto only (through note.c).
 */
#include <string.h>

#include "lacre/err.h"
#include "lacre/note.h"

/* The three mandatory lines of a checkpoint text. */
int checkpoint_format(const char *origin, uint64_t size,
		      const uint8_t root[MERKLE_HASH_LEN], struct lacre_dbuf *out)
{
	int rc;

	if (!note_name_valid(origin) || size > MERKLE_MAX_SIZE)
		return LACRE_E_INVALID;
	if ((rc = lacre_dbuf_printf(out, "%s\n%llu\n", origin,
				    (unsigned long long)size)) != LACRE_OK ||
	    (rc = note_b64_encode(root, MERKLE_HASH_LEN, out)) != LACRE_OK)
		return rc;
	return lacre_dbuf_add_u8(out, '\n');
}

/* Parse a decimal size: digits only, no leading zero unless "0", <= 2^63-1. */
static int parse_size(const uint8_t *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 19 || (len > 1 && p[0] == '0'))
		return LACRE_E_MALFORMED;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return LACRE_E_MALFORMED;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > MERKLE_MAX_SIZE)
		return LACRE_E_RANGE;
	*out = v;
	return LACRE_OK;
}

/* Parse a checkpoint text (see note.h). */
int checkpoint_parse(const void *text, size_t len, struct checkpoint *out)
{
	const uint8_t *b = text;
	struct checkpoint cp;
	size_t start = 0, i, line = 0, n;
	int rc;

	memset(&cp, 0, sizeof(cp));
	if (len == 0 || b[len - 1] != '\n')
		return LACRE_E_MALFORMED;
	for (i = 0; i < len; i++) {
		if (b[i] != '\n')
			continue;
		n = i - start;
		if (n == 0)
			return LACRE_E_MALFORMED;
		if (line == 0) {
			if (n > NOTE_NAME_MAX)
				return LACRE_E_TOO_LARGE;
			memcpy(cp.origin, b + start, n);
			if (!note_name_valid(cp.origin))
				return LACRE_E_MALFORMED;
		} else if (line == 1) {
			if ((rc = parse_size(b + start, n, &cp.size)) != LACRE_OK)
				return rc;
		} else if (line == 2) {
			if (n != 44 || note_b64_decode((const char *)b + start, n, cp.root,
						       sizeof(cp.root), &n) != LACRE_OK ||
			    n != MERKLE_HASH_LEN)
				return LACRE_E_MALFORMED;
		} else {
			cp.next++;
		}
		line++;
		start = i + 1;
	}
	if (line < 3)
		return LACRE_E_MALFORMED;
	*out = cp;
	return LACRE_OK;
}

/* Parse a signed checkpoint and verify the log signature (its key name must
 * be the origin) and any trusted cosignatures. */
int checkpoint_open(const void *note, size_t len, const struct note_verifier *log,
		    const struct note_verifier *w, size_t nw,
		    struct checkpoint *out, uint64_t *cosigned)
{
	struct note_verifier v[64];
	struct note *n = NULL;
	struct checkpoint cp;
	uint64_t ok = 0;
	int rc = LACRE_E_INVALID;

	if (nw > 63)
		goto out;
	v[0] = *log;
	if (nw)
		memcpy(v + 1, w, nw * sizeof(*w));
	if ((rc = note_parse(note, len, &n)) != LACRE_OK)
		goto out;
	if ((rc = note_verify(n, v, nw + 1, &ok, NULL)) != LACRE_OK)
		goto out;
	rc = LACRE_E_AUTH;
	if (!(ok & 1))
		goto out;
	if ((rc = checkpoint_parse(n->buf, n->text_len, &cp)) != LACRE_OK)
		goto out;
	rc = LACRE_E_AUTH;
	if (strcmp(cp.origin, log->name) != 0)
		goto out;
	*out = cp;
	if (cosigned)
		*cosigned = ok >> 1;
	rc = LACRE_OK;
out:
	note_free(n);
	return rc;
}
