/*
 * verify.h - the offline verifier's core (lacre-verify; docs/cmd-lacre-verify.md).
 * Owned by lib/verify/verify.c.  Needs no site, no network, no database:
 * it links libcrypto, the age reader, frames, Merkle proofs, signed notes,
 * the PS-PDU decoder and the JSON writer only.
 *
 * verify_package() checks a parsed evidence package (package.h) member by
 * member and records every problem with the member it concerns and a
 * precise reason; it never stops at the first one.  Trust comes only from
 * the keys the caller passes (the court's copy of the ingest log's vkey,
 * the witnesses' vkeys or a tlog-policy, the site's export vkey).  Without
 * the ingest log's key (or a policy listing it) the result is never verified (fail closed): the package's own copy is
 * used only to find the other problems, and VERIFY_NO_TRUSTED_KEY is one of
 * them.  Without the export key the package's own copy checks the manifest
 * signature and the result says so (consistency, not origin): the records'
 * origin rests on the log key.
 */
#ifndef LACRE_VERIFY_H
#define LACRE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/json.h"
#include "lacre/note.h"
#include "lacre/package.h"

#define VERIFY_MAX_WITNESSES 32
#define VERIFY_MAX_LOGS 16            /* ingest logs one package may name */
#define VERIFY_PROBLEMS_LISTED 500
/* The problem (member "checkpoint") of a package checked without a trusted
 * ingest-log key. */
#define VERIFY_NO_TRUSTED_KEY "not verified: no trusted log key (give --log-vkey with the " \
	"ingest log's key as the court received it from the site, or --policy)"

struct verify_opts {
	const struct note_verifier *log_key;       /* trusted ingest-log key, or NULL */
	const struct note_verifier *log_keys;      /* more trusted ingest-log keys (a
						    * package may span several logs of
						    * one site: each log's checkpoint is
						    * checked with the key named by its
						    * origin) */
	size_t nlog_keys;
	const struct note_verifier *export_key;    /* trusted export key, or NULL */
	const struct note_verifier *witnesses;     /* trusted cosigners */
	size_t nw;
	size_t quorum;                             /* cosignatures required (<= nw) */
	const struct policy *policy;               /* or a trusted tlog-policy: a log key it
						    * lists for the checkpoint's origin and
						    * its quorum (then log_key, witnesses and
						    * quorum are not used) */
};

struct verify_problem {
	char member[64];
	char what[320];
};

struct verify_result {
	int verified;                 /* 1: no problem */
	char package_id[33];
	char warrant[64];
	char case_id[130];
	char court[130];
	char origin[NOTE_NAME_MAX + 1];   /* the package's first log */
	uint64_t log_size;
	size_t nlogs;                     /* the logs the package names (manifest) */
	char origins[VERIFY_MAX_LOGS][NOTE_NAME_MAX + 1];   /* each one's checkpoint */
	uint64_t log_sizes[VERIFY_MAX_LOGS];
	int log_key_trusted;          /* 1: every log checked with the caller's key
				       * (else never verified) */
	int export_key_trusted;
	size_t cosignatures;          /* trusted witnesses that cosigned (the fewest
				       * of any log's checkpoint) */
	uint64_t records, included, excluded;
	uint64_t events;              /* accounting events (sealed to oversight) checked */
	uint64_t pdu_bytes;
	uint64_t decrypted;           /* records whose pre-encryption form (the
				       * decrypted payload) was checked against
				       * the PDU and found under the commitment */
	uint64_t members;
	uint64_t problems;            /* all of them; the first VERIFY_PROBLEMS_LISTED are kept */
	struct verify_problem *problem;
	size_t nproblem;
	struct lacre_dbuf excl;       /* the exclusions, one text line each */
	struct lacre_dbuf notes;      /* absent members and trust notes, one line each */
};

/* Verify pk (see above).  Returns LACRE_OK when the checks ran (read
 * res->verified), LACRE_E_NOMEM otherwise.  Free res with
 * verify_result_free. */
int verify_package(const struct package *pk, const struct verify_opts *o,
		   struct verify_result *res);
void verify_result_free(struct verify_result *res);
/* Add a problem by hand (the CLI uses it for a package that does not open). */
void verify_add_problem(struct verify_result *res, const char *member, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The readable report, one line each, ending "VERIFIED: ..." or "NOT
 * VERIFIED: N problem(s)", appended to out: what lacre-verify prints and
 * what lacre export prints for its self-check.  log_trust and export_trust
 * say where the trusted keys came from (shown when they were given). */
int verify_result_text(const struct verify_result *res, const char *path, const char *log_trust,
		       const char *export_trust, struct lacre_dbuf *out);
/* The result as one JSON object. */
void verify_result_json(struct json_w *w, const struct verify_result *res);

#endif
