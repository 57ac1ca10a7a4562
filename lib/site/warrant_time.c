/*
 * warrant_time.c - the times of the warrant log and of warrant orders:
 * parsing and formatting of UTC timestamps ("2026-01-01",
 * "2026-01-01T12:00:00Z", with an optional ".ffffff" fraction), the
 * current time and calendar-month arithmetic (an order's duration in
 * months), all in Unix microseconds.  See lacre/warrant.h.
 *
 * The dates are proleptic Gregorian and computed here rather than with
 * timegm()/gmtime_r(): they do not depend on the C library, the TZ
 * variable or the range of time_t, and a log written on one host reads
 * the same on another.  Parsing is strict (exact digit counts, UTC "Z"
 * only, no trailing bytes) because the log is untrusted input.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "lacre/err.h"
#include "lacre/warrant.h"

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SEC)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Days in month m of year y. */
static unsigned month_days(int64_t y, unsigned m)
{
	static const unsigned md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : md[m - 1];
}

/* Read exactly n digits from *p into *v. */
static int digits(const char **p, int n, unsigned *v)
{
	unsigned x = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return LACRE_E_MALFORMED;
		x = x * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return LACRE_OK;
}

int warrant_time_parse(const char *s, int64_t *us)
{
	unsigned y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
	int nfrac = 0;
	const char *p = s;
	int64_t t;

	if (s == NULL || us == NULL)
		return LACRE_E_INVALID;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return LACRE_E_MALFORMED;
	if (*p == 'T') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
		    digits(&p, 2, &se))
			return LACRE_E_MALFORMED;
		if (*p == '.') {
			p++;
			while (isdigit((unsigned char)*p) && nfrac < 6) {
				frac = frac * 10 + (unsigned)(*p++ - '0');
				nfrac++;
			}
			if (nfrac == 0 || isdigit((unsigned char)*p))
				return LACRE_E_MALFORMED;
			for (int i = nfrac; i < 6; i++)
				frac *= 10;
		}
		if (*p++ != 'Z')
			return LACRE_E_MALFORMED;
	}
	if (*p != '\0')
		return LACRE_E_MALFORMED;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || se > 59)
		return LACRE_E_MALFORMED;
	t = days_from_civil(y, mo, d) * US_PER_DAY +
	    ((int64_t)h * 3600 + (int64_t)mi * 60 + se) * US_PER_SEC + frac;
	*us = t;
	return LACRE_OK;
}

void warrant_time_format(int64_t us, char out[WARRANT_TIME_MAX])
{
	int64_t days, rem, y;
	unsigned m, d;

	days = us / US_PER_DAY;
	rem = us % US_PER_DAY;
	if (rem < 0) {
		rem += US_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (rem % US_PER_SEC == 0)
		snprintf(out, WARRANT_TIME_MAX, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02dZ", y, m, d,
			 (int)(rem / (3600 * US_PER_SEC)), (int)(rem / (60 * US_PER_SEC) % 60),
			 (int)(rem / US_PER_SEC % 60));
	else
		snprintf(out, WARRANT_TIME_MAX, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%06dZ", y, m,
			 d, (int)(rem / (3600 * US_PER_SEC)), (int)(rem / (60 * US_PER_SEC) % 60),
			 (int)(rem / US_PER_SEC % 60), (int)(rem % US_PER_SEC));
}

int64_t warrant_time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t warrant_add_months(int64_t t, int months)
{
	int64_t days = t / US_PER_DAY, rem = t % US_PER_DAY, y, mm;
	unsigned m, d, dim;

	if (rem < 0) {
		rem += US_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	mm = y * 12 + (m - 1) + months;
	y = mm >= 0 ? mm / 12 : (mm - 11) / 12;
	m = (unsigned)(mm - y * 12) + 1;
	dim = month_days(y, m);
	if (d > dim)
		d = dim;
	return days_from_civil(y, m, d) * US_PER_DAY + rem;
}
