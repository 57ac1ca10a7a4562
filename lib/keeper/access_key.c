/*
 * access_key.c - the gate's session owns the unlocked keystore, and keys
 * are read, made and destroyed only through it (access_key.h).  Here, in
 * the keeper domain beside the keystore, and not in lib/access: it needs
 * of the gate only acl_session_allowed(), the record of what acl_authorize
 * allowed, and the session's opaque key slot (keeper/session_keys.h), and
 * keeps the key names' rule next to the keys.  It also holds the keeper
 * service's own unlocked keystore (keeper_keys_*, lacre/keeper.h), which
 * a keeper worker hands to the one session of its request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keeper/access_key.h"
#include "keeper/keystore.h"
#include "keeper/warrant_log.h"
#include "keeper/session_keys.h"
#include "lacre/err.h"
#include "lacre/export.h"
#include "lacre/keeper.h"
#include "lacre/shred.h"
#include "lacre/site.h"
#include "lacre/users.h"

/* The keeper service's keystore (keeper_keys_unlock) and, in a worker,
 * whether the request's session takes it (keeper_keys_worker). */
static struct keystore *keeper_ks;
static int keeper_worker;

/* Actions whose allowance on the warrant itself opens its identity. */
static const char *const warrant_actions[] = {
	"records", "calls", "audio", "pcap", "export", "identity",
};

/* Whether ss covers key name; else msg names the key and what it needs.
 * create: storing a new key (only the auditor and export signer). */
static int covers(const struct acl_session *ss, const char *name, int create,
		  char *msg, size_t msglen)
{
	const char *need;

	if (name == NULL || !name[0]) {
		need = "a key name";
	} else if (!strcmp(name, SITE_OVERSIGHT_KEY)) {
		if (!create && (acl_session_allowed(ss, "quarantine", NULL) ||
				acl_session_allowed(ss, "audit-deep", NULL)))
			return LACRE_OK;
		need = "an allowed 'quarantine' (or 'audit-deep')";
	} else if (!strcmp(name, USERS_AUDITOR_KEY)) {
		if ((!create && (acl_session_allowed(ss, "access-log", NULL) ||
				 acl_session_allowed(ss, "export", NULL))) ||
		    acl_session_allowed(ss, "user-admin", NULL))
			return LACRE_OK;
		need = create ? "an allowed 'user-admin'" :
			"an allowed 'access-log', 'export' or 'user-admin'";
	} else if (!strcmp(name, EXPORT_SIGNER_KEY)) {
		if (acl_session_allowed(ss, "export", NULL))
			return LACRE_OK;
		need = "an allowed 'export'";
	} else if (!strcmp(name, SITE_SIGNER_KEY)) {
		if (!create && acl_session_allowed(ss, "user-admin", NULL))
			return LACRE_OK;
		need = "an allowed 'user-admin'";
	} else {
		if (!create) {
			for (size_t i = 0; i < sizeof(warrant_actions) / sizeof(warrant_actions[0]); i++)
				if (acl_session_allowed(ss, warrant_actions[i], name))
					return LACRE_OK;
			if (acl_session_allowed(ss, "audit-deep", NULL))
				return LACRE_OK;
		}
		need = create ? "a keystore command (warrant keys are made by 'warrant add')" :
			"an allowed 'records', 'calls', 'audio', 'pcap', 'export' or 'identity' "
			"on that warrant";
	}
	if (msg && msglen)
		snprintf(msg, msglen, "internal error: key '%s' %s without %s in this session "
			 "(a bug of the command: please report it)", name ? name : "",
			 create ? "created" : "asked for", need);
	return LACRE_E_DENIED;
}

/* acl_session_set_keys's close function: the keystore wipes its key. */
static void close_keys(void *keys)
{
	keystore_close(keys);
}

/* The keystore ss owns, or NULL with msg naming the bug. */
static struct keystore *keys_of(const struct acl_session *ss, const char *name,
				char *msg, size_t msglen)
{
	struct keystore *ks = acl_session_keys(ss);

	if (ks == NULL && msg && msglen)
		snprintf(msg, msglen, "internal error: key '%s' asked for before the session's "
			 "keys were unlocked (a bug of the command: please report it)",
			 name ? name : "");
	return ks;
}

int keeper_keys_unlock(const struct site *s, const struct passphrase_src *src,
		       char *msg, size_t msglen)
{
	keeper_keys_close();
	return keeper_unlock(s, src, &keeper_ks, msg, msglen);
}

void keeper_keys_close(void)
{
	keystore_close(keeper_ks);
	keeper_ks = NULL;
}

void keeper_keys_worker(void)
{
	keeper_worker = 1;
}

void access_keys_lend(struct acl_session *ss, struct keystore *ks)
{
	acl_session_set_keys(ss, ks, NULL);
}

int access_keys_unlock(struct acl_session *ss, const struct passphrase_src *src, int *stage,
		       char *msg, size_t msglen)
{
	struct keystore *ks = NULL;
	int r;

	if (stage)
		*stage = ACCESS_UNLOCK_SECRET;
	if (msg && msglen)
		msg[0] = '\0';
	if (ss == NULL || msg == NULL || msglen == 0)
		return LACRE_E_INVALID;
	if (keeper_worker) {
		/* the keeper's keystore, opened once at its start; a worker
		 * serves one request, whose session takes it once */
		if (keeper_ks == NULL) {
			snprintf(msg, msglen, "the keeper's keystore was already used by this request");
			return LACRE_E_INVALID;
		}
		acl_session_set_keys(ss, keeper_ks, close_keys);
		keeper_ks = NULL;
		return LACRE_OK;
	}
	/* a one-shot run: the master passphrase (or the token's PIN), as the
	 * keeper itself unlocks (keeper_unlock, lib/keeper/server.c) */
	if ((r = keeper_unlock_stage(acl_session_site(ss), src, &ks, stage, msg, msglen)) !=
	    LACRE_OK) {
		if (!msg[0])
			snprintf(msg, msglen, "%s", lacre_strerror(r));
		return r;
	}
	acl_session_set_keys(ss, ks, close_keys);
	return LACRE_OK;
}

void access_keys_drop(struct acl_session *ss)
{
	acl_session_set_keys(ss, NULL, NULL);
}

int access_key(const struct acl_session *ss, const char *name,
	       struct age_x25519_identity *out, struct key_tombstone *tomb,
	       char *msg, size_t msglen)
{
	struct keystore *ks;
	int r;

	if (msg && msglen)
		msg[0] = '\0';
	if ((r = covers(ss, name, 0, msg, msglen)) != LACRE_OK)
		return r;
	if ((ks = keys_of(ss, name, msg, msglen)) == NULL)
		return LACRE_E_DENIED;
	return keystore_get(ks, name, out, tomb);
}

int access_key_secret(const struct acl_session *ss, const char *name, uint8_t out[32],
		      struct key_tombstone *tomb, char *msg, size_t msglen)
{
	struct keystore *ks;
	int r;

	if (msg && msglen)
		msg[0] = '\0';
	if ((r = covers(ss, name, 0, msg, msglen)) != LACRE_OK)
		return r;
	if ((ks = keys_of(ss, name, msg, msglen)) == NULL)
		return LACRE_E_DENIED;
	return keystore_get_secret(ks, name, out, tomb);
}

int access_key_operator(const struct acl_session *ss, const char *name,
			struct age_x25519_identity *id, uint8_t *secret,
			struct key_tombstone *tomb, int create, char *msg, size_t msglen)
{
	struct keystore *ks;
	int r;

	if (msg && msglen)
		msg[0] = '\0';
	if (acl_keeper_worker() || !acl_session_operator(ss)) {
		if (msg && msglen)
			snprintf(msg, msglen, "internal error: key '%s' asked for without a gate "
				 "session%s (a bug of the command: please report it)",
				 name ? name : "", acl_keeper_worker() ? " in the keeper" :
				 " of the master passphrase holder");
		return LACRE_E_DENIED;
	}
	if (name == NULL || (id == NULL) == (secret == NULL) || (create && (secret != NULL ||
			     strcmp(name, USERS_AUDITOR_KEY) != 0)))
		return LACRE_E_INVALID;
	if ((ks = keys_of(ss, name, msg, msglen)) == NULL)
		return LACRE_E_DENIED;
	if (secret != NULL)
		return keystore_get_secret(ks, name, secret, tomb);
	r = keystore_get(ks, name, id, tomb);
	if (r == LACRE_E_NOT_FOUND && create) {
		if ((r = age_x25519_generate(id)) == LACRE_OK)
			r = keystore_put(ks, name, id, 0);
		if (r != LACRE_OK)
			age_identity_wipe(id);
	}
	return r;
}

int access_key_create(const struct acl_session *ss, const char *name,
		      const struct age_x25519_identity *id, const uint8_t *secret,
		      char *msg, size_t msglen)
{
	struct keystore *ks;
	int r;

	if (msg && msglen)
		msg[0] = '\0';
	if ((r = covers(ss, name, 1, msg, msglen)) != LACRE_OK)
		return r;
	if ((ks = keys_of(ss, name, msg, msglen)) == NULL)
		return LACRE_E_DENIED;
	if (secret != NULL)
		return keystore_put_secret(ks, name, secret, 0);
	return id ? keystore_put(ks, name, id, 0) : LACRE_E_INVALID;
}

/* The keystore a write of the warrant log or a shred uses, in *ks: when
 * ss was allowed action on warrant (NULL: none named), or is the master
 * passphrase holder's on a site without users (never in the keeper,
 * never a shred).  Else LACRE_E_DENIED with msg naming what the write
 * needed (users.log's own error when it does not load), and no key is
 * touched. */
static int writer_keys(const struct acl_session *ss, const char *action, const char *warrant,
		       const char *what, struct keystore **ks, char *msg, size_t msglen)
{
	struct users_registry *reg = NULL;
	size_t users;
	int r;

	*ks = NULL;
	if (strcmp(action, "shred") != 0 && acl_session_operator(ss) && !acl_keeper_worker()) {
		/* the master passphrase holder's authority ends with the
		 * first user: from then on every change passes the gate */
		if ((r = users_load(acl_session_site(ss), &reg, msg, msglen)) != LACRE_OK)
			return r;
		users = reg->n;
		users_free(reg);
		if (users != 0) {
			if (msg && msglen)
				snprintf(msg, msglen, "internal error: %s by the master passphrase "
					 "holder on a site that has users (a bug of the command: please "
					 "report it)", what);
			return LACRE_E_DENIED;
		}
	} else if (!acl_session_allowed(ss, action, warrant)) {
		if (msg && msglen)
			snprintf(msg, msglen, "internal error: %s%s%s without an allowed '%s' in "
				 "this session (a bug of the command: please report it)", what,
				 warrant ? " of " : "", warrant ? warrant : "", action);
		return LACRE_E_DENIED;
	}
	if ((*ks = keys_of(ss, what, msg, msglen)) == NULL)
		return LACRE_E_DENIED;
	return LACRE_OK;
}

int access_key_shred(const struct acl_session *ss, const struct shred_request *req,
		     char *msg, size_t msglen)
{
	struct keystore *ks;
	const char *who;
	int r;

	if (msg && msglen)
		msg[0] = '\0';
	if (req == NULL || !req->warrant[0])
		return LACRE_E_INVALID;
	if ((r = writer_keys(ss, "shred", req->warrant, "the key shredded", &ks, msg, msglen)) !=
	    LACRE_OK)
		return r;
	/* the four-eyes rule once more, right before the key goes: the
	 * command checked it before the gate, shred_approve under the lock */
	who = acl_session_user(ss);
	if ((r = shred_check_approval(req, who ? who : "", acl_session_role(ss), msg,
				      msglen)) != LACRE_OK)
		return r;
	return keystore_shred(ks, req->warrant, req->order, req->order_date);
}

int access_warrant_add(const struct acl_session *ss, const struct warrant *spec,
		       char id[WARRANT_ID_MAX], char *msg, size_t msglen)
{
	struct keystore *ks;
	int r;

	if ((r = writer_keys(ss, "warrant-add", NULL, "a warrant added", &ks, msg, msglen)) !=
	    LACRE_OK)
		return r;
	return warrant_add(acl_session_site(ss), ks, spec, id, msg, msglen);
}

int access_warrant_extend(const struct acl_session *ss, const char *id,
			  const struct warrant_period *p, char *msg, size_t msglen)
{
	struct keystore *ks;
	int r;

	if (id == NULL)
		return LACRE_E_INVALID;
	if ((r = writer_keys(ss, "warrant-change", id, "the extension", &ks, msg, msglen)) !=
	    LACRE_OK)
		return r;
	return warrant_extend(acl_session_site(ss), ks, id, p, msg, msglen);
}

int access_warrant_confirm(const struct acl_session *ss, const char *id, const char *order_id,
			   int64_t order_date, char *msg, size_t msglen)
{
	struct keystore *ks;
	int r;

	if (id == NULL)
		return LACRE_E_INVALID;
	if ((r = writer_keys(ss, "warrant-change", id, "the confirmation", &ks, msg, msglen)) !=
	    LACRE_OK)
		return r;
	return warrant_confirm(acl_session_site(ss), ks, id, order_id, order_date, msg, msglen);
}

int access_warrant_cease(const struct acl_session *ss, const char *id, const char *order_id,
			 int64_t order_date, int64_t at, char *msg, size_t msglen)
{
	struct keystore *ks;
	int r;

	if (id == NULL)
		return LACRE_E_INVALID;
	if ((r = writer_keys(ss, "warrant-change", id, "the cessation", &ks, msg, msglen)) !=
	    LACRE_OK)
		return r;
	return warrant_cease(acl_session_site(ss), ks, id, order_id, order_date, at, msg, msglen);
}
