/*
 * upload.c - the spool uploader (include/lacre/upload.h): drains a local
 * outbox folder into a storage backend, in the order "durable on the
 * backend, verified, then removed locally", so a crash at any point loses
 * nothing (at worst a file is sent twice, and the second time is
 * recognised as already there).
 *
 * The outbox itself is read through a dir: store, which gives the sorted
 * recursive listing, skips temporaries and foreign names, and deletes with
 * a folder fsync.  A down backend puts the uploader into a doubling
 * backoff (retry_min_ms .. retry_max_ms) during which drains return
 * LACRE_E_UNAVAILABLE at once, so an event loop calling it every tick does
 * not hammer a dead endpoint.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/fsync.h"
#include "lacre/store.h"
#include "lacre/upload.h"
#include "lacre/modes.h"
#include "store/store_int.h"

#define CMP_CHUNK ((size_t)1 << 20)

struct upload {
	struct lacre_store *backend;
	struct lacre_store **more;   /* more connections to the backend (caller's) */
	size_t n_more;
	struct lacre_store *outbox;  /* dir: store over the outbox folder */
	char *outbox_path;
	char *sent_path;             /* NULL: delete */
	char *prefix;
	int retry_min_ms, retry_max_ms;
	int64_t next_try_ms;         /* monotonic; 0: no wait */
	int wait_ms;                 /* current backoff */
	pthread_mutex_t mu;          /* stats, thread state */
	pthread_cond_t cv;
	struct upload_stats st;
	pthread_t th;
	int running, stop, interval_ms;
};

/* Monotonic clock in milliseconds. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Create path and missing parents (0750). */
static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
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

/* Record an error about name in the stats (lock held). */
static void note_err(struct upload *u, int err, const char *name)
{
	u->st.last_err = err;
	snprintf(u->st.last_name, sizeof(u->st.last_name), "%s", name);
}

/*
 * Compare the object obj on the backend with the local file at path, both
 * size bytes long.  LACRE_OK if identical, LACRE_E_VERIFY if not, or the
 * backend's error.
 */
static int same_bytes(struct lacre_store *backend, const char *obj, const char *path,
		      uint64_t size)
{
	struct lacre_dbuf b;
	uint8_t *loc = NULL;
	uint64_t off = 0;
	int fd, r = LACRE_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return LACRE_E_IO;
	lacre_dbuf_init(&b, CMP_CHUNK + 1);
	loc = malloc(CMP_CHUNK);
	if (!loc) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	while (off < size) {
		size_t n = size - off < CMP_CHUNK ? (size_t)(size - off) : CMP_CHUNK;
		size_t got = 0;

		lacre_dbuf_reset(&b);
		r = lacre_store_get(backend, obj, off, n, &b);
		if (r != LACRE_OK)
			goto out;
		if (b.len != n) {
			r = LACRE_E_VERIFY;
			goto out;
		}
		while (got < n) {
			ssize_t k = pread(fd, loc + got, n - got, (off_t)(off + got));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				r = LACRE_E_IO;
				goto out;
			}
			got += (size_t)k;
		}
		if (memcmp(loc, b.p, n) != 0) {
			r = LACRE_E_VERIFY;
			goto out;
		}
		off += n;
	}
out:
	free(loc);
	lacre_dbuf_free(&b);
	close(fd);
	return r;
}

/* Move outbox/name to sent/name (parents created), fsync both folders. */
static int move_to_sent(struct upload *u, const char *name)
{
	char from[PATH_MAX], to[PATH_MAX], dir[PATH_MAX];
	char *slash;
	int r;

	if (snprintf(from, sizeof(from), "%s/%s", u->outbox_path, name) >=
		    (int)sizeof(from) ||
	    snprintf(to, sizeof(to), "%s/%s", u->sent_path, name) >=
		    (int)sizeof(to))
		return LACRE_E_TOO_LARGE;
	memcpy(dir, to, sizeof(dir));
	slash = strrchr(dir, '/');
	*slash = '\0';
	if ((r = mkdir_p(dir)) != LACRE_OK)
		return r;
	if (rename(from, to) != 0)
		return LACRE_E_IO;
	if ((r = lacre_fsync_dir(dir)) != LACRE_OK)
		return r;
	memcpy(dir, from, sizeof(dir));
	slash = strrchr(dir, '/');
	*slash = '\0';
	return lacre_fsync_dir(dir);
}

/*
 * Send one outbox file through backend (u's own or one of u->more).
 * Returns LACRE_OK when the file left the outbox (*done = 1), LACRE_OK
 * with *done = 0 when it was kept for a reason recorded in the stats,
 * LACRE_E_UNAVAILABLE, or a local error.
 */
static int send_one(struct upload *u, struct lacre_store *backend, const char *name,
		    uint64_t size, int *done)
{
	char path[PATH_MAX], obj[LACRE_STORE_NAME_MAX + 2];
	uint64_t there = 0;
	int r, existed = 0;

	*done = 0;
	if (snprintf(path, sizeof(path), "%s/%s", u->outbox_path, name) >=
	    (int)sizeof(path))
		return LACRE_E_TOO_LARGE;
	if (snprintf(obj, sizeof(obj), "%s%s", u->prefix, name) >= (int)sizeof(obj) ||
	    lacre_store_name_check(obj) != LACRE_OK) {
		pthread_mutex_lock(&u->mu);
		note_err(u, LACRE_E_INVALID, name);
		pthread_mutex_unlock(&u->mu);
		return LACRE_OK;
	}
	r = lacre_store_put_file_if_absent(backend, obj, path);
	if (r == LACRE_E_EXISTS) {
		existed = 1;
		r = LACRE_OK;
	}
	if (r == LACRE_E_NOT_FOUND)
		return LACRE_OK; /* the file went away meanwhile */
	if (r == LACRE_OK)
		r = lacre_store_stat(backend, obj, &there);
	if (r == LACRE_OK && there != size)
		r = LACRE_E_VERIFY;
	if (r == LACRE_OK && existed)
		r = same_bytes(backend, obj, path, size);
	if (r == LACRE_E_UNAVAILABLE)
		return r;
	if (r != LACRE_OK) {
		pthread_mutex_lock(&u->mu);
		if (existed && r == LACRE_E_VERIFY)
			u->st.conflicts++;
		else
			u->st.verify_failures++;
		note_err(u, existed && r == LACRE_E_VERIFY ? LACRE_E_EXISTS : r, name);
		pthread_mutex_unlock(&u->mu);
		return LACRE_OK; /* kept: nothing is deleted on doubt */
	}
	/* durable and verified on the backend: now it may leave the outbox */
	if (u->sent_path)
		r = move_to_sent(u, name);
	else
		r = lacre_store_del(u->outbox, name);
	if (r == LACRE_E_NOT_FOUND)
		r = LACRE_OK;
	if (r != LACRE_OK)
		return r;
	pthread_mutex_lock(&u->mu);
	if (existed) {
		u->st.already_there++;
	} else {
		u->st.sent_files++;
		u->st.sent_bytes += size;
	}
	pthread_mutex_unlock(&u->mu);
	*done = 1;
	return LACRE_OK;
}

struct scan {
	char **name;
	uint64_t *size;
	size_t n, room, cap, total;     /* kept, allocated, to keep at most, seen */
	uint64_t bytes;
};

/* Outbox list callback: count everything, keep the first cap names (the
 * arrays grow as names come: one listing a pass, which stats every file,
 * so that a backlog of N files costs N stats a pass, not 2N). */
static int scan_cb(void *arg, const char *name, uint64_t size)
{
	struct scan *s = arg;

	s->total++;
	s->bytes += size;
	if (s->n < s->cap) {
		if (s->n == s->room) {
			size_t room = s->room ? 2 * s->room : 64;
			char **nn = realloc(s->name, room * sizeof(*nn));
			uint64_t *ns;

			if (!nn)
				return LACRE_E_NOMEM;
			s->name = nn;
			if (!(ns = realloc(s->size, room * sizeof(*ns))))
				return LACRE_E_NOMEM;
			s->size = ns;
			s->room = room;
		}
		s->name[s->n] = strdup(name);
		if (!s->name[s->n])
			return LACRE_E_NOMEM;
		s->size[s->n++] = size;
	}
	return 0;
}

/* One pass's files, shared by the threads that send them: each takes the
 * next name; the first error stops them all (what is left stays in the
 * outbox for the next pass). */
struct sender {
	struct upload *u;
	const struct scan *sc;
	pthread_mutex_t mu;
	size_t next, sent;
	int err;
};

/* A sender thread's loop over the pass's names, through backend. */
static void send_some(struct sender *p, struct lacre_store *backend)
{
	for (;;) {
		size_t i;
		int done = 0, r;

		pthread_mutex_lock(&p->mu);
		if (p->err != LACRE_OK || p->next >= p->sc->n) {
			pthread_mutex_unlock(&p->mu);
			return;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		r = send_one(p->u, backend, p->sc->name[i], p->sc->size[i], &done);
		pthread_mutex_lock(&p->mu);
		if (r != LACRE_OK && p->err == LACRE_OK)
			p->err = r;
		if (done)
			p->sent++;
		pthread_mutex_unlock(&p->mu);
		if (done) {
			pthread_mutex_lock(&p->u->mu);
			p->u->st.pending_files--;
			p->u->st.pending_bytes -= p->sc->size[i];
			pthread_mutex_unlock(&p->u->mu);
		}
	}
}

struct sender_arg {
	struct sender *p;
	struct lacre_store *backend;
};

static void *sender_thread(void *arg)
{
	struct sender_arg *a = arg;

	pthread_setname_np(pthread_self(), "lacre-upload");
	send_some(a->p, a->backend);
	return NULL;
}

/* Send the names of sc: one at a time through u->backend, or with
 * u->more, as many at once as there are connections (this thread uses
 * u->backend, one helper thread each of the others).  A segment object
 * stands alone, so their order on the backend does not matter; each file
 * still goes put, stat, then delete, so a crash anywhere loses nothing.
 * *sent: files that left the outbox.  The first error. */
static int send_all(struct upload *u, const struct scan *sc, size_t *sent)
{
	struct sender p;
	struct sender_arg args[UPLOAD_MORE_MAX];
	pthread_t th[UPLOAD_MORE_MAX];
	size_t n_th = 0, want = u->n_more;

	memset(&p, 0, sizeof(p));
	p.u = u;
	p.sc = sc;
	p.err = LACRE_OK;
	pthread_mutex_init(&p.mu, NULL);
	if (want >= sc->n)   /* no more senders than files (this thread is one) */
		want = sc->n ? sc->n - 1 : 0;
	for (size_t i = 0; i < want; i++) {
		args[n_th].p = &p;
		args[n_th].backend = u->more[i];
		if (pthread_create(&th[n_th], NULL, sender_thread, &args[n_th]) != 0)
			break;   /* fewer at once: only slower */
		n_th++;
	}
	send_some(&p, u->backend);
	for (size_t i = 0; i < n_th; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.mu);
	*sent = p.sent;
	return p.err;
}

/* See upload.h. */
int upload_drain(struct upload *u, int budget, size_t *moved)
{
	struct scan sc = { 0 };
	size_t sent = 0;
	int r;

	if (!u)
		return LACRE_E_INVALID;
	if (u->next_try_ms && now_ms() < u->next_try_ms)
		return LACRE_E_UNAVAILABLE;
	/* the names to send this pass: budget, or all there are */
	sc.cap = budget > 0 ? (size_t)budget : SIZE_MAX;
	r = lacre_store_list(u->outbox, "", scan_cb, &sc);
	if (r != LACRE_OK)
		goto out;
	pthread_mutex_lock(&u->mu);
	u->st.pending_files = sc.total;
	u->st.pending_bytes = sc.bytes;
	pthread_mutex_unlock(&u->mu);
	if (sc.n > 0)
		r = send_all(u, &sc, &sent);
out:
	pthread_mutex_lock(&u->mu);
	if (r == LACRE_E_UNAVAILABLE) {
		u->wait_ms = u->wait_ms ? u->wait_ms * 2 : u->retry_min_ms;
		if (u->wait_ms > u->retry_max_ms)
			u->wait_ms = u->retry_max_ms;
		u->next_try_ms = now_ms() + u->wait_ms;
		u->st.backend_down = 1;
		u->st.unavailable++;
	} else if (r == LACRE_OK) {
		u->wait_ms = 0;
		u->next_try_ms = 0;
		u->st.backend_down = 0;
	}
	pthread_mutex_unlock(&u->mu);
	for (size_t i = 0; i < sc.n; i++)
		free(sc.name[i]);
	free(sc.name);
	free(sc.size);
	if (moved)
		*moved = sent;
	return r;
}

/* See upload.h. */
void upload_stats_get(struct upload *u, struct upload_stats *st)
{
	pthread_mutex_lock(&u->mu);
	*st = u->st;
	pthread_mutex_unlock(&u->mu);
}

/* The background thread: drain, then wait interval (or until stopped). */
static void *upload_thread(void *arg)
{
	struct upload *u = arg;

	/* named from inside too: a confined receiver cannot name another
	 * thread (its /proc comm is not writable there) */
	pthread_setname_np(pthread_self(), "lacre-upload");
	pthread_mutex_lock(&u->mu);
	while (!u->stop) {
		size_t moved = 0;
		struct timespec ts;
		int64_t wake;

		pthread_mutex_unlock(&u->mu);
		(void)upload_drain(u, 64, &moved);
		pthread_mutex_lock(&u->mu);
		if (moved > 0 || u->stop)
			continue;
		wake = now_ms() + u->interval_ms;
		ts.tv_sec = (time_t)(wake / 1000);
		ts.tv_nsec = (long)(wake % 1000) * 1000000L;
		(void)pthread_cond_timedwait(&u->cv, &u->mu, &ts);
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

/* See upload.h. */
int upload_start(struct upload *u, int interval_ms)
{
	int r = LACRE_OK;

	if (!u)
		return LACRE_E_INVALID;
	pthread_mutex_lock(&u->mu);
	if (u->running) {
		r = LACRE_E_STATE;
	} else {
		u->stop = 0;
		u->interval_ms = interval_ms > 0 ? interval_ms : 1000;
		if (pthread_create(&u->th, NULL, upload_thread, u) != 0)
			r = LACRE_E_NOMEM;
		else {
			pthread_setname_np(u->th, "lacre-upload");
			u->running = 1;
		}
	}
	pthread_mutex_unlock(&u->mu);
	return r;
}

/* See upload.h. */
void upload_stop(struct upload *u)
{
	int running;

	if (!u)
		return;
	pthread_mutex_lock(&u->mu);
	running = u->running;
	u->stop = 1;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	if (running) {
		pthread_join(u->th, NULL);
		pthread_mutex_lock(&u->mu);
		u->running = 0;
		pthread_mutex_unlock(&u->mu);
	}
}

/* See upload.h. */
void upload_close(struct upload *u)
{
	if (!u)
		return;
	upload_stop(u);
	lacre_store_close(u->outbox);
	free(u->outbox_path);
	free(u->sent_path);
	free(u->prefix);
	pthread_cond_destroy(&u->cv);
	pthread_mutex_destroy(&u->mu);
	free(u);
}

/* See upload.h. */
int upload_open(const struct upload_config *cfg, struct lacre_store *backend,
		struct upload **out)
{
	struct upload *u;
	pthread_condattr_t ca;
	char spec[PATH_MAX + 8];
	const char *prefix;
	int r;

	if (!cfg || !backend || !out)
		return LACRE_E_INVALID;
	if (!cfg->outbox || !*cfg->outbox || strlen(cfg->outbox) >= PATH_MAX / 2 ||
	    (cfg->sent && (!*cfg->sent || strlen(cfg->sent) >= PATH_MAX / 2)))
		return LACRE_E_CONFIG;
	prefix = cfg->name_prefix ? cfg->name_prefix : "";
	if (strlen(prefix) > LACRE_STORE_NAME_MAX ||
	    store_prefix_check(prefix) != LACRE_OK)
		return LACRE_E_CONFIG;
	u = calloc(1, sizeof(*u));
	if (!u)
		return LACRE_E_NOMEM;
	pthread_mutex_init(&u->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&u->cv, &ca);
	pthread_condattr_destroy(&ca);
	u->backend = backend;
	if (cfg->n_more > UPLOAD_MORE_MAX || (cfg->n_more && !cfg->more)) {
		r = LACRE_E_CONFIG;
		goto out;
	}
	u->more = cfg->more;
	u->n_more = cfg->n_more;
	u->retry_min_ms = cfg->retry_min_ms > 0 ? cfg->retry_min_ms : 500;
	u->retry_max_ms = cfg->retry_max_ms > 0 ? cfg->retry_max_ms : 30000;
	if (u->retry_max_ms < u->retry_min_ms)
		u->retry_max_ms = u->retry_min_ms;
	u->outbox_path = strdup(cfg->outbox);
	u->prefix = strdup(prefix);
	if (!u->outbox_path || !u->prefix) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	if (cfg->sent) {
		u->sent_path = strdup(cfg->sent);
		if (!u->sent_path) {
			r = LACRE_E_NOMEM;
			goto out;
		}
		if ((r = mkdir_p(u->sent_path)) != LACRE_OK)
			goto out;
	}
	snprintf(spec, sizeof(spec), "dir:%s", cfg->outbox);
	r = lacre_store_open(spec, &u->outbox);
	if (r != LACRE_OK)
		goto out;
	*out = u;
	u = NULL;
out:
	upload_close(u);
	return r;
}
