/*
 * test_record_json.c - the JSON of a record as `lacre records --json` and
 * `lacre quarantine --json` print it (lib/wire/record_json.c), for
 * records the real sealing sink wrote: a warrant's IPCC record (its
 * warrant, CIN, time and content), a late delivery flagged, and
 * quarantined ones read with the
 * oversight key (the reason, no warrant; a record with no CIN and no
 * decodable content shows null for them).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sink_kit.h"
#include "lacre/json.h"
#include "lacre/record_json.h"

static struct lacre_dbuf all;            /* every record's JSON, one per line */

static int take_json(void *arg, const struct access_record *ar)
{
	struct json_w w;
	struct lacre_dbuf d;
	int r;

	(void)arg;
	lacre_dbuf_init(&d, 1 << 20);
	json_init(&w, &d);
	access_record_json(&w, ar);
	r = json_finish(&w);
	if (r == LACRE_OK)
		r = lacre_dbuf_add(&all, d.p, d.len);
	if (r == LACRE_OK)
		r = lacre_dbuf_add_u8(&all, '\n');
	lacre_dbuf_free(&d);
	return r;
}

/* Read what identity name opens (quarantine and events too when q). */
static int read_json(struct lacre_store *st, const char *name, int q)
{
	struct age_x25519_identity id;
	struct access_filter f;
	int r;

	lacre_dbuf_reset(&all);
	if ((r = keystore_get(kit_ks, name, &id, NULL)) != LACRE_OK)
		return r;
	access_filter_init(&f);
	f.quarantine = q;
	f.events = q;
	r = access_read(st, &id, &f, take_json, NULL, NULL, NULL);
	age_identity_wipe(&id);
	if (r == LACRE_OK)
		r = lacre_dbuf_add_u8(&all, 0);
	return r;
}

static void test_json_forms(void)
{
	struct warrant w;
	struct lacre_sink k;
	struct lacre_dbuf b;
	struct lacre_store *st = NULL;
	char wid[WARRANT_ID_MAX], want[128];
	int64_t t0 = T("2026-02-01T10:00:00Z");
	int r = LACRE_OK;

	lacre_dbuf_init(&all, 1 << 22);
	CHECK_OK(kit_make_site(NULL, 0, 0, 0));
	kit_spec(&w, "LI-J", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_OK(warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg)));
	CHECK_OK(seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg)));
	lacre_dbuf_init(&b, 1 << 20);
	CHECK_OK(kit_ipcc(&b, "LI-J", 1, t0, 40));
	CHECK_OK(kit_push(&k, b.p, b.len, t0, LACRE_HI3));
	/* intercepted inside the window, delivered after it: late delivery */
	lacre_dbuf_reset(&b);
	CHECK_OK(kit_ipcc(&b, "LI-J", 3, T("2026-04-09T23:00:00Z"), 40));
	CHECK_OK(kit_push(&k, b.p, b.len, T("2026-04-11T10:00:00Z"), LACRE_HI3));
	/* an unknown LIID, no CIN, an IRI content lacre does not decode */
	lacre_dbuf_reset(&b);
	CHECK_OK(kit_raw(&b, (const uint8_t *)"LI-ZZ", 5, 2, t0 + 1000000, 4));
	r = kit_push(&k, b.p, b.len, t0 + 1000000, LACRE_HI2);
	k.close(k.ctx);
	lacre_dbuf_free(&b);
	CHECK_OK(r);
	CHECK_OK(lacre_store_open(kit_site.cfg.backend, &st));
	/* the warrant's record */
	CHECK_OK(read_json(st, wid, 0));
	snprintf(want, sizeof(want), "\"warrant\":\"%s\"", wid);
	CHECK(strstr((char *)all.p, want) != NULL);
	CHECK(strstr((char *)all.p, "\"cin\":7") != NULL);
	CHECK(strstr((char *)all.p, "\"time\":\"2026-02-01T10:00:00") != NULL);
	CHECK(strstr((char *)all.p, "\"reason\"") == NULL);
	CHECK(strstr((char *)all.p, "\"late_delivery\":true") != NULL);
	/* the quarantined one, with the oversight key */
	CHECK_OK(read_json(st, "oversight", 1));
	CHECK(strstr((char *)all.p, "\"reason\":\"unknown-liid\"") != NULL);
	CHECK(strstr((char *)all.p, "\"cin\":null") != NULL);
	lacre_store_close(st);
	lacre_dbuf_free(&all);
}

int main(void)
{
	RUN(test_json_forms);
	keystore_close(kit_ks);
	return t_done();
}
