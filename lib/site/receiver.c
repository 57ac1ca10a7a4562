/*
 * receiver.c - the named receivers of a site (lacre.conf receiver.NAME.*,
 * docs/site.md "Receivers"; issue 15 "Many machines"): several receivers,
 * one per operator or region, on one machine or several, each with its own
 * ingest log origin lacre/<site>/ingest/<NAME>, all writing to one backend.
 *
 *   receiver.NAME.vkey      = <note verifier key>  its log's public key
 *   receiver.NAME.hi2       = host:port            its listeners, when it
 *   receiver.NAME.hi3       = host:port            runs on this machine
 *   receiver.NAME.spool_dir = /path                its spool (default
 *                                                   spool.dir + "-NAME")
 *
 * As with operator.c, the keys are the site's own names: config.c hands
 * every "receiver." key here.  A vkey is parsed when set, so a typo is a
 * configuration error, not a failed audit later.  No secret is held here.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/note.h"
#include "lacre/site.h"

#define RCV_PREFIX "receiver."
#define RCV_PREFIX_LEN 9

/* The attributes of a receiver, their key suffix and SITE_RCV_* bit. */
static const struct {
	const char *attr;
	unsigned bit;
	const char *doc;
} attrs[] = {
	{ "vkey", SITE_RCV_VKEY,
	  "public key of its ingest log (its ledger/ingest-NAME/vkey): the site trusts that log's "
	  "checkpoints on the backend with it" },
	{ "hi2", SITE_RCV_HI2, "its HI2 listener host:port, when it runs on this machine" },
	{ "hi3", SITE_RCV_HI3, "its HI3 listener host:port, when it runs on this machine" },
	{ "spool_dir", SITE_RCV_SPOOL, "its spool (default: spool.dir followed by -NAME)" },
};
#define NATTRS (sizeof(attrs) / sizeof(attrs[0]))

int site_receiver_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= SITE_RECEIVER_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(name[i] >= 'a' && name[i] <= 'z') && !(name[i] >= '0' && name[i] <= '9') &&
		    name[i] != '-')
			return 0;
	return 1;
}

const struct site_receiver *site_receiver_find(const struct site_config *cfg, const char *name)
{
	if (cfg == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->n_receivers; i++)
		if (strcmp(cfg->receivers[i].name, name) == 0)
			return &cfg->receivers[i];
	return NULL;
}

/* Split "receiver.NAME.ATTR" into name and the attribute's index in
 * attrs[].  LACRE_E_CONFIG with msg. */
static int key_split(const char *key, char name[SITE_RECEIVER_NAME_MAX], size_t *ai, char *msg,
		     size_t msglen)
{
	const char *n0 = key + RCV_PREFIX_LEN, *dot = strrchr(key, '.');
	size_t nn;

	if (strncmp(key, RCV_PREFIX, RCV_PREFIX_LEN) != 0 || dot == NULL || dot < n0) {
		lacre_msg(msg, msglen, "%s: receiver keys are receiver.NAME.ATTRIBUTE", key);
		return LACRE_E_CONFIG;
	}
	nn = (size_t)(dot - n0);
	if (nn == 0 || nn >= SITE_RECEIVER_NAME_MAX) {
		lacre_msg(msg, msglen, "%s: a receiver name is 1 to %d characters", key,
			  SITE_RECEIVER_NAME_MAX - 1);
		return LACRE_E_CONFIG;
	}
	memcpy(name, n0, nn);
	name[nn] = '\0';
	if (!site_receiver_name_ok(name)) {
		lacre_msg(msg, msglen, "%s: receiver name '%s' may hold only a-z 0-9 -", key, name);
		return LACRE_E_CONFIG;
	}
	for (size_t i = 0; i < NATTRS; i++)
		if (strcmp(dot + 1, attrs[i].attr) == 0) {
			*ai = i;
			return LACRE_OK;
		}
	lacre_msg(msg, msglen, "%s: unknown receiver attribute '%s' (vkey, hi2, hi3, spool_dir)", key,
		  dot + 1);
	return LACRE_E_CONFIG;
}

int site_receiver_key_bit(const char *key, char name[SITE_RECEIVER_NAME_MAX], unsigned *bit)
{
	size_t ai;

	if (key == NULL || key_split(key, name, &ai, NULL, 0) != LACRE_OK)
		return LACRE_E_CONFIG;
	*bit = attrs[ai].bit;
	return LACRE_OK;
}

/* Whether v is host:port or [v6]:port with a port of 1..65535. */
static int addr_ok(const char *v)
{
	const char *colon;
	unsigned long port = 0;

	if (v[0] == '[') {
		const char *close = strchr(v, ']');
		if (!close || close == v + 1 || close[1] != ':')
			return 0;
		colon = close + 1;
	} else {
		colon = strrchr(v, ':');
		if (!colon || colon == v || memchr(v, ':', (size_t)(colon - v)))
			return 0;
	}
	if (colon[1] == '\0' || strlen(colon + 1) > 5)
		return 0;
	for (const char *p = colon + 1; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return 0;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	return port >= 1 && port <= 65535;
}

int site_receiver_set(struct site_config *cfg, const char *key, const char *value, char *msg,
		      size_t msglen)
{
	char name[SITE_RECEIVER_NAME_MAX];
	struct site_receiver *rc = NULL, tmp;
	struct note_verifier vk;
	size_t ai, vn;
	char *field;
	size_t cap;
	int r;

	if (cfg == NULL || key == NULL || value == NULL)
		return LACRE_E_INVALID;
	if ((r = key_split(key, name, &ai, msg, msglen)) != LACRE_OK)
		return r;
	for (size_t i = 0; i < cfg->n_receivers; i++)
		if (strcmp(cfg->receivers[i].name, name) == 0)
			rc = &cfg->receivers[i];
	if (rc == NULL && cfg->n_receivers == SITE_RECEIVER_MAX) {
		lacre_msg(msg, msglen, "%s: more than %d receivers", key, SITE_RECEIVER_MAX);
		return LACRE_E_CONFIG;
	}
	/* into a copy: a bad value leaves the configuration as it was */
	if (rc)
		tmp = *rc;
	else {
		memset(&tmp, 0, sizeof(tmp));
		memcpy(tmp.name, name, sizeof(name));
	}
	vn = strlen(value);
	switch (attrs[ai].bit) {
	case SITE_RCV_VKEY:
		field = tmp.vkey;
		cap = sizeof(tmp.vkey);
		if (vn && note_verifier_parse(value, vn, &vk) != LACRE_OK) {
			lacre_msg(msg, msglen, "%s: not a note verifier key (NAME+HASH+KEY, as in "
				  "ledger/ingest-%s/vkey of that receiver)", key, name);
			return LACRE_E_CONFIG;
		}
		break;
	case SITE_RCV_HI2:
	case SITE_RCV_HI3:
		field = attrs[ai].bit == SITE_RCV_HI2 ? tmp.hi2 : tmp.hi3;
		cap = sizeof(tmp.hi2);
		if (vn && !addr_ok(value)) {
			lacre_msg(msg, msglen, "%s: '%s' is not host:port (port 1-65535)", key, value);
			return LACRE_E_CONFIG;
		}
		break;
	default:
		field = tmp.spool_dir;
		cap = sizeof(tmp.spool_dir);
		if (vn && value[0] != '/') {
			lacre_msg(msg, msglen, "%s: needs an absolute path, got '%s'", key, value);
			return LACRE_E_CONFIG;
		}
		break;
	}
	if (vn >= cap) {
		lacre_msg(msg, msglen, "%s: value longer than %zu bytes", key, cap - 1);
		return LACRE_E_CONFIG;
	}
	memcpy(field, value, vn + 1);
	if (vn)
		tmp.set |= attrs[ai].bit;
	else
		tmp.set &= ~attrs[ai].bit;
	if (rc == NULL)
		rc = &cfg->receivers[cfg->n_receivers++];
	*rc = tmp;
	return LACRE_OK;
}

/* The text of attribute bit of rc. */
static const char *attr_text(const struct site_receiver *rc, unsigned bit)
{
	switch (bit) {
	case SITE_RCV_VKEY: return rc->vkey;
	case SITE_RCV_HI2: return rc->hi2;
	case SITE_RCV_HI3: return rc->hi3;
	default: return rc->spool_dir;
	}
}

int site_receiver_get(const struct site_config *cfg, const char *key, char *out, size_t outlen)
{
	char name[SITE_RECEIVER_NAME_MAX];
	const struct site_receiver *rc;
	const char *v;
	size_t ai;

	if (cfg == NULL || key == NULL || out == NULL || key_split(key, name, &ai, NULL, 0) != LACRE_OK)
		return LACRE_E_NOT_FOUND;
	if ((rc = site_receiver_find(cfg, name)) == NULL)
		return LACRE_E_NOT_FOUND;
	v = attr_text(rc, attrs[ai].bit);
	if (strlen(v) >= outlen)
		return LACRE_E_TOO_LARGE;
	memcpy(out, v, strlen(v) + 1);
	return LACRE_OK;
}

int site_receiver_check(const struct site_config *cfg, char *msg, size_t msglen)
{
	if (cfg == NULL)
		return LACRE_E_INVALID;
	if (cfg->ingest_receiver[0] && !site_receiver_name_ok(cfg->ingest_receiver)) {
		lacre_msg(msg, msglen, "ingest.receiver: '%s' is not a receiver name (1 to 32 of a-z 0-9 -)",
			  cfg->ingest_receiver);
		return LACRE_E_CONFIG;
	}
	for (size_t i = 0; i < cfg->n_receivers; i++) {
		const struct site_receiver *a = &cfg->receivers[i];
		/* (once selected, spool.dir is the selected receiver's own) */
		if ((a->set & SITE_RCV_SPOOL) && strcmp(a->name, cfg->ingest_receiver) != 0 &&
		    strcmp(a->spool_dir, cfg->spool_dir) == 0) {
			lacre_msg(msg, msglen, "receiver.%s.spool_dir: the same folder as spool.dir; give "
				  "every receiver a spool of its own", a->name);
			return LACRE_E_CONFIG;
		}
		for (size_t j = i + 1; j < cfg->n_receivers; j++) {
			const struct site_receiver *b = &cfg->receivers[j];
			if ((a->set & b->set & SITE_RCV_SPOOL) && strcmp(a->spool_dir, b->spool_dir) == 0) {
				lacre_msg(msg, msglen, "receiver.%s.spool_dir: the same folder as receiver.%s's; "
					  "give every receiver a spool of its own", b->name, a->name);
				return LACRE_E_CONFIG;
			}
		}
	}
	return LACRE_OK;
}

int site_receiver_write(const struct site_config *cfg, struct lacre_dbuf *out)
{
	int r = LACRE_OK;

	if (cfg->n_receivers)
		r = lacre_dbuf_add_str(out, "\n# Receivers (docs/site.md): the site's named receivers, "
				       "each with its own ingest log\n# lacre/<site.name>/ingest/<NAME>.\n");
	for (size_t i = 0; r == LACRE_OK && i < cfg->n_receivers; i++)
		for (size_t a = 0; r == LACRE_OK && a < NATTRS; a++)
			if (cfg->receivers[i].set & attrs[a].bit)
				r = lacre_dbuf_printf(out, "\n# %s\nreceiver.%s.%s = %s\n", attrs[a].doc,
						      cfg->receivers[i].name, attrs[a].attr,
						      attr_text(&cfg->receivers[i], attrs[a].bit));
	return r;
}
