/*
 * fuzz_status.c - libFuzzer harness for the reader of the receiver's status
 * file (status_prom_parse, lib/ingest/status.c), which `lacre status` and
 * `lacre metrics` run on a file the receiver's cell writes.
 *
 * Invariants: at most cap samples; every sample's name is a non-empty
 * metric name, its labels hold no '}', '\\' or newline, its value is
 * finite; the samples written back as text (name{labels} %.17g) parse to
 * the same samples; a text without a final newline is refused.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/ingest_status.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ST_CAP 64
static struct status_sample fz_st_a[FZ_ST_CAP], fz_st_b[FZ_ST_CAP];
/* counters the corpus replay asserts: inputs that parsed, samples seen */
static unsigned long fz_status_parsed, fz_status_samples;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lacre_dbuf d;
	size_t n = 0, m = 0;
	int r;

	r = status_prom_parse((const char *)data, size, fz_st_a, FZ_ST_CAP, &n);
	if (size && data[size - 1] != '\n')
		FUZZ_CHECK(r != LACRE_OK);
	if (r != LACRE_OK)
		return 0;
	FUZZ_CHECK(n <= FZ_ST_CAP);
	fz_status_parsed++;
	fz_status_samples += n;
	lacre_dbuf_init(&d, 1 << 20);
	for (size_t i = 0; i < n; i++) {
		const struct status_sample *s = &fz_st_a[i];
		FUZZ_CHECK(s->name[0] != '\0' && !(s->name[0] >= '0' && s->name[0] <= '9'));
		FUZZ_CHECK(strpbrk(s->labels, "}\\\n") == NULL);
		FUZZ_CHECK(isfinite(s->value));
		if (s->labels[0])
			FUZZ_CHECK(lacre_dbuf_printf(&d, "%s{%s} %.17g\n", s->name, s->labels, s->value) == LACRE_OK);
		else
			FUZZ_CHECK(lacre_dbuf_printf(&d, "%s %.17g\n", s->name, s->value) == LACRE_OK);
	}
	FUZZ_CHECK(status_prom_parse((const char *)d.p, d.len, fz_st_b, FZ_ST_CAP, &m) == LACRE_OK);
	FUZZ_CHECK(m == n);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(strcmp(fz_st_a[i].name, fz_st_b[i].name) == 0);
		FUZZ_CHECK(strcmp(fz_st_a[i].labels, fz_st_b[i].labels) == 0);
		FUZZ_CHECK(fz_st_a[i].value == fz_st_b[i].value);
	}
	lacre_dbuf_free(&d);
	return 0;
}
