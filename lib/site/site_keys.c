/*
 * site_keys.c - the Ed25519 signing keys of a site's transparency logs
 * (the ingest log, the access log): DIR/ledger/<name>.key in the signed-note
 * private-key text form, mode 0600, made on first use.  They sign
 * checkpoints and open nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/note.h"
#include "lacre/site.h"

int site_log_key(const struct site *s, const char *relpath, const char *origin,
		 struct note_signer **out)
{
	char dir[SITE_PATH_MAX], path[SITE_PATH_MAX];
	struct note_signer *k = NULL;
	struct lacre_dbuf txt;
	int r, fd;

	if ((r = site_path(s, "ledger", dir, sizeof(dir))) != LACRE_OK ||
	    (r = site_path(s, relpath, path, sizeof(path))) != LACRE_OK)
		return r;
	if (access(path, F_OK) == 0)
		return note_signer_load(path, out);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return LACRE_E_IO;
	if ((r = note_signer_generate(origin, NOTE_TYPE_ED25519, &k)) != LACRE_OK)
		return r;
	lacre_dbuf_init(&txt, 4096);
	lacre_dbuf_set_secret(&txt);
	if ((r = note_signer_format(k, &txt)) != LACRE_OK ||
	    (r = lacre_dbuf_add_u8(&txt, '\n')) != LACRE_OK)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		/* another process made it meanwhile: use theirs */
		note_signer_free(k);
		k = NULL;
		r = errno == EEXIST ? note_signer_load(path, out) : LACRE_E_IO;
		goto out;
	}
	if (write(fd, txt.p, txt.len) != (ssize_t)txt.len || fsync(fd) != 0) {
		close(fd);
		unlink(path);
		r = LACRE_E_IO;
		goto out;
	}
	close(fd);
	site_fsync_parent(path);
	*out = k;
	k = NULL;
out:
	lacre_dbuf_free(&txt);
	note_signer_free(k);
	return r;
}
