/*
 * faulty.c - a lying backend for tests: wraps another store and, on
 * demand, flips a byte of an object, serves it truncated, hides it, serves
 * the version a put_replace overwrote, acknowledges puts without storing
 * them, or is down altogether (include/lacre/store.h, docs/storage.md).
 *
 * Faults are (kind, name, arg) rules; a NULL name matches every name.
 * Reads of a name with a FLIP, TRUNCATE or STALE rule fetch the whole
 * apparent object into memory, alter it, then cut the asked range, so a
 * range read sees exactly what a full read would.  To serve stale versions
 * the wrapper reads the current bytes before each put_replace it forwards
 * and keeps them (one previous version per name, in memory).  A mutex
 * guards the rules and saved versions; inner calls run outside it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/store.h"
#include "store/store_int.h"

/* Cap on an object the wrapper holds in memory (tests only). */
#define FAULTY_MAX_OBJECT ((size_t)1 << 30)

struct faulty_rule {
	enum lacre_store_fault kind;
	char *name; /* NULL: every name */
	uint64_t arg;
	struct faulty_rule *next;
};

struct faulty_version {
	char *name;
	uint8_t *data; /* NULL with absent set: there was no object */
	size_t len;
	int absent;
	struct faulty_version *next;
};

struct faulty_store {
	struct lacre_store *inner;
	int own_inner;
	pthread_mutex_t mu;
	struct faulty_rule *rules;
	struct faulty_version *versions;
	char *down_file;   /* "faulty:down-file=PATH;SPEC": down while PATH exists */
};

/* What the rules say about one name (a snapshot taken under the mutex). */
struct faulty_view {
	int down, hide, lose_put, flip, trunc, stale;
	uint64_t flip_at, trunc_len;
	int stale_known, stale_absent;
	uint8_t *stale_data; /* copy, freed by view_free */
	size_t stale_len;
};

/* Whether rule r applies to name (NULL name: a whole-store question). */
static int rule_matches(const struct faulty_rule *r, const char *name)
{
	return !r->name || (name && strcmp(r->name, name) == 0);
}

/* Take a snapshot of the faults for name into v. */
static int faulty_view_get(struct faulty_store *f, const char *name,
			   struct faulty_view *v)
{
	int r = LACRE_OK;

	memset(v, 0, sizeof(*v));
	/* another process (an e2e test) switches the backend off and on */
	if (f->down_file && access(f->down_file, F_OK) == 0)
		v->down = 1;
	pthread_mutex_lock(&f->mu);
	for (struct faulty_rule *x = f->rules; x; x = x->next) {
		if (x->kind == LACRE_STORE_FAULT_DOWN) {
			v->down = 1;
			continue;
		}
		if (!rule_matches(x, name))
			continue;
		switch (x->kind) {
		case LACRE_STORE_FAULT_FLIP:
			v->flip = 1;
			v->flip_at = x->arg;
			break;
		case LACRE_STORE_FAULT_TRUNCATE:
			v->trunc = 1;
			v->trunc_len = x->arg;
			break;
		case LACRE_STORE_FAULT_HIDE:
			v->hide = 1;
			break;
		case LACRE_STORE_FAULT_STALE:
			v->stale = 1;
			break;
		case LACRE_STORE_FAULT_LOSE_PUT:
			v->lose_put = 1;
			break;
		default:
			break;
		}
	}
	if (v->stale && name) {
		for (struct faulty_version *x = f->versions; x; x = x->next) {
			if (strcmp(x->name, name) != 0)
				continue;
			v->stale_known = 1;
			v->stale_absent = x->absent;
			if (!x->absent && x->len) {
				v->stale_data = malloc(x->len);
				if (!v->stale_data) {
					r = LACRE_E_NOMEM;
					break;
				}
				memcpy(v->stale_data, x->data, x->len);
			}
			v->stale_len = x->len;
			break;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}

/* Free a snapshot's copies. */
static void faulty_view_free(struct faulty_view *v)
{
	free(v->stale_data);
	v->stale_data = NULL;
}

/* Remember the object name currently holds (or that it has none) as its
 * previous version, before a put_replace. */
static int faulty_save_version(struct faulty_store *f, const char *name)
{
	struct lacre_dbuf cur;
	struct faulty_version *x, *nv = NULL;
	int r, absent = 0;

	lacre_dbuf_init(&cur, FAULTY_MAX_OBJECT);
	r = lacre_store_get(f->inner, name, 0, SIZE_MAX, &cur);
	if (r == LACRE_E_NOT_FOUND) {
		absent = 1;
		r = LACRE_OK;
	}
	if (r != LACRE_OK)
		goto out;
	pthread_mutex_lock(&f->mu);
	for (x = f->versions; x; x = x->next)
		if (strcmp(x->name, name) == 0)
			break;
	if (!x) {
		nv = calloc(1, sizeof(*nv));
		if (nv)
			nv->name = strdup(name);
		if (!nv || !nv->name) {
			pthread_mutex_unlock(&f->mu);
			if (nv)
				free(nv);
			r = LACRE_E_NOMEM;
			goto out;
		}
		nv->next = f->versions;
		f->versions = nv;
		x = nv;
	}
	free(x->data);
	x->absent = absent;
	x->len = cur.len;
	x->data = lacre_dbuf_steal(&cur, &x->len);
	pthread_mutex_unlock(&f->mu);
out:
	lacre_dbuf_free(&cur);
	return r;
}

/* ops->put. */
static int faulty_put(struct lacre_store *s, const char *name, const void *data,
		      size_t len, int replace)
{
	struct faulty_store *f = s->impl;
	struct faulty_view v;
	int r = faulty_view_get(f, name, &v);

	if (r != LACRE_OK)
		return r;
	faulty_view_free(&v);
	if (v.down)
		return LACRE_E_UNAVAILABLE;
	if (v.lose_put)
		return LACRE_OK;
	if (!replace)
		return lacre_store_put_if_absent(f->inner, name, data, len);
	r = faulty_save_version(f, name);
	if (r != LACRE_OK)
		return r;
	return lacre_store_put_replace(f->inner, name, data, len);
}

/* ops->put_file. */
static int faulty_put_file(struct lacre_store *s, const char *name,
			   const char *path)
{
	struct faulty_store *f = s->impl;
	struct faulty_view v;
	int r = faulty_view_get(f, name, &v);

	if (r != LACRE_OK)
		return r;
	faulty_view_free(&v);
	if (v.down)
		return LACRE_E_UNAVAILABLE;
	if (v.lose_put)
		return LACRE_OK;
	return lacre_store_put_file_if_absent(f->inner, name, path);
}

/*
 * The whole object name as the faults make it appear, into obj (empty, cap
 * FAULTY_MAX_OBJECT).  LACRE_E_NOT_FOUND when hidden or stale-absent.
 */
static int faulty_apparent(struct faulty_store *f, const char *name,
			   const struct faulty_view *v, struct lacre_dbuf *obj)
{
	int r;

	if (v->hide || (v->stale && v->stale_known && v->stale_absent))
		return LACRE_E_NOT_FOUND;
	if (v->stale && v->stale_known)
		r = v->stale_len ? lacre_dbuf_add(obj, v->stale_data, v->stale_len)
				 : LACRE_OK;
	else
		r = lacre_store_get(f->inner, name, 0, SIZE_MAX, obj);
	if (r != LACRE_OK)
		return r;
	if (v->trunc && v->trunc_len < obj->len)
		obj->len = (size_t)v->trunc_len;
	if (v->flip && v->flip_at < obj->len)
		obj->p[v->flip_at] ^= 0x01;
	return LACRE_OK;
}

/* ops->get. */
static int faulty_get(struct lacre_store *s, const char *name, uint64_t off,
		      size_t len, struct lacre_dbuf *out)
{
	struct faulty_store *f = s->impl;
	struct faulty_view v;
	struct lacre_dbuf obj;
	size_t n;
	int r = faulty_view_get(f, name, &v);

	if (r != LACRE_OK)
		return r;
	lacre_dbuf_init(&obj, FAULTY_MAX_OBJECT);
	if (v.down) {
		r = LACRE_E_UNAVAILABLE;
		goto out;
	}
	if (v.hide) {
		r = LACRE_E_NOT_FOUND;
		goto out;
	}
	if (!v.flip && !v.trunc && !v.stale) {
		r = lacre_store_get(f->inner, name, off, len, out);
		goto out;
	}
	r = faulty_apparent(f, name, &v, &obj);
	if (r != LACRE_OK)
		goto out;
	if (off > obj.len) {
		r = LACRE_E_RANGE;
		goto out;
	}
	n = obj.len - (size_t)off;
	if (len < n)
		n = len;
	if (n > 0)
		r = lacre_dbuf_add(out, obj.p + off, n);
out:
	lacre_dbuf_free(&obj);
	faulty_view_free(&v);
	return r;
}

/* Size of name as the faults make it appear, given its real size. */
static int faulty_size(const struct faulty_view *v, uint64_t real, uint64_t *size)
{
	uint64_t n = real;

	if (v->hide || (v->stale && v->stale_known && v->stale_absent))
		return LACRE_E_NOT_FOUND;
	if (v->stale && v->stale_known)
		n = v->stale_len;
	if (v->trunc && v->trunc_len < n)
		n = v->trunc_len;
	*size = n;
	return LACRE_OK;
}

/* ops->stat. */
static int faulty_stat(struct lacre_store *s, const char *name, uint64_t *size)
{
	struct faulty_store *f = s->impl;
	struct faulty_view v;
	uint64_t real = 0;
	int r = faulty_view_get(f, name, &v);

	if (r != LACRE_OK)
		return r;
	if (v.down) {
		r = LACRE_E_UNAVAILABLE;
		goto out;
	}
	if (!v.hide) {
		r = lacre_store_stat(f->inner, name, &real);
		if (r == LACRE_E_NOT_FOUND && v.stale && v.stale_known &&
		    !v.stale_absent)
			r = LACRE_OK; /* deleted since: the old version still shows */
		if (r != LACRE_OK)
			goto out;
	}
	r = faulty_size(&v, real, size);
out:
	faulty_view_free(&v);
	return r;
}

struct faulty_list_ctx {
	struct faulty_store *f;
	store_list_fn fn;
	void *arg;
	int err;
};

/* list callback: apply hide / truncate / stale to each entry. */
static int faulty_list_cb(void *arg, const char *name, uint64_t size)
{
	struct faulty_list_ctx *c = arg;
	struct faulty_view v;
	uint64_t n;
	int r = faulty_view_get(c->f, name, &v);

	if (r != LACRE_OK) {
		c->err = r;
		return 1;
	}
	r = faulty_size(&v, size, &n);
	faulty_view_free(&v);
	if (r == LACRE_E_NOT_FOUND)
		return 0;
	return c->fn(c->arg, name, n);
}

/* ops->list. */
static int faulty_list(struct lacre_store *s, const char *prefix,
		       store_list_fn fn, void *arg)
{
	struct faulty_store *f = s->impl;
	struct faulty_list_ctx c = { f, fn, arg, LACRE_OK };
	struct faulty_view v;
	int r = faulty_view_get(f, NULL, &v);

	if (r != LACRE_OK)
		return r;
	faulty_view_free(&v);
	if (v.down)
		return LACRE_E_UNAVAILABLE;
	r = lacre_store_list(f->inner, prefix, faulty_list_cb, &c);
	return c.err != LACRE_OK ? c.err : r;
}

/* ops->del. */
static int faulty_del(struct lacre_store *s, const char *name)
{
	struct faulty_store *f = s->impl;
	struct faulty_view v;
	int r = faulty_view_get(f, NULL, &v);

	if (r != LACRE_OK)
		return r;
	faulty_view_free(&v);
	if (v.down)
		return LACRE_E_UNAVAILABLE;
	return lacre_store_del(f->inner, name);
}

/* ops->close: free rules and versions, and the inner store if owned. */
static void faulty_close(struct lacre_store *s)
{
	struct faulty_store *f = s->impl;

	if (!f)
		return;
	while (f->rules) {
		struct faulty_rule *x = f->rules;
		f->rules = x->next;
		free(x->name);
		free(x);
	}
	while (f->versions) {
		struct faulty_version *x = f->versions;
		f->versions = x->next;
		free(x->name);
		free(x->data);
		free(x);
	}
	free(f->down_file);
	if (f->own_inner)
		lacre_store_close(f->inner);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

static const struct store_ops faulty_ops = {
	.kind = "faulty",
	.put = faulty_put,
	.put_file = faulty_put_file,
	.get = faulty_get,
	.stat = faulty_stat,
	.list = faulty_list,
	.del = faulty_del,
	.close = faulty_close,
};

/* See store.h. */
int lacre_store_faulty_wrap(struct lacre_store *inner, int own_inner,
			    struct lacre_store **out)
{
	struct faulty_store *f;
	char desc[4300];
	int r;

	if (!inner || !out)
		return LACRE_E_INVALID;
	f = calloc(1, sizeof(*f));
	if (!f)
		return LACRE_E_NOMEM;
	f->inner = inner;
	f->own_inner = own_inner;
	pthread_mutex_init(&f->mu, NULL);
	snprintf(desc, sizeof(desc), "faulty:%s", lacre_store_describe(inner));
	r = store_new(&faulty_ops, f, desc, out);
	if (r != LACRE_OK) {
		pthread_mutex_destroy(&f->mu);
		free(f);
	}
	return r;
}

/* See store_int.h: "faulty:SPEC" opens SPEC and wraps it;
 * "faulty:down-file=PATH;SPEC" is down (LACRE_E_UNAVAILABLE) whenever PATH
 * exists, so that a test can take a running process's backend away. */
int store_faulty_open_spec(const char *inner_spec, struct lacre_store **out)
{
	struct lacre_store *inner = NULL, *s = NULL;
	char *down = NULL;
	int r;

	if (strncmp(inner_spec, "down-file=", 10) == 0) {
		const char *semi = strchr(inner_spec, ';');
		if (!semi || semi == inner_spec + 10)
			return LACRE_E_CONFIG;
		if (!(down = strndup(inner_spec + 10, (size_t)(semi - inner_spec - 10))))
			return LACRE_E_NOMEM;
		inner_spec = semi + 1;
	}
	r = lacre_store_open(inner_spec, &inner);
	if (r != LACRE_OK)
		return r;
	if (r != LACRE_OK) {
		free(down);
		return r;
	}
	r = lacre_store_faulty_wrap(inner, 1, &s);
	if (r != LACRE_OK) {
		lacre_store_close(inner);
		free(down);
		return r;
	}
	((struct faulty_store *)s->impl)->down_file = down;
	*out = s;
	return LACRE_OK;
}

/* See store.h. */
int lacre_store_faulty_set(struct lacre_store *s, enum lacre_store_fault kind,
			   const char *name, uint64_t arg)
{
	struct faulty_store *f;
	struct faulty_rule *x;

	if (!s || s->ops != &faulty_ops || kind < LACRE_STORE_FAULT_FLIP ||
	    kind > LACRE_STORE_FAULT_DOWN)
		return LACRE_E_INVALID;
	if (name && lacre_store_name_check(name) != LACRE_OK)
		return LACRE_E_INVALID;
	if (kind == LACRE_STORE_FAULT_DOWN)
		name = NULL;
	f = s->impl;
	pthread_mutex_lock(&f->mu);
	for (x = f->rules; x; x = x->next) {
		if (x->kind == kind && ((!x->name && !name) ||
		    (x->name && name && strcmp(x->name, name) == 0))) {
			x->arg = arg;
			pthread_mutex_unlock(&f->mu);
			return LACRE_OK;
		}
	}
	x = calloc(1, sizeof(*x));
	if (x && name) {
		x->name = strdup(name);
		if (!x->name) {
			free(x);
			x = NULL;
		}
	}
	if (!x) {
		pthread_mutex_unlock(&f->mu);
		return LACRE_E_NOMEM;
	}
	x->kind = kind;
	x->arg = arg;
	x->next = f->rules;
	f->rules = x;
	pthread_mutex_unlock(&f->mu);
	return LACRE_OK;
}

/* See store.h. */
int lacre_store_faulty_clear(struct lacre_store *s, enum lacre_store_fault kind,
			     const char *name)
{
	struct faulty_store *f;
	struct faulty_rule **pp;

	if (!s || s->ops != &faulty_ops)
		return LACRE_E_INVALID;
	f = s->impl;
	pthread_mutex_lock(&f->mu);
	pp = &f->rules;
	while (*pp) {
		struct faulty_rule *x = *pp;
		int kind_ok = kind == 0 || x->kind == kind;
		int name_ok = !name || kind == LACRE_STORE_FAULT_DOWN ||
			      (x->name && strcmp(x->name, name) == 0);

		if (kind_ok && name_ok) {
			*pp = x->next;
			free(x->name);
			free(x);
		} else {
			pp = &x->next;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return LACRE_OK;
}
