/*
 * ingest_status.h - the running receiver's live figures (issue 15,
 * "Operations"): written once a second by `lacre ingest` to
 * SITE/state/status.prom in the Prometheus text exposition format
 * (version 0.0.4), read by `lacre status` and served by `lacre metrics`.
 * docs/cmd-status.md lists every metric; docs/FORMATS.md §14 the file.
 *
 * Only counts and states: no LIID, address, name or content ever appears
 * (the file is readable by the site's operators group, and a scraper
 * forwards it elsewhere).  Owned by lib/ingest/status.c.
 */
#ifndef LACRE_INGEST_STATUS_H
#define LACRE_INGEST_STATUS_H

#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/ingest.h"
#include "lacre/seal_sink.h"

/* Append the metrics of receiver s (and, when vault is not NULL, of its
 * sealing pipeline) to out.  started_us is the receiver's start (Unix us),
 * now_us the time written in lacre_status_time_seconds. */
int ingest_status_prom(const struct ingest_server *s, const struct seal_sink_stats *vault,
		       int64_t started_us, int64_t now_us, struct lacre_dbuf *out);

/* Write ingest_status_prom's text to path atomically (path.tmp, mode 0640,
 * then rename): a reader never sees half a file. */
int ingest_status_write(const struct ingest_server *s, const struct seal_sink_stats *vault,
			int64_t started_us, int64_t now_us, const char *path);

/* One sample of a metrics text: name, its labels as written between the
 * braces (empty when none) and its value. */
struct status_sample {
	char name[96];
	char labels[160];
	double value;
};

/* Parse a Prometheus text (as written above; # lines skipped) into
 * v[0..cap); *n gets the count.  LACRE_E_MALFORMED names no line: the
 * reader says the file is damaged; LACRE_E_TOO_LARGE past cap samples. */
int status_prom_parse(const char *text, size_t len, struct status_sample *v, size_t cap,
		      size_t *n);

/* The value of name{labels} in v[0..n) (labels "" for none), or def. */
double status_value(const struct status_sample *v, size_t n, const char *name,
		    const char *labels, double def);

#endif
