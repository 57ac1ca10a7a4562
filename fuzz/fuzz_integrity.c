/*
 * fuzz_integrity.c - libFuzzer harness for what the receiver does with each
 * PS-PDU after framing (lib/ingest/server.c's per-PDU path, without the
 * sockets): decode, answer a keep-alive (lib/ingest/keepalive.c), account
 * the stream and verify integrity-check PDUs (lib/ingest/accounting.c,
 * lib/ingest/integrity.c: hash chains over the retained data PDUs, and
 * signatures over the rebuilt interim element).
 *
 * Input: byte 0 holds flags (bit 0: retain only 300 bytes of data PDUs, so
 * the eviction path runs; bit 1: PDUs that are neither IRI nor CC arrive on
 * HI3 rather than HI2), the rest is a stream of PS-PDUs cut by
 * etsi_pdu_size().  Every PDU goes to two accountings: one holding the
 * Ed25519 operator key, one the ECDSA P-256 key whose private halves made
 * the seeds (fuzz/keys/, fuzz/mkseeds_net.sh), so seeds reach "verified".
 *
 * Invariants: every accounting event is one line holding one JSON object;
 * the integrity counters add up (each hash PDU is ok, mismatch, missing or
 * of an unknown algorithm; each signature PDU ok, bad or unchecked); the
 * --stats JSON renders; a keep-alive answer decodes as a keep-alive
 * response that echoes the header byte for byte; the interim element a
 * signature covers is one well-formed TLV in both length styles, and the
 * two styles agree when every length is short.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lacre/ber.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/ingest.h"
#include "lacre/json.h"
#include "lacre/record.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The operator public keys of fuzz/keys/ (test keys, not secrets). */
static const char fz_ic_ed25519_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MCowBQYDK2VwAyEA9E/YPDUn39q3n3vyQgNRN3vtpQiQZQ17YXaovwH/lB0=\n"
	"-----END PUBLIC KEY-----\n";
static const char fz_ic_p256_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEH/u5TfAnUXa7AItxL8JxBaaOLwMY\n"
	"N4Ur7Caj9QiJzv2Rv1KJNnN8Xrf0eCc3UAZTm98IOa5JDWyPGm5Bw+r/zA==\n"
	"-----END PUBLIC KEY-----\n";

/* Counters the corpus replay asserts on (the seeds must reach them):
 * totals, and per accounting (0: Ed25519 key, 1: P-256 key). */
static struct ingest_integrity_stats fz_ic_total, fz_ic_by_key[2];
static unsigned long fz_ic_ka_answers, fz_ic_events;

/* The temporary files holding the keys (ingest_acct_set_sigkey reads a
 * path), removed at exit. */
static char fz_ic_ed_path[64], fz_ic_ec_path[64];

/* atexit: remove the key files. */
static void fz_ic_cleanup(void)
{
	if (fz_ic_ed_path[0])
		unlink(fz_ic_ed_path);
	if (fz_ic_ec_path[0])
		unlink(fz_ic_ec_path);
}

/* Write pem to a temporary file once; returns its path. */
static const char *fz_ic_keyfile(char *path, size_t cap, const char *pem)
{
	static int registered;
	int fd;

	if (path[0])
		return path;
	if (!registered)
		registered = atexit(fz_ic_cleanup) == 0;
	snprintf(path, cap, "/tmp/lacre-fuzz-key-XXXXXX");
	fd = mkstemp(path);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, pem, strlen(pem)) == (ssize_t)strlen(pem));
	close(fd);
	return path;
}

/* ingest_event_fn: one line, one object. */
static void fz_ic_event(void *arg, const char *json)
{
	size_t n = strlen(json);

	(void)arg;
	fz_ic_events++;
	FUZZ_CHECK(n >= 2 && json[0] == '{' && json[n - 1] == '}');
	FUZZ_CHECK(memchr(json, '\n', n) == NULL && memchr(json, '\r', n) == NULL);
}

/* b[0..n) is exactly one TLV. */
static int fz_ic_one_tlv(const uint8_t *p, size_t n)
{
	struct lacre_rbuf b;
	struct ber_tlv t;

	lacre_rbuf_init(&b, p, n);
	return ber_next(&b, &t, BER_MAX_DEPTH) == LACRE_OK && t.total == n && t.tag == 0 &&
	       t.constructed && lacre_rbuf_left(&b) == 0;
}

/* The interim element of an integrity PDU, in both styles. */
static void fz_ic_interim(const struct etsi_pdu *d)
{
	static uint32_t seqs[70000];
	struct ingest_icheck ic;
	struct lacre_dbuf a, b;
	int ra, rb;

	memset(&ic, 0, sizeof(ic));
	ic.seqs = seqs;
	ic.n_seqs = sizeof(seqs) / sizeof(seqs[0]);
	if (ingest_icheck_from(d, &ic) != LACRE_OK)
		return;
	FUZZ_CHECK(ic.n_seqs == d->integrity.n_seqs);
	FUZZ_CHECK(ic.value.p == d->integrity.check_value.p);
	lacre_dbuf_init(&a, 4u << 20);
	lacre_dbuf_init(&b, 4u << 20);
	ra = ingest_icheck_signed_bytes_style(&ic, 1, &a);
	rb = ingest_icheck_signed_bytes_style(&ic, 0, &b);
	if (ra == LACRE_OK)
		FUZZ_CHECK(fz_ic_one_tlv(a.p, a.len));
	else
		FUZZ_CHECK(a.len == 0);
	if (rb == LACRE_OK)
		FUZZ_CHECK(fz_ic_one_tlv(b.p, b.len));
	if (ra == LACRE_OK && rb == LACRE_OK && b.len < 128)
		FUZZ_CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
	lacre_dbuf_free(&a);
	lacre_dbuf_free(&b);
}

/* A keep-alive's answer is a keep-alive response with the same header. */
static void fz_ic_keepalive(const struct etsi_pdu *d)
{
	struct lacre_dbuf out;
	struct etsi_pdu *e = calloc(1, sizeof(*e));
	size_t sz;

	FUZZ_CHECK(e != NULL);
	lacre_dbuf_init(&out, 1u << 20);
	if (ingest_keepalive_response(d, &out) == LACRE_OK) {
		fz_ic_ka_answers++;
		FUZZ_CHECK(etsi_pdu_size(out.p, out.len, out.len, &sz) == LACRE_OK && sz == out.len);
		FUZZ_CHECK(etsi_decode(out.p, out.len, e) == LACRE_OK);
		FUZZ_CHECK(e->kind == ETSI_KIND_KEEPALIVE_RESPONSE);
		FUZZ_CHECK(e->header_tlv.len == d->header_tlv.len &&
			   memcmp(e->header_tlv.p, d->header_tlv.p, d->header_tlv.len) == 0);
	}
	lacre_dbuf_free(&out);
	free(e);
}

/* The counters of accounting k add up, and its JSON renders. */
static void fz_ic_finish(struct ingest_acct *a, int k)
{
	struct ingest_integrity_stats s;
	struct lacre_dbuf out;
	struct json_w w;

	ingest_acct_integrity(a, &s);
	FUZZ_CHECK(s.hash_pdus == s.hash_ok + s.hash_mismatch + s.hash_missing + s.hash_unknown_alg);
	FUZZ_CHECK(s.sig_pdus == s.sig_ok + s.sig_bad + s.sig_unchecked);
	fz_ic_total.hash_ok += s.hash_ok;
	fz_ic_total.hash_mismatch += s.hash_mismatch;
	fz_ic_total.sig_ok += s.sig_ok;
	fz_ic_total.sig_bad += s.sig_bad;
	fz_ic_by_key[k].hash_pdus += s.hash_pdus;
	fz_ic_by_key[k].hash_ok += s.hash_ok;
	fz_ic_by_key[k].hash_mismatch += s.hash_mismatch;
	fz_ic_by_key[k].hash_missing += s.hash_missing;
	fz_ic_by_key[k].sig_pdus += s.sig_pdus;
	fz_ic_by_key[k].sig_ok += s.sig_ok;
	fz_ic_by_key[k].sig_bad += s.sig_bad;
	fz_ic_by_key[k].sig_unchecked += s.sig_unchecked;
	lacre_dbuf_init(&out, 64u << 20);
	json_init(&w, &out);
	json_obj_begin(&w);
	FUZZ_CHECK(ingest_acct_json(a, &w) == LACRE_OK);
	json_obj_end(&w);
	FUZZ_CHECK(json_finish(&w) == LACRE_OK);
	lacre_dbuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_acct *acct[2] = { NULL, NULL };
	struct etsi_pdu *d;
	size_t off, len;
	int k, listener;

	if (size < 1)
		return 0;
	d = calloc(1, sizeof(*d));
	FUZZ_CHECK(d != NULL);
	for (k = 0; k < 2; k++) {
		FUZZ_CHECK(ingest_acct_new((data[0] & 1) ? 300 : 64u << 20, fz_ic_event, NULL,
					   &acct[k]) == LACRE_OK);
	}
	FUZZ_CHECK(ingest_acct_set_sigkey(acct[0], fz_ic_keyfile(fz_ic_ed_path, sizeof(fz_ic_ed_path),
					  fz_ic_ed25519_pem), NULL) == LACRE_OK);
	FUZZ_CHECK(ingest_acct_set_sigkey(acct[1], fz_ic_keyfile(fz_ic_ec_path, sizeof(fz_ic_ec_path),
					  fz_ic_p256_pem), "sha256") == LACRE_OK);
	for (off = 1; off < size; off += len) {
		if (etsi_pdu_size(data + off, size - off, 1u << 20, &len) != LACRE_OK)
			break;
		if (etsi_decode(data + off, len, d) != LACRE_OK)
			continue;
		if (d->kind == ETSI_KIND_KEEPALIVE) {
			fz_ic_keepalive(d);
			continue;
		}
		if (d->kind == ETSI_KIND_INTEGRITY_CHECK)
			fz_ic_interim(d);
		listener = d->kind == ETSI_KIND_IRI ? LACRE_HI2 : d->kind == ETSI_KIND_CC ? LACRE_HI3 :
			   (data[0] & 2) ? LACRE_HI3 : LACRE_HI2;
		for (k = 0; k < 2; k++)
			FUZZ_CHECK(ingest_acct_pdu(acct[k], data + off, len, d, listener, 1) == LACRE_OK);
	}
	for (k = 0; k < 2; k++) {
		fz_ic_finish(acct[k], k);
		ingest_acct_free(acct[k]);
	}
	free(d);
	return 0;
}
