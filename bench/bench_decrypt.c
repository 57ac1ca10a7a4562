/*
 * bench_decrypt.c - decrypt + decode throughput on one core, on the real
 * OpenLI 1.1.20 capture of set C (../shared/vectors/openli-c: every IRI,
 * CC and integrity payload in an AES-192-CBC EncryptionContainer).
 *
 * Three cases, each over every PDU of both handovers, repeated for about a
 * second of this thread's CPU time (so other load on the shared machine
 * does not distort them):
 *   1. decode only: etsi_pdu_size + etsi_decode (the ciphertext view);
 *   2. receiver: decode + etsi_decrypt with the set's key (AES-192-CBC,
 *      the EncryptedPayload's shape check, the inner payload decoded) +
 *      etsi_preencryption_form (the bytes sealed beside the PDU);
 *   3. reader: record_pdu_decode of a version 2 record (the pre-encryption
 *      form checked against the PDU and decoded, no key), what records,
 *      calls, audio, pcap, export and lacre-verify do per record.
 * Figures are MB/s of PDU bytes and of ciphertext bytes, PDUs/s and
 * ns/PDU; bench/decrypt.sh prints them beside `openssl speed -evp
 * aes-192-cbc` of the same run.  Printed, never asserted.
 * Usage: bench_decrypt [VECTOR-DIR]   (default $LACRE_TOP/../shared/vectors/openli-c)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_crypt.h"
#include "lacre/frame.h"
#include "lacre/record_pdu.h"

#define MAX_PDUS 8192

struct stream {
	uint8_t *raw, *pre;          /* raw bytes, pre-encryption forms (same offsets) */
	size_t n;
	size_t off[MAX_PDUS], len[MAX_PDUS];
	size_t np;
};

/* Read a whole file. */
static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long sz;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (p = malloc((size_t)sz + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	*n = fread(p, 1, (size_t)sz, f);
	fclose(f);
	return p;
}

/* Load hiN.bin and its pre-encryption forms, and split the PDUs. */
static int load(const char *dir, const char *hi, struct stream *s)
{
	char p[1024];
	size_t n2 = 0, len;

	snprintf(p, sizeof(p), "%s/raw/%s.bin", dir, hi);
	if ((s->raw = slurp(p, &s->n)) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/decoded/%s.preencryption.bin", dir, hi);
	if ((s->pre = slurp(p, &n2)) == NULL || n2 != s->n)
		return -1;
	s->np = 0;
	for (size_t off = 0; off < s->n && s->np < MAX_PDUS; off += len) {
		if (etsi_pdu_size(s->raw + off, s->n - off, ETSI_MAX_PDU_DEFAULT, &len) != LACRE_OK)
			return -1;
		s->off[s->np] = off;
		s->len[s->np++] = len;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One case over both streams for ~1 s of CPU time. */
static void run(int which, const char *name, struct stream *st, size_t nst,
		const struct etsi_keyring *kr)
{
	struct lacre_dbuf plain;
	struct record_pdu v;
	uint8_t *form = malloc(1u << 16);
	uint64_t bytes = 0, ctb = 0, pdus = 0, enc = 0, bad = 0;
	double t0, t;

	if (!form)
		return;
	lacre_dbuf_init(&plain, 1u << 20);
	record_pdu_init(&v);
	t0 = now();
	do {
		for (size_t k = 0; k < nst; k++) {
			struct stream *s = &st[k];
			for (size_t i = 0; i < s->np; i++) {
				const uint8_t *p = s->raw + s->off[i];
				size_t n = s->len[i];
				struct etsi_pdu d;

				if (which == 3) {
					struct frame_record r;
					memset(&r, 0, sizeof(r));
					r.pdu.p = p;
					r.pdu.len = n;
					if (memcmp(p, s->pre + s->off[i], n) != 0) {
						r.pre.p = s->pre + s->off[i];
						r.pre.len = n;
					}
					if (record_pdu_decode(&r, &v) != LACRE_OK)
						bad++;
					if (v.decrypted) {
						enc++;
						ctb += v.pdu.enc.payload.len;
					}
				} else if (etsi_decode(p, n, &d) != LACRE_OK) {
					bad++;
				} else if (which == 2 && d.encrypted) {
					enc++;
					ctb += d.enc.payload.len;
					if (etsi_decrypt(kr, INT64_MIN, &d, &plain) != LACRE_OK ||
					    n > (1u << 16) ||
					    etsi_preencryption_form(p, n, &d, &plain, form) != LACRE_OK)
						bad++;
				} else if (d.encrypted) {
					ctb += d.enc.payload.len;
				}
				bytes += n;
				pdus++;
			}
		}
		t = now() - t0;
	} while (t < 1.0);
	printf("%-44s %7.1f MB/s  %7.1f MB/s of ciphertext  %9.0f PDUs/s  %6.0f ns/PDU%s\n", name,
	       (double)bytes / t / 1e6, (double)ctb / t / 1e6, (double)pdus / t, t * 1e9 / (double)pdus,
	       bad ? "  (ERRORS)" : "");
	printf("RESULT %d %.3f %.3f\n", which, (double)bytes / t / 1e6, (double)ctb / t / 1e6);
	(void)enc;
	record_pdu_free(&v);
	lacre_dbuf_free(&plain);
	free(form);
}

int main(int argc, char **argv)
{
	static struct stream st[2];
	struct etsi_keyring kr;
	uint8_t key[ETSI_HKEY_MAX];
	char dir[1024], kp[1100];
	const char *top = getenv("LACRE_TOP");
	uint8_t *kt;
	size_t kn = 0, klen = 0, total = 0, avg_ct = 0, nenc = 0;

	if (argc > 1)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else
		snprintf(dir, sizeof(dir), "%s/../shared/vectors/openli-c", top ? top : ".");
	snprintf(kp, sizeof(kp), "%s/config/payload-encryption-key.hex", dir);
	if ((kt = slurp(kp, &kn)) == NULL || load(dir, "hi2", &st[0]) != 0 || load(dir, "hi3", &st[1]) != 0) {
		printf("bench_decrypt: the set-C vectors are not at %s (give the folder as argument)\n", dir);
		return 0;
	}
	if (etsi_key_from_hex((const char *)kt, kn, key, &klen) != LACRE_OK) {
		printf("bench_decrypt: %s is not a key\n", kp);
		return 0;
	}
	etsi_keyring_init(&kr);
	etsi_keyring_add(&kr, key, klen, INT64_MIN, INT64_MAX);
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < st[k].np; i++) {
			struct etsi_pdu d;
			total += st[k].len[i];
			if (etsi_decode(st[k].raw + st[k].off[i], st[k].len[i], &d) == LACRE_OK && d.encrypted) {
				nenc++;
				avg_ct += d.enc.payload.len;
			}
		}
	printf("bench_decrypt: OpenLI set C, %zu + %zu PDUs (%zu bytes), %zu encrypted (AES-192-CBC, "
	       "avg %zu B of ciphertext), one core, CPU time\n", st[0].np, st[1].np, total, nenc,
	       nenc ? avg_ct / nenc : 0);
	run(1, "decode only (ciphertext view)", st, 2, &kr);
	run(2, "receiver: decode + decrypt + pre-form", st, 2, &kr);
	run(3, "reader: record_pdu_decode (no key)", st, 2, &kr);
	etsi_keyring_wipe(&kr);
	for (int k = 0; k < 2; k++) {
		free(st[k].raw);
		free(st[k].pre);
	}
	free(kt);
	return 0;
}
