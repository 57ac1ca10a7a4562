/*
 * test_etsi_eps.c - mobile IRI decoding (EPS and UMTS IRI-Parameters of TS
 * 33.108, 3GPP TS 33.128 xIRI in threeGPP33128DefinedIRI and the user-plane
 * packet of threeGPP33128DefinedCC), the location
 * presence legal rule L2 relies on (etsi_iri_location), and "accept and
 * flag" of an out-of-range microSeconds.
 *
 * The IRIs are built here tag by tag from the ASN.1 modules (EpsHI2Operations,
 * UmtsHI2Operations, TS33128Payloads), in the shape OpenLI emits for EPS (the
 * IRI-Parameters under ePSIRI [0], one PartyInformation directly under
 * partyInformation [9]) and in the standard's shapes (a record CHOICE, a SET
 * OF PartyInformation); the real OpenLI EPS IRIs are checked through the
 * decryptor, against the values libwandder's tracepktdump shows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/ber.h"
#include "lacre/ber_enc.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_crypt.h"
#include "lacre/etsi_enc.h"

static const uint8_t imsi_tbcd[] = { 0x02, 0x04, 0x18, 0x32, 0x54, 0x76, 0x98, 0xf0 };
static const uint8_t imei_tbcd[] = { 0x53, 0x02, 0x99, 0x00, 0x71, 0x16, 0x84, 0x10 };
static const uint8_t msisdn_tbcd[] = { 0x13, 0x16, 0x32, 0x54, 0x76, 0xf8 };
static const uint8_t ue_ip[] = { 10, 45, 7, 77 };
static const uint8_t uli[] = { 0x18, 0x02, 0xf4, 0x80, 0x1c, 0x2d, 0x02, 0xf4, 0x80, 0x00, 0xa1,
			       0xb2, 0xc3 };
static const uint8_t apn[] = { 8, 'i', 'n', 't', 'e', 'r', 'n', 'e', 't', 1, 'c' };

/* Which IRI content build_pdu writes. */
enum shape { EPS_OPENLI, EPS_OPENLI_NOLOC, EPS_LOCATION_8, UMTS_RECORD, UMTS_EMPTY,
	     X_EST_LOC, X_EST_NOLOC, X_UNKNOWN_EVENT };

/* PSHeader with a microSecondTimeStamp of (sec, usec), usec unchecked. */
static void header(struct ber_enc *e, uint64_t sec, uint64_t usec)
{
	ber_enc_open(e, BER_CONTEXT, 1);
	ber_enc_oid_text(e, BER_CONTEXT, 0, ETSI_ENC_DOMAIN_OPENLI, 0);
	ber_enc_str(e, BER_CONTEXT, 1, "LIC-MOBILE-EPS");
	ber_enc_open(e, BER_CONTEXT, 3);
	ber_enc_open(e, BER_CONTEXT, 0);
	ber_enc_str(e, BER_CONTEXT, 0, "opC");
	ber_enc_close(e);
	ber_enc_uint(e, BER_CONTEXT, 1, 268476417);
	ber_enc_close(e);
	ber_enc_uint(e, BER_CONTEXT, 4, 0);
	ber_enc_open(e, BER_CONTEXT, 7);
	ber_enc_uint(e, BER_CONTEXT, 0, sec);
	ber_enc_uint(e, BER_CONTEXT, 1, usec);
	ber_enc_close(e);
	ber_enc_close(e);
}

/* An IPAddress { iP-type [1] IPv4, iP-value [2] { iPBinaryAddress [1] } }. */
static void ipaddr(struct ber_enc *e, uint32_t tag, const uint8_t *a)
{
	ber_enc_open(e, BER_CONTEXT, tag);
	ber_enc_uint(e, BER_CONTEXT, 1, 0);
	ber_enc_open(e, BER_CONTEXT, 2);
	ber_enc_prim(e, BER_CONTEXT, 1, a, 4);
	ber_enc_close(e);
	ber_enc_close(e);
}

/* PartyInformation's fields (qualifier, identities, GPRS parameters). */
static void party_fields(struct ber_enc *e)
{
	ber_enc_uint(e, BER_CONTEXT, 0, 3);              /* gPRS-Target */
	ber_enc_open(e, BER_CONTEXT, 1);                 /* partyIdentity */
	ber_enc_prim(e, BER_CONTEXT, 1, imei_tbcd, sizeof(imei_tbcd));
	ber_enc_prim(e, BER_CONTEXT, 3, imsi_tbcd, sizeof(imsi_tbcd));
	ber_enc_prim(e, BER_CONTEXT, 6, msisdn_tbcd, sizeof(msisdn_tbcd));
	ber_enc_close(e);
	ber_enc_open(e, BER_CONTEXT, 4);                 /* services-Data-Information */
	ber_enc_open(e, BER_CONTEXT, 1);                 /* gPRS-parameters */
	ber_enc_open(e, BER_CONTEXT, 1);                 /* pDP-address-allocated */
	ipaddr(e, 1, ue_ip);                             /* DataNodeAddress ipAddress */
	ber_enc_close(e);
	ber_enc_prim(e, BER_CONTEXT, 2, apn, sizeof(apn));
	ber_enc_close(e);
	ber_enc_close(e);
}

/* The IRI-Parameters of an EPS bearer activation. */
static void eps_params(struct ber_enc *e, enum shape s)
{
	ber_enc_oid_text(e, BER_CONTEXT, 0, "0.4.0.2.2.4.8.17.0", 0);
	ber_enc_str(e, BER_CONTEXT, 1, "LIC-MOBILE-EPS");
	ber_enc_uint(e, BER_CONTEXT, 4, 1);
	if (s == EPS_LOCATION_8) {
		ber_enc_open(e, BER_CONTEXT, 8);         /* locationOfTheTarget */
		ber_enc_prim(e, BER_CONTEXT, 7, "\x02\xf4\x80\x12\x34\x56\x78", 7); /* sAI */
		ber_enc_close(e);
	}
	ber_enc_open(e, BER_CONTEXT, 9);
	party_fields(e);
	ber_enc_close(e);
	ber_enc_uint(e, BER_CONTEXT, 20, 18);            /* bearerActivation */
	ber_enc_open(e, BER_CONTEXT, 36);                /* ePS-GTPV2-specificParameters */
	ber_enc_prim(e, BER_CONTEXT, 1, "\x01\x0a\x2d\x07\x4d", 5);
	ber_enc_prim(e, BER_CONTEXT, 5, "\x05", 1);
	ber_enc_prim(e, BER_CONTEXT, 7, "\x06", 1);      /* EUTRAN */
	ber_enc_uint(e, BER_CONTEXT, 10, 1);             /* defaultBearer */
	if (s == EPS_OPENLI) {
		ber_enc_open(e, BER_CONTEXT, 23);        /* ePSlocationOfTheTarget */
		ber_enc_prim(e, BER_CONTEXT, 1, uli, sizeof(uli));
		ber_enc_close(e);
	}
	ber_enc_prim(e, BER_CONTEXT, 24, "\x01", 1);     /* pDNType */
	ber_enc_close(e);
}

/* The TS33128Payloads IRIPayload octets of shape s into out. */
static int xiri(struct lacre_dbuf *out, enum shape s)
{
	struct ber_enc e;

	ber_enc_init(&e, out, BER_ENC_LEN_MINIMAL);
	ber_enc_seq(&e);
	ber_enc_oid_text(&e, BER_CONTEXT, 1, "4.19.17.3", 1);
	ber_enc_open(&e, BER_CONTEXT, 2);                /* event */
	if (s == X_UNKNOWN_EVENT) {
		ber_enc_open(&e, BER_CONTEXT, 12);       /* sMSMessage: layout not known */
		ber_enc_prim(&e, BER_CONTEXT, 1, "x", 1);
		ber_enc_close(&e);
	} else {
		ber_enc_open(&e, BER_CONTEXT, 6);        /* pDUSessionEstablishment */
		ber_enc_open(&e, BER_CONTEXT, 1);        /* sUPI CHOICE */
		ber_enc_str(&e, BER_CONTEXT, 1, "001010000000001");
		ber_enc_close(&e);
		ber_enc_open(&e, BER_CONTEXT, 3);        /* pEI CHOICE */
		ber_enc_str(&e, BER_CONTEXT, 1, "356938035643809");
		ber_enc_close(&e);
		ber_enc_uint(&e, BER_CONTEXT, 5, 5);     /* pDUSessionID */
		ber_enc_open(&e, BER_CONTEXT, 9);        /* uEEndpoint SEQUENCE OF */
		ber_enc_prim(&e, BER_CONTEXT, 1, ue_ip, 4);
		ber_enc_close(&e);
		if (s == X_EST_LOC) {
			ber_enc_open(&e, BER_CONTEXT, 11);   /* location */
			ber_enc_open(&e, BER_CONTEXT, 1);
			ber_enc_prim(&e, BER_CONTEXT, 1, "cell", 4);
			ber_enc_close(&e);
			ber_enc_close(&e);
		}
		ber_enc_str(&e, BER_CONTEXT, 12, "internet");
		ber_enc_close(&e);
	}
	ber_enc_close(&e);
	ber_enc_close(&e);
	return ber_enc_finish(&e);
}

/* A PS-PDU holding one IRI of shape s, with microSeconds usec, into out. */
static int build_pdu(struct lacre_dbuf *out, enum shape s, uint64_t usec)
{
	struct lacre_dbuf x;
	struct ber_enc e;
	int r;

	lacre_dbuf_init(&x, 4096);
	if (s >= X_EST_LOC && (r = xiri(&x, s)) != LACRE_OK)
		goto done;
	lacre_dbuf_reset(out);
	ber_enc_init(&e, out, BER_ENC_LEN_MINIMAL);
	ber_enc_seq(&e);
	header(&e, 1796592809, usec);
	ber_enc_open(&e, BER_CONTEXT, 2);
	ber_enc_open(&e, BER_CONTEXT, 0);                /* iRIPayloadSequence */
	ber_enc_seq(&e);
	ber_enc_uint(&e, BER_CONTEXT, 0, 1);             /* IRI-Begin */
	ber_enc_open(&e, BER_CONTEXT, 2);                /* iRIContents */
	switch (s) {
	case EPS_OPENLI: case EPS_OPENLI_NOLOC: case EPS_LOCATION_8:
		ber_enc_open(&e, BER_CONTEXT, 15);       /* ePSIRI */
		ber_enc_open(&e, BER_CONTEXT, 0);
		eps_params(&e, s);
		ber_enc_close(&e);
		ber_enc_close(&e);
		break;
	case UMTS_RECORD:
		ber_enc_open(&e, BER_CONTEXT, 4);        /* uMTSIRI */
		ber_enc_open(&e, BER_CONTEXT, 1);        /* iRI-Begin-record */
		ber_enc_open(&e, BER_CONTEXT, 9);        /* SET OF PartyInformation */
		ber_enc_seq(&e);
		party_fields(&e);
		ber_enc_close(&e);
		ber_enc_close(&e);
		ber_enc_uint(&e, BER_CONTEXT, 20, 1);    /* pDPContextActivation */
		ber_enc_prim(&e, BER_CONTEXT, 18, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
		ber_enc_close(&e);
		ber_enc_close(&e);
		break;
	case UMTS_EMPTY:
		ber_enc_open(&e, BER_CONTEXT, 4);
		ber_enc_oid_text(&e, BER_CONTEXT, 0, "5.3.10.9", 1);
		ber_enc_close(&e);
		break;
	default:
		ber_enc_prim(&e, BER_CONTEXT, 19, x.p, x.len);   /* threeGPP33128DefinedIRI */
		break;
	}
	ber_enc_close(&e);
	ber_enc_close(&e);
	ber_enc_close(&e);
	ber_enc_close(&e);
	ber_enc_close(&e);
	r = ber_enc_finish(&e);
done:
	lacre_dbuf_free(&x);
	return r;
}

/* Bytes b equal the n octets p. */
static int same(const struct etsi_bytes *b, const void *p, size_t n)
{
	return b->p && b->len == n && memcmp(b->p, p, n) == 0;
}

/* EPS as OpenLI emits it: identities, event, PDN address, APN, RAT, ULI. */
static void test_eps_openli_shape(void)
{
	struct lacre_dbuf b;
	struct etsi_pdu p;

	lacre_dbuf_init(&b, 8192);
	CHECK_OK(build_pdu(&b, EPS_OPENLI, 66294));
	CHECK_OK(etsi_decode(b.p, b.len, &p));
	CHECK_EQ_INT(p.partial, 0);
	CHECK_EQ_INT(p.kind, ETSI_KIND_IRI);
	CHECK_STR(p.content, "epsiri");
	CHECK_EQ_INT(p.mobile.family, 1);
	CHECK_EQ_INT(p.mobile.event, 18);
	CHECK_EQ_INT(p.mobile.initiator, 1);
	CHECK(same(&p.mobile.imsi, imsi_tbcd, sizeof(imsi_tbcd)));
	CHECK(same(&p.mobile.imei, imei_tbcd, sizeof(imei_tbcd)));
	CHECK(same(&p.mobile.msisdn, msisdn_tbcd, sizeof(msisdn_tbcd)));
	CHECK(same(&p.mobile.pdp_addr.bin, ue_ip, 4));
	CHECK(same(&p.mobile.apn, apn, sizeof(apn)));
	CHECK(same(&p.mobile.uli, uli, sizeof(uli)));
	CHECK_EQ_INT(p.mobile.rat, 6);
	CHECK_EQ_INT(p.mobile.bearer_type, 1);
	CHECK_EQ_INT(p.mobile.has_location, 1);
	CHECK_EQ_INT(etsi_iri_location(&p), 1);
	lacre_dbuf_free(&b);
}

/* L2 exactness: no location field, a Location [8], an ePSLocation. */
static void test_eps_location(void)
{
	struct lacre_dbuf b;
	struct etsi_pdu p;

	lacre_dbuf_init(&b, 8192);
	CHECK_OK(build_pdu(&b, EPS_OPENLI_NOLOC, 0));
	CHECK_OK(etsi_decode(b.p, b.len, &p));
	CHECK_EQ_INT(p.partial, 0);
	CHECK_EQ_INT(etsi_iri_location(&p), 0);
	CHECK(same(&p.mobile.imsi, imsi_tbcd, sizeof(imsi_tbcd)));
	CHECK_OK(build_pdu(&b, EPS_LOCATION_8, 0));
	CHECK_OK(etsi_decode(b.p, b.len, &p));
	CHECK_EQ_INT(etsi_iri_location(&p), 1);
	CHECK_EQ_INT(p.mobile.sai.len, 7);
	lacre_dbuf_free(&b);
}

/* UMTS: a record CHOICE and a SET OF PartyInformation; an IRI without
 * IRI-Parameters is "cannot tell". */
static void test_umts(void)
{
	struct lacre_dbuf b;
	struct etsi_pdu p;

	lacre_dbuf_init(&b, 8192);
	CHECK_OK(build_pdu(&b, UMTS_RECORD, 0));
	CHECK_OK(etsi_decode(b.p, b.len, &p));
	CHECK_EQ_INT(p.partial, 0);
	CHECK_STR(p.content, "umtsiri");
	CHECK_EQ_INT(p.mobile.family, 2);
	CHECK_EQ_INT(p.mobile.record, 1);
	CHECK_EQ_INT(p.mobile.event, 1);
	CHECK(same(&p.mobile.imsi, imsi_tbcd, sizeof(imsi_tbcd)));
	CHECK(same(&p.mobile.pdp_addr.bin, ue_ip, 4));
	CHECK_EQ_INT(p.mobile.correlation.len, 8);
	CHECK_EQ_INT(etsi_iri_location(&p), 0);
	CHECK_OK(build_pdu(&b, UMTS_EMPTY, 0));
	CHECK_OK(etsi_decode(b.p, b.len, &p));
	CHECK_EQ_INT(etsi_iri_location(&p), -1);
	lacre_dbuf_free(&b);
}

/* TS 33.128 xIRI: a PDU session establishment with and without a
 * location; an event whose layout lacre does not know is "cannot tell". */
static void test_3gpp33128(void)
{
	struct lacre_dbuf b;
	struct etsi_pdu p;

	lacre_dbuf_init(&b, 8192);
	CHECK_OK(build_pdu(&b, X_EST_LOC, 0));
	CHECK_OK(etsi_decode(b.p, b.len, &p));
	CHECK_EQ_INT(p.partial, 0);
	CHECK_STR(p.content, "threegpp33128definediri");
	CHECK_EQ_INT(p.mobile.family, 3);
	CHECK_EQ_INT(p.mobile.event, 6);
	CHECK(same(&p.mobile.supi, "001010000000001", 15));
	CHECK(same(&p.mobile.pei, "356938035643809", 15));
	CHECK(same(&p.mobile.dnn, "internet", 8));
	CHECK(same(&p.mobile.ue_ip, ue_ip, 4));
	CHECK_EQ_INT(p.mobile.pdu_session_id.len, 1);
	CHECK_EQ_INT(etsi_iri_location(&p), 1);
	CHECK_OK(build_pdu(&b, X_EST_NOLOC, 0));
	CHECK_OK(etsi_decode(b.p, b.len, &p));
	CHECK_EQ_INT(etsi_iri_location(&p), 0);
	CHECK_OK(build_pdu(&b, X_UNKNOWN_EVENT, 0));
	CHECK_OK(etsi_decode(b.p, b.len, &p));
	CHECK_EQ_INT(p.mobile.event, 12);
	CHECK_EQ_INT(etsi_iri_location(&p), -1);
	lacre_dbuf_free(&b);
}

/* A PS-PDU holding a TS 33.128 CC (extended: uPFIPCC inside
 * extendedUPFCCPDU, else a plain uPFCCPDU) carrying pkt. */
static int build_xcc(struct lacre_dbuf *out, int extended, const uint8_t *pkt, size_t n)
{
	struct lacre_dbuf x;
	struct ber_enc e;
	int r;

	lacre_dbuf_init(&x, 4096);
	ber_enc_init(&e, &x, BER_ENC_LEN_MINIMAL);
	ber_enc_seq(&e);
	ber_enc_oid_text(&e, BER_CONTEXT, 1, "4.19.17.4", 1);
	ber_enc_open(&e, BER_CONTEXT, 2);                /* pDU CCPDU */
	if (extended) {
		ber_enc_open(&e, BER_CONTEXT, 2);        /* extendedUPFCCPDU */
		ber_enc_open(&e, BER_CONTEXT, 1);        /* payload */
		ber_enc_prim(&e, BER_CONTEXT, 1, pkt, n);/* uPFIPCC */
		ber_enc_close(&e);
		ber_enc_uint(&e, BER_CONTEXT, 2, 9);     /* qFI */
		ber_enc_close(&e);
	} else {
		ber_enc_prim(&e, BER_CONTEXT, 1, pkt, n);/* uPFCCPDU */
	}
	ber_enc_close(&e);
	ber_enc_close(&e);
	if ((r = ber_enc_finish(&e)) != LACRE_OK)
		goto done;
	lacre_dbuf_reset(out);
	ber_enc_init(&e, out, BER_ENC_LEN_MINIMAL);
	ber_enc_seq(&e);
	header(&e, 1796592809, 0);
	ber_enc_open(&e, BER_CONTEXT, 2);
	ber_enc_open(&e, BER_CONTEXT, 1);                /* cCPayloadSequence */
	ber_enc_seq(&e);
	ber_enc_open(&e, BER_CONTEXT, 2);                /* cCContents */
	ber_enc_prim(&e, BER_CONTEXT, 23, x.p, x.len);   /* threeGPP33128DefinedCC */
	ber_enc_close(&e);
	ber_enc_close(&e);
	ber_enc_close(&e);
	ber_enc_close(&e);
	ber_enc_close(&e);
	r = ber_enc_finish(&e);
done:
	lacre_dbuf_free(&x);
	return r;
}

/* TS 33.128 CC: the user-plane packet, in both CCPDU forms. */
static void test_3gpp33128_cc(void)
{
	static const uint8_t pkt[20] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 10, 45, 7, 77,
					 8, 8, 8, 8 };
	struct lacre_dbuf b;
	struct etsi_pdu p;

	lacre_dbuf_init(&b, 8192);
	for (int ext = 0; ext < 2; ext++) {
		CHECK_OK(build_xcc(&b, ext, pkt, sizeof(pkt)));
		CHECK_OK(etsi_decode(b.p, b.len, &p));
		CHECK_EQ_INT(p.partial, 0);
		CHECK_EQ_INT(p.kind, ETSI_KIND_CC);
		CHECK_STR(p.content, "threegpp33128definedcc");
		CHECK_EQ_INT(p.xcc_kind, 1);
		CHECK(same(&p.xcc_packet, pkt, sizeof(pkt)));
		CHECK_EQ_INT(p.mobile.family, 0);
	}
	lacre_dbuf_free(&b);
}

/* microSeconds out of its constraint: carried into the seconds, flagged,
 * never partial. */
static void test_usec_carry(void)
{
	struct lacre_dbuf b;
	struct etsi_pdu p;

	lacre_dbuf_init(&b, 8192);
	CHECK_OK(build_pdu(&b, EPS_OPENLI_NOLOC, 1000000));
	CHECK_OK(etsi_decode(b.p, b.len, &p));
	CHECK_EQ_INT(p.partial, 0);
	CHECK_EQ_INT(p.has_time, 2);
	CHECK_EQ_INT(p.time_us, 1796592810000000LL);
	CHECK_EQ_INT(p.flags, ETSI_FLAG_USEC_CARRY);
	CHECK_STR(etsi_flag_name(ETSI_FLAG_USEC_CARRY), "microseconds-carried");
	CHECK_OK(build_pdu(&b, EPS_OPENLI_NOLOC, 2500000));
	CHECK_OK(etsi_decode(b.p, b.len, &p));
	CHECK_EQ_INT(p.time_us, 1796592811500000LL);
	CHECK_EQ_INT(p.flags, ETSI_FLAG_USEC_CARRY);
	/* in range: no flag */
	CHECK_OK(build_pdu(&b, EPS_OPENLI_NOLOC, 999999));
	CHECK_OK(etsi_decode(b.p, b.len, &p));
	CHECK_EQ_INT(p.time_us, 1796592809999999LL);
	CHECK_EQ_INT(p.flags, 0);
	lacre_dbuf_free(&b);
}

/* Decode and decrypt the PDU of hi2.bin at off (len bytes). */
static int real_pdu(const uint8_t *raw, size_t off, size_t len, const struct etsi_keyring *kr,
		    struct etsi_pdu *p, struct lacre_dbuf *plain)
{
	int r = etsi_decode(raw + off, len, p);

	return r != LACRE_OK ? r : etsi_decrypt(kr, INT64_MIN, p, plain);
}

/* The real OpenLI EPS IRIs (hi2.bin offsets 2848, 5398, 7068): values as
 * decoded/hi2.tracepktdump.txt shows them. */
static void test_openli_eps(void)
{
	static const uint8_t uli_mod[] = { 0x18, 0x02, 0xf4, 0x80, 0x1c, 0x2d, 0x02, 0xf4, 0x80,
					   0x00, 0xa1, 0xb2, 0xc7 };
	size_t n = 0, kn = 0, klen = 0;
	uint8_t *raw = t_vector("openli-c/raw/hi2.bin", &n);
	uint8_t *ktext = t_vector("openli-c/config/payload-encryption-key.hex", &kn);
	uint8_t key[ETSI_HKEY_MAX];
	struct etsi_keyring kr;
	struct lacre_dbuf plain;
	struct etsi_pdu p;

	if (!raw || !ktext) {
		free(raw);
		free(ktext);
		return;
	}
	lacre_dbuf_init(&plain, 1 << 20);
	etsi_keyring_init(&kr);
	CHECK(n >= 7068 + 386);
	CHECK_OK(etsi_key_from_hex((const char *)ktext, kn, key, &klen));
	CHECK_OK(etsi_keyring_add(&kr, key, klen, INT64_MIN, INT64_MAX));
	CHECK_OK(real_pdu(raw, 2848, 434, &kr, &p, &plain));
	CHECK_EQ_INT(p.partial, 0);
	CHECK_EQ_INT(p.mobile.event, 18);       /* bearerActivation */
	CHECK(same(&p.mobile.imsi, imsi_tbcd, sizeof(imsi_tbcd)));
	CHECK(same(&p.mobile.imei, imei_tbcd, sizeof(imei_tbcd)));
	CHECK(same(&p.mobile.msisdn, msisdn_tbcd, sizeof(msisdn_tbcd)));
	CHECK(same(&p.mobile.pdp_addr.bin, ue_ip, 4));
	CHECK(same(&p.mobile.apn, apn, sizeof(apn)));
	CHECK(same(&p.mobile.uli, uli, sizeof(uli)));
	CHECK_EQ_INT(p.mobile.rat, 6);
	CHECK_EQ_INT(etsi_iri_location(&p), 1);
	CHECK_OK(real_pdu(raw, 5398, 386, &kr, &p, &plain));
	CHECK_EQ_INT(p.mobile.event, 20);       /* bearerModification */
	CHECK(same(&p.mobile.uli, uli_mod, sizeof(uli_mod)));
	CHECK_OK(real_pdu(raw, 7068, 386, &kr, &p, &plain));
	CHECK_EQ_INT(p.mobile.event, 21);       /* bearerDeactivation */
	CHECK_EQ_INT(p.mobile.rat, -1);
	CHECK_EQ_INT(etsi_iri_location(&p), 1);
	etsi_keyring_wipe(&kr);
	lacre_dbuf_free(&plain);
	free(raw);
	free(ktext);
}

int main(void)
{
	RUN(test_eps_openli_shape);
	RUN(test_eps_location);
	RUN(test_umts);
	RUN(test_3gpp33128);
	RUN(test_3gpp33128_cc);
	RUN(test_usec_carry);
	RUN(test_openli_eps);
	return t_done();
}
