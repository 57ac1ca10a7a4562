/*
 * cmd_decode.c - `lacre decode FILE|-`: print one JSON object per PS-PDU of
 * an ETSI handover byte stream (a capture of an HI2 or HI3 connection).
 * Documented in docs/cmd-decode.md.
 *
 * The stream is read in chunks and framed exactly as the handover receiver
 * frames it (etsi_pdu_size): no whole-file load, memory bounded by the
 * maximum PDU size.  Errors go to stderr, one line each, naming the byte
 * offset; decoding goes on wherever it can:
 *   - a PDU whose outer SEQUENCE is sound but whose inside is not is printed
 *     with "partial": true;
 *   - a PDU whose outer SEQUENCE is unsound is skipped whole;
 *   - an unframeable position (not 30, reserved or oversized length) makes
 *     the decoder scan forward for the next plausible PS-PDU start
 *     (30, a valid length, then the A1 of the pSHeader);
 *   - a truncated tail at the end of the input is reported.
 * With --key HEXFILE (repeatable: rotated keys are tried in turn) every
 * EncryptionContainer is decrypted and its inner payload decoded in place
 * of the container (etsi_decrypt); the PDU printed stays the one
 * received.  A PDU that cannot be decrypted (no key, wrong key) is still
 * printed as its ciphertext view, with the reason, and counted as an
 * error.  The byteCounter chain of each LIID is checked (etsi_bctr): a
 * break is an error too.
 * Exit status: 0 when every PDU decoded cleanly, 1 after any error, 2 for
 * a usage error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lacre/buf.h"
#include "lacre/ber.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_crypt.h"
#include "lacre/etsi_json.h"
#include "lacre/json.h"
#include "cli.h"

#define READ_CHUNK (256u * 1024u)

struct decoder {
	FILE *in;
	const char *name;
	struct lacre_dbuf buf;    /* bytes read but not yet consumed */
	uint64_t base;            /* stream offset of buf.p[0] */
	int eof;
	size_t max_pdu;
	unsigned flags;           /* ETSI_JSON_* */
	struct lacre_dbuf out;    /* one JSON line */
	unsigned long n_pdus, n_errors;
	struct etsi_keyring keys; /* --key: handover keys (wiped at exit) */
	struct lacre_dbuf plain;  /* the current PDU's decrypted payload (secret) */
	struct etsi_bctr bctr;    /* byteCounter chain per LIID */
};

#define MAX_KEYS 16
#define KEY_FILE_MAX 4096
#define BCTR_MAX_LIIDS 65536

/* Print the usage text to f. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre decode [--key HEXFILE]... [--raw] [--content] [--max-pdu BYTES] FILE|-\n"
		"\n"
		"Decode an ETSI TS 102 232-1 handover stream (HI2 or HI3, PS-PDUs back to\n"
		"back) and print one JSON object per PS-PDU on stdout.\n"
		"\n"
		"  --key HEXFILE    decrypt EncryptionContainers with this handover key\n"
		"                   (24 or 32 octets in hex; repeat for rotated keys)\n"
		"  --raw            add \"raw\": the PDU's bytes in hex\n"
		"  --content        add \"content_b64\": the content bytes in base64\n"
		"  --max-pdu BYTES  largest PS-PDU accepted (default 16777216)\n"
		"  -h, --help       show this help\n"
		"\n"
		"Errors go to stderr with their byte offset; decoding continues where it\n"
		"can.  Exit status 0 when every PDU decoded cleanly, 1 otherwise.\n"
		"See docs/cmd-decode.md.\n");
}

/*
 * Read more input into d->buf.  Returns LACRE_OK (possibly setting d->eof),
 * LACRE_E_IO on a read error, or the buffer's error.
 */
static int fill(struct decoder *d)
{
	size_t got;
	int r;

	if ((r = lacre_dbuf_reserve(&d->buf, READ_CHUNK)) != LACRE_OK)
		return r;
	got = fread(d->buf.p + d->buf.len, 1, READ_CHUNK, d->in);
	d->buf.len += got;
	if (got < READ_CHUNK) {
		if (ferror(d->in))
			return LACRE_E_IO;
		if (feof(d->in))
			d->eof = 1;
	}
	return LACRE_OK;
}

/* One line on stderr about the input, naming the byte offset. */
static void report(struct decoder *d, uint64_t off, const char *what, int err)
{
	d->n_errors++;
	if (err)
		cli_err("%s: offset %llu: %s: %s", d->name, (unsigned long long)off, what,
			lacre_strerror(err));
	else
		cli_err("%s: offset %llu: %s", d->name, (unsigned long long)off, what);
}

/*
 * Is p[0..n) the plausible start of a PS-PDU?  1 yes, 0 no, -1 cannot tell
 * yet (more bytes needed).  Plausible = 30, a well-formed length that fits
 * max_pdu, then the identifier A1 of the pSHeader.
 */
static int plausible(const uint8_t *p, size_t n, size_t max_pdu)
{
	size_t h, len = 0;

	if (n < 1)
		return -1;
	if (p[0] != 0x30)
		return 0;
	if (n < 2)
		return -1;
	if (p[1] == 0xff)
		return 0;
	if (p[1] <= 0x80) {
		h = 2;
		len = p[1] == 0x80 ? 0 : p[1];
	} else {
		size_t k = p[1] & 0x7fu;
		if (k > 4)
			return 0;
		h = 2 + k;
		if (n < h)
			return -1;
		for (size_t i = 2; i < h; i++)
			len = (len << 8) | p[i];
	}
	if (len > max_pdu - h)
		return 0;
	if (n <= h)
		return -1;
	return p[h] == 0xa1;
}

/* Print one decoded PDU as a JSON line. */
static int emit(struct decoder *d, const struct etsi_pdu *pdu, const uint8_t *p,
		size_t n, uint64_t off)
{
	struct json_w w;
	int r;

	lacre_dbuf_reset(&d->out);
	json_init(&w, &d->out);
	etsi_json_pdu(&w, pdu, p, n, off, d->flags);
	if ((r = json_finish(&w)) != LACRE_OK)
		return r;
	if ((r = lacre_dbuf_add_u8(&d->out, '\n')) != LACRE_OK)
		return r;
	if (fwrite(d->out.p, 1, d->out.len, stdout) != d->out.len)
		return LACRE_E_IO;
	return LACRE_OK;
}

/*
 * With keys, decrypt an encrypted PDU (a failure is reported, the PDU
 * stays its ciphertext view); then account it in the byteCounter chain
 * of its LIID and report a break.  Returns LACRE_OK or a fatal error.
 */
static int decrypt_and_count(struct decoder *d, struct etsi_pdu *pdu, size_t len, uint64_t off)
{
	uint64_t want = 0, got = 0;
	char what[160];
	int r, v;

	if (d->keys.n && pdu->encrypted) {
		r = etsi_decrypt(&d->keys, INT64_MIN, pdu, &d->plain);
		if (r == LACRE_E_NOMEM || r == LACRE_E_CRYPTO)
			return r;
		if (r != LACRE_OK) {
			snprintf(what, sizeof(what), "encrypted payload not decrypted (%s)",
				 r == LACRE_E_AUTH ? "wrong key: no --key gives a well-formed payload" :
				 r == LACRE_E_NOT_FOUND ? "no --key of the right length for its cipher" :
				 r == LACRE_E_UNSUPPORTED ? "cipher not supported" :
				 "ciphertext or padding malformed");
			report(d, off, what, 0);
		} else if (pdu->partial && pdu->err_in_plaintext) {
			snprintf(what, sizeof(what),
				 "decrypted payload partly decoded (field at plaintext offset %zu)",
				 pdu->err_off);
			report(d, off, what, pdu->err);
		}
	}
	v = etsi_bctr_account(&d->bctr, pdu, len, &want, &got);
	if (v < 0)
		return v;
	if (v == ETSI_BCTR_BREAK && got < want) {
		snprintf(what, sizeof(what),
			 "byteCounter break for this LIID: count %llu already accounted for (chain complete to %llu): duplicate or overlapping PDU",
			 (unsigned long long)got, (unsigned long long)want);
		report(d, off, what, 0);
	} else if (v == ETSI_BCTR_BREAK) {
		snprintf(what, sizeof(what),
			 "byteCounter break for this LIID: bytes %llu..%llu never arrived",
			 (unsigned long long)want, (unsigned long long)got);
		report(d, off, what, 0);
	} else if (v == ETSI_BCTR_RESTART) {
		cli_err("%s: offset %llu: byteCounter restarted for this LIID (sender state reset; count %llu)",
			d->name, (unsigned long long)off, (unsigned long long)got);
	}
	return LACRE_OK;
}

/* etsi_bctr_finish callback: one stderr line per gap left in a chain. */
static void gap_report(void *arg, const uint8_t *liid, size_t liid_len, uint64_t from, uint64_t to)
{
	struct decoder *d = arg;
	char l[64];
	size_t n = liid_len < sizeof(l) - 1 ? liid_len : sizeof(l) - 1;

	for (size_t i = 0; i < n; i++)
		l[i] = liid[i] >= 0x20 && liid[i] < 0x7f ? (char)liid[i] : '?';
	l[n] = '\0';
	d->n_errors++;
	cli_err("%s: byteCounter break for LIID %s: bytes %llu..%llu of its PDUs never arrived",
		d->name, l, (unsigned long long)from, (unsigned long long)to);
}

/*
 * Decode everything: frame, decode, print, resynchronise.  Returns
 * LACRE_OK when the input was read to its end (errors in it are counted
 * in d->n_errors), or a fatal error (read failure, output failure).
 */
static int run(struct decoder *d)
{
	size_t pos = 0, len;
	int r, syncing = 0;
	uint64_t sync_from = 0;

	for (;;) {
		const uint8_t *p = d->buf.p + pos;
		size_t left = d->buf.len - pos;
		struct etsi_pdu pdu;

		if (syncing) {
			int pl = plausible(p, left, d->max_pdu);
			if (pl == 1 || (pl == -1 && d->eof && left > 0 && p[0] == 0x30)) {
				cli_err("%s: offset %llu: resynchronised after skipping %llu bytes",
					d->name, (unsigned long long)(d->base + pos),
					(unsigned long long)(d->base + pos - sync_from));
				syncing = 0;
				continue;
			}
			if (pl == 0 || (pl == -1 && d->eof && left > 0)) {
				pos++;
				continue;
			}
			/* left == 0 or need more bytes */
		} else if (left > 0) {
			r = etsi_pdu_size(p, left, d->max_pdu, &len);
			if (r == LACRE_OK) {
				r = etsi_decode(p, len, &pdu);
				if (r != LACRE_OK) {
					report(d, d->base + pos, "PS-PDU skipped", r);
				} else {
					if ((r = decrypt_and_count(d, &pdu, len, d->base + pos)) != LACRE_OK)
						return r;
					if (pdu.partial && !pdu.err_in_plaintext) {
						char what[96];
						snprintf(what, sizeof(what),
							 "PS-PDU partly decoded (field at offset %llu)",
							 (unsigned long long)(d->base + pos + pdu.err_off));
						report(d, d->base + pos, what, pdu.err);
					}
					if ((r = emit(d, &pdu, p, len, d->base + pos)) != LACRE_OK)
						return r;
					d->n_pdus++;
				}
				pos += len;
				continue;
			}
			if (r != LACRE_E_INCOMPLETE || (d->eof && left > 0)) {
				if (r == LACRE_E_INCOMPLETE) {
					char what[96];
					snprintf(what, sizeof(what), "truncated PS-PDU at end of input (%zu bytes)",
						 left);
					report(d, d->base + pos, what, 0);
					pos = d->buf.len;
					continue;
				}
				if (r == LACRE_E_MALFORMED && p[0] != 0x30) {
					char what[96];
					snprintf(what, sizeof(what),
						 "not a PS-PDU (octet 0x%02x, expected 0x30); scanning for the next one",
						 p[0]);
					report(d, d->base + pos, what, 0);
				} else {
					report(d, d->base + pos, "unframeable PS-PDU header; scanning for the next one", r);
				}
				syncing = 1;
				sync_from = d->base + pos;
				pos++;
				continue;
			}
		}
		if (d->eof) {
			if (syncing)
				cli_err("%s: offset %llu: no further PS-PDU found", d->name,
					(unsigned long long)(d->base + pos));
			etsi_bctr_finish(&d->bctr, gap_report, d);
			return LACRE_OK;
		}
		/* keep the unconsumed bytes, read more */
		lacre_dbuf_consume(&d->buf, pos);
		d->base += pos;
		pos = 0;
		if ((r = fill(d)) != LACRE_OK)
			return r;
	}
}

/*
 * Read a key file (hex, 24 or 32 octets) into the ring, valid always.
 * LACRE_E_IO when it cannot be read, LACRE_E_MALFORMED when it is not a
 * key; either is reported on stderr.
 */
static int load_key(const char *path, struct etsi_keyring *kr)
{
	char text[KEY_FILE_MAX];
	uint8_t key[ETSI_HKEY_MAX];
	size_t n, klen;
	FILE *f = fopen(path, "rb");
	int r;

	if (!f) {
		cli_err("%s: cannot open the key file: %s", path, strerror(errno));
		return LACRE_E_IO;
	}
	n = fread(text, 1, sizeof(text), f);
	r = ferror(f) ? LACRE_E_IO : LACRE_OK;
	fclose(f);
	if (r != LACRE_OK) {
		cli_err("%s: cannot read the key file", path);
		goto done;
	}
	if (n == sizeof(text) ||
	    (r = etsi_key_from_hex(text, n, key, &klen)) != LACRE_OK) {
		cli_err("%s: not a handover key: expected 24 or 32 octets in hex (48 or 64 hex digits)",
			path);
		r = LACRE_E_MALFORMED;
		goto done;
	}
	r = etsi_keyring_add(kr, key, klen, INT64_MIN, INT64_MAX);
done:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(text, sizeof(text));
	return r;
}

/* Entry point of `lacre decode` (see the top of this file). */
int cmd_decode(int argc, char **argv)
{
	struct decoder d;
	const char *path = NULL;
	int r, rc = EXIT_FAIL;

	memset(&d, 0, sizeof(d));
	d.max_pdu = ETSI_MAX_PDU_DEFAULT;
	etsi_keyring_init(&d.keys);
	etsi_bctr_init(&d.bctr, BCTR_MAX_LIIDS);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			rc = EXIT_OK;
			goto early;
		} else if (!strcmp(a, "--key")) {
			if (i + 1 >= argc) {
				cli_err("--key needs a file holding the handover key in hex");
				rc = EXIT_USAGE;
				goto early;
			}
			if (d.keys.n >= MAX_KEYS) {
				cli_err("--key: at most %d keys", MAX_KEYS);
				rc = EXIT_USAGE;
				goto early;
			}
			if ((r = load_key(argv[++i], &d.keys)) != LACRE_OK) {
				rc = r == LACRE_E_IO ? EXIT_FAIL : EXIT_USAGE;
				goto early;
			}
		} else if (!strcmp(a, "--raw")) {
			d.flags |= ETSI_JSON_RAW;
		} else if (!strcmp(a, "--content")) {
			d.flags |= ETSI_JSON_CONTENT;
		} else if (!strcmp(a, "--max-pdu")) {
			char *end;
			unsigned long long v;
			if (i + 1 >= argc) {
				cli_err("--max-pdu needs a size in bytes");
				rc = EXIT_USAGE;
				goto early;
			}
			errno = 0;
			v = strtoull(argv[++i], &end, 10);
			if (errno || *end || v < 16 || v > (1ull << 30)) {
				cli_err("--max-pdu must be a number of bytes between 16 and 1073741824");
				rc = EXIT_USAGE;
				goto early;
			}
			d.max_pdu = (size_t)v;
		} else if (a[0] == '-' && a[1] != '\0') {
			cli_err("unknown option '%s'; run 'lacre decode --help'", a);
			rc = EXIT_USAGE;
			goto early;
		} else if (path) {
			cli_err("one input only; run 'lacre decode --help'");
			rc = EXIT_USAGE;
			goto early;
		} else {
			path = a;
		}
	}
	if (!path) {
		usage(stderr);
		rc = EXIT_USAGE;
		goto early;
	}
	if (!strcmp(path, "-")) {
		d.in = stdin;
		d.name = "stdin";
	} else {
		d.in = fopen(path, "rb");
		d.name = path;
		if (!d.in) {
			cli_err("%s: cannot open: %s", path, strerror(errno));
			rc = EXIT_FAIL;
			goto early;
		}
	}
	/* room for one maximal PDU plus a read chunk */
	lacre_dbuf_init(&d.buf, d.max_pdu + 2 * (size_t)READ_CHUNK);
	lacre_dbuf_init(&d.out, 10 * d.max_pdu + 65536);  /* worst-case escaping */
	lacre_dbuf_init(&d.plain, d.max_pdu + 1);
	lacre_dbuf_set_secret(&d.plain);

	r = run(&d);
	if (r != LACRE_OK) {
		cli_fail(r, d.name);
		goto done;
	}
	if (fflush(stdout) != 0) {
		cli_err("cannot write the output: %s", strerror(errno));
		goto done;
	}
	rc = d.n_errors ? EXIT_FAIL : EXIT_OK;
done:
	if (d.in && d.in != stdin)
		fclose(d.in);
	lacre_dbuf_free(&d.buf);
	lacre_dbuf_free(&d.out);
	lacre_dbuf_free(&d.plain);
	etsi_bctr_free(&d.bctr);
early:
	/* every exit path wipes the handover keys */
	etsi_keyring_wipe(&d.keys);
	return rc;
}
