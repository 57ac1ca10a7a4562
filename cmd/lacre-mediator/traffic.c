/*
 * traffic.c - the generator: targets, VoIP calls and broadband sessions,
 * turned into PS-PDUs in virtual time.
 *
 * Each target has an LIID and runs its activities (calls or sessions) one
 * after the other; all targets run at once.  An activity is a script of
 * steps, each producing one data PDU at a virtual time:
 *   call:    INVITE (iRI-Begin), 100, 180, 200 (SDP), ACK (iRI-Continue),
 *            RTP frames both ways (20 ms, 160 bytes of G.711 A-law or
 *            µ-law: tones or a speech-like voice), BYE, 200 (iRI-End);
 *   session: accessAttempt (iRI-Report), accessAccept (iRI-Begin), IP
 *            packets (DNS, HTTP over TCP, ICMP, UDP) both ways, an
 *            interimUpdate (iRI-Continue) half way, accessEnd (iRI-End).
 * A min-heap over the targets' next step times merges everything into one
 * time-ordered PDU sequence.  Every activity has its own CIN; sequence
 * numbers count per (LIID, CIN, IRI|CC) from --seq-start.  Gap, reset and
 * restart injection happen here, because they change numbering.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/ber_enc.h"
#include "lacre/err.h"
#include "lacre/etsi_enc.h"
#include "lacre/g711.h"
#include "mediator.h"

#define MS 1000LL
#define SEC 1000000LL
#define MAX_CONV_STEPS 48

enum { ACT_CALL = 0, ACT_SESSION = 1 };

/* One packet of a session's current conversation. */
enum pkt_what { P_SYN, P_SYNACK, P_ACK, P_GET, P_DATA, P_FIN_OUT, P_FIN_IN, P_ACK_LAST,
	P_DNSQ, P_DNSR, P_ICMPQ, P_ICMPR, P_UDP_OUT, P_UDP_IN };

struct conv_step {
	uint8_t what;
	uint16_t len;
};

struct med_act {
	int kind;
	uint32_t cin;
	uint64_t seq[2];                /* next IRI / CC numbers */
	int32_t stream[2];
	struct med_chain *chain[2];
	unsigned step;
	int64_t t;
	/* call */
	int law;
	int target_caller;
	int bye_by_target;
	uint8_t ua_ip[4], proxy_ip[4], media_ip[4];
	uint16_t ua_port, media_port;
	char call_id[48], tag_t[16], tag_p[16], branch[24], peer[32];
	unsigned sess_id;
	uint32_t ssrc[2];
	uint16_t rtp_seq[2];
	uint32_t rtp_ts[2];
	unsigned n_frames, rtp_i;
	int64_t media_t0;
	struct med_voice voice[2];
	/* session */
	uint8_t user_ip[4], server_ip[4];
	char mac[18];
	unsigned pkt_total, pkt_i;
	uint64_t oct_rx, oct_tx;
	uint16_t ip_id, sport, dport;
	uint32_t cseq, sseq;
	int64_t sess_start;
	unsigned access_type, pop_port;
	int interim_done;
	struct conv_step conv[MAX_CONV_STEPS];
	unsigned conv_n, conv_i;
	uint16_t icmp_id, icmp_seq;
};

struct med_target {
	uint32_t idx;
	uint8_t liid[32];
	size_t liid_len;
	unsigned pair;
	long long calls_left, sessions_left;   /* -1 unlimited */
	int next_is_call;
	int voip;                       /* VoIP target (else broadband) */
	struct med_act *act;
	int64_t next_t;
	uint64_t hi1_seq;
	int hi1_sent;
	uint8_t ip[4];
};

struct med_gen {
	struct med_rng rng;
	struct med_target *tg;
	unsigned n;
	unsigned *heap;
	unsigned heap_n;
	uint64_t act_counter;
	uint32_t cin_mix;
	uint64_t data_emitted;
	int bulk;                       /* --bulk: sessions are MTU-sized downloads only */
	uint64_t next_gap_at, next_reset_at, next_restart_at;
	unsigned long gaps_left, resets_left, restarts_left;
	struct lacre_dbuf pdu, text;
};

/* Does target a come before target b in the heap? */
static int heap_less(struct med_gen *g, unsigned a, unsigned b)
{
	if (g->tg[a].next_t != g->tg[b].next_t)
		return g->tg[a].next_t < g->tg[b].next_t;
	return a < b;
}

/* Sift heap position i down. */
static void heap_down(struct med_gen *g, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, s = i, tmp;

		if (l < g->heap_n && heap_less(g, g->heap[l], g->heap[s]))
			s = l;
		if (r < g->heap_n && heap_less(g, g->heap[r], g->heap[s]))
			s = r;
		if (s == i)
			return;
		tmp = g->heap[i];
		g->heap[i] = g->heap[s];
		g->heap[s] = tmp;
		i = s;
	}
}

/* Sift heap position i up. */
static void heap_up(struct med_gen *g, unsigned i)
{
	while (i > 0) {
		unsigned p = (i - 1) / 2, tmp;

		if (!heap_less(g, g->heap[i], g->heap[p]))
			return;
		tmp = g->heap[i];
		g->heap[i] = g->heap[p];
		g->heap[p] = tmp;
		i = p;
	}
}

/* Fill a PSHeader with the run's common fields. */
void med_header(struct med_ctx *m, struct etsi_enc_header *h, const uint8_t *liid,
    size_t liid_len, int has_cin, uint32_t cin, uint64_t seq, int64_t t_us)
{
	etsi_enc_header_defaults(h);
	h->len_style = m->o.len_style;
	h->domain_id = m->o.domain_id;
	h->liid = liid;
	h->liid_len = liid_len;
	h->auth_country = m->o.country;
	h->delivery_country = m->o.country;
	h->operator_id = m->o.operator_id;
	h->network_element_id = m->o.network_element;
	h->has_cin = has_cin;
	h->cin = cin;
	h->seq = seq;
	h->time_style = m->o.time_style;
	h->time_us = t_us < 0 ? 0 : t_us;
	h->interception_point_id = m->o.interception_point;
	h->ts_qualifier = 1;
	h->unknown_ext = m->o.unknown_ext;
}

/* Random lower-case hex text of n characters into s (n+1 bytes). */
static void rand_hex(struct med_rng *r, char *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = hx[med_rng_below(r, 16)];
	s[n] = '\0';
}

/* A new CIN: a bijection of the activity counter, never 0. */
static uint32_t new_cin(struct med_gen *g)
{
	uint32_t c = (uint32_t)(++g->act_counter * 2654435761u) ^ g->cin_mix;

	return c ? c : 0xffffffffu;
}

/* Start a call on target t at time now. */
static struct med_act *call_new(struct med_ctx *m, struct med_target *t, int64_t now)
{
	struct med_gen *g = m->gen;
	struct med_act *a = calloc(1, sizeof(*a));
	int i;

	if (!a)
		return NULL;
	a->kind = ACT_CALL;
	a->cin = new_cin(g);
	a->seq[0] = a->seq[1] = m->o.seq_start;
	a->stream[0] = a->stream[1] = -1;
	a->t = now;
	a->law = med_rng_below(&g->rng, 2) ? G711_ALAW : G711_ULAW;
	a->target_caller = (int)med_rng_below(&g->rng, 2);
	a->bye_by_target = (int)med_rng_below(&g->rng, 2);
	memcpy(a->ua_ip, t->ip, 4);
	a->proxy_ip[0] = 192; a->proxy_ip[1] = 168; a->proxy_ip[2] = 110; a->proxy_ip[3] = 100;
	a->media_ip[0] = 203; a->media_ip[1] = 0; a->media_ip[2] = 113;
	a->media_ip[3] = (uint8_t)(10 + med_rng_below(&g->rng, 200));
	a->ua_port = (uint16_t)(40000 + 2 * med_rng_below(&g->rng, 5000));
	a->media_port = (uint16_t)(30000 + 2 * med_rng_below(&g->rng, 5000));
	rand_hex(&g->rng, a->call_id, 24);
	rand_hex(&g->rng, a->tag_t, 10);
	rand_hex(&g->rng, a->tag_p, 10);
	rand_hex(&g->rng, a->branch, 16);
	snprintf(a->peer, sizeof(a->peer), "+3491%07u", med_rng_below(&g->rng, 10000000));
	a->sess_id = 10000 + med_rng_below(&g->rng, 89999);
	for (i = 0; i < 2; i++) {
		int kind = (int)med_rng_below(&g->rng, 3);
		if (i == 0 && kind == 1)
			kind = 2;   /* the target speaks; dial tone only comes back */
		a->ssrc[i] = (uint32_t)med_rng_next(&g->rng);
		a->rtp_seq[i] = (uint16_t)med_rng_next(&g->rng);
		a->rtp_ts[i] = (uint32_t)med_rng_next(&g->rng);
		med_voice_init(&a->voice[i], kind, med_rng_next(&g->rng));
	}
	a->n_frames = (unsigned)(m->o.call_seconds * 50.0 + 0.5);
	return a;
}

/* Start a session on target t at time now. */
static struct med_act *session_new(struct med_ctx *m, struct med_target *t, int64_t now)
{
	struct med_gen *g = m->gen;
	struct med_act *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->kind = ACT_SESSION;
	a->cin = new_cin(g);
	a->seq[0] = a->seq[1] = m->o.seq_start;
	a->stream[0] = a->stream[1] = -1;
	a->t = now;
	a->user_ip[0] = 100;
	a->user_ip[1] = (uint8_t)(64 + med_rng_below(&g->rng, 64));
	a->user_ip[2] = (uint8_t)med_rng_below(&g->rng, 256);
	a->user_ip[3] = (uint8_t)(1 + med_rng_below(&g->rng, 254));
	snprintf(a->mac, sizeof(a->mac), "02-%02x-%02x-%02x-%02x-%02x",
	    (unsigned)(t->idx >> 8) & 0xff, (unsigned)t->idx & 0xff,
	    med_rng_below(&g->rng, 256), med_rng_below(&g->rng, 256), med_rng_below(&g->rng, 256));
	a->pkt_total = m->o.session_packets;
	a->ip_id = (uint16_t)med_rng_next(&g->rng);
	a->access_type = med_rng_below(&g->rng, 2) ? 6 : 2;   /* fTTx or xDSL */
	a->pop_port = 1 + med_rng_below(&g->rng, 48);
	a->icmp_id = (uint16_t)med_rng_next(&g->rng);
	return a;
}

/* Free an activity and its chains. */
static void act_free(struct med_act *a)
{
	if (!a)
		return;
	med_chain_free(a->chain[0]);
	med_chain_free(a->chain[1]);
	free(a);
}

/* Restart the activity's numbering, announced by a cINReset (with_pdu) or
 * silently (a collector restart without its CIN-state database). */
static int inject_reset(struct med_ctx *m, struct med_target *t, struct med_act *a, int64_t when,
    int with_pdu)
{
	struct med_gen *g = m->gen;
	struct etsi_enc_header h;
	struct med_meta meta;
	int i, r;

	for (i = 0; i < 2; i++) {
		if (a->chain[i]) {
			med_header(m, &h, t->liid, t->liid_len, 1, a->cin, 0, when);
			meta.pair = t->pair;
			meta.hi3 = i;
			meta.cls = MED_CLS_INTEGRITY;
			meta.stream = -1;
			if ((r = med_chain_flush(m, a->chain[i], &h, &meta, i + 1)) != 0)
				return r;
			med_chain_free(a->chain[i]);
			a->chain[i] = NULL;
		}
	}
	a->seq[0] = a->seq[1] = m->o.seq_start;
	if (!with_pdu) {
		m->st.inj_restarts++;
		return 0;
	}
	med_header(m, &h, t->liid, t->liid_len, 1, a->cin, 0, when);
	lacre_dbuf_reset(&g->pdu);
	if ((r = etsi_enc_cin_reset(&g->pdu, &h)) != 0)
		return r;
	meta.pair = t->pair;
	meta.hi3 = 0;
	meta.cls = MED_CLS_RESET;
	meta.stream = -1;
	if ((r = med_sink_put(m, &meta, g->pdu.p, g->pdu.len)) != 0)
		return r;
	m->st.inj_resets++;
	return 0;
}

/* Kinds of data PDU a step can emit. */
enum data_kind { D_IPMMIRI, D_IPMMCC, D_IPIRI, D_IPCC };

struct data_args {
	int kind;
	int iri_type;
	int direction;
	const struct etsi_enc_ipaddr *src, *dst;
	const uint8_t *bytes;
	size_t n;
	const struct etsi_enc_ipiri *ev;
};

/* Emit one data PDU of activity a at time when, with numbering, integrity
 * chains, summary stream and the gap/reset faults. */
static int emit_data(struct med_ctx *m, struct med_target *t, struct med_act *a,
    int64_t when, const struct data_args *d)
{
	struct med_gen *g = m->gen;
	struct etsi_enc_header h;
	struct med_meta meta;
	int cc = (d->kind == D_IPMMCC || d->kind == D_IPCC);
	int r;

	if (g->gaps_left > 0 && g->data_emitted >= g->next_gap_at && a->seq[cc] > m->o.seq_start) {
		a->seq[cc]++;
		g->gaps_left--;
		m->st.inj_gaps++;
		g->next_gap_at = g->data_emitted + 20 + med_rng_below(&g->rng, 40);
	}
	if (a->seq[cc] > 0xffffffffu)
		a->seq[cc] = 0;   /* the 32-bit counter wraps */
	med_header(m, &h, t->liid, t->liid_len, 1, a->cin, a->seq[cc], when);
	lacre_dbuf_reset(&g->pdu);
	switch (d->kind) {
	case D_IPMMIRI:
		r = etsi_enc_ipmmiri(&g->pdu, &h, d->iri_type, d->src, d->dst, d->bytes, d->n);
		break;
	case D_IPMMCC:
		r = etsi_enc_ipmmcc(&g->pdu, &h, d->direction, d->bytes, d->n);
		break;
	case D_IPIRI:
		r = etsi_enc_ipiri(&g->pdu, &h, d->iri_type, d->ev);
		break;
	default:
		r = etsi_enc_ipcc(&g->pdu, &h, d->direction, d->bytes, d->n);
		break;
	}
	if (r != 0)
		return r;
	if (a->stream[cc] < 0) {
		a->stream[cc] = med_stream_add(m, t->idx, a->cin, cc);
		if (a->stream[cc] < 0)
			return LACRE_E_NOMEM;
	}
	meta.pair = t->pair;
	meta.hi3 = cc;
	meta.cls = MED_CLS_DATA;
	meta.stream = a->stream[cc];
	if ((r = med_sink_put(m, &meta, g->pdu.p, g->pdu.len)) != 0)
		return r;
	if (m->integ) {
		if (!a->chain[cc] && !(a->chain[cc] = med_chain_new(m)))
			return LACRE_E_NOMEM;
		meta.cls = MED_CLS_INTEGRITY;
		meta.stream = -1;
		if ((r = med_chain_data(m, a->chain[cc], &h, &meta, cc + 1, g->pdu.p, g->pdu.len)) != 0)
			return r;
	}
	a->seq[cc]++;
	g->data_emitted++;
	if (g->resets_left > 0 && g->data_emitted >= g->next_reset_at) {
		g->resets_left--;
		g->next_reset_at = g->data_emitted + 30 + med_rng_below(&g->rng, 60);
		if ((r = inject_reset(m, t, a, when, 1)) != 0)
			return r;
	} else if (g->restarts_left > 0 && g->data_emitted >= g->next_restart_at) {
		g->restarts_left--;
		g->next_restart_at = g->data_emitted + 30 + med_rng_below(&g->rng, 60);
		if ((r = inject_reset(m, t, a, when, 0)) != 0)
			return r;
	}
	return 0;
}

/* IPAddress of a SIP endpoint, as OpenLI writes it. */
static void sip_addr(struct etsi_enc_ipaddr *x, const uint8_t ip[4])
{
	memset(x, 0, sizeof(*x));
	memcpy(x->addr, ip, 4);
	x->assignment = 3;
	x->prefix_len = 32;
}

/* Text of an IPv4 address. */
static const char *ip_text(const uint8_t ip[4], char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
	return buf;
}

/* Append an SDP body for the given media address. */
static int sdp_body(struct lacre_dbuf *b, const char *user, unsigned sess,
    const uint8_t ip[4], uint16_t port, int law)
{
	char ipb[16];

	ip_text(ip, ipb);
	return lacre_dbuf_printf(b, "v=0\r\no=%s %u %u IN IP4 %s\r\ns=call\r\nc=IN IP4 %s\r\n"
	    "t=0 0\r\nm=audio %u RTP/AVP %d 101\r\na=rtpmap:%d %s/8000\r\n"
	    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n",
	    user, sess, sess, ipb, ipb, port, law, law, law == G711_ALAW ? "PCMA" : "PCMU");
}

/* Build the SIP message of call step s into g->text; set src/dst and the
 * IRI type.  Steps: 0 INVITE, 1 100, 2 180, 3 200, 4 ACK, 5 BYE, 6 200. */
static int sip_message(struct med_ctx *m, struct med_target *t, struct med_act *a,
    unsigned s, const uint8_t **src, const uint8_t **dst, int *iri_type)
{
	struct lacre_dbuf *b = &m->gen->text;
	struct lacre_dbuf sdp;
	char tuser[24], caller[80], callee[80], ctag[16], etag[16], ipb[16], pxb[16];
	const char *from_tag, *to_tag;
	const uint8_t *caller_ip;
	int r = 0, bye_from_caller;

	lacre_dbuf_reset(b);
	lacre_dbuf_init(&sdp, 4096);
	snprintf(tuser, sizeof(tuser), "tgt%04u", t->idx + 1);
	if (a->target_caller) {
		snprintf(caller, sizeof(caller), "sip:%s@ims.example.net", tuser);
		snprintf(callee, sizeof(callee), "sip:%s@example.org", a->peer);
		caller_ip = a->ua_ip;
		snprintf(ctag, sizeof(ctag), "%s", a->tag_t);
		snprintf(etag, sizeof(etag), "%s", a->tag_p);
	} else {
		snprintf(caller, sizeof(caller), "sip:%s@example.org", a->peer);
		snprintf(callee, sizeof(callee), "sip:%s@ims.example.net", tuser);
		caller_ip = a->proxy_ip;
		snprintf(ctag, sizeof(ctag), "%s", a->tag_p);
		snprintf(etag, sizeof(etag), "%s", a->tag_t);
	}
	ip_text(a->ua_ip, ipb);
	ip_text(a->proxy_ip, pxb);
	/* requests from the caller side go caller -> callee */
	if (s <= 4) {
		int req = (s == 0 || s == 4);
		const uint8_t *cip = caller_ip, *eip = caller_ip == a->ua_ip ? a->proxy_ip : a->ua_ip;
		*src = req ? cip : eip;
		*dst = req ? eip : cip;
	} else {
		bye_from_caller = (a->bye_by_target == a->target_caller);
		{
			const uint8_t *byer = a->bye_by_target ? a->ua_ip : a->proxy_ip;
			const uint8_t *other = a->bye_by_target ? a->proxy_ip : a->ua_ip;
			*src = s == 5 ? byer : other;
			*dst = s == 5 ? other : byer;
		}
		from_tag = bye_from_caller ? ctag : etag;
		to_tag = bye_from_caller ? etag : ctag;
		if (s == 5)
			r = lacre_dbuf_printf(b, "BYE %s SIP/2.0\r\n", bye_from_caller ? callee : caller);
		else
			r = lacre_dbuf_printf(b, "SIP/2.0 200 OK\r\n");
		if (!r)
			r = lacre_dbuf_printf(b, "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%sb\r\n"
			    "Max-Forwards: 70\r\nFrom: <%s>;tag=%s\r\nTo: <%s>;tag=%s\r\n"
			    "Call-ID: %s@%s\r\nCSeq: %u BYE\r\nContent-Length: 0\r\n\r\n",
			    bye_from_caller ? (a->target_caller ? ipb : pxb) : (a->target_caller ? pxb : ipb),
			    a->branch, bye_from_caller ? caller : callee, from_tag,
			    bye_from_caller ? callee : caller, to_tag, a->call_id,
			    a->target_caller ? ipb : pxb, bye_from_caller ? 2u : 1u);
		*iri_type = s == 5 ? 3 : 2;
		goto done;
	}
	*iri_type = s == 0 ? 1 : 3;
	switch (s) {
	case 0:
		if ((r = sdp_body(&sdp, a->target_caller ? tuser : a->peer, a->sess_id,
		    a->target_caller ? a->ua_ip : a->media_ip,
		    a->target_caller ? a->ua_port : a->media_port, a->law)) != 0)
			break;
		r = lacre_dbuf_printf(b, "INVITE %s SIP/2.0\r\n"
		    "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\n"
		    "From: <%s>;tag=%s\r\nTo: <%s>\r\nCall-ID: %s@%s\r\nCSeq: 1 INVITE\r\n"
		    "Contact: <%s>\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
		    "User-Agent: lacre-mediator/" MED_VERSION "\r\nContent-Type: application/sdp\r\n"
		    "Content-Length: %zu\r\n\r\n", callee, a->target_caller ? ipb : pxb,
		    a->branch, caller, ctag, callee, a->call_id, a->target_caller ? ipb : pxb,
		    caller, sdp.len);
		if (!r)
			r = lacre_dbuf_add(b, sdp.p, sdp.len);
		break;
	case 1:
	case 2:
	case 3:
		if (s == 3 && (r = sdp_body(&sdp, a->target_caller ? a->peer : tuser, a->sess_id + 7,
		    a->target_caller ? a->media_ip : a->ua_ip,
		    a->target_caller ? a->media_port : a->ua_port, a->law)) != 0)
			break;
		r = lacre_dbuf_printf(b, "SIP/2.0 %s\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s\r\n"
		    "From: <%s>;tag=%s\r\nTo: <%s>%s%s\r\nCall-ID: %s@%s\r\nCSeq: 1 INVITE\r\n",
		    s == 1 ? "100 Trying" : s == 2 ? "180 Ringing" : "200 OK",
		    a->target_caller ? ipb : pxb, a->branch, caller, ctag, callee,
		    s == 1 ? "" : ";tag=", s == 1 ? "" : etag, a->call_id, a->target_caller ? ipb : pxb);
		if (!r && s == 3)
			r = lacre_dbuf_printf(b, "Contact: <%s>\r\nContent-Type: application/sdp\r\n"
			    "Content-Length: %zu\r\n\r\n", callee, sdp.len);
		else if (!r)
			r = lacre_dbuf_printf(b, "Content-Length: 0\r\n\r\n");
		if (!r && s == 3)
			r = lacre_dbuf_add(b, sdp.p, sdp.len);
		break;
	case 4:
		r = lacre_dbuf_printf(b, "ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK%sa\r\n"
		    "Max-Forwards: 70\r\nFrom: <%s>;tag=%s\r\nTo: <%s>;tag=%s\r\nCall-ID: %s@%s\r\n"
		    "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n", callee, a->target_caller ? ipb : pxb,
		    a->branch, caller, ctag, callee, etag, a->call_id, a->target_caller ? ipb : pxb);
		break;
	}
done:
	lacre_dbuf_free(&sdp);
	return r;
}

/* One step of a call.  Returns 1 while the call goes on, 0 when it ended. */
static int call_step(struct med_ctx *m, struct med_target *t, struct med_act *a)
{
	struct med_gen *g = m->gen;
	struct data_args d;
	struct etsi_enc_ipaddr sa, da;
	const uint8_t *src, *dst;
	unsigned sip_s;
	int r, iri_type;

	memset(&d, 0, sizeof(d));
	if (a->step < 5 || a->step >= 5 + 2 * a->n_frames) {
		sip_s = a->step < 5 ? a->step : 5 + (a->step - 5 - 2 * a->n_frames);
		if ((r = sip_message(m, t, a, sip_s, &src, &dst, &iri_type)) != 0)
			return r;
		sip_addr(&sa, src);
		sip_addr(&da, dst);
		d.kind = D_IPMMIRI;
		d.iri_type = iri_type;
		d.src = &sa;
		d.dst = &da;
		d.bytes = g->text.p;
		d.n = g->text.len;
		if ((r = emit_data(m, t, a, a->t, &d)) != 0)
			return r;
		switch (sip_s) {
		case 0: a->t += 4 * MS + med_rng_below(&g->rng, 20) * MS; break;
		case 1: a->t += 100 * MS + med_rng_below(&g->rng, 200) * MS; break;
		case 2: a->t += 500 * MS + med_rng_below(&g->rng, 2500) * MS; break;
		case 3: a->t += 10 * MS + med_rng_below(&g->rng, 30) * MS; break;
		case 4: a->t += 20 * MS; a->media_t0 = a->t; break;
		case 5: a->t += 5 * MS + med_rng_below(&g->rng, 30) * MS; break;
		default: return 0;
		}
		if (sip_s == 4 && a->n_frames == 0)
			a->t += 100 * MS;
	} else {
		/* RTP: frames alternate fromTarget / toTarget */
		unsigned i = a->rtp_i, dir = i & 1, k = i / 2;
		uint8_t rtp[12 + 160], frame[20 + 8 + 12 + 160];
		int16_t pcm[160];
		size_t n;

		med_voice_frame(&a->voice[dir], pcm);
		rtp[0] = 0x80;
		rtp[1] = (uint8_t)((k == 0 ? 0x80 : 0) | a->law);
		rtp[2] = (uint8_t)(a->rtp_seq[dir] >> 8);
		rtp[3] = (uint8_t)a->rtp_seq[dir];
		rtp[4] = (uint8_t)(a->rtp_ts[dir] >> 24);
		rtp[5] = (uint8_t)(a->rtp_ts[dir] >> 16);
		rtp[6] = (uint8_t)(a->rtp_ts[dir] >> 8);
		rtp[7] = (uint8_t)a->rtp_ts[dir];
		rtp[8] = (uint8_t)(a->ssrc[dir] >> 24);
		rtp[9] = (uint8_t)(a->ssrc[dir] >> 16);
		rtp[10] = (uint8_t)(a->ssrc[dir] >> 8);
		rtp[11] = (uint8_t)a->ssrc[dir];
		g711_encode(a->law, pcm, 160, rtp + 12);
		a->rtp_seq[dir]++;
		a->rtp_ts[dir] += 160;
		if (dir == 0)
			n = med_ip_udp(frame, a->ua_ip, a->media_ip, a->ua_port, a->media_port,
			    (uint16_t)(a->rtp_seq[0] * 7u), 64, rtp, sizeof(rtp));
		else
			n = med_ip_udp(frame, a->media_ip, a->ua_ip, a->media_port, a->ua_port,
			    (uint16_t)(a->rtp_seq[1] * 5u), 58, rtp, sizeof(rtp));
		d.kind = D_IPMMCC;
		d.direction = dir ? ETSI_ENC_DIR_TO_TARGET : ETSI_ENC_DIR_FROM_TARGET;
		d.bytes = frame;
		d.n = n;
		if ((r = emit_data(m, t, a, a->t, &d)) != 0)
			return r;
		a->rtp_i++;
		if (a->rtp_i < 2 * a->n_frames)
			a->t = a->media_t0 + (int64_t)(a->rtp_i / 2) * 20 * MS + (a->rtp_i & 1) * 7 * MS;
		else
			a->t = a->media_t0 + (int64_t)a->n_frames * 20 * MS + 60 * MS;
	}
	a->step++;
	return 1;
}

/* Plan the next conversation of a session into a->conv. */
static void plan_conversation(struct med_gen *g, struct med_act *a)
{
	unsigned type = med_rng_below(&g->rng, 10), n = 0, k, i;

	a->conv_i = 0;
	a->sport = (uint16_t)(49152 + med_rng_below(&g->rng, 16000));
	a->cseq = (uint32_t)med_rng_next(&g->rng);
	a->sseq = (uint32_t)med_rng_next(&g->rng);
	a->server_ip[0] = 203; a->server_ip[1] = 0; a->server_ip[2] = 113;
	a->server_ip[3] = (uint8_t)(1 + med_rng_below(&g->rng, 250));
	if (g->bulk) {
		/* --bulk: a download already under way, 1460-byte segments only
		 * (MTU-sized IPCC PDUs, for the receiver's bulk benchmark) */
		a->dport = 443;
		for (i = 0; i < MAX_CONV_STEPS; i++)
			a->conv[n++] = (struct conv_step){ P_DATA, 1460 };
	} else if (type < 3) {
		a->server_ip[0] = 198; a->server_ip[1] = 51; a->server_ip[2] = 100; a->server_ip[3] = 53;
		a->dport = 53;
		a->conv[n++] = (struct conv_step){ P_DNSQ, 0 };
		a->conv[n++] = (struct conv_step){ P_DNSR, 0 };
	} else if (type < 7) {
		a->dport = med_rng_below(&g->rng, 2) ? 80 : 8080;
		a->conv[n++] = (struct conv_step){ P_SYN, 0 };
		a->conv[n++] = (struct conv_step){ P_SYNACK, 0 };
		a->conv[n++] = (struct conv_step){ P_ACK, 0 };
		a->conv[n++] = (struct conv_step){ P_GET, 0 };
		k = 1 + med_rng_below(&g->rng, 8);
		for (i = 0; i < k && n < MAX_CONV_STEPS - 5; i++) {
			a->conv[n++] = (struct conv_step){ P_DATA,
			    (uint16_t)(i + 1 < k ? 1460 : 200 + med_rng_below(&g->rng, 1200)) };
			if (i & 1)
				a->conv[n++] = (struct conv_step){ P_ACK, 0 };
		}
		a->conv[n++] = (struct conv_step){ P_FIN_OUT, 0 };
		a->conv[n++] = (struct conv_step){ P_FIN_IN, 0 };
		a->conv[n++] = (struct conv_step){ P_ACK_LAST, 0 };
	} else if (type < 8) {
		k = 1 + med_rng_below(&g->rng, 3);
		for (i = 0; i < k; i++) {
			a->conv[n++] = (struct conv_step){ P_ICMPQ, 0 };
			a->conv[n++] = (struct conv_step){ P_ICMPR, 0 };
		}
	} else {
		a->dport = (uint16_t)(med_rng_below(&g->rng, 2) ? 443 : 3478);
		k = 2 + med_rng_below(&g->rng, 6);
		for (i = 0; i < k; i++)
			a->conv[n++] = (struct conv_step){ (uint8_t)(med_rng_below(&g->rng, 2) ? P_UDP_OUT : P_UDP_IN),
			    (uint16_t)(60 + med_rng_below(&g->rng, 1140)) };
	}
	a->conv_n = n;
}

/* Filler text for HTTP bodies. */
static void http_filler(struct med_gen *g, uint8_t *p, size_t n)
{
	static const char *words[] = { "lorem", "ipsum", "<p>", "</p>", "dolor", "sit", "amet",
		"<div class=\"c\">", "</div>", "consectetur", "adipiscing", "elit", "\n" };
	size_t o = 0;

	while (o < n) {
		const char *w = words[med_rng_below(&g->rng, 13)];
		size_t l = strlen(w);
		if (l > n - o)
			l = n - o;
		memcpy(p + o, w, l);
		o += l;
		if (o < n)
			p[o++] = ' ';
	}
}

/* Build the next packet of the session's conversation into out; set *dir. */
static size_t session_packet(struct med_gen *g, struct med_act *a, uint8_t *out, int *dir)
{
	struct conv_step cs;
	uint8_t pl[1500];
	size_t n = 0, len;
	uint8_t *u = a->user_ip, *s = a->server_ip;

	if (a->conv_i >= a->conv_n)
		plan_conversation(g, a);
	cs = a->conv[a->conv_i++];
	a->ip_id++;
	switch (cs.what) {
	case P_DNSQ:
	case P_DNSR: {
		static const uint8_t q[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
			3, 'c', 'o', 'm', 0, 0, 1, 0, 1 };
		pl[0] = (uint8_t)(a->sport >> 3);
		pl[1] = (uint8_t)a->sport;
		pl[2] = cs.what == P_DNSQ ? 0x01 : 0x81;
		pl[3] = cs.what == P_DNSQ ? 0x00 : 0x80;
		pl[4] = 0; pl[5] = 1;
		pl[6] = 0; pl[7] = cs.what == P_DNSR;
		pl[8] = pl[9] = pl[10] = pl[11] = 0;
		memcpy(pl + 12, q, sizeof(q));
		n = 12 + sizeof(q);
		if (cs.what == P_DNSR) {
			static const uint8_t ans[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4,
				93, 184, 216, 34 };
			memcpy(pl + n, ans, sizeof(ans));
			n += sizeof(ans);
			*dir = 1;
			return med_ip_udp(out, s, u, 53, a->sport, a->ip_id, 57, pl, n);
		}
		*dir = 0;
		return med_ip_udp(out, u, s, a->sport, 53, a->ip_id, 64, pl, n);
	}
	case P_SYN:
		*dir = 0;
		len = med_ip_tcp(out, u, s, a->sport, a->dport, a->cseq, 0, 0x02, a->ip_id, 64, NULL, 0);
		a->cseq++;
		return len;
	case P_SYNACK:
		*dir = 1;
		len = med_ip_tcp(out, s, u, a->dport, a->sport, a->sseq, a->cseq, 0x12, a->ip_id, 55, NULL, 0);
		a->sseq++;
		return len;
	case P_ACK:
	case P_ACK_LAST:
		*dir = 0;
		return med_ip_tcp(out, u, s, a->sport, a->dport, a->cseq, a->sseq, 0x10, a->ip_id, 64, NULL, 0);
	case P_GET: {
		int k = snprintf((char *)pl, sizeof(pl), "GET /news/%u/index.html HTTP/1.1\r\n"
		    "Host: www%u.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
		    "Accept: text/html,application/xhtml+xml\r\nAccept-Language: es-ES,es;q=0.9\r\n"
		    "Connection: keep-alive\r\n\r\n", med_rng_below(&g->rng, 100000),
		    med_rng_below(&g->rng, 10));
		*dir = 0;
		n = k > 0 ? (size_t)k : 0;
		len = med_ip_tcp(out, u, s, a->sport, a->dport, a->cseq, a->sseq, 0x18, a->ip_id, 64, pl, n);
		a->cseq += (uint32_t)n;
		return len;
	}
	case P_DATA:
		n = cs.len;
		http_filler(g, pl, n);
		if (a->conv_i >= 2 && a->conv[a->conv_i - 2].what == P_GET) {
			static const char hdr[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
			    "Server: nginx\r\nTransfer-Encoding: chunked\r\n\r\n<!DOCTYPE html><html>";
			memcpy(pl, hdr, sizeof(hdr) - 1 < n ? sizeof(hdr) - 1 : n);
		}
		*dir = 1;
		len = med_ip_tcp(out, s, u, a->dport, a->sport, a->sseq, a->cseq, 0x18, a->ip_id, 55, pl, n);
		a->sseq += (uint32_t)n;
		return len;
	case P_FIN_OUT:
		*dir = 0;
		len = med_ip_tcp(out, u, s, a->sport, a->dport, a->cseq, a->sseq, 0x11, a->ip_id, 64, NULL, 0);
		a->cseq++;
		return len;
	case P_FIN_IN:
		*dir = 1;
		len = med_ip_tcp(out, s, u, a->dport, a->sport, a->sseq, a->cseq, 0x11, a->ip_id, 55, NULL, 0);
		a->sseq++;
		return len;
	case P_ICMPQ:
		*dir = 0;
		return med_ip_icmp_echo(out, u, s, 0, a->icmp_id, ++a->icmp_seq, a->ip_id, 64);
	case P_ICMPR:
		*dir = 1;
		return med_ip_icmp_echo(out, s, u, 1, a->icmp_id, a->icmp_seq, a->ip_id, 55);
	default:
		n = cs.len;
		{
			size_t i;
			for (i = 0; i < n; i++)
				pl[i] = (uint8_t)med_rng_next(&g->rng);
		}
		if (cs.what == P_UDP_OUT) {
			*dir = 0;
			return med_ip_udp(out, u, s, a->sport, a->dport, a->ip_id, 64, pl, n);
		}
		*dir = 1;
		return med_ip_udp(out, s, u, a->dport, a->sport, a->ip_id, 55, pl, n);
	}
}

/* One step of a session.  Returns 1 while it goes on, 0 when it ended. */
static int session_step(struct med_ctx *m, struct med_target *t, struct med_act *a)
{
	struct med_gen *g = m->gen;
	struct etsi_enc_ipaddr tip, pip;
	struct etsi_enc_ipiri ev;
	struct data_args d;
	char user[32];
	uint8_t uli[13];
	int r, last;

	memset(&d, 0, sizeof(d));
	memset(&ev, 0, sizeof(ev));
	memset(&tip, 0, sizeof(tip));
	memset(&pip, 0, sizeof(pip));
	memcpy(tip.addr, a->user_ip, 4);
	tip.assignment = 2;
	tip.prefix_len = 32;
	pip.addr[0] = 10; pip.addr[1] = 199; pip.addr[2] = 0; pip.addr[3] = 1;
	pip.assignment = 3;
	pip.prefix_len = 32;
	snprintf(user, sizeof(user), "user%04u@isp.example", t->idx + 1);
	ev.username = user;
	ev.access_type = (int)a->access_type;
	ev.ip_version = 1;
	ev.network_id = a->mac;
	ev.pop_port = a->pop_port;
	ev.start_us = ev.end_us = -1;
	ev.end_reason = -1;
	ev.octets_received = ev.octets_transmitted = -1;
	ev.pop_identifier = "bng01";
	ev.pop_ip = &pip;
	ev.target_location = m->o.location;   /* geolocation: legal rule L2 */
	if (m->o.has_cell) {
		/* --cell: the target moves one cell (ECI + 1) per IRI of the
		 * session: attempt +0, accept +1, interim +2, end +2 or +3 */
		uint32_t k = a->step < 2 ? (uint32_t)a->step : 2u + (a->interim_done ? 1u : 0u);
		uint32_t eci = ((uint32_t)(m->o.cell_uli[9] & 15u) << 24 | (uint32_t)m->o.cell_uli[10] << 16 |
				(uint32_t)m->o.cell_uli[11] << 8 | m->o.cell_uli[12]) + k;
		memcpy(uli, m->o.cell_uli, sizeof(uli));
		uli[9] = (uint8_t)(eci >> 24 & 15u);
		uli[10] = (uint8_t)(eci >> 16);
		uli[11] = (uint8_t)(eci >> 8);
		uli[12] = (uint8_t)eci;
		ev.uli = uli;
		ev.uli_len = sizeof(uli);
	}
	d.kind = D_IPIRI;
	d.ev = &ev;
	last = a->pkt_i >= a->pkt_total;
	if (a->step == 0) {
		ev.access_event = 0;                 /* accessAttempt */
		d.iri_type = 4;
		if ((r = emit_data(m, t, a, a->t, &d)) != 0)
			return r;
		a->t += 50 * MS + med_rng_below(&g->rng, 150) * MS;
	} else if (a->step == 1) {
		ev.access_event = 1;                 /* accessAccept */
		ev.target_ip = &tip;
		ev.start_us = a->t;
		a->sess_start = a->t;
		d.iri_type = 1;
		if ((r = emit_data(m, t, a, a->t, &d)) != 0)
			return r;
		a->t += 100 * MS + med_rng_below(&g->rng, 400) * MS;
	} else if (!a->interim_done && a->pkt_i == a->pkt_total / 2 && a->pkt_total > 0) {
		ev.access_event = 6;                 /* interimUpdate */
		ev.target_ip = &tip;
		ev.start_us = a->sess_start;
		ev.octets_received = (int64_t)a->oct_rx;
		ev.octets_transmitted = (int64_t)a->oct_tx;
		d.iri_type = 3;
		a->interim_done = 1;
		if ((r = emit_data(m, t, a, a->t, &d)) != 0)
			return r;
		a->t += 5 * MS + med_rng_below(&g->rng, 50) * MS;
	} else if (last) {
		ev.access_event = 8;                 /* accessEnd */
		ev.target_ip = &tip;
		ev.start_us = a->sess_start;
		ev.end_us = a->t;
		ev.end_reason = 1;
		ev.octets_received = (int64_t)a->oct_rx;
		ev.octets_transmitted = (int64_t)a->oct_tx;
		d.iri_type = 2;
		if ((r = emit_data(m, t, a, a->t, &d)) != 0)
			return r;
		return 0;
	} else {
		uint8_t pkt[1600];
		int dir = 0;
		size_t n = session_packet(g, a, pkt, &dir);

		d.kind = D_IPCC;
		d.direction = dir ? ETSI_ENC_DIR_TO_TARGET : ETSI_ENC_DIR_FROM_TARGET;
		d.bytes = pkt;
		d.n = n;
		if (dir)
			a->oct_rx += n;
		else
			a->oct_tx += n;
		if ((r = emit_data(m, t, a, a->t, &d)) != 0)
			return r;
		a->pkt_i++;
		if (a->conv_i >= a->conv_n)
			a->t += 50 * MS + med_rng_below(&g->rng, 700) * MS;
		else if (a->conv[a->conv_i].what == P_DATA)
			a->t += 1 * MS + med_rng_below(&g->rng, 3) * MS;
		else
			a->t += 2 * MS + med_rng_below(&g->rng, 40) * MS;
	}
	a->step++;
	return 1;
}

/* Emit the HI1 liActivated/liDeactivated notification of target t. */
static int emit_hi1(struct med_ctx *m, struct med_target *t, int op, int64_t when)
{
	struct med_gen *g = m->gen;
	struct etsi_enc_header h;
	struct etsi_enc_hi1 n;
	struct med_meta meta;
	char info[48];
	int r;

	/* as OpenLI's mediator: CIN 0, its own counter, no network element
	 * or interception point, the short operator id in the notification */
	med_header(m, &h, t->liid, t->liid_len, 1, 0, t->hi1_seq++, when);
	h.network_element_id = NULL;
	h.interception_point_id = NULL;
	memset(&n, 0, sizeof(n));
	n.op = op;
	n.liid = t->liid;
	n.liid_len = t->liid_len;
	n.operator_id = "LACRE";
	/* target-Information: the identities, as OpenLI lists them */
	if (t->voip)
		snprintf(info, sizeof(info), "tgt%04u@ims.example.net", t->idx + 1);
	else
		snprintf(info, sizeof(info), "user%04u@isp.example", t->idx + 1);
	n.target_info = info;
	n.time_us = when;
	lacre_dbuf_reset(&g->pdu);
	if ((r = etsi_enc_hi1(&g->pdu, &h, &n)) != 0)
		return r;
	meta.pair = t->pair;
	meta.hi3 = 0;
	meta.cls = MED_CLS_HI1;
	meta.stream = -1;
	return med_sink_put(m, &meta, g->pdu.p, g->pdu.len);
}

/* Close the current activity's chains (final hash and signature). */
static int act_finish(struct med_ctx *m, struct med_target *t, struct med_act *a)
{
	struct etsi_enc_header h;
	struct med_meta meta;
	int i, r;

	for (i = 0; i < 2; i++) {
		if (!a->chain[i])
			continue;
		med_header(m, &h, t->liid, t->liid_len, 1, a->cin, 0, a->t);
		meta.pair = t->pair;
		meta.hi3 = i;
		meta.cls = MED_CLS_INTEGRITY;
		meta.stream = -1;
		if ((r = med_chain_flush(m, a->chain[i], &h, &meta, i + 1)) != 0)
			return r;
	}
	return 0;
}

/* Choose target t's next activity, or leave it idle (next_t = -1). */
static int next_activity(struct med_ctx *m, struct med_target *t, int64_t now)
{
	int call;

	if (t->calls_left == 0 && t->sessions_left == 0) {
		t->next_t = -1;
		return 0;
	}
	if (t->calls_left == 0)
		call = 0;
	else if (t->sessions_left == 0)
		call = 1;
	else
		call = t->next_is_call;
	t->next_is_call = !call;
	if (call && t->calls_left > 0)
		t->calls_left--;
	if (!call && t->sessions_left > 0)
		t->sessions_left--;
	t->act = call ? call_new(m, t, now) : session_new(m, t, now);
	if (!t->act)
		return LACRE_E_NOMEM;
	t->next_t = now;
	return 0;
}

/* Set up targets, their LIIDs and activity budgets. */
int med_gen_init(struct med_ctx *m)
{
	struct med_gen *g;
	long long C = m->o.calls, S = m->o.sessions;
	unsigned T = m->o.targets, i, nv = 0, ni = 0, kv = 0, ki = 0;
	int unlimited = 0;

	if (!(g = calloc(1, sizeof(*g))))
		return LACRE_E_NOMEM;
	m->gen = g;
	med_rng_seed(&g->rng, m->o.seed);
	g->cin_mix = (uint32_t)med_rng_next(&g->rng);
	g->bulk = m->o.bulk;
	g->n = T;
	g->tg = calloc(T, sizeof(*g->tg));
	g->heap = calloc(T, sizeof(*g->heap));
	m->liids = calloc(T, sizeof(*m->liids));
	if (!g->tg || !g->heap || !m->liids)
		return LACRE_E_NOMEM;
	lacre_dbuf_init(&g->pdu, MED_MAX_PDU);
	lacre_dbuf_init(&g->text, 65536);
	if (C < 0 && S < 0) {
		if (m->o.duration > 0 || m->o.pdus > 0) {
			unlimited = 1;
		} else {
			C = T > 1 ? (T + 1) / 2 : 1;
			S = T > 1 ? T / 2 : 0;
		}
	} else {
		if (C < 0)
			C = 0;
		if (S < 0)
			S = 0;
	}
	/* which targets are VoIP and which broadband */
	for (i = 0; i < T; i++) {
		struct med_target *t = &g->tg[i];
		int voip, ip;

		if (unlimited) {
			voip = (i % 2 == 0) || T == 1;
			ip = !voip || T == 1;
		} else if (C > 0 && S > 0 && T >= 2) {
			voip = i % 2 == 0;
			ip = !voip;
		} else {
			voip = C > 0;
			ip = S > 0;
		}
		t->idx = i;
		/* i mod N, shifted by one per round of N targets: with 2N targets
		 * (N even) every pair then carries one VoIP and one broadband
		 * target instead of two of a kind, so pairs carry alike loads */
		t->pair = (i + i / m->o.connections) % m->o.connections;
		t->calls_left = voip ? (unlimited ? -1 : 0) : 0;
		t->sessions_left = ip ? (unlimited ? -1 : 0) : 0;
		t->next_is_call = voip;
		t->voip = voip;
		nv += voip;
		ni += ip;
		t->ip[0] = 10;
		t->ip[1] = (uint8_t)(20 + (i >> 16));
		t->ip[2] = (uint8_t)(i >> 8);
		t->ip[3] = (uint8_t)(i & 0xff);
		if (t->ip[3] == 0 || t->ip[3] == 255)
			t->ip[3] = 1;
		if (m->o.binary_liid) {
			uint64_t v = med_rng_next(&g->rng);
			size_t k;
			t->liid[0] = 0xa5;
			t->liid[1] = (uint8_t)(i >> 16);
			t->liid[2] = (uint8_t)(i >> 8);
			t->liid[3] = (uint8_t)i;
			for (k = 0; k < 4; k++)
				t->liid[4 + k] = (uint8_t)(v >> (8 * k));
			t->liid_len = 8;
			snprintf(m->liids[i], sizeof(m->liids[i]), "0x");
			for (k = 0; k < 8; k++)
				snprintf(m->liids[i] + 2 + 2 * k, 3, "%02x", t->liid[k]);
		} else {
			snprintf(m->liids[i], sizeof(m->liids[i]), "%s%04u", m->o.liid_prefix, i + 1);
			t->liid_len = strlen(m->liids[i]);
			if (t->liid_len > 25) {
				med_log("LIID %s is longer than 25 octets: shorten --liid-prefix", m->liids[i]);
				return LACRE_E_INVALID;
			}
			memcpy(t->liid, m->liids[i], t->liid_len);
		}
	}
	/* spread the budgets round-robin over the capable targets */
	if (!unlimited) {
		long long k;
		for (k = 0; k < C && nv > 0; k++) {
			while (!g->tg[kv % T].next_is_call)
				kv++;
			g->tg[kv % T].calls_left++;
			kv++;
		}
		for (k = 0; k < S && ni > 0; k++) {
			for (;;) {
				struct med_target *t = &g->tg[ki % T];
				int ip = (C > 0 && S > 0 && T >= 2) ? (ki % T) % 2 == 1 : 1;
				if (ip)
					break;
				(void)t;
				ki++;
			}
			g->tg[ki % T].sessions_left++;
			ki++;
		}
	}
	for (i = 0; i < T; i++) {
		struct med_target *t = &g->tg[i];
		int64_t start = m->t0_us + (int64_t)med_rng_below(&g->rng, 500) * MS;
		int r = next_activity(m, t, start);
		if (r != 0)
			return r;
		if (t->next_t >= 0)
			g->heap[g->heap_n++] = i;
	}
	for (i = g->heap_n; i-- > 0;)
		heap_down(g, i);
	g->gaps_left = m->o.inject_gaps;
	g->resets_left = m->o.inject_resets;
	g->next_gap_at = 5 + med_rng_below(&g->rng, 20);
	g->next_reset_at = 15 + med_rng_below(&g->rng, 40);
	g->restarts_left = m->o.inject_restarts;
	g->next_restart_at = 25 + med_rng_below(&g->rng, 40);
	return 0;
}

/* Virtual time of the next step, or -1 when all work is done. */
int64_t med_gen_next_time(struct med_ctx *m)
{
	struct med_gen *g = m->gen;

	if (g->heap_n == 0 || (m->o.pdus > 0 && g->data_emitted >= (uint64_t)m->o.pdus))
		return -1;
	return g->tg[g->heap[0]].next_t;
}

/* Run one step of the earliest target. */
int med_gen_step(struct med_ctx *m)
{
	struct med_gen *g = m->gen;
	struct med_target *t;
	struct med_act *a;
	int r;

	if (med_gen_next_time(m) < 0)
		return 0;
	t = &g->tg[g->heap[0]];
	a = t->act;
	if (m->o.hi1 && !t->hi1_sent) {
		t->hi1_sent = 1;
		if ((r = emit_hi1(m, t, 1, a->t)) != 0)
			return r;
	}
	r = a->kind == ACT_CALL ? call_step(m, t, a) : session_step(m, t, a);
	if (r < 0)
		return r;
	if (r == 0) {
		int64_t end = a->t;
		if ((r = act_finish(m, t, a)) != 0)
			return r;
		act_free(a);
		t->act = NULL;
		if ((r = next_activity(m, t, end + 200 * MS + med_rng_below(&g->rng, 1300) * MS)) != 0)
			return r;
	} else {
		t->next_t = a->t;
	}
	if (t->next_t < 0) {
		g->heap[0] = g->heap[--g->heap_n];
	}
	if (g->heap_n > 0)
		heap_down(g, 0);
	(void)heap_up;
	return 1;
}

/* Final hashes/signatures of open activities, HI1 deactivations. */
int med_gen_finish(struct med_ctx *m)
{
	struct med_gen *g = m->gen;
	unsigned i;
	int r;

	for (i = 0; i < g->n; i++) {
		struct med_target *t = &g->tg[i];
		int64_t when = t->act ? t->act->t : t->next_t;

		if (t->act && (r = act_finish(m, t, t->act)) != 0)
			return r;
		if (m->o.hi1 && t->hi1_sent && (r = emit_hi1(m, t, 2, when > 0 ? when : m->t0_us)) != 0)
			return r;
	}
	return 0;
}

/* Free the generator. */
void med_gen_free(struct med_ctx *m)
{
	struct med_gen *g = m->gen;
	unsigned i;

	if (!g)
		return;
	for (i = 0; i < g->n && g->tg; i++)
		act_free(g->tg[i].act);
	free(g->tg);
	free(g->heap);
	lacre_dbuf_free(&g->pdu);
	lacre_dbuf_free(&g->text);
	free(g);
	m->gen = NULL;
}
