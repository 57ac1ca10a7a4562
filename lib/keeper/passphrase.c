/*
 * passphrase.c - read the site master passphrase from a file, a descriptor,
 * a systemd credential, LACRE_PASSPHRASE or a no-echo terminal prompt (see
 * lacre/passphrase.h).  Every intermediate copy lives in a stack buffer
 * wiped before return; the only copy that survives is the caller's, wiped
 * by passphrase_free().  LACRE_PASSPHRASE is unset once read: a child the
 * process starts later must not inherit it (/proc/PID/environ of the
 * keeper showed it, issue 11).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lacre/err.h"
#include "keeper/passphrase.h"

/* Room for the longest passphrase, a "\r\n" and one byte that proves the
 * input was too long. */
#define RAW_MAX (PASSPHRASE_MAX + 3)

void passphrase_src_init(struct passphrase_src *src)
{
	src->file = NULL;
	src->fd = -1;
	src->no_cred = 0;
	src->no_env = 0;
	src->no_prompt = 0;
}

/* Read from fd into buf (capacity cap) until EOF, or until the first
 * newline when stop_at_nl is set (a descriptor may stay open after the
 * line).  Sets *n to the byte count.  LACRE_E_IO on a read error. */
static int read_fd(int fd, char *buf, size_t cap, int stop_at_nl, size_t *n)
{
	size_t len = 0;

	while (len < cap) {
		ssize_t r = read(fd, buf + len, stop_at_nl ? 1 : cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return LACRE_E_IO;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (stop_at_nl && buf[len - 1] == '\n')
			break;
	}
	*n = len;
	return LACRE_OK;
}

/* Validate raw[0..n) (strip one trailing "\n" or "\r\n") and copy it into a
 * fresh heap string *out. */
static int finish(const char *raw, size_t n, char **out)
{
	char *p;

	if (n > 0 && raw[n - 1] == '\n') {
		n--;
		if (n > 0 && raw[n - 1] == '\r')
			n--;
	}
	if (n > PASSPHRASE_MAX)
		return LACRE_E_TOO_LARGE;
	if (n == 0 || memchr(raw, '\0', n) != NULL || memchr(raw, '\n', n) != NULL)
		return LACRE_E_PASSPHRASE;
	p = malloc(n + 1);
	if (p == NULL)
		return LACRE_E_NOMEM;
	memcpy(p, raw, n);
	p[n] = '\0';
	*out = p;
	return LACRE_OK;
}

/* Open $CREDENTIALS_DIRECTORY/lacre-passphrase (systemd's LoadCredential=:
 * a file on a private, non-swappable file system that only the service's
 * user may read).  *fd is the open descriptor, or -1 when no credential is
 * configured (no variable, a relative path, no such file): the caller then
 * tries the next source.  A symbolic link there is refused (LACRE_E_IO), as
 * is any other open error: a credential that exists but cannot be read is
 * a deployment error to report, not a reason to fall back to a prompt. */
static int open_credential(int *fd)
{
	char path[4096];
	const char *dir = getenv(PASSPHRASE_CRED_DIR_ENV);
	int n;

	*fd = -1;
	if (dir == NULL || dir[0] != '/')
		return LACRE_OK;
	n = snprintf(path, sizeof(path), "%s/%s", dir, PASSPHRASE_CREDENTIAL);
	if (n < 0 || (size_t)n >= sizeof(path))
		return LACRE_E_IO;
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (*fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? LACRE_OK : LACRE_E_IO;
	return LACRE_OK;
}

/* Prompt on the controlling terminal with echo off; read one line into
 * buf.  LACRE_E_NOT_FOUND when there is no terminal. */
static int prompt_tty(const char *prompt, char *buf, size_t cap, size_t *n)
{
	struct termios old, quiet;
	int fd, r, restored = 0;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return LACRE_E_NOT_FOUND;
	if (tcgetattr(fd, &old) != 0) {
		r = LACRE_E_NOT_FOUND;
		goto out;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		r = LACRE_E_IO;
		goto out;
	}
	restored = 1;
	if (write(fd, prompt, strlen(prompt)) < 0) {
		r = LACRE_E_IO;
		goto out;
	}
	r = read_fd(fd, buf, cap, 1, n);
out:
	if (restored) {
		(void)tcsetattr(fd, TCSAFLUSH, &old);
		(void)!write(fd, "\n", 1);
	}
	close(fd);
	return r;
}

int passphrase_get(const struct passphrase_src *src, const char *prompt,
		   int confirm, char **out)
{
	char raw[RAW_MAX], again[RAW_MAX];
	size_t n = 0, n2 = 0;
	char *env;
	int r, fd = -1;

	if (src == NULL || out == NULL)
		return LACRE_E_INVALID;
	if (src->file == NULL && src->fd < 0 && !src->no_cred &&
	    (r = open_credential(&fd)) != LACRE_OK)
		goto out;
	if (src->file != NULL) {
		fd = open(src->file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = LACRE_E_IO;
			goto out;
		}
		r = read_fd(fd, raw, sizeof(raw), 0, &n);
		close(fd);
	} else if (src->fd >= 0) {
		r = read_fd(src->fd, raw, sizeof(raw), 1, &n);
	} else if (fd >= 0) {
		r = read_fd(fd, raw, sizeof(raw), 0, &n);
		close(fd);
	} else if (!src->no_env && (env = getenv(PASSPHRASE_ENV)) != NULL) {
		n = strlen(env);
		if (n > PASSPHRASE_MAX)
			r = LACRE_E_TOO_LARGE;
		else
			memcpy(raw, env, n);
		/* wipe the value where it lies (for an inherited variable, the
		 * block /proc/PID/environ shows), then drop the variable so no
		 * child inherits it and no later getenv finds it */
		OPENSSL_cleanse(env, strlen(env));
		unsetenv(PASSPHRASE_ENV);
		if (n > PASSPHRASE_MAX)
			goto out;
		r = LACRE_OK;
	} else if (!src->no_prompt) {
		r = prompt_tty(prompt ? prompt : "passphrase: ", raw, sizeof(raw), &n);
		if (r == LACRE_OK && confirm) {
			r = prompt_tty("again: ", again, sizeof(again), &n2);
			if (r == LACRE_OK && (n != n2 || CRYPTO_memcmp(raw, again, n) != 0))
				r = LACRE_E_PASSPHRASE;
		}
	} else {
		r = LACRE_E_NOT_FOUND;
	}
	if (r == LACRE_OK)
		r = finish(raw, n, out);
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(again, sizeof(again));
	return r;
}

void passphrase_free(char *p)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, strlen(p));
	free(p);
}
