/*
 * merkle.h - RFC 6962 Merkle tree hashing, proofs and their verification.
 *
 * The tree is the one of RFC 6962 §2.1 with SHA-256: a leaf hash is
 * SHA-256(0x00 ‖ entry), an interior node SHA-256(0x01 ‖ left ‖ right), the
 * empty tree hashes to SHA-256("").  Verification follows RFC 9162 §2.1.3.2
 * (inclusion) and §2.1.4.2 (consistency) with the edge cases of
 * spec/tlog-formats.md §1.4-§1.5.  Sizes and indices are uint64_t and never
 * exceed 2^63 - 1.
 *
 * Three pieces:
 *   - hashing (merkle_leaf_hash, merkle_node_hash);
 *   - struct merkle_tree, an incremental tree that keeps only the compact
 *     range [0, size): one hash per set bit of size, so O(log n) memory;
 *     each append reports every complete subtree it finishes (the tiles code
 *     collects the level-0 and every 8th height from there);
 *   - proof generation from any source of complete-subtree hashes
 *     (merkle_node_fn: tiles on a store, an array in a test) and
 *     verification that needs nothing but the proof.
 *
 * This module depends on libcrypto alone (no store, no network): the offline
 * verifier links it.
 */
#ifndef LACRE_MERKLE_H
#define LACRE_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32
/* Largest tree size accepted anywhere: 2^63 - 1. */
#define MERKLE_MAX_SIZE ((uint64_t)INT64_MAX)
/* Longest proof: a consistency proof has at most ceil(log2 n) + 1 hashes. */
#define MERKLE_PROOF_MAX 64

/* A proof: n hashes, h[0] nearest the leaf (or the old tree). */
struct merkle_proof {
	size_t n;
	uint8_t h[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
};

/* out = SHA-256(0x00 ‖ entry[0..len)), the RFC 6962 leaf hash. */
void merkle_leaf_hash(const void *entry, size_t len, uint8_t out[MERKLE_HASH_LEN]);
/* out = SHA-256(0x01 ‖ left ‖ right); out may alias left or right. */
void merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN],
		      const uint8_t right[MERKLE_HASH_LEN],
		      uint8_t out[MERKLE_HASH_LEN]);
/* out = SHA-256(""), the root of the empty tree. */
void merkle_empty_root(uint8_t out[MERKLE_HASH_LEN]);
/* out = SHA-256(p[0..len)), plain (for key IDs, commitments, digests). */
void merkle_sha256(const void *p, size_t len, uint8_t out[MERKLE_HASH_LEN]);

/* Called for every complete subtree an append finishes: the node of the
 * given height (covering 2^height leaves) at position index, i.e. entries
 * [index·2^height, (index+1)·2^height).  height 0 is the leaf itself. */
typedef void (*merkle_complete_fn)(void *arg, unsigned height, uint64_t index,
				   const uint8_t hash[MERKLE_HASH_LEN]);

/* The compact range of [0, size): node[i] is the complete subtree for the
 * i-th set bit of size counted from the most significant one. */
struct merkle_tree {
	uint64_t size;
	unsigned n;
	uint8_t node[64][MERKLE_HASH_LEN];
};

/* Initialise an empty tree. */
void merkle_tree_init(struct merkle_tree *t);
/* Append one leaf hash; cb (may be NULL) sees each completed subtree in
 * increasing height.  LACRE_E_RANGE when the tree is full (2^63 - 1). */
int merkle_tree_append(struct merkle_tree *t, const uint8_t leaf[MERKLE_HASH_LEN],
		       merkle_complete_fn cb, void *arg);
/* Append a whole complete subtree of the given height (2^height leaves)
 * whose hash is known; the size must be a multiple of 2^height.  Used to
 * move a compact range forward a tile at a time.  LACRE_E_INVALID or
 * LACRE_E_RANGE otherwise. */
int merkle_tree_append_node(struct merkle_tree *t, unsigned height,
			    const uint8_t hash[MERKLE_HASH_LEN]);
/* Root of the tree as it stands (the empty-tree hash for size 0). */
void merkle_tree_root(const struct merkle_tree *t, uint8_t out[MERKLE_HASH_LEN]);

/* A source of complete-subtree hashes: set out to the hash of the node of
 * the given height at the given index (entries [index·2^height,
 * (index+1)·2^height)).  Returns LACRE_OK or an error that is passed on. */
typedef int (*merkle_node_fn)(void *arg, unsigned height, uint64_t index,
			      uint8_t out[MERKLE_HASH_LEN]);

/* MTH(D[begin:end)) for any range, from complete subtrees (RFC 6962 split).
 * begin < end; LACRE_E_INVALID otherwise. */
int merkle_range_hash(uint64_t begin, uint64_t end, merkle_node_fn get, void *arg,
		      uint8_t out[MERKLE_HASH_LEN]);
/* Root of a tree of the given size (size 0 gives the empty-tree hash). */
int merkle_root(uint64_t size, merkle_node_fn get, void *arg,
		uint8_t out[MERKLE_HASH_LEN]);
/* PATH(index, D[0:size)) of RFC 6962 §2.1.1.  index < size. */
int merkle_prove_inclusion(uint64_t index, uint64_t size, merkle_node_fn get,
			   void *arg, struct merkle_proof *out);
/* PROOF(old, D[0:size)) of RFC 6962 §2.1.2 for 0 < old < size; an empty
 * proof for old == 0 or old == size. */
int merkle_prove_consistency(uint64_t old, uint64_t size, merkle_node_fn get,
			     void *arg, struct merkle_proof *out);

/* RFC 9162 §2.1.3.2.  LACRE_OK, or LACRE_E_VERIFY when the proof does not
 * take leaf to root (wrong length, wrong hash, index >= size). */
int merkle_verify_inclusion(uint64_t index, uint64_t size,
			    const uint8_t leaf[MERKLE_HASH_LEN],
			    const struct merkle_proof *proof,
			    const uint8_t root[MERKLE_HASH_LEN]);
/* RFC 9162 §2.1.4.2 plus the cases of spec §1.4 (old > size, old == size,
 * old == 0, empty proof).  LACRE_OK or LACRE_E_VERIFY. */
int merkle_verify_consistency(uint64_t old, uint64_t size,
			      const uint8_t old_root[MERKLE_HASH_LEN],
			      const uint8_t root[MERKLE_HASH_LEN],
			      const struct merkle_proof *proof);

/* A merkle_node_fn over an array of leaf hashes (leaves[i] for entry i),
 * computing each node by recursion: for tests and small in-memory trees. */
struct merkle_leaves {
	const uint8_t (*leaf)[MERKLE_HASH_LEN];
	uint64_t n;
};
int merkle_leaves_node(void *arg, unsigned height, uint64_t index,
		       uint8_t out[MERKLE_HASH_LEN]);

/* Every complete subtree of a tree of n 32-byte entries (a segment's
 * record commitments), kept in memory (64 bytes per entry) so that each
 * of many inclusion proofs costs O(log n): level[0][i] is the leaf hash of
 * entry i, level[h] the size >> h complete subtrees of height h. */
struct merkle_levels {
	uint64_t n;
	unsigned levels;
	uint8_t (*level[64])[MERKLE_HASH_LEN];
};
/* Build the levels of entries[0..n) (n may be 0).  LACRE_E_NOMEM,
 * LACRE_E_RANGE.  Free with merkle_levels_free even on failure. */
int merkle_levels_build(struct merkle_levels *t, const uint8_t (*entries)[32], uint64_t n);
void merkle_levels_free(struct merkle_levels *t);
/* merkle_node_fn over a struct merkle_levels. */
int merkle_levels_node(void *arg, unsigned height, uint64_t index,
		       uint8_t out[MERKLE_HASH_LEN]);

#endif
