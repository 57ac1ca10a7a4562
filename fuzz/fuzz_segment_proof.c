/*
 * fuzz_segment_proof.c - libFuzzer harness for the per-record proof of a
 * v2 segment (lacre-segment-proof/v1, lib/ledger/segment_proof.c) and the v2
 * "segment closed" entry (lib/ledger/segment_entry.c): what lacre-verify
 * reads from an evidence package anyone may have handed a defence expert.
 *
 * Invariants beyond "no crash": a text that parses is in its one form (the
 * parsed proof written back is the input byte for byte); its entry decodes
 * as v2 with the proof's n as record count and i < n; it carries exactly
 * PATH(i, n) hashes; verification of any commitment returns OK or VERIFY;
 * an entry that decodes (v1 or v2) has no trailing byte, and a v2 one
 * encodes back to the input.  A record proof (§6.2, segment_proof_split)
 * that splits opens with the segment proof's magic line, its receipt part
 * opens a line with the receipt's magic, and each part goes to its own
 * reader without a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/segment_proof.h"
#include "lacre/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs that parsed as a proof, and entries that decoded (corpus replay). */
static unsigned long fz_sp_parsed, fz_sp_entries;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct segment_proof sp;
	struct tlog_segment seg;
	struct lacre_dbuf d;
	uint8_t c[32];
	int r;

	lacre_dbuf_init(&d, SEGMENT_PROOF_TEXT_MAX + 64);
	if (segment_proof_parse(data, size, &sp) == LACRE_OK) {
		fz_sp_parsed++;
		FUZZ_CHECK(sp.seg.version == 2);
		FUZZ_CHECK(sp.n == sp.seg.records && sp.index < sp.n);
		FUZZ_CHECK(sp.path.n == segment_proof_path_len(sp.index, sp.n));
		FUZZ_CHECK(segment_proof_format(sp.entry, sp.entry_len, sp.index, sp.n, &sp.path, &d) ==
			   LACRE_OK);
		FUZZ_CHECK(d.len == size && memcmp(d.p, data, size) == 0);
		merkle_sha256(data, size, c);
		r = segment_proof_verify(&sp, c);
		FUZZ_CHECK(r == LACRE_OK || r == LACRE_E_VERIFY);
	}
	{
		static struct segment_proof sp2;
		struct receipt rc;
		size_t spl = 0;
		if (segment_proof_split(data, size, &spl) == LACRE_OK) {
			FUZZ_CHECK(spl >= sizeof(SEGMENT_PROOF_MAGIC) && spl < size);
			FUZZ_CHECK(!memcmp(data, SEGMENT_PROOF_MAGIC "\n", sizeof(SEGMENT_PROOF_MAGIC)));
			FUZZ_CHECK(data[spl - 1] == '\n');
			FUZZ_CHECK(size - spl >= sizeof(RECORD_PROOF_RECEIPT_MAGIC) - 1 &&
				   !memcmp(data + spl, RECORD_PROOF_RECEIPT_MAGIC,
					   sizeof(RECORD_PROOF_RECEIPT_MAGIC) - 1));
			(void)segment_proof_parse(data, spl, &sp2);
			(void)receipt_parse(data + spl, size - spl, &rc);
		}
	}
	lacre_dbuf_reset(&d);
	r = tlog_segment_decode(data, size, &seg);
	FUZZ_CHECK(r == LACRE_OK || r == LACRE_E_MALFORMED || r == LACRE_E_UNEXPECTED);
	if (r == LACRE_OK) {
		fz_sp_entries++;
		FUZZ_CHECK(seg.version == 1 || seg.version == 2);
		FUZZ_CHECK(seg.name[0] != 0 && seg.fp_len >= 1 && seg.fp_len <= TLOG_SEGMENT_FP_MAX);
		if (seg.version == 2) {
			FUZZ_CHECK(tlog_segment_encode(&seg, &d) == LACRE_OK);
			FUZZ_CHECK(d.len == size && memcmp(d.p, data, size) == 0);
		}
	}
	lacre_dbuf_free(&d);
	return 0;
}
