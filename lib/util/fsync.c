/*
 * fsync.c - fsync(2) of a folder (include/lacre/fsync.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/fsync.h"

int lacre_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = LACRE_OK;

	if (fd < 0)
		return LACRE_E_IO;
	if (fsync(fd) != 0 && errno != EINVAL)
		r = LACRE_E_IO;
	close(fd);
	return r;
}
