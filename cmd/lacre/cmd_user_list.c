/*
 * cmd_user_list.c - `lacre user list [--json]`: the site's users, roles,
 * units and states, read from users.log (public site data, verified on
 * read: lib/site/users.c).  Keyless: it runs in the lacre client, never
 * through the keeper, and needs no passphrase; lacre-keeper's `user`
 * (cmd/lacre-keeper/cmd_user.c) lists with the same function.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/acl.h"
#include "lacre/err.h"
#include "lacre/json.h"
#include "lacre/site.h"
#include "lacre/users.h"
#include "lacre/warrant.h"
#include "cli.h"

/* Print every user of s, one line each (or one JSON object per line). */
int cli_user_list(const struct site *s, int json)
{
	struct users_registry *reg = NULL;
	struct lacre_dbuf d;
	struct json_w w;
	char msg[SITE_MSG_MAX], t[WARRANT_TIME_MAX];
	int r;

	msg[0] = '\0';
	if ((r = users_load(s, &reg, msg, sizeof(msg))) != LACRE_OK) {
		cli_err("%s", msg[0] ? msg : lacre_strerror(r));
		return cli_exit_status(r);
	}
	lacre_dbuf_init(&d, 1 << 24);
	for (size_t i = 0; i < reg->n; i++) {
		const struct user *u = &reg->u[i];
		warrant_time_format(u->added_at, t);
		if (json) {
			char hx[65];
			static const char x[] = "0123456789abcdef";
			for (int b = 0; b < 32; b++) {
				hx[2 * b] = x[u->pub[b] >> 4];
				hx[2 * b + 1] = x[u->pub[b] & 15];
			}
			hx[64] = '\0';
			lacre_dbuf_reset(&d);
			json_init(&w, &d);
			json_obj_begin(&w);
			json_kv_str(&w, "name", u->name);
			json_kv_str(&w, "role", acl_role_name(u->role));
			json_kv_str(&w, "unit", u->unit);
			json_kv_bool(&w, "disabled", u->disabled);
			json_kv_str(&w, "added_at", t);
			json_kv_str(&w, "added_by", u->added_by);
			json_kv_str(&w, "key", hx);
			json_obj_end(&w);
			if (json_finish(&w) == LACRE_OK)
				printf("%.*s\n", (int)d.len, (const char *)d.p);
		} else {
			printf("%-20s %-13s %-16s %-9s added %s by %s\n", u->name, acl_role_name(u->role),
			       u->unit[0] ? u->unit : "-", u->disabled ? "disabled" : "enabled", t,
			       u->added_by);
		}
	}
	if (!json && reg->n == 0)
		printf("no users yet: 'lacre user add NAME --role admin -o KEYFILE' with the master "
		       "passphrase creates the first administrator\n");
	lacre_dbuf_free(&d);
	users_free(reg);
	return EXIT_OK;
}

/* lacre user list [--site DIR] [--json]; argv[0] is "list".  --user is
 * accepted and unused, as it always was for list (users.log is public). */
int cmd_user_list(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "site", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *site = NULL;
	struct site *s;
	int json = 0, c, e;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': site = optarg; break;
		case 'u': break;
		case 'j': json = 1; break;
		case 'h':
			printf("usage: lacre user list [--site DIR] [--json]\n"
			       "Lists the site's users (users.log, verified): name, role, unit, state,\n"
			       "when and by whom added.  Needs no key and no keeper.\n");
			return EXIT_OK;
		default:
			cli_err("run 'lacre help user' for the options of user list");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_err("user list takes no argument '%s'; run 'lacre help user'", argv[optind]);
		return EXIT_USAGE;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cli_fail(LACRE_E_NOMEM, "user list");
	e = cli_open_site(site, s);
	if (e == EXIT_OK)
		e = cli_user_list(s, json);
	free(s);
	return e;
}
