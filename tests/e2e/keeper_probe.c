/*
 * keeper_probe.c - the insider of issue 10, for tests/e2e/keeper.sh: a
 * program linked against liblacre, run as a uid that is not the keeper's,
 * given the master passphrase (LACRE_PASSPHRASE) and the site folder.  It
 * tries what the 15-line program did - unlock master.age, open
 * the keystore and read a warrant's identity - and, failing that, to read
 * the key files raw.  Prints one line per attempt.
 * Exit status: 0 it obtained no key, 3 it obtained one, 2 usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lacre/age.h"
#include "lacre/err.h"
#include "keeper/keystore.h"
#include "lacre/site.h"

/* Whether path can be opened for reading (it then holds a secret). */
static int readable(const char *dir, const char *name)
{
	char p[SITE_PATH_MAX + 64];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_RDONLY);
	printf("open %s: %s\n", name, fd >= 0 ? "READ" : "refused");
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

int main(int argc, char **argv)
{
	struct site s;
	struct keystore *ks = NULL;
	struct age_x25519_identity id;
	uint8_t master[SITE_MASTER_KEY_LEN];
	char msg[SITE_MSG_MAX], kf[128];
	const char *pass = getenv("LACRE_PASSPHRASE");
	int got = 0, r;

	if (argc != 3 || pass == NULL) {
		fprintf(stderr, "usage: LACRE_PASSPHRASE=P keeper_probe SITE WARRANT\n");
		return 2;
	}
	if ((r = site_open(argv[1], &s, msg, sizeof(msg))) != LACRE_OK) {
		printf("site_open: %s\n", msg);
		return 2;
	}
	r = site_master_unlock(&s, pass, master);
	printf("site_master_unlock: %s\n", r == LACRE_OK ? "UNLOCKED" : lacre_err_name(r));
	if (r == LACRE_OK) {
		got = 1;
		if (keystore_open(&s, master, &ks) == LACRE_OK &&
		    keystore_get(ks, argv[2], &id, NULL) == LACRE_OK) {
			printf("keystore_get %s: IDENTITY\n", argv[2]);
			age_identity_wipe(&id);
		}
		keystore_close(ks);
	}
	snprintf(kf, sizeof(kf), "keystore/%s.key", argv[2]);
	got |= readable(argv[1], "master.age");
	got |= readable(argv[1], kf);
	got |= readable(argv[1], "ledger/access.key");
	return got ? 3 : 0;
}
