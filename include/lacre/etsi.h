/*
 * etsi.h - decoding of ETSI TS 102 232-1 PS-PDUs (any module version 13..43,
 * by tag; see ../shared/spec/etsi-handover.md).
 *
 * etsi_decode() fills struct etsi_pdu with the header fields and a summary of
 * the payload.  Pointers in the struct point into the caller's PDU bytes and
 * are valid only as long as those bytes are.  Unknown tags and extensions are
 * skipped (counted in unknown_tags); a field that fails to decode sets
 * partial instead of failing the PDU whenever the outer structure is sound.
 *
 * (Field set owned by lib/wire/etsi.c: new fields may be added; existing
 * ones keep their names and meaning.)
 */
#ifndef LACRE_ETSI_H
#define LACRE_ETSI_H

#include <stddef.h>
#include <stdint.h>

#define ETSI_MAX_PDU_DEFAULT (16u << 20)  /* 16 MiB */

enum etsi_kind {
	ETSI_KIND_OTHER = 0,
	ETSI_KIND_IRI,
	ETSI_KIND_CC,
	ETSI_KIND_KEEPALIVE,
	ETSI_KIND_KEEPALIVE_RESPONSE,
	ETSI_KIND_INTEGRITY_CHECK,
	ETSI_KIND_HI1
};

/* TRIPayload alternative, by its context tag number; ETSI_TRI_NONE when the
 * payload is not a TRIPayload. */
enum etsi_tri {
	ETSI_TRI_NONE = -1,
	ETSI_TRI_INTEGRITY = 0,
	ETSI_TRI_TEST = 1,
	ETSI_TRI_PADDING = 2,
	ETSI_TRI_KEEPALIVE = 3,
	ETSI_TRI_KEEPALIVE_RESPONSE = 4,
	ETSI_TRI_FIRST_SEGMENT = 5,
	ETSI_TRI_LAST_SEGMENT = 6,
	ETSI_TRI_CIN_RESET = 7,
	ETSI_TRI_OPERATOR_MESSAGE = 8,
	ETSI_TRI_OPTION_REQUEST = 9,
	ETSI_TRI_OPTION_RESPONSE = 10,
	ETSI_TRI_OPTION_COMPLETE = 11,
	ETSI_TRI_ACK_REQUEST = 12,
	ETSI_TRI_ACK_RESPONSE = 13
};

enum etsi_iri_type {
	ETSI_IRI_NONE = 0,
	ETSI_IRI_BEGIN = 1,
	ETSI_IRI_END = 2,
	ETSI_IRI_CONTINUE = 3,
	ETSI_IRI_REPORT = 4
};

struct etsi_bytes {
	const uint8_t *p;
	size_t len;
};

struct etsi_pdu {
	/* PSHeader */
	struct etsi_bytes header_tlv;  /* the whole pSHeader [1] element */
	uint32_t domain_version;       /* last arc of li-psDomainId, 0 if absent */
	struct etsi_bytes liid;
	char auth_country[3];          /* "" when absent */
	struct etsi_bytes operator_id;
	struct etsi_bytes network_element_id;
	int has_cin;
	uint32_t cin;
	char delivery_country[3];
	uint64_t seq;
	int has_time;                  /* 1 timeStamp, 2 microSecondTimeStamp */
	int64_t time_us;               /* Unix microseconds */
	int ts_qualifier;              /* -1 when absent */
	struct etsi_bytes interception_point_id;

	/* Payload summary */
	enum etsi_kind kind;
	int tri;                       /* enum etsi_tri */
	int iri_type;                  /* enum etsi_iri_type of the first IRIPayload */
	int direction;                 /* PayloadDirection of the first payload, -1 absent */
	const char *content;           /* "ipmmiri", "ipcc", "hash", ... or NULL */
	unsigned n_payloads;           /* IRI/CC payloads aggregated in this PDU */
	struct etsi_bytes content_bytes; /* SIP message, RTP frame, IP packet... */

	unsigned unknown_tags;         /* skipped unknown elements */
	int partial;                   /* some field failed to decode */
};

/* Size of the PS-PDU at the start of p[0..n): LACRE_E_INCOMPLETE when more
 * bytes are needed, LACRE_E_MALFORMED when the first octet is not 30 (the
 * stream lost sync), LACRE_E_TOO_LARGE above max. */
int etsi_pdu_size(const uint8_t *p, size_t n, size_t max, size_t *pdu_len);

/* Decode one complete PS-PDU of exactly n bytes. */
int etsi_decode(const uint8_t *p, size_t n, struct etsi_pdu *out);

#endif
