/*
 * warrant.h - warrants: the court orders lacre routes intercepted records
 * by (DESIGN.md §3, legal rules L1-L5 of spec/legal-rules.md).
 *
 * The history of every warrant lives in DIR/warrants.log, an append-only
 * file of hash-chained events (add, extend, confirm, cease; format in
 * docs/FORMATS.md §4), each signed with the site's warrant-log Ed25519 key
 * (private half in the keystore, public half = warrants.signer in
 * lacre.conf), so ingest can check them without any secret.  The current state is derived by replaying it, and
 * nothing is ever edited: an extension is a new period with its own order,
 * a cessation is a new event.
 *
 * Two sides use this header:
 *  - the ingest domain (no secret): warrant_registry_load(),
 *    warrant_registry_reload_if_changed() and warrant_route(), which maps
 *    (LIID, time, category) to a warrant's recipient or to a quarantine
 *    reason.  The registry is not locked internally: serialise reloads
 *    against routing (e.g. one thread, or a rwlock);
 *  - the access domain: warrant_add/extend/confirm/cease, which check the
 *    legal rules (legal.c) under an exclusive lock of the log and append.
 *
 * Times are Unix microseconds (int64_t, UTC); windows are half-open
 * [from, to).  Owned by lib/site/warrant*.c and lib/site/legal.c.
 */
#ifndef LACRE_WARRANT_H
#define LACRE_WARRANT_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/age.h"
#include "lacre/site.h"

#define WARRANT_ID_MAX 32          /* "W-000001" with NUL */
#define WARRANT_TEXT_MAX 128       /* case, unit, court, order ids, targets */
#define WARRANT_MAX_TARGETS 8
#define WARRANT_MAX_LIIDS 16
#define WARRANT_LIID_MAX 64        /* LIID bytes (ETSI: 1..25 octets) */
#define WARRANT_MAX_PERIODS 24     /* the original order and its extensions */
#define WARRANT_LOG_MAX (256u * 1024 * 1024) /* cap on warrants.log */
#define WARRANT_TIME_MAX 32        /* "2026-01-01T00:00:00.000000Z" with NUL */
#define WARRANT_MAX_OPERATORS 4    /* operators obliged to deliver one warrant */

#define WARRANT_US_PER_HOUR INT64_C(3600000000)
#define WARRANT_EMERGENCY_US (72 * WARRANT_US_PER_HOUR) /* L5 */

/* Categories an order authorises (L2). */
enum warrant_category {
	WARRANT_CAT_CONTENT = 1,   /* HI3 content of communication */
	WARRANT_CAT_IRI = 2,       /* HI2 traffic data / IRI */
	WARRANT_CAT_LOCATION = 4,  /* geolocation */
};

/* One authorised period: the original order or an extension (a new order). */
struct warrant_period {
	char order_id[WARRANT_TEXT_MAX];
	int64_t order_date;
	int64_t from;
	int64_t to;
};

/* The derived state of one warrant. */
struct warrant {
	char id[WARRANT_ID_MAX];
	char case_id[WARRANT_TEXT_MAX];
	char unit[WARRANT_TEXT_MAX];
	char court[WARRANT_TEXT_MAX];
	char authority[WARRANT_TEXT_MAX];    /* issuing authority of an emergency order */
	unsigned categories;                 /* enum warrant_category bits */
	size_t n_targets;
	char targets[WARRANT_MAX_TARGETS][WARRANT_TEXT_MAX];
	size_t n_liids;
	char liids[WARRANT_MAX_LIIDS][WARRANT_LIID_MAX + 1];
	int emergency;
	int confirmed;                       /* emergency order confirmed by the judge */
	char confirm_order[WARRANT_TEXT_MAX];
	int64_t confirm_date;
	size_t n_periods;
	struct warrant_period periods[WARRANT_MAX_PERIODS];
	int ceased;
	int64_t ceased_at;                   /* effective end by cessation order */
	char cease_order[WARRANT_TEXT_MAX];
	int64_t cease_date;
	char recipient[AGE_RECIPIENT_MAX];   /* "age1..." */
	uint8_t recipient_pub[32];
	int64_t created;                     /* time of the add event */
	/* the operators obliged to deliver it (lacre.conf operator.NAME);
	 * none: a record of its LIIDs is accepted from any connection */
	size_t n_operators;
	char operators[WARRANT_MAX_OPERATORS][SITE_OPERATOR_NAME_MAX];
};

/* The ingest-side view of the warrant log. */
struct warrant_registry;

/* What warrant_route() hands the router: copies, valid after a reload. */
struct warrant_match {
	char id[WARRANT_ID_MAX];
	uint8_t recipient[32];
	char recipient_str[AGE_RECIPIENT_MAX];
	unsigned categories;
	int64_t period_end;     /* end of the authority that covers the record
				 * (period end, cut by cessation or the 72 h
				 * emergency deadline): a record received
				 * after it is a "late delivery" (L3/L4) */
	size_t n_operators;     /* the warrant's operators (none: any) */
	char operators[WARRANT_MAX_OPERATORS][SITE_OPERATOR_NAME_MAX];
};

/* Quarantine reasons (static strings, stable: they go into records). */
#define WARRANT_Q_UNKNOWN_LIID "unknown-liid"
#define WARRANT_Q_BEFORE_START "before-start"
#define WARRANT_Q_AFTER_END "after-end"
#define WARRANT_Q_CEASED "ceased"
#define WARRANT_Q_CATEGORY "category-not-authorised"
#define WARRANT_Q_EMERGENCY "emergency-unconfirmed-expired"
#define WARRANT_Q_OPERATOR "operator-not-bound"

/* ---- times ---- */

/* Parse "2026-01-01", "2026-01-01T12:00:00Z" or with ".ffffff" fraction
 * (1-6 digits), UTC only, years 1970-9999.  LACRE_E_MALFORMED otherwise. */
int warrant_time_parse(const char *s, int64_t *us);
/* Format as "2026-01-01T12:00:00Z" (a ".ffffff" fraction only when non-zero). */
void warrant_time_format(int64_t us, char out[WARRANT_TIME_MAX]);
/* Current time in Unix microseconds. */
int64_t warrant_time_now(void);
/* t plus months calendar months, the day clamped to the month's length
 * (31 Jan + 1 month = 28/29 Feb), time of day kept. */
int64_t warrant_add_months(int64_t t, int months);

/* ---- categories ---- */

/* Parse "content,iri,location" (any subset, comma-separated) into bits. */
int warrant_categories_parse(const char *s, unsigned *cats);
/* Format bits as "content,iri,location" into out. */
void warrant_categories_format(unsigned cats, char *out, size_t outlen);

/* ---- ingest side (no secret) ---- */

/* Load DIR/warrants.log of site s (an absent file is an empty registry).
 * Verifies the hash chain, every event's Ed25519 signature by the key of
 * warrants.signer (lacre.conf) and the structure of every event.  Errors:
 * LACRE_E_CONFIG (warrants.signer missing),
 * LACRE_E_CORRUPT (chain or syntax broken; the message of
 * warrant_registry_error() names the line), LACRE_E_TOO_LARGE, LACRE_E_IO,
 * LACRE_E_NOMEM. */
int warrant_registry_load(const struct site *s, struct warrant_registry **reg);
/* Why the last failed registry load of this thread failed, as
 * "PATH:LINE: what" (empty if none). */
const char *warrant_registry_error(void);
/* Same, for an explicit log path.  signer (may be NULL: signatures are then
 * parsed but not verified, for tools) is the Ed25519 public key that must
 * have signed every event. */
int warrant_registry_load_path(const char *path, const uint8_t *signer,
			       struct warrant_registry **reg);
/* If the log changed since the load (stat: device, inode, size, mtime),
 * load it again and replace reg's contents; *changed (may be NULL) says
 * whether it did.  On error reg keeps its previous contents. */
int warrant_registry_reload_if_changed(struct warrant_registry *reg, int *changed);
void warrant_registry_free(struct warrant_registry *reg);
/* Number of warrants and the i-th (in order of creation), or NULL. */
size_t warrant_registry_count(const struct warrant_registry *reg);
const struct warrant *warrant_registry_at(const struct warrant_registry *reg, size_t i);
/* The warrant with this id, or NULL. */
const struct warrant *warrant_registry_find(const struct warrant_registry *reg, const char *id);
/* Number of events and SHA-256 of the last event line (zeros if empty). */
uint64_t warrant_registry_events(const struct warrant_registry *reg);
void warrant_registry_head(const struct warrant_registry *reg, uint8_t head[32]);

/* Route one record.  liid[0..liid_len) is the LIID from the PS-PDU,
 * time_us its interception time (or receive time when it has none),
 * category the set of enum warrant_category bits the record falls under
 * (IRI that may carry geolocation: WARRANT_CAT_IRI | WARRANT_CAT_LOCATION);
 * the warrant must authorise every one of them.  Returns LACRE_OK and either
 * fills *m with *reason = NULL (routed to that warrant), or leaves *m
 * untouched and sets *reason to one of the WARRANT_Q_* strings
 * (quarantine to the oversight recipient).  LACRE_E_INVALID on bad
 * arguments. */
int warrant_route(const struct warrant_registry *reg, const uint8_t *liid, size_t liid_len,
		  int64_t time_us, unsigned category, struct warrant_match *m,
		  const char **reason);

/* warrant_route(), and the span [*span_lo, *span_hi) of times around
 * time_us (span_lo <= time_us < span_hi) at which the same registry gives
 * the same answer (*reason, and *m when routed) for this LIID and
 * category: the edges of the warrants it looked at (period starts and
 * ends, cessation, an emergency order's deadline).  For a router that
 * keeps the last answer (seal_sink.c's route cache). */
int warrant_route_span(const struct warrant_registry *reg, const uint8_t *liid, size_t liid_len,
		       int64_t time_us, unsigned category, struct warrant_match *m,
		       const char **reason, int64_t *span_lo, int64_t *span_hi);

/* warrant_route(), then the operator rule (issue 11): a record routed to a
 * warrant that names operators, arriving on a connection of another
 * operator (operator_name not among them, or "" / NULL: no operator), is
 * quarantined with *reason = WARRANT_Q_OPERATOR; *m is then filled too, so
 * that the caller's alert can name the warrant and its operators.  A
 * warrant that names none accepts any connection. */
int warrant_route_operator(const struct warrant_registry *reg, const uint8_t *liid,
			   size_t liid_len, int64_t time_us, unsigned category,
			   const char *operator_name, struct warrant_match *m, const char **reason);

/* Whether the warrant behind m accepts records from operator_name. */
int warrant_match_operator_ok(const struct warrant_match *m, const char *operator_name);

/* Whether w authorises time t (inside a period, not ceased, not an expired
 * unconfirmed emergency order).  Ignores category. */
int warrant_active_at(const struct warrant *w, int64_t t);

/* ---- access side (writes the log) ---- */

/* The writers (warrant_add, _extend, _confirm, _cease) need the keystore:
 * they are declared in lib/keeper/warrant_log.h, for lib/keeper alone;
 * commands call them through the gate's session (access_warrant_add,
 * ..., lib/keeper/access_key.h). */

/* Ed25519 public key of the 32-byte signer seed. */
int warrant_signer_public(const uint8_t seed[32], uint8_t pub[32]);
/* Parse warrants.signer (64 lower-case hex digits). */
int warrant_signer_parse(const char *hex, uint8_t pub[32]);

/* ---- legal rules (legal.c) ---- */

/* Which rule refused an operation (tests tell them apart). */
enum legal_rule {
	LEGAL_OK = 0,
	LEGAL_L1_FIELD,            /* L1: a required field of the order is missing */
	LEGAL_L3_BEFORE_ORDER,     /* L3: the window starts before the order date */
	LEGAL_L3_EMPTY,            /* L3: valid-to is not after valid-from */
	LEGAL_L3_3MONTHS,          /* L3: more than 3 months for one order */
	LEGAL_L3_18MONTHS,         /* L3: more than 18 months in total for a target */
	LEGAL_L3_NEW_ORDER,        /* L3: an extension needs a new order (id and date) */
	LEGAL_L3_SUCCESSIVE,       /* L3: an extension must follow the current window */
	LEGAL_L4_CEASED,           /* L4: the warrant has ceased */
	LEGAL_L5_AUTHORITY,        /* L5: an emergency order needs its issuing authority */
	LEGAL_L5_EXPIRED,          /* L5: the 72 h confirmation deadline has passed */
	LEGAL_L5_NOT_EMERGENCY,    /* L5: confirming an order that is not an emergency one */
	LEGAL_L5_UNCONFIRMED,      /* L5: extending an unconfirmed emergency order */
	LEGAL_LIID_OVERLAP,        /* a LIID active in two overlapping warrants */
};

/* Short name of a rule ("L3") and a one-line description. */
const char *legal_rule_name(enum legal_rule r);

/* Check a new warrant w against the warrants already in reg.  On refusal
 * returns LACRE_E_LEGAL, sets *rule (may be NULL) and writes a one-line
 * message starting with the rule name to msg. */
int legal_check_add(const struct warrant_registry *reg, const struct warrant *w,
		    enum legal_rule *rule, char *msg, size_t msglen);
/* Check an extension p of w (w as it is now, inside reg). */
int legal_check_extend(const struct warrant_registry *reg, const struct warrant *w,
		       const struct warrant_period *p, enum legal_rule *rule,
		       char *msg, size_t msglen);
/* Check a judicial confirmation of emergency warrant w (inside reg): the
 * 72 h deadline, and that its whole window, now authorised again, breaks
 * neither the LIID rule nor the 18-month cap. */
int legal_check_confirm(const struct warrant_registry *reg, const struct warrant *w,
			const char *order_id, int64_t order_date, enum legal_rule *rule,
			char *msg, size_t msglen);
/* Check a cessation of w effective at 'at'. */
int legal_check_cease(const struct warrant *w, const char *order_id, int64_t order_date,
		      int64_t at, enum legal_rule *rule, char *msg, size_t msglen);

#endif
