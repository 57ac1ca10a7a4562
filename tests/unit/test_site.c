/*
 * test_site.c - the site configuration (strict parser, overrides, writer,
 * whole-config check), the passphrase sources, and site creation: folders,
 * modes, the sealed master key, a wrong passphrase.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/age.h"
#include "lacre/err.h"
#include "keeper/keystore.h"
#include "keeper/passphrase.h"
#include "lacre/site.h"

static char msg[SITE_MSG_MAX];

/* Parse text over defaults for /srv/site. */
static int parse(struct site_config *c, const char *text)
{
	site_config_defaults(c, "/srv/site");
	msg[0] = '\0';
	return site_config_parse(c, "lacre.conf", (const uint8_t *)text, strlen(text), msg,
				 sizeof(msg));
}

static void test_config_defaults(void)
{
	struct site_config c;
	char v[256];

	site_config_defaults(&c, "/srv/site/");
	CHECK_STR(c.name, "site");
	CHECK_STR(c.hi2, "127.0.0.1:5001");
	CHECK_STR(c.hi3, "127.0.0.1:5002");
	CHECK_STR(c.backend, "dir:/srv/site/objects");
	CHECK_STR(c.spool_dir, "/srv/site/spool");
	CHECK_EQ_INT(c.segment_max_bytes, 64 * 1024 * 1024);
	CHECK_EQ_INT(c.segment_max_age_ms, 500);
	CHECK_EQ_INT(c.scrypt_log2n, 18);
	CHECK_OK(site_config_get(&c, "segment.max_bytes", v, sizeof(v)));
	CHECK_STR(v, "64M");
	CHECK_OK(site_config_get(&c, "segment.max_age", v, sizeof(v)));
	CHECK_STR(v, "500ms");
	CHECK_OK(site_config_get(&c, "tls.require_client_cert", v, sizeof(v)));
	CHECK_STR(v, "yes");
	CHECK_EQ_INT(c.spool_direct_io, 1);
	CHECK_OK(site_config_get(&c, "spool.direct_io", v, sizeof(v)));
	CHECK_STR(v, "yes");
	CHECK_EQ_INT(site_config_get(&c, "nope", v, sizeof(v)), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(site_config_get(&c, "backend", v, 4), LACRE_E_TOO_LARGE);
}

static void test_config_parse_ok(void)
{
	struct site_config c;

	CHECK_OK(parse(&c, "# comment\n\n  site.name =  Madrid  \r\n"
		       "ingest.hi2 = [::1]:6001\n"
		       "ingest.hi3=0.0.0.0:6002\n"
		       "segment.max_bytes = 1M\n"
		       "segment.max_age = 500ms\n"
		       "limits.idle_timeout = 2min\n"
		       "tls.enable = no\n"
		       "spool.direct_io = off\n"
		       "witness.policy = /nonexistent/policy"));  /* no final newline */
	CHECK_STR(c.name, "Madrid");
	CHECK_STR(c.hi2, "[::1]:6001");
	CHECK_STR(c.hi3, "0.0.0.0:6002");
	CHECK_EQ_INT(c.segment_max_bytes, 1048576);
	CHECK_EQ_INT(c.segment_max_age_ms, 500);
	CHECK_EQ_INT(c.idle_timeout_ms, 120000);
	CHECK_STR(c.witness_policy, "/nonexistent/policy");
	CHECK_EQ_INT(c.spool_direct_io, 0);
	CHECK_OK(parse(&c, ""));
}

static void test_config_parse_errors(void)
{
	struct site_config c;

	CHECK_EQ_INT(parse(&c, "site.name = a\n# x\nfoo.bar = 1\n"), LACRE_E_CONFIG);
	CHECK_STR(msg, "lacre.conf:3: unknown key 'foo.bar'");
	CHECK_EQ_INT(parse(&c, "site.name = a\nsite.name = b\n"), LACRE_E_CONFIG);
	CHECK_STR(msg, "lacre.conf:2: key 'site.name' set twice");
	CHECK_EQ_INT(parse(&c, "\n\nsite.name\n"), LACRE_E_CONFIG);
	CHECK_STR(msg, "lacre.conf:3: expected 'key = value'");
	CHECK_EQ_INT(parse(&c, " = x\n"), LACRE_E_CONFIG);
	CHECK(strncmp(msg, "lacre.conf:1: missing", 21) == 0);
	CHECK_EQ_INT(parse(&c, "segment.max_bytes = 64X\n"), LACRE_E_CONFIG);
	CHECK(strstr(msg, "lacre.conf:1: segment.max_bytes: '64X' is not a size") == msg);
	CHECK_EQ_INT(parse(&c, "segment.max_bytes = 1\n"), LACRE_E_CONFIG); /* below 4096 */
	CHECK(strstr(msg, "outside") != NULL);
	CHECK_EQ_INT(parse(&c, "segment.max_bytes = 99999999999999999999999\n"), LACRE_E_CONFIG);
	CHECK_EQ_INT(parse(&c, "segment.max_age = 2\n"), LACRE_E_CONFIG); /* unit required */
	CHECK(strstr(msg, "with a unit") != NULL);
	CHECK_EQ_INT(parse(&c, "ingest.hi2 = localhost\n"), LACRE_E_CONFIG);
	CHECK_EQ_INT(parse(&c, "ingest.hi2 = h:0\n"), LACRE_E_CONFIG);
	CHECK_EQ_INT(parse(&c, "ingest.hi2 = h:65536\n"), LACRE_E_CONFIG);
	CHECK_EQ_INT(parse(&c, "ingest.hi2 = ::1:5001\n"), LACRE_E_CONFIG);
	CHECK_EQ_INT(parse(&c, "tls.enable = maybe\n"), LACRE_E_CONFIG);
	CHECK_EQ_INT(parse(&c, "master.scrypt_log2n = 23\n"), LACRE_E_CONFIG);
	CHECK_EQ_INT(parse(&c, "master.scrypt_log2n = -1\n"), LACRE_E_CONFIG);
	CHECK_EQ_INT(parse(&c, "oversight.recipient = AGE-SECRET-KEY-1X\n"), LACRE_E_CONFIG);
	CHECK_EQ_INT(parse(&c, "site.name = a\x01" "b\n"), LACRE_E_CONFIG);
	{
		char big[6000];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		memcpy(big, "site.name=", 10);
		CHECK_EQ_INT(parse(&c, big), LACRE_E_CONFIG);
		CHECK(strstr(msg, "line longer") != NULL);
	}
	{
		static const uint8_t nul[] = "site.name = a\0b\n";
		site_config_defaults(&c, "/x");
		CHECK_EQ_INT(site_config_parse(&c, "f", nul, sizeof(nul) - 1, msg, sizeof(msg)),
			     LACRE_E_CONFIG);
	}
}

static void test_config_set_and_write(void)
{
	struct site_config c, d;
	struct lacre_dbuf out;

	site_config_defaults(&c, "/srv/a");
	CHECK_OK(site_config_set_arg(&c, "ingest.hi2=10.0.0.1:7001", msg, sizeof(msg)));
	CHECK_STR(c.hi2, "10.0.0.1:7001");
	CHECK_OK(site_config_set_arg(&c, "limits.max_pdu_bytes=3000K", msg, sizeof(msg)));
	CHECK_EQ_INT(c.max_pdu_bytes, 3000 * 1024);
	CHECK_OK(site_config_set(&c, "site.name", "Sede Central (Madrid)", msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_set_arg(&c, "ingest.hi2", msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK_EQ_INT(site_config_set_arg(&c, "=x", msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK_EQ_INT(site_config_set_arg(&c, "no.such=1", msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "unknown key 'no.such'") != NULL);
	lacre_dbuf_init(&out, SITE_CONF_MAX);
	CHECK_OK(site_config_write(&c, &out));
	site_config_defaults(&d, "/srv/a");
	CHECK_OK(site_config_parse(&d, "w", out.p, out.len, msg, sizeof(msg)));
	CHECK(memcmp(&c, &d, sizeof(c)) == 0);
	/* every key is written, documented */
	for (size_t i = 0; i < site_config_nkeys(); i++)
		CHECK(memmem(out.p, out.len, site_config_key(i), strlen(site_config_key(i))) != NULL);
	CHECK(site_config_key(site_config_nkeys()) == NULL);
	lacre_dbuf_free(&out);
}

static void test_config_check(void)
{
	struct site_config c;
	struct age_x25519_identity id;

	site_config_defaults(&c, "/srv/a");
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "oversight.recipient") == msg);
	CHECK_OK(age_x25519_generate(&id));
	CHECK_OK(age_recipient_encode(id.public_key, c.oversight_recipient));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "warrants.signer") == msg);
	CHECK_EQ_INT(site_config_set(&c, "warrants.signer", "ABCD", msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK_OK(site_config_set(&c, "warrants.signer",
				 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
				 msg, sizeof(msg)));
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	c.oversight_recipient[10] ^= 1;
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK_OK(age_recipient_encode(id.public_key, c.oversight_recipient));
	snprintf(c.hi3, sizeof(c.hi3), "%s", c.hi2);
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "same address") != NULL);
	site_config_set(&c, "ingest.hi3", "127.0.0.1:5002", NULL, 0);
	CHECK_OK(site_config_set(&c, "witness.policy", "/nonexistent/policy", NULL, 0));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "witness.policy") == msg);
	CHECK_OK(site_config_set(&c, "witness.policy", "", NULL, 0));
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "tls.enable", "yes", NULL, 0));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "tls.cert") == msg);
	CHECK_OK(site_config_set(&c, "tls.enable", "no", NULL, 0));
	CHECK_OK(site_config_set(&c, "backend", "ftp://x", NULL, 0));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK_OK(site_config_set(&c, "backend", "s3://lacre/site1", NULL, 0));
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	/* the memory budget: 256 MiB by default, at least twice the largest PDU */
	CHECK_EQ_INT(c.memory_budget, 256u << 20);
	CHECK_OK(site_config_set(&c, "limits.memory_budget", "31M", NULL, 0));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "limits.memory_budget: must be at least twice limits.max_pdu_bytes") == msg);
	CHECK_OK(site_config_set(&c, "limits.memory_budget", "32M", NULL, 0));
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_set(&c, "limits.memory_budget", "1000K", msg, sizeof(msg)), LACRE_E_CONFIG);
	/* ingest.user: empty by default; a user name, or a config error */
	CHECK(c.ingest_user[0] == '\0');
	CHECK_OK(site_config_set(&c, "ingest.user", "lacre-ingest", NULL, 0));
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	CHECK(strcmp(c.ingest_user, "lacre-ingest") == 0);
	CHECK_OK(site_config_set(&c, "ingest.user", "-x", NULL, 0));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "ingest.user: '-x' is not a user name") == msg);
	CHECK_OK(site_config_set(&c, "ingest.user", "a/b", NULL, 0));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK_EQ_INT(site_config_set(&c, "ingest.user", "abcdefghijklmnopqrstuvwxyz0123456", msg, sizeof(msg)),
		     LACRE_E_CONFIG);
	CHECK_OK(site_config_set(&c, "ingest.user", "", NULL, 0));
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	age_identity_wipe(&id);
}

/* Write s to a new file in dir and return its path (static buffer). */
static const char *write_tmp(const char *dir, const char *name, const char *s, size_t n)
{
	static char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL)
		return NULL;
	fwrite(s, 1, n, f);
	fclose(f);
	return path;
}

static void test_passphrase_sources(void)
{
	char dir[512], *p = NULL;
	struct passphrase_src src;
	int fds[2];

	snprintf(dir, sizeof(dir), "%s", t_tmpdir());
	unsetenv(PASSPHRASE_ENV);
	passphrase_src_init(&src);
	src.no_prompt = 1;
	CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_NOT_FOUND);
	CHECK(p == NULL);
	/* environment */
	setenv(PASSPHRASE_ENV, "from env", 1);
	CHECK_OK(passphrase_get(&src, "p: ", 0, &p));
	CHECK_STR(p, "from env");
	passphrase_free(p);
	/* a file wins over the environment; one trailing CRLF is stripped */
	src.file = write_tmp(dir, "pf", "from file\r\n", 11);
	CHECK(src.file != NULL);
	CHECK_OK(passphrase_get(&src, "p: ", 0, &p));
	CHECK_STR(p, "from file");
	passphrase_free(p);
	/* only one newline is stripped: a second line is refused */
	src.file = write_tmp(dir, "pf2", "a\nb\n", 4);
	CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_PASSPHRASE);
	src.file = write_tmp(dir, "pf3", "\n", 1);
	CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_PASSPHRASE);
	src.file = write_tmp(dir, "pf4", "a\0b", 3);
	CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_PASSPHRASE);
	{
		static char big[PASSPHRASE_MAX + 10];
		memset(big, 'x', sizeof(big));
		src.file = write_tmp(dir, "pf5", big, sizeof(big));
		CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_TOO_LARGE);
		src.file = write_tmp(dir, "pf6", big, PASSPHRASE_MAX);
		CHECK_OK(passphrase_get(&src, "p: ", 0, &p));
		CHECK_EQ_INT(strlen(p), PASSPHRASE_MAX);
		passphrase_free(p);
	}
	src.file = "/nonexistent/pass";
	CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_IO);
	/* a descriptor: read up to the first newline, the rest stays */
	src.file = NULL;
	CHECK(pipe(fds) == 0);
	CHECK(write(fds[1], "from fd\nrest", 12) == 12);
	close(fds[1]);
	src.fd = fds[0];
	CHECK_OK(passphrase_get(&src, "p: ", 0, &p));
	CHECK_STR(p, "from fd");
	passphrase_free(p);
	close(fds[0]);
	/* the environment can be switched off */
	src.fd = -1;
	src.no_env = 1;
	CHECK_EQ_INT(passphrase_get(&src, "p: ", 0, &p), LACRE_E_NOT_FOUND);
	unsetenv(PASSPHRASE_ENV);
	passphrase_free(NULL);
}

/* Mode bits of path, or -1. */
static int mode_of(const char *dir, const char *name)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static void test_site_create_unlock(void)
{
	struct site_config c;
	struct site s, o;
	struct keystore *ks = NULL;
	struct age_x25519_identity oid;
	uint8_t k1[32], k2[32], pub[32];
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/site", t_tmpdir());
	site_config_defaults(&c, dir);
	CHECK_OK(site_config_set(&c, "master.scrypt_log2n", "10", msg, sizeof(msg)));
	CHECK_OK(site_create(dir, &c, "correct horse", &s, msg, sizeof(msg)));
	CHECK_EQ_INT(mode_of(dir, SITE_MASTER), 0600);
	CHECK_EQ_INT(mode_of(dir, SITE_KEYSTORE), 0700);
	CHECK_EQ_INT(mode_of(dir, SITE_CONF), 0640);
	CHECK_EQ_INT(mode_of(dir, SITE_WARRANTS), 0644);
	CHECK(mode_of(dir, SITE_SPOOL) >= 0);
	CHECK(mode_of(dir, SITE_OBJECTS) >= 0);
	CHECK_EQ_INT(mode_of(dir, "keystore/oversight.key"), 0600);
	CHECK(strncmp(s.cfg.oversight_recipient, "age1", 4) == 0);
	/* a second create in the same (non-empty) folder is refused */
	CHECK_EQ_INT(site_create(dir, &c, "x", &o, msg, sizeof(msg)), LACRE_E_EXISTS);
	/* open reads the configuration back, identical */
	CHECK_OK(site_open(dir, &o, msg, sizeof(msg)));
	CHECK(memcmp(&o.cfg, &s.cfg, sizeof(o.cfg)) == 0);
	CHECK_OK(site_config_check(&o.cfg, msg, sizeof(msg)));
	CHECK_OK(site_master_unlock(&o, "correct horse", k1));
	CHECK_OK(site_master_unlock(&o, "correct horse", k2));
	CHECK_MEM(k1, k2, 32);
	CHECK_EQ_INT(site_master_unlock(&o, "wrong horse", k2), LACRE_E_PASSPHRASE);
	CHECK_EQ_INT(site_master_unlock(&o, "", k2), LACRE_E_PASSPHRASE);
	/* the oversight identity in the keystore matches the configured recipient */
	CHECK_OK(keystore_open(&o, k1, &ks));
	CHECK_OK(keystore_get(ks, SITE_OVERSIGHT_KEY, &oid, NULL));
	CHECK_OK(age_recipient_parse(o.cfg.oversight_recipient, pub));
	CHECK_MEM(pub, oid.public_key, 32);
	keystore_close(ks);
	age_identity_wipe(&oid);
	/* not a site */
	CHECK_EQ_INT(site_open(t_tmpdir(), &o, msg, sizeof(msg)), LACRE_E_NOT_FOUND);
	CHECK(strstr(msg, "lacre init") != NULL);
}

static void test_site_master_damaged(void)
{
	struct site_config c;
	struct site s;
	uint8_t k[32];
	char dir[512], path[1100];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/s", t_tmpdir());
	site_config_defaults(&c, dir);
	c.scrypt_log2n = 10;
	CHECK_OK(site_create(dir, &c, "pw", &s, msg, sizeof(msg)));
	snprintf(path, sizeof(path), "%s/%s", dir, SITE_MASTER);
	f = fopen(path, "r+b");
	CHECK(f != NULL);
	fseek(f, -3, SEEK_END);
	{
		int ch = fgetc(f);
		fseek(f, -3, SEEK_END);
		fputc(ch ^ 0x20, f);
	}
	fclose(f);
	CHECK(site_master_unlock(&s, "pw", k) != LACRE_OK);
	CHECK(site_master_unlock(&s, "pw", k) != LACRE_E_PASSPHRASE);
	unlink(path);
	CHECK_EQ_INT(site_master_unlock(&s, "pw", k), LACRE_E_NOT_FOUND);
}

static void test_site_resolve(void)
{
	char out[SITE_PATH_MAX];

	unsetenv(SITE_ENV);
	CHECK_EQ_INT(site_dir_resolve(NULL, out), LACRE_E_NOT_FOUND);
	setenv(SITE_ENV, "/srv/env/", 1);
	CHECK_OK(site_dir_resolve(NULL, out));
	CHECK_STR(out, "/srv/env");
	CHECK_OK(site_dir_resolve("/srv/arg", out));
	CHECK_STR(out, "/srv/arg");
	CHECK_OK(site_dir_resolve("rel", out));
	CHECK(out[0] == '/' && strstr(out, "/rel") != NULL);
	unsetenv(SITE_ENV);
}

int main(void)
{
	RUN(test_config_defaults);
	RUN(test_config_parse_ok);
	RUN(test_config_parse_errors);
	RUN(test_config_set_and_write);
	RUN(test_config_check);
	RUN(test_passphrase_sources);
	RUN(test_site_create_unlock);
	RUN(test_site_master_damaged);
	RUN(test_site_resolve);
	return t_done();
}
