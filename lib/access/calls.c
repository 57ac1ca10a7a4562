/*
 * calls.c - calls and sessions of a warrant, correlated from the index
 * (include/lacre/calls.h).
 *
 * VoIP: the IPMMIRI records (one SIP message each) are grouped by SIP
 * Call-ID; the CINs they came on join the call's IPMMCC records (RTP).  The
 * INVITE gives the parties (From, To) and the SDP offer, the first answer
 * with SDP the other media address.  Which party is the target is decided
 * from the addresses, not from the operator's direction labels: the target
 * UA exchanges every SIP message of the call with its proxy, so the SDP
 * address that also appears as a SIP source or destination is the target's
 * media (OpenLI labels the RTP by "who sent the INVITE", which is wrong
 * when the target is called; see ../shared/vectors/openli-a/README.md).
 * Broadband: IPIRI and IPCC records grouped by CIN.
 * Mobile: EPS, UMTS and 3GPP TS 33.128 IRI (the index's mobile columns)
 * and their CC grouped by LIID and CIN (OpenLI gives each bearer its own
 * CIN): the activation event starts the session, the deactivation (or a
 * detach / deregistration, or IRI-End) ends it; "open" when neither came.
 * Each IRI is listed with its event and location, so that every cell
 * change is shown in time order.
 *
 * Completeness per call: ETSI sequence gaps of the IRI and CC streams,
 * RTP sequence gaps per SSRC (16-bit numbers unwrapped in arrival order),
 * a missing BYE or IRI-End, and IRI without CC or CC without IRI.
 *
 * A record finds its call through calls_lookup.h (Call-ID and CIN hash
 * tables), never by scanning every call: a warrant of 10,000 calls is
 * listed in linear time (issue 13).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "calls_lookup.h"
#include "lacre/calls.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/record_json.h"

#define CALLS_MAX_STREAMS 8

/* Per-SSRC RTP sequence state of one call while counting gaps. */
struct calls_stream {
	uint32_t ssrc;
	int side;
	int64_t ext, min, max;   /* unwrapped sequence numbers */
	uint64_t count;
};

struct calls_work {
	struct calls_entry *v;
	size_t n, cap;
	struct calls_stream (*streams)[CALLS_MAX_STREAMS];
	size_t *n_streams;
	uint64_t (*pt_count)[2];  /* [PCMU, PCMA] packets per call */
	uint64_t *swapped, *labelled;
	char (*sip_addrs)[4][64]; /* up to 4 distinct SIP endpoint addresses */
	char (*offer)[64], (*answer)[64];
	unsigned *offer_port, *answer_port;
	struct calls_mobile_event **mev;  /* per mobile session: its IRIs */
	size_t *n_mev, *cap_mev;
	struct calls_lookup look;         /* Call-ID and CIN to calls (indexes of v) */
};

/* Text column i, or "" for NULL. */
static const char *calls_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

/* Bounded copy of a NUL-terminated string. */
static void calls_copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* Append a problem to c's list. */
static void calls_problem(struct calls_entry *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void calls_problem(struct calls_entry *c, const char *fmt, ...)
{
	size_t l = strlen(c->problems);
	char one[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	snprintf(c->problems + l, sizeof(c->problems) - l, "%s%s", l ? "; " : "", one);
}

/* Grow w by one zeroed call; returns its index or -1. */
static long calls_new(struct calls_work *w)
{
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 16;
#define GROW(f) do { void *np = realloc(w->f, nc * sizeof(*w->f)); if (!np) return -1; w->f = np; } while (0)
		GROW(v); GROW(streams); GROW(n_streams); GROW(pt_count); GROW(swapped);
		GROW(labelled); GROW(sip_addrs); GROW(offer); GROW(answer); GROW(offer_port);
		GROW(answer_port); GROW(mev); GROW(n_mev); GROW(cap_mev);
#undef GROW
		w->cap = nc;
	}
	memset(&w->v[w->n], 0, sizeof(w->v[0]));
	w->v[w->n].target_caller = -1;
	w->v[w->n].codec_pt = -1;
	w->n_streams[w->n] = 0;
	memset(w->pt_count[w->n], 0, sizeof(w->pt_count[0]));
	w->swapped[w->n] = w->labelled[w->n] = 0;
	memset(w->sip_addrs[w->n], 0, sizeof(w->sip_addrs[0]));
	w->offer[w->n][0] = w->answer[w->n][0] = '\0';
	w->offer_port[w->n] = w->answer_port[w->n] = 0;
	w->mev[w->n] = NULL;
	w->n_mev[w->n] = w->cap_mev[w->n] = 0;
	return (long)w->n++;
}

/* Free the work arrays (not v when kept). */
static void calls_work_free(struct calls_work *w, int keep_v)
{
	if (!keep_v)
		free(w->v);
	free(w->streams); free(w->n_streams); free(w->pt_count); free(w->swapped);
	free(w->labelled); free(w->sip_addrs); free(w->offer); free(w->answer);
	free(w->offer_port); free(w->answer_port);
	for (size_t i = 0; w->mev && i < w->n; i++)
		free(w->mev[i]);
	free(w->mev); free(w->n_mev); free(w->cap_mev);
	calls_lookup_free(&w->look);
}

/* A new entry of type for CIN cin of warrant (LIID liid), first seen at
 * t: its index, or -1 when out of memory. */
static long calls_start(struct calls_work *w, int type, uint32_t cin, int64_t t,
			const char *warrant, const char *liid)
{
	long i = calls_new(w);
	struct calls_entry *c;

	if (i < 0)
		return -1;
	c = &w->v[i];
	c->type = type;
	c->cin = cin;
	c->start_us = t;
	calls_copy(c->warrant, sizeof(c->warrant), warrant);
	calls_copy(c->liid, sizeof(c->liid), liid);
	snprintf(c->id, sizeof(c->id), "%s-%" PRIu32, warrant, cin);
	return i;
}

/* Add a CIN to call i (no duplicates, at most CALLS_MAX_CINS), and call i
 * to the CIN's lookup list when added.  LACRE_OK, LACRE_E_NOMEM or
 * LACRE_E_CRYPTO (no key for the lookup's hash). */
static int calls_add_cin(struct calls_work *w, size_t i, uint32_t cin)
{
	struct calls_entry *c = &w->v[i];
	int r;

	for (size_t k = 0; k < c->n_cins; k++)
		if (c->cins[k] == cin)
			return LACRE_OK;
	if (c->n_cins == CALLS_MAX_CINS)
		return LACRE_OK;
	if ((r = calls_lookup_cin_add(&w->look, cin, i)) != LACRE_OK)
		return r;
	c->cins[c->n_cins++] = cin;
	return LACRE_OK;
}

/* Remember a SIP endpoint address of call i. */
static void calls_add_addr(struct calls_work *w, size_t i, const char *a)
{
	if (!a[0])
		return;
	for (int k = 0; k < 4; k++) {
		if (!strcmp(w->sip_addrs[i][k], a))
			return;
		if (!w->sip_addrs[i][k][0]) {
			calls_copy(w->sip_addrs[i][k], 64, a);
			return;
		}
	}
}

/* Whether a is one of call i's SIP endpoint addresses. */
static int calls_is_sip_addr(const struct calls_work *w, size_t i, const char *a)
{
	for (int k = 0; a[0] && k < 4; k++)
		if (!strcmp(w->sip_addrs[i][k], a))
			return 1;
	return 0;
}

int calls_side(const struct calls_entry *c, const char *src, unsigned sport, int dir)
{
	if (src && src[0] && c->target_media[0]) {
		if (!strcmp(src, c->target_media) && (!c->target_port || sport == c->target_port))
			return CALLS_FROM_TARGET;
		if (!strcmp(src, c->peer_media) && (!c->peer_port || sport == c->peer_port))
			return CALLS_TO_TARGET;
		if (!strcmp(src, c->target_media))
			return CALLS_FROM_TARGET;
		if (!strcmp(src, c->peer_media))
			return CALLS_TO_TARGET;
	}
	if (dir == ETSI_DIR_FROM_TARGET)
		return CALLS_FROM_TARGET;
	if (dir == ETSI_DIR_TO_TARGET)
		return CALLS_TO_TARGET;
	return CALLS_SIDE_UNKNOWN;
}

/* The call that holds CC of cin at time t: of the VoIP calls with cin
 * (in the order they were made), the one whose span holds t, else the
 * last one started before t, else the first; -1 if none. */
static long calls_for_cin(const struct calls_work *w, uint32_t cin, int64_t t)
{
	size_t nk;
	const size_t *ks = calls_lookup_cin_calls(&w->look, cin, &nk);
	long best = -1;

	for (size_t j = 0; j < nk; j++) {
		size_t i = ks[j];
		const struct calls_entry *c = &w->v[i];
		if (c->type != CALLS_VOIP)
			continue;
		if (c->start_us <= t && (!c->end_us || t <= c->end_us))
			return (long)i;
		if (best < 0 || c->start_us <= t)
			best = (long)i;
	}
	return best;
}

/* Pass 1: VoIP calls from the SIP IRIs. */
static int calls_sip(sqlite3 *db, const char *warrant, struct calls_work *w)
{
	static const char q[] =
		"SELECT cin, sip_call_id, sip_method, sip_status, sip_from, sip_to, sip_src, "
		"sip_dst, sdp_addr, sdp_port, iri_type, time_us, liid FROM records "
		"WHERE warrant = ?1 AND kind = 'iri' AND content = 'ipmmiri' "
		"ORDER BY time_us, cin, seq";
	sqlite3_stmt *st = NULL;
	int rc, r = LACRE_E_DB;

	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t cin = (uint32_t)sqlite3_column_int64(st, 0);
		const char *cid = calls_col(st, 1), *method = calls_col(st, 2);
		int status = sqlite3_column_int(st, 3), iri_type = sqlite3_column_int(st, 10);
		int64_t t = sqlite3_column_int64(st, 11);
		int request = sqlite3_column_type(st, 3) == SQLITE_NULL;
		long i = -1;
		struct calls_entry *c;

		/* by Call-ID; an IRI without one (no SIP, or unparsable) joins
		 * the latest call on its CIN (the last made with it) */
		if (cid[0]) {
			i = calls_lookup_id_find(&w->look, cid);
		} else {
			size_t nk;
			const size_t *ks = calls_lookup_cin_calls(&w->look, cin, &nk);
			if (nk)
				i = (long)ks[nk - 1];
		}
		if (i < 0) {
			if ((i = calls_start(w, CALLS_VOIP, cin, t, warrant, calls_col(st, 12))) < 0) {
				r = LACRE_E_NOMEM;
				goto out;
			}
			/* kept as stored (cut to its buffer): a longer Call-ID
			 * never matches it again, as with the scan before */
			calls_copy(w->v[i].call_id, sizeof(w->v[i].call_id), cid);
			if (w->v[i].call_id[0] &&
			    (r = calls_lookup_id_add(&w->look, w->v[i].call_id, (size_t)i)) != LACRE_OK)
				goto out;
		}
		if ((r = calls_add_cin(w, (size_t)i, cin)) != LACRE_OK)
			goto out;
		c = &w->v[i];
		c->iri_records++;
		calls_add_addr(w, (size_t)i, calls_col(st, 6));
		calls_add_addr(w, (size_t)i, calls_col(st, 7));
		if (request && !strcmp(method, "INVITE") && !c->from[0]) {
			calls_copy(c->from, sizeof(c->from), calls_col(st, 4));
			calls_copy(c->to, sizeof(c->to), calls_col(st, 5));
			if (t < c->start_us)
				c->start_us = t;
		}
		if (request && !strcmp(method, "INVITE") && !w->offer[i][0] && calls_col(st, 8)[0]) {
			calls_copy(w->offer[i], 64, calls_col(st, 8));
			w->offer_port[i] = (unsigned)sqlite3_column_int(st, 9);
		}
		if (!request && !strcmp(method, "INVITE") && calls_col(st, 8)[0] && !w->answer[i][0]) {
			calls_copy(w->answer[i], 64, calls_col(st, 8));
			w->answer_port[i] = (unsigned)sqlite3_column_int(st, 9);
		}
		if (!request && !strcmp(method, "INVITE") && status >= 200 && status < 300 && !c->answer_us)
			c->answer_us = t;
		if (request && !strcmp(method, "BYE")) {
			c->has_bye = 1;
			if (!c->end_us)
				c->end_us = t;
		}
		if (iri_type == ETSI_IRI_END) {
			c->has_iri_end = 1;
			c->end_us = t;
		}
	}
	r = rc == SQLITE_DONE ? LACRE_OK : LACRE_E_DB;
out:
	sqlite3_finalize(st);
	return r;
}

/* Decide the target's side of each call from the SDP and SIP addresses. */
static void calls_target(struct calls_work *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct calls_entry *c = &w->v[i];
		int offer_in, answer_in;

		if (c->type != CALLS_VOIP || !w->offer[i][0] || !w->answer[i][0])
			continue;
		offer_in = calls_is_sip_addr(w, i, w->offer[i]);
		answer_in = calls_is_sip_addr(w, i, w->answer[i]);
		if (offer_in == answer_in)
			continue;
		c->target_caller = offer_in;
		calls_copy(c->target_media, sizeof(c->target_media), offer_in ? w->offer[i] : w->answer[i]);
		c->target_port = offer_in ? w->offer_port[i] : w->answer_port[i];
		calls_copy(c->peer_media, sizeof(c->peer_media), offer_in ? w->answer[i] : w->offer[i]);
		c->peer_port = offer_in ? w->answer_port[i] : w->offer_port[i];
	}
}

/* Pass 2: the RTP of the calls (CC without a SIP call becomes a call of
 * its own, with unknown parties). */
static int calls_rtp(sqlite3 *db, const char *warrant, struct calls_work *w)
{
	static const char q[] =
		"SELECT cin, time_us, direction, ip_src, sport, rtp_ssrc, rtp_pt, rtp_seq, cc_len, liid "
		"FROM records WHERE warrant = ?1 AND kind = 'cc' AND content = 'ipmmcc' "
		"ORDER BY cin, time_us, seq";
	sqlite3_stmt *st = NULL;
	int rc, r = LACRE_E_DB;

	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t cin = (uint32_t)sqlite3_column_int64(st, 0);
		int64_t t = sqlite3_column_int64(st, 1);
		int dir = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 2);
		long i = calls_for_cin(w, cin, t);
		struct calls_entry *c;
		int side, lside;

		if (i < 0) {
			if ((i = calls_start(w, CALLS_VOIP, cin, t, warrant, calls_col(st, 9))) < 0) {
				r = LACRE_E_NOMEM;
				goto out;
			}
			if ((r = calls_add_cin(w, (size_t)i, cin)) != LACRE_OK)
				goto out;
		}
		c = &w->v[i];
		c->cc_records++;
		side = calls_side(c, calls_col(st, 3), (unsigned)sqlite3_column_int(st, 4), dir);
		lside = calls_side(&(struct calls_entry){ 0 }, NULL, 0, dir);
		if (lside != CALLS_SIDE_UNKNOWN && side != CALLS_SIDE_UNKNOWN) {
			w->labelled[i]++;
			w->swapped[i] += lside != side;
		}
		c->packets[side]++;
		c->bytes[side] += (uint64_t)sqlite3_column_int64(st, 8);
		if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
			uint32_t ssrc = (uint32_t)sqlite3_column_int64(st, 5);
			uint16_t seq = (uint16_t)sqlite3_column_int(st, 7);
			int pt = sqlite3_column_int(st, 6);
			struct calls_stream *s = NULL;

			if (pt == 0 || pt == 8)
				w->pt_count[i][pt == 8]++;
			for (size_t k = 0; k < w->n_streams[i]; k++)
				if (w->streams[i][k].ssrc == ssrc && w->streams[i][k].side == side)
					s = &w->streams[i][k];
			if (!s && w->n_streams[i] < CALLS_MAX_STREAMS) {
				s = &w->streams[i][w->n_streams[i]++];
				s->ssrc = ssrc;
				s->side = side;
				s->ext = s->min = s->max = seq;
				s->count = 0;
			} else if (s) {
				s->ext += (int16_t)(uint16_t)(seq - (uint16_t)s->ext);
				if (s->ext < s->min)
					s->min = s->ext;
				if (s->ext > s->max)
					s->max = s->ext;
			}
			if (s)
				s->count++;
		}
	}
	r = rc == SQLITE_DONE ? LACRE_OK : LACRE_E_DB;
out:
	sqlite3_finalize(st);
	return r;
}

/* Broadband sessions: IPIRI and IPCC by CIN. */
static int calls_sessions(sqlite3 *db, const char *warrant, struct calls_work *w)
{
	static const char qi[] =
		"SELECT cin, iri_type, target_ip, octets_rx, octets_tx, time_us, liid FROM records "
		"WHERE warrant = ?1 AND kind = 'iri' AND content = 'ipiri' ORDER BY time_us, seq";
	static const char qc[] =
		"SELECT cin, direction, count(*), total(cc_len), min(time_us), max(time_us), "
		"min(liid) FROM records WHERE warrant = ?1 AND kind = 'cc' AND content = 'ipcc' "
		"GROUP BY cin, direction";
	sqlite3_stmt *st = NULL;
	int rc, r = LACRE_E_DB, pass;

	for (pass = 0; pass < 2; pass++) {
		if (sqlite3_prepare_v2(db, pass ? qc : qi, -1, &st, NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			uint32_t cin = (uint32_t)sqlite3_column_int64(st, 0);
			int64_t t = sqlite3_column_int64(st, pass ? 4 : 5);
			struct calls_entry *c = NULL;
			size_t nk;
			const size_t *ks = calls_lookup_cin_calls(&w->look, cin, &nk);
			long i = -1;

			/* the first session of cin (each holds its own CIN) */
			for (size_t j = 0; j < nk && i < 0; j++)
				if (w->v[ks[j]].type == CALLS_SESSION && w->v[ks[j]].cin == cin)
					i = (long)ks[j];
			if (i < 0) {
				if ((i = calls_start(w, CALLS_SESSION, cin, t, warrant, calls_col(st, 6))) < 0) {
					r = LACRE_E_NOMEM;
					goto out;
				}
				if ((r = calls_add_cin(w, (size_t)i, cin)) != LACRE_OK)
					goto out;
			}
			c = &w->v[i];
			if (!pass) {
				int it = sqlite3_column_int(st, 1);
				c->iri_records++;
				if (it == ETSI_IRI_BEGIN || t < c->start_us)
					c->start_us = it == ETSI_IRI_BEGIN && c->iri_records > 1 &&
						      c->start_us < t ? c->start_us : t;
				if (calls_col(st, 2)[0])
					calls_copy(c->target_ip, sizeof(c->target_ip), calls_col(st, 2));
				if (sqlite3_column_type(st, 3) != SQLITE_NULL)
					c->octets_rx = (uint64_t)sqlite3_column_int64(st, 3);
				if (sqlite3_column_type(st, 4) != SQLITE_NULL)
					c->octets_tx = (uint64_t)sqlite3_column_int64(st, 4);
				if (it == ETSI_IRI_END) {
					c->has_iri_end = 1;
					c->end_us = t;
				}
			} else {
				int dir = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1
					  : sqlite3_column_int(st, 1);
				int side = calls_side(c, NULL, 0, dir);
				uint64_t n = (uint64_t)sqlite3_column_int64(st, 2);
				c->cc_records += n;
				c->packets[side] += n;
				c->bytes[side] += (uint64_t)sqlite3_column_double(st, 3);
				if (t < c->start_us)
					c->start_us = t;
			}
		}
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_DONE)
			goto out;
	}
	r = LACRE_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/* Mobile event names (as lib/wire/etsi_json.c writes them in `lacre
 * decode`): EPS and UMTS share the ePSEvent / gPRSEvent numbering. */
const char *calls_mobile_event_name(int family, int event)
{
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

	if (family == 3)
		return event > 0 && (size_t)event < sizeof(x_ev) / sizeof(x_ev[0]) ? x_ev[event] : NULL;
	if (family == 1 || family == 2)
		return event > 0 && (size_t)event < sizeof(eps_ev) / sizeof(eps_ev[0]) ? eps_ev[event] : NULL;
	return NULL;
}

/* Whether event starts (1), ends (2) or does neither (0) a bearer / PDP
 * context / PDU session of family. */
static int calls_mobile_edge(int family, int event)
{
	if (family == 1 || family == 2) {
		if (event == 1 || event == 2 || event == 18 || event == 19)
			return 1;   /* activation, start of interception with it active */
		if (event == 4 || event == 21 || event == 6 || event == 17)
			return 2;   /* deactivation, GPRS / E-UTRAN detach */
	} else if (family == 3) {
		if (event == 6 || event == 9)
			return 1;   /* establishment, start of interception with it established */
		if (event == 8 || event == 2)
			return 2;   /* release, deregistration */
	}
	return 0;
}

/* The mobile session of (liid, cin), started at t when new; -1 out of memory. */
static long calls_mobile_for(struct calls_work *w, const char *warrant, const char *liid,
			     uint32_t cin, int64_t t)
{
	size_t nk;
	const size_t *ks = calls_lookup_cin_calls(&w->look, cin, &nk);
	long i;

	/* the first mobile session of (liid, cin) (each holds its own CIN) */
	for (size_t j = 0; j < nk; j++)
		if (w->v[ks[j]].type == CALLS_MOBILE && w->v[ks[j]].cin == cin &&
		    !strcmp(w->v[ks[j]].liid, liid))
			return (long)ks[j];
	if ((i = calls_start(w, CALLS_MOBILE, cin, t, warrant, liid)) < 0 ||
	    calls_add_cin(w, (size_t)i, cin) != LACRE_OK)
		return -1;
	w->v[i].start_event = w->v[i].end_event = -1;
	return i;
}

/* Keep the first value of an identity; a later different one is a problem. */
static void calls_mobile_ident(struct calls_entry *c, char *dst, size_t n, const char *name,
			       const char *v)
{
	if (!v[0])
		return;
	if (!dst[0])
		calls_copy(dst, n, v);
	else if (strcmp(dst, v))
		calls_problem(c, "%s changed from %.40s to %.40s", name, dst, v);
}

/* Mobile sessions: the IRIs with mobile columns, then their CC, by LIID and CIN. */
static int calls_mobile(sqlite3 *db, const char *warrant, struct calls_work *w)
{
	static const char qi[] =
		"SELECT liid, cin, iri_type, mob_family, mob_event, imsi, msisdn, imei, pdn_addr, apn, "
		"location, rat, time_us FROM records WHERE warrant = ?1 AND kind = 'iri' "
		"AND mob_family IS NOT NULL AND cin IS NOT NULL ORDER BY time_us, seq";
	static const char qc[] =
		"SELECT liid, cin, direction, count(*), total(cc_len), min(time_us) FROM records "
		"WHERE warrant = ?1 AND kind = 'cc' AND cin IS NOT NULL AND content IN ('epscc', "
		"'epscc-cc-pdu', 'umtscc', 'umtscc-cc-pdu', 'threegpp33128definedcc') "
		"GROUP BY liid, cin, direction";
	sqlite3_stmt *st = NULL;
	int rc, r = LACRE_E_DB, pass;

	for (pass = 0; pass < 2; pass++) {
		if (sqlite3_prepare_v2(db, pass ? qc : qi, -1, &st, NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			uint32_t cin = (uint32_t)sqlite3_column_int64(st, 1);
			int64_t t = sqlite3_column_int64(st, pass ? 5 : 12);
			long i = calls_mobile_for(w, warrant, calls_col(st, 0), cin, t);
			struct calls_entry *c;

			if (i < 0) {
				r = LACRE_E_NOMEM;
				goto out;
			}
			c = &w->v[i];
			if (pass) {
				int dir = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1
					  : sqlite3_column_int(st, 2);
				int side = calls_side(c, NULL, 0, dir);
				uint64_t n = (uint64_t)sqlite3_column_int64(st, 3);
				c->cc_records += n;
				c->packets[side] += n;
				c->bytes[side] += (uint64_t)sqlite3_column_double(st, 4);
				if (t < c->start_us && c->start_event < 0)
					c->start_us = t;
				continue;
			}
			int it = sqlite3_column_int(st, 2), fam = sqlite3_column_int(st, 3);
			int ev = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 4);
			int edge = calls_mobile_edge(fam, ev);

			c->iri_records++;
			if (!c->family)
				c->family = fam;
			calls_mobile_ident(c, c->imsi, sizeof(c->imsi), "IMSI", calls_col(st, 5));
			calls_mobile_ident(c, c->msisdn, sizeof(c->msisdn), "MSISDN", calls_col(st, 6));
			calls_mobile_ident(c, c->imei, sizeof(c->imei), "IMEI", calls_col(st, 7));
			if (calls_col(st, 8)[0])
				calls_copy(c->target_ip, sizeof(c->target_ip), calls_col(st, 8));
			if (calls_col(st, 9)[0])
				calls_copy(c->apn, sizeof(c->apn), calls_col(st, 9));
			/* the first activation starts it (IRI-Begin when none) */
			if (edge == 1 && c->start_event < 0) {
				c->start_event = ev;
				c->start_us = t;
			} else if (c->start_event < 0 && (it == ETSI_IRI_BEGIN || t < c->start_us)) {
				c->start_us = t;
			}
			if (edge == 2 || it == ETSI_IRI_END) {
				if (edge == 2 || c->end_event < 0) {
					c->end_event = edge == 2 ? ev : c->end_event;
					c->end_us = t;
				}
				c->has_iri_end = 1;
			}
			if (w->n_mev[i] == w->cap_mev[i]) {
				size_t nc = w->cap_mev[i] ? w->cap_mev[i] * 2 : 8;
				void *np = realloc(w->mev[i], nc * sizeof(*w->mev[i]));
				if (!np) {
					r = LACRE_E_NOMEM;
					goto out;
				}
				w->mev[i] = np;
				w->cap_mev[i] = nc;
			}
			{
				struct calls_mobile_event *e = &w->mev[i][w->n_mev[i]++];
				e->time_us = t;
				e->iri_type = it;
				e->event = ev;
				e->rat = sqlite3_column_type(st, 11) == SQLITE_NULL ? -1
					 : sqlite3_column_int(st, 11);
				calls_copy(e->location, sizeof(e->location), calls_col(st, 10));
			}
		}
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_DONE)
			goto out;
	}
	r = LACRE_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/* ETSI sequence gaps per CIN and kind, added to the calls of those CINs. */
static int calls_seq_gaps(sqlite3 *db, const char *warrant, struct calls_work *w)
{
	static const char q[] =
		"SELECT cin, kind, content, min(seq), max(seq), count(DISTINCT seq) FROM records "
		"WHERE warrant = ?1 AND cin IS NOT NULL AND kind IN ('iri', 'cc') GROUP BY cin, kind, content";
	sqlite3_stmt *st = NULL;
	int rc, r = LACRE_E_DB;

	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t cin = (uint32_t)sqlite3_column_int64(st, 0);
		int cc = !strcmp(calls_col(st, 1), "cc");
		const char *ct = calls_col(st, 2);
		int type = !strcmp(ct, "ipiri") || !strcmp(ct, "ipcc") ? CALLS_SESSION
			   : !strcmp(ct, "epsiri") || !strcmp(ct, "umtsiri") ||
			     !strcmp(ct, "threegpp33128definediri") || !strcmp(ct, "epscc") ||
			     !strcmp(ct, "epscc-cc-pdu") || !strcmp(ct, "umtscc") ||
			     !strcmp(ct, "umtscc-cc-pdu") || !strcmp(ct, "threegpp33128definedcc")
			   ? CALLS_MOBILE : CALLS_VOIP;
		int64_t lo = sqlite3_column_int64(st, 3), hi = sqlite3_column_int64(st, 4);
		int64_t nd = sqlite3_column_int64(st, 5);
		uint64_t gaps = hi - lo + 1 > nd ? (uint64_t)(hi - lo + 1 - nd) : 0;
		size_t nk;
		const size_t *ks = calls_lookup_cin_calls(&w->look, cin, &nk);

		/* the first call of the type with cin */
		for (size_t j = 0; j < nk; j++) {
			struct calls_entry *c = &w->v[ks[j]];
			if (c->type != type)
				continue;
			if (cc)
				c->cc_gaps += gaps;
			else
				c->iri_gaps += gaps;
			break;
		}
	}
	r = rc == SQLITE_DONE ? LACRE_OK : LACRE_E_DB;
out:
	sqlite3_finalize(st);
	return r;
}

/* Finish each call: codec, RTP gaps, label check, completeness. */
static void calls_finish(struct calls_work *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct calls_entry *c = &w->v[i];

		for (size_t k = 0; k < w->n_streams[i]; k++) {
			struct calls_stream *s = &w->streams[i][k];
			uint64_t span = (uint64_t)(s->max - s->min + 1);
			if (span > s->count)
				c->rtp_gaps += span - s->count;
		}
		if (w->pt_count[i][0] || w->pt_count[i][1])
			c->codec_pt = w->pt_count[i][1] > w->pt_count[i][0] ? 8 : 0;
		c->labels_swapped = w->labelled[i] && w->swapped[i] * 2 > w->labelled[i];
		if (c->iri_gaps)
			calls_problem(c, "IRI sequence gaps: %" PRIu64 " missing", c->iri_gaps);
		if (c->cc_gaps)
			calls_problem(c, "CC sequence gaps: %" PRIu64 " missing", c->cc_gaps);
		if (c->rtp_gaps)
			calls_problem(c, "RTP sequence gaps: %" PRIu64 " packets missing", c->rtp_gaps);
		if (c->type == CALLS_VOIP) {
			if (!c->iri_records)
				calls_problem(c, "RTP without SIP IRI (%" PRIu64 " packets)", c->cc_records);
			else if (!c->from[0])
				calls_problem(c, "no INVITE");
			if (c->iri_records && !c->has_bye)
				calls_problem(c, "no BYE");
			if (c->iri_records && !c->has_iri_end)
				calls_problem(c, "no IRI-End");
			if (c->answer_us && !c->cc_records)
				calls_problem(c, "answered but no RTP");
		} else if (c->type == CALLS_MOBILE) {
			if (!c->iri_records)
				calls_problem(c, "packets without mobile IRI");
			else if (!c->end_us)
				calls_problem(c, "no deactivation (session open or end lost)");
		} else {
			if (!c->has_iri_end)
				calls_problem(c, "no IRI-End (session open or end lost)");
			if (!c->iri_records)
				calls_problem(c, "IP packets without IRI");
		}
		c->complete = c->problems[0] == '\0';
	}
}

/* Order by start time, then id. */
static int calls_cmp(const void *a, const void *b)
{
	const struct calls_entry *x = a, *y = b;

	if (x->start_us != y->start_us)
		return x->start_us < y->start_us ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Name of an RTP payload type. */
static const char *calls_codec(int pt)
{
	return pt == 0 ? "PCMU" : pt == 8 ? "PCMA" : NULL;
}

/* The calls table's and JSON's name of a type. */
static const char *calls_type_name(int type)
{
	return type == CALLS_VOIP ? "voip" : type == CALLS_MOBILE ? "mobile" : "session";
}

/* Replace warrant's rows of the calls table. */
static int calls_store(sqlite3 *db, const char *warrant, const struct calls_entry *v, size_t n)
{
	static const char qd[] = "DELETE FROM calls WHERE warrant = ?1";
	static const char qi[] =
		"INSERT OR REPLACE INTO calls VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
		"?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)";
	sqlite3_stmt *st = NULL;
	char cins[CALLS_MAX_CINS * 12], t[32];
	struct lacre_dbuf locs;
	int r = LACRE_E_DB;

	lacre_dbuf_init(&locs, (size_t)1 << 20);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return LACRE_E_DB;
	if (sqlite3_prepare_v2(db, qd, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, qi, -1, &st, NULL) != SQLITE_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct calls_entry *c = &v[i];
		size_t o = 0;

		cins[0] = '\0';
		for (size_t k = 0; k < c->n_cins; k++)
			o += (size_t)snprintf(cins + o, sizeof(cins) - o, "%s%" PRIu32, k ? "," : "", c->cins[k]);
		sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, c->id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, calls_type_name(c->type), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, c->cin);
		sqlite3_bind_text(st, 5, cins, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 6, c->call_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 7, c->from, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 8, c->to, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 9, c->type == CALLS_VOIP ? c->target_media : c->target_ip, -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 10, c->start_us);
		if (c->end_us)
			sqlite3_bind_int64(st, 11, c->end_us);
		else
			sqlite3_bind_null(st, 11);
		sqlite3_bind_text(st, 12, c->target_caller < 0 ? "unknown" : c->target_caller ?
				  "outgoing" : "incoming", -1, SQLITE_STATIC);
		if (calls_codec(c->codec_pt))
			sqlite3_bind_text(st, 13, calls_codec(c->codec_pt), -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 13);
		sqlite3_bind_int64(st, 14, (sqlite3_int64)c->packets[CALLS_FROM_TARGET]);
		sqlite3_bind_int64(st, 15, (sqlite3_int64)c->packets[CALLS_TO_TARGET]);
		sqlite3_bind_int64(st, 16, (sqlite3_int64)(c->bytes[0] + c->bytes[1] + c->bytes[2]));
		sqlite3_bind_int64(st, 17, (sqlite3_int64)c->iri_gaps);
		sqlite3_bind_int64(st, 18, (sqlite3_int64)c->cc_gaps);
		sqlite3_bind_int64(st, 19, (sqlite3_int64)c->rtp_gaps);
		sqlite3_bind_int(st, 20, c->complete);
		sqlite3_bind_text(st, 21, c->problems, -1, SQLITE_TRANSIENT);
		if (c->type == CALLS_MOBILE) {
			/* the location changes, "TIME LOCATION" joined by "; " */
			const char *last = "";
			lacre_dbuf_reset(&locs);
			for (size_t k = 0; k < c->n_events; k++) {
				const struct calls_mobile_event *e = &c->events[k];
				if (!e->location[0] || !strcmp(e->location, last))
					continue;
				access_time_format(e->time_us, t);
				if (lacre_dbuf_printf(&locs, "%s%s %s", locs.len ? "; " : "", t, e->location) !=
				    LACRE_OK)
					goto out;
				last = e->location;
			}
			sqlite3_bind_text(st, 22, c->imsi, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 23, c->msisdn, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 24, c->imei, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 25, c->apn, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 26, locs.len ? (const char *)locs.p : "", (int)locs.len,
					  SQLITE_TRANSIENT);
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	r = LACRE_OK;
out:
	lacre_dbuf_free(&locs);
	sqlite3_finalize(st);
	sqlite3_exec(db, r == LACRE_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* Move the mobile sessions' events into w->v's own allocation, after the
 * entries, so that the caller's free(v) frees them too. */
static int calls_pack_events(struct calls_work *w)
{
	size_t total = 0, off = 0;
	struct calls_mobile_event *tail;
	void *np;

	for (size_t i = 0; i < w->n; i++)
		total += w->n_mev[i];
	if (!total)
		return LACRE_OK;
	if (total > (SIZE_MAX - w->n * sizeof(*w->v)) / sizeof(*tail))
		return LACRE_E_NOMEM;
	if ((np = realloc(w->v, w->n * sizeof(*w->v) + total * sizeof(*tail))) == NULL)
		return LACRE_E_NOMEM;
	w->v = np;
	w->cap = w->n;
	tail = (struct calls_mobile_event *)(void *)(w->v + w->n);
	for (size_t i = 0; i < w->n; i++) {
		if (!w->n_mev[i])
			continue;
		memcpy(tail + off, w->mev[i], w->n_mev[i] * sizeof(*tail));
		w->v[i].events = tail + off;
		w->v[i].n_events = w->n_mev[i];
		off += w->n_mev[i];
	}
	return LACRE_OK;
}

int calls_list(struct index *ix, const char *warrant, struct calls_entry **out, size_t *n)
{
	struct calls_work w;
	sqlite3 *db = index_db(ix);
	int r;

	memset(&w, 0, sizeof(w));
	calls_lookup_init(&w.look);
	if ((r = calls_sip(db, warrant, &w)) != LACRE_OK)
		goto out;
	calls_target(&w);
	if ((r = calls_rtp(db, warrant, &w)) != LACRE_OK ||
	    (r = calls_sessions(db, warrant, &w)) != LACRE_OK ||
	    (r = calls_mobile(db, warrant, &w)) != LACRE_OK ||
	    (r = calls_seq_gaps(db, warrant, &w)) != LACRE_OK)
		goto out;
	calls_finish(&w);
	if ((r = calls_pack_events(&w)) != LACRE_OK)
		goto out;
	if (w.n)
		qsort(w.v, w.n, sizeof(*w.v), calls_cmp);
	if ((r = calls_store(db, warrant, w.v, w.n)) != LACRE_OK)
		goto out;
	*out = w.v;
	*n = w.n;
	calls_work_free(&w, 1);
	return LACRE_OK;
out:
	calls_work_free(&w, 0);
	return r;
}

int calls_parse_id(const char *id, char warrant[WARRANT_ID_MAX], uint32_t *cin)
{
	const char *dash = strrchr(id, '-');
	unsigned long long v = 0;
	const char *p;

	if (!dash || dash == id || !dash[1] || (size_t)(dash - id) >= WARRANT_ID_MAX)
		return LACRE_E_INVALID;
	for (p = dash + 1; *p; p++) {
		if (*p < '0' || *p > '9' || v > UINT32_MAX / 10)
			return LACRE_E_INVALID;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > UINT32_MAX)
		return LACRE_E_INVALID;
	memcpy(warrant, id, (size_t)(dash - id));
	warrant[dash - id] = '\0';
	*cin = (uint32_t)v;
	return LACRE_OK;
}

/* "addr:port" or addr alone. */
static void calls_kv_media(struct json_w *w, const char *key, const char *addr, unsigned port)
{
	char t[96];

	if (!addr[0])
		return;
	if (port)
		snprintf(t, sizeof(t), strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
	else
		snprintf(t, sizeof(t), "%s", addr);
	json_kv_str(w, key, t);
}

/* A time key, or null. */
static void calls_kv_time(struct json_w *w, const char *key, int64_t us)
{
	char t[32];

	json_key(w, key);
	if (!us) {
		json_null(w);
		return;
	}
	access_time_format(us, t);
	json_str(w, t);
}

/* "location": the index text "tai=… ecgi=…" as an object of its
 * name=value words (a word without '=' becomes name: true). */
static void calls_kv_location(struct json_w *w, const char *key, const char *loc)
{
	char buf[CALLS_LOCATION_MAX], *p, *q, *eq;

	json_key(w, key);
	if (!loc[0]) {
		json_null(w);
		return;
	}
	calls_copy(buf, sizeof(buf), loc);
	json_obj_begin(w);
	for (p = buf; *p; p = q) {
		q = strchr(p, ' ');
		if (q)
			*q++ = '\0';
		else
			q = p + strlen(p);
		if (!*p)
			continue;
		if ((eq = strchr(p, '=')) != NULL) {
			*eq = '\0';
			json_kv_str(w, p, eq + 1);
		} else {
			json_kv_bool(w, p, 1);
		}
	}
	json_obj_end(w);
}

/* The keys of a mobile session (docs/cmd-calls.md). */
static void calls_json_mobile(struct json_w *w, const struct calls_entry *c)
{
	static const char *const fam[] = { NULL, "eps", "umts", "3gpp-33128" };
	static const char *const rat[] = { NULL, "utran", "geran", "wlan", "gan",
		"hspa-evolution", "eutran", "virtual", "eutran-nb-iot", "lte-m", "nr" };
	const char *last = "";

	json_kv_str(w, "family", c->family > 0 && c->family < 4 ? fam[c->family] : NULL);
	json_kv_str(w, "state", c->end_us ? "closed" : "open");
	json_kv_str(w, "start_event", calls_mobile_event_name(c->family, c->start_event));
	json_kv_str(w, "end_event", calls_mobile_event_name(c->family, c->end_event));
	json_kv_str(w, "imsi", c->imsi[0] ? c->imsi : NULL);
	json_kv_str(w, "msisdn", c->msisdn[0] ? c->msisdn : NULL);
	json_kv_str(w, "imei", c->imei[0] ? c->imei : NULL);
	json_kv_str(w, "pdn_address", c->target_ip[0] ? c->target_ip : NULL);
	json_kv_str(w, "apn", c->apn[0] ? c->apn : NULL);
	json_key(w, "locations");
	json_arr_begin(w);
	for (size_t k = 0; k < c->n_events; k++) {
		const struct calls_mobile_event *e = &c->events[k];
		if (!e->location[0] || !strcmp(e->location, last))
			continue;
		last = e->location;
		json_obj_begin(w);
		calls_kv_time(w, "time", e->time_us);
		json_kv_str(w, "event", calls_mobile_event_name(c->family, e->event));
		calls_kv_location(w, "location", e->location);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_key(w, "events");
	json_arr_begin(w);
	for (size_t k = 0; k < c->n_events; k++) {
		const struct calls_mobile_event *e = &c->events[k];
		json_obj_begin(w);
		calls_kv_time(w, "time", e->time_us);
		json_kv_str(w, "iri_type", etsi_iri_type_name(e->iri_type));
		json_kv_str(w, "event", calls_mobile_event_name(c->family, e->event));
		if (e->event >= 0 && !calls_mobile_event_name(c->family, e->event)) {
			json_key(w, "event_number");
			json_uint(w, (uint64_t)e->event);
		}
		json_kv_str(w, "rat", e->rat > 0 && (size_t)e->rat < sizeof(rat) / sizeof(rat[0])
			    ? rat[e->rat] : NULL);
		calls_kv_location(w, "location", e->location);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_key(w, "packets_from_target");
	json_uint(w, c->packets[CALLS_FROM_TARGET]);
	json_key(w, "packets_to_target");
	json_uint(w, c->packets[CALLS_TO_TARGET]);
	json_key(w, "packets");
	json_uint(w, c->cc_records);
	json_key(w, "bytes");
	json_uint(w, c->bytes[0] + c->bytes[1] + c->bytes[2]);
}

void calls_json(struct json_w *w, const struct calls_entry *c)
{
	char *p, *q, buf[CALLS_PROBLEMS_MAX];

	json_obj_begin(w);
	json_kv_str(w, "id", c->id);
	json_kv_str(w, "type", calls_type_name(c->type));
	json_kv_str(w, "warrant", c->warrant);
	json_kv_str(w, "liid", c->liid);
	json_key(w, "cin");
	json_uint(w, c->cin);
	json_key(w, "cins");
	json_arr_begin(w);
	for (size_t k = 0; k < c->n_cins; k++)
		json_uint(w, c->cins[k]);
	json_arr_end(w);
	calls_kv_time(w, "start", c->start_us);
	calls_kv_time(w, "end", c->end_us);
	json_key(w, "duration_ms");
	if (c->end_us && c->end_us >= c->start_us)
		json_uint(w, (uint64_t)(c->end_us - c->start_us) / 1000);
	else
		json_null(w);
	if (c->type == CALLS_VOIP) {
		json_kv_str(w, "call_id", c->call_id[0] ? c->call_id : NULL);
		json_kv_str(w, "from", c->from[0] ? c->from : NULL);
		json_kv_str(w, "to", c->to[0] ? c->to : NULL);
		json_kv_str(w, "direction", c->target_caller < 0 ? "unknown" :
			    c->target_caller ? "target-calling" : "target-called");
		calls_kv_time(w, "answer", c->answer_us);
		calls_kv_media(w, "target_media", c->target_media, c->target_port);
		calls_kv_media(w, "peer_media", c->peer_media, c->peer_port);
		json_kv_str(w, "codec", calls_codec(c->codec_pt));
		json_key(w, "rtp_from_target");
		json_uint(w, c->packets[CALLS_FROM_TARGET]);
		json_key(w, "rtp_to_target");
		json_uint(w, c->packets[CALLS_TO_TARGET]);
		json_key(w, "rtp_unknown_side");
		json_uint(w, c->packets[CALLS_SIDE_UNKNOWN]);
		json_key(w, "rtp_gaps");
		json_uint(w, c->rtp_gaps);
		json_kv_bool(w, "bye", c->has_bye);
		json_kv_bool(w, "direction_labels_swapped", c->labels_swapped);
	} else if (c->type == CALLS_MOBILE) {
		calls_json_mobile(w, c);
	} else {
		json_kv_str(w, "target_ip", c->target_ip[0] ? c->target_ip : NULL);
		json_key(w, "packets_from_target");
		json_uint(w, c->packets[CALLS_FROM_TARGET]);
		json_key(w, "packets_to_target");
		json_uint(w, c->packets[CALLS_TO_TARGET]);
		json_key(w, "packets");
		json_uint(w, c->cc_records);
		json_key(w, "bytes");
		json_uint(w, c->bytes[0] + c->bytes[1] + c->bytes[2]);
		json_key(w, "octets_rx");
		json_uint(w, c->octets_rx);
		json_key(w, "octets_tx");
		json_uint(w, c->octets_tx);
	}
	json_key(w, "iri_records");
	json_uint(w, c->iri_records);
	json_key(w, "cc_records");
	json_uint(w, c->cc_records);
	json_key(w, "iri_gaps");
	json_uint(w, c->iri_gaps);
	json_key(w, "cc_gaps");
	json_uint(w, c->cc_gaps);
	json_kv_bool(w, "iri_end", c->has_iri_end);
	json_kv_bool(w, "complete", c->complete);
	json_key(w, "problems");
	json_arr_begin(w);
	calls_copy(buf, sizeof(buf), c->problems);
	for (p = buf; *p; p = q) {
		q = strstr(p, "; ");
		if (q) {
			*q = '\0';
			q += 2;
		} else {
			q = p + strlen(p);
		}
		json_str(w, p);
	}
	json_arr_end(w);
	json_obj_end(w);
}

int calls_find(struct index *ix, const char *warrant, const char *id, struct calls_entry *out)
{
	static const char q[] =
		"SELECT count(*), min(time_us), max(time_us), min(liid) FROM records "
		"WHERE warrant = ?1 AND cin = ?2";
	struct calls_work w;
	char wid[WARRANT_ID_MAX];
	sqlite3_stmt *st = NULL;
	uint32_t cin;
	int r;

	if (calls_parse_id(id, wid, &cin) != LACRE_OK || strcmp(wid, warrant))
		return LACRE_E_INVALID;
	memset(&w, 0, sizeof(w));
	calls_lookup_init(&w.look);
	if ((r = calls_sip(index_db(ix), warrant, &w)) != LACRE_OK)
		goto out;
	calls_target(&w);
	for (size_t i = 0; i < w.n; i++)
		if (!strcmp(w.v[i].id, id)) {
			*out = w.v[i];
			r = LACRE_OK;
			goto out;
		}
	/* RTP without SIP: the CIN alone */
	r = LACRE_E_DB;
	if (sqlite3_prepare_v2(index_db(ix), q, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, cin);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	if (sqlite3_column_int64(st, 0) == 0) {
		r = LACRE_E_NOT_FOUND;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->type = CALLS_VOIP;
	out->target_caller = -1;
	out->codec_pt = -1;
	out->cin = cin;
	out->cins[0] = cin;
	out->n_cins = 1;
	out->start_us = sqlite3_column_int64(st, 1);
	out->end_us = sqlite3_column_int64(st, 2);
	calls_copy(out->warrant, sizeof(out->warrant), warrant);
	calls_copy(out->liid, sizeof(out->liid), calls_col(st, 3));
	calls_copy(out->id, sizeof(out->id), id);
	r = LACRE_OK;
out:
	sqlite3_finalize(st);
	calls_work_free(&w, 0);
	return r;
}
