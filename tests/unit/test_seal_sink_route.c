/*
 * test_seal_sink_route.c - the sealing sink's route cache
 * (lib/ingest/seal_sink.c, seal_route) against the registry's own answer:
 * a mixed sequence of records (runs of one LIID, content and IRI, three
 * operators, interception times on both sides of every window edge: a
 * period's start and end, a cessation, two warrants of one LIID) is
 * sealed, the warrant log changes while the sink runs (a cessation the
 * ticker reloads between two records of one LIID and time), and every
 * record read back must carry what warrant_route_operator gives on a
 * registry loaded at the same point: its warrant or quarantine reason and
 * its late-delivery flag.  test_route_ways: records of several LIIDs in
 * turn (a connection carrying several targets) are routed from the lane's
 * cache of its last answers after one look-up each, and past
 * SEAL_ROUTE_WAYS LIIDs still each to its own warrant.
 */
#include "sink_kit.h"

#define N_WARRANTS 4
#define SEAL_ROUTE_WAYS_TEST 8   /* lib/ingest/seal_sink.c SEAL_ROUTE_WAYS */

/* One record of the sequence: LIID, interception time, IRI (else CC),
 * the connection's operator. */
struct step {
	const char *liid, *t;
	int iri;
	const char *op;
};

/* What a record read back carries: warrant id or quarantine reason, and
 * its late-delivery flag. */
struct want {
	char where[WARRANT_ID_MAX + 64];
	int late;
};

/* The registry's answer for step s received at recv_us (the rule of
 * seal_record, without any cache). */
static int expect(const struct step *s, int64_t recv_us, struct want *w)
{
	struct warrant_registry *reg = NULL;
	struct warrant_match m;
	const char *why = NULL;
	int r;

	if ((r = warrant_registry_load(&kit_site, &reg)) != LACRE_OK)
		return r;
	r = warrant_route_operator(reg, (const uint8_t *)s->liid, strlen(s->liid), T(s->t),
				   s->iri ? WARRANT_CAT_IRI : WARRANT_CAT_CONTENT, s->op, &m, &why);
	warrant_registry_free(reg);
	if (r != LACRE_OK)
		return r;
	snprintf(w->where, sizeof(w->where), "%s", why ? why : m.id);
	w->late = !why && recv_us >= m.period_end;
	return LACRE_OK;
}

/* Is the record with sequence number seq read back once, where w says:
 * sealed to that warrant (names[i]) or to oversight (the last set) with
 * that reason? */
static int found_as(struct kit_recs *const sets[N_WARRANTS + 1], const char *const names[],
		    uint64_t seq, const struct want *w)
{
	int seen = 0, ok = 0;

	for (size_t i = 0; i <= N_WARRANTS; i++) {
		const struct kit_rec *x = kit_find(sets[i], seq);
		if (!x)
			continue;
		seen++;
		if (x->route == FRAME_ROUTE_WARRANT)
			ok = !strcmp(names[i], w->where) && !strcmp(x->warrant, w->where) &&
			     x->late == w->late;
		else
			ok = i == N_WARRANTS && !strcmp(x->reason, w->where) && !w->late;
	}
	return seen == 1 && ok;
}

static void test_route_cache(void)
{
	/* W-000001 LI-A Jan 10..Apr 10, ceased Feb 1 halfway; W-000002
	 * LI-A again May 1..Jun 1; W-000003 LI-B IRI only; W-000004 LI-C
	 * bound to operator opa */
	static const struct step steps[] = {
		{ "LI-A", "2026-01-20", 0, "" },
		{ "LI-A", "2026-01-20T00:00:01Z", 0, "" },
		{ "LI-A", "2026-01-09T23:59:59.999999Z", 0, "" },
		{ "LI-A", "2026-01-10", 0, "" },
		{ "LI-A", "2026-01-10", 1, "" },
		{ "LI-A", "2026-04-09T23:59:59.999999Z", 0, "" },
		{ "LI-A", "2026-04-10", 0, "" },
		{ "LI-A", "2026-04-30T23:59:59.999999Z", 0, "" },
		{ "LI-A", "2026-05-01", 0, "" },
		{ "LI-A", "2026-05-20", 0, "opb" },
		{ "LI-A", "2026-06-01", 0, "" },
		{ "LI-B", "2026-02-01", 1, "" },
		{ "LI-B", "2026-02-01", 0, "" },
		{ "LI-B", "2026-02-01", 1, "" },
		{ "LI-C", "2026-02-01", 0, "opa" },
		{ "LI-C", "2026-02-01", 0, "opb" },
		{ "LI-C", "2026-02-01", 0, "" },
		{ "LI-C", "2026-02-01", 0, "opa" },
		{ "LI-X", "2026-02-01", 0, "" },
		{ "LI-A", "2026-01-20", 0, "" },
		{ "LI-A", "2026-01-31T23:59:59.999999Z", 0, "" },
		/* the cessation is logged and reloaded here */
		{ "LI-A", "2026-01-31T23:59:59.999999Z", 0, "" },
		{ "LI-A", "2026-01-20", 0, "" },
		{ "LI-A", "2026-02-01", 0, "" },
		{ "LI-A", "2026-02-01", 1, "" },
		{ "LI-A", "2026-05-01", 0, "" },
		{ "LI-C", "2026-02-01", 0, "opa" },
	};
	const size_t n = sizeof(steps) / sizeof(steps[0]), cease_at = 21;
	const char *names[N_WARRANTS + 1] = { "W-000001", "W-000002", "W-000003", "W-000004",
					      SITE_OVERSIGHT_KEY };
	struct kit_recs *sets[N_WARRANTS + 1];
	struct want want[sizeof(steps) / sizeof(steps[0])];
	struct lacre_sink k;
	struct lacre_store *st = NULL;
	struct lacre_dbuf b;
	struct warrant w;
	char wid[WARRANT_ID_MAX], spec[SITE_PATH_MAX + 16];
	int64_t recv = T("2026-02-15");
	int r = LACRE_OK, routed = 0;

	lacre_dbuf_init(&b, 1 << 20);
	for (size_t i = 0; i <= N_WARRANTS; i++)
		CHECK((sets[i] = calloc(1, sizeof(*sets[i]))) != NULL);
	CHECK_OK(kit_make_site(NULL, 0, 0, 0));
	CHECK_OK(site_config_set(&kit_site.cfg, "operator.opa.addresses", "127.0.0.3", kit_msg,
				 sizeof(kit_msg)));
	kit_spec(&w, "LI-A", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_OK(warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg)));
	kit_spec(&w, "LI-A", "2026-04-20", "2026-05-01", "2026-06-01");
	CHECK_OK(warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg)));
	kit_spec(&w, "LI-B", "2026-01-10", "2026-01-10", "2026-04-10");
	w.categories = WARRANT_CAT_IRI;
	CHECK_OK(warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg)));
	kit_spec(&w, "LI-C", "2026-01-10", "2026-01-10", "2026-04-10");
	snprintf(w.operators[0], sizeof(w.operators[0]), "opa");
	w.n_operators = 1;
	CHECK_OK(warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg)));
	CHECK_STR(wid, "W-000004");

	CHECK_OK(seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg)));
	for (size_t i = 0; r == LACRE_OK && i < n; i++) {
		if (i == cease_at) {
			r = warrant_cease(&kit_site, kit_ks, "W-000001", "Auto cese", T("2026-02-01"),
					  T("2026-02-01"), kit_msg, sizeof(kit_msg));
			/* the ticker reloads the log within a tick or two */
			usleep(400 * 1000);
		}
		if (r == LACRE_OK)
			r = expect(&steps[i], recv, &want[i]);
		lacre_dbuf_reset(&b);
		if (r == LACRE_OK)
			r = steps[i].iri ? kit_ipiri(&b, steps[i].liid, i + 1, T(steps[i].t), NULL)
					 : kit_ipcc(&b, steps[i].liid, i + 1, T(steps[i].t), 100);
		if (r == LACRE_OK)
			r = kit_push_as(&k, &b, recv, steps[i].op, i + 1);
	}
	k.close(k.ctx);
	CHECK_OK(r);
	/* the sequence does cross the reload: the same record is routed
	 * before it and late after it */
	CHECK_STR(want[cease_at - 1].where, "W-000001");
	CHECK(!want[cease_at - 1].late && want[cease_at].late);

	snprintf(spec, sizeof(spec), "dir:%s/objects", kit_site.dir);
	CHECK_OK(lacre_store_open(spec, &st));
	for (size_t i = 0; i <= N_WARRANTS; i++)
		CHECK_OK(kit_read(st, names[i], i == N_WARRANTS, sets[i], NULL));
	lacre_store_close(st);
	for (size_t i = 0; i < n; i++) {
		routed += want[i].where[0] == 'W';
		if (!found_as(sets, names, i + 1, &want[i]))
			t_fail(__FILE__, __LINE__, "record %zu (%s at %s, %s, operator '%s') is not %s%s",
			       i + 1, steps[i].liid, steps[i].t, steps[i].iri ? "iri" : "cc",
			       steps[i].op, want[i].where, want[i].late ? " (late)" : "");
	}
	CHECK(routed > 5 && routed < (int)n - 5);   /* a mixed sequence */
	lacre_dbuf_free(&b);
	for (size_t i = 0; i <= N_WARRANTS; i++)
		free(sets[i]);
}

/* n_liids LIIDs, one warrant each, records in turn (rounds of one each);
 * *lookups: the registry look-ups the sink counted.  Every record must be
 * read back once from its own warrant. */
static void route_in_turn(size_t n_liids, size_t rounds, uint64_t *lookups)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct lacre_sink k;
	struct lacre_store *st = NULL;
	struct seal_sink_stats stv;
	struct lacre_dbuf b;
	struct warrant w;
	char wid[WARRANT_ID_MAX], liid[32], spec[SITE_PATH_MAX + 16];
	char ids[16][WARRANT_ID_MAX];
	int64_t recv = T("2026-02-15");
	uint64_t seq = 0;
	int r = LACRE_OK;

	CHECK(rs != NULL && n_liids <= 16);
	lacre_dbuf_init(&b, 1 << 20);
	CHECK_OK(kit_make_site(NULL, 0, 0, 0));
	for (size_t i = 0; i < n_liids; i++) {
		snprintf(liid, sizeof(liid), "LI-%02zu", i);
		kit_spec(&w, liid, "2026-01-10", "2026-01-10", "2026-04-10");
		CHECK_OK(warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg)));
		snprintf(ids[i], sizeof(ids[i]), "%s", wid);
	}
	CHECK_OK(seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg)));
	for (size_t j = 0; r == LACRE_OK && j < rounds; j++)
		for (size_t i = 0; r == LACRE_OK && i < n_liids; i++) {
			snprintf(liid, sizeof(liid), "LI-%02zu", i);
			lacre_dbuf_reset(&b);
			seq++;
			r = kit_ipcc(&b, liid, seq, T("2026-02-01") + (int64_t)seq, 100);
			if (r == LACRE_OK)
				r = kit_push_as(&k, &b, recv, "", seq);
		}
	CHECK_OK(r);
	seal_sink_stats_get(&k, &stv);
	*lookups = stv.route_lookups;
	CHECK_EQ_INT(stv.routed, n_liids * rounds);
	k.close(k.ctx);
	snprintf(spec, sizeof(spec), "dir:%s/objects", kit_site.dir);
	CHECK_OK(lacre_store_open(spec, &st));
	for (size_t i = 0; i < n_liids; i++) {
		memset(rs, 0, sizeof(*rs));
		CHECK_OK(kit_read(st, ids[i], 0, rs, NULL));
		CHECK_EQ_INT(rs->n, rounds);
		snprintf(liid, sizeof(liid), "LI-%02zu", i);
		for (size_t j = 0; j < rs->n; j++)
			if (rs->v[j].liid_len != strlen(liid) || memcmp(rs->v[j].liid, liid, strlen(liid)) != 0)
				t_fail(__FILE__, __LINE__, "%s holds a record of %.*s", ids[i],
				       (int)rs->v[j].liid_len, (const char *)rs->v[j].liid);
	}
	lacre_store_close(st);
	lacre_dbuf_free(&b);
	free(rs);
}

static void test_route_ways(void)
{
	uint64_t lookups = 0;

	/* as many LIIDs as the cache keeps: one look-up each (with one
	 * answer kept, every record would be one) */
	route_in_turn(SEAL_ROUTE_WAYS_TEST, 20, &lookups);
	CHECK_EQ_INT(lookups, SEAL_ROUTE_WAYS_TEST);
	/* more than it keeps, in turn: each answer is replaced before its
	 * LIID comes back, so every record is looked up, and routed right */
	route_in_turn(SEAL_ROUTE_WAYS_TEST + 4, 5, &lookups);
	CHECK_EQ_INT(lookups, (SEAL_ROUTE_WAYS_TEST + 4) * 5);
}

int main(void)
{
	RUN(test_route_cache);
	RUN(test_route_ways);
	keystore_close(kit_ks);
	return t_done();
}
