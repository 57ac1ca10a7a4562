/*
 * test_bctr_state.c - the byteCounter chains persisted with the stream
 * state (docs/FORMATS.md §12, section BCTR): a clean restart continues
 * every chain (no false break, a gap spanning the stop reported with its
 * bytes), a crash names the bytes that may be lost, a file written before
 * the section existed still loads, and a bad section is refused whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_crypt.h"
#include "lacre/ingest.h"

/* Events seen, concatenated with newlines. */
static struct lacre_dbuf evs;

/* The accounting's event callback: remember the event. */
static void on_ev(void *arg, const char *json)
{
	(void)arg;
	lacre_dbuf_add(&evs, json, strlen(json));
	lacre_dbuf_add(&evs, "\n", 1);
}

/* Occurrences of needle in the events. */
static int ev_count(const char *needle)
{
	const char *cs;
	int n = 0;

	if (lacre_dbuf_cstr(&evs, &cs) != LACRE_OK)
		return -1;
	for (const char *p = cs; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* A decoded PDU carrying only what the tracker reads. */
static void fake(struct etsi_pdu *p, const char *liid, uint32_t start, uint32_t count)
{
	memset(p, 0, sizeof(*p));
	p->liid.p = (const uint8_t *)liid;
	p->liid.len = strlen(liid);
	p->has_byte_counter = 1;
	p->byte_counter = (uint64_t)start << 32 | count;
}

/* Account one PDU of liid (start, count, len) on tracker b; the verdict. */
static int acc(struct etsi_bctr *b, const char *liid, uint32_t start, uint32_t count, size_t len)
{
	struct etsi_pdu p;
	uint64_t want = 0, got = 0;

	fake(&p, liid, start, count);
	return etsi_bctr_account(b, &p, len, &want, &got);
}

struct gaps {
	unsigned n;
	uint64_t from, to;
	char liid[16];
};

/* etsi_bctr_finish callback: remember the last gap. */
static void on_gap(void *arg, const uint8_t *liid, size_t len, uint64_t from, uint64_t to)
{
	struct gaps *g = arg;

	g->n++;
	g->from = from;
	g->to = to;
	snprintf(g->liid, sizeof(g->liid), "%.*s", (int)len, (const char *)liid);
}

/* A receiver: accounting and its two trackers. */
struct rx {
	struct ingest_acct *a;
	struct etsi_bctr b[2];
};

/* Start a receiver; with bctr = 0 the trackers are not persisted (as a
 * build before the section would write). */
static void rx_new(struct rx *r, int bctr)
{
	etsi_bctr_init(&r->b[0], 64);
	etsi_bctr_init(&r->b[1], 64);
	CHECK_OK(ingest_acct_new(1u << 20, on_ev, NULL, &r->a));
	if (bctr)
		ingest_acct_set_bctr(r->a, &r->b[0], &r->b[1]);
}

/* Stop a receiver. */
static void rx_free(struct rx *r)
{
	ingest_acct_free(r->a);
	etsi_bctr_free(&r->b[0]);
	etsi_bctr_free(&r->b[1]);
}

/* Read a whole small file. */
static int slurp(const char *path, struct lacre_dbuf *out)
{
	uint8_t buf[4096];
	size_t k;
	FILE *fp = fopen(path, "rb");

	if (!fp)
		return -1;
	while ((k = fread(buf, 1, sizeof(buf), fp)) > 0)
		lacre_dbuf_add(out, buf, k);
	fclose(fp);
	return 0;
}

/* Write d to path with its trailing SHA-256 recomputed (well sealed, bad content). */
static int spill_sealed(const char *path, struct lacre_dbuf *d)
{
	FILE *fp;
	unsigned dl = 0;

	if (d->len < 32 || EVP_Digest(d->p, d->len - 32, d->p + d->len - 32, &dl, EVP_sha256(), NULL) != 1)
		return -1;
	if (!(fp = fopen(path, "wb")))
		return -1;
	if (fwrite(d->p, 1, d->len, fp) != d->len) {
		fclose(fp);
		return -1;
	}
	return fclose(fp);
}

/* Save at a clean stop, restart, continue: the chains go on (no FIRST, no
 * break); a gap held open at the stop is filled by a PDU after the
 * restart; a gap that spans the stop is reported with its bytes; HI2 and
 * HI3 stay apart; a sender restart across the stop is a RESTART. */
static void test_roundtrip_and_gap_across_restart(void)
{
	struct rx r;
	struct gaps g;
	char path[4200], why[160];

	snprintf(path, sizeof(path), "%s/streams.state", t_tmpdir());
	lacre_dbuf_init(&evs, 1u << 20);
	rx_new(&r, 1);
	CHECK_EQ_INT(acc(&r.b[1], "A", 100, 0, 50), ETSI_BCTR_FIRST);
	CHECK_EQ_INT(acc(&r.b[1], "A", 100, 50, 30), ETSI_BCTR_OK);
	CHECK_EQ_INT(acc(&r.b[1], "A", 100, 110, 10), ETSI_BCTR_OK);   /* 80..110 open */
	CHECK_EQ_INT(acc(&r.b[1], "B", 7, 0, 100), ETSI_BCTR_FIRST);
	CHECK_EQ_INT(acc(&r.b[1], "S", 9, 0, 40), ETSI_BCTR_FIRST);
	CHECK_EQ_INT(acc(&r.b[0], "A", 100, 0, 20), ETSI_BCTR_FIRST);
	CHECK_OK(ingest_acct_save(r.a, path, 1));
	rx_free(&r);

	lacre_dbuf_reset(&evs);
	rx_new(&r, 1);
	CHECK_OK(ingest_acct_load(r.a, path, why, sizeof(why)));
	CHECK_EQ_INT(ev_count("bytecounter-unkept-at-restart"), 0);  /* a clean stop */
	/* A: the open gap fills after the restart, then the chain goes on */
	CHECK_EQ_INT(acc(&r.b[1], "A", 100, 80, 30), ETSI_BCTR_OK);
	CHECK_EQ_INT(acc(&r.b[1], "A", 100, 120, 5), ETSI_BCTR_OK);
	/* bytes counted before the stop, sent again: a break, not a FIRST */
	CHECK_EQ_INT(acc(&r.b[1], "A", 100, 50, 30), ETSI_BCTR_BREAK);
	/* B: 100..160 never arrives (lost across the restart) */
	CHECK_EQ_INT(acc(&r.b[1], "B", 7, 160, 10), ETSI_BCTR_OK);
	/* S: the sender restarted while the receiver was down */
	CHECK_EQ_INT(acc(&r.b[1], "S", 10, 0, 40), ETSI_BCTR_RESTART);
	/* HI2's chain of A is its own, at 20 */
	CHECK_EQ_INT(acc(&r.b[0], "A", 100, 20, 20), ETSI_BCTR_OK);
	memset(&g, 0, sizeof(g));
	CHECK_EQ_INT(etsi_bctr_finish(&r.b[1], on_gap, &g), 1);
	CHECK_STR(g.liid, "B");
	CHECK_EQ_INT(g.from, 100);
	CHECK_EQ_INT(g.to, 160);
	CHECK_EQ_INT(etsi_bctr_finish(&r.b[0], on_gap, &g), 0);
	rx_free(&r);
	lacre_dbuf_free(&evs);
}

/* Without persistence (the old behaviour) the same restart hides the gap:
 * the check above can fail. */
static void test_without_section_first_again(void)
{
	struct rx r;
	struct gaps g;
	char path[4200], why[160];

	snprintf(path, sizeof(path), "%s/streams.state", t_tmpdir());
	lacre_dbuf_init(&evs, 1u << 20);
	rx_new(&r, 0);                             /* writes no BCTR section */
	CHECK_EQ_INT(acc(&r.b[1], "B", 7, 0, 100), ETSI_BCTR_FIRST);
	CHECK_OK(ingest_acct_save(r.a, path, 1));
	rx_free(&r);

	/* a file of before the section loads; every chain starts afresh */
	rx_new(&r, 1);
	CHECK_OK(ingest_acct_load(r.a, path, why, sizeof(why)));
	CHECK_EQ_INT(acc(&r.b[1], "B", 7, 160, 10), ETSI_BCTR_FIRST);
	memset(&g, 0, sizeof(g));
	CHECK_EQ_INT(etsi_bctr_finish(&r.b[1], on_gap, &g), 1);
	CHECK_EQ_INT(g.from, 0);                   /* not 100: the chain was cut */
	rx_free(&r);
	lacre_dbuf_free(&evs);
}

/* A crash: the last save named as surely sealed only the frontier of the
 * mark before the last; the next start names the bytes beyond it (up to
 * the top of the chain, held intervals included) in one alert per chain. */
static void test_unkept_after_crash(void)
{
	struct rx r;
	char path[4200], why[160];

	snprintf(path, sizeof(path), "%s/streams.state", t_tmpdir());
	lacre_dbuf_init(&evs, 1u << 20);
	rx_new(&r, 1);
	acc(&r.b[1], "K", 5, 0, 100);
	ingest_acct_mark(r.a);                     /* remembers 100 */
	acc(&r.b[1], "K", 5, 100, 50);
	ingest_acct_mark(r.a);                     /* 100 surely sealed, remembers 150 */
	acc(&r.b[1], "K", 5, 150, 50);
	acc(&r.b[1], "K", 5, 260, 40);             /* held: 200..260 open */
	acc(&r.b[0], "N", 5, 0, 30);               /* born after the marks */
	CHECK_OK(ingest_acct_save(r.a, path, 0));  /* the last save before a crash */
	rx_free(&r);

	lacre_dbuf_reset(&evs);
	rx_new(&r, 1);
	CHECK_OK(ingest_acct_load(r.a, path, why, sizeof(why)));
	CHECK_EQ_INT(ev_count("\"event\":\"bytecounter-unkept-at-restart\""), 2);
	CHECK_EQ_INT(ev_count("\"event\":\"bytecounter-unkept-at-restart\",\"listener\":\"hi3\",\"liid\":\"K\","
	                      "\"from\":100,\"to\":300,"), 1);
	CHECK_EQ_INT(ev_count("\"event\":\"bytecounter-unkept-at-restart\",\"listener\":\"hi2\",\"liid\":\"N\","
	                      "\"from\":0,\"to\":30,"), 1);
	/* the chain still continues from where the previous run counted */
	CHECK_EQ_INT(acc(&r.b[1], "K", 5, 200, 60), ETSI_BCTR_OK);
	CHECK_EQ_INT(etsi_bctr_finish(&r.b[1], NULL, NULL), 0);
	/* saved as a clean stop: nothing named at the next start */
	CHECK_OK(ingest_acct_save(r.a, path, 1));
	rx_free(&r);
	lacre_dbuf_reset(&evs);
	rx_new(&r, 1);
	CHECK_OK(ingest_acct_load(r.a, path, why, sizeof(why)));
	CHECK_EQ_INT(ev_count("bytecounter-unkept-at-restart"), 0);
	rx_free(&r);
	lacre_dbuf_free(&evs);
}

/* A well-sealed file whose section is bad is refused whole (nothing
 * loaded, the reason named); the layout is the one FORMATS §12 gives. */
static void test_bad_section(void)
{
	struct rx r;
	struct lacre_dbuf good, bad;
	char path[4200], why[160];
	size_t sec;

	snprintf(path, sizeof(path), "%s/streams.state", t_tmpdir());
	lacre_dbuf_init(&evs, 1u << 20);
	lacre_dbuf_init(&good, 1u << 20);
	lacre_dbuf_init(&bad, 1u << 20);
	rx_new(&r, 1);
	acc(&r.b[1], "LIB", 3, 0, 10);
	acc(&r.b[1], "LIB", 3, 20, 5);             /* one held interval */
	CHECK_OK(ingest_acct_save(r.a, path, 1));
	rx_free(&r);
	CHECK(slurp(path, &good) == 0);
	/* header 20, no stream; "BCTR" 1; hi2: n 0; hi3: n 1, liid_len 2 + 3,
	 * flags 1, start 4, frontier 8, kept 8, n_held 1, 16; SHA-256 */
	CHECK_EQ_INT(good.len, 20 + 5 + 4 + 4 + 2 + 3 + 1 + 4 + 8 + 8 + 1 + 16 + 32);
	sec = 20;
	CHECK(memcmp(good.p + sec, "BCTR\x01", 5) == 0);
	CHECK_EQ_INT(good.p[sec + 5 + 4 + 3], 1);              /* hi3 holds one LIID */
	CHECK_EQ_INT(good.p[sec + 5 + 8 + 2 + 3 + 1 + 4 + 7], 10);  /* frontier 10 */

	/* an unknown section */
	lacre_dbuf_add(&bad, good.p, good.len);
	memcpy(bad.p + sec, "XXXX", 4);
	CHECK(spill_sealed(path, &bad) == 0);
	rx_new(&r, 1);
	CHECK_EQ_INT(ingest_acct_load(r.a, path, why, sizeof(why)), LACRE_E_CORRUPT);
	CHECK(strstr(why, "section") != NULL);
	/* an unknown version */
	lacre_dbuf_reset(&bad);
	lacre_dbuf_add(&bad, good.p, good.len);
	bad.p[sec + 4] = 2;
	CHECK(spill_sealed(path, &bad) == 0);
	CHECK_EQ_INT(ingest_acct_load(r.a, path, why, sizeof(why)), LACRE_E_CORRUPT);
	CHECK(strstr(why, "version") != NULL);
	/* a held interval behind its frontier */
	lacre_dbuf_reset(&bad);
	lacre_dbuf_add(&bad, good.p, good.len);
	bad.p[good.len - 32 - 16 + 7] = 5;
	CHECK(spill_sealed(path, &bad) == 0);
	CHECK_EQ_INT(ingest_acct_load(r.a, path, why, sizeof(why)), LACRE_E_CORRUPT);
	CHECK(strstr(why, "byteCounter interval") != NULL);
	/* kept beyond the top of the chain (25) */
	lacre_dbuf_reset(&bad);
	lacre_dbuf_add(&bad, good.p, good.len);
	bad.p[sec + 5 + 8 + 2 + 3 + 1 + 4 + 8 + 7] = 26;
	CHECK(spill_sealed(path, &bad) == 0);
	CHECK_EQ_INT(ingest_acct_load(r.a, path, why, sizeof(why)), LACRE_E_CORRUPT);
	CHECK(strstr(why, "impossible") != NULL);
	/* cut short inside the section (and resealed) */
	lacre_dbuf_reset(&bad);
	lacre_dbuf_add(&bad, good.p, good.len - 32 - 3);
	lacre_dbuf_add(&bad, good.p, 32);
	CHECK(spill_sealed(path, &bad) == 0);
	CHECK_EQ_INT(ingest_acct_load(r.a, path, why, sizeof(why)), LACRE_E_CORRUPT);
	CHECK(strstr(why, "cut short") != NULL);
	/* a trailing byte after the section */
	lacre_dbuf_reset(&bad);
	lacre_dbuf_add(&bad, good.p, good.len - 32);
	lacre_dbuf_add(&bad, "\0", 1);
	lacre_dbuf_add(&bad, good.p, 32);
	CHECK(spill_sealed(path, &bad) == 0);
	CHECK_EQ_INT(ingest_acct_load(r.a, path, why, sizeof(why)), LACRE_E_CORRUPT);
	/* nothing of the refused files was loaded: LIB is FIRST */
	CHECK_EQ_INT(acc(&r.b[1], "LIB", 3, 25, 5), ETSI_BCTR_FIRST);
	rx_free(&r);
	/* and the good file still loads */
	CHECK(spill_sealed(path, &good) == 0);
	rx_new(&r, 1);
	CHECK_OK(ingest_acct_load(r.a, path, why, sizeof(why)));
	CHECK_EQ_INT(acc(&r.b[1], "LIB", 3, 10, 10), ETSI_BCTR_OK);
	CHECK_EQ_INT(etsi_bctr_finish(&r.b[1], NULL, NULL), 0);
	rx_free(&r);
	lacre_dbuf_free(&good);
	lacre_dbuf_free(&bad);
	lacre_dbuf_free(&evs);
}

/* Gaps declared and gaps left open by etsi_bctr_stop. */
struct stopped {
	struct gaps gap, open;
};

/* etsi_bctr_stop callback: a gap declared. */
static void on_stop_gap(void *arg, const uint8_t *liid, size_t len, uint64_t from, uint64_t to)
{
	on_gap(&((struct stopped *)arg)->gap, liid, len, from, to);
}

/* etsi_bctr_stop callback: a gap left open. */
static void on_stop_open(void *arg, const uint8_t *liid, size_t len, uint64_t from, uint64_t to)
{
	on_gap(&((struct stopped *)arg)->open, liid, len, from, to);
}

/* A clean stop with the chains saved: a gap reordering may still fill is
 * named open and kept (filled after the restart: no gap); one still open
 * at the end of the next run is declared; one behind more intervals than
 * a mediator reorders is declared at once. */
static void test_stop_open_then_declared(void)
{
	struct rx r;
	struct stopped st;
	char path[4200], why[160];

	snprintf(path, sizeof(path), "%s/streams.state", t_tmpdir());
	lacre_dbuf_init(&evs, 1u << 20);
	rx_new(&r, 1);
	acc(&r.b[1], "R", 1, 0, 10);
	acc(&r.b[1], "R", 1, 20, 10);              /* 10..20 open: a reorder? */
	acc(&r.b[1], "M", 1, 0, 10);
	for (uint32_t k = 0; k < ETSI_BCTR_REORDER_MAX + 1; k++)
		acc(&r.b[1], "M", 1, 20 + 10 * k, 10); /* 10..20 behind 9 intervals */
	memset(&st, 0, sizeof(st));
	CHECK_EQ_INT(etsi_bctr_stop(&r.b[1], on_stop_gap, on_stop_open, &st), 1);
	CHECK_EQ_INT(st.gap.n, 1);                 /* M declared */
	CHECK_STR(st.gap.liid, "M");
	CHECK_EQ_INT(st.gap.from, 10);
	CHECK_EQ_INT(st.gap.to, 20);
	CHECK_EQ_INT(st.open.n, 1);                /* R named open */
	CHECK_STR(st.open.liid, "R");
	CHECK_EQ_INT(st.open.from, 10);
	CHECK_EQ_INT(st.open.to, 20);
	/* a second LIID left open, then saved as a clean stop */
	acc(&r.b[1], "Q", 1, 0, 10);
	acc(&r.b[1], "Q", 1, 20, 10);
	memset(&st, 0, sizeof(st));
	CHECK_EQ_INT(etsi_bctr_stop(&r.b[1], on_stop_gap, on_stop_open, &st), 0);
	CHECK_EQ_INT(st.open.n, 2);                /* R and Q */
	CHECK_OK(ingest_acct_save(r.a, path, 1));
	rx_free(&r);

	/* the next run: R's bytes arrive, Q's never do */
	rx_new(&r, 1);
	CHECK_OK(ingest_acct_load(r.a, path, why, sizeof(why)));
	CHECK_EQ_INT(acc(&r.b[1], "R", 1, 10, 10), ETSI_BCTR_OK);
	CHECK_EQ_INT(acc(&r.b[1], "Q", 1, 30, 10), ETSI_BCTR_OK);
	CHECK_EQ_INT(acc(&r.b[1], "M", 1, 110, 10), ETSI_BCTR_OK);
	memset(&st, 0, sizeof(st));
	CHECK_EQ_INT(etsi_bctr_stop(&r.b[1], on_stop_gap, on_stop_open, &st), 1);
	CHECK_EQ_INT(st.gap.n, 1);
	CHECK_STR(st.gap.liid, "Q");
	CHECK_EQ_INT(st.gap.from, 10);
	CHECK_EQ_INT(st.gap.to, 20);
	CHECK_EQ_INT(st.open.n, 0);
	rx_free(&r);
	lacre_dbuf_free(&evs);
}

int main(void)
{
	RUN(test_roundtrip_and_gap_across_restart);
	RUN(test_without_section_first_again);
	RUN(test_unkept_after_crash);
	RUN(test_bad_section);
	RUN(test_stop_open_then_declared);
	return t_done();
}
