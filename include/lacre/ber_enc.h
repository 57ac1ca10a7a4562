/*
 * ber_enc.h - a BER/DER writer (X.690) into a capped struct lacre_dbuf.
 *
 * The writer is the sending-side twin of ber.h: lacre-mediator builds its
 * PS-PDUs with it, and tests build odd but valid encodings with it (long-form
 * and indefinite lengths) to exercise the decoder.
 *
 * Usage: ber_enc_init(), then a mix of ber_enc_open()/ber_enc_close() for
 * constructed elements and the primitive writers, then ber_enc_finish().
 * Constructed lengths are back-patched at close, so the caller never computes
 * a length.  Errors are sticky (as a stream's error flag): after the first
 * failure every call is a no-op returning that error, and ber_enc_finish()
 * returns it, so callers may check once at the end.  On failure the dbuf
 * holds a partial element: the caller resets it or truncates to the length it
 * had before (ber_enc_init records it in start).
 *
 * Length styles (struct ber_enc.style):
 *   BER_ENC_LEN_MINIMAL    DER lengths: short form below 128, else the
 *                          fewest long-form octets.
 *   BER_ENC_LEN_OPENLI     as OpenLI 1.1.20 / libwandder 2.0.20: short form
 *                          below 128; above, the length octets are sized
 *                          like a signed integer except at exactly
 *                          2^(8n-1): 128 -> 81 80, 129..255 -> 82 00 xx,
 *                          256..32768 -> 82 xx xx, 32769..65535 ->
 *                          83 00 xx xx, and so on.
 *   BER_ENC_LEN_LONG       every length in the 4-octet long form 84 xx xx xx xx.
 *   BER_ENC_LEN_INDEFINITE constructed elements use the indefinite form
 *                          (80 ... 00 00); primitives use minimal lengths.
 */
#ifndef LACRE_BER_ENC_H
#define LACRE_BER_ENC_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/ber.h"
#include "lacre/buf.h"

#define BER_ENC_MAX_DEPTH 32

enum ber_enc_len_style {
	BER_ENC_LEN_MINIMAL = 0,
	BER_ENC_LEN_OPENLI = 1,
	BER_ENC_LEN_LONG = 2,
	BER_ENC_LEN_INDEFINITE = 3
};

/* Universal tag numbers used with BER_UNIVERSAL. */
enum ber_enc_utag {
	BER_TAG_BOOLEAN = 1,
	BER_TAG_INTEGER = 2,
	BER_TAG_OCTET_STRING = 4,
	BER_TAG_NULL = 5,
	BER_TAG_OID = 6,
	BER_TAG_ENUMERATED = 10,
	BER_TAG_UTF8STRING = 12,
	BER_TAG_RELATIVE_OID = 13,
	BER_TAG_SEQUENCE = 16,
	BER_TAG_SET = 17,
	BER_TAG_PRINTABLESTRING = 19,
	BER_TAG_IA5STRING = 22,
	BER_TAG_UTCTIME = 23,
	BER_TAG_GENERALIZEDTIME = 24
};

struct ber_enc {
	struct lacre_dbuf *b;
	int style;                        /* enum ber_enc_len_style */
	int err;                          /* sticky: first error, 0 if none */
	int depth;
	size_t start;                     /* b->len at ber_enc_init */
	size_t lenpos[BER_ENC_MAX_DEPTH]; /* offset of each open length octet */
	uint8_t indef[BER_ENC_MAX_DEPTH]; /* 1 when opened indefinite */
};

/* Start writing at the end of b with the given length style.  Never fails. */
void ber_enc_init(struct ber_enc *e, struct lacre_dbuf *b, int style);

/* Append identifier octets for (cls, constructed, tag): one octet for tag
 * numbers 0..30, else the high-tag-number form (1F|class, base-128).
 * Exposed for tests; the writers below call it. */
int ber_enc_tag(struct ber_enc *e, int cls, int constructed, uint32_t tag);

/* Append a definite length in the encoder's style (never indefinite). */
int ber_enc_len(struct ber_enc *e, size_t len);

/* Open a constructed element [cls tag]; its length is written at close. */
int ber_enc_open(struct ber_enc *e, int cls, uint32_t tag);
/* Shorthand: open a universal SEQUENCE (30). */
int ber_enc_seq(struct ber_enc *e);
/* Close the innermost open element, back-patching its length. */
int ber_enc_close(struct ber_enc *e);

/* Primitive with raw contents p[0..n) (OCTET STRING, strings, times). */
int ber_enc_prim(struct ber_enc *e, int cls, uint32_t tag, const void *p, size_t n);
/* Primitive from a NUL-terminated string. */
int ber_enc_str(struct ber_enc *e, int cls, uint32_t tag, const char *s);
/* INTEGER or ENUMERATED contents of a non-negative value, minimal two's
 * complement (a leading 00 when the top bit is set): 128 -> 00 80. */
int ber_enc_uint(struct ber_enc *e, int cls, uint32_t tag, uint64_t v);
/* INTEGER contents of a signed value, minimal two's complement. */
int ber_enc_int(struct ber_enc *e, int cls, uint32_t tag, int64_t v);
/* BOOLEAN (FF for true, as DER). */
int ber_enc_bool(struct ber_enc *e, int cls, uint32_t tag, int v);
/* NULL: tag and a zero length. */
int ber_enc_null(struct ber_enc *e, int cls, uint32_t tag);
/* OBJECT IDENTIFIER from arcs (n >= 2, arc0 <= 2, arc1 < 40 unless arc0 is 2). */
int ber_enc_oid(struct ber_enc *e, int cls, uint32_t tag, const uint32_t *arcs, size_t n);
/* RELATIVE-OID from arcs (n >= 1): base-128 arcs, no 40*X+Y step. */
int ber_enc_reloid(struct ber_enc *e, int cls, uint32_t tag, const uint32_t *arcs, size_t n);
/* Either form from dotted text "0.4.0.2.2.5.1.17" (relative != 0: RELATIVE-OID). */
int ber_enc_oid_text(struct ber_enc *e, int cls, uint32_t tag, const char *dotted, int relative);
/* GeneralizedTime "YYYYMMDDhhmmss[.f...]Z" for Unix microseconds unix_us
 * (>= 0), with frac_digits 0, 3 (OpenLI: milliseconds) or 6. */
int ber_enc_gentime(struct ber_enc *e, int cls, uint32_t tag, int64_t unix_us, int frac_digits);
/* UTCTime "YYMMDDhhmmssZ" (years 1950..2049). */
int ber_enc_utctime(struct ber_enc *e, int cls, uint32_t tag, int64_t unix_us);

/* Append bytes verbatim (an element encoded elsewhere). */
int ber_enc_raw(struct ber_enc *e, const void *p, size_t n);

/* The sticky error, or LACRE_E_STATE if elements are still open. */
int ber_enc_finish(struct ber_enc *e);

/* Format Unix microseconds as a GeneralizedTime text into out (>= 24 bytes);
 * returns the text length or a negative lacre_err. */
int ber_enc_gentime_text(int64_t unix_us, int frac_digits, char *out, size_t outlen);

#endif
