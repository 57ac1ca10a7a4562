/*
 * test_merkle.c - RFC 6962 hashing, the incremental tree, proof generation
 * and RFC 9162 verification: the known answers of spec/tlog-formats.md §1.6
 * and the edge cases of §1.5.
 */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/merkle.h"

/* Decode hex into out; returns the byte count. */
static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	unsigned v;

	while (s[0] && s[1]) {
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* Fill a proof from space-separated hex hashes. */
static void proof_from_hex(struct merkle_proof *p, const char *const *hx, size_t n)
{
	p->n = n;
	for (size_t i = 0; i < n; i++)
		unhex(hx[i], p->h[i]);
}

static const char *const d_hex[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};
static const char *const roots_hex[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static uint8_t leaves8[8][MERKLE_HASH_LEN];

/* Leaf hashes of the eight CT test entries. */
static void load_leaves8(void)
{
	uint8_t d[32];

	for (int i = 0; i < 8; i++)
		merkle_leaf_hash(d, unhex(d_hex[i], d), leaves8[i]);
}

static void test_roots_kat(void)
{
	struct merkle_tree t;
	struct merkle_leaves lv = { leaves8, 0 };
	uint8_t want[32], got[32];

	load_leaves8();
	merkle_tree_init(&t);
	for (int n = 0; n <= 8; n++) {
		unhex(roots_hex[n], want);
		merkle_tree_root(&t, got);
		CHECK_MEM(got, want, 32);
		lv.n = (uint64_t)n;
		CHECK_OK(merkle_root((uint64_t)n, merkle_leaves_node, &lv, got));
		CHECK_MEM(got, want, 32);
		if (n < 8)
			CHECK_OK(merkle_tree_append(&t, leaves8[n], NULL, NULL));
	}
}

struct incl_kat {
	uint64_t index, size;
	size_t n;
	const char *h[4];
};

static void test_inclusion_kat(void)
{
	static const struct incl_kat k[] = {
		{ 0, 8, 3, { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
			     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
		{ 5, 8, 3, { "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
			     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
		{ 2, 3, 1, { "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" } },
		{ 3, 5, 3, { "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
			     "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
			     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
		{ 6, 8, 3, { "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
			     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
			     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	};
	struct merkle_leaves lv = { leaves8, 8 };
	struct merkle_proof want, got;
	uint8_t root[32];

	load_leaves8();
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		proof_from_hex(&want, k[i].h, k[i].n);
		lv.n = k[i].size;
		CHECK_OK(merkle_prove_inclusion(k[i].index, k[i].size, merkle_leaves_node, &lv, &got));
		CHECK_EQ_INT(got.n, want.n);
		CHECK_MEM(got.h, want.h, 32 * want.n);
		unhex(roots_hex[k[i].size], root);
		CHECK_OK(merkle_verify_inclusion(k[i].index, k[i].size, leaves8[k[i].index], &want, root));
	}
}

static void test_consistency_kat(void)
{
	static const struct incl_kat k[] = {
		{ 1, 8, 3, { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
			     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
		{ 6, 8, 3, { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
			     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
		{ 2, 5, 2, { "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
		{ 3, 7, 4, { "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
			     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
			     "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
			     "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e" } },
		{ 4, 8, 1, { "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	};
	struct merkle_leaves lv = { leaves8, 8 };
	struct merkle_proof want, got;
	uint8_t r1[32], r2[32];

	load_leaves8();
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		proof_from_hex(&want, k[i].h, k[i].n);
		lv.n = k[i].size;
		CHECK_OK(merkle_prove_consistency(k[i].index, k[i].size, merkle_leaves_node, &lv, &got));
		CHECK_EQ_INT(got.n, want.n);
		CHECK_MEM(got.h, want.h, 32 * want.n);
		unhex(roots_hex[k[i].index], r1);
		unhex(roots_hex[k[i].size], r2);
		CHECK_OK(merkle_verify_consistency(k[i].index, k[i].size, r1, r2, &want));
	}
}

#define NMAX 300
static uint8_t big[NMAX][MERKLE_HASH_LEN];
static uint8_t big_root[NMAX + 1][MERKLE_HASH_LEN];

/* Leaves 0..NMAX-1 and the roots of every prefix from the incremental tree. */
static void load_big(void)
{
	struct merkle_tree t;
	uint8_t e[8];

	merkle_tree_init(&t);
	for (int i = 0; i < NMAX; i++) {
		merkle_tree_root(&t, big_root[i]);
		for (int j = 0; j < 8; j++)
			e[j] = (uint8_t)((uint64_t)i >> (8 * j));
		merkle_leaf_hash(e, sizeof(e), big[i]);
		merkle_tree_append(&t, big[i], NULL, NULL);
	}
	merkle_tree_root(&t, big_root[NMAX]);
}

/* Every proof pair up to 70 leaves (and the last leaf of every size up to
 * 300): generate, verify, then flip each bit class and the length. */
static void test_exhaustive(void)
{
	struct merkle_leaves lv = { big, 0 };
	struct merkle_proof p, q;
	uint8_t r[32], bad[32];

	load_big();
	for (uint64_t n = 1; n <= 70; n++) {
		lv.n = n;
		CHECK_OK(merkle_root(n, merkle_leaves_node, &lv, r));
		CHECK_MEM(r, big_root[n], 32);
		for (uint64_t i = 0; i < n; i++) {
			CHECK_OK(merkle_prove_inclusion(i, n, merkle_leaves_node, &lv, &p));
			CHECK(p.n <= (size_t)(64 - __builtin_clzll((n - 1) | 1)) || n == 1);
			CHECK_OK(merkle_verify_inclusion(i, n, big[i], &p, big_root[n]));
			CHECK_EQ_INT(merkle_verify_inclusion(i, n, big[(i + 1) % NMAX], &p, big_root[n]), LACRE_E_VERIFY);
			CHECK_EQ_INT(merkle_verify_inclusion(i, n + 1, big[i], &p, big_root[n + 1]), LACRE_E_VERIFY);
			CHECK_EQ_INT(merkle_verify_inclusion(n, n, big[i], &p, big_root[n]), LACRE_E_VERIFY);
			for (size_t j = 0; j < p.n; j++) {
				q = p;
				q.h[j][j % 32] ^= 0x01;
				CHECK_EQ_INT(merkle_verify_inclusion(i, n, big[i], &q, big_root[n]), LACRE_E_VERIFY);
			}
			if (p.n > 0) {
				q = p;
				q.n--;
				CHECK_EQ_INT(merkle_verify_inclusion(i, n, big[i], &q, big_root[n]), LACRE_E_VERIFY);
			}
			q = p;
			memcpy(q.h[q.n++], big[0], 32);
			CHECK_EQ_INT(merkle_verify_inclusion(i, n, big[i], &q, big_root[n]), LACRE_E_VERIFY);
		}
		for (uint64_t m = 1; m < n; m++) {
			CHECK_OK(merkle_prove_consistency(m, n, merkle_leaves_node, &lv, &p));
			CHECK(p.n >= 1);
			CHECK_OK(merkle_verify_consistency(m, n, big_root[m], big_root[n], &p));
			memcpy(bad, big_root[m], 32);
			bad[31] ^= 0x80;
			CHECK_EQ_INT(merkle_verify_consistency(m, n, bad, big_root[n], &p), LACRE_E_VERIFY);
			memcpy(bad, big_root[n], 32);
			bad[0] ^= 0x01;
			CHECK_EQ_INT(merkle_verify_consistency(m, n, big_root[m], bad, &p), LACRE_E_VERIFY);
			for (size_t j = 0; j < p.n; j++) {
				q = p;
				q.h[j][(j * 7) % 32] ^= 0x10;
				CHECK_EQ_INT(merkle_verify_consistency(m, n, big_root[m], big_root[n], &q), LACRE_E_VERIFY);
			}
			q = p;
			q.n--;
			CHECK_EQ_INT(merkle_verify_consistency(m, n, big_root[m], big_root[n], &q), LACRE_E_VERIFY);
			q = p;
			memcpy(q.h[q.n++], big[0], 32);
			CHECK_EQ_INT(merkle_verify_consistency(m, n, big_root[m], big_root[n], &q), LACRE_E_VERIFY);
			/* a proof for (m, n) must not pass for (m, n+1) */
			CHECK_EQ_INT(merkle_verify_consistency(m, n + 1, big_root[m], big_root[n + 1], &p), LACRE_E_VERIFY);
		}
	}
	/* the last leaf of every size (fn = sn) up to 300 > 2^8 + 1 */
	for (uint64_t n = 1; n <= NMAX; n++) {
		lv.n = n;
		CHECK_OK(merkle_prove_inclusion(n - 1, n, merkle_leaves_node, &lv, &p));
		CHECK_OK(merkle_verify_inclusion(n - 1, n, big[n - 1], &p, big_root[n]));
		if (n > 2) {
			CHECK_OK(merkle_prove_consistency(n - 1, n, merkle_leaves_node, &lv, &p));
			CHECK_OK(merkle_verify_consistency(n - 1, n, big_root[n - 1], big_root[n], &p));
			CHECK(p.n <= (size_t)(64 - __builtin_clzll(n - 1)) + 1);
		}
	}
}

static void test_edges(void)
{
	struct merkle_leaves lv = { big, 1 };
	struct merkle_proof p = { 0 }, one = { 1, { { 0 } } };
	uint8_t r[32];

	load_big();
	/* size 1: empty proof, root = leaf hash */
	CHECK_OK(merkle_prove_inclusion(0, 1, merkle_leaves_node, &lv, &p));
	CHECK_EQ_INT(p.n, 0);
	CHECK_OK(merkle_verify_inclusion(0, 1, big[0], &p, big[0]));
	CHECK_MEM(big_root[1], big[0], 32);
	/* i >= n, n = 0 */
	CHECK_EQ_INT(merkle_verify_inclusion(0, 0, big[0], &p, big[0]), LACRE_E_VERIFY);
	CHECK_EQ_INT(merkle_verify_inclusion(1, 1, big[0], &p, big[0]), LACRE_E_VERIFY);
	CHECK_EQ_INT(merkle_prove_inclusion(1, 1, merkle_leaves_node, &lv, &p), LACRE_E_INVALID);
	/* m = n: empty proof and equal roots */
	CHECK_OK(merkle_verify_consistency(5, 5, big_root[5], big_root[5], &p));
	CHECK_EQ_INT(merkle_verify_consistency(5, 5, big_root[5], big_root[4], &p), LACRE_E_VERIFY);
	CHECK_EQ_INT(merkle_verify_consistency(5, 5, big_root[5], big_root[5], &one), LACRE_E_VERIFY);
	/* m = 0: empty proof only */
	CHECK_OK(merkle_verify_consistency(0, 9, big_root[0], big_root[9], &p));
	CHECK_OK(merkle_verify_consistency(0, 9, big[3], big_root[9], &p));
	CHECK_EQ_INT(merkle_verify_consistency(0, 9, big_root[0], big_root[9], &one), LACRE_E_VERIFY);
	/* m > n, empty proof with 0 < m < n */
	CHECK_EQ_INT(merkle_verify_consistency(9, 5, big_root[9], big_root[5], &p), LACRE_E_VERIFY);
	CHECK_EQ_INT(merkle_verify_consistency(4, 5, big_root[4], big_root[5], &p), LACRE_E_VERIFY);
	CHECK_EQ_INT(merkle_prove_consistency(9, 5, merkle_leaves_node, &lv, &p), LACRE_E_INVALID);
	/* the empty tree */
	merkle_empty_root(r);
	CHECK_MEM(r, big_root[0], 32);
}

/* Sizes near 2^63 - 1: no overflow, clean rejection. */
static void test_huge(void)
{
	struct merkle_proof p;
	struct merkle_tree t;
	uint8_t h[32] = { 1 };
	uint64_t max = MERKLE_MAX_SIZE;

	p.n = 63;
	for (size_t i = 0; i < p.n; i++)
		memset(p.h[i], (int)i, 32);
	CHECK_EQ_INT(merkle_verify_inclusion(max - 1, max, h, &p, h), LACRE_E_VERIFY);
	CHECK_EQ_INT(merkle_verify_inclusion(0, max, h, &p, h), LACRE_E_VERIFY);
	CHECK_EQ_INT(merkle_verify_inclusion(0, max + 1, h, &p, h), LACRE_E_VERIFY);
	CHECK_EQ_INT(merkle_verify_inclusion(UINT64_MAX, UINT64_MAX, h, &p, h), LACRE_E_VERIFY);
	CHECK_EQ_INT(merkle_verify_consistency(max - 1, max, h, h, &p), LACRE_E_VERIFY);
	CHECK_EQ_INT(merkle_verify_consistency((uint64_t)1 << 62, max, h, h, &p), LACRE_E_VERIFY);
	CHECK_EQ_INT(merkle_verify_consistency(1, UINT64_MAX, h, h, &p), LACRE_E_VERIFY);
	merkle_tree_init(&t);
	t.size = max;
	CHECK_EQ_INT(merkle_tree_append(&t, h, NULL, NULL), LACRE_E_RANGE);
}

struct seen {
	unsigned count[16];
	uint8_t last8[32];
	uint64_t last8_index;
};

/* Records the completed subtrees an append reports. */
static void on_node(void *arg, unsigned height, uint64_t index, const uint8_t hash[32])
{
	struct seen *s = arg;

	if (height < 16)
		s->count[height]++;
	if (height == 8) {
		memcpy(s->last8, hash, 32);
		s->last8_index = index;
	}
}

/* The append callback reports each complete subtree exactly once. */
static void test_complete_callback(void)
{
	struct merkle_tree t;
	struct merkle_leaves lv = { big, NMAX };
	struct seen s;
	uint8_t want[32];

	load_big();
	memset(&s, 0, sizeof(s));
	merkle_tree_init(&t);
	for (int i = 0; i < NMAX; i++)
		CHECK_OK(merkle_tree_append(&t, big[i], on_node, &s));
	CHECK_EQ_INT(s.count[0], NMAX);
	CHECK_EQ_INT(s.count[1], NMAX / 2);
	CHECK_EQ_INT(s.count[8], 1);
	CHECK_EQ_INT(s.last8_index, 0);
	CHECK_OK(merkle_leaves_node(&lv, 8, 0, want));
	CHECK_MEM(s.last8, want, 32);
}

/* Moving a compact range by whole subtrees gives the same tree. */
static void test_append_node(void)
{
	struct merkle_tree a, b;
	struct merkle_leaves lv = { big, NMAX };
	uint8_t h[32], ra[32], rb[32];

	load_big();
	merkle_tree_init(&a);
	merkle_tree_init(&b);
	/* 0..255 by one node of height 8, then 256..287 by 32-leaf nodes, then leaves */
	CHECK_OK(merkle_leaves_node(&lv, 8, 0, h));
	CHECK_OK(merkle_tree_append_node(&b, 8, h));
	CHECK_OK(merkle_leaves_node(&lv, 5, 8, h));
	CHECK_OK(merkle_tree_append_node(&b, 5, h));
	CHECK_EQ_INT(merkle_tree_append_node(&b, 6, h), LACRE_E_INVALID); /* 288 % 64 != 0 */
	for (int i = 288; i < NMAX; i++)
		CHECK_OK(merkle_tree_append(&b, big[i], NULL, NULL));
	for (int i = 0; i < NMAX; i++)
		CHECK_OK(merkle_tree_append(&a, big[i], NULL, NULL));
	merkle_tree_root(&a, ra);
	merkle_tree_root(&b, rb);
	CHECK_MEM(ra, rb, 32);
	CHECK_EQ_INT(a.n, b.n);
	CHECK_MEM(a.node, b.node, 32 * a.n);
}

int main(void)
{
	RUN(test_roots_kat);
	RUN(test_inclusion_kat);
	RUN(test_consistency_kat);
	RUN(test_exhaustive);
	RUN(test_edges);
	RUN(test_huge);
	RUN(test_complete_callback);
	RUN(test_append_node);
	return t_done();
}
