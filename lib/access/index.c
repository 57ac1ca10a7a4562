/*
 * index.c - the SQLite index of the access domain (include/lacre/index.h,
 * docs/FORMATS.md §10).
 *
 * Built from decrypted, verified records only: a segment is indexed in one
 * transaction after every one of its chunks verified, so the index never
 * holds a record a damaged segment would not give back.  The PDU of each
 * record is decoded again here (record_pdu_decode: the pre-encryption form
 * the receiver sealed beside an encrypted PDU, else the PDU; then the RTP and SIP parsers
 * of rtp.h, all through the checked buffer): what the ingest side wrote
 * into the frame's index fields is not trusted further than the frame.
 * Every statement is prepared once and bound; no SQL text is ever built
 * from data.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lacre/err.h"
#include "lacre/etsi.h"
#include "lacre/etsi_location.h"
#include "lacre/index.h"
#include "lacre/pcap.h"
#include "lacre/receipts.h"
#include "lacre/record_pdu.h"
#include "lacre/rtp.h"
#include "lacre/segment.h"

#define INDEX_HEAD_BYTES 4096               /* an age header with a few stanzas */
#define INDEX_SEGMENT_MAX ((size_t)1 << 31) /* cap on one segment object read */

static const char index_schema[] =
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
	"CREATE TABLE IF NOT EXISTS segments (\n"
	"  warrant TEXT NOT NULL, segment TEXT NOT NULL, opened INTEGER NOT NULL,\n"
	"  created_us INTEGER, records INTEGER NOT NULL DEFAULT 0, indexed_us INTEGER NOT NULL,\n"
	"  PRIMARY KEY (warrant, segment));\n"
	"CREATE TABLE IF NOT EXISTS records (\n"
	"  warrant TEXT NOT NULL, segment TEXT NOT NULL, idx INTEGER NOT NULL,\n"
	"  liid TEXT NOT NULL, cin INTEGER, seq INTEGER NOT NULL, kind TEXT NOT NULL,\n"
	"  time_us INTEGER NOT NULL, recv_us INTEGER NOT NULL, iri_type INTEGER,\n"
	"  content TEXT, direction INTEGER, length INTEGER NOT NULL,\n"
	"  commitment BLOB NOT NULL,\n"
	"  sip_call_id TEXT, sip_method TEXT, sip_status INTEGER, sip_from TEXT, sip_to TEXT,\n"
	"  sip_pai TEXT, sip_src TEXT, sip_dst TEXT, sdp_addr TEXT, sdp_port INTEGER, sdp_pt INTEGER,\n"
	"  frame_type INTEGER, ip_src TEXT, ip_dst TEXT, sport INTEGER, dport INTEGER,\n"
	"  rtp_ssrc INTEGER, rtp_pt INTEGER, rtp_seq INTEGER, rtp_ts INTEGER, rtp_len INTEGER,\n"
	"  ipiri_event INTEGER, target_ip TEXT, octets_rx INTEGER, octets_tx INTEGER,\n"
	"  cc_len INTEGER,\n"
	"  mob_family INTEGER, mob_event INTEGER, imsi TEXT, msisdn TEXT, imei TEXT,\n"
	"  pdn_addr TEXT, apn TEXT, location TEXT, rat INTEGER,\n"
	"  PRIMARY KEY (warrant, segment, idx));\n"
	"CREATE INDEX IF NOT EXISTS records_cin ON records (warrant, cin, kind, time_us);\n"
	"CREATE INDEX IF NOT EXISTS records_call ON records (warrant, sip_call_id);\n"
	/* a warrant's IRI rows in the call correlation's order (time_us, cin,
	 * seq): it reads only these (a few per call) and must not walk a
	 * one-hour call's 360k CC rows to find them (~70-100 ms of an audio
	 * read's first byte), nor sort 10,000 calls' 70,000 SIP rows in a
	 * temporary B-tree (~55 ms of `calls`, issue 13).  Partial, so it
	 * costs only the IRI rows; added to an older file when it is
	 * opened (CREATE ... IF NOT EXISTS) */
	"CREATE INDEX IF NOT EXISTS records_iri_order ON records (warrant, time_us, cin, seq) "
	"WHERE kind = 'iri';\n"
	"CREATE TABLE IF NOT EXISTS calls (\n"
	"  warrant TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, cin INTEGER NOT NULL,\n"
	"  cins TEXT NOT NULL, call_id TEXT, from_uri TEXT, to_uri TEXT, target_ip TEXT,\n"
	"  start_us INTEGER, end_us INTEGER, direction TEXT, codec TEXT,\n"
	"  from_target INTEGER NOT NULL, to_target INTEGER NOT NULL, bytes INTEGER NOT NULL,\n"
	"  iri_gaps INTEGER NOT NULL, cc_gaps INTEGER NOT NULL, rtp_gaps INTEGER NOT NULL,\n"
	"  complete INTEGER NOT NULL, problems TEXT NOT NULL,\n"
	"  imsi TEXT, msisdn TEXT, imei TEXT, apn TEXT, locations TEXT,\n"
	"  PRIMARY KEY (warrant, id));\n"
	"CREATE TABLE IF NOT EXISTS locations (\n"
	"  warrant TEXT NOT NULL, segment TEXT NOT NULL, idx INTEGER NOT NULL, n INTEGER NOT NULL,\n"
	"  liid TEXT NOT NULL, cin INTEGER, seq INTEGER NOT NULL, time_us INTEGER NOT NULL,\n"
	"  iri_type INTEGER, kind TEXT NOT NULL, mcc TEXT, mnc TEXT, area INTEGER, rac INTEGER,\n"
	"  cell INTEGER, lat_udeg INTEGER, lon_udeg INTEGER, text TEXT, problem TEXT,\n"
	"  PRIMARY KEY (warrant, segment, idx, n));\n"
	"CREATE INDEX IF NOT EXISTS locations_time ON locations (warrant, time_us);\n"
	/* schema 4: a call's audio plan, kept by lib/access/audio.c (FORMATS §10) */
	"CREATE TABLE IF NOT EXISTS audio_plans (\n"
	"  warrant TEXT NOT NULL, call TEXT NOT NULL, params BLOB NOT NULL,\n"
	"  segments_gen INTEGER NOT NULL, segments INTEGER NOT NULL, packets INTEGER NOT NULL,\n"
	"  cc_rows INTEGER NOT NULL, plan BLOB NOT NULL, PRIMARY KEY (warrant, call));\n"
	"CREATE TABLE IF NOT EXISTS audio_plan_segments (\n"
	"  warrant TEXT NOT NULL, call TEXT NOT NULL, n INTEGER NOT NULL, segment TEXT NOT NULL,\n"
	"  created_us INTEGER NOT NULL, packets INTEGER NOT NULL, chunks BLOB NOT NULL,\n"
	"  PRIMARY KEY (warrant, call, n));\n";

enum {
	ST_SEG_SEEN, ST_SEG_ADD, ST_REC_ADD, ST_REC_COMMIT, ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_LOC_DEL, ST_LOC_ADD, ST_N
};

static const char *const index_sql[ST_N] = {
	[ST_SEG_SEEN] = "SELECT 1 FROM segments WHERE warrant = ?1 AND segment = ?2",
	[ST_SEG_ADD] = "INSERT OR REPLACE INTO segments (warrant, segment, opened, created_us, "
		       "records, indexed_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_REC_ADD] = "INSERT OR REPLACE INTO records VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
		       "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, "
		       "?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, "
		       "?40, ?41, ?42, ?43, ?44, ?45, ?46, ?47, ?48, ?49)",
	[ST_REC_COMMIT] = "SELECT commitment FROM records WHERE warrant = ?1 AND segment = ?2 "
			  "AND idx = ?3",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_LOC_DEL] = "DELETE FROM locations WHERE warrant = ?1 AND segment = ?2 AND idx = ?3",
	[ST_LOC_ADD] = "INSERT INTO locations VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
		       "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
};

struct index {
	sqlite3 *db;
	sqlite3_stmt *st[ST_N];
	const struct receipts_index *logged; /* index_set_log, or NULL */
};

void index_set_log(struct index *ix, const struct receipts_index *logged)
{
	if (ix)
		ix->logged = logged;
}

/* 1 when a signed log of the site holds rec's commitment as a leaf of its
 * own (a v1 segment; or no log is set).  A v2 segment's records are checked all at
 * once (index_segment_logged). */
static int index_in_log(const struct index *ix, const uint8_t c[32])
{
	uint64_t leaf;

	if (!ix->logged)
		return 1;
	return receipts_index_find(ix->logged, c, NULL, &leaf) == LACRE_OK;
}

/* The records of segment name not in the signed logs (the one of the
 * site's ingest logs that names it: receipts.h), given every
 * commitment read from it (commits[0..n)) and how many of the warrant's
 * records have no leaf of their own (v1miss) out of nw: none when its v2
 * entry's count and root match them all, all nw when a v2 entry names it
 * but they do not, else (a v1 segment) v1miss. */
static uint64_t index_segment_unlogged(const struct index *ix, const char *name,
				       const uint8_t (*commits)[32], uint64_t n, uint64_t v1miss,
				       uint64_t nw)
{
	int r;

	if (!ix->logged)
		return 0;
	r = receipts_index_segment_check(ix->logged, name, commits, n, NULL, NULL);
	if (r == LACRE_OK)
		return 0;
	if (r == LACRE_E_NOT_FOUND)
		return v1miss;
	return nw;
}

/* Run one prepared statement that returns no rows, and reset it. */
static int index_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? LACRE_OK : LACRE_E_DB;
}

/*
 * Schema 2 -> 4 (FORMATS §10): schema 3 added the locations table (created
 * by index_schema), whose rows come from decoding the records again, which
 * only index_update can do (it holds the warrant's identity).  So the
 * migration empties records, segments and calls and sets the version, in
 * one transaction: the next index_update of each warrant re-reads its
 * segments from the backend and fills every table.  The index holds nothing
 * the backend does not.  Schema 3 -> 4 only adds the (empty) audio plan
 * tables, which index_schema creates: the version is set, no row changes.
 * A concurrent opener that migrated first is seen inside the transaction
 * (BEGIN IMMEDIATE), so the emptying happens once.
 */
static int index_migrate(sqlite3 *db)
{
	static const char *const q[] = {
		"DELETE FROM records", "DELETE FROM segments", "DELETE FROM calls",
		"DELETE FROM locations",
	};
	sqlite3_stmt *st = NULL;
	int v = 0, r = LACRE_OK;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return LACRE_E_DB;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL) != SQLITE_OK)
		r = LACRE_E_DB;
	else if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	for (size_t i = 0; r == LACRE_OK && v == 2 && i < sizeof(q) / sizeof(q[0]); i++)
		if (sqlite3_exec(db, q[i], NULL, NULL, NULL) != SQLITE_OK)
			r = LACRE_E_DB;
	if (r == LACRE_OK && (v == 2 || v == 3) &&
	    sqlite3_exec(db, "UPDATE meta SET value = '4' WHERE key = 'schema'", NULL, NULL, NULL) !=
	    SQLITE_OK)
		r = LACRE_E_DB;
	if (sqlite3_exec(db, r == LACRE_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		r = LACRE_E_DB;
	return r;
}

int index_open_path(const char *path, struct index **out)
{
	struct index *ix = NULL;
	sqlite3_stmt *st = NULL;
	int fd, r = LACRE_E_DB, i;

	/* create the file ourselves so that it is 0600 from its first byte;
	 * SQLite gives its journal the same mode */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return LACRE_E_IO;
	if (fchmod(fd, 0600) != 0) {
		close(fd);
		return LACRE_E_IO;
	}
	close(fd);
	if ((ix = calloc(1, sizeof(*ix))) == NULL)
		return LACRE_E_NOMEM;
	/* NOMUTEX: a struct index is used by one thread at a time (every
	 * caller is a single-threaded command), so the connection's own mutex,
	 * taken on every sqlite3_column_* call, only costs (~10 % of an audio
	 * plan's 360k rows) */
	if (sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(ix->db, INDEX_BUSY_MS);
	sqlite3_extended_result_codes(ix->db, 1);
	if (sqlite3_exec(ix->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
			 "PRAGMA secure_delete=ON; PRAGMA trusted_schema=OFF; "
			 "PRAGMA cache_size=-65536; PRAGMA mmap_size=1073741824;", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(ix->db, index_schema, NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	/* schema 2 is migrated (index_migrate); any other version is not
	 * read: rebuild instead */
	if (index_migrate(ix->db) != LACRE_OK ||
	    sqlite3_prepare_v2(ix->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_int(st, 0) != INDEX_SCHEMA_VERSION)
			goto out;
	} else {
		sqlite3_finalize(st);
		st = NULL;
		if (sqlite3_prepare_v2(ix->db, "INSERT INTO meta (key, value) VALUES ('schema', ?1)",
				       -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_bind_int(st, 1, INDEX_SCHEMA_VERSION) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE)
			goto out;
	}
	for (i = 0; i < ST_N; i++)
		if (sqlite3_prepare_v3(ix->db, index_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &ix->st[i], NULL) != SQLITE_OK)
			goto out;
	*out = ix;
	ix = NULL;
	r = LACRE_OK;
out:
	sqlite3_finalize(st);
	index_close(ix);
	return r;
}

int index_open(const struct site *s, struct index **out)
{
	char path[SITE_PATH_MAX];

	if (site_path(s, INDEX_FILE, path, sizeof(path)) != LACRE_OK)
		return LACRE_E_TOO_LARGE;
	return index_open_path(path, out);
}

void index_close(struct index *ix)
{
	int i;

	if (ix == NULL)
		return;
	for (i = 0; i < ST_N; i++)
		sqlite3_finalize(ix->st[i]);
	sqlite3_close(ix->db);
	free(ix);
}

struct sqlite3 *index_db(struct index *ix)
{
	return ix->db;
}

int index_reset(struct index *ix, const char *warrant)
{
	static const char *const q[] = {
		"DELETE FROM records WHERE ?1 IS NULL OR warrant = ?1",
		"DELETE FROM segments WHERE ?1 IS NULL OR warrant = ?1",
		"DELETE FROM calls WHERE ?1 IS NULL OR warrant = ?1",
		"DELETE FROM locations WHERE ?1 IS NULL OR warrant = ?1",
		/* every warrant's audio plans, whatever ?1: a plan is fresh only
		 * while no segment row above its segments_gen (the segments
		 * table's rowid when it was made) holds its call's packets, and
		 * deleting the top segment rows lets SQLite give their rowids
		 * again, to another warrant's segments too (audio.c) */
		"DELETE FROM audio_plans WHERE ?1 IS NULL OR ?1 IS NOT NULL",
		"DELETE FROM audio_plan_segments WHERE ?1 IS NULL OR ?1 IS NOT NULL",
	};
	sqlite3_stmt *st = NULL;
	int r = LACRE_OK;
	size_t i;

	if (index_step_done(ix->st[ST_BEGIN]) != LACRE_OK)
		return LACRE_E_DB;
	for (i = 0; i < sizeof(q) / sizeof(q[0]) && r == LACRE_OK; i++) {
		if (sqlite3_prepare_v2(ix->db, q[i], -1, &st, NULL) != SQLITE_OK ||
		    (warrant ? sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT)
			     : sqlite3_bind_null(st, 1)) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE)
			r = LACRE_E_DB;
		sqlite3_finalize(st);
		st = NULL;
	}
	index_step_done(ix->st[r == LACRE_OK ? ST_COMMIT : ST_ROLLBACK]);
	return r;
}

void index_liid_text(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	static const char hx[] = "0123456789abcdef";
	size_t i, o = 0;
	int printable = n > 0;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			printable = 0;
	if (outlen == 0)
		return;
	if (printable) {
		for (i = 0; i < n && o + 1 < outlen; i++)
			out[o++] = (char)p[i];
	} else {
		if (outlen > 3) {
			out[o++] = '0';
			out[o++] = 'x';
		}
		for (i = 0; i < n && o + 2 < outlen; i++) {
			out[o++] = hx[p[i] >> 4];
			out[o++] = hx[p[i] & 15];
		}
	}
	out[o] = '\0';
}

/* Bind text, or NULL for an empty string. */
static int index_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL || !s[0])
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Text of an ETSI IPAddress (binary form preferred). */
static void index_ipaddr(const struct etsi_ipaddr *a, char *out, size_t outlen)
{
	out[0] = '\0';
	if (!a->present)
		return;
	if (a->bin.len == 4 || a->bin.len == 16)
		rtp_addr_text(a->bin.len == 4 ? 4 : 6, a->bin.p, out, outlen);
	else if (a->text.len)
		index_liid_text(a->text.p, a->text.len, out, outlen);
}

/* "0x" + hex of p[0..n) into out (truncated to fit). */
static void index_hex(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;

	if (outlen < 3) {
		if (outlen)
			out[0] = '\0';
		return;
	}
	out[o++] = '0';
	out[o++] = 'x';
	for (size_t i = 0; i < n && o + 2 < outlen; i++) {
		out[o++] = hx[p[i] >> 4];
		out[o++] = hx[p[i] & 15];
	}
	out[o] = '\0';
}

/* TBCD digits of an identity (IMSI, IMEI, MSISDN: low nibble first, F
 * filler) into out, else "0x" + hex when a nibble is not a digit; "" when
 * absent. */
static void index_tbcd(const struct etsi_bytes *b, char *out, size_t outlen)
{
	size_t k = 0;

	out[0] = '\0';
	if (!b->p || !b->len)
		return;
	for (size_t i = 0; i < b->len && k + 2 < outlen; i++) {
		unsigned lo = b->p[i] & 15u, hi = b->p[i] >> 4;
		if (lo > 9 || (hi > 9 && !(hi == 15 && i == b->len - 1)))
			goto hex;
		out[k++] = (char)('0' + lo);
		if (hi == 15)
			break;
		out[k++] = (char)('0' + hi);
	}
	out[k] = '\0';
	return;
hex:
	index_hex(b->p, b->len, out, outlen);
}

/* An APN / DNN: DNS label form ("\x08internet\x01c") as dotted text, else
 * the octets as index text (printable or 0x-hex). */
static void index_apn(const struct etsi_bytes *b, char *out, size_t outlen)
{
	size_t i = 0, k = 0;

	out[0] = '\0';
	if (!b->p || !b->len)
		return;
	while (i < b->len) {
		size_t l = b->p[i++];
		if (l == 0 || l > b->len - i || k + l + 2 > outlen)
			goto raw;
		if (k)
			out[k++] = '.';
		for (size_t j = 0; j < l; j++) {
			uint8_t c = b->p[i + j];
			if (c < 0x21 || c > 0x7e)
				goto raw;
			out[k++] = (char)c;
		}
		i += l;
	}
	out[k] = '\0';
	return;
raw:
	index_liid_text(b->p, b->len, out, outlen);
}

/* "MCC-MNC" of a 3-octet PLMN identity (TS 24.008) into out[8]; -1 if bad. */
static int index_plmn(const uint8_t *p, char *out)
{
	unsigned d[6] = { p[0] & 15u, p[0] >> 4, p[1] & 15u, p[2] & 15u, p[2] >> 4, p[1] >> 4 };
	size_t k = 0;

	for (int i = 0; i < 6; i++) {
		if (i == 5 && d[i] == 15)
			break;
		if (d[i] > 9)
			return -1;
		if (i == 3)
			out[k++] = '-';
		out[k++] = (char)('0' + d[i]);
	}
	out[k] = '\0';
	return 0;
}

/* Append " name=value" (no leading space on the first) to out. */
static void index_loc_add(char *out, size_t outlen, const char *name, const char *value)
{
	size_t l = strlen(out);

	snprintf(out + l, outlen - l, "%s%s=%s", l ? " " : "", name, value);
}

/* Append a location element as name=0x<hex>. */
static void index_loc_hex(char *out, size_t outlen, const char *name, const uint8_t *p, size_t n)
{
	char h[2 * 16 + 3];

	index_hex(p, n > 16 ? 16 : n, h, sizeof(h));
	index_loc_add(out, outlen, name, h);
}

/* The location of a mobile IRI as index text (FORMATS §10): space-separated
 * name=value, from the GTPv2 ULI (TS 29.274 §8.21: tai=MCC-MNC-TAC and
 * ecgi=MCC-MNC-ECI in hex, as `lacre decode` shows them; cgi, sai, rai,
 * lai as 0x-hex) and the UMTS Location (cgi, sai, rai as 0x-hex); the word
 * "present" when the decoder says a location field is there but gives
 * none of these (a 33.128 location); "" when there is none. */
static void index_location(const struct etsi_mobile *m, char *out, size_t outlen)
{
	static const size_t sz[6] = { 7, 7, 7, 5, 7, 5 };   /* CGI SAI RAI TAI ECGI LAI */
	static const char *const nm[6] = { "cgi", "sai", "rai", "tai", "ecgi", "lai" };
	struct lacre_rbuf b;
	const uint8_t *f, *v;
	char plmn[8], t[32];

	out[0] = '\0';
	lacre_rbuf_init(&b, m->uli.p, m->uli.p ? m->uli.len : 0);
	if (m->uli.p && lacre_rbuf_take(&b, 1, &f) == LACRE_OK) {
		for (int i = 0; i < 6; i++) {
			if (!(f[0] & (1u << i)))
				continue;
			if (lacre_rbuf_take(&b, sz[i], &v) != LACRE_OK)
				break;
			if ((i == 3 || i == 4) && index_plmn(v, plmn) == 0) {
				if (i == 3)
					snprintf(t, sizeof(t), "%s-%04x", plmn, (unsigned)v[3] << 8 | v[4]);
				else
					snprintf(t, sizeof(t), "%s-%07x", plmn,
						 (unsigned)(((uint32_t)(v[3] & 15u) << 24) | (uint32_t)v[4] << 16 |
							    (uint32_t)v[5] << 8 | v[6]));
				index_loc_add(out, outlen, nm[i], t);
			} else {
				index_loc_hex(out, outlen, nm[i], v, sz[i]);
			}
		}
	}
	if (m->cgi.p)
		index_loc_hex(out, outlen, "cgi", m->cgi.p, m->cgi.len);
	if (m->sai.p)
		index_loc_hex(out, outlen, "sai", m->sai.p, m->sai.len);
	if (m->rai.p)
		index_loc_hex(out, outlen, "rai", m->rai.p, m->rai.len);
	if (!out[0] && m->has_location > 0)
		snprintf(out, outlen, "present");
}

/* The PDN address of a mobile IRI: the pDP-address, else the GTPv2 PAA
 * (type 1 IPv4, 2 IPv6 prefix, 3 both: the IPv4 one), else the 33.128 UE
 * endpoint; "" when none. */
static void index_pdn(const struct etsi_mobile *m, char *out, size_t outlen)
{
	const struct etsi_bytes *a = &m->paa;

	index_ipaddr(&m->pdp_addr, out, outlen);
	if (out[0])
		return;
	if (a->p && a->len == 5 && (a->p[0] & 7u) == 1)
		rtp_addr_text(4, a->p + 1, out, outlen);
	else if (a->p && a->len == 18 && (a->p[0] & 7u) == 2)
		rtp_addr_text(6, a->p + 2, out, outlen);
	else if (a->p && a->len == 22 && (a->p[0] & 7u) == 3)
		rtp_addr_text(4, a->p + 18, out, outlen);
	else if (m->ue_ip.p && (m->ue_ip.len == 4 || m->ue_ip.len == 16))
		rtp_addr_text(m->ue_ip.len == 4 ? 4 : 6, m->ue_ip.p, out, outlen);
}

/* Bind the mobile columns (41..49) of a decoded EPS / UMTS / 33.128 IRI:
 * family, event, identities (33.128 SUPI / GPSI / PEI text when the TBCD
 * ones are absent), PDN address, APN (or DNN), location, RAT. */
static void index_bind_mobile(sqlite3_stmt *st, const struct etsi_mobile *m)
{
	char t[256];

	sqlite3_bind_int(st, 41, m->family);
	if (m->event >= 0)
		sqlite3_bind_int(st, 42, m->event);
	index_tbcd(&m->imsi, t, sizeof(t));
	if (!t[0] && m->supi.p)
		index_liid_text(m->supi.p, m->supi.len, t, sizeof(t));
	index_bind_text(st, 43, t);
	index_tbcd(&m->msisdn, t, sizeof(t));
	if (!t[0] && m->gpsi.p)
		index_liid_text(m->gpsi.p, m->gpsi.len, t, sizeof(t));
	index_bind_text(st, 44, t);
	index_tbcd(&m->imei, t, sizeof(t));
	if (!t[0] && m->pei.p)
		index_liid_text(m->pei.p, m->pei.len, t, sizeof(t));
	index_bind_text(st, 45, t);
	index_pdn(m, t, sizeof(t));
	index_bind_text(st, 46, t);
	index_apn(m->apn.p ? &m->apn : &m->dnn, t, sizeof(t));
	index_bind_text(st, 47, t);
	index_location(m, t, sizeof(t));
	index_bind_text(st, 48, t);
	if (m->rat >= 0)
		sqlite3_bind_int(st, 49, m->rat);
}

/*
 * The locations table rows of one record (FORMATS §10): one row per
 * location etsi_location_of decodes from the IRI pdu (NULL: not a decoded
 * IRI, no row), in the record's order, with the record's time.  When a
 * location element did not decode, problem holds why (on every row of the
 * record; a record whose only location failed, or that the decoder says
 * carries a location of a kind lacre does not read, gets one row of kind
 * "undecoded").  Replaces the record's earlier rows.
 */
static int index_add_locations(struct index *ix, const char *warrant, const char *segment,
			       uint64_t idx, const struct frame_record *rec, const char *liid,
			       const struct etsi_pdu *pdu)
{
	sqlite3_stmt *st = ix->st[ST_LOC_DEL];
	struct etsi_locations l;
	const char *problem = NULL;
	size_t rows;
	int lr, r;

	sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, segment, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)idx);
	if ((r = index_step_done(st)) != LACRE_OK || pdu == NULL)
		return r;
	lr = etsi_location_of(pdu, &l);
	if (lr != LACRE_OK)
		problem = lacre_strerror(lr);
	else if (l.dropped)
		problem = "more locations than lacre keeps per record";
	rows = l.n;
	if (rows == 0 && (lr != LACRE_OK || etsi_iri_location(pdu) == 1)) {
		rows = 1;                  /* the "undecoded" row */
		if (!problem)
			problem = "a location lacre does not decode";
	}
	st = ix->st[ST_LOC_ADD];
	for (size_t i = 0; i < rows && r == LACRE_OK; i++) {
		const struct etsi_loc *e = l.n ? &l.v[i] : NULL;
		sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, segment, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)idx);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)i);
		sqlite3_bind_text(st, 5, liid, -1, SQLITE_TRANSIENT);
		if (rec->has_cin)
			sqlite3_bind_int64(st, 6, rec->cin);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)rec->seq);
		sqlite3_bind_int64(st, 8, rec->time_kind ? rec->time_us : rec->recv_us);
		if (rec->iri_type)
			sqlite3_bind_int(st, 9, rec->iri_type);
		sqlite3_bind_text(st, 10, e ? etsi_loc_kind_name(e->kind) : "undecoded", -1,
				  SQLITE_STATIC);
		if (e) {
			index_bind_text(st, 11, e->mcc);
			index_bind_text(st, 12, e->mnc);
			if (e->has_area)
				sqlite3_bind_int64(st, 13, e->area);
			if (e->has_rac)
				sqlite3_bind_int64(st, 14, e->rac);
			if (e->has_cell)
				sqlite3_bind_int64(st, 15, e->cell);
			if (e->has_point) {
				sqlite3_bind_int64(st, 16, e->lat_udeg);
				sqlite3_bind_int64(st, 17, e->lon_udeg);
			}
			index_bind_text(st, 18, e->text);
		}
		index_bind_text(st, 19, problem);
		r = index_step_done(st);
	}
	return r;
}

int index_add_record(struct index *ix, const char *warrant, const char *segment,
		     uint64_t idx, const struct frame_record *rec)
{
	sqlite3_stmt *st = ix->st[ST_REC_ADD];
	struct record_pdu v;
	struct etsi_pdu pdu;
	struct sip_summary sip;
	struct rtp_frame fr;
	uint8_t commitment[32];
	char liid[2 * FRAME_LIID_MAX + 3], a1[64], a2[64], content[FRAME_CONTENT_MAX + 1];
	int r, decoded, have_sip = 0, have_rtp = 0;

	if ((r = frame_commitment(rec->salt, rec->canon.p, rec->canon.len, commitment)) != LACRE_OK)
		return r;
	/* the decrypted payload when the receiver sealed one (record_pdu.h) */
	record_pdu_init(&v);
	decoded = record_pdu_decode(rec, &v) == LACRE_OK;
	pdu = v.pdu;
	index_liid_text(rec->liid.p, rec->liid.len, liid, sizeof(liid));
	memcpy(content, rec->content.p, rec->content.len);
	content[rec->content.len] = '\0';
	sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, segment, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)idx);
	sqlite3_bind_text(st, 4, liid, -1, SQLITE_TRANSIENT);
	if (rec->has_cin)
		sqlite3_bind_int64(st, 5, rec->cin);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)rec->seq);
	sqlite3_bind_text(st, 7, etsi_kind_name(rec->kind) ? etsi_kind_name(rec->kind) : "other",
			  -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, rec->time_kind ? rec->time_us : rec->recv_us);
	sqlite3_bind_int64(st, 9, rec->recv_us);
	if (rec->iri_type)
		sqlite3_bind_int(st, 10, rec->iri_type);
	index_bind_text(st, 11, content);
	if (rec->direction != FRAME_DIRECTION_NONE)
		sqlite3_bind_int(st, 12, rec->direction);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)rec->pdu.len);
	sqlite3_bind_blob(st, 14, commitment, 32, SQLITE_TRANSIENT);
	if (decoded && pdu.kind == ETSI_KIND_IRI && pdu.content_tag == ETSI_IRI_IPMMIRI &&
	    pdu.ipmmiri.sip.len && sip_parse(pdu.ipmmiri.sip.p, pdu.ipmmiri.sip.len, &sip) == LACRE_OK)
		have_sip = 1;
	if (have_sip) {
		index_bind_text(st, 15, sip.call_id);
		index_bind_text(st, 16, sip.method);
		if (sip.status)
			sqlite3_bind_int(st, 17, sip.status);
		index_bind_text(st, 18, sip.from);
		index_bind_text(st, 19, sip.to);
		index_bind_text(st, 20, sip.pai);
		index_ipaddr(&pdu.ipmmiri.src, a1, sizeof(a1));
		index_ipaddr(&pdu.ipmmiri.dst, a2, sizeof(a2));
		index_bind_text(st, 21, a1);
		index_bind_text(st, 22, a2);
		index_bind_text(st, 23, sip.sdp_addr);
		if (sip.sdp_port)
			sqlite3_bind_int(st, 24, (int)sip.sdp_port);
		if (sip.sdp_pt >= 0)
			sqlite3_bind_int(st, 25, sip.sdp_pt);
	}
	if (decoded && pdu.kind == ETSI_KIND_CC && pdu.content_tag == ETSI_CC_IPMMCC) {
		sqlite3_bind_int(st, 26, pdu.ipmmcc.frame_type);
		if (rtp_frame_parse(pdu.ipmmcc.frame_type, pdu.content_bytes.p, pdu.content_bytes.len,
				    &fr) == LACRE_OK)
			have_rtp = 1;
	}
	if (have_rtp) {
		rtp_addr_text(fr.ip_version, fr.src, a1, sizeof(a1));
		rtp_addr_text(fr.ip_version, fr.dst, a2, sizeof(a2));
		index_bind_text(st, 27, a1);
		index_bind_text(st, 28, a2);
		if (fr.has_ports) {
			sqlite3_bind_int(st, 29, fr.sport);
			sqlite3_bind_int(st, 30, fr.dport);
		}
		sqlite3_bind_int64(st, 31, fr.rtp.ssrc);
		sqlite3_bind_int(st, 32, (int)fr.rtp.pt);
		sqlite3_bind_int(st, 33, fr.rtp.seq);
		sqlite3_bind_int64(st, 34, fr.rtp.ts);
		sqlite3_bind_int64(st, 35, (sqlite3_int64)fr.rtp.payload_len);
	}
	if (decoded && pdu.kind == ETSI_KIND_IRI && pdu.content_tag == ETSI_IRI_IPIRI) {
		if (pdu.ipiri.access_event >= 0)
			sqlite3_bind_int(st, 36, pdu.ipiri.access_event);
		index_ipaddr(&pdu.ipiri.target_ip, a1, sizeof(a1));
		index_bind_text(st, 37, a1);
		if (pdu.ipiri.has_octets_rx)
			sqlite3_bind_int64(st, 38, (sqlite3_int64)pdu.ipiri.octets_rx);
		if (pdu.ipiri.has_octets_tx)
			sqlite3_bind_int64(st, 39, (sqlite3_int64)pdu.ipiri.octets_tx);
	}
	if (decoded && pdu.kind == ETSI_KIND_CC) {
		/* the IP packet's length where the CC holds one (an EPS CC-PDU's
		 * payload, not its ULIC header), else the content's */
		const uint8_t *pp;
		size_t pn, po;
		sqlite3_bind_int64(st, 40, (sqlite3_int64)(pcap_cc_packet(&pdu, &pp, &pn, &po) == LACRE_OK
							   ? pn : pdu.content_bytes.len));
	}
	if (decoded && pdu.kind == ETSI_KIND_IRI && pdu.mobile.family)
		index_bind_mobile(st, &pdu.mobile);
	r = index_step_done(st);
	if (r == LACRE_OK)
		r = index_add_locations(ix, warrant, segment, idx, rec, liid,
					decoded && pdu.kind == ETSI_KIND_IRI ? &pdu : NULL);
	record_pdu_free(&v);
	return r;
}

struct index_names {
	char **v;
	size_t n, cap;
};

/* lacre_store_list callback: collect names. */
static int index_collect(void *arg, const char *name, uint64_t size)
{
	struct index_names *l = arg;
	char **nv;

	(void)size;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		if ((nv = realloc(l->v, nc * sizeof(*nv))) == NULL)
			return LACRE_E_NOMEM;
		l->v = nv;
		l->cap = nc;
	}
	if ((l->v[l->n] = strdup(name)) == NULL)
		return LACRE_E_NOMEM;
	l->n++;
	return LACRE_OK;
}

void index_free_names(char **segs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(segs[i]);
	free(segs);
}

/* Whether segment was already looked at for warrant (1), not (0), or an
 * error. */
static int index_seen(struct index *ix, const char *warrant, const char *segment)
{
	sqlite3_stmt *st = ix->st[ST_SEG_SEEN];
	int rc;

	sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, segment, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : LACRE_E_DB;
}

/* Record that segment was looked at. */
static int index_mark(struct index *ix, const char *warrant, const char *segment, int opened,
		      int64_t created_us, uint64_t records)
{
	sqlite3_stmt *st = ix->st[ST_SEG_ADD];
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, segment, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, opened);
	if (opened)
		sqlite3_bind_int64(st, 4, created_us);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)records);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	return index_step_done(st);
}

/* Whether a record belongs to warrant's index. */
static int index_is_warrants(const struct frame_record *rec, const char *warrant)
{
	return rec->route == FRAME_ROUTE_WARRANT && rec->warrant.len == strlen(warrant) &&
	       !memcmp(rec->warrant.p, warrant, rec->warrant.len);
}

/* Index one segment object (already fetched whole into obj). */
static int index_segment(struct index *ix, const char *warrant, const char *name,
			 const struct lacre_dbuf *obj, const struct age_x25519_identity *id,
			 uint64_t *added, const char **what)
{
	struct segment_reader *sr = NULL;
	struct frame_record rec;
	uint64_t idx = 0, n = 0, unlogged = 0, v1miss = 0;
	uint8_t (*commits)[32] = NULL;
	size_t cap = 0;
	int r, done = 0;

	*what = "the segment does not open";
	r = segment_reader_new(obj->p, obj->len, id, name + strlen(ACCESS_SEGMENT_PREFIX), &sr);
	if (r != LACRE_OK)
		return r;
	if (index_step_done(ix->st[ST_BEGIN]) != LACRE_OK) {
		segment_reader_free(sr);
		*what = "the index cannot start a transaction";
		return LACRE_E_DB;
	}
	for (;;) {
		*what = "a chunk or frame failed its check";
		if ((r = segment_reader_next(sr, &rec, &done)) != LACRE_OK || done)
			break;
		if (idx == cap) {
			size_t nc = cap ? 2 * cap : 256;
			uint8_t (*v)[32] = realloc(commits, nc * 32);
			*what = "out of memory";
			if (!v) {
				r = LACRE_E_NOMEM;
				break;
			}
			commits = v;
			cap = nc;
		}
		*what = "a record's commitment cannot be computed";
		if ((r = frame_commitment(rec.salt, rec.canon.p, rec.canon.len, commits[idx])) != LACRE_OK)
			break;
		if (index_is_warrants(&rec, warrant)) {
			/* added now, rolled back below if the log does not hold it */
			if (!index_in_log(ix, commits[idx]))
				v1miss++;
			*what = "the index cannot store a record";
			if ((r = index_add_record(ix, warrant, name, idx, &rec)) != LACRE_OK)
				break;
			n++;
		}
		idx++;
	}
	if (r == LACRE_OK)
		unlogged = index_segment_unlogged(ix, name, (const uint8_t (*)[32])commits, idx, v1miss, n);
	free(commits);
	if (r == LACRE_OK && unlogged) {
		/* none of it indexed, and the segment not marked: it is
		 * reported again at every update until the log explains it */
		*what = "records in no signed checkpoint (the ingest log does not name them; "
			"run lacre audit --site --deep): none of this segment indexed";
		r = LACRE_E_VERIFY;
	}
	if (r == LACRE_OK)
		r = index_mark(ix, warrant, name, 1, segment_reader_header(sr)->created_us, n);
	segment_reader_free(sr);
	if (r != LACRE_OK) {
		index_step_done(ix->st[ST_ROLLBACK]);
		return r;
	}
	if (index_step_done(ix->st[ST_COMMIT]) != LACRE_OK) {
		*what = "the index cannot commit";
		return LACRE_E_DB;
	}
	*added = n;
	return LACRE_OK;
}

int index_update(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
		 const char *warrant,
		 void (*problem)(void *arg, const char *segment, int err, const char *what),
		 void *arg, struct index_report *rep_out)
{
	struct index_names l = { 0 };
	struct index_report rep = { 0 };
	struct lacre_dbuf buf;
	struct age_reader *ar = NULL;
	const char *what;
	uint64_t added;
	size_t i;
	int r, first = LACRE_OK, seen;

	lacre_dbuf_init(&buf, INDEX_SEGMENT_MAX);
	lacre_dbuf_set_secret(&buf);
	if ((r = lacre_store_list(st, ACCESS_SEGMENT_PREFIX, index_collect, &l)) != LACRE_OK)
		goto out;
	rep.segments_listed = l.n;
	for (i = 0; i < l.n; i++) {
		if ((seen = index_seen(ix, warrant, l.v[i])) < 0) {
			r = seen;
			goto out;
		}
		if (seen)
			continue;
		rep.segments_new++;
		/* the header alone says whether the identity opens it */
		lacre_dbuf_reset(&buf);
		r = lacre_store_get(st, l.v[i], 0, INDEX_HEAD_BYTES, &buf);
		if (r == LACRE_OK) {
			r = age_reader_new(buf.p, buf.len, id, &ar);
			age_reader_free(ar);
			ar = NULL;
			if (r == LACRE_E_AUTH) {
				if ((r = index_mark(ix, warrant, l.v[i], 0, 0, 0)) != LACRE_OK)
					goto out;
				continue;
			}
			lacre_dbuf_reset(&buf);
			r = lacre_store_get(st, l.v[i], 0, SIZE_MAX, &buf);
		}
		what = "cannot read the segment";
		if (r == LACRE_OK)
			r = index_segment(ix, warrant, l.v[i], &buf, id, &added, &what);
		if (r == LACRE_E_AUTH) {   /* another recipient after all */
			if ((r = index_mark(ix, warrant, l.v[i], 0, 0, 0)) != LACRE_OK)
				goto out;
			continue;
		}
		if (r == LACRE_E_DB)
			goto out;
		if (r != LACRE_OK) {
			rep.problems++;
			if (first == LACRE_OK)
				first = r;
			if (problem)
				problem(arg, l.v[i], r, what);
			continue;
		}
		rep.segments_opened++;
		rep.records += added;
	}
	r = first;
out:
	lacre_dbuf_free(&buf);
	index_free_names(l.v, l.n);
	if (rep_out)
		*rep_out = rep;
	return r;
}

int index_segments(struct index *ix, const char *warrant, const char *cond, int has_cin,
		   uint32_t cin, char ***segs_out, size_t *n_out)
{
	struct index_names l = { 0 };
	struct lacre_dbuf q;
	sqlite3_stmt *st = NULL;
	const char *sql;
	int r = LACRE_E_DB, rc;

	lacre_dbuf_init(&q, 4096);
	/* cond is a constant of the caller's code, never data */
	if (lacre_dbuf_printf(&q, "SELECT s.segment FROM segments s WHERE s.warrant = ?1 AND "
			      "s.opened = 1 AND EXISTS (SELECT 1 FROM records WHERE warrant = ?1 AND "
			      "segment = s.segment AND (%s)) ORDER BY s.created_us, s.segment",
			      cond) != LACRE_OK ||
	    lacre_dbuf_cstr(&q, &sql) != LACRE_OK) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
	if (has_cin)
		sqlite3_bind_int64(st, 2, cin);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = index_collect(&l, (const char *)sqlite3_column_text(st, 0), 0)) != LACRE_OK)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		r = LACRE_E_DB;
		goto out;
	}
	*segs_out = l.v;
	*n_out = l.n;
	l.v = NULL;
	l.n = 0;
	r = LACRE_OK;
out:
	sqlite3_finalize(st);
	lacre_dbuf_free(&q);
	index_free_names(l.v, l.n);
	return r;
}

/* The commitment the index holds for (warrant, segment, idx): 1 found,
 * 0 not indexed, or an error. */
static int index_commitment(struct index *ix, const char *warrant, const char *segment,
			    uint64_t idx, uint8_t out[32])
{
	sqlite3_stmt *st = ix->st[ST_REC_COMMIT];
	int rc, r = 0;

	sqlite3_bind_text(st, 1, warrant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, segment, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)idx);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) == 32) {
			memcpy(out, sqlite3_column_blob(st, 0), 32);
			r = 1;
		} else {
			r = LACRE_E_DB;
		}
	} else if (rc != SQLITE_DONE) {
		r = LACRE_E_DB;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

int index_read(struct index *ix, struct lacre_store *st, const struct age_x25519_identity *id,
	       const char *warrant, char *const *segs, size_t n,
	       const uint8_t *(*want)(void *arg, const char *segment, uint64_t idx),
	       int (*fn)(void *arg, const struct access_record *r), void *arg,
	       void (*problem)(void *parg, const char *segment, int err, const char *what),
	       void *parg)
{
	struct lacre_dbuf buf;
	struct segment_reader *sr = NULL;
	struct frame_record rec;
	struct access_record ar;
	uint8_t have[32], got[32];
	const uint8_t *exp;
	size_t i;
	int r = LACRE_OK, first = LACRE_OK, done, k, in_tx;

	lacre_dbuf_init(&buf, INDEX_SEGMENT_MAX);
	lacre_dbuf_set_secret(&buf);
	/* one read transaction for all the lookups: no lock round trip per record */
	in_tx = sqlite3_get_autocommit(ix->db) && sqlite3_exec(ix->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	for (i = 0; i < n; i++) {
		uint64_t idx = 0;
		const char *what = "the segment does not open";

		lacre_dbuf_reset(&buf);
		r = lacre_store_get(st, segs[i], 0, SIZE_MAX, &buf);
		if (r == LACRE_OK)
			r = segment_reader_new(buf.p, buf.len, id,
					       segs[i] + strlen(ACCESS_SEGMENT_PREFIX), &sr);
		while (r == LACRE_OK) {
			what = "a chunk or frame failed its check";
			if ((r = segment_reader_next(sr, &rec, &done)) != LACRE_OK || done)
				break;
			exp = NULL;
			if (index_is_warrants(&rec, warrant) && want)
				exp = want(arg, segs[i], idx);
			if (index_is_warrants(&rec, warrant) && (!want || exp)) {
				what = "the record differs from the index (run lacre reindex)";
				k = 1;
				if (exp)
					memcpy(have, exp, 32);
				else
					k = index_commitment(ix, warrant, segs[i], idx, have);
				if (k < 0) {
					r = k;
					break;
				}
				if ((r = frame_commitment(rec.salt, rec.canon.p, rec.canon.len, got)) != LACRE_OK)
					break;
				if (k == 0 || memcmp(have, got, 32) != 0) {
					r = LACRE_E_VERIFY;
					break;
				}
				ar.rec = &rec;
				ar.segment = segs[i];
				ar.index = idx;
				if ((r = fn(arg, &ar)) != 0)
					goto out;
			}
			idx++;
		}
		segment_reader_free(sr);
		sr = NULL;
		if (r == LACRE_E_DB)
			goto out;
		if (r != LACRE_OK) {
			if (first == LACRE_OK)
				first = r;
			if (problem)
				problem(parg, segs[i], r, what);
			r = LACRE_OK;
		}
	}
	r = first;
out:
	if (in_tx)
		sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL);
	segment_reader_free(sr);
	lacre_dbuf_free(&buf);
	return r;
}
