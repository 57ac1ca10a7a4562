/*
 * locations.h - a warrant's location events, read from the index's
 * locations table (index.h, docs/FORMATS.md §10): what each IRI said about
 * where the target was (a cell, an area, coordinates when the record holds
 * them, a text), in time order.  `lacre locations` prints them and the
 * console shows them (docs/cmd-locations.md).  lacre has no cell-tower
 * database: a cell is listed as the operator gave it, never placed on a
 * map.  Owned by lib/access/locations.c.
 */
#ifndef LACRE_LOCATIONS_H
#define LACRE_LOCATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/etsi_location.h"
#include "lacre/frame.h"
#include "lacre/index.h"
#include "lacre/json.h"
#include "lacre/warrant.h"

#define LOCATIONS_MAX 1000000   /* rows one listing returns at most */

/* One location of one IRI. */
struct locations_row {
	char warrant[WARRANT_ID_MAX];
	char liid[2 * FRAME_LIID_MAX + 3];
	int has_cin;
	uint32_t cin;
	uint64_t seq;                 /* the IRI's sequence number */
	int64_t time_us;              /* the IRI's time (PSHeader, else receipt) */
	int iri_type;                 /* enum etsi_iri_type, 0 unknown */
	char kind[12];                /* etsi_loc_kind_name, or "undecoded" */
	char mcc[4], mnc[4];          /* "" when absent */
	int has_area, has_rac, has_cell, has_point;
	uint32_t area, rac, cell;
	int32_t lat_udeg, lon_udeg;
	char text[ETSI_LOC_TEXT_MAX];
	char problem[64];             /* why a location element did not decode, "" */
};

/* warrant's location rows (only those of CIN cin when has_cin), ordered by
 * time, LIID, CIN, sequence number and place in the record.  *out is
 * malloc'd (free()).  LACRE_E_DB, LACRE_E_NOMEM, LACRE_E_TOO_LARGE (more
 * than LOCATIONS_MAX rows). */
int locations_list(struct index *ix, const char *warrant, int has_cin, uint32_t cin,
		   struct locations_row **out, size_t *n);

/* The row's place as one word: "204-08-1c2d" (TAI: MCC-MNC-TAC hex),
 * "204-08-0a1b2c3" (ECGI: MCC-MNC-ECI, 7 hex digits, as `lacre decode`
 * shows them), "MCC-MNC-LAC-CI" / "-SAC" / "-RAC" (4 hex digits each),
 * "MCC-MNC-LAC" (LAI), "52.375139,4.887500" (point), the text, or
 * "undecoded".  out[ETSI_LOC_TEXT_MAX]. */
void locations_place(const struct locations_row *r, char *out, size_t outlen);

/* Append r as one JSON object (docs/cmd-locations.md). */
void locations_json(struct json_w *w, const struct locations_row *r);

#endif
