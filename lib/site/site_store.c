/*
 * site_store.c - a site's backend opened with its lacre.conf S3 settings
 * (issue 15: endpoint, region, credentials file and allow-remote belong to
 * the site, not to each user's environment).  The credentials file is the
 * one secret read here: refused when group or others may read it, parsed
 * strictly, wiped after the store copied the key.  See site.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/site.h"
#include "lacre/store.h"

#define CRED_MAX 4096

struct s3_cred {
	char access_key[256];
	char secret_key[256];
};

/* One "key = value" line (spaces around '=' and at the ends ignored). */
static int cred_line(const char *l, size_t n, struct s3_cred *c, const char *path, unsigned lineno,
		     char *msg, size_t msglen)
{
	const char *eq = memchr(l, '=', n), *k = l, *v;
	size_t kl, vl;
	char *dst;

	while (n && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '\r'))
		n--;
	while (n && (*k == ' ' || *k == '\t')) {
		k++;
		n--;
	}
	if (n == 0 || *k == '#')
		return LACRE_OK;
	if (!eq)
		goto bad;
	kl = (size_t)(eq - k);
	while (kl && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
		kl--;
	v = eq + 1;
	vl = n - (size_t)(v - k);
	while (vl && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	if (kl == 10 && memcmp(k, "access_key", 10) == 0)
		dst = c->access_key;
	else if (kl == 10 && memcmp(k, "secret_key", 10) == 0)
		dst = c->secret_key;
	else
		goto bad;
	if (vl == 0 || vl >= sizeof(c->access_key) || dst[0] != '\0')
		goto bad;
	for (size_t i = 0; i < vl; i++)
		if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
			goto bad;
	memcpy(dst, v, vl);
	dst[vl] = '\0';
	return LACRE_OK;
bad:
	if (msg)
		lacre_msg(msg, msglen, "s3.credentials: %s:%u: not 'access_key = KEY' or 'secret_key = "
			  "SECRET' (each once, printable, no space inside)", path, lineno);
	return LACRE_E_CONFIG;
}

/* Read the credentials file path into c. */
static int cred_read(const char *path, struct s3_cred *c, char *msg, size_t msglen)
{
	char buf[CRED_MAX + 1];
	struct stat st;
	size_t len = 0, o = 0;
	unsigned lineno = 0;
	ssize_t n;
	int fd, r = LACRE_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (msg)
			lacre_msg(msg, msglen, "s3.credentials: cannot open %s: %s", path, strerror(errno));
		return LACRE_E_CONFIG;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		close(fd);
		if (msg)
			lacre_msg(msg, msglen, "s3.credentials: %s must be a regular file readable by its owner "
				  "only (chmod 600 %s): it holds the backend's secret key", path, path);
		return LACRE_E_CONFIG;
	}
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = LACRE_E_IO;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (r == LACRE_OK && len == sizeof(buf) - 1) {
		if (msg)
			lacre_msg(msg, msglen, "s3.credentials: %s is larger than %d bytes", path, CRED_MAX);
		r = LACRE_E_CONFIG;
	}
	while (r == LACRE_OK && o < len) {
		const char *nl = memchr(buf + o, '\n', len - o);
		size_t ll = nl ? (size_t)(nl - (buf + o)) : len - o;
		lineno++;
		r = cred_line(buf + o, ll, c, path, lineno, msg, msglen);
		o += ll + 1;
	}
	if (r == LACRE_OK && (!c->access_key[0] || !c->secret_key[0])) {
		if (msg)
			lacre_msg(msg, msglen, "s3.credentials: %s needs both access_key and secret_key", path);
		r = LACRE_E_CONFIG;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

int site_store_open(const struct site *s, struct lacre_store **out, char *msg, size_t msglen)
{
	struct lacre_s3_config c;
	struct s3_cred cred;
	int r;

	if (!s || !out)
		return LACRE_E_INVALID;
	memset(&c, 0, sizeof(c));
	memset(&cred, 0, sizeof(cred));
	if (strncmp(s->cfg.backend, "s3://", 5) == 0) {
		c.endpoint = s->cfg.s3_endpoint[0] ? s->cfg.s3_endpoint : NULL;
		c.region = s->cfg.s3_region[0] ? s->cfg.s3_region : NULL;
		c.allow_remote = s->cfg.s3_allow_remote;
		if (s->cfg.s3_credentials[0]) {
			if ((r = cred_read(s->cfg.s3_credentials, &cred, msg, msglen)) != LACRE_OK) {
				OPENSSL_cleanse(&cred, sizeof(cred));
				return r;
			}
			c.access_key = cred.access_key;
			c.secret_key = cred.secret_key;
		}
	}
	r = lacre_store_open_with(s->cfg.backend, &c, out);
	OPENSSL_cleanse(&cred, sizeof(cred));
	if (r != LACRE_OK && msg)
		lacre_msg(msg, msglen, "cannot open the backend %s: %s%s", s->cfg.backend, lacre_strerror(r),
			  r == LACRE_E_CONFIG && strncmp(s->cfg.backend, "s3://", 5) == 0 ?
			  " (s3: set s3.endpoint and s3.credentials in lacre.conf, or S3_ENDPOINT and the "
			  "keys in the environment; a non-loopback endpoint needs s3.allow_remote = yes)" : "");
	return r;
}

/* lacre_store_list callback: one name is enough. */
static int check_one(void *arg, const char *name, uint64_t size)
{
	(void)arg;
	(void)name;
	(void)size;
	return 1;
}

int site_store_check(const struct site *s, char *msg, size_t msglen)
{
	struct lacre_store *st = NULL;
	int r;

	if ((r = site_store_open(s, &st, msg, msglen)) != LACRE_OK)
		return r;
	if (strncmp(s->cfg.backend, "s3://", 5) == 0)
		r = lacre_store_s3_ensure_bucket(st);
	if (r == LACRE_OK) {
		r = lacre_store_list(st, "seg/", check_one, NULL);
		if (r == 1)
			r = LACRE_OK;
	}
	if (r != LACRE_OK && msg)
		lacre_msg(msg, msglen, "the backend %s does not answer: %s%s", lacre_store_describe(st),
			  lacre_strerror(r), r == LACRE_E_DENIED ? " (check s3.credentials)" :
			  r == LACRE_E_UNAVAILABLE ? " (check s3.endpoint and that the service runs)" : "");
	lacre_store_close(st);
	return r;
}
