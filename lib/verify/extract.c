/*
 * extract.c - lacre-verify --extract (include/lacre/extract.h,
 * docs/cmd-lacre-verify.md): the court opens what it verified.
 *
 * Runs only after verify_package() said VERIFIED, so every record frame
 * here is the one the manifest commits to, its PDU and pre-encryption form
 * were checked against each other, and its commitment is proven in the
 * signed ingest log.  Each record is decoded again here from its own frame
 * (record_pdu_decode: the pre-encryption form the receiver sealed beside an
 * encrypted PDU, no key), and the files are derived from that alone: the
 * package's own renderings (audio/, pcap/) are never copied.
 *
 * Everything goes into a fresh folder beside the target, renamed into
 * place when complete, so a failure leaves nothing half-written.  Every
 * byte of the content came from the network (through the operator): the
 * RTP and IP parsers read through the checked buffer, and the streams are
 * capped (EX_RTP_SPAN_MAX sequence numbers, 6 hours of audio per WAV,
 * EX_STREAMS_MAX communications, EX_RTP_MAX RTP streams).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/extract.h"
#include "lacre/frame.h"
#include "lacre/g711.h"
#include "lacre/json.h"
#include "lacre/pcap.h"
#include "lacre/record_json.h"
#include "lacre/record_pdu.h"
#include "lacre/rtp.h"

#define EX_STREAMS_MAX 65536          /* communications (LIID, CIN) per package */
#define EX_RTP_MAX 65536              /* RTP streams (SSRC) per package */
#define EX_RTP_SPAN_MAX (1u << 20)    /* sequence numbers one WAV spans (~5.8 h at 20 ms) */
#define EX_FILE_MAX ((size_t)1 << 32) /* one file's bytes */
#define EX_WAV_FRAMES_MAX ((size_t)8000 * 3600 * 6) /* one WAV: 6 hours */
#define EX_RTP_FRAME_MAX 8000         /* samples one RTP packet may carry (1 s) */
#define EX_NAME_MAX 160

/* One communication: the CC of one (LIID, CIN). */
struct ex_stream {
	uint8_t liid[FRAME_LIID_MAX];
	size_t liid_len;
	int has_cin;
	uint32_t cin;
	char dir[EX_NAME_MAX];       /* its folder */
	struct lacre_dbuf pcap;      /* the pcap file (global header first) */
	uint64_t packets, first, last, n_recs;
};

/* One RTP packet of a stream: where its payload is in the stream's audio. */
struct ex_pkt {
	int64_t ext;                 /* sequence number, 16-bit wraps unwrapped */
	size_t off, len;
};

/* One G.711 RTP stream (an SSRC of a communication: one direction). */
struct ex_rtp {
	size_t stream;
	uint32_t ssrc;
	int dir;                     /* the operator's label of its first packet */
	unsigned pt;                 /* 0 PCMU, 8 PCMA (the first packet's) */
	int64_t last_ext;
	uint16_t last_seq;
	struct ex_pkt *pk;
	size_t n, cap;
	struct lacre_dbuf audio;     /* G.711 payloads back to back */
	uint64_t first, last;        /* record numbers */
};

struct ex {
	const struct package *pk;
	int dfd;                     /* the temporary folder */
	char *tmp;                   /* its path */
	char **made;                 /* names created inside it, for cleanup */
	size_t n_made, cap_made;
	struct ex_stream *s;
	size_t ns, caps;
	struct ex_rtp *t;
	size_t nt, capt;
	struct lacre_dbuf jsonl;     /* records.jsonl */
	struct lacre_dbuf txt;       /* extract.txt */
	struct lacre_dbuf recs;      /* its record lines */
	struct lacre_dbuf pkt;       /* one synthetic packet */
	struct record_pdu view;
	struct extract_report *rep;
	char *msg;
	size_t msglen;
};

/* Say what failed, "<what>[ <name>]: <error>" (the first message wins);
 * returns r. */
static int ex_say(struct ex *x, int r, const char *what, const char *name)
{
	if (x->msg && x->msglen && !x->msg[0])
		snprintf(x->msg, x->msglen, "%s%s%s: %s", what, name ? " " : "", name ? name : "",
			 lacre_strerror(r));
	return r;
}

/* Remember a name made in the folder (removed again on failure). */
static int ex_made(struct ex *x, const char *name)
{
	if (x->n_made == x->cap_made) {
		size_t nc = x->cap_made ? x->cap_made * 2 : 32;
		char **nv = realloc(x->made, nc * sizeof(*nv));
		if (!nv)
			return LACRE_E_NOMEM;
		x->made = nv;
		x->cap_made = nc;
	}
	if ((x->made[x->n_made] = strdup(name)) == NULL)
		return LACRE_E_NOMEM;
	x->n_made++;
	return LACRE_OK;
}

/* Write a new file name (relative to the folder) with p[0..n), mode 0600. */
static int ex_write(struct ex *x, const char *name, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t off = 0;
	int fd, r;

	fd = openat(x->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ex_say(x, LACRE_E_IO, "cannot create", name);
	if ((r = ex_made(x, name)) != LACRE_OK) {
		close(fd);
		unlinkat(x->dfd, name, 0);
		return r;
	}
	while (off < n) {
		ssize_t k = write(fd, b + off, n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			close(fd);
			return ex_say(x, LACRE_E_IO, "cannot write", name);
		}
		off += (size_t)k;
	}
	if (fsync(fd) != 0 || close(fd) != 0)
		return ex_say(x, LACRE_E_IO, "cannot write", name);
	return LACRE_OK;
}

/* A file-name-safe form of an LIID: [A-Za-z0-9._-], others '_', no
 * leading dot, at most 64 characters. */
static void ex_safe(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 1 < cap && k < 64; i++) {
		char c = (char)p[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '-' || c == '_' || (c == '.' && k > 0);
		out[k++] = ok ? c : '_';
	}
	if (k == 0 && cap > 1)
		out[k++] = '_';
	out[k] = '\0';
}

/* The communication of record r (found or added). */
static int ex_stream_of(struct ex *x, const struct frame_record *r, size_t *out)
{
	struct ex_stream *s;
	char base[80], name[EX_NAME_MAX];
	uint8_t gh[PCAP_GLOBAL_HEADER];
	size_t i, k;
	int rr;

	for (i = 0; i < x->ns; i++) {
		s = &x->s[i];
		if (s->liid_len == r->liid.len && !memcmp(s->liid, r->liid.p, r->liid.len) &&
		    s->has_cin == r->has_cin && s->cin == r->cin) {
			*out = i;
			return LACRE_OK;
		}
	}
	if (x->ns == EX_STREAMS_MAX)
		return ex_say(x, LACRE_E_TOO_LARGE, "more than 65536 communications", NULL);
	if (x->ns == x->caps) {
		size_t nc = x->caps ? x->caps * 2 : 16;
		struct ex_stream *nv = realloc(x->s, nc * sizeof(*nv));
		if (!nv)
			return LACRE_E_NOMEM;
		x->s = nv;
		x->caps = nc;
	}
	s = &x->s[x->ns];
	memset(s, 0, sizeof(*s));
	memcpy(s->liid, r->liid.p, r->liid.len);
	s->liid_len = r->liid.len;
	s->has_cin = r->has_cin;
	s->cin = r->cin;
	ex_safe(r->liid.p, r->liid.len, base, sizeof(base));
	if (r->has_cin)
		snprintf(name, sizeof(name), "%s-%u", base, r->cin);
	else
		snprintf(name, sizeof(name), "%s-nocin", base);
	/* two LIIDs that read alike as file names get numbered folders */
	for (k = 2;; k++) {
		for (i = 0; i < x->ns && strcmp(x->s[i].dir, name); i++)
			;
		if (i == x->ns)
			break;
		if (r->has_cin)
			snprintf(name, sizeof(name), "%s-%u-%zu", base, r->cin, k);
		else
			snprintf(name, sizeof(name), "%s-nocin-%zu", base, k);
	}
	memcpy(s->dir, name, sizeof(name));
	lacre_dbuf_init(&s->pcap, EX_FILE_MAX);
	lacre_dbuf_set_secret(&s->pcap);
	pcap_global_header(gh);
	if ((rr = lacre_dbuf_add(&s->pcap, gh, sizeof(gh))) != LACRE_OK) {
		lacre_dbuf_free(&s->pcap);
		return rr;
	}
	*out = x->ns++;
	return LACRE_OK;
}

/* The RTP stream ssrc of communication si (found or added). */
static int ex_rtp_of(struct ex *x, size_t si, uint32_t ssrc, int dir, unsigned pt,
		     uint16_t seq, size_t *out)
{
	struct ex_rtp *t;
	size_t i;

	for (i = 0; i < x->nt; i++)
		if (x->t[i].stream == si && x->t[i].ssrc == ssrc) {
			*out = i;
			return LACRE_OK;
		}
	if (x->nt == EX_RTP_MAX)
		return ex_say(x, LACRE_E_TOO_LARGE, "more than 65536 RTP streams", NULL);
	if (x->nt == x->capt) {
		size_t nc = x->capt ? x->capt * 2 : 16;
		struct ex_rtp *nv = realloc(x->t, nc * sizeof(*nv));
		if (!nv)
			return LACRE_E_NOMEM;
		x->t = nv;
		x->capt = nc;
	}
	t = &x->t[x->nt];
	memset(t, 0, sizeof(*t));
	t->stream = si;
	t->ssrc = ssrc;
	t->dir = dir;
	t->pt = pt;
	t->last_seq = seq;
	t->last_ext = (int64_t)1 << 40;   /* room to unwrap downwards */
	lacre_dbuf_init(&t->audio, EX_FILE_MAX);
	lacre_dbuf_set_secret(&t->audio);
	*out = x->nt++;
	return LACRE_OK;
}

/* Add one G.711 RTP packet (record n) to its stream. */
static int ex_rtp_add(struct ex *x, size_t si, const struct rtp_frame *fr, int dir, uint64_t n)
{
	struct ex_rtp *t;
	struct ex_pkt *p;
	size_t ti = 0;
	int r;

	if ((r = ex_rtp_of(x, si, fr->rtp.ssrc, dir, fr->rtp.pt, fr->rtp.seq, &ti)) != LACRE_OK)
		return r;
	t = &x->t[ti];
	if (fr->rtp.pt != t->pt) {
		x->rep->skipped++;        /* a codec change inside one SSRC: not mixed in */
		return LACRE_OK;
	}
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		struct ex_pkt *nv = realloc(t->pk, nc * sizeof(*nv));
		if (!nv)
			return LACRE_E_NOMEM;
		t->pk = nv;
		t->cap = nc;
	}
	p = &t->pk[t->n];
	/* unwrap: the nearest 16-bit distance from the last one seen */
	p->ext = t->n ? t->last_ext + (int16_t)(uint16_t)(fr->rtp.seq - t->last_seq) : t->last_ext;
	p->off = t->audio.len;
	p->len = fr->rtp.payload_len;
	if ((r = lacre_dbuf_add(&t->audio, fr->rtp.payload, fr->rtp.payload_len)) != LACRE_OK)
		return r;
	t->last_ext = p->ext;
	t->last_seq = fr->rtp.seq;
	if (!t->n)
		t->first = n;
	t->last = n;
	t->n++;
	return LACRE_OK;
}

/* One CC record (number n): its packet into the pcap, its G.711 RTP into
 * its stream. */
static int ex_cc(struct ex *x, const struct frame_record *r, uint64_t n)
{
	const struct etsi_pdu *pdu = &x->view.pdu;
	static const uint8_t target[4] = { 192, 0, 2, 1 }, other[4] = { 192, 0, 2, 2 };
	struct ex_stream *s;
	struct rtp_frame fr;
	const uint8_t *p = NULL;
	size_t si = 0, len = 0, orig = 0;
	int64_t t = r->time_kind ? r->time_us : r->recv_us;
	int rr, from = pdu->direction != ETSI_DIR_TO_TARGET;

	if ((rr = ex_stream_of(x, r, &si)) != LACRE_OK)
		return rr;
	s = &x->s[si];
	if (!s->n_recs)
		s->first = n;
	s->last = n;
	s->n_recs++;
	rr = pcap_cc_packet(pdu, &p, &len, &orig);
	if (rr == LACRE_E_UNSUPPORTED && (pdu->ipmmcc.frame_type == 1 || pdu->ipmmcc.frame_type == 2)) {
		/* udpFrame / rtpFrame: a synthetic IPv4 (+ UDP) header from the
		 * documentation addresses, as `lacre pcap` does without a call */
		if (pcap_wrap_ipv4(&x->pkt, from ? target : other, from ? other : target, 5004, 5004,
				   pdu->ipmmcc.frame_type == 1, pdu->content_bytes.p,
				   pdu->content_bytes.len) == LACRE_OK) {
			p = x->pkt.p;
			len = orig = x->pkt.len;
			rr = LACRE_OK;
		}
	}
	if (rr == LACRE_OK) {
		if (len > PCAP_SNAPLEN) {
			orig = orig > len ? orig : len;
			len = PCAP_SNAPLEN;
		}
		if ((rr = pcap_record(&s->pcap, t, p, len, orig)) != LACRE_OK)
			return ex_say(x, rr, "cannot add a packet to the pcap of", s->dir);
		s->packets++;
	} else {
		x->rep->skipped++;
	}
	if (pdu->content_tag == ETSI_CC_IPMMCC &&
	    rtp_frame_parse(pdu->ipmmcc.frame_type, pdu->content_bytes.p, pdu->content_bytes.len,
			    &fr) == LACRE_OK && (fr.rtp.pt == 0 || fr.rtp.pt == 8) && fr.rtp.payload_len)
		return ex_rtp_add(x, si, &fr, pdu->direction, n);
	return LACRE_OK;
}

/* Little-endian stores. */
/* (WAV header and samples are little-endian) 16-bit. */
static void ex_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* ... and 32-bit. */
static void ex_le32(uint8_t *p, uint32_t v)
{
	ex_le16(p, (uint16_t)v);
	ex_le16(p + 2, (uint16_t)(v >> 16));
}

/* Order packets by unwrapped sequence number (then arrival). */
static int ex_pkt_cmp(const void *a, const void *b)
{
	const struct ex_pkt *x = a, *y = b;

	if (x->ext != y->ext)
		return x->ext < y->ext ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* One RTP stream as a mono 16-bit 8 kHz WAV: packet k at (seq - first) x
 * the first packet's samples; missing sequence numbers are silence. */
static int ex_wav(struct ex *x, struct ex_rtp *t)
{
	struct ex_stream *s = &x->s[t->stream];
	const char *dn = t->dir == ETSI_DIR_FROM_TARGET ? "from-target"
			 : t->dir == ETSI_DIR_TO_TARGET ? "to-target" : "direction-unknown";
	char name[EX_NAME_MAX + 64];
	uint8_t *w;
	size_t frame, i, frames, bytes, distinct = 0;
	int64_t span;
	int r;

	qsort(t->pk, t->n, sizeof(*t->pk), ex_pkt_cmp);
	span = t->pk[t->n - 1].ext - t->pk[0].ext + 1;
	if (span <= 0 || span > (int64_t)EX_RTP_SPAN_MAX)
		return ex_say(x, LACRE_E_TOO_LARGE, "an RTP stream spans too many sequence numbers in",
			      s->dir);
	frame = t->pk[0].len;
	if (frame > EX_RTP_FRAME_MAX ||
	    (size_t)(span - 1) > (EX_WAV_FRAMES_MAX - EX_RTP_FRAME_MAX) / frame)
		return ex_say(x, LACRE_E_TOO_LARGE, "an RTP stream is longer than 6 hours in", s->dir);
	frames = (size_t)(span - 1) * frame + t->pk[t->n - 1].len;
	if (frames > EX_WAV_FRAMES_MAX)
		return ex_say(x, LACRE_E_TOO_LARGE, "an RTP stream is longer than 6 hours in", s->dir);
	bytes = 44 + frames * 2;
	if ((w = calloc(1, bytes)) == NULL)
		return LACRE_E_NOMEM;
	memcpy(w, "RIFF", 4);
	ex_le32(w + 4, (uint32_t)(bytes - 8));
	memcpy(w + 8, "WAVEfmt ", 8);
	ex_le32(w + 16, 16);
	ex_le16(w + 20, 1);                   /* PCM */
	ex_le16(w + 22, 1);                   /* mono */
	ex_le32(w + 24, 8000);
	ex_le32(w + 28, 16000);
	ex_le16(w + 32, 2);
	ex_le16(w + 34, 16);
	memcpy(w + 36, "data", 4);
	ex_le32(w + 40, (uint32_t)(frames * 2));
	for (i = 0; i < t->n; i++) {
		const struct ex_pkt *p = &t->pk[i];
		size_t at = (size_t)(p->ext - t->pk[0].ext) * frame, k;
		int16_t pcm[512];

		if (i && p->ext == t->pk[i - 1].ext)
			continue;             /* a duplicate: the first copy counts */
		distinct++;
		for (k = 0; k < p->len && at + k < frames;) {
			size_t m = p->len - k < 512 ? p->len - k : 512;
			g711_decode((int)t->pt, t->audio.p + p->off + k, m, pcm);
			for (size_t j = 0; j < m && at + k + j < frames; j++)
				ex_le16(w + 44 + (at + k + j) * 2, (uint16_t)pcm[j]);
			k += m;
		}
	}
	snprintf(name, sizeof(name), "%s/%s-%08x.wav", s->dir, dn, t->ssrc);
	r = ex_write(x, name, w, bytes);
	free(w);
	if (r != LACRE_OK)
		return r;
	x->rep->wavs++;
	x->rep->rtp += distinct;
	x->rep->missing += (uint64_t)span - distinct;
	if ((r = lacre_dbuf_printf(&x->txt, "file %s rtp %zu missing %llu samples %zu codec %s ssrc %08x "
				   "records %llu..%llu\n", name, distinct,
				   (unsigned long long)((uint64_t)span - distinct), frames,
				   t->pt == 0 ? "PCMU" : "PCMA", t->ssrc, (unsigned long long)t->first,
				   (unsigned long long)t->last)) != LACRE_OK)
		return r;
	return LACRE_OK;
}

/* An LIID for the report: its text when printable ASCII without spaces,
 * else "0x" and its hex; "-" when empty. */
static void ex_liid_text(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t i, k = 0;
	int text = n > 0;

	for (i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			text = 0;
	if (!n) {
		snprintf(out, cap, "-");
		return;
	}
	if (text && n < cap) {
		memcpy(out, p, n);
		out[n] = '\0';
		return;
	}
	k = (size_t)snprintf(out, cap, "0x");
	for (i = 0; i < n && k + 3 <= cap; i++)
		k += (size_t)snprintf(out + k, cap - k, "%02x", p[i]);
}

/* The next manifest line "record <n> <segment> <index> <leaf> <commit>":
 * 1 with the fields set, 0 at the end. */
static int ex_next_record(struct lacre_rbuf *b, uint64_t *n, uint64_t *leaf, char commit[65])
{
	while (lacre_rbuf_left(b)) {
		const uint8_t *p = lacre_rbuf_ptr(b);
		size_t left = lacre_rbuf_left(b), ll = 0;
		char line[512], seg[128];
		unsigned long long a, c, d;

		while (ll < left && p[ll] != '\n')
			ll++;
		lacre_rbuf_skip(b, ll < left ? ll + 1 : ll);
		if (ll < 7 || ll >= sizeof(line) || memcmp(p, "record ", 7) != 0)
			continue;
		memcpy(line, p, ll);
		line[ll] = '\0';
		if (sscanf(line, "record %llu %127s %llu %llu %64s", &a, seg, &c, &d, commit) != 5)
			continue;
		*n = a;
		*leaf = d;
		return 1;
	}
	return 0;
}

/* Decode every record of the manifest and gather its content. */
static int ex_records(struct ex *x)
{
	const struct package_member *mf = package_find(x->pk, PACKAGE_MANIFEST);
	struct lacre_rbuf mb, body;
	struct frame_record fr;
	struct access_record ar;
	struct json_w w;
	uint64_t n, leaf;
	char commit[65], name[48], liid[2 * FRAME_LIID_MAX + 4];
	int r, decoded;

	if (!mf)
		return ex_say(x, LACRE_E_MALFORMED, "the package has no manifest", NULL);
	lacre_rbuf_init(&mb, mf->p, mf->len);
	while (ex_next_record(&mb, &n, &leaf, commit)) {
		const struct package_member *fm;

		snprintf(name, sizeof(name), "records/%08llu.frame", (unsigned long long)n);
		if ((fm = package_find(x->pk, name)) == NULL)
			return ex_say(x, LACRE_E_MALFORMED, "missing record member", name);
		lacre_rbuf_init(&body, fm->p, fm->len);
		if ((r = frame_record_decode_body(body, &fr)) != LACRE_OK)
			return ex_say(x, LACRE_E_MALFORMED, "a record frame does not decode:", name);
		/* a verified record always decodes (its fields were re-decoded);
		 * one that does not is named and gives no content */
		if ((r = record_pdu_decode(&fr, &x->view)) == LACRE_E_NOMEM)
			return r;
		decoded = r == LACRE_OK;
		/* its JSON line (the decoded plaintext when decrypted) */
		ar.rec = &fr;
		ar.segment = "";
		ar.index = 0;
		json_init(&w, &x->jsonl);
		access_record_json(&w, &ar);
		if ((r = json_finish(&w)) != LACRE_OK || (r = lacre_dbuf_add_u8(&x->jsonl, '\n')) != LACRE_OK)
			return ex_say(x, r, "cannot write records.jsonl", NULL);
		x->rep->records++;
		if (x->view.decrypted)
			x->rep->decrypted++;
		ex_liid_text(fr.liid.p, fr.liid.len, liid, sizeof(liid));
		r = lacre_dbuf_printf(&x->recs, "record %llu leaf %llu commitment %s liid %s cin ",
				      (unsigned long long)n, (unsigned long long)leaf, commit, liid);
		if (r == LACRE_OK)
			r = fr.has_cin ? lacre_dbuf_printf(&x->recs, "%u", fr.cin)
				       : lacre_dbuf_add_u8(&x->recs, '-');
		if (r == LACRE_OK)
			r = lacre_dbuf_printf(&x->recs, " seq %llu kind %s operator %.*s %s\n",
					      (unsigned long long)fr.seq,
					      etsi_kind_name(fr.kind) ? etsi_kind_name(fr.kind) : "other",
					      fr.operator_name.len ? (int)fr.operator_name.len : 1,
					      fr.operator_name.len ? (const char *)fr.operator_name.p : "-",
					      !decoded ? "NOT DECODED: no content extracted" :
					      x->view.decrypted ?
					      "decrypted: the plaintext is the pre-encryption form in the frame, "
					      "covered by this commitment in the signed ingest log" :
					      "clear: the PDU as received");
		if (r != LACRE_OK)
			return r;
		if (fr.kind == ETSI_KIND_CC && !decoded)
			x->rep->skipped++;
		else if (fr.kind == ETSI_KIND_CC && (r = ex_cc(x, &fr, n)) != LACRE_OK)
			return r;
	}
	return LACRE_OK;
}

/* Write every file into the temporary folder. */
static int ex_files(struct ex *x)
{
	char name[EX_NAME_MAX + 32];
	size_t i;
	int r;

	if ((r = ex_write(x, "records.jsonl", x->jsonl.p, x->jsonl.len)) != LACRE_OK)
		return r;
	if ((r = lacre_dbuf_printf(&x->txt, "file records.jsonl records %llu decrypted %llu\n",
				   (unsigned long long)x->rep->records,
				   (unsigned long long)x->rep->decrypted)) != LACRE_OK)
		return r;
	for (i = 0; i < x->ns; i++) {
		struct ex_stream *s = &x->s[i];

		if (mkdirat(x->dfd, s->dir, 0700) != 0)
			return ex_say(x, LACRE_E_IO, "cannot make the folder", s->dir);
		if ((r = ex_made(x, s->dir)) != LACRE_OK)
			return r;
		if (!s->packets)
			continue;
		snprintf(name, sizeof(name), "%s/content.pcap", s->dir);
		if ((r = ex_write(x, name, s->pcap.p, s->pcap.len)) != LACRE_OK)
			return r;
		x->rep->pcaps++;
		x->rep->packets += s->packets;
		if ((r = lacre_dbuf_printf(&x->txt, "file %s packets %llu records %llu..%llu\n", name,
					   (unsigned long long)s->packets, (unsigned long long)s->first,
					   (unsigned long long)s->last)) != LACRE_OK)
			return r;
	}
	for (i = 0; i < x->nt; i++)
		if (x->t[i].n && (r = ex_wav(x, &x->t[i])) != LACRE_OK)
			return r;
	if ((r = lacre_dbuf_add(&x->txt, x->recs.p, x->recs.len)) != LACRE_OK)
		return r;
	return ex_write(x, "extract.txt", x->txt.p, x->txt.len);
}

/* Remove what was made in the temporary folder, and the folder. */
static void ex_cleanup(struct ex *x)
{
	while (x->n_made) {
		char *nm = x->made[--x->n_made];
		if (unlinkat(x->dfd, nm, 0) != 0)
			unlinkat(x->dfd, nm, AT_REMOVEDIR);
		free(nm);
	}
	if (x->tmp)
		rmdir(x->tmp);
}

/* Extract a verified package into dir (see extract.h). */
int extract_package(const struct package *pk, const char *dir, struct extract_report *rep,
		    char *msg, size_t msglen)
{
	struct ex x;
	struct stat sb;
	const struct package_member *id;
	size_t tl = strlen(dir) + 16, i;
	int r;

	memset(&x, 0, sizeof(x));
	memset(rep, 0, sizeof(*rep));
	x.pk = pk;
	x.rep = rep;
	x.dfd = -1;
	x.msg = msg;
	x.msglen = msglen;
	if (msg && msglen)
		msg[0] = '\0';
	lacre_dbuf_init(&x.jsonl, EX_FILE_MAX);
	lacre_dbuf_set_secret(&x.jsonl);
	lacre_dbuf_init(&x.txt, EX_FILE_MAX);
	lacre_dbuf_init(&x.recs, EX_FILE_MAX);
	lacre_dbuf_init(&x.pkt, PCAP_SNAPLEN + 64);
	lacre_dbuf_set_secret(&x.pkt);
	record_pdu_init(&x.view);
	if (lstat(dir, &sb) == 0) {
		r = ex_say(&x, LACRE_E_EXISTS, "the extraction folder must not exist:", dir);
		goto out;
	}
	if ((x.tmp = malloc(tl)) == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	snprintf(x.tmp, tl, "%s.partXXXXXX", dir);
	if (mkdtemp(x.tmp) == NULL) {
		free(x.tmp);
		x.tmp = NULL;
		r = ex_say(&x, LACRE_E_IO, "cannot make a folder beside", dir);
		goto out;
	}
	if ((x.dfd = open(x.tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = ex_say(&x, LACRE_E_IO, "cannot open", x.tmp);
		goto out;
	}
	id = package_find(pk, PACKAGE_MANIFEST);
	r = lacre_dbuf_add_str(&x.txt, "lacre-extract/v1\n");
	if (r == LACRE_OK && id && id->len > 18 + 8 && !memcmp(id->p + 18, "package ", 8))
		r = lacre_dbuf_printf(&x.txt, "package %.32s\n", (const char *)id->p + 26);
	if (r == LACRE_OK)
		r = lacre_dbuf_add_str(&x.txt,
			"note every file below is re-derived here from the records' frames, not copied from the package\n"
			"note a decrypted record's plaintext is the pre-encryption form sealed in its frame beside the PDU;\n"
			"note the frame's SHA-256 is the record's commitment, proven at its leaf (its segment's or its own)\n"
			"note in the signed ingest log, so the plaintext came with the sealed PDU at intake (re-encryptable)\n");
	if (r != LACRE_OK || (r = ex_records(&x)) != LACRE_OK || (r = ex_files(&x)) != LACRE_OK)
		goto out;
	if (fsync(x.dfd) != 0) {
		r = ex_say(&x, LACRE_E_IO, "cannot write", x.tmp);
		goto out;
	}
	if (renameat2(AT_FDCWD, x.tmp, AT_FDCWD, dir, RENAME_NOREPLACE) != 0) {
		r = ex_say(&x, errno == EEXIST ? LACRE_E_EXISTS : LACRE_E_IO, "cannot rename the extraction to", dir);
		goto out;
	}
	for (i = 0; i < x.n_made; i++)
		free(x.made[i]);
	x.n_made = 0;
	free(x.tmp);
	x.tmp = NULL;
	r = LACRE_OK;
out:
	if (r != LACRE_OK) {
		if (x.dfd >= 0)
			ex_cleanup(&x);
		else if (x.tmp)
			rmdir(x.tmp);
		memset(rep, 0, sizeof(*rep));
	}
	if (x.dfd >= 0)
		close(x.dfd);
	free(x.tmp);
	free(x.made);
	for (i = 0; i < x.ns; i++)
		lacre_dbuf_free(&x.s[i].pcap);
	free(x.s);
	for (i = 0; i < x.nt; i++) {
		lacre_dbuf_free(&x.t[i].audio);
		free(x.t[i].pk);
	}
	free(x.t);
	lacre_dbuf_free(&x.jsonl);
	lacre_dbuf_free(&x.txt);
	lacre_dbuf_free(&x.recs);
	lacre_dbuf_free(&x.pkt);
	record_pdu_free(&x.view);
	return r;
}
