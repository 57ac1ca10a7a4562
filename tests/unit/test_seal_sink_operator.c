/*
 * test_seal_sink_operator.c - the operator rule in the sealing sink
 * (lib/ingest/seal_sink.c, issue 11), on a real site in a temporary
 * folder: records of a warrant bound to operator opa are sealed to it only
 * when their connection is opa's; from opb or from no operator they are
 * quarantined with reason operator-not-bound and one ALERT per (LIID,
 * sending operator) naming the warrant, its operator and the sender's; a
 * warrant that names no operator takes records from anyone.  Read back
 * with the access-side reader, sealed segments and all.
 */
#include "sink_kit.h"

#define W_OPA "W-000001"     /* LI-OPA: bound to operator opa */
#define W_ANY "W-000002"     /* LI-ANY: no operator named */

/* The whole file at path into buf (NUL-terminated). */
static void slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = 0;
}

/* Occurrences of needle in s. */
static int count(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s++;
	}
	return n;
}

static void test_operator_rule(void)
{
	static const struct { const char *liid, *op, *where; } cases[] = {
		{ "LI-OPA", "opa", W_OPA },
		{ "LI-OPA", "opb", WARRANT_Q_OPERATOR },
		{ "LI-OPA", "", WARRANT_Q_OPERATOR },
		{ "LI-OPA", "opb", WARRANT_Q_OPERATOR },   /* a second one: no second alert */
		{ "LI-OPA", "opa", W_OPA },
		{ "LI-ANY", "opb", W_ANY },
		{ "LI-ANY", "", W_ANY },
	};
	struct lacre_sink k;
	struct seal_sink_stats stv;
	struct lacre_store *st = NULL;
	struct lacre_dbuf b;
	struct kit_recs *wa = calloc(1, sizeof(*wa)), *wn = calloc(1, sizeof(*wn));
	struct kit_recs *ov = calloc(1, sizeof(*ov));
	struct warrant w;
	char wid[WARRANT_ID_MAX], errpath[SITE_PATH_MAX + 16], log[16384], spec[SITE_PATH_MAX + 16];
	int64_t in = T("2026-02-01T10:00:00Z");
	int saved, fd, r = LACRE_OK, open_ok;

	lacre_dbuf_init(&b, 1 << 20);
	CHECK(wa && wn && ov);
	CHECK_OK(kit_make_site(NULL, 0, 0, 0));
	CHECK_OK(site_config_set(&kit_site.cfg, "operator.opa.cert_sha256",
				 "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
				 kit_msg, sizeof(kit_msg)));
	CHECK_OK(site_config_set(&kit_site.cfg, "operator.opb.addresses", "127.0.0.2", kit_msg,
				 sizeof(kit_msg)));
	kit_spec(&w, "LI-OPA", "2026-01-10", "2026-01-10", "2026-04-10");
	snprintf(w.operators[0], sizeof(w.operators[0]), "opa");
	w.n_operators = 1;
	CHECK_OK(warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg)));
	CHECK_STR(wid, W_OPA);
	kit_spec(&w, "LI-ANY", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_OK(warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg)));
	CHECK_STR(wid, W_ANY);

	snprintf(errpath, sizeof(errpath), "%s/stderr.txt", kit_site.dir);
	fflush(stderr);
	saved = dup(2);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	open_ok = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg)) == LACRE_OK;
	for (size_t i = 0; open_ok && r == LACRE_OK && i < sizeof(cases) / sizeof(cases[0]); i++) {
		lacre_dbuf_reset(&b);
		r = kit_ipcc(&b, cases[i].liid, i + 1, in, 100);
		if (r == LACRE_OK)
			r = kit_push_as(&k, &b, in, cases[i].op, i + 1);
	}
	if (open_ok) {
		seal_sink_stats_get(&k, &stv);
		k.close(k.ctx);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	slurp(errpath, log, sizeof(log));
	if (!open_ok) {
		t_fail(__FILE__, __LINE__, "seal_sink_open: %s", kit_msg);
		return;
	}
	CHECK_OK(r);
	CHECK_EQ_INT(stv.records, 7);
	CHECK_EQ_INT(stv.routed, 4);
	CHECK_EQ_INT(stv.quarantined, 3);
	/* one alert per (LIID, sending operator), naming both sides */
	CHECK(strstr(log, "ALERT quarantined records of LIID LI-OPA: operator-not-bound: warrant "
		      W_OPA " binds operator opa, but connection 2 from 127.0.0.1:40002 is operator "
		      "opb") != NULL);
	CHECK(strstr(log, "ALERT quarantined records of LIID LI-OPA: operator-not-bound: warrant "
		      W_OPA " binds operator opa, but connection 3 from 127.0.0.1:40003 is of no "
		      "operator (not authenticated)") != NULL);
	CHECK_EQ_INT(count(log, "operator-not-bound"), 2);

	snprintf(spec, sizeof(spec), "dir:%s/objects", kit_site.dir);
	CHECK_OK(lacre_store_open(spec, &st));
	CHECK_OK(kit_read(st, W_OPA, 0, wa, NULL));
	CHECK_OK(kit_read(st, W_ANY, 0, wn, NULL));
	CHECK_OK(kit_read(st, SITE_OVERSIGHT_KEY, 1, ov, NULL));
	lacre_store_close(st);
	CHECK_EQ_INT(wa->n, 2);
	CHECK_EQ_INT(wn->n, 2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *where = cases[i].where;
		const struct kit_recs *set = !strcmp(where, W_OPA) ? wa : !strcmp(where, W_ANY) ? wn : ov;
		const struct kit_rec *x = kit_find(set, i + 1);
		if (x == NULL || (set == ov && (x->route != FRAME_ROUTE_QUARANTINE ||
						strcmp(x->reason, WARRANT_Q_OPERATOR) != 0))) {
			t_fail(__FILE__, __LINE__, "record %zu (%s from '%s') is not in %s", i + 1,
			       cases[i].liid, cases[i].op, where);
			return;
		}
	}
	CHECK(kit_find(wa, 2) == NULL && kit_find(wa, 3) == NULL && kit_find(wa, 4) == NULL);
	lacre_dbuf_free(&b);
	free(wa);
	free(wn);
	free(ov);
}

int main(void)
{
	RUN(test_operator_rule);
	keystore_close(kit_ks);
	return t_done();
}
