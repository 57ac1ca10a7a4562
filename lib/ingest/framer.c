/*
 * framer.c - reassembly of PS-PDUs from an unframed TCP byte stream
 * (spec §3.1).  The outer SEQUENCE length is the only delimiter: a read may
 * hold many PDUs or a fraction of one.
 *
 * Complete PDUs are delivered straight from the caller's read buffer; only
 * the bytes of one incomplete PDU are copied into f->pend, which grows with
 * the bytes that actually arrived (never from a declared length).  A
 * definite-length PDU's size is known from its first 2..6 octets.  An
 * indefinite-length outer PDU (30 80 ... 00 00) is scanned incrementally:
 * each byte is looked at once, however slowly it trickles in, so a hostile
 * sender cannot make the receiver rescan its buffer.  Every PDU found is
 * confirmed by etsi_pdu_size() before it is delivered.
 */
#include <string.h>

#include "lacre/ber.h"
#include "lacre/err.h"
#include "lacre/ingest.h"
#include "ingest/ingest_int.h"

#define PEND_KEEP 4096  /* keep a pending buffer this small between PDUs */

/* Initialise an empty framer that accepts PDUs up to max_pdu bytes. */
void ingest_framer_init(struct ingest_framer *f, size_t max_pdu)
{
	memset(f, 0, sizeof(*f));
	f->max_pdu = max_pdu ? max_pdu : ETSI_MAX_PDU_DEFAULT;
	lacre_dbuf_init(&f->pend, f->max_pdu + 16);
}

/* Bytes of an incomplete PDU held. */
size_t ingest_framer_pending(const struct ingest_framer *f)
{
	return f->pend.len;
}

/* The most a lacre_dbuf with alloc bytes allocated (cap max) may have
 * allocated once it holds want bytes: lacre_dbuf_reserve() doubles from 64
 * until the length fits, so never more than twice what it holds (plus its
 * NUL), and never past max (where it refuses instead). */
static size_t dbuf_bound(size_t alloc, size_t want, size_t max)
{
	size_t b;

	want++;                                  /* the NUL lacre_dbuf keeps room for */
	if (want <= alloc)
		return alloc;
	b = want > max / 2 ? max : 2 * want;
	if (b < 64)
		b = 64;
	return b < max ? b : max;
}

/* The most f's pending buffer may have allocated at any moment while n
 * more bytes are fed: at any moment it holds a contiguous piece of what it
 * holds now and the n new bytes, and a definite-length PDU's piece never
 * goes past its declared end (after which the buffer starts again from
 * the little it keeps).  The memory budget (server.c) asks this before a
 * read reaches the framer, so growth is granted for bytes that arrived,
 * never for a declared length. */
size_t ingest_framer_grow_bound(const struct ingest_framer *f, size_t n)
{
	size_t len = f->pend.len, rem, peak, rest;

	if (f->need == 0 || f->indef || f->need < len)
		return dbuf_bound(f->pend.alloc, len + (n < f->pend.max ? n : f->pend.max), f->pend.max);
	rem = f->need - len;
	if (n < rem)
		return dbuf_bound(f->pend.alloc, len + n, f->pend.max);
	/* this PDU completes: delivered from pend (or straight from the read
	 * when nothing is pending), then the rest starts from a small buffer */
	peak = len ? dbuf_bound(f->pend.alloc, f->need, f->pend.max) : f->pend.alloc;
	rest = n - rem;
	if (rest) {
		rest = dbuf_bound(f->pend.alloc > PEND_KEEP ? 0 : f->pend.alloc, rest, f->pend.max);
		if (rest > peak)
			peak = rest;
	}
	return peak;
}

/* Bytes the pending buffer has allocated (what the memory budget counts). */
size_t ingest_framer_allocated(const struct ingest_framer *f)
{
	return f->pend.alloc;
}

/* Free the pending bytes. */
void ingest_framer_free(struct ingest_framer *f)
{
	lacre_dbuf_free(&f->pend);
}

/* Parse the outer identifier and length octets of p[0..n).  On success set
 * *total (definite) or *indef = 1.  LACRE_E_INCOMPLETE when n is too short. */
static int outer_header(const uint8_t *p, size_t n, size_t max, size_t *total, int *indef)
{
	size_t i, nl, len = 0, hdr;

	if (n < 1)
		return LACRE_E_INCOMPLETE;
	if (p[0] != 0x30)
		return LACRE_E_MALFORMED;
	if (n < 2)
		return LACRE_E_INCOMPLETE;
	if (p[1] == 0x80) {
		*indef = 1;
		return LACRE_OK;
	}
	if (p[1] < 0x80) {
		len = p[1];
		hdr = 2;
	} else {
		nl = p[1] & 0x7f;
		if (nl > 4)
			return LACRE_E_MALFORMED;   /* 85..FE: too many octets; FF reserved */
		if (n < 2 + nl)
			return LACRE_E_INCOMPLETE;
		for (i = 0; i < nl; i++)
			len = (len << 8) | p[2 + i];
		hdr = 2 + nl;
	}
	if (len > max || max - len < hdr)
		return LACRE_E_TOO_LARGE;
	*total = hdr + len;
	*indef = 0;
	return LACRE_OK;
}

/* Scan p[0..n) as the continuation of an indefinite-length PDU.  Sets
 * *done to the number of bytes of p that complete the PDU (0 if it is not
 * complete yet, in which case all n bytes were consumed). */
static int scan_indef(struct ingest_framer *f, const uint8_t *p, size_t n, size_t *done)
{
	size_t i = 0, t, h, nl, k;
	uint64_t len;
	int tagdone;

	*done = 0;
	while (i < n) {
		if (f->skip > 0) {
			t = (uint64_t)(n - i) < f->skip ? n - i : (size_t)f->skip;
			f->skip -= t;
			i += t;
			f->scanned += t;
			continue;
		}
		if (f->hlen >= sizeof(f->hdr))
			return LACRE_E_MALFORMED;
		f->hdr[f->hlen++] = p[i++];
		f->scanned++;
		if (f->scanned > f->max_pdu)
			return LACRE_E_TOO_LARGE;
		/* identifier octets */
		h = 1;
		tagdone = 1;
		if ((f->hdr[0] & 0x1f) == 0x1f) {
			tagdone = 0;
			for (h = 1; h < f->hlen; h++) {
				if (h >= BER_MAX_TAG_OCTETS)
					return LACRE_E_TAG_TOO_LONG;
				if (!(f->hdr[h] & 0x80)) {
					tagdone = 1;
					h++;
					break;
				}
			}
			if (!tagdone) {
				if (f->hlen >= BER_MAX_TAG_OCTETS)
					return LACRE_E_TAG_TOO_LONG;
				continue;
			}
		}
		if (f->hlen <= h)
			continue;                   /* length octet not here yet */
		if (f->hdr[h] == 0x80) {
			if (!(f->hdr[0] & 0x20))
				return LACRE_E_MALFORMED;   /* indefinite primitive */
			if (++f->depth > BER_MAX_DEPTH)
				return LACRE_E_DEPTH;
			f->hlen = 0;
			continue;
		}
		if (f->hdr[h] == 0xff)
			return LACRE_E_MALFORMED;
		len = 0;
		if (f->hdr[h] < 0x80) {
			len = f->hdr[h];
		} else {
			nl = f->hdr[h] & 0x7f;
			if (nl > 4)
				return LACRE_E_MALFORMED;
			if (f->hlen < h + 1 + nl)
				continue;
			for (k = 0; k < nl; k++)
				len = (len << 8) | f->hdr[h + 1 + k];
		}
		f->hlen = 0;
		if (f->hdr[0] == 0x00) {
			/* end-of-contents: 00 00 closes the innermost open element */
			if (len != 0 || f->depth == 0)
				return LACRE_E_MALFORMED;
			if (--f->depth == 0) {
				*done = i;
				return LACRE_OK;
			}
			continue;
		}
		if (len > f->max_pdu - f->scanned)
			return LACRE_E_TOO_LARGE;
		f->skip = len;
	}
	return LACRE_OK;
}

/* Confirm a complete PDU with the decoder's framing rule and deliver it. */
static int deliver(struct ingest_framer *f, const uint8_t *p, size_t len,
                   ingest_pdu_fn fn, void *arg)
{
	size_t sz = 0;
	int r;

	r = etsi_pdu_size(p, len, f->max_pdu, &sz);
	if (r == LACRE_E_INCOMPLETE || (r == LACRE_OK && sz != len))
		r = LACRE_E_MALFORMED;
	if (r != LACRE_OK)
		return r;
	return fn(arg, p, len, f->offset);
}

/* Forget the current PDU's state after it was delivered (len bytes). */
static void next_pdu(struct ingest_framer *f, size_t len)
{
	f->offset += len;
	f->need = 0;
	f->indef = 0;
	f->scanned = 0;
	f->skip = 0;
	f->depth = 0;
	f->hlen = 0;
	if (f->pend.alloc > PEND_KEEP)
		lacre_dbuf_free(&f->pend);
	else
		lacre_dbuf_reset(&f->pend);
}

/* Feed n bytes; deliver every complete PDU.  See ingest.h. */
int ingest_framer_feed(struct ingest_framer *f, const uint8_t *p, size_t n,
                       ingest_pdu_fn fn, void *arg, uint64_t *err_off)
{
	uint8_t h[8];
	size_t hn, total = 0, take, done;
	int r = LACRE_OK, indef = 0;

	while (n > 0) {
		if (f->need == 0 && !f->indef) {
			/* header not known yet: pend holds at most 5 bytes */
			hn = f->pend.len;
			memcpy(h, f->pend.p ? f->pend.p : h, hn);
			take = sizeof(h) - hn < n ? sizeof(h) - hn : n;
			memcpy(h + hn, p, take);
			r = outer_header(h, hn + take, f->max_pdu, &total, &indef);
			if (r == LACRE_E_INCOMPLETE) {
				if ((r = lacre_dbuf_add(&f->pend, p, n)) != LACRE_OK)
					goto out;
				return LACRE_OK;
			}
			if (r != LACRE_OK)
				goto out;
			if (indef) {
				f->indef = 1;
				f->depth = 0;
				f->scanned = 0;
				f->hlen = 0;
				f->skip = 0;
				if (f->pend.len &&
				    (r = scan_indef(f, f->pend.p, f->pend.len, &done)) != LACRE_OK)
					goto out;
			} else {
				f->need = total;
			}
		}
		if (f->need) {
			if (f->pend.len == 0 && n >= f->need) {
				total = f->need;
				if ((r = deliver(f, p, total, fn, arg)) != LACRE_OK)
					goto out;
				next_pdu(f, total);
				p += total;
				n -= total;
				continue;
			}
			take = f->need - f->pend.len < n ? f->need - f->pend.len : n;
			if ((r = lacre_dbuf_add(&f->pend, p, take)) != LACRE_OK)
				goto out;
			p += take;
			n -= take;
			if (f->pend.len == f->need) {
				total = f->need;
				if ((r = deliver(f, f->pend.p, total, fn, arg)) != LACRE_OK)
					goto out;
				next_pdu(f, total);
			}
			continue;
		}
		/* indefinite length: scan the new bytes once */
		if ((r = scan_indef(f, p, n, &done)) != LACRE_OK)
			goto out;
		if (done == 0) {
			if ((r = lacre_dbuf_add(&f->pend, p, n)) != LACRE_OK)
				goto out;
			return LACRE_OK;
		}
		if (f->pend.len == 0) {
			if ((r = deliver(f, p, done, fn, arg)) != LACRE_OK)
				goto out;
		} else {
			if ((r = lacre_dbuf_add(&f->pend, p, done)) != LACRE_OK)
				goto out;
			if ((r = deliver(f, f->pend.p, f->pend.len, fn, arg)) != LACRE_OK)
				goto out;
		}
		total = f->scanned;
		next_pdu(f, total);
		p += done;
		n -= done;
	}
	return LACRE_OK;
out:
	if (err_off)
		*err_off = f->offset;
	return r;
}
