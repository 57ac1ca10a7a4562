/*
 * mkseeds_tiles.c - (re)create fuzz/corpus/tiles: logs written by tlog
 * (lib/ledger/log.c) on a dir: store, with the fixed test key of
 * fuzz_tiles.c, packed in that harness's input format (flags byte, then
 * u8 name length, name relative to the log prefix, u16 length, bytes).
 * Logs of 1, 5, 40, 256 and 300 entries (a partial bundle, a full tile, a
 * full tile and a partial one), two with segment entries, one with the
 * older checkpoint given as trusted.
 *
 *   make && cc -std=c11 -D_GNU_SOURCE -Iinclude -Ilib fuzz/mkseeds_tiles.c \
 *       build/liblacre.a -lssl -lcrypto -lcurl -lsqlite3 -lexpat -lmicrohttpd \
 *       -lm -lpthread -o /tmp/mkseeds_tiles && /tmp/mkseeds_tiles fuzz/corpus/tiles
 * (docs/fuzzing.md lists every corpus and how it is made.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/merkle.h"
#include "lacre/note.h"
#include "lacre/store.h"
#include "lacre/tlog.h"

#define ORIGIN "lacre.fuzz/audit"

struct pack {
	struct lacre_store *st;
	const char *prefix;
	struct lacre_dbuf *out;
};

/* Die with a message when r is an error. */
static void ok(int r, const char *what)
{
	if (r != LACRE_OK) {
		fprintf(stderr, "mkseeds_tiles: %s: %s\n", what, lacre_strerror(r));
		exit(1);
	}
}

/* Append one object in the harness format. */
static void add(struct lacre_dbuf *out, const char *rel, const uint8_t *p, size_t n)
{
	ok(lacre_dbuf_add_u8(out, (uint8_t)strlen(rel)), "pack");
	ok(lacre_dbuf_add(out, rel, strlen(rel)), "pack");
	ok(lacre_dbuf_add_u16be(out, (uint16_t)n), "pack");
	ok(n ? lacre_dbuf_add(out, p, n) : LACRE_OK, "pack");
}

/* store_list callback: pack each object of the log. */
static int one(void *arg, const char *name, uint64_t size)
{
	struct pack *k = arg;
	struct lacre_dbuf d;
	size_t pl = strlen(k->prefix);

	(void)size;
	if (strncmp(name, k->prefix, pl) != 0)
		return 0;
	lacre_dbuf_init(&d, 1 << 20);
	ok(lacre_store_get(k->st, name, 0, SIZE_MAX, &d), name);
	add(k->out, name + pl, d.p, d.len);
	lacre_dbuf_free(&d);
	return 0;
}

/* Write a log of n entries (segment entries at the listed indexes) and
 * save it as dir/name; with trusted_at > 0 a checkpoint at that size goes
 * in as "@trusted" and flags bit 0 is set. */
static void make(const char *dir, const char *name, uint64_t n, uint64_t seg_at,
		 uint64_t trusted_at, uint8_t flags)
{
	char tmp[] = "/tmp/lacre-mkseeds-XXXXXX", spec[256], state[256], prefix[TLOG_PREFIX_MAX], path[4096];
	struct lacre_store *st;
	struct note_signer *key;
	struct tlog *log;
	struct lacre_dbuf out, trusted;
	uint8_t seed[32], e[32];
	struct pack k;
	FILE *f;

	if (!mkdtemp(tmp))
		exit(1);
	memset(seed, 0x5a, sizeof(seed));
	ok(note_signer_from_seed(ORIGIN, NOTE_TYPE_ED25519, seed, &key), "key");
	snprintf(spec, sizeof(spec), "dir:%s/store", tmp);
	snprintf(state, sizeof(state), "%s/state", tmp);
	ok(lacre_store_open(spec, &st), "store");
	ok(tlog_open(st, state, ORIGIN, key, &log), "tlog_open");
	lacre_dbuf_init(&trusted, NOTE_MAX_SIZE);
	for (uint64_t i = 0; i < n; i++) {
		if (seg_at && (i == seg_at || i == seg_at + 2)) {
			struct tlog_segment s;
			struct lacre_dbuf b;
			memset(&s, 0, sizeof(s));
			snprintf(s.name, sizeof(s.name), "%s", i == seg_at ? "seg/good" : "seg/bad");
			s.size = 100 + i;
			s.fp_len = 32;
			memset(s.fp, 0x11, 32);
			lacre_dbuf_init(&b, 1024);
			ok(tlog_segment_encode(&s, &b), "segment");
			ok(tlog_append(log, b.p, b.len, NULL), "append");
			lacre_dbuf_free(&b);
		} else {
			merkle_sha256(&i, sizeof(i), e);
			ok(tlog_append(log, e, 32, NULL), "append");
		}
		if (trusted_at && i + 1 == trusted_at)
			ok(tlog_checkpoint(log, &trusted), "checkpoint");
	}
	ok(tlog_checkpoint(log, NULL), "checkpoint");
	tlog_close(log);
	ok(tlog_prefix(ORIGIN, prefix, sizeof(prefix)), "prefix");
	lacre_dbuf_init(&out, 1 << 24);
	ok(lacre_dbuf_add_u8(&out, flags), "pack");
	if (trusted.len)
		add(&out, "@trusted", trusted.p, trusted.len);
	k.st = st;
	k.prefix = prefix;
	k.out = &out;
	ok(lacre_store_list(st, prefix, one, &k), "list");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")) || fwrite(out.p, 1, out.len, f) != out.len || fclose(f) != 0) {
		fprintf(stderr, "mkseeds_tiles: cannot write %s\n", path);
		exit(1);
	}
	lacre_dbuf_free(&out);
	lacre_dbuf_free(&trusted);
	lacre_store_close(st);
	note_signer_free(key);
	snprintf(path, sizeof(path), "rm -rf '%s'", tmp);
	if (system(path) != 0)
		exit(1);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds_tiles DIR\n");
		return 2;
	}
	make(argv[1], "log-1", 1, 0, 0, 0);
	make(argv[1], "log-5", 5, 0, 0, 0);
	make(argv[1], "log-40-segments", 40, 3, 0, 2);
	make(argv[1], "log-40-trusted-17", 40, 0, 17, 1);
	make(argv[1], "log-256", 256, 0, 0, 0);
	make(argv[1], "log-300-segments-trusted-256", 300, 250, 256, 3);
	return 0;
}
