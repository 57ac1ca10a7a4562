/*
 * test_hardening.c - the small hardening of issue 11 that a unit test can
 * see: LACRE_PASSPHRASE is wiped and unset once read (a second read in the
 * same process finds nothing), the systemd credential source
 * ($CREDENTIALS_DIRECTORY/lacre-passphrase) and its place in the order of
 * sources, the floor on the scrypt work factor of a new site (only
 * LACRE_SCRYPT_LOG2N lets a test go below it), and the evidence package's
 * temporary file, which is never opened through a planted symbolic link or
 * over an existing file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "keeper/master.h"
#include "lacre/age.h"
#include "lacre/err.h"
#include "lacre/package.h"
#include "keeper/passphrase.h"
#include "lacre/site.h"

/* Write n bytes of data to dir/name (0600); its path in a static buffer. */
static const char *put_file(const char *dir, const char *name, const char *data, size_t n)
{
	static char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	if (write(fd, data, n) != (ssize_t)n) {
		close(fd);
		return NULL;
	}
	close(fd);
	return path;
}

/* The variable is returned once, its value wiped in place and the variable
 * removed; a second read finds no source. */
static void test_env_read_once(void)
{
	struct passphrase_src src;
	char *p = NULL, *val;

	unsetenv(PASSPHRASE_CRED_DIR_ENV);
	passphrase_src_init(&src);
	src.no_prompt = 1;
	CHECK_OK(setenv(PASSPHRASE_ENV, "from env", 1));
	val = getenv(PASSPHRASE_ENV);
	CHECK(val != NULL);
	CHECK_OK(passphrase_get(&src, "p: ", 0, &p));
	CHECK_STR(p, "from env");
	passphrase_free(p);
	p = NULL;
	CHECK(getenv(PASSPHRASE_ENV) == NULL);
	CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_NOT_FOUND);
	CHECK(p == NULL);
	/* a too-long value is refused and still removed */
	{
		static char big[PASSPHRASE_MAX + 2];
		memset(big, 'x', sizeof(big) - 1);
		CHECK_OK(setenv(PASSPHRASE_ENV, big, 1));
		CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_TOO_LARGE);
		CHECK(getenv(PASSPHRASE_ENV) == NULL);
	}
	/* with the environment switched off the variable is neither read nor
	 * removed */
	CHECK_OK(setenv(PASSPHRASE_ENV, "kept", 1));
	src.no_env = 1;
	CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_NOT_FOUND);
	CHECK_STR(getenv(PASSPHRASE_ENV), "kept");
	/* a file wins and leaves the variable alone (it was not read) */
	src.no_env = 0;
	src.file = put_file(t_tmpdir(), "pf", "from file\n", 10);
	CHECK(src.file != NULL);
	CHECK_OK(passphrase_get(&src, "p: ", 0, &p));
	CHECK_STR(p, "from file");
	passphrase_free(p);
	CHECK_STR(getenv(PASSPHRASE_ENV), "kept");
	unsetenv(PASSPHRASE_ENV);
}

/* $CREDENTIALS_DIRECTORY/lacre-passphrase: after a file and a descriptor,
 * before the variable; absent means "next source"; a symbolic link or a
 * relative folder are not credentials. */
static void test_credential(void)
{
	struct passphrase_src src;
	char dir[512], other[512], link_path[600], *p = NULL;
	int fds[2];

	snprintf(dir, sizeof(dir), "%s", t_tmpdir());
	snprintf(other, sizeof(other), "%s", t_tmpdir());
	passphrase_src_init(&src);
	src.no_prompt = 1;
	unsetenv(PASSPHRASE_ENV);
	/* the folder without the credential: no source */
	CHECK_OK(setenv(PASSPHRASE_CRED_DIR_ENV, dir, 1));
	CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_NOT_FOUND);
	/* the credential, one trailing newline stripped, beats the variable,
	 * which stays unread */
	CHECK(put_file(dir, PASSPHRASE_CREDENTIAL, "from credential\n", 16) != NULL);
	CHECK_OK(setenv(PASSPHRASE_ENV, "from env", 1));
	CHECK_OK(passphrase_get(&src, "p: ", 0, &p));
	CHECK_STR(p, "from credential");
	passphrase_free(p);
	CHECK_STR(getenv(PASSPHRASE_ENV), "from env");
	/* switched off: the variable is used */
	src.no_cred = 1;
	CHECK_OK(passphrase_get(&src, "p: ", 0, &p));
	CHECK_STR(p, "from env");
	passphrase_free(p);
	src.no_cred = 0;
	/* a file and a descriptor win over the credential */
	src.file = put_file(other, "pf", "from file", 9);
	CHECK(src.file != NULL);
	CHECK_OK(passphrase_get(&src, "p: ", 0, &p));
	CHECK_STR(p, "from file");
	passphrase_free(p);
	src.file = NULL;
	CHECK(pipe(fds) == 0);
	CHECK(write(fds[1], "from fd\n", 8) == 8);
	close(fds[1]);
	src.fd = fds[0];
	CHECK_OK(passphrase_get(&src, "p: ", 0, &p));
	CHECK_STR(p, "from fd");
	passphrase_free(p);
	close(fds[0]);
	src.fd = -1;
	/* an empty credential is refused like an empty file */
	CHECK(put_file(dir, PASSPHRASE_CREDENTIAL, "\n", 1) != NULL);
	CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_PASSPHRASE);
	p = NULL;
	/* a symbolic link in its place is refused, not followed */
	CHECK(put_file(other, "target", "planted", 7) != NULL);
	snprintf(link_path, sizeof(link_path), "%s/%s", dir, PASSPHRASE_CREDENTIAL);
	CHECK(unlink(link_path) == 0);
	snprintf(other + strlen(other), sizeof(other) - strlen(other), "/target");
	CHECK(symlink(other, link_path) == 0);
	CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_IO);
	CHECK(p == NULL);
	/* a relative folder is not systemd's: ignored */
	CHECK_OK(setenv(PASSPHRASE_CRED_DIR_ENV, "relative", 1));
	unsetenv(PASSPHRASE_ENV);
	CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_NOT_FOUND);
	unsetenv(PASSPHRASE_CRED_DIR_ENV);
}

/* Below the floor (15) a site is refused with LACRE_E_CONFIG and nothing is
 * created, unless LACRE_SCRYPT_LOG2N marks a test; 15 itself is accepted. */
static void test_scrypt_floor(void)
{
	struct site_config c;
	struct site s;
	char dir[512], conf[600], msg[SITE_MSG_MAX], keep[32];
	const char *saved = getenv("LACRE_SCRYPT_LOG2N");
	int low, made, at_floor;

	CHECK(saved != NULL);        /* the harness sets it (tests/harness.c) */
	snprintf(keep, sizeof(keep), "%s", saved);
	/* as outside tests: no LACRE_SCRYPT_LOG2N (restored before any check) */
	unsetenv("LACRE_SCRYPT_LOG2N");
	snprintf(dir, sizeof(dir), "%s/low", t_tmpdir());
	site_config_defaults(&c, dir);
	c.scrypt_log2n = 14;
	msg[0] = '\0';
	low = site_create(dir, &c, "pw", &s, msg, sizeof(msg));
	snprintf(conf, sizeof(conf), "%s/%s", dir, SITE_CONF);
	made = access(conf, F_OK) == 0;
	snprintf(dir, sizeof(dir), "%s/floor", t_tmpdir());
	site_config_defaults(&c, dir);
	c.scrypt_log2n = 15;
	at_floor = site_create(dir, &c, "pw", &s, conf, sizeof(conf));
	CHECK_OK(setenv("LACRE_SCRYPT_LOG2N", keep, 1));
	CHECK_EQ_INT(low, LACRE_E_CONFIG);
	CHECK(!made);
	CHECK_STR(msg, "master.scrypt_log2n 14 is below the floor of 15: use 15 or more "
		  "(default 18; only tests go lower, with LACRE_SCRYPT_LOG2N set)");
	CHECK_OK(at_floor);
	/* a test says so and may go lower */
	snprintf(dir, sizeof(dir), "%s/test", t_tmpdir());
	site_config_defaults(&c, dir);
	c.scrypt_log2n = 10;
	CHECK_OK(site_create(dir, &c, "pw", &s, msg, sizeof(msg)));
}

/* The package's PATH.tmp: a symbolic link planted there is refused
 * (LACRE_E_EXISTS), its target untouched and the link left in place; a
 * leftover file there is refused too and kept; PATH as a dangling link is
 * an existing name. */
static void test_package_tmp(void)
{
	struct package_writer *w = NULL;
	struct age_x25519_identity court;
	char dir[512], path[600], tmp[640], target[600], buf[16];
	struct stat st;
	int fd;

	CHECK_OK(age_x25519_generate(&court));

	snprintf(dir, sizeof(dir), "%s", t_tmpdir());
	snprintf(path, sizeof(path), "%s/out.lacre", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(target, sizeof(target), "%s/victim", dir);
	CHECK(put_file(dir, "victim", "precious", 8) != NULL);
	CHECK(symlink(target, tmp) == 0);
	CHECK_EQ_INT(package_writer_open(path, court.public_key, &w), LACRE_E_EXISTS);
	CHECK(w == NULL);
	CHECK(lstat(tmp, &st) == 0 && S_ISLNK(st.st_mode));
	fd = open(target, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_EQ_INT(read(fd, buf, sizeof(buf)), 8);
	close(fd);
	CHECK_MEM(buf, "precious", 8);
	CHECK(access(path, F_OK) != 0);
	/* a leftover regular file */
	CHECK(unlink(tmp) == 0);
	CHECK(put_file(dir, "out.lacre.tmp", "old", 3) != NULL);
	CHECK_EQ_INT(package_writer_open(path, court.public_key, &w), LACRE_E_EXISTS);
	CHECK(stat(tmp, &st) == 0 && st.st_size == 3);
	/* PATH a dangling symbolic link */
	CHECK(unlink(tmp) == 0);
	snprintf(target, sizeof(target), "%s/nowhere", dir);
	CHECK(symlink(target, path) == 0);
	CHECK_EQ_INT(package_writer_open(path, court.public_key, &w), LACRE_E_EXISTS);
	CHECK(access(target, F_OK) != 0);
	/* a clean name works, and the temporary goes away on free */
	CHECK(unlink(path) == 0);
	CHECK_OK(package_writer_open(path, court.public_key, &w));
	CHECK(stat(tmp, &st) == 0 && (st.st_mode & 0777) == 0600);
	package_writer_free(w);
	CHECK(access(tmp, F_OK) != 0);
	CHECK(access(path, F_OK) != 0);
}

int main(void)
{
	RUN(test_env_read_once);
	RUN(test_credential);
	RUN(test_scrypt_floor);
	RUN(test_package_tmp);
	return t_done();
}
