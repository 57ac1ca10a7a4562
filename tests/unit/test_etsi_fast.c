/*
 * test_etsi_fast.c - the PS-PDU decoder's inlined fast paths (ber.h:
 * ber_next_fast, ber_get_uint_fast, ber_get_oid_last; etsi_int.h:
 * etsi_dec_enum, etsi_dec_bytes) give the same decoding as the general
 * code they stand for.
 *
 * lib/wire's BER reader and PS-PDU decoder are compiled a second time
 * into this test with LACRE_WIRE_REFERENCE, which turns every fast path
 * into the general function it must equal, and their external names
 * prefixed ref_ (the defines below).  Every PDU of the OpenLI vectors, of
 * the fuzz seed corpora (etsi/, ber/, framer/), of mediator streams in
 * each encoding the simulator has (lengths, timestamps, domain OID,
 * extensions, HI1, integrity checks) and of byte-level mutations of them
 * is framed and decoded by both, and so is a CC PDU whose integer,
 * enumeration and OID fields take every short contents and the edge
 * cases of longer ones; the return codes and the whole struct
 * etsi_pdu (every field, flag, error and offset; pointers point into the
 * same bytes) must be identical.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the reference decoder: every external name of ber.c, etsi.c and
 * etsi_payload.c renamed before their headers are read */
#define LACRE_WIRE_REFERENCE 1
#define ber_element_size ref_ber_element_size
#define ber_get_gentime ref_ber_get_gentime
#define ber_get_int ref_ber_get_int
#define ber_get_oid ref_ber_get_oid
#define ber_get_uint ref_ber_get_uint
#define ber_get_utctime ref_ber_get_utctime
#define ber_next ref_ber_next
#define etsi_cc_content_name ref_etsi_cc_content_name
#define etsi_dec_bad ref_etsi_dec_bad
#define etsi_dec_bytes_cons ref_etsi_dec_bytes_cons
#define etsi_dec_choice ref_etsi_dec_choice
#define etsi_dec_enum_any ref_etsi_dec_enum_any
#define etsi_dec_gentime ref_etsi_dec_gentime
#define etsi_dec_ipaddr ref_etsi_dec_ipaddr
#define etsi_dec_next_failed ref_etsi_dec_next_failed
#define etsi_dec_time ref_etsi_dec_time
#define etsi_dec_usts ref_etsi_dec_usts
#define etsi_decode ref_etsi_decode
#define etsi_decode_inner_payload ref_etsi_decode_inner_payload
#define etsi_direction_name ref_etsi_direction_name
#define etsi_flag_name ref_etsi_flag_name
#define etsi_iri_content_name ref_etsi_iri_content_name
#define etsi_iri_location ref_etsi_iri_location
#define etsi_iri_type_name ref_etsi_iri_type_name
#define etsi_kind_name ref_etsi_kind_name
#define etsi_payload_name ref_etsi_payload_name
#define etsi_pdu_size ref_etsi_pdu_size
#define etsi_seq_iter ref_etsi_seq_iter
#define etsi_seq_next ref_etsi_seq_next
#define etsi_tri_name ref_etsi_tri_name
#define etsi_dec_cc_seq ref_etsi_dec_cc_seq
#define etsi_dec_iri_seq ref_etsi_dec_iri_seq
#include "wire/ber.c"
#include "wire/etsi.c"
#include "wire/etsi_payload.c"
#undef etsi_decode
#undef etsi_pdu_size

#include <dirent.h>
#include <unistd.h>

#include "harness.h"

/* the library's decoder (its prototypes were renamed above) */
int etsi_decode(const uint8_t *p, size_t n, struct etsi_pdu *out);
int etsi_pdu_size(const uint8_t *p, size_t n, size_t max, size_t *pdu_len);

#define MAX_PDU (1u << 20)

static unsigned long n_decoded;   /* PDUs compared, for the summary */

/*
 * Decode p[0..n) with both decoders; 0 when the return codes and the
 * whole structs are identical (content compared as a string: each decoder
 * has its own copy of the name tables), else -1 after saying where.
 */
static int same_decode(const uint8_t *p, size_t n, const char *what, size_t at)
{
	static struct etsi_pdu a, b;   /* static: zeroed padding is not relied on */
	const char *ca, *cb;
	int ra, rb;

	memset(&a, 0x5a, sizeof(a));
	memset(&b, 0x5a, sizeof(b));
	ra = etsi_decode(p, n, &a);
	rb = ref_etsi_decode(p, n, &b);
	n_decoded++;
	if (ra != rb) {
		fprintf(stderr, "%s @%zu: etsi_decode %d, reference %d\n", what, at, ra, rb);
		return -1;
	}
	if (ra != LACRE_OK)
		return 0;   /* out is untouched on failure (both: 0x5a) */
	ca = a.content;
	cb = b.content;
	if ((ca == NULL) != (cb == NULL) || (ca && strcmp(ca, cb) != 0)) {
		fprintf(stderr, "%s @%zu: content %s vs %s\n", what, at, ca ? ca : "-", cb ? cb : "-");
		return -1;
	}
	a.content = b.content = NULL;
	if (memcmp(&a, &b, sizeof(a)) != 0) {
		const uint8_t *x = (const uint8_t *)&a, *y = (const uint8_t *)&b;
		size_t i = 0;
		while (x[i] == y[i])
			i++;
		fprintf(stderr, "%s @%zu: struct etsi_pdu differs at byte %zu (partial %d/%d err %d/%d)\n",
			what, at, i, a.partial, b.partial, a.err, b.err);
		return -1;
	}
	return 0;
}

/*
 * Frame s[0..n) as the receiver does, with both framers, and compare the
 * decoding of every PDU; after a framing error, resynchronise one byte on
 * (the mutated streams).  Returns the PDUs framed, or -1 on a difference.
 */
static long same_stream(const uint8_t *s, size_t n, const char *what)
{
	size_t off = 0, la, lb;
	long pdus = 0;
	int ra, rb;

	while (off < n) {
		ra = etsi_pdu_size(s + off, n - off, MAX_PDU, &la);
		rb = ref_etsi_pdu_size(s + off, n - off, MAX_PDU, &lb);
		if (ra != rb || (ra == LACRE_OK && la != lb)) {
			fprintf(stderr, "%s @%zu: etsi_pdu_size %d, reference %d\n", what, off, ra, rb);
			return -1;
		}
		if (ra != LACRE_OK) {
			off++;
			continue;
		}
		if (same_decode(s + off, la, what, off) != 0)
			return -1;
		pdus++;
		off += la;
	}
	return pdus;
}

/*
 * Byte-level mutations of every PDU of s (at most max_pdus of them): each
 * of the first 96 octets set to 00, 80, FF and flipped, and the PDU cut
 * short by each length up to 16 octets; each decoded whole by both.
 */
static int same_mutations(const uint8_t *s, size_t n, size_t max_pdus, const char *what)
{
	static const uint8_t vals[] = { 0x00, 0x80, 0xff };
	static uint8_t m[MAX_PDU];
	size_t off = 0, len, pdus = 0;

	while (off < n && pdus < max_pdus &&
	       etsi_pdu_size(s + off, n - off, MAX_PDU, &len) == LACRE_OK) {
		for (size_t i = 0; i < len && i < 96; i++) {
			for (size_t v = 0; v <= sizeof(vals); v++) {
				memcpy(m, s + off, len);
				m[i] = v < sizeof(vals) ? vals[v] : (uint8_t)~m[i];
				if (same_decode(m, len, what, off + i) != 0)
					return -1;
			}
		}
		for (size_t cut = 1; cut <= 16 && cut < len; cut++)
			if (same_decode(s + off, len - cut, what, off) != 0)
				return -1;
		off += len;
		pdus++;
	}
	return 0;
}

/* Read a whole file into a malloc'd buffer; NULL when it cannot. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n + 1)) && fread(p, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
	} else {
		free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

/* The OpenLI vectors (HI2 and HI3 of set A and set C), mutated too. */
static void test_vectors(void)
{
	static const char *const rel[] = { "openli-a/raw/hi2.bin", "openli-a/raw/hi3.bin",
		"openli-c/raw/hi2.bin", "openli-c/raw/hi3.bin" };

	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		size_t n;
		uint8_t *d = t_vector(rel[i], &n);
		if (!d)
			return;
		CHECK(same_stream(d, n, rel[i]) > 0);
		CHECK_OK(same_mutations(d, n, 40, rel[i]));
		free(d);
	}
}

/* Every file of the fuzz seed corpora: as a stream and as one PDU. */
static void test_corpora(void)
{
	static const char *const dirs[] = { "etsi", "ber", "framer" };
	char path[4096];
	unsigned files = 0;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct dirent *e;
		DIR *dir;

		snprintf(path, sizeof(path), "%s/fuzz/corpus/%s", t_topdir(), dirs[i]);
		CHECK((dir = opendir(path)) != NULL);
		while ((e = readdir(dir)) != NULL) {
			uint8_t *d;
			size_t n;
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/fuzz/corpus/%s/%s", t_topdir(), dirs[i], e->d_name);
			if (!(d = slurp(path, &n)))
				continue;
			files++;
			if (same_stream(d, n, path) < 0 || same_decode(d, n, path, 0) != 0 ||
			    same_mutations(d, n, 4, path) != 0) {
				free(d);
				closedir(dir);
				CHECK(!"the fast decoder differs from the reference");
			}
			free(d);
		}
		closedir(dir);
	}
	CHECK(files > 200);
}

/* The simulator's streams in each of its encodings. */
static void test_mediator(void)
{
	static const char *const opts[] = {
		"--sessions 6 --session-packets 120 --calls 3",
		"--sessions 4 --session-packets 40 --calls 2 --lengths minimal --timestamp microsecond",
		"--sessions 4 --session-packets 40 --calls 2 --lengths long --unknown-ext",
		"--sessions 4 --session-packets 40 --calls 2 --lengths indefinite --hi1",
		"--sessions 4 --session-packets 40 --calls 2 --domain-id 0.4.0.2.2.5.1.300 --binary-liid",
		"--sessions 4 --session-packets 40 --calls 2 --domain-id 1.2.840.113549.1 --cell 214-07-1a2b-123456",
		"--sessions 4 --session-packets 40 --calls 2 --integrity-hash sha256 --integrity-every 16 "
			"--location 'Calle Mayor 1'",
	};
	const char *dir = t_tmpdir();
	char bin[4096], cmd[8192], path[4200];

	snprintf(bin, sizeof(bin), "%s/build/bin/lacre-mediator", t_topdir());
	if (access(bin, X_OK) != 0)
		snprintf(bin, sizeof(bin), "%s/build-asan/bin/lacre-mediator", t_topdir());
	CHECK(access(bin, X_OK) == 0);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s --output %s/s --targets 2 --seed %zu "
			 "--start-time 2026-11-28T10:00:00Z %s >/dev/null 2>&1", bin, dir, i + 1, opts[i]);
		CHECK_EQ_INT(system(cmd), 0);
		for (int hi = 2; hi <= 3; hi++) {
			uint8_t *d;
			size_t n;
			long pdus;
			snprintf(path, sizeof(path), "%s/s.hi%d", dir, hi);
			CHECK((d = slurp(path, &n)) != NULL);
			pdus = same_stream(d, n, opts[i]);
			if (pdus <= 0 || same_mutations(d, n, 8, opts[i]) != 0) {
				free(d);
				CHECK(!"the fast decoder differs from the reference");
			}
			free(d);
		}
	}
}

/* Append the TLV tag / v[0..n) to out at *o (short or 81/82 length). */
static void put_tlv(uint8_t *out, size_t *o, uint8_t tag, const uint8_t *v, size_t n)
{
	out[(*o)++] = tag;
	if (n >= 256) {
		out[(*o)++] = 0x82;
		out[(*o)++] = (uint8_t)(n >> 8);
	} else if (n >= 128) {
		out[(*o)++] = 0x81;
	}
	out[(*o)++] = (uint8_t)n;
	memcpy(out + *o, v, n);
	*o += n;
}

/*
 * A CC PDU like the simulator's (IPMMCC in a CCPayload) whose field
 * `field` (0 li-psDomainId, 1 sequenceNumber, 2 timeStampQualifier, 3 the
 * payload's direction, 4 IPMMCC frameType) has the contents v[0..n);
 * the others are fixed.  Returns the PDU's length in out.
 */
static size_t field_pdu(uint8_t *out, int field, const uint8_t *v, size_t n)
{
	static const uint8_t oid[] = { 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x11 };
	static const uint8_t one[] = { 0x01 }, zero[] = { 0x00 }, rtp[24] = { 0x80 };
	uint8_t hdr[256], cc[256], t1[256], t2[256], t3[256], t4[256], pl[512];
	size_t h = 0, c = 0, a = 0, b = 0, o = 0, k = 0, p = 0;

	put_tlv(hdr, &h, 0x80, field == 0 ? v : oid, field == 0 ? n : sizeof(oid));
	put_tlv(hdr, &h, 0x81, (const uint8_t *)"LIID0001", 8);
	put_tlv(t1, &a, 0x81, one, 1);
	put_tlv(hdr, &h, 0xa3, t1, a);
	put_tlv(hdr, &h, 0x84, field == 1 ? v : one, field == 1 ? n : 1);
	put_tlv(hdr, &h, 0x88, field == 2 ? v : one, field == 2 ? n : 1);
	/* IPMMCC { objId [0], contents [1], frameType [2], protocol [4] } */
	put_tlv(t2, &b, 0x80, oid + 3, 4);
	put_tlv(t2, &b, 0x81, rtp, sizeof(rtp));
	put_tlv(t2, &b, 0x82, field == 4 ? v : zero, field == 4 ? n : 1);
	put_tlv(t2, &b, 0x84, zero, 1);
	put_tlv(t3, &o, 0xac, t2, b);
	put_tlv(t4, &k, 0x80, field == 3 ? v : zero, field == 3 ? n : 1);
	put_tlv(t4, &k, 0xa2, t3, o);
	put_tlv(cc, &c, 0x30, t4, k);
	a = 0;
	put_tlv(t1, &a, 0xa1, cc, c);
	put_tlv(pl, &p, 0xa1, hdr, h);
	b = 0;
	put_tlv(t2, &b, 0xa2, t1, a);
	memcpy(pl + p, t2, b);
	p += b;
	k = 0;
	put_tlv(out, &k, 0x30, pl, p);
	return k;
}

/*
 * The integer, enumeration and OID fields the fast paths read, each with
 * every contents of 0..2 octets and, up to 10 octets, every length with
 * a first octet of 00, 01, 7F, 80 or FF followed by 00, 5A or FF.
 */
static void test_fields(void)
{
	static const uint8_t first[] = { 0x00, 0x01, 0x7f, 0x80, 0xff }, rest[] = { 0x00, 0x5a, 0xff };
	uint8_t v[16], pdu[1024];
	size_t n;

	for (int field = 0; field <= 4; field++) {
		for (unsigned x = 0; x < 65536 + 256 + 1; x++) {
			n = x == 0 ? 0 : x <= 256 ? 1 : 2;
			v[0] = (uint8_t)(x <= 256 ? x - 1 : (x - 257) >> 8);
			v[1] = (uint8_t)(x - 257);
			n = field_pdu(pdu, field, v, n);
			CHECK(same_decode(pdu, n, "field", (size_t)field) == 0);
		}
		for (size_t len = 3; len <= 10; len++) {
			for (size_t f = 0; f < sizeof(first); f++) {
				for (size_t r = 0; r < sizeof(rest); r++) {
					v[0] = first[f];
					memset(v + 1, rest[r], len - 1);
					n = field_pdu(pdu, field, v, len);
					CHECK(same_decode(pdu, n, "field", (size_t)field) == 0);
				}
			}
		}
	}
}

int main(void)
{
	RUN(test_fields);
	RUN(test_vectors);
	RUN(test_corpora);
	RUN(test_mediator);
	fprintf(stderr, "test_etsi_fast: %lu decodes compared\n", n_decoded);
	return t_done();
}
