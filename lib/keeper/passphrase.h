/*
 * passphrase.h - where the site master passphrase comes from.
 *
 * DESIGN.md §8: the passphrase is read from a file (--passphrase-file F), an
 * inherited descriptor (--passphrase-fd N), a systemd credential
 * ($CREDENTIALS_DIRECTORY/lacre-passphrase, from LoadCredential= or
 * LoadCredentialEncrypted= in a service unit: deploy/systemd/), the
 * environment variable LACRE_PASSPHRASE, or a prompt on the controlling
 * terminal with echo off, in that order of preference.  It is never taken
 * from argv.  LACRE_PASSPHRASE is removed from the process's environment
 * (unsetenv) as soon as it has been read, so no child inherits it and a
 * second read in the same process finds nothing.  The result is a
 * NUL-terminated heap string that the caller must release with
 * passphrase_free(), which wipes it (OPENSSL_cleanse) before freeing.
 *
 * One trailing "\n" or "\r\n" is stripped from a file or descriptor (as
 * `echo pass > f` writes it); an empty passphrase, a NUL byte inside it, or
 * one longer than PASSPHRASE_MAX bytes is refused.  Owned by
 * lib/keeper/passphrase.c.
 */
#ifndef LACRE_PASSPHRASE_H
#define LACRE_PASSPHRASE_H

#define PASSPHRASE_MAX 1024
#define PASSPHRASE_ENV "LACRE_PASSPHRASE"
/* systemd's variable naming the service's credentials folder, and the name
 * of the credential that holds the master passphrase */
#define PASSPHRASE_CRED_DIR_ENV "CREDENTIALS_DIRECTORY"
#define PASSPHRASE_CREDENTIAL "lacre-passphrase"

struct passphrase_src {
	const char *file;    /* --passphrase-file, or NULL */
	int fd;              /* --passphrase-fd, or -1 */
	int no_cred;         /* ignore the systemd credential when set */
	int no_env;          /* ignore LACRE_PASSPHRASE when set */
	int no_prompt;       /* never prompt, even on a terminal */
};

/* Initialise src to "no file, no descriptor; credential, environment and
 * prompt allowed". */
void passphrase_src_init(struct passphrase_src *src);

/* Read the passphrase from the first source that is set in src (file, fd,
 * credential, environment, terminal).  The credential counts as set when
 * $CREDENTIALS_DIRECTORY is an absolute path and holds lacre-passphrase (a
 * missing one falls through to the next source; a symbolic link or an
 * unreadable one is LACRE_E_IO).  LACRE_PASSPHRASE, once read, is unset
 * whatever the outcome.  prompt is shown on the terminal (e.g. "master
 * passphrase: "); when confirm is non-zero a terminal prompt asks twice and
 * fails with LACRE_E_PASSPHRASE if the answers differ.  On success *out is a
 * heap string the caller frees with passphrase_free().  Errors:
 * LACRE_E_NOT_FOUND (no source available: no file, fd, credential, variable
 * or terminal), LACRE_E_IO (cannot read the file, fd or credential), LACRE_E_PASSPHRASE
 * (empty, contains NUL, confirmation mismatch), LACRE_E_TOO_LARGE. */
int passphrase_get(const struct passphrase_src *src, const char *prompt,
		   int confirm, char **out);

/* Wipe and free a passphrase from passphrase_get (NULL is allowed). */
void passphrase_free(char *p);

#endif
