/*
 * test_keystore.c - warrant keys wrapped by the site master key: round
 * trip, refusal to overwrite, a wrong master key, a renamed or damaged key
 * file, and crypto-shredding with its tombstone.
 */
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
#include "lacre/site.h"
#include "lacre/warrant.h"

static struct site site;
static uint8_t master[32];

/* A fresh site with a low scrypt work factor; master key unlocked. */
static int make_site(void)
{
	struct site_config c;
	char dir[512], msg[SITE_MSG_MAX];

	snprintf(dir, sizeof(dir), "%s/site", t_tmpdir());
	site_config_defaults(&c, dir);
	c.scrypt_log2n = 10;
	if (site_create(dir, &c, "pw", &site, msg, sizeof(msg)) != LACRE_OK)
		return -1;
	return site_master_unlock(&site, "pw", master);
}

/* Path of a keystore file (two alternating buffers, for rename). */
static const char *kpath(const char *name)
{
	static char p[2][SITE_PATH_MAX + 64];
	static int i;

	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s/%s", site.dir, SITE_KEYSTORE, name);
	return p[i];
}

static void test_round_trip(void)
{
	struct keystore *ks = NULL;
	struct age_x25519_identity a, b;

	CHECK_OK(make_site());
	CHECK_OK(keystore_open(&site, master, &ks));
	CHECK_OK(age_x25519_generate(&a));
	CHECK_OK(keystore_put(ks, "W-000001", &a, 0));
	CHECK_OK(keystore_get(ks, "W-000001", &b, NULL));
	CHECK_MEM(a.secret, b.secret, 32);
	CHECK_MEM(a.public_key, b.public_key, 32);
	CHECK_EQ_INT(keystore_put(ks, "W-000001", &a, 0), LACRE_E_EXISTS);
	CHECK_OK(keystore_put(ks, "W-000001", &a, 1));
	CHECK_EQ_INT(keystore_get(ks, "W-000002", &b, NULL), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(keystore_put(ks, "../evil", &a, 0), LACRE_E_INVALID);
	CHECK_EQ_INT(keystore_put(ks, ".hidden", &a, 0), LACRE_E_INVALID);
	CHECK_EQ_INT(keystore_put(ks, "", &a, 0), LACRE_E_INVALID);
	{
		struct stat st;
		CHECK(stat(kpath("W-000001.key"), &st) == 0);
		CHECK_EQ_INT(st.st_mode & 0777, 0600);
		CHECK_EQ_INT(st.st_size, 68);
	}
	keystore_close(ks);
	age_identity_wipe(&a);
	age_identity_wipe(&b);
}

static void test_wrong_master_and_tamper(void)
{
	struct keystore *ks = NULL, *bad = NULL;
	struct age_x25519_identity a, b;
	uint8_t other[32];
	FILE *f;

	CHECK_OK(make_site());
	CHECK_OK(keystore_open(&site, master, &ks));
	CHECK_OK(age_x25519_generate(&a));
	CHECK_OK(keystore_put(ks, "W-000001", &a, 0));
	memcpy(other, master, 32);
	other[0] ^= 1;
	CHECK_OK(keystore_open(&site, other, &bad));
	CHECK_EQ_INT(keystore_get(bad, "W-000001", &b, NULL), LACRE_E_AUTH);
	keystore_close(bad);
	/* a key file renamed to another warrant does not open (AAD = name) */
	CHECK(rename(kpath("W-000001.key"), kpath("W-000009.key")) == 0);
	CHECK_EQ_INT(keystore_get(ks, "W-000009", &b, NULL), LACRE_E_AUTH);
	CHECK(rename(kpath("W-000009.key"), kpath("W-000001.key")) == 0);
	CHECK_OK(keystore_get(ks, "W-000001", &b, NULL));
	/* one flipped bit */
	f = fopen(kpath("W-000001.key"), "r+b");
	CHECK(f != NULL);
	fseek(f, 30, SEEK_SET);
	{
		int c = fgetc(f);
		fseek(f, 30, SEEK_SET);
		fputc(c ^ 1, f);
	}
	fclose(f);
	CHECK_EQ_INT(keystore_get(ks, "W-000001", &b, NULL), LACRE_E_AUTH);
	/* wrong size */
	CHECK(truncate(kpath("W-000001.key"), 67) == 0);
	CHECK_EQ_INT(keystore_get(ks, "W-000001", &b, NULL), LACRE_E_CORRUPT);
	CHECK(truncate(kpath("W-000001.key"), 200) == 0);
	CHECK_EQ_INT(keystore_get(ks, "W-000001", &b, NULL), LACRE_E_CORRUPT);
	keystore_close(ks);
	age_identity_wipe(&a);
}

static void test_shred(void)
{
	struct keystore *ks = NULL;
	struct age_x25519_identity a, b;
	struct key_tombstone t;
	int64_t od;

	CHECK_OK(make_site());
	CHECK_OK(keystore_open(&site, master, &ks));
	CHECK_OK(age_x25519_generate(&a));
	CHECK_OK(keystore_put(ks, "W-000001", &a, 0));
	CHECK_OK(warrant_time_parse("2031-05-06", &od));
	CHECK_EQ_INT(keystore_shred(ks, "W-000002", "Auto 1/2031", od), LACRE_E_NOT_FOUND);
	CHECK_EQ_INT(keystore_shred(ks, "W-000001", "", od), LACRE_E_INVALID);
	CHECK_EQ_INT(keystore_shred(ks, "W-000001", "a\nb", od), LACRE_E_INVALID);
	CHECK_OK(keystore_shred(ks, "W-000001", "Auto 12/2031 (destrucción)", od));
	CHECK(access(kpath("W-000001.key"), F_OK) != 0);
	CHECK(access(kpath("W-000001.shredded"), F_OK) == 0);
	memset(&t, 0, sizeof(t));
	CHECK_EQ_INT(keystore_get(ks, "W-000001", &b, &t), LACRE_E_SHREDDED);
	CHECK_STR(t.order_id, "Auto 12/2031 (destrucción)");
	CHECK_EQ_INT(t.order_date, od);
	CHECK(t.shredded_at > 0 && t.shredded_at <= warrant_time_now());
	CHECK_EQ_INT(keystore_shred(ks, "W-000001", "again", od), LACRE_E_SHREDDED);
	CHECK_EQ_INT(keystore_put(ks, "W-000001", &a, 1), LACRE_E_SHREDDED);
	keystore_close(ks);
	/* a reopened keystore still refuses */
	CHECK_OK(keystore_open(&site, master, &ks));
	CHECK_EQ_INT(keystore_get(ks, "W-000001", &b, NULL), LACRE_E_SHREDDED);
	CHECK_OK(keystore_tombstone(ks, "W-000001", &t));
	CHECK_EQ_INT(keystore_tombstone(ks, "W-000005", &t), LACRE_E_NOT_FOUND);
	keystore_close(ks);
	age_identity_wipe(&a);
}

/* A crash after the tombstone but before the unlink: get refuses, a retry
 * of the shred finishes the job. */
static void test_shred_interrupted(void)
{
	struct keystore *ks = NULL;
	struct age_x25519_identity a, b;
	FILE *f;

	CHECK_OK(make_site());
	CHECK_OK(keystore_open(&site, master, &ks));
	CHECK_OK(age_x25519_generate(&a));
	CHECK_OK(keystore_put(ks, "W-000003", &a, 0));
	f = fopen(kpath("W-000003.shredded"), "w");
	CHECK(f != NULL);
	fputs("lacre-tombstone-v1\nname W-000003\norder O\norder_date 2030-01-01T00:00:00Z\n"
	      "shredded_at 2030-01-02T00:00:00Z\n", f);
	fclose(f);
	CHECK_EQ_INT(keystore_get(ks, "W-000003", &b, NULL), LACRE_E_SHREDDED);
	CHECK_OK(keystore_shred(ks, "W-000003", "O", 0));
	CHECK(access(kpath("W-000003.key"), F_OK) != 0);
	keystore_close(ks);
	age_identity_wipe(&a);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_wrong_master_and_tamper);
	RUN(test_shred);
	RUN(test_shred_interrupted);
	return t_done();
}
