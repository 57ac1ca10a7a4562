/*
 * receiver.h - shared pieces of lacre-ingest, the receiver cell (DESIGN.md
 * §2): exit statuses (DESIGN.md §8), the error line and the site opener.
 * Its own small copy of what cmd/lacre/cli.h offers, so that the receiver
 * links nothing of the CLI's access side (keystore, passphrase, keeper).
 */
#ifndef LACRE_INGEST_RECEIVER_H
#define LACRE_INGEST_RECEIVER_H

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_VERIFY 3

struct site;

/* Print "lacre: <msg>" on stderr as one line (no trailing period). */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Open the site named by arg (--site) or LACRE_SITE: its configuration
 * only, no secret.  Prints the error and returns an exit status. */
int cli_open_site(const char *arg, struct site *s);
/* The receiver: `lacre-ingest [options]` (cmd_ingest.c, docs/cmd-ingest.md). */
int cmd_ingest(int argc, char **argv);

#endif
