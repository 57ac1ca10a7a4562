/*
 * status.c - the running receiver's live figures in the Prometheus text
 * exposition format (include/lacre/ingest_status.h); status_parse.c reads
 * them back for `lacre status`.
 *
 * Counters end in _total and never go down while the receiver runs (the
 * stream counters include expired streams: ingest_acct_totals); gauges are
 * states (connections open, spool depth, backend up).  The receiver's
 * figures are every worker's added up (worker.c: as each published them,
 * at most 100 ms ago), plus one line per worker.  Written from the lead
 * worker's event loop once a second: a few dozen lines, no per-stream
 * detail, so the cost does not grow with the number of intercepts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/ingest_status.h"
#include "ingest/server_int.h"

/* The receiver's resident memory and the part of it in transparent huge
 * pages (/proc/self/smaps_rollup's Rss and AnonHugePages, in kB: a copy
 * of what the kernel counts, not an estimate; the kernel walks the page
 * tables for it: about 1 ms for 300 MB of 4 KiB pages, once a second).
 * Both 0 when the file cannot be read. */
static void mem_figures(uint64_t *rss, uint64_t *huge)
{
	char line[256];
	unsigned long long kb;
	FILE *f = fopen("/proc/self/smaps_rollup", "re");

	*rss = *huge = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Rss: %llu kB", &kb) == 1)
			*rss = (uint64_t)kb * 1024;
		else if (sscanf(line, "AnonHugePages: %llu kB", &kb) == 1)
			*huge = (uint64_t)kb * 1024;
	}
	fclose(f);
}

/* One metric family: HELP and TYPE lines, then its samples. */
static int fam(struct lacre_dbuf *o, const char *name, const char *type, const char *help)
{
	return lacre_dbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int val(struct lacre_dbuf *o, const char *name, const char *labels, uint64_t v)
{
	if (labels && labels[0])
		return lacre_dbuf_printf(o, "%s{%s} %llu\n", name, labels, (unsigned long long)v);
	return lacre_dbuf_printf(o, "%s %llu\n", name, (unsigned long long)v);
}

/* A family with one sample and no labels. */
static int one(struct lacre_dbuf *o, const char *name, const char *type, const char *help,
	       uint64_t v)
{
	int r = fam(o, name, type, help);
	return r != LACRE_OK ? r : val(o, name, NULL, v);
}

int ingest_status_prom(const struct ingest_server *s, const struct seal_sink_stats *vault,
		       int64_t started_us, int64_t now_us, struct lacre_dbuf *out)
{
	struct ingest_stream_stats t;
	struct ingest_integrity_stats is;
	struct srv_pub p, one_w;
	size_t streams = 0, held = 0;
	uint64_t rss, huge;
	char lab[32];
	int r = LACRE_OK;

	if (!s || !out)
		return LACRE_E_INVALID;
	srv_pub_sum(s, &p);
	srv_acct_lock(s);
	ingest_acct_totals(s->acct, &t, &streams);
	ingest_acct_integrity(s->acct, &is);
	held = ingest_acct_held(s->acct);
	srv_acct_unlock(s);
#define TRY(x) do { if ((r = (x)) != LACRE_OK) return r; } while (0)
	TRY(lacre_dbuf_printf(out, "# lacre receiver status (docs/cmd-status.md)\n"));
	TRY(fam(out, "lacre_status_time_seconds", "gauge", "when the receiver wrote this file (Unix time)"));
	TRY(lacre_dbuf_printf(out, "lacre_status_time_seconds %.3f\n", (double)now_us / 1e6));
	TRY(fam(out, "lacre_ingest_start_time_seconds", "gauge", "when the receiver started (Unix time)"));
	TRY(lacre_dbuf_printf(out, "lacre_ingest_start_time_seconds %.3f\n", (double)started_us / 1e6));
	TRY(one(out, "lacre_ingest_pid", "gauge", "process id of the receiver", (uint64_t)getpid()));
	TRY(one(out, "lacre_ingest_connections_open", "gauge", "handover connections open now", p.n_conns));
	TRY(one(out, "lacre_ingest_connections_total", "counter", "handover connections accepted", p.st.accepted));
	TRY(fam(out, "lacre_ingest_connections_refused_total", "counter", "connections refused, by limit"));
	TRY(val(out, "lacre_ingest_connections_refused_total", "reason=\"per_peer_limit\"", p.st.refused_peer));
	TRY(val(out, "lacre_ingest_connections_refused_total", "reason=\"total_limit\"", p.st.refused_total));
	TRY(val(out, "lacre_ingest_connections_refused_total", "reason=\"not_allowed\"", p.st.refused_allow));
	TRY(fam(out, "lacre_ingest_connections_closed_total", "counter", "connections closed, by cause"));
	TRY(val(out, "lacre_ingest_connections_closed_total", "cause=\"by_peer\"", p.st.closed_eof));
	TRY(val(out, "lacre_ingest_connections_closed_total", "cause=\"malformed\"", p.st.closed_malformed));
	TRY(val(out, "lacre_ingest_connections_closed_total", "cause=\"idle\"", p.st.closed_idle));
	TRY(val(out, "lacre_ingest_connections_closed_total", "cause=\"slow\"", p.st.closed_slow));
	TRY(val(out, "lacre_ingest_connections_closed_total", "cause=\"tls\"", p.st.closed_tls));
	TRY(val(out, "lacre_ingest_connections_closed_total", "cause=\"error\"", p.st.closed_error));
	TRY(val(out, "lacre_ingest_connections_closed_total", "cause=\"sink\"", p.st.closed_sink));
	TRY(one(out, "lacre_ingest_pdus_total", "counter", "PS-PDUs received", p.st.pdus));
	TRY(one(out, "lacre_ingest_records_total", "counter", "PDUs the sink took (sealed or spooled)", p.st.records));
	TRY(one(out, "lacre_ingest_bytes_total", "counter", "PDU bytes received", p.st.bytes));
	TRY(one(out, "lacre_ingest_malformed_pdus_total", "counter", "PDUs that did not decode (kept, quarantined)", p.st.decode_errors));
	TRY(one(out, "lacre_ingest_partially_decoded_total", "counter", "PDUs decoded in part (kept, flagged)", p.st.partial));
	TRY(one(out, "lacre_ingest_keepalives_total", "counter", "keep-alives answered", p.st.keepalives));
	TRY(one(out, "lacre_ingest_streams", "gauge", "IRI and CC streams followed now", streams));
	TRY(one(out, "lacre_ingest_stream_gaps_total", "counter", "gaps in sequence numbers", t.gaps));
	TRY(one(out, "lacre_ingest_stream_missing_total", "counter", "sequence numbers never received", t.missing));
	TRY(one(out, "lacre_ingest_stream_duplicates_total", "counter", "duplicate PDUs", t.duplicates));
	TRY(one(out, "lacre_ingest_stream_resets_total", "counter", "cINResets", t.resets));
	TRY(one(out, "lacre_ingest_stream_restarts_total", "counter", "numbering restarts without a reset", t.restarts));
	TRY(one(out, "lacre_ingest_stream_late_total", "counter", "PDUs that arrived after a later number", t.late));
	TRY(fam(out, "lacre_ingest_integrity_total", "counter", "integrity-check verdicts"));
	TRY(val(out, "lacre_ingest_integrity_total", "check=\"hash\",verdict=\"verified\"", is.hash_ok));
	TRY(val(out, "lacre_ingest_integrity_total", "check=\"hash\",verdict=\"mismatch\"", is.hash_mismatch));
	TRY(val(out, "lacre_ingest_integrity_total", "check=\"hash\",verdict=\"missing\"", is.hash_missing));
	TRY(val(out, "lacre_ingest_integrity_total", "check=\"hash\",verdict=\"unsupported\"", is.hash_unknown_alg));
	TRY(val(out, "lacre_ingest_integrity_total", "check=\"signature\",verdict=\"verified\"", is.sig_ok));
	TRY(val(out, "lacre_ingest_integrity_total", "check=\"signature\",verdict=\"bad\"", is.sig_bad));
	TRY(val(out, "lacre_ingest_integrity_total", "check=\"signature\",verdict=\"unchecked\"", is.sig_unchecked));
	TRY(one(out, "lacre_ingest_integrity_held", "gauge", "hash checks waiting for the PDUs they list", held));
	TRY(fam(out, "lacre_ingest_encrypted_total", "counter", "EncryptionContainer PDUs, by outcome"));
	TRY(val(out, "lacre_ingest_encrypted_total", "outcome=\"decrypted\"", p.st.decrypted));
	TRY(val(out, "lacre_ingest_encrypted_total", "outcome=\"undecryptable\"", p.st.undecryptable));
	TRY(one(out, "lacre_ingest_bytecounter_breaks_total", "counter", "byteCounter chain breaks", p.st.bctr_breaks));
	TRY(one(out, "lacre_ingest_backpressure_pauses_total", "counter", "times reading paused for want of spool space", p.st.pauses));
	TRY(one(out, "lacre_ingest_backpressure_paused_milliseconds_total", "counter", "time reading was paused", p.st.paused_ms));
	TRY(one(out, "lacre_ingest_paused", "gauge", "1 while reading is paused for want of spool space", p.paused ? 1 : 0));
	TRY(one(out, "lacre_ingest_memory_budget_bytes", "gauge", "the budget of incomplete and held PDUs (limits.memory_budget)", s->cfg.memory_budget));
	TRY(one(out, "lacre_ingest_memory_in_use_bytes", "gauge", "incomplete PDUs' buffers now", p.mem_pend));
	TRY(one(out, "lacre_ingest_memory_refusals_total", "counter", "incomplete PDUs refused to keep within the budget", p.st.budget_refusals));
	mem_figures(&rss, &huge);
	TRY(one(out, "lacre_ingest_memory_resident_bytes", "gauge", "the receiver's resident memory (all of it)", rss));
	TRY(one(out, "lacre_ingest_memory_huge_bytes", "gauge", "the part of the resident memory in transparent huge pages", huge));
	/* one line per worker (lib/ingest/worker.c): how the load spreads */
	TRY(one(out, "lacre_ingest_workers", "gauge", "event loops (threads) receiving", s->n_wk ? s->n_wk : 1));
	TRY(fam(out, "lacre_ingest_worker_connections_open", "gauge", "handover connections open now, by worker"));
	for (unsigned i = 0; i < s->n_wk; i++) {
		srv_pub_get(s, i, &one_w);
		snprintf(lab, sizeof(lab), "worker=\"%u\"", i);
		TRY(val(out, "lacre_ingest_worker_connections_open", lab, one_w.n_conns));
	}
	TRY(fam(out, "lacre_ingest_worker_pdus_total", "counter", "PS-PDUs received, by worker"));
	for (unsigned i = 0; i < s->n_wk; i++) {
		srv_pub_get(s, i, &one_w);
		snprintf(lab, sizeof(lab), "worker=\"%u\"", i);
		TRY(val(out, "lacre_ingest_worker_pdus_total", lab, one_w.st.pdus));
	}
	if (vault) {
		TRY(one(out, "lacre_seal_records_total", "counter", "records sealed", vault->records));
		TRY(fam(out, "lacre_seal_routed_total", "counter", "records sealed, by destination"));
		TRY(val(out, "lacre_seal_routed_total", "route=\"warrant\"", vault->routed));
		TRY(val(out, "lacre_seal_routed_total", "route=\"quarantine\"", vault->quarantined));
		TRY(one(out, "lacre_seal_late_deliveries_total", "counter", "records delivered after their warrant ended (L3/L4)", vault->late));
		TRY(one(out, "lacre_seal_events_total", "counter", "accounting events sealed", vault->events));
		TRY(one(out, "lacre_seal_segments_total", "counter", "segments closed", vault->segments));
		TRY(one(out, "lacre_ledger_size", "gauge", "entries in the ingest log", vault->log_size));
		TRY(one(out, "lacre_ledger_signed_size", "gauge", "entries under a signed checkpoint", vault->signed_size));
		TRY(one(out, "lacre_spool_unsigned_segments", "gauge", "closed segments waiting for a signed checkpoint", vault->unsigned_segments));
		TRY(one(out, "lacre_spool_upload_files", "gauge", "segments waiting for the backend", vault->upload_files));
		TRY(one(out, "lacre_spool_upload_bytes", "gauge", "bytes waiting for the backend", vault->upload_bytes));
		TRY(one(out, "lacre_backend_up", "gauge", "0 when the uploader's last attempt failed", vault->backend_down ? 0 : 1));
		TRY(one(out, "lacre_spool_full", "gauge", "1 while records are refused for want of spool space", vault->spool_full ? 1 : 0));
		TRY(one(out, "lacre_spool_refused_total", "counter", "records refused for want of spool space (held, retried)", vault->refused_full));
		TRY(one(out, "lacre_seal_closing_segments", "gauge", "retired segments waiting for the closer (final chunk, fsync)", vault->closing));
		TRY(one(out, "lacre_seal_closer_behind", "gauge", "1 while records are refused because too many segments wait for the closer", vault->closer_behind ? 1 : 0));
		TRY(one(out, "lacre_seal_closer_refused_total", "counter", "records refused while the closer was behind (held, retried)", vault->refused_closer));
		TRY(one(out, "lacre_recovery_lost_records_total", "counter", "records named lost in open segments at the last start", vault->lost_records));
		/* logged latency: receipt of a segment's oldest record to the
		 * first published (cosigned) checkpoint covering its leaf */
		TRY(fam(out, "lacre_ingest_logged_latency_seconds", "gauge",
			"oldest record to the first published cosigned checkpoint covering its segment"));
		TRY(lacre_dbuf_printf(out, "lacre_ingest_logged_latency_seconds{stat=\"max_1m\"} %.3f\n",
				      (double)vault->logged_max_us / 1e6));
		TRY(lacre_dbuf_printf(out, "lacre_ingest_logged_latency_seconds{stat=\"last\"} %.3f\n",
				      (double)vault->logged_last_us / 1e6));
		TRY(one(out, "lacre_ingest_logged_segments_total", "counter", "segments seen under a published checkpoint", vault->logged_segments));
		TRY(fam(out, "lacre_ingest_unlogged_oldest_age_seconds", "gauge",
			"age of the oldest record not yet under a published checkpoint (0: none)"));
		TRY(lacre_dbuf_printf(out, "lacre_ingest_unlogged_oldest_age_seconds %.3f\n",
				      (double)vault->unlogged_oldest_us / 1e6));
	}
#undef TRY
	return r;
}

int ingest_status_write(const struct ingest_server *s, const struct seal_sink_stats *vault,
			int64_t started_us, int64_t now_us, const char *path)
{
	struct lacre_dbuf d;
	char tmp[4200];
	size_t off = 0;
	int fd = -1, r;

	if (!path || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return LACRE_E_TOO_LARGE;
	lacre_dbuf_init(&d, 1 << 20);
	if ((r = ingest_status_prom(s, vault, started_us, now_us, &d)) != LACRE_OK)
		goto out;
	r = LACRE_E_IO;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		goto out;
	while (off < d.len) {
		ssize_t w = write(fd, d.p + off, d.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	/* no fsync: a status is current or absent, never evidence */
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	r = LACRE_OK;
out:
	if (fd >= 0)
		close(fd);
	if (r != LACRE_OK)
		(void)unlink(tmp);
	lacre_dbuf_free(&d);
	return r;
}
