/*
 * cmd_user.c - `lacre user add|list|disable`: the site's users and roles
 * (lib/site/users.c; docs/cmd-user.md, docs/access.md).
 *
 * The first `lacre user add` on a site whose registry is empty bootstraps
 * it with the master passphrase: it must create an administrator, and the
 * two first events of users.log are signed with the site's warrant-log key
 * (only a holder of the master passphrase can do this).  From then on
 * every user-management action needs an administrator's key (--user or
 * LACRE_USER) and is recorded in the access log.
 *
 * Through the keeper (docs/keeper.md) `user add` and `user disable` run in
 * the keeper's worker: the administrator's signature over the users.log
 * event comes from the administrator's own client over the connection
 * (users_sign_session), and the new user's key pair is made by the client,
 * which sends only the public key (--public-key HEX): no private key of a
 * user is ever in the keeper.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lacre/acl.h"
#include "lacre/err.h"
#include "lacre/hex.h"
#include "lacre/json.h"
#include "keeper/access_key.h"
#include "keeper/passphrase.h"
#include "lacre/site.h"
#include "lacre/users.h"
#include "lacre/warrant.h"
#include "cli.h"

struct uopts {
	const char *site, *user, *role, *unit, *out, *justification, *name, *pubkey;
	int json;
	struct passphrase_src pass;
};

/* Print the option summary. */
static void usage(FILE *f)
{
	fprintf(f,
	"usage: lacre user COMMAND [options]\n"
	"\n"
	"  add NAME --role investigator|supervisor|clerk|auditor|admin [--unit U] -o KEYFILE\n"
	"                      register a user; writes the new private key to KEYFILE (0600)\n"
	"                      (--public-key HEX instead of -o: register a key made elsewhere)\n"
	"  list                the users, their roles, units and status\n"
	"  disable NAME        disable a user (users are never deleted)\n"
	"\n"
	"  --user KEYFILE      the acting administrator (or LACRE_USER)\n"
	"  --justification T   recorded in the access log (default \"user administration\")\n"
	"  --site DIR          the site (LACRE_SITE)\n"
	"  --passphrase-file F / --passphrase-fd N   master passphrase: only for the\n"
	"                      first 'user add' on a site, which creates the first admin\n"
	"  --json              machine-readable output\n"
	"Investigators and supervisors need --unit (the unit named in the orders, L7).\n");
}

/* Parse the options of a subcommand (argv[0] is its name). */
static int parse(int argc, char **argv, struct uopts *o)
{
	static const struct option lo[] = {
		{ "site", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "role", required_argument, NULL, 'r' },
		{ "unit", required_argument, NULL, 'U' },
		{ "output", required_argument, NULL, 'o' },
		{ "public-key", required_argument, NULL, 'k' },
		{ "justification", required_argument, NULL, 'J' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "passphrase-fd", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	passphrase_src_init(&o->pass);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->site = optarg; break;
		case 'u': o->user = optarg; break;
		case 'r': o->role = optarg; break;
		case 'U': o->unit = optarg; break;
		case 'o': o->out = optarg; break;
		case 'k': o->pubkey = optarg; break;
		case 'J': o->justification = optarg; break;
		case 'p': o->pass.file = optarg; break;
		case 'f':
			if (cli_passphrase_fd(optarg, &o->pass.fd) != EXIT_OK)
				return EXIT_USAGE;
			break;
		case 'j': o->json = 1; break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		o->name = argv[optind++];
	if (optind < argc) {
		cli_err("unexpected argument '%s'; run 'lacre help user'", argv[optind]);
		return EXIT_USAGE;
	}
	if (!o->justification)
		o->justification = "user administration";
	return EXIT_OK;
}

/* Open an admin session and log the action first (audit-first). */
static int admin_gate(const struct uopts *o, const struct site *s, const char *what,
		      struct acl_session **ss)
{
	struct access_request rq = { "user-admin", NULL, what, o->justification };

	*ss = NULL;
	return cli_gate(s, o->user, &rq, ss, NULL);
}

/* The first administrator, signed with the master key's warrant-log key. */
static int bootstrap(const struct uopts *o, const struct site *s, const char *name,
		     const uint8_t pub[32])
{
	struct acl_session *op = NULL;
	struct age_x25519_identity aud;
	uint8_t seed[32];
	char msg[SITE_MSG_MAX];
	int e, r;

	/* no user exists yet: the master passphrase is the authority, in
	 * its own session (acl_session_open_operator, access_key_operator;
	 * both refused in a keeper worker) */
	msg[0] = '\0';
	if ((r = acl_session_open_operator(s, &op, msg, sizeof(msg))) != LACRE_OK) {
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		return EXIT_FAIL;
	}
	if ((e = cli_session_keys(&o->pass, op)) != EXIT_OK) {
		acl_session_close(op);
		return e;
	}
	memset(&aud, 0, sizeof(aud));
	r = access_key_operator(op, USERS_AUDITOR_KEY, &aud, NULL, NULL, 1, msg, sizeof(msg));
	if (r == LACRE_OK)
		r = access_key_operator(op, SITE_SIGNER_KEY, NULL, seed, NULL, 0, msg, sizeof(msg));
	acl_session_close(op);
	if (r != LACRE_OK) {
		age_identity_wipe(&aud);
		OPENSSL_cleanse(seed, sizeof(seed));
		if (r == LACRE_E_DENIED) {
			cli_err("%s", msg);
			return EXIT_FAIL;
		}
		return cli_fail(r, "cannot prepare the auditor identity or read the site's signing key");
	}
	msg[0] = '\0';
	r = users_bootstrap(s, seed, aud.public_key, name, o->unit ? o->unit : "", pub,
			    msg, sizeof(msg));
	OPENSSL_cleanse(seed, sizeof(seed));
	age_identity_wipe(&aud);
	if (r != LACRE_OK) {
		cli_err("user add: %s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	return EXIT_OK;
}

/* lacre user add: the key pair is made here (-o KEYFILE) or elsewhere
 * (--public-key HEX, what the keeper's client sends). */
static int do_add(const struct uopts *o, const struct site *s)
{
	struct users_registry *reg = NULL;
	struct acl_session *ss = NULL;
	struct user_key k;
	enum acl_role role;
	uint8_t pub[32];
	char msg[SITE_MSG_MAX], what[512];
	int e, r, boot;

	memset(&k, 0, sizeof(k));
	if (!o->name || !o->role || (!o->out && !o->pubkey)) {
		cli_err("user add needs NAME, --role and -o KEYFILE; run 'lacre help user'");
		return EXIT_USAGE;
	}
	if (o->out && o->pubkey) {
		cli_err("user add takes -o KEYFILE (a new key pair) or --public-key HEX, not both");
		return EXIT_USAGE;
	}
	if (o->pubkey && (strlen(o->pubkey) != 64 ||
			  lacre_unhex(o->pubkey, 64, pub, sizeof(pub)) != LACRE_OK)) {
		cli_err("--public-key needs the new user's Ed25519 public key as 64 hex digits");
		return EXIT_USAGE;
	}
	if (acl_role_parse(o->role, &role) != LACRE_OK) {
		cli_err("--role must be investigator, supervisor, clerk, auditor or admin");
		return EXIT_USAGE;
	}
	if (!users_name_ok(o->name)) {
		cli_err("user name must be [A-Za-z0-9][A-Za-z0-9._-]* (at most 63 characters)");
		return EXIT_USAGE;
	}
	if ((role == ACL_INVESTIGATOR || role == ACL_SUPERVISOR) && (!o->unit || !o->unit[0])) {
		cli_err("an %s needs --unit U (the unit named in the orders, L7)", o->role);
		return EXIT_USAGE;
	}
	if (o->out && access(o->out, F_OK) == 0) {
		cli_err("%s exists: choose another -o file (keys are never overwritten)", o->out);
		return EXIT_FAIL;
	}
	msg[0] = '\0';
	if ((r = users_load(s, &reg, msg, sizeof(msg))) != LACRE_OK) {
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	boot = reg->n == 0;
	users_free(reg);
	if (boot && role != ACL_ADMIN) {
		cli_err("the site has no users yet: the first user must be an administrator "
			"(--role admin, with the master passphrase)");
		return EXIT_USAGE;
	}
	if (boot && cli_keeper_worker()) {
		cli_err("the site has no users yet: create the first administrator without the "
			"keeper ('lacre user add NAME --role admin -o KEYFILE' with the master passphrase)");
		return EXIT_FAIL;
	}
	if (!boot) {
		snprintf(what, sizeof(what), "add user %s role %s unit %s", o->name, o->role,
			 o->unit ? o->unit : "");
		if ((e = admin_gate(o, s, what, &ss)) != EXIT_OK)
			return e;
	}
	if (o->out) {
		if ((r = user_key_generate(o->name, &k)) != LACRE_OK ||
		    (r = user_key_write(&k, o->out)) != LACRE_OK) {
			user_key_wipe(&k);
			acl_session_close(ss);
			return cli_fail(r, "cannot write the new key file");
		}
		memcpy(pub, k.pub, sizeof(pub));
		user_key_wipe(&k);
	}
	if (boot) {
		e = bootstrap(o, s, o->name, pub);
	} else {
		/* signed by the acting admin: its key file, or its client through
		 * the keeper */
		msg[0] = '\0';
		r = users_add_signed(s, acl_session_user(ss), users_sign_session, ss, o->name, role,
				     o->unit, pub, msg, sizeof(msg));
		e = r == LACRE_OK ? EXIT_OK : cli_exit_status(r);
		if (r != LACRE_OK)
			cli_err("user add: %s", msg[0] ? msg : lacre_strerror(r));
	}
	acl_session_close(ss);
	if (e != EXIT_OK) {
		if (o->out)
			unlink(o->out);
		return e;
	}
	if (o->json)
		printf("{\"name\":\"%s\",\"role\":\"%s\",\"bootstrap\":%s}\n", o->name,
		       acl_role_name(role), boot ? "true" : "false");
	else if (boot)
		printf("first administrator %s created (signed with the site's master key); "
		       "%s%s\n", o->name, o->out ? "private key in " : "public key registered",
		       o->out ? o->out : "");
	else
		printf("user %s (%s%s%s) added; %s%s\n", o->name, acl_role_name(role),
		       o->unit ? ", unit " : "", o->unit ? o->unit : "",
		       o->out ? "private key in " : "public key registered", o->out ? o->out : "");
	return EXIT_OK;
}

/* lacre user list */
/* lacre user list: the shared listing (cmd/lacre/cmd_user_list.c). */
static int do_list(const struct uopts *o, const struct site *s)
{
	return cli_user_list(s, o->json);
}

/* lacre user disable */
static int do_disable(const struct uopts *o, const struct site *s)
{
	struct acl_session *ss = NULL;
	char msg[SITE_MSG_MAX], what[256];
	int e, r;

	if (!o->name) {
		cli_err("which user? 'lacre user disable NAME'");
		return EXIT_USAGE;
	}
	snprintf(what, sizeof(what), "disable user %s", o->name);
	if ((e = admin_gate(o, s, what, &ss)) != EXIT_OK)
		return e;
	msg[0] = '\0';
	r = users_disable_signed(s, acl_session_user(ss), users_sign_session, ss, o->name, msg,
				 sizeof(msg));
	acl_session_close(ss);
	if (r != LACRE_OK) {
		cli_err("user disable: %s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	printf("user %s disabled\n", o->name);
	return EXIT_OK;
}

int cmd_user(int argc, char **argv)
{
	struct uopts o;
	struct site *s;
	const char *sub;
	int e;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	sub = argv[1];
	if (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "disable")) {
		cli_err("no user command '%s'; run 'lacre help user'", sub);
		return EXIT_USAGE;
	}
	if ((e = parse(argc - 1, argv + 1, &o)) != EXIT_OK)
		return e < 0 ? EXIT_OK : e;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return cli_fail(LACRE_E_NOMEM, "user");
	e = cli_open_site(o.site, s);
	if (e == EXIT_OK) {
		if (!strcmp(sub, "add"))
			e = do_add(&o, s);
		else if (!strcmp(sub, "list"))
			e = do_list(&o, s);
		else
			e = do_disable(&o, s);
	}
	free(s);
	return e;
}
