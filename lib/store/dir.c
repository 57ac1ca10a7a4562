/*
 * dir.c - the dir: backend: one file per object under a local folder, the
 * embedded default of DESIGN.md §6.
 *
 * A name "a/b/c" is the file ROOT/a/b/c (folders created 0750 on demand: LACRE_MODE_GROUP_DIR).
 * Writes go to a temporary file "TMP.<pid>.<n>.<rand>" in the final folder
 * (uppercase: never a valid object name, so lists skip it), which is
 * fsynced and then linked to its final name: link() never replaces, so
 * put-if-absent is atomic even between processes (renameat2 with
 * RENAME_NOREPLACE where the file system has no hard links); put-replace
 * renames over.  The folder is fsynced after the link/rename, and every
 * folder created on the way is fsynced in its parent: once a put returns,
 * the object survives a power cut.  A crash can leave a TMP.* file behind;
 * it is never listed or read (docs/storage.md).
 *
 * All paths are resolved relative to a descriptor of the root and never
 * through a symbolic link or out of the root: openat2() with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS for reads, one component at a time
 * with O_NOFOLLOW when creating.  The handle holds no
 * mutable state after open, so threads may share it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <openssl/rand.h>

#include "lacre/err.h"
#include "lacre/store.h"
#include "lacre/modes.h"
#include "store/store_int.h"

struct dir_store {
	int rootfd;
	mode_t shared;     /* the root's 01770 bits when it is shared (sticky,
			    * group-writable: deploy/tmpfiles.d), else 0 */
};

static unsigned long tmp_counter;

/* Map an errno from open/stat of an object to a lacre error. */
static int dir_err_read(int e)
{
	if (e == ENOENT || e == ENOTDIR || e == EISDIR || e == ELOOP || e == EXDEV)
		return LACRE_E_NOT_FOUND;
	if (e == ENOMEM)
		return LACRE_E_NOMEM;
	return LACRE_E_IO;
}

/*
 * Open name below rootfd without following any symbolic link or leaving the
 * root (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).  Where openat2 is
 * missing or filtered (ENOSYS, EPERM), falls back to openat with O_NOFOLLOW,
 * which guards the last component only.  Returns a descriptor or -1/errno.
 */
static int dir_open_beneath(int rootfd, const char *name, int flags)
{
#ifdef SYS_openat2
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
	fd = syscall(SYS_openat2, rootfd, name, &how, sizeof(how));
	if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
		return (int)fd;
#endif
	return openat(rootfd, name, flags | O_CLOEXEC | O_NOFOLLOW);
}

/* fsync a folder given its descriptor; EINVAL (not supported) is ignored. */
static int dir_fsync_fd(int fd)
{
	if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
		return LACRE_E_IO;
	return LACRE_OK;
}

/*
 * Open (creating as needed, 0750) the folder holding name, component by
 * component below rootfd without following links; fsync each folder in
 * which a new folder was made.  *base points at the last component of name.
 * On success *out is a new descriptor the caller closes.
 */
static int dir_parent(struct dir_store *d, const char *name, int create,
		      int *out, const char **base)
{
	char comp[LACRE_STORE_NAME_MAX + 1];
	const char *p = name, *slash;
	int cur = -1, next, r = LACRE_OK;

	cur = dup(d->rootfd);
	if (cur < 0)
		return LACRE_E_IO;
	while ((slash = strchr(p, '/')) != NULL) {
		size_t n = (size_t)(slash - p);

		memcpy(comp, p, n);
		comp[n] = '\0';
		int made = 0;
		if (create) {
			if (mkdirat(cur, comp, LACRE_MODE_GROUP_DIR) == 0) {
				made = 1;
				r = dir_fsync_fd(cur);
				if (r != LACRE_OK)
					goto out;
			} else if (errno != EEXIST) {
				r = errno == ENOTDIR ? LACRE_E_EXISTS : LACRE_E_IO;
				goto out;
			}
		}
		next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);
		if (next < 0) {
			/* a file (or link) sits where a folder must be */
			if (errno == ENOTDIR || errno == ELOOP)
				r = create ? LACRE_E_EXISTS : LACRE_E_NOT_FOUND;
			else
				r = errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
			goto out;
		}
		/* a folder made right under a shared root (seg/, tlog/) is
		 * shared as the root is: the keeper and the receiver, two uids
		 * of the site's group, each make their own folders in it (the
		 * sticky bit stops either from removing the other's) */
		if (made && p == name && d->shared && fchmod(next, d->shared) != 0) {
			close(next);
			r = LACRE_E_IO;
			goto out;
		}
		close(cur);
		cur = next;
		p = slash + 1;
	}
	*out = cur;
	*base = p;
	cur = -1;
out:
	if (cur >= 0)
		close(cur);
	return r;
}

/* Write all of p[0..n) to fd. */
static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return LACRE_E_IO;
		}
		c += w;
		n -= (size_t)w;
	}
	return LACRE_OK;
}

/* Copy the rest of srcfd into fd. */
static int copy_fd(int fd, int srcfd)
{
	enum { CHUNK = 256 * 1024 };
	char *buf = malloc(CHUNK);
	int r = LACRE_OK;

	if (!buf)
		return LACRE_E_NOMEM;
	for (;;) {
		ssize_t n = read(srcfd, buf, CHUNK);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = LACRE_E_IO;
			break;
		}
		if (n == 0)
			break;
		r = write_all(fd, buf, (size_t)n);
		if (r != LACRE_OK)
			break;
	}
	free(buf);
	return r;
}

/*
 * Put the local file srcpath (open as srcfd) under pfd/base as a hard link
 * when both are on one file system: the uploader's outbox files are never
 * written again once there, so the object needs no copy (issue 15: the
 * copy, read + write + fsync of every segment byte, was a third of the
 * uploader's cost when the backend folder shares the spool's disk).  The
 * file is fsynced first, the folder after.  LACRE_E_UNSUPPORTED when a link
 * cannot be made here (another file system, no hard links, a path that no
 * longer names the open file): the caller copies instead.
 */
static int dir_link_file(int pfd, const char *base, int srcfd, const char *srcpath)
{
	struct stat a, b;

	if (fstat(srcfd, &a) != 0 || fstatat(AT_FDCWD, srcpath, &b, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(b.st_mode) || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return LACRE_E_UNSUPPORTED;
	if (fsync(srcfd) != 0)
		return LACRE_E_IO;
	if (linkat(AT_FDCWD, srcpath, pfd, base, 0) != 0) {
		if (errno == EEXIST)
			return LACRE_E_EXISTS;
		if (errno == EXDEV || errno == EPERM || errno == EOPNOTSUPP || errno == EMLINK ||
		    errno == ENOENT)
			return LACRE_E_UNSUPPORTED;
		return LACRE_E_IO;
	}
	return dir_fsync_fd(pfd);
}

/*
 * Store an object: write the bytes (data/len, or the file srcfd when >= 0)
 * to a temporary file in the object's folder, fsync it, then link it to its
 * name (replace == 0: fails with LACRE_E_EXISTS if taken) or rename it over
 * (replace != 0), and fsync the folder.
 */
static int dir_store_obj(struct dir_store *d, const char *name, const void *data,
			 size_t len, int srcfd, const char *srcpath, int replace)
{
	char tmp[96];
	const char *base;
	unsigned int rnd = 0;
	int pfd = -1, fd = -1, r, have_tmp = 0;
	struct stat st;

	r = dir_parent(d, name, 1, &pfd, &base);
	if (r != LACRE_OK)
		return r;
	if (!replace && fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		r = LACRE_E_EXISTS;
		goto out;
	}
	if (srcpath && !replace) {
		/* same file system: link the (immutable, now durable) local
		 * file instead of copying its bytes */
		r = dir_link_file(pfd, base, srcfd, srcpath);
		if (r != LACRE_E_UNSUPPORTED)
			goto out;
		r = LACRE_OK;
	}
	(void)RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
	snprintf(tmp, sizeof(tmp), "TMP.%ld.%lu.%08x", (long)getpid(),
		 __atomic_add_fetch(&tmp_counter, 1, __ATOMIC_RELAXED), rnd);
	fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		    LACRE_MODE_GROUP_FILE);
	if (fd < 0) {
		r = LACRE_E_IO;
		goto out;
	}
	have_tmp = 1;
	r = srcfd >= 0 ? copy_fd(fd, srcfd) : write_all(fd, data, len);
	if (r != LACRE_OK)
		goto out;
	if (fsync(fd) != 0) {
		r = LACRE_E_IO;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = LACRE_E_IO;
		goto out;
	}
	fd = -1;
	if (replace) {
		if (renameat(pfd, tmp, pfd, base) != 0) {
			r = (errno == EISDIR || errno == ENOTEMPTY ||
			     errno == EEXIST) ? LACRE_E_EXISTS : LACRE_E_IO;
			goto out;
		}
		have_tmp = 0;
	} else if (linkat(pfd, tmp, pfd, base, 0) != 0) {
		if (errno == EEXIST) {
			r = LACRE_E_EXISTS;
			goto out;
		}
		if (errno != EPERM && errno != EOPNOTSUPP && errno != EMLINK) {
			r = LACRE_E_IO;
			goto out;
		}
		/* no hard links here: rename without replacing instead */
		if (renameat2(pfd, tmp, pfd, base, RENAME_NOREPLACE) != 0) {
			r = errno == EEXIST ? LACRE_E_EXISTS : LACRE_E_IO;
			goto out;
		}
		have_tmp = 0;
	}
	if (have_tmp) {
		(void)unlinkat(pfd, tmp, 0);
		have_tmp = 0;
	}
	r = dir_fsync_fd(pfd);
out:
	if (fd >= 0)
		close(fd);
	if (have_tmp)
		(void)unlinkat(pfd, tmp, 0);
	if (pfd >= 0)
		close(pfd);
	return r;
}

/* ops->put: see store.h put_if_absent / put_replace. */
static int dir_put(struct lacre_store *s, const char *name, const void *data,
		   size_t len, int replace)
{
	return dir_store_obj(s->impl, name, data, len, -1, NULL, replace);
}

/* ops->put_file: the local file at path under name, if absent: a hard link
 * on the same file system, else a copy. */
static int dir_put_file(struct lacre_store *s, const char *name, const char *path)
{
	int fd, r;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return LACRE_E_INVALID;
	}
	r = dir_store_obj(s->impl, name, NULL, 0, fd, path, 0);
	close(fd);
	return r;
}

/* ops->get: read [off, off+len) of name into out. */
static int dir_get(struct lacre_store *s, const char *name, uint64_t off,
		   size_t len, struct lacre_dbuf *out)
{
	struct dir_store *d = s->impl;
	struct stat st;
	uint64_t size, want;
	size_t got = 0, start = out->len;
	int fd, r = LACRE_OK;

	fd = dir_open_beneath(d->rootfd, name, O_RDONLY);
	if (fd < 0)
		return dir_err_read(errno);
	if (fstat(fd, &st) != 0) {
		r = LACRE_E_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = LACRE_E_NOT_FOUND;
		goto out;
	}
	size = (uint64_t)st.st_size;
	if (off > size) {
		r = LACRE_E_RANGE;
		goto out;
	}
	want = size - off;
	if (len != SIZE_MAX && want > len)
		want = len;
	if (want > out->max - out->len) {
		r = LACRE_E_TOO_LARGE;
		goto out;
	}
	r = lacre_dbuf_reserve(out, (size_t)want);
	if (r != LACRE_OK)
		goto out;
	while (got < want) {
		ssize_t n = pread(fd, out->p + start + got, (size_t)want - got,
				  (off_t)(off + got));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = LACRE_E_IO;
			goto out;
		}
		if (n == 0)
			break; /* the file shrank meanwhile: return what is there */
		got += (size_t)n;
	}
	out->len = start + got;
out:
	close(fd);
	return r;
}

/* ops->stat: size of name. */
static int dir_stat(struct lacre_store *s, const char *name, uint64_t *size)
{
	struct dir_store *d = s->impl;
	struct stat st;
	int fd = dir_open_beneath(d->rootfd, name, O_PATH);

	if (fd < 0)
		return dir_err_read(errno);
	if (fstat(fd, &st) != 0) {
		close(fd);
		return LACRE_E_IO;
	}
	close(fd);
	if (!S_ISREG(st.st_mode))
		return LACRE_E_NOT_FOUND;
	*size = (uint64_t)st.st_size;
	return LACRE_OK;
}

/*
 * Collect the objects of folder fd (whose names start with path, which is
 * "" or ends in '/'), keeping at this level only entries starting with
 * match, then everything below them.  Takes ownership of fd.
 */
static int dir_walk(int fd, char *path, size_t plen, const char *match,
		    struct store_names *v)
{
	DIR *dh = fdopendir(fd);
	struct dirent *e;
	size_t mlen = strlen(match);
	int r = LACRE_OK;

	if (!dh) {
		close(fd);
		return LACRE_E_IO;
	}
	while ((errno = 0, e = readdir(dh)) != NULL) {
		size_t n = strlen(e->d_name);
		struct stat st;

		if (strncmp(e->d_name, match, mlen) != 0)
			continue;
		if (plen + n + 1 > LACRE_STORE_NAME_MAX)
			continue;
		memcpy(path + plen, e->d_name, n + 1);
		if (lacre_store_name_check(path) != LACRE_OK)
			continue; /* ".", "..", TMP.*, foreign files */
		if (fstatat(dirfd(dh), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* removed meanwhile */
		if (S_ISREG(st.st_mode)) {
			r = store_names_add(v, path, (uint64_t)st.st_size);
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(dh), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			path[plen + n] = '/';
			path[plen + n + 1] = '\0';
			r = dir_walk(sub, path, plen + n + 1, "", v);
		}
		if (r != LACRE_OK)
			break;
	}
	if (r == LACRE_OK && errno != 0)
		r = LACRE_E_IO;
	closedir(dh);
	path[plen] = '\0';
	return r;
}

/* ops->list: every object whose name starts with prefix, sorted. */
static int dir_list(struct lacre_store *s, const char *prefix, store_list_fn fn,
		    void *arg)
{
	struct dir_store *d = s->impl;
	struct store_names v = { 0 };
	char path[LACRE_STORE_NAME_MAX + 2];
	const char *slash = strrchr(prefix, '/');
	size_t plen = slash ? (size_t)(slash - prefix) + 1 : 0;
	int fd, r;

	memcpy(path, prefix, plen);
	path[plen] = '\0';
	if (plen) {
		path[plen - 1] = '\0';
		fd = dir_open_beneath(d->rootfd, path, O_RDONLY | O_DIRECTORY);
		path[plen - 1] = '/';
	} else {
		fd = openat(d->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return dir_err_read(errno) == LACRE_E_NOT_FOUND ? LACRE_OK : LACRE_E_IO;
	r = dir_walk(fd, path, plen, prefix + plen, &v);
	if (r == LACRE_OK)
		r = store_names_emit(&v, fn, arg);
	store_names_free(&v);
	return r;
}

/* ops->del: remove name and fsync its folder. */
static int dir_del(struct lacre_store *s, const char *name)
{
	struct dir_store *d = s->impl;
	const char *base;
	struct stat st;
	int pfd, r;

	r = dir_parent(d, name, 0, &pfd, &base);
	if (r != LACRE_OK)
		return r;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(st.st_mode)) {
		r = LACRE_E_NOT_FOUND;
	} else if (unlinkat(pfd, base, 0) != 0) {
		r = errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	} else {
		r = dir_fsync_fd(pfd);
	}
	close(pfd);
	return r;
}

/* ops->close. */
static void dir_close(struct lacre_store *s)
{
	struct dir_store *d = s->impl;

	if (d) {
		close(d->rootfd);
		free(d);
	}
}

static const struct store_ops dir_ops = {
	.kind = "dir",
	.put = dir_put,
	.put_file = dir_put_file,
	.get = dir_get,
	.stat = dir_stat,
	.list = dir_list,
	.del = dir_del,
	.close = dir_close,
};

/* Create path and its missing parents (0750), like mkdir -p. */
static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return LACRE_E_CONFIG;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, LACRE_MODE_GROUP_DIR) != 0 && errno != EEXIST)
			return LACRE_E_IO;
		buf[i] = path[i];
	}
	return LACRE_OK;
}

/* See store_int.h: open (creating) the folder path as a dir: store. */
int store_dir_open(const char *path, struct lacre_store **out)
{
	struct dir_store *d = NULL;
	struct lacre_store *s = NULL;
	char desc[4200];
	int r;

	if (!path || !*path)
		return LACRE_E_CONFIG;
	r = mkdir_p(path);
	if (r != LACRE_OK)
		return r;
	d = calloc(1, sizeof(*d));
	if (!d)
		return LACRE_E_NOMEM;
	d->rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->rootfd < 0) {
		r = errno == ENOTDIR ? LACRE_E_CONFIG : LACRE_E_IO;
		goto out;
	}
	{
		struct stat st;
		if (fstat(d->rootfd, &st) == 0 && (st.st_mode & S_ISVTX) && (st.st_mode & S_IWGRP))
			d->shared = st.st_mode & 01770;
	}
	snprintf(desc, sizeof(desc), "dir:%s", path);
	r = store_new(&dir_ops, d, desc, &s);
	if (r != LACRE_OK)
		goto out;
	*out = s;
	d = NULL;
out:
	if (d) {
		if (d->rootfd >= 0)
			close(d->rootfd);
		free(d);
	}
	return r;
}
