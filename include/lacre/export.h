/*
 * export.h - evidence packages for the court (legal rules L6, L10, L13;
 * LECrim 588 ter f and 588 ter i).  Owned by lib/access/export.c; the
 * package layout is docs/FORMATS.md §9 and include/lacre/package.h.
 *
 * export_run() decrypts a warrant's records (access domain: the caller has
 * passed the audit-first gate of acl.h, and the gate's session owns the
 * unlocked keystore, lib/keeper/access_key.h), makes a
 * receipt for each from the site's ingest log (receipts.h), and writes one
 * age file sealed to the court's recipient holding: every record's PDU and
 * frame body, the JSON lines of `lacre records --json`, the receipts, the
 * checkpoint, the log's vkey, the completeness report, the exclusion list
 * of a party copy, the access report, and a manifest signed by the site's
 * export key (keystore secret "export-signer", Ed25519, key name
 * "lacre/<site>/export", public key in DIR/ledger/export.vkey).
 */
#ifndef LACRE_EXPORT_H
#define LACRE_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/note.h"
#include "lacre/site.h"

struct acl_session; /* the gate's (acl.h): it owns the keys, and every key
		     * is read through it (lib/keeper/access_key.h) */

#define EXPORT_SIGNER_KEY "export-signer"  /* keystore name of the export key seed */
#define EXPORT_EXCL_TEXT_MAX 160
/* Cap on the package plaintext kept in memory for the self-check (export
 * verifies the package before it is sealed; a larger export fails). */
#define EXPORT_SELF_CHECK_MAX ((size_t)16 << 30)

/* One exclusion of a party copy (588 ter i). */
struct export_exclusion {
	int is_range;                         /* 0: one record, 1: a time range */
	char segment[80];                     /* "seg/<32 hex>" (record) */
	uint64_t index;                       /* record's position in its segment */
	int64_t from_us, to_us;               /* [from, to) (range) */
	char text[EXPORT_EXCL_TEXT_MAX];      /* as given on the command line */
};

struct export_opts {
	const char *warrant;                  /* warrant id */
	int64_t from_us, to_us;               /* INT64_MIN / INT64_MAX: open */
	uint8_t court[32];                    /* the court's X25519 recipient */
	const char *court_recipient;          /* its "age1..." text */
	const char *path;                     /* output file (must not exist) */
	const char *path_label;               /* the name reports give it (a keeper worker's
					       * client's path, not its private copy); NULL: path */
	const struct export_exclusion *excl;
	size_t n_excl;
	const char *access_report;            /* text of the access report, or NULL
					       * ("access log not available") */
	int oversight;                        /* 1: add the quarantine count for the
					       * warrant's LIIDs and the receiver's
					       * accounting events that name them
					       * (needs the oversight key; the caller
					       * authorised action "quarantine") */
	int no_media;                         /* 1: no WAV / pcap renderings */
	const char *exporter;                 /* acting user, or NULL */
	const char *justification;            /* or NULL */
	void (*progress)(void *arg, const char *line); /* problems, one line each (may be NULL) */
	void *arg;
	struct lacre_dbuf *self_check;        /* receives the self-check's report (the
					       * lines lacre-verify prints), or NULL */
	const struct acl_session *session;    /* the gate's session that allowed "export"
					       * on warrant (and "quarantine" for
					       * oversight): the keys are read through
					       * it (access_key.h); NULL opens none */
};

struct export_result {
	char package_id[33];
	uint64_t records;                     /* in the export sequence */
	uint64_t included, excluded;
	uint64_t events;                      /* accounting events included */
	uint64_t wavs, pcaps;                 /* renderings included */
	uint64_t quarantined;                 /* quarantined records of the LIIDs (counted) */
	uint64_t unlogged;                    /* records in no checkpoint: left out, named in
					       * unlogged.txt (not in records/included) */
	uint64_t pdu_bytes;                   /* PDU bytes included */
	uint64_t plain_bytes;                 /* package plaintext */
	uint64_t log_size;                    /* checkpoint the receipts prove against (the
					       * package's first log) */
	size_t logs;                          /* ingest logs the package names (>= 1) */
	char export_vkey[NOTE_KEY_TEXT_MAX + 1];
	int self_verified;                    /* 1: the self-check said VERIFIED (always,
					       * when export_run returns LACRE_OK) */
};

/* Parse "seg/<hex>:N" or "<hex>:N" (record) and "T1/T2" (range). */
int export_exclusion_parse_record(const char *s, struct export_exclusion *out);
int export_exclusion_parse_range(const char *s, struct export_exclusion *out);

/* Load the export signing key of site s through ss, creating it (and
 * DIR/ledger/export.vkey) on first use.  Caller frees with
 * note_signer_free(). */
struct note_signer;
int export_signer(const struct site *s, const struct acl_session *ss,
		  struct note_signer **out);

/* The access report of a package: every access-log entry that names
 * warrant (read with the auditor identity through ss, each verified by
 * accesslog_read), one text line each, appended to out.  LACRE_E_NOT_FOUND
 * when the site has no access log or no auditor key (msg says so). */
struct lacre_dbuf;
int export_access_report(const struct site *s, const struct acl_session *ss,
			 const char *warrant, struct lacre_dbuf *out, char *msg, size_t msglen);

/* The receipt of one record of warrant (segment "seg/<hex>", index in the
 * segment), as `lacre proof record` writes it: decrypts the segment with
 * the warrant's key, recomputes the record's commitment and proves it in
 * the ingest log's checkpoint.  For a record of a v2 segment (one leaf per
 * segment) out gets the tlog-proof of the segment's entry and
 * segment_proof the lacre-segment-proof from the record to that entry's
 * records root; for a v1 record out proves its own leaf and segment_proof
 * is left as it was.  commitment and leaf (may be NULL) receive what the
 * receipts prove (leaf: the entry's for v2).  LACRE_E_NOT_FOUND: no such record, or one in no
 * published checkpoint (msg says whether ingest may still publish it). */
int export_record_receipt(const struct site *s, const struct acl_session *ss,
			  const char *warrant, const char *segment, uint64_t index, struct lacre_dbuf *out,
			  struct lacre_dbuf *segment_proof, uint8_t commitment[32], uint64_t *leaf,
			  char *msg, size_t msglen);

/* Write the package (see above).  A record the checkpoint does not cover
 * (the ingest log does not name it, or has not published it yet) is not
 * exported: it is named in unlogged.txt and, per segment, in an `absent
 * unlogged` manifest line and a progress line (res->unlogged counts them);
 * the export never waits for a publication.  Errors: LACRE_E_NOT_FOUND (no
 * such warrant), LACRE_E_SHREDDED, LACRE_E_VERIFY / LACRE_E_CORRUPT / LACRE_E_TRUNCATED
 * (damaged sealed data or ledger: nothing is written), LACRE_E_EXISTS (the
 * output exists), LACRE_E_INVALID (an exclusion matches no record),
 * LACRE_E_IO.  msg explains a failure in one line. */
int export_run(const struct site *s, const struct export_opts *o,
	       struct export_result *res, char *msg, size_t msglen);

#endif
