/*
 * test_warrant.c - times, categories, the warrant log (hash chain, strict
 * syntax, tampering), the registry derived from it, routing decisions for
 * every quarantine reason, and reload after a change.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "harness.h"
#include "lacre/age.h"
#include "lacre/err.h"
#include "keeper/keystore.h"
#include "lacre/site.h"
#include "lacre/warrant.h"
#include "keeper/warrant_log.h"

static struct site site;
static struct keystore *ks;
static char msg[SITE_MSG_MAX];

/* Microseconds of an ISO time (0 on a parse error, which tests catch). */
static int64_t T(const char *s)
{
	int64_t t = 0;

	if (warrant_time_parse(s, &t) != LACRE_OK)
		return 0;
	return t;
}

/* Fresh site and open keystore. */
static int make_site(void)
{
	struct site_config c;
	uint8_t master[32];
	char dir[512];
	int r;

	keystore_close(ks);
	ks = NULL;
	snprintf(dir, sizeof(dir), "%s/site", t_tmpdir());
	site_config_defaults(&c, dir);
	c.scrypt_log2n = 10;
	r = site_create(dir, &c, "pw", &site, msg, sizeof(msg));
	if (r == LACRE_OK)
		r = site_master_unlock(&site, "pw", master);
	if (r == LACRE_OK)
		r = keystore_open(&site, master, &ks);
	return r;
}

/* A complete order for one LIID. */
static void spec(struct warrant *w, const char *liid, const char *od, const char *from,
		 const char *to)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->case_id, sizeof(w->case_id), "DP 123/2026");
	snprintf(w->unit, sizeof(w->unit), "UDEF Madrid");
	snprintf(w->court, sizeof(w->court), "Juzgado de Instrucción nº 3, Madrid");
	snprintf(w->periods[0].order_id, sizeof(w->periods[0].order_id), "Auto %s", liid);
	w->periods[0].order_date = T(od);
	w->periods[0].from = T(from);
	w->periods[0].to = T(to);
	w->n_periods = 1;
	w->categories = WARRANT_CAT_IRI | WARRANT_CAT_CONTENT;
	snprintf(w->targets[0], sizeof(w->targets[0]), "target-%s", liid);
	w->n_targets = 1;
	snprintf(w->liids[0], sizeof(w->liids[0]), "%s", liid);
	w->n_liids = 1;
}

/* Extend warrant id (Jan 10 .. Feb 10) with a gap: Mar 1 .. Apr 1. */
static int extend_with_gap(const char *id)
{
	struct warrant_period p;

	memset(&p, 0, sizeof(p));
	snprintf(p.order_id, sizeof(p.order_id), "Auto prórroga");
	p.order_date = T("2026-02-20");
	p.from = T("2026-03-01");
	p.to = T("2026-04-01");
	return warrant_extend(&site, ks, id, &p, msg, sizeof(msg));
}

static void test_times(void)
{
	char s[WARRANT_TIME_MAX];
	int64_t t;

	CHECK_OK(warrant_time_parse("1970-01-01", &t));
	CHECK_EQ_INT(t, 0);
	CHECK_OK(warrant_time_parse("2026-01-01T00:00:00Z", &t));
	CHECK_EQ_INT(t, INT64_C(1767225600) * 1000000);
	CHECK_OK(warrant_time_parse("2026-01-01", &t));
	CHECK_EQ_INT(t, INT64_C(1767225600) * 1000000);
	CHECK_OK(warrant_time_parse("2024-02-29T23:59:59.5Z", &t));
	warrant_time_format(t, s);
	CHECK_STR(s, "2024-02-29T23:59:59.500000Z");
	CHECK_OK(warrant_time_parse("2026-11-28T04:30:00.000001Z", &t));
	warrant_time_format(t, s);
	CHECK_STR(s, "2026-11-28T04:30:00.000001Z");
	warrant_time_format(T("2026-03-01"), s);
	CHECK_STR(s, "2026-03-01T00:00:00Z");
	CHECK_EQ_INT(warrant_time_parse("2025-02-29", &t), LACRE_E_MALFORMED);
	CHECK_EQ_INT(warrant_time_parse("2026-01-01T00:00:00", &t), LACRE_E_MALFORMED);
	CHECK_EQ_INT(warrant_time_parse("2026-01-01T00:00:00+01:00", &t), LACRE_E_MALFORMED);
	CHECK_EQ_INT(warrant_time_parse("2026-01-01T24:00:00Z", &t), LACRE_E_MALFORMED);
	CHECK_EQ_INT(warrant_time_parse("2026-1-01", &t), LACRE_E_MALFORMED);
	CHECK_EQ_INT(warrant_time_parse("2026-01-01T00:00:00.1234567Z", &t), LACRE_E_MALFORMED);
	CHECK_EQ_INT(warrant_time_parse("2026-01-01T00:00:00.Z", &t), LACRE_E_MALFORMED);
	CHECK_EQ_INT(warrant_time_parse("1969-12-31", &t), LACRE_E_MALFORMED);
	CHECK_EQ_INT(warrant_time_parse("2026-01-01 ", &t), LACRE_E_MALFORMED);
	/* calendar months, day clamped */
	CHECK_EQ_INT(warrant_add_months(T("2026-01-31T10:00:00Z"), 1), T("2026-02-28T10:00:00Z"));
	CHECK_EQ_INT(warrant_add_months(T("2028-01-31"), 1), T("2028-02-29"));
	CHECK_EQ_INT(warrant_add_months(T("2026-01-15"), 3), T("2026-04-15"));
	CHECK_EQ_INT(warrant_add_months(T("2026-11-30"), 3), T("2027-02-28"));
	CHECK_EQ_INT(warrant_add_months(T("2026-01-01"), 18), T("2027-07-01"));
	CHECK(warrant_time_now() > T("2026-01-01"));
}

static void test_categories(void)
{
	unsigned c;
	char s[64];

	CHECK_OK(warrant_categories_parse("content", &c));
	CHECK_EQ_INT(c, WARRANT_CAT_CONTENT);
	CHECK_OK(warrant_categories_parse("location,iri", &c));
	CHECK_EQ_INT(c, WARRANT_CAT_IRI | WARRANT_CAT_LOCATION);
	warrant_categories_format(c, s, sizeof(s));
	CHECK_STR(s, "iri,location");
	CHECK_EQ_INT(warrant_categories_parse("", &c), LACRE_E_MALFORMED);
	CHECK_EQ_INT(warrant_categories_parse("iri,", &c), LACRE_E_MALFORMED);
	CHECK_EQ_INT(warrant_categories_parse("iri,iri", &c), LACRE_E_MALFORMED);
	CHECK_EQ_INT(warrant_categories_parse("audio", &c), LACRE_E_MALFORMED);
}

static void test_add_and_load(void)
{
	struct warrant w;
	struct warrant_registry *reg = NULL;
	const struct warrant *g;
	struct age_x25519_identity id;
	char wid[WARRANT_ID_MAX];
	uint8_t head[32], zero[32] = { 0 };

	CHECK_OK(make_site());
	CHECK_OK(warrant_registry_load(&site, &reg));
	CHECK_EQ_INT(warrant_registry_count(reg), 0);
	CHECK_EQ_INT(warrant_registry_events(reg), 0);
	warrant_registry_free(reg);
	spec(&w, "LIID-A", "2026-01-10", "2026-01-10", "2026-04-10");
	snprintf(w.targets[1], sizeof(w.targets[1]), "Ñandú 100%% = x");
	w.n_targets = 2;
	snprintf(w.liids[1], sizeof(w.liids[1]), "LIID%%B");
	w.n_liids = 2;
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	CHECK_STR(wid, "W-000001");
	spec(&w, "LIID-C", "2026-01-10", "2026-01-10", "2026-02-10");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	CHECK_STR(wid, "W-000002");
	CHECK_OK(warrant_registry_load(&site, &reg));
	CHECK_EQ_INT(warrant_registry_count(reg), 2);
	CHECK_EQ_INT(warrant_registry_events(reg), 2);
	warrant_registry_head(reg, head);
	CHECK(memcmp(head, zero, 32) != 0);
	g = warrant_registry_find(reg, "W-000001");
	CHECK(g != NULL);
	CHECK_STR(g->court, "Juzgado de Instrucción nº 3, Madrid");
	CHECK_STR(g->case_id, "DP 123/2026");
	CHECK_EQ_INT(g->n_targets, 2);
	CHECK_STR(g->targets[1], "Ñandú 100% = x");
	CHECK_STR(g->liids[1], "LIID%B");
	CHECK_EQ_INT(g->periods[0].from, T("2026-01-10"));
	CHECK_EQ_INT(g->periods[0].to, T("2026-04-10"));
	CHECK_EQ_INT(g->categories, WARRANT_CAT_IRI | WARRANT_CAT_CONTENT);
	CHECK(strncmp(g->recipient, "age1", 4) == 0);
	/* the private key in the keystore matches the registry's recipient */
	CHECK_OK(keystore_get(ks, "W-000001", &id, NULL));
	CHECK_MEM(id.public_key, g->recipient_pub, 32);
	age_identity_wipe(&id);
	CHECK(warrant_registry_find(reg, "W-000003") == NULL);
	CHECK(warrant_registry_at(reg, 1) != NULL && warrant_registry_at(reg, 2) == NULL);
	warrant_registry_free(reg);
	/* malformed fields are refused before any legal rule */
	spec(&w, "bad liid", "2026-01-10", "2026-01-10", "2026-02-10");
	CHECK_EQ_INT(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)), LACRE_E_INVALID);
	spec(&w, "L1", "2026-01-10", "2026-01-10", "2026-02-10");
	w.court[3] = '\n';
	CHECK_EQ_INT(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)), LACRE_E_INVALID);
}

/* Route helper: returns the reason, or the warrant id when routed. */
static const char *route(struct warrant_registry *reg, const char *liid, const char *t, unsigned cat)
{
	static char id[WARRANT_ID_MAX];
	struct warrant_match m;
	const char *why = "unset";

	if (warrant_route(reg, (const uint8_t *)liid, strlen(liid), T(t), cat, &m, &why) != LACRE_OK)
		return "error";
	if (why != NULL)
		return why;
	snprintf(id, sizeof(id), "%s", m.id);
	return id;
}

static void test_route_reasons(void)
{
	struct warrant w;
	struct warrant_registry *reg = NULL;
	struct warrant_match m;
	const char *why;
	char wid[WARRANT_ID_MAX];

	CHECK_OK(make_site());
	/* W-000001: IRI only, Jan 10 .. Apr 10 */
	spec(&w, "L-IRI", "2026-01-10", "2026-01-10", "2026-04-10");
	w.categories = WARRANT_CAT_IRI;
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	/* W-000002: content+iri, ceased Feb 1 */
	spec(&w, "L-CEASE", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	CHECK_OK(warrant_cease(&site, ks, "W-000002", "Auto cese", T("2026-02-01"), T("2026-02-01"),
			       msg, sizeof(msg)));
	/* W-000003: emergency, unconfirmed, issued Mar 1 12:00 */
	spec(&w, "L-EMERG", "2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z", "2026-05-01");
	w.emergency = 1;
	snprintf(w.authority, sizeof(w.authority), "Secretario de Estado de Seguridad");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	/* W-000004: emergency, confirmed */
	spec(&w, "L-EMOK", "2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z", "2026-05-01");
	w.emergency = 1;
	snprintf(w.authority, sizeof(w.authority), "Ministro del Interior");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	CHECK_OK(warrant_confirm(&site, ks, "W-000004", "Auto confirma", T("2026-03-03"), msg, sizeof(msg)));
	/* W-000005: extended with a gap: Jan 10..Feb 10, then Mar 1..Apr 1 */
	spec(&w, "L-EXT", "2026-01-10", "2026-01-10", "2026-02-10");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	CHECK_OK(extend_with_gap("W-000005"));

	CHECK_OK(warrant_registry_load(&site, &reg));
	CHECK_STR(route(reg, "L-NONE", "2026-02-01", WARRANT_CAT_IRI), WARRANT_Q_UNKNOWN_LIID);
	CHECK_STR(route(reg, "L-IR", "2026-02-01", WARRANT_CAT_IRI), WARRANT_Q_UNKNOWN_LIID);
	CHECK_STR(route(reg, "L-IRI", "2026-02-01", WARRANT_CAT_IRI), "W-000001");
	CHECK_STR(route(reg, "L-IRI", "2026-02-01", WARRANT_CAT_CONTENT), WARRANT_Q_CATEGORY);
	CHECK_STR(route(reg, "L-IRI", "2026-02-01", WARRANT_CAT_LOCATION), WARRANT_Q_CATEGORY);
	/* window edges: from inclusive, to exclusive */
	CHECK_STR(route(reg, "L-IRI", "2026-01-10T00:00:00Z", WARRANT_CAT_IRI), "W-000001");
	CHECK_STR(route(reg, "L-IRI", "2026-01-09T23:59:59.999999Z", WARRANT_CAT_IRI),
		  WARRANT_Q_BEFORE_START);
	CHECK_STR(route(reg, "L-IRI", "2026-04-09T23:59:59.999999Z", WARRANT_CAT_IRI), "W-000001");
	CHECK_STR(route(reg, "L-IRI", "2026-04-10", WARRANT_CAT_IRI), WARRANT_Q_AFTER_END);
	/* cessation */
	CHECK_STR(route(reg, "L-CEASE", "2026-01-31T23:59:59Z", WARRANT_CAT_CONTENT), "W-000002");
	CHECK_STR(route(reg, "L-CEASE", "2026-02-01", WARRANT_CAT_CONTENT), WARRANT_Q_CEASED);
	CHECK_STR(route(reg, "L-CEASE", "2026-05-01", WARRANT_CAT_CONTENT), WARRANT_Q_CEASED);
	/* emergency: 72 h from the order unless confirmed */
	CHECK_STR(route(reg, "L-EMERG", "2026-03-04T11:59:59Z", WARRANT_CAT_IRI), "W-000003");
	CHECK_STR(route(reg, "L-EMERG", "2026-03-04T12:00:00Z", WARRANT_CAT_IRI), WARRANT_Q_EMERGENCY);
	CHECK_STR(route(reg, "L-EMOK", "2026-03-04T12:00:00Z", WARRANT_CAT_IRI), "W-000004");
	CHECK_STR(route(reg, "L-EMOK", "2026-05-01", WARRANT_CAT_IRI), WARRANT_Q_AFTER_END);
	/* extension with a pause */
	CHECK_STR(route(reg, "L-EXT", "2026-02-09", WARRANT_CAT_IRI), "W-000005");
	CHECK_STR(route(reg, "L-EXT", "2026-02-15", WARRANT_CAT_IRI), WARRANT_Q_AFTER_END);
	CHECK_STR(route(reg, "L-EXT", "2026-03-15", WARRANT_CAT_IRI), "W-000005");
	CHECK_STR(route(reg, "L-EXT", "2026-04-01", WARRANT_CAT_IRI), WARRANT_Q_AFTER_END);
	/* the match carries the recipient */
	why = "x";
	CHECK_OK(warrant_route(reg, (const uint8_t *)"L-IRI", 5, T("2026-02-01"), WARRANT_CAT_IRI,
			       &m, &why));
	CHECK(why == NULL);
	CHECK_STR(m.recipient_str, warrant_registry_find(reg, "W-000001")->recipient);
	CHECK_MEM(m.recipient, warrant_registry_find(reg, "W-000001")->recipient_pub, 32);
	CHECK_EQ_INT(m.period_end, T("2026-04-10"));
	CHECK_OK(warrant_route(reg, (const uint8_t *)"L-CEASE", 7, T("2026-01-20"),
			       WARRANT_CAT_CONTENT, &m, &why));
	CHECK(why == NULL);
	CHECK_EQ_INT(m.period_end, T("2026-02-01")); /* cut by the cessation */
	CHECK_OK(warrant_route(reg, (const uint8_t *)"L-EMERG", 7, T("2026-03-02"),
			       WARRANT_CAT_IRI, &m, &why));
	CHECK(why == NULL);
	CHECK_EQ_INT(m.period_end, T("2026-03-04T12:00:00Z")); /* the 72 h deadline */
	CHECK_OK(warrant_route(reg, (const uint8_t *)"L-EXT", 5, T("2026-03-02"),
			       WARRANT_CAT_IRI, &m, &why));
	CHECK_EQ_INT(m.period_end, T("2026-04-01"));
	CHECK_EQ_INT(warrant_route(reg, (const uint8_t *)"L", 1, 0, 0, &m, &why), LACRE_E_INVALID);
	CHECK_EQ_INT(warrant_route(reg, (const uint8_t *)"L", 1, 0, 8, &m, &why), LACRE_E_INVALID);
	/* L2: a record under several categories needs every one of them */
	CHECK_STR(route(reg, "L-IRI", "2026-02-01", WARRANT_CAT_IRI | WARRANT_CAT_LOCATION),
		  WARRANT_Q_CATEGORY);
	CHECK_STR(route(reg, "L-CEASE", "2026-01-20", WARRANT_CAT_IRI | WARRANT_CAT_LOCATION),
		  WARRANT_Q_CATEGORY);
	/* a LIID reused after a cessation routes to the warrant in force */
	warrant_registry_free(reg);
	spec(&w, "L-CEASE", "2026-03-01", "2026-03-01", "2026-05-01");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	CHECK_OK(warrant_registry_load(&site, &reg));
	CHECK_STR(route(reg, "L-CEASE", "2026-01-20", WARRANT_CAT_IRI), "W-000002");
	CHECK_STR(route(reg, "L-CEASE", "2026-02-15", WARRANT_CAT_IRI), WARRANT_Q_CEASED);
	CHECK_STR(route(reg, "L-CEASE", "2026-03-15", WARRANT_CAT_IRI), "W-000006");
	warrant_registry_free(reg);
	/* a tracking order: IRI with geolocation routes only where both are authorised */
	spec(&w, "L-LOC", "2026-03-01", "2026-03-01", "2026-05-01");
	w.categories = WARRANT_CAT_IRI | WARRANT_CAT_LOCATION;
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	CHECK_OK(warrant_registry_load(&site, &reg));
	CHECK_STR(route(reg, "L-LOC", "2026-03-15", WARRANT_CAT_IRI | WARRANT_CAT_LOCATION), "W-000007");
	CHECK_STR(route(reg, "L-LOC", "2026-03-15", WARRANT_CAT_IRI), "W-000007");
	CHECK_STR(route(reg, "L-LOC", "2026-03-15", WARRANT_CAT_CONTENT), WARRANT_Q_CATEGORY);
	warrant_registry_free(reg);
}

/* The answer of warrant_route for liid at t as one string: warrant id
 * and period end, or the quarantine reason. */
static void answer(struct warrant_registry *reg, const char *liid, int64_t t, unsigned cat,
		   char *out, size_t cap)
{
	struct warrant_match m;
	const char *why = "unset";

	if (warrant_route(reg, (const uint8_t *)liid, strlen(liid), t, cat, &m, &why) != LACRE_OK)
		snprintf(out, cap, "error");
	else if (why)
		snprintf(out, cap, "%s", why);
	else
		snprintf(out, cap, "%s %lld", m.id, (long long)m.period_end);
}

/* warrant_route_span: the span holds t, and warrant_route gives t's
 * answer at both of its ends and at every listed time inside it; times
 * on both sides of every edge (extension with a gap, cessation, an
 * unconfirmed emergency order, two warrants of one LIID). */
static void test_route_span(void)
{
	static const char *const liids[] = { "S-EXT", "S-CEASE", "S-EMERG", "S-TWO", "S-NONE" };
	static const char *const times[] = {
		"2026-01-09T23:59:59.999999Z", "2026-01-10", "2026-01-20", "2026-02-01",
		"2026-02-10", "2026-02-15", "2026-03-01", "2026-03-04T11:59:59.999999Z",
		"2026-03-04T12:00:00Z", "2026-04-01", "2026-04-10", "2026-04-30T23:59:59.999999Z",
		"2026-05-01", "2026-06-01", "1970-01-01", "9999-12-31",
	};
	struct warrant w;
	struct warrant_registry *reg = NULL;
	struct warrant_match m;
	char wid[WARRANT_ID_MAX], a[128], b[128];

	CHECK_OK(make_site());
	spec(&w, "S-EXT", "2026-01-10", "2026-01-10", "2026-02-10");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	CHECK_OK(extend_with_gap(wid));
	spec(&w, "S-CEASE", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	CHECK_OK(warrant_cease(&site, ks, wid, "Auto cese", T("2026-02-01"), T("2026-02-01"), msg,
			       sizeof(msg)));
	spec(&w, "S-EMERG", "2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z", "2026-05-01");
	w.emergency = 1;
	snprintf(w.authority, sizeof(w.authority), "Secretario de Estado de Seguridad");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	spec(&w, "S-TWO", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	spec(&w, "S-TWO", "2026-04-20", "2026-05-01", "2026-06-01");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	CHECK_OK(warrant_registry_load(&site, &reg));
	for (size_t i = 0; i < sizeof(liids) / sizeof(liids[0]); i++)
		for (size_t j = 0; j < sizeof(times) / sizeof(times[0]); j++)
			for (unsigned cat = WARRANT_CAT_CONTENT; cat <= WARRANT_CAT_IRI; cat <<= 1) {
				int64_t t = T(times[j]), lo = 0, hi = 0;
				const char *why = "unset";
				CHECK_OK(warrant_route_span(reg, (const uint8_t *)liids[i],
							    strlen(liids[i]), t, cat, &m, &why, &lo,
							    &hi));
				CHECK(lo <= t && t < hi);
				answer(reg, liids[i], t, cat, a, sizeof(a));
				answer(reg, liids[i], lo, cat, b, sizeof(b));
				CHECK_STR(b, a);
				answer(reg, liids[i], hi - 1, cat, b, sizeof(b));
				CHECK_STR(b, a);
				/* every listed time inside the span has t's answer */
				for (size_t e = 0; e < sizeof(times) / sizeof(times[0]); e++) {
					if (T(times[e]) < lo || T(times[e]) >= hi)
						continue;
					answer(reg, liids[i], T(times[e]), cat, b, sizeof(b));
					CHECK_STR(b, a);
				}
			}
	warrant_registry_free(reg);
}

static void test_reload(void)
{
	struct warrant w;
	struct warrant_registry *reg = NULL;
	char wid[WARRANT_ID_MAX];
	int changed = -1;

	CHECK_OK(make_site());
	CHECK_OK(warrant_registry_load(&site, &reg));
	CHECK_OK(warrant_registry_reload_if_changed(reg, &changed));
	CHECK_EQ_INT(changed, 0);
	CHECK_STR(route(reg, "LR", "2026-02-01", WARRANT_CAT_IRI), WARRANT_Q_UNKNOWN_LIID);
	spec(&w, "LR", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	CHECK_OK(warrant_registry_reload_if_changed(reg, &changed));
	CHECK_EQ_INT(changed, 1);
	CHECK_STR(route(reg, "LR", "2026-02-01", WARRANT_CAT_IRI), "W-000001");
	CHECK_OK(warrant_registry_reload_if_changed(reg, &changed));
	CHECK_EQ_INT(changed, 0);
	CHECK_OK(warrant_cease(&site, ks, "W-000001", "Auto", T("2026-01-20"), T("2026-01-20"), msg,
			       sizeof(msg)));
	CHECK_OK(warrant_registry_reload_if_changed(reg, NULL));
	CHECK_STR(route(reg, "LR", "2026-02-01", WARRANT_CAT_IRI), WARRANT_Q_CEASED);
	warrant_registry_free(reg);
}

/* Read the log into buf; returns its length. */
static size_t read_log(char *buf, size_t cap)
{
	char path[SITE_PATH_MAX];
	FILE *f;
	size_t n;

	site_path(&site, SITE_WARRANTS, path, sizeof(path));
	f = fopen(path, "rb");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* Replace the log with buf[0..n). */
static void write_log(const char *buf, size_t n)
{
	char path[SITE_PATH_MAX];
	FILE *f;

	site_path(&site, SITE_WARRANTS, path, sizeof(path));
	f = fopen(path, "wb");
	if (f == NULL)
		return;
	fwrite(buf, 1, n, f);
	fclose(f);
}

static void test_log_tamper(void)
{
	static char orig[65536], buf[65536];
	struct warrant w;
	struct warrant_registry *reg = NULL;
	char wid[WARRANT_ID_MAX], *nl, *p;
	size_t n;
	int changed;

	CHECK_OK(make_site());
	spec(&w, "LT1", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	spec(&w, "LT2", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	n = read_log(orig, sizeof(orig));
	CHECK(n > 0 && n < sizeof(orig));
	CHECK(strncmp(orig, "lacre-warrant-v1 1 add id=W-000001 at=", 38) == 0);
	CHECK_OK(warrant_registry_load(&site, &reg));
	/* one changed byte in a value breaks the line's hash */
	memcpy(buf, orig, n);
	p = strstr(buf, "LT1");
	CHECK(p != NULL);
	p[2] = '9';
	write_log(buf, n);
	CHECK_EQ_INT(warrant_registry_reload_if_changed(reg, &changed), LACRE_E_CORRUPT);
	/* the registry keeps its previous contents on a failed reload */
	CHECK_STR(route(reg, "LT1", "2026-02-01", WARRANT_CAT_IRI), "W-000001");
	/* dropping the first line breaks the chain */
	nl = memchr(orig, '\n', n);
	write_log(nl + 1, n - (size_t)(nl + 1 - orig));
	CHECK_EQ_INT(warrant_registry_reload_if_changed(reg, &changed), LACRE_E_CORRUPT);
	/* a half-written last line */
	write_log(orig, n - 5);
	CHECK_EQ_INT(warrant_registry_reload_if_changed(reg, &changed), LACRE_E_CORRUPT);
	/* and a writer refuses to append to a damaged log */
	spec(&w, "LT3", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_EQ_INT(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)), LACRE_E_CORRUPT);
	CHECK(strstr(warrant_registry_error(), "warrants.log:2: ") != NULL);
	CHECK(strstr(warrant_registry_error(), "incomplete") != NULL);
	/* the intact log loads again */
	write_log(orig, n);
	CHECK_OK(warrant_registry_reload_if_changed(reg, &changed));
	CHECK_EQ_INT(changed, 1);
	warrant_registry_free(reg);
	/* a missing log is an empty registry */
	{
		char path[SITE_PATH_MAX];
		site_path(&site, SITE_WARRANTS, path, sizeof(path));
		unlink(path);
		CHECK_OK(warrant_registry_load(&site, &reg));
		CHECK_EQ_INT(warrant_registry_count(reg), 0);
		warrant_registry_free(reg);
	}
}

/* Someone who can write warrants.log but has no signing key rewrites an
 * event and recomputes the whole hash chain: the signature still fails. */
static void test_log_signature(void)
{
	static char orig[65536], forged[65536];
	struct warrant w;
	struct warrant_registry *reg = NULL;
	char wid[WARRANT_ID_MAX], path[SITE_PATH_MAX], hx[65], *p, *hp;
	uint8_t h[32], other[32];
	unsigned hl = 0;
	size_t n;

	CHECK_OK(make_site());
	spec(&w, "LS1", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_OK(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)));
	n = read_log(orig, sizeof(orig));
	CHECK(n > 0);
	CHECK(strstr(orig, " sig=") != NULL);
	/* route LS1 to another recipient: replace the LIID and fix the hash */
	memcpy(forged, orig, n);
	forged[n] = '\0';
	p = strstr(forged, "liids=LS1");
	CHECK(p != NULL);
	p[8] = '9';
	hp = strstr(forged, " hash=");
	CHECK(hp != NULL);
	CHECK(EVP_Digest(forged, (size_t)(hp - forged), h, &hl, EVP_sha256(), NULL) == 1);
	for (int i = 0; i < 32; i++)
		snprintf(hx + 2 * i, 3, "%02x", h[i]);
	memcpy(hp + 6, hx, 64);
	write_log(forged, n);
	/* the chain alone accepts it ... */
	site_path(&site, SITE_WARRANTS, path, sizeof(path));
	CHECK_OK(warrant_registry_load_path(path, NULL, &reg));
	{
		const struct warrant *w0 = warrant_registry_at(reg, 0);
		CHECK(w0 != NULL);
		if (w0)
			CHECK_STR(w0->liids[0], "LS9");
	}
	warrant_registry_free(reg);
	reg = NULL;
	/* ... the signature does not */
	CHECK_EQ_INT(warrant_registry_load(&site, &reg), LACRE_E_CORRUPT);
	CHECK(strstr(warrant_registry_error(), "signature") != NULL);
	/* the genuine log fails under another signer key */
	write_log(orig, n);
	CHECK_OK(warrant_registry_load(&site, &reg));
	warrant_registry_free(reg);
	reg = NULL;
	memset(other, 7, sizeof(other));
	CHECK_EQ_INT(warrant_registry_load_path(path, other, &reg), LACRE_E_CORRUPT);
	/* a writer whose keystore key does not match warrants.signer refuses */
	site.cfg.warrants_signer[0] = site.cfg.warrants_signer[0] == 'a' ? 'b' : 'a';
	spec(&w, "LS2", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_EQ_INT(warrant_add(&site, ks, &w, wid, msg, sizeof(msg)), LACRE_E_CONFIG);
	site.cfg.warrants_signer[0] = '\0';
	CHECK_EQ_INT(warrant_registry_load(&site, &reg), LACRE_E_CONFIG);
}

int main(void)
{
	RUN(test_times);
	RUN(test_categories);
	RUN(test_add_and_load);
	RUN(test_route_reasons);
	RUN(test_route_span);
	RUN(test_reload);
	RUN(test_log_tamper);
	RUN(test_log_signature);
	keystore_close(ks);
	return t_done();
}
