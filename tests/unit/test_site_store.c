/*
 * test_site_store.c - a site's backend opened with its lacre.conf S3
 * settings (site_store_open, lib/site/site_store.c): the endpoint and
 * credentials of lacre.conf win over the environment; a credentials file
 * readable by others, malformed, incomplete or missing is refused naming
 * the file; a remote endpoint needs s3.allow_remote; a dir: backend
 * ignores the s3.* keys.  Opening an s3:// store does no network I/O, so
 * no server is needed here (the real RGW runs in vault_s3.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/site.h"
#include "lacre/store.h"

static void write_file(const char *path, const char *text, unsigned mode)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
	CHECK(chmod(path, mode) == 0);
}

/* A site struct in the test folder with backend spec and the given keys. */
static void site_with(struct site *s, const char *backend)
{
	char msg[256];
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s", t_tmpdir());
	site_config_defaults(&s->cfg, s->dir);
	CHECK_OK(site_config_set(&s->cfg, "backend", backend, msg, sizeof(msg)));
}

static void test_s3_from_conf(void)
{
	struct site s;
	struct lacre_store *st = NULL;
	char cred[512], msg[512];

	unsetenv("S3_ENDPOINT");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("S3_ACCESS_KEY");
	unsetenv("S3_SECRET_KEY");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	snprintf(cred, sizeof(cred), "%s/s3.cred", t_tmpdir());
	write_file(cred, "# the backend's keys\naccess_key = AKIDEXAMPLE\n  secret_key=wJalrXUtnFEMI/K7MDENG \n", 0600);
	site_with(&s, "s3://lacre-test/site");
	/* nothing anywhere: refused, saying where to set it */
	CHECK_EQ_INT(site_store_open(&s, &st, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "s3.endpoint") != NULL);
	CHECK_OK(site_config_set(&s.cfg, "s3.endpoint", "http://127.0.0.1:7480", msg, sizeof(msg)));
	CHECK_OK(site_config_set(&s.cfg, "s3.region", "eu-south-2", msg, sizeof(msg)));
	CHECK_OK(site_config_set(&s.cfg, "s3.credentials", cred, msg, sizeof(msg)));
	msg[0] = '\0';
	if (site_config_check(&s.cfg, msg, sizeof(msg)) != LACRE_OK)
		CHECK(strstr(msg, "s3.") == NULL); /* other keys of a bare test site may fail */
	CHECK_OK(site_store_open(&s, &st, msg, sizeof(msg)));
	CHECK(strstr(lacre_store_describe(st), "s3://lacre-test/site/ at http://127.0.0.1:7480") != NULL);
	lacre_store_close(st);
	st = NULL;
	/* lacre.conf wins over the environment */
	setenv("S3_ENDPOINT", "http://127.0.0.9:1", 1);
	CHECK_OK(site_store_open(&s, &st, msg, sizeof(msg)));
	CHECK(strstr(lacre_store_describe(st), "127.0.0.1:7480") != NULL);
	lacre_store_close(st);
	st = NULL;
	unsetenv("S3_ENDPOINT");
	/* a remote endpoint only with s3.allow_remote */
	CHECK_OK(site_config_set(&s.cfg, "s3.endpoint", "https://s3.example.net", msg, sizeof(msg)));
	CHECK_EQ_INT(site_store_open(&s, &st, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "s3.allow_remote") != NULL);
	CHECK_OK(site_config_set(&s.cfg, "s3.allow_remote", "yes", msg, sizeof(msg)));
	CHECK_OK(site_store_open(&s, &st, msg, sizeof(msg)));
	lacre_store_close(st);
	st = NULL;
	/* a bad endpoint and a relative credentials path fail the check */
	CHECK_OK(site_config_set(&s.cfg, "s3.endpoint", "ftp://x", msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check(&s.cfg, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "s3.endpoint") != NULL);
	CHECK_OK(site_config_set(&s.cfg, "s3.endpoint", "http://127.0.0.1:7480", msg, sizeof(msg)));
	CHECK_OK(site_config_set(&s.cfg, "s3.credentials", "s3.cred", msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check(&s.cfg, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "s3.credentials") != NULL);
	/* s3.uploads: 4 by default, 1 to 16 */
	CHECK_EQ_INT(s.cfg.s3_uploads, 4);
	CHECK_OK(site_config_set(&s.cfg, "s3.uploads", "1", msg, sizeof(msg)));
	CHECK_EQ_INT(s.cfg.s3_uploads, 1);
	CHECK_OK(site_config_set(&s.cfg, "s3.uploads", "16", msg, sizeof(msg)));
	CHECK_EQ_INT(s.cfg.s3_uploads, 16);
	CHECK_EQ_INT(site_config_set(&s.cfg, "s3.uploads", "0", msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "s3.uploads") != NULL);
	CHECK_EQ_INT(site_config_set(&s.cfg, "s3.uploads", "17", msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK_EQ_INT(site_config_set(&s.cfg, "s3.uploads", "four", msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK_EQ_INT(s.cfg.s3_uploads, 16);
}

static void test_credentials_refused(void)
{
	static const struct {
		const char *text;
		unsigned mode;
		const char *why;
	} bad[] = {
		{ "access_key = A\nsecret_key = B\n", 0644, "readable by its owner only" },
		{ "access_key = A\nsecret_key = B\n", 0640, "readable by its owner only" },
		{ "access_key = A\n", 0600, "needs both" },
		{ "secret_key = B\n", 0600, "needs both" },
		{ "access_key = A\nsecret_key = B\naccess_key = C\n", 0600, ":3:" },
		{ "access_key A\nsecret_key = B\n", 0600, ":1:" },
		{ "access_key = A B\nsecret_key = B\n", 0600, ":1:" },
		{ "region = x\naccess_key = A\nsecret_key = B\n", 0600, ":1:" },
		{ "access_key = \nsecret_key = B\n", 0600, ":1:" },
	};
	struct site s;
	struct lacre_store *st = NULL;
	char cred[512], msg[512];

	snprintf(cred, sizeof(cred), "%s/bad.cred", t_tmpdir());
	site_with(&s, "s3://lacre-test");
	CHECK_OK(site_config_set(&s.cfg, "s3.endpoint", "http://127.0.0.1:7480", msg, sizeof(msg)));
	CHECK_OK(site_config_set(&s.cfg, "s3.credentials", cred, msg, sizeof(msg)));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg[0] = '\0';
		write_file(cred, bad[i].text, bad[i].mode);
		CHECK_EQ_INT(site_store_open(&s, &st, msg, sizeof(msg)), LACRE_E_CONFIG);
		CHECK(st == NULL);
		if (!strstr(msg, bad[i].why))
			fprintf(stderr, "case %zu: %s\n", i, msg);
		CHECK(strstr(msg, bad[i].why) != NULL);
		CHECK(strstr(msg, cred) != NULL);
	}
	unlink(cred);
	CHECK_EQ_INT(site_store_open(&s, &st, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "cannot open") != NULL);
}

static void test_dir_ignores_s3(void)
{
	struct site s;
	struct lacre_store *st = NULL;
	char spec[600], msg[512];

	snprintf(spec, sizeof(spec), "dir:%s/objects", t_tmpdir());
	site_with(&s, spec);
	CHECK_OK(site_config_set(&s.cfg, "s3.credentials", "/nonexistent/cred", msg, sizeof(msg)));
	CHECK_OK(site_store_open(&s, &st, msg, sizeof(msg)));
	CHECK_OK(lacre_store_put_if_absent(st, "seg/x", "a", 1));
	lacre_store_close(st);
}

/* site_store_check: an endpoint where nothing listens does not answer. */
static void test_check_unavailable(void)
{
	struct site s;
	char cred[512], msg[512];

	snprintf(cred, sizeof(cred), "%s/s3b.cred", t_tmpdir());
	write_file(cred, "access_key = A\nsecret_key = B\n", 0600);
	site_with(&s, "s3://lacre-test");
	CHECK_OK(site_config_set(&s.cfg, "s3.endpoint", "http://127.0.0.1:1", msg, sizeof(msg)));
	CHECK_OK(site_config_set(&s.cfg, "s3.credentials", cred, msg, sizeof(msg)));
	msg[0] = '\0';
	CHECK_EQ_INT(site_store_check(&s, msg, sizeof(msg)), LACRE_E_UNAVAILABLE);
	CHECK(strstr(msg, "does not answer") != NULL);
	CHECK(strstr(msg, "s3.endpoint") != NULL);
}

int main(void)
{
	RUN(test_s3_from_conf);
	RUN(test_credentials_refused);
	RUN(test_dir_ignores_s3);
	RUN(test_check_unavailable);
	return t_done();
}
