/*
 * etsi_json.c - render a decoded PS-PDU (struct etsi_pdu) as one JSON object
 * for `lacre decode` and for other tools that show records.
 *
 * The common keys of ../shared/vectors/README.md come first, in a fixed
 * order and always present (null when absent); everything else is added
 * only when the PDU carries it.  Besides the ETSI fields, this module looks
 * one level into the intercepted bytes, because that is what an analyst
 * wants to see: the first line and Call-ID of a SIP message, the IP/UDP/TCP
 * header of an IPCC packet or IPMMCC frame, and the RTP header of a voice
 * frame.  Those bytes are untrusted like the rest: every header is read
 * through struct lacre_rbuf, and a packet that does not parse is simply not
 * summarised.  Nothing here allocates besides the JSON buffer.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lacre/buf.h"
#include "lacre/ber.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_json.h"
#include "lacre/json.h"

/* Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
 * civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

/* ISO-8601 UTC with microseconds (see etsi_json.h). */
char *etsi_json_time(int64_t unix_us, char *out)
{
	int64_t s = unix_us / 1000000, us = unix_us % 1000000, days, rem, y;
	unsigned m, d;

	if (us < 0) {
		us += 1000000;
		s -= 1;
	}
	days = s / 86400;
	rem = s % 86400;
	if (rem < 0) {
		rem += 86400;
		days -= 1;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(out, ETSI_JSON_TIME_LEN, "%04lld-%02u-%02uT%02u:%02u:%02u.%06uZ",
		 (long long)y, m, d, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
		 (unsigned)(rem % 60), (unsigned)us);
	return out;
}

/* A time value or null. */
static void put_time(struct json_w *w, int has, int64_t us)
{
	char t[ETSI_JSON_TIME_LEN];

	if (has)
		json_str(w, etsi_json_time(us, t));
	else
		json_null(w);
}

/* Entry v of a name table of n entries, NULL when out of range. */
static const char *tab_name(const char *const *t, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? t[v] : NULL;
}

#define TAB(t, v) tab_name(t, sizeof(t) / sizeof(t[0]), v)

/* A string key from a name table, omitted when the name is unknown but the
 * value is set (then the number is written). */
static void kv_enum(struct json_w *w, const char *key, int v, const char *name)
{
	if (v < 0)
		return;
	json_key(w, key);
	if (name)
		json_str(w, name);
	else
		json_int(w, v);
}

/* Bytes as a string (printable ASCII) or 0x-hex, omitted when absent. */
static void kv_bytes(struct json_w *w, const char *key, const struct etsi_bytes *b)
{
	if (!b->p)
		return;
	json_key(w, key);
	json_str_or_hex(w, b->p, b->len);
}

/* Dotted form of an OID or RELATIVE-OID contents, omitted when absent;
 * undecodable identifiers are shown in hex. */
static void kv_oid(struct json_w *w, const char *key, const struct etsi_bytes *b, int relative)
{
	struct ber_tlv t;
	char s[128];

	if (!b->p)
		return;
	memset(&t, 0, sizeof(t));
	t.value = b->p;
	t.len = b->len;
	json_key(w, key);
	if (ber_get_oid(&t, relative, s, sizeof(s), NULL, NULL) == LACRE_OK)
		json_str(w, s);
	else
		json_hex(w, "0x", b->p, b->len);
}

/* Textual form of a 4- or 16-byte address into out (INET6_ADDRSTRLEN);
 * returns 0, or -1 for another length. */
static int addr_str(const uint8_t *p, size_t n, char *out)
{
	if (n == 4)
		return inet_ntop(AF_INET, p, out, INET6_ADDRSTRLEN) ? 0 : -1;
	if (n == 16)
		return inet_ntop(AF_INET6, p, out, INET6_ADDRSTRLEN) ? 0 : -1;
	return -1;
}

/* An LI-PS-PDU IPAddress as a string ("10.1.1.10", or its text form),
 * omitted when absent. */
static void kv_ipaddr(struct json_w *w, const char *key, const struct etsi_ipaddr *a)
{
	char s[INET6_ADDRSTRLEN];

	if (!a->present)
		return;
	json_key(w, key);
	if (a->bin.p && addr_str(a->bin.p, a->bin.len, s) == 0)
		json_str(w, s);
	else if (a->bin.p)
		json_hex(w, "0x", a->bin.p, a->bin.len);
	else if (a->text.p)
		json_strn(w, a->text.p, a->text.len);
	else
		json_null(w);
}

/* ---- a look into the intercepted bytes ---- */

/* What the packet summary found. */
struct pkt {
	int ipver;                  /* 4, 6, or 0 when no IP header */
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int proto;                  /* IP protocol, -1 unknown */
	int has_ports;
	unsigned sport, dport;
	int fragment;               /* not the first fragment: no L4 header */
	struct lacre_rbuf l4pay;    /* UDP payload (for RTP) */
	int has_udp_pay;
};

/* Parse the UDP or TCP header at b into k (ports; the UDP payload). */
static void parse_l4(struct lacre_rbuf *b, struct pkt *k)
{
	uint16_t sp, dp, ulen;

	if (k->proto != 17 && k->proto != 6)
		return;
	if (lacre_rbuf_u16be(b, &sp) || lacre_rbuf_u16be(b, &dp))
		return;
	k->has_ports = 1;
	k->sport = sp;
	k->dport = dp;
	if (k->proto == 17 && lacre_rbuf_u16be(b, &ulen) == LACRE_OK &&
	    lacre_rbuf_skip(b, 2) == LACRE_OK) {
		k->l4pay = *b;
		k->has_udp_pay = 1;
	}
}

/* Parse an IPv4 or IPv6 packet (and its UDP/TCP header) at p[0..n). */
static void parse_ip(const uint8_t *p, size_t n, struct pkt *k)
{
	struct lacre_rbuf b;
	uint8_t v, nh, ehl;
	const uint8_t *h;
	size_t ihl;

	lacre_rbuf_init(&b, p, n);
	if (lacre_rbuf_peek(&b, &v))
		return;
	if (v >> 4 == 4) {
		ihl = (size_t)(v & 15) * 4;
		if (ihl < 20 || lacre_rbuf_take(&b, ihl, &h))
			return;
		k->ipver = 4;
		k->proto = h[9];
		k->fragment = ((h[6] & 0x1f) << 8 | h[7]) != 0;
		addr_str(h + 12, 4, k->src);
		addr_str(h + 16, 4, k->dst);
	} else if (v >> 4 == 6) {
		if (lacre_rbuf_take(&b, 40, &h))
			return;
		k->ipver = 6;
		nh = h[6];
		addr_str(h + 8, 16, k->src);
		addr_str(h + 24, 16, k->dst);
		/* hop-by-hop, routing, destination options: skip them */
		while (nh == 0 || nh == 43 || nh == 60) {
			const uint8_t *e;
			if (lacre_rbuf_take(&b, 2, &e))
				return;
			nh = e[0];
			ehl = e[1];
			if (lacre_rbuf_skip(&b, (size_t)ehl * 8 + 6))
				return;
		}
		if (nh == 44) {
			k->proto = 44;
			k->fragment = 1;
			return;
		}
		k->proto = nh;
	} else {
		return;
	}
	if (!k->fragment)
		parse_l4(&b, k);
}

/* Write "ip": {...} for a parsed packet (nothing when it did not parse). */
static void put_pkt(struct json_w *w, const struct pkt *k)
{
	if (!k->ipver)
		return;
	json_key(w, "ip");
	json_obj_begin(w);
	json_kv_int(w, "version", k->ipver);
	json_kv_str(w, "src", k->src);
	json_kv_str(w, "dst", k->dst);
	json_kv_int(w, "proto", k->proto);
	if (k->has_ports) {
		json_kv_uint(w, "sport", k->sport);
		json_kv_uint(w, "dport", k->dport);
	}
	if (k->fragment)
		json_kv_bool(w, "fragment", 1);
	json_obj_end(w);
}

/* Write "rtp": {...} when b starts with an RTP version-2 header. */
static void put_rtp(struct json_w *w, struct lacre_rbuf b)
{
	const uint8_t *h;
	size_t left, hdr;

	if (lacre_rbuf_take(&b, 12, &h) || (h[0] >> 6) != 2)
		return;
	hdr = (size_t)(h[0] & 15) * 4;
	if (lacre_rbuf_skip(&b, hdr))
		return;
	if (h[0] & 0x10) {
		uint16_t prof, words;
		if (lacre_rbuf_u16be(&b, &prof) || lacre_rbuf_u16be(&b, &words) ||
		    lacre_rbuf_skip(&b, (size_t)words * 4))
			return;
	}
	left = lacre_rbuf_left(&b);
	json_key(w, "rtp");
	json_obj_begin(w);
	json_kv_uint(w, "pt", h[1] & 0x7fu);
	json_kv_bool(w, "marker", h[1] >> 7);
	json_kv_uint(w, "seq", (unsigned)h[2] << 8 | h[3]);
	json_kv_uint(w, "ts", (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7]);
	json_kv_uint(w, "ssrc", (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11]);
	json_kv_uint(w, "payload_len", left);
	json_obj_end(w);
}

/* Case-insensitive prefix test of a header line. */
static int line_has_prefix(const uint8_t *p, size_t n, const char *pre)
{
	size_t k = strlen(pre);

	if (n < k)
		return 0;
	for (size_t i = 0; i < k; i++) {
		uint8_t c = p[i];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		if (c != (uint8_t)pre[i])
			return 0;
	}
	return 1;
}

/* "sip_first_line" and "sip_call_id" from a SIP message's header block. */
static void put_sip_summary(struct json_w *w, const uint8_t *p, size_t n)
{
	size_t i = 0, first = 1;

	while (i < n) {
		size_t s = i, e;
		while (i < n && p[i] != '\n')
			i++;
		e = i;
		if (i < n)
			i++;
		if (e > s && p[e - 1] == '\r')
			e--;
		if (e == s)
			break;          /* end of the header block */
		if (first) {
			json_kv_strn(w, "sip_first_line", p + s, e - s);
			first = 0;
			continue;
		}
		if (line_has_prefix(p + s, e - s, "call-id:") ||
		    line_has_prefix(p + s, e - s, "i:")) {
			size_t v = s + (p[s] == 'i' || p[s] == 'I' ? 2 : 8);
			while (v < e && (p[v] == ' ' || p[v] == '\t'))
				v++;
			json_kv_strn(w, "sip_call_id", p + v, e - v);
			break;
		}
	}
}

/* ---- per-content sections ---- */

/* SIP addresses, summary and text of an IPMMIRI. */
static void put_ipmmiri(struct json_w *w, const struct etsi_pdu *pdu)
{
	const struct etsi_ipmmiri *m = &pdu->ipmmiri;

	kv_ipaddr(w, "sip_src", &m->src);
	kv_ipaddr(w, "sip_dst", &m->dst);
	if (m->sip.p) {
		put_sip_summary(w, m->sip.p, m->sip.len);
		json_kv_strn(w, "sip", m->sip.p, m->sip.len);
	}
	if (m->original.p)
		json_kv_uint(w, "original_len", m->original.len);
	if (m->has_location)
		json_kv_bool(w, "location", 1);
}

/* Frame type, protocol and a look at the IP/UDP/RTP headers of an IPMMCC frame. */
static void put_ipmmcc(struct json_w *w, const struct etsi_pdu *pdu)
{
	static const char *const ft[] = { "ip", "udp", "rtp", "audio", "tcp",
		"artificial-rtp", "udptl", "msrp" };
	static const char *const pr[] = { "rtp", "msrp", "udptl" };
	const struct etsi_ipmmcc *m = &pdu->ipmmcc;
	const struct etsi_bytes *f = &pdu->content_bytes;
	struct pkt k;

	kv_enum(w, "frame_type", m->frame_type,
		TAB(ft, m->frame_type));
	kv_enum(w, "mmcc_protocol", m->protocol,
		TAB(pr, m->protocol));
	kv_bytes(w, "stream_id", &m->stream_id);
	if (!f->p)
		return;
	json_kv_uint(w, "frame_len", f->len);
	if (m->protocol > 0)
		return;   /* MSRP, UDPTL: no RTP header to show */
	memset(&k, 0, sizeof(k));
	k.proto = -1;
	if (m->frame_type <= 0) {           /* ipFrame, or absent: try IP */
		parse_ip(f->p, f->len, &k);
		put_pkt(w, &k);
		if (k.has_udp_pay)
			put_rtp(w, k.l4pay);
	} else if (m->frame_type == 1) {    /* udpFrame */
		struct lacre_rbuf b;
		lacre_rbuf_init(&b, f->p, f->len);
		k.proto = 17;
		parse_l4(&b, &k);
		if (k.has_udp_pay)
			put_rtp(w, k.l4pay);
	} else if (m->frame_type == 2 || m->frame_type == 5) {
		struct lacre_rbuf b;
		lacre_rbuf_init(&b, f->p, f->len);
		put_rtp(w, b);
	}
}

/* The indexed fields of an IPIRI. */
static void put_ipiri(struct json_w *w, const struct etsi_pdu *pdu)
{
	static const char *const ev[] = { "access-attempt", "access-accept",
		"access-reject", "access-failed", "session-start", "session-end",
		"interim-update", "start-of-interception-with-session-active",
		"access-end", "end-of-interception-with-session-active", "unknown" };
	static const char *const at[] = { "undefined", "dial-up", "xdsl",
		"cable-modem", "lan", "wireless-lan", "fttx", "wimax-hiperman",
		"satellite", "wireless-other" };
	static const char *const iv[] = { NULL, "ipv4", "ipv6", "ipv4-and-v6" };
	const struct etsi_ipiri *ip = &pdu->ipiri;
	char t[ETSI_JSON_TIME_LEN];

	kv_enum(w, "access_event", ip->access_event,
		TAB(ev, ip->access_event));
	kv_bytes(w, "username", &ip->username);
	kv_enum(w, "access_type", ip->access_type,
		TAB(at, ip->access_type));
	kv_enum(w, "ip_version", ip->ip_version,
		TAB(iv, ip->ip_version));
	kv_ipaddr(w, "target_ip", &ip->target_ip);
	kv_ipaddr(w, "additional_ip", &ip->additional_ip);
	kv_ipaddr(w, "pop_ip", &ip->pop_ip);
	kv_bytes(w, "network_id", &ip->network_id);
	kv_bytes(w, "cpe_id", &ip->cpe_id);
	kv_bytes(w, "target_location", &ip->location_text);
	if (ip->has_location)
		json_kv_bool(w, "location", 1);
	if (ip->has_start)
		json_kv_str(w, "start_time", etsi_json_time(ip->start_us, t));
	if (ip->has_end)
		json_kv_str(w, "end_time", etsi_json_time(ip->end_us, t));
	if (ip->end_reason >= 0)
		json_kv_int(w, "end_reason", ip->end_reason);
	if (ip->has_octets_rx)
		json_kv_uint(w, "octets_received", ip->octets_rx);
	if (ip->has_octets_tx)
		json_kv_uint(w, "octets_transmitted", ip->octets_tx);
	if (ip->raw_aaa.p)
		json_kv_hex(w, "raw_aaa", ip->raw_aaa.p, ip->raw_aaa.len);
	if (ip->auth_type >= 0)
		json_kv_int(w, "authentication_type", ip->auth_type);
}

/* Length and IP/UDP/TCP summary of an IPCC packet. */
static void put_ipcc(struct json_w *w, const struct etsi_pdu *pdu)
{
	struct pkt k;

	if (!pdu->content_bytes.p)
		return;
	json_kv_uint(w, "packet_len", pdu->content_bytes.len);
	if (pdu->ipcc.truncated)
		json_kv_bool(w, "truncated", 1);
	if (pdu->ipcc.has_original_length)
		json_kv_uint(w, "original_len", pdu->ipcc.original_length);
	memset(&k, 0, sizeof(k));
	k.proto = -1;
	parse_ip(pdu->content_bytes.p, pdu->content_bytes.len, &k);
	put_pkt(w, &k);
}

/* ---- mobile IRI ---- */

/* TBCD digits of p[0..n) (low nibble first, F filler) into out (2n + 1);
 * returns 0, or -1 when a nibble is not a digit (then the caller shows hex). */
static int tbcd_str(const uint8_t *p, size_t n, char *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned lo = p[i] & 15u, hi = p[i] >> 4;
		if (lo > 9)
			return -1;
		out[k++] = (char)('0' + lo);
		if (hi == 15 && i == n - 1)
			break;
		if (hi > 9)
			return -1;
		out[k++] = (char)('0' + hi);
	}
	out[k] = '\0';
	return 0;
}

/* A TBCD identity (IMSI, IMEI, MSISDN) as digits, or 0x-hex, omitted when absent. */
static void kv_tbcd(struct json_w *w, const char *key, const struct etsi_bytes *b)
{
	char s[2 * 32 + 1];

	if (!b->p)
		return;
	json_key(w, key);
	if (b->len <= 32 && tbcd_str(b->p, b->len, s) == 0)
		json_str(w, s);
	else
		json_hex(w, "0x", b->p, b->len);
}

/* An APN in DNS label form ("\x08internet\x01c") as dotted text; raw
 * text when it is not in label form. */
static void kv_apn(struct json_w *w, const char *key, const struct etsi_bytes *b)
{
	char s[256];
	size_t i = 0, k = 0;

	if (!b->p)
		return;
	while (i < b->len) {
		size_t l = b->p[i++];
		if (l == 0 || l > b->len - i || k + l + 1 >= sizeof(s))
			goto raw;
		if (k)
			s[k++] = '.';
		for (size_t j = 0; j < l; j++) {
			uint8_t c = b->p[i + j];
			if (c < 0x21 || c > 0x7e)
				goto raw;
			s[k++] = (char)c;
		}
		i += l;
	}
	s[k] = '\0';
	json_kv_str(w, key, s);
	return;
raw:
	kv_bytes(w, key, b);
}

/* "MCC-MNC" of a 3-octet PLMN identity (TS 24.008) into out[8]; -1 if bad. */
static int plmn_str(const uint8_t *p, char *out)
{
	unsigned d[6] = { p[0] & 15u, p[0] >> 4, p[1] & 15u, p[2] & 15u, p[2] >> 4, p[1] >> 4 };
	size_t k = 0;

	for (int i = 0; i < 6; i++) {
		if (i == 5 && d[i] == 15)
			break;
		if (d[i] > 9)
			return -1;
		if (i == 3)
			out[k++] = '-';
		out[k++] = (char)('0' + d[i]);
	}
	out[k] = '\0';
	return 0;
}

/* "uli": the GTPv2 User Location Info (TS 29.274 §8.21): TAI and ECGI
 * (and CGI, SAI, RAI, LAI as hex); nothing when it does not parse. */
static void put_uli(struct json_w *w, const struct etsi_bytes *u)
{
	static const size_t sz[6] = { 7, 7, 7, 5, 7, 5 };   /* CGI SAI RAI TAI ECGI LAI */
	static const char *const nm[6] = { "cgi", "sai", "rai", "tai", "ecgi", "lai" };
	struct lacre_rbuf b;
	const uint8_t *f, *v;
	char plmn[8], t[32];

	lacre_rbuf_init(&b, u->p, u->len);
	if (lacre_rbuf_take(&b, 1, &f))
		return;
	json_key(w, "uli");
	json_obj_begin(w);
	for (int i = 0; i < 6; i++) {
		if (!(f[0] & (1u << i)))
			continue;
		if (lacre_rbuf_take(&b, sz[i], &v))
			break;
		json_key(w, nm[i]);
		if (plmn_str(v, plmn) != 0) {
			json_hex(w, "0x", v, sz[i]);
			continue;
		}
		if (i == 3) {
			snprintf(t, sizeof(t), "%s-%04x", plmn, (unsigned)v[3] << 8 | v[4]);
			json_str(w, t);
		} else if (i == 4) {
			uint32_t eci = ((uint32_t)(v[3] & 15u) << 24) | (uint32_t)v[4] << 16 |
				       (uint32_t)v[5] << 8 | v[6];
			snprintf(t, sizeof(t), "%s-%07x", plmn, (unsigned)eci);
			json_str(w, t);
		} else {
			json_hex(w, "0x", v, sz[i]);
		}
	}
	json_obj_end(w);
}

/* The PDN address of a GTPv2 PAA value (type 1 IPv4, 2 IPv6 prefix, 3 both). */
static void kv_paa(struct json_w *w, const char *key, const struct etsi_bytes *b)
{
	char s[INET6_ADDRSTRLEN];

	if (!b->p)
		return;
	if (b->len == 5 && (b->p[0] & 7u) == 1 && addr_str(b->p + 1, 4, s) == 0)
		json_kv_str(w, key, s);
	else if (b->len == 18 && (b->p[0] & 7u) == 2 && addr_str(b->p + 2, 16, s) == 0)
		json_kv_str(w, key, s);
	else if (b->len == 22 && (b->p[0] & 7u) == 3 && addr_str(b->p + 18, 4, s) == 0)
		json_kv_str(w, key, s);
	else
		json_kv_hex(w, key, b->p, b->len);
}

/* EPS / UMTS / 33.128 IRI: "mobile": {...} and "location". */
static void put_mobile(struct json_w *w, const struct etsi_pdu *pdu)
{
	static const char *const fam[] = { NULL, "eps", "umts", "3gpp-33128" };
	static const char *const rec[] = { NULL, "begin", "end", "continue", "report" };
	static const char *const ini[] = { "not-available", "originating-target", "terminating-target" };
	static const char *const rat[] = { NULL, "utran", "geran", "wlan", "gan",
		"hspa-evolution", "eutran", "virtual", "eutran-nb-iot", "lte-m", "nr" };
	static const char *const bt[] = { NULL, "default", "dedicated" };
	static const char *const eps_ev[] = { NULL, "pdp-context-activation",
		"start-of-interception-with-pdp-context-active", NULL,
		"pdp-context-deactivation", "gprs-attach", "gprs-detach", NULL, NULL, NULL,
		"location-info-update", "sms", NULL, "pdp-context-modification",
		"serving-system", "start-of-interception-with-ms-attached",
		"e-utran-attach", "e-utran-detach", "bearer-activation",
		"start-of-interception-with-active-bearer", "bearer-modification",
		"bearer-deactivation", "ue-requested-bearer-resource-modification",
		"ue-requested-pdn-connectivity", "ue-requested-pdn-disconnection",
		"tracking-area-eps-location-update", "serving-evolved-packet-system" };
	static const char *const x_ev[] = { NULL, "registration", "deregistration",
		"location-update", "start-of-interception-with-registered-ue",
		"unsuccessful-am-procedure", "pdu-session-establishment",
		"pdu-session-modification", "pdu-session-release",
		"start-of-interception-with-established-pdu-session",
		"unsuccessful-sm-procedure", "serving-system-message", "sms-message",
		"lals-report", "pd-header-report", "pd-summary-report" };
	const struct etsi_mobile *m = &pdu->mobile;
	int loc = etsi_iri_location(pdu);

	if (!m->family)
		return;
	json_key(w, "mobile");
	json_obj_begin(w);
	json_kv_str(w, "family", TAB(fam, m->family));
	kv_enum(w, "record", m->record, TAB(rec, m->record));
	kv_enum(w, "event", m->event, m->family == 3 ? TAB(x_ev, m->event) : TAB(eps_ev, m->event));
	kv_enum(w, "initiator", m->initiator, TAB(ini, m->initiator));
	kv_tbcd(w, "imsi", &m->imsi);
	kv_tbcd(w, "msisdn", &m->msisdn);
	kv_tbcd(w, "imei", &m->imei);
	kv_bytes(w, "nai", &m->nai);
	kv_bytes(w, "sip_uri", &m->sip_uri);
	kv_bytes(w, "tel_uri", &m->tel_uri);
	kv_bytes(w, "supi", &m->supi);
	kv_bytes(w, "gpsi", &m->gpsi);
	kv_bytes(w, "pei", &m->pei);
	kv_ipaddr(w, "pdn_address", &m->pdp_addr);
	kv_paa(w, "pdn_address_allocation", &m->paa);
	kv_apn(w, "apn", &m->apn);
	kv_apn(w, "dnn", &m->dnn);
	if (m->ue_ip.p) {
		char s[INET6_ADDRSTRLEN];
		if (addr_str(m->ue_ip.p, m->ue_ip.len, s) == 0)
			json_kv_str(w, "ue_ip", s);
		else
			kv_bytes(w, "ue_ip", &m->ue_ip);
	}
	if (m->pdu_session_id.p)
		json_kv_hex(w, "pdu_session_id", m->pdu_session_id.p, m->pdu_session_id.len);
	if (m->correlation.p)
		json_kv_hex(w, "correlation", m->correlation.p, m->correlation.len);
	kv_ipaddr(w, "gateway", &m->gw_addr);
	if (m->bearer_id.p && m->bearer_id.len == 1)
		json_kv_uint(w, "bearer_id", m->bearer_id.p[0] & 15u);
	kv_enum(w, "bearer_type", m->bearer_type, TAB(bt, m->bearer_type));
	kv_enum(w, "rat", m->rat, TAB(rat, m->rat));
	if (m->uli.p)
		put_uli(w, &m->uli);
	if (m->cgi.p)
		json_kv_hex(w, "cgi", m->cgi.p, m->cgi.len);
	if (m->sai.p)
		json_kv_hex(w, "sai", m->sai.p, m->sai.len);
	if (m->rai.p)
		json_kv_hex(w, "rai", m->rai.p, m->rai.len);
	json_obj_end(w);
	json_key(w, "location");
	if (loc < 0)
		json_null(w);
	else
		json_bool(w, loc);
}

/* "integrity": everything a verifier needs, the check value in hex. */
static void put_integrity(struct json_w *w, const struct etsi_integrity *ic)
{
	static const char *const ct[] = { NULL, "hash", "signature" };
	static const char *const dt[] = { NULL, "iri", "cc", "ilhi" };
	static const char *const ha[] = { NULL, "sha-1", "sha-256", "sha-384", "sha-512" };
	static const char *const sa[] = { NULL, "dsa", "ecdsa", "eddsa" };
	struct lacre_rbuf it;
	uint64_t s = 0;            /* set by etsi_seq_next when it returns 1 */

	json_key(w, "integrity");
	json_obj_begin(w);
	json_key(w, "included");
	json_arr_begin(w);
	etsi_seq_iter(ic, &it);
	while (etsi_seq_next(&it, &s) == 1)
		json_uint(w, s);
	json_arr_end(w);
	if (ic->legacy_nested)
		json_kv_bool(w, "legacy_nested", 1);
	kv_enum(w, "check_type", ic->check_type, TAB(ct, ic->check_type));
	kv_enum(w, "data_type", ic->data_type, TAB(dt, ic->data_type));
	kv_enum(w, "hash_algorithm", ic->hash_alg, TAB(ha, ic->hash_alg));
	kv_enum(w, "signature_algorithm", ic->sig_alg, TAB(sa, ic->sig_alg));
	if (ic->check_value.p || ic->check_type >= 0)
		json_kv_hex(w, "check_value", ic->check_value.p, ic->check_value.len);
	json_obj_end(w);
}

/* "hi1": the Notification of an HI1-Operation. */
static void put_hi1(struct json_w *w, const struct etsi_hi1 *h)
{
	static const char *const op[] = { NULL, "activated", "deactivated",
		"modified", "alarm", "national" };
	char t[ETSI_JSON_TIME_LEN];

	json_key(w, "hi1");
	json_obj_begin(w);
	kv_enum(w, "operation", h->op, TAB(op, h->op));
	kv_oid(w, "domain_id", &h->domain_id, 0);
	kv_bytes(w, "liid", &h->liid);
	kv_bytes(w, "cin", &h->cin);
	kv_bytes(w, "operator_id", &h->operator_id);
	kv_bytes(w, "network_element_id", &h->network_element_id);
	if (h->has_time)
		json_kv_str(w, "time", etsi_json_time(h->time_us, t));
	kv_bytes(w, "target_information", &h->target_info);
	json_obj_end(w);
}

/* Why a container was not decrypted, in the words of etsi_crypt.h. */
static const char *etsi_decrypt_reason(int err)
{
	switch (err) {
	case LACRE_E_NOT_FOUND: return "no key for this cipher";
	case LACRE_E_AUTH: return "wrong key: the plaintext is not an EncryptedPayload";
	case LACRE_E_UNSUPPORTED: return "cipher not supported";
	case LACRE_E_MALFORMED: return "ciphertext or padding malformed";
	default: return lacre_strerror(err);
	}
}

/* "encryption": the container's type and size; after decryption the
 * byteCounter (its start time and count), else why it was not decrypted.
 * The other keys then describe the decrypted payload. */
static void put_encryption(struct json_w *w, const struct etsi_pdu *pdu)
{
	const struct etsi_encryption *e = &pdu->enc;
	static const char *const et[] = { NULL, "none", "national-option",
		"aes-192-cbc", "aes-256-cbc", "blowfish-192-cbc", "blowfish-256-cbc",
		"threedes-cbc" };

	json_key(w, "encryption");
	json_obj_begin(w);
	kv_enum(w, "type", e->type, TAB(et, e->type));
	if (e->payload_type >= 0)
		json_kv_int(w, "payload_type", e->payload_type);
	json_kv_uint(w, "payload_len", e->payload.len);
	json_kv_bool(w, "decrypted", pdu->decrypted);
	if (pdu->has_byte_counter) {
		json_kv_uint(w, "byte_counter", pdu->byte_counter);
		json_kv_uint(w, "byte_counter_start", pdu->byte_counter >> 32);
		json_kv_uint(w, "byte_counter_count", pdu->byte_counter & 0xffffffffu);
	}
	if (pdu->decrypt_err)
		json_kv_str(w, "error", etsi_decrypt_reason(pdu->decrypt_err));
	json_obj_end(w);
}

/* ---- the whole object ---- */

/* One PDU as a JSON object (see etsi_json.h for the layout). */
void etsi_json_pdu(struct json_w *w, const struct etsi_pdu *pdu,
		   const uint8_t *raw, size_t n, uint64_t off, unsigned flags)
{
	static const char *const tsq[] = { "unknown", "time-of-interception",
		"time-of-mediation", "time-of-aggregation" };
	char t[ETSI_JSON_TIME_LEN];

	json_obj_begin(w);
	/* the common keys (vectors/README.md), always present */
	json_kv_uint(w, "offset", off);
	json_kv_uint(w, "length", n);
	json_key(w, "liid");
	if (pdu->liid.p)
		json_str_or_hex(w, pdu->liid.p, pdu->liid.len);
	else
		json_null(w);
	json_key(w, "cin");
	if (pdu->has_cin)
		json_uint(w, pdu->cin);
	else
		json_null(w);
	json_key(w, "seq");
	if (pdu->has_seq)
		json_uint(w, pdu->seq);
	else
		json_null(w);
	json_kv_str(w, "kind", etsi_kind_name(pdu->kind));
	json_key(w, "time");
	put_time(w, pdu->has_time, pdu->time_us);
	json_kv_str(w, "iri_type", pdu->kind == ETSI_KIND_IRI ? etsi_iri_type_name(pdu->iri_type) : NULL);
	json_kv_str(w, "content", pdu->content);

	/* decoding outcome */
	if (pdu->partial) {
		json_kv_bool(w, "partial", 1);
		json_kv_str(w, "error", lacre_strerror(pdu->err));
		if (pdu->err_in_plaintext)
			json_kv_uint(w, "error_plaintext_offset", pdu->err_off);
		else
			json_kv_uint(w, "error_offset", off + pdu->err_off);
	}
	if (pdu->flags) {
		/* out-of-constraint values accepted at their nearest meaning */
		json_key(w, "flags");
		json_arr_begin(w);
		for (unsigned bit = 1; bit; bit <<= 1) {
			const char *nm;
			if (!(pdu->flags & bit))
				continue;
			nm = etsi_flag_name(bit);
			if (nm)
				json_str(w, nm);
			else
				json_uint(w, bit);
		}
		json_arr_end(w);
	}
	if (pdu->unknown_tags)
		json_kv_uint(w, "unknown_tags", pdu->unknown_tags);
	if (pdu->segmented)
		json_kv_uint(w, "segmented_strings", pdu->segmented);
	json_kv_bool(w, "encrypted", pdu->encrypted);

	/* the rest of the PSHeader */
	kv_oid(w, "domain_id", &pdu->domain_id, 0);
	if (pdu->domain_id.p)
		json_kv_uint(w, "domain_version", pdu->domain_version);
	if (pdu->auth_country[0])
		json_kv_str(w, "auth_country", pdu->auth_country);
	if (pdu->delivery_country[0])
		json_kv_str(w, "delivery_country", pdu->delivery_country);
	kv_bytes(w, "operator_id", &pdu->operator_id);
	kv_bytes(w, "network_element_id", &pdu->network_element_id);
	kv_bytes(w, "interception_point_id", &pdu->interception_point_id);
	kv_bytes(w, "ext_interception_point_id", &pdu->ext_interception_point_id);
	kv_bytes(w, "network_function_id", &pdu->network_function_id);
	if (pdu->has_time)
		json_kv_str(w, "time_format", pdu->has_time == 2 ? "microseconds" : "generalized");
	kv_enum(w, "ts_qualifier", pdu->ts_qualifier,
		TAB(tsq, pdu->ts_qualifier));

	/* payload summary */
	kv_enum(w, "payload", pdu->payload, etsi_payload_name(pdu->payload));
	kv_enum(w, "tri", pdu->tri, etsi_tri_name(pdu->tri));
	kv_enum(w, "direction", pdu->direction, etsi_direction_name(pdu->direction));
	kv_enum(w, "session_direction", pdu->session_direction,
		etsi_direction_name(pdu->session_direction));
	if (pdu->has_payload_time)
		json_kv_str(w, "payload_time", etsi_json_time(pdu->payload_time_us, t));
	if (pdu->n_payloads > 1)
		json_kv_uint(w, "n_payloads", pdu->n_payloads);
	if (pdu->content_tag >= 0 && !pdu->content)
		json_kv_int(w, "content_tag", pdu->content_tag);
	kv_oid(w, "content_oid", &pdu->content_oid, 1);

	/* contents */
	if (pdu->kind == ETSI_KIND_IRI && pdu->content_tag == ETSI_IRI_IPMMIRI)
		put_ipmmiri(w, pdu);
	else if (pdu->kind == ETSI_KIND_IRI && pdu->content_tag == ETSI_IRI_IPIRI)
		put_ipiri(w, pdu);
	else if (pdu->kind == ETSI_KIND_CC && pdu->content_tag == ETSI_CC_IPMMCC)
		put_ipmmcc(w, pdu);
	else if (pdu->kind == ETSI_KIND_CC && pdu->content_tag == ETSI_CC_IPCC)
		put_ipcc(w, pdu);
	else if (pdu->kind == ETSI_KIND_CC && pdu->content_tag == ETSI_CC_3GPP33128) {
		static const char *const xk[] = { NULL, "ip", "ethernet", "unstructured" };
		if (pdu->content_bytes.p)
			json_kv_uint(w, "content_len", pdu->content_bytes.len);
		if (pdu->xcc_kind) {
			struct pkt k;
			kv_enum(w, "packet_kind", pdu->xcc_kind, TAB(xk, pdu->xcc_kind));
			json_kv_uint(w, "packet_len", pdu->xcc_packet.len);
			memset(&k, 0, sizeof(k));
			k.proto = -1;
			if (pdu->xcc_kind == 1)
				parse_ip(pdu->xcc_packet.p, pdu->xcc_packet.len, &k);
			put_pkt(w, &k);
		}
	} else if (pdu->kind == ETSI_KIND_IRI && pdu->mobile.family) {
		put_mobile(w, pdu);
		if (pdu->content_bytes.p)
			json_kv_uint(w, "content_len", pdu->content_bytes.len);
	}
	else if (pdu->content_bytes.p)
		json_kv_uint(w, "content_len", pdu->content_bytes.len);
	if (pdu->tri == ETSI_TRI_INTEGRITY)
		put_integrity(w, &pdu->integrity);
	if (pdu->tri == ETSI_TRI_OPERATOR_MESSAGE) {
		json_key(w, "operator_message");
		json_obj_begin(w);
		if (pdu->opmsg.priority >= 0)
			json_kv_str(w, "priority", pdu->opmsg.priority == 1 ? "error" :
				    pdu->opmsg.priority == 2 ? "informational" : "other");
		if (pdu->opmsg.message.p)
			json_kv_strn(w, "message", pdu->opmsg.message.p, pdu->opmsg.message.len);
		json_obj_end(w);
	}
	if (pdu->payload == ETSI_PAYLOAD_HI1)
		put_hi1(w, &pdu->hi1);
	if (pdu->encrypted)
		put_encryption(w, pdu);
	if ((flags & ETSI_JSON_CONTENT) && pdu->content_bytes.p) {
		json_key(w, "content_b64");
		json_base64(w, pdu->content_bytes.p, pdu->content_bytes.len);
	}
	if (flags & ETSI_JSON_RAW) {
		json_key(w, "raw");
		json_hex(w, NULL, raw, n);
	}
	json_obj_end(w);
}
