/*
 * test_legal.c - every legal rule of legal.c accepted at its edge and
 * refused one microsecond (or one field) past it: L1 fields, L3 window
 * from the order date, 3 months per order, extensions as new successive
 * orders, the 18-month cap per target and case, L4 cessation, L5
 * emergency orders (authority, 72 h confirmation), and one LIID in two
 * overlapping warrants.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lacre/err.h"
#include "keeper/keystore.h"
#include "lacre/site.h"
#include "lacre/warrant.h"
#include "keeper/warrant_log.h"

static struct site site;
static struct keystore *ks;
static char msg[SITE_MSG_MAX];

/* Microseconds of an ISO time. */
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

/* A complete order (times in microseconds). */
static void spec(struct warrant *w, const char *liid, const char *target, int64_t od,
		 int64_t from, int64_t to)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->case_id, sizeof(w->case_id), "DP 1/2026");
	snprintf(w->unit, sizeof(w->unit), "UCO");
	snprintf(w->court, sizeof(w->court), "JI 1");
	snprintf(w->periods[0].order_id, sizeof(w->periods[0].order_id), "A-%s", liid);
	w->periods[0].order_date = od;
	w->periods[0].from = from;
	w->periods[0].to = to;
	w->n_periods = 1;
	w->categories = WARRANT_CAT_IRI;
	snprintf(w->targets[0], sizeof(w->targets[0]), "%s", target);
	w->n_targets = 1;
	snprintf(w->liids[0], sizeof(w->liids[0]), "%s", liid);
	w->n_liids = 1;
}

/* Check w against the current log; returns the rule (LEGAL_OK if accepted). */
static int check_add(const struct warrant *w)
{
	struct warrant_registry *reg = NULL;
	enum legal_rule rule = LEGAL_OK;
	int r;

	if (warrant_registry_load(&site, &reg) != LACRE_OK)
		return -1;
	msg[0] = '\0';
	r = legal_check_add(reg, w, &rule, msg, sizeof(msg));
	warrant_registry_free(reg);
	if (r == LACRE_OK)
		return LEGAL_OK;
	return r == LACRE_E_LEGAL ? (int)rule : -2;
}

/* Check an extension of warrant id; returns the rule. */
static int check_ext(const char *id, const char *order, int64_t od, int64_t from, int64_t to)
{
	struct warrant_registry *reg = NULL;
	struct warrant_period p;
	enum legal_rule rule = LEGAL_OK;
	int r;

	memset(&p, 0, sizeof(p));
	snprintf(p.order_id, sizeof(p.order_id), "%s", order);
	p.order_date = od;
	p.from = from;
	p.to = to;
	if (warrant_registry_load(&site, &reg) != LACRE_OK)
		return -1;
	msg[0] = '\0';
	r = legal_check_extend(reg, warrant_registry_find(reg, id), &p, &rule, msg, sizeof(msg));
	warrant_registry_free(reg);
	if (r == LACRE_OK)
		return LEGAL_OK;
	return r == LACRE_E_LEGAL ? (int)rule : -2;
}

/* Extend for real (after check_ext accepted). */
static int do_ext(const char *id, const char *order, int64_t od, int64_t from, int64_t to)
{
	struct warrant_period p;

	memset(&p, 0, sizeof(p));
	snprintf(p.order_id, sizeof(p.order_id), "%s", order);
	p.order_date = od;
	p.from = from;
	p.to = to;
	return warrant_extend(&site, ks, id, &p, msg, sizeof(msg));
}

static void test_l1_fields(void)
{
	struct warrant w;
	int64_t d = T("2026-01-01");

	CHECK_OK(make_site());
	spec(&w, "L1", "p", d, d, T("2026-02-01"));
	CHECK_EQ_INT(check_add(&w), LEGAL_OK);
	w.unit[0] = '\0';
	CHECK_EQ_INT(check_add(&w), LEGAL_L1_FIELD);
	CHECK(strncmp(msg, "L1: the order's unit is missing", 31) == 0);
	spec(&w, "L1", "p", d, d, T("2026-02-01"));
	w.court[0] = '\0';
	CHECK_EQ_INT(check_add(&w), LEGAL_L1_FIELD);
	spec(&w, "L1", "p", d, d, T("2026-02-01"));
	w.case_id[0] = '\0';
	CHECK_EQ_INT(check_add(&w), LEGAL_L1_FIELD);
	spec(&w, "L1", "p", d, d, T("2026-02-01"));
	w.periods[0].order_id[0] = '\0';
	CHECK_EQ_INT(check_add(&w), LEGAL_L1_FIELD);
	spec(&w, "L1", "p", d, d, T("2026-02-01"));
	w.categories = 0;
	CHECK_EQ_INT(check_add(&w), LEGAL_L1_FIELD);
	spec(&w, "L1", "p", d, d, T("2026-02-01"));
	w.n_targets = 0;
	CHECK_EQ_INT(check_add(&w), LEGAL_L1_FIELD);
	spec(&w, "L1", "p", d, d, T("2026-02-01"));
	w.n_liids = 0;
	CHECK_EQ_INT(check_add(&w), LEGAL_L1_FIELD);
	/* warrant_add enforces the same and says which rule */
	{
		char id[WARRANT_ID_MAX];
		CHECK_EQ_INT(warrant_add(&site, ks, &w, id, msg, sizeof(msg)), LACRE_E_LEGAL);
		CHECK(strncmp(msg, "L1:", 3) == 0);
	}
	CHECK_STR(legal_rule_name(LEGAL_L1_FIELD), "L1");
	CHECK_STR(legal_rule_name(LEGAL_L3_18MONTHS), "L3");
	CHECK_STR(legal_rule_name(LEGAL_L5_EXPIRED), "L5");
}

static void test_l3_window(void)
{
	struct warrant w;
	int64_t od = T("2026-01-31T10:00:00Z");

	CHECK_OK(make_site());
	/* from at the order date: accepted; one microsecond before: refused */
	spec(&w, "W", "p", od, od, T("2026-03-01"));
	CHECK_EQ_INT(check_add(&w), LEGAL_OK);
	spec(&w, "W", "p", od, od - 1, T("2026-03-01"));
	CHECK_EQ_INT(check_add(&w), LEGAL_L3_BEFORE_ORDER);
	CHECK(strncmp(msg, "L3: valid-from", 14) == 0);
	/* empty window */
	spec(&w, "W", "p", od, od + 5, od + 5);
	CHECK_EQ_INT(check_add(&w), LEGAL_L3_EMPTY);
	/* 3 months counted from the order date: 31 Jan + 3 months = 30 Apr */
	spec(&w, "W", "p", od, od, T("2026-04-30T10:00:00Z"));
	CHECK_EQ_INT(check_add(&w), LEGAL_OK);
	spec(&w, "W", "p", od, od, T("2026-04-30T10:00:00Z") + 1);
	CHECK_EQ_INT(check_add(&w), LEGAL_L3_3MONTHS);
	CHECK(strstr(msg, "at most 2026-04-30T10:00:00Z") != NULL);
	/* a later start does not move the limit: it counts from the order */
	spec(&w, "W", "p", od, T("2026-03-01"), T("2026-05-01"));
	CHECK_EQ_INT(check_add(&w), LEGAL_L3_3MONTHS);
}

static void test_l3_extensions_and_18_months(void)
{
	static const char *ends[] = { "2026-04-01", "2026-07-01", "2026-10-01", "2027-01-01",
				      "2027-04-01", "2027-07-01" };
	struct warrant w;
	char id[WARRANT_ID_MAX], order[32];

	CHECK_OK(make_site());
	spec(&w, "E", "Alice", T("2026-01-01"), T("2026-01-01"), T("2026-04-01"));
	CHECK_OK(warrant_add(&site, ks, &w, id, msg, sizeof(msg)));
	/* an extension is a new order */
	CHECK_EQ_INT(check_ext(id, "A-E", T("2026-03-25"), T("2026-04-01"), T("2026-07-01")),
		     LEGAL_L3_NEW_ORDER);
	CHECK_EQ_INT(check_ext(id, "P1", T("2025-12-31"), T("2026-04-01"), T("2026-07-01")),
		     LEGAL_L3_NEW_ORDER);
	/* it starts at or after the order date, and at or after the current end */
	CHECK_EQ_INT(check_ext(id, "P1", T("2026-04-02"), T("2026-04-01"), T("2026-07-01")),
		     LEGAL_L3_BEFORE_ORDER);
	CHECK_EQ_INT(check_ext(id, "P1", T("2026-03-25"), T("2026-04-01") - 1, T("2026-07-01")),
		     LEGAL_L3_SUCCESSIVE);
	/* at most 3 months from its start */
	CHECK_EQ_INT(check_ext(id, "P1", T("2026-03-25"), T("2026-04-01"), T("2026-07-01") + 1),
		     LEGAL_L3_3MONTHS);
	CHECK_EQ_INT(check_ext(id, "P1", T("2026-03-25"), T("2026-04-01"), T("2026-04-01")),
		     LEGAL_L3_EMPTY);
	/* five successive extensions reach exactly 18 months: accepted */
	for (int i = 1; i < 6; i++) {
		snprintf(order, sizeof(order), "P%d", i);
		CHECK_EQ_INT(check_ext(id, order, T(ends[i - 1]) - 7 * 86400000000LL, T(ends[i - 1]),
				       T(ends[i])), LEGAL_OK);
		CHECK_OK(do_ext(id, order, T(ends[i - 1]) - 7 * 86400000000LL, T(ends[i - 1]),
				T(ends[i])));
	}
	/* one more microsecond is past the cap */
	CHECK_EQ_INT(check_ext(id, "P6", T("2027-06-25"), T("2027-07-01"), T("2027-07-01") + 1),
		     LEGAL_L3_18MONTHS);
	CHECK(strstr(msg, "L3: target 'Alice'") == msg);
	/* the cap counts per person across warrants of the same case ... */
	spec(&w, "E2", "Alice", T("2027-07-01"), T("2027-07-01"), T("2027-08-01"));
	CHECK_EQ_INT(check_add(&w), LEGAL_L3_18MONTHS);
	/* ... an overlapping second terminal adds nothing to the union ... */
	spec(&w, "E3", "Alice", T("2026-02-01"), T("2026-02-01"), T("2026-05-01"));
	CHECK_EQ_INT(check_add(&w), LEGAL_OK);
	/* ... and a new proceeding (another case) or another person restarts it */
	spec(&w, "E2", "Bob", T("2027-07-01"), T("2027-07-01"), T("2027-08-01"));
	CHECK_EQ_INT(check_add(&w), LEGAL_OK);
	spec(&w, "E2", "Alice", T("2027-07-01"), T("2027-07-01"), T("2027-08-01"));
	snprintf(w.case_id, sizeof(w.case_id), "DP 99/2027");
	CHECK_EQ_INT(check_add(&w), LEGAL_OK);
}

/* A pause does not restart the clock but does not count either: the cap
 * is on the union of the authorised periods. */
static void test_l3_pause(void)
{
	struct warrant w;
	char id[WARRANT_ID_MAX];

	CHECK_OK(make_site());
	spec(&w, "P", "Carol", T("2026-01-01"), T("2026-01-01"), T("2026-04-01"));
	CHECK_OK(warrant_add(&site, ks, &w, id, msg, sizeof(msg)));
	/* a one-month pause, then four extensions of 3 months and one of 3 */
	CHECK_OK(do_ext(id, "Q1", T("2026-05-01"), T("2026-05-01"), T("2026-08-01")));
	CHECK_OK(do_ext(id, "Q2", T("2026-08-01"), T("2026-08-01"), T("2026-11-01")));
	CHECK_OK(do_ext(id, "Q3", T("2026-11-01"), T("2026-11-01"), T("2027-02-01")));
	CHECK_OK(do_ext(id, "Q4", T("2027-02-01"), T("2027-02-01"), T("2027-05-01")));
	/* 15 months used; the 18-month allowance counted from 2026-01-01 is
	 * 546 days; used so far 2026-01-01..04-01 (90) + 05-01..2027-05-01 (365) */
	CHECK_EQ_INT(check_ext(id, "Q5", T("2027-05-01"), T("2027-05-01"),
			       T("2027-05-01") + (546 - 455) * 86400000000LL), LEGAL_OK);
	CHECK_EQ_INT(check_ext(id, "Q5", T("2027-05-01"), T("2027-05-01"),
			       T("2027-05-01") + (546 - 455) * 86400000000LL + 1), LEGAL_L3_18MONTHS);
}

static void test_l4_cease(void)
{
	struct warrant_registry *reg = NULL;
	struct warrant w;
	enum legal_rule rule;
	char id[WARRANT_ID_MAX];

	CHECK_OK(make_site());
	spec(&w, "C", "p", T("2026-01-01"), T("2026-01-01"), T("2026-04-01"));
	CHECK_OK(warrant_add(&site, ks, &w, id, msg, sizeof(msg)));
	CHECK_EQ_INT(warrant_cease(&site, ks, id, "Auto cese", T("2026-02-01"), T("2026-02-01") - 1,
				   msg, sizeof(msg)), LACRE_E_LEGAL);
	CHECK_EQ_INT(warrant_cease(&site, ks, id, "", T("2026-02-01"), T("2026-02-01"), msg,
				   sizeof(msg)), LACRE_E_LEGAL);
	CHECK(strncmp(msg, "L1:", 3) == 0);
	CHECK_OK(warrant_cease(&site, ks, id, "Auto cese", T("2026-02-01"), T("2026-02-01"), msg,
			       sizeof(msg)));
	CHECK_EQ_INT(check_ext(id, "P1", T("2026-03-25"), T("2026-04-01"), T("2026-05-01")),
		     LEGAL_L4_CEASED);
	CHECK_EQ_INT(warrant_cease(&site, ks, id, "Auto 2", T("2026-02-02"), T("2026-02-02"), msg,
				   sizeof(msg)), LACRE_E_LEGAL);
	CHECK(strncmp(msg, "L4: warrant W-000001 already ceased", 35) == 0);
	CHECK_OK(warrant_registry_load(&site, &reg));
	CHECK_EQ_INT(legal_check_cease(warrant_registry_find(reg, id), "x", 1, 1, &rule, NULL, 0),
		     LACRE_E_LEGAL);
	CHECK_EQ_INT(rule, LEGAL_L4_CEASED);
	warrant_registry_free(reg);
	CHECK_EQ_INT(warrant_cease(&site, ks, "W-000009", "x", 1, 1, msg, sizeof(msg)),
		     LACRE_E_NOT_FOUND);
}

static void test_l5_emergency(void)
{
	struct warrant w;
	char id[WARRANT_ID_MAX], id2[WARRANT_ID_MAX];
	int64_t t0 = T("2026-03-01T12:00:00Z");

	CHECK_OK(make_site());
	spec(&w, "EM", "p", t0, t0, T("2026-05-01"));
	w.emergency = 1;
	CHECK_EQ_INT(check_add(&w), LEGAL_L5_AUTHORITY);
	snprintf(w.authority, sizeof(w.authority), "Ministro del Interior");
	CHECK_EQ_INT(check_add(&w), LEGAL_OK);
	CHECK_OK(warrant_add(&site, ks, &w, id, msg, sizeof(msg)));
	spec(&w, "EM2", "q", t0, t0, T("2026-05-01"));
	w.emergency = 1;
	snprintf(w.authority, sizeof(w.authority), "SES");
	CHECK_OK(warrant_add(&site, ks, &w, id2, msg, sizeof(msg)));
	/* no extension before the judge confirms */
	CHECK_EQ_INT(check_ext(id, "P1", T("2026-04-25"), T("2026-05-01"), T("2026-06-01")),
		     LEGAL_L5_UNCONFIRMED);
	/* confirmation within 72 h: at exactly 72 h accepted, 1 us later refused */
	CHECK_EQ_INT(warrant_confirm(&site, ks, id2, "Auto conf", t0 + WARRANT_EMERGENCY_US + 1, msg,
				     sizeof(msg)), LACRE_E_LEGAL);
	CHECK(strncmp(msg, "L5: the judge must confirm", 26) == 0);
	CHECK_EQ_INT(warrant_confirm(&site, ks, id2, "A-EM2", t0 + 1, msg, sizeof(msg)), LACRE_E_LEGAL);
	CHECK_OK(warrant_confirm(&site, ks, id, "Auto conf", t0 + WARRANT_EMERGENCY_US, msg, sizeof(msg)));
	CHECK_EQ_INT(warrant_confirm(&site, ks, id, "Auto conf 2", t0 + 5, msg, sizeof(msg)),
		     LACRE_E_LEGAL);
	/* then an extension is allowed */
	CHECK_EQ_INT(check_ext(id, "P1", T("2026-04-25"), T("2026-05-01"), T("2026-06-01")),
		     LEGAL_OK);
	/* an ordinary order has nothing to confirm */
	spec(&w, "NE", "r", t0, t0, T("2026-05-01"));
	CHECK_OK(warrant_add(&site, ks, &w, id, msg, sizeof(msg)));
	CHECK_EQ_INT(warrant_confirm(&site, ks, id, "x", t0, msg, sizeof(msg)), LACRE_E_LEGAL);
	CHECK(strncmp(msg, "L5: warrant W-000003 is not an emergency", 40) == 0);
}

static void test_liid_overlap(void)
{
	struct warrant w;
	char id[WARRANT_ID_MAX];

	CHECK_OK(make_site());
	spec(&w, "SAME", "p", T("2026-01-01"), T("2026-01-01"), T("2026-03-01"));
	CHECK_OK(warrant_add(&site, ks, &w, id, msg, sizeof(msg)));
	/* overlapping by one microsecond: refused */
	spec(&w, "SAME", "q", T("2026-02-01"), T("2026-03-01") - 1, T("2026-04-01"));
	CHECK_EQ_INT(check_add(&w), LEGAL_LIID_OVERLAP);
	CHECK(strstr(msg, "LIID: 'SAME' is already active in warrant W-000001") == msg);
	/* adjacent: accepted */
	spec(&w, "SAME", "q", T("2026-02-01"), T("2026-03-01"), T("2026-04-01"));
	CHECK_EQ_INT(check_add(&w), LEGAL_OK);
	/* a second LIID in the list is checked too */
	spec(&w, "OTHER", "q", T("2026-02-01"), T("2026-02-01"), T("2026-04-01"));
	snprintf(w.liids[1], sizeof(w.liids[1]), "SAME");
	w.n_liids = 2;
	CHECK_EQ_INT(check_add(&w), LEGAL_LIID_OVERLAP);
	/* after a cessation the LIID is free from the effective time on */
	CHECK_OK(warrant_cease(&site, ks, id, "cese", T("2026-02-01"), T("2026-02-01"), msg, sizeof(msg)));
	CHECK_EQ_INT(check_add(&w), LEGAL_OK);
	w.periods[0].from = T("2026-02-01") - 1;
	w.periods[0].order_date = T("2026-01-15");
	CHECK_EQ_INT(check_add(&w), LEGAL_LIID_OVERLAP);
	/* an unconfirmed emergency order frees its LIIDs at 72 h */
	spec(&w, "EMX", "z", T("2026-06-01"), T("2026-06-01"), T("2026-08-01"));
	w.emergency = 1;
	snprintf(w.authority, sizeof(w.authority), "SES");
	CHECK_OK(warrant_add(&site, ks, &w, id, msg, sizeof(msg)));
	spec(&w, "EMX", "z2", T("2026-06-04"), T("2026-06-04"), T("2026-08-01"));
	CHECK_EQ_INT(check_add(&w), LEGAL_OK);
	spec(&w, "EMX", "z2", T("2026-06-03"), T("2026-06-04") - 1, T("2026-08-01"));
	CHECK_EQ_INT(check_add(&w), LEGAL_LIID_OVERLAP);
	/* and warrant_add refuses with LACRE_E_LEGAL naming the rule */
	CHECK_EQ_INT(warrant_add(&site, ks, &w, id, msg, sizeof(msg)), LACRE_E_LEGAL);
	CHECK(strncmp(msg, "LIID:", 5) == 0);
	/* once another warrant holds the LIID after the deadline, a late-recorded
	 * (but timely dated) confirmation would make two warrants overlap */
	spec(&w, "EMX", "z2", T("2026-06-04"), T("2026-06-04"), T("2026-08-01"));
	CHECK_OK(warrant_add(&site, ks, &w, id, msg, sizeof(msg)));
	CHECK_EQ_INT(warrant_confirm(&site, ks, "W-000002", "conf", T("2026-06-02"), msg, sizeof(msg)),
		     LACRE_E_LEGAL);
	CHECK(strstr(msg, "LIID: 'EMX' is already active in warrant W-000003") == msg);
}

int main(void)
{
	RUN(test_l1_fields);
	RUN(test_l3_window);
	RUN(test_l3_extensions_and_18_months);
	RUN(test_l3_pause);
	RUN(test_l4_cease);
	RUN(test_l5_emergency);
	RUN(test_liid_overlap);
	keystore_close(ks);
	return t_done();
}
