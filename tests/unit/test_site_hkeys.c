/*
 * test_site_hkeys.c - the handover decryption key configuration
 * (handover.key_dir, handover.keys in lib/site/config.c): entries parsed
 * into per-operator keys with validity windows, every malformed entry
 * refused with a message naming it, the value written back as given, and
 * site_config_check() refusing key files that are missing, relative
 * without a folder, or readable by others.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/site.h"

static char msg[512];

/* Entries, windows and round trip. */
static void test_parse(void)
{
	struct site_config c;
	char v[SITE_PATH_MAX];

	site_config_defaults(&c, "/srv/a");
	CHECK_EQ_INT(c.n_hkeys, 0);
	CHECK_OK(site_config_set(&c, "handover.keys",
				 "opC-telco opc-2026.hex 2026-01-01 2027-01-01T00:00:00Z, "
				 "opC-telco /etc/lacre/opc-2027.hex 2026-12-31 -, opD d.hex",
				 msg, sizeof(msg)));
	CHECK_EQ_INT(c.n_hkeys, 3);
	CHECK_STR(c.hkeys[0].operator_id, "opC-telco");
	CHECK_STR(c.hkeys[0].file, "opc-2026.hex");
	CHECK_EQ_INT(c.hkeys[0].valid_from_us, 1767225600000000LL);
	CHECK_EQ_INT(c.hkeys[0].valid_to_us, 1798761600000000LL);
	CHECK_EQ_INT(c.hkeys[1].valid_from_us, 1798675200000000LL);
	CHECK(c.hkeys[1].valid_to_us == INT64_MAX);
	CHECK(c.hkeys[2].valid_from_us == INT64_MIN);
	CHECK(c.hkeys[2].valid_to_us == INT64_MAX);
	CHECK_OK(site_config_get(&c, "handover.keys", v, sizeof(v)));
	CHECK(strstr(v, "opc-2027.hex 2026-12-31 -") != NULL);
	/* an empty value removes every key */
	CHECK_OK(site_config_set(&c, "handover.keys", "", msg, sizeof(msg)));
	CHECK_EQ_INT(c.n_hkeys, 0);
}

/* Malformed entries: each refused, naming what is wrong; the keys stay. */
static void test_refused(void)
{
	static const struct { const char *v, *why; } bad[] = {
		{ "opC", "expected 'OPERATOR FILE" },
		{ "opC k.hex 2026-01-01 2027-01-01 extra", "expected 'OPERATOR FILE" },
		{ "operator-name-too-long k.hex", "operator" },
		{ "opC k.hex yesterday", "validity times must be UTC" },
		{ "opC k.hex 2027-01-01 2026-01-01", "ends before it starts" },
		{ "opC k.hex 2026-01-01 2026-01-01", "ends before it starts" },
		{ "opC k.hex, opC k.hex", "repeats operator opC" },
		{ "a 1,a 2,a 3,a 4,a 5,a 6,a 7,a 8,a 9,a 10,a 11,a 12,a 13,a 14,a 15,a 16,a 17",
		  "more than 16 keys" },
	};
	struct site_config c;

	site_config_defaults(&c, "/srv/a");
	CHECK_OK(site_config_set(&c, "handover.keys", "opC k.hex", msg, sizeof(msg)));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg[0] = '\0';
		CHECK_EQ_INT(site_config_set(&c, "handover.keys", bad[i].v, msg, sizeof(msg)),
			     LACRE_E_CONFIG);
		if (strstr(msg, bad[i].why) == NULL)
			t_fail(__FILE__, __LINE__, "'%s': message '%s' lacks '%s'", bad[i].v, msg,
			       bad[i].why);
		CHECK(strncmp(msg, "handover.keys: ", 15) == 0);
		CHECK_EQ_INT(c.n_hkeys, 1);
		CHECK_STR(c.hkeys[0].file, "k.hex");
	}
}

/* site_config_check: key files present, owner-only, folder absolute. */
static void test_check(void)
{
	struct site_config c;
	struct age_x25519_identity id;
	char dir[] = "/tmp/lacre-hkeys-XXXXXX", path[512], val[600];
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	site_config_defaults(&c, "/srv/a");
	CHECK_OK(age_x25519_generate(&id));
	CHECK_OK(age_recipient_encode(id.public_key, c.oversight_recipient));
	CHECK_OK(site_config_set(&c, "warrants.signer",
				 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
				 msg, sizeof(msg)));
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	/* a relative key file without handover.key_dir */
	CHECK_OK(site_config_set(&c, "handover.keys", "opC k.hex", msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "set handover.key_dir") != NULL);
	CHECK_OK(site_config_set(&c, "handover.key_dir", "relative/dir", msg, sizeof(msg)));
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "handover.key_dir: needs an absolute path") == msg);
	CHECK_OK(site_config_set(&c, "handover.key_dir", dir, msg, sizeof(msg)));
	/* the file does not exist */
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "is not a readable file") != NULL);
	snprintf(path, sizeof(path), "%s/k.hex", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs("54b33708277ca5c1d79b0b232aab841d0c9bef14f5187d84\n", f);
	fclose(f);
	/* readable by others */
	CHECK_EQ_INT(chmod(path, 0644), 0);
	CHECK_EQ_INT(site_config_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "chmod 600") != NULL);
	CHECK_EQ_INT(chmod(path, 0600), 0);
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	CHECK_OK(site_hkey_path(&c, &c.hkeys[0], val, sizeof(val)));
	CHECK_STR(val, path);
	/* the same file by its absolute path */
	snprintf(val, sizeof(val), "opC %s 2026-01-01", path);
	CHECK_OK(site_config_set(&c, "handover.keys", val, msg, sizeof(msg)));
	CHECK_OK(site_config_check(&c, msg, sizeof(msg)));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	RUN(test_parse);
	RUN(test_refused);
	RUN(test_check);
	return t_done();
}
