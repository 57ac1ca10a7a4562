/*
 * etsi_location.h - the locations an IRI carries, decoded into what the
 * record says and nothing more (lib/wire/etsi_location.c).
 *
 * Sources: the GTPv2 User Location Info of an EPS IRI (TS 29.274 §8.21:
 * CGI, SAI, RAI, TAI, ECGI, LAI), the UMTS Location of TS 33.108
 * (globalCellID, sAI, rAI, gsmLocation geoCoordinates / wGS84Coordinates,
 * umtsLocation GA-Point), the EPSLocation of TS 33.108 (userLocationInfo,
 * gsmLocation, umtsLocation), the LI-PS-PDU Location of an IPIRI
 * location [24] or IPMMIRI targetLocation [2] (its umtsHI2Location [0] and
 * epsLocation [1]) and the IPIRI targetLocation [7] text.  lacre has no
 * cell-tower database: a cell stays a cell (MCC, MNC, area code, cell
 * id); coordinates appear only when the record itself holds them.
 *
 * Every byte is read through the checked buffer; at most ETSI_LOC_MAX
 * locations are kept per IRI (the rest counted in dropped).
 */
#ifndef LACRE_ETSI_LOCATION_H
#define LACRE_ETSI_LOCATION_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/etsi.h"

#define ETSI_LOC_MAX 8          /* locations kept per IRI */
#define ETSI_LOC_TEXT_MAX 132   /* "0x" + 64 octets in hex + NUL */

enum etsi_loc_kind {
	ETSI_LOC_CGI = 1,       /* cell global identity: PLMN, LAC, CI */
	ETSI_LOC_SAI = 2,       /* service area identity: PLMN, LAC, SAC */
	ETSI_LOC_RAI = 3,       /* routing area identity: PLMN, LAC, RAC */
	ETSI_LOC_TAI = 4,       /* tracking area identity: PLMN, TAC */
	ETSI_LOC_ECGI = 5,      /* E-UTRAN cell global identity: PLMN, ECI (28 bits) */
	ETSI_LOC_LAI = 6,       /* location area identity: PLMN, LAC */
	ETSI_LOC_POINT = 7,     /* WGS 84 coordinates the record holds */
	ETSI_LOC_TEXT = 8       /* IPIRI targetLocation [7]: free text */
};

/* One location as the record gives it. */
struct etsi_loc {
	int kind;               /* enum etsi_loc_kind */
	char mcc[4], mnc[4];    /* digits; "" for a point or text, or when not digits */
	int has_area;
	uint32_t area;          /* TAC (TAI), LAC (CGI, SAI, RAI, LAI) */
	int has_rac;
	uint32_t rac;           /* RAC (GTPv2 ULI: its two octets as one number) */
	int has_cell;
	uint32_t cell;          /* ECI (ECGI), CI (CGI), SAC (SAI) */
	int has_point;
	int32_t lat_udeg, lon_udeg; /* microdegrees (north, east positive), rounded */
	char text[ETSI_LOC_TEXT_MAX]; /* ETSI_LOC_TEXT: printable text, else "0x" + hex */
};

struct etsi_locations {
	size_t n;
	struct etsi_loc v[ETSI_LOC_MAX];
	unsigned dropped;       /* locations beyond ETSI_LOC_MAX */
	unsigned skipped;       /* well-formed elements not decoded (civic address,
	                         * old ULI, TAI list, polygon, other map datum, ...) */
};

/* Append the locations of a GTPv2 ULI value p[0..n) to out.  LACRE_OK;
 * LACRE_E_INCOMPLETE when the flags announce more than n bytes (what fits
 * is kept); LACRE_E_TRAILING when bytes follow the announced fields. */
int etsi_location_uli(const uint8_t *p, size_t n, struct etsi_locations *out);

/* Append the locations of the contents p[0..n) of a TS 33.108 UMTS
 * Location, EPSLocation or LI-PS-PDU Location to out.  LACRE_OK when every
 * element decoded; else the first error (LACRE_E_INCOMPLETE,
 * LACRE_E_MALFORMED, LACRE_E_DEPTH, ...), what decoded kept. */
int etsi_location_umts(const uint8_t *p, size_t n, struct etsi_locations *out);
int etsi_location_eps(const uint8_t *p, size_t n, struct etsi_locations *out);
int etsi_location_li(const uint8_t *p, size_t n, struct etsi_locations *out);

/* Every location of the decoded IRI pdu into *out (zeroed first; n 0 for
 * any other PDU).  Returns as above: LACRE_OK, or the first element error. */
int etsi_location_of(const struct etsi_pdu *pdu, struct etsi_locations *out);

/* "cgi", "sai", "rai", "tai", "ecgi", "lai", "point", "text"; NULL otherwise. */
const char *etsi_loc_kind_name(int kind);

/* Microdegrees as decimal degrees, "-33.856789", into out[16]. */
void etsi_loc_degrees(int32_t udeg, char out[16]);

#endif
