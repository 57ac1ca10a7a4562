/*
 * fuzz_etsi.c - libFuzzer harness for the PS-PDU decoder and its JSON
 * rendering (lib/wire/etsi.c, etsi_payload.c, etsi_json.c, json.c).
 *
 * The input is treated as a handover stream: PDUs are framed with
 * etsi_pdu_size() exactly as the receiver does, each is decoded, every
 * pointer in struct etsi_pdu is checked to lie inside the PDU, the
 * integrity sequence list is iterated, and the PDU is rendered to JSON
 * (which must succeed and be NUL-free).  The whole input is also decoded
 * as one PDU, to reach the trailing-bytes and outer-tag paths.  An
 * EncryptionContainer is decrypted with a fixed key ring (etsi_crypt.c:
 * a wrong key, bad padding and malformed containers must fail cleanly;
 * a success must give a pre-encryption form of the same length), and
 * every PDU goes through a byteCounter tracker.  The locations of every
 * IRI are decoded (etsi_location.c: counts within their caps, kinds,
 * coordinates in range, strings terminated), and the whole input also
 * goes straight into each location decoder (ULI, UMTS, EPS, LI-PS-PDU
 * Location).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_crypt.h"
#include "lacre/etsi_json.h"
#include "lacre/etsi_location.h"
#include "lacre/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort when an invariant fails (the fuzzer reports the input). */
static void must(int cond)
{
	if (!cond)
		abort();
}

/* b must be empty or lie inside p[0..n). */
static void inside(const struct etsi_bytes *b, const uint8_t *p, size_t n)
{
	if (!b->p) {
		must(b->len == 0);
		return;
	}
	must(b->p >= p && b->len <= n && b->p - p <= (ptrdiff_t)(n - b->len));
}

/* Check every byte field of a decoded PDU. */
static void check(const struct etsi_pdu *d, const uint8_t *p, size_t n)
{
	const struct etsi_bytes *all[] = {
		&d->header_tlv, &d->domain_id, &d->liid, &d->operator_id,
		&d->network_element_id, &d->interception_point_id,
		&d->ext_interception_point_id, &d->network_function_id,
		&d->content_oid, &d->content_bytes, &d->ipmmiri.sip,
		&d->ipmmiri.original, &d->ipmmiri.src.bin, &d->ipmmiri.src.text,
		&d->ipmmiri.dst.bin, &d->ipmmiri.dst.text, &d->ipmmcc.stream_id,
		&d->ipiri.username, &d->ipiri.target_ip.bin, &d->ipiri.network_id,
		&d->ipiri.cpe_id, &d->ipiri.location_text, &d->ipiri.raw_aaa,
		&d->integrity.tlv, &d->integrity.seq_list, &d->integrity.check_value,
		&d->opmsg.message, &d->hi1.domain_id, &d->hi1.liid, &d->hi1.cin,
		&d->hi1.operator_id, &d->hi1.network_element_id, &d->hi1.target_info,
		&d->enc.payload, &d->ipiri.location, &d->ipmmiri.location,
		&d->mobile.loc_umts, &d->mobile.loc_eps,
	};
	struct lacre_rbuf it;
	uint64_t s;
	unsigned count = 0;
	int r;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		inside(all[i], p, n);
	must(!d->partial || d->err < 0);
	must(!d->partial || d->err_off <= n);
	etsi_seq_iter(&d->integrity, &it);
	while ((r = etsi_seq_next(&it, &s)) == 1)
		count++;
	must(r <= 0);
}

/* Decrypt an encrypted PDU with a fixed ring of two keys (AES-192 and a
 * 32-byte key) into plain, which the decoded fields then point into (the
 * caller keeps it until it has rendered them): any failure must be a clean
 * error; a success must give a pre-encryption form exactly as long as the
 * PDU. */
static void fz_etsi_decrypt(const uint8_t *p, size_t n, struct etsi_pdu *d, struct lacre_dbuf *plain)
{
	static const uint8_t k24[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
					 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 };
	static const uint8_t k32[32] = { 0xa5 };
	struct etsi_keyring kr;
	uint8_t *form;
	int r;

	etsi_keyring_init(&kr);
	if (etsi_keyring_add(&kr, k24, sizeof(k24), INT64_MIN, INT64_MAX) != LACRE_OK ||
	    etsi_keyring_add(&kr, k32, sizeof(k32), INT64_MIN, INT64_MAX) != LACRE_OK)
		abort();
	r = etsi_decrypt(&kr, 0, d, plain);
	must(r <= 0);
	if (r == LACRE_OK && (form = malloc(n ? n : 1)) != NULL) {
		r = etsi_preencryption_form(p, n, d, plain, form);
		must(r == LACRE_OK || r == LACRE_E_UNSUPPORTED || r == LACRE_E_INVALID);
		free(form);
	}
	etsi_keyring_wipe(&kr);
}

/* The invariants of decoded locations. */
static void loc_check(const struct etsi_locations *l, int r)
{
	must(r <= 0);
	must(l->n <= ETSI_LOC_MAX);
	for (size_t i = 0; i < l->n; i++) {
		const struct etsi_loc *e = &l->v[i];
		must(etsi_loc_kind_name(e->kind) != NULL);
		must(memchr(e->mcc, 0, sizeof(e->mcc)) && memchr(e->mnc, 0, sizeof(e->mnc)));
		must(memchr(e->text, 0, sizeof(e->text)) != NULL);
		must(!e->has_point || (e->lat_udeg >= -90000000 && e->lat_udeg <= 90000000 &&
				       e->lon_udeg >= -180000000 && e->lon_udeg <= 180000000));
		must(!e->has_cell || e->kind != ETSI_LOC_ECGI || e->cell <= 0xfffffffu);
	}
}

/* Every location decoder straight on p[0..n). */
static void fz_locations(const uint8_t *p, size_t n)
{
	struct etsi_locations l;
	int (*const dec[])(const uint8_t *, size_t, struct etsi_locations *) = {
		etsi_location_uli, etsi_location_umts, etsi_location_eps, etsi_location_li,
	};

	for (size_t i = 0; i < sizeof(dec) / sizeof(dec[0]); i++) {
		memset(&l, 0, sizeof(l));
		loc_check(&l, dec[i](p, n, &l));
	}
}

/* etsi_bctr_finish's callback: a gap must be a non-empty byte range. */
static void fz_etsi_gap(void *arg, const uint8_t *liid, size_t liid_len, uint64_t from, uint64_t to)
{
	(void)arg;
	(void)liid;
	(void)liid_len;
	must(from < to);
}

/* Decode one PDU, decrypt it if it is encrypted, account its
 * byteCounter, and render it. */
static void one(const uint8_t *p, size_t n, struct lacre_dbuf *out, struct etsi_bctr *bc)
{
	struct etsi_pdu d;
	struct etsi_locations locs;
	struct json_w w;
	struct lacre_dbuf plain;
	uint64_t expected, got;
	int r;

	if (etsi_decode(p, n, &d) != LACRE_OK)
		return;
	check(&d, p, n);
	lacre_dbuf_init(&plain, 64u << 20);
	if (d.encrypted)
		fz_etsi_decrypt(p, n, &d, &plain);
	loc_check(&locs, etsi_location_of(&d, &locs));
	r = etsi_bctr_account(bc, &d, n, &expected, &got);
	must(r == LACRE_E_NOMEM || (r >= ETSI_BCTR_OK && r <= ETSI_BCTR_UNTRACKED));
	lacre_dbuf_reset(out);
	json_init(&w, out);
	etsi_json_pdu(&w, &d, p, n, 0, ETSI_JSON_RAW | ETSI_JSON_CONTENT);
	must(json_finish(&w) == LACRE_OK);
	must(memchr(out->p, 0, out->len) == NULL);
	lacre_dbuf_free(&plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lacre_dbuf out;
	struct etsi_bctr bc;
	size_t off = 0, len;

	lacre_dbuf_init(&out, 64u << 20);
	etsi_bctr_init(&bc, 64);
	while (off < size && etsi_pdu_size(data + off, size - off, 1u << 20, &len) == LACRE_OK) {
		must(len > 0 && len <= size - off);
		one(data + off, len, &out, &bc);
		off += len;
	}
	if (off == 0)
		one(data, size, &out, &bc);
	fz_locations(data, size);
	etsi_bctr_finish(&bc, fz_etsi_gap, NULL);
	etsi_bctr_free(&bc);
	lacre_dbuf_free(&out);
	return 0;
}
