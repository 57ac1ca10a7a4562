/*
 * sink_kit.h - what the sealing-sink and reader tests share: a real site in
 * a temporary folder (keystore open, cheap scrypt), warrants with fixed
 * windows, PS-PDUs built with the encoder the simulator uses
 * (lib/wire/etsi_enc.c) plus two the encoder refuses on purpose (any LIID
 * length, an IRI content lacre does not decode), records pushed through a
 * sink, and the sealed records read back with the access-side reader
 * (lib/access/read.c) into a flat array the tests can assert on.
 *
 * Included by tests/unit/test_seal_sink.c, test_read.c, test_receipts.c,
 * test_audio.c and test_pcap.c only: every function is static and marked
 * unused, so a test that needs a few of them builds warning-free.
 */
#ifndef LACRE_TEST_SINK_KIT_H
#define LACRE_TEST_SINK_KIT_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "harness.h"
#include "lacre/access.h"
#include "lacre/acl.h"
#include "lacre/age.h"
#include "lacre/ber_enc.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_enc.h"
#include "lacre/frame.h"
#include "keeper/keystore.h"
#include "keeper/warrant_log.h"
#include "lacre/receipts.h"
#include "lacre/record.h"
#include "lacre/seal_sink.h"
#include "lacre/site.h"
#include "lacre/store.h"
#include "lacre/tlog.h"
#include "lacre/users.h"
#include "lacre/warrant.h"

#define KIT_UNUSED __attribute__((unused))
#define KIT_RECS_MAX 512

static struct site kit_site;
static struct keystore *kit_ks;
static char kit_msg[SITE_MSG_MAX];

/* Microseconds of an ISO time (0 on a parse error, which the tests catch
 * as a wrong route). */
static KIT_UNUSED int64_t T(const char *s)
{
	int64_t t = 0;

	if (warrant_time_parse(s, &t) != LACRE_OK)
		return 0;
	return t;
}

/* A fresh site in a new temporary folder with its keystore open.  backend
 * (NULL: the default dir: backend) is set after creation, as --set would;
 * quota 0 = none; max_bytes / max_age_ms 0 keep the defaults. */
static KIT_UNUSED int kit_make_site(const char *backend, uint64_t quota, uint64_t max_bytes,
				    uint64_t max_age_ms)
{
	struct site_config c;
	uint8_t master[32];
	char dir[512];
	int r;

	keystore_close(kit_ks);
	kit_ks = NULL;
	snprintf(dir, sizeof(dir), "%s/site", t_tmpdir());
	site_config_defaults(&c, dir);
	c.scrypt_log2n = 10;
	r = site_create(dir, &c, "pw", &kit_site, kit_msg, sizeof(kit_msg));
	if (r == LACRE_OK)
		r = site_master_unlock(&kit_site, "pw", master);
	if (r == LACRE_OK)
		r = keystore_open(&kit_site, master, &kit_ks);
	OPENSSL_cleanse(master, sizeof(master));
	if (r != LACRE_OK)
		return r;
	if (backend)
		snprintf(kit_site.cfg.backend, sizeof(kit_site.cfg.backend), "%s", backend);
	kit_site.cfg.spool_quota = quota;
	if (max_bytes)
		kit_site.cfg.segment_max_bytes = max_bytes;
	if (max_age_ms)
		kit_site.cfg.segment_max_age_ms = max_age_ms;
	return LACRE_OK;
}

/* A clerk's gate session on the kit site that the gate allowed "export"
 * on warrant (and "quarantine" when oversight), as `lacre export` holds
 * it: the export code reads its keys only through it (access_key.h).  The
 * first call on a site registers an admin and the clerk "kitclerk"; the
 * access-log auditor identity is made but NOT stored in the keystore (the
 * kit site has none, as the tests expect).  The caller closes *out. */
static KIT_UNUSED int kit_session(const char *warrant, int oversight, struct acl_session **out)
{
	static char done[SITE_PATH_MAX];
	struct access_request rq = { "export", warrant, "kit export", "kit test" };
	struct user_key admin, clerk;
	struct age_x25519_identity aud;
	char path[SITE_PATH_MAX + 32];
	uint8_t seed[32];
	int r = LACRE_OK;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/kitclerk.key", kit_site.dir);
	if (strcmp(done, kit_site.dir) != 0) {
		memset(&admin, 0, sizeof(admin));
		memset(&clerk, 0, sizeof(clerk));
		if ((r = keystore_get_secret(kit_ks, SITE_SIGNER_KEY, seed, NULL)) == LACRE_OK &&
		    (r = age_x25519_generate(&aud)) == LACRE_OK &&
		    (r = user_key_generate("kitroot", &admin)) == LACRE_OK &&
		    (r = users_bootstrap(&kit_site, seed, aud.public_key, "kitroot", "", admin.pub,
					 kit_msg, sizeof(kit_msg))) == LACRE_OK &&
		    (r = user_key_generate("kitclerk", &clerk)) == LACRE_OK &&
		    (r = user_key_write(&clerk, path)) == LACRE_OK)
			r = users_add(&kit_site, &admin, "kitclerk", ACL_CLERK, "", clerk.pub, kit_msg,
				      sizeof(kit_msg));
		OPENSSL_cleanse(seed, sizeof(seed));
		OPENSSL_cleanse(&admin, sizeof(admin));
		OPENSSL_cleanse(&clerk, sizeof(clerk));
		age_identity_wipe(&aud);
		if (r != LACRE_OK)
			return r;
		snprintf(done, sizeof(done), "%s", kit_site.dir);
	}
	if ((r = acl_session_open(&kit_site, path, out, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	/* the session reads the kit's keystore (it stays the kit's) */
	access_keys_lend(*out, kit_ks);
	r = acl_authorize(*out, &rq, kit_msg, sizeof(kit_msg));
	if (r == LACRE_OK && oversight) {
		rq.action = "quarantine";
		rq.warrant = NULL;
		r = acl_authorize(*out, &rq, kit_msg, sizeof(kit_msg));
	}
	if (r != LACRE_OK) {
		acl_session_close(*out);
		*out = NULL;
	}
	return r;
}

/* A complete order for one LIID (content and IRI unless changed). */
static KIT_UNUSED void kit_spec(struct warrant *w, const char *liid, const char *od,
				const char *from, const char *to)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->case_id, sizeof(w->case_id), "DP 14/2026");
	snprintf(w->unit, sizeof(w->unit), "UDEF Madrid");
	snprintf(w->court, sizeof(w->court), "Juzgado de Instrucción nº 3, Madrid");
	snprintf(w->periods[0].order_id, sizeof(w->periods[0].order_id), "Auto %s", liid);
	w->periods[0].order_date = T(od);
	w->periods[0].from = T(from);
	w->periods[0].to = T(to);
	w->n_periods = 1;
	w->categories = WARRANT_CAT_IRI | WARRANT_CAT_CONTENT;
	snprintf(w->targets[0], sizeof(w->targets[0]), "target-%s", liid);
	w->n_targets = 1;
	snprintf(w->liids[0], sizeof(w->liids[0]), "%s", liid);
	w->n_liids = 1;
}

/* The PSHeader of the simulator for liid, sequence number seq and
 * interception time t (qualifier timeOfInterception). */
static KIT_UNUSED void kit_header(struct etsi_enc_header *h, const char *liid, uint64_t seq,
				  int64_t t)
{
	etsi_enc_header_defaults(h);
	h->liid = (const uint8_t *)liid;
	h->liid_len = strlen(liid);
	h->operator_id = "kit-op";
	h->network_element_id = "ne1";
	h->has_cin = 1;
	h->cin = 7;
	h->seq = seq;
	h->time_us = t;
}

/* IPCC content of n bytes (an IPv4-looking packet) into out. */
static KIT_UNUSED int kit_ipcc(struct lacre_dbuf *out, const char *liid, uint64_t seq, int64_t t,
			       size_t n)
{
	struct etsi_enc_header h;
	uint8_t pkt[2048];

	if (n > sizeof(pkt) || n < 20)
		return LACRE_E_INVALID;
	memset(pkt, (int)(seq & 0xff), n);
	pkt[0] = 0x45;
	kit_header(&h, liid, seq, t);
	return etsi_enc_ipcc(out, &h, ETSI_ENC_DIR_FROM_TARGET, pkt, n);
}

/* IPIRI access event, with a targetLocation when location is set. */
static KIT_UNUSED int kit_ipiri(struct lacre_dbuf *out, const char *liid, uint64_t seq, int64_t t,
				const char *location)
{
	struct etsi_enc_header h;
	struct etsi_enc_ipiri ev;

	kit_header(&h, liid, seq, t);
	memset(&ev, 0, sizeof(ev));
	ev.access_event = 1;
	ev.username = "target@isp";
	ev.access_type = 2;
	ev.ip_version = 1;
	ev.pop_port = -1;
	ev.start_us = -1;
	ev.end_us = -1;
	ev.end_reason = -1;
	ev.octets_received = -1;
	ev.octets_transmitted = -1;
	ev.target_location = location;
	return etsi_enc_ipiri(out, &h, ETSI_IRI_REPORT, &ev);
}

/* IPMMIRI carrying a SIP message. */
static KIT_UNUSED int kit_ipmmiri(struct lacre_dbuf *out, const char *liid, uint64_t seq,
				  int64_t t, const char *sip)
{
	struct etsi_enc_header h;
	struct etsi_enc_ipaddr a = { 0, { 192, 0, 2, 1 }, 0, -1 }, b = { 0, { 192, 0, 2, 2 }, 0, -1 };

	kit_header(&h, liid, seq, t);
	return etsi_enc_ipmmiri(out, &h, ETSI_IRI_BEGIN, &a, &b, (const uint8_t *)sip, strlen(sip));
}

/* A PS-PDU the encoder refuses to build: a LIID of any length (0 or past
 * every ETSI limit), and as payload either a TRI keep-alive (iri_tag 0) or
 * an IRI whose IRIContents alternative is [iri_tag] holding one OID (a
 * content lacre does not decode, e.g. [4]). */
static KIT_UNUSED int kit_raw(struct lacre_dbuf *out, const uint8_t *liid, size_t liid_len,
			      uint64_t seq, int64_t t, int iri_tag)
{
	struct ber_enc e;

	ber_enc_init(&e, out, BER_ENC_LEN_MINIMAL);
	ber_enc_seq(&e);
	ber_enc_open(&e, BER_CONTEXT, 1);                  /* pSHeader */
	ber_enc_oid_text(&e, BER_CONTEXT, 0, ETSI_ENC_DOMAIN_OPENLI, 0);
	ber_enc_prim(&e, BER_CONTEXT, 1, liid, liid_len);
	ber_enc_open(&e, BER_CONTEXT, 3);
	ber_enc_open(&e, BER_CONTEXT, 0);
	ber_enc_str(&e, BER_CONTEXT, 0, "kit-op");
	ber_enc_close(&e);
	ber_enc_close(&e);
	ber_enc_uint(&e, BER_CONTEXT, 4, seq);
	ber_enc_open(&e, BER_CONTEXT, 7);
	ber_enc_uint(&e, BER_CONTEXT, 0, (uint64_t)(t / 1000000));
	ber_enc_uint(&e, BER_CONTEXT, 1, (uint64_t)(t % 1000000));
	ber_enc_close(&e);
	ber_enc_uint(&e, BER_CONTEXT, 8, 1);
	ber_enc_close(&e);
	ber_enc_open(&e, BER_CONTEXT, 2);                  /* payload */
	if (iri_tag == 0) {
		ber_enc_open(&e, BER_CONTEXT, 2);          /* tRIPayload */
		ber_enc_null(&e, BER_CONTEXT, 3);          /* keep-alive */
		ber_enc_close(&e);
	} else {
		ber_enc_open(&e, BER_CONTEXT, 0);          /* iRIPayloadSequence */
		ber_enc_seq(&e);
		ber_enc_uint(&e, BER_CONTEXT, 0, ETSI_IRI_REPORT);
		ber_enc_open(&e, BER_CONTEXT, 2);          /* iRIContents */
		ber_enc_open(&e, BER_CONTEXT, (uint32_t)iri_tag);
		ber_enc_oid_text(&e, BER_CONTEXT, 0, "5.3.10.9", 1);
		ber_enc_close(&e);
		ber_enc_close(&e);
		ber_enc_close(&e);
		ber_enc_close(&e);
	}
	ber_enc_close(&e);
	ber_enc_close(&e);
	return ber_enc_finish(&e);
}

/* k->record(rec) as the receiver calls it: a record refused while the
 * sink's closer is behind (the counter refused_closer moved) is held and
 * tried again, as the receiver does; any other answer, including
 * LACRE_E_NOSPACE for a full spool, is returned at once. */
static KIT_UNUSED int kit_record(struct lacre_sink *k, const struct lacre_record *rec)
{
	struct seal_sink_stats st;
	uint64_t before;
	int r, tries;

	for (tries = 0; tries < 20000; tries++) {
		struct timespec ms = { 0, 1000000 };
		seal_sink_stats_get(k, &st);
		before = st.refused_closer;
		if ((r = k->record(k->ctx, rec)) != LACRE_E_NOSPACE)
			return r;
		seal_sink_stats_get(k, &st);
		if (st.refused_closer == before)
			return r;
		nanosleep(&ms, NULL);
	}
	return r;
}

/* Hand pdu to the sink as the receiver would (no decode of its own). */
static KIT_UNUSED int kit_push(struct lacre_sink *k, const uint8_t *pdu, size_t n, int64_t recv_us,
			       int listener)
{
	struct lacre_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.pdu = pdu;
	rec.pdu_len = n;
	rec.recv_us = recv_us;
	rec.listener = (uint8_t)listener;
	rec.conn_id = 1;
	snprintf(rec.peer, sizeof(rec.peer), "127.0.0.1:40000");
	return kit_record(k, &rec);
}

/* The record of b as HI3 connection conn of operator op ("" = none),
 * received at recv_us. */
static KIT_UNUSED void kit_rec_as(struct lacre_record *rec, const struct lacre_dbuf *b,
				  int64_t recv_us, const char *op, uint64_t conn)
{
	memset(rec, 0, sizeof(*rec));
	rec->pdu = b->p;
	rec->pdu_len = b->len;
	rec->recv_us = recv_us;
	rec->listener = LACRE_HI3;
	rec->conn_id = conn;
	snprintf(rec->peer, sizeof(rec->peer), "127.0.0.1:%llu", 40000 + (unsigned long long)conn);
	snprintf(rec->operator_name, sizeof(rec->operator_name), "%s", op);
}

/* Hand b to the sink as HI3 connection conn of operator op ("" = none),
 * received at recv_us. */
static KIT_UNUSED int kit_push_as(struct lacre_sink *k, const struct lacre_dbuf *b, int64_t recv_us,
				  const char *op, uint64_t conn)
{
	struct lacre_record rec;

	kit_rec_as(&rec, b, recv_us, op, conn);
	return kit_record(k, &rec);
}

/* One SIP IRI of a VoIP call between the proxy 192.168.110.100 and the
 * target's UA 10.20.0.1 (to_target: proxy -> UA). */
static KIT_UNUSED int kit_sip(struct lacre_dbuf *out, const char *liid, uint32_t cin,
			      uint64_t seq, int64_t t, int iri_type, int to_target, const char *text)
{
	struct etsi_enc_header h;
	struct etsi_enc_ipaddr proxy = { 0, { 192, 168, 110, 100 }, 3, 32 };
	struct etsi_enc_ipaddr ua = { 0, { 10, 20, 0, 1 }, 3, 32 };

	kit_header(&h, liid, seq, t);
	h.cin = cin;
	return etsi_enc_ipmmiri(out, &h, iri_type, to_target ? &proxy : &ua,
				to_target ? &ua : &proxy, (const uint8_t *)text, strlen(text));
}

/* One G.711 A-law RTP packet of that call as IPMMCC: 160 bytes of payload
 * value fill, from the target (10.20.0.1:40000 -> 203.0.113.5:30000) or to
 * it, SSRC 1 from the target and 2 to it, labelled with the true
 * direction.  frame_type 0 sends the whole IPv4/UDP/RTP packet (ipFrame);
 * 2 sends the RTP packet alone as rtpFrame (the encoder writes ipFrame:
 * the frameType octet is changed after encoding, lengths unchanged). */
static KIT_UNUSED int kit_rtp(struct lacre_dbuf *out, const char *liid, uint32_t cin,
			      uint64_t seq, int64_t t, int from_target, uint16_t rseq,
			      uint8_t fill, int frame_type)
{
	uint8_t f[20 + 8 + 12 + 160], *rtp = f + 28;
	struct etsi_enc_header h;
	size_t len0 = out->len;
	int r;

	memset(f, fill, sizeof(f));
	f[0] = 0x45; f[1] = 0; f[2] = 0; f[3] = sizeof(f); f[4] = f[5] = 0; f[6] = f[7] = 0;
	f[8] = 64; f[9] = 17; f[10] = f[11] = 0;
	if (from_target) {
		memcpy(f + 12, (const uint8_t[4]){ 10, 20, 0, 1 }, 4);
		memcpy(f + 16, (const uint8_t[4]){ 203, 0, 113, 5 }, 4);
		f[20] = 0x9c; f[21] = 0x40; f[22] = 0x75; f[23] = 0x30;
	} else {
		memcpy(f + 12, (const uint8_t[4]){ 203, 0, 113, 5 }, 4);
		memcpy(f + 16, (const uint8_t[4]){ 10, 20, 0, 1 }, 4);
		f[20] = 0x75; f[21] = 0x30; f[22] = 0x9c; f[23] = 0x40;
	}
	f[24] = 0; f[25] = 8 + 12 + 160; f[26] = f[27] = 0;
	memset(rtp, 0, 12);
	rtp[0] = 0x80; rtp[1] = 8;
	rtp[2] = (uint8_t)(rseq >> 8); rtp[3] = (uint8_t)rseq;
	rtp[4] = (uint8_t)(rseq >> 8); rtp[5] = (uint8_t)rseq;   /* timestamp */
	rtp[11] = from_target ? 1 : 2;                          /* SSRC */
	kit_header(&h, liid, seq, t);
	h.cin = cin;
	if (frame_type == 0)
		return etsi_enc_ipmmcc(out, &h, from_target ? ETSI_ENC_DIR_FROM_TARGET :
				       ETSI_ENC_DIR_TO_TARGET, f, sizeof(f));
	r = etsi_enc_ipmmcc(out, &h, from_target ? ETSI_ENC_DIR_FROM_TARGET : ETSI_ENC_DIR_TO_TARGET,
			    rtp, 12 + 160);
	if (r != LACRE_OK)
		return r;
	/* frameType [2] 0, then mMCCprotocol [4] 0: the PDU's last 6 octets */
	if (out->len - len0 < 6 || memcmp(out->p + out->len - 6, "\x82\x01\x00\x84\x01\x00", 6)) {
		out->len = len0;
		return LACRE_E_INTERNAL;
	}
	out->p[out->len - 4] = (uint8_t)frame_type;
	return LACRE_OK;
}

/* A VoIP call on CIN cin pushed through sink k: INVITE (the peer calls the
 * target; SDP 203.0.113.5:30000), 200 OK (target's SDP 10.20.0.1:40000),
 * then n RTP packets each way 20 ms apart with RTP sequence numbers from
 * 1000, except skip_from (from the target) and skip_to (to it), which are
 * never sent (-1: none), then BYE and its 200 OK.  Payload bytes 0xd5 from
 * the target and 0x55 to it; Call-ID c<cin>@x.  frame_type as in kit_rtp. */
static KIT_UNUSED int kit_call(struct lacre_sink *k, const char *liid, uint32_t cin, int64_t t0,
			       int n, int skip_from, int skip_to, int frame_type)
{
	struct lacre_dbuf b;
	uint64_t seq = 0, cs = 0;
	char sip[512];
	int r;

	lacre_dbuf_init(&b, 1 << 16);
#define KIT_SEND(expr, t, lst) do { lacre_dbuf_reset(&b); if (r == LACRE_OK) r = (expr); \
		if (r == LACRE_OK) r = kit_push(k, b.p, b.len, (t), (lst)); } while (0)
	r = LACRE_OK;
	snprintf(sip, sizeof(sip), "INVITE sip:t@ims SIP/2.0\r\nFrom: <sip:peer@example.org>;tag=a\r\n"
		 "To: <sip:target@ims>\r\nCall-ID: c%u@x\r\nCSeq: 1 INVITE\r\n\r\n"
		 "c=IN IP4 203.0.113.5\r\nm=audio 30000 RTP/AVP 8\r\n", cin);
	KIT_SEND(kit_sip(&b, liid, cin, seq++, t0, ETSI_IRI_BEGIN, 1, sip), t0, LACRE_HI2);
	snprintf(sip, sizeof(sip), "SIP/2.0 200 OK\r\nFrom: <sip:peer@example.org>;tag=a\r\n"
		 "To: <sip:target@ims>\r\nCall-ID: c%u@x\r\nCSeq: 1 INVITE\r\n\r\n"
		 "c=IN IP4 10.20.0.1\r\nm=audio 40000 RTP/AVP 8\r\n", cin);
	KIT_SEND(kit_sip(&b, liid, cin, seq++, t0 + 500000, ETSI_IRI_CONTINUE, 0, sip),
		 t0 + 500000, LACRE_HI2);
	for (int i = 0; i < n; i++) {
		int64_t t = t0 + 600000 + (int64_t)i * 20000;
		if (i != skip_from)
			KIT_SEND(kit_rtp(&b, liid, cin, cs, t, 1, (uint16_t)(1000 + i), 0xd5, frame_type),
				 t, LACRE_HI3);
		cs++;
		if (i != skip_to)
			KIT_SEND(kit_rtp(&b, liid, cin, cs, t + 5000, 0, (uint16_t)(1000 + i), 0x55,
					 frame_type), t + 5000, LACRE_HI3);
		cs++;
	}
	snprintf(sip, sizeof(sip), "BYE sip:t@ims SIP/2.0\r\nCall-ID: c%u@x\r\nCSeq: 2 BYE\r\n\r\n", cin);
	KIT_SEND(kit_sip(&b, liid, cin, seq++, t0 + 3000000, ETSI_IRI_CONTINUE, 1, sip),
		 t0 + 3000000, LACRE_HI2);
	snprintf(sip, sizeof(sip), "SIP/2.0 200 OK\r\nCall-ID: c%u@x\r\nCSeq: 2 BYE\r\n\r\n", cin);
	KIT_SEND(kit_sip(&b, liid, cin, seq++, t0 + 3010000, ETSI_IRI_END, 0, sip),
		 t0 + 3010000, LACRE_HI2);
#undef KIT_SEND
	lacre_dbuf_free(&b);
	return r;
}

/* One record as read back. */
struct kit_rec {
	uint64_t seq;
	uint8_t route, kind, late;
	char reason[64];
	char warrant[WARRANT_ID_MAX];
	uint8_t liid[FRAME_LIID_MAX];
	size_t liid_len;
	int has_cin;
	uint32_t cin;
	int64_t recv_us, time_us;
	char segment[LACRE_STORE_NAME_MAX + 1];
	uint64_t index;
	uint8_t commitment[32];
	size_t pdu_len;
	char event[1024];           /* the JSON of an event record ("" otherwise) */
};

struct kit_recs {
	struct kit_rec v[KIT_RECS_MAX];
	size_t n;
	size_t problems;
	int last_err;
	char last_what[256];
};

/* access_read callback: copy the record. */
static KIT_UNUSED int kit_take(void *arg, const struct access_record *ar)
{
	struct kit_recs *rs = arg;
	const struct frame_record *f = ar->rec;
	struct kit_rec *o;

	if (rs->n >= KIT_RECS_MAX)
		return LACRE_E_TOO_LARGE;
	o = &rs->v[rs->n++];
	memset(o, 0, sizeof(*o));
	o->seq = f->seq;
	o->route = f->route;
	o->kind = f->kind;
	o->late = f->late_delivery;
	snprintf(o->reason, sizeof(o->reason), "%.*s", (int)f->reason.len, (const char *)f->reason.p);
	snprintf(o->warrant, sizeof(o->warrant), "%.*s", (int)f->warrant.len,
		 (const char *)f->warrant.p);
	o->liid_len = f->liid.len < sizeof(o->liid) ? f->liid.len : sizeof(o->liid);
	if (o->liid_len)
		memcpy(o->liid, f->liid.p, o->liid_len);
	o->has_cin = f->has_cin;
	o->cin = f->cin;
	o->recv_us = f->recv_us;
	o->time_us = f->time_us;
	snprintf(o->segment, sizeof(o->segment), "%s", ar->segment);
	o->index = ar->index;
	o->pdu_len = f->pdu.len;
	if (frame_commitment(f->salt, f->canon.p, f->canon.len, o->commitment) != LACRE_OK)
		return LACRE_E_INTERNAL;
	if (f->reason.len == 5 && !memcmp(f->reason.p, "event", 5))
		snprintf(o->event, sizeof(o->event), "%.*s", (int)f->pdu.len, (const char *)f->pdu.p);
	return 0;
}

/* access_read problem callback: count and keep the last. */
static KIT_UNUSED void kit_problem(void *arg, const char *segment, int err, const char *what)
{
	struct kit_recs *rs = arg;

	rs->problems++;
	rs->last_err = err;
	snprintf(rs->last_what, sizeof(rs->last_what), "%s: %s", segment, what);
}

/* Read what the keystore identity name opens on store (quarantine 1: the
 * quarantined records and events) into rs (zeroed here). */
static KIT_UNUSED int kit_read(struct lacre_store *st, const char *name, int quarantine,
			       struct kit_recs *rs, struct access_report *rep)
{
	struct age_x25519_identity id;
	struct access_filter f;
	int r;

	memset(rs, 0, sizeof(*rs));
	if ((r = keystore_get(kit_ks, name, &id, NULL)) != LACRE_OK)
		return r;
	access_filter_init(&f);
	f.quarantine = quarantine;
	f.events = quarantine;
	r = access_read(st, &id, &f, kit_take, rs, kit_problem, rep);
	age_identity_wipe(&id);
	return r;
}

/* The record with sequence number seq (the first), or NULL. */
static KIT_UNUSED const struct kit_rec *kit_find(const struct kit_recs *rs, uint64_t seq)
{
	for (size_t i = 0; i < rs->n; i++)
		if (!rs->v[i].event[0] && rs->v[i].seq == seq)
			return &rs->v[i];
	return NULL;
}

/* How many records carry sequence number seq. */
static KIT_UNUSED size_t kit_count(const struct kit_recs *rs, uint64_t seq)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->n; i++)
		if (!rs->v[i].event[0] && rs->v[i].seq == seq)
			n++;
	return n;
}

/* Regular files directly in folder dir whose name contains part (NULL:
 * any), counted. */
static KIT_UNUSED size_t kit_files(const char *dir, const char *part)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat sb;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(sb.st_mode) && (!part || strstr(de->d_name, part)))
			n++;
	closedir(d);
	return n;
}

/* Name of the first regular file in dir whose name contains part, into
 * out; 0 if there is none. */
static KIT_UNUSED int kit_file_name(const char *dir, const char *part, char *out, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat sb;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (de = readdir(d)) != NULL)
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(sb.st_mode) && strstr(de->d_name, part)) {
			snprintf(out, cap, "%s", de->d_name);
			found = 1;
		}
	closedir(d);
	return found;
}

/* Sleep ms milliseconds (polling loops only: every wait has a deadline
 * and looks at the event itself). */
static KIT_UNUSED void kit_nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The "segment closed" entries under the site's signed ingest checkpoint
 * (DIR/ledger/ingest/checkpoint, the trust anchor), read from the backend's
 * entry bundles after receipts_index_open has checked that those bundles
 * hash to the checkpoint's root.  names[i] / sizes[i] for i < *n. */
struct kit_ledger {
	char names[KIT_RECS_MAX][TLOG_SEGMENT_NAME_MAX + 1];
	uint64_t sizes[KIT_RECS_MAX];
	size_t n;
	uint64_t size;              /* the checkpoint's tree size */
	struct receipts_index *ix;  /* open: the caller frees it */
};

static KIT_UNUSED int kit_ledger_load(struct lacre_store *st, struct kit_ledger *lg)
{
	char origin[NOTE_NAME_MAX + 1], prefix[TLOG_PREFIX_MAX], name[LACRE_STORE_NAME_MAX + 1];
	struct lacre_dbuf d;
	uint64_t t, nt;
	int r;

	memset(lg, 0, sizeof(*lg));
	if ((r = receipts_index_open(&kit_site, st, &lg->ix, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	lg->size = receipts_index_tree(lg->ix, 0)->size;
	if ((r = seal_sink_log_origin(&kit_site, origin, sizeof(origin))) != LACRE_OK ||
	    (r = tlog_prefix(origin, prefix, sizeof(prefix))) != LACRE_OK)
		return r;
	lacre_dbuf_init(&d, TLOG_BUNDLE_MAX + 1);
	nt = (lg->size + TILE_WIDTH - 1) / TILE_WIDTH;
	for (t = 0; t < nt && r == LACRE_OK; t++) {
		unsigned w = tiles_width(lg->size, TILE_LEVEL_ENTRIES, t);
		struct lacre_rbuf b;
		const uint8_t *e;
		size_t el;
		struct tlog_segment seg;

		lacre_dbuf_reset(&d);
		if ((r = tiles_path(prefix, TILE_LEVEL_ENTRIES, t, w, name, sizeof(name))) != LACRE_OK)
			break;
		r = lacre_store_get(st, name, 0, SIZE_MAX, &d);
		if (r == LACRE_E_NOT_FOUND && w < TILE_WIDTH) {
			lacre_dbuf_reset(&d);
			if ((r = tiles_path(prefix, TILE_LEVEL_ENTRIES, t, 0, name, sizeof(name))) != LACRE_OK)
				break;
			r = lacre_store_get(st, name, 0, SIZE_MAX, &d);
		}
		if (r != LACRE_OK)
			break;
		lacre_rbuf_init(&b, d.p, d.len);
		for (unsigned k = 0; k < w && r == LACRE_OK; k++) {
			if ((r = tiles_bundle_next(&b, &e, &el)) != LACRE_OK)
				break;
			if (el != 32 && tlog_segment_decode(e, el, &seg) == LACRE_OK &&
			    lg->n < KIT_RECS_MAX) {
				snprintf(lg->names[lg->n], sizeof(lg->names[0]), "%s", seg.name);
				lg->sizes[lg->n++] = seg.size;
			}
		}
	}
	lacre_dbuf_free(&d);
	return r;
}

/* Whether the ledger holds a "segment closed" entry for object name of
 * this size. */
static KIT_UNUSED int kit_ledger_has(const struct kit_ledger *lg, const char *name, uint64_t size)
{
	for (size_t i = 0; i < lg->n; i++)
		if (!strcmp(lg->names[i], name) && lg->sizes[i] == size)
			return 1;
	return 0;
}

/* lacre_store_list callback collecting names and sizes into a kit_ledger
 * (reused as a plain list). */
static KIT_UNUSED int kit_list_take(void *arg, const char *name, uint64_t size)
{
	struct kit_ledger *l = arg;

	if (l->n >= KIT_RECS_MAX)
		return LACRE_E_TOO_LARGE;
	snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
	l->sizes[l->n++] = size;
	return 0;
}


/* The leaf that proves record i of rs in the signed log: for a v2 segment
 * (one leaf per segment) every record of its segment must be in rs, at
 * indices 0..n-1, and their commitments must hash to the entry's count and
 * root; for a v1 segment, the record's own leaf.  LACRE_E_NOT_FOUND when
 * the log does not hold it, LACRE_E_VERIFY when a v2 entry names the
 * segment but its records differ, LACRE_E_STATE when rs lacks some of the
 * segment's records. */
static KIT_UNUSED int kit_rec_leaf(const struct receipts_index *ix, const struct kit_recs *rs,
				  size_t i, uint64_t *leaf)
{
	const struct tlog_segment *seg;
	uint8_t (*c)[32];
	uint64_t n = 0, lf;
	int r;

	if (receipts_index_segment(ix, rs->v[i].segment, NULL, &lf, &seg) != LACRE_OK)
		return receipts_index_find(ix, rs->v[i].commitment, NULL, leaf);
	if (seg->records == 0 || seg->records > KIT_RECS_MAX || !(c = calloc(seg->records, 32)))
		return LACRE_E_STATE;
	for (size_t k = 0; k < rs->n; k++)
		if (!strcmp(rs->v[k].segment, rs->v[i].segment)) {
			if (rs->v[k].index >= seg->records) {
				free(c);
				return LACRE_E_VERIFY;
			}
			memcpy(c[rs->v[k].index], rs->v[k].commitment, 32);
			n++;
		}
	r = n == seg->records ? receipts_index_segment_check(ix, rs->v[i].segment,
							      (const uint8_t (*)[32])c, n, NULL, leaf)
			      : LACRE_E_STATE;
	free(c);
	return r;
}

#endif
