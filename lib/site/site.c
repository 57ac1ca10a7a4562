/*
 * site.c - a lacre site folder: resolving it and opening it (configuration
 * only, no secret).  Also the small file helpers the site and keeper
 * modules share (atomic write with fsync, capped read).  See lacre/site.h.
 * Creating a site and unlocking its master key are the keeper's
 * (lib/keeper/master.c): nothing here reads a secret.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/site.h"

int site_fsync_parent(const char *path)
{
	char tmp[SITE_PATH_MAX];
	int fd, r = LACRE_OK;

	if (strlen(path) >= sizeof(tmp))
		return LACRE_E_TOO_LARGE;
	memcpy(tmp, path, strlen(path) + 1);
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return LACRE_E_IO;
	if (fsync(fd) != 0)
		r = LACRE_E_IO;
	close(fd);
	return r;
}

int site_write_file(const char *path, const void *data, size_t n, unsigned mode)
{
	char tmp[SITE_PATH_MAX + 32];
	uint8_t rnd[6];
	const uint8_t *p = data;
	size_t off = 0;
	int fd, r = LACRE_OK;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return LACRE_E_CRYPTO;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp%02x%02x%02x%02x%02x%02x", path, rnd[0], rnd[1],
		     rnd[2], rnd[3], rnd[4], rnd[5]) >= (int)sizeof(tmp))
		return LACRE_E_TOO_LARGE;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
	if (fd < 0)
		return LACRE_E_IO;
	while (off < n) {
		ssize_t k = write(fd, p + off, n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = LACRE_E_IO;
			break;
		}
		off += (size_t)k;
	}
	if (r == LACRE_OK && fsync(fd) != 0)
		r = LACRE_E_IO;
	if (close(fd) != 0 && r == LACRE_OK)
		r = LACRE_E_IO;
	if (r == LACRE_OK && rename(tmp, path) != 0)
		r = LACRE_E_IO;
	if (r != LACRE_OK) {
		unlink(tmp);
		return r;
	}
	return site_fsync_parent(path);
}

int site_read_file(const char *path, size_t cap, struct lacre_dbuf *out)
{
	uint8_t tmp[8192];
	int fd, r = LACRE_OK;

	lacre_dbuf_init(out, cap);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	for (;;) {
		ssize_t k = read(fd, tmp, sizeof(tmp));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = LACRE_E_IO;
			break;
		}
		if (k == 0)
			break;
		r = lacre_dbuf_add(out, tmp, (size_t)k);
		if (r != LACRE_OK)
			break;
	}
	close(fd);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	if (r != LACRE_OK)
		lacre_dbuf_free(out);
	return r;
}

int site_path(const struct site *s, const char *name, char *out, size_t outlen)
{
	int k;

	if (s == NULL || name == NULL || out == NULL)
		return LACRE_E_INVALID;
	k = snprintf(out, outlen, "%s/%s", s->dir, name);
	return k < 0 || (size_t)k >= outlen ? LACRE_E_TOO_LARGE : LACRE_OK;
}

int site_dir_resolve(const char *arg, char out[SITE_PATH_MAX])
{
	const char *d = arg ? arg : getenv(SITE_ENV);
	char cwd[SITE_PATH_MAX];
	size_t n;
	int k;

	if (d == NULL || d[0] == '\0')
		return LACRE_E_NOT_FOUND;
	if (d[0] == '/') {
		k = snprintf(out, SITE_PATH_MAX, "%s", d);
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return LACRE_E_IO;
		k = snprintf(out, SITE_PATH_MAX, "%s/%s", cwd, d);
	}
	if (k < 0 || k >= SITE_PATH_MAX)
		return LACRE_E_TOO_LARGE;
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return LACRE_OK;
}

int site_open(const char *dir, struct site *s, char *msg, size_t msglen)
{
	struct site *tmp;
	char path[SITE_PATH_MAX];
	int r;

	if (dir == NULL || s == NULL)
		return LACRE_E_INVALID;
	tmp = calloc(1, sizeof(*tmp));
	if (tmp == NULL)
		return LACRE_E_NOMEM;
	r = site_dir_resolve(dir, tmp->dir);
	if (r == LACRE_OK)
		r = site_path(tmp, SITE_CONF, path, sizeof(path));
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "site path '%s' is too long", dir);
		goto out;
	}
	site_config_defaults(&tmp->cfg, tmp->dir);
	r = site_config_load(&tmp->cfg, path, msg, msglen);
	if (r == LACRE_E_NOT_FOUND)
		lacre_msg(msg, msglen, "%s is not a lacre site (no %s); create one with 'lacre init %s'",
		    tmp->dir, SITE_CONF, tmp->dir);
	if (r == LACRE_OK)
		*s = *tmp;
out:
	free(tmp);
	return r;
}
