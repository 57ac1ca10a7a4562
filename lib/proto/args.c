/*
 * args.c - which requests the keeper serves (docs/keeper.md "What the
 * keeper runs"): an allow-list of commands and subcommands, and of the
 * options they may carry.
 *
 * The keeper runs the request's arguments through the same getopt_long
 * parser as the CLI, so this check must see them exactly as getopt_long
 * will: every long option is spelled in full (getopt's abbreviations
 * would let "--sit" or "--out" slip past a check by name), its value is
 * the next argument or follows "=", and "--" (which would turn the
 * keeper's own "--site DIR" into a positional argument) is refused.  The
 * site (--site), the acting user (--user) and the passphrase
 * (--passphrase-file, --passphrase-fd) are the keeper's, never the
 * client's.  Commands that sign registry events (user add/disable, shred
 * request/approve, retention record) are served too: the keeper holds no
 * user's private key, so the worker asks the client for the user's
 * signature over each users.log / cases.log line (evlog_sign_fn, the same
 * relay as the access events).  `user add` takes the new user's public
 * key (--public-key): the client makes the key pair and keeps the private
 * half, so -o is refused for it.
 */
#include <stdio.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/keeper.h"

/* A command the keeper serves; subs NULL: any, else the allowed first
 * arguments (NULL-terminated); none_ok: also without a subcommand. */
struct served {
	const char *name;
	const char *const *subs;
	int none_ok;
	int output;              /* writes a file: --output / -o */
};

static const char *const warrant_subs[] = { "list", "show", "identity", "add", "extend",
					     "confirm", "cease", NULL };
static const char *const retention_subs[] = { "list", "record", NULL };
static const char *const user_subs[] = { "add", "disable", NULL };
static const char *const shred_subs[] = { "request", "approve", "list", NULL };

static const struct served served[] = {
	{ "records", NULL, 1, 0 },
	{ "quarantine", NULL, 1, 0 },
	{ "calls", NULL, 1, 0 },
	{ "locations", NULL, 1, 0 },
	{ "audio", NULL, 1, 1 },
	{ "pcap", NULL, 1, 1 },
	{ "export", NULL, 1, 1 },
	{ "proof-record", NULL, 1, 1 },
	{ "access-log", NULL, 1, 0 },
	{ "reindex", NULL, 1, 0 },
	{ "warrant", warrant_subs, 0, 0 },
	{ "retention", retention_subs, 1, 0 },
	{ "user", user_subs, 0, 0 },            /* list reads public users.log: no keeper */
	{ "shred", shred_subs, 1, 0 },          /* no subcommand: a request */
	{ "audit", NULL, 1, 0 },          /* only with --deep: see keeper_args_check */
};

/* Long options the served commands know and the keeper passes on. */
static const char *const with_value[] = {
	"warrant", "from", "to", "cin", "justification", "output", "recipient",
	"exclude-record", "exclude-range", "record", "at", "case", "unit", "court",
	"order", "order-date", "categories", "authority", "target", "liid", "operator",
	"role", "public-key", "state", "date", NULL
};
static const char *const without_value[] = {
	"json", "events", "help", "with-quarantine", "no-media", "all", "deep", "emergency", NULL
};
/* The keeper's own: never from a client. */
static const char *const keepers[] = {
	"site", "user", "passphrase-file", "passphrase-fd", "keeper", NULL
};

static int in(const char *const *set, const char *s, size_t n)
{
	for (; *set; set++)
		if (strlen(*set) == n && memcmp(*set, s, n) == 0)
			return 1;
	return 0;
}

int keeper_option_has_value(const char *name, size_t n)
{
	if (in(with_value, name, n))
		return 1;
	if (in(without_value, name, n))
		return 0;
	if (in(keepers, name, n))
		return 1;
	return -1;
}

static const struct served *find(int argc, char *const *argv)
{
	if (argc < 1 || argv == NULL || argv[0] == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(served) / sizeof(served[0]); i++)
		if (!strcmp(served[i].name, argv[0]))
			return &served[i];
	return NULL;
}

int keeper_command_served(int argc, char *const *argv)
{
	const struct served *c = find(argc, argv);

	if (c == NULL)
		return 0;
	if (!strcmp(c->name, "audit")) {
		/* the keyless audit needs no keeper: only --deep is served */
		for (int i = 1; i < argc; i++)
			if (!strcmp(argv[i], "--deep"))
				return 1;
		return 0;
	}
	if (c->subs == NULL)
		return 1;
	if (argc < 2 || argv[1][0] == '-')
		return c->none_ok;
	return in(c->subs, argv[1], strlen(argv[1]));
}

/* Where the options start: after the subcommand, when there is one. */
static int first_opt(const struct served *c, int argc, char *const *argv)
{
	return c->subs && argc >= 2 && argv[1][0] != '-' ? 2 : 1;
}

/* Walk the options from argv[first] as getopt_long will: the output
 * path's position to *out_idx / *out_off, *deep when --deep is given.
 * Returns LACRE_OK or the refusal with msg. */
static int walk(int argc, char *const *argv, int first, int output, int *out_idx,
		size_t *out_off, int *deep, char *msg, size_t msglen)
{
	int nout = 0;

	for (int i = first; i < argc; i++) {
		const char *a = argv[i], *eq;
		size_t n;

		if (a[0] != '-' || a[1] == '\0')
			continue;                       /* a positional argument */
		if (a[1] != '-') {
			if (!strcmp(a, "-h"))
				continue;
			if (output && !strcmp(a, "-o")) {
				if (i + 1 >= argc) {
					snprintf(msg, msglen, "-o needs a file name");
					return LACRE_E_DENIED;
				}
				*out_idx = i + 1;
				*out_off = 0;
				nout++;
				i++;
				continue;
			}
			snprintf(msg, msglen, "the keeper does not accept the option '%s' (spell "
				 "options in full: --output)", a);
			return LACRE_E_DENIED;
		}
		if (a[2] == '\0') {
			snprintf(msg, msglen, "the keeper does not accept '--' among the arguments");
			return LACRE_E_DENIED;
		}
		eq = strchr(a + 2, '=');
		n = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		if (in(keepers, a + 2, n)) {
			snprintf(msg, msglen, "the keeper does not accept --%.*s from a client (the site, "
				 "the user and the passphrase are the keeper's)", (int)n, a + 2);
			return LACRE_E_DENIED;
		}
		if (in(without_value, a + 2, n)) {
			if (eq) {
				snprintf(msg, msglen, "--%.*s takes no value", (int)n, a + 2);
				return LACRE_E_DENIED;
			}
			if (n == 4 && !memcmp(a + 2, "deep", 4))
				*deep = 1;
			continue;
		}
		if (!in(with_value, a + 2, n)) {
			snprintf(msg, msglen, "the keeper does not accept the option '%.*s' (spell "
				 "options in full)", (int)(n + 2), a);
			return LACRE_E_DENIED;
		}
		if (n == 6 && !memcmp(a + 2, "output", 6)) {
			if (!output) {
				snprintf(msg, msglen, "%s writes no file: --output is not accepted", argv[0]);
				return LACRE_E_DENIED;
			}
			nout++;
		}
		if (eq) {
			if (n == 6 && !memcmp(a + 2, "output", 6)) {
				*out_idx = i;
				*out_off = 9;
			}
			continue;
		}
		if (i + 1 >= argc) {
			snprintf(msg, msglen, "--%.*s needs a value", (int)n, a + 2);
			return LACRE_E_DENIED;
		}
		if (n == 6 && !memcmp(a + 2, "output", 6)) {
			*out_idx = i + 1;
			*out_off = 0;
		}
		i++;                                    /* its value, whatever it looks like */
	}
	if (nout > 1) {
		snprintf(msg, msglen, "give the output file once");
		return LACRE_E_DENIED;
	}
	return LACRE_OK;
}

int keeper_args_check(int argc, char *const *argv, char *msg, size_t msglen)
{
	const struct served *c = find(argc, argv);
	int idx = -1, deep = 0, r;
	size_t off = 0;

	if (msglen)
		msg[0] = '\0';
	if (c == NULL) {
		snprintf(msg, msglen, "the keeper does not serve '%s'",
			 argc >= 1 && argv && argv[0] ? argv[0] : "");
		return LACRE_E_DENIED;
	}
	if (!strcmp(c->name, "audit") && !keeper_command_served(argc, argv)) {
		snprintf(msg, msglen, "the keeper serves 'audit --deep' only (the keyless audit "
			 "needs no keeper: 'lacre audit --site DIR')");
		return LACRE_E_DENIED;
	}
	if (!keeper_command_served(argc, argv)) {
		snprintf(msg, msglen, "the keeper does not serve '%s%s%s'%s", argv[0],
			 argc >= 2 ? " " : "", argc >= 2 ? argv[1] : "",
			 !strcmp(argv[0], "user") ? " (user list reads users.log: run it without the "
			 "keeper)" : "");
		return LACRE_E_DENIED;
	}
	for (int i = 0; i < argc; i++)
		if (argv[i] == NULL || strlen(argv[i]) > KEEPER_ARG_MAX) {
			snprintf(msg, msglen, "an argument is too long");
			return LACRE_E_DENIED;
		}
	r = walk(argc, argv, first_opt(c, argc, argv), c->output, &idx, &off, &deep, msg, msglen);
	if (r != LACRE_OK)
		return r;
	if (!strcmp(c->name, "audit") && !deep) {
		snprintf(msg, msglen, "'--deep' must be an option of 'audit', not a value");
		return LACRE_E_DENIED;
	}
	if (c->output && idx >= 0 && argv[idx][off] == '\0') {
		snprintf(msg, msglen, "--output needs a file name");
		return LACRE_E_DENIED;
	}
	return LACRE_OK;
}

int keeper_args_output(int argc, char *const *argv, int *idx, size_t *off)
{
	const struct served *c = find(argc, argv);
	char msg[8];
	int i = -1, deep = 0;
	size_t o = 0;

	if (c == NULL || !c->output)
		return LACRE_E_NOT_FOUND;
	if (walk(argc, argv, first_opt(c, argc, argv), 1, &i, &o, &deep, msg, sizeof(msg)) != LACRE_OK ||
	    i < 0)
		return LACRE_E_NOT_FOUND;
	*idx = i;
	*off = o;
	return LACRE_OK;
}
