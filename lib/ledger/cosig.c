/*
 * cosig.c - C2SP tlog-cosignature v1.0.1 (type 0x04, Ed25519): witnesses
 * sign "cosignature/v1\ntime <T>\n" followed by the checkpoint text, and
 * clients append the returned lines to their checkpoint (spec §4).
 * Verification is note_verify() with a 0x04 verifier.
 */
#include <string.h>

#include "lacre/err.h"
#include "lacre/note.h"

/* One cosignature line over a checkpoint text by a witness key. */
int cosig_sign(const struct note_signer *s, const void *cp_text, size_t len,
	       uint64_t timestamp, struct lacre_dbuf *out)
{
	struct note_verifier v;
	struct checkpoint cp;
	int rc;

	note_signer_public(s, &v);
	if (v.type != NOTE_TYPE_COSIG)
		return LACRE_E_INVALID;
	if ((rc = checkpoint_parse(cp_text, len, &cp)) != LACRE_OK)
		return rc;
	return note_sign_line(s, cp_text, len, timestamp, out);
}

/* Append note ‖ lines to out, after checking the result still parses as a
 * note (so a witness cannot smuggle text in through its answer). */
int cosig_attach(const void *note, size_t len, const void *lines, size_t lines_len,
		 struct lacre_dbuf *out)
{
	struct lacre_dbuf tmp;
	struct note *n = NULL;
	size_t nsigs, text_len;
	int rc;

	lacre_dbuf_init(&tmp, NOTE_MAX_SIZE);
	if ((rc = note_parse(note, len, &n)) != LACRE_OK)
		goto out;
	nsigs = n->nsigs;
	text_len = n->text_len;
	note_free(n);
	n = NULL;
	rc = LACRE_E_MALFORMED;
	if (lines_len == 0 || ((const uint8_t *)lines)[lines_len - 1] != '\n' ||
	    memchr(lines, '\n', lines_len) == NULL)
		goto out;
	if ((rc = lacre_dbuf_add(&tmp, note, len)) != LACRE_OK ||
	    (rc = lacre_dbuf_add(&tmp, lines, lines_len)) != LACRE_OK)
		goto out;
	if ((rc = note_parse(tmp.p, tmp.len, &n)) != LACRE_OK)
		goto out;
	rc = LACRE_E_MALFORMED;
	if (n->text_len != text_len || n->nsigs <= nsigs)
		goto out;
	rc = lacre_dbuf_add(out, tmp.p, tmp.len);
out:
	note_free(n);
	lacre_dbuf_free(&tmp);
	return rc;
}
