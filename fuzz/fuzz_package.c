/*
 * fuzz_package.c - libFuzzer harness for the evidence package reader and
 * the offline verifier (lib/verify/package.c, completeness.c, verify.c and
 * what they parse: manifest and exclusion lines, signed notes, checkpoints,
 * tlog-proof receipts, record frames, PS-PDUs, JSON lines).
 *
 * The input is a package plaintext (what the court's age identity opens);
 * it is parsed, every member is checked to lie inside the input, and when
 * it parses the whole verifier runs over it with no trusted key (the
 * package's own keys), then with a fixed trusted log and export key.  The
 * verifier must never crash, read outside a member or call a package
 * verified unless its signature verified.  Seeds: fuzz/corpus/package
 * (a small real package made by `lacre export`, see fuzz/mkseeds_package.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/note.h"
#include "lacre/package.h"
#include "lacre/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort when an invariant fails (the fuzzer reports the input). */
static void must(int cond)
{
	if (!cond)
		abort();
}

/* Run the verifier once with the given options. */
static void run(const struct package *pk, const struct verify_opts *o)
{
	struct verify_result res;

	memset(&res, 0, sizeof(res));
	if (verify_package(pk, o, &res) == LACRE_OK)
		must(res.verified == (res.problems == 0));
	verify_result_free(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t seed[32] = { 7 };
	struct package *pk = NULL;
	struct note_signer *k = NULL;
	struct note_verifier v;
	struct verify_opts o;
	char msg[512];

	if (package_parse(data, size, &pk, msg, sizeof(msg)) != LACRE_OK) {
		must(pk == NULL);
		return 0;
	}
	for (size_t i = 0; i < pk->n; i++) {
		const struct package_member *m = &pk->m[i];
		must(m->p >= pk->plain && m->len <= pk->plain_len &&
		     (size_t)(m->p - pk->plain) <= pk->plain_len - m->len);
		must(package_find(pk, m->name) == m);
	}
	memset(&o, 0, sizeof(o));
	run(pk, &o);
	if (note_signer_from_seed("lacre/fuzz/ingest", NOTE_TYPE_ED25519, seed, &k) == LACRE_OK) {
		note_signer_public(k, &v);
		o.log_key = &v;
		o.export_key = &v;
		run(pk, &o);
		note_signer_free(k);
	}
	package_free(pk);
	return 0;
}
