/*
 * age_tool.c - a tiny command-line front end to lib/seal/age.c, built by
 * tests/e2e/age_interop.sh to exchange files with Debian's age.  Not
 * installed; no secrets handling beyond what a test needs.
 *
 *   age_tool keygen IDFILE            write "AGE-SECRET-KEY-1..." to IDFILE,
 *                                     print the recipient
 *   age_tool enc RECIPIENT...         stdin -> age file on stdout
 *   age_tool enc-scrypt LOG2N         passphrase from $AGE_TOOL_PASS
 *   age_tool dec IDFILE               age file on stdin -> plaintext
 *   age_tool dec-scrypt               passphrase from $AGE_TOOL_PASS
 *   age_tool fp                       keyless fingerprint (hex)
 * Exit 0 on success, 1 with "age_tool: <error name>" on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"

/* Read all of stdin into b. */
static int slurp(struct lacre_dbuf *b)
{
	char tmp[65536];
	size_t n;
	int r;
	while ((n = fread(tmp, 1, sizeof(tmp), stdin)) > 0)
		if ((r = lacre_dbuf_add(b, tmp, n)) != LACRE_OK)
			return r;
	return ferror(stdin) ? LACRE_E_IO : LACRE_OK;
}

/* First non-comment line of an identity file (age-keygen format). */
static int load_identity(const char *path, struct age_x25519_identity *id)
{
	char line[512];
	FILE *f = fopen(path, "r");
	int r = LACRE_E_NOT_FOUND;
	if (!f)
		return LACRE_E_IO;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (line[0] == '#' || line[0] == 0)
			continue;
		r = age_identity_parse(line, id);
		break;
	}
	fclose(f);
	return r;
}

/* Write b to stdout. */
static int spill(const struct lacre_dbuf *b)
{
	if (b->len && fwrite(b->p, 1, b->len, stdout) != b->len)
		return LACRE_E_IO;
	return fflush(stdout) == 0 ? LACRE_OK : LACRE_E_IO;
}

int main(int argc, char **argv)
{
	struct lacre_dbuf in, out;
	struct age_x25519_identity id;
	struct age_writer *w = NULL;
	uint8_t fp[32];
	int r = LACRE_E_INVALID;

	lacre_dbuf_init(&in, (size_t)1 << 31);
	lacre_dbuf_init(&out, (size_t)1 << 31);
	if (argc < 2)
		goto out;
	if (!strcmp(argv[1], "keygen") && argc == 3) {
		char s[AGE_IDENTITY_MAX], rc[AGE_RECIPIENT_MAX];
		FILE *f;
		if ((r = age_x25519_generate(&id)) || (r = age_identity_encode(&id, s)) ||
		    (r = age_recipient_encode(id.public_key, rc)))
			goto out;
		if (!(f = fopen(argv[2], "w"))) {
			r = LACRE_E_IO;
			goto out;
		}
		fprintf(f, "# created by age_tool\n# public key: %s\n%s\n", rc, s);
		fclose(f);
		printf("%s\n", rc);
	} else if (!strcmp(argv[1], "enc") && argc >= 3) {
		uint8_t (*rcp)[32] = calloc((size_t)argc - 2, 32);
		if (!rcp) {
			r = LACRE_E_NOMEM;
			goto out;
		}
		for (int i = 2; i < argc; i++)
			if ((r = age_recipient_parse(argv[i], rcp[i - 2])) != LACRE_OK)
				break;
		if (r == LACRE_OK && (r = slurp(&in)) == LACRE_OK &&
		    (r = age_writer_new((const uint8_t (*)[32])rcp, (size_t)argc - 2, &out, &w)) == LACRE_OK &&
		    (r = age_writer_write(w, in.p, in.len)) == LACRE_OK &&
		    (r = age_writer_finish(w, NULL)) == LACRE_OK)
			r = spill(&out);
		free(rcp);
	} else if (!strcmp(argv[1], "enc-scrypt") && argc == 3 && getenv("AGE_TOOL_PASS")) {
		if ((r = slurp(&in)) == LACRE_OK &&
		    (r = age_writer_new_scrypt(getenv("AGE_TOOL_PASS"), atoi(argv[2]), &out, &w)) == LACRE_OK &&
		    (r = age_writer_write(w, in.p, in.len)) == LACRE_OK &&
		    (r = age_writer_finish(w, NULL)) == LACRE_OK)
			r = spill(&out);
	} else if (!strcmp(argv[1], "dec") && argc == 3) {
		if ((r = load_identity(argv[2], &id)) == LACRE_OK &&
		    (r = slurp(&in)) == LACRE_OK &&
		    (r = age_decrypt(in.p, in.len, &id, &out)) == LACRE_OK)
			r = spill(&out);
	} else if (!strcmp(argv[1], "dec-scrypt") && argc == 2 && getenv("AGE_TOOL_PASS")) {
		if ((r = slurp(&in)) == LACRE_OK &&
		    (r = age_decrypt_scrypt(in.p, in.len, getenv("AGE_TOOL_PASS"), 0, &out)) == LACRE_OK)
			r = spill(&out);
	} else if (!strcmp(argv[1], "fp") && argc == 2) {
		if ((r = slurp(&in)) == LACRE_OK && (r = age_fingerprint(in.p, in.len, fp)) == LACRE_OK) {
			for (int i = 0; i < 32; i++)
				printf("%02x", fp[i]);
			printf("\n");
		}
	}
out:
	age_writer_free(w);
	age_identity_wipe(&id);
	lacre_dbuf_free(&in);
	lacre_dbuf_free(&out);
	if (r != LACRE_OK) {
		fprintf(stderr, "age_tool: %s\n", lacre_err_name(r));
		return 1;
	}
	return 0;
}
