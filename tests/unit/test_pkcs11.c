/*
 * test_pkcs11.c - the master key in a PKCS#11 token (lacre/pkcs11.h):
 * master.p11's text format (round trip, and every malformed form refused
 * as corrupt: truncations, extra or missing lines, bad hex, bad labels,
 * trailing bytes, an oversize file), the master.pkcs11_* configuration
 * check, the PIN sources, and, with SoftHSM2 installed, a site sealed by a
 * token: unsealed with the right PIN, refused with a wrong one, with an
 * altered master.p11 or with a token that lacks the key.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "harness.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "keeper/keystore.h"
#include "keeper/passphrase.h"
#include "keeper/pkcs11.h"
#include "lacre/site.h"

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"

/* A valid master.p11 in d (initialised here), m filled. */
static int sample(struct lacre_dbuf *d, struct p11_master *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->token, sizeof(m->token), "lacre token");
	snprintf(m->key, sizeof(m->key), "lacre-master");
	for (size_t i = 0; i < sizeof(m->iv); i++)
		m->iv[i] = (uint8_t)(i + 1);
	for (size_t i = 0; i < sizeof(m->wrapped); i++)
		m->wrapped[i] = (uint8_t)(0xa0 + i);
	lacre_dbuf_init(d, P11_FILE_MAX);
	return p11_master_encode(m, d);
}

static void test_format_round_trip(void)
{
	static const char want_head[] = "lacre-master-p11-v1\ntoken lacre%20token\nkey lacre-master\n"
					"mechanism CKM_AES_GCM\n";
	struct lacre_dbuf d;
	struct p11_master m, p;

	CHECK_OK(sample(&d, &m));
	CHECK_EQ_INT(m.aad_len, strlen(want_head));
	CHECK(memcmp(d.p, want_head, m.aad_len) == 0);
	CHECK(memcmp(d.p + m.aad_len, "iv 0102030405060708090a0b0c\nwrapped a0a1", 40) == 0);
	CHECK_EQ_INT(d.p[d.len - 1], '\n');
	CHECK_OK(p11_master_parse(d.p, d.len, &p));
	CHECK_STR(p.token, "lacre token");
	CHECK_STR(p.key, "lacre-master");
	CHECK_MEM(p.iv, m.iv, sizeof(m.iv));
	CHECK_MEM(p.wrapped, m.wrapped, sizeof(m.wrapped));
	CHECK_EQ_INT(p.aad_len, m.aad_len);
	lacre_dbuf_free(&d);
	/* labels lacre would not accept are not written */
	memset(&m, 0, sizeof(m));
	snprintf(m.token, sizeof(m.token), " lead");
	snprintf(m.key, sizeof(m.key), "k");
	lacre_dbuf_init(&d, P11_FILE_MAX);
	CHECK_EQ_INT(p11_master_encode(&m, &d), LACRE_E_INVALID);
	m.token[0] = '\0';
	CHECK_EQ_INT(p11_master_encode(&m, &d), LACRE_E_INVALID);
	lacre_dbuf_free(&d);
}

/* Parse text; the result code. */
static int parse_text(const char *t)
{
	struct p11_master m;

	memset(&m, 0x5a, sizeof(m));
	return p11_master_parse((const uint8_t *)t, strlen(t), &m);
}

static void test_format_refused(void)
{
	static const char *bad[] = {
		"",
		"lacre-master-p11-v2\ntoken t\nkey k\nmechanism CKM_AES_GCM\niv 0102030405060708090a0b0c\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\n",
		/* lines out of order */
		"lacre-master-p11-v1\nkey k\ntoken t\nmechanism CKM_AES_GCM\niv 0102030405060708090a0b0c\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\n",
		/* another mechanism */
		"lacre-master-p11-v1\ntoken t\nkey k\nmechanism CKM_AES_KEY_WRAP_PAD\niv 0102030405060708090a0b0c\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\n",
		/* upper-case hex */
		"lacre-master-p11-v1\ntoken t\nkey k\nmechanism CKM_AES_GCM\niv 0102030405060708090A0B0C\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\n",
		/* an IV one byte short */
		"lacre-master-p11-v1\ntoken t\nkey k\nmechanism CKM_AES_GCM\niv 0102030405060708090a0b\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\n",
		/* wrapped one byte long */
		"lacre-master-p11-v1\ntoken t\nkey k\nmechanism CKM_AES_GCM\niv 0102030405060708090a0b0c\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f30\n",
		/* a raw space in a label (must be %20) */
		"lacre-master-p11-v1\ntoken a b\nkey k\nmechanism CKM_AES_GCM\niv 0102030405060708090a0b0c\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\n",
		/* an escape of a byte written raw */
		"lacre-master-p11-v1\ntoken %61\nkey k\nmechanism CKM_AES_GCM\niv 0102030405060708090a0b0c\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\n",
		/* an empty key label */
		"lacre-master-p11-v1\ntoken t\nkey \nmechanism CKM_AES_GCM\niv 0102030405060708090a0b0c\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\n",
		/* a token label of 33 bytes */
		"lacre-master-p11-v1\ntoken 123456789012345678901234567890123\nkey k\nmechanism CKM_AES_GCM\n"
		"iv 0102030405060708090a0b0c\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\n",
		/* a label with a trailing space, encoded */
		"lacre-master-p11-v1\ntoken t%20\nkey k\nmechanism CKM_AES_GCM\niv 0102030405060708090a0b0c\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\n",
		/* CRLF */
		"lacre-master-p11-v1\r\ntoken t\r\nkey k\r\nmechanism CKM_AES_GCM\r\niv 0102030405060708090a0b0c\r\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\r\n",
		/* a line too many */
		"lacre-master-p11-v1\ntoken t\nkey k\nmechanism CKM_AES_GCM\niv 0102030405060708090a0b0c\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\nwrapped 00\n",
		/* no iv line */
		"lacre-master-p11-v1\ntoken t\nkey k\nmechanism CKM_AES_GCM\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\n",
		/* two spaces after a word */
		"lacre-master-p11-v1\ntoken  t\nkey k\nmechanism CKM_AES_GCM\niv 0102030405060708090a0b0c\n"
		"wrapped " "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f\n",
	};
	struct lacre_dbuf d;
	struct p11_master m;
	uint8_t big[P11_FILE_MAX + 2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse_text(bad[i]);
		if (r != LACRE_E_CORRUPT) {
			t_fail(__FILE__, __LINE__, "bad form %zu: %d (%s), expected LACRE_E_CORRUPT", i, r,
			       lacre_strerror(r));
			return;
		}
	}
	/* every truncation of a valid file (the last LF included), and a byte
	 * after it */
	CHECK_OK(sample(&d, &m));
	for (size_t n = 0; n < d.len; n++)
		if (p11_master_parse(d.p, n, &m) != LACRE_E_CORRUPT) {
			t_fail(__FILE__, __LINE__, "a file truncated to %zu of %zu bytes parsed", n, d.len);
			return;
		}
	CHECK_OK(lacre_dbuf_add(&d, "\n", 1));
	CHECK_EQ_INT(p11_master_parse(d.p, d.len, &m), LACRE_E_CORRUPT);
	d.p[d.len - 1] = '\0';
	CHECK_EQ_INT(p11_master_parse(d.p, d.len, &m), LACRE_E_CORRUPT);
	lacre_dbuf_free(&d);
	/* a file over the cap, whatever it holds */
	memset(big, 'a', sizeof(big));
	CHECK_EQ_INT(p11_master_parse(big, sizeof(big), &m), LACRE_E_CORRUPT);
	CHECK_EQ_INT(p11_master_parse(NULL, 0, &m), LACRE_E_INVALID);
}

static void test_config_master(void)
{
	struct site_config c;
	char msg[SITE_MSG_MAX];

	site_config_defaults(&c, "/srv/site");
	CHECK_OK(site_config_check_master(&c, msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "master.pkcs11_token", "lacre", msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check_master(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "need master.pkcs11_module") != NULL);
	CHECK_OK(site_config_set(&c, "master.pkcs11_module", "libsofthsm2.so", msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check_master(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "master.pkcs11_module: needs an absolute path") != NULL);
	CHECK_OK(site_config_set(&c, "master.pkcs11_module", SOFTHSM_MODULE, msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check_master(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "master.pkcs11_key") != NULL);
	CHECK_OK(site_config_set(&c, "master.pkcs11_key", "lacre-master", msg, sizeof(msg)));
	CHECK_OK(site_config_check_master(&c, msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_set(&c, "master.pkcs11_token", "123456789012345678901234567890123",
				     msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK_OK(site_config_set(&c, "master.pkcs11_token", " lacre", msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check_master(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "master.pkcs11_token") != NULL);
}

static void test_pin_sources(void)
{
	struct passphrase_src src;
	char path[512], *pin = NULL;
	const char *dir = t_tmpdir();
	FILE *f;

	passphrase_src_init(&src);
	src.no_prompt = 1;
	unsetenv(PASSPHRASE_CRED_DIR_ENV);
	/* the passphrase's variable is not a PIN */
	unsetenv(P11_PIN_ENV);
	setenv(PASSPHRASE_ENV, "not-the-pin", 1);
	CHECK_EQ_INT(p11_pin_get(&src, &pin), LACRE_E_NOT_FOUND);
	unsetenv(PASSPHRASE_ENV);
	/* LACRE_PIN is read once, then gone */
	setenv(P11_PIN_ENV, "123456", 1);
	CHECK_OK(p11_pin_get(&src, &pin));
	CHECK_STR(pin, "123456");
	passphrase_free(pin);
	pin = NULL;
	CHECK(getenv(P11_PIN_ENV) == NULL);
	CHECK_EQ_INT(p11_pin_get(&src, &pin), LACRE_E_NOT_FOUND);
	setenv(P11_PIN_ENV, "", 1);
	CHECK_EQ_INT(p11_pin_get(&src, &pin), LACRE_E_PASSPHRASE);
	CHECK(getenv(P11_PIN_ENV) == NULL);
	/* the credential lacre-pin comes before the variable */
	snprintf(path, sizeof(path), "%s/%s", dir, P11_PIN_CREDENTIAL);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("cred-pin\n", f);
	fclose(f);
	setenv(PASSPHRASE_CRED_DIR_ENV, dir, 1);
	setenv(P11_PIN_ENV, "env-pin", 1);
	CHECK_OK(p11_pin_get(&src, &pin));
	CHECK_STR(pin, "cred-pin");
	passphrase_free(pin);
	pin = NULL;
	unsetenv(PASSPHRASE_CRED_DIR_ENV);
	/* a file named on the command line comes first */
	snprintf(path, sizeof(path), "%s/pinfile", dir);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("file-pin\n", f);
	fclose(f);
	src.file = path;
	CHECK_OK(p11_pin_get(&src, &pin));
	CHECK_STR(pin, "file-pin");
	passphrase_free(pin);
	unsetenv(P11_PIN_ENV);
}

/* A SoftHSM2 token "lacre" (PIN 1234) in a fresh tokendir under dir, its
 * configuration exported in SOFTHSM2_CONF.  0 on success. */
static int softhsm_token(const char *dir, const char *label)
{
	char conf[512], toks[512], cmd[1400];
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	snprintf(toks, sizeof(toks), "%s/tokens", dir);
	if (mkdir(toks, 0700) != 0 && access(toks, F_OK) != 0)
		return -1;
	if ((f = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", toks);
	fclose(f);
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(cmd, sizeof(cmd), "softhsm2-util --init-token --free --label %s --pin 1234 "
		 "--so-pin 87654321 >/dev/null 2>&1", label);
	return system(cmd);
}

static void test_softhsm_site(void)
{
	struct site_config c;
	struct site s, o;
	struct keystore *ks = NULL;
	struct lacre_dbuf d;
	uint8_t k1[SITE_MASTER_KEY_LEN], k2[SITE_MASTER_KEY_LEN];
	char msg[SITE_MSG_MAX], site[600], path[700];
	const char *dir = t_tmpdir();

	if (access(SOFTHSM_MODULE, R_OK) != 0 || system("command -v softhsm2-util >/dev/null") != 0)
		SKIP("SoftHSM2 is not installed (apt-get install softhsm2)");
	CHECK_EQ_INT(softhsm_token(dir, "lacre"), 0);
	snprintf(site, sizeof(site), "%s/site", dir);
	site_config_defaults(&c, site);
	CHECK_OK(site_config_set(&c, "master.pkcs11_module", SOFTHSM_MODULE, msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "master.pkcs11_token", "lacre", msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "master.pkcs11_key", "lacre-master", msg, sizeof(msg)));
	/* a wrong PIN creates nothing usable and says so */
	msg[0] = '\0';
	CHECK_EQ_INT(p11_site_create(site, &c, "9999", &s, msg, sizeof(msg)), LACRE_E_PASSPHRASE);
	CHECK_STR(msg, "wrong PIN for token 'lacre'");
	snprintf(site, sizeof(site), "%s/site2", dir);
	site_config_defaults(&c, site);
	CHECK_OK(site_config_set(&c, "master.pkcs11_module", SOFTHSM_MODULE, msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "master.pkcs11_token", "lacre", msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "master.pkcs11_key", "lacre-master", msg, sizeof(msg)));
	CHECK_OK(p11_site_create(site, &c, "1234", &s, msg, sizeof(msg)));
	snprintf(path, sizeof(path), "%s/%s", site, SITE_MASTER);
	CHECK(access(path, F_OK) != 0);            /* no passphrase-sealed copy */
	CHECK_OK(site_open(site, &o, msg, sizeof(msg)));
	CHECK_STR(o.cfg.pkcs11_token, "lacre");
	CHECK_OK(p11_master_unseal(&o, "1234", k1, msg, sizeof(msg)));
	CHECK_OK(p11_master_unseal(&o, "1234", k2, msg, sizeof(msg)));
	CHECK_MEM(k1, k2, sizeof(k1));
	/* the key opens the keystore init wrote (the oversight identity) */
	CHECK_OK(keystore_open(&o, k1, &ks));
	{
		struct age_x25519_identity id;
		CHECK_OK(keystore_get(ks, SITE_OVERSIGHT_KEY, &id, NULL));
		age_identity_wipe(&id);
	}
	keystore_close(ks);
	CHECK_EQ_INT(p11_master_unseal(&o, "4321", k2, msg, sizeof(msg)), LACRE_E_PASSPHRASE);
	/* one IV bit flipped: the token's tag check fails */
	snprintf(path, sizeof(path), "%s/%s", site, P11_MASTER);
	CHECK_OK(site_read_file(path, P11_FILE_MAX, &d));
	{
		char *iv = strstr((char *)d.p, "\niv "), was;
		CHECK(iv != NULL);
		was = iv[5];
		iv[5] = was == '0' ? '1' : '0';
		CHECK_OK(site_write_file(path, d.p, d.len, 0600));
		msg[0] = '\0';
		CHECK_EQ_INT(p11_master_unseal(&o, "1234", k2, msg, sizeof(msg)), LACRE_E_AUTH);
		CHECK(strstr(msg, "does not open") != NULL);
		iv[5] = was;
		CHECK_OK(site_write_file(path, d.p, d.len, 0600));
	}
	lacre_dbuf_free(&d);
	CHECK_OK(p11_master_unseal(&o, "1234", k2, msg, sizeof(msg)));
	/* lacre.conf naming another key label: refused before the token */
	snprintf(o.cfg.pkcs11_key, sizeof(o.cfg.pkcs11_key), "other");
	CHECK_EQ_INT(p11_master_unseal(&o, "1234", k2, msg, sizeof(msg)), LACRE_E_CONFIG);
	snprintf(o.cfg.pkcs11_key, sizeof(o.cfg.pkcs11_key), "lacre-master");
	/* a fresh token of the same label (the old one lost): no key there */
	CHECK_EQ_INT(system("rm -rf \"$(dirname \"$SOFTHSM2_CONF\")/tokens\"/*"), 0);
	CHECK_EQ_INT(softhsm_token(dir, "lacre"), 0);
	msg[0] = '\0';
	CHECK_EQ_INT(p11_master_unseal(&o, "1234", k2, msg, sizeof(msg)), LACRE_E_NOT_FOUND);
	CHECK_STR(msg, "token 'lacre' holds no AES key labelled 'lacre-master': without it the "
		  "master key cannot be unwrapped");
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
}

int main(void)
{
	RUN(test_format_round_trip);
	RUN(test_format_refused);
	RUN(test_config_master);
	RUN(test_pin_sources);
	RUN(test_softhsm_site);
	return t_done();
}
