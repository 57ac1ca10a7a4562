/*
 * store_int.h - what a storage backend implements (private to lib/store).
 *
 * struct lacre_store is a vtable plus the backend's own state.  store.c
 * validates names and arguments before calling a backend, so every backend
 * may assume: name passes lacre_store_name_check(), prefix passes
 * store_prefix_check(), data is non-NULL when len > 0, out is non-NULL.
 * Backends allocate their handle with store_new() and free their own state
 * in ops->close (store.c frees the common part).
 */
#ifndef LACRE_STORE_INT_H
#define LACRE_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/buf.h"
#include "lacre/store.h"

typedef int (*store_list_fn)(void *arg, const char *name, uint64_t size);

struct store_ops {
	const char *kind; /* "dir", "s3", "faulty" */
	int (*put)(struct lacre_store *s, const char *name, const void *data,
		   size_t len, int replace);
	int (*put_file)(struct lacre_store *s, const char *name, const char *path);
	int (*get)(struct lacre_store *s, const char *name, uint64_t off,
		   size_t len, struct lacre_dbuf *out);
	int (*stat)(struct lacre_store *s, const char *name, uint64_t *size);
	int (*list)(struct lacre_store *s, const char *prefix, store_list_fn fn,
		    void *arg);
	int (*del)(struct lacre_store *s, const char *name);
	void (*close)(struct lacre_store *s);
};

struct lacre_store {
	const struct store_ops *ops;
	void *impl;
	char *desc;
};

/* Allocate a handle for ops/impl with description desc (copied). */
int store_new(const struct store_ops *ops, void *impl, const char *desc,
	      struct lacre_store **out);
/* LACRE_OK if prefix is "" or a valid leading part of a name. */
int store_prefix_check(const char *prefix);

/* Backend constructors, called by lacre_store_open with the part after the
 * scheme ("dir:" or "s3://" removed). */
int store_dir_open(const char *path, struct lacre_store **out);
int store_s3_open_spec(const char *bucket_prefix, const struct lacre_s3_config *base,
		       struct lacre_store **out);
int store_faulty_open_spec(const char *inner_spec, struct lacre_store **out);

/* Sorted name collector used by backends whose listing is not ordered. */
struct store_names {
	char **name;
	uint64_t *size;
	size_t n, alloc;
};
int store_names_add(struct store_names *v, const char *name, uint64_t size);
/* Sort by byte order and call fn on each; stops at fn's non-zero value. */
int store_names_emit(struct store_names *v, store_list_fn fn, void *arg);
void store_names_free(struct store_names *v);

#endif
