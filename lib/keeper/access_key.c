/*
 * access_key.c - keys only through the gate's session (access_key.h).
 * Here, in the keeper domain beside the keystore, and not in lib/access:
 * it needs of the gate only acl_session_allowed(), the record of what
 * acl_authorize allowed, and keeps the key names' rule next to the keys.
 */
#include <stdio.h>
#include <string.h>

#include "keeper/access_key.h"
#include "lacre/err.h"
#include "lacre/export.h"
#include "lacre/site.h"
#include "lacre/users.h"

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

int access_key(const struct acl_session *ss, struct keystore *ks, const char *name,
	       struct age_x25519_identity *out, struct keystore_tombstone *tomb,
	       char *msg, size_t msglen)
{
	int r;

	if (msg && msglen)
		msg[0] = '\0';
	if ((r = covers(ss, name, 0, msg, msglen)) != LACRE_OK)
		return r;
	return keystore_get(ks, name, out, tomb);
}

int access_key_secret(const struct acl_session *ss, struct keystore *ks, const char *name,
		      uint8_t out[32], struct keystore_tombstone *tomb, char *msg, size_t msglen)
{
	int r;

	if (msg && msglen)
		msg[0] = '\0';
	if ((r = covers(ss, name, 0, msg, msglen)) != LACRE_OK)
		return r;
	return keystore_get_secret(ks, name, out, tomb);
}

int access_key_operator(struct keystore *ks, const char *name, struct age_x25519_identity *id,
			uint8_t *secret, struct keystore_tombstone *tomb, int create,
			char *msg, size_t msglen)
{
	int r;

	if (msg && msglen)
		msg[0] = '\0';
	if (acl_keeper_worker()) {
		if (msg && msglen)
			snprintf(msg, msglen, "internal error: key '%s' asked for without a gate "
				 "session in the keeper (a bug of the command: please report it)",
				 name ? name : "");
		return LACRE_E_DENIED;
	}
	if (name == NULL || (id == NULL) == (secret == NULL) || (create && (secret != NULL ||
			     strcmp(name, USERS_AUDITOR_KEY) != 0)))
		return LACRE_E_INVALID;
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

int access_key_create(const struct acl_session *ss, struct keystore *ks, const char *name,
		      const struct age_x25519_identity *id, const uint8_t *secret,
		      char *msg, size_t msglen)
{
	int r;

	if (msg && msglen)
		msg[0] = '\0';
	if ((r = covers(ss, name, 1, msg, msglen)) != LACRE_OK)
		return r;
	if (secret != NULL)
		return keystore_put_secret(ks, name, secret, 0);
	return id ? keystore_put(ks, name, id, 0) : LACRE_E_INVALID;
}
