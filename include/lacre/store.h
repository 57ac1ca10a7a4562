/*
 * store.h - the storage backend interface (DESIGN.md §6, docs/storage.md).
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
 * A name that breaks the rules below is LACRE_E_INVALID, before any I/O.
 *
 * Name rules (docs/FORMATS.md §5): 1..LACRE_STORE_NAME_MAX bytes of
 * [a-z0-9._/-]; no leading or trailing '/', no empty component ("a//b"),
 * no component "." or "..".  '/' separates folders on dir: backends.
 *
 * Every put returns only once the object is durable on the backend (dir:
 * file and folder fsynced; s3: the server answered 200).  Handles: a dir:
 * handle may be shared by threads; an s3: handle serialises its requests
 * with a mutex (open one per thread for parallel transfers); a faulty:
 * handle is as thread-safe as its inner store.
 */
#ifndef LACRE_STORE_H
#define LACRE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"

struct lacre_store;

/* Longest object name, in bytes (without the NUL). */
#define LACRE_STORE_NAME_MAX 512

/* Open a backend from a URL-like spec:
 *   dir:/path/to/folder  (the folder is created if missing, mode 0700)
 *   s3://bucket/prefix   (endpoint, region, keys from the environment:
 *                         S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY,
 *                         or the AWS_* equivalents; loopback endpoints only)
 *   faulty:SPEC          (a faulty wrapper over SPEC, for tests; see below)
 * Returns LACRE_E_CONFIG for a spec it cannot use. */
int lacre_store_open(const char *spec, struct lacre_store **out);
/* Close the handle and free it (secrets wiped).  NULL is a no-op. */
void lacre_store_close(struct lacre_store *s);
/* Human-readable description, e.g. "dir:/srv/lacre/objects" (no secrets). */
const char *lacre_store_describe(const struct lacre_store *s);

/* LACRE_OK if name follows the name rules above, else LACRE_E_INVALID. */
int lacre_store_name_check(const char *name);

int lacre_store_put_if_absent(struct lacre_store *s, const char *name,
			      const void *data, size_t len);
/* As put_if_absent with the bytes of the local file at path (read once,
 * streamed; the file must not change meanwhile). */
int lacre_store_put_file_if_absent(struct lacre_store *s, const char *name,
				   const char *path);
int lacre_store_put_replace(struct lacre_store *s, const char *name,
			    const void *data, size_t len);
/* Read [off, off+len) of the object; len == SIZE_MAX means to the end.
 * out receives the bytes (appended; capped by out->max: LACRE_E_TOO_LARGE).
 * A range that runs past the end is cut at the end (fewer bytes appended:
 * check out->len); off > size is LACRE_E_RANGE; off == size appends nothing.
 * On failure out->len is unchanged. */
int lacre_store_get(struct lacre_store *s, const char *name, uint64_t off,
		    size_t len, struct lacre_dbuf *out);
/* Size of an object without reading it. */
int lacre_store_stat(struct lacre_store *s, const char *name, uint64_t *size);
/* Call fn for each name under prefix, in byte order.  fn returning non-zero
 * stops the walk and that value is returned.  prefix is any leading part of
 * a name ("" for all; "tile/0/" or "seg-ab"); it follows the name character
 * set.  Entries whose names break the rules are skipped (they are not
 * lacre's: temporary files, a vendor's own objects). */
int lacre_store_list(struct lacre_store *s, const char *prefix,
		     int (*fn)(void *arg, const char *name, uint64_t size),
		     void *arg);
int lacre_store_del(struct lacre_store *s, const char *name);

/*
 * S3 (lib/store/s3.c).  Any field left NULL / 0 takes its value from the
 * environment (S3_* first, then AWS_*) or the default shown.
 */
struct lacre_s3_config {
	const char *endpoint;    /* "http://127.0.0.1:7480" (S3_ENDPOINT) */
	const char *region;      /* "us-east-1" (S3_REGION) */
	const char *access_key;  /* S3_ACCESS_KEY */
	const char *secret_key;  /* S3_SECRET_KEY (copied; the copy is wiped) */
	const char *bucket;      /* required: [a-z0-9.-], 3..63 bytes */
	const char *prefix;      /* prepended to every name, "" default */
	int allow_remote;        /* 0: refuse endpoints not on 127.0.0.0/8, ::1
	                          * or "localhost" (LACRE_E_CONFIG) */
	int no_create_bucket;    /* 0: create the bucket before the first put */
	int retries;             /* attempts after the first (default 4) */
	int retry_base_ms;       /* first backoff, doubled each time (100) */
	int timeout_ms;          /* per request (default 120000) */
	int connect_timeout_ms;  /* default 5000 */
	size_t multipart_threshold; /* objects larger use multipart (16 MiB) */
	size_t part_size;        /* multipart part size (8 MiB, >= 5 MiB) */
	int list_max_keys;       /* max-keys per ListObjectsV2 page (1000) */
};

/* Open an s3 store from cfg (no network I/O: an unreachable endpoint shows
 * at the first operation as LACRE_E_UNAVAILABLE). */
int lacre_store_open_s3(const struct lacre_s3_config *cfg,
			struct lacre_store **out);
/* lacre_store_open with the settings of an s3:// spec taken from s3 (its
 * bucket and prefix ignored: the spec names them) before the environment
 * and the defaults: a site's lacre.conf (site_store_open, site.h).  s3 may
 * be NULL; other schemes ignore it. */
int lacre_store_open_with(const char *spec, const struct lacre_s3_config *s3,
			  struct lacre_store **out);

/* Create the bucket of an s3 store if it does not exist (HEAD, then PUT).
 * LACRE_E_INVALID if s is not an s3 store. */
int lacre_store_s3_ensure_bucket(struct lacre_store *s);

/*
 * Faulty / lying wrapper (lib/store/faulty.c), for tests of the layers that
 * must detect a lying backend.  It forwards to the inner store and applies
 * the faults set on it.  Faults by name apply to reads (get, stat, list);
 * LACRE_STORE_FAULT_DOWN makes every operation LACRE_E_UNAVAILABLE.
 */
enum lacre_store_fault {
	LACRE_STORE_FAULT_FLIP = 1,   /* get: XOR 0x01 into byte arg */
	LACRE_STORE_FAULT_TRUNCATE,   /* get/stat/list: object is arg bytes */
	LACRE_STORE_FAULT_HIDE,       /* get/stat: NOT_FOUND; list omits it */
	LACRE_STORE_FAULT_STALE,      /* serve the version before the last
	                               * put_replace made through the wrapper
	                               * (NOT_FOUND if there was none) */
	LACRE_STORE_FAULT_LOSE_PUT,   /* puts say OK but store nothing */
	LACRE_STORE_FAULT_DOWN        /* every call: LACRE_E_UNAVAILABLE */
};

/* Wrap inner.  With own_inner set, closing the wrapper closes inner. */
int lacre_store_faulty_wrap(struct lacre_store *inner, int own_inner,
			    struct lacre_store **out);
/* Set a fault on name (NULL: every name; ignored by DOWN).  arg is the byte
 * offset for FLIP, the length for TRUNCATE, unused otherwise.  LACRE_E_INVALID
 * if s is not a faulty store. */
int lacre_store_faulty_set(struct lacre_store *s, enum lacre_store_fault f,
			   const char *name, uint64_t arg);
/* Remove faults of kind f (0: every kind) on name (NULL: every name). */
int lacre_store_faulty_clear(struct lacre_store *s, enum lacre_store_fault f,
			     const char *name);

#endif
