/*
 * fuzz_ledger.c - libFuzzer harness for the ledger texts lacre reads from
 * untrusted storage, witnesses and evidence packages: signed notes,
 * checkpoints, verifier keys, tlog-proof receipts, tlog-policy files and the
 * "segment closed" entry.  Nothing may crash or read outside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/note.h"
#include "lacre/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct note *n = NULL;
	struct checkpoint cp;
	struct note_verifier v;
	struct receipt rc;
	struct tlog_segment seg;
	struct policy *p = calloc(1, sizeof(*p));
	size_t bad;

	if (note_parse(data, size, &n) == LACRE_OK)
		note_free(n);
	(void)checkpoint_parse(data, size, &cp);
	(void)note_verifier_parse((const char *)data, size, &v);
	(void)receipt_parse(data, size, &rc);
	(void)tlog_segment_decode(data, size, &seg);
	if (p)
		(void)policy_parse(data, size, p, &bad);
	free(p);
	return 0;
}
