/*
 * test_fuzz_replay.c - replay every file of fuzz/corpus/ber and
 * fuzz/corpus/etsi through the decoders (regression for everything the
 * fuzzers found, and a sanitizer run over the seeds on every test run).
 *
 * Each input goes through the same steps as the libFuzzer harnesses: a
 * recursive TLV walk with every primitive decoder, stream framing,
 * etsi_decode() of each framed PDU and of the whole input, pointer-range
 * checks on struct etsi_pdu, and JSON rendering, which must succeed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/ber.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_json.h"
#include "lacre/etsi_location.h"
#include "lacre/json.h"

static unsigned n_files, n_pdus, n_bad, n_locations;

/* Count an invariant violation, naming the file. */
static void bad(const char *file, const char *what)
{
	fprintf(stderr, "%s: %s\n", file, what);
	n_bad++;
}

/* Walk TLVs recursively, as fuzz_ber.c does. */
static void walk(const char *file, const uint8_t *p, size_t n, int depth)
{
	struct lacre_rbuf b;
	struct ber_tlv t;
	uint64_t u;
	int64_t i;
	char oid[48];

	lacre_rbuf_init(&b, p, n);
	while (lacre_rbuf_left(&b) > 0) {
		size_t off = b.off;
		if (ber_next(&b, &t, depth) != LACRE_OK) {
			if (b.off != off)
				bad(file, "ber_next moved the cursor on failure");
			return;
		}
		if (t.total != t.hdr_len + t.len + (t.indefinite ? 2u : 0u) ||
		    t.value < p || t.value + t.len > p + n)
			bad(file, "inconsistent TLV");
		if (t.constructed && depth > 0) {
			walk(file, t.value, t.len, depth - 1);
		} else {
			(void)ber_get_uint(&t, &u);
			(void)ber_get_int(&t, &i);
			(void)ber_get_gentime(&t, &i);
			(void)ber_get_utctime(&t, &i);
			(void)ber_get_oid(&t, 0, oid, sizeof(oid), NULL, NULL);
			(void)ber_get_oid(&t, 1, oid, sizeof(oid), NULL, NULL);
		}
	}
}

/* Decode one candidate PDU and render it; check pointer ranges. */
static void one(const char *file, const uint8_t *p, size_t n, struct lacre_dbuf *out)
{
	struct etsi_pdu d;
	struct json_w w;
	struct lacre_rbuf it;
	uint64_t s;

	if (etsi_decode(p, n, &d) != LACRE_OK)
		return;
	n_pdus++;
	if ((d.liid.p && (d.liid.p < p || d.liid.p + d.liid.len > p + n)) ||
	    (d.content_bytes.p && (d.content_bytes.p < p || d.content_bytes.p + d.content_bytes.len > p + n)) ||
	    (d.header_tlv.p && (d.header_tlv.p < p || d.header_tlv.p + d.header_tlv.len > p + n)))
		bad(file, "a field points outside the PDU");
	if (d.partial && (d.err >= 0 || d.err_off > n))
		bad(file, "partial without an error");
	etsi_seq_iter(&d.integrity, &it);
	while (etsi_seq_next(&it, &s) == 1)
		;
	{
		/* the IRI's locations (etsi_location.c): within their cap */
		struct etsi_locations l;
		int lr = etsi_location_of(&d, &l);
		if (lr > 0 || l.n > ETSI_LOC_MAX)
			bad(file, "location decoding out of its bounds");
		if (l.n)
			n_locations++;
	}
	lacre_dbuf_reset(out);
	json_init(&w, out);
	etsi_json_pdu(&w, &d, p, n, 0, ETSI_JSON_RAW | ETSI_JSON_CONTENT);
	if (json_finish(&w) != LACRE_OK)
		bad(file, "JSON rendering failed");
}

/* Replay every regular file of dir; returns how many were read. */
static unsigned replay_dir(const char *dir)
{
	struct lacre_dbuf out;
	struct dirent *e;
	DIR *dh = opendir(dir);
	unsigned count = 0;

	if (!dh)
		return 0;
	lacre_dbuf_init(&out, 64u << 20);
	while ((e = readdir(dh)) != NULL) {
		char path[4096];
		uint8_t *p;
		size_t n, off = 0, len;
		long sz;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
			fclose(f);
			continue;
		}
		n = (size_t)sz;
		p = malloc(n ? n : 1);
		if (!p || fread(p, 1, n, f) != n) {
			free(p);
			fclose(f);
			bad(path, "cannot read");
			continue;
		}
		fclose(f);
		walk(path, p, n, BER_MAX_DEPTH);
		while (off < n && etsi_pdu_size(p + off, n - off, 1u << 20, &len) == LACRE_OK) {
			if (len == 0 || len > n - off) {
				bad(path, "framing returned a bad size");
				break;
			}
			one(path, p + off, len, &out);
			off += len;
		}
		one(path, p, n, &out);
		free(p);
		count++;
	}
	closedir(dh);
	lacre_dbuf_free(&out);
	return count;
}

static void test_replay_corpus(void)
{
	char dir[4096];
	unsigned ber, etsi;

	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/ber", t_topdir());
	ber = replay_dir(dir);
	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/etsi", t_topdir());
	etsi = replay_dir(dir);
	n_files = ber + etsi;
	printf("replayed %u files (%u ber, %u etsi), %u PDUs decoded, %u with locations\n", n_files,
	       ber, etsi, n_pdus, n_locations);
	CHECK(ber > 0);
	CHECK(etsi > 0);
	CHECK(n_pdus >= etsi);
	CHECK(n_locations >= 2);      /* the --cell IPIRI seeds */
	CHECK_EQ_INT(n_bad, 0);
}

int main(void)
{
	RUN(test_replay_corpus);
	return t_done();
}
