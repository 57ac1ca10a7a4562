/*
 * fsync.h - making a rename durable: fsync(2) of a folder, one copy for
 * the spool, the uploader's outbox and the segment writer.
 */
#ifndef LACRE_FSYNC_H
#define LACRE_FSYNC_H

/* fsync the folder at path, so that the renames and unlinks in it survive
 * a power loss.  A file system that cannot sync folders (EINVAL) counts as
 * done.  LACRE_E_IO otherwise. */
int lacre_fsync_dir(const char *path);

#endif
