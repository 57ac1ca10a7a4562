/*
 * unix_listen.c - a listening Unix stream socket for a key-holding service
 * (include/lacre/unix_listen.h): shared by the keeper (lib/keeper/server.c)
 * and the log signer (cmd/lacre-signer), which both refuse a socket folder
 * another user could use to swap their socket.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/unix_listen.h"

/* The folder of path must exist, not be writable by others, and be owned
 * by root or by this process's user. */
static int check_folder(const char *path, const char *who, char *msg, size_t msglen)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(msg, msglen, "the socket folder %s does not exist", dir);
		return LACRE_E_CONFIG;
	}
	if ((st.st_mode & S_IWOTH) || (st.st_uid != 0 && st.st_uid != geteuid())) {
		snprintf(msg, msglen, "the socket folder %s is writable by others or owned by "
			 "another user (chmod o-w it, or give --socket in a folder of the %s's)",
			 dir, who);
		return LACRE_E_CONFIG;
	}
	return LACRE_OK;
}

int lacre_unix_listen(const char *path, const char *who, int backlog, int *out, char *msg,
		      size_t msglen)
{
	struct sockaddr_un a;
	struct stat st;
	mode_t old;
	int fd, r;

	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(msg, msglen, "the socket path %s is longer than %zu bytes; give a shorter "
			 "--socket", path, sizeof(a.sun_path) - 1);
		return LACRE_E_CONFIG;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	if ((r = check_folder(path, who, msg, msglen)) != LACRE_OK)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(msg, msglen, "cannot make a socket: %s", strerror(errno));
		return LACRE_E_IO;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(msg, msglen, "%s exists and is not a socket; remove it", path);
			close(fd);
			return LACRE_E_EXISTS;
		}
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			snprintf(msg, msglen, "a %s already listens on %s", who, path);
			close(fd);
			return LACRE_E_EXISTS;
		}
		close(fd);
		unlink(path);               /* a stale socket of a service that died */
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return LACRE_E_IO;
	}
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r != 0 || chmod(path, 0660) != 0 || listen(fd, backlog) != 0) {
		snprintf(msg, msglen, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return LACRE_E_IO;
	}
	*out = fd;
	return LACRE_OK;
}
