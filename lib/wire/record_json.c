/*
 * record_json.c - one sealed record as a JSON object: the decoded fields
 * under the key names of ../shared/vectors/README.md (liid, cin, seq, kind,
 * time, iri_type, content), the receipt metadata, the route, and the
 * original PDU bytes in base64 under "pdu" (the evidence, byte for byte).
 * Version 2 records (and only they: the JSON of a version 1 record stays
 * byte for byte what it was, so that packages exported before still
 * verify) add the operator that delivered them, the receiver's
 * notes (values accepted and flagged) and, for a PDU the receiver
 * decrypted, "decrypted":true and the decoded plaintext under "decoded"
 * (the form of `lacre decode`, from the pre-encryption form sealed with
 * the PDU: record_pdu.h; no key needed).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lacre/access.h"
#include "lacre/etsi.h"
#include "lacre/err.h"
#include "lacre/etsi_json.h"
#include "lacre/json.h"
#include "lacre/record_pdu.h"
#include "lacre/record_json.h"

void access_time_format(int64_t us, char out[32])
{
	time_t s = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
	int64_t frac = us - (int64_t)s * 1000000;
	struct tm tm;

	char tmp[96];

	gmtime_r(&s, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)frac);
	memcpy(out, tmp, 31);
	out[31] = 0;
}

/* "decrypted", "notes" and, for a decrypted record, "decoded": the
 * plaintext's fields (or "decoded_error" when the pre-encryption form is
 * not consistent with the PDU: never shown as content). */
static void record_json_plain(struct json_w *w, const struct frame_record *r)
{
	struct record_pdu v;
	int rr;

	json_kv_bool(w, "decrypted", r->pre.len != 0);
	if (r->notes) {
		json_key(w, "notes");
		json_arr_begin(w);
		for (unsigned bit = 1; bit <= 0x80u; bit <<= 1) {
			const char *nm;
			if (!(r->notes & bit))
				continue;
			nm = etsi_flag_name(bit);
			if (nm)
				json_str(w, nm);
			else
				json_uint(w, bit);
		}
		json_arr_end(w);
	}
	if (!r->pre.len)
		return;
	record_pdu_init(&v);
	rr = record_pdu_decode(r, &v);
	if (rr == LACRE_OK) {
		json_key(w, "decoded");
		etsi_json_pdu(w, &v.pdu, r->pre.p, r->pre.len, 0, 0);
	} else {
		json_kv_str(w, "decoded_error", v.why ? v.why : lacre_strerror(rr));
	}
	record_pdu_free(&v);
}

void access_record_json(struct json_w *w, const struct access_record *ar)
{
	const struct frame_record *r = ar->rec;
	char t[32];
	int is_event = r->route == FRAME_ROUTE_QUARANTINE && r->reason.len == 5 &&
		       !memcmp(r->reason.p, "event", 5);

	json_obj_begin(w);
	if (is_event) {
		access_time_format(r->recv_us, t);
		json_kv_str(w, "kind", "event");
		json_kv_str(w, "recv_time", t);
		json_kv_strn(w, "event", r->pdu.p, r->pdu.len);
		json_kv_str(w, "segment", ar->segment);
		json_kv_uint(w, "index", ar->index);
		json_obj_end(w);
		return;
	}
	json_key(w, "liid");
	json_str_or_hex(w, r->liid.p, r->liid.len);
	if (r->has_cin)
		json_kv_uint(w, "cin", r->cin);
	else
		json_kv_null(w, "cin");
	json_kv_uint(w, "seq", r->seq);
	json_kv_str(w, "kind", etsi_kind_name(r->kind));
	if (r->time_kind) {
		access_time_format(r->time_us, t);
		json_kv_str(w, "time", t);
	} else {
		json_kv_null(w, "time");
	}
	json_kv_str(w, "iri_type", r->kind == ETSI_KIND_IRI && r->iri_type ?
		    etsi_iri_type_name(r->iri_type) : NULL);
	if (r->content.len)
		json_kv_strn(w, "content", r->content.p, r->content.len);
	else
		json_kv_null(w, "content");
	if (r->direction >= 0)
		json_kv_str(w, "direction", etsi_direction_name(r->direction));
	json_kv_uint(w, "length", r->pdu.len);
	if (r->version != FRAME_RECORD_VERSION_1)
		record_json_plain(w, r);
	access_time_format(r->recv_us, t);
	json_kv_str(w, "recv_time", t);
	json_kv_str(w, "listener", r->listener == 3 ? "hi3" : "hi2");
	json_kv_uint(w, "conn_id", r->conn_id);
	json_kv_strn(w, "peer", r->peer.p, r->peer.len);
	if (r->version != FRAME_RECORD_VERSION_1)
		json_kv_strn(w, "operator", r->operator_name.p, r->operator_name.len);
	if (r->route == FRAME_ROUTE_WARRANT) {
		json_kv_strn(w, "warrant", r->warrant.p, r->warrant.len);
		if (r->late_delivery)
			json_kv_bool(w, "late_delivery", 1);
	} else {
		json_kv_strn(w, "reason", r->reason.p, r->reason.len);
		if (r->warrant.len)
			json_kv_strn(w, "warrant", r->warrant.p, r->warrant.len);
	}
	json_kv_str(w, "segment", ar->segment);
	json_kv_uint(w, "index", ar->index);
	json_key(w, "pdu");
	json_base64(w, r->pdu.p, r->pdu.len);
	json_obj_end(w);
}
