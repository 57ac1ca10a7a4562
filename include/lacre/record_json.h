/*
 * record_json.h - JSON form of a sealed record (lib/wire/record_json.c);
 * the form `lacre records --json` and `lacre quarantine --json` print.
 */
#ifndef LACRE_RECORD_JSON_H
#define LACRE_RECORD_JSON_H

#include <stdint.h>

#include "lacre/access.h"
#include "lacre/json.h"

/* "2025-01-15T12:00:01.123000Z" (UTC, microseconds). */
void access_time_format(int64_t us, char out[32]);
/* Append one record as a JSON object to w. */
void access_record_json(struct json_w *w, const struct access_record *ar);

#endif
