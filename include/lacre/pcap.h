/*
 * pcap.h - a warrant's content (CC) packets as a classic pcap file
 * (libpcap format: magic a1b2c3d4 written little-endian, version 2.4,
 * microsecond timestamps, link type LINKTYPE_RAW = 101: every record is an
 * IPv4 or IPv6 packet, no link header).  IPCC packets and IPMMCC frames of
 * frameType ipFrame are written as they were intercepted; udpFrame and
 * rtpFrame contents get a synthetic IPv4 (and UDP) header built from the
 * call's SDP addresses (calls.h) when known, else from the documentation
 * addresses 192.0.2.1 (the target) and 192.0.2.2 (the other side), port
 * 5004; the IPv4 header checksum is computed, the UDP checksum left 0.
 * The timestamp is the PDU's interception time (its receive time when it
 * has none).  docs/cmd-pcap.md.  Owned by lib/access/pcap.c (over the
 * index) and lib/wire/pcap_pkt.c (headers and packets, keyless and
 * SQLite-free: lacre-verify's extraction uses them).
 */
#ifndef LACRE_PCAP_H
#define LACRE_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/access.h"
#include "lacre/buf.h"
#include "lacre/calls.h"
#include "lacre/etsi.h"
#include "lacre/index.h"

#define PCAP_LINKTYPE_RAW 101
#define PCAP_SNAPLEN 262144
#define PCAP_GLOBAL_HEADER 24
#define PCAP_RECORD_HEADER 16

struct pcap_report {
	uint64_t packets;          /* packets written */
	uint64_t bytes;            /* their captured bytes */
	uint64_t synthetic;        /* packets given a synthetic IP/UDP header */
	uint64_t skipped;          /* CC records not written (other content, undecodable) */
	uint64_t excluded;         /* CC records a party copy left out */
};

/* The 24-byte global header (LINKTYPE_RAW, PCAP_SNAPLEN). */
void pcap_global_header(uint8_t out[PCAP_GLOBAL_HEADER]);

/* Append one packet record (header and bytes) with time us to out;
 * LACRE_E_TOO_LARGE past the snap length. */
int pcap_record(struct lacre_dbuf *out, int64_t us, const uint8_t *p, size_t n, size_t orig);

/* Wrap a UDP datagram (udp = 1: p is the UDP header and payload) or an RTP
 * packet (udp = 0) in a synthetic IPv4 (+ UDP) header from src to dst
 * (IPv4 addresses as 4 bytes) into out. */
int pcap_wrap_ipv4(struct lacre_dbuf *out, const uint8_t src[4], const uint8_t dst[4],
		   uint16_t sport, uint16_t dport, int udp, const uint8_t *p, size_t n);

/* The IP packet of a decoded CC (from record_pdu_decode: the decrypted
 * payload when the receiver sealed one) into p[0..n), orig its length as
 * intercepted: an IPCC packet, an IPMMCC ipFrame, the payload of an EPS CC
 * (TS 33.108 CC-PDU), the IP packet of a TS 33.128 xCC.  LACRE_E_UNSUPPORTED
 * for an IPMMCC udpFrame / rtpFrame (no IP header: pcap_wrap_ipv4),
 * LACRE_E_NOT_FOUND for other contents.  Pointers into pdu's bytes. */
int pcap_cc_packet(const struct etsi_pdu *pdu, const uint8_t **p, size_t *n, size_t *orig);

/* Write the CC records of warrant (only CIN cin when has_cin) to path
 * (mode 0600, must not exist: LACRE_E_EXISTS; written to path.part and
 * renamed), in the order they were sealed.  calls (may be NULL) give the
 * SDP addresses of IPMMCC frames that need a synthetic header. */
int pcap_write(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
	       const char *warrant, int has_cin, uint32_t cin,
	       const struct calls_entry *calls, size_t n_calls, const char *path,
	       void (*problem)(void *arg, const char *segment, int err, const char *what),
	       void *arg, struct pcap_report *rep);
/* pcap_write leaving out the records skip names (may be NULL), counted in
 * rep->excluded. */
int pcap_write_skip(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
		    const char *warrant, int has_cin, uint32_t cin,
		    const struct calls_entry *calls, size_t n_calls, const char *path,
		    const struct access_skip *skip,
		    void (*problem)(void *arg, const char *segment, int err, const char *what),
		    void *arg, struct pcap_report *rep);

#endif
