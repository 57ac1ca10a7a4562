/*
 * test_users.c - users.log and user key files: key round trip and refusal
 * of readable or damaged key files, the bootstrap by the site key, adds and
 * disables by admins only, the unit rule, the last admin, and a registry
 * that refuses a changed byte or an event signed by a non-admin; events
 * signed through a callback (the keeper's relay to the admin's client):
 * a signature by any other key, or a signer that refuses, writes nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "harness.h"
#include "lacre/age.h"
#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "lacre/evlog.h"
#include "keeper/keystore.h"
#include "lacre/site.h"
#include "lacre/users.h"

static struct site site;
static uint8_t seed[32];     /* the site's warrant-log signer */

/* A fresh site; seed = its warrant-log signing key. */
static int make_site(void)
{
	struct site_config c;
	struct keystore *ks = NULL;
	uint8_t master[32];
	char dir[512], msg[SITE_MSG_MAX];
	int r;

	snprintf(dir, sizeof(dir), "%s/site", t_tmpdir());
	site_config_defaults(&c, dir);
	c.scrypt_log2n = 10;
	if ((r = site_create(dir, &c, "pw", &site, msg, sizeof(msg))) != LACRE_OK ||
	    (r = site_master_unlock(&site, "pw", master)) != LACRE_OK ||
	    (r = keystore_open(&site, master, &ks)) != LACRE_OK)
		return r;
	r = keystore_get_secret(ks, SITE_SIGNER_KEY, seed, NULL);
	keystore_close(ks);
	OPENSSL_cleanse(master, sizeof(master));
	return r;
}

/* Path in this test's folder (made at the first call of a test). */
static char tdir[512];
static const char *tpath(const char *name)
{
	static char p[4][600];
	static int i;

	if (!tdir[0])
		snprintf(tdir, sizeof(tdir), "%s", t_tmpdir());
	i = (i + 1) & 3;
	snprintf(p[i], sizeof(p[i]), "%s/%s", tdir, name);
	return p[i];
}

static void test_key_files(void)
{
	struct user_key a, b;
	FILE *f;

	CHECK_OK(user_key_generate("ana.garcia", &a));
	CHECK_OK(user_key_write(&a, tpath("ana.key")));
	CHECK_EQ_INT(user_key_write(&a, tpath("ana.key")), LACRE_E_EXISTS);
	CHECK_OK(user_key_load(tpath("ana.key"), &b));
	CHECK_STR(b.name, "ana.garcia");
	CHECK_MEM(a.seed, b.seed, 32);
	CHECK_MEM(a.pub, b.pub, 32);
	CHECK_EQ_INT(user_key_load(tpath("none.key"), &b), LACRE_E_NOT_FOUND);
	chmod(tpath("ana.key"), 0640);
	CHECK_EQ_INT(user_key_load(tpath("ana.key"), &b), LACRE_E_DENIED);
	/* a key whose id does not match its name */
	f = fopen(tpath("bad.key"), "w");
	CHECK(f != NULL);
	fputs("PRIVATE+KEY+ana+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", f);
	fclose(f);
	chmod(tpath("bad.key"), 0600);
	CHECK_EQ_INT(user_key_load(tpath("bad.key"), &b), LACRE_E_MALFORMED);
	f = fopen(tpath("junk.key"), "w");
	CHECK(f != NULL);
	fputs("hello\n", f);
	fclose(f);
	chmod(tpath("junk.key"), 0600);
	CHECK_EQ_INT(user_key_load(tpath("junk.key"), &b), LACRE_E_MALFORMED);
	CHECK_EQ_INT(user_key_generate("bad name", &b), LACRE_E_INVALID);
	CHECK_EQ_INT(user_key_generate("site", &b), LACRE_E_INVALID);
	user_key_wipe(&a);
	user_key_wipe(&b);
}

static void test_registry(void)
{
	struct users_registry *reg = NULL;
	struct user_key admin, inv, clerk, admin2;
	struct age_x25519_identity aud;
	char msg[SITE_MSG_MAX];

	CHECK_OK(make_site());
	CHECK_OK(age_x25519_generate(&aud));
	CHECK_OK(user_key_generate("root", &admin));
	CHECK_OK(user_key_generate("ana", &inv));
	CHECK_OK(user_key_generate("luis", &clerk));
	CHECK_OK(user_key_generate("root2", &admin2));
	CHECK_OK(users_load(&site, &reg, msg, sizeof(msg)));
	CHECK_EQ_INT(reg->n, 0);
	users_free(reg);
	/* nobody but the bootstrap adds the first user */
	CHECK_EQ_INT(users_add(&site, &admin, "ana", ACL_INVESTIGATOR, "UCO-1", inv.pub, msg,
			       sizeof(msg)), LACRE_E_DENIED);
	CHECK_OK(users_bootstrap(&site, seed, aud.public_key, "root", "", admin.pub, msg, sizeof(msg)));
	CHECK_EQ_INT(users_bootstrap(&site, seed, aud.public_key, "x", "", inv.pub, msg, sizeof(msg)),
		     LACRE_E_EXISTS);
	CHECK_EQ_INT(users_add(&site, &admin, "ana", ACL_INVESTIGATOR, "", inv.pub, msg, sizeof(msg)),
		     LACRE_E_INVALID);
	CHECK_OK(users_add(&site, &admin, "ana", ACL_INVESTIGATOR, "UCO-1", inv.pub, msg, sizeof(msg)));
	CHECK_EQ_INT(users_add(&site, &admin, "ana", ACL_CLERK, "", clerk.pub, msg, sizeof(msg)),
		     LACRE_E_EXISTS);
	/* an investigator is no admin */
	CHECK_EQ_INT(users_add(&site, &inv, "luis", ACL_CLERK, "", clerk.pub, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK_OK(users_add(&site, &admin, "luis", ACL_CLERK, "", clerk.pub, msg, sizeof(msg)));
	CHECK_EQ_INT(users_disable(&site, &admin, "root", msg, sizeof(msg)), LACRE_E_STATE);
	CHECK_OK(users_add(&site, &admin, "root2", ACL_ADMIN, "", admin2.pub, msg, sizeof(msg)));
	CHECK_OK(users_disable(&site, &admin2, "root", msg, sizeof(msg)));
	CHECK_EQ_INT(users_disable(&site, &admin2, "root", msg, sizeof(msg)), LACRE_E_STATE);
	/* a disabled admin signs nothing more */
	CHECK_EQ_INT(users_add(&site, &admin, "eve", ACL_ADMIN, "", inv.pub, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK_OK(users_load(&site, &reg, msg, sizeof(msg)));
	CHECK_EQ_INT(reg->n, 4);
	CHECK(reg->have_init);
	CHECK_MEM(reg->auditor_pub, aud.public_key, 32);
	CHECK(users_find(reg, "root")->disabled);
	CHECK_STR(users_find(reg, "ana")->unit, "UCO-1");
	CHECK_EQ_INT(users_find(reg, "ana")->role, ACL_INVESTIGATOR);
	CHECK_STR(users_find(reg, "luis")->added_by, "root");
	CHECK_STR(users_find(reg, "root")->added_by, "site");
	CHECK_MEM(users_find(reg, "luis")->pub, clerk.pub, 32);
	users_free(reg);
	user_key_wipe(&admin);
	user_key_wipe(&inv);
	user_key_wipe(&clerk);
	user_key_wipe(&admin2);
}

/* Signer callback of the forging test: the real key of each signer name
 * (arg: site, root and luis public keys), whatever their rights. */
static int any_signer(void *arg, const struct evlog_event *ev, uint8_t pub[32])
{
	const uint8_t (*k)[32] = arg;

	memcpy(pub, k[!strcmp(ev->by, "root") ? 1 : !strcmp(ev->by, "luis") ? 2 : 0], 32);
	return LACRE_OK;
}

/* Apply callback that accepts everything. */
static int any_apply(void *arg, const struct evlog_event *ev)
{
	(void)arg;
	(void)ev;
	return LACRE_OK;
}

static void test_tamper(void)
{
	struct users_registry *reg = NULL;
	struct user_key admin, clerk;
	struct age_x25519_identity aud;
	struct evlog *l = NULL;
	struct evlog_event *e;
	char msg[SITE_MSG_MAX], path[SITE_PATH_MAX];
	struct lacre_dbuf d;
	uint8_t keys[3][32];
	FILE *f;

	CHECK_OK(make_site());
	CHECK_OK(age_x25519_generate(&aud));
	CHECK_OK(user_key_generate("root", &admin));
	CHECK_OK(user_key_generate("luis", &clerk));
	CHECK_OK(users_bootstrap(&site, seed, aud.public_key, "root", "", admin.pub, msg, sizeof(msg)));
	CHECK_OK(users_add(&site, &admin, "luis", ACL_CLERK, "", clerk.pub, msg, sizeof(msg)));
	CHECK_OK(site_path(&site, USERS_LOG, path, sizeof(path)));
	/* the clerk forges an admin for himself: a well-formed, well-chained
	 * line with a valid signature by a key that may not sign */
	CHECK_OK(lacre_ed25519_public(seed, keys[0]));
	memcpy(keys[1], admin.pub, 32);
	memcpy(keys[2], clerk.pub, 32);
	CHECK_OK(evlog_open(path, USERS_MAGIC, 1, any_signer, any_apply, keys, &l, msg, sizeof(msg)));
	e = calloc(1, sizeof(*e));
	CHECK(e != NULL);
	evlog_event_init(e, "add", "luis");
	CHECK_OK(evlog_set(e, "name", "mallory"));
	CHECK_OK(evlog_set(e, "role", "admin"));
	CHECK_OK(evlog_set(e, "unit", ""));
	CHECK_OK(evlog_set(e, "key", "00000000000000000000000000000000000000000000000000000000000000aa"));
	CHECK_OK(evlog_append(l, e, evlog_sign_seed, clerk.seed));
	evlog_close(l);
	free(e);
	msg[0] = '\0';
	CHECK_EQ_INT(users_load(&site, &reg, msg, sizeof(msg)), LACRE_E_CORRUPT);
	CHECK(strstr(msg, ":4: ") != NULL);
	/* a changed byte in an earlier line */
	lacre_dbuf_init(&d, 1 << 20);
	CHECK_OK(site_read_file(path, 1 << 20, &d));
	{
		char *p = memmem(d.p, d.len, "role=clerk", 10);
		CHECK(p != NULL);
		memcpy(p, "role=admin", 10);
	}
	f = fopen(path, "w");
	CHECK(f != NULL);
	fwrite(d.p, 1, d.len, f);
	fclose(f);
	lacre_dbuf_free(&d);
	CHECK_EQ_INT(users_load(&site, &reg, msg, sizeof(msg)), LACRE_E_CORRUPT);
	CHECK(strstr(msg, ":3: ") != NULL);
	user_key_wipe(&admin);
	user_key_wipe(&clerk);
}

/* Size of the file at path (-1 when absent). */
static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* An evlog_sign_fn that refuses, as a client that went away. */
static int refusing_signer(void *arg, const void *m, size_t n, uint8_t sig[64])
{
	(void)arg;
	(void)m;
	(void)n;
	memset(sig, 0, 64);
	return LACRE_E_DENIED;
}

static void test_signed(void)
{
	struct users_registry *reg = NULL;
	struct user_key admin, inv, clerk, fake;
	struct age_x25519_identity aud;
	char msg[SITE_MSG_MAX], path[SITE_PATH_MAX];
	long size;

	CHECK_OK(make_site());
	CHECK_OK(age_x25519_generate(&aud));
	CHECK_OK(user_key_generate("root", &admin));
	CHECK_OK(user_key_generate("ana", &inv));
	CHECK_OK(user_key_generate("luis", &clerk));
	CHECK_OK(user_key_generate("root", &fake));
	CHECK_OK(users_bootstrap(&site, seed, aud.public_key, "root", "", admin.pub, msg, sizeof(msg)));
	CHECK_OK(site_path(&site, USERS_LOG, path, sizeof(path)));
	/* the admin's signature from a callback, as the keeper's relay gives it */
	CHECK_OK(users_add_signed(&site, "root", evlog_sign_seed, admin.seed, "ana", ACL_INVESTIGATOR,
				  "UCO-1", inv.pub, msg, sizeof(msg)));
	size = file_size(path);
	CHECK(size > 0);
	/* a signature by another key (a lying client) is never written */
	msg[0] = '\0';
	CHECK_EQ_INT(users_add_signed(&site, "root", evlog_sign_seed, clerk.seed, "luis", ACL_CLERK, "",
				      clerk.pub, msg, sizeof(msg)), LACRE_E_AUTH);
	CHECK(strstr(msg, "does not verify with the key of user 'root'") != NULL);
	CHECK_EQ_INT(file_size(path), size);
	/* a signer that refuses (the client went away): nothing written */
	CHECK_EQ_INT(users_add_signed(&site, "root", refusing_signer, NULL, "luis", ACL_CLERK, "",
				      clerk.pub, msg, sizeof(msg)), LACRE_E_DENIED);
	CHECK_EQ_INT(file_size(path), size);
	CHECK_EQ_INT(users_disable_signed(&site, "root", evlog_sign_seed, inv.seed, "ana", msg,
					  sizeof(msg)), LACRE_E_AUTH);
	CHECK_EQ_INT(file_size(path), size);
	/* a name that is not an admin's cannot sign, whatever the signature */
	CHECK_EQ_INT(users_add_signed(&site, "ana", evlog_sign_seed, inv.seed, "luis", ACL_CLERK, "",
				      clerk.pub, msg, sizeof(msg)), LACRE_E_DENIED);
	/* a key file named like the admin but holding another key */
	CHECK_EQ_INT(users_add(&site, &fake, "luis", ACL_CLERK, "", clerk.pub, msg, sizeof(msg)),
		     LACRE_E_DENIED);
	CHECK_EQ_INT(file_size(path), size);
	CHECK_OK(users_disable_signed(&site, "root", evlog_sign_seed, admin.seed, "ana", msg,
				      sizeof(msg)));
	CHECK_OK(users_load(&site, &reg, msg, sizeof(msg)));
	CHECK_EQ_INT(reg->n, 2);
	CHECK(users_find(reg, "luis") == NULL);
	CHECK(users_find(reg, "ana") != NULL && users_find(reg, "ana")->disabled);
	users_free(reg);
	age_identity_wipe(&aud);
	user_key_wipe(&admin);
	user_key_wipe(&inv);
	user_key_wipe(&clerk);
	user_key_wipe(&fake);
}

int main(void)
{
	RUN(test_key_files);
	RUN(test_registry);
	RUN(test_tamper);
	RUN(test_signed);
	return t_done();
}
