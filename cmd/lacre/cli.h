/*
 * cli.h - shared pieces of the lacre command line (thin: the work is in
 * liblacre).  Exit statuses follow DESIGN.md §8.
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
struct keystore;
struct passphrase_src;
/* Open the site named by arg (--site) or LACRE_SITE (cli_site.c); prints
 * the error and returns an exit status on failure. */
int cli_open_site(const char *arg, struct site *s);
/* Read the master passphrase from src, unlock the master key and open the
 * keystore (access domain).  Prints the error; returns an exit status.
 * In a keeper worker: the keeper's keystore, no passphrase (once). */
int cli_open_keystore(const struct passphrase_src *src, const struct site *s,
		      struct keystore **ks);
/* Make this process a keeper worker whose commands use ks (cmd_keeper.c). */
void cli_keeper_worker_keystore(struct keystore *ks);
/* 1 in a keeper worker (warrant list/show are gated there), else 0. */
int cli_keeper_worker(void);
/* The name an output file is logged under (the access event's "what"): in
 * a keeper worker, the path the client asked for (the worker writes a
 * private copy the keeper streams back), else path itself. */
const char *cli_output_label(const char *path);
/* lacre keeper (cmd_keeper.c), and the client side of main.c: run argv
 * through the keeper when one is configured; returns -1 when none is. */
int cmd_keeper(int argc, char **argv);
int cli_keeper_forward(int argc, char **argv);

struct policy;
/* Read a tlog-policy file (cli_site.c); prints what is wrong on failure. */
int cli_load_policy(const char *path, struct policy **out);

/* Subcommands (cmd/lacre/cmd_*.c). */
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
int cmd_audio(int argc, char **argv);
int cmd_pcap(int argc, char **argv);
int cmd_reindex(int argc, char **argv);
int cmd_proof_record(int argc, char **argv);
int cmd_audit_site(int argc, char **argv);  /* lacre audit --site */
/* The keyless fingerprint of the segment object name on st (cmd_audit_site.c):
 * up to cap bytes to fp, its length to *len. */
struct lacre_store;
int cli_audit_segment_fingerprint(struct lacre_store *st, const char *name,
				  uint8_t *fp, size_t cap, size_t *len);

#endif
