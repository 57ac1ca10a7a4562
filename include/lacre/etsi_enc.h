/*
 * etsi_enc.h - building ETSI TS 102 232-1 PS-PDUs (the sending side).
 *
 * Used by lacre-mediator (the simulator) and by tests.  Every builder
 * appends exactly one complete PS-PDU to a caller's lacre_dbuf.  On failure
 * the buffer is truncated back to its length at entry, so a caller never sees
 * half a PDU (outputs set only on success).
 *
 * The layout follows the way OpenLI 1.1.20 (libwandder) encodes, as seen in
 * ../shared/vectors/openli-a and described in ../shared/spec/etsi-handover.md:
 *   PS-PDU 30 { pSHeader A1 { 80 domainId, 81 LIID, 82 authCC,
 *               A3 { A0 { 80 operator, 81 networkElement }, 81 CIN, 82 delivCC },
 *               84 seq, 85 GeneralizedTime | (86 interceptionPointID),
 *               A7 { 80 seconds, 81 microSeconds }, 88 qualifier,
 *               (89 extendedInterceptionPointID, 8A networkFunctionIdentifier) },
 *             payload A2 { ... } }
 * IRI:  A2 { A0 { 30 { 80 iRIType, A2 { <content> } } } }
 * CC:   A2 { A1 { 30 { 80 direction, A2 { <content> } } } }
 * TRI:  A2 { A2 { <alternative> } }
 * HI1:  A2 { A3 { <operation> } }
 *
 * Lengths follow header->len_style (enum ber_enc_len_style): OpenLI's own
 * style is BER_ENC_LEN_OPENLI (82 00 xx for 128..255).
 */
#ifndef LACRE_ETSI_ENC_H
#define LACRE_ETSI_ENC_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"

#define ETSI_ENC_DOMAIN_OPENLI "0.4.0.2.2.5.1.17"  /* li-psDomainId of OpenLI 1.1.x */
#define ETSI_ENC_DOMAIN_V43 "0.4.0.2.2.5.1.43"
#define ETSI_ENC_HI1_DOMAIN "0.4.0.2.2.0.1.6"      /* HI1 notificationOperations v6 */
#define ETSI_ENC_OID_IPIRI "5.3.10.1"
#define ETSI_ENC_OID_IPCC "5.3.10.2"
#define ETSI_ENC_OID_IPMMIRI "5.5.6.1"
#define ETSI_ENC_OID_IPMMCC "5.5.6.2"

enum etsi_enc_time {
	ETSI_ENC_TIME_NONE = 0,         /* neither time field */
	ETSI_ENC_TIME_GENERALIZED = 1,  /* timeStamp [5] YYYYMMDDhhmmss.mmmZ */
	ETSI_ENC_TIME_MICROSECOND = 2   /* microSecondTimeStamp [7] */
};

/* PayloadDirection */
enum etsi_enc_dir {
	ETSI_ENC_DIR_FROM_TARGET = 0,
	ETSI_ENC_DIR_TO_TARGET = 1,
	ETSI_ENC_DIR_INDETERMINATE = 2,
	ETSI_ENC_DIR_COMBINED = 3,
	ETSI_ENC_DIR_NOT_APPLICABLE = 4
};

/* The PSHeader fields.  NULL strings and negative enumerations are omitted. */
struct etsi_enc_header {
	int len_style;                  /* enum ber_enc_len_style */
	const char *domain_id;          /* dotted OID; NULL = ETSI_ENC_DOMAIN_OPENLI */
	const uint8_t *liid;            /* 1..25 octets, ASCII or binary */
	size_t liid_len;
	const char *auth_country;       /* 2 characters, or NULL */
	const char *operator_id;        /* 1..16 characters (required) */
	const char *network_element_id; /* 1..16 characters, or NULL */
	int has_cin;
	uint32_t cin;
	const char *delivery_country;   /* or NULL */
	uint64_t seq;                   /* 0..2^32-1 */
	int time_style;                 /* enum etsi_enc_time */
	int64_t time_us;                /* Unix microseconds (>= 0) */
	const char *interception_point_id; /* 1..8 characters, or NULL */
	int ts_qualifier;               /* 1 = timeOfInterception; -1 omits */
	int unknown_ext;                /* 1: append an unknown extension [29] to
					   the header (decoder tolerance tests) */
	const uint8_t *ext_interception_point_id; /* [9], 1..65535 octets, or NULL */
	size_t ext_interception_point_id_len;
	const uint8_t *network_function_id;       /* [10], 1..65535 octets, or NULL */
	size_t network_function_id_len;
};

/* IPAddress as OpenLI writes it: iP-type, iP-value { iPBinaryAddress },
 * iP-assignment, and iPv4SubnetMask or iPv6PrefixLength. */
struct etsi_enc_ipaddr {
	int v6;                 /* 0 IPv4, 1 IPv6 */
	uint8_t addr[16];       /* 4 or 16 octets used */
	int assignment;         /* 1 static, 2 dynamic, 3 notKnown; 0 omits */
	int prefix_len;         /* 0..32 / 0..128; -1 omits the mask/prefix */
};

/* IPIRIContents (TS 102 232-3).  Negative numbers and NULL omit a field. */
struct etsi_enc_ipiri {
	int access_event;               /* accessEventType, e.g. 1 accessAccept, 8 accessEnd */
	const char *username;           /* targetUsername (required) */
	int access_type;                /* internetAccessType, e.g. 2 xDSL, 4 lAN */
	int ip_version;                 /* 1 IPv4, 2 IPv6, 3 both */
	const struct etsi_enc_ipaddr *target_ip;
	const char *network_id;         /* targetNetworkID (e.g. the CPE MAC) */
	int64_t pop_port;               /* pOPPortNumber */
	int64_t start_us;               /* startTime */
	int64_t end_us;                 /* endTime */
	int end_reason;                 /* 1 regularLogoff, 2 connectionLoss, ... */
	int64_t octets_received;        /* octetsReceived */
	int64_t octets_transmitted;     /* octetsTransmitted */
	const char *pop_identifier;     /* pOPIdentifier [18] { [0] text } */
	const struct etsi_enc_ipaddr *pop_ip; /* pOPIPAddress [19] */
	const char *target_location;    /* targetLocation [7] (1..64 characters) */
	const uint8_t *uli;             /* location [24] { epsLocation [1] {
	                                 * userLocationInfo [1] } }: a GTPv2 ULI value */
	size_t uli_len;
};

/* IntegrityCheck (TRIPayload [0]). */
struct etsi_enc_integrity {
	const uint32_t *seqs;           /* includedSequenceNumbers, in order */
	size_t n_seqs;
	int check_type;                 /* 1 hash, 2 signature */
	int data_type;                  /* 1 iRI, 2 cC; -1 omits */
	const uint8_t *value;           /* checkValue (may be empty) */
	size_t value_len;
	int hash_alg;                   /* 1 SHA-1, 2 SHA-256, 3 SHA-384, 4 SHA-512; 0 omits */
	int sig_alg;                    /* 1 DSA, 2 ECDSA, 3 EdDSA; 0 omits */
};

/* HI1-Operation notification (payload [3]), as OpenLI's mediator sends it. */
struct etsi_enc_hi1 {
	int op;                         /* 1 liActivated, 2 liDeactivated, 3 liModified */
	const char *domain_id;          /* NULL = ETSI_ENC_HI1_DOMAIN */
	const uint8_t *liid;
	size_t liid_len;
	const char *operator_id;        /* altoperatorid, at most 5 characters */
	const char *network_element_id; /* or NULL */
	const char *cin_text;           /* communication-Identity-Number, or NULL */
	int64_t time_us;                /* timeStamp utcTime */
	const char *target_info;        /* target-Information, or NULL */
};

/* IRI carrying iPMMIRI { sIPMessage { src, dst, sIPContent } }.
 * iri_type: 1 begin, 2 end, 3 continue, 4 report. */
int etsi_enc_ipmmiri(struct lacre_dbuf *out, const struct etsi_enc_header *h,
    int iri_type, const struct etsi_enc_ipaddr *src, const struct etsi_enc_ipaddr *dst,
    const uint8_t *sip, size_t sip_len);

/* CC carrying iPMMCC { objId, mMCCContents = frame, frameType ipFrame(0),
 * mMCCprotocol rTP(0) } with the given PayloadDirection. */
int etsi_enc_ipmmcc(struct lacre_dbuf *out, const struct etsi_enc_header *h,
    int direction, const uint8_t *frame, size_t frame_len);

/* IRI carrying iPIRI { objId, iPIRIContents }. */
int etsi_enc_ipiri(struct lacre_dbuf *out, const struct etsi_enc_header *h,
    int iri_type, const struct etsi_enc_ipiri *ev);

/* CC carrying iPCC { objId, iPCCContents { iPPackets = pkt } }. */
int etsi_enc_ipcc(struct lacre_dbuf *out, const struct etsi_enc_header *h,
    int direction, const uint8_t *pkt, size_t pkt_len);

/* TRIPayload whose alternative is a NULL with context tag tri_tag:
 * 1 testPDU, 3 keep-alive, 4 keep-aliveResponse, 5/6 segment flags,
 * 7 cINReset, 11 optionComplete, 12/13 acknowledgements. */
int etsi_enc_tri_null(struct lacre_dbuf *out, const struct etsi_enc_header *h, int tri_tag);
/* Shorthands of etsi_enc_tri_null. */
int etsi_enc_keepalive(struct lacre_dbuf *out, const struct etsi_enc_header *h);
int etsi_enc_keepalive_response(struct lacre_dbuf *out, const struct etsi_enc_header *h);
int etsi_enc_cin_reset(struct lacre_dbuf *out, const struct etsi_enc_header *h);

/* A keep-alive response that echoes a received pSHeader element byte for
 * byte (spec §6.3 rule 3): 30 len { hdr[0..n) A2 04 A2 02 84 00 }, the outer
 * length in len_style. */
int etsi_enc_keepalive_response_echo(struct lacre_dbuf *out, int len_style,
    const uint8_t *hdr_tlv, size_t hdr_len);

/* TRIPayload integrityCheck PDU. */
int etsi_enc_integrity(struct lacre_dbuf *out, const struct etsi_enc_header *h,
    const struct etsi_enc_integrity *ic);

/* The IntegrityCheck element alone, as [0] (A0 ...): with an empty
 * checkValue and DER lengths this is the byte string OpenLI 1.1.20 signs
 * (spec §8.3). */
int etsi_enc_integrity_element(struct lacre_dbuf *out, int len_style,
    const struct etsi_enc_integrity *ic);

/* HI1-Operation PDU. */
int etsi_enc_hi1(struct lacre_dbuf *out, const struct etsi_enc_header *h,
    const struct etsi_enc_hi1 *op);

/* Fill a header with OpenLI-like defaults: domain 0.4.0.2.2.5.1.17, OpenLI
 * length style, microsecond time, qualifier timeOfInterception, CIN absent. */
void etsi_enc_header_defaults(struct etsi_enc_header *h);

#endif
