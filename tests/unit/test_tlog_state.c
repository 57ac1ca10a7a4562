/*
 * test_tlog_state.c - the transparency log's local state file (the signed
 * size, root, journal length and what is published; lib/ledger/log.c):
 * a log reopened from it goes on where it stopped; a state file of
 * another origin or another key refuses to open (LACRE_E_CONFIG: a
 * configuration mix-up, not damage); a state file changed in any field
 * (magic, size, root, key, journal, published beyond the size, lines
 * missing, empty) is LACRE_E_CORRUPT, never opened as another tree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/site.h"
#include "lacre/store.h"
#include "lacre/tlog.h"

#define ORIGIN "lacre.test/state"

static struct note_signer *key, *other, *another;
static struct lacre_store *st;
static char dir[600], state_path[700];
static char orig[8192];                  /* the state file as written */

/* A log of 300 entries (a full tile and a partial one) and a checkpoint,
 * then closed: orig holds its state file. */
static int make_log(void)
{
	struct tlog *log = NULL;
	struct lacre_dbuf note, f;
	char spec[700];
	uint8_t seed[32];
	int r;

	snprintf(dir, sizeof(dir), "%s", t_tmpdir());
	snprintf(spec, sizeof(spec), "dir:%s/store", dir);
	snprintf(state_path, sizeof(state_path), "%s/log/state", dir);
	memset(seed, 0x51, 32);
	if (!key && (r = note_signer_from_seed(ORIGIN, NOTE_TYPE_ED25519, seed, &key)) != LACRE_OK)
		return r;
	memset(seed, 0x52, 32);
	if (!other && (r = note_signer_from_seed(ORIGIN, NOTE_TYPE_ED25519, seed, &other)) != LACRE_OK)
		return r;
	if (!another && (r = note_signer_from_seed("lacre.test/another", NOTE_TYPE_ED25519, seed,
						    &another)) != LACRE_OK)
		return r;
	lacre_store_close(st);
	st = NULL;
	if ((r = lacre_store_open(spec, &st)) != LACRE_OK)
		return r;
	snprintf(spec, sizeof(spec), "%s/log", dir);
	if ((r = tlog_open(st, spec, ORIGIN, key, &log)) != LACRE_OK)
		return r;
	for (uint64_t i = 0; i < 300 && r == LACRE_OK; i++) {
		uint8_t e[32];
		merkle_sha256(&i, sizeof(i), e);
		r = tlog_append(log, e, 32, NULL);
	}
	lacre_dbuf_init(&note, 1 << 16);
	if (r == LACRE_OK)
		r = tlog_checkpoint(log, &note);
	lacre_dbuf_free(&note);
	tlog_close(log);
	if (r != LACRE_OK)
		return r;
	lacre_dbuf_init(&f, sizeof(orig));
	r = site_read_file(state_path, sizeof(orig) - 1, &f);
	if (r == LACRE_OK) {
		memcpy(orig, f.p, f.len);
		orig[f.len] = 0;
	}
	lacre_dbuf_free(&f);
	return r;
}

/* Write text as the state file. */
static int put_state(const char *text)
{
	FILE *fp = fopen(state_path, "w");

	if (!fp)
		return LACRE_E_IO;
	fputs(text, fp);
	return fclose(fp) == 0 ? LACRE_OK : LACRE_E_IO;
}

/* orig with the first "from" replaced by "to" written as the state. */
static int put_changed(const char *from, const char *to)
{
	char buf[8192];
	const char *at = strstr(orig, from);

	if (!at)
		return LACRE_E_NOT_FOUND;
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - orig), orig, to, at + strlen(from));
	return put_state(buf);
}

/* Open the log (origin, k); close it; the result. */
static int reopen(const char *origin, const struct note_signer *k, uint64_t *size)
{
	struct tlog *log = NULL;
	struct lacre_dbuf note;
	struct checkpoint cp;
	char sd[700];
	int r;

	snprintf(sd, sizeof(sd), "%s/log", dir);
	if ((r = tlog_open(st, sd, origin, k, &log)) != LACRE_OK)
		return r;
	lacre_dbuf_init(&note, 1 << 16);
	r = tlog_checkpoint(log, &note);
	if (r == LACRE_OK && size) {
		const uint8_t *nl = memchr(note.p, '\n', note.len);
		char *end;
		(void)cp;
		*size = nl ? strtoull((const char *)nl + 1, &end, 10) : 0;
	}
	lacre_dbuf_free(&note);
	tlog_close(log);
	return r;
}

static void test_reopen(void)
{
	uint64_t size = 0;

	CHECK_OK(make_log());
	CHECK(strncmp(orig, "lacre-tlog-state v1\n", 20) == 0);
	CHECK(strstr(orig, "\nsize 300\n") != NULL);
	CHECK_OK(reopen(ORIGIN, key, &size));
	CHECK_EQ_INT(size, 300);
}

/* vkey (the log's verifier key) is written on open only when it is not
 * already exactly right: a reopen leaves the file alone (same inode, no
 * fsync), a missing or altered one is written again. */
static void test_vkey_kept(void)
{
	struct lacre_dbuf want;
	struct note_verifier v;
	char path[720], got[512];
	struct stat a, b;
	FILE *f;
	size_t n;

	CHECK_OK(make_log());
	snprintf(path, sizeof(path), "%s/log/vkey", dir);
	note_signer_public(key, &v);
	lacre_dbuf_init(&want, 256);
	CHECK_OK(note_verifier_format(&v, &want));
	CHECK_OK(lacre_dbuf_add_u8(&want, '\n'));
	CHECK_EQ_INT(stat(path, &a), 0);
	CHECK_OK(reopen(ORIGIN, key, NULL));
	CHECK_EQ_INT(stat(path, &b), 0);
	CHECK(a.st_ino == b.st_ino && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
	      a.st_mtim.tv_nsec == b.st_mtim.tv_nsec);
	/* altered: rewritten with the right bytes */
	CHECK((f = fopen(path, "w")) != NULL);
	if (f) {
		fputs("lacre.test/state+00000000+AAAA\n", f);
		fclose(f);
	}
	CHECK_OK(reopen(ORIGIN, key, NULL));
	CHECK((f = fopen(path, "r")) != NULL);
	n = f ? fread(got, 1, sizeof(got), f) : 0;
	if (f)
		fclose(f);
	CHECK_EQ_INT(n, want.len);
	CHECK(n == want.len && memcmp(got, want.p, n) == 0);
	/* missing: written again */
	CHECK_EQ_INT(unlink(path), 0);
	CHECK_OK(reopen(ORIGIN, key, NULL));
	CHECK_EQ_INT(stat(path, &b), 0);
	CHECK_EQ_INT(b.st_size, want.len);
	lacre_dbuf_free(&want);
}

static void test_config_mixups(void)
{
	CHECK_OK(make_log());
	CHECK_EQ_INT(reopen("lacre.test/another", another, NULL), LACRE_E_CONFIG);
	/* a key whose name is not the origin is the caller's mistake */
	CHECK_EQ_INT(reopen("lacre.test/another", key, NULL), LACRE_E_INVALID);
	CHECK_EQ_INT(reopen(ORIGIN, other, NULL), LACRE_E_CONFIG);
	/* nothing was changed by the refusals */
	CHECK_OK(reopen(ORIGIN, key, NULL));
}

static void test_damaged_state(void)
{
	CHECK_OK(make_log());
	CHECK_OK(put_changed("lacre-tlog-state v1", "lacre-tlog-state v2"));
	CHECK_EQ_INT(reopen(ORIGIN, key, NULL), LACRE_E_CORRUPT);
	CHECK_OK(put_changed("\nsize 300\n", "\nsize 3x0\n"));
	CHECK_EQ_INT(reopen(ORIGIN, key, NULL), LACRE_E_CORRUPT);
	CHECK_OK(put_changed("\nroot ", "\nroot !!"));
	CHECK_EQ_INT(reopen(ORIGIN, key, NULL), LACRE_E_CORRUPT);
	CHECK_OK(put_changed("\nkey ", "\nkey x"));
	CHECK_EQ_INT(reopen(ORIGIN, key, NULL), LACRE_E_CORRUPT);
	CHECK_OK(put_changed("\npublished 0", "\npublished 9990"));
	CHECK_EQ_INT(reopen(ORIGIN, key, NULL), LACRE_E_CORRUPT);
	CHECK_OK(put_changed("\njournal ", "\njournal 9"));
	CHECK_EQ_INT(reopen(ORIGIN, key, NULL), LACRE_E_CORRUPT);
	CHECK_OK(put_state("lacre-tlog-state v1\norigin " ORIGIN "\n"));
	CHECK_EQ_INT(reopen(ORIGIN, key, NULL), LACRE_E_CORRUPT);
	CHECK_OK(put_state(""));
	CHECK_EQ_INT(reopen(ORIGIN, key, NULL), LACRE_E_CORRUPT);
	/* the original state opens again: the refusals changed nothing */
	CHECK_OK(put_state(orig));
	CHECK_OK(reopen(ORIGIN, key, NULL));
}

int main(void)
{
	RUN(test_reopen);
	RUN(test_vkey_kept);
	RUN(test_config_mixups);
	RUN(test_damaged_state);
	lacre_store_close(st);
	note_signer_free(key);
	note_signer_free(other);
	note_signer_free(another);
	return t_done();
}
