/*
 * etsi.h - decoding of ETSI TS 102 232-1 PS-PDUs (any module version 13..43,
 * by tag; see ../shared/spec/etsi-handover.md).
 *
 * etsi_decode() fills struct etsi_pdu with the header fields and a summary of
 * the payload.  Pointers in the struct point into the caller's PDU bytes and
 * are valid only as long as those bytes are.  Unknown tags and extensions are
 * skipped (counted in unknown_tags); a field that fails to decode sets
 * partial instead of failing the PDU whenever the outer structure is sound.
 * etsi_decode() never allocates and keeps no state: it is safe to call from
 * any thread on any bytes.
 *
 * Integer fields that are absent hold -1 (enumerations) or have a has_
 * flag; byte fields that are absent have len 0 and p NULL.  Only the first
 * IRIPayload / CCPayload of an aggregated PDU is summarised (n_payloads
 * counts them all).
 *
 * A payload in an EncryptionContainer is decoded as such (encrypted = 1,
 * kind other: the ciphertext view); etsi_decrypt() (lacre/etsi_crypt.h)
 * replaces that view with the decrypted payload's (decrypted = 1), the
 * PDU bytes staying the evidence.
 *
 * (Field set owned by lib/wire/etsi.c: new fields may be added; existing
 * ones keep their names and meaning.)
 */
#ifndef LACRE_ETSI_H
#define LACRE_ETSI_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"

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

/* Payload alternative (PS-PDU payload [n]), ETSI_PAYLOAD_NONE if absent. */
enum etsi_payload {
	ETSI_PAYLOAD_NONE = -1,
	ETSI_PAYLOAD_IRI = 0,          /* iRIPayloadSequence */
	ETSI_PAYLOAD_CC = 1,           /* cCPayloadSequence */
	ETSI_PAYLOAD_TRI = 2,          /* tRIPayload */
	ETSI_PAYLOAD_HI1 = 3,          /* hI1-Operation */
	ETSI_PAYLOAD_ENCRYPTED = 4,    /* encryptionContainer */
	ETSI_PAYLOAD_3GPP_HI1 = 5,     /* threeGPP-HI1-Operation (kind hi1, kept opaque) */
	ETSI_PAYLOAD_ILHI = 6,         /* iLHIPayload */
	ETSI_PAYLOAD_HI4 = 7           /* hI4Payload */
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

/* PayloadDirection. */
enum etsi_direction {
	ETSI_DIR_NONE = -1,
	ETSI_DIR_FROM_TARGET = 0,
	ETSI_DIR_TO_TARGET = 1,
	ETSI_DIR_INDETERMINATE = 2,
	ETSI_DIR_COMBINED = 3,
	ETSI_DIR_NOT_APPLICABLE = 4
};

/* Content alternatives lacre decodes further (IRIContents / CCContents tag
 * numbers; content_tag holds the raw number for the others). */
#define ETSI_IRI_IPIRI 2
#define ETSI_IRI_IPMMIRI 11
#define ETSI_IRI_3GPP33128 19
#define ETSI_CC_IPCC 2
#define ETSI_CC_IPMMCC 12
#define ETSI_CC_3GPP33128 23
#define ETSI_IRI_UMTSIRI 4
#define ETSI_IRI_EPSIRI 15
#define ETSI_CC_EPSCC 17

/* Values outside their ASN.1 constraints that a real mediator sends and
 * lacre accepts, decoded to their nearest meaning (struct etsi_pdu flags;
 * the JSON lists their names, etsi_flag_name). */
#define ETSI_FLAG_USEC_CARRY   0x01u /* microSeconds >= 1,000,000: carried into the seconds */
#define ETSI_FLAG_KEY_OUTSIDE_WINDOW 0x02u /* decrypted with a key outside its validity window */

struct etsi_bytes {
	const uint8_t *p;
	size_t len;
};

/* LI-PS-PDU IPAddress. */
struct etsi_ipaddr {
	int present;
	int type;                 /* iP-type: 0 IPv4, 1 IPv6, -1 absent */
	struct etsi_bytes bin;    /* iPBinaryAddress (4 or 16 octets) */
	struct etsi_bytes text;   /* iPTextAddress */
	int assignment;           /* 1 static, 2 dynamic, 3 notKnown, -1 */
	int prefix_len;           /* iPv6PrefixLength, -1 absent */
	struct etsi_bytes v4_mask;/* iPv4SubnetMask */
};

/* TRIPayload integrityCheck (spec §8): everything a verifier needs. */
struct etsi_integrity {
	struct etsi_bytes tlv;         /* the whole integrityCheck [0] element */
	struct etsi_bytes seq_list;    /* INTEGER TLVs of includedSequenceNumbers */
	unsigned n_seqs;               /* how many of them decoded */
	int legacy_nested;             /* INTEGERs wrapped in an extra SEQUENCE (OpenLI < 1.1.18) */
	int check_type;                /* 1 hash, 2 signature, -1 absent */
	int data_type;                 /* 1 iRI, 2 cC, 3 iLHI, -1 absent */
	struct etsi_bytes check_value; /* digest or signature, network byte order */
	int hash_alg;                  /* 1 SHA-1, 2 SHA-256, 3 SHA-384, 4 SHA-512, -1 */
	int sig_alg;                   /* 1 DSA, 2 ECDSA, 3 EdDSA, -1 */
};

/* IPMultimediaPDU IPMMIRI (SIP) of the first IRIPayload. */
struct etsi_ipmmiri {
	int alt;                       /* IPMMIRIContents tag: 0 original, 1 SIP, 2 H.323..., -1 */
	struct etsi_bytes sip;         /* sIPContent: the SIP message text */
	struct etsi_bytes original;    /* originalIPMMMessage */
	struct etsi_ipaddr src, dst;   /* ipSourceAddress, ipDestinationAddress */
	int has_location;              /* targetLocation [2] present */
	struct etsi_bytes location;    /* its Location contents (etsi_location.h) */
};

/* IPMultimediaPDU IPMMCC of the first CCPayload (frame in content_bytes). */
struct etsi_ipmmcc {
	int frame_type;                /* 0 ipFrame, 1 udpFrame, 2 rtpFrame, 3 audioFrame..., -1 */
	struct etsi_bytes stream_id;   /* streamIdentifier */
	int protocol;                  /* mMCCprotocol 0 RTP, 1 MSRP, 2 UDPTL, -1 */
};

/* IPAccessPDU IPIRI contents of the first IRIPayload. */
struct etsi_ipiri {
	int access_event;              /* accessEventType, -1 absent */
	struct etsi_bytes username;    /* targetUsername */
	int access_type;               /* internetAccessType, -1 */
	int ip_version;                /* iPVersion 1 v4, 2 v6, 3 both, -1 */
	struct etsi_ipaddr target_ip;  /* targetIPAddress */
	struct etsi_ipaddr additional_ip; /* additionalIPAddress */
	struct etsi_ipaddr pop_ip;     /* pOPIPAddress */
	struct etsi_bytes network_id;  /* targetNetworkID */
	struct etsi_bytes cpe_id;      /* targetCPEID */
	struct etsi_bytes location_text; /* targetLocation [7] */
	int has_location;              /* targetLocation [7] or location [24] */
	struct etsi_bytes location;    /* location [24]: Location contents (etsi_location.h) */
	int has_start, has_end;
	int64_t start_us, end_us;      /* startTime, endTime (Unix microseconds) */
	int end_reason;                /* -1 absent */
	int has_octets_rx, has_octets_tx;
	uint64_t octets_rx, octets_tx; /* octetsReceived, octetsTransmitted */
	struct etsi_bytes raw_aaa;     /* rawAAAData */
	int auth_type;                 /* authenticationType, -1 */
};

/* IPAccessPDU IPCC of the first CCPayload (packet in content_bytes). */
struct etsi_ipcc {
	int truncated;                 /* iPTruncatedPacket */
	int has_original_length;
	uint64_t original_length;
};

/* HI1-Operation notification (spec §11.1). */
struct etsi_hi1 {
	int op;                        /* 1 liActivated, 2 liDeactivated, 3 liModified, 4 alarm, 5 national, -1 */
	struct etsi_bytes domain_id;   /* OBJECT IDENTIFIER contents */
	struct etsi_bytes liid;        /* lawfulInterceptionIdentifier */
	struct etsi_bytes cin;         /* communication-Identity-Number (OCTET STRING) */
	struct etsi_bytes operator_id;
	struct etsi_bytes network_element_id;
	int has_time;                  /* 1 utcTime, 2 localTime */
	int64_t time_us;
	struct etsi_bytes target_info; /* target-Information */
};

/* EncryptionContainer (spec §9); the payload stays encrypted. */
struct etsi_encryption {
	int type;                      /* encryptionType, -1 absent */
	struct etsi_bytes type_value;  /* encryptionType's contents octets (in the PDU) */
	struct etsi_bytes payload;     /* encryptedPayload */
	int payload_type;              /* encryptedPayloadType, -1 absent */
};

/* Mobile IRI of the first IRIPayload: EPS (TS 33.108 EpsHI2Operations, as
 * OpenLI emits it from GTPv2), UMTS (UmtsHI2Operations) and 3GPP TS 33.128
 * xIRI (TS33128Payloads.XIRIPayload).  Identities are the octets as sent
 * (TBCD for IMSI, IMEI and MSISDN); ULI is the GTPv2 User Location Info IE
 * value.  has_location says whether any location field is present, so
 * that legal rule L2 can be exact. */
struct etsi_mobile {
	int family;                    /* 0 none, 1 EPS, 2 UMTS, 3 3GPP 33.128 */
	int record;                    /* IRI record: 1 begin, 2 end, 3 continue, 4 report, -1 */
	int event;                     /* ePSevent / gPRSevent / XIRIEvent tag, -1 */
	int initiator;                 /* 0 not available, 1 originating, 2 terminating, -1 */
	struct etsi_bytes imsi, msisdn, imei;   /* TBCD octets */
	struct etsi_bytes nai;         /* nai / SUPI NAI (text) */
	struct etsi_bytes sip_uri, tel_uri;
	struct etsi_bytes supi, gpsi, pei; /* 33.128: SUPI/GPSI/PEI as text (IMSI, MSISDN, IMEI digits) */
	struct etsi_ipaddr pdp_addr;   /* pDP-address-allocated-to-the-target */
	struct etsi_bytes paa;         /* EPS pDNAddressAllocation (GTPv2 PAA value) */
	struct etsi_bytes apn;         /* aPN, DNS label form */
	struct etsi_bytes correlation; /* ePSCorrelationNumber / gPRSCorrelationNumber */
	struct etsi_ipaddr gw_addr;    /* ggsnAddress (the PGW for EPS) */
	struct etsi_bytes bearer_id;   /* ePSBearerIdentity */
	int bearer_type;               /* bearerActivationType 1 default, 2 dedicated, -1 */
	int rat;                       /* rATType (GTPv2 RAT type value), -1 */
	struct etsi_bytes uli;         /* userLocationInfo (GTPv2 ULI value) */
	struct etsi_bytes cgi, sai, rai; /* UMTS Location globalCellID, sAI, rAI */
	struct etsi_bytes pdu_session_id; /* 33.128 pDUSessionID contents */
	struct etsi_bytes dnn;         /* 33.128 dNN (text) */
	struct etsi_bytes ue_ip;       /* 33.128 uEEndpoint address octets (first) */
	int has_location;              /* 1 a location field is present, 0 none, -1 cannot tell */
	struct etsi_bytes loc_umts;    /* contents of the (last) UMTS Location [8] */
	struct etsi_bytes loc_eps;     /* contents of the (last) ePSlocationOfTheTarget [23] */
};

/* TRIPayload operatorLeaMessage. */
struct etsi_opmsg {
	int priority;                  /* 1 error, 2 informational, -1 */
	struct etsi_bytes message;
};

struct etsi_pdu {
	/* PSHeader */
	struct etsi_bytes header_tlv;  /* the whole pSHeader [1] element */
	uint32_t domain_version;       /* last arc of li-psDomainId, 0 if absent */
	struct etsi_bytes domain_id;   /* li-psDomainId OID contents */
	struct etsi_bytes liid;
	char auth_country[3];          /* "" when absent */
	struct etsi_bytes operator_id;
	struct etsi_bytes network_element_id;
	int has_cin;
	uint32_t cin;
	char delivery_country[3];
	int has_seq;                   /* sequenceNumber present and valid */
	uint64_t seq;
	int has_time;                  /* 1 timeStamp, 2 microSecondTimeStamp */
	int64_t time_us;               /* Unix microseconds */
	int ts_qualifier;              /* -1 when absent */
	struct etsi_bytes interception_point_id;
	struct etsi_bytes ext_interception_point_id;
	struct etsi_bytes network_function_id;

	/* Payload summary */
	enum etsi_kind kind;
	int payload;                   /* enum etsi_payload */
	int tri;                       /* enum etsi_tri */
	int iri_type;                  /* enum etsi_iri_type of the first IRIPayload */
	int direction;                 /* PayloadDirection of the first payload, -1 absent */
	int session_direction;         /* IRIPayload sessionDirection [5], -1 absent */
	int has_payload_time;          /* 1 timeStamp, 2 microSecondTimeStamp in the payload */
	int64_t payload_time_us;
	const char *content;           /* "ipmmiri", "ipcc", "hash", ... or NULL */
	int content_tag;               /* IRIContents/CCContents tag number, -1 */
	struct etsi_bytes content_oid; /* object id of the content (RELATIVE-OID contents) */
	unsigned n_payloads;           /* IRI/CC payloads aggregated in this PDU */
	struct etsi_bytes content_bytes; /* SIP message, RTP frame, IP packet, 3GPP container... */

	/* Decoded content, valid for the matching content / payload / tri */
	struct etsi_ipmmiri ipmmiri;   /* content_tag 11 of an IRI */
	struct etsi_ipmmcc ipmmcc;     /* content_tag 12 of a CC */
	struct etsi_ipiri ipiri;       /* content_tag 2 of an IRI */
	struct etsi_ipcc ipcc;         /* content_tag 2 of a CC */
	struct etsi_integrity integrity; /* tri ETSI_TRI_INTEGRITY */
	struct etsi_opmsg opmsg;       /* tri ETSI_TRI_OPERATOR_MESSAGE */
	struct etsi_hi1 hi1;           /* payload ETSI_PAYLOAD_HI1 */
	struct etsi_encryption enc;    /* payload ETSI_PAYLOAD_ENCRYPTED */
	struct etsi_mobile mobile;     /* content_tag 4, 15 or 19 of an IRI */
	struct etsi_bytes xcc_packet;  /* content_tag 23 of a CC: the TS 33.128 user-plane
	                                * packet (uPFCCPDU or extendedUPFCCPDU uPFIPCC) */
	int xcc_kind;                  /* its CCPDU / UPFCCPDUPayload form: 1 IP, 2 Ethernet,
	                                * 3 unstructured; 0 none */

	/* (Fields from kind up to here describe the payload: etsi_decrypt()
	 * replaces them with the decrypted payload's, keeping enc.) */
	unsigned unknown_tags;         /* skipped unknown elements */
	unsigned segmented;            /* constructed OCTET STRINGs met */
	int partial;                   /* some field failed to decode */
	int err;                       /* first field error (lacre_err), 0 if none */
	size_t err_off;                /* its offset from the PDU's first byte */
	int err_in_plaintext;          /* err_off counts from the decrypted payload's first byte */

	/* Encryption (TS 102 232-1 Annex G; see etsi_crypt.h) */
	int encrypted;                 /* the payload came in an EncryptionContainer */
	int decrypted;                 /* the payload fields describe the decrypted payload */
	int decrypt_err;               /* why it was not decrypted (lacre_err), 0 if it was or was not tried */
	int has_byte_counter;
	uint64_t byte_counter;         /* EncryptedPayload byteCounter */
	unsigned flags;                /* ETSI_FLAG_*: out-of-constraint values accepted */
};

/* Size of the PS-PDU at the start of p[0..n).  LACRE_OK only when the
 * whole PDU is in p[0..n) (*pdu_len <= n); LACRE_E_INCOMPLETE when more
 * bytes are needed; LACRE_E_MALFORMED when the first octet is not 30 (the
 * stream lost sync) or the length octets are bad (FF, indefinite length
 * on a primitive); LACRE_E_TOO_LARGE as soon as the declared size exceeds
 * max (or more than 4 length octets); LACRE_E_TAG_TOO_LONG /
 * LACRE_E_DEPTH from an indefinite-length scan. */
int etsi_pdu_size(const uint8_t *p, size_t n, size_t max, size_t *pdu_len);

/* Decode one complete PS-PDU of exactly n bytes.  Returns LACRE_OK (check
 * out->partial), or LACRE_E_MALFORMED / LACRE_E_INCOMPLETE /
 * LACRE_E_TRAILING / LACRE_E_TAG_TOO_LONG / LACRE_E_TOO_LARGE /
 * LACRE_E_DEPTH when the outer SEQUENCE itself is unsound (out untouched). */
int etsi_decode(const uint8_t *p, size_t n, struct etsi_pdu *out);

/* Iterate the includedSequenceNumbers of a decoded integrity check:
 *   struct lacre_rbuf it; uint64_t s;
 *   etsi_seq_iter(&pdu.integrity, &it);
 *   while (etsi_seq_next(&it, &s) == 1) ...
 * etsi_seq_next returns 1 with *seq set, 0 at the end, or a negative
 * lacre_err for an element that does not decode. */
void etsi_seq_iter(const struct etsi_integrity *ic, struct lacre_rbuf *it);
int etsi_seq_next(struct lacre_rbuf *it, uint64_t *seq);

/* Whether the (first) IRI of pdu carries a location field: 1 yes, 0 no,
 * -1 cannot tell (content not decoded, or not an IRI).  Used by legal rule
 * L2: only IRIs for which this is 0 are location-free. */
int etsi_iri_location(const struct etsi_pdu *pdu);

/* Names for JSON and logs (static strings; NULL when the value has none). */
const char *etsi_kind_name(int kind);          /* "iri", "cc", "keepalive", ... */
const char *etsi_payload_name(int payload);    /* "iri", "cc", "tri", "hi1", "encryption-container", ... */
const char *etsi_tri_name(int tri);            /* "keepalive", "cin-reset", ... */
const char *etsi_iri_type_name(int iri_type);  /* "begin", "end", "continue", "report" */
const char *etsi_direction_name(int dir);      /* "from-target", "to-target", ... */
const char *etsi_iri_content_name(int tag);    /* "ipiri", "ipmmiri", ... */
const char *etsi_cc_content_name(int tag);     /* "ipcc", "ipmmcc", ... */
const char *etsi_flag_name(unsigned flag);     /* one ETSI_FLAG_* bit: "microseconds-carried", ... */

#endif
