/*
 * status_parse.c - a strict reader of the receiver's status text (the
 * Prometheus text format as lib/ingest/status.c writes it), for `lacre
 * status` and `lacre metrics` (include/lacre/ingest_status.h).  The file
 * comes from the receiver's cell, so it is read as untrusted input: bounded
 * lines, names and labels, finite values; fuzzed by fuzz/fuzz_status.c.
 * Apart from the rest of status.c so that the fuzz harness links it alone.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/ingest_status.h"

/* Is c allowed in a metric name (first: no digit)? */
static int name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* Parse one sample line p[0..n) into out. */
static int parse_line(const char *p, size_t n, struct status_sample *out)
{
	size_t i = 0, k;
	char num[64], *end;

	memset(out, 0, sizeof(*out));
	while (i < n && name_char(p[i], i == 0))
		i++;
	if (i == 0 || i >= sizeof(out->name))
		return LACRE_E_MALFORMED;
	memcpy(out->name, p, i);
	if (i < n && p[i] == '{') {
		k = ++i;
		/* label values written here never hold '}', '\\' or '\n' */
		while (i < n && p[i] != '}' && p[i] != '\\')
			i++;
		if (i >= n || p[i] != '}' || i - k >= sizeof(out->labels))
			return LACRE_E_MALFORMED;
		memcpy(out->labels, p + k, i - k);
		i++;
	}
	if (i >= n || p[i] != ' ')
		return LACRE_E_MALFORMED;
	i++;
	if (n - i == 0 || n - i >= sizeof(num))
		return LACRE_E_MALFORMED;
	memcpy(num, p + i, n - i);
	num[n - i] = '\0';
	errno = 0;
	out->value = strtod(num, &end);
	if (errno || *end || end == num || !isfinite(out->value))
		return LACRE_E_MALFORMED;
	return LACRE_OK;
}

int status_prom_parse(const char *text, size_t len, struct status_sample *v, size_t cap,
		      size_t *n)
{
	size_t o = 0, cnt = 0;
	int r;

	if ((!text && len) || !v || !n)
		return LACRE_E_INVALID;
	while (o < len) {
		const char *nl = memchr(text + o, '\n', len - o);
		size_t ll;
		if (!nl)
			return LACRE_E_MALFORMED;   /* a whole file ends in a newline */
		ll = (size_t)(nl - (text + o));
		if (ll > 0 && text[o] != '#') {
			if (cnt == cap)
				return LACRE_E_TOO_LARGE;
			if ((r = parse_line(text + o, ll, &v[cnt])) != LACRE_OK)
				return r;
			cnt++;
		}
		o += ll + 1;
	}
	*n = cnt;
	return LACRE_OK;
}

double status_value(const struct status_sample *v, size_t n, const char *name,
		    const char *labels, double def)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0 && strcmp(v[i].labels, labels ? labels : "") == 0)
			return v[i].value;
	return def;
}
