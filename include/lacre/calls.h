/*
 * calls.h - a warrant's calls and sessions, correlated from the index
 * (index.h): IRI and CC joined by CIN, VoIP calls grouped by SIP Call-ID
 * and CIN together (spec etsi-handover.md §10.3; a Call-ID seen on several
 * CINs is one call), broadband sessions by CIN, mobile sessions (EPS, UMTS
 * and 3GPP TS 33.128 IRI with their CC: a bearer / PDP context / PDU
 * session) by LIID and CIN.  `lacre calls` prints
 * them; audio.c and pcap.c use them to find a call's media.  The result is
 * also stored in the index's calls table (docs/FORMATS.md §10).
 * Owned by lib/access/calls.c.
 */
#ifndef LACRE_CALLS_H
#define LACRE_CALLS_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/index.h"
#include "lacre/json.h"
#include "lacre/rtp.h"
#include "lacre/warrant.h"

#define CALLS_ID_MAX 64
#define CALLS_MAX_CINS 8
#define CALLS_PROBLEMS_MAX 512
#define CALLS_LOCATION_MAX 160

enum calls_type { CALLS_VOIP = 1, CALLS_SESSION = 2, CALLS_MOBILE = 3 };

/* One mobile IRI of a session, in time order: its event and, when it
 * carries one, its location (index text, docs/FORMATS.md §10:
 * "tai=204-08-1c2d ecgi=204-08-0a1b2c3"). */
struct calls_mobile_event {
	int64_t time_us;
	int iri_type;                     /* enum etsi_iri_type, 0 unknown */
	int event;                        /* family's event number, -1 */
	int rat;                          /* GTPv2 RAT type, -1 */
	char location[CALLS_LOCATION_MAX];/* "" when the IRI has none */
};

/* Sides of a call's media: from the target (left channel) and to it. */
enum calls_side { CALLS_FROM_TARGET = 0, CALLS_TO_TARGET = 1, CALLS_SIDE_UNKNOWN = 2 };

struct calls_entry {
	char id[CALLS_ID_MAX];            /* "<warrant>-<cin>" (first CIN) */
	int type;                         /* enum calls_type */
	char warrant[WARRANT_ID_MAX];
	char liid[2 * FRAME_LIID_MAX + 3];
	uint32_t cin;                     /* first CIN */
	size_t n_cins;
	uint32_t cins[CALLS_MAX_CINS];
	/* VoIP */
	char call_id[SIP_TEXT_MAX];
	char from[SIP_TEXT_MAX], to[SIP_TEXT_MAX];  /* of the INVITE */
	int target_caller;                /* 1 the target called, 0 it was called, -1 unknown */
	int labels_swapped;               /* the operator's direction labels contradict the SDP */
	char target_media[64], peer_media[64];  /* SDP addresses */
	unsigned target_port, peer_port;
	int codec_pt;                     /* RTP payload type seen most, -1 */
	int64_t start_us, answer_us, end_us;   /* 0 when unknown */
	int has_bye, has_iri_end;
	uint64_t iri_records, cc_records;
	uint64_t packets[3];              /* CC per enum calls_side */
	uint64_t bytes[3];                /* CC content bytes per side */
	uint64_t iri_gaps, cc_gaps;       /* missing ETSI sequence numbers */
	uint64_t rtp_gaps;                /* missing RTP sequence numbers (both sides) */
	/* sessions */
	char target_ip[64];               /* mobile: the PDN address */
	uint64_t octets_rx, octets_tx;    /* the last IPIRI counters */
	/* mobile sessions */
	int family;                       /* 1 EPS, 2 UMTS, 3 3GPP 33.128, 0 CC only */
	char imsi[40], msisdn[40], imei[40];  /* digits (33.128: SUPI/GPSI/PEI text) */
	char apn[128];                    /* APN or DNN, dotted */
	int start_event, end_event;       /* the activation / deactivation event, -1 none */
	/* every mobile IRI of the session in time order; calls_list keeps
	 * them inside its one allocation (free() of the array frees them) */
	const struct calls_mobile_event *events;
	size_t n_events;
	int complete;                     /* no gap, BYE/IRI-End seen, CC present */
	char problems[CALLS_PROBLEMS_MAX];/* "; "-separated, "" when complete */
};

/* Correlate warrant's calls and sessions from the index (and store them in
 * its calls table).  *out is malloc'd (free()), sorted by start time; the
 * mobile sessions' events live in the same allocation, after the entries
 * (a copy of an entry is valid only while the array is). */
int calls_list(struct index *ix, const char *warrant, struct calls_entry **out, size_t *n);

/* The VoIP call id ("<warrant>-<cin>") of warrant, for audio: only what
 * the SIP IRIs give (parties, times, CINs, SDP sides); packet counts and
 * gaps are left 0.  A CIN with RTP but no SIP gives a call of that CIN
 * alone, sides by the operator's labels.  LACRE_E_NOT_FOUND when the index
 * has no record of warrant on that CIN. */
int calls_find(struct index *ix, const char *warrant, const char *id, struct calls_entry *out);

/* Split a call id "<warrant>-<cin>" (the warrant id may itself contain
 * '-').  LACRE_E_INVALID when it has no such form. */
int calls_parse_id(const char *id, char warrant[WARRANT_ID_MAX], uint32_t *cin);

/* Which side a CC packet of call c is on: by its source address and port
 * against the SDP addresses when they are known, else by the operator's
 * label (dir: enum etsi_direction).  src may be NULL. */
int calls_side(const struct calls_entry *c, const char *src, unsigned sport, int dir);

/* Name of a mobile IRI event of family (1 EPS, 2 UMTS, 3 33.128), as
 * `lacre decode` names it ("bearer-activation", ...), or NULL. */
const char *calls_mobile_event_name(int family, int event);

/* Append c as one JSON object. */
void calls_json(struct json_w *w, const struct calls_entry *c);

#endif
