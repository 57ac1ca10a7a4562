/*
 * tiles.c - C2SP tlog-tiles on a lacre store: object paths, the tile width
 * for a tree size, entry-bundle parsing, and a tile reader that serves
 * complete-subtree hashes to the merkle proof code (spec §6.5).
 *
 * Tiles come back from an untrusted backend: every object's length is
 * checked against the width the tree size requires, and nothing here
 * vouches for the hashes themselves - callers check what they compute
 * against a signed root (a wrong hash makes that check fail).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/tlog.h"

/* "tlog/<hex SHA-256(origin)>/". */
int tlog_prefix(const char *origin, char *out, size_t cap)
{
	static const char hx[] = "0123456789abcdef";
	uint8_t h[MERKLE_HASH_LEN];
	size_t i;

	if (cap < 5 + 64 + 2)
		return LACRE_E_TOO_LARGE;
	merkle_sha256(origin, strlen(origin), h);
	memcpy(out, "tlog/", 5);
	for (i = 0; i < MERKLE_HASH_LEN; i++) {
		out[5 + 2 * i] = hx[h[i] >> 4];
		out[6 + 2 * i] = hx[h[i] & 15];
	}
	out[69] = '/';
	out[70] = '\0';
	return LACRE_OK;
}

/* Tile path with x### groups (spec §6.1). */
int tiles_path(const char *prefix, int level, uint64_t n, unsigned width,
	       char *out, size_t cap)
{
	unsigned g[8];
	int k = 0, w;
	size_t off;

	if (level < TILE_LEVEL_ENTRIES || level > 63 || width > TILE_WIDTH)
		return LACRE_E_INVALID;
	do {
		g[k++] = (unsigned)(n % 1000);
		n /= 1000;
	} while (n > 0);
	if (level == TILE_LEVEL_ENTRIES)
		w = snprintf(out, cap, "%stile/entries/", prefix);
	else
		w = snprintf(out, cap, "%stile/%d/", prefix, level);
	if (w < 0 || (size_t)w >= cap)
		return LACRE_E_TOO_LARGE;
	off = (size_t)w;
	while (k-- > 0) {
		w = snprintf(out + off, cap - off, k > 0 ? "x%03u/" : "%03u", g[k]);
		if (w < 0 || (size_t)w >= cap - off)
			return LACRE_E_TOO_LARGE;
		off += (size_t)w;
	}
	if (width > 0 && width < TILE_WIDTH) {
		w = snprintf(out + off, cap - off, ".p/%u", width);
		if (w < 0 || (size_t)w >= cap - off)
			return LACRE_E_TOO_LARGE;
	}
	return LACRE_OK;
}

/* Parse a decimal number without leading zeros from *p up to a non-digit. */
static int parse_dec(const char **p, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return 0;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return 0;
		s++;
	}
	*p = s;
	*out = v;
	return 1;
}

/* Parse "tile/<L>/<N>[.p/<W>]"; canonical only (re-formatted and compared). */
int tiles_parse_path(const char *rel, int *level, uint64_t *n, unsigned *width)
{
	char again[128];
	const char *p = rel;
	uint64_t v = 0, lv = 0, w = 0;
	int lev, groups = 0;

	if (strncmp(p, "tile/", 5) != 0)
		return LACRE_E_MALFORMED;
	p += 5;
	if (strncmp(p, "entries/", 8) == 0) {
		lev = TILE_LEVEL_ENTRIES;
		p += 8;
	} else {
		if (!parse_dec(&p, 63, &lv) || *p != '/')
			return LACRE_E_MALFORMED;
		lev = (int)lv;
		p++;
	}
	for (;;) {
		int x = *p == 'x';
		if (x)
			p++;
		if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' ||
		    p[2] < '0' || p[2] > '9' || ++groups > 7)
			return LACRE_E_MALFORMED;
		v = v * 1000 + (uint64_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
		p += 3;
		if (!x)
			break;
		if (*p != '/')
			return LACRE_E_MALFORMED;
		p++;
	}
	if (strncmp(p, ".p/", 3) == 0) {
		p += 3;
		if (!parse_dec(&p, TILE_WIDTH - 1, &w) || w == 0)
			return LACRE_E_MALFORMED;
	}
	if (*p != '\0')
		return LACRE_E_MALFORMED;
	if (tiles_path("", lev, v, (unsigned)w, again, sizeof(again)) != LACRE_OK ||
	    strcmp(again, rel) != 0)
		return LACRE_E_MALFORMED;
	*level = lev;
	*n = v;
	*width = (unsigned)w;
	return LACRE_OK;
}

/* Width of tile n at level for a tree of the given size. */
unsigned tiles_width(uint64_t size, int level, uint64_t n)
{
	uint64_t sl;

	if (level == TILE_LEVEL_ENTRIES)
		level = 0;
	if (level < 0 || level > TILE_LEVEL_MAX)
		return 0;
	sl = size >> (8 * level);
	if (n < sl / TILE_WIDTH)
		return TILE_WIDTH;
	if (n == sl / TILE_WIDTH)
		return (unsigned)(sl % TILE_WIDTH);
	return 0;
}

/* One bundle entry: big-endian uint16 length, then the bytes. */
int tiles_bundle_next(struct lacre_rbuf *b, const uint8_t **entry, size_t *len)
{
	struct lacre_rbuf save = *b;
	uint16_t n;
	int rc;

	if ((rc = lacre_rbuf_u16be(b, &n)) != LACRE_OK ||
	    (rc = lacre_rbuf_take(b, n, entry)) != LACRE_OK) {
		*b = save;
		return rc;
	}
	*len = n;
	return LACRE_OK;
}

#define READER_CACHE 16

struct cached_tile {
	int used;
	int level;
	uint64_t n;
	unsigned width;
	uint8_t h[TILE_WIDTH][MERKLE_HASH_LEN];
};

struct tiles_reader {
	struct lacre_store *s;
	char prefix[TLOG_PREFIX_MAX];
	uint64_t size;
	unsigned next;
	struct cached_tile c[READER_CACHE];
};

/* A reader for tree size over the tiles under prefix. */
int tiles_reader_new(struct lacre_store *s, const char *prefix, uint64_t size,
		     struct tiles_reader **out)
{
	struct tiles_reader *r;

	if (strlen(prefix) >= TLOG_PREFIX_MAX || size > MERKLE_MAX_SIZE)
		return LACRE_E_INVALID;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return LACRE_E_NOMEM;
	r->s = s;
	memcpy(r->prefix, prefix, strlen(prefix) + 1);
	r->size = size;
	*out = r;
	return LACRE_OK;
}

/* Free a reader. */
void tiles_reader_free(struct tiles_reader *r)
{
	free(r);
}

/* Fetch one object of exactly want bytes (or at least want bytes of a full
 * tile when full_ok); classify short and long objects. */
static int fetch_tile(struct tiles_reader *r, int level, uint64_t n, unsigned width,
		      uint8_t h[TILE_WIDTH][MERKLE_HASH_LEN])
{
	char name[LACRE_STORE_NAME_MAX + 1];
	struct lacre_dbuf d;
	size_t want = (size_t)width * MERKLE_HASH_LEN;
	int rc;

	lacre_dbuf_init(&d, TILE_BYTES + 1);
	if ((rc = tiles_path(r->prefix, level, n, width, name, sizeof(name))) != LACRE_OK)
		goto out;
	rc = lacre_store_get(r->s, name, 0, SIZE_MAX, &d);
	if (rc == LACRE_E_NOT_FOUND && width < TILE_WIDTH) {
		/* a partial may be gone once the full tile exists */
		lacre_dbuf_reset(&d);
		if ((rc = tiles_path(r->prefix, level, n, 0, name, sizeof(name))) != LACRE_OK)
			goto out;
		rc = lacre_store_get(r->s, name, 0, SIZE_MAX, &d);
		if (rc == LACRE_OK && d.len != TILE_BYTES)
			rc = d.len < TILE_BYTES ? LACRE_E_TRUNCATED : LACRE_E_CORRUPT;
		if (rc == LACRE_OK)
			want = d.len < want ? d.len : want;
	}
	if (rc == LACRE_E_NOT_FOUND)
		rc = LACRE_E_MISSING;
	if (rc == LACRE_E_TOO_LARGE)
		rc = LACRE_E_CORRUPT;
	if (rc != LACRE_OK)
		goto out;
	rc = LACRE_E_TRUNCATED;
	if (d.len < want)
		goto out;
	rc = LACRE_E_CORRUPT;
	if (d.len > want && !(width < TILE_WIDTH && d.len == TILE_BYTES))
		goto out;
	memcpy(h, d.p, want);
	rc = LACRE_OK;
out:
	lacre_dbuf_free(&d);
	return rc;
}

/* Tile n of level as the reader's tree size needs it (cached). */
int tiles_reader_tile(struct tiles_reader *r, int level, uint64_t n,
		      const uint8_t **hashes, unsigned *width)
{
	struct cached_tile *c;
	unsigned w = tiles_width(r->size, level, n), i;
	int rc;

	if (w == 0)
		return LACRE_E_RANGE;
	for (i = 0; i < READER_CACHE; i++) {
		c = &r->c[i];
		if (c->used && c->level == level && c->n == n && c->width == w) {
			*hashes = &c->h[0][0];
			*width = w;
			return LACRE_OK;
		}
	}
	c = &r->c[r->next];
	c->used = 0;
	if ((rc = fetch_tile(r, level, n, w, c->h)) != LACRE_OK)
		return rc;
	c->used = 1;
	c->level = level;
	c->n = n;
	c->width = w;
	r->next = (r->next + 1) % READER_CACHE;
	*hashes = &c->h[0][0];
	*width = w;
	return LACRE_OK;
}

/* merkle_node_fn: node of height h at index k from tile level h/8, hashing
 * 2^(h%8) consecutive hashes pairwise (spec §6.5). */
int tiles_reader_node(void *reader, unsigned height, uint64_t index,
		      uint8_t out[MERKLE_HASH_LEN])
{
	struct tiles_reader *r = reader;
	uint8_t buf[128][MERKLE_HASH_LEN];
	const uint8_t *h;
	unsigned level = height / 8, rr = height % 8, w, cnt, i;
	uint64_t first, t;
	size_t off;
	int rc;

	if (level > TILE_LEVEL_MAX || height >= 63 || index > (MERKLE_MAX_SIZE >> height))
		return LACRE_E_RANGE;
	first = index << rr;
	t = first / TILE_WIDTH;
	off = (size_t)(first % TILE_WIDTH);
	cnt = 1u << rr;
	if ((rc = tiles_reader_tile(r, (int)level, t, &h, &w)) != LACRE_OK)
		return rc;
	if (off + cnt > w)
		return LACRE_E_RANGE;
	if (rr == 0) {
		memcpy(out, h + off * MERKLE_HASH_LEN, MERKLE_HASH_LEN);
		return LACRE_OK;
	}
	for (i = 0; i < cnt / 2; i++)
		merkle_node_hash(h + (off + 2 * i) * MERKLE_HASH_LEN,
				 h + (off + 2 * i + 1) * MERKLE_HASH_LEN, buf[i]);
	for (cnt /= 2; cnt > 1; cnt /= 2)
		for (i = 0; i < cnt / 2; i++)
			merkle_node_hash(buf[2 * i], buf[2 * i + 1], buf[i]);
	memcpy(out, buf[0], MERKLE_HASH_LEN);
	return LACRE_OK;
}
