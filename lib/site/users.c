/*
 * users.c - the user registry (DIR/users.log) and users' key files (see
 * include/lacre/users.h, docs/access.md, docs/FORMATS.md §8.1).
 *
 * The registry is replayed from the log on every use: each line's signer
 * is resolved from the state the lines before it built (an enabled admin,
 * or the site's warrant-log key for the bootstrap), so a user whom nobody
 * authorised cannot appear, and an admin disabled at line n signs nothing
 * after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "lacre/ed25519.h"
#include "lacre/err.h"
#include "lacre/evlog.h"
#include "lacre/hex.h"
#include "lacre/note.h"
#include "lacre/users.h"
#include "lacre/warrant.h"

static const char *const role_names[] = {
	[ACL_INVESTIGATOR] = "investigator",
	[ACL_SUPERVISOR] = "supervisor",
	[ACL_CLERK] = "clerk",
	[ACL_AUDITOR] = "auditor",
	[ACL_ADMIN] = "admin",
};

const char *acl_role_name(enum acl_role r)
{
	if (r >= ACL_INVESTIGATOR && r <= ACL_ADMIN)
		return role_names[r];
	return "none";
}

int acl_role_parse(const char *s, enum acl_role *r)
{
	for (int i = ACL_INVESTIGATOR; i <= ACL_ADMIN; i++)
		if (s != NULL && !strcmp(s, role_names[i])) {
			*r = (enum acl_role)i;
			return LACRE_OK;
		}
	return LACRE_E_INVALID;
}

int users_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= USER_NAME_MAX || !strcmp(name, EVLOG_SITE_SIGNER))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || !strchr("._-", c)))
			return 0;
	}
	return 1;
}

/* Whether a unit is acceptable: printable, fits. */
static int unit_ok(const char *u)
{
	size_t n = strlen(u);

	if (n >= USER_UNIT_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f)
			return 0;
	return 1;
}

/* ------------------------------------------------------------- key files */

int user_key_generate(const char *name, struct user_key *k)
{
	struct user_key t;
	int r;

	if (!users_name_ok(name))
		return LACRE_E_INVALID;
	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", name);
	if (RAND_priv_bytes(t.seed, 32) != 1)
		return LACRE_E_CRYPTO;
	r = lacre_ed25519_public(t.seed, t.pub);
	if (r == LACRE_OK)
		*k = t;
	OPENSSL_cleanse(&t, sizeof(t));
	return r;
}

int user_key_write(const struct user_key *k, const char *path)
{
	struct note_signer *ns = NULL;
	struct lacre_dbuf d;
	size_t off = 0;
	int r, fd = -1;

	lacre_dbuf_init(&d, 4096);
	lacre_dbuf_set_secret(&d);
	r = note_signer_from_seed(k->name, NOTE_TYPE_ED25519, k->seed, &ns);
	if (r == LACRE_OK)
		r = note_signer_format(ns, &d);
	if (r == LACRE_OK)
		r = lacre_dbuf_add_u8(&d, '\n');
	if (r != LACRE_OK)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = errno == EEXIST ? LACRE_E_EXISTS : LACRE_E_IO;
		goto out;
	}
	while (off < d.len) {
		ssize_t w = write(fd, d.p + off, d.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = LACRE_E_IO;
			break;
		}
		off += (size_t)w;
	}
	if (r == LACRE_OK && fsync(fd) != 0)
		r = LACRE_E_IO;
	close(fd);
	if (r != LACRE_OK)
		unlink(path);
out:
	note_signer_free(ns);
	lacre_dbuf_free(&d);
	return r;
}

int user_key_load(const char *path, struct user_key *k)
{
	static const char pfx[] = "PRIVATE+KEY+";
	struct lacre_dbuf d;
	struct lacre_rbuf rb;
	struct user_key t;
	struct stat st;
	const uint8_t *p;
	uint8_t raw[40], id[4];
	size_t n, rawlen = 0;
	int r;

	memset(&t, 0, sizeof(t));
	lacre_dbuf_init(&d, USER_KEY_FILE_MAX);
	lacre_dbuf_set_secret(&d);
	if (stat(path, &st) != 0)
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	if (st.st_mode & 077)
		return LACRE_E_DENIED;
	if ((r = site_read_file(path, USER_KEY_FILE_MAX, &d)) != LACRE_OK)
		goto out;
	lacre_dbuf_set_secret(&d);
	while (d.len && (d.p[d.len - 1] == '\n' || d.p[d.len - 1] == '\r'))
		d.len--;
	lacre_rbuf_init(&rb, d.p, d.len);
	r = LACRE_E_MALFORMED;
	if (lacre_rbuf_take(&rb, sizeof(pfx) - 1, &p) != LACRE_OK || memcmp(p, pfx, sizeof(pfx) - 1))
		goto out;
	/* name: up to the next '+' */
	p = lacre_rbuf_ptr(&rb);
	for (n = 0; n < lacre_rbuf_left(&rb) && p[n] != '+'; n++)
		;
	if (n == 0 || n >= sizeof(t.name) || n == lacre_rbuf_left(&rb))
		goto out;
	memcpy(t.name, p, n);
	if (lacre_rbuf_skip(&rb, n + 1) != LACRE_OK || !users_name_ok(t.name))
		goto out;
	/* key id: 8 lower-case hex digits and '+' */
	if (lacre_rbuf_take(&rb, 9, &p) != LACRE_OK || p[8] != '+' ||
	    lacre_unhex((const char *)p, 8, id, 4) != LACRE_OK)
		goto out;
	p = lacre_rbuf_ptr(&rb);
	n = lacre_rbuf_left(&rb);
	if (note_b64_decode((const char *)p, n, raw, sizeof(raw), &rawlen) != LACRE_OK ||
	    rawlen != 33 || raw[0] != NOTE_TYPE_ED25519)
		goto out;
	memcpy(t.seed, raw + 1, 32);
	if ((r = lacre_ed25519_public(t.seed, t.pub)) != LACRE_OK)
		goto out;
	if (note_keyid(t.name, NOTE_TYPE_ED25519, t.pub) !=
	    ((uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3])) {
		r = LACRE_E_MALFORMED;
		goto out;
	}
	*k = t;
	r = LACRE_OK;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(&t, sizeof(t));
	lacre_dbuf_free(&d);
	return r;
}

void user_key_wipe(struct user_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

/* ------------------------------------------------------------- registry */

/* Mutable lookup. */
static struct user *find(struct users_registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->n; i++)
		if (!strcmp(reg->u[i].name, name))
			return &reg->u[i];
	return NULL;
}

const struct user *users_find(const struct users_registry *reg, const char *name)
{
	return find((struct users_registry *)reg, name);
}

/* Number of enabled administrators. */
static size_t admins(const struct users_registry *reg)
{
	size_t k = 0;

	for (size_t i = 0; i < reg->n; i++)
		k += reg->u[i].role == ACL_ADMIN && !reg->u[i].disabled;
	return k;
}

/* evlog_signer_fn: the site key for the bootstrap, else an enabled admin. */
static int reg_signer(void *arg, const struct evlog_event *ev, uint8_t pub[32])
{
	struct users_registry *reg = arg;
	const struct user *u;

	if (!strcmp(ev->by, EVLOG_SITE_SIGNER)) {
		/* the master key signs the init event and the first admin only */
		if (!strcmp(ev->type, "init") || (!strcmp(ev->type, "add") && admins(reg) == 0)) {
			memcpy(pub, reg->site_pub, 32);
			return LACRE_OK;
		}
		return LACRE_E_MALFORMED;
	}
	u = users_find(reg, ev->by);
	if (u == NULL || u->disabled || u->role != ACL_ADMIN)
		return LACRE_E_MALFORMED;
	memcpy(pub, u->pub, 32);
	return LACRE_OK;
}

/* evlog_apply_fn: the registry's rules. */
static int reg_apply(void *arg, const struct evlog_event *ev)
{
	struct users_registry *reg = arg;
	const char *v;

	if (!strcmp(ev->type, "init")) {
		v = evlog_get(ev, "auditor");
		if (ev->seq != 1 || ev->n != 1 || v == NULL || strlen(v) >= AGE_RECIPIENT_MAX ||
		    age_recipient_parse(v, reg->auditor_pub) != LACRE_OK)
			return LACRE_E_MALFORMED;
		snprintf(reg->auditor_recipient, sizeof(reg->auditor_recipient), "%s", v);
		reg->have_init = 1;
	} else if (!strcmp(ev->type, "add")) {
		struct user u;
		const char *name = evlog_get(ev, "name"), *role = evlog_get(ev, "role");
		const char *unit = evlog_get(ev, "unit"), *key = evlog_get(ev, "key");

		memset(&u, 0, sizeof(u));
		if (!reg->have_init || ev->n != 4 || !users_name_ok(name) || !unit || !unit_ok(unit) ||
		    acl_role_parse(role, &u.role) != LACRE_OK || key == NULL ||
		    lacre_unhex(key, strlen(key), u.pub, 32) != LACRE_OK || find(reg, name) != NULL)
			return LACRE_E_MALFORMED;
		if ((u.role == ACL_INVESTIGATOR || u.role == ACL_SUPERVISOR) && !unit[0])
			return LACRE_E_MALFORMED;
		if (!strcmp(ev->by, EVLOG_SITE_SIGNER) && u.role != ACL_ADMIN)
			return LACRE_E_MALFORMED;
		snprintf(u.name, sizeof(u.name), "%s", name);
		snprintf(u.unit, sizeof(u.unit), "%s", unit);
		snprintf(u.added_by, sizeof(u.added_by), "%s", ev->by);
		u.added_at = ev->at;
		if (reg->n == reg->cap) {
			size_t nc = reg->cap ? 2 * reg->cap : 16;
			struct user *nu = realloc(reg->u, nc * sizeof(*nu));
			if (nu == NULL)
				return LACRE_E_NOMEM;
			reg->u = nu;
			reg->cap = nc;
		}
		reg->u[reg->n++] = u;
	} else if (!strcmp(ev->type, "disable")) {
		struct user *u = find(reg, evlog_get(ev, "name") ? evlog_get(ev, "name") : "");
		if (ev->n != 1 || u == NULL || u->disabled)
			return LACRE_E_MALFORMED;
		u->disabled = 1;
		if (admins(reg) == 0)
			return LACRE_E_MALFORMED;
	} else {
		return LACRE_E_MALFORMED;
	}
	reg->events = ev->seq;
	return LACRE_OK;
}

/* Open users.log of s as reader or writer into a fresh registry. */
static int reg_open(const struct site *s, int writer, struct users_registry **regp,
		    struct evlog **logp, char *msg, size_t msglen)
{
	struct users_registry *reg;
	struct evlog *l = NULL;
	char path[SITE_PATH_MAX];
	int r;

	reg = calloc(1, sizeof(*reg));
	if (reg == NULL)
		return LACRE_E_NOMEM;
	if (warrant_signer_parse(s->cfg.warrants_signer, reg->site_pub) != LACRE_OK) {
		snprintf(msg, msglen, "warrants.signer in %s/%s is not set", s->dir, SITE_CONF);
		users_free(reg);
		return LACRE_E_CONFIG;
	}
	r = site_path(s, USERS_LOG, path, sizeof(path));
	if (r == LACRE_OK)
		r = evlog_open(path, USERS_MAGIC, writer, reg_signer, reg_apply, reg, &l, msg, msglen);
	if (r != LACRE_OK) {
		users_free(reg);
		return r;
	}
	if (logp)
		*logp = l;
	else
		evlog_close(l);
	*regp = reg;
	return LACRE_OK;
}

int users_load(const struct site *s, struct users_registry **out, char *msg, size_t msglen)
{
	return reg_open(s, 0, out, NULL, msg, msglen);
}

void users_free(struct users_registry *reg)
{
	if (reg == NULL)
		return;
	free(reg->u);
	free(reg);
}

/* Append an add event for (name, role, unit, pub) by signer by. */
static int append_add(struct evlog *l, const char *by, evlog_sign_fn sign, void *sarg,
		      const char *name, enum acl_role role, const char *unit, const uint8_t pub[32])
{
	struct evlog_event *e = malloc(sizeof(*e));
	char hx[65];
	int r;

	if (e == NULL)
		return LACRE_E_NOMEM;
	lacre_hex(pub, 32, hx);
	evlog_event_init(e, "add", by);
	r = evlog_set(e, "name", name);
	if (r == LACRE_OK)
		r = evlog_set(e, "role", acl_role_name(role));
	if (r == LACRE_OK)
		r = evlog_set(e, "unit", unit ? unit : "");
	if (r == LACRE_OK)
		r = evlog_set(e, "key", hx);
	if (r == LACRE_OK)
		r = evlog_append(l, e, sign, sarg);
	free(e);
	return r;
}

int users_bootstrap(const struct site *s, const uint8_t signer_seed[32],
		    const uint8_t auditor_pub[32], const char *name, const char *unit,
		    const uint8_t pub[32], char *msg, size_t msglen)
{
	struct users_registry *reg = NULL;
	struct evlog *l = NULL;
	struct evlog_event *e = NULL;
	char rc[AGE_RECIPIENT_MAX];
	uint8_t mine[32];
	int r;

	if (!users_name_ok(name) || !unit_ok(unit ? unit : "")) {
		snprintf(msg, msglen, "bad user name or unit");
		return LACRE_E_INVALID;
	}
	if ((r = reg_open(s, 1, &reg, &l, msg, msglen)) != LACRE_OK)
		return r;
	if ((r = lacre_ed25519_public(signer_seed, mine)) != LACRE_OK)
		goto out;
	if (CRYPTO_memcmp(mine, reg->site_pub, 32) != 0) {
		snprintf(msg, msglen, "the keystore's warrant-log key does not match warrants.signer");
		r = LACRE_E_CONFIG;
		goto out;
	}
	if (reg->n > 0) {
		snprintf(msg, msglen, "the site already has users: an administrator adds users "
			 "(--user ADMIN-KEY)");
		r = LACRE_E_EXISTS;
		goto out;
	}
	if (!reg->have_init) {
		e = malloc(sizeof(*e));
		if (e == NULL) {
			r = LACRE_E_NOMEM;
			goto out;
		}
		evlog_event_init(e, "init", EVLOG_SITE_SIGNER);
		r = age_recipient_encode(auditor_pub, rc);
		if (r == LACRE_OK)
			r = evlog_set(e, "auditor", rc);
		if (r == LACRE_OK)
			r = evlog_append(l, e, evlog_sign_seed, (void *)signer_seed);
		if (r != LACRE_OK)
			goto out;
	}
	r = append_add(l, EVLOG_SITE_SIGNER, evlog_sign_seed, (void *)signer_seed, name, ACL_ADMIN,
		       unit ? unit : "", pub);
	if (r != LACRE_OK)
		snprintf(msg, msglen, "cannot append to %s: %s", USERS_LOG, lacre_strerror(r));
out:
	free(e);
	evlog_close(l);
	users_free(reg);
	return r;
}

/* Check that admin names an enabled admin of reg (and, when pub is not
 * NULL, that pub is that admin's registered key). */
static int check_admin(const struct users_registry *reg, const char *admin, const uint8_t *pub,
		       char *msg, size_t msglen)
{
	const struct user *a = users_find(reg, admin);

	if (a == NULL || (pub && CRYPTO_memcmp(a->pub, pub, 32) != 0) || a->disabled ||
	    a->role != ACL_ADMIN) {
		snprintf(msg, msglen, "user '%s' is not an enabled administrator of this site "
			 "(user management needs --user ADMIN-KEY)", admin);
		return LACRE_E_DENIED;
	}
	return LACRE_OK;
}

int users_add(const struct site *s, const struct user_key *admin, const char *name,
	      enum acl_role role, const char *unit, const uint8_t pub[32],
	      char *msg, size_t msglen)
{
	struct users_registry *reg = NULL;
	int r;

	/* the key file must be the registered key of that admin */
	if ((r = users_load(s, &reg, msg, msglen)) != LACRE_OK)
		return r;
	r = check_admin(reg, admin->name, admin->pub, msg, msglen);
	users_free(reg);
	if (r != LACRE_OK)
		return r;
	return users_add_signed(s, admin->name, evlog_sign_seed, (void *)admin->seed, name, role,
				unit, pub, msg, msglen);
}

int users_add_signed(const struct site *s, const char *admin, evlog_sign_fn sign, void *sarg,
		     const char *name, enum acl_role role, const char *unit,
		     const uint8_t pub[32], char *msg, size_t msglen)
{
	struct users_registry *reg = NULL;
	struct evlog *l = NULL;
	int r;

	if (unit == NULL)
		unit = "";
	if (!users_name_ok(name) || !unit_ok(unit)) {
		snprintf(msg, msglen, "user name must be [A-Za-z0-9][A-Za-z0-9._-]* (at most 63) "
			 "and the unit printable");
		return LACRE_E_INVALID;
	}
	if ((role == ACL_INVESTIGATOR || role == ACL_SUPERVISOR) && !unit[0]) {
		snprintf(msg, msglen, "an %s needs --unit U (the unit named in the orders, L7)",
			 acl_role_name(role));
		return LACRE_E_INVALID;
	}
	if ((r = reg_open(s, 1, &reg, &l, msg, msglen)) != LACRE_OK)
		return r;
	if ((r = check_admin(reg, admin, NULL, msg, msglen)) != LACRE_OK)
		goto out;
	if (users_find(reg, name) != NULL) {
		snprintf(msg, msglen, "user '%s' exists already (names are never reused)", name);
		r = LACRE_E_EXISTS;
		goto out;
	}
	r = append_add(l, admin, sign, sarg, name, role, unit, pub);
	if (r != LACRE_OK)
		snprintf(msg, msglen, r == LACRE_E_AUTH ? "the event's signature does not verify with "
			 "the key of user '%s'; nothing was written" : "cannot append to %s: %s",
			 r == LACRE_E_AUTH ? admin : USERS_LOG, lacre_strerror(r));
out:
	evlog_close(l);
	users_free(reg);
	return r;
}

int users_disable(const struct site *s, const struct user_key *admin, const char *name,
		  char *msg, size_t msglen)
{
	struct users_registry *reg = NULL;
	int r;

	if ((r = users_load(s, &reg, msg, msglen)) != LACRE_OK)
		return r;
	r = check_admin(reg, admin->name, admin->pub, msg, msglen);
	users_free(reg);
	if (r != LACRE_OK)
		return r;
	return users_disable_signed(s, admin->name, evlog_sign_seed, (void *)admin->seed, name, msg,
				    msglen);
}

int users_disable_signed(const struct site *s, const char *admin, evlog_sign_fn sign, void *sarg,
			 const char *name, char *msg, size_t msglen)
{
	struct users_registry *reg = NULL;
	struct evlog *l = NULL;
	struct evlog_event *e = NULL;
	const struct user *u;
	int r;

	if ((r = reg_open(s, 1, &reg, &l, msg, msglen)) != LACRE_OK)
		return r;
	if ((r = check_admin(reg, admin, NULL, msg, msglen)) != LACRE_OK)
		goto out;
	u = users_find(reg, name);
	if (u == NULL) {
		snprintf(msg, msglen, "no user '%s' (see 'lacre user list')", name);
		r = LACRE_E_NOT_FOUND;
		goto out;
	}
	if (u->disabled) {
		snprintf(msg, msglen, "user '%s' is already disabled", name);
		r = LACRE_E_STATE;
		goto out;
	}
	if (u->role == ACL_ADMIN && admins(reg) == 1) {
		snprintf(msg, msglen, "'%s' is the last enabled administrator: add another first", name);
		r = LACRE_E_STATE;
		goto out;
	}
	e = malloc(sizeof(*e));
	if (e == NULL) {
		r = LACRE_E_NOMEM;
		goto out;
	}
	evlog_event_init(e, "disable", admin);
	r = evlog_set(e, "name", name);
	if (r == LACRE_OK)
		r = evlog_append(l, e, sign, sarg);
	if (r != LACRE_OK)
		snprintf(msg, msglen, r == LACRE_E_AUTH ? "the event's signature does not verify with "
			 "the key of user '%s'; nothing was written" : "cannot append to %s: %s",
			 r == LACRE_E_AUTH ? admin : USERS_LOG, lacre_strerror(r));
out:
	free(e);
	evlog_close(l);
	users_free(reg);
	return r;
}
