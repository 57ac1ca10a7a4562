/*
 * pcap.c - CC packets to a classic pcap file (include/lacre/pcap.h).  The
 * segments holding the warrant's CC records are found in the index and
 * decrypted in creation order (index_read: chunks verified, records matched
 * with their commitments); each record is decoded again from its own
 * bytes (record_pdu_decode: the pre-encryption form the receiver sealed
 * beside an encrypted PDU, else the PDU) and its packet copied out.  Records are written as sealed (arrival
 * order), which is time order per handover.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/pcap.h"
#include "lacre/record_pdu.h"
#include "lacre/rtp.h"

#define PCAP_FLUSH (1u << 20)

/* One CC record the index holds for the export. */
struct pcap_ref {
	uint32_t seg;
	uint64_t idx;
	uint8_t commitment[32];
};

struct pcap_ctx {
	struct pcap_ref *refs;   /* sorted by (seg, idx) */
	size_t n_refs, cap_refs, cur;
	char **segs;
	size_t n_segs;
	int fd;
	int has_cin;
	uint32_t cin;
	const struct calls_entry *calls;
	size_t n_calls;
	struct lacre_dbuf out;   /* pending file bytes */
	struct lacre_dbuf pkt;   /* one synthetic packet */
	struct pcap_report *rep;
	struct record_pdu view;  /* the record being decoded (record_pdu.h) */
	const struct access_skip *skip; /* records a party copy leaves out, or NULL */
	int err;
};

/* Write out the pending bytes. */
static int pcap_flush(struct pcap_ctx *x)
{
	size_t off = 0;
	ssize_t w;

	while (off < x->out.len) {
		w = write(x->fd, x->out.p + off, x->out.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return LACRE_E_IO;
		off += (size_t)w;
	}
	lacre_dbuf_reset(&x->out);
	return LACRE_OK;
}

/* The call that holds cin, or NULL. */
static const struct calls_entry *pcap_call(const struct pcap_ctx *x, uint32_t cin)
{
	for (size_t i = 0; i < x->n_calls; i++)
		for (size_t k = 0; k < x->calls[i].n_cins; k++)
			if (x->calls[i].type == CALLS_VOIP && x->calls[i].cins[k] == cin)
				return &x->calls[i];
	return NULL;
}

/* Synthetic addresses of one side of a call (SDP IPv4, else 192.0.2.x). */
static void pcap_addrs(const struct calls_entry *c, int side, uint8_t src[4], uint8_t dst[4],
		       uint16_t *sport, uint16_t *dport)
{
	uint8_t t[4] = { 192, 0, 2, 1 }, p[4] = { 192, 0, 2, 2 };
	uint16_t tp = 5004, pp = 5004;

	uint8_t ta[4], pa[4];

	if (c && inet_pton(AF_INET, c->target_media, ta) == 1 && inet_pton(AF_INET, c->peer_media, pa) == 1) {
		memcpy(t, ta, 4);
		memcpy(p, pa, 4);
		tp = (uint16_t)(c->target_port ? c->target_port : 5004);
		pp = (uint16_t)(c->peer_port ? c->peer_port : 5004);
	}
	if (side == CALLS_TO_TARGET) {
		memcpy(src, p, 4);
		memcpy(dst, t, 4);
		*sport = pp;
		*dport = tp;
	} else {
		memcpy(src, t, 4);
		memcpy(dst, p, 4);
		*sport = tp;
		*dport = pp;
	}
}

/* Order refs by segment number, then position. */
static int pcap_cmp_ref(const void *a, const void *b)
{
	const struct pcap_ref *x = a, *y = b;

	if (x->seg != y->seg)
		return x->seg < y->seg ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The CC records to export and their commitments, from the index (one
 * query instead of one lookup per record). */
static int pcap_plan(struct index *ix, const char *warrant, struct pcap_ctx *x)
{
	static const char q[] =
		"SELECT segment, idx, commitment FROM records WHERE warrant = ?1 AND kind = 'cc' "
		"AND (?2 IS NULL OR cin = ?2)";
	sqlite3_stmt *st = NULL;
	const char *prev = NULL;
	uint32_t seg = 0;
	int rc, r = LACRE_E_DB;

	if (sqlite3_prepare_v2(index_db(ix), q, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
	if (x->has_cin)
		sqlite3_bind_int64(st, 2, x->cin);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		struct pcap_ref *k;

		if (!name || sqlite3_column_bytes(st, 2) != 32)
			goto out;
		if (!prev || strcmp(prev, name)) {
			for (seg = 0; seg < x->n_segs && strcmp(x->segs[seg], name); seg++)
				;
			if (seg == x->n_segs) {
				r = LACRE_OK;   /* a segment not opened: nothing to read there */
				continue;
			}
			prev = x->segs[seg];
		}
		if (x->n_refs == x->cap_refs) {
			size_t nc = x->cap_refs ? x->cap_refs * 2 : 1024;
			struct pcap_ref *nv = realloc(x->refs, nc * sizeof(*nv));
			if (!nv) {
				r = LACRE_E_NOMEM;
				goto out;
			}
			x->refs = nv;
			x->cap_refs = nc;
		}
		k = &x->refs[x->n_refs++];
		k->seg = seg;
		k->idx = (uint64_t)sqlite3_column_int64(st, 1);
		memcpy(k->commitment, sqlite3_column_blob(st, 2), 32);
	}
	if (rc != SQLITE_DONE)
		goto out;
	if (x->n_refs)
		qsort(x->refs, x->n_refs, sizeof(*x->refs), pcap_cmp_ref);
	r = LACRE_OK;
out:
	sqlite3_finalize(st);
	return r;
}

/* A planned record's commitment, or NULL when a party copy leaves it out
 * (counted). */
static const uint8_t *pcap_keep(struct pcap_ctx *x, const char *segment, uint64_t idx,
				const uint8_t *commitment)
{
	if (x->skip && x->skip->fn(x->skip->arg, segment, idx)) {
		x->rep->excluded++;
		return NULL;
	}
	return commitment;
}

/* index_read filter: the planned records, with their commitments. */
static const uint8_t *pcap_want(void *arg, const char *segment, uint64_t idx)
{
	struct pcap_ctx *x = arg;
	uint32_t seg;
	size_t lo = 0, hi = x->n_refs;

	for (seg = 0; seg < x->n_segs && x->segs[seg] != segment && strcmp(x->segs[seg], segment); seg++)
		;
	while (x->cur < x->n_refs && (x->refs[x->cur].seg < seg ||
				      (x->refs[x->cur].seg == seg && x->refs[x->cur].idx < idx)))
		x->cur++;
	if (x->cur < x->n_refs && x->refs[x->cur].seg == seg && x->refs[x->cur].idx == idx)
		return pcap_keep(x, segment, idx, x->refs[x->cur].commitment);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->refs[mid].seg < seg || (x->refs[mid].seg == seg && x->refs[mid].idx < idx))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < x->n_refs && x->refs[lo].seg == seg && x->refs[lo].idx == idx)
		return pcap_keep(x, segment, idx, x->refs[lo].commitment);
	return NULL;
}

/* index_read callback: one record. */
static int pcap_one(void *arg, const struct access_record *ar)
{
	struct pcap_ctx *x = arg;
	const struct frame_record *rec = ar->rec;
	const struct etsi_pdu *pdu = &x->view.pdu;
	const uint8_t *p = NULL;
	size_t n = 0, orig = 0;
	int64_t t = rec->time_kind ? rec->time_us : rec->recv_us;
	int r;

	if (rec->kind != ETSI_KIND_CC || (x->has_cin && (!rec->has_cin || rec->cin != x->cin)))
		return 0;
	/* the decrypted payload when the receiver sealed one (record_pdu.h) */
	if (record_pdu_decode(rec, &x->view) != LACRE_OK) {
		x->rep->skipped++;
		return 0;
	}
	r = pcap_cc_packet(pdu, &p, &n, &orig);
	if (r == LACRE_E_UNSUPPORTED) {
		/* an IPMMCC udpFrame / rtpFrame: a synthetic IPv4 (+ UDP) header */
		const struct calls_entry *c = pcap_call(x, rec->cin);
		uint8_t src[4], dst[4];
		uint16_t sport, dport;
		struct rtp_frame fr;
		const char *a = NULL;
		char abuf[64];

		p = pdu->content_bytes.p;
		n = pdu->content_bytes.len;
		if (pdu->ipmmcc.frame_type != 1 && pdu->ipmmcc.frame_type != 2 &&
		    pdu->ipmmcc.frame_type != 5) {
			x->rep->skipped++;
			return 0;
		}
		abuf[0] = '\0';
		if (rtp_frame_parse(pdu->ipmmcc.frame_type, p, n, &fr) == LACRE_OK && fr.ip_version) {
			rtp_addr_text(fr.ip_version, fr.src, abuf, sizeof(abuf));
			a = abuf;
		}
		pcap_addrs(c, c ? calls_side(c, a, 0, pdu->direction) :
			   pdu->direction == ETSI_DIR_TO_TARGET, src, dst, &sport, &dport);
		if ((r = pcap_wrap_ipv4(&x->pkt, src, dst, sport, dport, pdu->ipmmcc.frame_type == 1,
					p, n)) != LACRE_OK) {
			x->rep->skipped++;
			return 0;
		}
		p = x->pkt.p;
		n = orig = x->pkt.len;
		x->rep->synthetic++;
	} else if (r != LACRE_OK) {
		x->rep->skipped++;       /* other contents: no IP packet */
		return 0;
	}
	if (n > PCAP_SNAPLEN) {
		orig = orig > n ? orig : n;
		n = PCAP_SNAPLEN;
	}
	if ((r = pcap_record(&x->out, t, p, n, orig)) != LACRE_OK)
		return r;
	x->rep->packets++;
	x->rep->bytes += n;
	if (x->out.len >= PCAP_FLUSH)
		return pcap_flush(x);
	return 0;
}

int pcap_write(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
	       const char *warrant, int has_cin, uint32_t cin,
	       const struct calls_entry *calls, size_t n_calls, const char *path,
	       void (*problem)(void *arg, const char *segment, int err, const char *what),
	       void *arg, struct pcap_report *rep)
{
	return pcap_write_skip(ix, st, id, warrant, has_cin, cin, calls, n_calls, path, NULL,
			       problem, arg, rep);
}

int pcap_write_skip(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
		    const char *warrant, int has_cin, uint32_t cin,
		    const struct calls_entry *calls, size_t n_calls, const char *path,
		    const struct access_skip *skip,
		    void (*problem)(void *arg, const char *segment, int err, const char *what),
		    void *arg, struct pcap_report *rep)
{
	struct pcap_ctx x;
	struct pcap_report rp = { 0 };
	uint8_t gh[PCAP_GLOBAL_HEADER];
	char **segs = NULL, *part = NULL;
	size_t n_segs = 0, plen = strlen(path) + 6;
	struct stat sb;
	int r;

	memset(&x, 0, sizeof(x));
	x.fd = -1;
	x.has_cin = has_cin;
	x.cin = cin;
	x.calls = calls;
	x.n_calls = n_calls;
	x.rep = &rp;
	x.skip = skip;
	lacre_dbuf_init(&x.out, 2 * PCAP_FLUSH + PCAP_SNAPLEN + 64);
	lacre_dbuf_set_secret(&x.out);
	lacre_dbuf_init(&x.pkt, PCAP_SNAPLEN + 64);
	lacre_dbuf_set_secret(&x.pkt);
	record_pdu_init(&x.view);
	if (lstat(path, &sb) == 0) {
		r = LACRE_E_EXISTS;
		goto out;
	}
	r = index_segments(ix, warrant, has_cin ? "kind = 'cc' AND cin = ?2" : "kind = 'cc'", has_cin,
			   cin, &segs, &n_segs);
	if (r != LACRE_OK)
		goto out;
	x.segs = segs;
	x.n_segs = n_segs;
	if ((r = pcap_plan(ix, warrant, &x)) != LACRE_OK)
		goto out;
	if ((part = malloc(plen)) == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	snprintf(part, plen, "%s.part", path);
	x.fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (x.fd < 0) {
		r = errno == EEXIST ? LACRE_E_EXISTS : LACRE_E_IO;
		free(part);
		part = NULL;
		goto out;
	}
	pcap_global_header(gh);
	if ((r = lacre_dbuf_add(&x.out, gh, sizeof(gh))) != LACRE_OK)
		goto out;
	r = index_read(ix, st, id, warrant, segs, n_segs, pcap_want, pcap_one, &x, problem, arg);
	if (r != LACRE_OK)
		goto out;
	if ((r = pcap_flush(&x)) != LACRE_OK)
		goto out;
	if (fsync(x.fd) != 0 || rename(part, path) != 0) {
		r = LACRE_E_IO;
		goto out;
	}
	free(part);
	part = NULL;
	*rep = rp;
out:
	if (x.fd >= 0)
		close(x.fd);
	if (part) {
		unlink(part);
		free(part);
	}
	lacre_dbuf_free(&x.out);
	lacre_dbuf_free(&x.pkt);
	record_pdu_free(&x.view);
	free(x.refs);
	index_free_names(segs, n_segs);
	return r;
}
