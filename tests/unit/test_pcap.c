/*
 * test_pcap.c - the pcap bytes lacre pcap writes (lib/access/pcap.c):
 * global header, record header, synthetic IPv4/UDP header with a valid
 * checksum, the snap length; then files written from records sealed by
 * the real sink and indexed from the backend: every CC packet of a
 * warrant (or of one CIN) in sealing order with its interception time,
 * IP frames as intercepted, RTP frames given the call's SDP addresses
 * (or the documentation addresses without the call), frames of other
 * types skipped and counted; refusals (existing file, damaged segment,
 * an index holding another commitment) leave no file.
 */
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include "harness.h"
#include "sink_kit.h"
#include "lacre/calls.h"
#include "lacre/err.h"
#include "lacre/index.h"
#include "lacre/pcap.h"

/* Classic pcap, little-endian, microseconds, LINKTYPE_RAW. */
static void test_global_header(void)
{
	static const uint8_t want[PCAP_GLOBAL_HEADER] = {
		0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x00, 0x04, 0x00, 0x65, 0x00, 0x00, 0x00
	};
	uint8_t h[PCAP_GLOBAL_HEADER];

	pcap_global_header(h);
	CHECK_MEM(h, want, sizeof(want));
}

/* ts_sec, ts_usec, incl_len, orig_len, then the bytes. */
static void test_record(void)
{
	static const uint8_t pkt[3] = { 0x45, 0x00, 0x01 };
	static const uint8_t want[] = { 0x41, 0xa3, 0x87, 0x67, 0x40, 0xe2, 0x01, 0x00,
		3, 0, 0, 0, 9, 0, 0, 0, 0x45, 0x00, 0x01 };
	struct lacre_dbuf d;

	lacre_dbuf_init(&d, 1 << 20);
	/* 2025-01-15T12:00:01.123456Z */
	CHECK_OK(pcap_record(&d, INT64_C(1736942401123456), pkt, 3, 9));
	CHECK_EQ_INT(d.len, sizeof(want));
	CHECK_MEM(d.p, want, sizeof(want));
	lacre_dbuf_reset(&d);
	CHECK_EQ_INT(pcap_record(&d, 0, pkt, PCAP_SNAPLEN + 1, 0), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(d.len, 0);
	lacre_dbuf_free(&d);
}

/* A synthetic IPv4 + UDP header around an RTP packet. */
static void test_wrap(void)
{
	static const uint8_t src[4] = { 192, 0, 2, 1 }, dst[4] = { 192, 0, 2, 2 };
	uint8_t rtp[12 + 160];
	struct lacre_dbuf d;
	uint32_t sum = 0;

	memset(rtp, 0xd5, sizeof(rtp));
	rtp[0] = 0x80;
	lacre_dbuf_init(&d, 1 << 20);
	CHECK_OK(pcap_wrap_ipv4(&d, src, dst, 5004, 30000, 0, rtp, sizeof(rtp)));
	CHECK_EQ_INT(d.len, 20 + 8 + sizeof(rtp));
	CHECK_EQ_INT(d.p[0], 0x45);
	CHECK_EQ_INT(d.p[2] << 8 | d.p[3], 200);
	CHECK_EQ_INT(d.p[9], 17);
	CHECK_MEM(d.p + 12, src, 4);
	CHECK_MEM(d.p + 16, dst, 4);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)d.p[i] << 8 | d.p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	CHECK_EQ_INT(sum, 0xffff);                     /* header checksum verifies */
	CHECK_EQ_INT(d.p[20] << 8 | d.p[21], 5004);
	CHECK_EQ_INT(d.p[22] << 8 | d.p[23], 30000);
	CHECK_EQ_INT(d.p[24] << 8 | d.p[25], 8 + sizeof(rtp));
	CHECK_EQ_INT(d.p[28], 0x80);
	/* a UDP datagram gets only the IP header */
	CHECK_OK(pcap_wrap_ipv4(&d, src, dst, 0, 0, 1, rtp, 20));
	CHECK_EQ_INT(d.len, 40);
	CHECK_EQ_INT(pcap_wrap_ipv4(&d, src, dst, 0, 0, 0, rtp, 65536), LACRE_E_TOO_LARGE);
	lacre_dbuf_free(&d);
}

#define W_V "W-000001"      /* LIVOIP */

static struct lacre_store *p_inner, *p_st;
static struct index *p_ix;
static struct age_x25519_identity p_id;
static char p_dir[600];

/* A site with three CIN of LIVOIP: 4242 a call of IP frames (5 packets
 * each way), 5000 a call of RTP frames (3 each way), 7 one IPCC packet and
 * one IPMMCC frame of type audioFrame (3: not exportable); sealed, closed,
 * indexed. */
static int pcap_site(void)
{
	struct warrant w;
	struct lacre_sink k;
	struct lacre_dbuf b;
	struct index_report ir;
	char wid[WARRANT_ID_MAX], spec[SITE_PATH_MAX + 16], path[700];
	int64_t t0 = T("2026-02-01T10:00:00Z");
	int r;

	index_close(p_ix);
	p_ix = NULL;
	lacre_store_close(p_st);
	p_st = NULL;
	if ((r = kit_make_site(NULL, 0, 0, 0)) != LACRE_OK)
		return r;
	snprintf(p_dir, sizeof(p_dir), "%s", t_tmpdir());
	kit_spec(&w, "LIVOIP", "2026-01-10", "2026-01-10", "2026-04-10");
	if ((r = warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg))) != LACRE_OK ||
	    (r = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	r = kit_call(&k, "LIVOIP", 4242, t0, 5, -1, -1, 0);
	if (r == LACRE_OK)
		r = kit_call(&k, "LIVOIP", 5000, t0 + 10000000, 3, -1, -1, 2);
	lacre_dbuf_init(&b, 1 << 16);
	if (r == LACRE_OK)
		r = kit_ipcc(&b, "LIVOIP", 900, t0 + 20000000, 100);
	if (r == LACRE_OK)
		r = kit_push(&k, b.p, b.len, t0 + 20000000, LACRE_HI3);
	lacre_dbuf_reset(&b);
	if (r == LACRE_OK)
		r = kit_rtp(&b, "LIVOIP", 7, 901, t0 + 20000001, 1, 1, 0x11, 3);
	if (r == LACRE_OK)
		r = kit_push(&k, b.p, b.len, t0 + 20000001, LACRE_HI3);
	lacre_dbuf_free(&b);
	k.close(k.ctx);
	if (r != LACRE_OK)
		return r;
	if (snprintf(spec, sizeof(spec), "dir:%s/objects", kit_site.dir) >= (int)sizeof(spec))
		return LACRE_E_TOO_LARGE;
	snprintf(path, sizeof(path), "%s/index.sqlite", p_dir);
	if ((r = lacre_store_open(spec, &p_inner)) != LACRE_OK ||
	    (r = lacre_store_faulty_wrap(p_inner, 1, &p_st)) != LACRE_OK ||
	    (r = index_open_path(path, &p_ix)) != LACRE_OK ||
	    (r = keystore_get(kit_ks, W_V, &p_id, NULL)) != LACRE_OK ||
	    (r = index_update(p_ix, p_st, &p_id, W_V, NULL, NULL, &ir)) != LACRE_OK)
		return r;
	return ir.records == (4 + 10) + (4 + 6) + 2 ? LACRE_OK : LACRE_E_INTERNAL;
}

/* Walk the packet records of a pcap image: count, and copy the idx-th
 * packet's header fields and first bytes. */
struct pkt_view {
	size_t n;
	uint32_t sec, usec, incl, orig;
	uint8_t head[64];
};

static int walk(const struct lacre_dbuf *f, size_t idx, struct pkt_view *v)
{
	size_t off = PCAP_GLOBAL_HEADER;

	memset(v, 0, sizeof(*v));
	while (off < f->len) {
		const uint8_t *h = f->p + off;
		uint32_t incl;
		if (f->len - off < PCAP_RECORD_HEADER)
			return LACRE_E_TRUNCATED;
		incl = (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24;
		if (f->len - off - PCAP_RECORD_HEADER < incl)
			return LACRE_E_TRUNCATED;
		if (v->n == idx) {
			v->sec = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
			v->usec = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
			v->incl = incl;
			v->orig = (uint32_t)h[12] | (uint32_t)h[13] << 8 | (uint32_t)h[14] << 16 |
				  (uint32_t)h[15] << 24;
			memcpy(v->head, h + PCAP_RECORD_HEADER, incl < 64 ? incl : 64);
		}
		v->n++;
		off += PCAP_RECORD_HEADER + incl;
	}
	return LACRE_OK;
}

/* Whether path or path.part exists. */
static int p_exists(const char *path)
{
	char part[800];

	snprintf(part, sizeof(part), "%s.part", path);
	return access(path, F_OK) == 0 || access(part, F_OK) == 0;
}

/* Every CC packet of the warrant; one CIN; synthetic headers. */
static void test_pcap_write(void)
{
	struct pcap_report rep;
	struct lacre_dbuf f;
	struct pkt_view v;
	struct calls_entry c;
	uint8_t gh[PCAP_GLOBAL_HEADER];
	char path[700];
	int64_t t0 = T("2026-02-01T10:00:00Z");

	lacre_dbuf_init(&f, 1 << 24);
	CHECK_OK(pcap_site());
	/* the whole warrant: 10 IP frames, 6 RTP frames wrapped, 1 IPCC; the
	 * audioFrame skipped */
	snprintf(path, sizeof(path), "%s/all.pcap", p_dir);
	CHECK_OK(pcap_write(p_ix, p_st, &p_id, W_V, 0, 0, NULL, 0, path, NULL, NULL, &rep));
	CHECK_EQ_INT(rep.packets, 17);
	CHECK_EQ_INT(rep.synthetic, 6);
	CHECK_EQ_INT(rep.skipped, 1);
	CHECK_OK(site_read_file(path, 1 << 24, &f));
	pcap_global_header(gh);
	CHECK_MEM(f.p, gh, sizeof(gh));
	CHECK_OK(walk(&f, 0, &v));
	CHECK_EQ_INT(v.n, 17);
	/* the first: the target's first RTP packet, as intercepted, at its
	 * interception time */
	CHECK_EQ_INT(v.incl, 20 + 8 + 12 + 160);
	CHECK_EQ_INT(v.orig, v.incl);
	CHECK_EQ_INT((int64_t)v.sec * 1000000 + v.usec, t0 + 600000);
	CHECK_EQ_INT(v.head[0], 0x45);
	CHECK(v.head[12] == 10 && v.head[13] == 20 && v.head[14] == 0 && v.head[15] == 1);
	CHECK_EQ_INT(rep.bytes, 10 * 200 + 6 * 200 + (f.len - PCAP_GLOBAL_HEADER -
		     17 * PCAP_RECORD_HEADER - 16 * 200));
	/* the RTP frames without the call: documentation addresses, 5004 */
	CHECK_OK(walk(&f, 10, &v));
	CHECK_EQ_INT(v.incl, 20 + 8 + 12 + 160);
	CHECK(v.head[12] == 192 && v.head[13] == 0 && v.head[14] == 2 && v.head[15] == 1);
	CHECK(v.head[16] == 192 && v.head[17] == 0 && v.head[18] == 2 && v.head[19] == 2);
	CHECK_EQ_INT(v.head[20] << 8 | v.head[21], 5004);
	CHECK_EQ_INT(v.head[28], 0x80);
	/* one CIN only, with its call: the SDP addresses and ports */
	CHECK_OK(calls_find(p_ix, W_V, W_V "-5000", &c));
	snprintf(path, sizeof(path), "%s/5000.pcap", p_dir);
	CHECK_OK(pcap_write(p_ix, p_st, &p_id, W_V, 1, 5000, &c, 1, path, NULL, NULL, &rep));
	CHECK_EQ_INT(rep.packets, 6);
	CHECK_EQ_INT(rep.synthetic, 6);
	CHECK_EQ_INT(rep.skipped, 0);
	lacre_dbuf_free(&f);                     /* site_read_file initialises it */
	CHECK_OK(site_read_file(path, 1 << 24, &f));
	CHECK_OK(walk(&f, 0, &v));                /* from the target */
	CHECK_EQ_INT(v.n, 6);
	CHECK(v.head[12] == 10 && v.head[13] == 20 && v.head[14] == 0 && v.head[15] == 1);
	CHECK(v.head[16] == 203 && v.head[17] == 0 && v.head[18] == 113 && v.head[19] == 5);
	CHECK_EQ_INT(v.head[20] << 8 | v.head[21], 40000);
	CHECK_EQ_INT(v.head[22] << 8 | v.head[23], 30000);
	CHECK_OK(walk(&f, 1, &v));                /* to the target */
	CHECK(v.head[12] == 203 && v.head[16] == 10);
	CHECK_EQ_INT(v.head[20] << 8 | v.head[21], 30000);
	/* a CIN with nothing: an empty capture, not an error */
	snprintf(path, sizeof(path), "%s/none.pcap", p_dir);
	CHECK_OK(pcap_write(p_ix, p_st, &p_id, W_V, 1, 31337, NULL, 0, path, NULL, NULL, &rep));
	CHECK_EQ_INT(rep.packets, 0);
	lacre_dbuf_free(&f);                     /* site_read_file initialises it */
	CHECK_OK(site_read_file(path, 1 << 24, &f));
	CHECK_EQ_INT(f.len, PCAP_GLOBAL_HEADER);
	lacre_dbuf_free(&f);
}

/* problem callback: count. */
static void p_count(void *arg, const char *segment, int err, const char *what)
{
	(*(int *)arg)++;
}

/* Refusals leave no file. */
static void test_pcap_refusals(void)
{
	struct pcap_report rep;
	char path[700], **segs = NULL;
	size_t n = 0;
	int problems = 0;

	CHECK_OK(pcap_site());
	snprintf(path, sizeof(path), "%s/x.pcap", p_dir);
	CHECK_OK(pcap_write(p_ix, p_st, &p_id, W_V, 1, 4242, NULL, 0, path, NULL, NULL, &rep));
	CHECK_EQ_INT(pcap_write(p_ix, p_st, &p_id, W_V, 1, 4242, NULL, 0, path, NULL, NULL, &rep),
		     LACRE_E_EXISTS);
	/* the index holds another commitment for a record */
	CHECK(sqlite3_exec(index_db(p_ix), "UPDATE records SET commitment = zeroblob(32) WHERE "
			   "kind = 'cc' AND cin = 4242 AND seq = 3", NULL, NULL, NULL) == SQLITE_OK);
	snprintf(path, sizeof(path), "%s/commit.pcap", p_dir);
	CHECK_EQ_INT(pcap_write(p_ix, p_st, &p_id, W_V, 1, 4242, NULL, 0, path, NULL, NULL, &rep),
		     LACRE_E_VERIFY);
	CHECK(!p_exists(path));
	/* a damaged segment */
	CHECK_OK(pcap_site());
	CHECK_OK(index_segments(p_ix, W_V, "kind = 'cc'", 0, 0, &segs, &n));
	CHECK(n >= 1);
	CHECK_OK(lacre_store_faulty_set(p_st, LACRE_STORE_FAULT_FLIP, segs[0], 600));
	snprintf(path, sizeof(path), "%s/flip.pcap", p_dir);
	CHECK_EQ_INT(pcap_write(p_ix, p_st, &p_id, W_V, 0, 0, NULL, 0, path, p_count, &problems, &rep),
		     LACRE_E_CORRUPT);
	CHECK(problems >= 1);
	CHECK(!p_exists(path));
	index_free_names(segs, n);
}

int main(void)
{
	RUN(test_global_header);
	RUN(test_record);
	RUN(test_wrap);
	RUN(test_pcap_write);
	RUN(test_pcap_refusals);
	index_close(p_ix);
	lacre_store_close(p_st);
	age_identity_wipe(&p_id);
	keystore_close(kit_ks);
	return t_done();
}
