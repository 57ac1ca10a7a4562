/*
 * test_seal_sink_open.c - the sealing sink refuses to start on a site it
 * cannot seal for (lib/ingest/seal_sink.c, seal_sink_open), each time with
 * its error and a one-line message naming what to fix, and leaves nothing
 * running: an oversight recipient that is not one (LACRE_E_MALFORMED), a
 * warrant log with a line nobody signed (LACRE_E_CORRUPT), a spool folder
 * that cannot be made (LACRE_E_IO), a backend spec that does not open
 * (LACRE_E_CONFIG).  A site fixed afterwards opens.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sink_kit.h"

/* seal_sink_open on kit_site; closes the sink when it opened. */
static int try_open(void)
{
	struct lacre_sink k;
	int r;

	kit_msg[0] = 0;
	r = seal_sink_open(&kit_site, &k, kit_msg, sizeof(kit_msg));
	if (r == LACRE_OK)
		k.close(k.ctx);
	return r;
}

static void test_bad_oversight_recipient(void)
{
	char keep[sizeof(kit_site.cfg.oversight_recipient)];

	CHECK_OK(kit_make_site(NULL, 0, 0, 0));
	memcpy(keep, kit_site.cfg.oversight_recipient, sizeof(keep));
	snprintf(kit_site.cfg.oversight_recipient, sizeof(kit_site.cfg.oversight_recipient),
		 "age1notarecipient");
	CHECK_EQ_INT(try_open(), LACRE_E_MALFORMED);
	CHECK_STR(kit_msg, "oversight.recipient is not an age recipient");
	memcpy(kit_site.cfg.oversight_recipient, keep, sizeof(keep));
	CHECK_OK(try_open());
}

static void test_bad_warrant_log(void)
{
	struct warrant w;
	char wid[WARRANT_ID_MAX], path[SITE_PATH_MAX + 32];
	FILE *f;

	CHECK_OK(kit_make_site(NULL, 0, 0, 0));
	kit_spec(&w, "LI-O", "2026-01-10", "2026-01-10", "2026-04-10");
	CHECK_OK(warrant_add(&kit_site, kit_ks, &w, wid, kit_msg, sizeof(kit_msg)));
	snprintf(path, sizeof(path), "%s/%s", kit_site.dir, SITE_WARRANTS);
	CHECK((f = fopen(path, "a")) != NULL);
	fputs("an appended line nobody signed\n", f);
	fclose(f);
	CHECK_EQ_INT(try_open(), LACRE_E_CORRUPT);
	CHECK(strncmp(kit_msg, "cannot load the warrant log: ", 29) == 0);
}

static void test_spool_cannot_be_made(void)
{
	char keep[sizeof(kit_site.cfg.spool_dir)], path[256];
	FILE *f;

	CHECK_OK(kit_make_site(NULL, 0, 0, 0));
	memcpy(keep, kit_site.cfg.spool_dir, sizeof(keep));
	/* a regular file where the spool's parent folder should be */
	CHECK(strlen(kit_site.dir) < 200);
	snprintf(path, sizeof(path), "%.200s/plainfile", kit_site.dir);
	CHECK((f = fopen(path, "w")) != NULL);
	fclose(f);
	snprintf(kit_site.cfg.spool_dir, sizeof(kit_site.cfg.spool_dir), "%s/spool", path);
	CHECK_EQ_INT(try_open(), LACRE_E_IO);
	CHECK(strncmp(kit_msg, "cannot create the spool ", 24) == 0);
	CHECK(strstr(kit_msg, "Not a directory") != NULL);
	memcpy(kit_site.cfg.spool_dir, keep, sizeof(keep));
	CHECK_OK(try_open());
}

static void test_backend_does_not_open(void)
{
	CHECK_OK(kit_make_site("nosuchscheme:/x", 0, 0, 0));
	CHECK_EQ_INT(try_open(), LACRE_E_CONFIG);
	CHECK_STR(kit_msg, "cannot open the backend nosuchscheme:/x: invalid configuration");
}

int main(void)
{
	RUN(test_bad_oversight_recipient);
	RUN(test_bad_warrant_log);
	RUN(test_spool_cannot_be_made);
	RUN(test_backend_does_not_open);
	keystore_close(kit_ks);
	return t_done();
}
