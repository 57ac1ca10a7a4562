/*
 * store.h - the storage backend interface (DESIGN.md §6).
 *
 * Backends are untrusted: they store and serve opaque objects.  Names are
 * opaque strings of [a-z0-9/._-] chosen by lacre (no LIID, case, unit or
 * time).  The interface is deliberately small:
 *   put_if_absent  create an object; LACRE_E_EXISTS if the name is taken
 *   put_replace    create or replace (only for tlog-tiles partial tiles,
 *                  checkpoints and other objects the ledger protects)
 *   get            read the whole object or a byte range
 *   list           names under a prefix, sorted
 *   del            delete (partial tiles and shredded data only)
 * A missing object is LACRE_E_NOT_FOUND; a backend that cannot be reached is
 * LACRE_E_UNAVAILABLE (the caller keeps its data in the spool and retries).
 */
#ifndef LACRE_STORE_H
#define LACRE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"

struct lacre_store;

/* Open a backend from a URL-like spec:
 *   dir:/path/to/folder
 *   s3://bucket/prefix   (endpoint, region, keys from the environment:
 *                         S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY,
 *                         or the AWS_* equivalents) */
int lacre_store_open(const char *spec, struct lacre_store **out);
void lacre_store_close(struct lacre_store *s);
/* Human-readable description, e.g. "dir:/srv/lacre/objects". */
const char *lacre_store_describe(const struct lacre_store *s);

int lacre_store_put_if_absent(struct lacre_store *s, const char *name,
			      const void *data, size_t len);
int lacre_store_put_file_if_absent(struct lacre_store *s, const char *name,
				   const char *path);
int lacre_store_put_replace(struct lacre_store *s, const char *name,
			    const void *data, size_t len);
/* Read [off, off+len) of the object; len == SIZE_MAX means to the end.
 * out receives the bytes (appended; capped by out->max). */
int lacre_store_get(struct lacre_store *s, const char *name, uint64_t off,
		    size_t len, struct lacre_dbuf *out);
/* Size of an object without reading it. */
int lacre_store_stat(struct lacre_store *s, const char *name, uint64_t *size);
/* Call fn for each name under prefix, in byte order.  fn returning non-zero
 * stops the walk and that value is returned. */
int lacre_store_list(struct lacre_store *s, const char *prefix,
		     int (*fn)(void *arg, const char *name, uint64_t size),
		     void *arg);
int lacre_store_del(struct lacre_store *s, const char *name);

#endif
