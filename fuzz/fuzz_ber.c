/*
 * fuzz_ber.c - libFuzzer harness for the BER reader (lib/wire/ber.c).
 *
 * Walks the input as a tree of TLVs the way the ETSI decoder does (every
 * constructed element is descended into, up to BER_MAX_DEPTH), decodes
 * every primitive with each primitive decoder, and checks the reader's
 * invariants: a TLV never extends past its container, total =
 * header + contents (+ 2 for an end-of-contents marker), a failed read
 * leaves the cursor where it was, and ber_element_size() agrees with
 * ber_next().  Any violation aborts, so the fuzzer reports it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/ber.h"
#include "lacre/buf.h"
#include "lacre/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort when an invariant fails (the fuzzer reports the input). */
static void must(int cond)
{
	if (!cond)
		abort();
}

/* Run every primitive decoder over t (results ignored: only safety). */
static void primitives(const struct ber_tlv *t)
{
	uint64_t u;
	int64_t i, us;
	char oid[48];
	unsigned n;

	(void)ber_get_uint(t, &u);
	(void)ber_get_int(t, &i);
	(void)ber_get_gentime(t, &us);
	(void)ber_get_utctime(t, &us);
	if (ber_get_oid(t, 0, oid, sizeof(oid), &n, &u) == LACRE_OK)
		must(memchr(oid, 0, sizeof(oid)) != NULL);
	(void)ber_get_oid(t, 1, oid, sizeof(oid), NULL, NULL);
}

/* Walk the TLVs of p[0..n) recursively, checking invariants. */
static void walk(const uint8_t *p, size_t n, int depth)
{
	struct lacre_rbuf b;
	struct ber_tlv t;

	lacre_rbuf_init(&b, p, n);
	while (lacre_rbuf_left(&b) > 0) {
		size_t off = b.off, sz;
		int r = ber_next(&b, &t, depth);
		if (r != LACRE_OK) {
			must(b.off == off);
			must(r < 0);
			return;
		}
		must(t.total == b.off - off);
		must(t.value >= p && t.value + t.len <= p + n);
		must(t.total == t.hdr_len + t.len + (t.indefinite ? 2u : 0u));
		if (ber_element_size(p + off, n - off, SIZE_MAX, &sz) == LACRE_OK)
			must(sz == t.total);
		if (t.constructed && depth > 0)
			walk(t.value, t.len, depth - 1);
		else
			primitives(&t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sz;

	walk(data, size, BER_MAX_DEPTH);
	/* framing with a small cap must never exceed it */
	if (ber_element_size(data, size, 1000, &sz) == LACRE_OK)
		must(sz <= 1000);
	return 0;
}
