/*
 * warrant_log.c - the access-side writers of the warrant log
 * (DIR/warrants.log): warrant_add, warrant_extend, warrant_confirm and
 * warrant_cease.  See lacre/warrant.h; the byte format is
 * docs/FORMATS.md §4.
 *
 * Each writer takes flock(LOCK_EX) on the log, loads and verifies it
 * (warrant.c), checks the new event against the legal rules (legal.c),
 * then encodes one event line (values percent-encoded), chains it to the
 * last line's hash, signs it with the site's warrant-log Ed25519 key from
 * the keystore and appends it with fsync.  Readers hold LOCK_SH, so they
 * never see half a line.  This is the only part of the warrant code that
 * touches the keystore or a private key; the registry in warrant.c needs
 * no secret.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "keeper/keystore.h"
#include "lacre/site.h"
#include "lacre/pct.h"
#include "lacre/warrant.h"
#include "keeper/warrant_log.h"
#include "site/warrant_int.h"

/* ------------------------------------------------------------ validation */

/* Text field: non-empty when required, fits, no control characters. */
static int text_ok(const char *s, int required)
{
	size_t n = strlen(s);

	if (n >= WARRANT_TEXT_MAX || (required && n == 0))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 0;
	return 1;
}

/* ---------------------------------------------------------------- signing */

/* Ed25519 public key of a 32-byte seed. */
int warrant_signer_public(const uint8_t seed[32], uint8_t pub[32])
{
	return lacre_ed25519_public(seed, pub);
}

/* ---------------------------------------------------------------- writers */

/* Append " key=" and the encoded value. */
static int kv(struct lacre_dbuf *d, const char *k, const char *v)
{
	int r = lacre_dbuf_printf(d, " %s=", k);

	return r ? r : pct_encode(d, v);
}

/* Append " key=<time>". */
static int kv_time(struct lacre_dbuf *d, const char *k, int64_t t)
{
	char s[WARRANT_TIME_MAX];

	warrant_time_format(t, s);
	return kv(d, k, s);
}

/* Append " key=a,b,c" with each element encoded. */
static int kv_list(struct lacre_dbuf *d, const char *k, const char *rows, size_t n, size_t cap)
{
	int r = lacre_dbuf_printf(d, " %s=", k);

	for (size_t i = 0; r == LACRE_OK && i < n; i++) {
		if (i)
			r = lacre_dbuf_add_u8(d, ',');
		if (r == LACRE_OK)
			r = pct_encode(d, rows + i * cap);
	}
	return r;
}

/* Finish line d (the event body after the type) with prev=, hash= and
 * sig= (Ed25519 by seed), then append it to the locked log fd and fsync. */
static int append_line(int fd, const struct warrant_registry *reg, const uint8_t seed[32],
		       struct lacre_dbuf *d)
{
	char hx[65], sx[129];
	uint8_t h[32], sig[64];
	const uint8_t *p;
	size_t off = 0;
	int r;

	warrant_hex32(reg->head, hx);
	r = lacre_dbuf_printf(d, " prev=%s", hx);
	if (r == LACRE_OK)
		r = warrant_sha256(d->p, d->len, h);
	if (r != LACRE_OK)
		return r;
	warrant_hex32(h, hx);
	r = lacre_dbuf_printf(d, " hash=%s", hx);
	if (r == LACRE_OK)
		r = lacre_ed25519_sign(seed, d->p, d->len, sig);
	if (r != LACRE_OK)
		return r;
	warrant_hex32(sig, sx);
	warrant_hex32(sig + 32, sx + 64);
	r = lacre_dbuf_printf(d, " sig=%s\n", sx);
	if (r != LACRE_OK)
		return r;
	if (d->len > LOG_LINE_MAX)
		return LACRE_E_TOO_LARGE;
	p = d->p;
	while (off < d->len) {
		ssize_t k = write(fd, p + off, d->len - off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return LACRE_E_IO;
		}
		off += (size_t)k;
	}
	return fsync(fd) == 0 ? LACRE_OK : LACRE_E_IO;
}

/* Start an event line: magic, sequence number, type, id, at. */
static int begin_line(struct lacre_dbuf *d, const struct warrant_registry *reg, const char *type,
		      const char *id)
{
	int r = lacre_dbuf_printf(d, "%s %" PRIu64 " %s", LOG_MAGIC, reg->events + 1, type);

	if (r == LACRE_OK)
		r = kv(d, "id", id);
	if (r == LACRE_OK)
		r = kv_time(d, "at", warrant_time_now());
	return r;
}

/* Open, lock (exclusive) and load the log of site s for a writer; fetch
 * the signer seed from ks and check it matches warrants.signer. */
static int writer_open(const struct site *s, struct keystore *ks, uint8_t seed[32], int *fd,
		       struct warrant_registry **reg, char *msg, size_t msglen)
{
	char path[SITE_PATH_MAX];
	uint8_t pub[32], mine[32];
	int r;

	*fd = -1;
	r = warrant_site_signer(s, pub);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "%s", warrant_registry_error());
		return r;
	}
	r = keystore_get_secret(ks, SITE_SIGNER_KEY, seed, NULL);
	if (r == LACRE_OK)
		r = warrant_signer_public(seed, mine);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot read the warrant-log signing key: %s", lacre_strerror(r));
		return r;
	}
	if (CRYPTO_memcmp(pub, mine, 32) != 0) {
		lacre_msg(msg, msglen, "the keystore's warrant-log signing key does not match warrants.signer "
		    "in %s", SITE_CONF);
		return LACRE_E_CONFIG;
	}
	r = site_path(s, SITE_WARRANTS, path, sizeof(path));
	if (r == LACRE_OK)
		r = warrant_open_locked(path, LOCK_EX, 1, fd);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot open %s: %s", path, strerror(errno));
		return r;
	}
	r = warrant_load_fd(*fd, path, pub, NULL, reg);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot read the warrant log: %s",
		    warrant_registry_error()[0] ? warrant_registry_error() : lacre_strerror(r));
		close(*fd);
		*fd = -1;
	}
	return r;
}

/* Check the non-legal shape of a new warrant (field sizes, characters). */
static int spec_ok(const struct warrant *w, char *msg, size_t msglen)
{
	if (!text_ok(w->case_id, 0) || !text_ok(w->unit, 0) || !text_ok(w->court, 0) ||
	    !text_ok(w->authority, 0) || !text_ok(w->periods[0].order_id, 0)) {
		lacre_msg(msg, msglen, "a text field is too long or has control characters");
		return LACRE_E_INVALID;
	}
	if (w->n_targets > WARRANT_MAX_TARGETS || w->n_liids > WARRANT_MAX_LIIDS ||
	    w->n_periods != 1) {
		lacre_msg(msg, msglen, "too many targets or LIIDs (at most %d and %d)",
		    WARRANT_MAX_TARGETS, WARRANT_MAX_LIIDS);
		return LACRE_E_INVALID;
	}
	for (size_t i = 0; i < w->n_targets; i++)
		if (!text_ok(w->targets[i], 1) || strchr(w->targets[i], ',') != NULL) {
			lacre_msg(msg, msglen, "target '%s' is empty, too long or has a comma", w->targets[i]);
			return LACRE_E_INVALID;
		}
	for (size_t i = 0; i < w->n_liids; i++) {
		if (!warrant_liid_ok(w->liids[i])) {
			lacre_msg(msg, msglen, "LIID '%s' must be 1-%d printable characters without space or comma",
			    w->liids[i], WARRANT_LIID_MAX);
			return LACRE_E_INVALID;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(w->liids[i], w->liids[j]) == 0) {
				lacre_msg(msg, msglen, "LIID '%s' is listed twice", w->liids[i]);
				return LACRE_E_INVALID;
			}
	}
	if (w->n_operators > WARRANT_MAX_OPERATORS) {
		lacre_msg(msg, msglen, "too many operators (at most %d)", WARRANT_MAX_OPERATORS);
		return LACRE_E_INVALID;
	}
	for (size_t i = 0; i < w->n_operators; i++) {
		if (!site_operator_name_ok(w->operators[i])) {
			lacre_msg(msg, msglen, "operator '%s' is not a valid name (1-32 of A-Z a-z 0-9 _ -)",
			    w->operators[i]);
			return LACRE_E_INVALID;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(w->operators[i], w->operators[j]) == 0) {
				lacre_msg(msg, msglen, "operator '%s' is listed twice", w->operators[i]);
				return LACRE_E_INVALID;
			}
	}
	if (w->categories & ~(unsigned)(WARRANT_CAT_CONTENT | WARRANT_CAT_IRI | WARRANT_CAT_LOCATION)) {
		lacre_msg(msg, msglen, "unknown category bits");
		return LACRE_E_INVALID;
	}
	return LACRE_OK;
}

int warrant_add(const struct site *s, struct keystore *ks, const struct warrant *spec,
		char id[WARRANT_ID_MAX], char *msg, size_t msglen)
{
	struct warrant_registry *reg = NULL;
	struct age_x25519_identity ident;
	uint8_t seed[32];
	struct warrant w;
	struct lacre_dbuf d;
	char newid[WARRANT_ID_MAX], cats[64];
	size_t adds = 0;
	int fd = -1, r;

	memset(&ident, 0, sizeof(ident));
	lacre_dbuf_init(&d, LOG_LINE_MAX + 256);
	if (s == NULL || ks == NULL || spec == NULL || id == NULL)
		return LACRE_E_INVALID;
	r = spec_ok(spec, msg, msglen);
	if (r != LACRE_OK)
		return r;
	/* a warrant binds operators the site knows: a typo would quarantine
	 * every record of the warrant */
	for (size_t i = 0; i < spec->n_operators; i++)
		if (site_operator_find(&s->cfg, spec->operators[i]) == NULL) {
			lacre_msg(msg, msglen, "operator '%s' is not configured in %s: add its "
			    "operator.%s.* keys (docs/site.md) first", spec->operators[i], SITE_CONF,
			    spec->operators[i]);
			return LACRE_E_INVALID;
		}
	r = writer_open(s, ks, seed, &fd, &reg, msg, msglen);
	if (r != LACRE_OK)
		goto out;
	w = *spec;
	w.confirmed = 0;
	w.ceased = 0;
	adds = reg->n;
	snprintf(newid, sizeof(newid), "W-%06zu", adds + 1);
	memcpy(w.id, newid, sizeof(newid));
	r = legal_check_add(reg, &w, NULL, msg, msglen);
	if (r != LACRE_OK)
		goto out;
	r = age_x25519_generate(&ident);
	if (r == LACRE_OK)
		r = age_recipient_encode(ident.public_key, w.recipient);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot generate the warrant key: %s", lacre_strerror(r));
		goto out;
	}
	/* the id is not in the log: a key file under it is a leftover of an
	 * add that failed before its append, safe to replace */
	r = keystore_put(ks, newid, &ident, 1);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot store the warrant key: %s", lacre_strerror(r));
		goto out;
	}
	warrant_categories_format(w.categories, cats, sizeof(cats));
	r = begin_line(&d, reg, "add", newid);
	if (!r) r = kv(&d, "case", w.case_id);
	if (!r) r = kv(&d, "unit", w.unit);
	if (!r) r = kv(&d, "court", w.court);
	if (!r) r = kv(&d, "authority", w.authority);
	if (!r) r = kv(&d, "order", w.periods[0].order_id);
	if (!r) r = kv_time(&d, "order_date", w.periods[0].order_date);
	if (!r) r = kv_time(&d, "from", w.periods[0].from);
	if (!r) r = kv_time(&d, "to", w.periods[0].to);
	if (!r) r = kv(&d, "categories", cats);
	if (!r) r = kv_list(&d, "targets", &w.targets[0][0], w.n_targets, WARRANT_TEXT_MAX);
	if (!r) r = kv_list(&d, "liids", &w.liids[0][0], w.n_liids, WARRANT_LIID_MAX + 1);
	if (!r) r = kv(&d, "emergency", w.emergency ? "1" : "0");
	if (!r) r = kv(&d, "recipient", w.recipient);
	/* only when it names operators: other lines stay as before */
	if (!r && w.n_operators)
		r = kv_list(&d, "operators", &w.operators[0][0], w.n_operators, SITE_OPERATOR_NAME_MAX);
	if (!r) r = append_line(fd, reg, seed, &d);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot append to the warrant log: %s", lacre_strerror(r));
		goto out;
	}
	memcpy(id, newid, sizeof(newid));
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	age_identity_wipe(&ident);
	lacre_dbuf_free(&d);
	warrant_registry_free(reg);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Common part of extend/confirm/cease: open the log, find id. */
static int mutate_begin(const struct site *s, struct keystore *ks, uint8_t seed[32],
			const char *id, int *fd, struct warrant_registry **reg,
			const struct warrant **w, char *msg, size_t msglen)
{
	int r = writer_open(s, ks, seed, fd, reg, msg, msglen);

	if (r != LACRE_OK)
		return r;
	*w = warrant_registry_find(*reg, id);
	if (*w == NULL) {
		lacre_msg(msg, msglen, "no warrant '%s'; 'lacre warrant list' shows them", id);
		warrant_registry_free(*reg);
		*reg = NULL;
		close(*fd);
		*fd = -1;
		return LACRE_E_NOT_FOUND;
	}
	return LACRE_OK;
}

/* The judicial orders on an existing warrant, each one signed event. */
enum order_kind { ORDER_EXTEND, ORDER_CONFIRM, ORDER_CEASE };

/* An order on warrant id: an extension by the new period p, a
 * confirmation of an emergency order, or a cessation effective at 'at'.
 * Checks its legal rule under the log's lock and appends the signed event. */
static int order_event(const struct site *s, struct keystore *ks, const char *id,
		       enum order_kind kind, const char *order_id, int64_t order_date, int64_t at,
		       const struct warrant_period *p, char *msg, size_t msglen)
{
	static const char *const type[] = { "extend", "confirm", "cease" };
	struct warrant_registry *reg = NULL;
	const struct warrant *w;
	struct lacre_dbuf d;
	uint8_t seed[32];
	int fd = -1, r;

	if (s == NULL || ks == NULL || id == NULL || order_id == NULL ||
	    (kind == ORDER_EXTEND && p == NULL))
		return LACRE_E_INVALID;
	if (!text_ok(order_id, 0)) {
		lacre_msg(msg, msglen, "the order id is too long or has control characters");
		return LACRE_E_INVALID;
	}
	lacre_dbuf_init(&d, LOG_LINE_MAX + 256);
	r = mutate_begin(s, ks, seed, id, &fd, &reg, &w, msg, msglen);
	if (r != LACRE_OK)
		goto out;
	switch (kind) {
	case ORDER_EXTEND:
		r = legal_check_extend(reg, w, p, NULL, msg, msglen);
		if (r == LACRE_OK && w->n_periods == WARRANT_MAX_PERIODS) {
			lacre_msg(msg, msglen, "warrant %s already has %d periods", id, WARRANT_MAX_PERIODS);
			r = LACRE_E_TOO_LARGE;
		}
		break;
	case ORDER_CONFIRM:
		r = legal_check_confirm(reg, w, order_id, order_date, NULL, msg, msglen);
		break;
	case ORDER_CEASE:
		r = legal_check_cease(w, order_id, order_date, at, NULL, msg, msglen);
		break;
	}
	if (r != LACRE_OK)
		goto out;
	r = begin_line(&d, reg, type[kind], id);
	if (!r) r = kv(&d, "order", order_id);
	if (!r) r = kv_time(&d, "order_date", order_date);
	if (!r && kind == ORDER_EXTEND) r = kv_time(&d, "from", p->from);
	if (!r && kind == ORDER_EXTEND) r = kv_time(&d, "to", p->to);
	if (!r && kind == ORDER_CEASE) r = kv_time(&d, "effective", at);
	if (!r) r = append_line(fd, reg, seed, &d);
	if (r != LACRE_OK)
		lacre_msg(msg, msglen, "cannot append to the warrant log: %s", lacre_strerror(r));
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	lacre_dbuf_free(&d);
	warrant_registry_free(reg);
	if (fd >= 0)
		close(fd);
	return r;
}

int warrant_extend(const struct site *s, struct keystore *ks, const char *id, const struct warrant_period *p,
		   char *msg, size_t msglen)
{
	if (p == NULL)
		return LACRE_E_INVALID;
	return order_event(s, ks, id, ORDER_EXTEND, p->order_id, p->order_date, 0, p, msg, msglen);
}

int warrant_confirm(const struct site *s, struct keystore *ks, const char *id, const char *order_id,
		    int64_t order_date, char *msg, size_t msglen)
{
	return order_event(s, ks, id, ORDER_CONFIRM, order_id, order_date, 0, NULL, msg, msglen);
}

int warrant_cease(const struct site *s, struct keystore *ks, const char *id, const char *order_id,
		  int64_t order_date, int64_t at, char *msg, size_t msglen)
{
	return order_event(s, ks, id, ORDER_CEASE, order_id, order_date, at, NULL, msg, msglen);
}
