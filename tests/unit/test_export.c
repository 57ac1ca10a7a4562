/*
 * test_export.c - evidence packages (lib/access/export.c) of a site whose
 * records the real sealing sink wrote and whose ingest log it published:
 * the package opens with the court's identity alone and the offline
 * verifier (lib/verify/) finds it VERIFIED with the site's log key and the
 * export key; its members say what the export did (records, exclusions,
 * the VoIP call's WAV and pcap, the oversight events and quarantine
 * count, the access report given).  Party copies exclude by record and by
 * time range.  Each refusal has its own error and leaves no file: an
 * unknown warrant, an existing output, an exclusion that matches nothing,
 * a shredded warrant's key.  A record's receipt (lacre proof record) and
 * the exclusion parsers are checked on their own, and a package altered
 * after sealing is refused by the court's reader.  Records sealed after
 * the signed checkpoint are left out and named (unlogged.txt), and the
 * receiver's events naming the warrant's LIIDs go in with the oversight
 * key.
 */
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "sink_kit.h"
#include "lacre/export.h"
#include "lacre/extract.h"
#include "lacre/note.h"
#include "lacre/package.h"
#include "lacre/segment_proof.h"
#include "lacre/verify.h"

#define N_IPCC 40                 /* IPCC records of the warrant */

static char wid[WARRANT_ID_MAX];  /* the warrant's id */
static struct age_x25519_identity court;
static char court_text[AGE_RECIPIENT_MAX];
static int64_t t0;

/* A site with warrant LI-X: N_IPCC IPCC records one second apart from t0,
 * one IRI with a location, a VoIP call (CIN 9, 10 RTP packets each way)
 * and one record of an unknown LIID (quarantined), all sealed and logged. */
static int make_site(void)
{
	struct warrant w;
	struct lacre_sink k;
	struct lacre_dbuf b;
	int r;

	t0 = T("2026-02-01T10:00:00Z");
	if ((r = kit_make_site(NULL, 0, 0, 0)) != LACRE_OK)
		return r;
	kit_spec(&w, "LI-X", "2026-01-10", "2026-01-10", "2026-04-10");
	if ((r = warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg))) != LACRE_OK ||
	    (r = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg))) != LACRE_OK)
		return r;
	lacre_dbuf_init(&b, 1 << 20);
	for (int i = 0; i < N_IPCC && r == LACRE_OK; i++) {
		lacre_dbuf_reset(&b);
		r = kit_ipcc(&b, "LI-X", (uint64_t)i, t0 + (int64_t)i * 1000000, 80);
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0 + (int64_t)i * 1000000, LACRE_HI3);
	}
	if (r == LACRE_OK) {
		lacre_dbuf_reset(&b);
		r = kit_ipiri(&b, "LI-X", 1000, t0 + 100000000, "cell 214-07-1234-5678");
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0 + 100000000, LACRE_HI2);
	}
	if (r == LACRE_OK)
		r = kit_call(&k, "LI-X", 9, t0 + 200000000, 10, -1, -1, 0);
	if (r == LACRE_OK) {
		lacre_dbuf_reset(&b);
		r = kit_ipcc(&b, "LI-NOBODY", 5, t0 + 5000000, 60);
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0 + 5000000, LACRE_HI3);
	}
	k.close(k.ctx);
	lacre_dbuf_free(&b);
	if (r != LACRE_OK)
		return r;
	if ((r = age_x25519_generate(&court)) != LACRE_OK)
		return r;
	return age_recipient_encode(court.public_key, court_text);
}

/* Export options for the warrant into t_tmpdir()/name, open window. */
static void opts(struct export_opts *o, const char *name, char *path, size_t cap)
{
	memset(o, 0, sizeof(*o));
	snprintf(path, cap, "%s/%s", t_tmpdir(), name);
	o->warrant = wid;
	o->from_us = INT64_MIN;
	o->to_us = INT64_MAX;
	memcpy(o->court, court.public_key, 32);
	o->court_recipient = court_text;
	o->path = path;
	o->exporter = "clerk1 (court-clerk)";
	o->justification = "auto 7/2026";
}

/* Open the package at path with the court's identity. */
static int open_pkg(const char *path, struct package **pk)
{
	struct lacre_dbuf f;
	char msg[256];
	int r;

	lacre_dbuf_init(&f, (size_t)1 << 28);
	r = site_read_file(path, (size_t)1 << 28, &f);
	if (r == LACRE_OK)
		r = package_open(f.p, f.len, &court, pk, msg, sizeof(msg));
	lacre_dbuf_free(&f);
	return r;
}

/* Verify pk with the site's log key and the export key text vk; *ok is
 * res.verified, *included its count. */
static int verify_pkg(const struct package *pk, const char *vk, int *ok, uint64_t *included,
		      uint64_t *excluded)
{
	struct note_verifier lv, ev;
	struct verify_opts vo;
	struct verify_result res;
	struct lacre_dbuf f;
	char path[SITE_PATH_MAX + 32];
	size_t n;
	int r;

	snprintf(path, sizeof(path), "%s/ledger/ingest/vkey", kit_site.dir);
	lacre_dbuf_init(&f, 1 << 16);
	if ((r = site_read_file(path, 1 << 16, &f)) != LACRE_OK) {
		lacre_dbuf_free(&f);
		return r;
	}
	n = f.len;
	while (n && (f.p[n - 1] == '\n' || f.p[n - 1] == 0))
		n--;
	r = note_verifier_parse((const char *)f.p, n, &lv);
	lacre_dbuf_free(&f);
	if (r != LACRE_OK || (r = note_verifier_parse(vk, strlen(vk), &ev)) != LACRE_OK)
		return r;
	memset(&vo, 0, sizeof(vo));
	memset(&res, 0, sizeof(res));          /* verify_result_free frees what it holds */
	vo.log_key = &lv;
	vo.export_key = &ev;
	if ((r = verify_package(pk, &vo, &res)) != LACRE_OK)
		return r;
	*ok = res.verified;
	for (size_t i = 0; i < res.nproblem && !res.verified; i++)
		fprintf(stderr, "  problem %s: %s\n", res.problem[i].member, res.problem[i].what);
	*included = res.included;
	*excluded = res.excluded;
	verify_result_free(&res);
	return LACRE_OK;
}

/* Whether member name of pk contains text. */
static int member_has(const struct package *pk, const char *name, const char *text)
{
	const struct package_member *m = package_find(pk, name);

	if (!m || !text)
		return m != NULL;
	return memmem(m->p, m->len, text, strlen(text)) != NULL;
}

/* Problems the export reports, counted. */
static int n_progress;
/* export_run as `lacre export` calls it: with the clerk's gate session
 * that allowed "export" on o->warrant (and "quarantine" for oversight),
 * through which the export reads its keys.  Where the gate refuses (no
 * such warrant) it runs without a session, to reach export_run's own
 * answer for that case. */
static int xrun(struct export_opts *o, struct export_result *res, char *msg, size_t msglen)
{
	struct acl_session *ss = NULL;
	int r;

	(void)kit_session(o->warrant, o->oversight, &ss);
	o->session = ss;
	r = export_run(&kit_site, o, res, msg, msglen);
	o->session = NULL;
	acl_session_close(ss);
	return r;
}

static void on_progress(void *arg, const char *line)
{
	(void)arg;
	(void)line;
	n_progress++;
}

/* The whole warrant, with media, oversight and an access report: opens
 * with the court's key, verifies with the site's keys, and holds what the
 * result says. */
static void test_full_package(void)
{
	struct export_opts o;
	struct export_result res;
	struct package *pk = NULL;
	char path[SITE_PATH_MAX], msg[512], vkpath[SITE_PATH_MAX + 32];
	struct stat sb;
	uint64_t inc = 0, exc = 0;
	int ok = 0;

	CHECK_OK(make_site());
	opts(&o, "full.age", path, sizeof(path));
	o.oversight = 1;
	o.access_report = "lacre-access-report/v1\nentry 0 test access report\n";
	o.progress = on_progress;
	CHECK_OK(xrun(&o, &res, msg, sizeof(msg)));
	/* 40 IPCC + the call (INVITE, 200, 20 RTP, BYE, 200); the location IRI is
	 * quarantined (the warrant does not authorise location) */
	CHECK_EQ_INT(res.records, N_IPCC + 24);
	CHECK_EQ_INT(res.included, res.records);
	CHECK_EQ_INT(res.excluded, 0);
	CHECK_EQ_INT(res.unlogged, 0);
	CHECK_EQ_INT(res.quarantined, 1);      /* the location IRI; LI-NOBODY is not the warrant's */
	CHECK_EQ_INT(res.wavs, 1);
	CHECK_EQ_INT(res.pcaps, 2);            /* the VoIP call and the IPCC session (CIN 7) */
	CHECK(res.pdu_bytes > 0);
	/* one leaf per sealed segment: far fewer leaves than records */
	CHECK(res.log_size >= 1 && res.log_size < res.records);
	CHECK_EQ_INT(strlen(res.package_id), 32);
	CHECK(strncmp(res.export_vkey, "lacre/", 6) == 0);
	/* the export key was created on first use, its vkey published */
	snprintf(vkpath, sizeof(vkpath), "%s/ledger/export.vkey", kit_site.dir);
	CHECK(stat(vkpath, &sb) == 0);
	CHECK(stat(path, &sb) == 0);
	CHECK_EQ_INT(sb.st_mode & 0777, 0600);
	CHECK_OK(open_pkg(path, &pk));
	CHECK(member_has(pk, "manifest.txt", res.package_id));
	CHECK(member_has(pk, "manifest.txt", "justification auto 7/2026"));
	CHECK(member_has(pk, "manifest.txt", "exporter clerk1 (court-clerk)"));
	CHECK(member_has(pk, "access-report.txt", "test access report"));
	CHECK(member_has(pk, "records.jsonl", "LI-X"));
	CHECK(member_has(pk, "checkpoint", NULL));
	CHECK(member_has(pk, "ingest.vkey", NULL));
	CHECK(member_has(pk, "export.vkey", res.export_vkey));
	CHECK(member_has(pk, "exclusions.txt", "lacre-exclusions/v1\n"));
	CHECK(!member_has(pk, "unlogged.txt", NULL));
	CHECK(member_has(pk, "media.txt", "lacre-media/v1\n"));
	CHECK(member_has(pk, "media.txt", "packets 10 10 missing 0 0"));
	CHECK(member_has(pk, "media.txt", "pcap pcap/"));
	CHECK(!member_has(pk, "manifest.txt", "absent events"));
	/* each record: its segment proof (to its segment's v2 entry) after
	 * its tlog-proof (of that entry) */
	CHECK(member_has(pk, "records/00000001.tlog-proof", "c2sp.org/tlog-proof@v1\n"));
	CHECK(member_has(pk, "records/00000001.segment-proof", "lacre-segment-proof/v1\nentry "));
	CHECK(member_has(pk, "records/00000064.segment-proof", "lacre-segment-proof/v1\nentry "));
	CHECK(!member_has(pk, "records/00000065.segment-proof", NULL));
	CHECK_OK(verify_pkg(pk, res.export_vkey, &ok, &inc, &exc));
	CHECK_EQ_INT(ok, 1);
	CHECK_EQ_INT(inc, res.included);
	CHECK_EQ_INT(exc, 0);
	package_free(pk);
	/* a second export reuses the key: same vkey */
	{
		struct export_result r2;
		opts(&o, "again.age", path, sizeof(path));
		o.no_media = 1;
		CHECK_OK(xrun(&o, &r2, msg, sizeof(msg)));
		CHECK_STR(r2.export_vkey, res.export_vkey);
		CHECK(strcmp(r2.package_id, res.package_id) != 0);
		CHECK_EQ_INT(r2.wavs, 0);
		CHECK_EQ_INT(r2.pcaps, 0);
		CHECK_OK(open_pkg(path, &pk));
		CHECK(member_has(pk, "manifest.txt", "absent media no WAV or pcap renderings were requested"));
		CHECK(member_has(pk, "manifest.txt", "absent events"));
		CHECK(member_has(pk, "manifest.txt", "absent access-log"));
		CHECK(member_has(pk, "access-report.txt", "access log not available"));
		CHECK_OK(verify_pkg(pk, r2.export_vkey, &ok, &inc, &exc));
		CHECK_EQ_INT(ok, 1);
		package_free(pk);
	}
}

/* A party copy: one record excluded by name and a time range excluded;
 * the verifier counts them and still verifies. */
static void test_party_copy(void)
{
	struct export_opts o;
	struct export_result res;
	struct export_exclusion ex[2];
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct lacre_store *st = NULL;
	struct package *pk = NULL;
	const struct kit_rec *r3;
	char path[SITE_PATH_MAX], msg[512], spec[LACRE_STORE_NAME_MAX + 32], range[128], a[WARRANT_TIME_MAX], b[WARRANT_TIME_MAX];
	uint64_t inc = 0, exc = 0;
	int ok = 0;

	CHECK(rs != NULL);
	CHECK_OK(make_site());
	CHECK_OK(lacre_store_open(kit_site.cfg.backend, &st));
	CHECK_OK(kit_read(st, wid, 0, rs, NULL));
	lacre_store_close(st);
	CHECK((r3 = kit_find(rs, 3)) != NULL);
	snprintf(spec, sizeof(spec), "%s:%llu", r3->segment, (unsigned long long)r3->index);
	CHECK_OK(export_exclusion_parse_record(spec, &ex[0]));
	/* records 10..19 by their interception time */
	warrant_time_format(t0 + 10 * 1000000LL, a);
	warrant_time_format(t0 + 20 * 1000000LL, b);
	snprintf(range, sizeof(range), "%s/%s", a, b);
	CHECK_OK(export_exclusion_parse_range(range, &ex[1]));
	opts(&o, "party.age", path, sizeof(path));
	o.excl = ex;
	o.n_excl = 2;
	o.no_media = 1;
	CHECK_OK(xrun(&o, &res, msg, sizeof(msg)));
	CHECK_EQ_INT(res.excluded, 11);
	CHECK_EQ_INT(res.included + res.excluded, res.records);
	CHECK_OK(open_pkg(path, &pk));
	CHECK(member_has(pk, "exclusions.txt", spec));
	CHECK(member_has(pk, "manifest.txt", "exclude-range"));
	CHECK(member_has(pk, "manifest.txt", "exclude-record"));
	CHECK_OK(verify_pkg(pk, res.export_vkey, &ok, &inc, &exc));
	CHECK_EQ_INT(ok, 1);
	CHECK_EQ_INT(inc, res.included);
	CHECK_EQ_INT(exc, 11);
	package_free(pk);
	/* a party copy without one RTP record of the call keeps the call's
	 * WAV and pcap: the packet left out as silence / no packet, counted */
	{
		const struct kit_rec *rtp = NULL;
		size_t seen = 0;

		for (size_t i = 0; i < rs->n && !rtp; i++)
			if (!rs->v[i].event[0] && rs->v[i].kind == 2 && rs->v[i].has_cin &&
			    rs->v[i].cin != 7 && ++seen == 5)
				rtp = &rs->v[i];
		CHECK(rtp != NULL);
		snprintf(spec, sizeof(spec), "%s:%llu", rtp->segment, (unsigned long long)rtp->index);
		CHECK_OK(export_exclusion_parse_record(spec, &ex[0]));
		opts(&o, "party-media.age", path, sizeof(path));
		o.excl = ex;
		o.n_excl = 1;
		CHECK_OK(xrun(&o, &res, msg, sizeof(msg)));
		CHECK_EQ_INT(res.excluded, 1);
		CHECK_EQ_INT(res.wavs, 1);
		CHECK_EQ_INT(res.pcaps, 2);
		CHECK_OK(open_pkg(path, &pk));
		CHECK(!member_has(pk, "manifest.txt", "holds excluded records"));
		CHECK(member_has(pk, "media.txt", " gaps 0 excluded 1 0\n") ||
		      member_has(pk, "media.txt", " gaps 0 excluded 0 1\n"));
		CHECK(member_has(pk, "media.txt", " skipped 0 excluded 1\n"));
		CHECK_OK(verify_pkg(pk, res.export_vkey, &ok, &inc, &exc));
		CHECK_EQ_INT(ok, 1);
		CHECK_EQ_INT(exc, 1);
		package_free(pk);
	}
	/* a window: only records 0..9 (from t0 to t0+10 s) */
	opts(&o, "window.age", path, sizeof(path));
	o.from_us = t0;
	o.to_us = t0 + 10 * 1000000LL;
	CHECK_OK(xrun(&o, &res, msg, sizeof(msg)));
	CHECK_EQ_INT(res.records, 10);
	CHECK_OK(open_pkg(path, &pk));
	CHECK(member_has(pk, "manifest.txt", "\nfrom 2026-02-01T10:00:00"));
	/* the call is outside the window: its rendering is an absent line */
	CHECK(member_has(pk, "manifest.txt", "not wholly inside the window"));
	CHECK(!member_has(pk, "media.txt", "wav "));
	package_free(pk);
	free(rs);
}

/* Refusals: each with its error and message, and no file left behind. */
static void test_refusals(void)
{
	struct export_opts o;
	struct export_result res;
	struct export_exclusion ex;
	struct stat sb;
	char path[SITE_PATH_MAX], msg[512];
	FILE *f;

	CHECK_OK(make_site());
	/* unknown warrant */
	opts(&o, "none.age", path, sizeof(path));
	o.warrant = "W-000099";
	CHECK_EQ_INT(xrun(&o, &res, msg, sizeof(msg)), LACRE_E_NOT_FOUND);
	CHECK(strstr(msg, "no warrant 'W-000099'") != NULL);
	CHECK(stat(path, &sb) != 0);
	/* the output exists: never overwritten */
	opts(&o, "exists.age", path, sizeof(path));
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("keep", f);
	fclose(f);
	CHECK_EQ_INT(xrun(&o, &res, msg, sizeof(msg)), LACRE_E_EXISTS);
	CHECK(strstr(msg, ".tmp exists (choose another name, or remove a leftover ") != NULL);
	CHECK(stat(path, &sb) == 0);
	CHECK_EQ_INT(sb.st_size, 4);
	/* an exclusion that matches no record */
	opts(&o, "nomatch.age", path, sizeof(path));
	CHECK_OK(export_exclusion_parse_record("seg/00112233445566778899aabbccddeeff:3", &ex));
	o.excl = &ex;
	o.n_excl = 1;
	o.no_media = 1;
	CHECK_EQ_INT(xrun(&o, &res, msg, sizeof(msg)), LACRE_E_INVALID);
	CHECK(strstr(msg, "matches no record of this export") != NULL);
	CHECK(stat(path, &sb) != 0);
	/* a range outside the records */
	CHECK_OK(export_exclusion_parse_range("2020-01-01T00:00:00Z/2020-01-02T00:00:00Z", &ex));
	CHECK_EQ_INT(xrun(&o, &res, msg, sizeof(msg)), LACRE_E_INVALID);
	CHECK(stat(path, &sb) != 0);
	/* keys only through the gate's session: none, or one that allowed the
	 * export but not the quarantine --with-quarantine needs, is refused
	 * (LACRE_E_DENIED naming the key) and writes nothing */
	opts(&o, "nosession.age", path, sizeof(path));
	CHECK_EQ_INT(export_run(&kit_site, &o, &res, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(strstr(msg, "key '") != NULL && strstr(msg, wid) != NULL);
	CHECK(stat(path, &sb) != 0);
	{
		struct acl_session *ss = NULL;
		CHECK_OK(kit_session(wid, 0, &ss));
		o.session = ss;
		o.oversight = 1;
		CHECK_EQ_INT(export_run(&kit_site, &o, &res, msg, sizeof(msg)), LACRE_E_DENIED);
		CHECK(strstr(msg, "key '" SITE_OVERSIGHT_KEY "'") != NULL &&
		      strstr(msg, "'quarantine'") != NULL);
		CHECK(stat(path, &sb) != 0);
		o.session = NULL;
		o.oversight = 0;
		acl_session_close(ss);
	}
	/* a shredded warrant: nothing can be exported */
	CHECK_OK(keystore_shred(kit_ks, wid, "Auto 99/2026", T("2026-05-01")));
	opts(&o, "shredded.age", path, sizeof(path));
	CHECK_EQ_INT(xrun(&o, &res, msg, sizeof(msg)), LACRE_E_SHREDDED);
	CHECK(strstr(msg, "was shredded by order Auto 99/2026") != NULL);
	CHECK(stat(path, &sb) != 0);
}

/* The exclusion parsers accept the documented forms only. */
static void test_exclusion_parse(void)
{
	struct export_exclusion e;

	CHECK_OK(export_exclusion_parse_record("seg/00112233445566778899aabbccddeeff:12", &e));
	CHECK_STR(e.segment, "seg/00112233445566778899aabbccddeeff");
	CHECK_EQ_INT(e.index, 12);
	CHECK_EQ_INT(e.is_range, 0);
	CHECK_OK(export_exclusion_parse_record("00112233445566778899aabbccddeeff:0", &e));
	CHECK_STR(e.segment, "seg/00112233445566778899aabbccddeeff");
	CHECK_STR(e.text, "00112233445566778899aabbccddeeff:0");
	CHECK_EQ_INT(export_exclusion_parse_record("seg/00112233445566778899aabbccddeeff", &e),
		     LACRE_E_INVALID);
	CHECK_EQ_INT(export_exclusion_parse_record("seg/0011:1", &e), LACRE_E_INVALID);
	CHECK_EQ_INT(export_exclusion_parse_record("seg/00112233445566778899AABBCCDDEEFF:1", &e),
		     LACRE_E_INVALID);
	CHECK_EQ_INT(export_exclusion_parse_record("seg/00112233445566778899aabbccddeeff:", &e),
		     LACRE_E_INVALID);
	CHECK_EQ_INT(export_exclusion_parse_record("seg/00112233445566778899aabbccddeeff:-1", &e),
		     LACRE_E_INVALID);
	CHECK_EQ_INT(export_exclusion_parse_record("seg/00112233445566778899aabbccddeeff:1x", &e),
		     LACRE_E_INVALID);
	CHECK_EQ_INT(export_exclusion_parse_record("seg/00112233445566778899aabbccddeeff:99999999999999999999",
						   &e), LACRE_E_INVALID);
	CHECK_OK(export_exclusion_parse_range("2026-02-01T10:00:00Z/2026-02-01T11:00:00Z", &e));
	CHECK_EQ_INT(e.is_range, 1);
	CHECK_EQ_INT(e.to_us - e.from_us, 3600LL * 1000000);
	CHECK_EQ_INT(export_exclusion_parse_range("2026-02-01T11:00:00Z/2026-02-01T10:00:00Z", &e),
		     LACRE_E_INVALID);
	CHECK_EQ_INT(export_exclusion_parse_range("2026-02-01T10:00:00Z/2026-02-01T10:00:00Z", &e),
		     LACRE_E_INVALID);
	CHECK_EQ_INT(export_exclusion_parse_range("2026-02-01T10:00:00Z", &e), LACRE_E_INVALID);
	CHECK_EQ_INT(export_exclusion_parse_range("yesterday/today", &e), LACRE_E_INVALID);
}

/* lacre proof record: a record's receipt verifies in the log; a record
 * that does not exist, and a warrant with no key, are refused. */
static void test_record_receipt(void)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct lacre_store *st = NULL;
	struct lacre_dbuf d;
	struct receipt rc;
	static struct segment_proof sp;
	struct lacre_dbuf spd;
	const struct kit_rec *r5;
	uint8_t commit[32];
	uint64_t leaf = 0;
	struct acl_session *ss = NULL;
	char msg[512];

	CHECK(rs != NULL);
	CHECK_OK(make_site());
	CHECK_OK(lacre_store_open(kit_site.cfg.backend, &st));
	CHECK_OK(kit_read(st, wid, 0, rs, NULL));
	lacre_store_close(st);
	CHECK((r5 = kit_find(rs, 5)) != NULL);
	lacre_dbuf_init(&d, 1 << 20);
	lacre_dbuf_init(&spd, SEGMENT_PROOF_TEXT_MAX);
	/* no session, or one the gate allowed nothing on this warrant: no key */
	CHECK_EQ_INT(export_record_receipt(&kit_site, NULL, wid, r5->segment, r5->index, &d,
					   &spd, commit, &leaf, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(strstr(msg, wid) != NULL && strstr(msg, "on that warrant") != NULL);
	CHECK_EQ_INT(d.len, 0);
	CHECK_OK(kit_session(wid, 0, &ss));
	CHECK_OK(export_record_receipt(&kit_site, ss, wid, r5->segment, r5->index, &d, &spd,
				       commit, &leaf, msg, sizeof(msg)));
	CHECK_MEM(commit, r5->commitment, 32);
	CHECK_OK(receipt_parse(d.p, d.len, &rc));
	CHECK_EQ_INT(rc.index, leaf);
	/* one leaf per segment: the record is proven through its segment's
	 * v2 entry, which must name the record's segment and be that leaf */
	CHECK_OK(segment_proof_parse(spd.p, spd.len, &sp));
	CHECK_EQ_INT(sp.index, r5->index);
	CHECK(strcmp(sp.seg.name, r5->segment) == 0);
	CHECK_OK(segment_proof_verify(&sp, commit));
	{
		uint8_t other[32], lh[32];
		memcpy(other, commit, 32);
		other[0] ^= 1;
		CHECK_EQ_INT(segment_proof_verify(&sp, other), LACRE_E_VERIFY);
		merkle_leaf_hash(sp.entry, sp.entry_len, lh);
		const uint8_t *end = memmem(rc.cp, rc.cp_len, "\n\n", 2);
		struct checkpoint cpt;
		CHECK(end != NULL);
		CHECK_OK(checkpoint_parse(rc.cp, (size_t)(end - (const uint8_t *)rc.cp) + 1, &cpt));
		CHECK_OK(merkle_verify_inclusion(rc.index, cpt.size, lh, &rc.proof, cpt.root));
	}
	lacre_dbuf_free(&spd);
	lacre_dbuf_reset(&d);
	CHECK_EQ_INT(export_record_receipt(&kit_site, ss, wid, r5->segment, 100000, &d, NULL,
					   NULL, NULL, msg, sizeof(msg)), LACRE_E_NOT_FOUND);
	CHECK(strstr(msg, "has no record") != NULL);
	CHECK_EQ_INT(d.len, 0);
	/* another warrant than the one the gate allowed: refused, named */
	CHECK_EQ_INT(export_record_receipt(&kit_site, ss, "W-000077", r5->segment, r5->index,
					   &d, NULL, NULL, NULL, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK(strstr(msg, "key 'W-000077'") != NULL);
	CHECK_EQ_INT(d.len, 0);
	acl_session_close(ss);
	lacre_dbuf_free(&d);
	free(rs);
}

/* Without the access log's auditor key the access report is NOT_FOUND,
 * said so. */
static void test_access_report_absent(void)
{
	struct lacre_dbuf d;
	struct acl_session *ss = NULL;
	char msg[512];

	CHECK_OK(make_site());
	lacre_dbuf_init(&d, 1 << 16);
	/* without a session that allowed the export: refused, named */
	CHECK_EQ_INT(export_access_report(&kit_site, NULL, wid, &d, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK(strstr(msg, "key '" USERS_AUDITOR_KEY "'") != NULL);
	CHECK_OK(kit_session(wid, 0, &ss));
	CHECK_EQ_INT(export_access_report(&kit_site, ss, wid, &d, msg, sizeof(msg)),
		     LACRE_E_NOT_FOUND);
	CHECK(strstr(msg, "no access-log auditor key in the keystore") != NULL);
	acl_session_close(ss);
	lacre_dbuf_free(&d);
}

/* A package altered after sealing does not open for the court: one byte
 * flipped in the ciphertext is LACRE_E_CORRUPT or LACRE_E_AUTH (header),
 * and a cut file is refused too. */
static void test_altered_package(void)
{
	struct export_opts o;
	struct export_result res;
	struct package *pk = NULL;
	struct lacre_dbuf f;
	char path[SITE_PATH_MAX], msg[512];
	int r;

	CHECK_OK(make_site());
	opts(&o, "alter.age", path, sizeof(path));
	o.no_media = 1;
	CHECK_OK(xrun(&o, &res, msg, sizeof(msg)));
	lacre_dbuf_init(&f, (size_t)1 << 28);
	CHECK_OK(site_read_file(path, (size_t)1 << 28, &f));
	CHECK(f.len > 1000);
	f.p[f.len - 100] ^= 1;                   /* inside the last chunk */
	CHECK_EQ_INT(package_open(f.p, f.len, &court, &pk, msg, sizeof(msg)), LACRE_E_CORRUPT);
	CHECK(pk == NULL);
	f.p[f.len - 100] ^= 1;
	r = package_open(f.p, f.len - 20, &court, &pk, msg, sizeof(msg));
	CHECK(r == LACRE_E_TRUNCATED || r == LACRE_E_CORRUPT);
	CHECK(pk == NULL);
	{
		struct age_x25519_identity other;
		CHECK_OK(age_x25519_generate(&other));
		CHECK_EQ_INT(package_open(f.p, f.len, &other, &pk, msg, sizeof(msg)), LACRE_E_AUTH);
		age_identity_wipe(&other);
	}
	CHECK_OK(package_open(f.p, f.len, &court, &pk, msg, sizeof(msg)));
	package_free(pk);
	lacre_dbuf_free(&f);
}

/* Records sealed after the site's signed checkpoint (the checkpoint of
 * the first session put back, as when ingest has not published yet) are
 * left out and named (unlogged.txt, the manifest's absent line, a
 * progress line); an exclusion naming only such a record is refused;
 * with the oversight key the receiver's event naming the warrant's LIID
 * and the quarantine count are in the package, which still verifies. */
static void test_unlogged_and_events(void)
{
	struct warrant w;
	struct lacre_sink k;
	struct lacre_dbuf b, cp;
	struct export_opts o;
	struct export_result res;
	struct export_exclusion ex;
	struct package *pk = NULL;
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct lacre_store *st = NULL;
	const struct kit_rec *late;
	char path[SITE_PATH_MAX], msg[512], cpp[SITE_PATH_MAX + 32], spec[LACRE_STORE_NAME_MAX + 32];
	uint64_t inc = 0, exc = 0;
	int ok = 0, r = LACRE_OK;
	FILE *f;

	CHECK(rs != NULL);
	t0 = T("2026-02-01T10:00:00Z");
	CHECK_OK(kit_make_site(NULL, 0, 0, 0));
	kit_spec(&w, "LI-U", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_OK(warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg)));
	lacre_dbuf_init(&b, 1 << 20);
	CHECK_OK(seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg)));
	for (int i = 0; i < 8 && r == LACRE_OK; i++) {
		lacre_dbuf_reset(&b);
		r = kit_ipcc(&b, "LI-U", (uint64_t)i, t0 + i * 1000000LL, 64);
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0 + i * 1000000LL, LACRE_HI3);
	}
	if (r == LACRE_OK) {
		lacre_dbuf_reset(&b);
		r = kit_ipiri(&b, "LI-U", 50, t0 + 50000000, "cell 1");   /* quarantined: location */
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0 + 50000000, LACRE_HI2);
	}
	if (r == LACRE_OK)
		r = k.event(k.ctx, "{\"event\":\"seq-gap\",\"liid\":\"LI-U\",\"missing\":3}");
	if (r == LACRE_OK)
		r = k.event(k.ctx, "{\"event\":\"seq-gap\",\"liid\":\"LI-OTHER\",\"missing\":1}");
	k.close(k.ctx);
	CHECK_OK(r);
	/* keep the first session's signed checkpoint */
	snprintf(cpp, sizeof(cpp), "%s/ledger/ingest/checkpoint", kit_site.dir);
	lacre_dbuf_init(&cp, 1 << 16);
	CHECK_OK(site_read_file(cpp, 1 << 16, &cp));
	CHECK_OK(seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg)));
	for (int i = 100; i < 105 && r == LACRE_OK; i++) {
		lacre_dbuf_reset(&b);
		r = kit_ipcc(&b, "LI-U", (uint64_t)i, t0 + i * 1000000LL, 64);
		if (r == LACRE_OK)
			r = kit_push(&k, b.p, b.len, t0 + i * 1000000LL, LACRE_HI3);
	}
	k.close(k.ctx);
	CHECK_OK(r);
	lacre_dbuf_free(&b);
	CHECK((f = fopen(cpp, "wb")) != NULL);
	CHECK(fwrite(cp.p, 1, cp.len, f) == cp.len);
	CHECK(fclose(f) == 0);
	lacre_dbuf_free(&cp);
	CHECK_OK(lacre_store_open(kit_site.cfg.backend, &st));
	CHECK_OK(kit_read(st, wid, 0, rs, NULL));
	lacre_store_close(st);
	CHECK((late = kit_find(rs, 102)) != NULL);
	/* an exclusion of a record the export leaves out anyway */
	snprintf(spec, sizeof(spec), "%s:%llu", late->segment, (unsigned long long)late->index);
	CHECK_OK(export_exclusion_parse_record(spec, &ex));
	opts(&o, "unl-excl.age", path, sizeof(path));
	o.excl = &ex;
	o.n_excl = 1;
	o.no_media = 1;
	CHECK_EQ_INT(xrun(&o, &res, msg, sizeof(msg)), LACRE_E_INVALID);
	CHECK(strstr(msg, "matches only records in no signed checkpoint") != NULL);
	/* the export: 8 logged records in, 5 left out and named */
	opts(&o, "unlogged.age", path, sizeof(path));
	o.oversight = 1;
	o.progress = on_progress;
	n_progress = 0;
	CHECK_OK(xrun(&o, &res, msg, sizeof(msg)));
	CHECK_EQ_INT(res.records, 8);
	CHECK_EQ_INT(res.unlogged, 5);
	CHECK_EQ_INT(res.events, 1);             /* only the event naming LI-U */
	CHECK_EQ_INT(res.quarantined, 1);
	CHECK(n_progress >= 1);
	CHECK_OK(open_pkg(path, &pk));
	CHECK(member_has(pk, "unlogged.txt", "lacre-unlogged/v1\n"));
	CHECK(member_has(pk, "manifest.txt", "absent unlogged"));
	CHECK(member_has(pk, "events.jsonl", "LI-U"));
	CHECK(!member_has(pk, "events.jsonl", "LI-OTHER"));
	CHECK_OK(verify_pkg(pk, res.export_vkey, &ok, &inc, &exc));
	CHECK_EQ_INT(ok, 1);
	CHECK_EQ_INT(inc, 8);
	package_free(pk);
	free(rs);
}

/* Count the regular files under dir (one level of folders) whose name
 * ends in suffix. */
static int count_files(const char *dir, const char *suffix)
{
	char sub[SITE_PATH_MAX + 300];
	struct dirent *de, *e2;
	DIR *d = opendir(dir), *d2;
	size_t sl = strlen(suffix);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if ((d2 = opendir(sub)) == NULL) {
			size_t l = strlen(de->d_name);
			n += l >= sl && !strcmp(de->d_name + l - sl, suffix);
			continue;
		}
		while ((e2 = readdir(d2)) != NULL) {
			size_t l = strlen(e2->d_name);
			n += e2->d_name[0] != '.' && l >= sl && !strcmp(e2->d_name + l - sl, suffix);
		}
		closedir(d2);
	}
	closedir(d);
	return n;
}

/* lacre-verify --extract's core on a verified package: the records' JSON,
 * a pcap per communication, a WAV per RTP stream of the call (10 G.711
 * packets each way), extract.txt naming every record with its leaf and
 * commitment; an existing folder is refused and left alone. */
static void test_extract_package(void)
{
	struct export_opts o;
	struct export_result res;
	struct extract_report xr;
	struct package *pk = NULL;
	struct lacre_dbuf f;
	char path[SITE_PATH_MAX], msg[512], dir[SITE_PATH_MAX + 16], fp[SITE_PATH_MAX + 64];
	uint64_t inc = 0, exc = 0;
	int ok = 0;

	CHECK_OK(make_site());
	opts(&o, "x.age", path, sizeof(path));
	CHECK_OK(xrun(&o, &res, msg, sizeof(msg)));
	CHECK_OK(open_pkg(path, &pk));
	CHECK_OK(verify_pkg(pk, res.export_vkey, &ok, &inc, &exc));
	CHECK_EQ_INT(ok, 1);
	snprintf(dir, sizeof(dir), "%s/x", t_tmpdir());
	CHECK_OK(extract_package(pk, dir, &xr, msg, sizeof(msg)));
	CHECK_EQ_INT(xr.records, res.included);
	CHECK_EQ_INT(xr.decrypted, 0);          /* the kit's deliveries are clear */
	CHECK_EQ_INT(xr.pcaps, 2);              /* the call and the IPCC session */
	CHECK_EQ_INT(xr.wavs, 2);               /* the call's two RTP streams */
	CHECK_EQ_INT(xr.rtp, 20);
	CHECK_EQ_INT(xr.missing, 0);
	CHECK_EQ_INT(count_files(dir, ".wav"), 2);
	CHECK_EQ_INT(count_files(dir, ".pcap"), 2);
	lacre_dbuf_init(&f, 1 << 24);
	snprintf(fp, sizeof(fp), "%s/extract.txt", dir);
	CHECK_OK(site_read_file(fp, 1 << 24, &f));
	CHECK(f.len > 17 && !memcmp(f.p, "lacre-extract/v1\n", 17));
	CHECK(memmem(f.p, f.len, "clear: the PDU as received", 26) != NULL);
	CHECK(memmem(f.p, f.len, "record 1 leaf ", 14) != NULL);
	lacre_dbuf_reset(&f);
	snprintf(fp, sizeof(fp), "%s/records.jsonl", dir);
	CHECK_OK(site_read_file(fp, 1 << 24, &f));
	{
		size_t lines = 0;
		for (size_t i = 0; i < f.len; i++)
			lines += f.p[i] == '\n';
		CHECK_EQ_INT(lines, res.included);
	}
	lacre_dbuf_free(&f);
	/* the folder exists now: refused, nothing changed, no leftover */
	CHECK_EQ_INT(extract_package(pk, dir, &xr, msg, sizeof(msg)), LACRE_E_EXISTS);
	CHECK(strstr(msg, "must not exist") != NULL);
	CHECK_EQ_INT(count_files(dir, ".wav"), 2);
	package_free(pk);
}

/* nftw callback: remove one file or folder (deepest first). */
static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

/* A site of the layout before issue 15: its ingest log holds a leaf per
 * record, then a v1 "segment closed" entry per segment.  Made from a fresh
 * site by replacing its log (state and objects) with one written that way,
 * with the same key.  Its records are proven by their own leaves: the
 * export writes no segment proof, the manifest's leaf is the record's, and
 * the package verifies - old sites and old packages keep working. */
static void test_v1_site(void)
{
	struct kit_recs *rs = calloc(1, sizeof(*rs));
	struct receipts_index *ix = NULL;
	struct lacre_store *st = NULL;
	struct note_signer *key = NULL;
	struct tlog *log = NULL;
	struct export_opts o;
	struct export_result res;
	struct package *pk = NULL;
	struct lacre_dbuf e;
	char path[SITE_PATH_MAX + 32], state[SITE_PATH_MAX], origin[NOTE_NAME_MAX + 1];
	char prefix[TLOG_PREFIX_MAX], tdir[SITE_PATH_MAX + TLOG_PREFIX_MAX + 16], msg[512];
	char done[8][LACRE_STORE_NAME_MAX + 1];
	size_t ndone = 0;
	uint64_t logged = 0;
	int ok = 0;
	uint64_t inc = 0, exc = 0;

	CHECK(rs != NULL);
	CHECK_OK(make_site());
	CHECK_OK(lacre_store_open(kit_site.cfg.backend, &st));
	CHECK_OK(kit_read(st, wid, 0, rs, NULL));
	CHECK(rs->n > 0);
	CHECK_OK(receipts_index_open(&kit_site, st, &ix, msg, sizeof(msg)));
	/* the old log: remove the state (but the vkey) and the log's objects */
	CHECK_OK(seal_sink_log_origin(&kit_site, origin, sizeof(origin)));
	CHECK_OK(tlog_prefix(origin, prefix, sizeof(prefix)));
	CHECK_OK(site_path(&kit_site, "ledger/ingest", state, sizeof(state)));
	{
		static const char *const f[] = { "entries", "state", "checkpoint", "pending" };
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", state, f[i]);
			unlink(path);
		}
	}
	snprintf(tdir, sizeof(tdir), "%s/objects/%s", kit_site.dir, prefix);
	CHECK(nftw(tdir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
	CHECK_OK(site_log_key(&kit_site, "ledger/ingest.key", origin, &key));
	CHECK_OK(tlog_open(st, state, origin, key, &log));
	lacre_dbuf_init(&e, 1024);
	/* per segment (in read order): its commitments in record order, then
	 * its v1 entry (the v2 entry's fields up to the fingerprint) */
	for (size_t i = 0; i < rs->n; i++) {
		const struct tlog_segment *seg;
		size_t k, n = 0;
		for (k = 0; k < ndone; k++)
			if (!strcmp(done[k], rs->v[i].segment))
				break;
		if (k < ndone)
			continue;
		CHECK(ndone < 8);
		snprintf(done[ndone++], sizeof(done[0]), "%s", rs->v[i].segment);
		CHECK_OK(receipts_index_segment(ix, rs->v[i].segment, NULL, NULL, &seg));
		for (uint64_t idx = 0; idx < seg->records; idx++)
			for (size_t j = 0; j < rs->n; j++)
				if (!strcmp(rs->v[j].segment, rs->v[i].segment) && rs->v[j].index == idx) {
					CHECK_OK(tlog_append(log, rs->v[j].commitment, 32, NULL));
					n++;
				}
		CHECK_EQ_INT(n, seg->records);     /* the warrant's segments hold only its records */
		lacre_dbuf_reset(&e);
		CHECK_OK(tlog_segment_encode(seg, &e));
		e.p[15] = '1';
		CHECK_OK(tlog_append(log, e.p, e.len - 40, NULL));
		logged += n;
	}
	CHECK_OK(tlog_checkpoint(log, NULL));
	tlog_close(log);
	note_signer_free(key);
	receipts_index_free(ix);
	ix = NULL;
	lacre_dbuf_free(&e);
	/* the readers see the v1 log: each record by its own leaf */
	CHECK_OK(receipts_index_open(&kit_site, st, &ix, msg, sizeof(msg)));
	CHECK_EQ_INT(receipts_index_tree(ix, 0)->size, logged + ndone);
	CHECK_EQ_INT(receipts_index_segment(ix, rs->v[0].segment, NULL, NULL, NULL), LACRE_E_NOT_FOUND);
	{
		uint64_t leaf;
		CHECK_OK(receipts_index_find(ix, rs->v[0].commitment, NULL, &leaf));
	}
	receipts_index_free(ix);
	lacre_store_close(st);
	opts(&o, "v1.age", path, sizeof(path));
	o.no_media = 1;
	o.access_report = "lacre-access-report/v1\nentry 0 test access report\n";
	CHECK_OK(xrun(&o, &res, msg, sizeof(msg)));
	CHECK_EQ_INT(res.records, rs->n);
	CHECK_EQ_INT(res.unlogged, 0);
	CHECK_EQ_INT(res.log_size, logged + ndone);
	CHECK_OK(open_pkg(path, &pk));
	CHECK(member_has(pk, "records/00000001.tlog-proof", "c2sp.org/tlog-proof@v1\n"));
	CHECK(!member_has(pk, "records/00000001.segment-proof", NULL));
	CHECK_OK(verify_pkg(pk, res.export_vkey, &ok, &inc, &exc));
	CHECK_EQ_INT(ok, 1);
	CHECK_EQ_INT(inc, rs->n);
	package_free(pk);
	free(rs);
}

int main(void)
{
	RUN(test_exclusion_parse);
	RUN(test_full_package);
	RUN(test_party_copy);
	RUN(test_refusals);
	RUN(test_record_receipt);
	RUN(test_access_report_absent);
	RUN(test_altered_package);
	RUN(test_unlogged_and_events);
	RUN(test_extract_package);
	RUN(test_v1_site);
	keystore_close(kit_ks);
	return t_done();
}
