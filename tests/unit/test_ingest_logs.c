/*
 * test_ingest_logs.c - the receivers of a site and their ingest logs
 * (lib/site/receiver.c, lib/site/ingest_logs.c; issue 15 "Many machines"):
 * the receiver.NAME.* keys (parsed, refused, written and read back), the
 * per-receiver names (origin, state, key, spool, stream state, status),
 * the one list of a site's logs (unnamed, local named, another machine's
 * by its vkey; a vkey that disagrees is refused), and the trust anchor of
 * another machine's log: the backend's checkpoint verified with its vkey,
 * a seen copy that moves forward only with a consistency proof from the
 * tiles, a rollback, a fork at one size, a tree the tiles do not back, and
 * a checkpoint signed by another key each refused naming the origin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/ingest_logs.h"
#include "lacre/note.h"
#include "lacre/site.h"
#include "lacre/store.h"
#include "lacre/tlog.h"

static struct site site;
static struct lacre_store *store;
static struct note_signer *key_a, *key_b;
static char vkey_a[SITE_RECEIVER_VKEY_MAX], vkey_b[SITE_RECEIVER_VKEY_MAX];
static char bstate[SITE_PATH_MAX];   /* machine b's ledger state, outside the site */

/* The vkey text of k into out. */
static int vkey_text(struct note_signer *k, char *out, size_t cap)
{
	struct note_verifier v;
	struct lacre_dbuf d;
	int r;

	note_signer_public(k, &v);
	lacre_dbuf_init(&d, 1024);
	r = note_verifier_format(&v, &d);
	if (r == LACRE_OK && d.len < cap) {
		memcpy(out, d.p, d.len);
		out[d.len] = '\0';
	} else if (r == LACRE_OK) {
		r = LACRE_E_TOO_LARGE;
	}
	lacre_dbuf_free(&d);
	return r;
}

/* Append n entries (bytes seed+i) to the log in state dir with key k
 * and publish a checkpoint on st. */
static int grow(struct lacre_store *st, const char *dir, const char *origin, struct note_signer *k,
		int n, int seed)
{
	struct tlog *log = NULL;
	uint8_t e[32];
	int r;

	if ((r = tlog_open(st, dir, origin, k, &log)) != LACRE_OK)
		return r;
	for (int i = 0; r == LACRE_OK && i < n; i++) {
		memset(e, seed + i, sizeof(e));
		e[0] = (uint8_t)(i >> 8);
		r = tlog_append(log, e, sizeof(e), NULL);
	}
	if (r == LACRE_OK)
		r = tlog_checkpoint(log, NULL);
	tlog_close(log);
	return r;
}

static void test_setup(void)
{
	char spec[SITE_PATH_MAX + 64];
	uint8_t seed[32];

	memset(&site, 0, sizeof(site));
	snprintf(site.dir, sizeof(site.dir), "%s", t_tmpdir());
	site_config_defaults(&site.cfg, site.dir);
	snprintf(site.cfg.name, sizeof(site.cfg.name), "unit");
	snprintf(spec, sizeof(spec), "dir:%.900s/objects", site.dir);
	CHECK_OK(lacre_store_open(spec, &store));
	memset(seed, 3, sizeof(seed));
	CHECK_OK(note_signer_from_seed("lacre/unit/ingest/a", NOTE_TYPE_ED25519, seed, &key_a));
	memset(seed, 4, sizeof(seed));
	CHECK_OK(note_signer_from_seed("lacre/unit/ingest/b", NOTE_TYPE_ED25519, seed, &key_b));
	CHECK_OK(vkey_text(key_a, vkey_a, sizeof(vkey_a)));
	CHECK_OK(vkey_text(key_b, vkey_b, sizeof(vkey_b)));
	snprintf(bstate, sizeof(bstate), "%s/machine-b-ingest-b", t_tmpdir());
}

/* receiver.NAME.* keys: parsed, refused with the reason, written back. */
static void test_config(void)
{
	struct site_config c;
	struct lacre_dbuf d;
	char msg[SITE_MSG_MAX], text[2048], v[SITE_RECEIVER_VKEY_MAX];

	site_config_defaults(&c, site.dir);
	snprintf(text, sizeof(text), "ingest.receiver = east\nreceiver.b.vkey = %s\n"
		 "receiver.east.hi2 = 127.0.0.1:6001\nreceiver.east.spool_dir = /var/spool/east\n", vkey_b);
	CHECK_OK(site_config_parse(&c, "lacre.conf", (const uint8_t *)text, strlen(text), msg, sizeof(msg)));
	CHECK_EQ_INT(c.n_receivers, 2);
	CHECK_STR(c.ingest_receiver, "east");
	CHECK_OK(site_config_get(&c, "receiver.b.vkey", v, sizeof(v)));
	CHECK_STR(v, vkey_b);
	CHECK_OK(site_receiver_check(&c, msg, sizeof(msg)));
	/* written and read back the same */
	lacre_dbuf_init(&d, SITE_CONF_MAX);
	CHECK_OK(site_config_write(&c, &d));
	{
		struct site_config c2;
		site_config_defaults(&c2, site.dir);
		CHECK_OK(site_config_parse(&c2, "w", d.p, d.len, msg, sizeof(msg)));
		CHECK_EQ_INT(c2.n_receivers, 2);
		CHECK_OK(site_config_get(&c2, "receiver.east.spool_dir", v, sizeof(v)));
		CHECK_STR(v, "/var/spool/east");
	}
	lacre_dbuf_free(&d);
	/* refused, each with its reason */
	snprintf(text, sizeof(text), "receiver.b.hi2 = 127.0.0.1:1\nreceiver.b.hi2 = 127.0.0.1:2\n");
	CHECK_EQ_INT(site_config_parse(&c, "f", (const uint8_t *)text, strlen(text), msg, sizeof(msg)),
		     LACRE_E_CONFIG);
	CHECK_STR(msg, "f:2: key 'receiver.b.hi2' set twice");
	CHECK_EQ_INT(site_config_set(&c, "receiver.East.hi2", "127.0.0.1:1", msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK_STR(msg, "receiver.East.hi2: receiver name 'East' may hold only a-z 0-9 -");
	CHECK_EQ_INT(site_config_set(&c, "receiver.b.vkey", "lacre/unit/ingest/b+1234", msg, sizeof(msg)),
		     LACRE_E_CONFIG);
	CHECK(strstr(msg, "receiver.b.vkey: not a note verifier key") == msg);
	CHECK_EQ_INT(site_config_set(&c, "receiver.b.hi3", "nohost", msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK_EQ_INT(site_config_set(&c, "receiver.b.spool_dir", "rel/x", msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK_EQ_INT(site_config_set(&c, "receiver.b.color", "x", msg, sizeof(msg)), LACRE_E_CONFIG);
	/* two receivers with one spool */
	CHECK_OK(site_config_set(&c, "receiver.c.spool_dir", "/var/spool/east", msg, sizeof(msg)));
	CHECK_EQ_INT(site_receiver_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK_STR(msg, "receiver.c.spool_dir: the same folder as receiver.east's; give every receiver a "
		  "spool of its own");
	CHECK_OK(site_config_set(&c, "ingest.receiver", "Bad", msg, sizeof(msg)));
	CHECK_OK(site_config_set(&c, "receiver.c.spool_dir", "", msg, sizeof(msg)));
	CHECK_EQ_INT(site_receiver_check(&c, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "ingest.receiver: 'Bad' is not a receiver name") == msg);
}

/* Names of each receiver's things; selecting one moves spool and listeners. */
static void test_names(void)
{
	static struct site s;
	char out[SITE_PATH_MAX + 64], want[SITE_PATH_MAX + 64], msg[SITE_MSG_MAX];

	CHECK_OK(site_ingest_origin(&site, "", out, sizeof(out)));
	CHECK_STR(out, "lacre/unit/ingest");
	CHECK_OK(site_ingest_origin(&site, "east", out, sizeof(out)));
	CHECK_STR(out, "lacre/unit/ingest/east");
	CHECK_EQ_INT(site_ingest_origin(&site, "../x", out, sizeof(out)), LACRE_E_CONFIG);
	CHECK_OK(site_ingest_relpath(NULL, ".key", out, sizeof(out)));
	CHECK_STR(out, "ledger/ingest.key");
	CHECK_OK(site_ingest_relpath("east", "/vkey", out, sizeof(out)));
	CHECK_STR(out, "ledger/ingest-east/vkey");
	CHECK_OK(site_ingest_statefile(&site, "east", "streams.state", out, sizeof(out)));
	snprintf(want, sizeof(want), "%s/state/streams-east.state", site.dir);
	CHECK_STR(out, want);
	CHECK_OK(site_ingest_statefile(&site, "", "status.prom", out, sizeof(out)));
	snprintf(want, sizeof(want), "%s/state/status.prom", site.dir);
	CHECK_STR(out, want);
	s = site;
	CHECK_OK(site_config_set(&s.cfg, "receiver.west.hi3", "127.0.0.1:7003", msg, sizeof(msg)));
	CHECK_OK(site_config_set(&s.cfg, "receiver.north.spool_dir", "/srv/north", msg, sizeof(msg)));
	CHECK_OK(site_ingest_spool(&s, "north", out, sizeof(out)));
	CHECK_STR(out, "/srv/north");
	CHECK_OK(site_receiver_select(&s, "west", msg, sizeof(msg)));
	snprintf(want, sizeof(want), "%s/spool-west", site.dir);
	CHECK_STR(s.cfg.spool_dir, want);
	CHECK_STR(s.cfg.hi3, "127.0.0.1:7003");
	CHECK_STR(s.cfg.hi2, "127.0.0.1:5001");
	CHECK_STR(s.cfg.ingest_receiver, "west");
	CHECK_EQ_INT(site_receiver_select(&s, "We st", msg, sizeof(msg)), LACRE_E_CONFIG);
	/* the unnamed one: nothing changes */
	s = site;
	CHECK_OK(site_receiver_select(&s, NULL, msg, sizeof(msg)));
	CHECK_STR(s.cfg.spool_dir, site.cfg.spool_dir);
}

/* Write text to DIR/rel (making its folder). */
static int put_file(const char *rel, const char *text)
{
	char path[SITE_PATH_MAX + 64], dir[SITE_PATH_MAX + 64];
	char *slash;

	snprintf(path, sizeof(path), "%s/%s", site.dir, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		mkdir(dir, 0700);
	}
	return site_write_file(path, text, strlen(text), 0644);
}

/* The one list: unnamed and local a from their folders, b from its vkey. */
static void test_list(void)
{
	struct site_ingest_log *logs = NULL;
	char msg[SITE_MSG_MAX], line[SITE_RECEIVER_VKEY_MAX + 2];
	size_t n = 9;

	CHECK_OK(site_ingest_logs(&site, &logs, &n, msg, sizeof(msg)));
	CHECK_EQ_INT(n, 0);
	free(logs);
	{
		char ledger[SITE_PATH_MAX + 16];
		snprintf(ledger, sizeof(ledger), "%s/ledger", site.dir);
		mkdir(ledger, 0700);
	}
	snprintf(line, sizeof(line), "%s\n", vkey_a);
	CHECK_OK(put_file("ledger/ingest-a/vkey", line));
	CHECK_OK(site_config_set(&site.cfg, "receiver.b.vkey", vkey_b, msg, sizeof(msg)));
	CHECK_OK(site_ingest_logs(&site, &logs, &n, msg, sizeof(msg)));
	CHECK_EQ_INT(n, 2);
	CHECK_STR(logs[0].name, "a");
	CHECK_STR(logs[0].origin, "lacre/unit/ingest/a");
	CHECK_STR(logs[0].vkey, vkey_a);
	CHECK(logs[0].state_dir != NULL && strstr(logs[0].state_dir, "/ledger/ingest-a") != NULL);
	CHECK(logs[0].spool_dir != NULL && strstr(logs[0].spool_dir, "/spool-a") != NULL);
	CHECK_STR(logs[1].name, "b");
	CHECK_STR(logs[1].vkey, vkey_b);
	CHECK(logs[1].state_dir == NULL && logs[1].spool_dir == NULL);
	free(logs);
	/* a's vkey in lacre.conf that is not its folder's: refused */
	CHECK_OK(site_config_set(&site.cfg, "receiver.a.vkey", vkey_b, msg, sizeof(msg)));
	CHECK_EQ_INT(site_ingest_logs(&site, &logs, &n, msg, sizeof(msg)), LACRE_E_CONFIG);
	CHECK(strstr(msg, "receiver.a.vkey: the key of lacre/unit/ingest/b, not of origin "
		      "lacre/unit/ingest/a") == msg);
	CHECK_OK(site_config_set(&site.cfg, "receiver.a.vkey", "", msg, sizeof(msg)));
}

/* The log b of the list. */
static int log_b(struct site_ingest_log *out)
{
	struct site_ingest_log *logs = NULL;
	char msg[SITE_MSG_MAX];
	size_t n = 0;
	int r = site_ingest_logs(&site, &logs, &n, msg, sizeof(msg));

	if (r == LACRE_OK)
		r = n == 2 ? LACRE_OK : LACRE_E_INTERNAL;
	if (r == LACRE_OK)
		*out = logs[1];
	free(logs);
	return r;
}

/* Machine b's log on the shared backend, trusted through its vkey and the
 * seen copy; every way back or aside refused naming the origin. */
static void test_anchor(void)
{
	struct site_ingest_log b;
	struct lacre_dbuf note, old, cpname;
	struct lacre_store *other = NULL;
	char msg[SITE_MSG_MAX], prefix[TLOG_PREFIX_MAX], obj[TLOG_PREFIX_MAX + 16];
	char seen[SITE_PATH_MAX + 64], spec[SITE_PATH_MAX + 64], fdir[SITE_PATH_MAX + 64];

	CHECK_OK(log_b(&b));
	CHECK_OK(tlog_prefix(b.origin, prefix, sizeof(prefix)));
	snprintf(obj, sizeof(obj), "%scheckpoint", prefix);
	snprintf(seen, sizeof(seen), "%s/ledger/seen/ingest-b", site.dir);
	lacre_dbuf_init(&note, 1 << 16);
	lacre_dbuf_init(&old, 1 << 16);
	lacre_dbuf_init(&cpname, 1 << 16);
	/* nothing published yet */
	CHECK_EQ_INT(site_ingest_checkpoint(&site, &b, store, &note, msg, sizeof(msg)), LACRE_E_NOT_FOUND);
	CHECK(strstr(msg, "lacre/unit/ingest/b: no checkpoint") == msg);
	/* 300 entries: trusted, and seen */
	CHECK_OK(grow(store, bstate, b.origin, key_b, 300, 1));
	CHECK_OK(site_ingest_checkpoint(&site, &b, store, &note, msg, sizeof(msg)));
	CHECK_OK(site_read_file(seen, 1 << 16, &old));
	CHECK_EQ_INT(old.len, note.len);
	CHECK_MEM(old.p, note.p, note.len);
	/* 700 more: consistent with the seen one, which moves forward */
	CHECK_OK(grow(store, bstate, b.origin, key_b, 700, 9));
	lacre_dbuf_reset(&note);
	CHECK_OK(site_ingest_checkpoint(&site, &b, store, &note, msg, sizeof(msg)));
	CHECK(strstr((const char *)note.p, "\n1000\n") != NULL);
	lacre_dbuf_reset(&cpname);
	CHECK_OK(site_read_file(seen, 1 << 16, &cpname));
	CHECK_EQ_INT(cpname.len, note.len);
	/* the backend serves the older one: rollback, the seen copy stays */
	lacre_dbuf_reset(&note);
	CHECK_OK(lacre_store_get(store, obj, 0, 1 << 16, &note));
	CHECK_OK(lacre_store_put_replace(store, obj, old.p, old.len));
	lacre_dbuf_reset(&cpname);
	CHECK_EQ_INT(site_ingest_checkpoint(&site, &b, store, &cpname, msg, sizeof(msg)), LACRE_E_ROLLBACK);
	CHECK(strstr(msg, "lacre/unit/ingest/b: rollback: the backend serves a checkpoint of size 300, "
		      "older than size 1000") == msg);
	CHECK_EQ_INT(cpname.len, 0);
	CHECK_OK(lacre_store_put_replace(store, obj, note.p, note.len));
	/* a fork: the same key signs other trees (another store for its tiles) */
	snprintf(spec, sizeof(spec), "dir:%.900s/other", site.dir);
	snprintf(fdir, sizeof(fdir), "%.900s/fork-state", site.dir);
	CHECK_OK(lacre_store_open(spec, &other));
	CHECK_OK(grow(other, fdir, b.origin, key_b, 1000, 77));
	lacre_dbuf_reset(&old);
	CHECK_OK(lacre_store_get(other, obj, 0, 1 << 16, &old));
	CHECK_OK(lacre_store_put_replace(store, obj, old.p, old.len));
	CHECK_EQ_INT(site_ingest_checkpoint(&site, &b, store, &cpname, msg, sizeof(msg)), LACRE_E_FORK);
	CHECK(strstr(msg, "lacre/unit/ingest/b: fork: the backend's checkpoint of size 1000 has another "
		      "root") == msg);
	/* a larger forked tree the backend's tiles do not back: no proof */
	CHECK_OK(grow(other, fdir, b.origin, key_b, 5, 200));
	lacre_dbuf_reset(&old);
	CHECK_OK(lacre_store_get(other, obj, 0, 1 << 16, &old));
	CHECK_OK(lacre_store_put_replace(store, obj, old.p, old.len));
	CHECK_EQ_INT(site_ingest_checkpoint(&site, &b, store, &cpname, msg, sizeof(msg)), LACRE_E_FORK);
	CHECK(strstr(msg, "lacre/unit/ingest/b: fork: the backend's checkpoint of size 1005 does not "
		      "extend size 1000") == msg);
	/* signed by another key (a's): not b's log */
	{
		struct lacre_dbuf text, forged;
		const char *cp = (const char *)note.p;
		const char *end = strstr(cp, "\n\n");
		CHECK(end != NULL);
		lacre_dbuf_init(&text, 4096);
		lacre_dbuf_init(&forged, 4096);
		CHECK_OK(lacre_dbuf_add(&text, cp, (size_t)(end - cp) + 1));
		CHECK_OK(note_sign(key_a, text.p, text.len, &forged));
		CHECK_OK(lacre_store_put_replace(store, obj, forged.p, forged.len));
		CHECK_EQ_INT(site_ingest_checkpoint(&site, &b, store, &cpname, msg, sizeof(msg)), LACRE_E_AUTH);
		CHECK(strstr(msg, "the backend's checkpoint of lacre/unit/ingest/b does not verify") == msg);
		lacre_dbuf_free(&text);
		lacre_dbuf_free(&forged);
	}
	/* restored: trusted again, the seen copy unchanged throughout */
	CHECK_OK(lacre_store_put_replace(store, obj, note.p, note.len));
	lacre_dbuf_reset(&cpname);
	CHECK_OK(site_ingest_checkpoint(&site, &b, store, &cpname, msg, sizeof(msg)));
	CHECK_EQ_INT(cpname.len, note.len);
	lacre_store_close(other);
	lacre_dbuf_free(&note);
	lacre_dbuf_free(&old);
	lacre_dbuf_free(&cpname);
}

static void test_teardown(void)
{
	lacre_store_close(store);
	note_signer_free(key_a);
	note_signer_free(key_b);
}

int main(void)
{
	RUN(test_setup);
	RUN(test_config);
	RUN(test_names);
	RUN(test_list);
	RUN(test_anchor);
	RUN(test_teardown);
	return t_done();
}
