/*
 * etsi_location.c - the locations an IRI carries (include/lacre/etsi_location.h).
 *
 * The PDU decoder (etsi_payload.c) keeps the contents of each location
 * element it meets; this file reads them into struct etsi_loc: PLMN
 * (MCC, MNC), area code, cell identity, WGS 84 coordinates, exactly as the
 * record gives them.  These are untrusted bytes: every read goes through
 * the checked buffer and ber_next (nesting capped at LOC_DEPTH), fixed-size
 * fields are checked to their exact size, and at most ETSI_LOC_MAX
 * locations are kept.  A bad element is reported (the first error) but
 * does not stop its siblings, as in the PDU decoder.
 */
#include <stdio.h>
#include <string.h>

#include "lacre/ber.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/etsi_location.h"

#define LOC_DEPTH 8   /* nesting below a Location: GA-Point is 4 levels down */

/* Keep the first error of a walk. */
static void loc_err(int *first, int r)
{
	if (r != LACRE_OK && *first == LACRE_OK)
		*first = r;
}

/* A new location slot of out, or NULL (counted in dropped) when full. */
static struct etsi_loc *loc_new(struct etsi_locations *out, int kind)
{
	struct etsi_loc *l;

	if (out->n >= ETSI_LOC_MAX) {
		out->dropped++;
		return NULL;
	}
	l = &out->v[out->n++];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	return l;
}

/* MCC and MNC digits of a 3-octet PLMN identity (TS 24.008 §10.5.1.3: MCC
 * digits 1 2 3, then MNC digit 3 (F when two digits), MNC digits 1 2);
 * left "" when a nibble is not a digit (the cell is still listed). */
static void loc_plmn(const uint8_t *p, struct etsi_loc *l)
{
	unsigned d[6] = { p[0] & 15u, p[0] >> 4, p[1] & 15u, p[2] & 15u, p[2] >> 4, p[1] >> 4 };

	for (int i = 0; i < 5; i++)
		if (d[i] > 9)
			return;
	if (d[5] > 9 && d[5] != 15)
		return;
	for (int i = 0; i < 3; i++)
		l->mcc[i] = (char)('0' + d[i]);
	l->mcc[3] = '\0';
	l->mnc[0] = (char)('0' + d[3]);
	l->mnc[1] = (char)('0' + d[4]);
	l->mnc[2] = d[5] == 15 ? '\0' : (char)('0' + d[5]);
	l->mnc[3] = '\0';
}

/* One cell identity of fixed layout p[0..n): PLMN (3), then per kind. */
static void loc_cell(struct etsi_locations *out, int kind, const uint8_t *p)
{
	struct etsi_loc *l = loc_new(out, kind);

	if (!l)
		return;
	loc_plmn(p, l);
	switch (kind) {
	case ETSI_LOC_TAI:
		l->has_area = 1;
		l->area = (uint32_t)p[3] << 8 | p[4];
		break;
	case ETSI_LOC_ECGI:
		l->has_cell = 1;
		l->cell = (uint32_t)(p[3] & 15u) << 24 | (uint32_t)p[4] << 16 | (uint32_t)p[5] << 8 | p[6];
		break;
	case ETSI_LOC_LAI:
		l->has_area = 1;
		l->area = (uint32_t)p[3] << 8 | p[4];
		break;
	default:                   /* CGI, SAI, RAI: LAC, then CI / SAC / RAC */
		l->has_area = 1;
		l->area = (uint32_t)p[3] << 8 | p[4];
		if (kind == ETSI_LOC_RAI) {
			l->has_rac = 1;
			l->rac = (uint32_t)p[5] << 8 | p[6];
		} else {
			l->has_cell = 1;
			l->cell = (uint32_t)p[5] << 8 | p[6];
		}
	}
}

int etsi_location_uli(const uint8_t *p, size_t n, struct etsi_locations *out)
{
	/* flag bits 0..7: CGI SAI RAI TAI ECGI LAI, macro eNodeB ID, extended macro eNodeB ID */
	static const size_t sz[8] = { 7, 7, 7, 5, 7, 5, 6, 6 };
	static const int kind[6] = { ETSI_LOC_CGI, ETSI_LOC_SAI, ETSI_LOC_RAI, ETSI_LOC_TAI,
				     ETSI_LOC_ECGI, ETSI_LOC_LAI };
	struct lacre_rbuf b;
	const uint8_t *v;
	uint8_t f;

	lacre_rbuf_init(&b, p, p ? n : 0);
	if (lacre_rbuf_u8(&b, &f) != LACRE_OK)
		return LACRE_E_INCOMPLETE;
	for (int i = 0; i < 8; i++) {
		if (!(f & (1u << i)))
			continue;
		if (lacre_rbuf_take(&b, sz[i], &v) != LACRE_OK)
			return LACRE_E_INCOMPLETE;
		if (i < 6)
			loc_cell(out, kind[i], v);
		else
			out->skipped++;    /* an eNodeB id names no cell */
	}
	return lacre_rbuf_left(&b) ? LACRE_E_TRAILING : LACRE_OK;
}

/* A fixed-layout cell element (OCTET STRING of exactly n octets). */
static int loc_octets(const struct ber_tlv *t, size_t n, struct etsi_locations *out, int kind)
{
	if (t->constructed)
		return LACRE_E_MALFORMED;
	if (t->len != n)
		return t->len < n ? LACRE_E_INCOMPLETE : LACRE_E_TRAILING;
	if (kind == ETSI_LOC_RAI && n == 6) {
		/* UMTS rAI (TS 24.008 §10.5.5.15 without IEI): PLMN, LAC, RAC (1 octet) */
		struct etsi_loc *l = loc_new(out, ETSI_LOC_RAI);
		if (l) {
			loc_plmn(t->value, l);
			l->has_area = 1;
			l->area = (uint32_t)t->value[3] << 8 | t->value[4];
			l->has_rac = 1;
			l->rac = t->value[5];
		}
		return LACRE_OK;
	}
	loc_cell(out, kind, t->value);
	return LACRE_OK;
}

/* A point into out. */
static void loc_point(struct etsi_locations *out, int64_t lat, int64_t lon)
{
	struct etsi_loc *l = loc_new(out, ETSI_LOC_POINT);

	if (!l)
		return;
	l->has_point = 1;
	l->lat_udeg = (int32_t)lat;
	l->lon_udeg = (int32_t)lon;
}

/* Rounded a * num / den for non-negative a, positive den (no overflow:
 * callers keep a * num below 2^62). */
static int64_t loc_scale(int64_t a, int64_t num, int64_t den)
{
	int64_t neg = a < 0, m = (neg ? -a : a) * num;

	m = (m + den / 2) / den;
	return neg ? -m : m;
}

/* TS 23.032 latitude (sign bit + 23 bits, 2^23 = 90°) and longitude (24-bit
 * two's complement, 2^24 = 360°) into microdegrees. */
static void loc_ga(struct etsi_locations *out, int south, uint32_t lat, int32_t lon)
{
	int64_t la = loc_scale((int64_t)lat, 90000000, 8388608);
	int64_t lo = loc_scale((int64_t)lon, 360000000, 16777216);

	loc_point(out, south ? -la : la, lo);
}

/* wGS84Coordinates: a TS 23.032 shape whose first 7 octets are the type
 * and an ellipsoid point; the shapes that start with a point, at their
 * exact sizes.  Other shapes are skipped. */
static int loc_gad(const struct ber_tlv *t, struct etsi_locations *out)
{
	const uint8_t *v = t->value;
	uint32_t lon;
	size_t want;

	if (t->constructed)
		return LACRE_E_MALFORMED;
	if (t->len < 1)
		return LACRE_E_INCOMPLETE;
	switch (v[0] >> 4) {
	case 0: want = 7; break;     /* ellipsoid point */
	case 1: want = 8; break;     /* with uncertainty circle */
	case 3: want = 11; break;    /* with uncertainty ellipse */
	case 8: want = 9; break;     /* with altitude */
	case 9: want = 14; break;    /* with altitude and uncertainty ellipsoid */
	default:
		out->skipped++;
		return LACRE_OK;
	}
	if (t->len != want)
		return t->len < want ? LACRE_E_INCOMPLETE : LACRE_E_TRAILING;
	lon = (uint32_t)v[4] << 16 | (uint32_t)v[5] << 8 | v[6];
	loc_ga(out, v[1] >> 7, ((uint32_t)(v[1] & 0x7fu) << 16) | (uint32_t)v[2] << 8 | v[3],
	       (int32_t)(lon & 0x800000u ? (int64_t)lon - 16777216 : (int64_t)lon));
	return LACRE_OK;
}

/* "XDD[D]MMSS[.S[S]]" (TS 33.108 geoCoordinates) into microdegrees:
 * X N/S (deg_digits 2, at most 90°) or E/W (3 digits, at most 180°). */
static int loc_dms(const struct ber_tlv *t, int deg_digits, int64_t *udeg)
{
	const uint8_t *s = t->value;
	size_t n = t->len, i, base = 1 + (size_t)deg_digits + 4;
	int64_t deg = 0, min, sec, hund = 0;
	int neg;

	if (t->constructed || n < base || n > base + 3 || n == base + 1)
		return LACRE_E_MALFORMED;
	if (deg_digits == 2 && (s[0] == 'N' || s[0] == 'S'))
		neg = s[0] == 'S';
	else if (deg_digits == 3 && (s[0] == 'E' || s[0] == 'W'))
		neg = s[0] == 'W';
	else
		return LACRE_E_MALFORMED;
	for (i = 1; i < base; i++)
		if (s[i] < '0' || s[i] > '9')
			return LACRE_E_MALFORMED;
	for (i = 1; i <= (size_t)deg_digits; i++)
		deg = deg * 10 + (s[i] - '0');
	min = (s[i] - '0') * 10 + (s[i + 1] - '0');
	sec = (s[i + 2] - '0') * 10 + (s[i + 3] - '0');
	if (n > base) {
		if (s[base] != '.')
			return LACRE_E_MALFORMED;
		for (i = base + 1; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return LACRE_E_MALFORMED;
			hund = hund * 10 + (s[i] - '0');
		}
		if (n == base + 2)
			hund *= 10;
	}
	if (min > 59 || sec > 59 || deg > (deg_digits == 2 ? 90 : 180))
		return LACRE_E_RANGE;
	/* hundredths of an arc second; 1° = 360000 of them */
	hund += ((deg * 60 + min) * 60 + sec) * 100;
	if (hund > (deg_digits == 2 ? 90 : 180) * (int64_t)360000)
		return LACRE_E_RANGE;
	*udeg = loc_scale(hund, 100, 36);
	if (neg)
		*udeg = -*udeg;
	return LACRE_OK;
}

/* geoCoordinates [1] { latitude [1], longitude [2], mapDatum [3] DEFAULT
 * wGS84 (0), azimuth [4] }: a point only in WGS 84 (no datum conversion). */
static int loc_geo(const struct ber_tlv *x, struct etsi_locations *out)
{
	struct lacre_rbuf c;
	struct ber_tlv y;
	int64_t lat = 0, lon = 0;
	uint64_t datum = 0;
	int r, have = 0;

	if (!x->constructed)
		return LACRE_E_MALFORMED;
	lacre_rbuf_init(&c, x->value, x->len);
	while (lacre_rbuf_left(&c)) {
		if ((r = ber_next(&c, &y, LOC_DEPTH)) != LACRE_OK)
			return r;
		if (y.cls != BER_CONTEXT)
			return LACRE_E_MALFORMED;
		if (y.tag == 1) {
			if ((r = loc_dms(&y, 2, &lat)) != LACRE_OK)
				return r;
			have |= 1;
		} else if (y.tag == 2) {
			if ((r = loc_dms(&y, 3, &lon)) != LACRE_OK)
				return r;
			have |= 2;
		} else if (y.tag == 3) {
			if (y.constructed || ber_get_uint(&y, &datum) != LACRE_OK)
				return LACRE_E_MALFORMED;
		}
	}
	if (have != 3)
		return LACRE_E_MALFORMED;
	if (datum != 0) {
		out->skipped++;          /* ED50 / ED87: not converted */
		return LACRE_OK;
	}
	loc_point(out, lat, lon);
	return LACRE_OK;
}

/* GA-Point { latitudeSign [0] ENUMERATED { north, south }, latitude [1]
 * INTEGER (0..8388607), longitude [2] INTEGER (-8388608..8388607) }. */
static int loc_ga_point(const struct ber_tlv *x, struct etsi_locations *out)
{
	struct lacre_rbuf c;
	struct ber_tlv y;
	uint64_t sign = 0, lat = 0;
	int64_t lon = 0;
	int r, have = 0;

	if (!x->constructed)
		return LACRE_E_MALFORMED;
	lacre_rbuf_init(&c, x->value, x->len);
	while (lacre_rbuf_left(&c)) {
		if ((r = ber_next(&c, &y, LOC_DEPTH)) != LACRE_OK)
			return r;
		if (y.cls != BER_CONTEXT || y.constructed || y.tag > 2)
			return LACRE_E_MALFORMED;
		if (y.tag == 0)
			r = ber_get_uint(&y, &sign);
		else if (y.tag == 1)
			r = ber_get_uint(&y, &lat);
		else
			r = ber_get_int(&y, &lon);
		if (r != LACRE_OK)
			return LACRE_E_MALFORMED;
		have |= 1 << y.tag;
	}
	if (have != 7)
		return LACRE_E_MALFORMED;
	if (sign > 1 || lat > 8388607 || lon < -8388608 || lon > 8388607)
		return LACRE_E_RANGE;
	loc_ga(out, (int)sign, (uint32_t)lat, (int32_t)lon);
	return LACRE_OK;
}

/* The single alternative of CHOICE element x into *y. */
static int loc_choice(const struct ber_tlv *x, struct ber_tlv *y)
{
	struct lacre_rbuf c;
	int r;

	if (!x->constructed)
		return LACRE_E_MALFORMED;
	lacre_rbuf_init(&c, x->value, x->len);
	if ((r = ber_next(&c, y, LOC_DEPTH)) != LACRE_OK)
		return r;
	if (lacre_rbuf_left(&c))
		return LACRE_E_TRAILING;
	return y->cls == BER_CONTEXT ? LACRE_OK : LACRE_E_MALFORMED;
}

/* gsmLocation CHOICE { geoCoordinates [1], utmCoordinates [2],
 * utmRefCoordinates [3], wGS84Coordinates [4] OCTET STRING }. */
static int loc_gsm(const struct ber_tlv *x, struct etsi_locations *out)
{
	struct ber_tlv y;
	int r;

	if ((r = loc_choice(x, &y)) != LACRE_OK)
		return r;
	if (y.tag == 1)
		return loc_geo(&y, out);
	if (y.tag == 4)
		return loc_gad(&y, out);
	out->skipped++;              /* UTM: not converted */
	return LACRE_OK;
}

/* umtsLocation CHOICE { point [1] GA-Point, pointWithUnCertainty [2] {
 * geographicalCoordinates [1] GA-Point, uncertaintyCode [2] }, polygon [3] }. */
static int loc_umts_geo(const struct ber_tlv *x, struct etsi_locations *out)
{
	struct lacre_rbuf c;
	struct ber_tlv y, z;
	int r;

	if ((r = loc_choice(x, &y)) != LACRE_OK)
		return r;
	if (y.tag == 1)
		return loc_ga_point(&y, out);
	if (y.tag != 2) {
		out->skipped++;          /* a polygon is an area, not a point */
		return LACRE_OK;
	}
	if (!y.constructed)
		return LACRE_E_MALFORMED;
	lacre_rbuf_init(&c, y.value, y.len);
	while (lacre_rbuf_left(&c)) {
		if ((r = ber_next(&c, &z, LOC_DEPTH)) != LACRE_OK)
			return r;
		if (z.cls == BER_CONTEXT && z.tag == 1)
			return loc_ga_point(&z, out);
	}
	return LACRE_E_MALFORMED;
}

/* One context-tagged field of a Location SEQUENCE: adds what it can decode to out. */
typedef int (*loc_field_fn)(const struct ber_tlv *y, struct etsi_locations *out);

/* Walk the fields of a Location SEQUENCE, handing each context-tagged one to field.
 * A field that fails or is not context-tagged is noted and the walk goes on, so one
 * bad field costs only itself; a framing error ends it.  Returns the first error. */
static int loc_fields(const uint8_t *p, size_t n, struct etsi_locations *out, loc_field_fn field)
{
	struct lacre_rbuf c;
	struct ber_tlv y;
	int first = LACRE_OK, r;

	lacre_rbuf_init(&c, p, p ? n : 0);
	while (lacre_rbuf_left(&c)) {
		if ((r = ber_next(&c, &y, LOC_DEPTH)) != LACRE_OK) {
			loc_err(&first, r);
			break;
		}
		if (y.cls != BER_CONTEXT) {
			loc_err(&first, LACRE_E_MALFORMED);
			continue;
		}
		loc_err(&first, field(&y, out));
	}
	return first;
}

/* One field of a UMTS (33.108 HI2) Location. */
static int loc_umts_field(const struct ber_tlv *y, struct etsi_locations *out)
{
	switch (y->tag) {
	case 2: return loc_octets(y, 7, out, ETSI_LOC_CGI);      /* globalCellID */
	case 4: return loc_octets(y, 6, out, ETSI_LOC_RAI);      /* rAI */
	case 5: return loc_gsm(y, out);
	case 6: return loc_umts_geo(y, out);
	case 7: return loc_octets(y, 7, out, ETSI_LOC_SAI);      /* sAI */
	case 11: return LACRE_OK;                                /* uELocationTimestamp */
	default: out->skipped++; return LACRE_OK;                /* e164, civic, old RAI, ... */
	}
}

int etsi_location_umts(const uint8_t *p, size_t n, struct etsi_locations *out)
{
	return loc_fields(p, n, out, loc_umts_field);
}

/* One field of an EPS (33.108 EPSLocation) Location. */
static int loc_eps_field(const struct ber_tlv *y, struct etsi_locations *out)
{
	switch (y->tag) {
	case 1:                                                  /* userLocationInfo */
		return y->constructed ? LACRE_E_MALFORMED : etsi_location_uli(y->value, y->len, out);
	case 2: return loc_gsm(y, out);
	case 3: return loc_umts_geo(y, out);
	case 10: return LACRE_OK;                                /* uELocationTimestamp */
	default: out->skipped++; return LACRE_OK;                /* old ULI, last TAI, civic, ... */
	}
}

int etsi_location_eps(const uint8_t *p, size_t n, struct etsi_locations *out)
{
	return loc_fields(p, n, out, loc_eps_field);
}

/* One field of an LI-PS-PDU Location: the UMTS or EPS location it wraps. */
static int loc_li_field(const struct ber_tlv *y, struct etsi_locations *out)
{
	if (y->tag != 0 && y->tag != 1) {
		out->skipped++;                                  /* WLAN, 33.128, CPE-provided */
		return LACRE_OK;
	}
	if (!y->constructed)                                     /* umtsHI2Location, epsLocation */
		return LACRE_E_MALFORMED;
	return y->tag == 0 ? etsi_location_umts(y->value, y->len, out)
			   : etsi_location_eps(y->value, y->len, out);
}

int etsi_location_li(const uint8_t *p, size_t n, struct etsi_locations *out)
{
	return loc_fields(p, n, out, loc_li_field);
}

/* IPIRI targetLocation [7]: printable ASCII as is, else "0x" + hex. */
static void loc_text(struct etsi_locations *out, const struct etsi_bytes *b)
{
	static const char hx[] = "0123456789abcdef";
	struct etsi_loc *l;
	size_t i, n = b->len, k = 0;
	int printable = n > 0;

	if (!b->p || !n || !(l = loc_new(out, ETSI_LOC_TEXT)))
		return;
	if (n > 64)
		n = 64;                    /* targetLocation is 1..64 characters */
	for (i = 0; i < n; i++)
		if (b->p[i] < 0x20 || b->p[i] > 0x7e)
			printable = 0;
	if (printable) {
		memcpy(l->text, b->p, n);
		l->text[n] = '\0';
		return;
	}
	l->text[k++] = '0';
	l->text[k++] = 'x';
	for (i = 0; i < n; i++) {
		l->text[k++] = hx[b->p[i] >> 4];
		l->text[k++] = hx[b->p[i] & 15];
	}
	l->text[k] = '\0';
}

int etsi_location_of(const struct etsi_pdu *pdu, struct etsi_locations *out)
{
	int first = LACRE_OK;

	memset(out, 0, sizeof(*out));
	if (pdu->kind != ETSI_KIND_IRI)
		return LACRE_OK;
	if (pdu->content_tag == ETSI_IRI_IPIRI) {
		loc_text(out, &pdu->ipiri.location_text);
		if (pdu->ipiri.location.p)
			loc_err(&first, etsi_location_li(pdu->ipiri.location.p, pdu->ipiri.location.len, out));
	} else if (pdu->content_tag == ETSI_IRI_IPMMIRI) {
		if (pdu->ipmmiri.location.p)
			loc_err(&first, etsi_location_li(pdu->ipmmiri.location.p, pdu->ipmmiri.location.len,
							 out));
	}
	if (pdu->mobile.family == 1 || pdu->mobile.family == 2) {
		if (pdu->mobile.loc_eps.p)
			loc_err(&first, etsi_location_eps(pdu->mobile.loc_eps.p, pdu->mobile.loc_eps.len, out));
		if (pdu->mobile.loc_umts.p)
			loc_err(&first, etsi_location_umts(pdu->mobile.loc_umts.p, pdu->mobile.loc_umts.len,
							   out));
	}
	return first;
}

const char *etsi_loc_kind_name(int kind)
{
	static const char *const nm[] = { NULL, "cgi", "sai", "rai", "tai", "ecgi", "lai", "point",
					  "text" };

	return kind > 0 && kind <= ETSI_LOC_TEXT ? nm[kind] : NULL;
}

void etsi_loc_degrees(int32_t udeg, char out[16])
{
	int64_t a = udeg < 0 ? -(int64_t)udeg : udeg;

	snprintf(out, 16, "%s%lld.%06lld", udeg < 0 ? "-" : "", (long long)(a / 1000000),
		 (long long)(a % 1000000));
}
