/*
 * master.c - the site master key (keeper domain, docs/trust-domains.md):
 * creating a site (folders, a fresh master key sealed under the passphrase
 * in master.age, the warrant-log signer and the oversight identity in the
 * keystore, the configuration) and unlocking master.age with the
 * passphrase.  The new master key is sealed by a site_master_seal_fn: the
 * passphrase (master.age) here, a PKCS#11 token (master.p11) in
 * lib/keeper/pkcs11.c.  Split from lib/site/site.c so that the site
 * registry holds no secret: only the keeper (and `lacre-keeper init`) links
 * this file.  See keeper/master.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "keeper/keystore.h"
#include "keeper/master.h"
#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/site.h"
#include "lacre/warrant.h"

/* The lowest scrypt work factor a new master.age may have (2^15 = 32 MiB of
 * scrypt memory, well under a second): below it a stolen master.age falls
 * to a cheap guessing attack.  Tests seal with 10 to stay fast; they say so
 * by setting SITE_LOG2N_TEST_ENV (tests/e2e/lib/vault.bash, the unit-test
 * harness), the only way past the floor.  Opening an existing site never
 * checks it: a site made by tests still opens. */
#define SITE_LOG2N_FLOOR 15
#define SITE_LOG2N_TEST_ENV "LACRE_SCRYPT_LOG2N"

/* Whether dir is absent (0), an empty folder (1); else an error. */
static int dir_state(const char *dir, char *msg, size_t msglen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		lacre_msg(msg, msglen, "%s: %s", dir, strerror(errno));
		return LACRE_E_IO;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	if (!empty) {
		lacre_msg(msg, msglen, "%s is not empty; choose a new folder for the site", dir);
		return LACRE_E_EXISTS;
	}
	return 1;
}

/* mkdir path with mode; an existing folder is fine. */
static int mkdir_ok(const char *path, unsigned mode, char *msg, size_t msglen)
{
	if (mkdir(path, (mode_t)mode) == 0 || errno == EEXIST)
		return LACRE_OK;
	lacre_msg(msg, msglen, "cannot create %s: %s", path, strerror(errno));
	return LACRE_E_IO;
}

/* site_master_seal_fn of the passphrase path: seal key into master.age
 * under the passphrase arg with the configured scrypt work factor. */
static int seal_passphrase(void *arg, const struct site *s, const uint8_t key[SITE_MASTER_KEY_LEN],
			   char *msg, size_t msglen)
{
	struct age_writer *w = NULL;
	struct lacre_dbuf out;
	char path[SITE_PATH_MAX];
	int r;

	lacre_dbuf_init(&out, 4096);
	r = site_path(s, SITE_MASTER, path, sizeof(path));
	if (r == LACRE_OK)
		r = age_writer_new_scrypt(arg, (int)s->cfg.scrypt_log2n, &out, &w);
	if (r == LACRE_OK)
		r = age_writer_write(w, key, SITE_MASTER_KEY_LEN);
	if (r == LACRE_OK)
		r = age_writer_finish(w, NULL);
	if (r == LACRE_OK)
		r = site_write_file(path, out.p, out.len, 0600);
	if (r != LACRE_OK)
		lacre_msg(msg, msglen, "cannot seal the master key: %s", lacre_strerror(r));
	age_writer_free(w);
	lacre_dbuf_free(&out);
	return r;
}

int site_create(const char *dir, const struct site_config *cfg, const char *passphrase,
		struct site *out, char *msg, size_t msglen)
{
	if (passphrase == NULL)
		return LACRE_E_INVALID;
	if (passphrase[0] == '\0') {
		lacre_msg(msg, msglen, "the master passphrase is empty");
		return LACRE_E_PASSPHRASE;
	}
	if (cfg != NULL && cfg->scrypt_log2n < SITE_LOG2N_FLOOR && getenv(SITE_LOG2N_TEST_ENV) == NULL) {
		lacre_msg(msg, msglen, "master.scrypt_log2n %llu is below the floor of %d: use %d or "
			  "more (default %d; only tests go lower, with %s set)",
			  (unsigned long long)cfg->scrypt_log2n, SITE_LOG2N_FLOOR, SITE_LOG2N_FLOOR,
			  SITE_LOG2N_DEFAULT, SITE_LOG2N_TEST_ENV);
		return LACRE_E_CONFIG;
	}
	return site_create_sealed(dir, cfg, seal_passphrase, (void *)passphrase, out, msg, msglen);
}

int site_create_sealed(const char *dir, const struct site_config *cfg, site_master_seal_fn seal,
		       void *seal_arg, struct site *out, char *msg, size_t msglen)
{
	struct site *s;
	struct keystore *ks = NULL;
	struct age_x25519_identity oid;
	struct lacre_dbuf text;
	uint8_t master[SITE_MASTER_KEY_LEN], seed[32], pub[32];
	char path[SITE_PATH_MAX];
	int r, st;

	if (dir == NULL || cfg == NULL || seal == NULL || out == NULL)
		return LACRE_E_INVALID;
	memset(&oid, 0, sizeof(oid));
	lacre_dbuf_init(&text, SITE_CONF_MAX);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return LACRE_E_NOMEM;
	r = site_dir_resolve(dir, s->dir);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "site path '%s' is too long", dir);
		goto out;
	}
	s->cfg = *cfg;
	st = dir_state(s->dir, msg, msglen);
	if (st < 0) {
		r = st;
		goto out;
	}
	if ((r = mkdir_ok(s->dir, 0750, msg, msglen)) != LACRE_OK)
		goto out;
	if ((r = site_path(s, SITE_KEYSTORE, path, sizeof(path))) != LACRE_OK ||
	    (r = mkdir_ok(path, 0700, msg, msglen)) != LACRE_OK ||
	    (r = site_path(s, SITE_OBJECTS, path, sizeof(path))) != LACRE_OK ||
	    (r = mkdir_ok(path, 0750, msg, msglen)) != LACRE_OK ||
	    (r = mkdir_ok(s->cfg.spool_dir, 0750, msg, msglen)) != LACRE_OK)
		goto out;
	if (RAND_bytes(master, sizeof(master)) != 1) {
		lacre_msg(msg, msglen, "cannot make the master key: the random generator failed");
		r = LACRE_E_CRYPTO;
		goto out;
	}
	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	if ((r = seal(seal_arg, s, master, msg, msglen)) != LACRE_OK) {
		if (msg != NULL && msglen > 0 && msg[0] == '\0')
			lacre_msg(msg, msglen, "cannot seal the master key: %s", lacre_strerror(r));
		goto out;
	}
	r = keystore_open(s, master, &ks);
	if (r == LACRE_OK && RAND_bytes(seed, sizeof(seed)) != 1)
		r = LACRE_E_CRYPTO;
	if (r == LACRE_OK)
		r = keystore_put_secret(ks, SITE_SIGNER_KEY, seed, 0);
	if (r == LACRE_OK)
		r = warrant_signer_public(seed, pub);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot create the warrant-log signing key: %s", lacre_strerror(r));
		goto out;
	}
	for (int i = 0; i < 32; i++)
		snprintf(s->cfg.warrants_signer + 2 * i, 3, "%02x", pub[i]);
	if (s->cfg.oversight_recipient[0] == '\0') {
		r = age_x25519_generate(&oid);
		if (r == LACRE_OK)
			r = keystore_put(ks, SITE_OVERSIGHT_KEY, &oid, 0);
		if (r == LACRE_OK)
			r = age_recipient_encode(oid.public_key, s->cfg.oversight_recipient);
		if (r != LACRE_OK) {
			lacre_msg(msg, msglen, "cannot create the oversight identity: %s", lacre_strerror(r));
			goto out;
		}
	}
	r = site_config_check(&s->cfg, msg, msglen);
	if (r != LACRE_OK)
		goto out;
	if ((r = site_path(s, SITE_WARRANTS, path, sizeof(path))) != LACRE_OK ||
	    (r = site_write_file(path, "", 0, 0644)) != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot create the warrant log: %s", lacre_strerror(r));
		goto out;
	}
	/* the configuration is written last: its presence marks a whole site */
	r = site_config_write(&s->cfg, &text);
	if (r == LACRE_OK)
		r = site_path(s, SITE_CONF, path, sizeof(path));
	if (r == LACRE_OK)
		r = site_write_file(path, text.p, text.len, 0640);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot write %s: %s", SITE_CONF, lacre_strerror(r));
		goto out;
	}
	*out = *s;
out:
	OPENSSL_cleanse(master, sizeof(master));
	OPENSSL_cleanse(seed, sizeof(seed));
	age_identity_wipe(&oid);
	keystore_close(ks);
	lacre_dbuf_free(&text);
	free(s);
	return r;
}

int site_master_unlock(const struct site *s, const char *passphrase,
		       uint8_t key[SITE_MASTER_KEY_LEN])
{
	struct lacre_dbuf file, plain;
	char path[SITE_PATH_MAX];
	int r, max;

	if (s == NULL || passphrase == NULL || key == NULL)
		return LACRE_E_INVALID;
	r = site_path(s, SITE_MASTER, path, sizeof(path));
	if (r != LACRE_OK)
		return r;
	r = site_read_file(path, 64 * 1024, &file);
	if (r != LACRE_OK)
		return r;
	lacre_dbuf_init(&plain, SITE_MASTER_KEY_LEN + 1);
	lacre_dbuf_set_secret(&plain);
	max = s->cfg.scrypt_log2n > SITE_LOG2N_MAX ? (int)s->cfg.scrypt_log2n : SITE_LOG2N_MAX;
	r = age_decrypt_scrypt(file.p, file.len, passphrase, max, &plain);
	/* a wrong passphrase fails the scrypt stanza (LACRE_E_PASSPHRASE); any
	 * other failure means master.age itself is damaged */
	if (r == LACRE_OK && plain.len != SITE_MASTER_KEY_LEN)
		r = LACRE_E_CORRUPT;
	else if (r != LACRE_OK && r != LACRE_E_PASSPHRASE && r != LACRE_E_NOMEM)
		r = LACRE_E_CORRUPT;
	if (r == LACRE_OK)
		memcpy(key, plain.p, SITE_MASTER_KEY_LEN);
	lacre_dbuf_free(&plain);
	lacre_dbuf_free(&file);
	return r;
}
