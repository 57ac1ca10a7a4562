/*
 * test_etsi_location.c - the IRI location decoder (lib/wire/etsi_location.c).
 *
 * Real bytes first: the three ePSIRI of the EPS target LIC-MOBILE-EPS in
 * the OpenLI set C capture (../shared/vectors/openli-c/raw/hi2.bin,
 * decrypted with the set's key), whose userLocationInfo libwandder's
 * tracepktdump shows as "TAI: 204-08-1c2d ECGI: 204-08-0a1b2c3" (then
 * 0a1b2c7 twice).  Then crafted bytes: the GTPv2 ULI layouts (CGI, SAI,
 * RAI, LAI), truncated and overlong ULI, the UMTS Location cells,
 * geoCoordinates, GA-Point and TS 23.032 points with values computed by
 * hand, wrong tags and types, other map datums (not converted), and the
 * ETSI_LOC_MAX cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_crypt.h"
#include "lacre/etsi_location.h"

/* Decode and decrypt the PDU of hi2.bin at off (len bytes). */
static int real_pdu(const uint8_t *raw, size_t off, size_t len, const struct etsi_keyring *kr,
		    struct etsi_pdu *p, struct lacre_dbuf *plain)
{
	int r = etsi_decode(raw + off, len, p);

	return r != LACRE_OK ? r : etsi_decrypt(kr, INT64_MIN, p, plain);
}

/* TAI 204-08 TAC 0x1c2d then ECGI 204-08 ECI eci, as the real IRIs hold. */
static int real_pair(const struct etsi_locations *l, uint32_t eci)
{
	return l->n == 2 && l->dropped == 0 && l->skipped == 0 &&
	       l->v[0].kind == ETSI_LOC_TAI && !strcmp(l->v[0].mcc, "204") &&
	       !strcmp(l->v[0].mnc, "08") && l->v[0].has_area && l->v[0].area == 0x1c2d &&
	       !l->v[0].has_cell && !l->v[0].has_point &&
	       l->v[1].kind == ETSI_LOC_ECGI && !strcmp(l->v[1].mcc, "204") &&
	       !strcmp(l->v[1].mnc, "08") && l->v[1].has_cell && l->v[1].cell == eci &&
	       !l->v[1].has_area;
}

/* The real OpenLI EPS IRIs (hi2.bin offsets 2848, 5398, 7068). */
static void test_openli_eps(void)
{
	size_t n = 0, kn = 0, klen = 0;
	uint8_t *raw = t_vector("openli-c/raw/hi2.bin", &n);
	uint8_t *ktext = t_vector("openli-c/config/payload-encryption-key.hex", &kn);
	uint8_t key[ETSI_HKEY_MAX];
	struct etsi_keyring kr;
	struct lacre_dbuf plain;
	struct etsi_locations l;
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
	CHECK_OK(etsi_location_of(&p, &l));
	CHECK(real_pair(&l, 0x0a1b2c3));
	CHECK_OK(real_pdu(raw, 5398, 386, &kr, &p, &plain));
	CHECK_OK(etsi_location_of(&p, &l));
	CHECK(real_pair(&l, 0x0a1b2c7));
	CHECK_OK(real_pdu(raw, 7068, 386, &kr, &p, &plain));
	CHECK_OK(etsi_location_of(&p, &l));
	CHECK(real_pair(&l, 0x0a1b2c7));
	/* still encrypted (no key): nothing to say */
	CHECK_OK(etsi_decode(raw + 2848, 434, &p));
	CHECK_OK(etsi_location_of(&p, &l));
	CHECK_EQ_INT(l.n, 0);
	/* a VoIP IRI of the same capture (offset 73, the INVITE) carries none */
	CHECK_OK(real_pdu(raw, 73, 1040, &kr, &p, &plain));
	CHECK_EQ_INT(p.content_tag, ETSI_IRI_IPMMIRI);
	CHECK_OK(etsi_location_of(&p, &l));
	CHECK_EQ_INT(l.n, 0);
	etsi_keyring_wipe(&kr);
	lacre_dbuf_free(&plain);
	free(raw);
	free(ktext);
}

/* Every ULI layout, a three-digit MNC, a PLMN that is not digits. */
static void test_uli_layouts(void)
{
	static const uint8_t u[] = {
		0x27,                                           /* CGI SAI RAI LAI */
		0x13, 0x00, 0x62, 0x12, 0x34, 0xab, 0xcd,       /* CGI 310-260 LAC 0x1234 CI 0xabcd */
		0x13, 0x00, 0x62, 0x12, 0x34, 0x00, 0x07,       /* SAI SAC 7 */
		0x13, 0x00, 0x62, 0x12, 0x34, 0x05, 0xff,       /* RAI RAC octets 05 ff */
		0x3a, 0x3f, 0x21, 0x00, 0x01,                   /* LAI: MCC digit A: no PLMN */
	};
	struct etsi_locations l;

	memset(&l, 0, sizeof(l));
	CHECK_OK(etsi_location_uli(u, sizeof(u), &l));
	CHECK_EQ_INT(l.n, 4);
	CHECK_EQ_INT(l.v[0].kind, ETSI_LOC_CGI);
	CHECK_STR(l.v[0].mcc, "310");
	CHECK_STR(l.v[0].mnc, "260");
	CHECK_EQ_INT(l.v[0].area, 0x1234);
	CHECK_EQ_INT(l.v[0].cell, 0xabcd);
	CHECK_EQ_INT(l.v[1].kind, ETSI_LOC_SAI);
	CHECK_EQ_INT(l.v[1].cell, 7);
	CHECK_EQ_INT(l.v[2].kind, ETSI_LOC_RAI);
	CHECK(l.v[2].has_rac && l.v[2].rac == 0x05ff && !l.v[2].has_cell);
	CHECK_EQ_INT(l.v[3].kind, ETSI_LOC_LAI);
	CHECK_STR(l.v[3].mcc, "");
	CHECK_EQ_INT(l.v[3].area, 1);
	CHECK_STR(etsi_loc_kind_name(l.v[3].kind), "lai");
}

/* Truncated and overlong ULI: what fits is kept, the error says which. */
static void test_uli_bad(void)
{
	static const uint8_t tai_ecgi[] = { 0x18, 0x02, 0xf4, 0x80, 0x1c, 0x2d, 0x02, 0xf4, 0x80,
					    0x00, 0xa1, 0xb2, 0xc3, 0x00 };
	struct etsi_locations l;

	memset(&l, 0, sizeof(l));
	CHECK_EQ_INT(etsi_location_uli(tai_ecgi, sizeof(tai_ecgi) - 2, &l), LACRE_E_INCOMPLETE);
	CHECK_EQ_INT(l.n, 1);                               /* the TAI fit */
	memset(&l, 0, sizeof(l));
	CHECK_EQ_INT(etsi_location_uli(tai_ecgi, sizeof(tai_ecgi), &l), LACRE_E_TRAILING);
	CHECK_EQ_INT(l.n, 2);
	memset(&l, 0, sizeof(l));
	CHECK_EQ_INT(etsi_location_uli(tai_ecgi, 0, &l), LACRE_E_INCOMPLETE);
	CHECK_EQ_INT(etsi_location_uli(NULL, 5, &l), LACRE_E_INCOMPLETE);
	CHECK_EQ_INT(l.n, 0);
	/* a macro eNodeB id names no cell: skipped, not invented */
	{
		static const uint8_t enb[] = { 0x40, 0x02, 0xf4, 0x80, 0x01, 0x02, 0x03 };
		CHECK_OK(etsi_location_uli(enb, sizeof(enb), &l));
		CHECK_EQ_INT(l.n, 0);
		CHECK_EQ_INT(l.skipped, 1);
	}
}

/* UMTS Location: globalCellID [2], rAI [4], sAI [7], a timestamp [11],
 * a civic address [9] (skipped). */
static void test_umts_cells(void)
{
	static const uint8_t loc[] = {
		0x82, 0x07, 0x02, 0xf4, 0x80, 0x00, 0x11, 0x00, 0x22,   /* CGI */
		0x84, 0x06, 0x02, 0xf4, 0x80, 0x00, 0x11, 0x09,         /* rAI: RAC 9 */
		0x87, 0x07, 0x02, 0xf4, 0x80, 0x00, 0x11, 0x00, 0x33,   /* sAI */
		0x8b, 0x01, 0x00,                                       /* uELocationTimestamp */
		0x89, 0x02, 'N', 'L',                                   /* civicAddress */
	};
	static const uint8_t short_cgi[] = { 0x82, 0x05, 0x02, 0xf4, 0x80, 0x00, 0x11 };
	static const uint8_t cons_cgi[] = { 0xa2, 0x00 };
	static const uint8_t univ[] = { 0x04, 0x00 };
	struct etsi_locations l;

	memset(&l, 0, sizeof(l));
	CHECK_OK(etsi_location_umts(loc, sizeof(loc), &l));
	CHECK_EQ_INT(l.n, 3);
	CHECK_EQ_INT(l.skipped, 1);
	CHECK(l.v[0].kind == ETSI_LOC_CGI && l.v[0].area == 0x11 && l.v[0].cell == 0x22);
	CHECK(l.v[1].kind == ETSI_LOC_RAI && l.v[1].rac == 9 && l.v[1].area == 0x11);
	CHECK(l.v[2].kind == ETSI_LOC_SAI && l.v[2].cell == 0x33);
	memset(&l, 0, sizeof(l));
	CHECK_EQ_INT(etsi_location_umts(short_cgi, sizeof(short_cgi), &l), LACRE_E_INCOMPLETE);
	CHECK_EQ_INT(etsi_location_umts(cons_cgi, sizeof(cons_cgi), &l), LACRE_E_MALFORMED);
	CHECK_EQ_INT(etsi_location_umts(univ, sizeof(univ), &l), LACRE_E_MALFORMED);
	/* a length running past the end */
	CHECK(etsi_location_umts(loc, 5, &l) != LACRE_OK);
	CHECK_EQ_INT(l.n, 0);
}

/* Coordinates: geoCoordinates (DMS text), GA-Point, TS 23.032 octets. */
static void test_points(void)
{
	/* gsmLocation [5] { geoCoordinates [1] { latitude "N522230.50", longitude "E0045315" } } */
	static const uint8_t geo[] = { 0xa5, 0x18, 0xa1, 0x16, 0x81, 0x0a, 'N', '5', '2', '2', '2',
				       '3', '0', '.', '5', '0', 0x82, 0x08, 'E', '0', '0', '4', '5',
				       '3', '1', '5' };
	/* umtsLocation [6] { point [1] { latitudeSign [0] south, latitude [1]
	 * 4880479, longitude [2] -1000000 } } */
	static const uint8_t ga[] = { 0xa6, 0x0f, 0xa1, 0x0d, 0x80, 0x01, 0x01, 0x81, 0x03, 0x4a,
				      0x78, 0x5f, 0x82, 0x03, 0xf0, 0xbd, 0xc0 };
	/* gsmLocation [5] { wGS84Coordinates [4] shape 0: 45°N, 90°E } */
	static const uint8_t gad[] = { 0xa5, 0x09, 0x84, 0x07, 0x00, 0x40, 0x00, 0x00, 0x40, 0x00,
				       0x00 };
	/* the same with mapDatum ED50 (1): not converted, skipped */
	static const uint8_t ed50[] = { 0xa5, 0x1b, 0xa1, 0x19, 0x81, 0x0a, 'N', '5', '2', '2', '2',
					'3', '0', '.', '5', '0', 0x82, 0x08, 'E', '0', '0', '4', '5',
					'3', '1', '5', 0x83, 0x01, 0x01 };
	struct etsi_locations l;
	char t[16];

	memset(&l, 0, sizeof(l));
	CHECK_OK(etsi_location_umts(geo, sizeof(geo), &l));
	CHECK_OK(etsi_location_umts(ga, sizeof(ga), &l));
	CHECK_OK(etsi_location_umts(gad, sizeof(gad), &l));
	CHECK_OK(etsi_location_umts(ed50, sizeof(ed50), &l));
	CHECK_EQ_INT(l.n, 3);
	CHECK_EQ_INT(l.skipped, 1);
	CHECK(l.v[0].kind == ETSI_LOC_POINT && l.v[0].has_point);
	CHECK_EQ_INT(l.v[0].lat_udeg, 52375139);   /* 52° 22' 30.50" */
	CHECK_EQ_INT(l.v[0].lon_udeg, 4887500);    /* 4° 53' 15" */
	CHECK_EQ_INT(l.v[1].lat_udeg, -52361859);  /* 4880479 * 90 / 2^23, south */
	CHECK_EQ_INT(l.v[1].lon_udeg, -21457672);  /* -1000000 * 360 / 2^24 */
	CHECK_EQ_INT(l.v[2].lat_udeg, 45000000);
	CHECK_EQ_INT(l.v[2].lon_udeg, 90000000);
	etsi_loc_degrees(l.v[1].lat_udeg, t);
	CHECK_STR(t, "-52.361859");
	etsi_loc_degrees(l.v[2].lon_udeg, t);
	CHECK_STR(t, "90.000000");
	etsi_loc_degrees(-5, t);
	CHECK_STR(t, "-0.000005");
}

/* Coordinates that are not what they claim. */
static void test_points_bad(void)
{
	/* minutes 61 */
	static const uint8_t min61[] = { 0xa5, 0x15, 0xa1, 0x13, 0x81, 0x07, 'N', '5', '2', '6',
					 '1', '3', '0', 0x82, 0x08, 'E', '0', '0', '4', '5', '3',
					 '1', '5' };
	/* latitude letter E */
	static const uint8_t letter[] = { 0xa5, 0x15, 0xa1, 0x13, 0x81, 0x07, 'E', '5', '2', '2',
					  '1', '3', '0', 0x82, 0x08, 'E', '0', '0', '4', '5', '3',
					  '1', '5' };
	/* no longitude */
	static const uint8_t half[] = { 0xa5, 0x0b, 0xa1, 0x09, 0x81, 0x07, 'N', '5', '2', '2', '1',
					'3', '0' };
	/* GA-Point latitude 2^23 */
	static const uint8_t big[] = { 0xa6, 0x0f, 0xa1, 0x0d, 0x80, 0x01, 0x00, 0x81, 0x04, 0x00,
				       0x80, 0x00, 0x00, 0x82, 0x02, 0x00, 0x00 };
	/* TS 23.032 shape 0 one octet short, and one octet long */
	static const uint8_t gad6[] = { 0xa5, 0x08, 0x84, 0x06, 0x00, 0x40, 0x00, 0x00, 0x40, 0x00 };
	static const uint8_t gad8[] = { 0xa5, 0x0a, 0x84, 0x08, 0x00, 0x40, 0x00, 0x00, 0x40, 0x00,
					0x00, 0x00 };
	/* a CHOICE with two alternatives */
	static const uint8_t two[] = { 0xa5, 0x04, 0x82, 0x00, 0x83, 0x00 };
	struct etsi_locations l;

	memset(&l, 0, sizeof(l));
	CHECK_EQ_INT(etsi_location_umts(min61, sizeof(min61), &l), LACRE_E_RANGE);
	CHECK_EQ_INT(etsi_location_umts(letter, sizeof(letter), &l), LACRE_E_MALFORMED);
	CHECK_EQ_INT(etsi_location_umts(half, sizeof(half), &l), LACRE_E_MALFORMED);
	CHECK_EQ_INT(etsi_location_umts(big, sizeof(big), &l), LACRE_E_RANGE);
	CHECK_EQ_INT(etsi_location_umts(gad6, sizeof(gad6), &l), LACRE_E_INCOMPLETE);
	CHECK_EQ_INT(etsi_location_umts(gad8, sizeof(gad8), &l), LACRE_E_TRAILING);
	CHECK_EQ_INT(etsi_location_umts(two, sizeof(two), &l), LACRE_E_TRAILING);
	CHECK_EQ_INT(l.n, 0);
}

/* LI-PS-PDU Location { epsLocation [1] { userLocationInfo [1] } } as
 * OpenLI puts it in an IPMMIRI; wrong tags; the ETSI_LOC_MAX cap. */
static void test_li_location(void)
{
	static const uint8_t li[] = { 0xa1, 0x0f, 0x81, 0x0d, 0x18, 0x02, 0xf4, 0x80, 0x1c, 0x2d,
				      0x02, 0xf4, 0x80, 0x00, 0xa1, 0xb2, 0xc3,
				      0xa2, 0x00 };                      /* wlan: skipped */
	static const uint8_t prim[] = { 0x81, 0x01, 0x00 };      /* epsLocation not constructed */
	static const uint8_t uli_cons[] = { 0xa1, 0x02, 0xa1, 0x00 };  /* ULI constructed */
	struct etsi_locations l;

	memset(&l, 0, sizeof(l));
	CHECK_OK(etsi_location_li(li, sizeof(li), &l));
	CHECK(real_pair(&(struct etsi_locations){ .n = 2, .v = { l.v[0], l.v[1] } }, 0x0a1b2c3));
	CHECK_EQ_INT(l.skipped, 1);
	CHECK_EQ_INT(etsi_location_li(prim, sizeof(prim), &l), LACRE_E_MALFORMED);
	CHECK_EQ_INT(etsi_location_li(uli_cons, sizeof(uli_cons), &l), LACRE_E_MALFORMED);
	/* 5 pairs: 8 kept, 2 dropped */
	memset(&l, 0, sizeof(l));
	for (int i = 0; i < 5; i++)
		CHECK_OK(etsi_location_li(li, sizeof(li) - 2, &l));
	CHECK_EQ_INT(l.n, ETSI_LOC_MAX);
	CHECK_EQ_INT(l.dropped, 2);
}

int main(void)
{
	RUN(test_openli_eps);
	RUN(test_uli_layouts);
	RUN(test_uli_bad);
	RUN(test_umts_cells);
	RUN(test_points);
	RUN(test_points_bad);
	RUN(test_li_location);
	return t_done();
}
