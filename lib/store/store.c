/*
 * store.c - the storage interface (include/lacre/store.h): opens a backend
 * from its spec, checks every name and argument once, then dispatches to
 * the backend's ops (dir.c, s3.c, faulty.c).  Also the name rules and a
 * small sorted-name collector shared by the backends.
 */
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/store.h"
#include "store/store_int.h"

/* Character allowed in a name: [a-z0-9._/-]. */
static int name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '/' || c == '-';
}

/*
 * Check s against the name rules.  With partial set s may be a leading part
 * of a name (a list prefix): empty, or ending in '/', or ending inside a
 * component that could still become valid ("." or ".." are refused only
 * once followed by '/').
 */
static int name_rules(const char *s, int partial)
{
	size_t n = 0, comp = 0;

	for (; s[n]; n++) {
		if (n >= LACRE_STORE_NAME_MAX || !name_char_ok(s[n]))
			return LACRE_E_INVALID;
		if (s[n] != '/')
			continue;
		/* s[comp..n) is a complete component */
		if (n == comp)
			return LACRE_E_INVALID; /* leading '/' or "//" */
		if ((n - comp == 1 && s[comp] == '.') ||
		    (n - comp == 2 && s[comp] == '.' && s[comp + 1] == '.'))
			return LACRE_E_INVALID;
		comp = n + 1;
	}
	if (partial)
		return LACRE_OK;
	if (n == 0 || n == comp)
		return LACRE_E_INVALID; /* empty or trailing '/' */
	if ((n - comp == 1 && s[comp] == '.') ||
	    (n - comp == 2 && s[comp] == '.' && s[comp + 1] == '.'))
		return LACRE_E_INVALID;
	return LACRE_OK;
}

/* See store.h. */
int lacre_store_name_check(const char *name)
{
	if (!name)
		return LACRE_E_INVALID;
	return name_rules(name, 0);
}

/* See store_int.h. */
int store_prefix_check(const char *prefix)
{
	if (!prefix)
		return LACRE_E_INVALID;
	return name_rules(prefix, 1);
}

/* See store_int.h. */
int store_new(const struct store_ops *ops, void *impl, const char *desc,
	      struct lacre_store **out)
{
	struct lacre_store *s = calloc(1, sizeof(*s));

	if (!s)
		return LACRE_E_NOMEM;
	s->desc = strdup(desc);
	if (!s->desc) {
		free(s);
		return LACRE_E_NOMEM;
	}
	s->ops = ops;
	s->impl = impl;
	*out = s;
	return LACRE_OK;
}

/* See store.h: dispatch on the scheme of spec. */
int lacre_store_open(const char *spec, struct lacre_store **out)
{
	return lacre_store_open_with(spec, NULL, out);
}

/* See store.h. */
int lacre_store_open_with(const char *spec, const struct lacre_s3_config *s3,
			  struct lacre_store **out)
{
	if (!spec || !out)
		return LACRE_E_INVALID;
	if (strncmp(spec, "dir:", 4) == 0)
		return store_dir_open(spec + 4, out);
	if (strncmp(spec, "s3://", 5) == 0)
		return store_s3_open_spec(spec + 5, s3, out);
	if (strncmp(spec, "faulty:", 7) == 0)
		return store_faulty_open_spec(spec + 7, out);
	return LACRE_E_CONFIG;
}

/* See store.h. */
void lacre_store_close(struct lacre_store *s)
{
	if (!s)
		return;
	if (s->ops && s->ops->close)
		s->ops->close(s);
	free(s->desc);
	free(s);
}

/* See store.h. */
const char *lacre_store_describe(const struct lacre_store *s)
{
	return s && s->desc ? s->desc : "(none)";
}

/* See store.h. */
int lacre_store_put_if_absent(struct lacre_store *s, const char *name,
			      const void *data, size_t len)
{
	if (!s || (len && !data) || lacre_store_name_check(name) != LACRE_OK)
		return LACRE_E_INVALID;
	return s->ops->put(s, name, data, len, 0);
}

/* See store.h. */
int lacre_store_put_file_if_absent(struct lacre_store *s, const char *name,
				   const char *path)
{
	if (!s || !path || lacre_store_name_check(name) != LACRE_OK)
		return LACRE_E_INVALID;
	return s->ops->put_file(s, name, path);
}

/* See store.h. */
int lacre_store_put_replace(struct lacre_store *s, const char *name,
			    const void *data, size_t len)
{
	if (!s || (len && !data) || lacre_store_name_check(name) != LACRE_OK)
		return LACRE_E_INVALID;
	return s->ops->put(s, name, data, len, 1);
}

/* See store.h. */
int lacre_store_get(struct lacre_store *s, const char *name, uint64_t off,
		    size_t len, struct lacre_dbuf *out)
{
	if (!s || !out || lacre_store_name_check(name) != LACRE_OK)
		return LACRE_E_INVALID;
	return s->ops->get(s, name, off, len, out);
}

/* See store.h. */
int lacre_store_stat(struct lacre_store *s, const char *name, uint64_t *size)
{
	if (!s || !size || lacre_store_name_check(name) != LACRE_OK)
		return LACRE_E_INVALID;
	return s->ops->stat(s, name, size);
}

/* See store.h. */
int lacre_store_list(struct lacre_store *s, const char *prefix,
		     int (*fn)(void *arg, const char *name, uint64_t size),
		     void *arg)
{
	if (!s || !fn || store_prefix_check(prefix ? prefix : "") != LACRE_OK)
		return LACRE_E_INVALID;
	return s->ops->list(s, prefix ? prefix : "", fn, arg);
}

/* See store.h. */
int lacre_store_del(struct lacre_store *s, const char *name)
{
	if (!s || lacre_store_name_check(name) != LACRE_OK)
		return LACRE_E_INVALID;
	return s->ops->del(s, name);
}

/* See store_int.h: append a copy of name. */
int store_names_add(struct store_names *v, const char *name, uint64_t size)
{
	if (v->n == v->alloc) {
		size_t na = v->alloc ? v->alloc * 2 : 64;
		char **nn;
		uint64_t *ns;

		if (na > SIZE_MAX / sizeof(*ns))
			return LACRE_E_NOMEM;
		nn = realloc(v->name, na * sizeof(*nn));
		if (!nn)
			return LACRE_E_NOMEM;
		v->name = nn;
		ns = realloc(v->size, na * sizeof(*ns));
		if (!ns)
			return LACRE_E_NOMEM;
		v->size = ns;
		v->alloc = na;
	}
	v->name[v->n] = strdup(name);
	if (!v->name[v->n])
		return LACRE_E_NOMEM;
	v->size[v->n] = size;
	v->n++;
	return LACRE_OK;
}

/* Order of two entries of a struct store_names (by name, bytes). */
struct name_ent {
	char *name;
	uint64_t size;
};

/* qsort comparator: byte order of names. */
static int name_ent_cmp(const void *a, const void *b)
{
	const struct name_ent *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* See store_int.h. */
int store_names_emit(struct store_names *v, store_list_fn fn, void *arg)
{
	struct name_ent *e;
	int r = LACRE_OK;

	if (v->n == 0)
		return LACRE_OK;
	e = calloc(v->n, sizeof(*e));
	if (!e)
		return LACRE_E_NOMEM;
	for (size_t i = 0; i < v->n; i++) {
		e[i].name = v->name[i];
		e[i].size = v->size[i];
	}
	qsort(e, v->n, sizeof(*e), name_ent_cmp);
	for (size_t i = 0; i < v->n; i++) {
		r = fn(arg, e[i].name, e[i].size);
		if (r != 0)
			break;
	}
	free(e);
	return r;
}

/* See store_int.h. */
void store_names_free(struct store_names *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->name[i]);
	free(v->name);
	free(v->size);
	memset(v, 0, sizeof(*v));
}
