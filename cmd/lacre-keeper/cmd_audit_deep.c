/*
 * cmd_audit_deep.c - the decrypting half of `lacre audit --site DIR
 * --deep` (keeper domain, docs/trust-domains.md): give the gate's session
 * its keys (the keeper's, or in a one-shot `lacre-keeper run` with the
 * passphrase, the master passphrase holder's own session),
 * decrypt every segment and match every record with its commitment and
 * every commitment with its record (lib/access/deep_audit.c).  The keyless
 * audit before it is cmd/lacre/cmd_audit_site.c, which calls this through
 * cli_audit_deep_hook (set by lacre-keeper's main).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keeper/access_key.h"
#include "keeper/passphrase.h"
#include "lacre/age.h"
#include "lacre/deep_audit.h"
#include "lacre/err.h"
#include "lacre/site.h"
#include "lacre/store.h"
#include "lacre/warrant.h"
#include "cli.h"

/* One finding of the deep audit, as the keyless audit prints its own. */
static void on_deep(void *arg, const char *seg, const char *what)
{
	(void)arg;
	printf("%-14s %s: %s\n", "deep", seg, what);
}

/* The keeper's session that allowed audit-deep (cli_audit_deep_session). */
static struct acl_session *deep_ss;

void cli_audit_deep_session(struct acl_session *ss)
{
	acl_session_close(deep_ss);
	deep_ss = ss;
}

/* Load every identity the keystore still holds (warrants + oversight)
 * through ss: the keeper's gate session that allowed audit-deep
 * (access_key.h), or in a one-shot `lacre-keeper run` the operator
 * session, whose authority is the master passphrase itself (no user, no
 * gate: access_key_operator). */
static int load_ids(const struct site *s, const struct acl_session *ss,
		    struct deep_identity **out, struct age_x25519_identity **keys, size_t *n)
{
	char kmsg[SITE_MSG_MAX];
	struct warrant_registry *reg = NULL;
	struct key_tombstone tomb;
	size_t cnt, k = 0;
	int r;

	if ((r = warrant_registry_load(s, &reg)) != LACRE_OK)
		return r;
	cnt = warrant_registry_count(reg) + 1;
	*out = calloc(cnt, sizeof(**out));
	*keys = calloc(cnt, sizeof(**keys));
	if (!*out || !*keys) {
		warrant_registry_free(reg);
		return LACRE_E_NOMEM;
	}
	for (size_t i = 0; i < cnt; i++) {
		const char *name = i + 1 < cnt ? warrant_registry_at(reg, i)->id : SITE_OVERSIGHT_KEY;
		r = acl_session_operator(ss) ?
			access_key_operator(ss, name, &(*keys)[k], NULL, &tomb, 0, kmsg, sizeof(kmsg)) :
			access_key(ss, name, &(*keys)[k], &tomb, kmsg, sizeof(kmsg));
		if (r == LACRE_E_DENIED) {
			/* a bug, never a user's doing: the gate allowed audit-deep */
			cli_err("%s", kmsg);
			for (size_t j = 0; j < k; j++) {
				age_identity_wipe(&(*keys)[j]);
				free((char *)(*out)[j].name);
			}
			free(*out);
			free(*keys);
			*out = NULL;
			*keys = NULL;
			warrant_registry_free(reg);
			return r;
		}
		if (r != LACRE_OK)
			continue;  /* shredded or foreign: its segments stay unopened */
		(*out)[k].name = strdup(name);
		(*out)[k].id = &(*keys)[k];
		k++;
	}
	warrant_registry_free(reg);
	*n = k;
	return LACRE_OK;
}

/* The deep audit of s over st (cli_audit_deep_fn, cli.h): every ingest
 * log of logs[0..nlogs) to the size the keyless audit verified; ex is the
 * keyless audit's exit status, the result is the command's. */
int cli_audit_deep(const char *pass_file, const struct site *s, struct lacre_store *st,
		   const struct deep_log *logs, size_t nlogs, int ex)
{
	struct acl_session *op = NULL, *ss = deep_ss;
	struct deep_identity *ids = NULL;
	struct age_x25519_identity *keys = NULL;
	struct deep_audit_result dr;
	size_t n = 0;
	struct passphrase_src pass;
	int ex2, r;

	passphrase_src_init(&pass);
	pass.file = pass_file;
	if (ss == NULL) {
		/* no gate session: a one-shot run with the master passphrase */
		char msg[SITE_MSG_MAX];

		msg[0] = '\0';
		if ((r = acl_session_open_operator(s, &op, msg, sizeof(msg))) != LACRE_OK) {
			cli_err("%s", msg[0] ? msg : lacre_strerror(r));
			return EXIT_FAIL;
		}
		ss = op;
	}
	ex2 = cli_session_keys(&pass, ss);
	if (ex2 != EXIT_OK) {
		acl_session_close(op);
		return ex2;
	}
	r = load_ids(s, ss, &ids, &keys, &n);
	/* the identities are copied: the keystore is wiped now */
	access_keys_drop(ss);
	acl_session_close(op);
	if (r == LACRE_OK)
		r = deep_audit_run_logs(s, st, logs, nlogs, ids, n, on_deep, NULL, &dr);
	if ((r == LACRE_OK || r == LACRE_E_VERIFY) && nlogs > 1)
		printf("deep: %zu ingest logs, each to the size audited above\n", nlogs);
	if (r == LACRE_OK || r == LACRE_E_VERIFY)
		printf("deep: %llu segments decrypted (%llu from the spool), %llu records checked; "
		       "%llu segments no key opens (shredded); %llu commitments with no record "
		       "(%llu of shredded segments, %llu of open segments); %llu unlogged segments "
		       "with %llu records in no log; %llu problems\n",
		       (unsigned long long)dr.segments, (unsigned long long)dr.from_spool,
		       (unsigned long long)dr.records, (unsigned long long)dr.unopened,
		       (unsigned long long)dr.unmatched_leaves, (unsigned long long)dr.shredded_leaves,
		       (unsigned long long)dr.open_leaves, (unsigned long long)dr.unlogged_segments,
		       (unsigned long long)dr.unlogged_records, (unsigned long long)dr.problems);
	else
		cli_err("deep audit could not run: %s", lacre_strerror(r));
	if (r != LACRE_OK && ex == EXIT_OK)
		ex = cli_exit_status(r);
	for (size_t i = 0; i < n; i++) {
		age_identity_wipe(&keys[i]);
		free((char *)ids[i].name);
	}
	free(ids);
	free(keys);
	return ex;
}
