/*
 * frame.c - record frames and segment header frames (include/lacre/frame.h,
 * docs/FORMATS.md §3).  The encoder writes the one canonical form; the
 * decoder reads through lacre_rbuf and accepts nothing else, so that a
 * decoded record re-encodes to the same bytes and its commitment is
 * well-defined.
 *
 * Hot path: frame_record_head writes the ~60..2000 bytes before the PDU
 * into a caller buffer, so the segment writer can hash and seal the head
 * and the PDU without copying the PDU again.
 */
#include <string.h>

#include <openssl/evp.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/frame.h"

#define FRAME_SEGHDR_VERSION 1
#define FRAME_FLAG_CIN 0x01u
#define FRAME_FLAG_LATE 0x08u   /* late delivery (L3/L4) */
#define FRAME_TIME_SHIFT 1
#define FRAME_TIME_MASK 0x06u

struct frame_bytes frame_cstr(const char *s)
{
	struct frame_bytes b;
	b.p = (const uint8_t *)s;
	b.len = s ? strlen(s) : 0;
	return b;
}

/* Is every byte of s free of control characters (0x00..0x1f, 0x7f)?
 * Eight bytes at a time (every record's peer, content and warrant pass
 * here: a byte loop was 1-2 % of a core's ingest): in a word x,
 * (x - 0x20..20) & ~x & 0x80..80 is non-zero exactly when some byte is
 * below 0x20, and the same test on x ^ 0x7f..7f against 0x01..01 exactly
 * when some byte is 0x7f (bytes from 0x80 up never set a high bit there:
 * ~x clears it). */
static int frame_text_ok(const uint8_t *p, size_t n)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, d;
		memcpy(&x, p + i, 8);
		d = x ^ (ones * 0x7f);
		if (((x - ones * 0x20) & ~x & high) | ((d - ones) & ~d & high))
			return 0;
	}
	for (; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

/* Is b a usable string field of at most max bytes?  Sets *r. */
static int frame_str_check(const struct frame_bytes *b, size_t max, int *r)
{
	if (b->len && !b->p) {
		*r = LACRE_E_INVALID;
		return 0;
	}
	if (b->len > max) {
		*r = LACRE_E_TOO_LARGE;
		return 0;
	}
	if (!frame_text_ok(b->p, b->len)) {
		*r = LACRE_E_INVALID;
		return 0;
	}
	return 1;
}

/* Big-endian stores into a head buffer (bounds already checked). */
static uint8_t *put_u8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static uint8_t *put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)(v >> 32));
	return put_u32(p + 4, (uint32_t)v);
}

/* Copy b's bytes (no length) to p. */
static uint8_t *put_bytes(uint8_t *p, const struct frame_bytes *b)
{
	if (b->len)
		memcpy(p, b->p, b->len);
	return p + b->len;
}

/* The record version rec encodes as (0 means the current one). */
static uint8_t frame_version_of(const struct frame_record *rec)
{
	return rec->version ? rec->version : FRAME_RECORD_VERSION;
}

/* Check every field of rec against the format's rules. */
static int frame_record_check(const struct frame_record *rec)
{
	uint8_t v = frame_version_of(rec);
	int r = LACRE_OK;

	if (v != FRAME_RECORD_VERSION && v != FRAME_RECORD_VERSION_1)
		return LACRE_E_UNSUPPORTED;
	if (v == FRAME_RECORD_VERSION_1) {
		/* version 1 has none of the later fields */
		if (rec->operator_name.len || rec->notes || rec->pre.len)
			return LACRE_E_INVALID;
	} else {
		if (!frame_str_check(&rec->operator_name, FRAME_OPERATOR_MAX, &r))
			return r;
		if (rec->notes & ~FRAME_NOTES_KNOWN)
			return LACRE_E_INVALID;
		/* the pre-encryption form has the PDU's length (same offsets) */
		if (rec->pre.len && (rec->pre.len != rec->pdu.len || !rec->pre.p))
			return LACRE_E_INVALID;
	}
	if (!frame_str_check(&rec->peer, FRAME_PEER_MAX, &r) ||
	    !frame_str_check(&rec->content, FRAME_CONTENT_MAX, &r) ||
	    !frame_str_check(&rec->warrant, FRAME_WARRANT_MAX, &r) ||
	    !frame_str_check(&rec->reason, FRAME_REASON_MAX, &r))
		return r;
	if (rec->liid.len > FRAME_LIID_MAX || rec->pdu.len > FRAME_PDU_MAX)
		return LACRE_E_TOO_LARGE;
	if ((rec->liid.len && !rec->liid.p) || !rec->pdu.p || rec->pdu.len == 0)
		return LACRE_E_INVALID;
	if ((rec->has_cin != 0 && rec->has_cin != 1) || (!rec->has_cin && rec->cin != 0))
		return LACRE_E_INVALID;
	if (rec->time_kind > 2 || (rec->time_kind == 0 && rec->time_us != 0))
		return LACRE_E_INVALID;
	if (rec->direction < -1 || rec->direction > 254)
		return LACRE_E_INVALID;
	if (rec->late_delivery > 1 || (rec->late_delivery && rec->route != FRAME_ROUTE_WARRANT))
		return LACRE_E_INVALID;
	if (rec->route == FRAME_ROUTE_WARRANT) {
		if (rec->warrant.len == 0 || rec->reason.len != 0)
			return LACRE_E_INVALID;
	} else if (rec->route == FRAME_ROUTE_QUARANTINE) {
		if (rec->reason.len == 0)
			return LACRE_E_INVALID;
	} else {
		return LACRE_E_INVALID;
	}
	return LACRE_OK;
}

/* The length of rec's head (everything before the PDU) in record
 * version v: the one layout both frame_record_head and frame_record_size
 * count from (64-bit: unchecked lengths cannot wrap it). */
static uint64_t frame_head_len(const struct frame_record *rec, uint8_t v)
{
	uint64_t hl = FRAME_HDR_SIZE + FRAME_SALT_SIZE + 43 +
		      1 + (uint64_t)rec->peer.len + 2 + (uint64_t)rec->liid.len +
		      1 + (uint64_t)rec->content.len + 1 + (uint64_t)rec->warrant.len +
		      2 + (uint64_t)rec->reason.len + 4;
	if (v >= 2)
		hl += 1 + (uint64_t)rec->operator_name.len + 1;
	return hl;
}

uint64_t frame_record_size(const struct frame_record *rec)
{
	uint8_t v = frame_version_of(rec);
	uint64_t n = frame_head_len(rec, v) + (uint64_t)rec->pdu.len;

	if (v >= 2)
		n += FRAME_TAIL_SIZE + (uint64_t)rec->pre.len;
	return n;
}

int frame_record_head(const struct frame_record *rec, uint8_t *head, size_t cap,
		      size_t *head_len)
{
	size_t hl, body;
	uint8_t *p, v;
	int r;

	if (!rec || !head || !head_len)
		return LACRE_E_INVALID;
	if ((r = frame_record_check(rec)) != LACRE_OK)
		return r;
	v = frame_version_of(rec);
	if (frame_head_len(rec, v) > cap)
		return LACRE_E_TOO_LARGE;
	hl = (size_t)frame_head_len(rec, v);
	body = hl - FRAME_HDR_SIZE + rec->pdu.len;
	if (v >= 2)
		body += FRAME_TAIL_SIZE + rec->pre.len;
	p = head;
	memcpy(p, FRAME_MAGIC, 4);
	p += 4;
	p = put_u8(p, FRAME_VERSION);
	p = put_u8(p, FRAME_RECORD);
	p = put_u32(p, (uint32_t)body);
	memcpy(p, rec->salt, FRAME_SALT_SIZE);
	p += FRAME_SALT_SIZE;
	/* canonical record bytes */
	p = put_u8(p, v);
	p = put_u8(p, rec->listener);
	p = put_u64(p, (uint64_t)rec->recv_us);
	p = put_u64(p, rec->conn_id);
	p = put_u64(p, rec->seq);
	p = put_u32(p, rec->cin);
	p = put_u64(p, (uint64_t)rec->time_us);
	p = put_u8(p, (uint8_t)((rec->has_cin ? FRAME_FLAG_CIN : 0) |
				(uint8_t)(rec->time_kind << FRAME_TIME_SHIFT) |
				(rec->late_delivery ? FRAME_FLAG_LATE : 0)));
	p = put_u8(p, rec->kind);
	p = put_u8(p, rec->iri_type);
	p = put_u8(p, (uint8_t)(rec->direction < 0 ? 0xff : rec->direction));
	p = put_u8(p, rec->route);
	p = put_u8(p, (uint8_t)rec->peer.len);
	p = put_bytes(p, &rec->peer);
	p = put_u16(p, (uint16_t)rec->liid.len);
	p = put_bytes(p, &rec->liid);
	p = put_u8(p, (uint8_t)rec->content.len);
	p = put_bytes(p, &rec->content);
	p = put_u8(p, (uint8_t)rec->warrant.len);
	p = put_bytes(p, &rec->warrant);
	p = put_u16(p, (uint16_t)rec->reason.len);
	p = put_bytes(p, &rec->reason);
	if (v >= 2) {
		p = put_u8(p, (uint8_t)rec->operator_name.len);
		p = put_bytes(p, &rec->operator_name);
		p = put_u8(p, rec->notes);
	}
	p = put_u32(p, (uint32_t)rec->pdu.len);
	if ((size_t)(p - head) != hl)
		return LACRE_E_INTERNAL;
	*head_len = hl;
	return LACRE_OK;
}

void frame_record_tail(const struct frame_record *rec, uint8_t tail[FRAME_TAIL_SIZE],
		       size_t *tail_len)
{
	if (frame_version_of(rec) < 2) {
		*tail_len = 0;
		return;
	}
	put_u32(tail, (uint32_t)rec->pre.len);
	*tail_len = FRAME_TAIL_SIZE;
}

int frame_commitment(const uint8_t salt[FRAME_SALT_SIZE], const uint8_t *canon,
		     size_t n, uint8_t out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t h[32];
	unsigned int hl = 0;
	int r = LACRE_E_CRYPTO;

	if (!salt || (!canon && n) || !out) {
		r = LACRE_E_INVALID;
		goto out;
	}
	if (!md) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, salt, FRAME_SALT_SIZE) != 1 ||
	    (n && EVP_DigestUpdate(md, canon, n) != 1) ||
	    EVP_DigestFinal_ex(md, h, &hl) != 1 || hl != 32)
		goto out;
	memcpy(out, h, 32);
	r = LACRE_OK;
out:
	EVP_MD_CTX_free(md);
	return r;
}

int frame_record_encode(const struct frame_record *rec, struct lacre_dbuf *out,
			uint8_t commitment[32])
{
	uint8_t head[FRAME_HEAD_MAX], tail[FRAME_TAIL_SIZE], c[32];
	size_t hl = 0, tl = 0, before, all;
	int r;

	if (!rec || !out)
		return LACRE_E_INVALID;
	if ((r = frame_record_head(rec, head, sizeof(head), &hl)) != LACRE_OK)
		return r;
	frame_record_tail(rec, tail, &tl);
	all = hl + rec->pdu.len + tl + rec->pre.len;
	before = out->len;
	if ((r = lacre_dbuf_reserve(out, all)) != LACRE_OK ||
	    (r = lacre_dbuf_add(out, head, hl)) != LACRE_OK ||
	    (r = lacre_dbuf_add(out, rec->pdu.p, rec->pdu.len)) != LACRE_OK ||
	    (tl && (r = lacre_dbuf_add(out, tail, tl)) != LACRE_OK) ||
	    (rec->pre.len && (r = lacre_dbuf_add(out, rec->pre.p, rec->pre.len)) != LACRE_OK))
		goto fail;
	if (commitment) {
		const uint8_t *canon = out->p + before + FRAME_HDR_SIZE + FRAME_SALT_SIZE;
		size_t cl = all - FRAME_HDR_SIZE - FRAME_SALT_SIZE;
		if ((r = frame_commitment(rec->salt, canon, cl, c)) != LACRE_OK)
			goto fail;
		memcpy(commitment, c, 32);
	}
	return LACRE_OK;
fail:
	out->len = before;
	return r;
}

int frame_next(struct lacre_rbuf *b, uint8_t *type, struct lacre_rbuf *body)
{
	struct lacre_rbuf t;
	const uint8_t *magic;
	uint8_t ver, ty;
	uint32_t len;
	int r;

	if (!b || !type || !body)
		return LACRE_E_INVALID;
	t = *b;
	if ((r = lacre_rbuf_take(&t, 4, &magic)) != LACRE_OK)
		return r;
	if (memcmp(magic, FRAME_MAGIC, 4) != 0)
		return LACRE_E_MALFORMED;
	if ((r = lacre_rbuf_u8(&t, &ver)) != LACRE_OK ||
	    (r = lacre_rbuf_u8(&t, &ty)) != LACRE_OK ||
	    (r = lacre_rbuf_u32be(&t, &len)) != LACRE_OK)
		return r;
	if (ver != FRAME_VERSION)
		return LACRE_E_UNSUPPORTED;
	if (len > FRAME_BODY_MAX)
		return LACRE_E_TOO_LARGE;
	if ((r = lacre_rbuf_sub(&t, len, body)) != LACRE_OK)
		return r;
	*type = ty;
	*b = t;
	return LACRE_OK;
}

/* Read a u8 length-prefixed string of at most max bytes into s. */
static int get_str8(struct lacre_rbuf *b, size_t max, struct frame_bytes *s)
{
	uint8_t n;
	int r;
	if ((r = lacre_rbuf_u8(b, &n)) != LACRE_OK)
		return r;
	if (n > max)
		return LACRE_E_TOO_LARGE;
	if ((r = lacre_rbuf_take(b, n, &s->p)) != LACRE_OK)
		return r;
	s->len = n;
	return LACRE_OK;
}

/* Read a u16 length-prefixed byte string of at most max bytes into s. */
static int get_bytes16(struct lacre_rbuf *b, size_t max, struct frame_bytes *s)
{
	uint16_t n;
	int r;
	if ((r = lacre_rbuf_u16be(b, &n)) != LACRE_OK)
		return r;
	if (n > max)
		return LACRE_E_TOO_LARGE;
	if ((r = lacre_rbuf_take(b, n, &s->p)) != LACRE_OK)
		return r;
	s->len = n;
	return LACRE_OK;
}

int frame_record_decode_body(struct lacre_rbuf body, struct frame_record *rec)
{
	struct frame_record t;
	struct lacre_rbuf *b = &body;
	uint8_t ver, flags, dir;
	uint32_t pdu_len;
	uint64_t u;
	int r;

	if (!rec)
		return LACRE_E_INVALID;
	memset(&t, 0, sizeof(t));
	if ((r = lacre_rbuf_copy(b, t.salt, FRAME_SALT_SIZE)) != LACRE_OK)
		return r;
	t.canon.p = lacre_rbuf_ptr(b);
	t.canon.len = lacre_rbuf_left(b);
	if ((r = lacre_rbuf_u8(b, &ver)) != LACRE_OK)
		return r;
	if (ver != FRAME_RECORD_VERSION && ver != FRAME_RECORD_VERSION_1)
		return LACRE_E_UNSUPPORTED;
	t.version = ver;
	if ((r = lacre_rbuf_u8(b, &t.listener)) != LACRE_OK ||
	    (r = lacre_rbuf_u64be(b, &u)) != LACRE_OK)
		return r;
	t.recv_us = (int64_t)u;
	if ((r = lacre_rbuf_u64be(b, &t.conn_id)) != LACRE_OK ||
	    (r = lacre_rbuf_u64be(b, &t.seq)) != LACRE_OK ||
	    (r = lacre_rbuf_u32be(b, &t.cin)) != LACRE_OK ||
	    (r = lacre_rbuf_u64be(b, &u)) != LACRE_OK)
		return r;
	t.time_us = (int64_t)u;
	if ((r = lacre_rbuf_u8(b, &flags)) != LACRE_OK ||
	    (r = lacre_rbuf_u8(b, &t.kind)) != LACRE_OK ||
	    (r = lacre_rbuf_u8(b, &t.iri_type)) != LACRE_OK ||
	    (r = lacre_rbuf_u8(b, &dir)) != LACRE_OK ||
	    (r = lacre_rbuf_u8(b, &t.route)) != LACRE_OK)
		return r;
	if (flags & ~(FRAME_FLAG_CIN | FRAME_TIME_MASK | FRAME_FLAG_LATE))
		return LACRE_E_MALFORMED;
	t.has_cin = (flags & FRAME_FLAG_CIN) ? 1 : 0;
	t.late_delivery = (flags & FRAME_FLAG_LATE) ? 1 : 0;
	t.time_kind = (uint8_t)((flags & FRAME_TIME_MASK) >> FRAME_TIME_SHIFT);
	t.direction = dir == 0xff ? FRAME_DIRECTION_NONE : dir;
	if ((r = get_str8(b, FRAME_PEER_MAX, &t.peer)) != LACRE_OK ||
	    (r = get_bytes16(b, FRAME_LIID_MAX, &t.liid)) != LACRE_OK ||
	    (r = get_str8(b, FRAME_CONTENT_MAX, &t.content)) != LACRE_OK ||
	    (r = get_str8(b, FRAME_WARRANT_MAX, &t.warrant)) != LACRE_OK ||
	    (r = get_bytes16(b, FRAME_REASON_MAX, &t.reason)) != LACRE_OK)
		return r;
	if (ver >= 2 &&
	    ((r = get_str8(b, FRAME_OPERATOR_MAX, &t.operator_name)) != LACRE_OK ||
	     (r = lacre_rbuf_u8(b, &t.notes)) != LACRE_OK))
		return r;
	if ((r = lacre_rbuf_u32be(b, &pdu_len)) != LACRE_OK)
		return r;
	if (pdu_len > FRAME_PDU_MAX)
		return LACRE_E_TOO_LARGE;
	if ((r = lacre_rbuf_take(b, pdu_len, &t.pdu.p)) != LACRE_OK)
		return r;
	t.pdu.len = pdu_len;
	if (ver >= 2) {
		uint32_t pre_len;
		if ((r = lacre_rbuf_u32be(b, &pre_len)) != LACRE_OK)
			return r;
		if (pre_len > FRAME_PDU_MAX)
			return LACRE_E_TOO_LARGE;
		if ((r = lacre_rbuf_take(b, pre_len, &t.pre.p)) != LACRE_OK)
			return r;
		t.pre.len = pre_len;
	}
	if ((r = lacre_rbuf_expect_end(b)) != LACRE_OK)
		return r;
	/* the same rules as the encoder: one encoding per record */
	if ((r = frame_record_check(&t)) != LACRE_OK)
		return r == LACRE_E_INVALID ? LACRE_E_MALFORMED : r;
	*rec = t;
	return LACRE_OK;
}

int frame_record_decode(const uint8_t *p, size_t n, struct frame_record *rec)
{
	struct lacre_rbuf b, body;
	uint8_t type;
	int r;

	if ((!p && n) || !rec)
		return LACRE_E_INVALID;
	lacre_rbuf_init(&b, p, n);
	if ((r = frame_next(&b, &type, &body)) != LACRE_OK)
		return r;
	if (type != FRAME_RECORD)
		return LACRE_E_UNEXPECTED;
	if ((r = lacre_rbuf_expect_end(&b)) != LACRE_OK)
		return r;
	return frame_record_decode_body(body, rec);
}

int frame_segment_header_encode(const struct frame_segment_header *h,
				struct lacre_dbuf *out)
{
	uint8_t buf[FRAME_HDR_SIZE + 26 + FRAME_RECIPIENTS_MAX * 32], *p = buf;
	size_t body;

	if (!h || !out)
		return LACRE_E_INVALID;
	if (h->n_recipients < 1 || h->n_recipients > FRAME_RECIPIENTS_MAX)
		return LACRE_E_INVALID;
	body = 1 + 16 + 8 + 1 + 32 * h->n_recipients;
	memcpy(p, FRAME_MAGIC, 4);
	p += 4;
	p = put_u8(p, FRAME_VERSION);
	p = put_u8(p, FRAME_SEGMENT_HEADER);
	p = put_u32(p, (uint32_t)body);
	p = put_u8(p, FRAME_SEGHDR_VERSION);
	memcpy(p, h->id, 16);
	p += 16;
	p = put_u64(p, (uint64_t)h->created_us);
	p = put_u8(p, (uint8_t)h->n_recipients);
	memcpy(p, h->recipients, 32 * h->n_recipients);
	p += 32 * h->n_recipients;
	return lacre_dbuf_add(out, buf, (size_t)(p - buf));
}

int frame_segment_header_decode_body(struct lacre_rbuf body,
				     struct frame_segment_header *h)
{
	struct frame_segment_header t;
	uint8_t ver, n;
	uint64_t u;
	int r;

	if (!h)
		return LACRE_E_INVALID;
	memset(&t, 0, sizeof(t));
	if ((r = lacre_rbuf_u8(&body, &ver)) != LACRE_OK)
		return r;
	if (ver != FRAME_SEGHDR_VERSION)
		return LACRE_E_UNSUPPORTED;
	if ((r = lacre_rbuf_copy(&body, t.id, 16)) != LACRE_OK ||
	    (r = lacre_rbuf_u64be(&body, &u)) != LACRE_OK ||
	    (r = lacre_rbuf_u8(&body, &n)) != LACRE_OK)
		return r;
	t.created_us = (int64_t)u;
	if (n < 1 || n > FRAME_RECIPIENTS_MAX)
		return LACRE_E_MALFORMED;
	t.n_recipients = n;
	if ((r = lacre_rbuf_copy(&body, t.recipients, 32u * n)) != LACRE_OK)
		return r;
	if ((r = lacre_rbuf_expect_end(&body)) != LACRE_OK)
		return r;
	*h = t;
	return LACRE_OK;
}
