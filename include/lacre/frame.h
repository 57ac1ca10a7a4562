/*
 * frame.h - the record frame: how one received record (the PS-PDU bytes as
 * received, receipt metadata, decoded index fields and the routing decision)
 * is laid out inside a sealed segment, and the ledger commitment to it.
 * The byte layout is documented in docs/FORMATS.md §3; this header is the
 * C view of it.  Owned by lib/seal/frame.c.
 *
 * A frame is
 *     magic "LCRF" (4) | version 1 (u8) | type (u8) | body length L (u32) | body (L)
 * big-endian throughout.  Type 1 is the segment header (one per segment,
 * first), type 2 a record.  A record body is
 *     salt (16) | canonical record bytes
 * and the ledger commitment is SHA-256(salt || canonical record bytes),
 * i.e. the SHA-256 of the whole record body.  The encoding is canonical:
 * every record has exactly one encoding, and the decoder rejects anything
 * else (non-zero reserved bits, values for absent fields, bad lengths,
 * trailing bytes).
 *
 * The struct uses plain fields (no ETSI types) so that ingest fills it from
 * struct etsi_pdu and struct lacre_record, and the verifier reads it with
 * no decoder.  Byte strings are (pointer, length) pairs that the encoder
 * reads and the decoder points into the caller's input (no copy, valid as
 * long as the input is).
 */
#ifndef LACRE_FRAME_H
#define LACRE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"

#define FRAME_MAGIC "LCRF"
#define FRAME_VERSION 1
#define FRAME_HDR_SIZE 10            /* magic, version, type, body length */
#define FRAME_SALT_SIZE 16
#define FRAME_RECORD_VERSION 2       /* first byte of canonical record bytes: the
				      * version the encoder writes (1 is still
				      * read, and re-encoded as read) */
#define FRAME_RECORD_VERSION_1 1

enum frame_type {
	FRAME_SEGMENT_HEADER = 1,
	FRAME_RECORD = 2
};

/* Limits: the decoder rejects larger values with LACRE_E_TOO_LARGE and the
 * encoder refuses them with LACRE_E_TOO_LARGE. */
#define FRAME_PEER_MAX 63            /* struct lacre_record.peer without NUL */
#define FRAME_LIID_MAX 256
#define FRAME_CONTENT_MAX 64
#define FRAME_WARRANT_MAX 128
#define FRAME_REASON_MAX 1024
#define FRAME_OPERATOR_MAX 64        /* operator name (lacre.conf operator.NAME) */
#define FRAME_PDU_MAX (16u << 20)    /* ETSI_MAX_PDU_DEFAULT */
#define FRAME_HEAD_MAX 2048          /* a record frame's bytes before the PDU */
#define FRAME_TAIL_SIZE 4            /* v2: the pre-encryption form's length */
/* a v2 body: head, PDU, and a pre-encryption form as long as the PDU */
#define FRAME_BODY_MAX (2 * FRAME_PDU_MAX + FRAME_HEAD_MAX + FRAME_TAIL_SIZE)

/* Record notes (v2): what the receiver accepted and flagged rather than
 * discarded.  The same bits as ETSI_FLAG_* (etsi.h). */
#define FRAME_NOTE_USEC_CARRY 0x01u  /* microSeconds 1,000,000 read as the next second */
#define FRAME_NOTE_KEY_OUTSIDE_WINDOW 0x02u /* decrypted with a handover key
					      * outside its validity window */
#define FRAME_NOTES_KNOWN (FRAME_NOTE_USEC_CARRY | FRAME_NOTE_KEY_OUTSIDE_WINDOW)
#define FRAME_RECIPIENTS_MAX 64

enum frame_route {
	FRAME_ROUTE_WARRANT = 1,     /* sealed to the warrant's recipient */
	FRAME_ROUTE_QUARANTINE = 2   /* sealed to oversight; reason says why */
};

#define FRAME_DIRECTION_NONE (-1)

struct frame_bytes {
	const uint8_t *p;
	size_t len;
};

struct frame_record {
	uint8_t version;                 /* record version: 0 = FRAME_RECORD_VERSION
					  * when encoding; the decoder sets 1 or 2 */
	uint8_t salt[FRAME_SALT_SIZE];   /* 16 CSPRNG bytes, fresh per record */
	/* receipt metadata (struct lacre_record) */
	int64_t recv_us;                 /* lacre's receive time, Unix us */
	uint8_t listener;                /* enum lacre_listener (2 HI2, 3 HI3) */
	uint64_t conn_id;
	struct frame_bytes peer;         /* "ip:port", at most FRAME_PEER_MAX */
	/* decoded index fields (struct etsi_pdu) */
	struct frame_bytes liid;         /* raw LIID octets */
	int has_cin;                     /* 0 or 1; cin must be 0 when 0 */
	uint32_t cin;
	uint64_t seq;
	uint8_t kind;                    /* enum etsi_kind */
	uint8_t time_kind;               /* 0 none, 1 timeStamp, 2 microSecondTimeStamp
					  * (etsi_pdu.has_time); time_us 0 when 0 */
	int64_t time_us;
	uint8_t iri_type;                /* enum etsi_iri_type, 0 none */
	int direction;                   /* -1 absent, else 0..254 */
	struct frame_bytes content;      /* "ipcc", "ipmmiri", ... or empty */
	/* routing decision */
	uint8_t route;                   /* enum frame_route */
	uint8_t late_delivery;           /* 1: intercepted inside its warrant's
					  * window, received after the window
					  * ended (legal rules L3/L4); route
					  * warrant only */
	struct frame_bytes warrant;      /* warrant id: required for a warrant
					  * route, optional for quarantine */
	struct frame_bytes reason;       /* quarantine reason: required for
					  * quarantine, empty for a warrant */
	/* v2: who delivered it and what was flagged */
	struct frame_bytes operator_name; /* the connection's authenticated
					  * operator (lacre.conf), empty when
					  * none matched; at most FRAME_OPERATOR_MAX */
	uint8_t notes;                   /* FRAME_NOTE_* bits */
	/* the evidence */
	struct frame_bytes pdu;          /* PS-PDU exactly as received, 1.. bytes */
	struct frame_bytes pre;          /* v2: the PDU's pre-encryption form
					  * (TS 102 232-1 Annex G: encryptionType
					  * none(1), the decrypted payload in
					  * place of the ciphertext, same length
					  * as pdu) when the receiver decrypted
					  * it, else empty */
	/* set by the decoder: the canonical record bytes inside the input
	 * (everything of the body after the salt) */
	struct frame_bytes canon;
};

/* NUL-terminated string (or NULL) as a frame_bytes. */
struct frame_bytes frame_cstr(const char *s);

/* Encode everything of the record frame before the PDU bytes into
 * head[0..cap) and set *head_len; the complete frame is head, rec->pdu,
 * then (version 2) the tail from frame_record_tail and rec->pre.  The
 * record body (for the commitment) is head[FRAME_HDR_SIZE..] followed by
 * those.  LACRE_E_INVALID for values the format cannot carry
 * (route, strings with control characters, cin without has_cin, ...),
 * LACRE_E_TOO_LARGE above the limits or when cap is too small. */
int frame_record_head(const struct frame_record *rec, uint8_t *head, size_t cap,
		      size_t *head_len);

/* The bytes after the PDU that precede rec->pre: tail[0..*tail_len), 4
 * (the pre-encryption form's length) for version 2, none for version 1.
 * rec must have passed frame_record_head. */
void frame_record_tail(const struct frame_record *rec, uint8_t tail[FRAME_TAIL_SIZE],
		       size_t *tail_len);

/* The bytes rec's complete frame takes (head, PDU, tail, pre-encryption
 * form), computed from the field lengths alone: rec is not checked (that
 * is frame_record_head's job), so the figure holds only for a rec that
 * frame_record_head accepts.  For planning a segment's room per record
 * without encoding the head twice. */
uint64_t frame_record_size(const struct frame_record *rec);

/* Append the complete record frame to out; commitment (may be NULL)
 * receives SHA-256(salt || canonical record bytes).  out is unchanged on
 * failure.  Errors as frame_record_head, plus LACRE_E_TOO_LARGE when out is
 * full and LACRE_E_CRYPTO. */
int frame_record_encode(const struct frame_record *rec, struct lacre_dbuf *out,
			uint8_t commitment[32]);

/* Split the next frame off b: its type and its body as a sub-cursor.
 * LACRE_E_INCOMPLETE (b unchanged) when b holds only part of a frame,
 * LACRE_E_MALFORMED for a bad magic, LACRE_E_UNSUPPORTED for another
 * version, LACRE_E_TOO_LARGE for a body over FRAME_BODY_MAX. */
int frame_next(struct lacre_rbuf *b, uint8_t *type, struct lacre_rbuf *body);

/* Strictly decode a record body (from frame_next) into rec; pointers in rec
 * point into the body's bytes.  LACRE_E_MALFORMED for any non-canonical
 * encoding, LACRE_E_TRAILING for bytes after the PDU, LACRE_E_INCOMPLETE
 * when the body ends early, LACRE_E_TOO_LARGE above the limits,
 * LACRE_E_UNSUPPORTED for another record version.  rec is set only on
 * success. */
int frame_record_decode_body(struct lacre_rbuf body, struct frame_record *rec);

/* Decode exactly one record frame p[0..n) (trailing bytes rejected). */
int frame_record_decode(const uint8_t *p, size_t n, struct frame_record *rec);

/* SHA-256(salt || canon[0..n)): the ledger commitment to one record. */
int frame_commitment(const uint8_t salt[FRAME_SALT_SIZE], const uint8_t *canon,
		     size_t n, uint8_t out[32]);

/* The segment header frame: first frame of every segment's plaintext. */
struct frame_segment_header {
	uint8_t id[16];                  /* random; the object name is its hex */
	int64_t created_us;              /* when the segment was opened, Unix us */
	size_t n_recipients;             /* 1..FRAME_RECIPIENTS_MAX */
	uint8_t recipients[FRAME_RECIPIENTS_MAX][32]; /* X25519 public keys */
};

/* Append a segment header frame to out (unchanged on failure). */
int frame_segment_header_encode(const struct frame_segment_header *h,
				struct lacre_dbuf *out);
/* Strictly decode a segment header body (from frame_next). */
int frame_segment_header_decode_body(struct lacre_rbuf body,
				     struct frame_segment_header *h);

#endif
