/*
 * cli.h - shared pieces of the lacre command line (thin: the work is in
 * liblacre).  Exit statuses follow DESIGN.md §8.
 *
 * Two programs share it (docs/trust-domains.md): the lacre client
 * (cmd/lacre/, linked with liblacre-core.a only: no keystore, no master
 * key, no gate) and lacre-keeper (cmd/lacre-keeper/: the keeper service,
 * `init`, and the commands it runs for a request or a one-shot `run`).
 * Declarations marked "keeper domain" are defined in cmd/lacre-keeper/
 * and must not be called from a file of cmd/lacre/ (its link fails).
 */
#ifndef LACRE_CLI_H
#define LACRE_CLI_H

#include <stddef.h>
#include <stdint.h>

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_VERIFY 3

/* One subcommand: argv[0] is the subcommand name. */
typedef int (*cli_cmd_fn)(int argc, char **argv);

/* Print "lacre: <msg>" on stderr as one line (no trailing period). */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print an error for a lacre_err code: "lacre: <what>: <strerror>". */
int cli_fail(int err, const char *what);
/* Parse --passphrase-fd N: digits only, a descriptor number (0..INT_MAX).
 * Prints the error; returns EXIT_OK or EXIT_USAGE. */
int cli_passphrase_fd(const char *arg, int *fd);
/* Map a lacre_err to the exit status of DESIGN.md §8. */
int cli_exit_status(int err);

struct site;
struct passphrase_src;
/* Open the site named by arg (--site) or LACRE_SITE (cli_site.c); prints
 * the error and returns an exit status on failure. */
int cli_open_site(const char *arg, struct site *s);
/* Open the site's backend with its lacre.conf S3 settings; prints why not.
 * EXIT_OK or EXIT_FAIL. */
struct lacre_store;
int cli_open_store(const struct site *s, struct lacre_store **st);
struct acl_session;
/* Keeper domain (cmd/lacre-keeper/cli_keystore.c).  Give the gate session
 * ss its keys (access_keys_unlock, lib/keeper/access_key.h): read the
 * master passphrase (or PIN) from src and unlock the keystore, which ss
 * then owns (acl_session_close wipes it); in a keeper worker the keeper's
 * keystore, no passphrase (once).  Prints the error; returns an exit
 * status. */
int cli_session_keys(const struct passphrase_src *src, struct acl_session *ss);
struct access_request;
/* Keeper domain (cmd/lacre-keeper/cli_gate.c): pass the gate for rq as
 * the user of key file user (NULL: $LACRE_USER; in a keeper worker the
 * authenticated user) through access_open: authenticated, authorised and
 * logged first.  On failure prints "lacre: [prefix: ]why" and returns 2
 * (no acting user at all, or no justification) or 1 (refused); EXIT_OK
 * with *out the open session when out is not NULL (the caller closes it). */
int cli_gate(const struct site *s, const char *user, const struct access_request *rq,
	     struct acl_session **out, const char *prefix);
/* Make this process a keeper worker (cmd_keeper.c): its command's session
 * gets the keeper's keystore (keeper_keys_worker). */
void cli_keeper_worker_begin(void);
/* 1 in a keeper worker (warrant list/show are gated there), else 0. */
int cli_keeper_worker(void);
/* The name an output file is logged under (the access event's "what"): in
 * a keeper worker, the path the client asked for (the worker writes a
 * private copy the keeper streams back), else path itself. */
const char *cli_output_label(const char *path);
/* The output path as the user named it: in a keeper worker the client's
 * path (the worker writes a private copy), else path itself. */
const char *cli_output_name(const char *path);
/* lacre keeper (cmd_keeper.c, keeper domain), and the client side of
 * main.c (cli_keeper.c): run argv through the keeper when one is
 * configured; returns -1 when none is. */
int cmd_keeper(int argc, char **argv);
int cli_keeper_forward(int argc, char **argv);
/* The lacre client's way into the keeper domain without a keeper
 * (cli_keeper.c): exec lacre-keeper (beside /proc/self/exe, else on PATH)
 * with mode ("serve", "init" or "run") and argv; returns only on failure,
 * with an exit status, having printed why. */
int cli_keeper_exec(const char *mode, int argc, char **argv);

struct policy;
/* Read a tlog-policy file (cli_site.c); prints what is wrong on failure. */
int cli_load_policy(const char *path, struct policy **out);

/* Subcommands: the client's (cmd/lacre/cmd_*.c) and the keeper domain's
 * (cmd/lacre-keeper/cmd_*.c: init, warrant, records, quarantine, user add
 * and disable, access-log, shred, retention, export, calls, audio, pcap,
 * reindex, proof record, audit --deep). */
int cmd_decode(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_warrant(int argc, char **argv);
int cmd_records(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_proof(int argc, char **argv);
int cmd_witness(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_accesslog(int argc, char **argv);
int cmd_shred(int argc, char **argv);
int cmd_retention(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_calls(int argc, char **argv);
int cmd_locations(int argc, char **argv);
int cmd_audio(int argc, char **argv);
int cmd_pcap(int argc, char **argv);
int cmd_reindex(int argc, char **argv);
int cmd_proof_record(int argc, char **argv);
int cmd_audit_site(int argc, char **argv);  /* lacre audit --site */
/* lacre user list (cmd_user_list.c, keyless); cli_user_list prints the
 * users of s (json: one object per line). */
int cmd_user_list(int argc, char **argv);
int cli_user_list(const struct site *s, int json);
/* audit --deep (keeper domain, cmd_audit_deep.c): decrypt and match every
 * record after the keyless audit (whose exit status is ex); returns the
 * command's exit status.  cmd_audit_site.c calls it through
 * cli_audit_deep_hook, which lacre-keeper sets and the client leaves NULL. */
struct lacre_store;
struct deep_log;
typedef int (*cli_audit_deep_fn)(const char *pass_file, const struct site *s,
				 struct lacre_store *st, const struct deep_log *logs, size_t nlogs,
				 int ex);
extern cli_audit_deep_fn cli_audit_deep_hook;
int cli_audit_deep(const char *pass_file, const struct site *s, struct lacre_store *st,
		   const struct deep_log *logs, size_t nlogs, int ex);
/* The keeper's gate session that allowed audit-deep (cmd_keeper.c): the deep
 * audit then reads every key through it (access_key.h).  Takes ss over;
 * NULL closes the one held.  Without one (a one-shot `lacre-keeper run`
 * with the master passphrase, no user) the keys come from the keystore. */
struct acl_session;
void cli_audit_deep_session(struct acl_session *ss);
/* The keyless fingerprint of the segment object name on st (cmd_audit_site.c):
 * up to cap bytes to fp, its length to *len. */
struct lacre_store;
int cli_audit_segment_fingerprint(struct lacre_store *st, const char *name,
				  uint8_t *fp, size_t cap, size_t *len);

#endif
